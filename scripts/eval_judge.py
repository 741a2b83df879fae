#!/usr/bin/env python3
"""Precision, recall and acceptance of the offline judge panel, per judge and per subreddit.

Why: the offline judges decide which posts become scenarios in every offline build and test, so
they must stand in fairly for the model panel. Two labelled sets measure them:

- (a) `tests/fixtures/judge_labelled.jsonl`: posts written for the project in many subreddit
  styles (decisions, past-act AITA, stories, rants, updates, fact and recommendation asks);
- (b) seeded random samples of `../shared/reddit-dev` (posts passing the default prefilter),
  labelled by hand; only ids and labels are kept (`scripts/labels/reddit_dev_judge.csv`), never
  text. The first sample (150 posts) has a `tune` half, whose errors were read while setting
  the rules, and a `heldout` half, whose errors were read only once the rules were nearly set;
  the second sample (100 other posts, `blind`) was labelled after the rules were first set,
  and its errors then led to general changes (so it is no longer unseen); the third sample (80
  other posts, `final`) was labelled after the last change and run once: it is the honest
  held-out figure. Skipped when the folder is absent.

Run: `PYTHONPATH=$PWD python scripts/eval_judge.py [--errors]`.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
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
SAMPLE_SEED, SAMPLE_SIZE = 20260109, 150
BLIND_SEED, BLIND_SIZE = 20261126, 100
FINAL_SEED, FINAL_SIZE = 20261127, 80
VOTERS = ("panel", "decision-rules", "context-rules", "combined-score")

Item = tuple[str, str, str, str, bool]  # id, subreddit, title, text, label


def fixture_items() -> list[Item]:
    rows = [json.loads(line) for line in FIXTURE.read_text().splitlines() if line.strip()]
    return [(r["id"], r["subreddit"], r["title"], r["text"], r["label"]) for r in rows]


def reddit_dev_posts() -> list:
    """The reddit-dev posts the default prefilter keeps, read as the pipeline reads them."""
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
    return [p for p in posts if decide(p, "any", rules).keep]


def reddit_dev_samples() -> tuple[list, list, list]:
    """The seeded samples the labels were made for (same seeds, same order), each drawn from
    the posts the earlier ones did not take."""
    rest = sorted(reddit_dev_posts(), key=lambda p: p.post_id)
    samples = []
    for seed, size in (
        (SAMPLE_SEED, SAMPLE_SIZE),
        (BLIND_SEED, BLIND_SIZE),
        (FINAL_SEED, FINAL_SIZE),
    ):
        drawn = random.Random(seed).sample(rest, size)
        taken = {p.post_id for p in drawn}
        rest = [p for p in rest if p.post_id not in taken]
        samples.append(drawn)
    return samples[0], samples[1], samples[2]


def reddit_dev_items() -> dict[str, list[Item]]:
    first, blind, final = reddit_dev_samples()
    by_id = {p.post_id: p for p in first + blind + final}
    halves: dict[str, list[Item]] = defaultdict(list)
    with LABELS.open() as fh:
        for row in csv.DictReader(fh):
            p = by_id[row["post_id"]]
            halves[row["split"]].append(
                (p.post_id, p.subreddit, p.title, p.selftext, row["label"] == "1")
            )
    return halves


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
    }


def report(name: str, rows: list[tuple[Item, dict[str, bool]]], errors: bool) -> None:
    print(f"\n== {name}: {len(rows)} posts, {sum(it[4] for it, _ in rows)} labelled decisions")
    print(f"{'voter':16} {'precision':>9} {'recall':>7} {'accepted':>9}")
    for voter in VOTERS:
        f = figures(rows, voter)
        print(f"{voter:16} {f['precision']:9.2f} {f['recall']:7.2f} {f['accepted']:9.2f}")
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
    args = ap.parse_args()
    report("(a) project-written labelled posts", votes(fixture_items()), args.errors)
    if SHARED.exists() and LABELS.exists():
        halves = reddit_dev_items()
        names = {
            "tune": "(b) reddit-dev first sample, tune half",
            "heldout": "(b) reddit-dev first sample, held-out half",
            "blind": "(b) reddit-dev second sample (blind at its first run)",
            "final": "(b) reddit-dev final sample (held out: run once)",
        }
        for split, name in names.items():
            report(name, votes(halves[split]), args.errors)
        everything = votes([it for split in names for it in halves[split]])
        report("(b) reddit-dev, all labelled posts", everything, False)
    else:
        print(f"\n(b) skipped: {SHARED} not found")


if __name__ == "__main__":
    main()
