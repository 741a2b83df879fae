"""The funnel's cost follows the release, not the pool: posts embedded (and seconds) for a
30-scenario and a 300-scenario release built from the same generated pool, next to the old
dedup's embed-every-post count (every post that passes the rules and the exact checks).

Each release is a fresh build of ingest, prefilter, dedup and the judge walk (offline judges)
in its own folder; the embedding model is loaded once. `python -m bench funnel` (registered in
bench/__main__.py), or `python -c "import bench.funnel as f; f.run()"`.
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path
from typing import Any

POOL = 20_000
RELEASES = (30, 300)  # scenarios: 5 categories x 6 and x 60
WALK_DROPS = ("near_duplicate", "released_before")
REPOSTS = 0.01  # share of the pool that is a lightly edited repost of an earlier post


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


if __name__ == "__main__":
    run()
