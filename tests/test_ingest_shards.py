"""Ingest split for parallel reading: `read_to_shard` (one file, no store) and `load_shards`
(the store) give what reading every line the plain way gives; the date range; table imports."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from pipeline import ingest
from pipeline.context import RunContext, start_report
from pipeline.settings import Settings, TableImport
from pipeline.sources import tables
from pipeline.sources.dumps import RecordError, _decode_json, read_lines, to_post
from pipeline.store import Store
from schemas import Post
from tests.conftest import make_settings, submission, write_dump

JULY = 1_688_169_600  # 2023-07-01 UTC
AUGUST = 1_690_848_000  # 2023-08-01 UTC


def _messy_files(raw: Path) -> None:
    """Three dumps: repeats within and across files (arriving in any order), other
    subreddits, crossposts, each kind of bad line, blank lines, a truncated file."""
    a = [submission(f"a{i}", selftext=f"{i} " * (i % 7) + "body") for i in range(30)]
    a[3] = submission("a1", title="a repeat of a1 in the same file")
    a[5] = submission("x5", subreddit="pics")
    a[6] = {**submission("x6", subreddit="pics"), "crosspost_parent_list": [submission("z")]}
    a[7] = {**submission("a7"), "crosspost_parent_list": [submission("z2", subreddit="pics")]}
    lines: list[Any] = [*a, "", "{truncated", b"\xff\xfe", {"no": "id"}, "[1]"]
    lines += [submission("w1", over_18="no"), "x" * 5000, submission("b2")]
    write_dump(raw / "RS_2023-07.zst", lines)
    write_dump(raw / "RS_2023-06.zst", [submission("b2", title="earlier"), submission("b3")])
    records = [submission(f"c{i}", selftext="w " * (i % 50)) for i in range(400)]
    data = write_dump(raw / "sub" / "Advice_submissions.zst", records).read_bytes()
    (raw / "sub" / "Advice_submissions.zst").write_bytes(data[: len(data) * 2 // 3])


def _expected_posts(raw: Path, s: Settings) -> dict[str, Post]:
    """The plain way: every line of every file in path order through json and `to_post`,
    the first copy of an id kept (a truncated file: the lines before the break)."""
    wanted = set(s.subreddit_categories())
    out: dict[str, Post] = {}
    for found in ingest.find_files(raw, s.source.patterns):
        for line_no, line in _read_all(found.path, s.source.max_line_bytes):
            try:
                obj = _decode_json(line or b"")
                sub = obj.get("subreddit")
                if isinstance(sub, str) and sub.lower() not in wanted:
                    continue
                post = to_post(obj, found.name, line_no)
            except RecordError:
                continue
            out.setdefault(post.post_id, post)
    return out


def _read_all(path: Path, max_line_bytes: int) -> Iterator[tuple[int, bytes | None]]:
    """Every line, up to where a truncated file breaks."""
    try:
        yield from read_lines(path, max_line_bytes)
    except RecordError:
        return


def _store_rows(ctx: RunContext) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for table, order in (
        ("posts", "post_id"),
        ("ingest_rejects", "source_sha256, line_no"),
        ("source_files", "path"),
    ):
        out[table] = ctx.store.query(
            f"SELECT * EXCLUDE (_created_at, _run_id) FROM {table} ORDER BY {order}"
        )
    return out


def test_the_stage_stores_what_reading_every_line_gives(ctx: RunContext) -> None:
    raw = ctx.settings.source.raw_dir
    ctx.settings.source.max_line_bytes = 4000
    _messy_files(raw)
    expected = _expected_posts(raw, ctx.settings)
    report = ingest.run(ctx)
    stored = {p.post_id: p for p in ctx.store.load(Post)}
    assert stored == expected
    assert stored["b2"].title == "earlier" and stored["a1"].source_line == 2
    assert report.outputs == len(expected) and report.processed == report.inputs
    assert report.dropped["subreddit_not_configured"] == 2  # x5, and the crosspost x6
    assert report.dropped["duplicate_id"] == 2  # a1 again in its file, b2 in a later one
    assert report.dropped["corrupt_file"] == 1
    rejects = {
        (r["source_file"], r["reason"]) for r in ctx.store.query("SELECT * FROM ingest_rejects")
    }
    assert rejects == {
        ("RS_2023-07.zst", reason)
        for reason in ("invalid_json", "invalid_utf8", "missing_id", "not_an_object")
    } | {
        ("RS_2023-07.zst", "bad_field"),
        ("RS_2023-07.zst", "line_too_long"),
        ("sub/Advice_submissions.zst", "corrupt_file"),
    }
    assert not list(ctx.settings.processed_dir.glob(ingest.SHARD_DIR_PREFIX + "*"))


def test_shards_read_elsewhere_and_loaded_equal_the_stage(
    tmp_path: Path, settings: Settings, embedder: Any
) -> None:
    """`plan`, then `read_to_shard` with only the settings (as a Dask task would), out of
    order on threads, then `load_shards` in path order: the same store and report as `run`."""
    _messy_files(settings.source.raw_dir)
    other = make_settings(tmp_path / "other", source={"raw_dir": settings.source.raw_dir})
    results = []
    for s, parallel in ((settings, False), (other, True)):
        s.processed_dir.mkdir(parents=True, exist_ok=True)
        with Store.open(s.db_path) as store:
            ctx = RunContext(settings=s, store=store, run_id="test-run", _embedder=embedder)
            if not parallel:
                report = ingest.run(ctx)
            else:
                report = ingest.new_report(ctx)
                todo = ingest.plan(ctx, report)
                out = tmp_path / "shards"
                with ThreadPoolExecutor(3) as pool:
                    futures = [
                        pool.submit(ingest.read_to_shard, t.path, t.name, s, out, sha256=t.sha256)
                        for t in reversed(todo)
                    ]
                    shards = [f.result() for f in reversed(futures)]
                ingest.load_shards(ctx, shards, report)
            results.append((report.model_dump(exclude={"seconds"}), _store_rows(ctx)))
    assert results[0] == results[1]


def test_read_to_shard_needs_no_store_and_writes_parquet(
    tmp_path: Path, settings: Settings
) -> None:
    raw = settings.source.raw_dir
    path = write_dump(
        raw / "RS.zst",
        [submission("k1"), submission("o1", subreddit="pics"), "{bad", submission("k1")],
    )
    info = ingest.read_to_shard(path, "RS.zst", settings, tmp_path / "out")
    assert (info.lines, info.posts, info.rejects, info.complete) == (4, 2, 1, True)
    assert info.dropped == {"subreddit_not_configured": 1, "invalid_json": 1}
    assert info.sha256 == ingest.file_sha256(path) and not settings.db_path.exists()
    (part,) = info.posts_paths
    rows = pq.read_table(part).to_pylist()
    assert [Post(**r) for r in rows] == [
        to_post(submission("k1"), "RS.zst", 1),
        to_post(submission("k1"), "RS.zst", 4),
    ]
    assert pq.read_table(info.rejects_paths[0]).to_pylist()[0]["line_no"] == 3
    again = ingest.ShardInfo.model_validate_json(info.model_dump_json())  # a task's result
    assert again == info


def test_a_file_in_several_parts_keeps_the_first_copy_and_a_failed_load_is_redone(
    ctx: RunContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest, "SHARD_ROWS", 2)
    monkeypatch.setattr(ingest, "PART_ROWS", 4)
    raw = ctx.settings.source.raw_dir
    lines = [submission(f"p{i % 9}", title=f"copy {i}") for i in range(25)]
    write_dump(raw / "RS_b.zst", lines)
    write_dump(raw / "RS_a.zst", [submission("p4", title="from the earlier file")])
    insert = ingest._insert
    calls = {"n": 0}

    def failing(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 4:
            raise OSError("disk full")
        insert(*args, **kwargs)

    monkeypatch.setattr(ingest, "_insert", failing)
    with pytest.raises(OSError):
        ingest.run(ctx)
    monkeypatch.setattr(ingest, "_insert", insert)
    report = ingest.run(ctx)  # the file not recorded as read is read again
    titles = {p.post_id: p.title for p in ctx.store.load(Post)}
    assert titles == {f"p{i}": f"copy {i}" for i in range(9)} | {"p4": "from the earlier file"}
    assert report.outputs == 9 - 1 and report.dropped == {"duplicate_id": 25 - 8}
    assert ingest.run(ctx).processed == 0


# -- the date range --------------------------------------------------------------------------------


def test_a_date_range_keeps_posts_created_in_it_and_counts_the_rest(ctx: RunContext) -> None:
    s = ctx.settings
    s.source.date_from, s.source.date_to = date(2023, 7, 1), date(2023, 8, 1)
    times = {
        "d1": JULY,  # the first second of the range
        "d2": AUGUST - 1,  # the last
        "d3": JULY - 1,
        "d4": AUGUST,
        "d5": str(JULY + 100),  # older Pushshift: a string
        "d6": str(AUGUST + 100),
        "d7": float(JULY + 7),
    }
    records = [submission(k, created_utc=t) for k, t in times.items()]
    records += [submission("o1", subreddit="pics", created_utc=AUGUST + 5)]
    records += [submission("bad", created_utc="someday")]
    write_dump(s.source.raw_dir / "RS_2023-07.zst", records)
    report = ingest.run(ctx)
    assert ctx.store.keys("posts") == {"d1", "d2", "d5", "d7"}
    assert report.dropped == {
        "outside_date_range": 3,
        "subreddit_not_configured": 1,  # before its date is looked at
        "bad_created_utc": 1,
    }
    assert ingest.run(ctx).processed == 0

    s.source.date_to = None  # a changed range reads every file again
    again = ingest.run(ctx)
    assert again.processed == len(records)
    assert ctx.store.keys("posts") == {"d1", "d2", "d4", "d5", "d6", "d7"}


def test_no_date_range_keeps_the_signature_stores_were_written_with(ctx: RunContext) -> None:
    old = start_report(ctx, ingest.STAGE, ingest.VERSION, "source.max_line_bytes")
    assert ingest.new_report(ctx).signature == old.signature
    ctx.settings.source.date_from = date(2020, 1, 1)
    assert ingest.new_report(ctx).signature != old.signature


# -- table imports ----------------------------------------------------------------------------


def _fake_tables(monkeypatch: pytest.MonkeyPatch, calls: list[str]) -> None:
    """A stand-in for `iter_table_records`: rows from a JSON list, a RecordError per "bad" row;
    a file holding "missing" is refused as a whole (row 0)."""

    def rows(path: Path, spec: TableImport) -> Iterable[tuple[int, Any]]:
        calls.append(path.name)
        data = json.loads(path.read_text() if path.suffix != ".zst" else "[]")
        if data == "missing":
            yield 0, RecordError("missing_column", "no column 'id'")
            return
        for n, row in enumerate(data, 1):
            yield n, RecordError("bad_date", f"row {n}") if row == "bad" else row

    monkeypatch.setattr(tables, "iter_table_records", rows)


def test_table_imports_are_read_by_their_spec(
    ctx: RunContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    _fake_tables(monkeypatch, calls)
    s, raw = ctx.settings, ctx.settings.source.raw_dir
    (raw / "imports").mkdir()
    (raw / "imports" / "mine.csv").write_text(
        json.dumps([submission("t1"), "bad", submission("t2", subreddit="pics"), submission("t3")])
    )
    (raw / "imports" / "broken.csv").write_text(json.dumps("missing"))
    write_dump(raw / "imports" / "other.csv.zst", [])  # a dump pattern matches it too
    write_dump(raw / "RS_1.zst", [submission("d1")])
    s.source.imports = [TableImport(path="imports/*.csv*", subreddit="careerguidance")]
    report = ingest.run(ctx)
    assert sorted(calls) == ["broken.csv", "mine.csv", "other.csv.zst"]
    posts = {p.post_id: (p.source_file, p.source_line) for p in ctx.store.load(Post)}
    assert posts == {
        "t1": ("imports/mine.csv", 1),
        "t3": ("imports/mine.csv", 4),
        "d1": ("RS_1.zst", 1),
    }
    assert report.dropped == {"bad_date": 1, "subreddit_not_configured": 1, "missing_column": 1}
    assert any("imports/broken.csv" in n and "missing_column" in n for n in report.notes)

    calls.clear()  # a file-level problem is tried again; a read file is not
    assert ingest.run(ctx).dropped == {"missing_column": 1} and calls == ["broken.csv"]
    calls.clear()  # another spec for the import re-reads its files only
    s.source.imports = [TableImport(path="imports/*.csv*", columns={"selftext": "body"})]
    assert ingest.run(ctx).skipped == 1 and sorted(calls) == sorted(
        ["broken.csv", "mine.csv", "other.csv.zst"]
    )


def test_a_failing_table_reader_is_one_reject_and_the_file_is_retried(
    ctx: RunContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(path: Path, spec: TableImport) -> Iterator[tuple[int, Any]]:
        yield 1, submission("t1")
        raise ValueError("the parquet footer is garbage")

    monkeypatch.setattr(tables, "iter_table_records", broken)
    raw = ctx.settings.source.raw_dir
    (raw / "t.parquet").write_bytes(b"x")
    ctx.settings.source.imports = [TableImport(path="*.parquet")]
    report = ingest.run(ctx)
    assert report.dropped == {"unreadable_file": 1} and ctx.store.keys("posts") == {"t1"}
    assert any("the parquet footer is garbage" in n for n in report.notes)
    assert ingest.run(ctx).processed == 2  # not recorded as read


def test_a_stale_shard_folder_of_a_killed_run_is_removed(ctx: RunContext) -> None:
    stale = ctx.settings.processed_dir / f"{ingest.SHARD_DIR_PREFIX}killed"
    stale.mkdir()
    (stale / "x.posts.0.parquet").write_bytes(b"half")
    ingest.run(ctx)
    assert not stale.exists()


def test_only_one_thread_at_a_time_needs_the_store(tmp_path: Path, settings: Settings) -> None:
    """read_to_shard can run on many threads at once (no shared state)."""
    raw = settings.source.raw_dir
    paths = [
        write_dump(raw / f"RS_{i}.zst", [submission(f"f{i}x{j}") for j in range(50)])
        for i in range(6)
    ]
    errors: list[BaseException] = []

    def read(i: int) -> None:
        try:
            info = ingest.read_to_shard(paths[i], paths[i].name, settings, tmp_path / "o")
            assert info.posts == 50
        except BaseException as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=read, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
