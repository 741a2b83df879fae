"""Pushshift / Arctic Shift submission dumps: zstd (long window) or plain NDJSON, one JSON
object per line. Every line becomes a Post, a skip counted by reason (`Selection`: another
subreddit, outside the date range, most often decided from the line's bytes before any parse) or
a reject with a reason; nothing stops the read. Lines are parsed by orjson, with the standard
library's answers where the two differ (`decode`). Fields are checked strictly
(`schemas.submission.RawSubmission`): a wrong type or an out-of-range value is a reject naming
the field, never coerced into something plausible."""

from __future__ import annotations

import hashlib
import json
import re
import reprlib
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

import msgspec
import orjson
import zstandard
from pydantic import ValidationError

from pipeline.text import clean
from schemas import Post
from schemas.submission import (
    BIGINT_MAX,
    BIGINT_MIN,
    EPOCH_MAX,
    EPOCH_MIN,
    RawSubmission,
    _epoch,
)

if TYPE_CHECKING:
    from pipeline.settings import Settings

ZSTD_MAX_WINDOW = 2**31  # monthly dumps are compressed with --long=31


class RecordError(ValueError):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class CorruptFileError(RecordError):
    """The compressed stream breaks off: lines before it stand, the rest is unreadable."""

    def __init__(self, line_no: int, detail: str) -> None:
        super().__init__("corrupt_file", detail)
        self.line_no = line_no


class UnreadableFileError(RecordError):
    """The file could not be read (permission, vanished, I/O error): unlike a corrupt stream
    this says nothing about its content, so the file is read again next run."""

    def __init__(self, err: OSError) -> None:
        super().__init__("unreadable_file", f"{type(err).__name__}: {err}"[:300])


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# Compressed bytes per read: a decompressed chunk is about the compression ratio times this
# (~1.3 MB for a Reddit dump: it stays in cache while the lines are looked at), so memory stays
# flat whatever the file's size.
READ_SIZE = 1 << 17


def _chunks(path: Path, size: int = READ_SIZE) -> Iterator[bytes]:
    """Decompressed bytes of a file, frame after frame; raises on a truncated last frame."""
    with path.open("rb") as fh:
        if path.suffix != ".zst":
            yield from iter(lambda: fh.read(max(size, 1 << 20)), b"")
            return
        dctx = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW)
        dobj, in_frame = dctx.decompressobj(), False
        for data in iter(lambda: fh.read(size), b""):
            while data:
                in_frame = True
                out = dobj.decompress(data)
                if out:
                    yield out
                if not dobj.eof:
                    break
                data = dobj.unused_data  # the next frame starts here
                dobj, in_frame = dctx.decompressobj(), False
        if in_frame:
            raise zstandard.ZstdError("truncated: the last frame ends early")


# -- which records are wanted, from their bytes ------------------------------------------------

SKIP_SUBREDDIT = "subreddit_not_configured"
SKIP_DATE = "outside_date_range"

_SUBREDDIT_KEY = b'"subreddit"'
_CREATED_KEY = b'"created_utc"'
# A key and its value as dumps write them: JSON whitespace around the colon (`":"` in Arctic
# Shift, `": "` in Pushshift), a plain string value (no escape; only the characters of a
# subreddit name), or whole epoch seconds as created_utc takes them (`_epoch`): a number, a
# whole float, or a numeric string; the value must end there (`[,}]` follows).
_SUBREDDIT_VALUE = re.compile(rb'"subreddit"[ \t\r]*:[ \t\r]*"([A-Za-z0-9_]*)"')
_CREATED_VALUE = re.compile(
    rb'"created_utc"[ \t\r]*:[ \t\r]*'
    rb'(?:([1-9][0-9]{0,11})(?:\.0+)?|"([0-9]{1,12})(?:\.0*)?")[ \t\r]*[,}]'
)
# `\u0073` is an "s": a key written with escaped letters (or `_`) is one the byte search cannot
# see, so a line holding such an escape where it matters is always parsed.
_ESCAPED_KEY_CHAR = re.compile(rb"\\u00(?:[67][0-9a-fA-F]|5[fF])")


def _utc_seconds(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


class Selection:
    """Which records ingest keeps: those of the configured subreddits (case-insensitively, as
    Reddit names are) created in [date_from, date_to) (UTC days; either end may be open).

    `skip_line` answers from a line's raw bytes, before any parse; `skip_record` from the parsed
    object. A line is skipped by its bytes only when the parse could not give a post: its
    every `"subreddit"` key holds a plain name, none configured; or it has one subreddit, one
    `created_utc` key holding whole seconds outside the range. Anything else (escapes, several
    created_utc keys as in a crosspost, a float or odd spacing the patterns do not take) is
    None: parse it, and `skip_record` decides. So the byte test can let through a record the
    parse then skips (a crosspost of a configured subreddit's post), never the other way
    round; a line too broken to parse that names only other subreddits is counted as skipped
    by its subreddit, not rejected: a monthly dump's other subreddits are not ingest's concern.
    Skips are counted by reason: SKIP_SUBREDDIT first, then SKIP_DATE.
    """

    def __init__(
        self,
        subreddits: Iterable[str],
        date_from: date | None = None,
        date_to: date | None = None,
    ) -> None:
        self.subreddits = frozenset(s.lower() for s in subreddits)
        self._names = frozenset(s.encode() for s in self.subreddits if s.isascii())
        self.dated = date_from is not None or date_to is not None
        self.start = _utc_seconds(date_from) if date_from is not None else EPOCH_MIN
        self.end = _utc_seconds(date_to) if date_to is not None else EPOCH_MAX

    @classmethod
    def of(cls, settings: Settings) -> Selection:
        src = settings.source
        return cls(settings.subreddit_categories(), src.date_from, src.date_to)

    def skip_record(self, obj: dict[str, Any]) -> str | None:
        """Why a parsed record is not wanted, or None. A record whose subreddit or created_utc
        is missing or malformed is not skipped: `to_post` rejects it naming the field."""
        sub = obj.get("subreddit")
        if isinstance(sub, str) and sub.lower() not in self.subreddits:
            return SKIP_SUBREDDIT
        if self.dated:
            try:
                seconds = _epoch(obj.get("created_utc"))
            except ValueError:
                return None
            if not self.start <= seconds < self.end:
                return SKIP_DATE
        return None

    def skip_line(self, line: bytes) -> str | None:
        """Why a raw line's record cannot be wanted, or None when only a parse can tell."""
        return self.skip_span(line, 0, len(line))

    def skip_span(self, buf: bytes, start: int, end: int) -> str | None:
        """`skip_line` for the line `buf[start:end]`, without copying it.

        The hot path reads one key: the line's last `"subreddit"` key, found from the end (a
        dump's keys are sorted, so it is near the end). When nothing after its value but the
        line's final `}` closes an object, that key is at the top level, and being the last it
        is the one a parse keeps (the last of duplicate keys wins). An escape in its value, or
        an escaped letter after it (which could spell another such key), or any other doubt
        sends the line to `_skip_checked`, which looks at every key of the line.
        """
        at = buf.rfind(_SUBREDDIT_KEY, start, end)
        value = at + 13  # where `"subreddit":"` ends
        last = end - 1
        if (
            at < 0
            or buf[at + 11] != 0x3A  # `:`
            or buf[at + 12] != 0x22  # `"`
            or (close := buf.find(b'"', value, end)) < 0
            or buf[last] != 0x7D  # `}`
            or buf.find(b"}", close, last) >= 0
            or buf.find(b"\\", value, close) >= 0
            or (buf.find(b"\\u00", close, last) >= 0 and _ESCAPED_KEY_CHAR.search(buf, close, last))
        ):
            return self._skip_checked(buf, start, end)
        if buf[value:close].lower() not in self._names:
            return SKIP_SUBREDDIT
        return self._skip_date(buf, start, end) if self.dated else None

    def _skip_checked(self, buf: bytes, start: int, end: int) -> str | None:
        """The slow, sure answer: escapes anywhere send the line to the parse; every
        `"subreddit"` key must hold a plain name, none configured, for a skip."""
        if _ESCAPED_KEY_CHAR.search(buf, start, end):
            return None
        find = buf.find
        at = find(_SUBREDDIT_KEY, start, end)
        if at < 0:
            return None
        m = _SUBREDDIT_VALUE.match(buf, at, end)
        if m is None:
            return None
        if find(_SUBREDDIT_KEY, m.end(), end) >= 0:  # nested records (a crosspost's parent)
            names = _SUBREDDIT_VALUE.findall(buf, start, end)
            if len(names) != buf.count(_SUBREDDIT_KEY, start, end):
                return None
            wanted = self._names
            return None if any(n.lower() in wanted for n in names) else SKIP_SUBREDDIT
        if m.group(1).lower() not in self._names:
            return SKIP_SUBREDDIT
        return self._skip_date(buf, start, end) if self.dated else None

    def _skip_date(self, buf: bytes, start: int, end: int) -> str | None:
        """SKIP_DATE for a line with one plain `created_utc` outside the range, else None."""
        if _ESCAPED_KEY_CHAR.search(buf, start, end):
            return None
        find = buf.find
        at = find(_CREATED_KEY, start, end)
        if at < 0:
            return None
        m = _CREATED_VALUE.match(buf, at, end)
        if m is None or find(_CREATED_KEY, m.end(), end) >= 0:
            return None
        seconds = int(m.group(1) or m.group(2))
        if not EPOCH_MIN <= seconds < EPOCH_MAX:  # `to_post` rejects it: bad_created_utc
            return None
        return None if self.start <= seconds < self.end else SKIP_DATE


def read_lines(
    path: Path,
    max_line_bytes: int,
    selection: Selection | None = None,
    skipped: dict[str, int] | None = None,
) -> Iterator[tuple[int, bytes | None]]:
    """(1-based line number, bytes) per line; bytes is None for a line over the size cap.

    With a `selection`, a line it skips from its bytes (`Selection.skip_line`) is not yielded
    but counted in `skipped` by reason: most lines of a monthly dump are never parsed.

    Lines are split here, not by the decompressor, so records spanning zstd frames or read
    chunks are whole. A corrupt or truncated stream raises CorruptFileError, a failing read
    (OSError) UnreadableFileError, after the lines read before it.
    """
    counts = skipped if skipped is not None else {}
    skip_span = selection._skip_checked if selection is not None else None
    names = selection._names if selection is not None else None
    escaped_key = _ESCAPED_KEY_CHAR.search
    skip_date = selection._skip_date if selection is not None and selection.dated else None
    line_no, size = 0, 0
    pending: list[bytes] = []  # pieces of the line not yet ended

    def joined(piece: bytes) -> bytes | None:
        """The line ending with `piece`, or None if it is past the cap."""
        if size + len(piece) > max_line_bytes:
            return None
        return b"".join((*pending, piece)) if pending else piece

    try:
        for chunk in _chunks(path):
            end = chunk.find(b"\n")
            if end < 0:
                if size <= max_line_bytes:  # past the cap, keep counting but stop keeping bytes
                    pending.append(chunk)
                size += len(chunk)
                continue
            line_no += 1  # the line begun before this chunk (or at its start) ends here
            line = joined(chunk[:end])
            reason = None if line is None or selection is None else selection.skip_line(line)
            if reason is None:
                yield line_no, line
            else:
                counts[reason] = counts.get(reason, 0) + 1
            start = end + 1
            # Lines inside the chunk: the hot loop (a Reddit dump has hundreds of millions), with
            # the hot path of `Selection.skip_span` inlined: a call costs as much as the test.
            find, rfind = chunk.find, chunk.rfind
            while (end := find(b"\n", start)) >= 0:
                line_no += 1
                if end - start > max_line_bytes:
                    yield line_no, None
                elif names is None:
                    yield line_no, chunk[start:end]
                else:
                    at = rfind(_SUBREDDIT_KEY, start, end)
                    value, final = at + 13, end - 1
                    if (
                        at < 0
                        or chunk[at + 11] != 0x3A
                        or chunk[at + 12] != 0x22
                        or (close := find(b'"', value, end)) < 0
                        or chunk[final] != 0x7D
                        or find(b"}", close, final) >= 0
                        or find(b"\\", value, close) >= 0
                        or (find(b"\\u00", close, final) >= 0 and escaped_key(chunk, close, final))
                    ):
                        reason = skip_span(chunk, start, end)  # type: ignore[misc]
                    elif chunk[value:close].lower() not in names:
                        reason = SKIP_SUBREDDIT
                    else:
                        reason = skip_date(chunk, start, end) if skip_date is not None else None
                    if reason is None:
                        yield line_no, chunk[start:end]
                    else:
                        counts[reason] = counts.get(reason, 0) + 1
                start = end + 1
            pending, size = ([chunk[start:]], len(chunk) - start) if start < len(chunk) else ([], 0)
        if size:
            line_no += 1
            line = joined(b"")
            reason = None if line is None or selection is None else selection.skip_line(line)
            if reason is None:
                yield line_no, line
            else:
                counts[reason] = counts.get(reason, 0) + 1
    except (zstandard.ZstdError, EOFError) as err:
        raise CorruptFileError(line_no + 1, f"{type(err).__name__}: {err}"[:300]) from None
    except OSError as err:
        raise UnreadableFileError(err) from None


def _non_finite(name: str) -> Any:
    raise ValueError(f"non-finite number {name}")


# JSON has no Infinity or NaN; json.loads takes them unless told not to.
_JSON = json.JSONDecoder(parse_constant=_non_finite)
# The fields `to_post` reads; orjson gives an integer past 64 bits as a float, json as an int.
_READ_FIELDS = tuple(RawSubmission.model_fields)
_INT64 = float(2**63)


def decode(line: bytes) -> dict[str, Any]:
    """One JSON object, parsed by orjson (2-3x faster than json). A line orjson refuses is
    decoded again by json, whose answer stands: the reasons and details below, and what only
    json takes (a lone surrogate escape, then rejected by `to_post` naming the field); so is a
    line where a field `to_post` reads holds a float of 2**63 or more, which orjson also gives
    for an integer past 64 bits (json: the integer, rejected as out of range)."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return _decode_json(line)
    if type(obj) is not dict:
        raise RecordError("not_an_object", f"JSON {type(obj).__name__}")
    get = obj.get
    for field in _READ_FIELDS:
        value = get(field)
        if type(value) is float and not -_INT64 < value < _INT64:
            return _decode_json(line)
    return obj


def _decode_json(line: bytes) -> dict[str, Any]:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError("invalid_utf8", f"byte {exc.start}") from None
    try:
        obj = _JSON.decode(text)
    except json.JSONDecodeError as exc:
        raise RecordError("invalid_json", f"{exc.msg} at column {exc.colno}") from None
    except RecursionError:
        raise RecordError("invalid_json", "nested too deeply") from None
    except ValueError as exc:  # Infinity/NaN, an integer over the int-str digit limit
        raise RecordError("invalid_json", str(exc)[:120]) from None
    if not isinstance(obj, dict):
        raise RecordError("not_an_object", f"JSON {type(obj).__name__}")
    return obj


# What later stages read from a post, in field order; not where it was read from, nor its
# removal status (which changes while the post lives).
_HASHED = tuple(
    f
    for f in Post.model_fields
    if f not in {"source_file", "source_line", "content_sha", "removed"}
)


def _sha(values: tuple[Any, ...]) -> str:
    # JSON of str/int/bool/None is stable across runs and machines; orjson writes it several
    # times faster than repr (hot path)
    return hashlib.sha256(orjson.dumps(values)).hexdigest()[:32]


def post_sha(post: Post) -> str:
    """Hash of what later stages read from a post (not where it was read from)."""
    return _sha(tuple(getattr(post, f) for f in _HASHED))


# A failing field with its own reason; any other is `bad_field`.
_FIELD_REASONS = {
    "id": "missing_id",
    "subreddit": "missing_subreddit",
    "created_utc": "bad_created_utc",
}
_SHOW = reprlib.Repr()
_SHOW.maxstring = _SHOW.maxother = 60


def _field_error(exc: ValidationError, obj: dict[str, Any]) -> RecordError:
    """The first failing field (in RawSubmission's field order) as a reason and a detail."""
    error = exc.errors(include_url=False, include_context=False)[0]
    field = str(error["loc"][0]) if error["loc"] else "?"
    value = _SHOW.repr(obj.get(field)) if field in obj else "missing"
    detail = f"{field}={value}: {error['msg']}"
    post_id = obj.get("id")
    if field != "id" and isinstance(post_id, str):
        detail = f"post {post_id[:20]}: {detail}"
    return RecordError(_FIELD_REASONS.get(field, "bad_field"), detail[:300])


_GONE = {"[deleted]": "deleted", "[removed]": "removed"}


def _removed(category: Any, selftext: str) -> str | None:
    """Reddit's `removed_by_category` (an ASCII string, else ignored), or "deleted"/"removed"
    from a `[deleted]`/`[removed]` text."""
    if isinstance(category, str) and category.isascii() and category.strip():
        return category.strip()[:40]
    return _GONE.get(selftext)


def _text(value: Any) -> bool:
    """RawSubmission's optional `Text`: None, or a str with no lone surrogate (json.loads
    lets `"\\ud800"` through; the store cannot encode one)."""
    if value is None or (type(value) is str and value.isascii()):
        return True
    if type(value) is not str:
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _count(value: Any) -> bool:
    return value is None or (type(value) is int and BIGINT_MIN <= value <= BIGINT_MAX)


# The fast path below knows exactly these fields; a field added to RawSubmission turns it off.
_FAST = set(RawSubmission.model_fields) == {
    "id", "subreddit", "created_utc", "title", "selftext", "author", "over_18", "stickied",
    "crosspost_parent", "permalink", "url", "score", "num_comments",
}  # fmt: skip


def _usual(rec: Any) -> bool:
    """Whether a record's fields (attributes named as RawSubmission's, created_utc already in
    whole seconds) are each of their exact type and in range: RawSubmission's rules for the
    usual record, at a fraction of pydantic's cost."""
    post_id, sub = rec.id, rec.subreddit
    return (
        type(post_id) is str
        and 0 < len(post_id) <= 20
        and post_id.isascii()
        and post_id.isalnum()
        and type(sub) is str
        and 0 < len(sub) <= 100
        and _text(sub)
        and _text(rec.title)
        and _text(rec.selftext)
        and _text(rec.author)
        and _text(rec.crosspost_parent)
        and _text(rec.permalink)
        and _text(rec.url)
        and (rec.over_18 is None or type(rec.over_18) is bool)
        and (rec.stickied is None or type(rec.stickied) is bool)
        and _count(rec.score)
        and _count(rec.num_comments)
    )


def _validated(obj: dict[str, Any]) -> RawSubmission:
    """`RawSubmission.model_validate(obj)`, raising RecordError naming the failing field.

    The usual record is checked by `_usual`; pydantic sees the rest and names what fails.
    Returns an object with RawSubmission's attributes.
    """
    if _FAST:
        try:
            created = _epoch(obj.get("created_utc"))
        except ValueError:
            pass  # pydantic says why
        else:
            rec = SimpleNamespace(**{f: obj.get(f) for f in _READ_FIELDS})
            rec.created_utc = created
            if _usual(rec):
                return cast(RawSubmission, rec)
    try:
        return RawSubmission.model_validate(obj)
    except ValidationError as exc:
        raise _field_error(exc, obj) from None


def _row(rec: Any, removed_by: Any, source_file: str, line_no: int) -> dict[str, Any]:
    """A validated record (RawSubmission's attributes) as a Post's fields: texts cleaned."""
    author = rec.author
    if author is not None and not author.isprintable():  # control/invisible characters
        author = clean(author)
    parent = rec.crosspost_parent
    selftext = clean(rec.selftext)
    values = (
        rec.id,
        rec.subreddit,
        clean(rec.title),
        selftext,
        author,
        rec.created_utc,
        rec.over_18 is True,
        rec.stickied is True,
        parent.removeprefix("t3_") if parent is not None else None,
        rec.permalink,
        rec.url,
        rec.score,
        rec.num_comments,
    )
    row = dict(zip(_HASHED, values, strict=True))
    row["removed"] = _removed(removed_by, selftext)
    row["source_file"] = source_file
    row["source_line"] = line_no
    row["content_sha"] = _sha(values)
    return row


def to_post(obj: dict[str, Any], source_file: str, line_no: int) -> Post:
    """Validate one submission object (API, Pushshift or Arctic Shift flavour) and normalise
    it; a field of the wrong type or out of range raises RecordError naming it."""
    rec = _validated(obj)
    return Post(**_row(rec, obj.get("removed_by_category"), source_file, line_no))


def _fast_type(name: str) -> Any:
    """A RawSubmission field's type for msgspec: exact JSON types, nothing coerced."""
    if name == "created_utc":
        return int | float | str
    if name in ("id", "subreddit"):
        return str
    annotation = str(RawSubmission.model_fields[name].annotation)
    if "bool" in annotation:
        return bool | None
    if "int" in annotation:
        return int | None
    return str | None


# Only the fields `to_post` reads are decoded; msgspec steps over the other ~90 keys of a
# dump record without building them (about 2x orjson's whole-record parse).
_FastSubmission = msgspec.defstruct(
    "_FastSubmission",
    [
        (f, _fast_type(f)) if f in ("id", "subreddit", "created_utc") else (f, _fast_type(f), None)
        for f in _READ_FIELDS
    ]
    + [("removed_by_category", Any, None)],
)
_FAST_DECODER = msgspec.json.Decoder(_FastSubmission)


def parse_line(
    raw: bytes, source_file: str, line_no: int, selection: Selection
) -> dict[str, Any] | str:
    """One dump line as a Post's fields, or the Selection's reason to skip it; raises
    RecordError for a line that gives no post.

    The usual line takes the fast path: a typed msgspec decode of the fields read, checked by
    `_usual`. Any line it does not take (a type msgspec refuses, a lone surrogate, a value out
    of range, broken JSON) goes the sure way, `decode` then `to_post`, whose answer stands:
    the fast path only ever gives what that would give.
    """
    if _FAST:
        try:
            if not raw.isascii():
                raw.decode()  # msgspec lets invalid UTF-8 in a field it skips through
            rec: Any = _FAST_DECODER.decode(raw)
        except Exception:  # any refusal (even a RecursionError): the sure way
            pass
        else:
            if rec.subreddit.lower() not in selection.subreddits:
                return SKIP_SUBREDDIT
            try:
                rec.created_utc = created = _epoch(rec.created_utc)
            except ValueError:
                return _slow(raw, source_file, line_no, selection)
            if not selection.start <= created < selection.end:
                return SKIP_DATE
            post_id = rec.id
            if (  # `_usual`, less what msgspec's typed decode has checked (types, Unicode)
                0 < len(post_id) <= 20
                and post_id.isascii()
                and post_id.isalnum()
                and len(rec.subreddit) <= 100
                and _count(rec.score)
                and _count(rec.num_comments)
            ):
                return _row(rec, rec.removed_by_category, source_file, line_no)
    return _slow(raw, source_file, line_no, selection)


def _slow(raw: bytes, source_file: str, line_no: int, selection: Selection) -> dict[str, Any] | str:
    obj = decode(raw)
    reason = selection.skip_record(obj)
    if reason is not None:
        return reason
    return to_post(obj, source_file, line_no).__dict__
