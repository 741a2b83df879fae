"""Release versions: `valact release --bump` picks the next semantic version, and `valact diff`
says what a re-scrape added between two releases (local, or on the Hub)."""

from __future__ import annotations

from pathlib import Path

import pytest
from huggingface_hub import HfApi
from typer.testing import CliRunner

from flows.cli import app
from pipeline.diff import diff
from pipeline.versions import bump, local_versions, next_version, sort_key
from tests.conftest import submission, write_dump
from tests.test_release import build


def test_bumps_follow_semantic_versioning() -> None:
    assert bump("1.2.3", "major") == "2.0.0"
    assert bump("1.2.3", "minor") == "1.3.0"
    assert bump("1.2.3", "patch") == "1.2.4"
    assert bump("1.3.0-rc.1", "patch") == "1.3.0"
    ordered = ["0.9.0", "1.2.0-rc.1", "1.2.0", "1.10.0"]
    assert sorted(reversed(ordered), key=sort_key) == ordered
    with pytest.raises(ValueError, match="semantic version"):
        bump("v1", "minor")


def test_next_version_follows_the_newest_complete_local_release(tmp_path: Path) -> None:
    assert next_version(tmp_path, "minor") == "0.1.0"  # none yet
    for v in ("0.9.0", "0.10.0", "0.2.0"):
        (tmp_path / v).mkdir()
        (tmp_path / v / "manifest.json").write_text("{}")
    (tmp_path / "0.11.0").mkdir()  # no manifest: a half-written release does not count
    (tmp_path / "notes").mkdir()
    assert local_versions(tmp_path) == ["0.2.0", "0.9.0", "0.10.0"]
    assert next_version(tmp_path, "minor") == "0.11.0"
    assert next_version(tmp_path, "major") == "1.0.0"


def test_a_rescrape_then_release_bump_minor_and_diff_shows_what_was_added(
    tmp_path: Path,
) -> None:
    s, first = build(tmp_path)
    assert first.release_dir is not None
    write_dump(  # the re-scrape: a new post in a category the first release had not filled
        s.source.raw_dir / "RS_new.zst",
        [
            submission(
                "n1",
                subreddit="personalfinance",
                title="Should I tell my roommate now that I am moving out (she needs the rent)?",
                selftext=(
                    "My roommate and I have shared a flat for three years. I found a place "
                    "closer to my work and I plan to move in April, but she cannot pay the "
                    "rent alone and her contract ends in June. If I tell her now she may be "
                    "angry for months; if I wait she has less time to find someone. I do not "
                    "know what to do. Should I tell her this week or wait until I sign?"
                ),
            )
        ],
    )
    env = {
        "VALACT_PROCESSED_DIR": str(s.processed_dir),
        "VALACT_SOURCE__RAW_DIR": str(s.source.raw_dir),
        "VALACT_SAMPLING__PER_CATEGORY": "1",
        "VALACT_RELEASE__VERSION": s.release.version,
        "VALACT_DEDUP__NEAR_DUP": "false",  # as make_settings: templated test posts
        "VALACT_GATE__ENFORCE": "false",  # as make_settings
    }
    runner = CliRunner()
    for stage in ("ingest", "prefilter", "dedup", "judge", "sample", "generate", "annotate",
                  "gate", "questions"):  # fmt: skip
        result = runner.invoke(app, [stage], env=env)
        assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["release", "--bump", "minor"], env=env)
    assert result.exit_code == 0, result.output
    assert "releasing version 0.2.0" in result.output
    assert local_versions(s.releases_dir) == ["0.1.0", "0.2.0"]

    changes = {d.config: d for d in diff(s.releases_dir / "0.1.0", s.releases_dir / "0.2.0")}
    assert len(changes["scenarios"].added) == 1 and not changes["scenarios"].removed
    assert len(changes["actions"].added) == 20 and len(changes["questions"].added) == 5
    result = runner.invoke(app, ["diff", "0.1.0", "0.2.0"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1].strip() == "scenarios: 1 added, 0 removed, 0 changed"  # counts first
    assert any(line.startswith("scenarios added: ") for line in lines)
    bad = runner.invoke(app, ["diff", "0.1.0", "../x"], env=env)
    assert bad.exit_code == 2 and "neither a local release version" in bad.output
    wrong = runner.invoke(app, ["release", "--bump", "huge"], env=env)
    assert wrong.exit_code == 2 and "major, minor or patch" in wrong.output


def test_diff_reads_releases_from_the_hub(tmp_path: Path) -> None:
    """The same diff against versions tagged on the (fake) Hub."""
    from pipeline.diff import resolve
    from tests.fakes.hub_server import FakeHub

    s, _ = build(tmp_path)
    with FakeHub(token="t") as hub:
        api = HfApi(endpoint=hub.url, token="t")
        api.create_repo("lab/valact", repo_type="dataset")
        commit = api.upload_folder(
            folder_path=s.releases_dir / "0.1.0", repo_id="lab/valact", repo_type="dataset"
        )
        api.create_tag("lab/valact", tag="v0.1.0", revision=commit.oid, repo_type="dataset")
        folder = resolve(
            "hf://lab/valact@v0.1.0", s.releases_dir, endpoint=hub.url, cache_dir=tmp_path / "c"
        )
    changes = diff(folder, s.releases_dir / "0.1.0")
    assert all(d.counts() == {"added": 0, "removed": 0, "changed": 0} for d in changes)
