"""The fast dump reader gives what a full parse of every line gives.

Lines are skipped from their bytes (`Selection`) only when a full parse could not keep their
record; lines are parsed by orjson with json's answers where they differ; fields are checked
without pydantic when they are plainly valid; text is cleaned with shortcuts. Each is checked
here against the plain way on varied records."""

from __future__ import annotations

import html
import itertools
import json
import random
import re
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import zstandard

from pipeline.sources import dumps
from pipeline.sources.dumps import (
    SKIP_DATE,
    SKIP_SUBREDDIT,
    RecordError,
    Selection,
    _decode_json,
    _validated,
    decode,
    read_lines,
    to_post,
)
from pipeline.text import clean
from schemas.submission import RawSubmission
from tests.conftest import submission

CONFIGURED = ["careerguidance", "AskHR", "Advice", "relationships"]
JULY = 1_688_169_600  # 2023-07-01 00:00:00 UTC
AUGUST = 1_690_848_000  # 2023-08-01 00:00:00 UTC


def verdict(line: bytes, selection: Selection) -> str:
    """What the plain way (parse every line) makes of a line: keep, skip:<reason>, reject."""
    try:
        obj = decode(line)
        reason = selection.skip_record(obj)
        if reason is not None:
            return f"skip:{reason}"
        to_post(obj, "f", 1)
    except RecordError:
        return "reject"
    return "keep"


def _dumps(record: dict[str, Any], rng: random.Random) -> str:
    """A record as some dump writes it: Pushshift `": "`, Arctic Shift compact, or odd."""
    style = rng.randrange(4)
    if style == 0:
        return json.dumps(record)
    if style == 1:
        return json.dumps(record, separators=(",", ":"), sort_keys=True)
    if style == 2:
        return json.dumps(record, separators=(" , ", " :\t"), ensure_ascii=False)
    return json.dumps(record, ensure_ascii=False)


def varied_lines(n: int, seed: int = 7) -> list[bytes]:
    """Records a byte test could get wrong: every subreddit spelling and created_utc form, the
    pattern inside text, crossposts, escaped keys and values, duplicate keys, broken lines."""
    rng = random.Random(seed)
    names = [
        *CONFIGURED,
        "CareerGuidance",
        "ASKHR",
        "advice",
        "AdviceAnimals",  # a configured name is its prefix
        "careerguidance2",
        "Relationship",
        "pics",
        "AskReddit",
        "",
        "Café",
        "\u212askhr",  # Kelvin sign: lower() is "k"
        "ask hr",
    ]
    times: list[Any] = [
        JULY,
        JULY - 1,
        AUGUST - 1,
        AUGUST,
        JULY + 86_400,
        float(JULY + 5),
        float(AUGUST + 5),
        str(JULY + 7),
        str(AUGUST + 7),
        f"{AUGUST + 9}.0",
        f"{JULY + 9}.00",
        JULY + 0.5,
        "0",
        0,
        "soon",
        None,
        1e10,
        -5,
    ]
    lines: list[bytes] = []
    for i in range(n):
        rec = submission(f"v{i}", subreddit=rng.choice(names), created_utc=rng.choice(times))
        kind = rng.randrange(12)
        if kind == 0:  # the pattern as text
            target = rng.choice([*CONFIGURED, "pics"])
            rec["selftext"] += f' "subreddit": "{target}", "created_utc": {JULY}'
            rec["title"] = f'{{"subreddit":"{target}"}}'
        elif kind == 1:  # a crosspost: its parent nested, with its own subreddit and time
            parent = submission(f"p{i}", subreddit=rng.choice(names), created_utc=JULY + 3)
            rec["crosspost_parent_list"] = [parent]
            rec["crosspost_parent"] = f"t3_p{i}"
        elif kind == 2:
            rec.pop(rng.choice(["subreddit", "created_utc", "id"]))
        elif kind == 3:
            rec["subreddit"] = rng.choice([None, 5, ["careerguidance"], {"name": "Advice"}])
        lines.append(_dumps(rec, rng).encode())
        if kind == 4:  # a key written with escapes, after a plain decoy of the same key
            old = lines[-1]
            if b'"subreddit"' in old and rng.random() < 0.5:
                decoy = b'{"subreddit": "pics", '
                lines[-1] = decoy + old.replace(b'"subreddit"', b'"s\\u0075breddit"', 1)[1:]
            elif b'"created_utc"' in old:
                decoy = b'{"created_utc": 1500000000, '
                lines[-1] = decoy + old.replace(b'"created_utc"', b'"created\\u005futc"', 1)[1:]
        elif kind == 5:
            sub = str(rec.get("subreddit") or "x").encode()
            escaped = b"".join(b"\\u%04x" % c if j == 0 else bytes([c]) for j, c in enumerate(sub))
            lines[-1] = lines[-1].replace(b'"' + sub + b'"', b'"' + escaped + b'"', 1)
        elif kind == 6:  # a duplicate key: the last one counts
            extra = rng.choice([f'"subreddit": "{rng.choice(names)}"', f'"created_utc": {JULY}'])
            lines[-1] = lines[-1][:-1] + b", " + extra.encode() + b"}"
        elif kind == 7:  # broken: cut short, or not an object
            lines[-1] = rng.choice([lines[-1][: rng.randrange(1, len(lines[-1]))], b"[1, 2]"])
        elif kind == 8:  # a value for which json and orjson differ, and the line ends in \r
            lines[-1] = lines[-1][:-1] + b', "score": 18446744073709551616}\r'
    return lines


SELECTIONS = {
    "no_dates": Selection(CONFIGURED),
    "july": Selection(CONFIGURED, date(2023, 7, 1), date(2023, 8, 1)),
    "from_august": Selection(CONFIGURED, date(2023, 8, 1), None),
    "before_july_2nd": Selection(CONFIGURED, None, date(2023, 7, 2)),
}


@pytest.mark.parametrize("name", SELECTIONS)
def test_the_byte_test_never_skips_a_record_the_parse_keeps(name: str) -> None:
    selection = SELECTIONS[name]
    skipped = 0
    for line in varied_lines(1500):
        full = verdict(line, selection)
        by_bytes = selection.skip_line(line)
        if by_bytes is None:
            continue
        skipped += 1
        assert full != "keep", line
        if full != "reject":  # a well-formed record: the same reason
            assert full == f"skip:{by_bytes}", line
    assert skipped > 300  # and it does skip most plain records of other subreddits


@pytest.mark.parametrize("frame", [97, 777, 4096, None])
@pytest.mark.parametrize("name", ["no_dates", "july"])
def test_reading_a_file_with_a_selection_equals_the_test_line_by_line(
    tmp_path: Path, frame: int | None, name: str
) -> None:
    """The reader looks for escapes a chunk at a time and splits lines itself, across frames
    cut anywhere (and a plain NDJSON file): the same lines skipped, for the same reasons."""
    selection = SELECTIONS[name]
    lines = varied_lines(600, seed=11)
    lines[5:5] = [b"", b"   ", b"x" * 3000]  # blank lines and one over the cap
    raw = b"\n".join(lines) + b"\n"
    if frame is None:
        path = tmp_path / "RS.ndjson"
        path.write_bytes(raw)
    else:
        path = tmp_path / "RS.zst"
        cctx = zstandard.ZstdCompressor(level=1)
        with path.open("wb") as fh, cctx.stream_writer(fh) as w:
            for at in range(0, len(raw), frame):
                w.write(raw[at : at + frame])
                w.flush(zstandard.FLUSH_FRAME)
    expected: dict[str, int] = {}
    wanted = []
    for no, line in enumerate(lines, 1):
        reason = None if len(line) > 2000 else selection.skip_line(line)
        if reason is None:
            wanted.append((no, None if len(line) > 2000 else line))
        else:
            expected[reason] = expected.get(reason, 0) + 1
    skipped: dict[str, int] = {}
    assert list(read_lines(path, 2000, selection, skipped)) == wanted
    assert skipped == expected


def test_an_escaped_key_split_across_chunks_is_still_seen(tmp_path: Path) -> None:
    """The escape of a key letter straddles a frame boundary: the line is parsed, and kept."""
    line = json.dumps(submission("a1", subreddit="pics"))[:-1] + ', "subreddit": "Advice"}'
    line = line.replace('"subreddit": "Advice"', '"s\\u0075breddit": "Advice"')
    raw = (json.dumps(submission("a0", subreddit="pics")) + "\n" + line + "\n").encode()
    cut = raw.index(b"\\u0075") + 3
    path = tmp_path / "RS.zst"
    cctx = zstandard.ZstdCompressor()
    path.write_bytes(cctx.compress(raw[:cut]) + cctx.compress(raw[cut:]))
    skipped: dict[str, int] = {}
    got = list(read_lines(path, 100_000, Selection(CONFIGURED), skipped))
    assert [n for n, _ in got] == [2] and skipped == {SKIP_SUBREDDIT: 1}
    assert to_post(decode(got[0][1] or b""), "f", 2).subreddit == "Advice"


@pytest.mark.parametrize("text", ["café ünïcödé", "emoji 😀 and 漢字", "a\u2019b " * 50])
def test_a_multibyte_character_cut_by_a_frame_or_a_read_comes_out_whole(
    tmp_path: Path, text: str
) -> None:
    records = [submission(f"u{i}", title=text, selftext=text * 3) for i in range(40)]
    raw = b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records)
    cuts = [i for i in range(1, len(raw)) if 0x80 <= raw[i] < 0xC0][::7]  # inside characters
    path = tmp_path / "RS.zst"
    cctx = zstandard.ZstdCompressor()
    bounds = [0, *cuts, len(raw)]
    path.write_bytes(b"".join(cctx.compress(raw[a:b]) for a, b in itertools.pairwise(bounds)))
    for p in (path, tmp_path / "RS.ndjson"):
        if p.suffix == ".ndjson":  # a plain file read 1 MiB at a time: cut at the read
            pad = (1 << 20) - raw.index("😀".encode() if "😀" in text else text[0].encode()) - 1
            p.write_bytes(b" " * pad + b"\n" + raw)
        got = [
            to_post(decode(line or b""), "f", n)
            for n, line in read_lines(p, 1 << 21, Selection(["careerguidance"]))
            if line and line.strip()
        ]
        assert [g.title for g in got] == [clean(text)] * 40


def test_a_per_subreddit_file_and_a_monthly_file_in_both_schemas(tmp_path: Path) -> None:
    """Older Pushshift (string created_utc, `": "`, fields missing) and Arctic Shift (keys
    sorted, compact, `_meta`) records, in `<name>_submissions.zst` and `RS_YYYY-MM.zst`."""
    old = submission("ps1", subreddit="Advice", created_utc=str(JULY + 60))
    for key in ("stickied", "over_18", "permalink"):
        old.pop(key)
    old.update(edited=False, gilded=0, retrieved_on=JULY + 99)
    arctic = submission("as1", subreddit="advice", created_utc=JULY + 120)
    arctic["_meta"] = {"retrieved_2nd_on": JULY + 999, "was_deleted_later": False}
    arctic.update(upvote_ratio=0.97, num_crossposts=0, author_fullname="t2_x")
    selection = Selection(CONFIGURED, date(2023, 7, 1), date(2023, 7, 2))
    late = submission("as2", subreddit="Advice", created_utc=JULY + 86_400)
    files = {
        "Advice_submissions.zst": [json.dumps(old), json.dumps(late)],
        "RS_2023-07.zst": [
            json.dumps(arctic, sort_keys=True, separators=(",", ":")),
            json.dumps(submission("o1", subreddit="pics"), separators=(",", ":")),
        ],
    }
    got = {}
    for name, lines in files.items():
        path = tmp_path / name
        path.write_bytes(zstandard.ZstdCompressor().compress("\n".join(lines).encode()))
        skipped: dict[str, int] = {}
        for n, line in read_lines(path, 100_000, selection, skipped):
            obj = decode(line or b"")
            assert selection.skip_record(obj) is None
            got[obj["id"]] = to_post(obj, name, n)
        assert skipped == {"Advice_submissions.zst": {SKIP_DATE: 1}}.get(name, {SKIP_SUBREDDIT: 1})
    assert set(got) == {"ps1", "as1"}
    assert (got["ps1"].created_utc, got["ps1"].stickied, got["ps1"].permalink) == (
        JULY + 60,
        False,
        None,
    )
    assert (got["as1"].created_utc, got["as1"].subreddit) == (JULY + 120, "advice")


# -- orjson with json's answers --------------------------------------------------------------


EDGE_LINES = [
    b'{"id": "a", "score": 18446744073709551616}',
    b'{"id": "a", "score": 100000000000000000000}',
    b'{"id": "a", "num_comments": -9223372036854775809}',
    b'{"id": "a", "created_utc": 1e20}',
    b'{"id": "a", "created_utc": 1690000000.0, "x": 1e300}',
    b'{"id": "a", "media": {"n": 123456789012345678901234567890}}',
    b'{"id": "a", "score": ' + b"7" * 5000 + b"}",
    b'{"id": "a", "title": "x \\ud800 y"}',
    b'{"id": "a", "title": "\\ud83d\\ude00"}',
    b'{"id": "a", "score": NaN}',
    b'{"id": "a", "score": -Infinity}',
    b'{"id": "a", "id": "b"}',
    b"\xef\xbb\xbf{}",
    b'{"id": "a"}\r',
    b'{"id": "a"} x',
    b'{"id": "a", "t": "\xff"}',
    b"[" * 500 + b"]" * 500,
    b'"text"',
    b"null",
    b'{"a": "tab\tinside"}',
    b'{"a": 01}',
    b'{"a": -0, "b": 1E2, "c": 0.1e-400}',
]


@pytest.mark.parametrize("line", EDGE_LINES, ids=range(len(EDGE_LINES)))
def test_decode_gives_what_json_gives(line: bytes) -> None:
    def outcome(fn: Any) -> Any:
        try:
            obj = fn(line)
        except RecordError as err:
            return ("error", err.reason, err.detail)
        fields = {k: obj.get(k) for k in RawSubmission.model_fields}
        return ("ok", json.dumps(fields, sort_keys=True, default=repr))

    assert outcome(decode) == outcome(_decode_json)


# -- the validation fast path -----------------------------------------------------------------


def _variants() -> list[dict[str, Any]]:
    base = submission("abc")
    values: dict[str, list[Any]] = {
        "id": ["abc", "", "a" * 20, "a" * 21, "bad id", "é1", 5, None, True],
        "subreddit": ["x", "", "x" * 100, "x" * 101, "caf\u00e9", "a\ud800", None, 3],
        "created_utc": [JULY, JULY + 0.5, str(JULY), f"{JULY}.0", True, None, "x", 10**30],
        "title": [None, "", "t", "\ud800", 1, ["t"], "\u00e9\u2019"],
        "over_18": [None, True, False, 0, "false"],
        "score": [None, 0, -(2**63), 2**63 - 1, 2**63, True, 1.0, "1"],
        "url": [None, "u", 7, "\udfff"],
    }
    out = [base]
    for field, options in values.items():
        out += [{**base, field: v} for v in options]
    out.append({k: v for k, v in base.items() if k != "created_utc"})
    return out


@pytest.mark.parametrize("obj", _variants(), ids=lambda o: repr(o)[:60])
def test_the_validation_fast_path_agrees_with_pydantic(obj: dict[str, Any]) -> None:
    def outcome(fn: Any) -> Any:
        try:
            rec = fn(obj)
        except RecordError as err:
            return ("error", err.reason, err.detail)
        except Exception as err:
            return ("error", type(err).__name__, str(err))
        return ("ok", {f: getattr(rec, f) for f in RawSubmission.model_fields})

    def slow(o: dict[str, Any]) -> Any:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(dumps, "_FAST", False)
            return _validated(o)

    assert outcome(_validated) == outcome(slow)


# -- text cleaning with shortcuts ----------------------------------------------------------------

_ZW = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def reference_clean(text: str | None) -> str:
    """`clean` as it was, every step on every text."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", html.unescape(text)).translate(_ZW)
    text = _CTRL.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def test_clean_gives_what_it_gave_before() -> None:
    rng = random.Random(3)
    pieces = [
        "word", " ", "  ", "\t", "\n", "\n\n\n", "\r\n", "\r", "&amp;", "&lt;b&gt;", "&#39;",
        "\x00", "\x07", "\x85", "\x9f", "\u200b", "\ufeff", "\u00ad", "\xa0", "\u2028", "é",
        "e\u0301", "’", "😀", "漢", ".", "'", "\u3000", "\u2003", "\x1c", "\u212a", " \n ",
        "\u2029", "&#x200B;", "&nbsp;",
    ]  # fmt: skip
    texts = ["", "plain ascii text", "x\ny", None]
    texts += ["".join(rng.choices(pieces, k=rng.randrange(1, 40))) for _ in range(10_000)]
    for text in texts:
        assert clean(text) == reference_clean(text), repr(text)


def _outcome(fn: Any) -> Any:
    try:
        return fn()
    except RecordError as err:
        return ("reject", err.reason, err.detail)


ODD_LINES = [
    b'{"id":"o1","subreddit":"Advice","created_utc":1688169600,"x":"\xff"}',  # bad UTF-8, unread
    b'{"id":"o2","subreddit":"Advice","created_utc":1688169600,"x":'
    + b"[" * 3000
    + b"]" * 3000
    + b"}",
    b'{"id":"o3","subreddit":"Advice","created_utc":1688169600,"title":"\\ud800"}',
    b'{"id":"o4","subreddit":"Advice","created_utc":1688169600,"x":"\\udc00"}',
    b'{"id":"o5","subreddit":"Advice","created_utc":1688169600,"score":123456789012345678901}',
    b'{"id":"o6","subreddit":"Advice","created_utc":1688169600,"x":123456789012345678901}',
    b'{"id":"o7","subreddit":"Advice","created_utc":1688169600,"score":9223372036854775808}',
    b'{"id":"o8","subreddit":"Advice","created_utc":1688169600,"x":NaN}',
    b'{"id":"o9","subreddit":"Advice","created_utc":1688169600,"title":"a\tb"}',
    b'{"id":"o10","subreddit":"Advice","created_utc":1688169600,"x":1e999}',
    b'{"id":"o11","subreddit":"Advice","created_utc":1688169600,"removed_by_category":[1]}',
    b'{"id":"o12","subreddit":"Advice","created_utc":1688169600,"removed_by_category":"mod"}',
    b'{"id":"o13","subreddit":"Advice","created_utc":1688169600,"selftext":"[removed]"}',
    b'{"id":"o14","subreddit":"Advice","created_utc":1688169600,"over_18":null,"score":-3}',
    b'{"id":"o15","subreddit":"Advice","created_utc":"1688169600.0"}  \r',
    b'{"id":"o16","subreddit":"Advice","created_utc":1688169600,"author":"a\\u200bb"}',
    b'{"id":"o17","subreddit":"Advice","created_utc":1688169600,"title":"&amp; caf\\u00e9"}',
    b'{"id":"o18","subreddit":"Advice","created_utc":1688169600} x',
    b'{"id":"o19","subreddit":"","created_utc":1688169600}',
    b'{"id":"o20","subreddit":"Advice","created_utc":1688169600,"id":"o20b"}',
]


@pytest.mark.parametrize("name", SELECTIONS)
def test_the_fast_parse_gives_what_the_full_parse_gives(name: str) -> None:
    """`parse_line` (a typed msgspec decode of the fields read) against decode + skip_record +
    to_post on every varied line: the same row, skip reason, or reject reason and detail."""
    selection = SELECTIONS[name]
    kept = 0
    for n, line in enumerate([*varied_lines(2000, seed=11), *ODD_LINES]):

        def slow(line: bytes = line, n: int = n) -> Any:
            obj = decode(line)
            reason = selection.skip_record(obj)
            return reason if reason is not None else to_post(obj, "f", n).__dict__

        expected = _outcome(slow)
        got = _outcome(lambda line=line, n=n: dumps.parse_line(line, "f", n, selection))
        assert got == expected, line
        kept += isinstance(expected, dict)
    assert kept > 100
