"""Stage 3, dedup: kept `prefilter` posts -> `dedup` (+ cached `embeddings`).

Three checks, cheapest first, each against everything kept so far (earlier runs included):
a crosspost of a known post, an exact duplicate (normalised text hash), then a near duplicate
(MiniLM cosine >= threshold). The earliest post of a group is the one kept.
"""

from __future__ import annotations

import numpy as np

from pipeline.context import RunContext, start_report
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
    if not posts:
        return np.zeros((0, 0), np.float32)
    return np.asarray([cached[p.post_id] for p in posts], dtype=np.float32)


def near_duplicates(
    new: np.ndarray, kept: np.ndarray, threshold: float, block: int = 1024
) -> list[tuple[int, float]]:
    """Greedy near-duplicate search over unit vectors, in the order of `new`.

    For each new row: (-1, 0.0) if it is kept, else (index of its match, cosine). A match index
    below len(kept) points into `kept`; len(kept) + j points at new row j (kept earlier).
    One matrix product per block against everything kept before it, then the block itself.
    """
    n_old = len(kept)
    kept_new: list[int] = []
    out: list[tuple[int, float]] = []
    for start in range(0, len(new), block):
        rows = new[start : start + block]
        pool_index = list(range(n_old)) + [n_old + j for j in kept_new]
        pool = np.vstack([kept, new[kept_new]]) if kept_new else kept
        if len(pool):
            sims = rows @ pool.T
            best = sims.argmax(axis=1)
            top = sims[np.arange(len(rows)), best]
        inner = rows @ rows.T
        in_block: list[int] = []
        for i in range(len(rows)):
            match, sim = -1, -1.0
            if len(pool) and top[i] >= threshold:
                match, sim = pool_index[int(best[i])], float(top[i])
            if in_block:
                j = int(np.argmax(inner[i, in_block]))
                if inner[i, in_block[j]] >= threshold and inner[i, in_block[j]] > sim:
                    match, sim = n_old + start + in_block[j], float(inner[i, in_block[j]])
            if match < 0:
                in_block.append(i)
                out.append((-1, 0.0))
            else:
                out.append((match, sim))
        kept_new += [start + i for i in in_block]
    return out


def run(ctx: RunContext) -> StageReport:
    s, store = ctx.settings, ctx.store
    report = start_report(ctx, STAGE, VERSION, "dedup")
    prov = ctx.provenance(STAGE, VERSION, report.config_hash)
    report.skipped = store.count("dedup")
    hashes = {
        r["content_hash"]: r["post_id"]
        for r in store.query("SELECT content_hash, post_id FROM dedup WHERE keep")
    }
    kept_ids = sorted(store.keys("dedup", "keep"))
    kept_vecs = (
        embed_posts(
            ctx,
            store.load(
                Post, where="post_id IN (SELECT unnest(?))", params=[kept_ids], order="post_id"
            ),
        )  # type: ignore[arg-type]
        if kept_ids
        else np.zeros((0, 0), np.float32)
    )
    threshold = s.dedup.near_dup_threshold
    while True:  # in chunks, oldest first: the earliest post of a group is the one kept
        chunk = store.load(
            Post,
            where="post_id IN (SELECT post_id FROM prefilter WHERE keep) "
            "AND post_id NOT IN (SELECT post_id FROM dedup)",
            order=f"created_utc, post_id LIMIT {CHUNK}",
        )
        if not chunk:
            break
        decisions: list[DedupDecision] = []
        survivors: list[Post] = []
        survivor_hash: dict[str, str] = {}
        parents = [p.crosspost_parent for p in chunk if p.crosspost_parent]
        known_posts = store.keys("posts", "post_id IN (SELECT unnest(?))", [parents])
        for post in chunk:  # crossposts and exact duplicates need no model
            h = content_hash(post.title, post.selftext)
            parent = post.crosspost_parent
            if parent and parent in known_posts and parent != post.post_id:
                decisions.append(_drop(post, h, "crosspost", parent, None))
            elif h in hashes:
                decisions.append(_drop(post, h, "exact_duplicate", hashes[h], 1.0))
            else:
                hashes[h] = post.post_id
                survivor_hash[post.post_id] = h
                survivors.append(post)
        vecs = embed_posts(ctx, survivors)
        if not len(kept_vecs):  # the model's dimension is known once it has embedded something
            kept_vecs = np.zeros((0, vecs.shape[1] if vecs.ndim == 2 else 0), np.float32)
        matches = near_duplicates(vecs, kept_vecs, threshold)
        for post, (match, sim) in zip(survivors, matches, strict=True):
            h = survivor_hash[post.post_id]
            if match >= 0:
                other = (
                    kept_ids[match]
                    if match < len(kept_ids)
                    else survivors[match - len(kept_ids)].post_id
                )
                decisions.append(_drop(post, h, "near_duplicate", other, sim))
            else:
                decisions.append(
                    DedupDecision(
                        post_id=post.post_id,
                        content_hash=h,
                        keep=True,
                        reason=None,
                        duplicate_of=None,
                        similarity=None,
                    )
                )
        new_kept = [i for i, (match, _) in enumerate(matches) if match < 0]
        kept_ids += [survivors[i].post_id for i in new_kept]
        kept_vecs = np.vstack([kept_vecs, vecs[new_kept]]) if new_kept else kept_vecs
        store.insert("dedup", decisions, prov)
        report.tally([(d.keep, d.reason) for d in decisions])
    report.inputs = report.processed + report.skipped
    return report


def _drop(post: Post, h: str, reason: str, other: str, sim: float | None) -> DedupDecision:
    return DedupDecision(
        post_id=post.post_id,
        content_hash=h,
        keep=False,
        reason=reason,
        duplicate_of=other,
        similarity=None if sim is None else round(sim, 4),
    )
