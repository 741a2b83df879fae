"""`make bench`: each benchmark's figure next to the baseline it is compared with, measured in
the same run. `python -m bench NAME ...` runs only the named ones (see `BENCHMARKS`).

Uses ../shared/reddit-dev when present (real posts), else the bundled sample; the dump
benchmark generates its file (into a temporary folder) in the shape of those posts.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import zstandard

from bench import embeddings, funnel
from pipeline.dedup import near_duplicates
from pipeline.sources.dumps import decode, read_lines

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


# -- dump reader and ingest at scale -------------------------------------------------------------

SHARED_DIR = REPO.parent / "shared" / "reddit-dev"
DUMP_RECORDS = 1_000_000  # `python -m bench dumps --records N` for another size

# The fields of a submission object as Reddit's API and the Arctic Shift dumps give them (95
# keys), with typical values: the record shape when ../shared/reddit-dev is not there.
BUILTIN_RECORD: dict[str, Any] = {
    "_meta": {"is_edited": False, "removal_type": None, "retrieved_2nd_on": 1690200000,
              "was_deleted_later": False, "was_initially_deleted": False},
    "all_awardings": [], "allow_live_comments": False, "approved_at_utc": None,
    "approved_by": None, "archived": False, "author": "", "author_flair_background_color": None,
    "author_flair_css_class": None, "author_flair_richtext": [], "author_flair_template_id": None,
    "author_flair_text": None, "author_flair_text_color": None, "author_flair_type": "text",
    "author_fullname": "", "author_is_blocked": False, "author_patreon_flair": False,
    "author_premium": False, "awarders": [], "banned_at_utc": None, "banned_by": None,
    "can_gild": True, "can_mod_post": False, "category": None, "clicked": False,
    "content_categories": None, "contest_mode": False, "created": 0.0, "created_utc": 0,
    "discussion_type": None, "distinguished": None, "domain": "", "downs": 0, "edited": False,
    "gilded": 0, "gildings": {}, "hidden": False, "hide_score": False, "id": "",
    "is_created_from_ads_ui": False, "is_crosspostable": True, "is_meta": False,
    "is_original_content": False, "is_reddit_media_domain": False, "is_robot_indexable": True,
    "is_self": True, "is_video": False, "likes": None, "link_flair_background_color": "",
    "link_flair_css_class": None, "link_flair_richtext": [], "link_flair_text": None,
    "link_flair_text_color": "dark", "link_flair_type": "text", "locked": False, "media": None,
    "media_embed": {}, "media_only": False, "mod_note": None, "mod_reason_by": None,
    "mod_reason_title": None, "mod_reports": [], "name": "", "no_follow": True,
    "num_comments": 0, "num_crossposts": 0, "num_reports": None, "over_18": False,
    "parent_whitelist_status": "all_ads", "permalink": "", "pinned": False, "pwls": 6,
    "quarantine": False, "removal_reason": None, "removed_by": None, "removed_by_category": None,
    "report_reasons": None, "retrieved_on": 1690000600, "saved": False, "score": 1,
    "secure_media": None, "secure_media_embed": {}, "selftext": "", "selftext_html": None,
    "send_replies": True, "spoiler": False, "stickied": False, "subreddit": "",
    "subreddit_id": "", "subreddit_name_prefixed": "", "subreddit_subscribers": 0,
    "subreddit_type": "public", "suggested_sort": None, "thumbnail": "self",
    "thumbnail_height": None, "thumbnail_width": None, "title": "", "top_awarded_type": None,
    "total_awards_received": 0, "treatment_tags": [], "ups": 1, "upvote_ratio": 1.0, "url": "",
    "user_reports": [], "view_count": None, "visited": False, "whitelist_status": "all_ads",
    "wls": 6,
}  # fmt: skip
# Per record: strings, numbers (written bare), filled in a pre-serialised template.
_VARY_TEXT = (
    "id", "name", "subreddit", "subreddit_id", "subreddit_name_prefixed", "permalink", "url",
    "domain", "title", "selftext", "author", "author_fullname", "thumbnail",
)  # fmt: skip
_VARY_NUMBER = ("created_utc", "created", "score", "ups", "num_comments", "upvote_ratio",
                "subreddit_subscribers")  # fmt: skip
# Subreddits of the other 80%, some a prefix or an extension of a configured name.
OTHER_SUBREDDITS = (
    "AskReddit", "pics", "funny", "gaming", "AdviceAnimals", "memes", "news", "worldnews",
    "aww", "Advice", "personalfinanceCanada", "collegebasketball", "familyguy",
    "investing_discussion", "AmItheAsshole_Meta", "relationship_advice", "Marriageadvice",
    "CasualUK", "soccer", "nba", "teenagers", "Home", "cars", "mildlyinteresting",
)  # fmt: skip


def _dump_record_bases() -> list[dict[str, Any]]:
    """Record shapes: the real API submission objects in ../shared/reddit-dev (their keys and
    values, without crosspost lists), else BUILTIN_RECORD."""
    bases = []
    for path in sorted(SHARED_DIR.glob("reddit-api-submissions-*.ndjson")):
        for line in path.read_text().splitlines():
            if line.strip():
                rec = json.loads(line)
                rec.pop("crosspost_parent_list", None)
                rec.pop("crosspost_parent", None)
                bases.append(rec)
    return bases or [BUILTIN_RECORD]


def _vocabulary() -> list[str]:
    """Words of real posts (../shared/reddit-dev) when there, else of the bundled sample."""
    texts: list[str] = []
    for path in sorted(SHARED_DIR.glob("reddit-api-submissions-*.ndjson")):
        for line in path.read_text().splitlines():
            if line.strip():
                rec = json.loads(line)
                for r in [rec, *rec.get("crosspost_parent_list", [])]:
                    texts += [r.get("title") or "", r.get("selftext") or ""]
    if not texts:
        texts = [f"{r.get('title', '')} {r.get('selftext', '')}" for r in _records()]
    return sorted({w for t in texts for w in t.split() if "&" not in w})


def make_rs_file(
    path: Path, n: int, subreddits: list[str], share: float = 0.2, seed: int = 0
) -> int:
    """Write an RS_YYYY-MM-style dump (zstd, Arctic Shift shape: keys sorted, compact) of `n`
    submissions, `share` of them in `subreddits`; returns its decompressed size. Fast: a few
    hundred pre-serialised record templates filled with per-record ids, times, authors,
    titles and texts (paragraphs of words of real posts; 40% of posts with curly apostrophes,
    7% of paragraphs with an HTML entity), so it compresses like a real dump (~10x)."""
    rng = random.Random(seed)
    words = _vocabulary()
    plain = [json.dumps(w.replace("\u2019", "'"))[1:-1] for w in words]
    curly = [json.dumps(w)[1:-1] for w in words]

    def paragraph(vocab: list[str]) -> str:
        return " ".join(rng.choices(vocab, k=rng.randrange(30, 110)))

    # Two pools: a post is typed with curly apostrophes or without (40% of real AITA posts
    # hold a non-ASCII character); 7% hold an HTML entity.
    pools = [[paragraph(vocab) for _ in range(10_000)] for vocab in (plain, curly)]
    for pool in pools:
        pool[::14] = [p + " &amp; more" for p in pool[::14]]
    paragraphs = pools[0] + pools[1]
    titles = [" ".join(rng.choices(plain, k=rng.randrange(5, 18))) for _ in range(50_000)]

    def template(base: dict[str, Any], crosspost: bool) -> bytes:
        rec = {**base, **{k: f"@@{k}@@" for k in (*_VARY_TEXT, *_VARY_NUMBER)}}
        if crosspost:  # the parent post nested, its own subreddit maybe a configured one
            parent = {**base, "subreddit": rng.choice([*subreddits, *OTHER_SUBREDDITS])}
            parent.update(id="abc123", name="t3_abc123", created_utc=1680000000,
                          title=rng.choice(titles), selftext=rng.choice(paragraphs))  # fmt: skip
            rec.update(crosspost_parent="t3_abc123", crosspost_parent_list=[parent])
        text = json.dumps(rec, sort_keys=True, separators=(",", ":")).replace("%", "%%")
        for k in _VARY_TEXT:
            text = text.replace(f'"@@{k}@@"', f'"%({k})s"')
        for k in _VARY_NUMBER:
            text = text.replace(f'"@@{k}@@"', f"%({k})s")
        return text.encode()

    bases = _dump_record_bases()
    templates = [template(bases[i % len(bases)], crosspost=i % 25 == 0) for i in range(200)]
    start = 1_688_169_600  # 2023-07-01 UTC
    size = 0
    cctx = zstandard.ZstdCompressor(level=3, threads=-1)
    with path.open("wb") as fh, cctx.stream_writer(fh) as out:
        batch: list[bytes] = []
        for i in range(n):
            wanted = rng.random() < share
            sub = rng.choice(subreddits) if wanted else rng.choice(OTHER_SUBREDDITS)
            pool = pools[rng.random() < 0.4]
            if wanted:
                selftext = "\\n\\n".join(rng.choices(pool, k=rng.randrange(1, 6)))
            else:
                selftext = rng.choice(pool) if rng.random() < 0.25 else ""
            pid = f"{36**6 + i:x}"
            created = start + i * 2
            score = rng.randrange(5000)
            thumb = f"https://b.thumbs.redditmedia.com/{rng.randrange(36**10):x}.jpg"
            values = {
                "id": pid, "name": f"t3_{pid}", "subreddit": sub,
                "subreddit_id": f"t5_{rng.randrange(36**6):x}",
                "subreddit_name_prefixed": f"r/{sub}",
                "permalink": f"/r/{sub}/comments/{pid}/post_{i % 977}/",
                "url": f"https://www.reddit.com/r/{sub}/comments/{pid}/post_{i % 977}/",
                "domain": f"self.{sub}", "title": rng.choice(titles), "selftext": selftext,
                "author": f"user_{rng.randrange(10**9):x}",
                "author_fullname": f"t2_{rng.randrange(36**8):x}",
                "thumbnail": "self" if selftext else thumb,
                "created_utc": created, "created": f"{created}.0", "score": score, "ups": score,
                "num_comments": rng.randrange(900), "upvote_ratio": f"{rng.random():.2f}",
                "subreddit_subscribers": rng.randrange(10**7),
            }  # fmt: skip
            line = templates[rng.randrange(len(templates))] % {
                k.encode(): str(v).encode() for k, v in values.items()
            }
            batch.append(line)
            size += len(line) + 1
            if len(batch) == 10_000:
                out.write(b"\n".join(batch) + b"\n")
                batch = []
        if batch:
            out.write(b"\n".join(batch) + b"\n")
    return size


def decompress_to_nothing(path: Path) -> int:
    """The floor: zstandard streaming decompression into one reused buffer; bytes out."""
    dctx = zstandard.ZstdDecompressor(max_window_size=2**31)
    buf = bytearray(1 << 20)
    total = 0
    with path.open("rb") as fh, dctx.stream_reader(fh, read_size=1 << 17) as reader:
        while n := reader.readinto(buf):
            total += n
    return total


def _read_posts(path: Path) -> tuple[int, int]:
    """The project's dump reader, as `read_to_shard` runs it (without writing the shard):
    lines skipped from their bytes, the rest parsed (`parse_line`) to Post rows."""
    from pipeline.settings import Settings
    from pipeline.sources.dumps import RecordError, Selection, parse_line, read_lines

    selection = Selection.of(Settings())
    skipped: dict[str, int] = {}
    lines = posts = 0
    for line_no, raw in read_lines(path, 1_000_000, selection, skipped):
        lines += 1
        with contextlib.suppress(RecordError):
            posts += isinstance(parse_line(raw or b"", path.name, line_no, selection), dict)
    return lines + sum(skipped.values()), posts


def _child_reader(path: str) -> None:
    """`python -m bench --child PATH`: the reader in a fresh process; prints JSON."""
    import pipeline.settings
    import pipeline.sources.dumps  # noqa: F401 - imported before the clock starts

    t0, c0 = time.perf_counter(), time.process_time()
    lines, posts = _read_posts(Path(path))
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({"lines": lines, "posts": posts, "seconds": seconds, "cpu": cpu}))


def _run_measured(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[bytes, float, float]:
    """Run a command: its stdout, wall seconds and peak memory (maxrss, MiB)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env={**os.environ, **env}, stdout=subprocess.PIPE)
    out = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    if status:
        raise SystemExit(f"{cmd} failed (status {status})")
    return out, time.perf_counter() - t0, usage.ru_maxrss / 1024


def _measure_reader(path: Path) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench", "--child", str(path)]
    out, _, rss = _run_measured(cmd, REPO, {"PYTHONPATH": str(REPO)})
    return {**json.loads(out.splitlines()[-1]), "maxrss_mib": rss}


def _measure_ingest(raw: Path, processed: Path) -> dict[str, Any]:
    """`valact ingest` in a fresh process, against a new store (no valact.toml: the default
    settings, the study's 17 subreddits)."""
    env = {"VALACT_PROCESSED_DIR": str(processed), "VALACT_SOURCE__RAW_DIR": str(raw)}
    valact = str(Path(sys.executable).parent / "valact")
    _, seconds, rss = _run_measured([valact, "ingest"], raw.parent, env)
    summary = json.loads((processed / "run_summary.json").read_text())
    report = summary["stages"]["ingest"]
    assert report["error"] is None, report
    return {
        "lines": report["inputs"],
        "posts": report["outputs"],
        "stage_s": report["seconds"],
        "seconds": seconds,
        "maxrss_mib": rss,
    }


def bench_dumps(n: int = DUMP_RECORDS) -> None:
    """The dump reader and `valact ingest` on a generated RS-style file of `n` records (80-106
    keys each, 20% in the configured subreddits), next to zstandard decompression of the same
    file to nothing; then both again on a file a quarter the size, for peak memory."""
    from pipeline.settings import Settings

    subreddits = [s for c in Settings().categories for s in c.subreddits]
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for records in (n // 4, n):
            raw = Path(tmp) / f"raw-{records}"
            raw.mkdir()
            path = raw / "RS_2023-07.zst"
            t0 = time.perf_counter()
            size = make_rs_file(path, records, subreddits)
            made = time.perf_counter() - t0
            t0, c0 = time.perf_counter(), time.process_time()
            assert decompress_to_nothing(path) == size
            floor, floor_cpu = time.perf_counter() - t0, time.process_time() - c0
            reader = _measure_reader(path)
            ingest = _measure_ingest(raw, Path(tmp) / f"store-{records}")
            assert ingest["lines"] == reader["lines"] == records, (ingest, reader)
            assert ingest["posts"] == reader["posts"], (ingest, reader)
            results[records] = (size, path.stat().st_size, made, floor, floor_cpu, reader, ingest)
            path.unlink()
        (size, packed, made, floor, floor_cpu, reader, ingest) = results[n]
        mib = size / 2**20
        print(
            f"dumps: generated {n:,} records ({mib:,.0f} MiB decompressed, "
            f"{size / n / 1024:.1f} KiB/record, zstd {size / packed:.1f}x) in {made:.0f} s; "
            f"20% in the {len(subreddits)} configured subreddits"
        )
        print(
            f"dumps: zstandard decompression to nothing {n / floor:,.0f} records/s, "
            f"{mib / floor:,.0f} MiB/s ({floor:.2f} s, CPU {floor_cpu:.2f} s)"
        )
        print(
            "dumps: reader (last-key byte test + msgspec typed decode + clean to Post rows) "
            f"{n / reader['seconds']:,.0f} "
            f"records/s, {mib / reader['seconds']:,.0f} MiB/s ({reader['seconds']:.1f} s, "
            f"{reader['posts']:,} posts); {reader['seconds'] / floor:.1f}x the decompression time, "
            f"CPU {reader['cpu']:.1f} s = {reader['cpu'] / floor_cpu:.1f}x its CPU (goal <= 2x)"
        )
        print(
            f"dumps: valact ingest {n / ingest['stage_s']:,.0f} records/s, "
            f"{mib / ingest['stage_s']:,.0f} MiB/s (stage {ingest['stage_s']:.1f} s, process "
            f"{ingest['seconds']:.1f} s, {ingest['posts']:,} posts stored); "
            f"{ingest['stage_s'] / floor:.1f}x the decompression time (goal <= 3x)"
        )
        small = results[n // 4]
        print(
            f"dumps: peak memory (maxrss) reader {small[5]['maxrss_mib']:,.0f} MiB at "
            f"{n // 4:,} records vs {reader['maxrss_mib']:,.0f} MiB at {n:,}; valact ingest "
            f"{small[6]['maxrss_mib']:,.0f} MiB vs {ingest['maxrss_mib']:,.0f} MiB"
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


def bench_dask_ingest(files: int = 4, records: int = 150_000) -> None:
    """Reading `files` generated RS-style dump files to shards: one after another in this
    process (what `valact ingest` does without Dask), then as Prefect tasks on a local Dask
    cluster of 1 and 2 worker processes (`source.dask = "local"`, `flows/parallel_ingest.py`),
    cluster start included. Loading into DuckDB is the same single writer in every case."""
    import os
    import sys

    sys.path.insert(0, str(REPO))
    from pipeline.ingest import ToRead, read_to_shard
    from pipeline.settings import Settings
    from pipeline.sources.dumps import file_sha256

    subreddits = [s for c in Settings().categories for s in c.subreddits]
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["PREFECT_HOME"] = str(Path(tmp) / "prefect")
        from flows.prefect_env import configure

        configure(Path(tmp))
        from flows.parallel_ingest import dask_reader

        raw = Path(tmp) / "raw"
        raw.mkdir()
        todo = []
        for f in range(files):
            path = raw / f"RS_2023-0{f + 1}.zst"
            make_rs_file(path, records, subreddits, seed=f)
            todo.append(ToRead(path.name, path, file_sha256(path)))
        s = Settings(processed_dir=Path(tmp) / "p", source={"raw_dir": raw})
        timings = {}
        out = Path(tmp) / "shards-seq"
        out.mkdir()
        t0 = time.perf_counter()
        posts = sum(read_to_shard(t.path, t.name, s, out, sha256=t.sha256).posts for t in todo)
        timings["one process"] = time.perf_counter() - t0
        for workers in (1, 2):
            out = Path(tmp) / f"shards-{workers}"
            out.mkdir()
            ws = s.model_copy(
                update={"source": s.source.model_copy(update={"dask": "local", "workers": workers})}
            )
            t0 = time.perf_counter()
            shards = list(dask_reader(ws)(todo, out))
            timings[f"dask {workers} worker(s)"] = time.perf_counter() - t0
            assert sum(x.posts for x in shards) == posts
        base = timings["one process"]
        print(
            f"dask ingest: {files} files x {records:,} records ({posts:,} posts kept), read to "
            "shards: "
            + "; ".join(
                f"{k} {v:.1f} s ({files * records / v:,.0f} records/s, {base / v:.2f}x)"
                for k, v in timings.items()
            )
            + f"; {os.cpu_count()} CPUs"
        )


BENCHMARKS = {
    "dask_ingest": bench_dask_ingest,
    "rebuild": bench_rebuild,
    "dumps": bench_dumps,
    "near_dup": bench_near_dup,
    "embeddings": embeddings.run,
    "funnel": funnel.run,
    "llm_throughput": bench_llm_throughput,
    "generation_modes": bench_generation_modes,
    "store_stages": bench_store_stages,
}


def main(argv: list[str]) -> None:
    """`python -m bench [NAME ...] [--records N]`: the named benchmarks (default: all), in the
    order given; `--records` sets the dump benchmark's file size (default 1,000,000)."""
    if argv[:1] == ["--child"]:
        _child_reader(argv[1])
        return
    if "--records" in argv:
        at = argv.index("--records")
        records = int(argv[at + 1])
        del argv[at : at + 2]
        BENCHMARKS["dumps"] = lambda: bench_dumps(records)
    unknown = [name for name in argv if name not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}")
    for name in argv or BENCHMARKS:
        BENCHMARKS[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
