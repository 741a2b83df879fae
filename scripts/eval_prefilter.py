#!/usr/bin/env python3
"""Check the pre-filter's rules on real posts, and measure its speed on generated ones.

Why: the rules run on every post of the source (millions), and each drop must be right on posts
nobody here wrote. Two commands:

  real   every post of ../shared/reddit-dev (the NDJSON dump lines, the API listing page and
         the three CSV imports, read by the project's own readers) through `decide`; prints per
         file and per rule how many it drops, and with --show the post ids and titles of the
         drops, to be looked at by eye (never copied into the project).
  bench  `decide` and the whole stage (`prefilter.run` on a store) on a generated set of posts
         (--posts, default 100,000) of realistic shape; prints posts/s (`decide`: per CPU
         second of this process, median of --repeat; the stage: wall clock, once).

Run: PYTHONPATH=$PWD python scripts/eval_prefilter.py real [--show REASON] [--limit N]
     PYTHONPATH=$PWD python scripts/eval_prefilter.py bench [--posts 100000] [--stage]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.prefilter import decide
from pipeline.settings import PrefilterSettings, TableImport
from pipeline.sources.dumps import RecordError, to_post
from pipeline.sources.tables import iter_table_records
from pipeline.text import english_ratio, post_text, words
from schemas import FilterDecision, Post

SHARED = Path("/work/shared/reddit-dev")  # ../shared/reddit-dev beside the checkout

# The three CSV shapes, mapped as the README's [[source.imports]] examples map them.
IMPORTS: dict[str, TableImport] = {
    "umbrae-top2013-Advice.csv": TableImport(path="x", subreddit="Advice"),
    "umbrae-top2013-relationship_advice.csv": TableImport(
        path="x", subreddit="relationship_advice"
    ),
    "cassiebuhler-AmItheAsshole-2015-2020.csv": TableImport(
        path="x",
        subreddit="AmItheAsshole",
        columns={
            "id": "Link",
            "permalink": "Link",
            "url": "Link",
            "title": "Title",
            "selftext": "Content",
            "created_utc": "Date",
            "score": "numUpvotes",
            "num_comments": "numComments",
        },
    ),
}


def real_posts(folder: Path) -> Iterator[tuple[str, Post]]:
    """(file name, post) for every readable record of the development set."""
    for name, spec in IMPORTS.items():
        for line, rec in iter_table_records(folder / name, spec):
            if isinstance(rec, RecordError):
                print(f"{name}:{line}: {rec.reason}", file=sys.stderr)
                continue
            yield name, to_post(rec, name, line)
    ndjson = folder / "reddit-api-submissions-AmITheDevil-2023-07.ndjson"
    for i, line in enumerate(ndjson.read_text(encoding="utf-8").splitlines(), 1):
        yield ndjson.name, to_post(json.loads(line), ndjson.name, i)


def listing_posts(folder: Path) -> list[Post]:
    """The API listing page: the same 27 posts as the NDJSON file, in the API's shape."""
    listing = folder / "reddit-api-listing-AmITheDevil-2023-07.json"
    children = json.loads(listing.read_text(encoding="utf-8"))["data"]["children"]
    return [to_post(c["data"], listing.name, i) for i, c in enumerate(children, 1)]


def real(args: argparse.Namespace) -> None:
    rules = PrefilterSettings()
    per_file: dict[str, Counter[str]] = {}
    drops: dict[str, list[tuple[str, Post, FilterDecision]]] = {}
    for name, post in real_posts(args.data):
        # Every post is of a subreddit the evaluation treats as configured: the rules, not the
        # category list, are under test.
        d = decide(post, "eval", rules)
        reason = d.reason or "kept"
        per_file.setdefault(name, Counter())[reason] += 1
        drops.setdefault(reason, []).append((name, post, d))
    reasons = sorted({r for c in per_file.values() for r in c})
    width = max(len(n) for n in per_file)
    print(f"{'file':{width}}  " + "  ".join(f"{r:>11}" for r in reasons))
    for name, counts in per_file.items():
        print(f"{name:{width}}  " + "  ".join(f"{counts[r]:>11}" for r in reasons))
    total = sum((Counter(c) for c in per_file.values()), Counter())
    print(f"{'all':{width}}  " + "  ".join(f"{total[r]:>11}" for r in reasons))
    by_id = {post.post_id: d for rows in drops.values() for _, post, d in rows}
    same = all(
        (d := decide(p, "eval", rules)).reason == by_id[p.post_id].reason
        and d.detail == by_id[p.post_id].detail
        for p in listing_posts(args.data)
    )
    print(f"API listing page (the NDJSON file's 27 posts): same decisions: {same}")
    kept = sorted(
        (english_ratio(words(post_text(p.title, p.selftext))), p.post_id)
        for _, p, _ in drops.get("kept", [])
    )
    low = ", ".join(f"{pid} {r:.2f}" for r, pid in kept[:5])
    print(f"lowest English ratios kept (drop under {rules.min_english_ratio}): {low}")
    for reason in args.show or []:
        rows = drops.get(reason, [])
        print(f"\n== {reason}: {len(rows)}")
        for name, post, d in rows[: args.limit]:
            print(
                f"{post.post_id:8} {name[:22]:22} {d.detail or '':30.30} "
                f"{post.author or '-':20.20} {post.url or '-':40.40} | {post.title[:100]!r}"
            )


# -- generated posts for the speed measurement ------------------------------------------------

_OPENERS = (
    "I have been at my job for {n} years and",
    "My partner and I have been together since college and",
    "So this is a long one, sorry in advance, but",
    "Throwaway because my family knows my main account.",
    "I (2{d}F) need some outside perspective because",
    "Long time lurker, first time posting here.",
)
_SENTENCES = (
    "my manager offered me a promotion that would mean moving to another city",
    "we have been saving for a house for two years and the market keeps going up",
    "my sister asked me to co-sign a loan and I do not know if I can trust her with it",
    "I found out that my best friend has been talking about me behind my back",
    "the new role pays about {n}0 percent more but the hours are much longer",
    "my parents expect me to take over the family business after I graduate",
    "I have a job offer from a startup and another one from a large bank",
    "he told me that he needs space but he still texts me every single night",
    "my landlord wants to raise the rent and I am thinking about moving out",
    "I keep going back and forth on whether to tell her what I saw at the party",
    "she said it was fine but I could tell from her face that it was not fine at all",
    "there is also the question of who looks after our dog while we are away",
)
_LINKED = (
    "here is the listing I mean https://www.example.com/jobs/{n}{d}?ref=share&utm=abc",
    "I wrote down the numbers [in this sheet](https://docs.example.org/d/{n}{d}/edit)",
    "the company is on glassdoor.com/Reviews/{n}{d} with mixed reviews",
)
_CLOSERS = (
    "Should I take it or stay where I am?",
    "What would you do in my position?",
    "AITA for saying no?",
    "Any advice is welcome, thank you for reading this far.",
    "Am I overreacting here or is this a real problem?",
)
_TITLES = (
    "Should I take the offer in {c}?",
    "AITA for refusing to lend my brother money?",
    "Torn between two offers",
    "My (2{d}F) boyfriend (2{n}M) wants to move in, should I say yes?",
    "Is it wrong to skip my cousin's wedding?",
)
_UPDATES = ("UPDATE: the job offer situation", "Should I tell my sister? [update]")
_THREADS = ("Weekly career questions thread", "[META] Please read the rules before posting")
_SPANISH = (
    "Hola a todos, tengo una duda muy grande sobre mi trabajo y mi familia, no se que hacer "
    "con mi vida ahora mismo y necesito consejos por favor."
)


def generated_posts(n: int, seed: int = 7) -> list[Post]:
    """n posts of realistic shape (about 190 words on average, a lognormal spread; some with
    links, some removed, link posts, bots, updates, megathreads, non-English, empty, huge)."""
    rnd = random.Random(seed)
    out: list[Post] = []
    for i in range(n):
        fill: dict[str, Any] = {"n": rnd.randint(1, 9), "d": rnd.randint(0, 9), "c": "Ohio"}
        kind = rnd.random()  # a follow-up in 30, a scheduled thread in 200: the rest ask
        pool = _UPDATES if kind < 1 / 30 else _THREADS if kind < 1 / 30 + 1 / 200 else _TITLES
        title = rnd.choice(pool).format(**fill)
        n_sent = max(0, int(rnd.lognormvariate(2.2, 0.7)))
        sentences = [rnd.choice(_SENTENCES).format(**fill) + "." for _ in range(n_sent)]
        if sentences and rnd.random() < 0.1:  # about one post in ten holds a link
            sentences[rnd.randrange(len(sentences))] = rnd.choice(_LINKED).format(**fill) + "."
        body = " ".join([rnd.choice(_OPENERS).format(**fill), *sentences, rnd.choice(_CLOSERS)])
        roll = rnd.random()
        author, url, removed, over_18 = f"user{i}", None, None, False
        if roll < 0.03:
            body, removed = "[removed]", "removed"
        elif roll < 0.05:
            body, removed = "[deleted]", "deleted"
        elif roll < 0.07:
            body = _SPANISH * 3
        elif roll < 0.09:
            url = f"https://i.imgur.com/{i}.jpg"
            body = ""
        elif roll < 0.10:
            author = "AutoModerator"
        elif roll < 0.11:
            over_18 = True
        elif roll < 0.115:
            body = "x" * 30_000
        elif roll < 0.12:
            body = ""
        post_id = f"g{i:07d}"
        out.append(
            Post(
                post_id=post_id,
                subreddit="careerguidance",
                title=title,
                selftext=body,
                author=author,
                created_utc=1_600_000_000 + i,
                over_18=over_18,
                stickied=False,
                crosspost_parent=None,
                permalink=f"/r/careerguidance/comments/{post_id}/x/",
                url=url or f"https://www.reddit.com/r/careerguidance/comments/{post_id}/x/",
                score=rnd.randint(0, 500),
                num_comments=rnd.randint(0, 80),
                removed=removed,
                source_file="generated",
                source_line=i + 1,
                content_sha=f"{i:032x}",
            )
        )
    return out


def _stage_seconds(posts: list[Post]) -> float:
    """One `prefilter.run` over a fresh store holding the posts (load and write included)."""
    from pipeline import prefilter
    from pipeline.context import RunContext
    from pipeline.settings import Settings
    from pipeline.store import Provenance, Store

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(processed_dir=Path(tmp) / "processed", source={"raw_dir": tmp})
        settings.processed_dir.mkdir()
        with Store.open(settings.db_path) as store:
            ctx = RunContext(settings=settings, store=store, run_id="bench")
            prov = Provenance("ingest", "bench", "bench", "bench")
            store.put("posts", posts, prov, [p.content_sha for p in posts])
            start = time.perf_counter()
            report = prefilter.run(ctx)
            seconds = time.perf_counter() - start
            assert report.processed == len(posts), report
    return seconds


def bench(args: argparse.Namespace) -> None:
    posts = generated_posts(args.posts)
    rules = PrefilterSettings()
    words = sum(len((p.title + " " + p.selftext).split()) for p in posts) / len(posts)
    print(f"{len(posts):,} generated posts, {words:.0f} words on average")
    times = []
    for _ in range(args.repeat):  # CPU time of this process: the machine is shared
        start = time.process_time()
        decisions = [decide(p, "career", rules) for p in posts]
        times.append(time.process_time() - start)
    med = statistics.median(times)
    print(f"decide: {len(posts) / med:,.0f} posts/s (median of {args.repeat}, {med:.2f} CPU s)")
    print(
        "  "
        + ", ".join(
            f"{r}: {c}" for r, c in Counter(d.reason or "kept" for d in decisions).most_common()
        )
    )
    if args.stage:
        seconds = _stage_seconds(posts)
        print(
            f"stage (prefilter.run on a store): {len(posts) / seconds:,.0f} posts/s "
            f"({seconds:.1f} s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("real", help="rule counts on ../shared/reddit-dev")
    r.add_argument("--data", type=Path, default=SHARED)
    r.add_argument("--show", action="append", help="list the posts dropped for this reason")
    r.add_argument("--limit", type=int, default=1000)
    b = sub.add_parser("bench", help="posts/s on generated posts")
    b.add_argument("--posts", type=int, default=100_000)
    b.add_argument("--repeat", type=int, default=5)
    b.add_argument("--stage", action="store_true", help="also time prefilter.run on a store")
    args = parser.parse_args()
    real(args) if args.command == "real" else bench(args)


if __name__ == "__main__":
    main()
