"""Stage 2, rule pre-filter: `posts` -> `prefilter`, one verdict per post with a reason.

Cheap rules that run on every post of the source (millions), so the expensive stages only see
plausible scenarios: posts that are gone (removed, deleted), not a person's own post (bots, mod
and meta posts, megathreads, stickies), not standalone (follow-ups of an earlier post, links
with little text of their own), or not usable text (NSFW, too long, too short, not English).
Rules that read only the title, the author or a flag run first; words are counted once, with
URLs left out, and only for posts that get that far.

A verdict is reused while the post's content, its removal status and the rules (thresholds,
category list) are unchanged; a changed threshold re-decides every post.
"""

from __future__ import annotations

import re

from pipeline.context import RunContext, start_report
from pipeline.settings import PrefilterSettings
from pipeline.text import english_ratio, post_text, words
from schemas import FilterDecision, Post
from schemas.run import StageReport

STAGE, VERSION = "prefilter", "3"
BATCH = 10_000

# Reddit's placeholders for a post taken down after it was read: the text itself, a deleted
# post's title (since 2022), and the site's own removal notices.
_GONE_TEXT = {"[removed]": "removed", "[deleted]": "deleted"}
_GONE_TITLE = {"[deleted by user]": "deleted", "[removed by reddit]": "removed"}
_REMOVED_BY_REDDIT = re.compile(r"^\[ ?removed by reddit", re.IGNORECASE)
# removed_by_category values that mean the author took the post down.
_BY_AUTHOR = {"deleted", "author"}

# Bots by name: a separated or CamelCase "bot" suffix (RemindMeBot, tweet_bot), a
# "bot_" prefix, and Reddit's mod-team accounts (AmItheAsshole-ModTeam); lower-case
# "...bot" is too close to real names (Talbot, abbot), so those are listed in the settings.
_BOT_NAME = re.compile(r"(?:[_-](?i:bot)\d*|[a-z\d]Bot\d*|-ModTeam)$|^(?i:bot)[_-]")

# Megathreads, scheduled threads, meta and moderator posts, by their title.
_META = re.compile(
    r"\bmega-?\s?thread\b"
    r"|\b(?:daily|weekly|monthly|bi-?weekly|quarterly|annual)\b[^.?!]{0,40}\bthreads?\b"
    r"|^\W*(?:daily|weekly|monthly)\s+(?:discussion|q\s?&\s?a|questions?|check-?in|vent|rant)\b"
    r"|^\W*(?:\[\s*meta\s*\]|\(\s*meta\s*\)|meta\s*[:\-–—])"
    r"|[\[(]\s*(?:mod|mods|moderator|moderators|mod\s+post|modpost|announcement)\s*[\])]"
    r"|^\W*(?:mod|mods|moderator)\s*(?:post|note|announcement|update|team)?\s*[:\-–—]"
    r"|\b(?:mod|moderator|subreddit|sub)\s+(?:announcement|applications?|recruitment)\b"
    r"|\b(?:looking\s+for|recruiting|need|seeking)\s+(?:new\s+|more\s+)?(?:mods|moderators)\b"
    r"|^\W*welcome\s+to\s+(?:r/|/r/|the\s+sub|our\s+sub|this\s+sub)"
    r"|\bstate\s+of\s+the\s+sub(?:reddit)?\b"
    r"|^\W*(?:new\s+)?(?:sub(?:reddit)?|community)\s+(?:rules?|update|news|announcement)\b"
    r"|^\W*rules?\s+(?:change|changes|update|reminder)\b",
    re.IGNORECASE,
)

# A follow-up of an earlier post, by its title: "UPDATE: ...", "... [update]", "(Final
# Update)", "... - UPDATE 2", "Update on my ...", "Here's an update". The verb ("Should I update
# my resume?", "Updated my CV, no calls") is not a follow-up.
_UPDATE = r"updat(?:e[sd]?|ing)\s*#?\d*"
_UPDATE_TITLE = re.compile(
    # [update], (AITA Update), *UPDATE2*
    r"[\[(*{]\s*(?:[\w/-]+\s+){0,3}?updates?\s*#?\d*\s*[\])*}:]"
    r"|[\[(]\s*updates?\b"  # (update to an old post)
    r"|^\W*(?:(?:final|last|one|another|an?|small|quick|big|brief|short|little|long[- ]awaited"
    r"|overdue|sad|happy|good|bad|\d+|two|three|six|day|week|month|year|days|weeks|months"
    r"|years|later|aita|aitah|wibta|aio|tifu|aiw)[\s-]+){0,3}"
    rf"{_UPDATE}(?:\s*(?:[:\-–—!.,|/(\[*]|$)"
    r"|\s+(?:to|on|from|for|about|re|regarding|inside|after|i|we|so|and)\b)"
    rf"|(?:[-–—:|~]|\.\.\.?)\s*(?:final\s+|another\s+|an\s+)?{_UPDATE}\W*$"  # ... - UPDATE 2
    r"|\bupdate[sd]?\s*#?\d*\s*:"  # ... uncomfortable. Update: she ...
    r"|^\W*(?:follow[- ]?up|continued|cont'?d|part\s*(?:\d+|two|three|ii+))\s*[:\-–—]"
    r"|[\[(]\s*(?:follow[- ]?up|continued|part\s*\d+|pt\.?\s*\d+)\s*[\])]"
    r"|\b(?:here'?s|heres|here\s+is|with|bit\s+of|one\s+last|(?:a|my)\s+final)\s+(?:an?\s+|my\s+)?"
    r"(?:\w+\s+)?update\b",
    re.IGNORECASE,
)
_UPDATE_CAPS = re.compile(r"\bUPDATE[SD]?\d*\b")  # shouted, in a title that is not all capitals
# ... or by an opening that points to the earlier post: "This is an update", "Link to my
# original post", "I posted here a few weeks ago about ...". An opening "Update: ..." alone is
# not one: on real posts it is the original post with news added at its top.
_UPDATE_OPENING = re.compile(
    r"\bthis\s+is\s+an?\s+(?:\w+\s+)?update\b"
    r"|\bupdate\s+(?:to|on)\s+(?:my|an?)\s+(?:\w+\s+){0,2}?(?:post|situation|story|thread)\b"
    r"|\b(?:link\s+to|here'?s|here\s+is|see|read)\s+(?:my|the)\s+(?:original|previous|last"
    r"|earlier|old|first)\s+(?:post|thread)\b"
    r"|^\W*(?:original|previous|old|first)\s+post\s*[:\-(\[]"
    r"|\bi\s+(?:posted|wrote|made\s+a\s+post)\s+(?:here|on\s+here|in\s+this\s+sub(?:reddit)?"
    r"|on\s+this\s+sub(?:reddit)?)\s+(?:about\s+)?(?:a\s+few|a\s+couple(?:\s+of)?|some|\w+)\s+"
    r"(?:\w+\s+)?(?:days?|weeks?|months?|years?)\s+ago",
    re.IGNORECASE,
)
OPENING_CHARS = 300

# A post's url is its own page (a self post) when it is relative to nothing else or names its
# own id; anything else is what the post points to: another site, an image or video, another
# post.
_HOST = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//(?:[^/?#@]*@)?([^/?#:]+)", re.IGNORECASE)


def link_target(post: Post) -> str | None:
    """Where a post points instead of its own text (a host, or "reddit" for another post), or
    None for a self post."""
    url = (post.url or "").strip()
    if not url or f"/comments/{post.post_id}" in url or url == post.permalink:
        return None
    host = _HOST.match(url)
    if host is None:
        return "reddit" if url.startswith("/") else url[:40]
    return host.group(1).lower().removeprefix("www.")


def _gone(post: Post, body: str) -> tuple[str, str | None] | None:
    if post.removed:
        return ("deleted" if post.removed in _BY_AUTHOR else "removed"), post.removed
    if body in _GONE_TEXT:
        return _GONE_TEXT[body], None
    if post.title.strip().lower() in _GONE_TITLE:
        return _GONE_TITLE[post.title.strip().lower()], "title"
    if body.startswith("[") and _REMOVED_BY_REDDIT.match(body):
        return "removed", "by reddit"
    return None


_NOT_A_BOT = re.compile(r"not[_-]?an?[_-]?bot\d*$", re.IGNORECASE)  # a joke, not a bot


def is_bot(author: str | None, rules: PrefilterSettings) -> bool:
    if not author:
        return False
    if author.lower() in rules.bot_authors:
        return True
    return _BOT_NAME.search(author) is not None and _NOT_A_BOT.search(author) is None


# Words each pattern needs (lower-cased): a text holding none of them is not searched. Python's
# `re` tries every alternative at every position, so on the usual post, which holds none, the
# check costs a tenth of the search.
_META_KEYS = (
    "thread", "daily", "weekly", "monthly", "meta", "mod", "announce", "applica", "recruit",
    "welcome", "state of", "rule", "update", "news",
)  # fmt: skip
_UPDATE_TITLE_KEYS = ("updat", "follow", "continu", "cont'd", "part", "pt")
_UPDATE_OPENING_KEYS = ("updat", "post", "thread", "wrote")


def _holds(text: str, keys: tuple[str, ...]) -> bool:
    return any(k in text for k in keys)


def is_meta(title: str) -> str | None:
    """What marks a title as a megathread, scheduled thread, meta or mod post, or None."""
    if not _holds(title.lower(), _META_KEYS):
        return None
    meta = _META.search(title)
    return meta.group(0).strip()[:40] if meta else None


def is_update(title: str, body: str) -> str | None:
    """Where a post shows it is a follow-up of an earlier one ("title", "opening"), or None."""
    if _holds(title.lower(), _UPDATE_TITLE_KEYS):
        if _UPDATE_TITLE.search(title):
            return "title"
        if "UPDATE" in title and _UPDATE_CAPS.search(title):
            letters = [c for c in title if c.isalpha()]
            if sum(c.isupper() for c in letters) < 0.6 * len(letters):
                return "title"
    opening = body[:OPENING_CHARS]
    if _holds(opening.lower(), _UPDATE_OPENING_KEYS) and _UPDATE_OPENING.search(opening):
        return "opening"
    return None


def decide(post: Post, category: str | None, rules: PrefilterSettings) -> FilterDecision:
    def verdict(keep: bool, reason: str | None = None, detail: str | None = None):
        return FilterDecision(
            post_id=post.post_id, category=category, keep=keep, reason=reason, detail=detail
        )

    body = post.selftext.strip()
    if category is None:
        return verdict(False, "subreddit_not_configured", post.subreddit)
    gone = _gone(post, body)
    if gone is not None:
        return verdict(False, *gone)
    if rules.drop_stickied and post.stickied:
        return verdict(False, "stickied")
    if rules.drop_bots and is_bot(post.author, rules):
        return verdict(False, "bot", post.author)
    meta = is_meta(post.title) if rules.drop_meta_posts else None
    if meta is not None:
        return verdict(False, "meta_post", meta)
    if post.over_18 and not rules.allow_nsfw:
        return verdict(False, "nsfw")
    update = is_update(post.title, body) if rules.drop_updates else None
    if update is not None:
        return verdict(False, "update", update)
    text = post_text(post.title, body)
    if len(text) > rules.max_chars:
        return verdict(False, "too_long", f"{len(text)} chars")
    # A crosspost is left to dedup, which names the post it copies.
    target = link_target(post) if rules.drop_link_posts and not post.crosspost_parent else None
    if target is not None:
        own = len(words(body))
        if own < rules.link_post_min_words:
            return verdict(False, "link_post", f"{target}, {own} words of its own")
    ws = words(text)
    if len(ws) < rules.min_words:
        return verdict(False, "too_short", f"{len(ws)} words")
    ratio = english_ratio(ws)
    if ratio < rules.min_english_ratio:
        return verdict(False, "non_english", f"english ratio {ratio:.2f}")
    return verdict(True)


def _inputs(post: Post) -> str:
    """What a verdict depends on: the content, and the removal status, which a re-scrape
    updates without changing the content."""
    return post.content_sha if post.removed is None else f"{post.content_sha}|{post.removed}"


def run(ctx: RunContext) -> StageReport:
    s, store = ctx.settings, ctx.store
    report = start_report(ctx, STAGE, VERSION, "prefilter", "categories")
    prov = ctx.provenance(report)
    categories = s.subreddit_categories()
    current = (
        "f._signature = ? AND f._inputs = posts.content_sha || coalesce('|' || posts.removed, '')"
    )
    report.skipped = store.scalar(
        f"SELECT count(*) FROM prefilter f JOIN posts USING (post_id) WHERE {current}",
        [report.signature],
    )
    while True:  # in batches: a month of Reddit does not fit in memory
        batch = store.load(
            Post,
            where="post_id NOT IN (SELECT f.post_id FROM prefilter f JOIN posts "
            f"USING (post_id) WHERE {current})",
            params=[report.signature],
            order=f"created_utc, post_id LIMIT {BATCH}",
        )
        if not batch:
            break
        decisions = [decide(p, categories.get(p.subreddit.lower()), s.prefilter) for p in batch]
        store.put("prefilter", decisions, prov, [_inputs(p) for p in batch])
        report.tally([(d.keep, d.reason) for d in decisions])
    report.removed = store.delete("prefilter", "post_id NOT IN (SELECT post_id FROM posts)")
    report.inputs = report.processed + report.skipped
    return report
