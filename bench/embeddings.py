"""Embedding speed and near-duplicate search, each next to its baseline in the same run.

- Embeddings/s on posts of real length (about 190 words): plain batched
  `SentenceTransformer.encode` (the baseline), the ONNX Runtime export, bf16 screening, and the
  screened path (bf16 for every post, fp32 again only for posts in a pair within the margin of
  the threshold), best of `reps` alternating passes.
- Decisions: on every pair among the real posts in ../shared/reddit-dev (generated posts when
  it is absent), the largest vector and pair-cosine drift to fp32 and the number of pairs that
  cross `dedup.near_dup_threshold` under each path (a changed dedup decision).
- Near-duplicate search at 10k, 50k and 100k unit vectors with 1% planted duplicates:
  `pipeline.dedup.near_duplicates` and the faiss index against a blocked upper-triangle
  all-pairs search, with recall against it.
"""

from __future__ import annotations

import csv
import json
import random
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from pipeline.dedup import near_duplicates
from pipeline.embeddings import Embedder, max_drift
from pipeline.settings import DedupSettings, EmbeddingSettings
from pipeline.text import post_text
from pipeline.vector_index import ApproximateIndex, exact_pairs, screened_pairs

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


def _best(fns: dict[str, Callable[[], np.ndarray]], reps: int) -> tuple[dict, dict]:
    """Best wall time of each function over `reps` alternating passes (a shared machine's
    load hits every path alike), and each one's last result."""
    best = dict.fromkeys(fns, float("inf"))
    out: dict[str, np.ndarray] = {}
    for _ in range(reps):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            out[name] = fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best, out


def bench_speed(n: int = 96, reps: int = 3, batch_size: int = 64) -> dict[str, float]:
    """Posts/s per path on posts of 150-230 words (real when there)."""
    pool = [t for t in real_posts() if 150 <= len(t.split()) <= 230] or generated_posts(n)
    texts = (pool * (n // len(pool) + 1))[:n]
    words = np.mean([len(t.split()) for t in texts])
    torch_e = Embedder(batch_size=batch_size, settings=EmbeddingSettings(backend="torch"))
    model = torch_e._load()
    onnx_e = torch_e.variant("onnx")
    t0 = time.perf_counter()
    backend = onnx_e.backend
    print(
        f"embeddings: ONNX backend -> {backend} ({time.perf_counter() - t0:.1f} s to export, "
        f"load and check; max drift on the probes {onnx_e.onnx_drift:.1e})"
    )
    for e in (torch_e, onnx_e):
        e.encode(texts[:4])
    torch_e.encode_screen(texts[:4])
    fns = {
        "baseline SentenceTransformer.encode fp32": lambda: np.asarray(
            model.encode(texts, batch_size=batch_size, normalize_embeddings=True)
        ),
        f"Embedder backend={onnx_e.backend}": lambda: onnx_e.encode(texts),
        f"screen {torch_e.screen_name}": lambda: torch_e.encode_screen(texts),
    }
    best, out = _best(fns, reps)
    base = next(iter(best.values()))
    print(f"embeddings/s, {n} posts of {words:.0f} words on average, best of {reps}:")
    for name, t in best.items():
        drift = max_drift(out[name], out[next(iter(out))])
        print(f"  {name:45s} {n / t:6.1f}/s  {base / t:4.2f}x  max drift {drift:.1e}")
    return {name: n / t for name, t in best.items()}


def bench_decisions(limit: int | None = None, margin: float | None = None) -> None:
    """Pairs crossing the threshold under each path, on every pair of the real posts."""
    texts = real_posts() or generated_posts(400)
    texts = texts[:limit] if limit else texts
    source = "real posts, ../shared/reddit-dev" if SHARED.exists() else "generated posts"
    torch_e = Embedder(settings=EmbeddingSettings(backend="torch"))
    onnx_e = torch_e.variant("onnx")
    margin = torch_e.screen_margin if margin is None else margin
    times, vecs = {}, {}
    for name, fn in [
        ("fp32", torch_e.encode),
        ("onnx", onnx_e.encode),
        ("bf16", torch_e.encode_screen),
    ]:
        t0 = time.perf_counter()
        vecs[name] = fn(texts)
        times[name] = time.perf_counter() - t0
    ref = vecs["fp32"]
    truth = exact_pairs(ref, THRESHOLD)
    n = len(texts)
    print(
        f"dedup decisions on all {n * (n - 1) // 2:,} pairs of {n:,} {source} "
        f"(threshold {THRESHOLD}): fp32 finds {len(truth)} pairs"
    )
    for name in ("onnx", "bf16"):
        v = vecs[name]
        pairs = exact_pairs(v, THRESHOLD)
        pair_drift = _pair_drift(ref, v)
        print(
            f"  {name}: {n / times[name]:.1f} posts/s (fp32 {n / times['fp32']:.1f}/s); max "
            f"vector drift {max_drift(v, ref):.1e}, max pair-cosine drift {pair_drift:.1e}; "
            f"decisions changed {len(truth.as_set() ^ pairs.as_set())}"
        )
    confirmed: list[int] = []

    def exact(rows: np.ndarray) -> np.ndarray:
        confirmed.append(len(rows))
        return ref[rows]  # the fp32 vectors those rows would get

    t0 = time.perf_counter()
    screened = screened_pairs(vecs["bf16"], THRESHOLD, margin, exact)
    search = time.perf_counter() - t0
    rows = sum(confirmed)
    per_post = times["fp32"] / n
    total = times["bf16"] + rows * per_post + search
    print(
        f"  screened (bf16, fp32 again for rows within {margin} of the threshold): {rows} of {n} "
        f"posts re-embedded, {n / total:.1f} posts/s overall ({times['fp32'] / total:.2f}x fp32); "
        f"decisions changed {len(truth.as_set() ^ screened.as_set())}"
    )
    greedy = {
        name: [m >= 0 for m, _ in near_duplicates(v, v[:0], THRESHOLD)] for name, v in vecs.items()
    }
    for name in ("onnx", "bf16"):
        changed = sum(a != b for a, b in zip(greedy["fp32"], greedy[name], strict=True))
        print(f"  greedy dedup (near_duplicates) drops changed by {name}: {changed}")


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
