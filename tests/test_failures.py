"""Failures are recorded, superseded by a later success everywhere, and given up after
`llm.give_up_after_runs` failing runs in a row until `valact retry-failed`."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

from flows.cli import app
from pipeline.build import run_stages
from pipeline.embeddings import Embedder
from tests.conftest import make_settings, model_answers, submission, write_dump
from tests.fakes.openai_server import FakeOpenAIServer, Fault


def _settings(tmp_path: Path, server: FakeOpenAIServer, **llm):
    s = make_settings(
        tmp_path,
        sampling={"per_category": 1},
        llm={"base_url": server.base_url, "max_retries": 0, **llm},
        categories=[{"name": "career", "subreddits": ["careerguidance"]}],
    )
    write_dump(s.source.raw_dir / "RS.zst", [submission("c1")])
    return s


def _votes(s) -> list[dict]:
    import duckdb

    con = duckdb.connect(str(s.db_path), read_only=True)
    try:
        cur = con.execute("SELECT model, is_decision FROM judge_votes ORDER BY model")
        return [dict(zip(("model", "is_decision"), r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def test_a_later_success_supersedes_a_failed_vote(
    tmp_path: Path, openai_server: FakeOpenAIServer, embedder: Embedder
) -> None:
    s = _settings(tmp_path, openai_server)
    openai_server.responder = lambda body: (
        '{"is_decision": true, "reason": "ok"}'
        if body["response_format"]["json_schema"]["name"] == "JudgeAnswer"
        else model_answers(body)
    )
    openai_server.script(Fault.server_error(500))  # the first judge call fails
    first = run_stages(s, embedder=embedder)
    assert first.stages["judge"].dropped == {"judge_failed": 1}
    assert None in [v["is_decision"] for v in _votes(s)]
    second = run_stages(s, embedder=embedder)
    assert second.stages["judge"].processed == 1 and second.stages["judge"].outputs == 1
    assert [v["is_decision"] for v in _votes(s)] == [True, True]
    assert second.stages["release"].outputs == 1
    summary = run_stages(s, embedder=embedder)
    assert summary.stages["judge"].processed == 0


def test_a_request_failing_run_after_run_is_given_up_until_retry_failed(
    tmp_path: Path, openai_server: FakeOpenAIServer, embedder: Embedder
) -> None:
    s = _settings(tmp_path, openai_server, give_up_after_runs=2)
    s.judge.models = ["broken-judge", "gpt-4o-mini"]

    def responder(body: dict) -> str:
        if body["model"] == "broken-judge":
            return "I refuse to answer in JSON."
        return model_answers(body)

    openai_server.responder = responder

    def broken_calls() -> int:
        return Counter(r.body["model"] for r in openai_server.chat_requests)["broken-judge"]

    for run in (1, 2):
        summary = run_stages(s, embedder=embedder)
        assert summary.stages["judge"].dropped == {"judge_failed": 1}
        assert broken_calls() == 3 * run  # one try and two corrections per run
    summary = run_stages(s, embedder=embedder)
    assert broken_calls() == 6  # given up: not sent again
    assert any(n.startswith("llm given_up") for n in summary.stages["judge"].notes)

    env = {"VALACT_PROCESSED_DIR": str(s.processed_dir)}
    out = CliRunner().invoke(app, ["dropped"], env=env).output
    assert "failed in 2 run(s), given up" in out
    result = CliRunner().invoke(app, ["retry-failed"], env=env)
    assert result.exit_code == 0 and "1 given-up requests re-opened" in result.output
    run_stages(s, embedder=embedder)
    assert broken_calls() == 9
