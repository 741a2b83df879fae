"""The pre-filter's rules on posts shaped like real ones, and bad input that must get a reason
(or pass) without stopping the stage. The texts are written for these tests."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline import prefilter
from pipeline.context import RunContext
from pipeline.prefilter import decide, is_bot, is_update, link_target
from pipeline.settings import PrefilterSettings
from pipeline.store import Provenance
from pipeline.text import english_ratio, words
from schemas import Post

RULES = PrefilterSettings()

DILEMMA = (
    "I (29F) have been at a mid-size logistics company for three years. Last week a former "
    "colleague offered me a team lead role at her startup: about 20% more money, but no "
    "pension match and the office is an hour away. My husband thinks I should stay because "
    "we are trying for a baby and my current job has good leave. I keep going back and forth "
    "and I have to answer by Friday. Would you take the risk or stay where it is safe?"
)
LINKS_BODY = (
    "My manager sent me these two listings and asked which one I would rather apply for "
    "internally: https://careers.example.com/jobs/48213?src=internal&utm_medium=email and "
    "https://careers.example.com/jobs/48377?src=internal&utm_medium=email. The first is in "
    "the same team with a small raise, the second is a move to the analytics group "
    "[described here](https://wiki.example.org/teams/analytics/overview#roles) where I would "
    "have to learn a lot. Which one should I pick if I care about growing long term?"
)


def post(**fields: Any) -> Post:
    pid = fields.pop("post_id", "p1")
    base: dict[str, Any] = {
        "post_id": pid,
        "subreddit": "careerguidance",
        "title": "Stay at a stable job or join a friend's startup?",
        "selftext": DILEMMA,
        "author": "quiet_heron_42",
        "created_utc": 1_700_000_000,
        "over_18": False,
        "stickied": False,
        "crosspost_parent": None,
        "permalink": f"/r/careerguidance/comments/{pid}/stay_at_a_stable_job/",
        "url": f"https://www.reddit.com/r/careerguidance/comments/{pid}/stay_at_a_stable_job/",
        "score": 12,
        "num_comments": 9,
        "source_file": "f",
        "source_line": 1,
        "content_sha": f"sha-{pid}",
    }
    return Post(**{**base, **fields})


def reason(p: Post, rules: PrefilterSettings = RULES) -> str | None:
    d = decide(p, "career", rules)
    assert d.keep is (d.reason is None)
    return d.reason


# -- words without links -----------------------------------------------------------------------


def test_words_leave_out_urls_link_targets_and_bare_domains() -> None:
    assert words("See https://www.example.com/a?b=1 and [this post](/r/jobs/comments/x1/y/)") == [
        "See",
        "and",
        "this",
        "post",
    ]
    assert words("I found it on indeed.com/jobs and www.glassdoor.com, then applied") == [
        "I",
        "found",
        "it",
        "on",
        "and",
        "then",
        "applied",
    ]
    # A missing space after a full stop is not a domain; apostrophes stay inside a word.
    assert words("I was so tired.Me and him didn’t talk") == [
        "I", "was", "so", "tired", "Me", "and", "him", "didn’t", "talk",
    ]  # fmt: skip
    assert len(words("我想辞职但是我妈妈不同意")) == 12  # unspaced script: a word per character


def test_an_english_post_made_of_links_is_english_and_a_link_only_post_is_short() -> None:
    assert english_ratio(LINKS_BODY) > 0.3
    assert reason(post(selftext=LINKS_BODY)) is None
    link_list = "\n".join(
        f"https://www.example.com/resources/career-change-guide-part-{i}?ref=sidebar"
        for i in range(30)
    )
    d = decide(post(title="Resources", selftext=link_list), "career", RULES)
    assert (d.reason, d.detail) == ("too_short", "1 words")


# -- the rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, None),
        ({"removed": "moderator", "selftext": "[removed]"}, "removed"),
        ({"removed": "moderator"}, "removed"),  # taken down after a dump kept its text
        ({"removed": "automod_filtered"}, "removed"),
        ({"removed": "deleted", "selftext": "[deleted]"}, "deleted"),
        ({"selftext": "[deleted]", "author": "[deleted]"}, "deleted"),
        ({"selftext": "[removed]"}, "removed"),
        ({"title": "[deleted by user]", "selftext": "[deleted]"}, "deleted"),
        ({"selftext": "[ Removed by Reddit ]"}, "removed"),
        ({"stickied": True}, "stickied"),
        ({"author": "AutoModerator", "title": "Weekly salary thread"}, "bot"),
        ({"author": "automoderator"}, "bot"),
        ({"author": "RepostSleuthBot"}, "bot"),
        ({"author": "careers-ModTeam"}, "bot"),
        ({"title": "Weekly Career Questions Thread - March 4, 2024"}, "meta_post"),
        ({"title": "Megathread: layoffs at the big banks"}, "meta_post"),
        ({"title": "[META] Can we stop downvoting people who ask for salary advice?"}, "meta_post"),
        ({"title": "Meta: new flair rules"}, "meta_post"),
        ({"title": "We are looking for new moderators!"}, "meta_post"),
        ({"title": "UPDATE: I took the startup job"}, "update"),
        ({"title": "Stable job or startup? [Update]"}, "update"),
        ({"title": "Stable job or startup - UPDATE 2"}, "update"),
        ({"title": "(Final Update) Stable job or startup"}, "update"),
        ({"title": "Update on my stable job vs startup dilemma"}, "update"),
        ({"title": "Follow-up: the startup offer"}, "update"),
        ({"title": "Here's a quick update on the startup offer"}, "update"),
        (
            {
                "selftext": "Original post: https://redd.it/abc123\n\nSo I talked to my husband. "
                + DILEMMA
            },
            "update",
        ),
        ({"selftext": "I posted here a few weeks ago about a startup offer. " + DILEMMA}, "update"),
        ({"over_18": True}, "nsfw"),
        ({"url": "https://i.imgur.com/Vx81kq2.jpg", "selftext": ""}, "link_post"),
        (
            {"url": "https://www.nytimes.com/2024/01/02/business/jobs.html", "selftext": DILEMMA},
            "link_post",
        ),  # 77 words of its own: under link_post_min_words
        ({"url": "https://www.reddit.com/r/jobs/comments/zz9/other/", "selftext": ""}, "link_post"),
        ({"selftext": "Should I quit? Yes or no."}, "too_short"),
        ({"selftext": "word " * 10_000}, "too_long"),
    ],
)
def test_each_rule_drops_with_its_reason(fields: dict[str, Any], expected: str | None) -> None:
    assert reason(post(**fields)) == expected


@pytest.mark.parametrize(
    "title",
    [
        "Should I update my resume before asking for a raise?",
        "Updated my CV twice and still no callbacks, what am I doing wrong?",
        "My boss wants weekly updates on a project I was taken off",
        "Waiting for an update from HR about the offer: accept the other one?",
        "How do I tell my parents I dropped a class?",
        "AITA for skipping my cousin's wedding for a job interview?",
        "Monthly budget is a mess since the new baby, cut daycare or my hours?",
        "Is it wrong to stop going to my friend's weekly game night?",
    ],
)
def test_look_alikes_pass(title: str) -> None:
    assert reason(post(title=title)) is None


@pytest.mark.parametrize(
    "author",
    ["Talbot_Jane", "abbot", "robotics_nerd", "Not_A_Bot", "ILikeBots", None, "[deleted]"],
)
def test_people_are_not_bots(author: str | None) -> None:
    assert not is_bot(author, RULES)


def test_bot_names_from_the_settings_in_any_case() -> None:
    rules = PrefilterSettings(bot_authors=["ScheduleKeeper"])
    assert rules.bot_authors == ["schedulekeeper"]
    assert is_bot("schedulekeeper", rules) and not is_bot("AutoModerator", rules)
    assert is_bot("WeeklyThreadBot", rules)  # the name pattern needs no listing


def test_an_update_at_the_top_of_an_original_post_is_not_a_follow_up() -> None:
    body = "Update: I said no and we are fine.\n\n" + DILEMMA
    assert is_update("Stay at a stable job or join a startup?", body) is None
    assert is_update("UPDATE: the startup", DILEMMA) == "title"
    assert is_update("WHAT DO I DO, MY UPDATE FAILED AND THE LAPTOP IS DEAD", DILEMMA) is None


def test_a_self_post_and_a_crosspost_are_not_link_posts() -> None:
    assert link_target(post()) is None
    assert link_target(post(url=None)) is None
    assert link_target(post(url="https://v.redd.it/k2j3h4")) == "v.redd.it"
    assert link_target(post(url="/r/jobs/comments/zz9/other/")) == "reddit"
    crosspost = post(crosspost_parent="zz9", url="/r/jobs/comments/zz9/other/", selftext="")
    assert reason(crosspost) == "too_short"  # dedup names the post it copies


def test_every_rule_can_be_turned_off() -> None:
    off = PrefilterSettings(
        drop_bots=False, drop_meta_posts=False, drop_updates=False, drop_link_posts=False
    )
    for fields in (
        {"author": "AutoModerator"},
        {"title": "Weekly Career Questions Thread"},
        {"title": "UPDATE: I took the startup job"},
        {"url": "https://www.nytimes.com/2024/01/02/business/jobs.html"},
    ):
        assert reason(post(**fields), off) is None, fields
    assert (
        reason(post(url="https://i.imgur.com/a.jpg"), PrefilterSettings(link_post_min_words=50))
        is None
    )


# -- bad input -----------------------------------------------------------------------------------

BAD_INPUT: dict[str, tuple[dict[str, Any], str | None]] = {
    "empty": ({"title": "", "selftext": ""}, "too_short"),
    "whitespace": ({"title": " \n\t ", "selftext": "\n\n   \n"}, "too_short"),
    "huge": ({"selftext": "I do not know what to do. " * 8_000}, "too_long"),  # 200,000 chars
    "emoji_only": ({"title": "😭😭😭", "selftext": "🙏🏽 " * 300}, "too_short"),
    "chinese": ({"title": "该辞职吗", "selftext": "我在这家公司工作了三年，" * 20}, "non_english"),
    "mixed_scripts": (
        {"selftext": DILEMMA + " My mother-in-law (свекровь) keeps saying 你自己决定 about it."},
        None,
    ),
    "homoglyphs": ({"title": "Ѕhоuld Ι quіt?", "selftext": DILEMMA}, None),
    "control_chars": (
        {"title": "Stay\x00 or\x07 go?\x1b[31m", "selftext": DILEMMA.replace(" ", " \x0b\u200b")},
        None,
    ),
    "rtl_marks": ({"selftext": "\u202e" + DILEMMA + "\u202c"}, None),
    "lone_punctuation": (
        {"title": "???", "selftext": "!!! ... ??? --- *** ### " * 200},
        "too_short",
    ),
    "numbers_only": ({"title": "401k", "selftext": "2024 1099 401 30000 " * 50}, "too_short"),
    "markdown_only": ({"selftext": "[](https://x.co/a) " * 100}, "too_short"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_gets_a_reason_or_passes(case: str) -> None:
    fields, expected = BAD_INPUT[case]
    assert reason(post(**fields)) == expected


def test_bad_input_does_not_stop_the_stage_and_a_removal_re_decides(ctx: RunContext) -> None:
    posts = [post(post_id=f"b{i}", **fields) for i, (fields, _) in enumerate(BAD_INPUT.values())]
    posts.append(post(post_id="ok1"))
    prov = Provenance("ingest", "1", "test", "test-run")
    ctx.store.put("posts", posts, prov, [p.content_sha for p in posts])
    report = prefilter.run(ctx)
    assert report.processed == len(posts) and report.error is None
    stored = {r["post_id"]: r["reason"] for r in ctx.store.query("SELECT * FROM prefilter")}
    assert stored == {
        **{f"b{i}": exp for i, (_, exp) in enumerate(BAD_INPUT.values())},
        "ok1": None,
    }
    assert prefilter.run(ctx).processed == 0  # reused

    # A re-scrape learns that a kept post was removed: its content hash is unchanged, its
    # verdict is not.
    ctx.store.con.execute("UPDATE posts SET removed = 'moderator' WHERE post_id = 'ok1'")
    again = prefilter.run(ctx)
    assert (again.processed, again.dropped) == (1, {"removed": 1})
    assert prefilter.run(ctx).processed == 0
