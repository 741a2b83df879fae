"""Stage 3, dedup: kept `prefilter` posts -> `dedup` (+ cached `embeddings`).

Three checks, cheapest first, each against everything kept so far (earlier runs included):
a crosspost of a known post, an exact duplicate (normalised text hash), then a near duplicate
(MiniLM cosine >= threshold). The earliest post of a group is the one kept.
"""

from __future__ import annotations

import numpy as np

from pipeline.context import RunContext, Timer, start_report
from pipeline.store import chunked
from pipeline.text import content_hash, post_text
from schemas import DedupDecision, Embedding, Post
from schemas.run import StageReport

STAGE, VERSION = "dedup", "1"
CHUNK = 4_096


def embed_posts(ctx: RunContext, posts: list[Post]) -> np.ndarray:
    """Vectors for posts, computed once and cached in `embeddings`."""
    embedder, store = ctx.embedder, ctx.store
    max_chars = ctx.settings.dedup.max_chars
    cached = {
        r["post_id"]: r["vector"]
        for r in store.query(
            "SELECT post_id, vector FROM embeddings WHERE model = ? "
            "AND post_id IN (SELECT unnest(?))",
            [embedder.name, [p.post_id for p in posts]],
        )
    }
    missing = [p for p in posts if p.post_id not in cached]
    if missing:
        vecs = embedder.encode([post_text(p.title, p.selftext)[:max_chars] for p in missing])
        prov = ctx.provenance(STAGE, VERSION, ctx.settings.section_hash("dedup"))
        store.insert(
            "embeddings",
            [
                Embedding(post_id=p.post_id, model=embedder.name, vector=v.tolist())
                for p, v in zip(missing, vecs, strict=True)
            ],
            prov,
        )
        cached.update({p.post_id: v for p, v in zip(missing, vecs, strict=True)})
    return np.asarray([cached[p.post_id] for p in posts], dtype=np.float32).reshape(-1, 384)


def run(ctx: RunContext) -> StageReport:
    timer = Timer()
    s, store = ctx.settings, ctx.store
    report = start_report(ctx, STAGE, VERSION, "dedup")
    prov = ctx.provenance(STAGE, VERSION, report.config_hash)
    report.skipped = store.count("dedup")
    todo = store.load(
        "posts",
        where="post_id IN (SELECT post_id FROM prefilter WHERE keep) "
        "AND post_id NOT IN (SELECT post_id FROM dedup)",
        order="created_utc, post_id",
    )
    report.processed = len(todo)
    report.inputs = report.processed + report.skipped
    if not todo:
        report.seconds = timer.seconds()
        return report

    known_posts = {r["post_id"] for r in store.query("SELECT post_id FROM posts")}
    kept_rows = store.query(
        "SELECT d.post_id, d.duplicate_of FROM dedup d WHERE d.keep ORDER BY d.post_id"
    )
    kept_ids = [r["post_id"] for r in kept_rows]
    kept_posts = {
        p.post_id: p
        for p in store.load("posts", where="post_id IN (SELECT post_id FROM dedup WHERE keep)")
    }
    hashes = {content_hash(p.title, p.selftext): p.post_id for p in kept_posts.values()}
    kept_vecs = (
        embed_posts(ctx, [kept_posts[i] for i in kept_ids])
        if kept_ids
        else np.zeros((0, 384), np.float32)
    )
    threshold = s.dedup.near_dup_threshold

    for chunk in chunked(todo, CHUNK):
        decisions: list[DedupDecision] = []
        survivors: list[Post] = []
        for post in chunk:  # crossposts and exact duplicates need no model
            h = content_hash(post.title, post.selftext)
            parent = post.crosspost_parent
            if parent and parent in known_posts and parent != post.post_id:
                decisions.append(_drop(post, "crosspost", parent, None))
            elif h in hashes:
                decisions.append(_drop(post, "exact_duplicate", hashes[h], 1.0))
            else:
                hashes[h] = post.post_id
                survivors.append(post)
        vecs = embed_posts(ctx, survivors)
        new_kept: list[int] = []
        for i, post in enumerate(survivors):
            sims_old = kept_vecs @ vecs[i] if len(kept_vecs) else np.zeros(0)
            sims_new = vecs[new_kept] @ vecs[i] if new_kept else np.zeros(0)
            best_old = int(np.argmax(sims_old)) if sims_old.size else -1
            best_new = int(np.argmax(sims_new)) if sims_new.size else -1
            top_old = float(sims_old[best_old]) if best_old >= 0 else -1.0
            top_new = float(sims_new[best_new]) if best_new >= 0 else -1.0
            if max(top_old, top_new) >= threshold:
                other = (
                    kept_ids[best_old]
                    if top_old >= top_new
                    else survivors[new_kept[best_new]].post_id
                )
                decisions.append(_drop(post, "near_duplicate", other, max(top_old, top_new)))
            else:
                new_kept.append(i)
                decisions.append(
                    DedupDecision(
                        post_id=post.post_id,
                        keep=True,
                        reason=None,
                        duplicate_of=None,
                        similarity=None,
                    )
                )
        kept_ids += [survivors[i].post_id for i in new_kept]
        kept_vecs = np.vstack([kept_vecs, vecs[new_kept]]) if new_kept else kept_vecs
        store.insert("dedup", decisions, prov)
        for d in decisions:
            if d.keep:
                report.outputs += 1
            else:
                report.drop(d.reason or "unknown")
    report.seconds = timer.seconds()
    return report


def _drop(post: Post, reason: str, other: str, sim: float | None) -> DedupDecision:
    return DedupDecision(
        post_id=post.post_id,
        keep=False,
        reason=reason,
        duplicate_of=other,
        similarity=None if sim is None else round(sim, 4),
    )
