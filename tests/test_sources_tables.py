"""CSV and Parquet imports (`[[source.imports]]`): rows -> dump-shape records -> Posts.

Every file here is synthetic and written by the test; the column names and quirks are those of
the scrapes in ../shared/reddit-dev (umbrae's top-2013 CSVs, cassiebuhler's AITA CSV), which
the tests never read.
"""

from __future__ import annotations

import csv
import gzip
import io
import tracemalloc
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from pipeline.settings import TableImport
from pipeline.sources.dumps import CorruptFileError, RecordError, UnreadableFileError, to_post
from pipeline.sources.tables import iter_table_records, table_format

BODY = (
    "My landlord offered to renew the lease at a higher rent, or I can move in with my\n"
    'cousin, who says "it will be fine" but works nights.\n\nWhat should I do?'
)
T0 = 1_420_560_330  # 2015-01-06 16:05:30 UTC

# The three real shapes, column for column.
UMBRAE_HEADER = [
    "created_utc", "score", "domain", "id", "title", "ups", "downs", "num_comments",
    "permalink", "selftext", "link_flair_text", "over_18", "thumbnail", "subreddit_id",
    "edited", "link_flair_css_class", "author_flair_css_class", "is_self", "name", "url",
    "distinguished",
]  # fmt: skip
AITA_HEADER = [
    "", "Judgement", "Title", "Content", "Date", "Link", "numComments", "numUpvotes",
    "upvoteRatio", "numAwards",
]  # fmt: skip
AITA_COLUMNS = {
    "id": "Link",
    "permalink": "Link",
    "url": "Link",
    "title": "Title",
    "selftext": "Content",
    "created_utc": "Date",
    "num_comments": "numComments",
    "score": "numUpvotes",
}


def write_csv(
    path: Path,
    header: list[str],
    rows: list[list[Any]],
    *,
    bom: bool = False,
    lineterminator: str = "\r\n",
) -> Path:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=lineterminator)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode())
    return path


def read(path: Path, **spec: Any) -> list[tuple[int, dict[str, Any] | RecordError]]:
    return list(iter_table_records(path, TableImport(path=path.name, **spec)))


def records(path: Path, **spec: Any) -> list[dict[str, Any]]:
    out = []
    for row, record in read(path, **spec):
        assert isinstance(record, dict), (row, record)
        out.append(record)
    return out


def errors(path: Path, **spec: Any) -> dict[int, tuple[str, str]]:
    return {
        row: (record.reason, record.detail)
        for row, record in read(path, **spec)
        if isinstance(record, RecordError)
    }


def simple(path: Path, *rows: dict[str, Any], **spec: Any) -> list[dict[str, Any]]:
    """A CSV of rows (dicts, one header for all) read back as records."""
    header = list(dict.fromkeys(k for r in rows for k in r))
    write_csv(path, header, [[r.get(k, "") for k in header] for r in rows])
    return records(path, **spec)


def row(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "abc1",
        "subreddit": "Advice",
        "title": "Should I renew the lease?",
        "selftext": BODY,
        "created_utc": str(T0),
    }
    return base | fields


# --- the three real shapes ---------------------------------------------------------------


def umbrae_row(post_id: str, sub: str, **fields: Any) -> list[Any]:
    values: dict[str, Any] = {
        "created_utc": f"{T0}.0",
        "score": "91",
        "domain": f"self.{sub}",
        "id": post_id,
        "title": "Should I renew the lease? ",
        "ups": "112",
        "downs": "21",
        "num_comments": "127",
        "permalink": f"http://www.reddit.com/r/{sub}/comments/{post_id}/should_i_renew/",
        "selftext": BODY,
        "link_flair_text": "",
        "over_18": "False",
        "thumbnail": "",
        "subreddit_id": "t5_2qjdm",
        "edited": "1356724359.0",
        "link_flair_css_class": "",
        "author_flair_css_class": "",
        "is_self": "True",
        "name": f"t3_{post_id}",
        "url": f"http://www.reddit.com/r/{sub}/comments/{post_id}/should_i_renew/",
        "distinguished": "",
    } | fields
    return [values[c] for c in UMBRAE_HEADER]


@pytest.mark.parametrize("sub", ["Advice", "relationship_advice"])
def test_umbrae_top2013_shape(tmp_path: Path, sub: str) -> None:
    # CRLF row ends with LF inside quoted fields, epoch as "1350517372.0", no subreddit and
    # no author column, flags as "True"/"False", link posts with an empty selftext.
    path = write_csv(
        tmp_path / f"umbrae-{sub}.csv",
        UMBRAE_HEADER,
        [
            umbrae_row("11aaaa", sub),
            umbrae_row("11aaab", sub, title="Two\nline title", over_18="True"),
            umbrae_row("11aaac", sub, selftext="", domain="i.imgur.com", is_self="False"),
        ],
    )
    got = records(path, subreddit=sub)
    assert [r["id"] for r in got] == ["11aaaa", "11aaab", "11aaac"]
    first = got[0]
    assert first["subreddit"] == sub
    assert first["created_utc"] == T0
    assert first["score"] == 91 and first["num_comments"] == 127
    assert first["over_18"] is False and got[1]["over_18"] is True
    assert first["permalink"] == f"/r/{sub}/comments/11aaaa/should_i_renew/"
    assert first["selftext"] == BODY
    assert "author" not in first  # no such column: a null author, as a dump may have
    assert got[2]["selftext"] == ""
    posts = [to_post(r, path.name, n) for n, r in enumerate(got, 1)]
    assert posts[1].title == "Two\nline title" and posts[1].over_18
    assert posts[2].selftext == "" and posts[2].author is None
    assert all(p.subreddit == sub for p in posts)


def test_umbrae_name_column_as_id_drops_t3(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "u.csv", UMBRAE_HEADER, [umbrae_row("11aaaa", "Advice")])
    (record,) = records(path, subreddit="Advice", columns={"id": "name"})
    assert record["id"] == "11aaaa"


def test_aita_shape(tmp_path: Path) -> None:
    # pandas' to_csv: an unnamed index column, LF row ends, "YYYY-MM-DD HH:MM:SS" dates, the
    # id only inside the Link URL, other column names, no subreddit column.
    link = "https://www.reddit.com/r/AmItheAsshole/comments/{}/aita_for_skipping_the_trip/"
    aita_rows = [
        [0, "NTA", "AITA for skipping the trip?", BODY, "2015-01-06 16:05:30",
         link.format("2riv1f"), 4, 8, 0.8, 0],
        [1, "YTA", "AITA for keeping the deposit?", "[deleted]", "2020-11-24 21:25:54",
         link.format("k0abcd"), 23, 140, 0.97, 2],
    ]  # fmt: skip
    path = write_csv(
        tmp_path / "aita.csv",
        AITA_HEADER,
        aita_rows,
        lineterminator="\n",
    )
    got = records(path, subreddit="AmItheAsshole", columns=AITA_COLUMNS)
    assert [r["id"] for r in got] == ["2riv1f", "k0abcd"]
    assert got[0]["created_utc"] == T0
    assert got[1]["created_utc"] == int(datetime(2020, 11, 24, 21, 25, 54, tzinfo=UTC).timestamp())
    assert got[0]["permalink"] == "/r/AmItheAsshole/comments/2riv1f/aita_for_skipping_the_trip/"
    assert got[0]["url"] == link.format("2riv1f")
    assert (got[0]["score"], got[0]["num_comments"]) == (8, 4)
    posts = [to_post(r, path.name, n) for n, r in enumerate(got, 1)]
    assert posts[0].post_id == "2riv1f" and posts[0].subreddit == "AmItheAsshole"
    assert posts[1].selftext == "[deleted]"  # kept: the pre-filter drops it, as for a dump


# --- quirks, one by one ------------------------------------------------------------------


def test_quoted_newlines_count_records_not_lines(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "x.csv",
        ["id", "subreddit", "title", "selftext", "created_utc"],
        [
            ["a1", "Advice", "first", "one\ntwo\r\nthree\n\nfour", T0],
            ["a2", "Advice", "second", 'a "quoted" word,\nand a comma', T0],
            ["a3", "Advice", "third", "x", "not a date"],
        ],
    )
    got = read(path)
    assert [n for n, _ in got] == [1, 2, 3]
    first, second, third = (r for _, r in got)
    assert isinstance(first, dict) and first["selftext"] == "one\ntwo\r\nthree\n\nfour"
    assert isinstance(second, dict) and second["selftext"] == 'a "quoted" word,\nand a comma'
    assert isinstance(third, RecordError) and third.reason == "bad_date"
    assert "line 9" in third.detail  # record 3 starts on physical line 9
    assert "a3" in third.detail


def test_bom_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(
        b"\xef\xbb\xbfid,subreddit,title,selftext,created_utc\r\n"
        b"b1,Advice,Title one,Body one,1420560330\r\n\r\n"
        b"b2,Advice,Title two,Body two,1420560331\r\n"
    )
    got = read(path)
    assert [(n, r["id"]) for n, r in got if isinstance(r, dict)] == [(1, "b1"), (2, "b2")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1420560330", T0),
        ("1420560330.0", T0),
        ("1420560330.75", T0),  # fractions of a second are dropped
        (" 1420560330 ", T0),
        ("2015-01-06 16:05:30", T0),  # no zone: UTC
        ("2015-01-06T16:05:30", T0),
        ("2015-01-06T16:05:30Z", T0),
        ("2015-01-06T16:05:30.250+00:00", T0),
        ("2015-01-06T17:05:30+01:00", T0),
        ("2015-01-06", T0 - (16 * 3600 + 5 * 60 + 30)),
    ],
)
def test_created_utc_forms(tmp_path: Path, value: str, expected: int) -> None:
    (record,) = simple(tmp_path / "d.csv", row(created_utc=value))
    assert record["created_utc"] == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("abc1", "abc1"), ("t3_abc1", "abc1"), ("https://redd.it/x/comments/abc1/", "abc1")],
)
def test_post_ids(tmp_path: Path, value: str, expected: str) -> None:
    (record,) = simple(tmp_path / "i.csv", row(id=value))
    assert record["id"] == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("True", True),
        ("false", False),
        ("1", True),
        ("0", False),
        (" FALSE ", False),
        ("", None),
        ("maybe", "maybe"),  # passed on: to_post rejects it naming the field
    ],
)
def test_flags(tmp_path: Path, value: str, expected: bool | str | None) -> None:
    (record,) = simple(tmp_path / "f.csv", row(over_18=value, stickied=value))
    assert record["over_18"] == expected and record["stickied"] == expected


def test_wrong_kind_of_value_is_rejected_by_to_post(tmp_path: Path) -> None:
    (record,) = simple(tmp_path / "f.csv", row(over_18="maybe", score="lots"))
    with pytest.raises(RecordError) as err:
        to_post(record, "f.csv", 1)
    assert err.value.reason == "bad_field" and "over_18" in err.value.detail


def test_empty_cells_are_nulls_where_a_dump_has_null(tmp_path: Path) -> None:
    (record,) = simple(
        tmp_path / "e.csv",
        row(
            author="",
            score="",
            num_comments="12.0",
            url="",
            permalink="",
            crosspost_parent="",
            selftext="",
        ),
    )
    assert record["author"] is None and record["url"] is None and record["permalink"] is None
    assert record["crosspost_parent"] is None
    assert record["score"] is None and record["num_comments"] == 12
    assert record["selftext"] == ""  # a dump's empty body is "", not null
    post = to_post(record, "e.csv", 1)
    assert post.author is None and post.score is None and post.selftext == ""


def test_deleted_text_passes_through(tmp_path: Path) -> None:
    (record,) = simple(tmp_path / "d.csv", row(selftext="[deleted]", author="[deleted]"))
    post = to_post(record, "d.csv", 1)
    assert post.selftext == "[deleted]" and post.author == "[deleted]"


def test_subreddit_filled_only_when_missing(tmp_path: Path) -> None:
    got = simple(
        tmp_path / "s.csv",
        row(id="s1", subreddit=""),
        row(id="s2", subreddit="r/relationship_advice"),
        row(id="s3", subreddit="/r/Advice/"),
        subreddit="Advice",
    )
    assert [r["subreddit"] for r in got] == ["Advice", "relationship_advice", "Advice"]


def test_unmapped_fields_keep_dump_names_and_mapping_wins(tmp_path: Path) -> None:
    # The file has both "selftext" and "body"; the mapping picks "body".
    (record,) = simple(
        tmp_path / "m.csv",
        row(selftext="ignored", body="the mapped body", author="someone", extra="x"),
        columns={"selftext": "body", "post_id": "id"},
    )
    assert record["selftext"] == "the mapped body"
    assert record["author"] == "someone"
    assert "extra" not in record and "body" not in record


# --- bad rows and bad files ----------------------------------------------------------------


def test_bad_rows_are_reported_and_the_read_goes_on(tmp_path: Path) -> None:
    header = ["id", "subreddit", "title", "selftext", "created_utc"]
    path = write_csv(
        tmp_path / "bad.csv",
        header,
        [
            ["ok1", "Advice", "t", "b", T0],
            ["", "Advice", "no id", "b", T0],
            ["ok2", "Advice", "", "  ", T0],
            ["ok3", "Advice", "t", "b", "next tuesday"],
            ["ok4", "Advice", "t", "b", ""],
            ["ok5", "", "t", "b", T0],
            ["ok6", "Advice", "t", "b", T0, "one too many"],
            ["ok7", "Advice", "t"],
            ["ok8", "Advice", "t", "b", T0],
        ],
    )
    with path.open("ab") as fh:  # a row with bytes that are not UTF-8
        fh.write(b"ok9,Advice,caf\xe9,b,1420560330\r\nok10,Advice,t,b,1420560330\r\n")
    got = read(path)
    assert len(got) == 11
    reasons = {n: r.reason for n, r in got if isinstance(r, RecordError)}
    assert reasons == {
        2: "missing_field",
        3: "missing_field",
        4: "bad_date",
        5: "missing_field",
        6: "missing_field",
        7: "bad_row",
        8: "bad_row",
        10: "bad_row",
    }
    details = errors(path)
    assert "no id" in details[2][1]
    assert "neither title nor text" in details[3][1]
    assert "created_utc='next tuesday'" in details[4][1]
    assert "no subreddit" in details[6][1]
    assert "6 fields, the header has 5" in details[7][1]
    assert "not UTF-8" in details[10][1]
    good = [r for _, r in got if isinstance(r, dict)]
    assert [r["id"] for r in good] == ["ok1", "ok8", "ok10"]
    for n, r in enumerate(good, 1):
        to_post(r, path.name, n)


def test_missing_mapped_column_is_one_file_level_error(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "aita.csv", AITA_HEADER, [[0, "NTA", "t", "b", "2015-01-06"]])
    got = read(path, subreddit="AmItheAsshole", columns=AITA_COLUMNS | {"selftext": "Body"})
    assert len(got) == 1
    row_no, err = got[0]
    assert row_no == 0 and isinstance(err, RecordError)
    assert err.reason == "missing_column"
    assert "'Body' (mapped to selftext)" in err.detail
    assert "'Judgement', 'Title', 'Content'" in err.detail


@pytest.mark.parametrize(
    ("header", "spec", "says"),
    [
        (["id", "title", "created_utc"], {}, "no column for subreddit"),
        (["name", "subreddit", "title", "created_utc"], {}, "no column for id"),
        (["id", "subreddit", "title"], {}, "no column for created_utc"),
        (["id", "subreddit", "body", "created_utc"], {}, "no column for title or selftext"),
    ],
)
def test_required_fields_need_a_column(
    tmp_path: Path, header: list[str], spec: dict[str, Any], says: str
) -> None:
    path = write_csv(tmp_path / "r.csv", header, [["x"] * len(header)])
    got = read(path, **spec)
    assert len(got) == 1 and got[0][0] == 0
    err = got[0][1]
    assert isinstance(err, RecordError) and err.reason == "missing_column"
    assert says in err.detail and "the file's columns" in err.detail


def test_mapping_an_unknown_field(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", ["id"], [["x"]])
    ((row_no, err),) = read(path, columns={"body": "text"})
    assert row_no == 0 and isinstance(err, RecordError) and err.reason == "bad_mapping"
    assert "'body'" in err.detail


def test_empty_file_and_header_only(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    ((row_no, err),) = read(empty)
    assert row_no == 0 and isinstance(err, RecordError) and err.reason == "missing_column"
    header_only = write_csv(tmp_path / "h.csv", list(row()), [])
    assert read(header_only) == []


def test_unreadable_file_raises_like_a_dump(tmp_path: Path) -> None:
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    with pytest.raises(UnreadableFileError):
        read(folder)


# --- formats -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt", "expected"),
    [
        ("a.csv", None, "csv"),
        ("a.CSV.gz", None, "csv"),
        ("a.csv.zst", None, "csv"),
        ("a.parquet", None, "parquet"),
        ("a.pq", None, "parquet"),
        ("a.txt", None, None),
        ("a.txt", "csv", "csv"),
        ("a.csv", "parquet", "parquet"),
    ],
)
def test_table_format(name: str, fmt: str | None, expected: str | None) -> None:
    assert table_format(Path(name), TableImport(path=name, format=fmt)) == expected  # type: ignore[arg-type]


def test_unknown_format_is_reported(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "posts.txt", list(row()), [list(row().values())])
    ((row_no, err),) = read(path)
    assert row_no == 0 and isinstance(err, RecordError) and err.reason == "unknown_format"
    assert [r["id"] for r in records(path, format="csv")] == ["abc1"]


@pytest.mark.parametrize("compression", ["gz", "zst"])
def test_compressed_csv(tmp_path: Path, compression: str) -> None:
    plain = write_csv(
        tmp_path / "p.csv", list(row()), [list(row(id=f"z{i}").values()) for i in range(50)]
    )
    data = plain.read_bytes()
    path = tmp_path / f"p.csv.{compression}"
    if compression == "gz":
        path.write_bytes(gzip.compress(data))
    else:  # two frames: the reader goes on across them
        cctx = zstandard.ZstdCompressor()
        path.write_bytes(cctx.compress(data[:1000]) + cctx.compress(data[1000:]))
    assert [r["id"] for r in records(path)] == [f"z{i}" for i in range(50)]


def test_truncated_gzip_raises_corrupt_after_the_rows_before(tmp_path: Path) -> None:
    rows = [list(row(id=f"g{i}").values()) for i in range(2000)]
    data = write_csv(tmp_path / "p.csv", list(row()), rows).read_bytes()
    path = tmp_path / "cut.csv.gz"
    packed = gzip.compress(data)
    path.write_bytes(packed[: len(packed) // 2])
    seen = []
    with pytest.raises(CorruptFileError) as err:
        for n, _ in iter_table_records(path, TableImport(path="*.gz")):
            seen.append(n)
    assert seen and err.value.line_no == seen[-1] + 1


def test_parquet_row_groups_and_types(tmp_path: Path) -> None:
    n = 25
    table = pa.table(
        {
            "post_id": [f"t3_p{i}" for i in range(n)],
            "sub": ["Advice"] * (n - 1) + [None],
            "title": [f"Title {i}" for i in range(n)],
            "body": [BODY if i % 2 else "" for i in range(n)],
            "created": pa.array(
                [datetime.fromtimestamp(T0 + i, UTC) for i in range(n)],
                pa.timestamp("ms", tz="UTC"),
            ),
            "nsfw": [i == 3 for i in range(n)],
            "score": [float(i) if i != 5 else float("nan") for i in range(n)],
            "num_comments": pa.array([i if i != 6 else None for i in range(n)], pa.int64()),
            "unused": ["x"] * n,
        }
    )
    path = tmp_path / "scrape.parquet"
    pq.write_table(table, path, row_group_size=7)
    assert pq.ParquetFile(path).num_row_groups == 4
    got = read(
        path,
        subreddit="relationship_advice",
        columns={
            "post_id": "post_id",
            "subreddit": "sub",
            "selftext": "body",
            "created_utc": "created",
            "over_18": "nsfw",
        },
    )
    assert [row_no for row_no, _ in got] == list(range(1, n + 1))
    recs = [r for _, r in got]
    assert all(isinstance(r, dict) for r in recs)
    assert [r["id"] for r in recs] == [f"p{i}" for i in range(n)]  # type: ignore[index]
    first, last = recs[0], recs[-1]
    assert isinstance(first, dict) and isinstance(last, dict)
    assert first["created_utc"] == T0 and last["created_utc"] == T0 + n - 1
    assert last["subreddit"] == "relationship_advice"  # null cell: filled
    assert recs[3]["over_18"] is True  # type: ignore[index]
    assert recs[5]["score"] is None and recs[4]["score"] == 4  # type: ignore[index]
    assert recs[6]["num_comments"] is None  # type: ignore[index]
    for i, r in enumerate(recs, 1):
        post = to_post(r, path.name, i)  # type: ignore[arg-type]
        assert post.subreddit in ("Advice", "relationship_advice")


def test_parquet_naive_timestamps_and_epoch_strings(tmp_path: Path) -> None:
    table = pa.table(
        {
            "id": ["a", "b"],
            "subreddit": pa.array(["Advice", "Advice"]).dictionary_encode(),  # a category
            "title": ["t", "t"],
            "created_utc": ["1420560330.0", "2015-01-06 16:05:30"],
            "when": pa.array([datetime(2015, 1, 6, 16, 5, 30)] * 2, pa.timestamp("us")),
            "day": pa.array([date(2015, 1, 6)] * 2, pa.date32()),
        }
    )
    path = tmp_path / "p.parquet"
    pq.write_table(table, path)
    got = records(path)
    assert [r["created_utc"] for r in got] == [T0, T0]
    assert [r["subreddit"] for r in got] == ["Advice", "Advice"]
    assert [r["created_utc"] for r in records(path, columns={"created_utc": "when"})] == [T0, T0]
    midnight = int(datetime(2015, 1, 6, tzinfo=UTC).timestamp())
    by_day = records(path, columns={"created_utc": "day"})
    assert [r["created_utc"] for r in by_day] == [midnight, midnight]


def test_parquet_missing_column_and_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"id": ["a"], "title": ["t"], "created_utc": [T0]}), path)
    ((row_no, err),) = read(path)
    assert row_no == 0 and isinstance(err, RecordError) and err.reason == "missing_column"
    assert "subreddit" in err.detail and "'id', 'title', 'created_utc'" in err.detail
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(CorruptFileError):
        read(broken, subreddit="Advice")


# --- streaming -----------------------------------------------------------------------------


def test_large_csv_streams_with_flat_memory(tmp_path: Path) -> None:
    n = 200_000
    path = tmp_path / "big.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "subreddit", "title", "selftext", "created_utc", "over_18"])
        body = "We argued about the move.\nShould I stay or go? " * 2
        writer.writerows(
            [f"t3_{i:x}", "Advice", f"Post {i}", body, T0 + i, "False"] for i in range(n)
        )
    size = path.stat().st_size
    tracemalloc.start()
    try:
        count, last = 0, None
        for _, record in iter_table_records(path, TableImport(path="*")):
            count, last = count + 1, record
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == n and isinstance(last, dict) and last["id"] == f"{n - 1:x}"
    assert size > 20_000_000
    assert peak < size / 50, f"peak {peak:,} bytes for a {size:,}-byte file"
