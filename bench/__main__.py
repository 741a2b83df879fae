"""`make bench`: each benchmark's figure next to the baseline it is compared with, measured in
the same run. `python -m bench NAME ...` runs only the named ones (see `BENCHMARKS`).

Uses ../shared/reddit-dev when present (real posts), else the bundled sample.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import zstandard

from pipeline.dedup import near_duplicates
from pipeline.sources.dumps import decode, read_lines, to_post
from pipeline.text import post_text

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "reddit-dev" / "reddit-api-submissions-AmITheDevil-2023-07.ndjson"
SAMPLE = sorted((REPO / "data" / "raw" / "sample").glob("*.zst"))


def _records() -> list[dict]:
    if SHARED.exists():
        return [json.loads(line) for line in SHARED.read_text().splitlines() if line.strip()]
    out = []
    for path in SAMPLE:
        for _, line in read_lines(path, 1 << 20):
            with contextlib.suppress(ValueError):
                out.append(decode(line or b""))
    return out


def bench_reader(n_lines: int = 50_000) -> None:
    """Dump reader + normalisation (posts/s) vs decompress + json.loads alone."""
    base = _records()
    lines = []
    for i in range(n_lines):
        rec = dict(base[i % len(base)])
        rec["id"] = f"b{i:07d}"
        lines.append(json.dumps(rec))
    raw = ("\n".join(lines) + "\n").encode()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "RS_bench.zst"
        path.write_bytes(zstandard.ZstdCompressor(level=3).compress(raw))
        t0 = time.perf_counter()
        n = 0
        for ln, line in read_lines(path, 1 << 20):
            to_post(decode(line or b""), "bench", ln)
            n += 1
        ours = time.perf_counter() - t0
        t0 = time.perf_counter()
        data = zstandard.ZstdDecompressor().decompress(path.read_bytes())
        m = sum(1 for line in data.splitlines() if json.loads(line))
        floor = time.perf_counter() - t0
    print(
        f"reader: {n / ours:,.0f} posts/s streaming+normalising ({len(raw) / 2**20:.0f} MiB, "
        f"{n:,} lines); baseline decompress-all + json.loads: {m / floor:,.0f} lines/s; "
        f"ratio {ours / floor:.2f}x the floor, memory O(line) vs O(file)"
    )


def bench_near_dup(n: int = 6_000) -> None:
    """pipeline.dedup.near_duplicates (blocked, greedy) vs a full N x N similarity matrix."""
    rng = np.random.default_rng(0)
    vecs = rng.standard_normal((n, 384)).astype(np.float32)
    vecs[n // 2 :] = vecs[: n // 2] + 0.05 * rng.standard_normal((n // 2, 384))  # planted dups
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    t0 = time.perf_counter()
    dups = sum(m >= 0 for m, _ in near_duplicates(vecs, np.zeros((0, 384), np.float32), 0.92))
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    sim = vecs @ vecs.T
    np.fill_diagonal(sim, -1)
    upper = np.triu(sim >= 0.92, 1).any(axis=0).sum()
    full = time.perf_counter() - t0
    print(
        f"near-dup: blocked greedy {n / ours:,.0f} posts/s ({dups} dups found); baseline full "
        f"matrix {n / full:,.0f} posts/s ({upper} dups), {sim.nbytes / 2**20:.0f} MiB; "
        f"time ratio {ours / full:.2f}x, memory O(block x kept) vs O(N^2)"
    )


def bench_embeddings(n: int = 256) -> None:
    """MiniLM posts/s on this CPU, batched (as dedup does) vs one at a time."""
    from pipeline.embeddings import Embedder

    texts = [post_text(r.get("title", ""), r.get("selftext", ""))[:2000] for r in _records()]
    texts = (texts * (n // max(len(texts), 1) + 1))[:n]
    e = Embedder()
    e.encode(texts[:4])
    t0 = time.perf_counter()
    e.encode(texts)
    batched = time.perf_counter() - t0
    t0 = time.perf_counter()
    for t in texts[:64]:
        e.encode([t])
    single = (time.perf_counter() - t0) / 64 * n
    print(
        f"embeddings: batched {n / batched:,.1f} posts/s; baseline one-by-one "
        f"{n / single:,.1f} posts/s; ratio {single / batched:.1f}x faster"
    )


def bench_store_stages(n_posts: int = 100_000) -> None:
    """ingest + prefilter into DuckDB (posts/s end to end) vs the bare reader on the same file."""
    from pipeline import ingest, prefilter
    from pipeline.build import open_run
    from pipeline.settings import Settings

    base = _records()
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw"
        raw.mkdir()
        lines = []
        for i in range(n_posts):
            rec = {k: v for k, v in base[i % len(base)].items() if k != "crosspost_parent_list"}
            rec.update(
                id=f"s{i:07d}",
                subreddit="AmItheAsshole" if i % 10 == 0 else "pics",  # dumps: mostly others
                selftext=rec.get("selftext", "") + f" {i}",
            )
            lines.append(json.dumps(rec))
        path = raw / "RS_bench.zst"
        path.write_bytes(zstandard.ZstdCompressor(level=3).compress("\n".join(lines).encode()))
        t0 = time.perf_counter()
        n = sum(1 for _ in read_lines(path, 1 << 20))
        reader = time.perf_counter() - t0
        s = Settings(processed_dir=Path(tmp) / "processed", source={"raw_dir": raw})
        with open_run(s) as (ctx, _):
            t0 = time.perf_counter()
            ingest.run(ctx)
            t_ingest = time.perf_counter() - t0
            t0 = time.perf_counter()
            prefilter.run(ctx)
            t_pre = time.perf_counter() - t0
    print(
        f"store stages: ingest {n_posts / t_ingest:,.0f} lines/s ({n_posts:,} lines, 10% in "
        f"configured subreddits and stored), prefilter {n_posts // 10 / t_pre:,.0f} posts/s; "
        f"baseline bare reader {n / reader:,.0f} lines/s on the same file"
    )


def bench_llm_throughput(latency: float = 0.3) -> None:
    """Model requests per second through `LLMService.ask_many` against the fake
    chat-completions server answering after `latency` seconds, at 1, 8, 32 and 128 in flight,
    next to the ideal (in flight / latency); then the same requests again, from the cache.
    The server runs in a process of its own (`bench.fake_server`), so its threads do not take
    the client's GIL; what is left of the gap to the ideal is the client's own CPU time."""
    import sys

    sys.path.insert(0, str(REPO))
    from bench.fake_server import FakeServerProcess
    from pipeline.context import RunContext
    from pipeline.llm.prompts import judge_messages
    from pipeline.settings import Settings
    from pipeline.store import Store

    with FakeServerProcess(latency, "judge") as server, tempfile.TemporaryDirectory() as tmp:
        for in_flight in (1, 8, 32, 128):
            s = Settings(
                processed_dir=Path(tmp) / str(in_flight),
                llm={"base_url": server.base_url, "max_retries": 0, "max_in_flight": in_flight},
            )
            s.processed_dir.mkdir(parents=True)
            with Store.open(s.db_path) as store:
                ctx = RunContext(settings=s, store=store, run_id="bench")
                n = max(16, 16 * in_flight)  # long enough that ramp-up and tail are small
                items = [
                    (
                        ctx.llm.request("judge", "m", judge_messages("t", f"{in_flight}-{i}"), {}),
                        str(i),
                        None,
                    )
                    for i in range(n)
                ]
                warm = ctx.llm.request("judge", "m", judge_messages("t", f"warm-{in_flight}"), {})
                ctx.llm.ask_many([(warm, "warm", None)])  # the client is built on first use
                before, calls = server.count(), ctx.llm.stats["calls"]
                t0 = time.perf_counter()
                ctx.llm.ask_many(items)  # type: ignore[arg-type]
                first = time.perf_counter() - t0
                received = server.count() - before
                t0 = time.perf_counter()
                ctx.llm.ask_many(items)  # type: ignore[arg-type]
                cached = time.perf_counter() - t0
                asked_twice = server.count() - before - received
                assert received == n == ctx.llm.stats["calls"] - calls, (received, n)
            ideal = in_flight / latency
            print(
                f"llm throughput (server in its own process): {in_flight:>3} in flight "
                f"{n / first:7.1f} requests/s ({n} requests received, {latency * 1000:.0f} ms "
                f"latency); ideal {ideal:7.1f}/s: {n / first / ideal:.0%} of ideal; cached "
                f"re-run {cached * 1000:.0f} ms, {asked_twice} requests sent again"
            )


MODEL_STAGES = ("judge", "generate", "annotate")


def bench_generation_modes() -> None:
    """The bundled sample built against the fake server (its own process, no latency, every
    answer valid) with `generation.mode` per_scenario and per_value: generation requests and
    tokens per scenario. Then the per_scenario build re-run unchanged, and re-run with the
    model stages' stored results deleted (the per-request cache kept): requests sent and the
    model stages' time, next to the first build's."""
    import sys

    sys.path.insert(0, str(REPO))
    from bench.fake_server import FakeServerProcess
    from pipeline.build import run_stages
    from pipeline.embeddings import Embedder
    from pipeline.settings import load_settings
    from pipeline.store import Store
    from schemas.run import RunSummary

    embedder = Embedder()
    embedder.encode(["warm up"])

    def model_seconds(summary: RunSummary) -> float:
        return sum(summary.stages[name].seconds for name in MODEL_STAGES)

    def used(summary: RunSummary, stages: tuple[str, ...], key: str) -> int:
        return sum(u.get(key, 0) for name in stages for u in summary.stages[name].usage.values())

    with FakeServerProcess(0.0, "model") as server, tempfile.TemporaryDirectory() as tmp:

        def build(mode: str) -> tuple[RunSummary, int, int]:
            """The run summary, requests the server received, scenarios in the store."""
            s = load_settings(
                REPO / "valact.toml",
                processed_dir=Path(tmp) / mode,
                source={"raw_dir": REPO / "data" / "raw" / "sample", "synthetic": True},
                llm={"base_url": server.base_url, "max_retries": 0},
                generation={"mode": mode},
            )
            before = server.count()
            summary = run_stages(s, embedder=embedder)
            assert summary.error is None, summary.error
            with Store.open(s.db_path) as store:
                scenarios = store.count("scenarios")
            return summary, server.count() - before, scenarios

        first: dict[str, RunSummary] = {}
        for mode in ("per_scenario", "per_value"):
            summary, received, scenarios = build(mode)
            first[mode] = summary
            gen = ("generate",)
            print(
                f"generation {mode:>12}: {used(summary, gen, 'calls') / scenarios:5.1f} "
                f"generation requests/scenario, "
                f"{used(summary, gen, 'prompt_tokens') / scenarios:7,.0f} prompt + "
                f"{used(summary, gen, 'completion_tokens') / scenarios:5,.0f} completion "
                f"tokens/scenario (fake server's counts: whitespace-separated words); "
                f"{scenarios} scenarios, {summary.stages['generate'].outputs} actions; whole "
                f"build {received} requests received, model stages {model_seconds(summary):.1f} s"
            )
        baseline = model_seconds(first["per_scenario"])

        again, received, _ = build("per_scenario")
        sent = used(again, MODEL_STAGES, "calls")
        print(
            f"cached re-run (per_scenario, unchanged): {received} requests received ({sent} "
            f"sent by the model stages); model stages {model_seconds(again):.2f} s "
            f"({', '.join(f'{n} {again.stages[n].seconds:.2f}' for n in MODEL_STAGES)}); "
            f"baseline first build {baseline:.1f} s"
        )

        db = Path(tmp) / "per_scenario" / "valact.duckdb"
        with Store.open(db) as store:
            for table in ("judge_votes", "judge_panel", "actions", "annotations"):
                store.delete(table, "true")
        redo, received, _ = build("per_scenario")
        sent = used(redo, MODEL_STAGES, "calls")
        asked = sum(redo.stages[n].processed for n in MODEL_STAGES)
        print(
            f"cached re-run (per_scenario, model stages' results deleted, llm_cache kept): "
            f"{received} requests received ({sent} sent), {asked} items recomputed; model "
            f"stages {model_seconds(redo):.2f} s "
            f"({', '.join(f'{n} {redo.stages[n].seconds:.2f}' for n in MODEL_STAGES)}); "
            f"baseline first build {baseline:.1f} s"
        )


def bench_rebuild() -> None:
    """What the reuse checks cost and save, on the bundled sample (offline backends): a fresh
    build vs an unchanged rebuild, and a rebuild after a dedup-threshold change vs a fresh build
    with that change (the rebuild re-embeds nothing and reuses every model answer)."""
    from pipeline.build import run_stages
    from pipeline.embeddings import Embedder
    from pipeline.settings import load_settings

    embedder = Embedder()
    embedder.encode(["warm up"])

    def build(folder: Path, **changes: object) -> float:
        s = load_settings(
            REPO / "valact.toml",
            processed_dir=folder,
            source={"raw_dir": REPO / "data" / "raw" / "sample"},
            **changes,
        )
        t0 = time.perf_counter()
        summary = run_stages(s, embedder=embedder)
        assert summary.error is None, summary.error
        return time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        fresh = build(Path(tmp) / "a")
        unchanged = build(Path(tmp) / "a")
        change = {"dedup": {"near_dup_threshold": 0.85}, "release": {"version": "0.1.0-bench.2"}}
        rebuilt = build(Path(tmp) / "a", **change)
        fresh_changed = build(Path(tmp) / "b", **change)
    print(
        f"rebuild: unchanged {unchanged:.1f} s vs fresh build {fresh:.1f} s "
        f"({fresh / unchanged:.0f}x); after a dedup-threshold change {rebuilt:.1f} s vs a fresh "
        f"build with it {fresh_changed:.1f} s ({fresh_changed / rebuilt:.1f}x), same release"
    )


BENCHMARKS = {
    "rebuild": bench_rebuild,
    "reader": bench_reader,
    "near_dup": bench_near_dup,
    "embeddings": bench_embeddings,
    "llm_throughput": bench_llm_throughput,
    "generation_modes": bench_generation_modes,
    "store_stages": bench_store_stages,
}


def main(argv: list[str]) -> None:
    """`python -m bench [NAME ...]`: the named benchmarks (default: all), in the order given."""
    unknown = [name for name in argv if name not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}")
    for name in argv or BENCHMARKS:
        BENCHMARKS[name]()


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
