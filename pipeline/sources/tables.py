"""A researcher's own scrape, as CSV or Parquet (`[[source.imports]]` in the settings).

Each row becomes a record in the dump shape (`id`, `subreddit`, `title`, `selftext`,
`created_utc`, ...) through the import's column mapping, and then takes the same road as a
dump line (`pipeline.sources.dumps.to_post`), so every source lands in one normalized `Post`.

What differs between scrapes is normalized here, and only that: ids lose a `t3_` prefix (or
come out of a post URL), `created_utc` becomes whole epoch seconds (from an epoch number or
text, an ISO-8601 / `YYYY-MM-DD HH:MM:SS` string taken as UTC when it names no zone, or a
Parquet timestamp/date), flags read `True`/`false`/`1`/`0`, counts read `"12"`/`"12.0"`, and an
empty cell is a null where a dump would have one (an empty title or body stays ""). Text is left
as it is (`[deleted]`, `[removed]`, HTML entities): `to_post` and the pre-filter treat it as
they treat a dump's. A value that is merely of the wrong kind (`over_18 = "maybe"`) is passed
on, so `to_post` rejects it naming the field, as it would in a dump.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import re
import zlib
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import zstandard

from pipeline.settings import TableImport
from pipeline.sources.dumps import (
    ZSTD_MAX_WINDOW,
    CorruptFileError,
    RecordError,
    UnreadableFileError,
)
from schemas.submission import RawSubmission

Format = Literal["csv", "parquet"]
Row = tuple[int, dict[str, Any] | RecordError]

# The dump-shape fields a record may carry (what `to_post` reads), in its order.
FIELDS: tuple[str, ...] = tuple(RawSubmission.model_fields)
ALIASES = {"post_id": "id"}  # the Post's name for a dump field
TEXT_FIELDS = ("title", "selftext")  # "" in a dump when empty, never null
FLAG_FIELDS = ("over_18", "stickied")
COUNT_FIELDS = ("score", "num_comments")

# A CSV field longer than this stops the file (CorruptFileError): no post is near it, and an
# unclosed quote would otherwise pull the rest of the file into one field.
MAX_FIELD_CHARS = 16 * 2**20
PARQUET_BATCH_ROWS = 4_096
_SHOW_COLUMNS = 40  # columns listed in a missing_column message

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_POST_URL_ID = re.compile(r"/comments/([A-Za-z0-9]+)")
_REDDIT_URL = re.compile(r"https?://(?:[a-z]+\.)?reddit\.com(?=/)", re.IGNORECASE)
_TRUE = frozenset({"true", "t", "1", "yes", "y"})
_FALSE = frozenset({"false", "f", "0", "no", "n"})


class _BadValue(Exception):
    """A cell that makes its row unusable: reason code and detail for the RecordError."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def table_format(path: Path, spec: TableImport) -> Format | None:
    """`spec.format`, else from the name: `.csv` (also `.csv.gz`, `.csv.zst`), `.parquet`/`.pq`."""
    if spec.format is not None:
        return spec.format
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".zst"):
        suffixes.pop()
    last = suffixes[-1] if suffixes else ""
    if last == ".csv":
        return "csv"
    if last in (".parquet", ".pq"):
        return "parquet"
    return None


def iter_table_records(path: Path, spec: TableImport) -> Iterator[Row]:
    """(row number from 1, record in the dump shape or why the row cannot be one).

    Streams: a CSV is parsed record by record (stdlib `csv`, UTF-8 with or without a BOM,
    plain, gzip or zstd), a Parquet file batch by batch reading only the mapped columns, so
    memory does not grow with the file.

    Row numbers count data records from 1 (the header is not one, nor is a blank line). In a
    CSV that is the record number, not the physical line: a quoted field may span lines, so
    record 3 can start on line 40; a row's RecordError names its physical line as well.

    A row that cannot become a record yields `(row, RecordError)` and the read goes on:
    `missing_field` (no id, no date, no subreddit, neither title nor text), `bad_date`,
    `bad_row` (a CSV record with more or fewer fields than the header, or bytes that are not
    UTF-8). A file that cannot be read as configured yields one `(0, RecordError)` and nothing
    else: `missing_column` (a mapped column, or a required field's own column, is not in the
    header; the message names it and lists the columns present), `bad_mapping` (`columns` maps
    a field no record has), `unknown_format`. As `dumps.read_lines` does, a file that breaks off
    (a truncated Parquet, a CSV field over MAX_FIELD_CHARS) raises CorruptFileError after the
    rows before it, and a failing read (OSError) raises UnreadableFileError.
    """
    fmt = table_format(path, spec)
    if fmt is None:
        yield (
            0,
            RecordError(
                "unknown_format",
                f"{path.name}: not .csv, .csv.gz, .csv.zst, .parquet or .pq; set format = "
                '"csv" or "parquet" in its [[source.imports]]',
            ),
        )
        return
    mapping = _field_names(spec.columns)
    if isinstance(mapping, RecordError):
        yield 0, mapping
        return
    rows = _csv_rows if fmt == "csv" else _parquet_rows
    try:
        yield from rows(path, spec, mapping)
    except OSError as err:
        raise UnreadableFileError(err) from None


def _field_names(columns: dict[str, str]) -> dict[str, str] | RecordError:
    """`spec.columns` keyed by dump field (`post_id` is taken for `id`), or why it cannot be."""
    mapping: dict[str, str] = {}
    unknown = []
    for field, column in columns.items():
        name = ALIASES.get(field, field)
        if name in FIELDS:
            mapping[name] = column
        else:
            unknown.append(field)
    if unknown:
        return RecordError(
            "bad_mapping",
            f"columns maps {', '.join(map(repr, unknown))}, not a post field; the fields are "
            f"{', '.join(FIELDS)}",
        )
    return mapping


def _plan(
    header: Sequence[str], spec: TableImport, mapping: dict[str, str]
) -> dict[str, int] | RecordError:
    """Field -> index of its column in `header`, or a missing_column error naming what lacks."""
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        index.setdefault(name, i)  # a repeated name: its first column
    plan: dict[str, int] = {}
    problems = []
    for field in FIELDS:
        column = mapping.get(field, field)
        if column in index:
            plan[field] = index[column]
        elif field in mapping:
            problems.append(f"column {column!r} (mapped to {field}) is not in the file")
    required = ["id", "created_utc"] + ([] if spec.subreddit else ["subreddit"])
    for field in required:
        if field not in plan and field not in mapping:
            hint = (
                " (or set subreddit = ... for a one-subreddit file)" if field == "subreddit" else ""
            )
            problems.append(
                f"no column for {field}: the file has no {field!r} column; map one with "
                f'columns.{field} = "<column>"{hint}'
            )
    if not any(f in plan or f in mapping for f in TEXT_FIELDS):
        problems.append(
            "no column for title or selftext: map at least one "
            '(columns.title = "<column>", columns.selftext = "<column>")'
        )
    if problems:
        shown = ", ".join(map(repr, header[:_SHOW_COLUMNS]))
        if len(header) > _SHOW_COLUMNS:
            shown += f", ... ({len(header) - _SHOW_COLUMNS} more)"
        return RecordError(
            "missing_column", f"{'; '.join(problems)}; the file's columns: {shown or 'none'}"
        )
    return plan


# --- CSV ---------------------------------------------------------------------------------


def _open_text(path: Path) -> IO[str]:
    """The file as text: gzip or zstd by their magic bytes, else plain; UTF-8 with an optional
    BOM, bytes that are not UTF-8 kept as lone surrogates so their row can be reported."""
    with path.open("rb") as fh:
        magic = fh.read(4)
    raw: Any  # closed with the text wrapper the caller closes
    if magic.startswith(_GZIP_MAGIC):
        raw = gzip.open(path, "rb")  # noqa: SIM115
    elif magic == _ZSTD_MAGIC:
        dctx = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW)
        raw = dctx.stream_reader(path.open("rb"), closefd=True, read_across_frames=True)
    else:
        raw = path.open("rb")
    return io.TextIOWrapper(
        raw,
        encoding="utf-8-sig",
        errors="surrogateescape",
        newline="",  # the csv module reads line ends itself (CRLF rows, LF inside fields)
    )


def _csv_rows(path: Path, spec: TableImport, mapping: dict[str, str]) -> Iterator[Row]:
    if csv.field_size_limit() < MAX_FIELD_CHARS:
        csv.field_size_limit(MAX_FIELD_CHARS)  # process-wide; only ever raised
    with _open_text(path) as fh:
        reader = csv.reader(fh)
        record_no = 0
        try:
            header = next(reader, None)
            if header is None:
                yield 0, RecordError("missing_column", f"{path.name} is empty: no header row")
                return
            header = [name.strip().lstrip("\ufeff") for name in header]
            plan = _plan(header, spec, mapping)
            if isinstance(plan, RecordError):
                yield 0, plan
                return
            to_record = _Recorder(plan, spec.subreddit)
            width = len(header)
            last_line = reader.line_num
            for row in reader:
                first_line, last_line = last_line + 1, reader.line_num
                if not row:
                    continue  # a blank line is not a record
                record_no += 1
                if len(row) != width:
                    detail = f"line {first_line}: {len(row)} fields, the header has {width}"
                    yield record_no, RecordError("bad_row", detail)
                    continue
                yield record_no, to_record(row, "line", first_line)
        # gzip.BadGzipFile is an OSError, but the content's fault, not the reading's
        except (csv.Error, EOFError, zlib.error, zstandard.ZstdError, gzip.BadGzipFile) as err:
            raise CorruptFileError(record_no + 1, f"{type(err).__name__}: {err}"[:300]) from None


# --- Parquet -----------------------------------------------------------------------------


def _parquet_rows(path: Path, spec: TableImport, mapping: dict[str, str]) -> Iterator[Row]:
    with path.open("rb") as fh:  # opened here: a failing open is an OSError, not the content's
        yield from _parquet_batches(fh, spec, mapping)


def _parquet_batches(fh: IO[bytes], spec: TableImport, mapping: dict[str, str]) -> Iterator[Row]:
    record_no = 0
    try:
        pf = pq.ParquetFile(fh, buffer_size=1 << 20, pre_buffer=False)
        header = list(pf.schema_arrow.names)
        plan = _plan(header, spec, mapping)
        if isinstance(plan, RecordError):
            yield 0, plan
            return
        names = sorted({header[i] for i in plan.values()}, key=header.index)
        position = {name: i for i, name in enumerate(names)}
        to_record = _Recorder({f: position[header[i]] for f, i in plan.items()}, spec.subreddit)
        for batch in pf.iter_batches(
            batch_size=PARQUET_BATCH_ROWS, columns=names, use_threads=False
        ):
            columns = [_python_values(batch.column(i)) for i in range(batch.num_columns)]
            for row in zip(*columns, strict=True):
                record_no += 1
                yield record_no, to_record(row, "row", record_no)
    except pa.ArrowException as err:  # not Parquet, truncated, a bad page
        raise CorruptFileError(record_no + 1, f"{type(err).__name__}: {err}"[:300]) from None


def _python_values(column: pa.Array) -> list[Any]:
    """A column as Python values; timestamps and dates as epoch seconds (a zone-less timestamp
    is taken as UTC), so no datetime objects are built per row."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.dictionary_decode()
        kind = column.type
    if pa.types.is_timestamp(kind):
        per_second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[kind.unit]
        ticks = column.view(pa.int64()).to_pylist()  # UTC, whatever zone the type names
        return [None if t is None else t // per_second for t in ticks]
    if pa.types.is_date32(kind):
        return [None if d is None else d * 86_400 for d in column.view(pa.int32()).to_pylist()]
    if pa.types.is_date64(kind):
        return [None if d is None else d // 1_000 for d in column.view(pa.int64()).to_pylist()]
    if pa.types.is_floating(kind):
        column = pc.if_else(pc.is_nan(column), pa.scalar(None, kind), column)
    return column.to_pylist()


# --- one row -----------------------------------------------------------------------------


class _Recorder:
    """Turns a row (values by column index) into a dump-shape record or a RecordError."""

    def __init__(self, plan: dict[str, int], subreddit: str | None) -> None:
        self.fields = [(f, i, _NORMALIZE.get(f, _optional_text)) for f, i in plan.items()]
        self.subreddit = subreddit

    def __call__(self, row: Sequence[Any], unit: str, at: int) -> dict[str, Any] | RecordError:
        """`unit` and `at` say where the row is ("line", 57), for an error's detail."""
        record: dict[str, Any] = {}
        try:
            for field, i, normalize in self.fields:
                record[field] = normalize(row[i])
        except _BadValue as err:
            detail = f"{field}={_show(row[i])}: {err.detail}"
            return _error(err.reason, detail, record, f"{unit} {at}")
        if not record.get("subreddit"):
            record["subreddit"] = self.subreddit
        missing = [f for f in ("id", "created_utc", "subreddit") if record.get(f) is None]
        if missing:
            detail = f"no {' and no '.join(missing)}"
            return _error("missing_field", detail, record, f"{unit} {at}")
        title, text = record.get("title"), record.get("selftext")
        if not (title and title.strip()) and not (text and text.strip()):
            return _error("missing_field", "neither title nor text", record, f"{unit} {at}")
        for field in TEXT_FIELDS:
            if record.get(field) is None:
                record[field] = ""  # as a dump gives an empty title or body
        return record


def _error(reason: str, detail: str, record: dict[str, Any], where: str) -> RecordError:
    post_id = record.get("id")
    about = f"post {post_id}, " if isinstance(post_id, str) else ""
    return RecordError(reason, f"{about}{where}: {detail}"[:300])


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _checked(text: str) -> str:
    """Text that decoded as UTF-8 (the CSV reader keeps other bytes as lone surrogates)."""
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as err:
            raise _BadValue(
                "bad_row", f"bytes that are not UTF-8 at character {err.start}"
            ) from None
    return text


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return _checked(value)
    if isinstance(value, bytes):  # a Parquet binary column
        return _checked(value.decode("utf-8", "surrogateescape"))
    return str(value)


def _optional_text(value: Any) -> str | None:
    return None if _is_empty(value) else _as_text(value)


def _body(value: Any) -> str | None:
    """Title or body: None when the file has no value (the row check decides), else as is."""
    return None if value is None else _as_text(value)


def _post_id(value: Any) -> str | None:
    if _is_empty(value):
        return None
    text = _as_text(value).strip()
    found = _POST_URL_ID.search(text)
    if found:  # a post URL or permalink (".../comments/2riv1f/title/")
        return found.group(1)
    return text.removeprefix("t3_")


def _subreddit(value: Any) -> str | None:
    if _is_empty(value):
        return None
    text = _as_text(value).strip()
    for prefix in ("/r/", "r/"):
        if text[: len(prefix)].lower() == prefix:
            return text[len(prefix) :].rstrip("/")
    return text


def _permalink(value: Any) -> str | None:
    """A reddit.com URL becomes the path a dump gives (`/r/x/comments/id/slug/`)."""
    if _is_empty(value):
        return None
    text = _as_text(value).strip()
    return _REDDIT_URL.sub("", text, count=1) if text[:4].lower() == "http" else text


def _flag(value: Any) -> Any:
    if _is_empty(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value) if value in (0, 1) else value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    return value  # to_post rejects it, naming the field


def _count(value: Any) -> Any:
    if _is_empty(value) or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = float(text)
        except ValueError:
            return value  # to_post rejects it, naming the field
        return int(number) if number.is_integer() else value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _epoch(value: Any) -> int | None:
    """Whole seconds since 1970 (UTC) from a number, numeric text or a date/time string."""
    if _is_empty(value):
        return None
    if isinstance(value, bool):
        raise _BadValue("bad_date", "a flag, not a date")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _BadValue("bad_date", "not a finite number")
        return math.floor(value)
    if isinstance(value, datetime):
        return _utc_seconds(value)
    if isinstance(value, date):
        return _utc_seconds(datetime(value.year, value.month, value.day))
    text = _as_text(value).strip()
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        if math.isfinite(number):
            return int(text) if text.lstrip("+-").isdigit() else math.floor(number)
        raise _BadValue("bad_date", "not a finite number")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise _BadValue("bad_date", "not epoch seconds, ISO-8601 or YYYY-MM-DD HH:MM:SS") from None
    return _utc_seconds(parsed)


def _utc_seconds(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return math.floor(moment.timestamp())


_NORMALIZE: dict[str, Callable[[Any], Any]] = {
    "id": _post_id,
    "subreddit": _subreddit,
    "created_utc": _epoch,
    "title": _body,
    "selftext": _body,
    "permalink": _permalink,
    **{f: _flag for f in FLAG_FIELDS},
    **{f: _count for f in COUNT_FIELDS},
}
