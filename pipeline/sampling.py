"""Stage 5, sampling: accepted `judge_panel` posts -> `scenarios`, balanced per category.

Within a category, subreddits take turns (round-robin) and each subreddit's posts come in
seeded order, so the sample is stratified and reproducible. Existing scenarios are never
resampled; a category short of its quota is topped up when new posts arrive.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import zip_longest

from pipeline.context import RunContext, start_report
from pipeline.judge import seeded_order
from schemas import Post, Scenario
from schemas.run import StageReport

STAGE, VERSION = "sample", "1"


def scenario_id(post_id: str) -> str:
    return f"valact-{post_id}"


def stratified(posts: list[Post], seed: int) -> list[Post]:
    """Round-robin over subreddits (in seeded order), each subreddit in seeded order."""
    groups: dict[str, list[Post]] = defaultdict(list)
    for p in posts:
        groups[p.subreddit.lower()].append(p)
    lanes = [
        sorted(groups[sub], key=lambda p: seeded_order(seed, p.post_id))
        for sub in sorted(groups, key=lambda sub: seeded_order(seed, sub))
    ]
    return [p for turn in zip_longest(*lanes) for p in turn if p is not None]


def run(ctx: RunContext) -> StageReport:
    s, store = ctx.settings, ctx.store
    report = start_report(ctx, STAGE, VERSION, "sampling", "categories", "seed")
    prov = ctx.provenance(STAGE, VERSION, report.config_hash)
    have: dict[str, int] = defaultdict(int)
    for row in store.query("SELECT category, count(*) AS n FROM scenarios GROUP BY category"):
        have[row["category"]] = row["n"]
    report.skipped = sum(have.values())
    pool = store.load(
        Post,
        where="post_id IN (SELECT post_id FROM judge_panel WHERE keep) "
        "AND post_id NOT IN (SELECT post_id FROM scenarios)",
    )
    for category in s.categories:
        need = s.sampling.per_category - have[category.name]
        if need <= 0:
            continue
        candidates = [p for p in pool if p.category == category.name]
        chosen = stratified(candidates, s.seed)[:need]
        rows = [
            Scenario(
                scenario_id=scenario_id(p.post_id),
                post_id=p.post_id,
                category=category.name,
                subreddit=p.subreddit,
                title=p.title,
                text=p.selftext,
                created_utc=p.created_utc,
                permalink=p.permalink,
                sample_rank=have[category.name] + i,
            )
            for i, p in enumerate(chosen)
        ]
        store.insert("scenarios", rows, prov)
        report.processed += len(rows)
        if len(rows) < need:
            report.notes.append(
                f"category {category.name}: {have[category.name] + len(rows)} of "
                f"{s.sampling.per_category} scenarios (not enough accepted posts)"
            )
    report.outputs = report.processed
    report.inputs = report.processed + report.skipped
    return report
