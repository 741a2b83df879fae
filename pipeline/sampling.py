"""Stage 5, sampling: accepted `judge_panel` posts (not near duplicates) -> `scenarios`,
balanced per category.

Within a category, subreddits take turns and each subreddit's posts come in seeded hash order
(`pipeline.selection`), the order the judge walked. The selection is recomputed every run (it
is cheap) and a stored scenario is kept only while it is still selected with the same content
(a post whose scenario the value-check gate dropped is passed over, `pipeline.gate`):
raising `per_category` keeps the first scenarios and adds more, lowering it gives back the same
first ones, and posts from a re-scrape never reorder the posts already ranked.
"""

from __future__ import annotations

from pipeline.context import RunContext, start_report
from pipeline.gate import rejected_posts
from pipeline.judge import candidates
from pipeline.reuse import digest, plan
from pipeline.selection import lanes, take_turns
from schemas import Post, Scenario
from schemas.run import StageReport

STAGE, VERSION = "sample", "2"


def scenario_id(post_id: str) -> str:
    return f"valact-{post_id}"


def run(ctx: RunContext) -> StageReport:
    s, store = ctx.settings, ctx.store
    report = start_report(ctx, STAGE, VERSION, "seed")  # a row is its own content: see run()
    prov = ctx.provenance(report)
    # Accepted: judged so, and not a near duplicate where the judge's walk reached it.
    decided = {
        r["post_id"]: r["keep"]
        for r in store.query(
            "SELECT j.post_id, j.keep AND coalesce(n.keep, false) AS keep "
            "FROM judge_panel j LEFT JOIN near_dup n USING (post_id)"
        )
    }
    # Posts whose scenario the value-check gate dropped (while unchanged): the next one instead.
    dropped = rejected_posts(ctx)
    rows: dict[str, Scenario] = {}
    skipped = 0
    for category, posts in sorted(candidates(ctx).items()):
        sha = {pid: h for pid, _, h in posts}
        gated = {pid for pid in sha if dropped.get(pid) == sha[pid]}
        skipped += sum(bool(decided.get(pid)) for pid in gated)
        ranked = lanes(((pid, sub) for pid, sub, _ in posts), s.seed)
        chosen, _ = take_turns(
            ranked,
            lambda pid: bool(decided.get(pid)) and pid not in gated,  # noqa: B023
            s.sampling.per_category,
        )
        by_id = {
            p.post_id: p
            for p in store.load(Post, where="post_id IN (SELECT unnest(?))", params=[chosen])
        }
        for rank, post_id in enumerate(chosen):
            p = by_id[post_id]
            rows[scenario_id(post_id)] = Scenario(
                scenario_id=scenario_id(post_id),
                post_id=post_id,
                category=category,
                subreddit=p.subreddit,
                title=p.title,
                text=p.selftext,
                created_utc=p.created_utc,
                permalink=p.permalink,
                sample_rank=rank,
            )
        if len(chosen) < s.sampling.per_category:
            report.notes.append(
                f"category {category}: {len(chosen)} of {s.sampling.per_category} scenarios "
                "(not enough accepted posts)"
            )
    if skipped:
        report.counters["gate_dropped_skipped"] = skipped
    wanted = {sid: digest(row.model_dump(mode="json")) for sid, row in rows.items()}
    todo = plan(wanted, store.stored("scenarios"), report.signature)
    store.put("scenarios", [rows[k] for k in todo.todo], prov, [wanted[k] for k in todo.todo])
    report.removed = store.delete_keys("scenarios", todo.stale)
    report.inputs = len(rows)
    report.processed = report.outputs = len(todo.todo)
    report.skipped = len(todo.reuse)
    return report
