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

import numpy as np
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
# see, so a line holding such an escape is always parsed.
_ESCAPED_KEY_CHAR = re.compile(rb"\\u00(?:[67][0-9a-fA-F]|5[fF])")
_NO_HIT = 1 << 62


def _escaped_key_chars(chunk: bytes, start: int) -> list[int]:
    """Positions (from `start`) of `_ESCAPED_KEY_CHAR` escapes, vectorised: a regex over every
    byte of a dump would cost more than the decompression."""
    a = np.frombuffer(chunk, np.uint8)
    at = np.flatnonzero(a[:-5] == 0x5C)  # a backslash with five bytes after it
    if not at.size:
        return []
    c = a[at + 4]
    at = at[
        (a[at + 1] == 0x75)  # u
        & (a[at + 2] == 0x30)  # 0
        & (a[at + 3] == 0x30)  # 0
        & (((c | 1) == 0x37) | ((c == 0x35) & ((a[at + 5] | 0x20) == 0x66)))  # 6, 7 or 5f/5F
    ]
    return at[at >= start].tolist()


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
        if _ESCAPED_KEY_CHAR.search(line):
            return None
        return self.skip_span(line, 0, len(line))

    def skip_span(self, buf: bytes, start: int, end: int) -> str | None:
        """`skip_line` for the line `buf[start:end]`, known to hold no escaped key character
        (`read_lines` looks for those a whole chunk at a time, and copies no skipped line)."""
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
        if not self.dated:
            return None
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
    skip_span = selection.skip_span if selection is not None else None
    line_no, size = 0, 0
    pending: list[bytes] = []  # pieces of the line not yet ended

    def last(piece: bytes) -> bytes | None:
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
            line = last(chunk[:end])
            reason = None if line is None or selection is None else selection.skip_line(line)
            if reason is None:
                yield line_no, line
            else:
                counts[reason] = counts.get(reason, 0) + 1
            start = end + 1
            # Lines inside the chunk: the hot loop (a Reddit dump has hundreds of millions).
            hits = iter(_escaped_key_chars(chunk, start) if skip_span is not None else ())
            hit = next(hits, _NO_HIT)
            find = chunk.find
            while (end := find(b"\n", start)) >= 0:
                line_no += 1
                unsure = hit < end
                while hit < end:
                    hit = next(hits, _NO_HIT)
                if end - start > max_line_bytes:
                    yield line_no, None
                elif unsure or skip_span is None or not (reason := skip_span(chunk, start, end)):
                    yield line_no, chunk[start:end]
                else:
                    counts[reason] = counts.get(reason, 0) + 1
                start = end + 1
            pending, size = ([chunk[start:]], len(chunk) - start) if start < len(chunk) else ([], 0)
        if size:
            line_no += 1
            line = last(b"")
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
    # repr of str/int/bool/None is stable across runs and machines, and cheap (hot path)
    return hashlib.sha256(repr(values).encode()).hexdigest()[:32]


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


def _validated(obj: dict[str, Any]) -> RawSubmission:
    """`RawSubmission.model_validate(obj)`, raising RecordError naming the failing field.

    The usual record (every field of its exact type, in range) is checked here by the same
    rules, at a third of pydantic's cost; pydantic sees the rest and names what fails. Returns
    an object with RawSubmission's attributes.
    """
    if _FAST:
        get = obj.get
        post_id, sub, over_18, stickied = (
            get("id"),
            get("subreddit"),
            get("over_18"),
            get("stickied"),
        )
        title, selftext, author = get("title"), get("selftext"), get("author")
        parent, permalink, url = get("crosspost_parent"), get("permalink"), get("url")
        score, num_comments = get("score"), get("num_comments")
        if (
            type(post_id) is str
            and 0 < len(post_id) <= 20
            and post_id.isascii()
            and post_id.isalnum()
            and type(sub) is str
            and 0 < len(sub) <= 100
            and _text(sub)
            and _text(title)
            and _text(selftext)
            and _text(author)
            and _text(parent)
            and _text(permalink)
            and _text(url)
            and (over_18 is None or type(over_18) is bool)
            and (stickied is None or type(stickied) is bool)
            and _count(score)
            and _count(num_comments)
        ):
            try:
                created = _epoch(get("created_utc"))
            except ValueError:
                pass  # pydantic says why
            else:
                rec = SimpleNamespace(
                    id=post_id,
                    subreddit=sub,
                    created_utc=created,
                    title=title,
                    selftext=selftext,
                    author=author,
                    over_18=over_18,
                    stickied=stickied,
                    crosspost_parent=parent,
                    permalink=permalink,
                    url=url,
                    score=score,
                    num_comments=num_comments,
                )
                return cast(RawSubmission, rec)
    try:
        return RawSubmission.model_validate(obj)
    except ValidationError as exc:
        raise _field_error(exc, obj) from None


def to_post(obj: dict[str, Any], source_file: str, line_no: int) -> Post:
    """Validate one submission object (API, Pushshift or Arctic Shift flavour) and normalise
    it; a field of the wrong type or out of range raises RecordError naming it."""
    rec = _validated(obj)
    author = rec.author
    if author is not None and not author.isprintable():  # control/invisible characters
        author = clean(author)
    parent = rec.crosspost_parent
    values: dict[str, Any] = dict(
        post_id=rec.id,
        subreddit=rec.subreddit,
        title=clean(rec.title),
        selftext=clean(rec.selftext),
        author=author,
        created_utc=rec.created_utc,
        over_18=rec.over_18 is True,
        stickied=rec.stickied is True,
        crosspost_parent=parent.removeprefix("t3_") if parent is not None else None,
        permalink=rec.permalink,
        url=rec.url,
        score=rec.score,
        num_comments=rec.num_comments,
    )
    return Post(
        **values,
        removed=_removed(obj.get("removed_by_category"), values["selftext"]),
        source_file=source_file,
        source_line=line_no,
        content_sha=_sha(tuple(values[f] for f in _HASHED)),
    )
