"""Stage 2, rule pre-filter: `posts` -> `prefilter`, one verdict per post with a reason.

Cheap rules that run on every post, so the expensive stages only see plausible scenarios. A
verdict is reused while the post's content and the rules (thresholds, category list) are
unchanged; a changed threshold re-decides every post, at tens of thousands per second.
"""

from __future__ import annotations

from pipeline.context import RunContext, start_report
from pipeline.settings import PrefilterSettings
from pipeline.text import english_ratio, post_text, words
from schemas import FilterDecision, Post
from schemas.run import StageReport

STAGE, VERSION = "prefilter", "2"
BATCH = 10_000


def decide(post: Post, category: str | None, rules: PrefilterSettings) -> FilterDecision:
    def verdict(keep: bool, reason: str | None = None, detail: str | None = None):
        return FilterDecision(
            post_id=post.post_id, category=category, keep=keep, reason=reason, detail=detail
        )

    body = post.selftext.strip()
    if category is None:
        return verdict(False, "subreddit_not_configured", post.subreddit)
    if body == "[removed]":
        return verdict(False, "removed")
    if body == "[deleted]":
        return verdict(False, "deleted")
    if rules.drop_stickied and post.stickied:
        return verdict(False, "stickied")
    if post.over_18 and not rules.allow_nsfw:
        return verdict(False, "nsfw")
    text = post_text(post.title, body)
    if len(text) > rules.max_chars:
        return verdict(False, "too_long", f"{len(text)} chars")
    n_words = len(words(text))
    if n_words < rules.min_words:
        return verdict(False, "too_short", f"{n_words} words")
    ratio = english_ratio(text)
    if ratio < rules.min_english_ratio:
        return verdict(False, "non_english", f"english ratio {ratio:.2f}")
    return verdict(True)


def run(ctx: RunContext) -> StageReport:
    s, store = ctx.settings, ctx.store
    report = start_report(ctx, STAGE, VERSION, "prefilter", "categories")
    prov = ctx.provenance(report)
    categories = s.subreddit_categories()
    current = "f._signature = ? AND f._inputs = posts.content_sha"
    report.skipped = store.scalar(
        f"SELECT count(*) FROM prefilter f JOIN posts USING (post_id) WHERE {current}",
        [report.signature],
    )
    while True:  # in batches: a month of Reddit does not fit in memory
        batch = store.load(
            Post,
            where="post_id NOT IN (SELECT f.post_id FROM prefilter f JOIN posts "
            f"USING (post_id) WHERE {current})",
            params=[report.signature],
            order=f"created_utc, post_id LIMIT {BATCH}",
        )
        if not batch:
            break
        decisions = [decide(p, categories.get(p.subreddit.lower()), s.prefilter) for p in batch]
        store.put("prefilter", decisions, prov, [p.content_sha for p in batch])
        report.tally([(d.keep, d.reason) for d in decisions])
    report.removed = store.delete("prefilter", "post_id NOT IN (SELECT post_id FROM posts)")
    report.inputs = report.processed + report.skipped
    return report
