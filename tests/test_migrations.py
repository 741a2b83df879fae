"""A store written by the previous layout is migrated in place and loses nothing; a store from
a newer version is refused with a message that says what to do."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import duckdb
import pytest

from pipeline.build import run_stages
from pipeline.embeddings import Embedder
from pipeline.store import LAYOUT_VERSION, Store, StoreSchemaError
from tests.conftest import REPO, make_settings, submission, write_dump

FIXTURE = REPO / "tests" / "fixtures" / "store_v1.duckdb.gz"


def _old_store(folder: Path) -> Path:
    folder.mkdir(parents=True)
    path = folder / "valact.duckdb"
    with gzip.open(FIXTURE) as src, path.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    return path


def _counts(path: Path, schema: str = "main") -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
                [schema],
            ).fetchall()
        ]
        return {
            t: con.execute(f'SELECT count(*) FROM {schema}."{t}"').fetchone()[0]  # type: ignore[index]
            for t in tables
        }
    finally:
        con.close()


def test_a_layout_1_store_is_migrated_in_place_and_keeps_everything(
    tmp_path: Path, embedder: Embedder
) -> None:
    s = make_settings(
        tmp_path,
        sampling={"per_category": 1},
        categories=[{"name": "career", "subreddits": ["careerguidance", "AskHR"]}],
    )
    path = _old_store(s.processed_dir)
    old = _counts(path)
    assert old["posts"] == 3 and old["llm_cache"] == 44 and old["actions"] == 20
    with Store.open(path) as store:
        assert store.layout_version() == LAYOUT_VERSION
        (note,) = store.notes
        assert "migrated from layout 1 to 2" in note and "legacy_v1" in note
    assert _counts(path, "legacy_v1") == old  # every old table, whole
    new = _counts(path)
    for table in ("posts", "ingest_rejects", "llm_cache"):
        assert new[table] == old[table], table
    with Store.open(path) as store:
        assert store.notes == []  # migrated once
        assert {p.content_sha for p in store.load(store_post())} != {""}

    # The migrated store builds; the old dump's posts come back from the raw file.
    write_dump(s.source.raw_dir / "RS_2026-01.zst", [submission("a1"), submission("a2")])
    summary = run_stages(s, embedder=embedder)
    assert summary.error is None and summary.stages["release"].outputs == 1


def store_post():
    from schemas import Post

    return Post


def test_a_store_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "valact.duckdb"
    with Store.open(path) as store:
        store.con.execute("UPDATE store_meta SET value = '99' WHERE key = 'layout_version'")
    with pytest.raises(StoreSchemaError, match="newer valact"), Store.open(path):
        pass


def test_a_failed_migration_leaves_the_old_store_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline import migrations

    path = _old_store(tmp_path / "p")
    old = _counts(path)

    def broken(store: Store) -> list[str]:
        store.con.execute("DROP TABLE posts")
        raise RuntimeError("disk full")

    monkeypatch.setitem(migrations.MIGRATIONS, 1, broken)
    with pytest.raises(RuntimeError, match="disk full"), Store.open(path):
        pass
    assert _counts(path) == old
