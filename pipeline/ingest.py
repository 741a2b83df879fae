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
"""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.context import RunContext, start_report
from pipeline.sources.dumps import (
    CorruptFileError,
    RecordError,
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


def find_files(raw_dir: Path, patterns: list[str]) -> list[Path]:
    found = {p.resolve() for pattern in patterns for p in raw_dir.glob(pattern) if p.is_file()}
    return sorted(found)


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
    for path in files:
        sha = file_sha256(path)
        if sha in done:
            report.skipped += done[sha]
            report.inputs += done[sha]
            continue
        name = str(path.relative_to(s.source.raw_dir.resolve()))
        # What this path gave before (other settings, or other content) is read again.
        report.removed += store.delete("source_files", "path = ?", [name])
        store.delete("ingest_rejects", "source_file = ?", [name])
        store.delete("posts", "source_file = ?", [name])
        lines, posts_new, rejects = ingest_file(ctx, path, sha, name, prov, report)
        store.put("ingest_rejects", rejects, prov, sha)
        # Written last: a run killed mid-file re-reads the file and only adds missing posts.
        store.put(
            "source_files",
            [
                SourceFile(
                    sha256=sha,
                    signature=report.signature,
                    subreddits=subreddits,
                    path=name,
                    lines=lines,
                    posts=posts_new,
                    rejects=len(rejects),
                )
            ],
            prov,
            sha,
        )
        report.inputs += lines
        report.processed += lines
        report.outputs += posts_new
        log.info(
            "ingested %s: %d lines, %d new posts, %d rejects", name, lines, posts_new, len(rejects)
        )
    return report


def ingest_file(
    ctx: RunContext, path: Path, sha: str, name: str, prov: Provenance, report: StageReport
) -> tuple[int, int, list[IngestReject]]:
    """Read one file: (records read, new posts stored, rejects)."""
    s = ctx.settings
    categories = s.subreddit_categories()
    lines = posts_new = 0
    rejects: list[IngestReject] = []
    batch: list[Post] = []
    seen: set[str] = set()

    def reject(line_no: int, err: RecordError, raw: bytes | None) -> None:
        snippet = (raw or b"")[:200].decode("utf-8", "replace")
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
    posts_new += _insert_new(ctx, batch, prov, report)
    return lines, posts_new, rejects


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
