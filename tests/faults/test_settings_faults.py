"""Settings mistakes are refused with one clear line, never silently replaced by a default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipeline.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[2]


def toml(tmp_path: Path, text: str) -> Path:
    cfg = tmp_path / "valact.toml"
    cfg.write_text(text)
    return cfg


def one_line(err: pytest.ExceptionInfo[BaseException]) -> str:
    message = str(err.value)
    assert "\n" not in message, message
    return message


# 1. Unknown keys at every level


@pytest.mark.parametrize(
    ("text", "where", "hint"),
    [
        ("[sampling]\nper_categroy = 6\n", "sampling.per_categroy", "sampling.per_category"),
        ("[source]\nraw_dri = 'x'\n", "source.raw_dri", "source.raw_dir"),
        ("[prefilter]\nmin_word = 3\n", "prefilter.min_word", "prefilter.min_words"),
        (
            "[dedup]\nnear_dup_treshold = 0.9\n",
            "dedup.near_dup_treshold",
            "dedup.near_dup_threshold",
        ),
        ("[llm]\nbase_ulr = 'http://x'\n", "llm.base_ulr", "llm.base_url"),
        ("[judge]\ntiebraker = 'x'\n", "judge.tiebraker", "judge.tiebreaker"),
        ("[generation]\nmax_word = 9\n", "generation.max_word", "generation.max_words"),
        ("[annotation]\nmodel = ['x']\n", "annotation.model", "annotation.models"),
        ("[questions]\nmax_attempt = 9\n", "questions.max_attempt", "questions.max_attempts"),
        ("[release]\nversoin = '1.0.0'\n", "release.versoin", "release.version"),
        ("sed = 1\n", "sed", "seed"),
        (
            "[[categories]]\nname = 'career'\nsubreddits = ['AskHR']\nsubredits = ['x']\n",
            "categories.0.subredits",
            "categories.0.subreddits",
        ),
    ],
)
def test_unknown_toml_keys_are_rejected_at_every_level(
    tmp_path: Path, text: str, where: str, hint: str
) -> None:
    with pytest.raises(ValueError) as err:
        load_settings(toml(tmp_path, text))
    message = one_line(err)
    assert where in message and f"did you mean {hint}?" in message


def test_unknown_nested_keys_are_rejected_without_load_settings() -> None:
    with pytest.raises(ValueError, match="per_categroy"):
        Settings(sampling={"per_categroy": 6})


# 2. Unknown VALACT_* environment variables


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("VALACT_PROCESSD_DIR", "VALACT_PROCESSED_DIR"),
        ("VALACT_SAMPLING__PER_CATEGROY", "VALACT_SAMPLING__PER_CATEGORY"),
        ("VALACT_SAMPLNG__PER_CATEGORY", "VALACT_SAMPLING__PER_CATEGORY"),
        ("VALACT_SAMPLING_PER_CATEGORY", "VALACT_SAMPLING__PER_CATEGORY"),
        ("VALACT_RELEASE__VERSON", "VALACT_RELEASE__VERSION"),
        ("valact_llm__base_ulr", "VALACT_LLM__BASE_URL"),
    ],
)
def test_unknown_environment_variables_are_rejected_with_a_hint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, hint: str
) -> None:
    monkeypatch.setenv(name, "1")
    with pytest.raises(ValueError) as err:
        load_settings(toml(tmp_path, ""))
    assert f"unknown setting {name} (did you mean {hint}?)" in one_line(err)


@pytest.mark.parametrize("name", ["VALACT_SEED__X", "VALACT_JUDGE__MODELS__0", "VALACT_"])
def test_parts_below_a_value_are_rejected(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str
) -> None:
    monkeypatch.setenv(name, "1")
    with pytest.raises(ValueError, match=f"unknown setting {name}"):
        load_settings(toml(tmp_path, ""))


def test_known_environment_variables_still_work(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VALACT_CONFIG", str(toml(tmp_path, "seed = 3\n")))
    monkeypatch.setenv("VALACT_CATEGORIES", '[{"name": "career", "subreddits": ["AskHR"]}]')
    monkeypatch.setenv("VALACT_JUDGE__MODELS", '["a", "b"]')
    monkeypatch.setenv("VALACT_QUESTIONS", '{"options_per_question": 5}')
    monkeypatch.setenv("valact_llm__max_auth_errors", "4")
    monkeypatch.setenv("VALACT_RELEASE__ALLOW_PARTIAL", "true")
    s = load_settings()
    assert s.seed == 3 and [c.name for c in s.categories] == ["career"]
    assert s.judge.models == ["a", "b"] and s.questions.options_per_question == 5
    assert s.llm.max_auth_errors == 4 and s.release.allow_partial


# 3. Categories and subreddits


def test_an_empty_build_is_rejected() -> None:
    with pytest.raises(ValueError, match="categories"):
        Settings(categories=[])


def test_duplicate_category_names_are_rejected() -> None:
    with pytest.raises(ValueError, match="career"):
        Settings(
            categories=[
                {"name": "career", "subreddits": ["AskHR"]},
                {"name": "career", "subreddits": ["consulting"]},
            ]
        )


@pytest.mark.parametrize("name", ["", "Career", "../x", "a b", "a/b", "-a", "x" * 41])
def test_bad_category_names_are_rejected(name: str) -> None:
    with pytest.raises(ValueError, match="category"):
        Settings(categories=[{"name": name, "subreddits": ["AskHR"]}])


@pytest.mark.parametrize("sub", ["", "r/AskHR", "Ask HR", "../x", "_abc", "a-b", "x" * 22])
def test_bad_subreddit_names_are_rejected(sub: str) -> None:
    with pytest.raises(ValueError, match="subreddit"):
        Settings(categories=[{"name": "career", "subreddits": [sub]}])


# 4. Release names used as folder names


@pytest.mark.parametrize(
    "version",
    [
        *["..", "", ".", "../../escaped", "1.0.0/../x", "1.0.0-..", "1.0.0-a..b"],
        *["v1", "1.0", "1.0.0\n", "1.0.0-" + "a" * 60],
    ],
)
def test_bad_release_versions_are_rejected(version: str) -> None:
    with pytest.raises(ValueError, match=r"release\.version"):
        Settings(release={"version": version})


@pytest.mark.parametrize("version", ["0.1.0-sample", "1.0.0", "2.0.0", "0.1.1", "1.2.3-rc.1"])
def test_good_release_versions_are_accepted(version: str) -> None:
    assert Settings(release={"version": version}).release.version == version


def test_a_release_version_from_the_environment_cannot_escape(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VALACT_RELEASE__VERSION", "..")
    with pytest.raises(ValueError) as err:
        load_settings(toml(tmp_path, ""))
    assert "release.version" in one_line(err)


@pytest.mark.parametrize(
    "release",
    [
        {"name": ""},
        {"name": "../x"},
        {"name": "a\nb"},
        {"split": ""},
        {"split": "Test"},
        {"split": "../test"},
        {"split": "a" * 33},
    ],
)
def test_bad_release_names_and_splits_are_rejected(release: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=rf"release\.{next(iter(release))}"):
        Settings(release=release)


# 5. Paths that are the wrong kind


def test_a_config_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is a folder"):
        load_settings(tmp_path)


def test_a_processed_dir_that_is_a_file_is_rejected(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "processed").write_text("")
    monkeypatch.setenv("VALACT_PROCESSED_DIR", str(tmp_path / "processed"))
    with pytest.raises(ValueError, match=r"^processed_dir: .* is a file, not a folder$"):
        load_settings(toml(tmp_path, ""))


def test_a_processed_dir_inside_a_file_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    with pytest.raises(ValueError, match=r"^processed_dir: .* inside .*a-file, which is a file"):
        load_settings(toml(tmp_path, ""), processed_dir=tmp_path / "a-file" / "processed")


def test_a_raw_dir_that_is_a_file_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "raw").write_text("")
    cfg = toml(tmp_path, f"[source]\nraw_dir = '{tmp_path / 'raw'}'\n")
    with pytest.raises(ValueError, match=r"^source\.raw_dir: .* is a file, not a folder$"):
        load_settings(cfg)


# 6. One readable line


def test_pydantic_errors_become_one_readable_line(tmp_path: Path) -> None:
    cfg = toml(tmp_path, "[dedup]\nbatch_size = 0\n[sampling]\nper_category = 'many'\n")
    with pytest.raises(ValueError) as err:
        load_settings(cfg)
    message = one_line(err)
    assert message.startswith("dedup.batch_size: ") and "; sampling.per_category: " in message
    assert "'many'" in message and "errors.pydantic.dev" not in message


def test_a_quoted_key_with_a_newline_stays_on_one_line(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as err:
        load_settings(toml(tmp_path, '[sampling]\n"per\\ncategory" = 1\n'))
    assert "unknown setting" in one_line(err)


def test_a_broken_toml_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"valact\.toml"):
        load_settings(toml(tmp_path, "[sampling\n"))


def test_the_cli_prints_one_settings_error_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from flows.cli import app

    cfg = toml(tmp_path, "[sampling]\nper_categroy = 6\n")
    for env, start in [
        ({}, "settings error: sampling.per_categroy: unknown setting"),
        ({"VALACT_PROCESSD_DIR": "/x"}, "settings error: unknown setting VALACT_PROCESSD_DIR"),
    ]:
        result = CliRunner().invoke(app, ["config", "--config", str(cfg)], env=env)
        assert result.exit_code == 2
        lines = [x for x in result.output.splitlines() if x.strip()]
        assert len(lines) == 1 and lines[0].startswith(start), result.output


def test_the_bundled_config_still_loads() -> None:
    s = load_settings(REPO / "valact.toml", processed_dir=Path("/nonexistent/processed"))
    assert s.release.version == "0.1.0-sample" and s.source.synthetic
