"""Versioned, in-place migrations of the store's layout. `MIGRATIONS[v]` lifts layout v to v+1
and returns notes for the run summary; it runs inside the store's opening transaction, so a
failed migration leaves the old store as it was.

Nothing is dropped: every table of the old layout is first moved, whole, into a schema named
`legacy_v<v>` of the same file. What can be carried over exactly is copied into the new
tables; derived results are not (their signatures cannot be rebuilt) and are recomputed by the
next build, cheaply, since the raw posts and every model answer are carried over. A migration
that carries a table over exactly (2 -> 3 adds a column) keeps no legacy copy of it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pipeline.sources.dumps import post_sha

if TYPE_CHECKING:
    from pipeline.store import Store

_V1_TABLES = (
    "source_files",
    "ingest_rejects",
    "posts",
    "prefilter",
    "embeddings",
    "dedup",
    "judge_votes",
    "judge_panel",
    "scenarios",
    "actions",
    "annotations",
    "questions",
    "llm_cache",
    "llm_failures",
)
_V1_POST_FIELDS = (
    "post_id, subreddit, title, selftext, author, created_utc, over_18, stickied, "
    "crosspost_parent, permalink, url, score, num_comments, source_file, source_line"
)


def _v1_to_v2(store: Store) -> list[str]:
    """Layout 1 (one `_config_hash` per row, category stored on posts, embeddings by post)."""
    from pipeline.store import Provenance, StoreSchemaError
    from schemas import LLMCall, LLMFailure, Post

    con = store.con
    existing = store._existing()
    present = [t for t in _V1_TABLES if t in existing]
    expected = {c.strip() for c in _V1_POST_FIELDS.split(",")} | {"_config_hash"}
    if not expected <= set(existing["posts"]):
        raise StoreSchemaError(
            f"table 'posts' has columns {existing['posts']}: not a valact store of a known "
            "layout; use another VALACT_PROCESSED_DIR or move this file aside"
        )
    con.execute("CREATE SCHEMA IF NOT EXISTS legacy_v1")
    for t in present:
        con.execute(f'CREATE TABLE legacy_v1."{t}" AS SELECT * FROM main."{t}"')
        con.execute(f'DROP TABLE main."{t}"')
    store._create_tables()
    prov = Provenance("migration", "1->2", "migrated-from-layout-1", "migration")
    counts: dict[str, int] = {}
    if "posts" in present:
        rows = store.query(f"SELECT {_V1_POST_FIELDS} FROM legacy_v1.posts ORDER BY post_id")
        posts = [Post(**r, content_sha="") for r in rows]
        posts = [p.model_copy(update={"content_sha": post_sha(p)}) for p in posts]
        counts["posts"] = store.put("posts", posts, prov, [p.source_file for p in posts])
    if "ingest_rejects" in present:
        con.execute(
            "INSERT INTO ingest_rejects SELECT source_sha256, line_no, source_file, reason, "
            "detail, snippet, 'migration', '1->2', 'migrated-from-layout-1', source_sha256, "
            "_run_id, _created_at FROM legacy_v1.ingest_rejects"
        )
        counts["ingest_rejects"] = store.count("ingest_rejects")
    if "llm_cache" in present:
        calls = store.load(LLMCall, table="legacy_v1.llm_cache")
        counts["llm_cache"] = store.put("llm_cache", calls, prov, [c.request_id for c in calls])
    if "llm_failures" in present:
        rows = store.query("SELECT *, _run_id AS last_run_id FROM legacy_v1.llm_failures")
        failures = [
            LLMFailure(
                **{k: r[k] for k in ("request_id", "task", "model", "item_key", "reason")},
                attempts=r["attempts"],
                runs=1,
                last_run_id=r["last_run_id"] or "",
                given_up=False,
            )
            for r in rows
        ]
        counts["llm_failures"] = store.put("llm_failures", failures, prov, "")
    carried = ", ".join(f"{n} {t}" for t, n in counts.items()) or "nothing"
    return [
        f"store migrated from layout 1 to 2: carried over {carried}; every old table is kept "
        "as it was in schema legacy_v1; derived results (filters, dedup, judge, scenarios, "
        "actions, annotations, questions) are recomputed, model answers come from llm_cache"
    ]


def _add_column(store: Store, table: str, column: str, layout: int) -> int | None:
    """Give `table` its new `column` where the table's model puts it (before the provenance
    columns: the store checks the order), by rebuilding it with every row copied as it is;
    returns the rows carried over, or None when there is nothing to do (no such table, or
    already the current columns)."""
    from pipeline.store import StoreSchemaError, table_columns

    con = store.con
    current = list(table_columns(table))
    existing = store._existing().get(table)
    if existing is None or existing == current:
        return None
    old = [c for c in current if c != column]
    if existing != old:
        raise StoreSchemaError(
            f"table {table!r} has columns {existing}, layout {layout} has {old}: the store is "
            "damaged; move it aside and rebuild (model answers are in its llm_cache table)"
        )
    con.execute(f"CREATE TABLE {table}_layout{layout} AS SELECT * FROM {table}")
    con.execute(f"DROP TABLE {table}")
    store._create_tables()
    names = ", ".join(f'"{c}"' for c in old)
    con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {table}_layout{layout}")
    con.execute(f"DROP TABLE {table}_layout{layout}")
    return store.count(table)


def _v2_to_v3(store: Store) -> list[str]:
    """Layout 2 -> 3: `posts` gains `removed` (why Reddit took a post down), null for every
    stored post until it is scraped again; `scrape_state` is new (created empty).

    The column goes before the provenance columns, where the table's model puts it (the store
    checks the order), so the table is rebuilt rather than altered: every row is copied as it
    is, and `content_sha` does not change (`removed` is not part of it), so nothing downstream
    is recomputed. A store coming from layout 1 already has the current tables (the 1 -> 2 step
    creates them), and this step has nothing to do."""
    n = _add_column(store, "posts", "removed", 2)
    if n is None:
        return []
    return [
        f"store migrated from layout 2 to 3: posts gained a 'removed' column ({n} posts carried "
        "over as they were; 'removed' is filled when a post is scraped again), and a "
        "scrape_state table"
    ]


def _v3_to_v4(store: Store) -> list[str]:
    """Layout 3 -> 4: `dedup` rows gain the compared text's hash and word count and the post's
    MinHash neighbours; `minhashes` and `near_dup` are new (created empty). Dedup decisions are
    derived, cheap and recomputed by the next build anyway (the stage's version changed), so
    the old table is dropped rather than carried over; embeddings and model answers stay."""
    from pipeline.store import table_columns

    existing = store._existing().get("dedup")
    if existing is None or existing == list(table_columns("dedup")):
        return []
    n = store.count("dedup")
    store.con.execute("DROP TABLE dedup")
    return [
        f"store migrated from layout 3 to 4: the {n} dedup decisions are recomputed (they now "
        "record the compared text and its MinHash neighbours); new tables minhashes, near_dup"
    ]


def _v4_to_v5(store: Store) -> list[str]:
    """Layout 4 -> 5: `annotations` gains `scores` (an annotator's probability per value),
    null for every stored annotation. Rebuilt like `posts` in 2 -> 3 (the column goes before
    the provenance columns); the rows are copied as they are, and the annotate stage's new
    version recomputes them on the next build. A store already at the new columns (coming from
    layout 1) has nothing to do."""
    n = _add_column(store, "annotations", "scores", 4)
    if n is None:
        return []
    return [
        f"store migrated from layout 4 to 5: annotations gained a 'scores' column ({n} "
        "annotations carried over; the next build annotates again, with scores)"
    ]


def _v5_to_v6(store: Store) -> list[str]:
    """Layout 5 -> 6: `minhash_bands` is new, the LSH band keys of each cached MinHash
    signature, so the dedup stage finds candidate pairs by a join in the store instead of an
    in-memory index of every kept post. The keys are computed here from the signatures the
    store holds (nothing else changes, and no decision is recomputed)."""
    from pipeline.near_dup import write_bands
    from pipeline.store import Provenance

    store._create_tables()
    n = write_bands(store, Provenance("migration", "5->6", "migrated-from-layout-5", "migration"))
    if not n:
        return []
    return [
        f"store migrated from layout 5 to 6: new table minhash_bands, the LSH band keys of the "
        f"{n} cached MinHash signatures"
    ]


MIGRATIONS: dict[int, Callable[[Store], list[str]]] = {
    1: _v1_to_v2,
    2: _v2_to_v3,
    3: _v3_to_v4,
    4: _v4_to_v5,
    5: _v5_to_v6,
}
