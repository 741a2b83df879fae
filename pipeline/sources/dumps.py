"""Pushshift / Arctic Shift submission dumps: zstd (long window) or plain NDJSON, one JSON
object per line. Every line becomes a Post or a reject with a reason; nothing stops the read."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import zstandard

from pipeline.text import clean
from schemas import Post

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
    chunks are whole. A corrupt or truncated stream raises CorruptFileError after the lines
    read before it.
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
    except (zstandard.ZstdError, EOFError, OSError) as err:
        raise CorruptFileError(line_no + 1, f"{type(err).__name__}: {err}"[:300]) from None


def decode(line: bytes) -> dict[str, Any]:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError("invalid_utf8", f"byte {exc.start}") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordError("invalid_json", f"{exc.msg} at column {exc.colno}") from None
    if not isinstance(obj, dict):
        raise RecordError("not_an_object", f"JSON {type(obj).__name__}")
    return obj


def _int_or_none(value: Any) -> int | None:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


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


def to_post(obj: dict[str, Any], source_file: str, line_no: int) -> Post:
    """Normalise one submission object (API, Pushshift or Arctic Shift flavour)."""
    post_id = obj.get("id")
    if not isinstance(post_id, str) or not post_id.strip() or not post_id.isalnum():
        raise RecordError("missing_id", f"id={post_id!r}"[:80])
    subreddit = obj.get("subreddit")
    if not isinstance(subreddit, str) or not subreddit:
        raise RecordError("missing_subreddit", f"post {post_id}")
    created = _int_or_none(obj.get("created_utc"))  # a string in older Pushshift months
    if created is None:
        raise RecordError("bad_created_utc", f"post {post_id}: {obj.get('created_utc')!r}"[:80])
    parent = obj.get("crosspost_parent")
    author = obj.get("author")
    values: dict[str, Any] = dict(
        post_id=post_id,
        subreddit=subreddit,
        title=clean(str(obj.get("title") or "")),
        selftext=clean(str(obj.get("selftext") or "")),
        author=author if isinstance(author, str) else None,
        created_utc=created,
        over_18=bool(obj.get("over_18")),
        stickied=bool(obj.get("stickied")),
        crosspost_parent=parent.removeprefix("t3_") if isinstance(parent, str) else None,
        permalink=obj.get("permalink") if isinstance(obj.get("permalink"), str) else None,
        url=obj.get("url") if isinstance(obj.get("url"), str) else None,
        score=_int_or_none(obj.get("score")),
        num_comments=_int_or_none(obj.get("num_comments")),
    )
    return Post(
        **values,
        source_file=source_file,
        source_line=line_no,
        content_sha=_sha(tuple(values[f] for f in _HASHED)),
    )
