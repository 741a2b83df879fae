"""Stage 4, the candidate walk: deduplicated posts -> `near_dup`, `judge_votes`, `judge_panel`
(+ cached `embeddings`).

The costly half of the funnel. Each category is walked in the sampling order
(`pipeline.selection`) only until `per_category * oversample` posts are accepted, so cost
follows the release size, not the pool: each post the walk reaches is first checked for near
duplicates (`pipeline.near_dup`: against the candidates reached before it in any category,
every scenario of every earlier release, and its MinHash neighbours in the pool, by embedding
and word-shingle Jaccard), then judged. Posts are embedded and judged in waves of the posts the
walk may reach next, and the walk itself stays one post at a time, so the outcome is that of a
one-at-a-time run.

Two judges answer "is this a personal decision with several defensible answers and enough
context?"; both yes keeps, both no drops, a split goes to the tiebreaker. A stored panel
decision is reused while the post, the judge models, the prompt and the sampling settings are
unchanged. Near-duplicate decisions are recomputed every run from cached vectors (cheap, and
they depend on the walk), and stored only when they changed.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np

from pipeline.context import SAMPLING, RunContext, start_report
from pipeline.gate import rejected_posts
from pipeline.llm.prompts import judge_messages
from pipeline.near_dup import (
    EmbedStats,
    Features,
    Walk,
    compared,
    released_scenarios,
    shingles,
    vectors_for,
)
from pipeline.progress import Advance
from pipeline.reuse import digest, plan
from pipeline.selection import lanes, take_turns
from pipeline.settings import Settings
from pipeline.store import Provenance
from schemas import (
    Embedding,
    JudgeAnswer,
    JudgeVote,
    LLMRequest,
    NearDupDecision,
    PanelDecision,
    Post,
)
from schemas.run import StageReport

STAGE, VERSION = "judge", "3"
# The near-duplicate check's own rows carry its own version and settings.
NEAR_DUP, NEAR_DUP_VERSION = "near_dup", "1"
NEAR_DUP_SETTINGS = (
    "dedup.near_dup",
    "dedup.near_dup_threshold",
    "dedup.jaccard_threshold",
    "dedup.pair_cosine",
    "dedup.pair_jaccard",
    "dedup.min_body_words",
    "dedup.shingle_words",
    "dedup.max_chars",
    "dedup.chunk_words",
    "dedup.reselect_released_posts",
)
FLUSH = 256  # posts judged between two writes of their votes and decisions
Answers = dict[tuple[str, str], Any]  # (post_id, model) -> the answer (None: no valid one)


def _vote(
    ctx: RunContext, post: Post, model: str, role: str, answers: Answers | None = None
) -> JudgeVote:
    request = _request(ctx, post, model)
    key = (post.post_id, model)
    if answers is not None and key in answers:
        answer = answers[key]
    else:
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


def judge_post(
    ctx: RunContext, post: Post, answers: Answers | None = None
) -> tuple[list[JudgeVote], PanelDecision | None]:
    """The panel's votes and decision; no decision (None) if a model gave no valid answer.
    `answers` holds answers asked ahead (`prefetch_votes`)."""
    judges, tiebreaker = ctx.settings.judge_models()
    votes = [_vote(ctx, post, m, "judge", answers) for m in judges]
    if any(v.is_decision is None for v in votes):
        return votes, None
    keep, used = bool(votes[0].is_decision), False
    if votes[0].is_decision != votes[1].is_decision:
        tie = _vote(ctx, post, tiebreaker, "tiebreaker", answers)
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


def prefetch_votes(ctx: RunContext, posts: list[Post], progress: Advance | None = None) -> Answers:
    """Ask both judges about the posts concurrently (offline ones in one go, their cache rows
    written in batches), then the tiebreaker where they split; `judge_post` reads the answers
    from what this returns."""
    judges, tiebreaker = ctx.settings.judge_models()
    pairs = [(post, m) for post in posts for m in judges]
    answers = ctx.llm.ask_many(
        [(_request(ctx, p, m), p.post_id, None) for p, m in pairs], progress=progress
    )
    out: Answers = {}
    votes: dict[str, list[bool | None]] = {}
    for (post, model), answer in zip(pairs, answers, strict=True):
        out[(post.post_id, model)] = answer
        votes.setdefault(post.post_id, []).append(
            None if not isinstance(answer, JudgeAnswer) else answer.is_decision
        )
    split = [p for p in posts if None not in votes[p.post_id] and len(set(votes[p.post_id])) > 1]
    ties = ctx.llm.ask_many([(_request(ctx, p, tiebreaker), p.post_id, None) for p in split])
    for post, answer in zip(split, ties, strict=True):
        out[(post.post_id, tiebreaker)] = answer
    return out


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


def near_dup_provenance(ctx: RunContext) -> Provenance:
    e = ctx.embedder
    signature = digest(
        NEAR_DUP,
        NEAR_DUP_VERSION,
        ctx.settings.pick(*NEAR_DUP_SETTINGS),
        # The screening vectors and margin: decisions are fp32's while the drift is below it.
        (e.name, e.screen_name, e.screen_margin) if ctx.settings.dedup.near_dup else None,
    )
    return Provenance(NEAR_DUP, NEAR_DUP_VERSION, signature, ctx.run_id)


class Funnel:
    """The near-duplicate side of the walk: loads and embeds the posts in waves, decides each
    post the walk reaches, and records the decisions."""

    def __init__(self, ctx: RunContext, prov: Provenance) -> None:
        s, store = ctx.settings, ctx.store
        self.ctx, self.d, self.prov = ctx, s.dedup, prov
        self.stats = EmbedStats()
        self.exact_stats = EmbedStats()  # decision vectors of the pairs near a threshold
        self.neighbours: dict[str, list[str]] = {
            r[0]: list(r[1])
            for r in store.con.execute(
                "SELECT post_id, neighbours FROM dedup WHERE keep AND len(neighbours) > 0"
            ).fetchall()
        }
        released, self.versions = released_scenarios(s.releases_dir, s.release.version, self.d)
        vectors = self._vectors([r.compared.text for r in released])
        self.walk = Walk(
            self.d,
            released,
            np.vstack(vectors) if vectors else np.zeros((0, 0), np.float32),
            s.dedup.reselect_released_posts,
            margin=ctx.embedder.screen_margin if self.d.near_dup else 0.0,
            exact=lambda texts: self._vectors(texts, exact=True),
        )
        self.decisions: dict[str, NearDupDecision] = {}

    def _vectors(self, texts: list[str], exact: bool = False) -> list[np.ndarray]:
        """Screening vectors (`Embedder.encode_screen`), or the decision ones (`encode`),
        each cached under its own model name. A chunk with a cached decision vector is
        screened with it (no drift at all): a store embedded before screening is not embedded
        again."""
        if not texts or not self.d.near_dup:
            return [np.zeros(1, np.float32) for _ in texts]
        ctx, store = self.ctx, self.ctx.store
        e = ctx.embedder
        model = e.name if exact else e.screen_name

        def cached(name: str, shas: list[str]) -> dict[str, np.ndarray]:
            return {
                r[0]: np.asarray(r[1], dtype=np.float32)
                for r in store.con.execute(
                    "SELECT text_sha, vector FROM embeddings WHERE model = ? "
                    "AND text_sha IN (SELECT unnest(?))",
                    [name, shas],
                ).fetchall()
            }

        def lookup(shas: list[str]) -> dict[str, np.ndarray]:
            found = cached(model, shas)
            if model != e.name and len(found) < len(shas):
                found |= cached(e.name, [h for h in shas if h not in found])
            return found

        def save(new: dict[str, np.ndarray]) -> None:
            rows = [Embedding(text_sha=k, model=model, vector=v.tolist()) for k, v in new.items()]
            store.put("embeddings", rows, self.prov, list(new))

        def encode(chunks: list[str]) -> np.ndarray:
            label = "near-duplicates: " + ("fp32 recheck" if exact else "embedding")
            with ctx.progress.track(label, len(chunks)) as advance:
                return (e.encode if exact else e.encode_screen)(chunks, advance)

        stats = self.exact_stats if exact else self.stats
        return vectors_for(texts, self.d, encode, lookup, save, stats)

    def prepare(self, post_ids: list[str]) -> None:
        """Load and embed these posts and their pool neighbours, in one embedding call."""
        todo = [p for p in post_ids if p not in self.walk.features]
        todo += [
            n for p in post_ids for n in self.neighbours.get(p, []) if n not in self.walk.features
        ]
        todo = list(dict.fromkeys(todo))
        if not todo:
            return
        posts = self.ctx.store.load(Post, where="post_id IN (SELECT unnest(?))", params=[todo])
        texts = [compared(p.title, p.selftext, self.d) for p in posts]
        vectors = self._vectors([c.text for c in texts])
        for p, c, v in zip(posts, texts, vectors, strict=True):
            self.walk.features[p.post_id] = Features(c, shingles(c.words, self.d.shingle_words), v)
        if self.d.near_dup:
            self.walk.prefetch([p for p in post_ids if p in self.walk.features], self.neighbours)

    def check(self, post_id: str) -> NearDupDecision:
        self.prepare([post_id])
        if self.d.near_dup:
            reason, match = self.walk.check(post_id, self.neighbours.get(post_id, []))
        else:
            reason, match = self.walk.check_released(post_id)
        decision = NearDupDecision(
            post_id=post_id,
            keep=reason is None,
            reason=reason,
            duplicate_of=match.other if reason and match else None,
            cosine=match.cosine if match else None,
            jaccard=match.jaccard if match else None,
        )
        if reason is None:
            self.walk.keep(post_id)
        self.decisions[post_id] = decision
        return decision

    def save(self) -> tuple[int, int]:
        """Store the decisions that changed, remove those of posts no longer reached; returns
        (written, removed)."""
        store = self.ctx.store
        wanted = {pid: digest(d.model_dump(mode="json")) for pid, d in self.decisions.items()}
        todo = plan(wanted, store.stored("near_dup"), self.prov.signature)
        store.put(
            "near_dup",
            [self.decisions[k] for k in todo.todo],
            self.prov,
            [wanted[k] for k in todo.todo],
        )
        return len(todo.todo), store.delete_keys("near_dup", todo.stale)

    def notes(self) -> list[str]:
        d = sum(not x.keep for x in self.decisions.values())
        out = [
            f"near-duplicate check: {len(self.decisions)} candidates reached, {d} dropped; "
            f"{self.stats.embedded_texts} texts embedded now ({self.stats.embedded_chunks} "
            f"chunks), {self.stats.texts - self.stats.embedded_texts} from the cache"
        ]
        if self.walk.screened:
            x = self.exact_stats
            out.append(
                f"screening vectors {self.ctx.embedder.screen_name}; fp32 vectors for "
                f"{x.texts} texts in pairs within {self.walk.margin} of the cosine floor or "
                f"MinHash neighbours ({x.embedded_texts} embedded now)"
            )
        if self.versions:
            out.append(
                f"compared with {len(self.walk.released)} scenarios of earlier releases "
                f"({', '.join(self.versions)})"
            )
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
    funnel = Funnel(ctx, near_dup_provenance(ctx))
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
    # Accepted posts whose scenario the value-check gate dropped fill no place: the walk goes
    # on past them (`pipeline.gate`), so a dropped scenario's place is refilled.
    gated = {pid for pid, h in rejected_posts(ctx).items() if sha.get(pid) == h}
    before = ctx.llm.snapshot()
    deferred = 0
    answers: Answers = {}
    votes_buf: list[JudgeVote] = []
    panel_buf: list[PanelDecision] = []
    duplicates: list[str] = []  # posts judged in an earlier run, now near duplicates

    def flush() -> None:
        """Write the votes and decisions of the posts judged since the last flush: a
        success supersedes a failure's votes."""
        if votes_buf:
            done = sorted({v.post_id for v in votes_buf})
            store.delete("judge_votes", "post_id IN (SELECT unnest(?))", [done])
            sha_of = {v.post_id: sha[v.post_id] for v in votes_buf}
            store.put("judge_votes", votes_buf, prov, [sha_of[v.post_id] for v in votes_buf])
        if panel_buf:
            store.put("judge_panel", panel_buf, prov, [sha[p.post_id] for p in panel_buf])
        votes_buf.clear()
        panel_buf.clear()

    walked = {"accepted": 0, "looked": 0}  # in the category being walked

    def accepted(post_id: str) -> bool:
        keep = _accepted(post_id)
        if keep and post_id in gated:
            report.drop("gate_dropped_before")
            keep = False
        walked["accepted"] += keep
        walked["looked"] += 1
        return keep

    def _accepted(post_id: str) -> bool:
        if not funnel.check(post_id).keep:
            report.drop(funnel.decisions[post_id].reason or "near_duplicate")
            if post_id in decided:
                duplicates.append(post_id)
                del decided[post_id]
            return False
        if post_id in decided:
            report.skipped += 1
            return decided[post_id]
        (post,) = store.load(Post, where="post_id = ?", params=[post_id])
        votes, decision = judge_post(ctx, post, answers)
        votes_buf.extend(votes)
        report.processed += 1
        if decision is not None:
            panel_buf.append(decision)
        if len(votes_buf) >= FLUSH * 2:
            flush()
        if decision is None:
            report.drop("judge_failed")  # no panel row: asked again on the next run
            return False
        decided[post_id] = decision.keep
        if decision.keep:
            report.outputs += 1
        else:
            report.drop(decision.reason)
        return decision.keep

    prefetched: set[str] = set()
    offline = s.offline
    judge_ahead = s.dedup.wave if offline else judge_window(s)
    if any(
        (name := s.llm.endpoint_name(m)) and s.llm.limits(name).batch for m in judges
    ):  # a Batch API round trip takes minutes to hours: a wave per quota, not per slot
        judge_ahead = max(judge_ahead, target)

    def ahead(post_ids: list[str]) -> None:
        """When the walk reaches a post not yet embedded, embed it and the next posts it may
        reach in one call; when it reaches one not yet judged, ask the judges for it and the
        next ones at once (offline answers too, so their cache rows are written in batches).
        The walk then decides each post in its order from what is ready."""
        if not post_ids:
            return
        # A wave is about what the quota still needs at the acceptance seen so far in this
        # category (at most dedup.wave): the walk embeds little it will not reach.
        rate = (walked["looked"] + 2) / (walked["accepted"] + 2)
        wave = min(s.dedup.wave, max(4, math.ceil((target - walked["accepted"]) * rate)))
        if post_ids[0] not in funnel.walk.features:
            funnel.prepare(post_ids[:wave])
        first = post_ids[0]
        if first in decided or first in prefetched:
            return
        size = min(judge_ahead, wave) if offline else judge_ahead
        todo = [p for p in post_ids[:size] if p not in decided and p not in prefetched]
        prefetched.update(todo)
        posts = store.load(Post, where="post_id IN (SELECT unnest(?))", params=[todo])
        answers.update(prefetch_votes(ctx, posts, advance))

    window = max(s.dedup.wave, judge_ahead)
    # Requests for the posts the quotas are likely to need (the walk stops when they are met).
    likely = sum(min(len(p), 2 * target) for p in pool.values()) * len(judges)
    try:
        with ctx.progress.track("judge", likely) as advance:
            for category in sorted(pool):
                walked.update(accepted=0, looked=0)
                ranked = lanes(((pid, sub) for pid, sub, _ in pool[category]), s.seed)
                _, looked = take_turns(ranked, accepted, target, ahead=ahead, window=window)
                deferred += len(pool[category]) - looked
    finally:
        flush()
    if duplicates:
        store.delete_keys("judge_panel", duplicates)
        store.delete("judge_votes", "post_id IN (SELECT unnest(?))", [sorted(duplicates)])
        report.removed += len(duplicates)
    written, gone = funnel.save()
    report.inputs = report.processed + report.skipped
    report.counters = {
        "candidates_reached": len(funnel.decisions),
        "near_dup_written": written,
        "near_dup_removed": gone,
        "posts_embedded": funnel.stats.embedded_texts,
        "chunks_embedded": funnel.stats.embedded_chunks,
        "texts_vectorised": funnel.stats.texts,
        "texts_fp32_rechecked": funnel.exact_stats.texts,
        "posts_embedded_fp32": funnel.exact_stats.embedded_texts,
        "released_scenarios": len(funnel.walk.released),
    }
    report.notes += funnel.notes()
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
