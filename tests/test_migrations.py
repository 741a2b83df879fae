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


def test_a_layout_2_store_gains_the_removed_column_and_keeps_its_posts(tmp_path: Path) -> None:
    from pipeline.sources.dumps import to_post
    from pipeline.store import Provenance, table_columns
    from schemas import Post

    path = tmp_path / "valact.duckdb"
    posts = [
        to_post(submission("a1"), "RS_a.zst", 1),
        to_post(submission("a2", selftext="[removed]"), "RS_a.zst", 2),
    ]
    with Store.open(path) as store:  # written now, then taken back to layout 2
        store.put("posts", posts, Provenance("ingest", "2", "sig", "run-1"), "sig")
        store.con.execute("ALTER TABLE posts DROP COLUMN removed")
        store.con.execute("DROP TABLE scrape_state")
        store.con.execute("UPDATE store_meta SET value = '2' WHERE key = 'layout_version'")
        before = store.query("SELECT * FROM posts ORDER BY post_id")
    with Store.open(path) as store:
        assert store.layout_version() == LAYOUT_VERSION
        (note,) = store.notes
        assert "from layout 2 to 3" in note and "2 posts carried over" in note
        assert list(store.query("SELECT * FROM posts LIMIT 1")[0]) == list(table_columns("posts"))
        after = store.query("SELECT * FROM posts ORDER BY post_id")
        assert [{k: v for k, v in r.items() if k != "removed"} for r in after] == before
        assert [r["removed"] for r in after] == [None, None]  # filled when scraped again
        assert [p.content_sha for p in store.load(Post, order="post_id")] == [
            p.content_sha for p in posts
        ]
        assert store.count("scrape_state") == 0
    with Store.open(path) as store:
        assert store.notes == []


def test_a_layout_3_store_recomputes_its_dedup_decisions(tmp_path: Path) -> None:
    path = tmp_path / "valact.duckdb"
    with Store.open(path) as store:  # written now, then taken back to layout 3
        store.con.execute("DROP TABLE dedup")
        store.con.execute(
            "CREATE TABLE dedup (post_id VARCHAR PRIMARY KEY, content_hash VARCHAR, "
            "keep BOOLEAN, reason VARCHAR, duplicate_of VARCHAR, similarity DOUBLE, "
            "_stage VARCHAR, _version VARCHAR, _signature VARCHAR, _inputs VARCHAR, "
            "_run_id VARCHAR, _created_at TIMESTAMPTZ)"
        )
        store.con.execute("INSERT INTO dedup (post_id, keep) VALUES ('a1', true)")
        store.con.execute("DROP TABLE near_dup")
        store.con.execute("DROP TABLE minhashes")
        store.con.execute("UPDATE store_meta SET value = '3' WHERE key = 'layout_version'")
    with Store.open(path) as store:
        assert store.layout_version() == LAYOUT_VERSION
        (note,) = store.notes
        assert "from layout 3 to 4" in note and "1 dedup decisions are recomputed" in note
        assert store.count("dedup") == 0 and store.count("near_dup") == 0
    with Store.open(path) as store:
        assert store.notes == []


def test_a_layout_4_store_gains_the_scores_column_and_keeps_its_annotations(
    tmp_path: Path,
) -> None:
    from pipeline.store import Provenance, table_columns
    from schemas import Annotation

    path = tmp_path / "valact.duckdb"
    rows = [
        Annotation(
            action_id=f"a{i}",
            annotator="offline/minilm-values",
            value="Power",
            predicted_value=p,
            agrees=p == "Power",
            request_id=f"r{i}",
        )
        for i, p in enumerate(["Power", "Security"])
    ]
    with Store.open(path) as store:  # written now, then taken back to layout 4
        store.put("annotations", rows, Provenance("annotate", "2", "sig", "run-1"), "sig")
        store.con.execute("ALTER TABLE annotations DROP COLUMN scores")
        store.con.execute("UPDATE store_meta SET value = '4' WHERE key = 'layout_version'")
        before = store.query("SELECT * FROM annotations ORDER BY action_id")
    with Store.open(path) as store:
        assert store.layout_version() == LAYOUT_VERSION
        (note,) = store.notes
        assert "from layout 4 to 5" in note and "2 annotations carried over" in note
        after = store.query("SELECT * FROM annotations ORDER BY action_id")
        assert list(after[0]) == list(table_columns("annotations"))
        assert [{k: v for k, v in r.items() if k != "scores"} for r in after] == before
        assert [a.scores for a in store.load(Annotation)] == [None, None]
    with Store.open(path) as store:
        assert store.notes == []


def test_a_layout_5_store_gains_the_lsh_bands_of_its_cached_signatures(tmp_path: Path) -> None:
    from pipeline import dedup, ingest, prefilter
    from pipeline.context import RunContext

    s = make_settings(tmp_path, dedup={"near_dup": True})
    write_dump(
        s.source.raw_dir / "RS_1.zst",
        [
            submission("b1"),
            submission("b2", title="Another question?", selftext=submission("b1")["selftext"][:-9]),
            submission("b3", selftext="A different story of mine. " * 8 + "Should I go?"),
        ],
    )
    s.processed_dir.mkdir(parents=True)
    with Store.open(s.db_path) as store:  # built now, then taken back to layout 5
        ctx = RunContext(settings=s, store=store, run_id="run-1")
        for stage in (ingest, prefilter, dedup):
            stage.run(ctx)
        bands = store.query("SELECT text_sha, method, buckets FROM minhash_bands ORDER BY 1")
        decisions = store.query("SELECT * FROM dedup ORDER BY post_id")
        assert len(bands) == store.count("minhashes") == 3
        store.con.execute("DROP TABLE minhash_bands")
        store.con.execute("UPDATE store_meta SET value = '5' WHERE key = 'layout_version'")
    with Store.open(s.db_path) as store:
        assert store.layout_version() == LAYOUT_VERSION
        (note,) = store.notes
        assert "from layout 5 to 6" in note and "of the 3 cached MinHash signatures" in note
        assert store.query("SELECT text_sha, method, buckets FROM minhash_bands ORDER BY 1") == (
            bands
        )
        ctx = RunContext(settings=s, store=store, run_id="run-2")
        r = dedup.run(ctx)  # nothing to recompute
        assert (r.processed, r.skipped) == (0, 3)
        assert store.query("SELECT * FROM dedup ORDER BY post_id") == decisions
    with Store.open(s.db_path) as store:
        assert store.notes == []


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
