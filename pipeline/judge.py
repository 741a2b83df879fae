"""Stage 4, judge panel: deduplicated posts -> `judge_votes`, `judge_panel`.

Two judges answer "is this a personal decision with several defensible answers and enough
context?"; both yes keeps, both no drops, a split goes to the tiebreaker. Judging is the first
costly stage, so posts are judged per category in seeded random order and only until
`per_category * oversample` are accepted: cost follows the release size, not the dump size.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict

from pipeline.context import RunContext, start_report
from pipeline.llm.prompts import PROMPT_VERSION, judge_messages
from schemas import JudgeAnswer, JudgeVote, PanelDecision, Post
from schemas.run import StageReport

STAGE, VERSION = "judge", f"1+{PROMPT_VERSION}"


def seeded_order(seed: int, key: str) -> str:
    """A stable pseudo-random sort key: the same seed gives the same order on every machine."""
    return hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()


def _vote(ctx: RunContext, post: Post, model: str, role: str) -> JudgeVote:
    request = ctx.llm.request(
        "judge",
        model,
        judge_messages(post.title, post.selftext),
        {"title": post.title, "text": post.selftext},
    )
    answer = ctx.llm.ask(request, item_key=post.post_id)
    assert answer is None or isinstance(answer, JudgeAnswer)
    return JudgeVote(
        post_id=post.post_id,
        model=model,
        role=role,
        is_decision=None if answer is None else answer.is_decision,
        reason="no valid answer" if answer is None else answer.reason[:300],
        request_id=request.request_id,
    )


def judge_post(ctx: RunContext, post: Post) -> tuple[list[JudgeVote], PanelDecision | None]:
    """The panel's votes and decision; no decision (None) if a model gave no valid answer."""
    judges, tiebreaker = ctx.settings.judge_models()
    votes = [_vote(ctx, post, m, "judge") for m in judges]
    if any(v.is_decision is None for v in votes):
        return votes, None
    keep, used = bool(votes[0].is_decision), False
    if votes[0].is_decision != votes[1].is_decision:
        tie = _vote(ctx, post, tiebreaker, "tiebreaker")
        votes.append(tie)
        if tie.is_decision is None:
            return votes, None
        keep, used = bool(tie.is_decision), True
    reason = ("tiebreak_" if used else "") + ("accepted" if keep else "rejected")
    decision = PanelDecision(
        post_id=post.post_id,
        category=post.category or "",
        keep=keep,
        votes=[f"{v.model}={'yes' if v.is_decision else 'no'}" for v in votes],
        tiebreak_used=used,
        reason=reason,
    )
    return votes, decision


def run(ctx: RunContext) -> StageReport:
    s, store = ctx.settings, ctx.store
    report = start_report(ctx, STAGE, VERSION, "judge", "llm", "seed")
    prov = ctx.provenance(STAGE, VERSION, report.config_hash)
    report.skipped = store.count("judge_panel")
    accepted: dict[str, int] = defaultdict(int)
    for row in store.query(
        "SELECT category, count(*) AS n FROM judge_panel WHERE keep GROUP BY category"
    ):
        accepted[row["category"]] = row["n"]
    target = math.ceil(s.sampling.per_category * s.judge.oversample)
    # Only ids here; a post's text is loaded when (and if) it is judged.
    by_category: dict[str, list[str]] = defaultdict(list)
    for row in store.query(
        "SELECT post_id, category FROM posts WHERE category IS NOT NULL "
        "AND post_id IN (SELECT post_id FROM dedup WHERE keep) "
        "AND post_id NOT IN (SELECT post_id FROM judge_panel)"
    ):
        by_category[row["category"]].append(row["post_id"])
    deferred = 0
    before = ctx.llm.snapshot()
    for category in sorted(by_category):
        ids = sorted(by_category[category], key=lambda i: seeded_order(s.seed, i))
        for n, post_id in enumerate(ids):
            if accepted[category] >= target:
                deferred += len(ids) - n
                break
            (post,) = store.load(Post, where="post_id = ?", params=[post_id])
            votes, decision = judge_post(ctx, post)
            store.insert("judge_votes", votes, prov)
            report.processed += 1
            if decision is None:
                report.drop("judge_failed")  # no panel row: retried on the next run
                continue
            store.insert("judge_panel", [decision], prov)
            if decision.keep:
                accepted[category] += 1
                report.outputs += 1
            else:
                report.drop(decision.reason)
    report.inputs = report.processed + report.skipped
    if deferred:
        report.notes.append(f"{deferred} posts not judged: category quotas ({target}) met")
    report.notes += ctx.llm.notes(since=before)
    return report
