"""A masked release (text left out, as the study released it) and `valact rehydrate`: texts put
back from dumps or from the Reddit API, each checked against the release's hash; posts edited
or removed since are reported and never filled in."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from flows.cli import app
from pipeline.build import run_stages
from pipeline.rehydrate import rehydrate
from tests.conftest import make_settings, submission, write_dump
from tests.fakes.reddit_server import FakeReddit
from tests.test_reddit_scrape import SECRET, add_posts, reddit_settings

CAREER = [{"name": "career", "subreddits": ["careerguidance"]}]


def posts(n: int, edit: dict[str, str] | None = None) -> list[dict]:
    """n distinct decision posts; `edit` replaces some ids' selftext."""
    out = []
    for i in range(n):
        rec = submission(
            f"m{i}",
            title=f"Should I take the night shift at the clinic ({i})?",
            selftext=f"Case {i}. My manager Sarah Connor (sarah.c@example.com) offered me the "
            "night shift: it pays a third more, but I would barely see my kids, and my partner "
            "works days. I have done nights before and it wrecked my sleep for a year. We need "
            "the money for the mortgage. Should I take it or ask for a day position instead?"
            + " Extra detail."
            * i,
        )
        if edit and rec["id"] in edit:
            rec["selftext"] = edit[rec["id"]]
        out.append(rec)
    return out


def rows(folder: Path, config: str) -> list[dict]:
    return [
        r for p in sorted((folder / config).glob("*.parquet")) for r in pq.read_table(p).to_pylist()
    ]


def build(tmp_path: Path, policy: str):
    s = make_settings(
        tmp_path / policy,
        categories=CAREER,
        sampling={"per_category": 3},
        dedup={"near_dup": False},  # templated posts: near duplicates by design
        release={"text_policy": policy},
    )
    write_dump(s.source.raw_dir / "RS.zst", posts(4))
    summary = run_stages(s)
    assert summary.release_dir is not None, summary.error
    return s, Path(summary.release_dir)


def test_a_masked_release_rehydrates_from_dumps_to_the_full_release(tmp_path: Path) -> None:
    s, masked = build(tmp_path, "masked")
    _, full = build(tmp_path, "full")
    scenarios = rows(masked, "scenarios")
    assert scenarios and all(r["title"] == r["text"] == "" for r in scenarios)
    assert all(len(r["text_sha256"]) == 64 and r["post_id"] for r in scenarios)
    assert all(q["scenario"] == "" for q in rows(masked, "questions"))
    assert "**Masked**" in (masked / "README.md").read_text()
    assert json.loads((masked / "manifest.json").read_text())["text_policy"] == "masked"
    assert "sarah.c@example.com" not in json.dumps(rows(full, "scenarios"))  # scrubbed

    report = rehydrate(s, masked.name, "dumps")
    assert report.filled == len(scenarios) and not report.mismatched and not report.gone
    back = Path(report.out)
    assert back == s.processed_dir / "rehydrated" / masked.name
    for config in ("scenarios", "questions"):
        assert rows(back, config) == rows(full, config)  # what the full release holds
    assert rows(masked, "scenarios") == scenarios  # the release itself is never changed


def test_posts_edited_or_removed_since_are_reported_and_not_filled(tmp_path: Path) -> None:
    s, masked = build(tmp_path, "masked")
    used = sorted(r["post_id"] for r in rows(masked, "scenarios"))
    edited, removed = used[0], used[1]
    (s.source.raw_dir / "RS.zst").unlink()
    later = posts(4, edit={edited: "I changed my mind and edited this post completely."})
    later = [
        {**r, "selftext": "[removed]", "removed_by_category": "moderator"}
        if r["id"] == removed
        else r
        for r in later
    ]
    write_dump(s.source.raw_dir / "RS_later.zst", later)
    env = {
        "VALACT_PROCESSED_DIR": str(s.processed_dir),
        "VALACT_SOURCE__RAW_DIR": str(s.source.raw_dir),
        "VALACT_CATEGORIES": json.dumps(CAREER),
    }
    result = CliRunner().invoke(app, ["rehydrate", masked.name, "--from", "dumps"], env=env)
    assert result.exit_code == 0, result.output
    assert f"changed since: {edited}" in result.output
    assert f"moderator: {removed}" in result.output
    back = {
        r["post_id"]: r for r in rows(s.processed_dir / "rehydrated" / masked.name, "scenarios")
    }
    assert back[edited]["text"] == back[removed]["text"] == ""  # never filled with other text
    assert all(back[p]["text"] for p in used[2:])
    record = json.loads(
        (s.processed_dir / "rehydrated" / masked.name / "rehydrated.json").read_text()
    )
    assert record["changed_since"] == [edited] and record["gone"] == {removed: "moderator"}
    full = CliRunner().invoke(app, ["rehydrate", "9.9.9"], env=env)
    assert full.exit_code == 2 and "no complete local release" in full.output


def test_a_masked_release_rehydrates_from_the_reddit_api(tmp_path: Path) -> None:
    with FakeReddit(client_secret=SECRET) as fake:
        add_posts(fake, 4)
        s = reddit_settings(tmp_path, fake).model_copy(
            update={"release": make_settings(tmp_path, release={"text_policy": "masked"}).release}
        )
        summary = run_stages(s)
        assert summary.release_dir is not None, summary.error
        masked = Path(summary.release_dir)
        used = sorted(r["post_id"] for r in rows(masked, "scenarios"))
        report = rehydrate(s, masked.name, "reddit")
        assert report.filled == len(used) and not report.mismatched and not report.gone
        fake.remove_post(used[0], category="deleted")
        fake.update_post(used[-1], selftext="Edited after the release.")
        report = rehydrate(s, masked.name, "reddit")
        assert report.gone == {used[0]: "removed"} or report.gone == {used[0]: "deleted"}
        assert report.mismatched == [used[-1]] and report.filled == len(used) - 2
        assert any(r.path == "/api/info" for r in fake.requests)
