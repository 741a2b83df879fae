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
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")

# Frequent English function words: a cheap language signal that needs no model download.
_ENGLISH = frozenset(
    """a about after all also am an and any are as at be because been but by can could did
    do does don't for from had has have he her him his how i i'm if in into is it it's its
    just me my no not now of on or our out she so some than that the their them then there
    they this to too up us was we were what when which who will with would you your""".split()
)


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
    return _WORD.findall(text)


def english_ratio(text: str) -> float:
    """Share of words that are common English function words (~0.4 in English prose)."""
    ws = [w.lower().replace("’", "'") for w in words(text)]
    return sum(w in _ENGLISH for w in ws) / len(ws) if ws else 0.0


def content_hash(title: str, body: str) -> str:
    """Case-, punctuation- and whitespace-insensitive hash for exact-duplicate detection."""
    norm = " ".join(re.findall(r"\w+", f"{title}\n{body}".lower()))
    return hashlib.sha256(norm.encode()).hexdigest()


def post_text(title: str, body: str) -> str:
    return f"{title}\n\n{body}".strip()
