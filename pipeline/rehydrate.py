"""`valact rehydrate VERSION`: a masked release's scenario texts put back, from dumps (the
configured raw folder) or from the Reddit API, each checked against the `text_sha256` the
release holds.

A post is normalised as ingest does it (`pipeline.sources.dumps`), then scrubbed with the
release's own personal-information settings (from its manifest), so the text is exactly what a
full release would have held. A text whose hash differs (the post was edited since) is not
filled in, nor is a post that is gone (deleted, removed, or found nowhere): each is listed in
the report with its reason. The rehydrated copy is written next to the releases
(`<processed>/rehydrated/<version>/`), never over the release itself.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.errors import PipelineError
from pipeline.pii import scrub
from pipeline.release import text_sha
from pipeline.settings import PIISettings
from pipeline.sources.dumps import RecordError, Selection, parse_line, read_lines, to_post
from pipeline.text import post_text

if TYPE_CHECKING:
    from pipeline.settings import Settings

Source = Literal["dumps", "reddit"]


@dataclass
class RehydrateReport:
    version: str
    source: str
    filled: int = 0
    mismatched: list[str] = field(default_factory=list)  # post ids: edited since
    gone: dict[str, str] = field(default_factory=dict)  # post id -> deleted | removed | not found
    out: str = ""

    def summary(self) -> str:
        gone = ", ".join(f"{r} {n}" for r, n in sorted(Counter(self.gone.values()).items()))
        return (
            f"rehydrated {self.filled} scenario texts of release {self.version} from "
            f"{self.source}; {len(self.mismatched)} changed since (hash differs), "
            f"{len(self.gone)} gone ({gone or 'none'}): not filled"
        )


def _gone(record: dict[str, Any]) -> str | None:
    """Why a post's text is no longer there, if it is not."""
    if record.get("removed_by_category") or record.get("selftext") == "[removed]":
        return "removed"
    if record.get("selftext") == "[deleted]":
        return "deleted"
    return None


def posts_from_dumps(settings: Settings, ids: set[str], subreddits: set[str]) -> dict[str, Any]:
    """post id -> (title, selftext) or a gone reason, from the raw folder's dump files (the
    first copy in path order, as ingest keeps)."""
    from pipeline.ingest import list_inputs

    found: dict[str, Any] = {}
    selection = Selection(subreddits)
    for item in list_inputs(settings):
        if item.table is not None or item.refused is not None:  # dumps only
            continue
        try:
            for line_no, raw in read_lines(item.path, settings.source.max_line_bytes, selection):
                try:
                    row = parse_line(raw or b"", item.name, line_no, selection)
                except RecordError:
                    continue
                if isinstance(row, dict) and row["post_id"] in ids:
                    found.setdefault(
                        row["post_id"], row["removed"] or (row["title"], row["selftext"])
                    )
        except RecordError:  # a corrupt or unreadable file: what came before it counts
            continue
    return found


def posts_from_reddit(settings: Settings, ids: set[str]) -> dict[str, Any]:
    """post id -> (title, selftext) or a gone reason, from Reddit's `/api/info` (100 a call)."""
    from pipeline.sources.reddit import FetchStats, ListingStopped, close, connect, fetch_page

    rs = settings.reddit
    if rs.client_id is None and rs.site is None:
        raise PipelineError(
            "rehydrating from Reddit needs credentials: set VALACT_REDDIT__CLIENT_ID and "
            "VALACT_REDDIT__CLIENT_SECRET (or reddit.site), or use --from dumps"
        )
    reddit = connect(rs)
    found: dict[str, Any] = {}
    stats = FetchStats()
    try:
        ordered = sorted(ids)
        for start in range(0, len(ordered), 100):
            names = ",".join(f"t3_{i}" for i in ordered[start : start + 100])
            try:
                page = fetch_page(reddit, rs, "/api/info", {"id": names, "limit": 100}, stats)
            except ListingStopped as err:
                raise PipelineError(f"Reddit stopped answering ({err}): try again later") from None
            for item in page.items:
                if isinstance(item, RecordError):
                    continue
                gone = _gone(item)
                try:
                    post = to_post(item, "reddit:info", 0)
                except RecordError:
                    continue
                found[post.post_id] = gone or (post.title, post.selftext)
    finally:
        close(reddit)
    return found


def rehydrate(settings: Settings, version: str, source: Source = "dumps") -> RehydrateReport:
    release = settings.releases_dir / version
    if release.resolve().parent != settings.releases_dir.resolve() or version.startswith("."):
        raise PipelineError(f"{version!r} is not a release version like 1.2.0")
    try:
        manifest = json.loads((release / "manifest.json").read_text())
    except (OSError, json.JSONDecodeError):
        raise PipelineError(
            f"no complete local release {version} in {settings.releases_dir}"
        ) from None
    if manifest.get("text_policy") != "masked":
        raise PipelineError(f"release {version} is not masked: its texts are already there")
    pii = PIISettings(**(manifest.get("settings", {}).get("pii") or {}))
    scenarios = _read(release / "scenarios")
    ids = {r["post_id"] for r in scenarios}
    subreddits = {r["subreddit"] for r in scenarios}
    posts = (
        posts_from_reddit(settings, ids)
        if source == "reddit"
        else posts_from_dumps(settings, ids, subreddits)
    )
    report = RehydrateReport(version=version, source=source)
    texts: dict[str, tuple[str, str]] = {}
    for r in scenarios:
        got = posts.get(r["post_id"], "not found")
        if isinstance(got, str):
            report.gone[r["post_id"]] = got
            continue
        title, text = scrub(got[0], pii), scrub(got[1], pii)
        if text_sha(title, text) != r["text_sha256"]:
            report.mismatched.append(r["post_id"])
            continue
        texts[r["scenario_id"]] = (title, text)
        r["title"], r["text"] = title, text
        report.filled += 1
    out = settings.processed_dir / "rehydrated" / version
    tmp = out.with_name(f".{version}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(release, tmp)
    _write(tmp / "scenarios", scenarios)
    questions = _read(release / "questions")
    for q in questions:
        if q["scenario_id"] in texts:
            q["scenario"] = post_text(*texts[q["scenario_id"]])
    _write(tmp / "questions", questions)
    report.out = str(out)
    (tmp / "rehydrated.json").write_text(
        json.dumps(
            {
                "source": source,
                "filled": report.filled,
                "changed_since": sorted(report.mismatched),
                "gone": dict(sorted(report.gone.items())),
            },
            indent=2,
        )
        + "\n"
    )
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return report


def _read(folder: Path) -> list[dict[str, Any]]:
    paths = sorted(folder.glob("*.parquet"))
    return [row for path in paths for row in pq.read_table(path).to_pylist()]


def _write(folder: Path, rows: list[dict[str, Any]]) -> None:
    """Rows back into the folder's one Parquet file, with its schema (and HF features)."""
    (path,) = sorted(folder.glob("*.parquet"))
    schema = pq.read_schema(path)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
