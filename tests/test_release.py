import json
from pathlib import Path

import datasets

from pipeline.build import run_stages
from pipeline.release import RELEASE_CONFIGS
from schemas.convert import hf_features
from tests.conftest import make_settings, submission, write_dump

TEXT = submission("x")["selftext"]


def load(folder: Path, config: str) -> datasets.Dataset:
    return datasets.load_dataset(str(folder), config, split="test")


def build(tmp_path: Path):
    s = make_settings(tmp_path, sampling={"per_category": 1})
    write_dump(
        s.source.raw_dir / "RS.zst",
        [
            submission("c1"),
            submission(
                "r1",
                subreddit="relationships",
                title="Should I move in with my partner?",
                selftext=TEXT.replace("startup", "partner's city") + " We fight a lot.",
            ),
        ],
    )
    return s, run_stages(s)


def manifest_models(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())["models"]


def test_release_loads_with_datasets_and_says_it_is_placeholder(tmp_path: Path) -> None:
    s, summary = build(tmp_path)
    folder = s.releases_dir / s.release.version
    assert summary.release_dir == str(folder)
    for config, model in RELEASE_CONFIGS.items():
        ds = load(folder, config)
        assert ds.features == hf_features(model)
    questions = load(folder, "questions")
    assert len(questions) == 10 and all(len(q["options"]) == 4 for q in questions)
    actions = load(folder, "actions")
    assert len(actions) == 40 and all(actions["placeholder"])
    card = (folder / "README.md").read_text()
    assert card.startswith("---\n") and "config_name: questions" in card
    assert "placeholder" in card.lower()
    assert "Real decision scenarios from Reddit" in card
    assert "Reddit's User Agreement" in card  # the licence does not claim the post text
    assert manifest_models(folder) == {  # the models behind these rows: no tie was broken
        "judges": ["offline/context-rules", "offline/decision-rules"],
        "generators": ["offline/template-a", "offline/template-b"],
        "annotators": ["offline/minilm-values"],
    }
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["counts"] == {"scenarios": 2, "actions": 40, "questions": 10}
    assert manifest["placeholder_actions"] and manifest["settings"]["seed"] == s.seed
    run_summary = json.loads((s.processed_dir / "run_summary.json").read_text())
    assert run_summary["placeholder_actions"] is True


def test_versions_are_immutable_unchanged_is_a_no_op_changed_is_refused(
    tmp_path: Path,
) -> None:
    s, _ = build(tmp_path)
    again = run_stages(s)
    assert all(r.processed == 0 for r in again.stages.values())
    assert again.stages["release"].skipped == 1
    write_dump(
        s.source.raw_dir / "RS_2.zst",
        [
            submission(
                "e1",
                subreddit="college",
                title="Should I switch majors?",
                selftext=TEXT.replace("company", "university program") + " Exams soon.",
            )
        ],
    )
    folder = s.releases_dir / s.release.version
    before = (folder / "manifest.json").read_text()
    refused = run_stages(s)
    assert refused.error and "bump release.version" in refused.error
    assert (folder / "manifest.json").read_text() == before  # the published version stands
    s.release.version = "0.1.1"
    third = run_stages(s)
    assert third.error is None and third.stages["release"].processed == 1
    assert len(load(s.releases_dir / "0.1.1", "scenarios")) == 3
    assert not list(s.releases_dir.glob(".*tmp*"))  # no half-written folder left behind


def test_the_cli_refuses_a_changed_version_in_one_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from flows.cli import app

    s, _ = build(tmp_path)
    env = {
        "VALACT_PROCESSED_DIR": str(s.processed_dir),
        "VALACT_SOURCE__RAW_DIR": str(s.source.raw_dir),
        "VALACT_SAMPLING__PER_CATEGORY": "1",
        "VALACT_SEED": "7",  # another seed: other questions, same version
        "VALACT_RELEASE__VERSION": s.release.version,
    }
    result = CliRunner().invoke(app, ["build", "--no-prefect"], env=env)
    assert result.exit_code == 2, result.output
    (line,) = [x for x in result.output.splitlines() if x.startswith("error:")]
    assert "immutable" in line and "bump release.version" in line
    assert "Traceback" not in result.output


def test_no_input_gives_a_clear_empty_run_not_a_crash(tmp_path: Path) -> None:
    s = make_settings(tmp_path)  # raw_dir does not exist
    summary = run_stages(s)
    assert any("does not exist" in n for n in summary.stages["ingest"].notes)
    assert summary.stages["release"].dropped == {"no_complete_scenarios": 1}
    assert summary.release_dir is None
    assert not s.releases_dir.exists()


def test_dropped_command_lists_reasons_with_examples(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from flows.cli import app

    s = make_settings(tmp_path, sampling={"per_category": 1})
    write_dump(
        s.source.raw_dir / "RS.zst",
        [
            submission("c1"),
            submission("r1", selftext="[removed]"),
            "{broken",
        ],
    )
    run_stages(s)
    env = {"VALACT_PROCESSED_DIR": str(s.processed_dir)}
    out = CliRunner().invoke(app, ["dropped"], env=env).output
    assert "ingest_rejects: 1" in out and "RS.zst:3" in out and "invalid_json" in out
    assert "prefilter: 1" in out and "removed: 1" in out and "r1" in out


def test_rebuilt_release_of_the_same_version_never_loads_stale_from_the_cache(
    tmp_path: Path,
) -> None:
    """`datasets` caches local folders by name and file pattern; ours carry the fingerprint."""
    cache = str(tmp_path / "hf-cache")
    s1, _ = build(tmp_path / "one")
    s2 = make_settings(tmp_path / "two", sampling={"per_category": 1})
    write_dump(s2.source.raw_dir / "RS.zst", [submission("c9")])
    run_stages(s2)
    sizes = [
        len(
            datasets.load_dataset(
                str(s.releases_dir / "0.1.0"), "scenarios", split="test", cache_dir=cache
            )
        )
        for s in (s1, s2)
    ]
    assert sizes == [2, 1]
