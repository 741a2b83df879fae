"""The offline judge panel against posts the project wrote and labelled by hand
(tests/fixtures/judge_labelled.jsonl; `scripts/eval_judge.py` prints the full figures)."""

import json
from pathlib import Path

import pytest

from pipeline.llm.offline_judge import JUDGES, panel, score

FIXTURE = Path(__file__).parent / "fixtures" / "judge_labelled.jsonl"
POSTS = [json.loads(line) for line in FIXTURE.read_text().splitlines() if line.strip()]


def _figures(votes: list[tuple[bool, bool]]) -> tuple[float, float]:
    tp = sum(v and label for v, label in votes)
    accepted = sum(v for v, _ in votes)
    positives = sum(label for _, label in votes)
    return tp / accepted, tp / positives


def test_the_labelled_set_is_varied() -> None:
    assert len(POSTS) >= 120
    assert len({p["subreddit"] for p in POSTS}) >= 15
    kinds = {p["kind"] for p in POSTS}
    assert {"decision", "wibta", "past_aita", "story", "rant", "update", "fact"} <= kinds
    assert {"recommendation", "general", "coping"} <= kinds


def test_panel_precision_and_recall_on_the_labelled_set() -> None:
    # Measured (judge v3): panel precision 1.00, recall 0.91 (139 posts, 47 decisions). The
    # judge is tuned for precision (a wrong accept becomes a bad scenario), so its floor is high.
    prec, rec = _figures([(panel(p["title"], p["text"])[3], p["label"]) for p in POSTS])
    assert prec >= 0.95 and rec >= 0.83


@pytest.mark.parametrize(
    ("name", "min_precision", "min_recall"),
    # Measured (judge v3): decision 0.98 / 0.91, context 1.00 / 0.83, combined 0.98 / 0.91.
    [("decision-rules", 0.92, 0.83), ("context-rules", 0.92, 0.75), ("combined-score", 0.92, 0.83)],
)
def test_each_judge_on_the_labelled_set(name: str, min_precision: float, min_recall: float) -> None:
    prec, rec = _figures([(JUDGES[name](p["title"], p["text"])[0], p["label"]) for p in POSTS])
    assert prec >= min_precision and rec >= min_recall


@pytest.mark.parametrize(
    "kind",
    [
        "past_aita",
        "story",
        "rant",
        "update",
        "fact",
        "recommendation",
        "general",
        "plea",
        "feeling",
    ],
)
def test_kinds_that_are_not_decisions_are_mostly_rejected(kind: str) -> None:
    posts = [p for p in POSTS if p["kind"] == kind]
    kept = sum(panel(p["title"], p["text"])[3] for p in posts)
    assert kept <= len(posts) // 8, f"{kept} of {len(posts)} {kind} posts accepted"


def test_decision_phrases_out_of_context_do_not_count() -> None:
    story = (
        "This happened last night. My dad and I were deciding between two TV channels, a "
        "cooking show or the hockey game, and he said let's do rock paper scissors. I lost, so "
        "we watched four hours of baking. By the end I was invested in whether a guy named "
        "Trevor would get his macarons right. He did not."
    )
    plain = (
        "I don't know if I should break up with my GF. We have been together two years, she is "
        "kind to me, but we want different things: she wants kids soon and I am not sure I ever "
        "do. I keep putting off the conversation because I know it will hurt her."
    )
    assert not panel("TIFU by letting my dad pick the channel", story)[3]
    assert panel("Relationship question", plain)[3]
    assert score("Title", plain).decision > score("Title", story).decision


def test_a_plea_alone_is_not_a_choice() -> None:
    """A plea ("what do I do?") with no choice named is rejected; the same post naming two
    courses is accepted."""
    story = (
        "My landlord (60s) told me yesterday he is selling the building and I have until the end "
        "of next month to leave. I (29F) have lived here six years, rent is far below market and "
        "my job is a ten minute walk away. My savings would cover a deposit but not much more. "
    )
    assert not panel("Landlord is selling. What do I do?", story + "What do I do?")[3]
    named = story + "Should I take the cheaper place an hour away or move back in with my mom?"
    assert panel("Landlord is selling. What do I do?", named)[3]


def test_a_verdict_on_an_act_stays_a_verdict_however_the_story_looks_ahead() -> None:
    act = (
        "My brother (29) is getting married next month and I will be his best man. He is going "
        "to give a speech too, and last week he read me his draft. It was twenty minutes long and "
        "all inside jokes. I told him it was way too long. He went quiet and later texted that I "
        "could have been nicer. The wedding will be at our aunt's farm next month. AITA?"
    )
    assert not panel("AITA for telling my brother his speech was too long?", act)[3]
    assert panel("WIBTA if I tell my brother his speech is too long?", act)[3]


def test_every_vote_gives_a_reason() -> None:
    for p in POSTS[:20]:
        for fn in JUDGES.values():
            ok, why = fn(p["title"], p["text"])
            assert isinstance(ok, bool) and why
