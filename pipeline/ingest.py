"""Stage 1, ingest: raw dump files -> `posts` (+ `ingest_rejects`, `source_files`).

Only posts of configured subreddits are stored (the rest are counted): a monthly dump holds
all of Reddit, a release needs 17 subreddits.

A file is identified by its sha256 and read once per ingest signature (the line size cap), so a
re-run skips it and a re-scrape adds only new files; a changed signature, or a subreddit added
to the settings, re-reads every file, replacing what each gave before. A subreddit removed from
the settings needs no re-read: its posts stay and the prefilter drops them with a reason.

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
import stat
from pathlib import Path
from typing import NamedTuple

from pipeline.context import RunContext, start_report
from pipeline.sources.dumps import (
    CorruptFileError,
    RecordError,
    UnreadableFileError,
    decode,
    file_sha256,
    read_lines,
    to_post,
)
from pipeline.store import Provenance
from schemas import IngestReject, Post, SourceFile
from schemas.run import StageReport

log = logging.getLogger(__name__)
STAGE, VERSION = "ingest", "2"
# A stored post gives way to the same id read from an earlier file or line.
FIRST_COPY_WINS = (
    "(excluded.source_file, excluded.source_line) <= (posts.source_file, posts.source_line)"
)
BATCH = 5_000


class Found(NamedTuple):
    """A path the patterns matched: `name` is relative to the raw folder (of the file read, or
    of the matched path itself when `refused` says why it is not read)."""

    name: str
    path: Path
    refused: RecordError | None = None


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


def run(ctx: RunContext) -> StageReport:
    s, store = ctx.settings, ctx.store
    subreddits = sorted(s.subreddit_categories())  # which, not which category: read-time
    report = start_report(ctx, STAGE, VERSION, "source.max_line_bytes")
    prov = ctx.provenance(report)
    files = find_files(s.source.raw_dir, s.source.patterns)
    if not s.source.raw_dir.is_dir():
        log.warning("raw_dir %s does not exist", s.source.raw_dir)
        report.notes.append(f"raw_dir {s.source.raw_dir} does not exist")
    elif not files:
        report.notes.append(f"no input files under {s.source.raw_dir} ({s.source.patterns})")
    # A file counts as read under this signature, for these subreddits or more.
    done = {
        row["sha256"]: row["lines"]
        for row in store.query(
            "SELECT sha256, lines, subreddits FROM source_files WHERE signature = ?",
            [report.signature],
        )
        if set(subreddits) <= set(row["subreddits"])
    }
    # File-level rejects (line 0) hold until the next try at their file, which is now.
    store.delete("ingest_rejects", "line_no = 0")
    for name, path, refused in files:
        if refused is not None:
            _refuse(ctx, name, refused, prov, report)
            continue
        try:
            sha = file_sha256(path)
        except OSError as err:
            _refuse(ctx, name, UnreadableFileError(err), prov, report)
            continue
        if sha in done:
            report.skipped += done[sha]
            report.inputs += done[sha]
            continue
        # What this path gave before (other settings, or other content) is read again.
        report.removed += store.delete("source_files", "path = ?", [name])
        store.delete("ingest_rejects", "source_file = ?", [name])
        store.delete("posts", "source_file = ?", [name])
        read = ingest_file(ctx, path, sha, name, prov, report)
        store.put("ingest_rejects", read.rejects, prov, sha)
        report.inputs += read.lines
        report.processed += read.lines
        report.outputs += read.posts
        if not read.complete:  # what was read stays; the whole file is read again next run
            _note_unreadable(report, name, read.rejects[-1].detail)
            continue
        # Written last: a run killed mid-file re-reads the file and only adds missing posts.
        store.put(
            "source_files",
            [
                SourceFile(
                    sha256=sha,
                    signature=report.signature,
                    subreddits=subreddits,
                    path=name,
                    lines=read.lines,
                    posts=read.posts,
                    rejects=len(read.rejects),
                )
            ],
            prov,
            sha,
        )
        log.info(
            "ingested %s: %d lines, %d new posts, %d rejects",
            name,
            read.lines,
            read.posts,
            len(read.rejects),
        )
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


class FileRead(NamedTuple):
    lines: int  # records read, file-level rejects included
    posts: int  # new posts stored
    rejects: list[IngestReject]
    complete: bool  # False: reading failed (not the content), so the file is read again


def ingest_file(
    ctx: RunContext, path: Path, sha: str, name: str, prov: Provenance, report: StageReport
) -> FileRead:
    """Read one file, storing its posts in batches."""
    s = ctx.settings
    categories = s.subreddit_categories()
    lines = posts_new = 0
    complete = True
    rejects: list[IngestReject] = []
    batch: list[Post] = []
    seen: set[str] = set()

    def reject(line_no: int, err: RecordError, raw: bytes | None) -> None:
        snippet = (raw or b"")[:200].decode("utf-8", "replace")
        err.detail = err.detail.encode("utf-8", "replace").decode()  # storable, whatever it quotes
        rejects.append(
            IngestReject(
                source_sha256=sha,
                line_no=line_no,
                source_file=name,
                reason=err.reason,
                detail=err.detail,
                snippet=snippet,
            )
        )
        report.drop(err.reason)

    try:
        for line_no, raw in read_lines(path, s.source.max_line_bytes):
            if raw is not None and not raw.strip():
                continue  # blank lines are not records
            lines += 1
            try:
                if raw is None:
                    raise RecordError("line_too_long", f"over {s.source.max_line_bytes} bytes")
                obj = decode(raw)
                sub = obj.get("subreddit")
                if isinstance(sub, str) and sub.lower() not in categories:
                    # A monthly dump is all of Reddit: count other subreddits, store nothing.
                    report.drop("subreddit_not_configured")
                    continue
                post = to_post(obj, name, line_no)
            except RecordError as err:
                reject(line_no, err, raw)
                continue
            except Exception as exc:  # a bug or a case not foreseen: one line, not the run
                reject(
                    line_no, RecordError("unexpected_error", f"{type(exc).__name__}: {exc}"), raw
                )
                continue
            if post.post_id in seen:
                report.drop("duplicate_id")
                continue
            seen.add(post.post_id)
            batch.append(post)
            if len(batch) >= BATCH:
                posts_new += _insert_new(ctx, batch, prov, report)
                batch = []
    except CorruptFileError as err:  # keep what was read; say where the file broke
        lines += 1
        reject(err.line_no, err, None)
    except UnreadableFileError as err:
        lines += 1
        reject(0, err, None)
        complete = False
    posts_new += _insert_new(ctx, batch, prov, report)
    return FileRead(lines, posts_new, rejects, complete)


def _insert_new(ctx: RunContext, batch: list[Post], prov: Provenance, report: StageReport) -> int:
    """Store a batch; an id another file already gave counts as a duplicate (and the copy
    from the earlier file in path order is the one kept). Returns the posts new to the store."""
    if not batch:
        return 0
    known = {
        r[0]
        for r in ctx.store.con.execute(
            "SELECT post_id FROM posts WHERE post_id IN (SELECT unnest(?))",
            [[p.post_id for p in batch]],
        ).fetchall()
    }
    report.drop("duplicate_id", len(known))
    ctx.store.put("posts", batch, prov, prov.signature, replace_if=FIRST_COPY_WINS)
    return len(batch) - len(known)
