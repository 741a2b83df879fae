#!/usr/bin/env python3
"""Write the bundled synthetic Reddit sample under data/raw/sample/.

Why this exists: the pipeline's tests and demos need dump files that look like real Arctic Shift
monthly submission dumps (RS_YYYY-MM, zstd NDJSON, keys sorted) and that contain every defect the
ingest, pre-filter and dedup stages must handle, with the right answer for each line recorded in
MANIFEST.json. Real Reddit text cannot be redistributed, so every post here is written for this
project and assembled from hand-written fragments. The fragments and post texts live as plain
files in scripts/sample_text/ (see its README.md), so this file holds only the logic.

Deterministic: a fixed seed, no clock, no environment input; two runs write identical bytes.
Run with `python scripts/make_sample.py` (needs only the standard library and `zstandard`).
"""

from __future__ import annotations

import argparse
import calendar
import copy
import hashlib
import json
import random
import re
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zstandard

SEED = 20260917
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "data" / "raw" / "sample"
TEXT_DIR = Path(__file__).resolve().parent / "sample_text"
MONTHS = ("2026-09", "2026-10")
ZSTD_LEVEL = 19

CATEGORIES: dict[str, tuple[str, ...]] = {
    "career": ("careerguidance", "AskHR", "consulting"),
    "finance": ("personalfinance", "Frugal", "investing"),
    "education": ("GradSchool", "college", "academia", "gradadmissions"),
    "relationships": ("relationships", "Parenting", "family", "Marriage"),
    "ethics": ("AmItheAsshole", "changemyview", "askphilosophy"),
}
SUB_CATEGORY = {sub: cat for cat, subs in CATEGORIES.items() for sub in subs}

# --- text and data, kept in scripts/sample_text/ ------------------------------------------


def read_text(name: str) -> str:
    """One file from sample_text/; universal newlines keep the output the same on any checkout."""
    return (TEXT_DIR / name).read_text(encoding="utf-8")


# Made-up but plausible community sizes (shown in records as subreddit_subscribers), flairs
# (null: no flair) and the ages a poster may state.
SUBREDDITS: dict[str, dict[str, Any]] = json.loads(read_text("subreddits.json"))
SUBSCRIBERS: dict[str, int] = SUBREDDITS["subscribers"]
FLAIRS: dict[str, list[str | None]] = SUBREDDITS["flairs"]
AGE_RANGES: dict[str, list[int]] = SUBREDDITS["age_ranges"]

FRAGMENTS: dict[str, Any] = tomllib.loads(read_text("fragments.toml"))
OPENERS_AGE: list[str] = FRAGMENTS["openers_age"]
OPENERS: list[str] = FRAGMENTS["openers"]
CONSTRAINTS: dict[str, list[str]] = FRAGMENTS["constraints"]
FEELINGS: list[str] = FRAGMENTS["feelings"]
OPTION_LINES: list[str] = FRAGMENTS["option_lines"]
TITLES: dict[str, list[str]] = FRAGMENTS["titles"]
CLOSINGS: dict[str, dict[str, list[str]]] = FRAGMENTS["closings"]
SIGNOFFS: list[str] = FRAGMENTS["signoffs"]
TLDRS: list[str] = FRAGMENTS["tldrs"]
SLOTS: dict[str, list[str]] = FRAGMENTS["slots"]
EDIT_NOTES: list[str] = FRAGMENTS["edit_notes"]
REPOST_LEADS: list[str] = FRAGMENTS["repost_leads"]
ADJECTIVES: list[str] = FRAGMENTS["authors"]["adjectives"]
NOUNS: list[str] = FRAGMENTS["authors"]["nouns"]

HOSTILE: dict[str, dict[str, Any]] = tomllib.loads(read_text("hostile.toml"))
README_TEMPLATE = read_text("readme_template.md")
KINDS: dict[str, dict[str, str]] = tomllib.loads(read_text("kinds.toml"))
KIND_NOTES = KINDS["kinds"]  # in the order of the README table
MALFORMED_NOTES = KINDS["malformed"]

# Record blocks (see parse_records): clean scenarios per subreddit, then the other kinds.
SCENARIOS = {sub: read_text(f"scenarios/{sub}.txt") for sub in SUB_CATEGORY}
BORDERLINE = read_text("borderline.txt")
FACT_SEEKING = read_text("fact_seeking.txt")
NON_ENGLISH = read_text("non_english.txt")
TOO_SHORT = read_text("too_short.txt")
NSFW = read_text("nsfw.txt")
GONE_TITLES = read_text("gone_titles.txt")
OFF_TOPIC = read_text("off_topic.txt")
STICKIED = read_text("stickied.txt")
SPARE = read_text("spare.txt")

SUB_STYLE = {"AmItheAsshole": "aita", "changemyview": "cmv", "askphilosophy": "philo"}


# --- helpers -------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_IMPLIED_AGE = re.compile(
    r"\bI'm (?:\d\d|twenty|thirty|forty|fifty|sixty)|\b(?:twenties|thirties|forties|fifties|"
    r"sixties)\b|\bretir",
)
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def parse_records(block: str) -> list[dict[str, list[str]]]:
    """Parse a `key: value` record block (a .txt file); indented lines continue the value.

    Kept as plain text so the prose stays readable and each line stays under 100 characters.
    """
    records: list[dict[str, list[str]]] = []
    for chunk in re.split(r"\n\s*\n", block.strip()):
        rec: dict[str, list[str]] = {}
        key = ""
        for raw in chunk.splitlines():
            if raw.startswith("  ") and key:
                rec[key][-1] += " " + raw.strip()
            else:
                key, _, value = raw.partition(":")
                key = key.strip()
                rec.setdefault(key, []).append(value.strip())
        records.append(rec)
    return records


def word_counts(text: str) -> tuple[int, int]:
    """(whitespace tokens, letter words): the two ways a reader is likely to count words."""
    return len(text.split()), len(_WORD.findall(text))


def base36(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = _B36[r] + out
    return out or "0"


def slugify(title: str) -> str:
    """Reddit-style permalink slug: lower case words joined by underscores, about 50 chars."""
    text = title.lower().replace("'", "").replace("’", "")
    words = re.findall(r"[a-z0-9]+", text)
    slug = ""
    for w in words:
        candidate = f"{slug}_{w}" if slug else w
        if len(candidate) > 50:
            break
        slug = candidate
    return slug or "_"


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


class Bag:
    """Draw items without replacement, refilling when empty, so fragments spread evenly."""

    def __init__(self, rng: random.Random, items: list[str]) -> None:
        self.rng, self.items = rng, list(items)
        self.pool: list[str] = []

    def draw(self) -> str:
        if not self.pool:
            self.pool = list(self.items)
            self.rng.shuffle(self.pool)
        return self.pool.pop()


def month_bounds(month: str) -> tuple[int, int]:
    year, mon = (int(x) for x in month.split("-"))
    start = calendar.timegm((year, mon, 1, 0, 0, 0))
    nxt = (year + 1, 1) if mon == 12 else (year, mon + 1)
    return start, calendar.timegm((*nxt, 1, 0, 0, 0))


def month_of(ts: int) -> str:
    for month in MONTHS:
        lo, hi = month_bounds(month)
        if lo <= ts < hi:
            return month
    raise ValueError(f"timestamp {ts} outside {MONTHS}")


START, _ = month_bounds(MONTHS[0])
_, END = month_bounds(MONTHS[-1])


@dataclass
class Post:
    """One submission before it becomes a dump record."""

    kind: str
    sub: str
    title: str
    selftext: str
    ts: int = 0
    author: str = ""
    over_18: bool = False
    stickied: bool = False
    variant: str | None = None  # hostile variant or malformed kind
    origin: Post | None = None  # the earlier post a repost or crosspost copies
    ts_as_string: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    id: str = ""
    record: dict[str, Any] = field(default_factory=dict)


# --- composing clean decision posts -----------------------------------------------------------


class Composer:
    """Builds clean decision posts from a scenario plus shared fragments."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.constraints = {c: Bag(rng, v) for c, v in CONSTRAINTS.items()}
        self.feelings = Bag(rng, FEELINGS)
        self.options = Bag(rng, OPTION_LINES)
        self.openers = Bag(rng, OPENERS)
        self.age_openers = Bag(rng, OPENERS_AGE)
        self.titles = {s: Bag(rng, v) for s, v in TITLES.items()}
        self.closings = {s: {n: Bag(rng, v) for n, v in d.items()} for s, d in CLOSINGS.items()}
        self.signoffs = Bag(rng, SIGNOFFS)

    def fill(self, text: str, slots: dict[str, str]) -> str:
        return text.format_map(slots)

    def constraint(self, sub: str, scenario: str) -> str:
        """Next context fragment for the category that does not clash with the scenario."""
        bag = self.constraints[SUB_CATEGORY[sub]]
        for _ in range(4 * len(bag.items)):
            text = bag.draw()
            if text.startswith("["):
                pattern, _, text = text[1:].partition("] ")
                if re.search(pattern, scenario, re.IGNORECASE):
                    continue
            return text
        raise ValueError(f"no compatible context fragment for: {scenario}")

    def compose(self, sub: str, scen: dict[str, list[str]]) -> tuple[str, str, bool]:
        """Return (title, selftext, uses_throwaway) for one scenario."""
        rng = self.rng
        style = SUB_STYLE.get(sub, "default")
        slots = {k: rng.choice(v) for k, v in SLOTS.items()}
        slots.update(
            months=str(rng.randint(3, 10)),
            k=str(rng.randint(12, 140)),
            n=str(rng.randint(3, 15)),
            mins=str(rng.choice([25, 35, 40, 50, 55, 70])),
            score=str(rng.randint(62, 80) * 10),
            weeks=str(rng.randint(2, 9)),
        )
        topic, sit = scen["t"][0], self.fill(scen["s"][0], slots)
        a, b, stake = scen["a"][0], scen["b"][0], self.fill(scen["k"][0], slots)
        words = {"a": a, "b": b, "topic": topic, "Topic": cap(topic), "A": cap(a)}

        title = self.titles[style].draw().format_map(words)
        opener = ""
        if rng.random() < 0.55:
            if (
                sub in AGE_RANGES
                and not _IMPLIED_AGE.search(sit + " " + stake)
                and (rng.random() < 0.4)
            ):
                lo, hi = AGE_RANGES[sub]
                opener = self.age_openers.draw().format(age=rng.randint(lo, hi))
            else:
                opener = self.openers.draw()
        constraint = self.fill(self.constraint(sub, sit + " " + stake), slots)
        use_options = rng.random() < 0.6
        kind = rng.choice(["both", "one"]) if use_options else "both"
        closing = self.closings[style][kind].draw().format_map(words)
        feeling = self.feelings.draw()

        p1 = " ".join(x for x in (opener, sit) if x)
        p2 = [constraint]
        if use_options:
            p2.append(self.options.draw().format_map(words))
        p3 = [stake, feeling] if rng.random() < 0.6 else [feeling, stake]
        paras = [p1, " ".join(p2), " ".join(p3)]
        if rng.random() < 0.3:
            paras = [p1, " ".join(p2 + p3)]
        last = closing
        if rng.random() < 0.35:
            last += " " + self.signoffs.draw()
        paras.append(last)
        if rng.random() < 0.2:
            paras.append(rng.choice(TLDRS).format_map(words))
        body = "\n\n".join(paras)
        # Pad a short post with a second feeling; real posts this short rarely state stakes.
        while word_counts(body)[0] < 60:
            paras.insert(-1, self.feelings.draw())
            body = "\n\n".join(paras)
        if word_counts(title + "\n\n" + body)[0] > 250:
            raise ValueError(f"clean post too long: {title}")
        return title, body, "hrowaway" in opener


# --- edits for reposts -----------------------------------------------------------------------


def swap_typo(rng: random.Random, text: str) -> str:
    """Swap two inner letters of one longer word: the kind of typo a repost fixes or adds."""
    spots = [
        i
        for m in re.finditer(r"[A-Za-z]{7,}", text)
        for i in range(m.start() + 1, m.end() - 2)
        if text[i].lower() != text[i + 1].lower()
    ]
    i = rng.choice(spots)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def drop_sentence(rng: random.Random, text: str) -> str:
    """Remove the shortest middle sentence that is not a question (keeps cosine >= 0.93)."""
    paras = text.split("\n\n")
    choices = [
        (pi, si)
        for pi, p in enumerate(paras[1:-1], start=1)
        for si, s in enumerate(re.split(r"(?<=[.!])\s+", p))
        if len(re.split(r"(?<=[.!])\s+", p)) > 1 and "?" not in s
    ]
    if not choices:
        return text + "\n\n" + rng.choice(EDIT_NOTES)
    pi, si = min(choices, key=lambda c: len(re.split(r"(?<=[.!])\s+", paras[c[0]])[c[1]]))
    sentences = re.split(r"(?<=[.!])\s+", paras[pi])
    del sentences[si]
    paras[pi] = " ".join(sentences)
    return "\n\n".join(paras)


def near_duplicate(rng: random.Random, title: str, body: str) -> tuple[str, str, str]:
    """A small, word-level edit (so a case/punctuation-insensitive hash still differs) plus
    sometimes a cosmetic change. Returns (title, body, description)."""
    op = rng.choice(["edit_note", "lead", "drop", "typo", "typo_title"])
    if op == "edit_note":
        body, how = body + "\n\n" + rng.choice(EDIT_NOTES), "appended an edit note"
    elif op == "lead":
        body, how = rng.choice(REPOST_LEADS) + "\n\n" + body, "added a first sentence"
    elif op == "drop":
        body, how = drop_sentence(rng, body), "removed a sentence"
    elif op == "typo":
        body, how = swap_typo(rng, body), "changed one word's spelling"
    else:
        title, how = swap_typo(rng, title + " (repost)"), "retitled with a typo"
    cosmetic = rng.choice(["none", "lower_title", "spaces", "trailing"])
    if cosmetic == "lower_title":
        title, how = title.lower(), how + ", lower-cased title"
    elif cosmetic == "spaces":
        body, how = body.replace(". ", ".  ", 3), how + ", double spaces"
    elif cosmetic == "trailing":
        body, how = body.replace("\n\n", " \n\n", 2) + "\n", how + ", trailing whitespace"
    return title, body, how


# --- hostile posts ---------------------------------------------------------------------------

DAYS = ["Friday", "Saturday"]


def oversized_selftext(n_chars: int = 60_000) -> str:
    """A long but repetitive body, exactly n_chars characters, ending with the question."""
    ending = "\n\nSo, WIBTA if I tell them it's one weekend a month from now on?"
    spec = HOSTILE["oversized_selftext"]
    events: list[str] = spec["events"]
    lines = [spec["intro"], ""]
    week = 1
    while sum(len(x) + 1 for x in lines) < n_chars:
        event = events[(week * 5) % len(events)]
        day = DAYS[week % 2]
        lines.append(f"Week {week}: arrived {day} around {5 + week % 4}pm, left Sunday, {event}.")
        week += 1
    text = "\n".join(lines)
    head = text[: text.rfind("\n", 0, n_chars - len(ending))]
    gap = n_chars - len(ending) - len(head)
    filler = ("\nAnd the same again. " * (gap // 20 + 2))[:gap]
    if filler.endswith(" "):
        filler = filler[:-1] + "."
    return head + filler + ending


ZW = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]
CONTROL = ["\x00", "\x07", "\x08", "\x1b[31m", "\x1b[0m", "\x7f", "\x85"]


def invisible_text(rng: random.Random) -> str:
    """A real decision post salted with zero-width, control, bidi and line-separator chars."""
    out = []
    for ch in HOSTILE["invisible_and_control_chars"]["body"]:
        out.append(ch)
        r = rng.random()
        if r < 0.18:
            out.append(rng.choice(ZW))
        elif r < 0.21:
            out.append(rng.choice(CONTROL))
    return (
        "\ufeff" + "".join(out) + "\n\n\u202eesrever ni si txet siht\u202c\u2028"
        "line\u2029separators\x85next\u00a0line\u3000odd\u2003spaces."
    )


# --- building the posts ----------------------------------------------------------------------

REPOST_COUNTS = {"exact_duplicate_repost": 8, "near_duplicate_repost": 10, "crosspost": 5}
REMOVAL_TYPES = [
    "moderator",
    "moderator",
    "automod_filtered",
    "moderator",
    "reddit",
    "moderator",
    "moderator",
    "automod_filtered",
]
CROSSPOST_TARGETS = {
    "career": ["AskHR", "careerguidance", "personalfinance"],
    "finance": ["Frugal", "personalfinance", "investing"],
    "education": ["GradSchool", "academia", "college"],
    "relationships": ["relationships", "Marriage", "family", "AmItheAsshole"],
    "ethics": ["relationships", "askphilosophy", "AmItheAsshole"],
}


class Builder:
    """Creates every post, its time, id and author, then the dump records."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.posts: list[Post] = []
        self.authors: set[str] = set()
        self.same_id_dups: list[dict[str, Any]] = []
        self.malformed: list[dict[str, Any]] = []
        self.blank_lines: list[dict[str, Any]] = []

    # -- people and times --
    def author(self, throwaway: bool = False) -> str:
        rng = self.rng
        while True:
            adj, noun = rng.choice(ADJECTIVES), rng.choice(NOUNS)
            style = "throwaway" if throwaway else rng.choice(["camel", "dash", "lower", "plain"])
            if style == "throwaway":
                name = f"throwaway_{noun.lower()}{rng.randint(10, 9999)}"
            elif style == "camel":
                name = f"{adj}{noun}{rng.randint(1, 999)}"
            elif style == "dash":
                name = f"{adj}-{noun}-{rng.randint(1000, 9999)}"
            elif style == "lower":
                name = f"{adj.lower()}_{noun.lower()}_{rng.randint(10, 99)}"
            else:
                name = f"{noun}{adj}"
            if name not in self.authors:
                self.authors.add(name)
                return name

    def random_ts(self, month: str | None = None) -> int:
        lo, hi = month_bounds(month) if month else (START, END)
        return self.rng.randrange(lo, hi)

    def add(self, post: Post, month: str | None = None) -> Post:
        if not post.ts:
            post.ts = self.random_ts(month)
        if not post.author:
            post.author = self.author()
        self.posts.append(post)
        return post

    # -- kinds --
    def build_posts(self) -> None:
        rng = self.rng
        composer = Composer(rng)
        for sub in SUB_CATEGORY:
            for scen in parse_records(SCENARIOS[sub]):
                title, body, throwaway = composer.compose(sub, scen)
                self.add(Post("clean", sub, title, body, author=self.author(throwaway)))
        for rec in parse_records(BORDERLINE):
            self.add(Post("borderline", rec["sub"][0], rec["title"][0], "\n\n".join(rec["body"])))
        for rec in parse_records(FACT_SEEKING):
            self.add(Post("fact_seeking", rec["sub"][0], rec["title"][0], rec["body"][0]))
        for rec in parse_records(NON_ENGLISH):
            self.add(
                Post(
                    "non_english",
                    rec["sub"][0],
                    rec["title"][0],
                    rec["body"][0],
                    variant=rec["lang"][0],
                )
            )
        for rec in parse_records(TOO_SHORT):
            self.add(Post("too_short", rec["sub"][0], rec["title"][0], rec["body"][0]))
        for rec in parse_records(NSFW):
            self.add(
                Post("nsfw", rec["sub"][0], rec["title"][0], "\n\n".join(rec["body"]), over_18=True)
            )
        for i, rec in enumerate(parse_records(GONE_TITLES)):
            if i % 2 == 0:
                post = Post(
                    "removed",
                    rec["sub"][0],
                    rec["title"][0],
                    "[removed]",
                    variant=REMOVAL_TYPES[i // 2],
                )
            else:
                post = Post(
                    "deleted",
                    rec["sub"][0],
                    rec["title"][0],
                    "[deleted]",
                    author="[deleted]",
                    variant="deleted",
                )
            self.add(post)
        for rec in parse_records(OFF_TOPIC):
            body = rec.get("body", [""])[0]
            self.add(Post("off_topic_subreddit", rec["sub"][0], rec["title"][0], body))
        for i, rec in enumerate(parse_records(STICKIED)):
            month = MONTHS[i]
            lo, _ = month_bounds(month)
            ts = lo + (6 * 86400 if i == 0 else 0) + rng.randrange(8 * 3600, 14 * 3600)
            self.add(
                Post(
                    "stickied_mod_post",
                    rec["sub"][0],
                    rec["title"][0],
                    "\n\n".join(rec["body"]),
                    ts=ts,
                    author=rec["author"][0],
                    stickied=True,
                )
            )
        self.add_hostile()
        self.add_reposts()
        spares = parse_records(SPARE)
        for rec, kind, month in zip(
            spares,
            ["truncated_json", "invalid_utf8", "missing_id"],
            ["2026-09", "2026-09", "2026-10"],
            strict=True,
        ):
            self.add(
                Post("malformed", rec["sub"][0], rec["title"][0], rec["body"][0], variant=kind),
                month,
            )
        clean = [p for p in self.posts if p.kind == "clean"]
        facts = [p for p in self.posts if p.kind == "fact_seeking"]
        for p in [*rng.sample(clean, 4), rng.choice(facts)]:
            p.ts_as_string = True

    def add_hostile(self) -> None:
        """One post per table of hostile.toml, in file order; two bodies are built here."""
        built = {
            "invisible_and_control_chars": invisible_text(self.rng),
            "oversized_selftext": oversized_selftext(),
        }
        for variant, spec in HOSTILE.items():
            body = built[variant] if variant in built else spec["body"]
            self.add(Post("hostile", spec["sub"], spec["title"], body, variant=variant))

    def add_reposts(self) -> None:
        """Reposts and crossposts copy distinct earlier clean posts; some cross the month."""
        rng = self.rng
        clean = sorted((p for p in self.posts if p.kind == "clean"), key=lambda p: p.ts)
        boundary, _ = month_bounds(MONTHS[1])
        used: set[int] = set()

        def pick(max_ts: int, prefer_late_sep: bool) -> Post:
            pool = [p for p in clean if p.ts < max_ts and id(p) not in used]
            if prefer_late_sep:
                late = [p for p in pool if boundary - 12 * 86400 <= p.ts < boundary]
                pool = late or pool
            choice = rng.choice(pool)
            used.add(id(choice))
            return choice

        for kind, n in REPOST_COUNTS.items():
            for i in range(n):
                if kind == "crosspost":
                    delay = rng.randrange(600, 36 * 3600)
                elif kind == "near_duplicate_repost":
                    delay = rng.randrange(3 * 3600, 20 * 86400)
                else:
                    delay = rng.randrange(2 * 86400, 25 * 86400)
                orig = pick(END - delay - 3600, prefer_late_sep=(i % 2 == 0 and delay > 86400))
                ts = orig.ts + delay
                title, body, sub = orig.title, orig.selftext, orig.sub
                author, variant = "", None
                if kind == "near_duplicate_repost":
                    title, body, variant = near_duplicate(rng, title, body)
                    author = orig.author if i % 3 == 0 else ""  # OP reposting, or someone else
                elif kind == "exact_duplicate_repost":
                    if i >= 6:  # a karma farmer re-posting into a neighbouring community
                        sub = rng.choice(
                            [s for s in CATEGORIES[SUB_CATEGORY[orig.sub]] if s != orig.sub]
                        )
                else:
                    targets = [
                        s for s in CROSSPOST_TARGETS[SUB_CATEGORY[orig.sub]] if s != orig.sub
                    ]
                    sub = rng.choice(targets)
                    author = orig.author
                    if i % 2 == 1:
                        body = (
                            f"Crossposting from r/{orig.sub} because I didn't get many "
                            f"answers there.\n\n{body}"
                        )
                self.add(
                    Post(kind, sub, title, body, ts=ts, author=author, origin=orig, variant=variant)
                )

    # -- ids and records --
    def assign_ids(self) -> None:
        """Ids grow with creation time, like Reddit's, at roughly Reddit's real rate."""
        rng = self.rng
        self.posts.sort(key=lambda p: p.ts)
        prev = 0
        for p in self.posts:
            n = 4_200_000_000 + (p.ts - START) * 17 + rng.randrange(0, 17)
            n = max(n, prev + 1 + rng.randrange(0, 5))
            p.id, prev = base36(n), n
            assert len(p.id) == 7

    def record(self, p: Post) -> dict[str, Any]:
        rng = self.rng
        permalink = f"/r/{p.sub}/comments/{p.id}/{slugify(p.title)}/"
        gone = p.kind in ("removed", "deleted")
        score = 1 if gone else max(0, int(rng.lognormvariate(2.3, 1.4)))
        if p.kind == "stickied_mod_post":
            score = rng.randrange(20, 90)
        edited: float | bool = False
        if p.kind == "clean" and rng.random() < 0.08:
            edited = float(p.ts + rng.randrange(600, 30_000))
        sub_hash = hashlib.sha256(p.sub.lower().encode()).digest()
        rec: dict[str, Any] = {
            "_meta": {
                "is_edited": bool(edited),
                "removal_type": None,
                "retrieved_2nd_on": p.ts + 129_600 + rng.randrange(0, 7200),
                "was_deleted_later": False,
                "was_initially_deleted": False,
            },
            "all_awardings": [],
            "archived": False,
            "author": p.author,
            "author_flair_text": None,
            "author_fullname": "t2_"
            + base36(int.from_bytes(hashlib.sha256(p.author.encode()).digest()[:6], "big"))[-8:],
            "author_premium": rng.random() < 0.05,
            "can_mod_post": False,
            "contest_mode": False,
            "created_utc": str(p.ts) if p.ts_as_string else p.ts,
            "distinguished": "moderator" if p.stickied else None,
            "domain": f"self.{p.sub}",
            "edited": edited,
            "gilded": 0,
            "hidden": False,
            "hide_score": False,
            "id": p.id,
            "is_crosspostable": not gone,
            "is_original_content": False,
            "is_self": True,
            "is_video": False,
            "link_flair_text": rng.choice(FLAIRS.get(p.sub, [None])),
            "locked": p.stickied,
            "media": None,
            "name": "t3_" + p.id,
            "num_comments": 0 if gone else max(0, int(rng.lognormvariate(2.0, 1.3))),
            "num_crossposts": 0,
            "over_18": p.over_18,
            "permalink": permalink,
            "pinned": False,
            "removed_by_category": None,
            "retrieved_on": p.ts + rng.randrange(8, 120),
            "score": score,
            "selftext": p.selftext,
            "send_replies": True,
            "spoiler": False,
            "stickied": p.stickied,
            "subreddit": p.sub,
            "subreddit_id": "t5_" + base36(int.from_bytes(sub_hash[:4], "big") % 36**6),
            "subreddit_name_prefixed": "r/" + p.sub,
            "subreddit_subscribers": SUBSCRIBERS[p.sub],
            "subreddit_type": "public",
            "thumbnail": "self",
            "title": p.title,
            "total_awards_received": 0,
            "ups": score,
            "upvote_ratio": 1.0 if gone else round(rng.uniform(0.55, 1.0), 2),
            "url": "https://www.reddit.com" + permalink,
        }
        if p.kind == "removed":
            rec["_meta"].update(
                removal_type=p.variant,
                was_deleted_later=True,
                was_initially_deleted=rng.random() < 0.5,
            )
            rec["removed_by_category"] = p.variant
        elif p.kind == "deleted":
            rec["_meta"].update(removal_type="deleted", was_deleted_later=True)
            rec["removed_by_category"] = "deleted"
            del rec["author_fullname"]  # Reddit drops it with the account
        elif p.kind == "off_topic_subreddit" and not p.selftext:
            image = "".join(rng.choice(_B36) for _ in range(13))
            rec.update(
                domain="i.redd.it",
                is_self=False,
                post_hint="image",
                thumbnail=f"https://b.thumbs.redditmedia.com/{image}.jpg",
                url=f"https://i.redd.it/{image}.jpeg",
            )
        return rec

    def build_records(self) -> None:
        for p in self.posts:
            p.record = self.record(p)
        for p in self.posts:
            if p.kind == "crosspost" and p.origin is not None:
                parent = p.origin.record
                parent["num_crossposts"] += 1
                p.record.update(
                    crosspost_parent="t3_" + p.origin.id,
                    crosspost_parent_list=[
                        {k: copy.deepcopy(v) for k, v in parent.items() if k != "_meta"}
                    ],
                    domain=f"self.{p.origin.sub}",
                    is_self=False,
                    url=parent["permalink"],
                )
        # A crosspost's parent list is a snapshot taken after the count above was bumped.

    # -- lines --
    def lines_for(self, month: str) -> list[tuple[bytes, Post | None, str]]:
        """(line bytes, post or None, label) in time order, with malformed lines in place."""
        out: list[tuple[bytes, Post | None, str]] = []
        for p in self.posts:
            if month_of(p.ts) != month:
                continue
            line = json.dumps(
                p.record, sort_keys=True, ensure_ascii=False, separators=(",", ":")
            ).encode("utf-8")
            label = p.kind
            if p.kind == "malformed":
                label = str(p.variant)
                if p.variant == "truncated_json":
                    line = line[: int(len(line) * 0.55)]
                elif p.variant == "invalid_utf8":
                    marker = b"rains a lot"
                    assert line.count(marker) == 1
                    line = line.replace(marker, b"rains a lot \xff\xfe caf\xe9 \xc3\x28")
                elif p.variant == "missing_id":
                    rec = {k: v for k, v in p.record.items() if k not in ("id", "name")}
                    line = json.dumps(
                        rec, sort_keys=True, ensure_ascii=False, separators=(",", ":")
                    ).encode("utf-8")
            out.append((line, p, label))
        return out

    def garbage(self) -> bytes:
        """NULs and other control bytes, all below 0x80 (so it decodes) and not JSON."""
        rng = self.rng
        allowed = [b for b in range(0x80) if b not in (0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E)]
        body = bytes(rng.choice(allowed) for _ in range(240))
        return b"\x00" * 24 + b"\x7fELF\x02\x01\x01" + body

    def assemble(self, month: str, fname: str) -> list[bytes]:
        rng = self.rng
        items = self.lines_for(month)
        # Byte-for-byte repeats of earlier lines (same id), a few lines further on.
        n_dups = 3 if month == MONTHS[0] else 2
        candidates = [
            i
            for i, (_, p, lab) in enumerate(items)
            if p is not None
            and lab in ("clean", "borderline", "nsfw", "fact_seeking")
            and i < len(items) - 10
        ]
        for i in sorted(rng.sample(candidates, n_dups), reverse=True):
            line, p, _ = items[i]
            j = min(len(items), i + rng.randint(3, 40))
            items.insert(j, (line, p, "same_id_duplicate"))
        extras: list[tuple[bytes, Post | None, str]] = [(b"", None, "blank")]
        if month == MONTHS[0]:
            extras.append((b'["not", "a", "submission", 42, null]', None, "not_an_object"))
        else:
            extras.append((self.garbage(), None, "binary_garbage"))
        for extra in extras:
            items.insert(rng.randrange(5, len(items) - 5), extra)

        lines: list[bytes] = []
        first_line: dict[str, int] = {}
        for n, (line, p, label) in enumerate(items, start=1):
            lines.append(line)
            if label == "same_id_duplicate" and p is not None:
                self.same_id_dups.append(
                    {"file": fname, "line": n, "id": p.id, "first_line": first_line[p.id]}
                )
            elif label == "blank":
                self.blank_lines.append({"file": fname, "line": n})
            elif label in (
                "truncated_json",
                "invalid_utf8",
                "missing_id",
                "not_an_object",
                "binary_garbage",
            ):
                entry: dict[str, Any] = {"file": fname, "line": n, "kind": label}
                if label in ("truncated_json", "invalid_utf8") and p is not None:
                    entry["id"] = p.id  # visible in the bytes, but not a usable record
                self.malformed.append(entry)
            elif p is not None:
                first_line[p.id] = n
        return lines


# --- checks, manifest, readme, output --------------------------------------------------------


def check(builder: Builder) -> None:
    """Fail loudly if a fragment edit breaks a property the tests rely on."""
    posts = [p for p in builder.posts if p.kind != "malformed"]
    kinds = Counter(p.kind for p in posts)
    clean = [p for p in posts if p.kind == "clean"]
    assert kinds["clean"] >= 260, kinds
    for sub in SUB_CATEGORY:
        assert sum(p.sub == sub for p in clean) >= 12, sub
    for cat in CATEGORIES:
        assert sum(SUB_CATEGORY[p.sub] == cat for p in clean) >= 50, cat
    assert len({p.title for p in clean}) == len(clean), "duplicate clean titles"
    assert len({p.id for p in builder.posts}) == len(builder.posts), "duplicate ids"
    for p in posts:
        split, letters = word_counts(f"{p.title}\n\n{p.selftext}")
        if p.kind in ("clean", "nsfw"):
            assert 60 <= split <= 250 and letters >= 45 and "?" in p.title + p.selftext, p.title
        elif p.kind == "too_short":
            assert split < 40 and letters < 40, p.title
        elif p.kind in ("fact_seeking", "non_english"):
            assert split >= 45 and letters >= 45, p.title
        elif p.kind == "borderline":
            assert split >= 60 and "?" not in p.title + p.selftext, p.title
        if p.kind == "off_topic_subreddit":
            assert p.sub not in SUB_CATEGORY
        else:
            assert p.sub in SUB_CATEGORY, p.sub
        if p.kind == "exact_duplicate_repost" and p.origin is not None:
            assert (p.title, p.selftext) == (p.origin.title, p.origin.selftext)
            assert p.author != p.origin.author and p.ts > p.origin.ts
        if p.kind in ("near_duplicate_repost", "crosspost") and p.origin is not None:
            assert p.ts > p.origin.ts
            norm = " ".join(re.findall(r"\w+", f"{p.title}\n{p.selftext}".lower()))
            orig = " ".join(re.findall(r"\w+", f"{p.origin.title}\n{p.origin.selftext}".lower()))
            assert p.kind == "crosspost" or norm != orig, "near duplicate only differs in case"
    oversized = [p for p in posts if p.variant == "oversized_selftext"]
    assert len(oversized) == 1 and len(oversized[0].selftext) == 60_000


def manifest(builder: Builder) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p in builder.posts:
        if p.kind != "malformed":
            out[p.id] = p.kind
    out["_malformed"] = builder.malformed
    out["_same_id_duplicates"] = builder.same_id_dups
    out["_blank_lines"] = builder.blank_lines
    out["_duplicate_of"] = {p.id: p.origin.id for p in builder.posts if p.origin is not None}
    out["_near_duplicate_edits"] = {
        p.id: p.variant for p in builder.posts if p.kind == "near_duplicate_repost"
    }
    out["_hostile"] = {p.id: p.variant for p in builder.posts if p.kind == "hostile"}
    out["_non_english_language"] = {
        p.id: p.variant for p in builder.posts if p.kind == "non_english"
    }
    out["_created_utc_as_string"] = sorted(p.id for p in builder.posts if p.ts_as_string)
    out["_generator"] = {"script": "scripts/make_sample.py", "seed": SEED}
    return out


NL = b"\n"


def readme(builder: Builder, files: dict[str, bytes]) -> str:
    posts = [p for p in builder.posts if p.kind != "malformed"]
    kinds = Counter(p.kind for p in posts)
    clean_by_sub = Counter(p.sub for p in posts if p.kind == "clean")
    lines_total = sum(data.count(b"\n") for data in files.values())
    rows = [f"| `{k}` | {kinds[k]} | {KIND_NOTES[k]} |" for k in KIND_NOTES]
    rows.append(
        f"| `exact_duplicate_line` | {len(builder.same_id_dups)} | a byte-for-byte "
        "repeat of an earlier line (same id); see `_same_id_duplicates` |"
    )
    mal = Counter(m["kind"] for m in builder.malformed)
    rows += [f"| `{k}` (malformed) | {mal[k]} | {v} |" for k, v in MALFORMED_NOTES.items()]
    rows.append(f"| blank line | {len(builder.blank_lines)} | an empty line, not a record |")
    sub_rows = [
        f"| {cat} | {sub} | {clean_by_sub[sub]} |"
        for cat, subs in CATEGORIES.items()
        for sub in subs
    ]
    file_rows = [f"| `{name}` | {data.count(NL)} |" for name, data in files.items()]
    return README_TEMPLATE.format(
        seed=SEED,
        lines_total=lines_total,
        file_rows="\n".join(file_rows),
        kind_rows="\n".join(rows),
        sub_rows="\n".join(sub_rows),
    )


def write_outputs(out_dir: Path) -> dict[str, Any]:
    builder = Builder(SEED)
    builder.build_posts()
    builder.assign_ids()
    builder.build_records()
    check(builder)
    files: dict[str, bytes] = {}
    for month in MONTHS:
        name = f"RS_{month}.sample.ndjson.zst"
        files[name] = b"\n".join(builder.assemble(month, name)) + b"\n"
    out_dir.mkdir(parents=True, exist_ok=True)
    compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_checksum=True)
    sizes = {}
    for name, data in files.items():
        blob = compressor.compress(data)
        (out_dir / name).write_bytes(blob)
        sizes[name] = len(blob)
    man = manifest(builder)
    (out_dir / "MANIFEST.json").write_text(
        json.dumps(man, indent=1, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8"
    )
    (out_dir / "README.md").write_text(readme(builder, files), encoding="utf-8")
    return {"sizes": sizes, "lines": {k: v.count(b"\n") for k, v in files.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    args = parser.parse_args()
    summary = write_outputs(args.out)
    for name, size in summary["sizes"].items():
        print(f"{args.out / name}: {summary['lines'][name]} lines, {size:,} bytes")


if __name__ == "__main__":
    main()
