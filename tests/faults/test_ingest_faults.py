"""Ingest hardening: one bad record or file never stops a build, and a wrong value is rejected
with its reason instead of being coerced into a post."""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline import ingest
from pipeline.context import RunContext
from pipeline.sources import dumps
from pipeline.sources.dumps import RecordError, decode, to_post
from schemas import Post
from tests.conftest import submission, write_dump


def _line(post_id: str, **raw: str) -> str:
    """A submission line whose given fields are raw JSON text (what json.dumps cannot write)."""
    record = {k: v for k, v in submission(post_id).items() if k not in raw}
    return json.dumps(record)[:-1] + "".join(f', "{k}": {v}' for k, v in raw.items()) + "}"


def _rejects(ctx: RunContext) -> list[tuple[str, int, str]]:
    rows = ctx.store.query(
        "SELECT source_file, line_no, reason FROM ingest_rejects ORDER BY source_file, line_no"
    )
    return [(r["source_file"], r["line_no"], r["reason"]) for r in rows]


def _read_files(ctx: RunContext) -> set[str]:
    return {r["path"] for r in ctx.store.query("SELECT path FROM source_files")}


# -- one poisoned record -----------------------------------------------------------------------

POISONS = {
    "infinity": (_line("p1", created_utc="Infinity"), "invalid_json"),
    "minus_infinity": (_line("p1", score="-Infinity"), "invalid_json"),
    "nan": (_line("p1", num_comments="NaN"), "invalid_json"),
    "float_overflow_to_inf": (_line("p1", created_utc="1e400"), "bad_created_utc"),
    "created_1e30": (_line("p1", created_utc="1e30"), "bad_created_utc"),
    "score_1e20": (_line("p1", score="1e20"), "bad_field"),
    "score_over_bigint": (_line("p1", score=str(10**20)), "bad_field"),
    "deep_nesting": ("[" * 100_000, "invalid_json"),
    "deep_nesting_in_a_field": (_line("p1", title="[" * 100_000), "invalid_json"),
    "5000_digit_int": (_line("p1", score="7" * 5000), "invalid_json"),
    "lone_surrogate": (_line("p1", title='"a \\ud800 b"'), "bad_field"),
}


@pytest.mark.parametrize(("poison", "reason"), POISONS.values(), ids=POISONS.keys())
def test_a_poisoned_record_in_one_of_two_files_is_rejected_and_the_run_completes(
    ctx: RunContext, poison: str, reason: str
) -> None:
    """The issue's acceptance case: the run completes, the valid file's posts are stored and
    the poisoned line is in `ingest_rejects` with its reason."""
    raw = ctx.settings.source.raw_dir
    write_dump(raw / "RS_1.ndjson", [submission("a1"), poison, submission("a2")], compress=False)
    write_dump(raw / "RS_2.zst", [submission("b1"), submission("b2")])
    report = ingest.run(ctx)
    assert report.dropped == {reason: 1}
    assert ctx.store.keys("posts") == {"a1", "a2", "b1", "b2"}
    assert _rejects(ctx) == [("RS_1.ndjson", 2, reason)]
    assert _read_files(ctx) == {"RS_1.ndjson", "RS_2.zst"}
    assert ingest.run(ctx).processed == 0  # a rejected line is an answer: not read again


@pytest.mark.parametrize(
    "line",
    [
        b'{"id": "a", "created_utc": Infinity}',
        b'{"id": "a", "x": [NaN]}',
        b"[" * 100_000,
        b'{"id": "a", "n": ' + b"9" * 5000 + b"}",
    ],
    ids=["infinity", "nan", "deep_nesting", "int_digit_limit"],
)
def test_undecodable_json_is_an_invalid_json_record_error(line: bytes) -> None:
    with pytest.raises(RecordError) as err:
        decode(line)
    assert err.value.reason == "invalid_json"


# -- wrong values --------------------------------------------------------------------------------

WRONG: dict[str, tuple[dict[str, Any], str, str]] = {
    "created_true": ({"created_utc": True}, "bad_created_utc", "created_utc"),
    "created_zero_1970": ({"created_utc": 0}, "bad_created_utc", "created_utc"),
    "created_2200": ({"created_utc": 7_258_118_400}, "bad_created_utc", "created_utc"),
    "created_fraction": ({"created_utc": 1_690_000_000.5}, "bad_created_utc", "created_utc"),
    "created_word": ({"created_utc": "1690000000x"}, "bad_created_utc", "created_utc"),
    "created_list": ({"created_utc": [1_690_000_000]}, "bad_created_utc", "created_utc"),
    "created_missing": ({"created_utc": None}, "bad_created_utc", "created_utc"),
    "over_18_string": ({"over_18": "false"}, "bad_field", "over_18"),
    "stickied_int": ({"stickied": 1}, "bad_field", "stickied"),
    "title_object": ({"title": {"a": 1}}, "bad_field", "title"),
    "selftext_list": ({"selftext": ["x"]}, "bad_field", "selftext"),
    "author_number": ({"author": 5}, "bad_field", "author"),
    "score_string": ({"score": "12"}, "bad_field", "score"),
    "score_bool": ({"score": True}, "bad_field", "score"),
    "num_comments_float": ({"num_comments": 3.5}, "bad_field", "num_comments"),
    "crosspost_parent_int": ({"crosspost_parent": 7}, "bad_field", "crosspost_parent"),
    "permalink_bool": ({"permalink": False}, "bad_field", "permalink"),
    "url_object": ({"url": {"href": "x"}}, "bad_field", "url"),
    "id_object": ({"id": {"x": 1}}, "missing_id", "id"),
    "subreddit_list": ({"subreddit": ["careerguidance"]}, "missing_subreddit", "subreddit"),
}


@pytest.mark.parametrize(("fields", "reason", "field"), WRONG.values(), ids=WRONG.keys())
def test_a_wrong_value_is_rejected_naming_the_field_not_coerced(
    fields: dict[str, Any], reason: str, field: str
) -> None:
    with pytest.raises(RecordError) as err:
        to_post(submission("abc", **fields), "f", 1)
    assert err.value.reason == reason
    assert field in err.value.detail


def test_wrong_values_are_stored_as_rejects_and_the_good_posts_kept(ctx: RunContext) -> None:
    write_dump(
        ctx.settings.source.raw_dir / "RS.zst",
        [
            submission("ok1"),
            submission("w1", created_utc=True),
            submission("w2", over_18="false"),
            submission("w3", title={"a": 1}),
            submission("ok2"),
        ],
    )
    report = ingest.run(ctx)
    assert report.dropped == {"bad_created_utc": 1, "bad_field": 2}
    assert ctx.store.keys("posts") == {"ok1", "ok2"}
    details = {
        r["line_no"]: r["detail"]
        for r in ctx.store.query("SELECT line_no, detail FROM ingest_rejects")
    }
    assert "over_18" in details[3] and "title" in details[4]


def test_accepted_flavours_normalise() -> None:
    """What real dumps hold and stays valid: epoch as a numeric string or a whole float, nulls
    for the optional fields, control characters in an author name (removed)."""
    for created in ("1690000000", 1_690_000_000.0, "1690000000.0", 1_690_000_000):
        assert to_post(submission("a", created_utc=created), "f", 1).created_utc == 1_690_000_000
    post = to_post(
        submission(
            "a",
            over_18=None,
            stickied=None,
            title=None,
            selftext=None,
            author="bad\x00na\x1bme\u200b",
            score=None,
            num_comments=None,
            crosspost_parent=None,
            permalink=None,
            url=None,
        ),
        "f",
        1,
    )
    assert (post.over_18, post.stickied, post.title, post.selftext) == (False, False, "", "")
    assert (post.author, post.score, post.num_comments) == ("badname", None, None)
    big = to_post(submission("a", score=2**63 - 1, num_comments=-(2**63)), "f", 1)
    assert (big.score, big.num_comments) == (2**63 - 1, -(2**63))
    assert to_post(submission("a", author=None), "f", 1).author is None


def test_control_characters_in_the_author_are_not_stored(ctx: RunContext) -> None:
    write_dump(ctx.settings.source.raw_dir / "RS.zst", [submission("a1", author="nu\x00l\x07")])
    ingest.run(ctx)
    (post,) = ctx.store.load(Post)
    assert post.author == "nul"


# -- file-level faults -----------------------------------------------------------------------------


def _two_files(ctx: RunContext) -> Path:
    raw = ctx.settings.source.raw_dir
    write_dump(raw / "RS_1.zst", [submission("a1")])
    return write_dump(raw / "RS_2.zst", [submission("b1"), submission("b2")])


def test_a_file_that_vanishes_before_it_is_read_is_rejected_and_retried(
    ctx: RunContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = ctx.settings.source.raw_dir
    write_dump(raw / "RS_1.zst", [submission("a1")])
    gone = write_dump(raw / "RS_2.zst", [submission("b1")])
    data = gone.read_bytes()
    listed = ingest.find_files

    def list_then_delete(*args: Any) -> Any:
        found = listed(*args)
        gone.unlink()  # removed between the listing and the read (a sync, a cleanup job)
        return found

    monkeypatch.setattr(ingest, "find_files", list_then_delete)
    report = ingest.run(ctx)
    assert report.dropped == {"unreadable_file": 1}
    assert ctx.store.keys("posts") == {"a1"}
    assert _rejects(ctx) == [("RS_2.zst", 0, "unreadable_file")]
    assert _read_files(ctx) == {"RS_1.zst"}  # not recorded as read: retried next run
    assert any("RS_2.zst" in n for n in report.notes)

    monkeypatch.setattr(ingest, "find_files", listed)
    gone.write_bytes(data)
    again = ingest.run(ctx)
    assert (again.processed, again.skipped, again.dropped) == (1, 1, {})
    assert ctx.store.keys("posts") == {"a1", "b1"}
    assert _rejects(ctx) == []


def test_a_permission_error_is_rejected_and_the_file_retried(
    ctx: RunContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tests run as root, where chmod 000 still reads: the error is raised by `Path.open`."""
    locked = _two_files(ctx)
    real_open = Path.open

    def guarded(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.name == locked.name:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", guarded)
    report = ingest.run(ctx)
    assert report.dropped == {"unreadable_file": 1}
    assert ctx.store.keys("posts") == {"a1"}
    (reject,) = ctx.store.query("SELECT * FROM ingest_rejects")
    assert (reject["line_no"], reject["reason"]) == (0, "unreadable_file")
    assert "PermissionError" in reject["detail"]
    assert _read_files(ctx) == {"RS_1.zst"}
    assert ingest.run(ctx).dropped == {"unreadable_file": 1}  # still locked: one row, not two
    assert len(_rejects(ctx)) == 1

    monkeypatch.setattr(Path, "open", real_open)
    assert ingest.run(ctx).dropped == {}
    assert ctx.store.keys("posts") == {"a1", "b1", "b2"}
    assert _rejects(ctx) == []


def test_an_io_error_mid_read_keeps_the_lines_read_and_retries_the_file(
    ctx: RunContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = _two_files(ctx)
    real_chunks = dumps._chunks

    def failing(path: Path, size: int = 1 << 20) -> Iterator[bytes]:
        if path.name != broken.name:
            yield from real_chunks(path, size)
            return
        yield json.dumps(submission("b1")).encode() + b"\n"
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(dumps, "_chunks", failing)
    report = ingest.run(ctx)
    assert report.dropped == {"unreadable_file": 1}  # not corrupt_file: the disk, not the data
    assert ctx.store.keys("posts") == {"a1", "b1"}
    assert _rejects(ctx) == [("RS_2.zst", 0, "unreadable_file")]
    assert _read_files(ctx) == {"RS_1.zst"}

    monkeypatch.setattr(dumps, "_chunks", real_chunks)
    again = ingest.run(ctx)
    assert (again.processed, again.outputs, again.dropped) == (2, 2, {})  # replaces b1
    assert ctx.store.keys("posts") == {"a1", "b1", "b2"}
    assert _rejects(ctx) == []


def test_a_broken_symlink_and_a_fifo_matching_the_patterns_are_rejected_not_read(
    ctx: RunContext,
) -> None:
    """Opening a FIFO would block the run; a dangling link is a month silently missing."""
    raw = ctx.settings.source.raw_dir
    _two_files(ctx)
    (raw / "RS_3.zst").symlink_to(raw / "gone.zst")
    os.mkfifo(raw / "RS_4.zst")
    (raw / "RS_5.zst").mkdir()  # a folder is not a dump: ignored
    (raw / "RS_6.zst").symlink_to(raw / "RS_6.zst")  # a link loop
    report = ingest.run(ctx)
    assert report.dropped == {"unreadable_file": 3}
    assert ctx.store.keys("posts") == {"a1", "b1", "b2"}
    assert _rejects(ctx) == [
        ("RS_3.zst", 0, "unreadable_file"),
        ("RS_4.zst", 0, "unreadable_file"),
        ("RS_6.zst", 0, "unreadable_file"),
    ]
    assert _read_files(ctx) == {"RS_1.zst", "RS_2.zst"}


def test_a_symlink_to_a_file_outside_the_raw_dir_is_rejected_not_read(
    ctx: RunContext, tmp_path: Path
) -> None:
    raw = ctx.settings.source.raw_dir
    write_dump(raw / "RS_1.zst", [submission("a1")])
    outside = write_dump(tmp_path / "elsewhere" / "RS_x.zst", [submission("x1")])
    (raw / "RS_2.zst").symlink_to(outside)
    (raw / "RS_3.zst").symlink_to(raw / "RS_1.zst")  # inside: the file it points to, once
    report = ingest.run(ctx)
    assert report.dropped == {"outside_raw_dir": 1}
    assert ctx.store.keys("posts") == {"a1"}
    assert _rejects(ctx) == [("RS_2.zst", 0, "outside_raw_dir")]
    assert _read_files(ctx) == {"RS_1.zst"}


def test_a_file_name_that_is_not_utf8_is_rejected_not_read(ctx: RunContext) -> None:
    """Its posts could not be stored (their source_file would not encode)."""
    raw = ctx.settings.source.raw_dir
    write_dump(raw / "RS_1.zst", [submission("a1")])
    write_dump(raw / os.fsdecode(b"RS_\xff.zst"), [submission("b1")])
    report = ingest.run(ctx)
    assert report.dropped == {"bad_file_name": 1}
    assert ctx.store.keys("posts") == {"a1"}
    assert [r[1:] for r in _rejects(ctx)] == [(0, "bad_file_name")]
