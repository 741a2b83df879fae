"""Stage 3, dedup: kept `prefilter` posts -> `dedup` (+ cached `minhashes`), no model.

The cheap half of the funnel, run on every post, oldest first, each post against every earlier
one: a crosspost of a known post, the same title and body (normalised text hash), the same body
under any title (when the body has `dedup.min_body_words`; an empty or `[removed]` body never
matches), then the same text with light edits (word-shingle Jaccard of the whole compared text
at `dedup.jaccard_threshold`, found through MinHash LSH, so no pair search). The earliest post
of a group is kept. A kept post also records its earlier kept neighbours with a lower Jaccard
(at least `dedup.pair_jaccard`): the candidate walk (`pipeline.judge`, `pipeline.near_dup`)
compares a candidate with them by embedding too, so a repost is caught without embedding
every post of the pool.

A decision depends only on the posts before it, so stored decisions are reused up to the first
post whose inputs changed (or the first new post) and recomputed from there on. Signatures are
cached by the hash of the text compared, so a changed threshold recomputes no MinHash. Python
holds one chunk of the walk at a time: the posts' order (a temporary table), the stored
decisions and the first post of each text and body are read from the store as needed.

The LSH index is in the store (`near_dup.StoreLSH`): band keys cached per signature
(`minhash_bands`), the candidate pairs of the posts to decide found by one join before the
walk, so a pool of millions is matched within `store.memory_limit`, and a re-run with a few new
posts hashes and bands only theirs. It decides exactly as datasketch's in-memory index did
(`near_dup.MemoryLSH`, tests/test_dedup.py).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from pipeline.context import RunContext, start_report
from pipeline.near_dup import (
    Compared,
    StoreLSH,
    compared,
    jaccard,
    minhash_method,
    minhashes,
    same_body_key,
    shingles,
)
from pipeline.reuse import digest
from pipeline.settings import DedupSettings
from pipeline.store import Provenance, Store
from pipeline.text import content_hash
from schemas import DedupDecision, MinHashSignature, Post
from schemas.run import StageReport

STAGE, VERSION = "dedup", "3"  # the store-backed LSH decides as before: results unchanged
CHUNK = 4_096
# What the stage's decisions depend on (the walk's cosine settings are not among them).
SETTINGS = (
    "dedup.near_dup",
    "dedup.jaccard_threshold",
    "dedup.pair_jaccard",
    "dedup.min_body_words",
    "dedup.shingle_words",
    "dedup.num_perm",
    "dedup.max_chars",
)


def cache_signatures(
    store: Store, words: dict[str, list[str]], s: DedupSettings, prov: Provenance
) -> int:
    """MinHash per compared-text hash (of its words), each computed once ever and cached in
    `minhashes` (their LSH band keys follow, `near_dup.StoreLSH`); how many were computed."""
    method = minhash_method(s)
    have = {
        r[0]
        for r in store.con.execute(
            "SELECT text_sha FROM minhashes WHERE method = ? AND text_sha IN (SELECT unnest(?))",
            [method, sorted(words)],
        ).fetchall()
    }
    missing = sorted(k for k in words if k not in have)
    if missing:
        sigs = minhashes([shingles(words[k], s.shingle_words) for k in missing], s)
        rows = [
            MinHashSignature(text_sha=k, method=method, hashvalues=[int(x) for x in sig])
            for k, sig in zip(missing, sigs, strict=True)
        ]
        store.put("minhashes", rows, prov, missing, fresh=True)
    return len(missing)


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
    d = s.dedup
    report = start_report(ctx, STAGE, VERSION, *SETTINGS)
    prov = ctx.provenance(report)
    # The stage's input in decision order, in the store (a pool of millions is not held in
    # Python): each post with what its decision depends on.
    n = _sequence(store)
    first = _first_to_decide(store, report.signature)
    stale = [
        r[0]
        for r in store.con.execute(
            "SELECT post_id FROM dedup ANTI JOIN dedup_seq USING (post_id) ORDER BY post_id"
        ).fetchall()
    ]
    if stale:  # a post that left the input changes every decision after its place
        gone = store.con.execute(
            "SELECT created_utc, post_id FROM posts WHERE post_id IN (SELECT unnest(?)) "
            "ORDER BY created_utc, post_id",
            [stale],
        ).fetchall()
        if len(gone) < len(stale):
            first = 0
        else:
            (created, pid) = gone[0]
            place = store.scalar(
                "SELECT count(*) FROM dedup_seq WHERE created_utc < ? "
                "OR (created_utc = ? AND post_id < ?)",
                [created, created, pid],
            )
            first = min(first, int(place))
    store.delete_keys("dedup", stale)
    store.con.execute(
        "DELETE FROM dedup WHERE post_id IN (SELECT post_id FROM dedup_seq WHERE pos >= ?)",
        [first],
    )
    report.removed, report.skipped = len(stale), first
    lsh = LSH(store, d, prov) if d.near_dup else None
    try:
        computed = _link(store, first, n, lsh, d, prov) if lsh else 0
        for start in range(first, n, CHUNK):
            rows = _chunk(store, start)
            inputs = {r[0]: digest(r[4], r[5]) for r in rows}
            texts = {r[0]: compared(r[1], r[2], d) for r in rows}
            sets = {pid: shingles(c.words, d.shingle_words) for pid, c in texts.items()}
            keys = {r[0]: content_hash(r[1], r[2]) for r in rows}
            # The first post of each text and of each body among the posts decided so far
            # (earlier chunks are in the store); the kept posts are matched by MinHash LSH.
            hashes, bodies = _firsts(store, keys.values(), [c.sha for c in texts.values()], d)
            decisions: list[DedupDecision] = []
            for offset, (pid, _, _, parent, _, parent_known) in enumerate(rows):
                c = texts[pid]
                h = keys[pid]
                body = same_body_key(c, d)

                def decision(
                    keep: bool,
                    reason: str | None = None,
                    other: str | None = None,
                    sim: float | None = None,
                    neighbours: tuple[tuple[str, float], ...] = (),
                    pid: str = pid,
                    h: str = h,
                    c: Compared = c,
                ) -> DedupDecision:
                    return DedupDecision(
                        post_id=pid,
                        content_hash=h,
                        keep=keep,
                        reason=reason,
                        duplicate_of=other,
                        similarity=None if sim is None else round(sim, 4),
                        body_sha=c.sha,
                        body_words=c.body_words,
                        neighbours=[n for n, _ in neighbours],
                        neighbour_jaccard=[round(j, 4) for _, j in neighbours],
                    )

                if parent and parent_known:
                    decisions.append(decision(False, "crosspost", parent))
                    continue
                if h in hashes:
                    decisions.append(decision(False, "exact_duplicate", hashes[h], 1.0))
                    continue
                hashes[h] = pid
                if body and body in bodies:
                    decisions.append(decision(False, "same_body", bodies[body], 1.0))
                    continue
                if body:
                    bodies[body] = pid
                near: list[tuple[str, float]] = []
                if lsh:
                    pos = start + offset - first
                    near = lsh.query(pos)
                    match = _text_match(store, sets[pid], near, sets, d)
                    if match is not None:
                        decisions.append(decision(False, "near_duplicate", match[0], match[1]))
                        continue
                    lsh.keep(pos)
                decisions.append(decision(True, neighbours=tuple(near)))
            store.put("dedup", decisions, prov, [inputs[x.post_id] for x in decisions])
            report.tally([(x.keep, x.reason) for x in decisions])
    finally:
        if lsh:
            lsh.close()
        store.con.execute("DROP TABLE IF EXISTS dedup_seq")
    report.inputs = n
    if lsh:
        report.notes.append(
            f"MinHash: {computed} signatures computed, the rest cached; LSH in the store: "
            f"{lsh.banded} texts banded, {lsh.pairs} candidate pairs at "
            f"{d.pair_jaccard} or more for {lsh.added} posts"
        )
    return report


# The LSH index of the walk (a test swaps in `near_dup.MemoryLSH`, the in-memory reference).
LSH: type[StoreLSH] = StoreLSH


def _sequence(store: Store) -> int:
    """The posts to decide, oldest first, into the temporary table `dedup_seq` (position,
    post, what its decision depends on); returns how many."""
    store.con.execute(
        "CREATE OR REPLACE TEMP TABLE dedup_seq AS "
        "SELECT (row_number() OVER (ORDER BY p.created_utc, p.post_id) - 1)::BIGINT AS pos, "
        "p.post_id, p.created_utc, p.content_sha, "
        "coalesce(p.crosspost_parent <> p.post_id "
        "AND p.crosspost_parent IN (SELECT post_id FROM posts), false) AS crosspost_known "
        "FROM posts p JOIN prefilter f USING (post_id) WHERE f.keep"
    )
    return int(store.scalar("SELECT count(*) FROM dedup_seq"))


def _chunk(store: Store, start: int) -> list[tuple]:
    """The posts at positions [start, start + CHUNK) of the walk, in order: id, title, body,
    crosspost parent, then what the decision depends on (content hash, parent known)."""
    return store.con.execute(
        "SELECT s.post_id, p.title, p.selftext, p.crosspost_parent, s.content_sha, "
        "s.crosspost_known FROM dedup_seq s JOIN posts p USING (post_id) "
        "WHERE s.pos >= ? AND s.pos < ? ORDER BY s.pos",
        [start, start + CHUNK],
    ).fetchall()


def _first_to_decide(store: Store, signature: str) -> int:
    """The position of the first post whose stored decision is missing or was made on other
    inputs or settings: decisions before it stand. Read in steps, oldest first."""
    cursor = store.con.execute(
        "SELECT s.pos, s.content_sha, s.crosspost_known, d._signature, d._inputs "
        "FROM dedup_seq s LEFT JOIN dedup d USING (post_id) ORDER BY s.pos"
    )
    pos = 0
    while rows := cursor.fetchmany(65_536):
        for pos, sha, known, sig, inputs in rows:
            if sig != signature or inputs != digest(sha, known):
                return int(pos)
        pos += 1
    return pos


def _firsts(
    store: Store, hashes: Iterable[str], bodies: Iterable[str], d: DedupSettings
) -> tuple[dict[str, str], dict[str, str]]:
    """Of these content and body hashes, the post each already belongs to: the earliest
    decided post of the same text (any not dropped as a crosspost or exact duplicate), and of
    the same body long enough to count (a kept or near-duplicate post)."""
    text = store.con.execute(
        "SELECT content_hash, min(post_id) FROM dedup "
        "WHERE content_hash IN (SELECT unnest(?)) "
        "AND (keep OR reason IN ('near_duplicate', 'same_body')) GROUP BY content_hash",
        [sorted(set(hashes))],
    ).fetchall()
    body = store.con.execute(
        "SELECT body_sha, min(post_id) FROM dedup WHERE body_sha IN (SELECT unnest(?)) "
        "AND body_words >= ? AND (keep OR reason = 'near_duplicate') GROUP BY body_sha",
        [sorted(set(bodies)), d.min_body_words],
    ).fetchall()
    return dict(text), dict(body)  # type: ignore[arg-type]


def _link(
    store: Store, first: int, n: int, lsh: StoreLSH, d: DedupSettings, prov: Provenance
) -> int:
    """Every post to decide, in order, with its signature cached, into the LSH index, and
    their candidate pairs found; returns the signatures computed now."""
    computed = 0
    for start in range(first, n, CHUNK):
        rows = _chunk(store, start)
        texts = {r[0]: compared(r[1], r[2], d) for r in rows}
        computed += cache_signatures(store, {c.sha: c.words for c in texts.values()}, d, prov)
        lsh.add([(r[0], texts[r[0]].sha) for r in rows])
    lsh.link()
    return computed


def _text_match(
    store: Store,
    mine: set[bytes],
    near: list[tuple[str, float]],
    sets: dict[str, set[bytes]],
    d: DedupSettings,
) -> tuple[str, float] | None:
    """The earliest-ranked neighbour whose exact Jaccard reaches `jaccard_threshold`. Only
    neighbours whose MinHash estimate comes near it are checked (their text is read)."""
    close = [n for n, est in near if est >= d.jaccard_threshold - 0.15]
    if not close:
        return None
    other_sets = {n: sets[n] for n in close if n in sets}
    need = [n for n in close if n not in other_sets]
    if need:
        for p in store.load(Post, where="post_id IN (SELECT unnest(?))", params=[need]):
            c = compared(p.title, p.selftext, d)
            other_sets[p.post_id] = shingles(c.words, d.shingle_words)
    best: tuple[str, float] | None = None
    for n in close:
        j = jaccard(mine, other_sets[n])
        if j >= d.jaccard_threshold and (best is None or j > best[1]):
            best = (n, j)
    return best
