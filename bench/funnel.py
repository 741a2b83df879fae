"""The funnel's cost follows the release, not the pool: posts embedded (and seconds) for a
30-scenario and a 300-scenario release built from the same generated pool, next to the old
dedup's embed-every-post count (every post that passes the rules and the exact checks).

Each release is a fresh build of ingest, prefilter, dedup and the judge walk (offline judges)
in its own folder; the embedding model is loaded once. `python -m bench funnel` (registered in
bench/__main__.py), or `python -c "import bench.funnel as f; f.run()"`.

Then the dedup stage's LSH step at a month of Reddit's scale (`lsh`, alone with
`python -m bench.funnel lsh [SIZE ...]`): the in-memory datasketch index next to the
store-backed one (`pipeline.near_dup.StoreLSH`), each in its own process for its peak RSS;
and the whole dedup stage's memory at growing pool sizes (`stage_memory`, alone with
`python -m bench.funnel memory [SIZE ...]`).
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

POOL = 20_000
RELEASES = (30, 300)  # scenarios: 5 categories x 6 and x 60
WALK_DROPS = ("near_duplicate", "released_before")
REPOSTS = 0.01  # share of the pool that is a lightly edited repost of an earlier post
LSH_SIZES = (100_000, 1_000_000)  # posts: a busy subreddit's year, a month of all of Reddit's
# The in-memory baseline's address space: it needs about 1.8 GB per 100k posts (measured), so
# at 1M it stops at this cap (MemoryError) instead of taking a shared machine's memory.
MEMORY_BASELINE_CAP_GB = 8
RERUN_NEW = 1_000  # posts new to a re-run over the pool a fresh build kept
STAGE_SIZES = (25_000, 100_000)  # posts for the dedup stage's memory (x4: flat or not)


def _vocabulary() -> list[str]:
    """Words of the bundled sample's posts (../shared/reddit-dev's when there), lower-cased."""
    import re

    from bench.__main__ import _vocabulary as words

    return sorted({w.lower() for w in words() if re.fullmatch(r"[A-Za-z]{3,12}", w)})


def _post(rng: random.Random, vocab: list[str], i: int) -> tuple[str, str]:
    """A first-person decision post of about 90 words, its details its own (random words of
    real posts: distinct posts share a shingle or two, as real ones do)."""
    sentences = [
        f"I {rng.choice(vocab)} my " + " ".join(rng.choices(vocab, k=rng.randrange(3, 7))) + "."
        for _ in range(rng.randrange(10, 15))
    ]
    a, b = rng.sample(vocab, 2)
    sentences.append(f"Should I choose the {a} or the {b}? ({i})")
    return f"Should I pick the {a} or the {b}?", " ".join(sentences)


def _repost(rng: random.Random, vocab: list[str], body: str, edits: float) -> str:
    """A repost: a share of its words changed, and an EDIT line."""
    words = body.split()
    for _ in range(max(1, int(len(words) * edits))):
        words[rng.randrange(len(words))] = rng.choice(vocab)
    return " ".join(words) + " EDIT: more context in the comments."


def make_pool(raw: Path, n: int = POOL, seed: int = 0) -> int:
    """A dump of `n` posts spread over the study's subreddits, `REPOSTS` of them reposts."""
    import json

    import zstandard

    from pipeline.settings import Settings

    rng = random.Random(seed)
    vocab = _vocabulary()
    subs = [sub for c in Settings(processed_dir=raw).categories for sub in c.subreddits]
    records: list[dict[str, Any]] = []
    for i in range(n):
        sub = rng.choice(subs)
        if records and rng.random() < REPOSTS:
            other = rng.choice(records)
            edits = rng.choice([0.03, 0.15])  # light (Jaccard alone) or heavier edits
            title = f"Repost: {other['title']}"
            body = _repost(rng, vocab, other["selftext"], edits)
        else:
            title, body = _post(rng, vocab, i)
        pid = f"f{i:06d}"
        records.append(
            {
                "id": pid,
                "subreddit": sub,
                "author": f"user_{rng.randrange(10**9):x}",
                "created_utc": 1_700_000_000 + i,
                "over_18": False,
                "stickied": False,
                "title": title,
                "selftext": body,
                "permalink": f"/r/{sub}/comments/{pid}/x/",
            }
        )
    raw.mkdir(parents=True, exist_ok=True)
    lines = b"".join(json.dumps(r).encode() + b"\n" for r in records)
    (raw / "RS_2023-11.zst").write_bytes(zstandard.ZstdCompressor().compress(lines))
    return n


def build(raw: Path, folder: Path, scenarios: int, embedder: Any) -> dict[str, Any]:
    """Ingest -> prefilter -> dedup -> judge for a release of `scenarios`; what each cost."""
    from pipeline import dedup, ingest, judge, prefilter
    from pipeline.context import RunContext
    from pipeline.settings import Settings
    from pipeline.store import Store

    s = Settings(processed_dir=folder, source={"raw_dir": raw})
    s.sampling.per_category = scenarios // len(s.categories)
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {}
    with Store.open(s.db_path) as store:
        ctx = RunContext(settings=s, store=store, run_id="bench", _embedder=embedder)
        for stage in (ingest, prefilter, dedup, judge):
            start = time.perf_counter()
            report = stage.run(ctx)
            out[f"{stage.STAGE}_s"] = time.perf_counter() - start
            out[stage.STAGE] = report
        out["kept"] = store.count("dedup", "keep")
        out["pool"] = store.count("posts")
    return out


def run(n: int = POOL) -> None:
    from pipeline.embeddings import Embedder

    embedder = Embedder()
    embedder.encode(["warm up the model"])
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw"
        make_pool(raw, n)
        results = {k: build(raw, Path(tmp) / f"r{k}", k, embedder) for k in RELEASES}
        vocab = _vocabulary()
        texts = [_post(random.Random(9), vocab, i)[1] for i in range(128)]
        start = time.perf_counter()
        embedder.encode(texts)
        rate = len(texts) / (time.perf_counter() - start)
    first = results[RELEASES[0]]
    print(
        f"funnel: pool of {first['pool']:,} generated posts ({REPOSTS:.0%} lightly edited "
        f"reposts); old dedup embedded every post passing the exact checks: "
        f"{first['kept']:,} posts, about {first['kept'] / rate / 60:.1f} min at the "
        f"{rate:.0f} posts/s MiniLM does here"
    )
    for k, r in results.items():
        c = r["judge"].counters
        walk = sum(v for why, v in r["judge"].dropped.items() if why in WALK_DROPS)
        print(
            f"  {k:>4} scenarios: {c['posts_embedded']:>5,} posts embedded "
            f"({c['posts_embedded'] / first['kept']:.1%} of the baseline), "
            f"{c['candidates_reached']:,} candidates checked; dedup (every post, MinHash) "
            f"{r['dedup_s']:.1f} s, walk (embed + near-dup + judge) {r['judge_s']:.1f} s; "
            f"duplicates dropped: dedup {sum(r['dedup'].dropped.values())}, walk {walk}"
        )
    lsh()
    stage_memory()


def synthetic_signatures(n: int, seed: int = 0) -> np.ndarray:
    """MinHash signatures of `n` posts of about 190 words, `REPOSTS` of them edited reposts,
    drawn directly: MinHash of 1M texts costs 0.7 ms a post here (12 minutes), and the LSH step
    sees only signatures. Distinct posts get uniform 32-bit values (what MinHash gives texts
    that share no shingle); a repost copies an earlier post's signature with 10-40% of the
    values redrawn (estimated Jaccard 0.6-0.9, a light to a heavier edit)."""
    rng = np.random.default_rng(seed)
    sigs = rng.integers(0, 2**32, size=(n, 128), dtype=np.uint64).astype(np.uint32)
    reposts = np.flatnonzero(rng.random(n) < REPOSTS)
    for i in reposts[reposts > 0]:
        redrawn = rng.random(128) < rng.uniform(0.1, 0.4)
        sigs[i] = np.where(redrawn, sigs[i], sigs[rng.integers(0, i)])
    return sigs


def _lsh_store(folder: Path, n: int) -> Path:
    """A store holding the signatures of `n` synthetic posts (as the dedup stage caches them)."""
    import pyarrow as pa

    from pipeline.near_dup import minhash_method
    from pipeline.settings import DedupSettings
    from pipeline.store import Store, table_columns

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "valact.duckdb"
    sigs = synthetic_signatures(n + RERUN_NEW)
    n = len(sigs)
    method = minhash_method(DedupSettings())
    with Store.open(path) as store:
        names = ", ".join(f'"{c}"' for c in table_columns("minhashes"))
        for start in range(0, n, 50_000):
            part = sigs[start : start + 50_000].astype(np.int64)
            rows = pa.table(  # noqa: F841 - referenced by name in the SQL
                {
                    "text_sha": [f"{i:064x}" for i in range(start, start + len(part))],
                    "hashvalues": pa.array(list(part), type=pa.list_(pa.int64())),
                }
            )
            store.con.execute(
                f"INSERT INTO minhashes ({names}) SELECT text_sha, ?, hashvalues, 'bench', '1', "
                "'bench', text_sha, 'bench', now() FROM rows",
                [method],
            )
    return path


def _lsh_case(path: Path, n: int, kind: str) -> dict[str, Any]:
    """The dedup walk's LSH step over `n` new posts (a fresh build): index them, then for each
    post in order its hits, keeping it unless one reaches `dedup.jaccard_threshold` (the stage
    then checks the texts' exact Jaccard; the signatures have no texts). In a child process."""
    import resource

    from pipeline.settings import Settings
    from pipeline.store import Provenance, Store

    s = Settings(processed_dir=path.parent)
    d = s.dedup
    prov = Provenance("dedup", "bench", "bench", "bench")
    if kind == "memory":
        cap = MEMORY_BASELINE_CAP_GB * 2**30
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    out: dict[str, Any] = {"hits": 0, "dropped": 0, "reached": 0}
    with Store.open(path, s.store) as store:
        store.con.execute("DELETE FROM minhash_bands")  # each case starts with none
        start, cpu = time.perf_counter(), time.process_time()
        try:
            kept = _lsh_walk(store, kind, d, prov, 0, n, out)
        except MemoryError:
            out["failed"] = True
        out["wall"], out["cpu"] = time.perf_counter() - start, time.process_time() - cpu
        out["peak_mb"] = _peak_mb()
        if not out.get("failed"):  # a re-run: the kept pool, and a few new posts
            import pyarrow as pa

            rows = pa.table({"pos": kept})  # read by name in the SQL
            store.con.execute(
                "CREATE OR REPLACE TABLE bench_kept AS SELECT 'p' || lpad(pos::VARCHAR, 7, '0') "
                "AS post_id, printf('%064x', pos) AS body_sha FROM rows"
            )
            del kept, rows
            _peak_mb(reset=True)
            start, cpu = time.perf_counter(), time.process_time()
            again: dict[str, Any] = {"hits": 0, "dropped": 0, "reached": 0}
            pool = "SELECT post_id, body_sha FROM bench_kept ORDER BY post_id"
            _lsh_walk(store, kind, d, prov, n, n + RERUN_NEW, again, pool)
            out["rerun_wall"] = time.perf_counter() - start
            out["rerun_cpu"] = time.process_time() - cpu
            out["rerun_hits"] = again["hits"]
            out["rerun_peak_mb"] = _peak_mb()
    return out


def _peak_mb(reset: bool = False) -> float:
    """This process's peak RSS (Linux: VmHWM, which `reset` sets back to the current RSS)."""
    import resource

    try:
        if reset:
            Path("/proc/self/clear_refs").write_text("5")
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _lsh_walk(
    store: Any, kind: str, d: Any, prov: Any, lo: int, hi: int, out: dict[str, Any], *pool: str
) -> list[int]:
    """Posts lo..hi through the index, in order; the kept ones."""
    from pipeline.near_dup import MemoryLSH, StoreLSH

    start = time.perf_counter()
    index = (MemoryLSH if kind == "memory" else StoreLSH)(store, d, prov, *pool)
    for a in range(lo, hi, 50_000):
        index.add([(f"p{i:07d}", f"{i:064x}") for i in range(a, min(hi, a + 50_000))])
    index.link()
    out["link"] = time.perf_counter() - start
    kept = []
    for pos in range(hi - lo):
        near = index.query(pos)
        out["hits"] += len(near)
        if near and near[0][1] >= d.jaccard_threshold:
            out["dropped"] += 1
        else:
            index.keep(pos)
            kept.append(lo + pos)
        out["reached"] = pos + 1
    index.close()
    return kept


def lsh(sizes: tuple[int, ...] = LSH_SIZES) -> None:
    """The in-memory datasketch LSH (the dedup stage before the store-backed index) next to
    `StoreLSH` (DuckDB at the default `store.memory_limit`), on the same signatures, each in a
    fresh process: wall and CPU seconds, peak RSS, and the same hits and drops."""
    import multiprocessing

    from pipeline.settings import Settings

    limit = Settings().store.memory_limit
    spawn = multiprocessing.get_context("spawn")
    print(
        "dedup LSH step (a fresh build; signatures of synthetic ~190-word posts, "
        f"{REPOSTS:.0%} edited reposts, drawn directly; DuckDB memory_limit {limit}):"
    )
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            path = _lsh_store(Path(tmp) / "store", n)
            out = {}
            for kind in ("memory", "store"):
                with spawn.Pool(1, maxtasksperchild=1) as pool:
                    out[kind] = pool.apply(_lsh_case, (path, n, kind))
        m, st = out["memory"], out["store"]
        for kind, label in (("memory", "datasketch in memory"), ("store", "store (DuckDB)")):
            r = out[kind]
            stopped = (
                f"; out of memory at its {MEMORY_BASELINE_CAP_GB} GB cap after "
                f"{r['reached']:,} posts"
                if r.get("failed")
                else ""
            )
            print(
                f"  {n:>9,} posts, {label:<20}: {r['wall']:6.1f} s wall "
                f"({r['cpu']:6.1f} s CPU, {r.get('link', 0):5.1f} s before the walk), peak RSS "
                f"{r['peak_mb']:6,.0f} MB; {r['hits']:,} hits, {r['dropped']:,} dropped{stopped}"
            )
        print(
            f"  {'':>9}  re-run with {RERUN_NEW:,} new posts over the kept pool: "
            + "; ".join(
                f"{kind} {r['rerun_wall']:.1f} s wall ({r['rerun_cpu']:.1f} s CPU), peak RSS "
                f"{r['rerun_peak_mb']:,.0f} MB, {r['rerun_hits']} hits"
                for kind, r in out.items()
                if "rerun_wall" in r
            )
        )
        if not m.get("failed"):
            same = (m["hits"], m["dropped"]) == (st["hits"], st["dropped"])
            print(f"  {'':>9}  same hits and drops: {same}")


def _stage_case(n: int) -> dict[str, Any]:
    """A fresh build's dedup stage over a generated pool of `n` posts, then a re-run with
    nothing new: seconds, the Python heap's peak (tracemalloc, which slows the stage about
    3x) and the process's peak RSS (DuckDB's buffers too). In a child process."""
    import tracemalloc

    from pipeline import dedup, ingest, prefilter
    from pipeline.context import RunContext
    from pipeline.settings import Settings
    from pipeline.store import Store

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        raw, folder = Path(tmp) / "raw", Path(tmp) / "processed"
        make_pool(raw, n)
        s = Settings(processed_dir=folder, source={"raw_dir": raw})
        folder.mkdir()
        with Store.open(s.db_path, s.store) as store:
            ctx = RunContext(settings=s, store=store, run_id="bench")
            ingest.run(ctx)
            prefilter.run(ctx)
            for run in ("fresh", "rerun"):
                before = _peak_mb(reset=True)
                tracemalloc.start()
                start = time.perf_counter()
                report = dedup.run(ctx)
                out[f"{run}_wall"] = time.perf_counter() - start
                out[f"{run}_heap_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
                tracemalloc.stop()
                out[f"{run}_rss_mb"] = _peak_mb() - before
                out[f"{run}_dropped"] = sum(report.dropped.values())
    return out


def stage_memory(sizes: tuple[int, ...] = STAGE_SIZES) -> None:
    """The dedup stage's memory against the pool's size: its Python heap is held per chunk
    of the walk (the order, the stored decisions and the first post of each text and body
    are read from the store), so it stays flat from the smallest pool (the baseline) up."""
    import multiprocessing

    from pipeline.settings import Settings

    limit = Settings().store.memory_limit
    spawn = multiprocessing.get_context("spawn")
    print(
        "dedup stage memory (fresh build, then a re-run; generated ~190-word posts, "
        f"{REPOSTS:.0%} reposts; DuckDB memory_limit {limit}; times under tracemalloc):"
    )
    base = None
    for n in sizes:
        with spawn.Pool(1, maxtasksperchild=1) as pool:
            r = pool.apply(_stage_case, (n,))
        base = base or r
        print(
            f"  {n:>9,} posts: Python heap peak {r['fresh_heap_mb']:5.0f} MB "
            f"({r['fresh_heap_mb'] / base['fresh_heap_mb']:.2f}x the {sizes[0]:,}-post pool's), "
            f"peak RSS +{r['fresh_rss_mb']:,.0f} MB, {r['fresh_wall']:.1f} s, "
            f"{r['fresh_dropped']:,} dropped; re-run: heap {r['rerun_heap_mb']:.0f} MB, "
            f"RSS +{r['rerun_rss_mb']:,.0f} MB, {r['rerun_wall']:.1f} s"
        )


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["lsh"]:
        lsh(tuple(int(x) for x in sys.argv[2:]) or LSH_SIZES)
    elif sys.argv[1:2] == ["memory"]:
        stage_memory(tuple(int(x) for x in sys.argv[2:]) or STAGE_SIZES)
    else:
        run()
