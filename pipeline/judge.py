"""Stage 4, judge panel: deduplicated posts -> `judge_votes`, `judge_panel`.

Two judges answer "is this a personal decision with several defensible answers and enough
context?"; both yes keeps, both no drops, a split goes to the tiebreaker. Judging is the first
costly stage, so each category is walked in the sampling order (`pipeline.selection`) only
until `per_category * oversample` posts are accepted: cost follows the release size, not the
dump size, and the sample stage finds every post it needs already judged.

A stored panel decision is reused while the post, the judge models, the prompt and the
sampling settings are unchanged.
"""

from __future__ import annotations

import math
from collections import Counter

from pipeline.context import SAMPLING, RunContext, start_report
from pipeline.llm.prompts import judge_messages
from pipeline.progress import Advance
from pipeline.selection import lanes, take_turns
from pipeline.settings import Settings
from schemas import JudgeAnswer, JudgeVote, LLMRequest, PanelDecision, Post
from schemas.run import StageReport

STAGE, VERSION = "judge", "2"


def _vote(ctx: RunContext, post: Post, model: str, role: str) -> JudgeVote:
    request = _request(ctx, post, model)
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
        keep=keep,
        votes=[f"{v.model}={'yes' if v.is_decision else 'no'}" for v in votes],
        tiebreak_used=used,
        reason=reason,
    )
    return votes, decision


def _request(ctx: RunContext, post: Post, model: str) -> LLMRequest:
    return ctx.llm.request(
        "judge",
        model,
        judge_messages(post.title, post.selftext, ctx.settings.pii),
        {"title": post.title, "text": post.selftext},
    )


def prefetch_votes(ctx: RunContext, posts: list[Post], progress: Advance | None = None) -> None:
    """Ask both judges about the posts concurrently, then the tiebreaker where they split;
    the answers land in the cache, where `judge_post` finds them."""
    judges, tiebreaker = ctx.settings.judge_models()
    pairs = [(post, m) for post in posts for m in judges]
    answers = ctx.llm.ask_many(
        [(_request(ctx, p, m), p.post_id, None) for p, m in pairs], progress=progress
    )
    votes: dict[str, list[bool | None]] = {}
    for (post, _), answer in zip(pairs, answers, strict=True):
        votes.setdefault(post.post_id, []).append(
            None if not isinstance(answer, JudgeAnswer) else answer.is_decision
        )
    split = [p for p in posts if None not in votes[p.post_id] and len(set(votes[p.post_id])) > 1]
    ctx.llm.ask_many([(_request(ctx, p, tiebreaker), p.post_id, None) for p in split])


def candidates(ctx: RunContext) -> dict[str, list[tuple[str, str, str]]]:
    """Category -> (post_id, subreddit, content_sha) of every post that passed dedup."""
    out: dict[str, list[tuple[str, str, str]]] = {c.name: [] for c in ctx.settings.categories}
    for post_id, category, subreddit, sha in ctx.store.con.execute(
        "SELECT p.post_id, f.category, p.subreddit, p.content_sha FROM posts p "
        "JOIN prefilter f USING (post_id) JOIN dedup d USING (post_id) "
        "WHERE d.keep AND f.category IS NOT NULL ORDER BY p.post_id"
    ).fetchall():
        out.setdefault(category, []).append((post_id, subreddit, sha))
    return out


def run(ctx: RunContext) -> StageReport:
    s, store = ctx.settings, ctx.store
    judges, tiebreaker = s.judge_models()
    models = [*judges, tiebreaker]
    report = start_report(
        ctx,
        STAGE,
        VERSION,
        *SAMPLING,
        extra=(judges, tiebreaker, [ctx.llm.prompt_version("judge", m) for m in models]),
    )
    prov = ctx.provenance(report)
    pool = candidates(ctx)
    sha = {pid: h for posts in pool.values() for pid, _, h in posts}
    stored = store.stored("judge_panel")
    decided = {
        r["post_id"]: r["keep"]
        for r in store.query("SELECT post_id, keep FROM judge_panel")
        if stored[r["post_id"]] == (report.signature, sha.get(r["post_id"]))
    }
    stale = set(stored) - set(decided)
    store.delete_keys("judge_panel", stale)
    store.delete("judge_votes", "post_id IN (SELECT unnest(?))", [sorted(stale)])
    report.removed = len(stale)
    target = math.ceil(s.sampling.per_category * s.judge.oversample)
    before = ctx.llm.snapshot()
    deferred = 0

    def accepted(post_id: str) -> bool:
        if post_id in decided:
            report.skipped += 1
            return decided[post_id]
        (post,) = store.load(Post, where="post_id = ?", params=[post_id])
        votes, decision = judge_post(ctx, post)
        store.delete("judge_votes", "post_id = ?", [post_id])  # a success supersedes a failure
        store.put("judge_votes", votes, prov, post.content_sha)
        report.processed += 1
        if decision is None:
            report.drop("judge_failed")  # no panel row: asked again on the next run
            return False
        store.put("judge_panel", [decision], prov, post.content_sha)
        decided[post_id] = decision.keep
        if decision.keep:
            report.outputs += 1
        else:
            report.drop(decision.reason)
        return decision.keep

    prefetched: set[str] = set()

    def ahead(post_ids: list[str]) -> None:
        """When the walk reaches a post not yet judged, ask for it and the posts it may reach
        next in one concurrent batch; the walk then reads those answers from the cache."""
        if not post_ids or post_ids[0] in decided or post_ids[0] in prefetched:
            return
        todo = [p for p in post_ids if p not in decided and p not in prefetched]
        prefetched.update(todo)
        posts = store.load(Post, where="post_id IN (SELECT unnest(?))", params=[todo])
        prefetch_votes(ctx, posts, advance)

    # Offline judges answer in microseconds: reading ahead would only judge posts not needed.
    window = judge_window(s)
    if any(
        (name := s.llm.endpoint_name(m)) and s.llm.limits(name).batch for m in judges
    ):  # a Batch API round trip takes minutes to hours: a wave per quota, not per slot
        window = max(window, target)
    lookahead = None if s.offline else ahead
    # Requests for the posts the quotas are likely to need (the walk stops when they are met).
    likely = sum(min(len(p), 2 * target) for p in pool.values()) * len(s.judge_models()[0])
    with ctx.progress.track("judge", likely) as advance:
        for category in sorted(pool):
            ranked = lanes(((pid, sub) for pid, sub, _ in pool[category]), s.seed)
            _, looked = take_turns(ranked, accepted, target, ahead=lookahead, window=window)
            deferred += len(pool[category]) - looked
    report.inputs = report.processed + report.skipped
    if deferred:
        report.notes.append(f"{deferred} posts not judged: category quotas ({target}) met")
    report.notes += ctx.llm.notes(since=before)
    return report


def judge_window(s: Settings) -> int:
    """Posts per wave: enough to keep the judges' endpoints busy (each post asks every judge,
    so an endpoint serving both takes two requests a post)."""
    if s.offline:
        return 1
    judges, _ = s.judge_models()
    share = Counter(s.llm.endpoint_name(m) for m in judges)
    return max(1, min(s.llm.limits(name).max_in_flight // n for name, n in share.items() if name))
