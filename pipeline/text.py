"""Text normalisation shared by the filters, dedup and prompts."""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata

_ZERO_WIDTH_CHARS = "\u200b\u200c\u200d\u2060\ufeff\u00ad"  # all non-ASCII
_ZERO_WIDTH = dict.fromkeys(map(ord, _ZERO_WIDTH_CHARS))
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"[ \t]+")
_BLANK_LINES = re.compile(r"\n{3,}")
# Scripts written without spaces between words: each character counts as a word, so a Chinese or
# Japanese post has a word count (and is dropped as not English rather than as too short).
_UNSPACED = "\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_LETTERS = rf"[^\W\d_{_UNSPACED}]+"
_WORD = re.compile(rf"[{_UNSPACED}]|{_LETTERS}(?:['’]{_LETTERS})?")
# What is not prose, taken out before words are counted, so "https", "www" and "imgur" are not
# words: a URL, a markdown link's target `](...)` (its text stays), a bare domain
# (`indeed.com/jobs`). Each pattern runs only on texts holding its marker: most posts hold none,
# and the domain pattern costs as much as the word pattern itself.
_URL = re.compile(r"(?:https?://|www\.)\S+|\]\([^)\s]*\)?")
# Lower-case top-level domains only, and none that is an English word ("me", "us", "be"): a
# missing space after a full stop ("tired.Me") is not a domain.
_TLD = r"\.(?:com|org|net|edu|gov|io|co|uk|ca|au|ly|gl|tv|info)\b"
_HAS_TLD = re.compile(_TLD)
_DOMAIN = re.compile(rf"[\w-]+(?:\.[\w-]+)*{_TLD}(?:/\S*)?")

# Frequent English function words: a cheap language signal that needs no model download.
_ENGLISH = frozenset(
    """a about after all also am an and any are as at be because been but by can could did
    do does don't for from had has have he her him his how i i'm if in into is it it's its
    just me my no not now of on or our out she so some than that the their them then there
    they this to too up us was we were what when which who will with would you your""".split()
)
_ENGLISH |= {w.replace("'", "’") for w in _ENGLISH}  # typographic apostrophes


def clean(text: str | None) -> str:
    """Unescape Reddit's HTML entities, drop invisible/control characters, tidy whitespace.

    Ingest cleans every stored post, so the usual text takes a short way: when every line is
    printable (no control, invisible or format character, no tab, no space but " "), only
    runs of spaces, line ends and blank lines can need work. Anything else goes the whole
    way. Both give the same result."""
    if not text:
        return ""
    if "&" in text:
        text = html.unescape(text)
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    lines = text.split("\n")
    if all(map(str.isprintable, lines)):
        if "  " in text:
            lines = [_SPACES.sub(" ", line) for line in lines]
    else:
        if not text.isascii() and any(ch in text for ch in _ZERO_WIDTH_CHARS):
            text = text.translate(_ZERO_WIDTH)
        text = _CONTROL.sub("", text)
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = [_SPACES.sub(" ", line) for line in text.split("\n")]
    text = "\n".join([line.strip() for line in lines])
    if "\n\n\n" in text:
        text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def words(text: str) -> list[str]:
    """The words of a text's prose: letter runs (with one inner apostrophe), URLs, link
    targets and bare domains left out, each character of an unspaced script a word."""
    if "://" in text or "www." in text or "](" in text:
        text = _URL.sub(" ", text)
    if _HAS_TLD.search(text):
        text = _DOMAIN.sub(" ", text)
    return _WORD.findall(text)


def english_ratio(text: str | list[str]) -> float:
    """Share of words that are common English function words (~0.4 in English prose, under
    0.1 in other languages); takes a text or its `words`."""
    ws = words(text) if isinstance(text, str) else text
    return sum(w.lower() in _ENGLISH for w in ws) / len(ws) if ws else 0.0


def content_hash(title: str, body: str) -> str:
    """Case-, punctuation- and whitespace-insensitive hash for exact-duplicate detection."""
    norm = " ".join(re.findall(r"\w+", f"{title}\n{body}".lower()))
    return hashlib.sha256(norm.encode()).hexdigest()


def post_text(title: str, body: str) -> str:
    return f"{title}\n\n{body}".strip()
