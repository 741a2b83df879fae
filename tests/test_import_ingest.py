"""A researcher's CSV scrape, mapped in the settings, lands in the same `posts` rows as the same
posts from a dump file."""

from __future__ import annotations

import csv
from pathlib import Path

from pipeline.build import run_stages
from pipeline.stages import BY_NAME
from pipeline.store import Store
from schemas import Post
from tests.conftest import make_settings, submission, write_dump

TEXT = (
    "My manager offered me a transfer that doubles my commute but comes with a raise, and my "
    "partner is worried about the kids' school. Should I take it or stay in the team I know?"
)


def test_a_mapped_csv_gives_the_posts_a_dump_gives(tmp_path: Path) -> None:
    records = [
        submission(
            f"c{i}",
            title=f"Transfer {i}?",
            selftext=f"{TEXT} Case {i}.",
            score=i,
            num_comments=2 * i,
        )
        for i in range(5)
    ]
    write_dump(tmp_path / "dump" / "raw" / "RS.zst", records)
    imports = tmp_path / "csv" / "raw" / "imports"
    imports.mkdir(parents=True)
    with (imports / "scrape.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Link", "Title", "Body", "When", "Upvotes", "Comments", "Author"])
        for r in records:
            writer.writerow(
                [
                    f"https://www.reddit.com/r/careerguidance/comments/{r['id']}/x/",
                    r["title"],
                    r["selftext"],
                    r["created_utc"],
                    r["score"],
                    r["num_comments"],
                    r["author"],
                ]
            )
        writer.writerow(["", "no id", "text", "1", "1", "1", "a"])  # recorded, not fatal

    def posts(folder: str, **source: object) -> dict[str, Post]:
        s = make_settings(
            tmp_path / folder,
            source={"raw_dir": tmp_path / folder / "raw", **source},
        )
        report = run_stages(s, [BY_NAME["ingest"]]).stages["ingest"]
        assert report.error is None
        with Store.open(s.db_path) as store:
            if folder == "csv":
                (reject,) = store.query("SELECT reason FROM ingest_rejects")
                assert reject["reason"] == "missing_field"
            return {p.post_id: p for p in store.load(Post)}

    from_dump = posts("dump")
    from_csv = posts(
        "csv",
        patterns=[],
        imports=[
            {
                "path": "imports/*.csv",
                "subreddit": "careerguidance",
                "columns": {
                    "id": "Link",
                    "title": "Title",
                    "selftext": "Body",
                    "created_utc": "When",
                    "score": "Upvotes",
                    "num_comments": "Comments",
                    "author": "Author",
                },
            }
        ],
    )
    assert set(from_csv) == set(from_dump) == {f"c{i}" for i in range(5)}
    for pid, post in from_dump.items():
        same = ("subreddit", "title", "selftext", "author", "created_utc", "score")
        assert {k: getattr(from_csv[pid], k) for k in same} == {k: getattr(post, k) for k in same}
