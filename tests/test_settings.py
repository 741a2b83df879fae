from pathlib import Path

import pytest
from pydantic import ValidationError

from pipeline.settings import Settings, load_settings


def test_defaults_follow_the_study() -> None:
    s = Settings()
    assert [c.name for c in s.categories] == [
        "career",
        "finance",
        "education",
        "relationships",
        "ethics",
    ]
    assert sum(len(c.subreddits) for c in s.categories) == 17
    assert s.sampling.per_category * len(s.categories) == 3000
    assert s.prefilter.min_words == 40
    assert s.offline  # no endpoint configured
    assert s.db_path == Path("data/processed/valact.duckdb")


def test_toml_then_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "valact.toml"
    cfg.write_text("seed = 7\n[sampling]\nper_category = 3\n[dedup]\nnear_dup_threshold = 0.8\n")
    monkeypatch.setenv("VALACT_SAMPLING__PER_CATEGORY", "5")
    monkeypatch.setenv("VALACT_PROCESSED_DIR", str(tmp_path / "out"))
    s = load_settings(cfg)
    assert s.seed == 7  # from TOML
    assert s.sampling.per_category == 5  # env wins over TOML
    assert s.dedup.near_dup_threshold == 0.8  # TOML section kept beside env override
    assert s.db_path == tmp_path / "out" / "valact.duckdb"


def test_secrets_never_in_public_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VALACT_LLM__API_KEY", "sk-secret-123")
    monkeypatch.setenv("VALACT_LLM__BASE_URL", "http://127.0.0.1:9/v1")
    s = Settings()
    assert not s.offline
    assert "sk-secret-123" not in str(s.public_dict())
    assert "sk-secret-123" not in repr(s)
    monkeypatch.setenv("VALACT_LLM__API_KEY", "another-key")
    assert s.section_hash() == Settings().section_hash()  # the key is not provenance

    secret_url = "https://bob:pw-SECRET@llm.example:8443/v1?key=SECRET"
    monkeypatch.setenv("VALACT_LLM__BASE_URL", secret_url)
    public = str(Settings().public_dict())
    assert "SECRET" not in public and "https://llm.example:8443/v1" in public


def test_only_a_base_url_turns_model_calls_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-shell")
    assert Settings().offline
    monkeypatch.setenv("VALACT_LLM__BASE_URL", "http://127.0.0.1:9/v1")
    s = Settings()
    assert not s.offline and s.llm.key() == "sk-from-shell"


def test_bad_values_are_rejected(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[generation]\nmodels = ['only-one']\n")
    with pytest.raises(ValidationError, match="two generator models"):
        load_settings(cfg)
    with pytest.raises(FileNotFoundError):
        load_settings(tmp_path / "missing.toml")
    with pytest.raises(ValidationError):
        Settings(unknown_key=1)
    with pytest.raises(ValidationError, match="near_dup_threshold"):
        Settings(dedup={"near_dup_threshold": 1.5})
    with pytest.raises(ValidationError, match="more than one category"):
        Settings(
            categories=[{"name": "a", "subreddits": ["x"]}, {"name": "b", "subreddits": ["X"]}]
        )
    with pytest.raises(ValidationError, match="split evenly"):
        Settings(questions={"options_per_question": 3})


def test_cli_reports_bad_config_and_old_stores_in_one_line(tmp_path: Path) -> None:
    import duckdb
    from typer.testing import CliRunner

    from flows.cli import app

    runner = CliRunner()
    bad = tmp_path / "bad.toml"
    bad.write_text("[sampling]\nper_category = 'many'\n")
    result = runner.invoke(app, ["config", "--config", str(bad)])
    assert result.exit_code == 2 and "settings error" in result.output
    assert "Traceback" not in result.output

    processed = tmp_path / "old"
    processed.mkdir()
    con = duckdb.connect(str(processed / "valact.duckdb"))
    con.execute("CREATE TABLE posts (post_id VARCHAR)")
    con.close()
    result = runner.invoke(app, ["ingest"], env={"VALACT_PROCESSED_DIR": str(processed)})
    assert result.exit_code == 2 and "store error" in result.output and "posts" in result.output


def test_the_store_memory_limit_reaches_duckdb_and_a_bad_one_is_refused(tmp_path: Path) -> None:
    from pipeline.settings import StoreSettings
    from pipeline.store import Store

    with Store.open(tmp_path / "s.duckdb", StoreSettings(memory_limit="256MiB", threads=1)) as st:
        limit, threads = st.con.execute(
            "SELECT current_setting('memory_limit'), current_setting('threads')"
        ).fetchone()
    assert (limit, threads) == ("256.0 MiB", 1)
    with pytest.raises(ValidationError, match="DuckDB memory size"):
        Settings(store={"memory_limit": "lots"})
