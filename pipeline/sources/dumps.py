"""Pushshift / Arctic Shift submission dumps: zstd (long window) or plain NDJSON, one JSON
object per line. Every line becomes a Post or a reject with a reason; nothing stops the read.
Fields are checked strictly (`schemas.submission.RawSubmission`): a wrong type or an out-of-range
value is a reject naming the field, never coerced into something plausible."""

from __future__ import annotations

import hashlib
import json
import reprlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import zstandard
from pydantic import ValidationError

from pipeline.text import clean
from schemas import Post
from schemas.submission import RawSubmission

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


def _chunks(path: Path, size: int = 1 << 20) -> Iterator[bytes]:
    """Decompressed bytes of a file, frame after frame; raises on a truncated last frame."""
    with path.open("rb") as fh:
        if path.suffix != ".zst":
            yield from iter(lambda: fh.read(size), b"")
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


def read_lines(path: Path, max_line_bytes: int) -> Iterator[tuple[int, bytes | None]]:
    """(1-based line number, bytes) per line; bytes is None for a line over the size cap.

    Lines are split here, not by the decompressor, so records spanning zstd frames or read
    chunks are whole. A corrupt or truncated stream raises CorruptFileError, a failing read
    (OSError) UnreadableFileError, after the lines read before it.
    """
    line_no, size = 0, 0
    pending: list[bytes] = []  # pieces of the line not yet ended

    def finish(piece: bytes) -> tuple[int, bytes | None]:
        nonlocal line_no, pending, size
        line_no += 1
        too_long = size + len(piece) > max_line_bytes
        line = None if too_long else (b"".join([*pending, piece]) if pending else piece)
        pending, size = [], 0
        return line_no, line

    try:
        for chunk in _chunks(path):
            parts = chunk.split(b"\n")
            for piece in parts[:-1]:
                yield finish(piece)
            tail = parts[-1]
            if size <= max_line_bytes:  # past the cap, keep counting but stop keeping bytes
                pending.append(tail)
            size += len(tail)
        if size:
            yield finish(b"")
    except (zstandard.ZstdError, EOFError) as err:
        raise CorruptFileError(line_no + 1, f"{type(err).__name__}: {err}"[:300]) from None
    except OSError as err:
        raise UnreadableFileError(err) from None


def _non_finite(name: str) -> Any:
    raise ValueError(f"non-finite number {name}")


# JSON has no Infinity or NaN; json.loads takes them unless told not to.
_JSON = json.JSONDecoder(parse_constant=_non_finite)


def decode(line: bytes) -> dict[str, Any]:
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


# What later stages read from a post, in field order; not where it was read from.
_HASHED = tuple(
    f for f in Post.model_fields if f not in {"source_file", "source_line", "content_sha"}
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


def to_post(obj: dict[str, Any], source_file: str, line_no: int) -> Post:
    """Validate one submission object (API, Pushshift or Arctic Shift flavour) and normalise
    it; a field of the wrong type or out of range raises RecordError naming it."""
    try:
        rec = RawSubmission.model_validate(obj)
    except ValidationError as exc:
        raise _field_error(exc, obj) from None
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
        source_file=source_file,
        source_line=line_no,
        content_sha=_sha(tuple(values[f] for f in _HASHED)),
    )
