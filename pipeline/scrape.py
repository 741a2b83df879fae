"""Stage 0, scrape: live Reddit (praw) -> `posts` (+ `scrape_state`, `ingest_rejects`).

For every configured subreddit (all categories) and every listing in `reddit.listings`
(`new`; `top` over `reddit.time_filter`), up to `reddit.limit` posts, 100 a page. Does nothing
when Reddit is not configured (`reddit.client_id` + `reddit.client_secret`, or `reddit.site`),
so offline builds are unchanged.

Each listing child goes through `pipeline.sources.dumps.to_post`, the dumps' normalizer, with
`source_file` `reddit-api:r/<sub>/<listing>` and its position in the listing as the line. Posts
are written page by page, so a run that stops keeps what it fetched. A post id not stored yet is
inserted; one stored already (from a dump or an earlier scrape) gets only its `score`,
`num_comments` and `removed` updated: its text, title, source and `content_sha` stay those of
the first copy.

`new` is watermarked (`scrape_state`): a re-scrape stops paginating at the first page holding a
post at or older than the newest one a complete earlier pass reached, so it costs about as many
pages as there are new posts. An interrupted pass leaves the mark alone (the next fetches the
gap). `top` cannot be cut that way (its order is by score), so it is fetched whole each time,
which is also what refreshes the scores and removals of older posts. Reddit ends a listing at
about 1,000 posts; a listing ending on a full page is noted as probably capped.

Failures (see `pipeline.sources.reddit`): a page is retried with backoff; one that is not JSON
is an `ingest_rejects` row (reason, URL, the body's start); a listing that cannot go on (retries
spent, a 403/404) is a note and the run goes on with the next; a rate-limit wait over
`reddit.max_wait_s` stops the scrape cleanly; refused credentials stop it with one line.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa

from pipeline.context import RunContext, start_report
from pipeline.sources.dumps import RecordError, to_post
from pipeline.store import Provenance, Store
from schemas import IngestReject, Post
from schemas.records import ScrapeState
from schemas.run import StageReport

if TYPE_CHECKING:  # praw is imported only when Reddit is configured (it is slow to import)
    import praw

    from pipeline.sources.reddit import FetchStats

log = logging.getLogger(__name__)
STAGE, VERSION = "scrape", "1"
# A listing that ended after this many posts reached Reddit's cap (about 1,000), whatever its
# last page held.
CAP_HINT = 900
_UPDATE = pa.schema(
    [
        ("post_id", pa.string()),
        ("score", pa.int64()),
        ("num_comments", pa.int64()),
        ("removed", pa.string()),
    ]
)


@dataclass
class Scraped:
    """One listing's scrape, for the report."""

    fetched: int = 0
    pages: int = 0
    new: int = 0
    updated: int = 0
    stopped: str = "end"
    detail: str = ""


def run(ctx: RunContext) -> StageReport:
    s = ctx.settings
    rs = s.reddit
    report = start_report(
        ctx, STAGE, VERSION, "reddit.listings", "reddit.time_filter", "reddit.limit"
    )
    if not rs.configured:
        report.notes.append(
            "reddit not configured (VALACT_REDDIT__CLIENT_ID and VALACT_REDDIT__CLIENT_SECRET, "
            "or reddit.site): nothing scraped"
        )
        return report
    from pipeline.sources import reddit as api

    prov = ctx.provenance(report)
    todo = [(sub, listing) for c in s.categories for sub in c.subreddits for listing in rs.listings]
    reddit = api.connect(rs)
    updated = 0
    try:
        for i, (sub, listing) in enumerate(todo):
            done = scrape_listing(ctx, reddit, sub, listing, report, prov)
            updated += done.updated
            if done.stopped == "rate_limited":
                rest = [f"r/{s_} {l_}" for s_, l_ in todo[i + 1 :]]
                if rest:
                    report.notes.append(f"rate limit: not scraped this run: {', '.join(rest)}")
                break
    finally:
        api.close(reddit)
    report.inputs = report.processed
    if updated:
        report.notes.append(
            f"{updated} stored posts updated (score, comments or removal; text kept)"
        )
    return report


def scrape_listing(
    ctx: RunContext,
    reddit: praw.Reddit,
    subreddit: str,
    listing: str,
    report: StageReport,
    prov: Provenance,
) -> Scraped:
    """Fetch one listing page by page, storing each page's posts; then its scrape state."""
    from pipeline.sources import reddit as api

    rs, store = ctx.settings.reddit, ctx.store
    source = api.source_name(subreddit, listing)
    key = (subreddit.lower(), listing)
    before = store.load(ScrapeState, "subreddit = ? AND listing = ?", [key[0], listing])
    state = before[0] if before else None
    mark = state.newest_created_utc if state is not None and listing == "new" else None
    categories = ctx.settings.subreddit_categories()
    store.delete("ingest_rejects", "source_file = ?", [source])  # the last scrape's
    stats = api.FetchStats()
    done = Scraped()
    newest: tuple[int, str] | None = None
    after: str | None = None
    last_full = False
    while True:
        if done.fetched >= rs.limit:
            done.stopped = "limit"
            break
        params: dict[str, str | int] = {"limit": min(api.PAGE_SIZE, rs.limit - done.fetched)}
        if listing == "top":
            params["t"] = rs.time_filter
        if after:
            params["after"] = after
        try:
            page = api.fetch_page(reddit, rs, f"r/{subreddit}/{listing}", params, stats)
        except api.ListingStopped as err:
            done.stopped, done.detail = err.reason, err.detail
            break
        done.pages += 1
        posts: list[Post] = []
        rejects: list[IngestReject] = []
        for line, item in enumerate(page.items, start=done.fetched + 1):
            try:
                if isinstance(item, RecordError):
                    raise item
                post = to_post(item, source, line)
            except RecordError as err:
                rejects.append(_reject(source, line, err, item))
                report.drop(err.reason)
                continue
            if post.subreddit.lower() not in categories:  # `r/all`-like listings
                report.drop("subreddit_not_configured")
                continue
            posts.append(post)
            if newest is None or (post.created_utc, post.post_id) > newest:
                newest = (post.created_utc, post.post_id)
        new, updated = upsert_posts(store, posts, prov)
        store.put("ingest_rejects", rejects, prov, source)
        done.fetched += len(page.items)
        done.new += new
        done.updated += updated
        report.processed += len(page.items)
        report.outputs += new
        if mark is not None and any(p.created_utc <= mark for p in posts):
            done.stopped = "watermark"
            break
        last_full = len(page.items) >= int(params["limit"])
        if not page.after or page.after == after or not page.items:
            done.stopped = "cap" if (last_full or done.fetched >= CAP_HINT) else "end"
            break
        after = page.after
    _store_bad_pages(store, source, stats, prov, report)
    complete = done.stopped in ("end", "cap", "watermark", "limit")
    old = (
        (state.newest_created_utc, state.newest_id or "")
        if state is not None and state.newest_created_utc is not None
        else None
    )
    mark_now = old
    if complete and newest is not None and (old is None or newest > old):
        mark_now = newest
    store.put(
        "scrape_state",
        [
            ScrapeState(
                subreddit=key[0],
                listing=listing,
                newest_created_utc=mark_now[0] if mark_now else None,
                newest_id=mark_now[1] if mark_now else None,
                last_run_id=ctx.run_id,
                fetched=done.fetched,
                new_posts=done.new,
                stopped=done.stopped,
            )
        ],
        prov,
        source,
    )
    note = _note(subreddit, listing, rs.time_filter, rs.limit, done, stats, mark is not None)
    report.notes.append(note)
    log.info("%s", note)
    return done


def upsert_posts(store: Store, posts: list[Post], prov: Provenance) -> tuple[int, int]:
    """Insert posts not stored yet; for stored ones update only score, num_comments and
    removed (the text and where it was first read stay). Returns (new, updated)."""
    latest: dict[str, Post] = {}
    for post in posts:  # a page may repeat an id; its last copy is the latest
        latest[post.post_id] = post
    if not latest:
        return 0, 0
    known = {
        r[0]: (r[1], r[2], r[3])
        for r in store.con.execute(
            "SELECT post_id, score, num_comments, removed FROM posts "
            "WHERE post_id IN (SELECT unnest(?))",
            [list(latest)],
        ).fetchall()
    }
    new = [p for p in latest.values() if p.post_id not in known]
    changed = [
        p
        for p in latest.values()
        if p.post_id in known and (p.score, p.num_comments, p.removed) != known[p.post_id]
    ]
    store.put("posts", new, prov, prov.signature, fresh=True)
    if changed:
        updates = pa.Table.from_pylist(  # noqa: F841 - referenced by name in the SQL
            [
                {
                    "post_id": p.post_id,
                    "score": p.score,
                    "num_comments": p.num_comments,
                    "removed": p.removed,
                }
                for p in changed
            ],
            schema=_UPDATE,
        )
        store.con.execute(
            "UPDATE posts SET score = u.score, num_comments = u.num_comments, "
            "removed = u.removed FROM updates u WHERE posts.post_id = u.post_id"
        )
    return len(new), len(changed)


def _reject(
    source: str, line: int, err: RecordError, item: dict[str, object] | RecordError
) -> IngestReject:
    snippet = "" if isinstance(item, RecordError) else json.dumps(item, default=str)[:200]
    return IngestReject(
        source_sha256=source,
        line_no=line,
        source_file=source,
        reason=err.reason,
        detail=err.detail.encode("utf-8", "replace").decode(),
        snippet=snippet.encode("utf-8", "replace").decode(),
    )


def _store_bad_pages(
    store: Store, source: str, stats: FetchStats, prov: Provenance, report: StageReport
) -> None:
    """A page that was not a JSON listing: a reject row per time it came (keyed apart from
    the post rows of the same listing), with the URL asked and the start of the body."""
    rows = [
        IngestReject(
            source_sha256=f"{source}:pages",
            line_no=i,
            source_file=source,
            reason=bad.reason,
            detail=f"{bad.url}: {bad.detail}"[:300],
            snippet=bad.snippet.encode("utf-8", "replace").decode(),
        )
        for i, bad in enumerate(stats.bad_pages, start=1)
    ]
    store.put("ingest_rejects", rows, prov, source)
    for bad in stats.bad_pages:
        report.drop(f"page_{bad.reason}")


def _note(
    subreddit: str,
    listing: str,
    time_filter: str,
    limit: int,
    done: Scraped,
    stats: FetchStats,
    watermarked: bool,
) -> str:
    name = f"r/{subreddit} {listing}" + (f" (t={time_filter})" if listing == "top" else "")
    pages = "page" if done.pages == 1 else "pages"
    text = (
        f"{name}: {done.fetched} fetched in {done.pages} {pages}, {done.new} new, "
        f"{done.updated} updated; "
    )
    short = watermarked and done.stopped in ("end", "cap", "limit")
    gap = " before the last run's newest post (posts in between were not fetched)"
    text += {
        "end": "end of the listing" + (gap if short else ""),
        "cap": f"the listing ended after {done.fetched} posts on a full page: Reddit ends "
        "listings at about 1,000 posts, older ones may be out of its reach"
        + (gap if short else ""),
        "watermark": "reached the last run's newest post",
        "limit": f"cap hit: reddit.limit ({limit} posts)" + (gap if short else ""),
    }.get(done.stopped, f"stopped ({done.stopped}): {done.detail}; what was fetched is kept")
    extra = []
    if stats.retries:
        extra.append(f"{stats.retries} {'retry' if stats.retries == 1 else 'retries'}")
    if stats.waited_s >= 0.5:
        extra.append(f"waited {stats.waited_s:.0f} s")
    if stats.bad_pages:
        n = len(stats.bad_pages)
        extra.append(f"{n} {'page' if n == 1 else 'pages'} not a JSON listing (in ingest_rejects)")
    return text + (f" ({', '.join(extra)})" if extra else "")
