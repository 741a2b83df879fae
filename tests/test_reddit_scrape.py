"""The scrape stage with the real praw client against a fake Reddit (`tests.fakes.reddit_server`):
pagination, caps, rate limits, retries, bad pages, watermarks, updates of posts seen again,
refused credentials, secrets kept out of everything, and scraped posts going through the build
as dump posts do. Every post here is synthetic."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline.build import run_stages
from pipeline.embeddings import Embedder
from pipeline.settings import Settings
from pipeline.sources import reddit as api
from pipeline.sources.dumps import to_post
from pipeline.stages import BY_NAME, STAGES
from pipeline.store import Store
from schemas import Post
from schemas.records import ScrapeState
from schemas.run import StageReport
from tests.conftest import make_settings, write_dump
from tests.fakes.reddit_server import FakeReddit, RedditFault

SUB = "careerguidance"
T0 = 1_790_000_000  # 2026-09
SECRET = "s3cret-Zq9-do-not-leak"
PASSWORD = "pw-Xk4-do-not-leak"

# Synthetic decision posts, written for these tests (distinct topics, so none is a duplicate).
SCENARIOS = [
    (
        "Should I take the startup offer or stay?",
        "I have worked at a large company for four years and I like my team, but a small "
        "startup has offered me a role with more pay and a chance to lead two people. My "
        "partner is worried because we are saving for a house and the startup is young. My "
        "manager hints that a promotion could come next year. Should I take the offer or stay?",
    ),
    (
        "Go back to school for a master's degree at 35?",
        "I am thirty five and have spent ten years in retail management. I keep thinking about "
        "going back to university for a master's in public health, which would mean two years "
        "with little income and a large loan. My kids are in primary school and my wife works "
        "part time. Is it worth the risk, or should I keep the steady job I have now?",
    ),
    (
        "Ask for a raise now or wait for the annual review?",
        "My yearly review is in six months, but I took over most of the work of a colleague "
        "who left in spring and nobody has talked about pay since. I found out a new hire on "
        "my team earns more than I do. I do not want to look greedy or ungrateful, yet I feel "
        "taken for granted. Should I ask my boss for a raise now or wait for the review?",
    ),
    (
        "Move across the country for a job my family cannot follow yet?",
        "A company in another state offered me my dream job in renewable energy. My husband "
        "cannot move for at least a year because of his contract, and our daughter would have "
        "to change schools twice. We could live apart for a year and visit every other weekend, "
        "or I could say no and keep looking nearby. What would you do in my position?",
    ),
    (
        "Quit my salaried job to freelance full time?",
        "For two years I have done design work for clients in the evenings, and it now brings "
        "in about half of my salary. I am tired and my health is suffering from doing both. I "
        "have savings for eight months of expenses but no health insurance of my own. Should I "
        "quit the salaried job and freelance full time, or cut back on the side work instead?",
    ),
    (
        "Report a coworker who takes credit for my work?",
        "A coworker on my project has twice presented my analysis to our director as his own. "
        "He is well liked and has been here much longer than me, and I am still on probation. "
        "I have emails that show I wrote the analysis. I am afraid that going to HR would make "
        "me look difficult. Should I report him, confront him first, or let it go for now?",
    ),
    (
        "Transfer to another team with a better manager but boring work?",
        "My current manager is disorganised and often takes her stress out on us, but the work "
        "itself is exciting and close to what I studied. Another team has offered me a spot "
        "with a calm and supportive manager, although the work is routine reporting. I am "
        "early in my career and want to grow. Which matters more here, the manager or the work?",
    ),
    (
        "Go part time to care for my father?",
        "My father had a stroke last month and needs help at home most afternoons. My brother "
        "lives abroad and can only send money. My employer would let me go to three days a "
        "week, which would cut my income by forty percent and probably stall my promotion. "
        "Paid carers are expensive where we live. Should I go part time or find another way?",
    ),
]


@pytest.fixture(autouse=True)
def _small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of 4 posts (so a dozen posts take several pages) and millisecond backoffs."""
    monkeypatch.setattr(api, "PAGE_SIZE", 4)
    monkeypatch.setattr(api, "BACKOFF_S", 0.01)


@pytest.fixture
def fake() -> Iterator[FakeReddit]:
    with FakeReddit(client_secret=SECRET) as server:
        yield server


def add_posts(
    fake: FakeReddit, n: int, start: int = 0, sub: str = SUB, **fields: Any
) -> list[dict[str, Any]]:
    """n synthetic posts, a minute apart (later index: newer), with distinct texts."""
    out = []
    for i in range(start, start + n):
        title, body = SCENARIOS[i % len(SCENARIOS)]
        out.append(
            fake.add_post(
                sub,
                title=f"{title} ({i})",
                selftext=body,
                created_utc=T0 + i * 60,
                score=10 + i,
                num_comments=i,
                author=f"author{i}",
                **fields,
            )
        )
    return out


def reddit_settings(tmp_path: Path, fake: FakeReddit, **reddit: Any) -> Settings:
    section = {
        "client_id": fake.client_id,
        "client_secret": SECRET,
        "oauth_url": fake.url,
        "reddit_url": fake.url,
        "listings": ["new"],
        "time_filter": "all",
        "max_wait_s": 5,
        "max_retries": 2,
        "timeout_s": 5,
        **reddit,
    }
    return make_settings(
        tmp_path,
        categories=[{"name": "career", "subreddits": [SUB, "AskHR"]}],
        reddit=section,
    )


def scrape(settings: Settings) -> StageReport:
    summary = run_stages(settings, [BY_NAME["scrape"]])
    return summary.stages["scrape"]


def stored_posts(settings: Settings) -> dict[str, Post]:
    with Store.open(settings.db_path) as store:
        return {p.post_id: p for p in store.load(Post)}


def states(settings: Settings) -> dict[tuple[str, str], ScrapeState]:
    with Store.open(settings.db_path) as store:
        return {(s.subreddit, s.listing): s for s in store.load(ScrapeState)}


def rejects(settings: Settings) -> list[dict[str, Any]]:
    with Store.open(settings.db_path) as store:
        return store.query("SELECT * FROM ingest_rejects ORDER BY source_sha256, line_no")


def note(report: StageReport, start: str) -> str:
    (found,) = [n for n in report.notes if n.startswith(start)]
    return found


# -- the stage and the command --------------------------------------------------------------


def test_scrape_is_the_first_stage_and_does_nothing_unless_configured(tmp_path: Path) -> None:
    assert STAGES[0].name == "scrape"
    s = make_settings(tmp_path)
    report = scrape(s)
    assert report.error is None and report.processed == report.outputs == 0
    assert report.notes == [
        "reddit not configured (VALACT_REDDIT__CLIENT_ID and VALACT_REDDIT__CLIENT_SECRET, or "
        "reddit.site): nothing scraped"
    ]
    assert stored_posts(s) == {}


def test_pagination_follows_after_and_stores_every_post_through_to_post(
    tmp_path: Path, fake: FakeReddit
) -> None:
    made = add_posts(fake, 10)
    s = reddit_settings(tmp_path, fake)
    report = scrape(s)

    assert report.error is None
    assert (report.processed, report.outputs) == (10, 10)
    calls = fake.listing_requests(SUB)
    assert [c.query.get("after") for c in calls] == [
        None,
        f"t3_{made[6]['id']}",
        f"t3_{made[2]['id']}",
    ]
    assert all(c.query["limit"] == "4" and c.query["raw_json"] == "1" for c in calls)
    assert [c.posts for c in calls] == [4, 4, 2]
    assert "r/careerguidance new: 10 fetched in 3 pages, 10 new" in note(report, "r/careerguidance")

    posts = stored_posts(s)
    newest_first = [d["id"] for d in reversed(made)]
    assert sorted(posts) == sorted(newest_first)
    for line, post_id in enumerate(newest_first, start=1):
        post, data = posts[post_id], fake._by_id[post_id]
        assert post.source_file == "reddit-api:r/careerguidance/new"
        assert post.source_line == line
        # one normalizer: what to_post makes of the listing JSON, as it would of a dump line
        assert post == to_post(data, post.source_file, line)
        assert post.created_utc == int(data["created_utc"]) and post.removed is None
    state = states(s)[("careerguidance", "new")]
    assert (state.newest_created_utc, state.newest_id) == (T0 + 9 * 60, made[-1]["id"])
    assert (state.fetched, state.new_posts, state.stopped) == (10, 10, "end")


def test_top_sends_the_time_filter_and_reddit_limit_caps_the_listing(
    tmp_path: Path, fake: FakeReddit
) -> None:
    add_posts(fake, 10)
    s = reddit_settings(tmp_path, fake, listings=["top"], time_filter="year", limit=6)
    fake.now = T0 + 3_600
    report = scrape(s)

    calls = fake.listing_requests(SUB)
    assert [(c.query["t"], c.query["limit"]) for c in calls] == [("year", "4"), ("year", "2")]
    assert report.processed == 6
    assert "cap hit: reddit.limit (6 posts)" in note(report, "r/careerguidance top (t=year)")
    posts = stored_posts(s)
    assert sorted(p.score for p in posts.values()) == [14, 15, 16, 17, 18, 19]  # best first


def test_a_listing_that_stops_giving_after_is_noted_as_capped(
    tmp_path: Path, fake: FakeReddit
) -> None:
    add_posts(fake, 12)
    fake.listing_cap = 8  # as Reddit does at about 1,000
    s = reddit_settings(tmp_path, fake)
    report = scrape(s)

    assert report.processed == 8
    text = note(report, "r/careerguidance new")
    assert "ended after 8 posts on a full page" in text and "about 1,000" in text
    assert states(s)[("careerguidance", "new")].stopped == "cap"


def test_a_bad_record_is_a_reject_and_the_rest_of_the_page_is_stored(
    tmp_path: Path, fake: FakeReddit
) -> None:
    made = add_posts(fake, 6)
    fake.update_post(made[4]["id"], over_18="no")
    s = reddit_settings(tmp_path, fake)
    report = scrape(s)

    assert report.outputs == 5 and report.dropped == {"bad_field": 1}
    (row,) = rejects(s)
    assert (row["source_file"], row["line_no"], row["reason"]) == (
        "reddit-api:r/careerguidance/new",
        2,
        "bad_field",
    )
    assert "over_18" in row["detail"] and made[4]["id"] in row["snippet"]


# -- rate limits, retries, bad pages --------------------------------------------------------


def test_a_429_with_rate_limit_headers_waits_and_goes_on(tmp_path: Path, fake: FakeReddit) -> None:
    add_posts(fake, 10)
    fake.script(RedditFault.ok(), RedditFault.rate_limit(reset_s=1))
    s = reddit_settings(tmp_path, fake)
    started = time.monotonic()
    report = scrape(s)

    assert time.monotonic() - started >= 0.9  # prawcore's limiter said 1 s; it was waited
    assert report.error is None and report.outputs == 10
    assert [c.status for c in fake.listing_requests(SUB)] == [200, 429, 200, 200]
    assert "(1 retry, waited 1 s)" in note(report, "r/careerguidance new")
    assert states(s)[("careerguidance", "new")].stopped == "end"


@pytest.mark.parametrize(
    "fault",
    [RedditFault.rate_limit(reset_s=600), RedditFault.spend_budget(reset_s=600)],
    ids=["429", "budget_spent"],
)
def test_a_wait_past_max_wait_s_stops_cleanly_and_keeps_what_was_fetched(
    tmp_path: Path, fake: FakeReddit, fault: RedditFault
) -> None:
    add_posts(fake, 10)
    add_posts(fake, 2, sub="AskHR")
    first = [RedditFault.ok(), fault] if fault.kind == "rate_limit" else [fault]
    fake.script(*first)
    s = reddit_settings(tmp_path, fake, max_wait_s=5)
    started = time.monotonic()
    report = scrape(s)

    assert time.monotonic() - started < 5  # no 600 s sleep
    assert report.error is None
    assert report.outputs == 4 and len(stored_posts(s)) == 4  # the first page, kept
    text = note(report, "r/careerguidance new")
    assert "stopped (rate_limited)" in text and "reddit.max_wait_s (5 s)" in text
    assert "what was fetched is kept" in text
    assert note(report, "rate limit:") == "rate limit: not scraped this run: r/AskHR new"
    assert fake.listing_requests("AskHR") == []
    state = states(s)[("careerguidance", "new")]
    assert state.stopped == "rate_limited" and state.newest_created_utc is None  # no mark

    again = scrape(s)  # the next run (a new client, the limit reset) fetches the rest
    assert again.error is None and again.outputs == 6 + 2
    assert len(stored_posts(s)) == 12


def test_5xx_and_timeouts_are_retried_with_backoff(tmp_path: Path, fake: FakeReddit) -> None:
    add_posts(fake, 10)
    fake.script(
        RedditFault.server_error(503),
        RedditFault.ok(),
        RedditFault.server_error(502),
        RedditFault.slow(2.0),  # the client gives up after timeout_s
    )
    s = reddit_settings(tmp_path, fake, timeout_s=0.3)
    started = time.monotonic()
    report = scrape(s)

    assert time.monotonic() - started < 2
    assert report.error is None and report.outputs == 10
    faults = [c.fault for c in fake.listing_requests(SUB)]  # 3 pages + 3 retries
    assert faults == ["http_error", "ok", "http_error", "slow", None, None]
    assert "(3 retries)" in note(report, "r/careerguidance new")


def test_a_listing_that_keeps_failing_is_given_up_and_the_run_goes_on(
    tmp_path: Path, fake: FakeReddit
) -> None:
    add_posts(fake, 3)
    add_posts(fake, 2, sub="AskHR")
    fake.script(RedditFault.server_error(503), RedditFault.server_error(503))
    s = reddit_settings(tmp_path, fake, max_retries=1)
    report = scrape(s)

    assert report.error is None and report.outputs == 2
    text = note(report, "r/careerguidance new")
    assert "stopped (http_503): HTTP 503; gave up after 2 tries" in text
    assert "r/AskHR new: 2 fetched in 1 page, 2 new" in note(report, "r/AskHR new")
    assert states(s)[("careerguidance", "new")].stopped == "http_503"


@pytest.mark.parametrize(
    ("fault", "reason", "snippet"),
    [
        (RedditFault.not_json(), "invalid_json", "<html><body>Our CDN"),
        (RedditFault.not_a_listing(), "not_a_listing", "{'message': 'busy'"),
    ],
    ids=["html", "json_not_a_listing"],
)
def test_a_page_that_is_not_a_json_listing_is_recorded_and_the_run_goes_on(
    tmp_path: Path, fake: FakeReddit, fault: RedditFault, reason: str, snippet: str
) -> None:
    add_posts(fake, 10)
    fake.script(RedditFault.ok(), fault)
    s = reddit_settings(tmp_path, fake)
    report = scrape(s)

    assert report.error is None and report.outputs == 10  # the page came right on a retry
    assert report.dropped == {f"page_{reason}": 1}
    assert "1 page not a JSON listing (in ingest_rejects)" in note(report, "r/careerguidance")
    (row,) = rejects(s)
    assert row["source_file"] == "reddit-api:r/careerguidance/new"
    assert row["reason"] == reason and row["snippet"].startswith(snippet)
    after = fake.listing_requests(SUB)[1].query["after"]  # the second page was the bad one
    assert row["detail"].startswith(f"{fake.url}/r/careerguidance/new?limit=4&after={after}")
    # the next scrape of the listing replaces what the last one recorded
    scrape(s)
    assert rejects(s) == []


def test_an_expired_token_is_replaced_and_the_page_retried(
    tmp_path: Path, fake: FakeReddit
) -> None:
    add_posts(fake, 6)
    fake.script(RedditFault.ok(), RedditFault.expire_tokens())
    report = scrape(reddit_settings(tmp_path, fake))

    assert report.error is None and report.outputs == 6
    assert [r.status for r in fake.requests if r.path == "/api/v1/access_token"] == [200, 200]
    assert "(1 retry)" in note(report, "r/careerguidance new")


@pytest.mark.parametrize("status", [403, 404], ids=["private", "banned"])
def test_a_closed_subreddit_is_noted_and_the_others_are_scraped(
    tmp_path: Path, fake: FakeReddit, status: int
) -> None:
    add_posts(fake, 2, sub="AskHR")
    fake.closed[SUB] = status
    report = scrape(reddit_settings(tmp_path, fake))

    assert report.error is None and report.outputs == 2
    assert f"stopped (http_{status}): HTTP {status} for" in note(report, "r/careerguidance new")
    assert len(fake.listing_requests(SUB)) == 1  # not retried
    assert "2 new" in note(report, "r/AskHR new")


def test_a_praw_ini_site_can_hold_the_app(
    tmp_path: Path, fake: FakeReddit, monkeypatch: pytest.MonkeyPatch
) -> None:
    from praw.config import Config

    add_posts(fake, 3)
    (tmp_path / "praw.ini").write_text(
        f"[valact-test]\nclient_id={fake.client_id}\nclient_secret={SECRET}\n"
        f"oauth_url={fake.url}\nreddit_url={fake.url}\n"  # no user_agent: valact's is used
    )
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # ~/.config/praw.ini stand-in
    monkeypatch.setattr(Config, "CONFIG", None)  # praw reads its files once per process
    site = make_settings(
        tmp_path / "site",
        categories=[{"name": "career", "subreddits": [SUB]}],
        reddit={"site": "valact-test", "listings": ["new"]},
    )
    report = scrape(site)
    assert report.error is None and report.outputs == 3

    monkeypatch.setattr(Config, "CONFIG", None)
    missing = make_settings(tmp_path / "missing", reddit={"site": "no-such-site"})
    error = scrape(missing).error
    assert error is not None and "reddit.site 'no-such-site' is not a section" in error


# -- posts seen again, watermarks -----------------------------------------------------------


def test_a_post_seen_again_gets_its_score_and_removal_updated_and_keeps_its_text(
    tmp_path: Path, fake: FakeReddit
) -> None:
    made = add_posts(fake, 5)
    s = reddit_settings(tmp_path, fake, listings=["top"])
    assert scrape(s).outputs == 5
    before = stored_posts(s)

    rescored, removed, deleted = (d["id"] for d in made[:3])
    fake.update_post(rescored, score=999, num_comments=77)
    fake.remove_post(removed)  # a moderator: "[removed]", removed_by_category "moderator"
    fake.remove_post(deleted, category="deleted")  # its author: "[deleted]"
    add_posts(fake, 1, start=5)
    report = scrape(s)

    assert (report.processed, report.outputs) == (6, 1)
    assert "3 stored posts updated" in note(report, "3 stored posts")
    after = stored_posts(s)
    assert (after[rescored].score, after[rescored].num_comments) == (999, 77)
    assert (after[removed].removed, after[deleted].removed) == ("moderator", "deleted")
    for post_id in (rescored, removed, deleted):
        kept = after[post_id].model_dump(exclude={"score", "num_comments", "removed"})
        assert kept == before[post_id].model_dump(exclude={"score", "num_comments", "removed"})
    assert after[removed].selftext == before[removed].selftext != "[removed]"
    assert after[deleted].author == "author2"
    untouched = made[3]["id"]
    assert after[untouched] == before[untouched]

    fake.update_post(removed, removed_by_category=None, selftext=SCENARIOS[1][1])
    scrape(s)  # approved again
    assert stored_posts(s)[removed].removed is None


def test_a_post_first_seen_removed_has_its_reason_and_the_text_reddit_gave(
    tmp_path: Path, fake: FakeReddit
) -> None:
    (data,) = add_posts(fake, 1)
    fake.remove_post(data["id"], category="automod_filtered")
    s = reddit_settings(tmp_path, fake)
    scrape(s)
    post = stored_posts(s)[data["id"]]
    assert (post.removed, post.selftext) == ("automod_filtered", "[removed]")


def test_a_watermarked_rescrape_of_new_fetches_only_the_new_posts(
    tmp_path: Path, fake: FakeReddit
) -> None:
    add_posts(fake, 10)
    s = reddit_settings(tmp_path, fake)
    assert scrape(s).outputs == 10
    assert len(fake.listing_requests(SUB)) == 3

    fake.requests.clear()
    newer = add_posts(fake, 3, start=10)
    report = scrape(s)
    (call,) = fake.listing_requests(SUB)  # one page: 3 new posts and the old newest
    assert (call.posts, report.processed, report.outputs) == (4, 4, 3)
    assert "reached the last run's newest post" in note(report, "r/careerguidance new")
    state = states(s)[("careerguidance", "new")]
    assert (state.newest_id, state.stopped) == (newer[-1]["id"], "watermark")

    fake.requests.clear()
    report = scrape(s)  # nothing new: one page, nothing stored
    assert len(fake.listing_requests(SUB)) == 1 and report.outputs == 0
    assert len(stored_posts(s)) == 13


def test_an_interrupted_rescrape_keeps_the_old_mark_and_the_next_fetches_the_gap(
    tmp_path: Path, fake: FakeReddit
) -> None:
    old = add_posts(fake, 4)
    s = reddit_settings(tmp_path, fake)
    scrape(s)
    add_posts(fake, 6, start=4)
    fake.script(RedditFault.ok(), RedditFault.rate_limit(reset_s=600))
    report = scrape(s)
    assert report.outputs == 4  # the first page only
    state = states(s)[("careerguidance", "new")]
    assert (state.newest_id, state.stopped) == (old[-1]["id"], "rate_limited")

    fake.requests.clear()
    report = scrape(s)
    assert report.outputs == 2  # the gap, down to the old mark
    assert [c.posts for c in fake.listing_requests(SUB)] == [4, 4]
    assert len(stored_posts(s)) == 10


def test_a_rescrape_that_cannot_reach_the_mark_says_so(tmp_path: Path, fake: FakeReddit) -> None:
    add_posts(fake, 3)
    s = reddit_settings(tmp_path, fake, limit=4)
    scrape(s)
    add_posts(fake, 6, start=3)
    report = scrape(s)
    text = note(report, "r/careerguidance new")
    assert "cap hit: reddit.limit (4 posts) before the last run's newest post" in text


# -- credentials and secrets ----------------------------------------------------------------


def test_a_wrong_secret_stops_with_one_line_naming_what_to_check(
    tmp_path: Path, fake: FakeReddit
) -> None:
    add_posts(fake, 2)
    s = reddit_settings(tmp_path, fake, client_secret="wrong-secret-123")
    summary = run_stages(s, STAGES[:2])

    assert list(summary.stages) == ["scrape"]  # the build stops there
    error = summary.error
    assert error is not None and "\n" not in error
    assert error == (
        f"scrape: Reddit refused the app's credentials (HTTP 401 from {fake.url}"
        "/api/v1/access_token): check VALACT_REDDIT__CLIENT_ID and VALACT_REDDIT__CLIENT_SECRET"
    )
    assert "wrong-secret-123" not in error and SECRET not in error
    assert fake.listing_requests() == [] and [r.status for r in fake.requests] == [401]


def test_a_wrong_password_names_the_user_settings(tmp_path: Path) -> None:
    with FakeReddit(client_secret=SECRET, username="owner", password=PASSWORD) as fake:
        s = reddit_settings(tmp_path, fake, username="owner", password="not-it")
        error = scrape(s).error
    assert error is not None and "VALACT_REDDIT__USERNAME and VALACT_REDDIT__PASSWORD" in error
    assert "not-it" not in error


def test_valact_scrape_exists_and_fails_in_one_line(tmp_path: Path, fake: FakeReddit) -> None:
    from flows.cli import app

    config = tmp_path / "valact.toml"
    config.write_text(f'[[categories]]\nname = "career"\nsubreddits = ["{SUB}"]\n')
    env = {
        "VALACT_PROCESSED_DIR": str(tmp_path / "processed"),
        "VALACT_REDDIT__CLIENT_ID": fake.client_id,
        "VALACT_REDDIT__CLIENT_SECRET": "wrong-secret-123",
        "VALACT_REDDIT__OAUTH_URL": fake.url,
        "VALACT_REDDIT__REDDIT_URL": fake.url,
    }
    result = CliRunner().invoke(app, ["scrape", "--config", str(config)], env=env)
    assert result.exit_code == 2
    (line,) = [x for x in result.output.splitlines() if x.startswith("error:")]
    assert "check VALACT_REDDIT__CLIENT_ID and VALACT_REDDIT__CLIENT_SECRET" in line
    assert "wrong-secret-123" not in result.output

    env["VALACT_REDDIT__CLIENT_SECRET"] = SECRET
    add_posts(fake, 2)
    result = CliRunner().invoke(app, ["scrape", "--config", str(config)], env=env)
    assert result.exit_code == 0, result.output
    assert "2 new" in result.output and SECRET not in result.output


def test_no_secret_reaches_the_store_the_summary_or_the_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # prawcore, urllib3 and the pipeline at their chattiest
    caplog.set_level(logging.DEBUG, logger="prawcore")  # the CLI quiets it, in-process
    with FakeReddit(client_secret=SECRET, username="owner", password=PASSWORD) as fake:
        add_posts(fake, 6)
        fake.script(RedditFault.server_error(503), RedditFault.not_json())
        s = reddit_settings(
            tmp_path, fake, username="owner", password=PASSWORD, listings=["new", "top"]
        )
        summary = run_stages(s, STAGES[:2])
        assert summary.error is None and summary.stages["scrape"].outputs == 6
        assert fake.requests[0].query == {"grant_type": "password"}  # the password was sent
        bad = reddit_settings(tmp_path / "bad", fake, client_secret=SECRET + "x")
        assert run_stages(bad, STAGES[:1]).error is not None

    texts = {
        "logs": caplog.text,
        "summary": summary.model_dump_json(),
        "config": json.dumps(s.public_dict()),
    }
    for folder in (s.processed_dir, bad.processed_dir):
        for path in folder.rglob("*"):
            if path.is_file():  # the store, its WAL if any, run summaries
                texts[str(path)] = path.read_bytes().decode("latin-1")
    con = duckdb.connect(str(s.db_path), read_only=True)
    for (table,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
        rows = con.execute(f'SELECT * FROM "{table}"').fetchall()
        texts[f"table {table}"] = repr(rows)
    con.close()
    assert "Fetching: GET" in caplog.text  # the logs did capture prawcore's requests
    for where, text in texts.items():
        assert SECRET not in text and PASSWORD not in text, where


# -- through the build -----------------------------------------------------------------------


def test_scraped_posts_go_through_the_build_like_dump_posts(
    tmp_path: Path, fake: FakeReddit, embedder: Embedder
) -> None:
    made = add_posts(fake, 8)
    made.append(fake.add_post("AskHR", title="Help", selftext="Anyone?", created_utc=T0 + 480))
    made += add_posts(fake, 1, start=9, sub="AskHR")  # the same text as post 1: a near copy
    fake.remove_post(made[3]["id"])
    api_build = reddit_settings(tmp_path / "api", fake, listings=["new", "top"])
    assert not list(api_build.source.raw_dir.glob("*"))  # no dump files at all
    summary = run_stages(api_build, embedder=embedder)
    assert summary.error is None, summary.error
    assert summary.stages["scrape"].outputs == 10
    assert summary.stages["ingest"].outputs == 0
    assert summary.stages["release"].outputs == 1

    # The same records as a dump file, offline: every stage decides the same.
    dump_build = make_settings(
        tmp_path / "dump", categories=[{"name": "career", "subreddits": [SUB, "AskHR"]}]
    )
    write_dump(dump_build.source.raw_dir / "RS_2026-09.zst", [dict(d) for d in made])
    assert run_stages(dump_build, embedder=embedder).error is None

    def decisions(settings: Settings) -> dict[str, Any]:
        con = duckdb.connect(str(settings.db_path), read_only=True)
        try:
            return {
                t: sorted(con.execute(sql).fetchall())
                for t, sql in {
                    "posts": "SELECT post_id, content_sha, removed FROM posts",
                    "prefilter": "SELECT post_id, keep, reason FROM prefilter",
                    "dedup": "SELECT post_id, keep, reason, duplicate_of FROM dedup",
                    "judge": "SELECT post_id, keep FROM judge_panel",
                    "scenarios": "SELECT scenario_id, post_id FROM scenarios",
                }.items()
            }
        finally:
            con.close()

    via_api, via_dump = decisions(api_build), decisions(dump_build)
    assert via_api == via_dump
    prefilter = {r[0]: r[2] for r in via_api["prefilter"]}
    assert prefilter[made[3]["id"]] == "removed" and prefilter[made[8]["id"]] == "too_short"
    dedup = {r[0]: r[2] for r in via_api["dedup"]}
    assert dedup[made[9]["id"]] in ("near_duplicate", "same_body")
    assert sum(keep for _, keep, _ in via_api["prefilter"]) == 8


# -- pieces ----------------------------------------------------------------------------------


def test_to_post_fills_removed_outside_the_content_hash() -> None:
    base = {"id": "abc", "subreddit": SUB, "created_utc": T0, "title": "t", "selftext": "body"}
    assert to_post(base, "f", 1).removed is None
    moderated = to_post({**base, "removed_by_category": "moderator"}, "f", 1)
    assert moderated.removed == "moderator"
    assert moderated.content_sha == to_post(base, "f", 1).content_sha  # not part of the hash
    assert to_post({**base, "selftext": "[deleted]"}, "f", 1).removed == "deleted"
    assert to_post({**base, "selftext": "[removed]"}, "f", 1).removed == "removed"
    assert to_post({**base, "removed_by_category": 3}, "f", 1).removed is None  # ignored


def test_a_praw_submission_gives_the_same_record_as_the_listing_json(
    tmp_path: Path, fake: FakeReddit
) -> None:
    made = add_posts(fake, 2)
    fake.update_post(made[0]["id"], author="[deleted]", crosspost_parent="t3_zzz111")
    s = reddit_settings(tmp_path, fake)
    reddit = api.connect(s.reddit)
    try:
        submissions = list(reddit.subreddit(SUB).new(limit=None))
    finally:
        api.close(reddit)
    assert len(submissions) == 2
    for submission in submissions:
        data = fake._by_id[submission.id]
        assert api.record_of(submission) == api.record_of(data)
    deleted = api.record_of(next(x for x in submissions if x.id == made[0]["id"]))
    assert deleted["author"] == "[deleted]" and deleted["subreddit"] == SUB
