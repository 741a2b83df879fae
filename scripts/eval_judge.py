#!/usr/bin/env python3
"""Precision, recall and acceptance of the offline judge panel, per judge and per subreddit.

Why: the offline judges decide which posts become scenarios in every offline build and test, so
they must stand in fairly for the model panel. Two labelled sets measure them:

- (a) `tests/fixtures/judge_labelled.jsonl`: posts written for the project in many subreddit
  styles (decisions, past-act AITA, stories, rants, updates, fact and recommendation asks);
- (b) seeded random samples of `../shared/reddit-dev` (posts the default prefilter kept),
  labelled by hand; only ids and labels are kept (`scripts/labels/reddit_dev_judge.csv`), never
  text, and the text is read by id. Each sample's use is told in `scripts/labels/README.md`:
  `tune`, `heldout`, `blind`, `final` and `final2` were read while setting the rules; `final3`
  was labelled before its first run and run once on the current rules: it is the honest
  held-out figure. Skipped when the folder is absent. Precision and recall of the panel come
  with 95% Wilson intervals, since a sample of 100 posts accepts only some 20.

Run: `PYTHONPATH=$PWD python scripts/eval_judge.py [--errors]`; draw a new sample to label with
`--draw SEED SIZE` (ids and subreddits of posts no label covers yet).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import math
import random
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from pipeline.llm.offline_judge import panel

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "judge_labelled.jsonl"
LABELS = ROOT / "scripts" / "labels" / "reddit_dev_judge.csv"
SHARED = ROOT.parent / "shared" / "reddit-dev"
if not SHARED.exists():
    SHARED = Path("/work/shared/reddit-dev")
# The samples' seeds and sizes are listed in scripts/labels/README.md; only the newest is drawn
# here (`--draw`), the others are read from the labels by id.
VOTERS = ("panel", "decision-rules", "context-rules", "combined-score")

Item = tuple[str, str, str, str, bool]  # id, subreddit, title, text, label


def fixture_items() -> list[Item]:
    rows = [json.loads(line) for line in FIXTURE.read_text().splitlines() if line.strip()]
    return [(r["id"], r["subreddit"], r["title"], r["text"], r["label"]) for r in rows]


def reddit_dev_posts() -> tuple[list, set[str]]:
    """Every reddit-dev post, read as the pipeline reads it, and the ids of those the default
    prefilter keeps."""
    from pipeline.prefilter import decide
    from pipeline.settings import PrefilterSettings, TableImport
    from pipeline.sources.dumps import RecordError, decode, read_lines, to_post
    from pipeline.sources.tables import iter_table_records

    aita = dict(
        id="Link",
        permalink="Link",
        url="Link",
        title="Title",
        selftext="Content",
        created_utc="Date",
        score="numUpvotes",
        num_comments="numComments",
    )
    specs = {
        "umbrae-top2013-Advice.csv": TableImport(path="x", subreddit="Advice"),
        "umbrae-top2013-relationship_advice.csv": TableImport(
            path="x", subreddit="relationship_advice"
        ),
        "cassiebuhler-AmItheAsshole-2015-2020.csv": TableImport(
            path="x", subreddit="AmItheAsshole", columns=aita
        ),
    }
    posts = []
    for name, spec in specs.items():
        for n, rec in iter_table_records(SHARED / name, spec):
            if not isinstance(rec, RecordError):
                with contextlib.suppress(RecordError):  # counted as rejects by ingest
                    posts.append(to_post(rec, name, n))
    ndjson = "reddit-api-submissions-AmITheDevil-2023-07.ndjson"
    for n, raw in read_lines(SHARED / ndjson, 10_000_000):
        if raw and raw.strip():
            posts.append(to_post(decode(raw), ndjson, n))
    rules = PrefilterSettings()
    return posts, {p.post_id for p in posts if decide(p, "any", rules).keep}


def read_labels() -> list[dict[str, str]]:
    with LABELS.open() as fh:
        return list(csv.DictReader(fh))


def draw_new_sample(seed: int, size: int) -> list:
    """A new sample, drawn as the later ones were: seeded, from the posts the default prefilter
    keeps (sorted by id) that no earlier sample took. The earlier samples were drawn from the
    prefilter of their day, which has changed since, so labels are looked up by id."""
    posts, kept = reddit_dev_posts()
    labelled = {row["post_id"] for row in read_labels()}
    rest = sorted(
        (p for p in posts if p.post_id in kept and p.post_id not in labelled),
        key=lambda p: p.post_id,
    )
    return random.Random(seed).sample(rest, size)


def reddit_dev_items() -> tuple[dict[str, list[Item]], int]:
    """The labelled posts by split, and how many of them today's prefilter would drop (they
    were kept by the prefilter of the day they were drawn; they are still counted)."""
    posts, kept = reddit_dev_posts()
    by_id = {p.post_id: p for p in posts}
    halves: dict[str, list[Item]] = defaultdict(list)
    dropped = 0
    for row in read_labels():
        p = by_id[row["post_id"]]
        dropped += p.post_id not in kept
        halves[row["split"]].append(
            (p.post_id, p.subreddit, p.title, p.selftext, row["label"] == "1")
        )
    return halves, dropped


SPLITS = {
    "tune": "(b) reddit-dev first sample, tune half",
    "heldout": "(b) reddit-dev first sample, held-out half",
    "blind": "(b) reddit-dev second sample (blind at its first run)",
    "final": "(b) reddit-dev third sample (run once after judge v2; seen since)",
    "final2": "(b) reddit-dev fourth sample (run once after judge v3's first freeze; seen since)",
    "final3": "(b) reddit-dev fifth sample (labelled before its first run; held out)",
}


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion k/n: sound at small n and near 0 or 1."""
    if not n:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def votes(items: Iterable[Item]) -> list[tuple[Item, dict[str, bool]]]:
    out = []
    for item in items:
        a, b, t, keep = panel(item[2], item[3])
        out.append((item, dict(zip(VOTERS, (keep, a, b, t), strict=True))))
    return out


def figures(rows: list[tuple[Item, dict[str, bool]]], voter: str) -> dict[str, float]:
    tp = sum(v[voter] and it[4] for it, v in rows)
    fp = sum(v[voter] and not it[4] for it, v in rows)
    fn = sum(not v[voter] and it[4] for it, v in rows)
    return {
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "accepted": (tp + fp) / len(rows) if rows else 0.0,
        "n": len(rows),
        "positives": tp + fn,
        "tp": tp,
        "fp": fp,
    }


def report(name: str, rows: list[tuple[Item, dict[str, bool]]], errors: bool) -> None:
    print(f"\n== {name}: {len(rows)} posts, {sum(it[4] for it, _ in rows)} labelled decisions")
    print(f"{'voter':16} {'precision':>9} {'recall':>7} {'accepted':>9}")
    for voter in VOTERS:
        f = figures(rows, voter)
        print(f"{voter:16} {f['precision']:9.2f} {f['recall']:7.2f} {f['accepted']:9.2f}")
    f = figures(rows, "panel")
    pl, ph = wilson(int(f["tp"]), int(f["tp"] + f["fp"]))
    rl, rh = wilson(int(f["tp"]), int(f["positives"]))
    print(f"panel 95% Wilson: precision [{pl:.2f}, {ph:.2f}], recall [{rl:.2f}, {rh:.2f}]")
    splits = sum(v["decision-rules"] != v["context-rules"] for _, v in rows)
    tie_yes = sum(v["decision-rules"] != v["context-rules"] and v["panel"] for _, v in rows)
    print(f"split votes: {splits}, tiebreaker accepted {tie_yes}")
    by_sub: dict[str, list[tuple[Item, dict[str, bool]]]] = defaultdict(list)
    for row in rows:
        by_sub[row[0][1]].append(row)
    print(f"{'subreddit':22} {'n':>3} {'labelled':>8} {'accepted':>8} {'prec':>5} {'recall':>6}")
    for sub in sorted(by_sub):
        f = figures(by_sub[sub], "panel")
        print(
            f"{sub:22} {f['n']:3d} {f['positives'] / f['n']:8.2f} {f['accepted']:8.2f} "
            f"{f['precision']:5.2f} {f['recall']:6.2f}"
        )
    if errors:
        for it, v in rows:
            if v["panel"] != it[4]:
                kind = "FP" if v["panel"] else "FN"
                print(f"  {kind} {it[0]} r/{it[1]}: {it[2][:70]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--errors", action="store_true", help="list the misjudged posts")
    ap.add_argument(
        "--draw",
        nargs=2,
        type=int,
        metavar=("SEED", "SIZE"),
        help="print the ids of a new sample (posts no label covers yet) for labelling, and stop",
    )
    args = ap.parse_args()
    if args.draw:
        for p in draw_new_sample(*args.draw):
            print(p.post_id, p.subreddit, sep=",")
        return
    report("(a) project-written labelled posts", votes(fixture_items()), args.errors)
    if SHARED.exists() and LABELS.exists():
        halves, dropped = reddit_dev_items()
        for split, name in SPLITS.items():
            if halves.get(split):
                report(name, votes(halves[split]), args.errors)
        everything = votes([it for split in SPLITS for it in halves.get(split, [])])
        report("(b) reddit-dev, all labelled posts", everything, False)
        print(f"({dropped} labelled posts are dropped by today's prefilter; still counted above)")
    else:
        print(f"\n(b) skipped: {SHARED} not found")


if __name__ == "__main__":
    main()
