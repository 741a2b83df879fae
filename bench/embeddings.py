"""Embedding speed and the dedup decisions it must not change, and near-duplicate search, each
next to its baseline in the same run.

- Posts/s on posts of real length (150-230 words, real ones when ../shared/reddit-dev is there):
  plain batched `SentenceTransformer.encode` fp32 on torch's threads (the baseline) and the
  `Embedder` paths, interleaved over `reps` passes; wall and CPU time (of every thread of the
  process) per path, and the ratio to the baseline of the same pass.
- Decisions: the labelled pairs (`tests/fixtures/dedup_pairs.jsonl`) and the real posts, each
  decided on fp32 vectors and on the screened path (bf16 vectors, fp32 for the pairs within
  `embeddings.screen_margin` of the cosine floor): pair decisions changed, the near-duplicate
  walk's decisions changed (reason, match and recorded cosine), the largest drifts, and the
  share of texts that needed fp32 vectors.
- Near-duplicate search at 10k, 50k and 100k unit vectors with 1% planted duplicates:
  `pipeline.dedup.near_duplicates` and the faiss index against a blocked upper-triangle
  all-pairs search, with recall against it.
"""

from __future__ import annotations

import csv
import json
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from pipeline.dedup import near_duplicates
from pipeline.embeddings import Embedder, max_drift
from pipeline.near_dup import (
    Features,
    Match,
    NeighbourIndex,
    Released,
    Walk,
    compared,
    is_near_duplicate,
    jaccard,
    minhashes,
    shingles,
    vectors_for,
)
from pipeline.settings import DedupSettings, EmbeddingSettings
from pipeline.text import post_text
from pipeline.vector_index import ApproximateIndex, exact_pairs

REPO = Path(__file__).resolve().parents[1]
# ../shared beside the checkout (CI, the main clone), or beside the folder of worktrees.
SHARED = (
    next(
        (p for p in (REPO.parent / "shared", REPO.parents[1] / "shared") if p.exists()),
        REPO.parent / "shared",
    )
    / "reddit-dev"
)
THRESHOLD = DedupSettings().near_dup_threshold
MAX_CHARS = DedupSettings().max_chars


def real_posts() -> list[str]:
    """Title + body (cut at `dedup.max_chars`, as dedup embeds them) of every post in
    ../shared/reddit-dev, crosspost parents included; [] when it is absent."""
    texts: dict[str, str] = {}
    csv.field_size_limit(1 << 30)
    for path in sorted(SHARED.glob("umbrae-top2013-*.csv")):
        with path.open(newline="") as fh:
            for r in csv.DictReader(fh):
                texts[r["id"]] = post_text(r["title"], r["selftext"])
    for path in sorted(SHARED.glob("cassiebuhler-*.csv")):
        with path.open(newline="") as fh:
            for r in csv.DictReader(fh):
                texts[r["Link"]] = post_text(r["Title"], r["Content"])
    for path in sorted(SHARED.glob("reddit-api-submissions-*.ndjson")):
        for line in path.read_text().splitlines():
            if line.strip():
                rec = json.loads(line)
                for r in [rec, *rec.get("crosspost_parent_list", [])]:
                    texts[r["id"]] = post_text(r.get("title") or "", r.get("selftext") or "")
    return [t[:MAX_CHARS] for t in texts.values() if t]


_OPENERS = ("I (27F) have", "My partner and I have", "So my boss has", "Throwaway, but I have")
_TOPICS = (
    "been offered a job in another city",
    "been lending money to my brother for two years",
    "found out my best friend lied about the wedding",
    "to decide whether to move back in with my parents",
    "been asked to cover for a coworker who keeps missing shifts",
    "a landlord who refuses to return the deposit",
)
_FILLER = (
    "It started last spring when everything seemed fine.",
    "We talked about it twice and both times it ended in an argument.",
    "I don't want to hurt anyone, but I also can't keep doing this.",
    "My mom thinks I am overreacting and my friends are split.",
    "The money matters less to me than the feeling of being used.",
    "I have until Friday to give an answer.",
    "Part of me wants to just say yes and move on.",
    "Another part of me knows that I will regret it in a year.",
    "For context, we have known each other since high school.",
    "I keep writing messages and deleting them.",
)


def generated_posts(n: int, seed: int = 0) -> list[str]:
    """Advice-shaped posts of about 190 words, all distinct (when ../shared is absent)."""
    rng = random.Random(seed)
    out = []
    for k in range(n):
        opener, topic = rng.choice(_OPENERS), rng.choice(_TOPICS)
        body = [f"{opener} {topic}."]
        while sum(len(s.split()) for s in body) < rng.randint(170, 210):
            body.append(rng.choice(_FILLER))
        body.append(f"Should I say no this time? (post {k})")
        out.append(post_text(f"What should I do about {topic.split(' ', 2)[-1]}?", " ".join(body)))
    return out


def _interleaved(fns: dict[str, Callable[[], object]], reps: int) -> dict[str, list[tuple]]:
    """(wall s, CPU s) of each function in each of `reps` passes, the functions in turn within
    a pass (a shared machine's load hits every path alike)."""
    times: dict[str, list[tuple]] = {name: [] for name in fns}
    for _ in range(reps):
        for name, fn in fns.items():
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            times[name].append((time.perf_counter() - t0, time.process_time() - c0))
    return times


def bench_speed(n: int = 128, reps: int = 5, batch_size: int = 64) -> dict[str, float]:
    """Posts/s per path on posts of 150-230 words; returns the median ratio to the baseline."""
    import torch

    pool = [t for t in real_posts() if 150 <= len(t.split()) <= 230] or generated_posts(n)
    texts = (pool * (n // len(pool) + 1))[:n]
    words = np.mean([len(t.split()) for t in texts])
    fp32 = Embedder(batch_size=batch_size, settings=EmbeddingSettings(backend="torch"))
    model = fp32._load()
    threads = torch.get_num_threads()
    one_call = Embedder(batch_size=batch_size, settings=EmbeddingSettings(workers=1))
    one_call._model = model
    chosen = Embedder(batch_size=batch_size)
    chosen._model = model
    w = chosen.workers
    fns: dict[str, Callable[[], object]] = {
        f"baseline: SentenceTransformer.encode fp32 ({threads} torch threads)": lambda: (
            model.encode(texts, batch_size=batch_size, normalize_embeddings=True)
        ),
        "SentenceTransformer.encode fp32, batch 32": lambda: model.encode(
            texts, batch_size=32, normalize_embeddings=True
        ),
        f"Embedder.encode fp32 ({w} threads x 1)": lambda: fp32.encode(texts),
        "bf16 autocast, one call on torch's threads": lambda: one_call.encode_screen(texts),
        f"chosen: encode_screen {chosen.screen_name} ({w} threads x 1)": lambda: (
            chosen.encode_screen(texts)
        ),
    }
    out = {name: np.asarray(fn(), np.float32) for name, fn in fns.items()}  # warm-up
    times = _interleaved(fns, reps)
    base_name = next(iter(fns))
    base = times[base_name]
    print(
        f"embeddings: {n} posts of {words:.0f} words on average, batch {batch_size}, {reps} "
        f"interleaved passes (median; ratio = median of each pass's baseline / path):"
    )
    ratios = {}
    for name, ts in times.items():
        wall = statistics.median(t for t, _ in ts)
        cpu = statistics.median(c for _, c in ts)
        ratio = statistics.median(b[0] / t[0] for b, t in zip(base, ts, strict=True))
        cpu_ratio = statistics.median(b[1] / t[1] for b, t in zip(base, ts, strict=True))
        ratios[name] = ratio
        drift = max_drift(out[name], out[base_name])
        print(
            f"  {name:58s} {n / wall:6.1f} posts/s {ratio:4.2f}x wall | {n / cpu:6.1f} per CPU-s "
            f"{cpu_ratio:4.2f}x | max drift {drift:.1e}"
        )
    return ratios


def _neighbours(cs: list, s: DedupSettings) -> list[list[int]]:
    """Each post's earlier MinHash neighbours (estimated Jaccard >= `pair_jaccard`), as
    `pipeline.dedup` finds them."""
    index = NeighbourIndex(s)
    out = []
    sigs = minhashes([shingles(c.words, s.shingle_words) for c in cs], s)
    for i, sig in enumerate(sigs):
        out.append([int(k) for k, _ in index.query(sig)])
        index.add(str(i), sig)
    return out


def walk_decisions(
    s: DedupSettings,
    posts: list[tuple[str, str]],
    screen: list[np.ndarray],
    exact: list[np.ndarray] | None,
    margin: float,
    neighbours: list[list[int]],
    released: int = 0,
) -> tuple[list[tuple[str, str | None, Match | None]], list[int]]:
    """Every decision of the near-duplicate walk over (title, body) posts in order (the first
    `released` play earlier releases' scenarios), on `screen` vectors with `exact` ones
    fetched for pairs within `margin` (None, 0: no screening); and the posts whose exact
    vectors were fetched."""
    cs = [compared(t, b, s) for t, b in posts]
    sh = [shingles(c.words, s.shingle_words) for c in cs]
    row = {c.text: i for i, c in enumerate(cs)}
    asked: list[int] = []

    def fetch(texts: list[str]) -> list[np.ndarray]:
        assert exact is not None
        asked.extend(row[t] for t in texts)
        return [exact[row[t]] for t in texts]

    walk = Walk(
        s,
        [Released(f"v1/{i}", f"p{i}", cs[i]) for i in range(released)],
        np.vstack(screen[:released]) if released else np.zeros((0, 0), np.float32),
        False,
        margin=margin,
        exact=fetch if exact is not None else None,
    )
    out: list[tuple[str, str | None, Match | None]] = []
    for i in range(released, len(cs)):
        key = f"p{i}"
        walk.features[key] = Features(cs[i], sh[i], screen[i])
        near = [f"p{j}" for j in neighbours[i] if j >= released]
        walk.prefetch([key], {key: near})
        reason, match = walk.check(key, near)
        if reason is None:
            walk.keep(key)
        out.append((key, reason, match))
    return out, asked


def _screened_cosines(
    screen: np.ndarray, fp32: np.ndarray, jac: np.ndarray, s: DedupSettings, margin: float
) -> tuple[np.ndarray, np.ndarray]:
    """Each pair's cosine as the walk reads it (fp32 where the screening cosine is within the
    margin of the floor or the pair are MinHash neighbours, else the screening one), and which
    pairs were re-scored."""
    floor = min(s.pair_cosine, s.near_dup_threshold)
    rescored = (screen >= floor - margin) | (jac >= s.pair_jaccard)
    return np.where(rescored, fp32, screen), rescored


def _changed(a: np.ndarray, b: np.ndarray, jac: np.ndarray, s: DedupSettings) -> int:
    return sum(
        is_near_duplicate(float(x), float(j), s) != is_near_duplicate(float(y), float(j), s)
        for x, y, j in zip(a, b, jac, strict=True)
    )


def bench_decisions(limit: int | None = None) -> None:
    """Dedup decisions under fp32 and the screened path: the labelled pairs, every pair of the
    real posts at the walk's rule, and the walk itself over the real posts."""
    from scripts.eval_dedup import PAIRS, dev_posts, load

    s = DedupSettings()
    e = Embedder()
    margin = e.screen_margin
    floor = min(s.pair_cosine, s.near_dup_threshold)

    def vectors(texts: list[str], encode: Callable) -> tuple[np.ndarray, float, float]:
        t0, c0 = time.perf_counter(), time.process_time()
        v = np.vstack(vectors_for(texts, s, encode, lambda _: {}, lambda _: None))
        return v, time.perf_counter() - t0, time.process_time() - c0

    print(
        f"dedup decisions, fp32 against screening with {e.screen_name} (margin {margin}, "
        f"cosine floor {floor}; rule: cosine >= {s.near_dup_threshold}, or cosine >= "
        f"{s.pair_cosine} and Jaccard >= {s.pair_jaccard}, or Jaccard >= {s.jaccard_threshold}):"
    )
    rows = load(PAIRS)
    cs = [compared(r[k]["title"], r[k]["body"], s) for r in rows for k in ("a", "b")]
    texts = [c.text for c in cs]
    f, _, _ = vectors(texts, e.encode)
    b, _, _ = vectors(texts, e.encode_screen)
    sh = [shingles(c.words, s.shingle_words) for c in cs]
    jac = np.array([jaccard(sh[2 * i], sh[2 * i + 1]) for i in range(len(rows))])
    cos_f = (f[0::2] * f[1::2]).sum(1)
    cos_b = (b[0::2] * b[1::2]).sum(1)
    cos_s, rescored = _screened_cosines(cos_b, cos_f, jac, s, margin)
    print(
        f"  labelled pairs ({len(rows)}): max pair-cosine drift {np.abs(cos_b - cos_f).max():.1e};"
        f" decisions changed: screened {_changed(cos_f, cos_s, jac, s)} ({int(rescored.sum())} "
        f"pairs re-scored in fp32), bf16 alone {_changed(cos_f, cos_b, jac, s)}"
    )

    posts = [(t, body) for _, t, body in dev_posts(SHARED)] if SHARED.exists() else []
    posts = [p for p in posts if p[1].strip() not in ("", "[removed]", "[deleted]")]
    source = "real posts, ../shared/reddit-dev"
    if not posts:
        posts = [g.partition("\n\n")[::2] for g in generated_posts(400)]
        source = "generated posts"
    posts = posts[:limit] if limit else posts
    cs = [compared(t, body, s) for t, body in posts]
    texts = [c.text for c in cs]
    n = len(texts)
    f, t_f, c_f = vectors(texts, e.encode)
    b, t_b, c_b = vectors(texts, e.encode_screen)
    sh = [shingles(c.words, s.shingle_words) for c in cs]
    cand = exact_pairs(b, floor - margin).as_set() | exact_pairs(f, floor).as_set()
    neighbours = _neighbours(cs, s)
    cand |= {(j, i) for i, near in enumerate(neighbours) for j in near}
    pairs = sorted(cand)
    i, j = (np.array([p[k] for p in pairs], np.int64) for k in (0, 1))
    jac = np.array([jaccard(sh[x], sh[y]) for x, y in pairs])
    cos_f, cos_b = (f[i] * f[j]).sum(1), (b[i] * b[j]).sum(1)
    cos_s, rescored = _screened_cosines(cos_b, cos_f, jac, s, margin)
    refetched = len(set(i[rescored].tolist()) | set(j[rescored].tolist()))
    ref, _ = walk_decisions(s, posts, list(f), None, 0.0, neighbours)
    got, asked = walk_decisions(s, posts, list(b), list(f), margin, neighbours)
    raw, _ = walk_decisions(s, posts, list(b), None, 0.0, neighbours)
    print(
        f"  {n:,} {source}, all {n * (n - 1) // 2:,} pairs: fp32 {t_f:.0f} s ({c_f:.0f} CPU s), "
        f"bf16 {t_b:.0f} s ({c_b:.0f} CPU s); max vector drift {max_drift(b, f):.1e}, max "
        f"pair-cosine drift {_pair_drift(f, b):.1e}, on the {len(pairs)} pairs at the screening "
        f"floor or MinHash neighbours {np.abs(cos_b - cos_f).max():.1e}"
    )
    print(
        f"    pair decisions changed: screened {_changed(cos_f, cos_s, jac, s)} (all pairs: "
        f"{refetched} posts in a pair re-scored in fp32), bf16 alone "
        f"{_changed(cos_f, cos_b, jac, s)}; fp32 near duplicates "
        f"{sum(is_near_duplicate(float(x), float(y), s) for x, y in zip(cos_f, jac, strict=True))}"
    )
    drops = sum(r is not None for _, r, _ in ref)
    print(
        f"    walk decisions (reason, match, recorded cosine) changed: screened "
        f"{sum(x != y for x, y in zip(ref, got, strict=True))} of {len(ref)} ({drops} dropped; "
        f"{len(set(asked))} posts ({len(set(asked)) / n:.1%}) given fp32 vectors), bf16 alone "
        f"{sum(x != y for x, y in zip(ref, raw, strict=True))}"
    )
    share = len(set(asked)) / n
    print(
        f"    walk embedding cost: screened {t_b + share * t_f:.0f} s wall against fp32 {t_f:.0f} "
        f"s ({t_f / (t_b + share * t_f):.2f}x), CPU {c_b + share * c_f:.0f} against {c_f:.0f} s"
    )


def _pair_drift(a: np.ndarray, b: np.ndarray, block: int = 1024) -> float:
    """Largest |cos_a(i, j) - cos_b(i, j)| over all pairs."""
    worst = 0.0
    for start in range(0, len(a), block):
        d = a[start : start + block] @ a.T - b[start : start + block] @ b.T
        worst = max(worst, float(np.abs(d).max()))
    return worst


def planted(n: int, dim: int = 384, share: float = 0.01, seed: int = 0) -> np.ndarray:
    """Unit vectors in topic clusters (same-topic cosine about 0.35, like unrelated posts on one
    subject) with `share` of them rewritten as near copies of an earlier row, at cosines spread
    over 0.90-0.99 so that some fall just below the threshold."""
    rng = np.random.default_rng(seed)
    topics = rng.standard_normal((max(n // 100, 8), dim)).astype(np.float32)
    topics /= np.linalg.norm(topics, axis=1, keepdims=True)
    noise = rng.standard_normal((n, dim)).astype(np.float32) / np.sqrt(dim)
    v = 0.6 * topics[rng.integers(len(topics), size=n)] + 0.8 * noise
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    copies = rng.choice(np.arange(1, n), size=int(n * share), replace=False)
    for j in copies:
        i = int(rng.integers(j))
        u = rng.standard_normal(dim).astype(np.float32)
        u -= (u @ v[i]) * v[i]
        u /= np.linalg.norm(u)
        c = rng.uniform(0.90, 0.99)
        v[j] = c * v[i] + np.sqrt(1 - c * c) * u
    return np.ascontiguousarray(v, dtype=np.float32)


def bench_search(sizes: tuple[int, ...] = (10_000, 50_000, 100_000)) -> None:
    """Greedy dedup and the faiss IVF index against blocked upper-triangle all pairs. Greedy
    dedup compares a row only with the rows it kept, so a near copy of a dropped copy that is
    not itself near the original stays: its recall against all pairs is below 1 by those."""
    print(f"near-duplicate search, 1% planted duplicates, threshold {THRESHOLD}:")
    for n in sizes:
        v = planted(n)
        t0 = time.perf_counter()
        truth = exact_pairs(v, THRESHOLD)
        t_exact = time.perf_counter() - t0
        dup_rows = set(truth.j.tolist())  # a row with an earlier match is a duplicate
        t0 = time.perf_counter()
        greedy = near_duplicates(v, v[:0], THRESHOLD)
        t_greedy = time.perf_counter() - t0
        dropped = {k for k, (m, _) in enumerate(greedy) if m >= 0}
        t0 = time.perf_counter()
        index = ApproximateIndex(v)
        t_build = time.perf_counter() - t0
        t0 = time.perf_counter()
        found = index.pairs(v, THRESHOLD)
        t_query = time.perf_counter() - t0
        recall = len(found.as_set() & truth.as_set()) / max(len(truth), 1)
        print(
            f"  {n:>7,}: all-pairs upper triangle {t_exact:6.1f} s ({len(truth)} pairs); "
            f"near_duplicates {t_greedy:6.1f} s ({t_greedy / t_exact:.2f}x, recall "
            f"{len(dropped & dup_rows) / max(len(dup_rows), 1):.3f}, {len(dropped - dup_rows)} "
            f"false); faiss IVF build {t_build:5.1f} s + search {t_query:5.1f} s "
            f"({(t_build + t_query) / t_exact:.2f}x, pair recall {recall:.4f}, "
            f"{len(found.as_set() - truth.as_set())} false)"
        )


def run() -> None:
    bench_speed()
    bench_decisions()
    bench_search()
