import json
from pathlib import Path

import pytest
import zstandard

from pipeline.sources.dumps import RecordError, decode, post_sha, read_lines, to_post
from tests.conftest import submission, write_dump


def test_lines_spanning_zstd_frames_are_whole(tmp_path: Path) -> None:
    records = [submission(f"p{i:04d}", selftext="word " * (i % 50)) for i in range(300)]
    raw = b"".join(json.dumps(r).encode() + b"\n" for r in records)
    path = tmp_path / "RS.zst"
    cctx = zstandard.ZstdCompressor(level=3)
    with path.open("wb") as fh, cctx.stream_writer(fh) as w:
        for i in range(0, len(raw), 777):  # frames cut records in the middle
            w.write(raw[i : i + 777])
            w.flush(zstandard.FLUSH_FRAME)
    got = [decode(line)["id"] for _, line in read_lines(path, 1_000_000)]
    assert got == [r["id"] for r in records]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"id": "abc", "subreddit": "x"', "invalid_json"),
        (b"[1, 2]", "not_an_object"),
        (b"\xff\xfe garbage", "invalid_utf8"),
        (b"null", "not_an_object"),
    ],
)
def test_decode_errors_have_reasons(line: bytes, reason: str) -> None:
    with pytest.raises(RecordError) as err:
        decode(line)
    assert err.value.reason == reason


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"id": None}, "missing_id"),
        ({"id": "bad id!"}, "missing_id"),
        ({"subreddit": ""}, "missing_subreddit"),
        ({"created_utc": "yesterday"}, "bad_created_utc"),
    ],
)
def test_record_errors(fields: dict, reason: str) -> None:
    with pytest.raises(RecordError) as err:
        to_post(submission("abc", **fields), "f", 1)
    assert err.value.reason == reason


def test_pushshift_and_api_flavours_normalise() -> None:
    post = to_post(
        submission(
            "abc",
            subreddit="CareerGuidance",
            created_utc="1690000000",  # older Pushshift months: a string
            crosspost_parent="t3_xyz",
            selftext="Tom &amp; Jerry\u200b \x00said  hi\r\n\n\n\nbye",
        ),
        "f",
        3,
    )
    assert post.created_utc == 1690000000
    assert post.content_sha == post_sha(post) and len(post.content_sha) == 32
    assert post.crosspost_parent == "xyz"
    assert post.selftext == "Tom & Jerry said hi\n\nbye"


def test_overlong_lines_are_flagged_not_loaded(tmp_path: Path) -> None:
    path = write_dump(
        tmp_path / "x.ndjson", [submission("a"), "x" * 5000, submission("b")], compress=False
    )
    lines = list(read_lines(path, 1000))
    assert [n for n, _ in lines] == [1, 2, 3]
    assert lines[1][1] is None
    assert decode(lines[2][1])["id"] == "b"
