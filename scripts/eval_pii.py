"""Precision and recall of `pipeline.pii` per kind, and its replacements on real posts.

    python scripts/eval_pii.py                      # the labelled fixture
    python scripts/eval_pii.py --real ../shared/reddit-dev [--sample 40]

On the labelled set (`tests/fixtures/pii_labelled.jsonl`, texts the project wrote) a found span
is right when it overlaps a labelled span of the same kind (each labelled span matched once);
`exact` counts those with the same boundaries. Look-alikes (`group` "look") have no labels, so
anything found in them is a false positive. With `--real`, the posts of every CSV and NDJSON
file in the folder are scrubbed and the replacements counted per kind; `--sample N` prints N
of them at random with a little context, to check by eye (never copied into the project).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.pii import KINDS, Span, find

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "pii_labelled.jsonl"


def load_labelled(path: Path = FIXTURE) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def evaluate(rows: list[dict[str, object]]) -> dict[str, dict[str, float]]:
    """Kind -> tp, fp, fn, exact, precision, recall (and "ALL" over every kind)."""
    counts = {k: Counter[str]() for k in (*KINDS, "ALL")}
    for row in rows:
        gold = [Span(s[0], s[1], s[2]) for s in row["spans"]]  # type: ignore[attr-defined]
        used: set[int] = set()
        for p in find(str(row["text"])):
            hit = next(
                (
                    i
                    for i, g in enumerate(gold)
                    if i not in used and g.kind == p.kind and p.start < g.end and g.start < p.end
                ),
                None,
            )
            for k in (p.kind, "ALL"):
                counts[k]["tp" if hit is not None else "fp"] += 1
                if hit is not None and (gold[hit].start, gold[hit].end) == (p.start, p.end):
                    counts[k]["exact"] += 1
            if hit is not None:
                used.add(hit)
        for i, g in enumerate(gold):
            if i not in used:
                counts[g.kind]["fn"] += 1
                counts["ALL"]["fn"] += 1
    out: dict[str, dict[str, float]] = {}
    for k, c in counts.items():
        tp, fp, fn = c["tp"], c["fp"], c["fn"]
        out[k] = {
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "exact": c["exact"],
            "precision": tp / (tp + fp) if tp + fp else 1.0,
            "recall": tp / (tp + fn) if tp + fn else 1.0,
        }
    return out


def lookalike_failures(rows: list[dict[str, object]]) -> int:
    """Look-alike texts in which anything was found (each one a false positive)."""
    return sum(1 for r in rows if r["group"] == "look" and find(str(r["text"])))


def real_texts(folder: Path) -> Iterator[tuple[str, str]]:
    """(post id, title + body) of every post in the folder's CSV and NDJSON files."""
    csv.field_size_limit(10**8)
    for path in sorted(folder.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as f:
            for i, rec in enumerate(csv.DictReader(f)):
                title = rec.get("title") or rec.get("Title") or ""
                body = rec.get("selftext") or rec.get("Content") or ""
                yield f"{path.stem}:{rec.get('id') or i}", f"{title}\n\n{body}"
    for path in sorted(folder.glob("*.ndjson")):
        for line in path.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            yield f"{path.stem}:{rec['id']}", f"{rec.get('title', '')}\n\n{rec.get('selftext', '')}"


def table(result: dict[str, dict[str, float]]) -> str:
    lines = ["| kind | labelled | found | right | exact bounds | precision | recall |"]
    lines.append("|---|---|---|---|---|---|---|")
    for k, r in result.items():
        lines.append(
            f"| {k} | {r['tp'] + r['fn']:.0f} | {r['tp'] + r['fp']:.0f} | {r['tp']:.0f} | "
            f"{r['exact']:.0f} | {r['precision']:.3f} | {r['recall']:.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--real", type=Path, help="a folder of real posts (CSV / NDJSON)")
    ap.add_argument("--sample", type=int, default=0, help="print N replacements to check")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--errors", action="store_true", help="list the fixture's misses")
    args = ap.parse_args()
    rows = load_labelled()
    print(f"labelled set: {len(rows)} texts, {sum(len(r['spans']) for r in rows)} spans")  # type: ignore[arg-type]
    print(table(evaluate(rows)))
    print(f"look-alike texts with a false positive: {lookalike_failures(rows)} of "
          f"{sum(r['group'] == 'look' for r in rows)}")  # fmt: skip
    if args.errors:
        for r in rows:
            gold = {(s[0], s[1], s[2]) for s in r["spans"]}  # type: ignore[attr-defined]
            got = {(p.start, p.end, p.kind) for p in find(str(r["text"]))}
            if gold != got:
                t = str(r["text"])
                print(r["id"], "missed", [(t[a:b], k) for a, b, k in sorted(gold - got)],
                      "extra", [(t[a:b], k) for a, b, k in sorted(got - gold)])  # fmt: skip
    if args.real:
        per_kind: Counter[str] = Counter()
        posts = with_any = chars = 0
        found: list[tuple[str, str, Span]] = []
        started = time.perf_counter()
        for post_id, text in real_texts(args.real):
            spans = find(text)
            posts += 1
            chars += len(text)
            with_any += bool(spans)
            per_kind.update(s.kind for s in spans)
            found += [(post_id, text, s) for s in spans]
        took = time.perf_counter() - started
        print(f"\nreal posts: {posts} ({chars / 1e6:.1f} M characters) in {took:.1f} s; "
              f"{with_any} with a replacement")  # fmt: skip
        for k in KINDS:
            print(f"  {k}: {per_kind[k]}")
        for post_id, text, s in random.Random(args.seed).sample(
            found, min(args.sample, len(found))
        ):
            ctx = text[max(0, s.start - 40) : s.end + 40].replace("\n", " ")
            print(f"{s.kind:5} {post_id}: {text[s.start : s.end]!r} in ...{ctx}...")


if __name__ == "__main__":
    main()
