"""Stage 3, dedup: kept `prefilter` posts -> `dedup` (+ cached `embeddings`).

Three checks, cheapest first, each against every earlier post, oldest first: a crosspost of a
known post, an exact duplicate (normalised text hash), then a near duplicate (MiniLM cosine >=
threshold). The earliest post of a group is the one kept.

A decision depends only on the posts before it, so stored decisions are reused up to the first
post whose inputs changed (or the first new post) and recomputed from there on. Vectors are
cached by the hash of the text embedded, so a changed threshold re-embeds nothing.
"""

from __future__ import annotations

import bisect
import hashlib

import numpy as np

from pipeline.context import RunContext, start_report
from pipeline.reuse import digest
from pipeline.store import Provenance
from pipeline.text import content_hash, post_text
from schemas import DedupDecision, Embedding, Post
from schemas.run import StageReport

STAGE, VERSION = "dedup", "2"
CHUNK = 4_096


def embed_posts(ctx: RunContext, posts: list[Post], prov: Provenance) -> np.ndarray:
    """Vectors for posts, each text embedded once ever and cached in `embeddings`."""
    embedder, store = ctx.embedder, ctx.store
    max_chars = ctx.settings.dedup.max_chars
    texts = [post_text(p.title, p.selftext)[:max_chars] for p in posts]
    shas = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
    cached = {
        r["text_sha"]: r["vector"]
        for r in store.query(
            "SELECT text_sha, vector FROM embeddings WHERE model = ? "
            "AND text_sha IN (SELECT unnest(?))",
            [embedder.name, sorted(set(shas))],
        )
    }
    missing = {sha: text for sha, text in zip(shas, texts, strict=True) if sha not in cached}
    if missing:
        with ctx.progress.track("dedup: embedding", len(missing)) as advance:
            vecs = embedder.encode(list(missing.values()), advance)
        rows = [
            Embedding(text_sha=sha, model=embedder.name, vector=v.tolist())
            for sha, v in zip(missing, vecs, strict=True)
        ]
        store.put("embeddings", rows, prov, list(missing))
        cached.update(zip(missing, vecs, strict=True))
    if not posts:
        return np.zeros((0, 0), np.float32)
    return np.asarray([cached[sha] for sha in shas], dtype=np.float32)


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
    report = start_report(
        ctx,
        STAGE,
        VERSION,
        "dedup.near_dup_threshold",
        "dedup.max_chars",
        extra=(ctx.embedder.name,),
    )
    prov = ctx.provenance(report)
    # The stage's input, in decision order: each post with what its decision depends on.
    seq = store.con.execute(
        "SELECT p.post_id, p.created_utc, p.content_sha, "
        "coalesce(p.crosspost_parent <> p.post_id "
        "AND p.crosspost_parent IN (SELECT post_id FROM posts), false) "
        "FROM posts p JOIN prefilter f USING (post_id) WHERE f.keep "
        "ORDER BY p.created_utc, p.post_id"
    ).fetchall()
    ids = [r[0] for r in seq]
    order = [(r[1], r[0]) for r in seq]
    inputs = {r[0]: digest(r[2], r[3]) for r in seq}
    stored = store.stored("dedup")
    first = next(
        (i for i, pid in enumerate(ids) if stored.get(pid) != (report.signature, inputs[pid])),
        len(ids),
    )
    stale = set(stored) - set(inputs)
    if stale:  # a post that left the input changes every decision after its place
        gone = store.con.execute(
            "SELECT created_utc, post_id FROM posts WHERE post_id IN (SELECT unnest(?))",
            [sorted(stale)],
        ).fetchall()
        first = min([first, *(bisect.bisect_left(order, tuple(g)) for g in gone)])
        if len(gone) < len(stale):
            first = 0
    store.delete_keys("dedup", stale | set(ids[first:]))
    report.removed, report.skipped = len(stale), first
    hashes = {  # the first post of each text among those not dropped as exact or crosspost
        r["content_hash"]: r["post_id"]
        for r in store.query(
            "SELECT content_hash, post_id FROM dedup WHERE keep OR reason = 'near_duplicate'"
        )
    }
    kept = store.keys("dedup", "keep")
    kept_ids = [pid for pid in ids[:first] if pid in kept]
    kept_posts = {
        p.post_id: p
        for p in store.load(Post, where="post_id IN (SELECT unnest(?))", params=[kept_ids])
    }
    kept_vecs = embed_posts(ctx, [kept_posts[i] for i in kept_ids], prov)
    threshold = s.dedup.near_dup_threshold
    for start in range(first, len(ids), CHUNK):
        chunk = store.load(
            Post,
            where="post_id IN (SELECT unnest(?))",
            params=[ids[start : start + CHUNK]],
            order="created_utc, post_id",
        )
        decisions: list[DedupDecision] = []
        survivors: list[Post] = []
        survivor_hash: dict[str, str] = {}
        for offset, post in enumerate(chunk):  # crossposts and exact duplicates need no model
            h = content_hash(post.title, post.selftext)
            parent = post.crosspost_parent
            if parent and seq[start + offset][3]:  # its parent is a known post
                decisions.append(_drop(post, h, "crosspost", parent, None))
            elif h in hashes:
                decisions.append(_drop(post, h, "exact_duplicate", hashes[h], 1.0))
            else:
                hashes[h] = post.post_id
                survivor_hash[post.post_id] = h
                survivors.append(post)
        vecs = embed_posts(ctx, survivors, prov)
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
        store.put("dedup", decisions, prov, [inputs[d.post_id] for d in decisions])
        report.tally([(d.keep, d.reason) for d in decisions])
    report.inputs = len(ids)
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
