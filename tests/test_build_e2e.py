"""`valact build` as `make dataset` runs it: the Prefect flow on the bundled sample."""

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from pipeline.stages import REFILL
from schemas import SchwartzValue
from tests.conftest import REPO, SAMPLE_DIR

MANIFEST = json.loads((SAMPLE_DIR / "MANIFEST.json").read_text())


def valact_build(processed: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VALACT_", "PREFECT_"))}
    env["VALACT_PROCESSED_DIR"] = str(processed)
    out = subprocess.run(
        [sys.executable, "-m", "flows.cli", "build"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    console = out.stdout + out.stderr
    assert out.returncode == 0, console
    return console


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict, str, dict]:
    processed = tmp_path_factory.mktemp("e2e") / "processed"
    first = valact_build(processed)
    summary1 = json.loads((processed / "run_summary.json").read_text())
    second = valact_build(processed)
    summary2 = json.loads((processed / "run_summary.json").read_text())
    return processed, first, summary1, second, summary2


def test_console_is_clean_and_says_offline(two_builds) -> None:
    _, first, _, second, _ = two_builds
    for console in (first, second):
        assert "ERROR" not in console
        assert "Traceback" not in console
        assert "database is locked" not in console
        assert console.count("OFFLINE backend set") == 2  # at start and at end
        assert "placeholders" in console


def test_first_build_makes_a_release_with_the_study_structure(two_builds) -> None:
    processed, _, summary, _, _ = two_builds
    stages = summary["stages"]
    main = [name for name in stages if "(refill" not in name]
    assert main == [
        "scrape",
        "ingest",
        "prefilter",
        "dedup",
        "judge",
        "sample",
        "generate",
        "annotate",
        "gate",
        "questions",
        "release",
    ]
    # Refill rounds (a scenario the gate dropped, replaced) come between the gate and questions.
    refills = list(stages)[list(stages).index("gate") + 1 : list(stages).index("questions")]
    rounds = len(refills) // len(REFILL)
    assert refills == [f"{name} (refill {n})" for n in range(1, rounds + 1) for name in REFILL]
    gate = stages["gate"]["counters"]
    assert gate["actions_checked"] == 600
    assert gate["passed_as_written"] + gate["passed_regenerated"] > 590
    # every input of a first build is either processed or reused, never silently skipped
    assert all(
        r["inputs"] == r["processed"] + r["skipped"] > 0
        for name, r in stages.items()
        if name != "scrape"
    )
    # offline, with no Reddit app configured, the scrape does nothing
    assert stages["scrape"]["processed"] == 0
    assert stages["scrape"]["notes"][0].startswith("reddit not configured")
    assert stages["ingest"]["processed"] >= 400
    assert summary["offline"] and summary["placeholder_actions"]
    release = Path(summary["release_dir"])
    assert release.parent == processed / "releases"
    card = (release / "README.md").read_text()
    assert "Synthetic decision scenarios" in card and "Reddit posts" not in card
    con = duckdb.connect()
    q = con.sql(f"SELECT * FROM read_parquet('{release}/questions/*.parquet')").to_arrow_table()
    q = q.to_pylist()
    scenarios = con.execute(
        f"SELECT scenario_id, category FROM read_parquet('{release}/scenarios/*.parquet')"
    ).fetchall()
    assert Counter(c for _, c in scenarios) == {
        "career": 6,
        "finance": 6,
        "education": 6,
        "relationships": 6,
        "ethics": 6,
    }
    manifest = json.loads((release / "manifest.json").read_text())
    check = manifest["value_check"]
    assert check["enforced"] and check["actions"] == 600 and check["failed"] == 0
    assert check["passed_as_written"] + check["passed_after_regeneration"] == 600
    dropped = con.execute(
        f"SELECT count(*) FROM read_parquet('{release}/actions/*.parquet') "
        "WHERE NOT value_check_passed"
    ).fetchone()
    assert dropped == (0,)  # every released action passed the gate
    by_scenario: dict[str, list[dict]] = {}
    for row in q:
        by_scenario.setdefault(row["scenario_id"], []).append(row)
    assert set(by_scenario) == {sid for sid, _ in scenarios}
    for rows in by_scenario.values():
        assert len(rows) == 5
        assert all(len(r["options"]) == 4 and len(set(r["option_values"])) == 4 for r in rows)
        values = Counter(v for r in rows for v in r["option_values"])
        assert values == {v.value: 2 for v in SchwartzValue}
        assert len({a for r in rows for a in r["option_action_ids"]}) == 20


def test_second_build_does_nothing(two_builds) -> None:
    _, _, _, _, summary = two_builds
    assert {name: r["processed"] for name, r in summary["stages"].items()} == {
        name: 0 for name in summary["stages"]
    }
    assert summary["stages"]["release"]["skipped"] == 1


def test_prefect_state_stays_in_the_processed_folder(two_builds) -> None:
    processed = two_builds[0]
    assert (processed / "prefect").is_dir()
    assert (processed / "valact.duckdb").is_file()


def prefilter_ids(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("SELECT post_id FROM prefilter").fetchall()]


def test_every_planted_problem_in_the_sample_is_caught_with_its_reason(two_builds) -> None:
    con = duckdb.connect(str(two_builds[0] / "valact.duckdb"), read_only=True)
    kind = {k: v for k, v in MANIFEST.items() if not k.startswith("_")}

    rejects = {
        (r[0], r[1]): r[2]
        for r in con.execute("SELECT source_file, line_no, reason FROM ingest_rejects").fetchall()
    }
    expected_reject = {
        "truncated_json": "invalid_json",
        "binary_garbage": "invalid_json",
        "not_an_object": "not_an_object",
        "missing_id": "missing_id",
        "invalid_utf8": "invalid_utf8",
    }
    assert rejects == {
        (m["file"], m["line"]): expected_reject[m["kind"]] for m in MANIFEST["_malformed"]
    }
    first_run = min((two_builds[0] / "runs").glob("*.json"))  # run ids sort by start time
    ingest_drops = json.loads(first_run.read_text())["stages"]["ingest"]["dropped"]
    off_topic = [k for k, v in kind.items() if v == "off_topic_subreddit"]
    assert ingest_drops["subreddit_not_configured"] == len(off_topic) > 0
    assert not set(off_topic) & set(prefilter_ids(con))
    assert ingest_drops["duplicate_id"] == len(MANIFEST["_same_id_duplicates"])

    prefilter = dict(
        con.execute("SELECT post_id, coalesce(reason, 'kept') FROM prefilter").fetchall()
    )
    expected_prefilter = {
        "removed": "removed",
        "deleted": "deleted",
        "nsfw": "nsfw",
        "too_short": "too_short",
        "non_english": "non_english",
        "stickied_mod_post": "stickied",
        "clean": "kept",
    }
    for post_id, k in kind.items():
        if k in expected_prefilter:
            assert prefilter[post_id] == expected_prefilter[k], (post_id, k)
    hostile = MANIFEST["_hostile"]
    by_hostile = {v: prefilter[k] for k, v in hostile.items()}
    assert by_hostile["oversized_selftext"] == "too_long"
    assert by_hostile["emoji_whitespace_only"] == "too_short"

    dedup = {
        r[0]: (r[1], r[2])
        for r in con.execute(
            "SELECT post_id, coalesce(reason, 'kept'), duplicate_of FROM dedup"
        ).fetchall()
    }
    expected_dedup = {
        "exact_duplicate_repost": {"exact_duplicate"},
        # light edits (whole-body Jaccard), or the same body under a new title
        "near_duplicate_repost": {"near_duplicate", "same_body"},
        "crosspost": {"crosspost"},
    }
    for post_id, k in kind.items():
        if k in expected_dedup:
            reason, other = dedup[post_id]
            assert reason in expected_dedup[k] and other == MANIFEST["_duplicate_of"][post_id]
        if k == "clean":
            assert dedup[post_id][0] == "kept", post_id  # no false duplicate among clean posts

    accepted = {r[0] for r in con.execute("SELECT post_id FROM judge_panel WHERE keep").fetchall()}
    assert not {p for p in accepted if kind.get(p) == "borderline"}
    judged_clean = [
        r[0]
        for r in con.execute("SELECT post_id FROM judge_panel").fetchall()
        if kind.get(r[0]) == "clean"
    ]
    assert sum(p in accepted for p in judged_clean) / len(judged_clean) > 0.9
