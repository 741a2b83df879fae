"""Stage 1, ingest: raw dump files -> `posts` (+ `ingest_rejects`, `source_files`).

Only posts of configured subreddits are stored (the rest are counted): a monthly dump holds
all of Reddit, a release needs 17 subreddits.

A file is identified by its sha256, so a re-run skips it and a re-scrape adds only new files;
a post id seen before (same-id duplicate line, or overlapping dumps) is kept once.
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
STAGE, VERSION = "ingest", "1"
BATCH = 5_000


def find_files(raw_dir: Path, patterns: list[str]) -> list[Path]:
    found = {p.resolve() for pattern in patterns for p in raw_dir.glob(pattern) if p.is_file()}
    return sorted(found)


def run(ctx: RunContext) -> StageReport:
    s, store = ctx.settings, ctx.store
    report = start_report(ctx, STAGE, VERSION, "source", "categories")
    prov = ctx.provenance(STAGE, VERSION, report.config_hash)
    files = find_files(s.source.raw_dir, s.source.patterns)
    if not s.source.raw_dir.is_dir():
        log.warning("raw_dir %s does not exist", s.source.raw_dir)
        report.notes.append(f"raw_dir {s.source.raw_dir} does not exist")
    elif not files:
        report.notes.append(f"no input files under {s.source.raw_dir} ({s.source.patterns})")
    # A file counts as read for these settings only: adding a subreddit re-reads old dumps.
    done = {
        row["sha256"]: row["lines"]
        for row in store.query(
            "SELECT sha256, lines FROM source_files WHERE settings_hash = ?", [report.config_hash]
        )
    }
    for path in files:
        sha = file_sha256(path)
        if sha in done:
            report.skipped += done[sha]
            report.inputs += done[sha]
            continue
        name = str(path.relative_to(s.source.raw_dir.resolve()))
        lines, posts_new, rejects = ingest_file(ctx, path, sha, name, prov, report)
        store.insert("ingest_rejects", rejects, prov)
        # Written last: a run killed mid-file re-reads the file and only adds missing posts.
        store.insert(
            "source_files",
            [
                SourceFile(
                    sha256=sha,
                    settings_hash=report.config_hash,
                    path=name,
                    lines=lines,
                    posts=posts_new,
                    rejects=len(rejects),
                )
            ],
            prov,
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
                post = to_post(obj, name, line_no, categories)
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
    known = store_ids(ctx, batch)
    fresh = [p for p in batch if p.post_id not in known]
    report.drop("duplicate_id", len(batch) - len(fresh))
    return ctx.store.insert("posts", fresh, prov)


def store_ids(ctx: RunContext, batch: list[Post]) -> set[str]:
    """Ids of this batch already in the store (from an earlier file or an interrupted run)."""
    if not batch:
        return set()
    ids = [p.post_id for p in batch]
    rows = ctx.store.con.execute(
        "SELECT post_id FROM posts WHERE post_id IN (SELECT unnest(?))", [ids]
    ).fetchall()
    return {r[0] for r in rows}
