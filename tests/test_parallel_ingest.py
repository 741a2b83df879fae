"""Dump files read in parallel on a local Dask cluster (`source.dask = "local"`), one Prefect
task per file, give the store exactly what the one-process ingest gives."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from tests.conftest import REPO, submission, write_dump


def _dumps(raw: Path) -> None:
    subs = ["careerguidance", "AskHR", "consulting", "pics"]
    for f in range(3):
        write_dump(
            raw / f"RS_2026-0{f + 1}.zst",
            [
                submission(
                    f"f{f}p{i}",
                    subreddit=subs[i % 4],
                    title=f"Should I take the offer {f}-{i}?",
                    selftext=f"Case {f}-{i}: my manager offered me a transfer that doubles my "
                    "commute but comes with a raise, and my partner is worried about the kids' "
                    "school. I keep going back and forth every evening. Should I take it?",
                )
                for i in range(40)
            ]
            + ["{not json"],
        )
    # The same post in two files: the copy in the first file wins, however the reads finish.
    write_dump(raw / "RS_2026-04.zst", [submission("f0p1", title="A later copy")])


def _tables(processed: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(processed / "valact.duckdb"), read_only=True)
    try:
        return {
            "posts": con.execute(
                "SELECT post_id, subreddit, title, source_file, source_line, content_sha "
                "FROM posts ORDER BY post_id"
            ).fetchall(),
            "rejects": con.execute(
                "SELECT source_file, line_no, reason FROM ingest_rejects ORDER BY ALL"
            ).fetchall(),
            "files": con.execute("SELECT path, lines FROM source_files ORDER BY ALL").fetchall(),
        }
    finally:
        con.close()


def test_files_read_on_dask_workers_give_the_same_store(tmp_path: Path) -> None:
    _dumps(tmp_path / "raw")
    config = tmp_path / "valact.toml"
    config.write_text("")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("VALACT_", "PREFECT_"))}
    base.update(
        VALACT_SOURCE__RAW_DIR=str(tmp_path / "raw"),
        VALACT_SAMPLING__PER_CATEGORY="2",
        VALACT_CATEGORIES=json.dumps(
            [{"name": "career", "subreddits": ["careerguidance", "AskHR", "consulting"]}]
        ),
    )

    def build(folder: str, *args: str, **env: str) -> str:
        out = subprocess.run(
            [sys.executable, "-m", "flows.cli", "build", "-c", str(config), *args],
            cwd=REPO,
            env={**base, "VALACT_PROCESSED_DIR": str(tmp_path / folder), **env},
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert out.returncode == 0, out.stdout + out.stderr
        return out.stdout

    build("one", "--no-prefect")
    parallel = build("dask", VALACT_SOURCE__DASK="local", VALACT_SOURCE__WORKERS="2")
    assert _tables(tmp_path / "dask") == _tables(tmp_path / "one")
    summary = json.loads((tmp_path / "dask" / "run_summary.json").read_text())
    assert summary["stages"]["ingest"]["processed"] > 0 and "Traceback" not in parallel
    assert not list((tmp_path / "dask").glob(".ingest-shards-*"))  # shards are removed once loaded
