"""Stage 2, rule pre-filter: `posts` -> `prefilter`, one verdict per post with a reason.

Cheap rules that run on every post, so the expensive stages only see plausible scenarios.
"""

from __future__ import annotations

from pipeline.context import RunContext, start_report
from pipeline.settings import PrefilterSettings
from pipeline.text import english_ratio, post_text, words
from schemas import FilterDecision, Post
from schemas.run import StageReport

STAGE, VERSION = "prefilter", "1"
BATCH = 10_000


def decide(post: Post, rules: PrefilterSettings) -> FilterDecision:
    def drop(reason: str, detail: str | None = None) -> FilterDecision:
        return FilterDecision(post_id=post.post_id, keep=False, reason=reason, detail=detail)

    body = post.selftext.strip()
    if post.category is None:
        return drop("subreddit_not_configured", post.subreddit)
    if body == "[removed]":
        return drop("removed")
    if body == "[deleted]":
        return drop("deleted")
    if rules.drop_stickied and post.stickied:
        return drop("stickied")
    if post.over_18 and not rules.allow_nsfw:
        return drop("nsfw")
    text = post_text(post.title, body)
    if len(text) > rules.max_chars:
        return drop("too_long", f"{len(text)} chars")
    n_words = len(words(text))
    if n_words < rules.min_words:
        return drop("too_short", f"{n_words} words")
    ratio = english_ratio(text)
    if ratio < rules.min_english_ratio:
        return drop("non_english", f"english ratio {ratio:.2f}")
    return FilterDecision(post_id=post.post_id, keep=True, reason=None, detail=None)


def run(ctx: RunContext) -> StageReport:
    report = start_report(ctx, STAGE, VERSION, "prefilter", "categories")
    prov = ctx.provenance(STAGE, VERSION, report.config_hash)
    store = ctx.store
    report.skipped = store.count("prefilter")
    while True:  # in batches: a month of Reddit does not fit in memory
        batch = store.load(
            Post,
            where="post_id NOT IN (SELECT post_id FROM prefilter)",
            order=f"created_utc, post_id LIMIT {BATCH}",
        )
        if not batch:
            break
        decisions = [decide(p, ctx.settings.prefilter) for p in batch]
        store.insert("prefilter", decisions, prov)
        report.tally([(d.keep, d.reason) for d in decisions])
    report.inputs = report.processed + report.skipped
    return report
