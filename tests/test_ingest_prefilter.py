from pipeline import ingest, prefilter
from pipeline.context import RunContext
from pipeline.prefilter import decide
from pipeline.settings import PrefilterSettings
from schemas import Post
from tests.conftest import submission, write_dump


def test_ingest_records_every_line_and_is_idempotent(ctx: RunContext) -> None:
    raw = ctx.settings.source.raw_dir
    write_dump(
        raw / "RS_a.ndjson.zst",
        [
            submission("a1"),
            submission("a2"),
            "{truncated",
            "",
            b"\xff\xfe",
            submission("a1"),
            {"no": "id"},
        ],
    )
    report = ingest.run(ctx)
    assert report.processed == 6  # the blank line is not a record
    assert report.outputs == 2
    assert report.dropped == {
        "invalid_json": 1,
        "invalid_utf8": 1,
        "duplicate_id": 1,
        "missing_id": 1,
    }
    rejects = ctx.store.query("SELECT line_no, reason FROM ingest_rejects ORDER BY line_no")
    assert [(r["line_no"], r["reason"]) for r in rejects] == [
        (3, "invalid_json"),
        (5, "invalid_utf8"),
        (7, "missing_id"),
    ]
    again = ingest.run(ctx)
    assert (again.processed, again.skipped, again.outputs) == (0, 6, 0)

    # A later dump overlapping the first adds only the new posts.
    write_dump(raw / "RS_b.ndjson.zst", [submission("a2"), submission("b1")])
    more = ingest.run(ctx)
    assert (more.processed, more.outputs, more.dropped) == (2, 1, {"duplicate_id": 1})
    assert ctx.store.count("posts") == 3
    row = ctx.store.query("SELECT _stage, _version, _signature, _run_id FROM posts LIMIT 1")[0]
    assert row["_stage"] == "ingest" and row["_run_id"] == "test-run" and row["_signature"]


def _post(**fields) -> Post:
    base = {
        "post_id": "p",
        "subreddit": "careerguidance",
        "title": "Should I take the offer?",
        "author": "a",
        "created_utc": 1,
        "over_18": False,
        "stickied": False,
        "crosspost_parent": None,
        "permalink": None,
        "url": None,
        "score": 1,
        "num_comments": 0,
        "source_file": "f",
        "source_line": 1,
        "content_sha": "h",
        "selftext": submission("x")["selftext"],
    }
    return Post(**{**base, **fields})


def test_prefilter_reasons() -> None:
    rules = PrefilterSettings()
    spanish = (
        "Hola a todos, tengo una duda muy grande sobre mi trabajo y mi familia. Mi jefe me "
        "ofrecio un puesto nuevo en otra ciudad pero mi madre esta enferma y no se que hacer "
        "con mi vida ahora mismo, necesito consejos por favor porque estoy muy perdido."
    )
    cases = {
        None: _post(),
        "subreddit_not_configured": _post(subreddit="pics"),
        "removed": _post(selftext="[removed]"),
        "deleted": _post(selftext="[deleted]"),
        "stickied": _post(stickied=True),
        "nsfw": _post(over_18=True),
        "too_long": _post(selftext="word " * 10_000),
        "too_short": _post(selftext="Should I quit? Yes or no."),
        "non_english": _post(title="Ayuda", selftext=spanish),
    }
    for reason, post in cases.items():
        d = decide(post, None if post.subreddit == "pics" else "career", rules)
        assert d.reason == reason, (reason, d)
        assert d.keep is (reason is None)
    assert decide(_post(over_18=True), "career", PrefilterSettings(allow_nsfw=True)).keep


def test_prefilter_stage_counts_and_skips(ctx: RunContext) -> None:
    write_dump(
        ctx.settings.source.raw_dir / "RS.zst",
        [
            submission("k1"),
            submission("r1", selftext="[removed]"),
            submission("o1", subreddit="pics"),
            submission("s1", selftext="too short"),
        ],
    )
    assert ingest.run(ctx).dropped == {"subreddit_not_configured": 1}  # counted, not stored
    r = prefilter.run(ctx)
    assert (r.processed, r.outputs) == (3, 1)
    assert r.dropped == {"removed": 1, "too_short": 1}
    again = prefilter.run(ctx)
    assert (again.processed, again.skipped) == (0, 3)


def test_adding_a_subreddit_rereads_old_dumps(ctx: RunContext) -> None:
    write_dump(
        ctx.settings.source.raw_dir / "RS.zst",
        [submission("k1"), submission("h1", subreddit="Advice")],
    )
    assert ingest.run(ctx).outputs == 1
    assert ingest.run(ctx).processed == 0
    ctx.settings.categories[0].subreddits.append("Advice")
    again = ingest.run(ctx)  # the file is read again, replacing what it gave before
    assert (again.processed, again.outputs, again.dropped) == (2, 2, {})
    assert ctx.store.keys("posts") == {"k1", "h1"}
    r = prefilter.run(ctx)
    assert (r.processed, r.outputs) == (2, 2)


def test_a_subreddit_removed_from_the_settings_is_dropped_with_its_reason(
    ctx: RunContext,
) -> None:
    write_dump(
        ctx.settings.source.raw_dir / "RS.zst",
        [submission("k1"), submission("h1", subreddit="Frugal")],
    )
    ingest.run(ctx)
    assert prefilter.run(ctx).outputs == 2
    ctx.settings.categories[1].subreddits.remove("Frugal")
    ingest.run(ctx)  # re-read: the stored posts stay, the prefilter decides again
    r = prefilter.run(ctx)
    assert (r.processed, r.dropped) == (2, {"subreddit_not_configured": 1})


def test_the_first_copy_of_a_post_id_in_path_order_wins_whatever_the_arrival_order(
    ctx: RunContext,
) -> None:
    raw = ctx.settings.source.raw_dir
    write_dump(raw / "RS_2.zst", [submission("p1", title="Should I stay or go (edited)?")])
    ingest.run(ctx)
    write_dump(raw / "RS_1.zst", [submission("p1", title="Should I stay or go?")])
    ingest.run(ctx)
    (post,) = ctx.store.load(Post)
    assert (post.title, post.source_file) == ("Should I stay or go?", "RS_1.zst")


def test_corrupt_and_truncated_files_keep_what_was_readable(ctx: RunContext) -> None:
    raw = ctx.settings.source.raw_dir
    records = [submission(f"t{i}", selftext=f"{i} " * (i % 97) + "x") for i in range(2000)]
    good = write_dump(raw / "RS_ok.zst", records)  # several zstd blocks
    data = good.read_bytes()
    good.unlink()
    (raw / "RS_truncated.zst").write_bytes(data[: len(data) // 2])
    (raw / "RS_not_zstd.zst").write_bytes(b"this is not a zstd stream at all" * 10)
    report = ingest.run(ctx)
    assert report.dropped["corrupt_file"] == 2
    rejects = ctx.store.query("SELECT source_file, reason, detail FROM ingest_rejects")
    assert {r["source_file"] for r in rejects} == {"RS_truncated.zst", "RS_not_zstd.zst"}
    assert 0 < ctx.store.count("posts") < 2000  # the readable part of the truncated file
    assert ingest.run(ctx).processed == 0  # recorded, not re-read on every run
