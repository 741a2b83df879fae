"""The value-check gate: an action read as another value is re-asked (the re-ask naming what it
was read as) until k of N annotators recover its value; a scenario that cannot keep its 20
valid candidates is replaced by the next eligible post of its category. Models are the real
openai client against the fake server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from flows.cli import app
from pipeline.build import run_stages
from pipeline.gate import read_as
from pipeline.selection import seeded_rank
from pipeline.settings import Settings
from pipeline.store import Store
from schemas import SchwartzValue
from tests.conftest import make_settings, submission, write_dump
from tests.fakes.openai_server import FakeOpenAIServer

VALUES = [v.value for v in SchwartzValue]
CODES = {v: f"aim{i}" for i, v in enumerate(VALUES)}
DECODE = {c: v for v, c in CODES.items()}
WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima".split()
ANNOTATORS = ["ann-1", "ann-2", "ann-3"]
HOPELESS = "HOPELESS"  # in a post: its Tradition actions read as Security, however re-asked


def schema(body: dict[str, Any]) -> str:
    return body["response_format"]["json_schema"]["name"]


class Panel:
    """Judges that accept every post; generators that write one coded action per value (gen-a's
    Power action coded as Security: annotators read it so; in a HOPELESS post, the Tradition
    actions too); a re-ask that writes the value's own code, except for the Tradition actions
    of a HOPELESS post; annotators that read the code."""

    def __init__(self) -> None:
        self.reasks: list[dict[str, Any]] = []

    def __call__(self, body: dict[str, Any]) -> str:
        kind = schema(body)
        prompt = "\n".join(m["content"] for m in body["messages"])
        if kind == "JudgeAnswer":
            return json.dumps({"is_decision": True, "reason": "a decision"})
        if kind == "ScenarioActionsAnswer":
            out = {}
            for i, v in enumerate(VALUES):
                misread = (v == "Power" and body["model"] == "gen-a") or (
                    v == "Tradition" and HOPELESS in prompt
                )
                code = CODES["Security"] if misread else CODES[v]
                j = i + (body["model"] == "gen-b")
                out[v] = f"I would pick {WORDS[j]} then {WORDS[(j + 3) % 12]}, {code}."
            return json.dumps(out)
        if kind == "ActionAnswer":  # a re-ask
            self.reasks.append(body)
            value = re.search(r"Schwartz value ([\w-]+)", prompt).group(1)  # type: ignore[union-attr]
            n = int(hashlib.sha256(prompt.encode()).hexdigest(), 16)  # a model: no state
            code = (
                CODES["Security"] if value == "Tradition" and HOPELESS in prompt else CODES[value]
            )
            text = f"Instead I would try {WORDS[n % 12]} and {WORDS[(n // 12) % 12]}, {code}."
            return json.dumps({"action": text})
        assert kind == "AnnotationAnswer", kind
        code = re.search(r"Action: .*?(aim\d)", prompt).group(1)  # type: ignore[union-attr]
        return json.dumps({"value": DECODE[code]})


def settings_for(tmp_path: Path, server: FakeOpenAIServer, **gate: Any) -> Settings:
    return make_settings(
        tmp_path,
        llm={"base_url": server.base_url, "max_retries": 0},
        generation={"models": ["gen-a", "gen-b"]},
        annotation={"models": ANNOTATORS},
        judge={"models": ["judge-1", "judge-2"], "tiebreaker": "judge-3", "oversample": 1.0},
        sampling={"per_category": 1},
        gate=gate,
    )


def career_posts(ids: list[str], hopeless: str | None = None) -> list[dict[str, Any]]:
    posts = []
    for i, pid in enumerate(ids):
        body = (
            f"My manager offered me option {i} at work: a transfer that doubles my commute but "
            "comes with a raise, and my partner is worried about the kids' school. I keep going "
            "back and forth every evening. Should I take the transfer or stay in the team?"
        )
        if pid == hopeless:
            body += f" {HOPELESS}"
        posts.append(submission(pid, title=f"Transfer {pid}?", selftext=body))
    return posts


def released(s: Settings, config: str) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    folder = s.releases_dir / s.release.version
    return pq.read_table(next((folder / config).glob("*.parquet"))).to_pylist()


def test_an_action_read_as_another_value_is_regenerated(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    panel = Panel()
    openai_server.responder = panel
    s = settings_for(tmp_path, openai_server)
    write_dump(s.source.raw_dir / "RS.zst", career_posts(["p0"]))
    summary = run_stages(s)
    assert summary.stages["release"].error is None, summary.stages["release"].error

    # The re-ask names the value it was read as, and only gen-a's Power action was re-asked.
    assert len(panel.reasks) == 1
    last_turn = panel.reasks[0]["messages"][-1]["content"]
    assert "read it as reflecting Security" in last_turn and "enacts Power" in last_turn
    assert panel.reasks[0]["model"] == "gen-a"

    gate = summary.stages["gate"]
    assert gate.counters["passed_regenerated"] == 1 and gate.counters["passed_as_written"] == 19
    assert not any(name.startswith("gate (refill") for name in summary.stages)
    (power,) = [a for a in released(s, "actions") if a["regenerations"]]
    assert power["value"] == "Power" and power["generator"] == "gen-a"
    assert power["text"].startswith("Instead I would") and power["value_check_passed"]
    assert power["predicted_values"] == ["Power"] * 3
    with Store.open(s.db_path) as store:
        (regen,) = store.query("SELECT * FROM regenerations")
        assert (regen["read_as"], regen["agreeing"], regen["passed"]) == ("Security", 3, True)
    manifest = json.loads((s.releases_dir / s.release.version / "manifest.json").read_text())
    assert manifest["value_check"]["passed_after_regeneration"] == 1
    assert manifest["value_check"]["rule"] == "at least 2 of 3 annotators name the action's value"

    env = {"VALACT_PROCESSED_DIR": str(s.processed_dir)}
    out = CliRunner().invoke(app, ["dropped"], env=env).output
    assert "gate_actions: 1" in out and "regenerated: 1" in out and "gen-a:Power" in out

    asked = len(openai_server.chat_requests)
    again = run_stages(s)  # everything reused: not one request
    assert len(openai_server.chat_requests) == asked
    assert again.stages["gate"].skipped == 1


def test_a_hopeless_scenario_is_replaced_by_the_next_eligible_one(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    panel = Panel()
    openai_server.responder = panel
    s = settings_for(tmp_path, openai_server)
    ids = ["p0", "p1", "p2"]
    first, second = sorted(ids, key=lambda p: seeded_rank(s.seed, p))[:2]
    write_dump(s.source.raw_dir / "RS.zst", career_posts(ids, hopeless=first))
    summary = run_stages(s)
    assert summary.stages["release"].error is None, summary.stages["release"].error

    # Both Tradition actions of the first post were re-asked twice, each re-ask naming Security.
    hopeless = [
        b
        for b in panel.reasks
        if HOPELESS in json.dumps(b["messages"]) and "value Tradition" in json.dumps(b["messages"])
    ]
    assert len(hopeless) == 2 * s.gate.max_attempts
    assert all("read it as reflecting Security" in b["messages"][-1]["content"] for b in hopeless)
    gate = summary.stages["gate"]
    assert gate.dropped == {"action_read_as_other": 2, "scenario_too_few_valid_actions": 1}
    assert gate.counters["to_replace"] == 1
    assert summary.stages["gate (refill 1)"].outputs == 1  # the replacement passed
    assert summary.stages["judge (refill 1)"].dropped.get("gate_dropped_before") == 1

    scenarios = released(s, "scenarios")
    assert [sc["post_id"] for sc in scenarios] == [second]
    assert len(released(s, "questions")) == 5
    with Store.open(s.db_path) as store:
        (verdict,) = store.query("SELECT * FROM gate_scenarios WHERE NOT keep")
        assert verdict["post_id"] == first and verdict["reason"] == "too_few_valid_actions"
        assert verdict["valid_actions"] == 18 and "Tradition: read as Security" in verdict["detail"]
        assert store.count("scenarios") == 1  # sampling let go of the dropped one
    manifest = json.loads((s.releases_dir / s.release.version / "manifest.json").read_text())
    assert manifest["value_check"]["scenarios_dropped"] == {"career": 1}
    env = {"VALACT_PROCESSED_DIR": str(s.processed_dir)}
    out = CliRunner().invoke(app, ["dropped"], env=env).output
    assert "gate_scenarios: 1" in out and f"valact-{first}" in out and "18 of 20" in out

    # A rebuild asks nothing and keeps the replacement; a fresh build in another folder from
    # the same posts and settings gives the same release.
    asked = len(openai_server.chat_requests)
    again = run_stages(s)
    assert len(openai_server.chat_requests) == asked
    assert not any(name.startswith("gate (refill") for name in again.stages)
    fresh = settings_for(tmp_path / "fresh", openai_server)
    write_dump(fresh.source.raw_dir / "RS.zst", career_posts(ids, hopeless=first))
    run_stages(fresh)
    fingerprint = [
        json.loads((x.releases_dir / x.release.version / "manifest.json").read_text())[
            "fingerprint"
        ]
        for x in (s, fresh)
    ]
    assert fingerprint[0] == fingerprint[1]


def test_no_replacement_left_releases_nothing_for_the_category(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    openai_server.responder = Panel()
    s = settings_for(tmp_path, openai_server, max_rounds=1)
    write_dump(s.source.raw_dir / "RS.zst", career_posts(["p0"], hopeless="p0"))
    summary = run_stages(s)
    assert summary.stages["sample (refill 1)"].notes  # "not enough accepted posts"
    assert summary.stages["release"].dropped == {"no_complete_scenarios": 1}


def test_a_gate_that_only_records_keeps_the_scenario_and_says_it_failed(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    panel = Panel()
    openai_server.responder = panel
    s = settings_for(tmp_path, openai_server, enforce=False)
    write_dump(s.source.raw_dir / "RS.zst", career_posts(["p0"], hopeless="p0"))
    run_stages(s)
    assert panel.reasks == []  # nothing re-asked
    failed = [a for a in released(s, "actions") if not a["value_check_passed"]]
    assert {(a["generator"], a["value"]) for a in failed} == {
        ("gen-a", "Power"),
        ("gen-a", "Tradition"),
        ("gen-b", "Tradition"),
    }


def test_one_of_three_is_enough_when_k_is_one(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    def split(body: dict[str, Any]) -> str:  # ann-1 reads the intended value, the others not
        if schema(body) == "AnnotationAnswer" and body["model"] != "ann-1":
            return json.dumps({"value": "Hedonism"})
        return Panel()(body)

    openai_server.responder = split
    s = settings_for(tmp_path, openai_server, min_agreeing=1)
    write_dump(s.source.raw_dir / "RS.zst", career_posts(["p0"]))
    summary = run_stages(s)
    # One annotator in three is enough: only gen-a's Power (read as Security by all) is re-asked.
    assert summary.stages["gate"].outputs == 1
    assert summary.stages["gate"].counters["passed_regenerated"] == 1


@pytest.mark.parametrize(
    ("gate", "message"),
    [
        ({"annotators": 4}, "gate.annotators is 4 but 3 annotator(s) are configured"),
        ({"min_agreeing": 3, "annotators": 2}, "gate.min_agreeing (3) is more than"),
    ],
)
def test_impossible_quorums_are_refused_in_one_line(
    tmp_path: Path, gate: dict[str, int], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        make_settings(
            tmp_path,
            llm={"base_url": "http://127.0.0.1:9/v1"},
            annotation={"models": ANNOTATORS},
            gate=gate,
        )


def test_read_as_is_the_most_named_wrong_value() -> None:
    assert read_as("Power", ["Power", "Security", "Security", None]) == "Security"
    assert read_as("Power", ["Power", None]) is None
    assert read_as("Power", ["Hedonism", "Security"]) == "Hedonism"  # a tie: the first named


def test_a_broken_reask_leaves_the_scenario_undecided_and_recorded(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    """A re-ask whose answers always break the limits: no verdict, nothing released for it,
    the failure recorded with its reason, and asked again on the next run."""
    panel = Panel()

    def broken(body: dict[str, Any]) -> str:
        if schema(body) == "ActionAnswer":
            return json.dumps({"action": "I would wait. Then I would ask. Then I would act."})
        return panel(body)

    openai_server.responder = broken
    s = settings_for(tmp_path, openai_server)
    write_dump(s.source.raw_dir / "RS.zst", career_posts(["p0"]))
    summary = run_stages(s)
    assert summary.stages["gate"].counters["scenarios_waiting"] == 1
    assert summary.stages["questions"].dropped == {"no_gate_verdict": 1}
    assert summary.stages["release"].dropped == {"no_complete_scenarios": 1}
    with Store.open(s.db_path) as store:
        assert store.count("gate_scenarios") == 0 and store.count("actions") == 20
        (failure,) = store.query("SELECT task, reason FROM llm_failures")
        assert failure["task"] == "regenerate" and "more than" in failure["reason"]
    asked = len(openai_server.chat_requests)
    run_stages(s)
    assert len(openai_server.chat_requests) > asked  # the failed re-ask is asked again
