"""Dedup quality on the labelled pairs (`tests/fixtures/dedup_pairs.jsonl`, written by
`scripts/make_dedup_pairs.py`): precision and recall of the funnel's rule at the configured
thresholds, next to the alternatives it was chosen over.

Run: `PYTHONPATH=. python scripts/eval_dedup.py [pairs.jsonl]`. `--dev DIR` also scores the
known reposts found in a folder of real posts (report only; nothing is copied).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipeline.embeddings import Embedder
from pipeline.near_dup import PairScore, score_pairs
from pipeline.settings import DedupSettings

PAIRS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "dedup_pairs.jsonl"


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def metrics(labels: list[bool], verdicts: list[bool]) -> dict[str, float | int]:
    tp = sum(a and b for a, b in zip(labels, verdicts, strict=True))
    fp = sum(v and not a for a, v in zip(labels, verdicts, strict=True))
    fn = sum(a and not v for a, v in zip(labels, verdicts, strict=True))
    return {
        "precision": round(tp / (tp + fp), 3) if tp + fp else 1.0,
        "recall": round(tp / (tp + fn), 3) if tp + fn else 1.0,
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def rules(s: DedupSettings) -> dict[str, DedupSettings]:
    """The chosen rule and the alternatives it is compared with."""
    off = {"jaccard_threshold": 1.0, "pair_cosine": 1.0, "pair_jaccard": 1.0}
    return {
        "chosen (cosine, Jaccard, both)": s,
        "old: cosine >= 0.92 alone": s.model_copy(update={**off, "near_dup_threshold": 0.92}),
        "cosine >= 0.85 alone": s.model_copy(update={**off, "near_dup_threshold": 0.85}),
        f"Jaccard >= {s.jaccard_threshold} alone": s.model_copy(
            update={"near_dup_threshold": 1.0, "pair_cosine": 1.0, "pair_jaccard": 1.0}
        ),
        "exact hashes only": s.model_copy(update={"near_dup": False}),
    }


def dev_posts(folder: Path) -> list[tuple[str, str, str]]:
    """(id, title, body) of the real posts in ../shared/reddit-dev (CSV files and the API
    submissions with their crosspost parents)."""
    import csv
    import re

    out: dict[str, tuple[str, str, str]] = {}
    csv.field_size_limit(1 << 24)
    for path in sorted(folder.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                pid = row.get("id") or ""
                if not pid and (m := re.search(r"/comments/(\w+)", row.get("Link") or "")):
                    pid = m.group(1)
                title = row.get("title") or row.get("Title") or ""
                body = row.get("selftext") or row.get("Content") or ""
                if pid:
                    out[pid] = (pid, title, body)
    for path in sorted(folder.glob("*.ndjson")):
        for line in path.read_text().splitlines():
            rec = json.loads(line)
            for r in [rec, *rec.get("crosspost_parent_list", [])]:
                out[r["id"]] = (r["id"], r.get("title") or "", r.get("selftext") or "")
    return list(out.values())


def scan_dev(folder: Path, s: DedupSettings, embedder: Embedder) -> None:
    """Every pair of real posts the funnel would look at (MinHash neighbours at
    `pair_jaccard`, exact body matches), scored; ids only, no text."""
    from pipeline.near_dup import NeighbourIndex, compared, minhashes, same_body_key, shingles

    posts = [p for p in dev_posts(folder) if p[2].strip() not in ("", "[removed]", "[deleted]")]
    texts = [compared(t, b, s) for _, t, b in posts]
    sets = [shingles(c.words, s.shingle_words) for c in texts]
    sigs = minhashes(sets, s)
    index = NeighbourIndex(s)
    pairs: set[tuple[int, int]] = set()
    bodies: dict[str, int] = {}
    for i, (c, sig) in enumerate(zip(texts, sigs, strict=True)):
        if (k := same_body_key(c, s)) is not None:
            if k in bodies:
                pairs.add((bodies[k], i))
            bodies.setdefault(k, i)
        pairs |= {(int(j), i) for j, _ in index.query(sig)}
        index.add(str(i), sig)
    found = sorted(pairs)
    scores = score_pairs(
        [((posts[a][1], posts[a][2]), (posts[b][1], posts[b][2])) for a, b in found],
        s,
        embedder.encode,
    )
    print(f"{folder}: {len(posts)} posts with a body; {len(found)} candidate pairs")
    for (a, b), x in zip(found, scores, strict=True):
        print(f"  {posts[a][0]} ~ {posts[b][0]}: {x}, duplicate={x.duplicate(s)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("pairs", nargs="?", type=Path, default=PAIRS)
    parser.add_argument("--dev", type=Path, help="also scan a folder of real posts")
    args = parser.parse_args()
    if args.dev:
        scan_dev(args.dev, DedupSettings(), Embedder())
        return
    rows = load(args.pairs)
    s = DedupSettings()
    embedder = Embedder()
    scores = score_pairs(
        [((r["a"]["title"], r["a"]["body"]), (r["b"]["title"], r["b"]["body"])) for r in rows],
        s,
        embedder.encode,
    )
    labels = [bool(r["duplicate"]) for r in rows]
    n_dup = sum(labels)
    print(f"{len(rows)} labelled pairs ({n_dup} duplicates, {len(rows) - n_dup} distinct)")
    print(
        f"settings: cosine alone >= {s.near_dup_threshold}, Jaccard alone >= "
        f"{s.jaccard_threshold}, both >= ({s.pair_cosine}, {s.pair_jaccard}); "
        f"{s.shingle_words}-word shingles, {s.chunk_words}-word chunks"
    )
    for name, rule in rules(s).items():
        m = metrics(labels, [x.duplicate(rule) for x in scores])
        print(
            f"  {name:34s} precision {m['precision']:.3f} recall {m['recall']:.3f} "
            f"(fp {m['fp']}, fn {m['fn']})"
        )
    print("by kind (chosen rule): caught / pairs, cosine range, Jaccard range")
    kinds: dict[str, list[tuple[bool, PairScore]]] = {}
    for r, x in zip(rows, scores, strict=True):
        kinds.setdefault(r["kind"], []).append((x.duplicate(s), x))
    for kind, items in kinds.items():
        cos = [x.cosine for _, x in items]
        jac = [x.jaccard for _, x in items]
        print(
            f"  {kind:26s} {sum(d for d, _ in items):3d} / {len(items):3d}  "
            f"cos {min(cos):.3f}-{max(cos):.3f}  J {min(jac):.3f}-{max(jac):.3f}"
        )
    wrong = [(r, x) for r, x in zip(rows, scores, strict=True) if x.duplicate(s) != r["duplicate"]]
    for r, x in wrong:
        print(f"  wrong: {r['id']} {r['kind']} labelled {r['duplicate']}: {x}", file=sys.stderr)


if __name__ == "__main__":
    main()
