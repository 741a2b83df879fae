"""Stage 1, ingest: raw dump files and table imports -> `posts` (+ `ingest_rejects`,
`source_files`).

Only posts of configured subreddits created in `source.date_from`..`date_to` are stored (the
rest are counted, by reason): a monthly dump holds all of Reddit, a release needs 17
subreddits. Most lines of a dump are skipped from their bytes, before any JSON parse
(`pipeline.sources.dumps.Selection`).

A file is identified by its sha256 and read once per ingest signature (the line size cap, the
date range; for a table import also its spec), so a re-run skips it and a re-scrape adds only
new files; a changed signature, or a subreddit added to the settings, re-reads every file,
replacing what each gave before. A subreddit removed from the settings needs no re-read: its
posts stay and the prefilter drops them with a reason.

Reading and storing are split so files can be read in parallel (one task per file, e.g. on
Dask): `plan` lists what to read (recording what cannot be read), `read_to_shard` reads one file
into Parquet shard files and needs no store, `load_shards` loads shards into the store in path
order. `run` does the three in this process, one file at a time.

A post id seen twice (same-id lines, overlapping dumps) is kept once: the copy from the first
file and line in path order, whatever order the files arrived in, so a rebuild equals a fresh
build.

No line or file stops the run. A bad line is an `ingest_rejects` row with its reason. A file
that cannot be read (permission, vanished, I/O error, a dangling link, a FIFO) is a row at
line 0, `unreadable_file`, and is not recorded in `source_files`, so the next run tries it again.
A link to a file outside the raw folder is not read (`outside_raw_dir`), nor is a file whose
name is not UTF-8 (`bad_file_name`: its posts could not be stored).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import stat
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel

from pipeline.context import RunContext, start_report
from pipeline.errors import is_interrupt
from pipeline.reuse import digest
from pipeline.settings import Settings, TableImport
from pipeline.sources.dumps import (
    CorruptFileError,
    RecordError,
    Selection,
    UnreadableFileError,
    file_sha256,
    parse_line,
    read_lines,
    to_post,
)
from pipeline.store import PROVENANCE_COLUMNS, Provenance, table_columns
from schemas import IngestReject, Post, SourceFile
from schemas.convert import duckdb_columns
from schemas.run import StageReport
from schemas.tables import TABLES

log = logging.getLogger(__name__)
STAGE, VERSION = "ingest", "3"
# A stored post gives way to the same id read from an earlier file or line.
FIRST_COPY_WINS = (
    "(excluded.source_file, excluded.source_line) <= (posts.source_file, posts.source_line)"
)
SHARD_ROWS = 5_000  # rows per Parquet row group: what a shard writer holds in memory
# Rows per shard part file, and so per INSERT when loading: the store commits (and can write
# to disk) after each, so loading memory does not grow with the file either.
PART_ROWS = 20_000
SHARD_DIR_PREFIX = ".ingest-shards-"  # run's temporary shard folder in the processed folder


class Found(NamedTuple):
    """A path the patterns matched: `name` is relative to the raw folder (of the file read, or
    of the matched path itself when `refused` says why it is not read). `table`: the import
    spec a CSV/Parquet file is read with; None for a dump."""

    name: str
    path: Path
    refused: RecordError | None = None
    table: TableImport | None = None


class ToRead(NamedTuple):
    """A file `plan` found new or changed: what `read_to_shard` is called with."""

    name: str
    path: Path
    sha256: str
    table: TableImport | None = None


class ShardInfo(BaseModel):
    """What `read_to_shard` read from one file and where it wrote it (picklable, JSON-able).

    `lines`: records read (non-blank lines or table rows; a file-level reject counts as one);
    `posts`: post rows written (a post id repeated in the file is there each time,
    `load_shards` keeps its first line); `rejects`: reject rows written; `dropped`: lines
    skipped or rejected, by reason (`subreddit_not_configured`, `outside_date_range`, reject
    reasons); `complete`: False when reading failed (not the content), so the file is read
    again next run, `error` saying why. `posts_paths`/`rejects_paths`: the Parquet part files
    (PART_ROWS rows each, in line order; none when there are no rows).
    """

    name: str
    sha256: str
    table: TableImport | None = None
    lines: int = 0
    posts: int = 0
    rejects: int = 0
    dropped: dict[str, int] = {}
    complete: bool = True
    error: str | None = None
    posts_paths: list[Path] = []
    rejects_paths: list[Path] = []
    seconds: float = 0.0

    def paths(self) -> list[Path]:
        return [*self.posts_paths, *self.rejects_paths]


ShardReader = Callable[[list[ToRead], Path], Iterable[ShardInfo]]


# -- which files ----------------------------------------------------------------------------------


def find_files(raw_dir: Path, patterns: list[str]) -> list[Found]:
    """Matched files in path order; a file reached through several patterns or links once.
    Folders are not dumps and are left out; any other match that cannot be read is refused."""
    root = raw_dir.resolve()
    found: dict[Path, Found] = {}

    def refuse(own: Path, reason: str, detail: str) -> None:
        name = os.fsencode(own.relative_to(root)).decode("utf-8", "replace")
        found.setdefault(own, Found(name, own, RecordError(reason, detail[:300])))

    for matched in {p for pattern in patterns for p in raw_dir.glob(pattern)}:
        own = root / matched.relative_to(raw_dir)  # the matched path, links not followed
        try:
            target = matched.resolve()  # a dangling link resolves too; a loop raises
            mode = target.stat().st_mode if target.is_relative_to(root) else None
        except (OSError, RuntimeError) as err:
            refuse(own, "unreadable_file", f"{type(err).__name__}: {err}")
            continue
        if mode is None:
            refuse(own, "outside_raw_dir", f"links to {target}")
        elif stat.S_ISDIR(mode):
            continue
        elif not stat.S_ISREG(mode):  # a FIFO or a device: opening it could block the run
            refuse(own, "unreadable_file", f"not a regular file (mode {mode:o})")
        elif not _utf8(name := str(target.relative_to(root))):
            refuse(own, "bad_file_name", "the path is not UTF-8: its posts could not be stored")
        else:
            found[target] = Found(name, target)
    return [found[p] for p in sorted(found)]


def _utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def list_inputs(settings: Settings) -> list[Found]:
    """Every file ingest looks at, in path order: dumps (`source.patterns`) and table imports
    (`source.imports`; a file an import matches is read as that table, by the first import
    matching it, even where a dump pattern matches it too, as `*.zst` does `x.csv.zst`).
    Refused matches carry their reason (`refused`); `plan` records them."""
    src = settings.source
    found = {f.path: f for f in find_files(src.raw_dir, src.patterns)}
    claimed: set[Path] = set()
    for spec in src.imports:
        for f in find_files(src.raw_dir, [spec.path]):
            if f.path in claimed:
                continue
            claimed.add(f.path)
            found[f.path] = f if f.refused is not None else f._replace(table=spec)
    return [found[p] for p in sorted(found)]


def new_report(ctx: RunContext) -> StageReport:
    """The stage's report; its signature covers the line size cap and, when set, the date
    range (unset, the signature is the one stores were written with before it existed)."""
    src = ctx.settings.source
    dates = (src.date_from, src.date_to)
    extra = ("dates", *(str(d) if d else None for d in dates)) if any(dates) else ()
    return start_report(ctx, STAGE, VERSION, "source.max_line_bytes", extra=extra)


def file_signature(signature: str, table: TableImport | None) -> str:
    """What a file was read under: the stage's signature, and a table import's spec (its
    column mapping): changing one import re-reads only its files."""
    return signature if table is None else digest(signature, table.model_dump(mode="json"))


def plan(ctx: RunContext, report: StageReport) -> list[ToRead]:
    """The files to read now, in path order. Files refused (`list_inputs`) or that cannot be
    hashed are recorded as rejects at line 0 (and retried next run); a file already read under
    this signature, for these subreddits or more, is skipped (counted in `skipped`)."""
    s, store = ctx.settings, ctx.store
    prov = ctx.provenance(report)
    files = list_inputs(s)
    if not s.source.raw_dir.is_dir():
        log.warning("raw_dir %s does not exist", s.source.raw_dir)
        report.notes.append(f"raw_dir {s.source.raw_dir} does not exist")
    elif not files:
        report.notes.append(f"no input files under {s.source.raw_dir} ({s.source.patterns})")
    # A file counts as read under its signature, for these subreddits or more.
    wanted = set(s.subreddit_categories())
    done = {
        (row["sha256"], row["signature"]): row["lines"]
        for row in store.query("SELECT sha256, signature, lines, subreddits FROM source_files")
        if wanted <= set(row["subreddits"])
    }
    # File-level rejects (line 0) hold until the next try at their file, which is now.
    store.delete("ingest_rejects", "line_no = 0")
    todo: list[ToRead] = []
    for name, path, refused, table in files:
        if refused is not None:
            _refuse(ctx, name, refused, prov, report)
            continue
        try:
            sha = file_sha256(path)
        except OSError as err:
            _refuse(ctx, name, UnreadableFileError(err), prov, report)
            continue
        lines = done.get((sha, file_signature(report.signature, table)))
        if lines is not None:
            report.skipped += lines
            report.inputs += lines
            continue
        todo.append(ToRead(name, path, sha, table))
    return todo


def run(ctx: RunContext, read: ShardReader | None = None) -> StageReport:
    """The stage: `plan`, read each file to a shard, `load_shards`, one file at a time.

    `read` reads the planned files elsewhere (`read(todo, out_dir)` yields their ShardInfos
    in `todo`'s order, e.g. from tasks on a Dask cluster, each calling `read_to_shard`); each is
    loaded as soon as it comes. Shards go to a temporary folder in the processed folder (what a
    killed run left there is removed by the next) and are deleted once loaded."""
    s = ctx.settings
    report = new_report(ctx)
    for stale in s.processed_dir.glob(SHARD_DIR_PREFIX + "*"):
        shutil.rmtree(stale, ignore_errors=True)
    todo = plan(ctx, report)
    if not todo:
        return report
    out_dir = Path(tempfile.mkdtemp(prefix=SHARD_DIR_PREFIX, dir=s.processed_dir))
    try:
        shards = (
            read(todo, out_dir)
            if read is not None
            else (
                read_to_shard(t.path, t.name, s, out_dir, table=t.table, sha256=t.sha256)
                for t in todo
            )
        )
        for shard in shards:
            load_shards(ctx, [shard], report)
            for path in shard.paths():
                path.unlink(missing_ok=True)
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    return report


def _refuse(
    ctx: RunContext, name: str, err: RecordError, prov: Provenance, report: StageReport
) -> None:
    """Record a file that is not read: one reject at line 0, keyed by its path (its sha256 is
    unknown); no `source_files` row, so it is looked at again next run."""
    key = f"path:{name}"
    reject = IngestReject(
        source_sha256=key,
        line_no=0,
        source_file=name,
        reason=err.reason,
        detail=err.detail,
        snippet="",
    )
    ctx.store.put("ingest_rejects", [reject], prov, key)
    report.inputs += 1
    report.processed += 1
    report.drop(err.reason)
    if err.reason == "unreadable_file":
        _note_unreadable(report, name, err.detail)
    else:
        report.notes.append(f"{name} not read ({err.reason}: {err.detail})")
    log.warning("%s not read: %s: %s", name, err.reason, err.detail)


def _note_unreadable(report: StageReport, name: str, detail: str) -> None:
    report.notes.append(f"{name} could not be read ({detail}); it is tried again next run")


# -- reading one file (no store) -------------------------------------------------------------------


_ARROW = {"VARCHAR": pa.string(), "BIGINT": pa.int64(), "BOOLEAN": pa.bool_()}


def arrow_schema(model: type[BaseModel]) -> pa.Schema:
    """A shard's columns: the model's fields, typed as the store's columns are."""
    return pa.schema([(name, _ARROW[t]) for name, t in duckdb_columns(model).items()])


class _ShardFile:
    """Rows of one model appended to Parquet part files (`<stem>.<n>.parquet`, PART_ROWS rows
    each), a row group every SHARD_ROWS rows, so memory does not grow with the file; a part
    is written only once it has a row. A shard lives until it is loaded: it is written for
    speed (no compression; dictionaries only for the columns that repeat, no statistics),
    about 3x cheaper than pyarrow's defaults."""

    def __init__(self, stem: Path, model: type[BaseModel], dictionary: tuple[str, ...]) -> None:
        self.stem = stem
        self.schema = arrow_schema(model)
        self.dictionary = [c for c in dictionary if c in self.schema.names]
        self.columns: dict[str, list[Any]] = {name: [] for name in self.schema.names}
        self.pending = 0
        self.count = 0
        self.paths: list[Path] = []
        self._writer: pq.ParquetWriter | None = None
        self._in_part = 0

    def add(self, row: dict[str, Any]) -> None:
        for name, values in self.columns.items():
            values.append(row[name])
        self.pending += 1
        if self.pending >= SHARD_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        if self._writer is None:
            self.paths.append(self.stem.with_name(f"{self.stem.name}.{len(self.paths)}.parquet"))
            self._writer = pq.ParquetWriter(
                self.paths[-1],
                self.schema,
                compression="none",
                use_dictionary=self.dictionary,
                write_statistics=False,
            )
        arrays = [pa.array(self.columns[f.name], type=f.type) for f in self.schema]
        self._writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=self.schema))
        self.count += self.pending
        self._in_part += self.pending
        self.pending = 0
        for values in self.columns.values():
            values.clear()
        if self._in_part >= PART_ROWS:
            self._close_part()

    def _close_part(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer, self._in_part = None, 0

    def close(self) -> list[Path]:
        self.flush()
        self._close_part()
        return self.paths


_REPEATED = ("subreddit", "source_file", "source_sha256", "reason", "removed")


def _shard_stem(name: str, sha: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name)[-80:]
    return f"{safe}-{sha.removeprefix('path:')[:12]}-{uuid.uuid4().hex[:8]}"


def read_to_shard(
    path: Path,
    name: str,
    settings: Settings,
    out_dir: Path,
    *,
    table: TableImport | None = None,
    sha256: str | None = None,
) -> ShardInfo:
    """Read one file into Parquet shard files in `out_dir`: its new posts (as `Post` rows) and
    its rejects (as `IngestReject` rows). Needs no store and changes nothing but `out_dir`, so
    it can run in any process that sees the file and `out_dir`.

    A dump is read line by line (`pipeline.sources.dumps`): lines are skipped from their bytes
    when the selection (`source.date_from`/`date_to`, the configured subreddits) cannot want
    them, the rest parsed and validated; with `table`, the file is a table import read through
    `pipeline.sources.tables.iter_table_records`. `name` is the path relative to the raw folder
    (what rows record as `source_file`); `sha256` the file's, if already known. A bad line or
    row is a reject with its reason; a truncated or corrupt file keeps what came before; a
    failing read makes the shard incomplete (`complete=False`). Memory is flat in file size.
    """
    started = time.perf_counter()
    info = ShardInfo(name=name, sha256=sha256 or f"path:{name}", table=table)
    out_dir.mkdir(parents=True, exist_ok=True)
    unreadable: UnreadableFileError | None = None
    if sha256 is None:
        try:
            info.sha256 = file_sha256(path)
        except OSError as err:  # keyed by its path, as `plan` records such a file
            unreadable = UnreadableFileError(err)
    stem = _shard_stem(name, info.sha256)
    posts = _ShardFile(out_dir / f"{stem}.posts", Post, _REPEATED)
    rejects = _ShardFile(out_dir / f"{stem}.rejects", IngestReject, _REPEATED)
    selection = Selection.of(settings)
    dropped = info.dropped
    if unreadable is not None:
        _reject_row(rejects, info, 0, unreadable, None)
        info.lines, info.complete, info.error = 1, False, unreadable.detail
    elif table is not None:
        for line_no, obj in _table_records(path, table, info, rejects):
            try:
                reason = selection.skip_record(obj)
                if reason is not None:
                    dropped[reason] = dropped.get(reason, 0) + 1
                    continue
                posts.add(to_post(obj, name, line_no).__dict__)
            except Exception as exc:  # one row, not the run
                _reject_row(rejects, info, line_no, _record_error(exc), None)
    else:
        max_line_bytes = settings.source.max_line_bytes
        for line_no, raw in _dump_lines(path, max_line_bytes, selection, info, rejects):
            try:
                if raw is None:
                    raise RecordError("line_too_long", f"over {max_line_bytes} bytes")
                row = parse_line(raw, name, line_no, selection)
            except Exception as exc:  # one line, not the run
                _reject_row(rejects, info, line_no, _record_error(exc), raw)
                continue
            if isinstance(row, str):
                dropped[row] = dropped.get(row, 0) + 1
            else:
                posts.add(row)
    info.posts_paths, info.rejects_paths = posts.close(), rejects.close()
    info.posts, info.rejects = posts.count, rejects.count
    info.seconds = round(time.perf_counter() - started, 3)
    return info


def _reject_row(
    rejects: _ShardFile, info: ShardInfo, line_no: int, err: RecordError, raw: bytes | None
) -> None:
    rejects.add(
        {
            "source_sha256": info.sha256,
            "line_no": line_no,
            "source_file": info.name,
            "reason": err.reason,
            "detail": err.detail.encode(
                "utf-8", "replace"
            ).decode(),  # storable, whatever it quotes
            "snippet": (raw or b"")[:200].decode("utf-8", "replace"),
        }
    )
    info.dropped[err.reason] = info.dropped.get(err.reason, 0) + 1


def _record_error(exc: Exception) -> RecordError:
    """A reject's reason: the record's own, else `unexpected_error` (a bug or a case not
    foreseen)."""
    if isinstance(exc, RecordError):
        return exc
    return RecordError("unexpected_error", f"{type(exc).__name__}: {exc}")


def _dump_lines(
    path: Path, max_line_bytes: int, selection: Selection, info: ShardInfo, rejects: _ShardFile
) -> Iterator[tuple[int, bytes | None]]:
    """A dump's lines the selection cannot skip from their bytes (None: over the size cap);
    counts lines in `info`, and rejects where the file breaks off."""
    skipped: dict[str, int] = {}
    lines = 0
    try:
        for line_no, raw in read_lines(path, max_line_bytes, selection, skipped):
            if raw is not None and (not raw or raw.isspace()):
                continue  # blank lines are not records
            lines += 1
            yield line_no, raw
    except CorruptFileError as err:  # keep what was read; say where the file broke
        lines += 1
        _reject_row(rejects, info, err.line_no, err, None)
    except UnreadableFileError as err:
        lines += 1
        _reject_row(rejects, info, 0, err, None)
        info.complete, info.error = False, err.detail
    finally:
        info.lines += lines + sum(skipped.values())
        for reason, n in skipped.items():
            info.dropped[reason] = info.dropped.get(reason, 0) + n


def _table_records(
    path: Path, table: TableImport, info: ShardInfo, rejects: _ShardFile
) -> Iterator[tuple[int, dict[str, Any]]]:
    """A table import's records (`iter_table_records`), counted and rejected as a dump's. A
    file-level problem (row 0: a missing column, an unknown format) or a failing read leaves
    the file unrecorded, so it is read again next run."""
    from pipeline.sources.tables import iter_table_records

    try:
        for row_no, item in iter_table_records(path, table):
            info.lines += 1
            if isinstance(item, RecordError):
                _reject_row(rejects, info, row_no, item, None)
                if row_no == 0:
                    info.complete, info.error = False, f"{item.reason}: {item.detail}"
                continue
            yield row_no, item
    except CorruptFileError as err:
        info.lines += 1
        _reject_row(rejects, info, err.line_no, err, None)
    except UnreadableFileError as err:
        info.lines += 1
        _reject_row(rejects, info, 0, err, None)
        info.complete, info.error = False, err.detail
    except Exception as exc:  # the reader failed on this file: say so, read it again next run
        if is_interrupt(exc):
            raise
        log.exception("reading %s failed", path)
        failed = RecordError("unreadable_file", f"{type(exc).__name__}: {exc}"[:300])
        info.lines += 1
        _reject_row(rejects, info, 0, failed, None)
        info.complete, info.error = False, failed.detail


# -- loading shards into the store ---------------------------------------------------------------


def load_shards(
    ctx: RunContext, shards: Iterable[ShardInfo], report: StageReport | None = None
) -> StageReport:
    """Load shards (from `read_to_shard`) into the store, one file at a time in the order
    given (path order for the report `run` gives; the stored posts do not depend on it): what
    the file's path gave before is replaced, a post id already stored from an earlier file or
    line in path order is kept (FIRST_COPY_WINS) and counted as `duplicate_id`, and the file
    is recorded in `source_files` (last: a run killed before re-reads the file) when its read
    was complete. Counts go to `report` (a new ingest report if None), which is returned."""
    report = report if report is not None else new_report(ctx)
    prov = ctx.provenance(report)
    subreddits = sorted(ctx.settings.subreddit_categories())
    for shard in shards:
        _load(ctx, shard, report, prov, subreddits)
    return report


def _load(
    ctx: RunContext,
    shard: ShardInfo,
    report: StageReport,
    prov: Provenance,
    subreddits: list[str],
) -> None:
    store, con, name = ctx.store, ctx.store.con, shard.name
    # What this path gave before (other settings, or other content) is read again.
    report.removed += store.delete("source_files", "path = ?", [name])
    store.delete("ingest_rejects", "source_file = ?", [name])
    store.delete("posts", "source_file = ?", [name])
    new = 0
    for part in shard.posts_paths:  # in line order: a repeated id's first copy comes first
        params = {"shard": str(part)}
        distinct, known = _one(
            con,
            "SELECT count(*), count(*) FILTER (WHERE post_id IN (SELECT post_id FROM posts)) "
            "FROM (SELECT DISTINCT post_id FROM read_parquet($shard))",
            params,
        )
        # A post id repeated in the part: its first line's copy (an earlier part's copy of
        # it is stored already, and keeps its place: FIRST_COPY_WINS).
        first = (
            "SELECT * FROM read_parquet($shard) "
            "QUALIFY row_number() OVER (PARTITION BY post_id ORDER BY source_line) = 1"
        )
        if known:  # ids stored before: the conflict-checking insert (twice the memory)
            stored = f"({first}) WHERE post_id IN (SELECT post_id FROM posts)"
            _insert(con, "posts", stored, params, prov, prov.signature, upsert=True)
        fresh = f"({first}) WHERE post_id NOT IN (SELECT post_id FROM posts)"
        _insert(con, "posts", fresh, params, prov, prov.signature)
        new += distinct - known
    for part in shard.rejects_paths:
        _insert(
            con, "ingest_rejects", "read_parquet($shard)", {"shard": str(part)}, prov, shard.sha256
        )
    for reason, n in shard.dropped.items():
        report.drop(reason, n)
    report.drop("duplicate_id", shard.posts - new)
    report.inputs += shard.lines
    report.processed += shard.lines
    report.outputs += new
    if not shard.complete:  # what was read stays; the whole file is read again next run
        _note_unreadable(report, name, shard.error or "")
        return
    store.put(
        "source_files",
        [
            SourceFile(
                sha256=shard.sha256,
                signature=file_signature(report.signature, shard.table),
                subreddits=subreddits,
                path=name,
                lines=shard.lines,
                posts=new,
                rejects=shard.rejects,
            )
        ],
        prov,
        shard.sha256,
    )
    log.info(
        "ingested %s: %d lines, %d new posts, %d rejects", name, shard.lines, new, shard.rejects
    )


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> tuple[int, int]:
    row = con.execute(sql, params).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _insert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    source: str,
    params: dict[str, Any],
    prov: Provenance,
    inputs: str,
    upsert: bool = False,
) -> None:
    """INSERT ... SELECT the table's data columns from `source` (SQL), with provenance. Posts
    are new ids, or with `upsert` stored ids, each kept from the earlier file or line
    (FIRST_COPY_WINS); other tables replace a row by key."""
    cols = list(table_columns(table))
    data = [c for c in cols if c not in PROVENANCE_COLUMNS]
    names = ", ".join(f'"{c}"' for c in cols)
    select = ", ".join(
        [f'"{c}"' for c in data]
        + ["$stage", "$version", "$signature", "$inputs", "$run_id", "$created_at"]
    )
    sql = f'INSERT INTO "{table}" ({names}) SELECT {select} FROM {source}'
    if upsert:
        key = TABLES[table].key
        keys = ", ".join(f'"{k}"' for k in key)
        sets = ", ".join(f'"{c}" = excluded."{c}"' for c in cols if c not in key)
        sql += f" ON CONFLICT ({keys}) DO UPDATE SET {sets} WHERE {FIRST_COPY_WINS}"
    elif table != "posts":
        sql = sql.replace("INSERT INTO", "INSERT OR REPLACE INTO", 1)
    con.execute(
        sql,
        {
            **params,
            "stage": prov.stage,
            "version": prov.version,
            "signature": prov.signature,
            "inputs": inputs,
            "run_id": prov.run_id,
            "created_at": datetime.now(UTC),
        },
    )
