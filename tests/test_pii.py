"""Personal information scrubbing (`pipeline.pii`): measured figures on the labelled set,
look-alikes that must survive, settings, prompts and releases."""

from __future__ import annotations

import json
import sys
import time
from itertools import pairwise
from pathlib import Path

import pytest

from pipeline.llm.prompts import annotate_messages, fingerprint, judge_messages
from pipeline.pii import find, policy, scrub
from pipeline.release import scrub_rows
from pipeline.reuse import digest
from pipeline.settings import GenerationSettings, PIISettings
from schemas import LLMRequest
from schemas.llm import ANSWER_SCHEMAS
from schemas.release import ActionRow, QuestionRow, ScenarioRow

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from eval_pii import evaluate, load_labelled, lookalike_failures

# Figures reached on tests/fixtures/pii_labelled.jsonl (README), minus a margin.
FLOORS = {
    "EMAIL": (0.95, 0.95),
    "URL": (0.95, 0.95),
    "USER": (0.95, 0.95),
    "PHONE": (0.95, 0.90),
    "NAME": (0.95, 0.85),
    "ALL": (0.95, 0.90),
}


@pytest.fixture(scope="module")
def labelled() -> list[dict[str, object]]:
    return load_labelled()


def test_labelled_set_is_varied(labelled: list[dict[str, object]]) -> None:
    assert len(labelled) >= 150
    kinds = {s[2] for r in labelled for s in r["spans"]}  # type: ignore[attr-defined]
    assert kinds == {"EMAIL", "PHONE", "URL", "USER", "NAME"}
    texts = " ".join(str(r["text"]) for r in labelled)
    for lookalike in ("r/personalfinance", "$20,000", "401(k)", "2023-07-14", "7/14/23", "28F"):
        assert lookalike in texts
    for row in labelled:  # spans are in bounds and do not overlap
        spans = sorted(row["spans"])  # type: ignore[type-var]
        assert all(0 <= a < b <= len(str(row["text"])) for a, b, _ in spans)
        assert all(prev[1] <= nxt[0] for prev, nxt in pairwise(spans))


def test_precision_and_recall_per_kind(labelled: list[dict[str, object]]) -> None:
    result = evaluate(labelled)
    for kind, (precision, recall) in FLOORS.items():
        assert result[kind]["precision"] >= precision, (kind, result[kind])
        assert result[kind]["recall"] >= recall, (kind, result[kind])


def test_lookalikes_survive(labelled: list[dict[str, object]]) -> None:
    assert lookalike_failures(labelled) <= 2  # 1 reached: a TV title holding a name
    text = (
        "I (28F) and him (32M), M24, moved to r/personalfinance: $20,000 in a 401(k), 15% "
        "on 2023-07-14 at 10:30 or 7/14/23, version 2.3.1, since 2019, $1,299.99/mo. "
        "**Edit:** ~~no~~ &amp; > quote. Will you help? May I ask? I paid the bill."
    )
    assert scrub(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail jane.doe+x@gmail.com now", "mail [EMAIL] now"),
        ("jane dot doe at gmail dot com", "[EMAIL]"),
        ("call (415) 555-2671 or +44 20 7946 0958.", "call [PHONE] or [PHONE]."),
        (
            "see [post](https://reddit.com/r/a/comments/x/) or example.com.",
            "see [post]([URL]) or [URL].",
        ),
        ("thanks u/some_user and /u/Other-User!", "thanks [USER] and [USER]!"),
        ("My friend Sarah Johnson said no.", "My friend [NAME] said no."),
        ("I told Will about it. Will you come?", "I told [NAME] about it. Will you come?"),
        ("In May my daughter May (7) cried.", "In May my daughter [NAME] (7) cried."),
        ("My coworker Aditi texted me.", "My coworker [NAME] texted me."),
        ("I saw Dr. Alvarez.", "I saw Dr. [NAME]."),
        ("Rose and I left; the rose died.", "[NAME] and I left; the rose died."),
        ("I live in Jordan but Jordan said hi", "I live in Jordan but [NAME] said hi"),
    ],
)
def test_examples(text: str, expected: str) -> None:
    assert scrub(text) == expected


def test_scrub_is_idempotent(labelled: list[dict[str, object]]) -> None:
    for row in labelled:
        once = scrub(str(row["text"]))
        assert scrub(once) == once


def test_settings_choose_what_is_scrubbed() -> None:
    text = "Sarah (sarah@x.com, 415-555-2671) and u/sarah_k, see sarah.dev"
    assert scrub(text, PIISettings(enabled=False)) == text
    assert scrub(text, PIISettings(names=False)) == "Sarah ([EMAIL], [PHONE]) and [USER], see [URL]"
    assert (
        scrub(text, PIISettings(kinds=["EMAIL"]))
        == "Sarah ([EMAIL], 415-555-2671) and u/sarah_k, see sarah.dev"
    )
    assert policy(PIISettings(enabled=False)) is None
    assert policy(PIISettings(kinds=[])) is None


@pytest.mark.parametrize(
    "text",
    ["", " ", "🙂🙂🙂", "\x00\x07\x1b[31m\u202e", "Ωμέγα и кириллица 中文 Sarah", "a" * 200_000],
)
def test_bad_input_passes(text: str) -> None:
    assert isinstance(scrub(text), str)


def test_long_post_is_fast() -> None:
    text = ("My friend Sarah (415-555-2671) posted on example.com about $20,000. " * 3000)[:200_000]
    started = time.perf_counter()
    spans = find(text)
    assert time.perf_counter() - started < 30
    assert {s.kind for s in spans} == {"NAME", "PHONE", "URL"}


def test_prompts_carry_placeholders_not_the_text() -> None:
    title, text = "Advice about Sarah", "Email me at me@x.com or call 415-555-2671."
    content = json.dumps(judge_messages(title, text, PIISettings()))
    assert "me@x.com" not in content and "555-2671" not in content and "Sarah" not in content
    assert "[EMAIL]" in content and "[PHONE]" in content and "[NAME]" in content
    raw = json.dumps(judge_messages(title, text, PIISettings(enabled=False)))
    assert "me@x.com" in raw
    annotate = json.dumps(annotate_messages(text, "I call Sarah at 415-555-2671."))
    assert "555-2671" not in annotate and "Sarah" not in annotate


def test_cached_answers_are_not_reused_across_scrubbing() -> None:
    """A request's id hashes its (scrubbed) messages and the prompt fingerprint, which covers
    the scrubbing policy: an answer to the raw prompt never serves the scrubbed one."""
    rules, on, off = GenerationSettings(), PIISettings(), PIISettings(enabled=False)

    def request(pii: PIISettings, text: str) -> LLMRequest:
        return LLMRequest(
            task="judge",
            model="m",
            prompt_version=fingerprint("judge", rules, pii),
            messages=judge_messages("t", text, pii),
            payload={"title": "t", "text": text},
        )

    assert fingerprint("judge", rules, on) != fingerprint("judge", rules, off)
    assert fingerprint("judge", rules, on) != fingerprint("judge", rules, PIISettings(names=False))
    pii_text = "My friend Sarah said to email sarah@x.com"
    assert request(on, pii_text).request_id != request(off, pii_text).request_id
    # Off is the fingerprint prompts had before scrubbing existed (cached answers stay valid).
    rendered = judge_messages("{title}", "{text}", off)
    schema = ANSWER_SCHEMAS["judge"].model_json_schema()
    assert fingerprint("judge", rules, off).endswith(digest(rendered, schema)[:12])


def test_release_rows_are_scrubbed() -> None:
    scenario = ScenarioRow(
        scenario_id="s1",
        category="c",
        subreddit="Advice",
        title="Should I tell Sarah?",
        text="My friend Sarah (sarah@x.com) owes me $20,000. See r/personalfinance.",
        post_id="p1",
        permalink="/r/Advice/comments/p1/x/",
        created_utc=1_700_000_000,
    )
    action = ActionRow(
        action_id="a1",
        scenario_id="s1",
        generator="g",
        value="Power",
        text="I text Sarah at 415-555-2671.",
        placeholder=False,
        annotators=[],
        predicted_values=[],
        value_check_passed=None,
    )
    question = QuestionRow(
        question_id="q1",
        scenario_id="s1",
        question_index=0,
        category="c",
        subreddit="Advice",
        scenario=f"{scenario.title}\n\n{scenario.text}",
        options=[action.text, "I wait."],
        option_values=["Power", "Security"],
        option_action_ids=["a1", "a2"],
        option_generators=["g", "g"],
    )
    rows = scrub_rows(
        {"scenarios": [scenario], "actions": [action], "questions": [question]}, PIISettings()
    )
    dumped = json.dumps([r.model_dump() for rs in rows.values() for r in rs])
    for secret in ("Sarah", "sarah@x.com", "555-2671"):
        assert secret not in dumped
    assert "$20,000" in dumped and "r/personalfinance" in dumped
    assert rows["scenarios"][0].permalink == scenario.permalink  # type: ignore[attr-defined]
    assert rows["questions"][0].options[1] == "I wait."  # type: ignore[attr-defined]
    unchanged = scrub_rows({"scenarios": [scenario]}, PIISettings(enabled=False))
    texts = ("title", "text")
    assert unchanged["scenarios"][0].model_dump(include=set(texts)) == scenario.model_dump(
        include=set(texts)
    )  # only the hash of the texts is added
