"""The LLM layer against a real HTTP server speaking the chat-completions protocol."""

import json
import logging
import re
from pathlib import Path

import pytest

from pipeline.build import run_stages
from pipeline.context import RunContext
from pipeline.llm.prompts import judge_messages
from pipeline.llm.service import parse_answer
from pipeline.store import Store
from schemas import JudgeAnswer, LLMRequest, SchwartzValue
from tests.conftest import make_settings, submission, write_dump
from tests.fakes.openai_server import FakeOpenAIServer, Fault

SECRET = "sk-test-SECRET-9f8e7d"


@pytest.fixture
def llm_ctx(tmp_path: Path, openai_server: FakeOpenAIServer, embedder):
    openai_server.api_key = SECRET
    s = make_settings(
        tmp_path,
        llm={
            "base_url": openai_server.base_url,
            "api_key": SECRET,
            "timeout_s": 0.5,
            "max_retries": 2,
        },
    )
    s.processed_dir.mkdir(parents=True)
    with Store.open(s.db_path) as store:
        yield RunContext(settings=s, store=store, run_id="t", _embedder=embedder)


def judge_request(text: str = "Should I move?") -> LLMRequest:
    return LLMRequest(
        task="judge",
        model="gpt-4o-mini",
        prompt_version="judge-test",
        messages=judge_messages("t", text),
        payload={"title": "t", "text": text},
    )


def failures(ctx: RunContext) -> list[dict]:
    return ctx.store.query("SELECT * FROM llm_failures")


def test_structured_answer_is_cached(llm_ctx: RunContext, openai_server: FakeOpenAIServer) -> None:
    openai_server.responder = lambda body: '{"is_decision": true, "reason": "a real choice"}'
    answer = llm_ctx.llm.ask(judge_request(), "p1")
    assert answer == JudgeAnswer(is_decision=True, reason="a real choice")
    (req,) = openai_server.chat_requests
    assert req.headers["authorization"] == f"Bearer {SECRET}"
    fmt = req.body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "JudgeAnswer"
    assert fmt["json_schema"]["schema"]["additionalProperties"] is False
    assert llm_ctx.llm.ask(judge_request(), "p1") == answer
    assert len(openai_server.chat_requests) == 1  # the second answer came from the cache
    row = llm_ctx.store.query("SELECT * FROM llm_cache")[0]
    assert row["request_id"] == judge_request().request_id and row["prompt_tokens"] > 0
    assert SECRET not in json.dumps(row, default=str)


def test_transport_failures_are_retried(
    llm_ctx: RunContext, openai_server: FakeOpenAIServer
) -> None:
    openai_server.script(Fault.rate_limit(retry_after=0.2), Fault.server_error(503))
    assert llm_ctx.llm.ask(judge_request(), "p1") is not None
    assert [r.fault.status if r.fault else 200 for r in openai_server.chat_requests] == [
        429,
        503,
        200,
    ]


def test_exhausted_retries_timeouts_and_bad_bodies_are_recorded(
    llm_ctx: RunContext, openai_server: FakeOpenAIServer
) -> None:
    openai_server.script(*[Fault.server_error(500)] * 3)
    assert llm_ctx.llm.ask(judge_request("a"), "p-a") is None
    openai_server.script(*[Fault.timeout(2.0)] * 3)
    assert llm_ctx.llm.ask(judge_request("b"), "p-b") is None
    openai_server.script(Fault.malformed_body())
    assert llm_ctx.llm.ask(judge_request("c"), "p-c") is None
    openai_server.script(Fault.empty_choices())
    assert llm_ctx.llm.ask(judge_request("d"), "p-d") is None
    reasons = {f["item_key"]: f["reason"] for f in failures(llm_ctx)}
    assert reasons["p-a"].startswith("http 500")
    assert reasons["p-b"] == "timeout"
    assert reasons["p-c"].startswith("malformed response")
    assert reasons["p-d"].startswith("malformed response")
    # Within a run a failed request is not asked again; a later run succeeds and clears it.
    assert llm_ctx.llm.ask(judge_request("a"), "p-a") is None
    llm_ctx._llm = None  # the next run's service
    assert llm_ctx.llm.ask(judge_request("a"), "p-a") is not None
    assert "p-a" not in {f["item_key"] for f in failures(llm_ctx)}


def test_invalid_answers_get_another_try(
    llm_ctx: RunContext, openai_server: FakeOpenAIServer
) -> None:
    openai_server.script(Fault.bad_content("Sure! I think yes."))
    openai_server.responder = lambda b: '```json\n{"is_decision": false, "reason": "r"}\n```'
    assert llm_ctx.llm.ask(judge_request(), "p1") == JudgeAnswer(is_decision=False, reason="r")
    retry = openai_server.chat_requests[1].body["messages"]
    assert retry[-1]["role"] == "user" and "rejected" in retry[-1]["content"]

    openai_server.responder = lambda b: '{"is_decision": "maybe"}'
    assert llm_ctx.llm.ask(judge_request("other"), "p2") is None
    (f,) = failures(llm_ctx)
    assert f["reason"].startswith("invalid answer") and f["attempts"] == 3


def test_secrets_stay_out_of_errors_and_logs(
    llm_ctx: RunContext, openai_server: FakeOpenAIServer, caplog: pytest.LogCaptureFixture
) -> None:
    openai_server.api_key = "another-key"  # the server now refuses ours
    with caplog.at_level(logging.DEBUG):
        assert llm_ctx.llm.ask(judge_request(), "p1") is None
    (f,) = failures(llm_ctx)
    assert f["reason"].startswith("http 401")
    dump = json.dumps(llm_ctx.store.query("SELECT * FROM llm_failures"), default=str)
    assert SECRET not in dump and SECRET not in caplog.text


def test_parse_answer_tolerates_prose_around_json() -> None:
    assert parse_answer(
        'Here: {"is_decision": true, "reason": "x"} hope it helps', JudgeAnswer
    ).is_decision


def test_whole_pipeline_through_an_openai_compatible_endpoint(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    """Judge, generate and annotate all go over HTTP; nothing is a placeholder."""

    def responder(body: dict) -> str:
        name = body["response_format"]["json_schema"]["name"]
        prompt = " ".join(m["content"] for m in body["messages"])
        if name == "JudgeAnswer":
            return json.dumps({"is_decision": True, "reason": "decision"})
        if name == "ActionAnswer":
            value = re.search(r"Schwartz value ([\w-]+)", prompt).group(1)
            return json.dumps({"action": f"I would act for {value}."})
        value = re.search(r"Action: I would act for ([\w-]+)\.", prompt).group(1)
        return json.dumps({"value": value})

    openai_server.responder = responder
    s = make_settings(
        tmp_path,
        sampling={"per_category": 1},
        llm={"base_url": openai_server.base_url, "max_retries": 0},
        generation={"models": ["gen-a", "gen-b"], "mode": "per_value"},  # one request per action
    )
    write_dump(
        s.source.raw_dir / "RS.zst",
        [
            submission("c1"),
            submission(
                "f1",
                subreddit="Frugal",
                title="Do I keep my old car?",
                selftext=submission("x")["selftext"].replace("startup", "nonprofit")
                + " My dad thinks I should wait.",
            ),
        ],
    )
    summary = run_stages(s)
    assert summary.offline is False and summary.placeholder_actions is False
    assert summary.stages["generate"].outputs == 40
    assert summary.stages["questions"].outputs == 10
    agreement = json.loads((s.processed_dir / "agreement.json").read_text())
    assert agreement["annotators"]["gpt-4o-mini"]["accuracy"] == 1.0
    models = {r.body["model"] for r in openai_server.chat_requests}
    assert models == {"gpt-4o-mini", "llama-3.1-8b-instruct", "gen-a", "gen-b"}
    asked = [
        (r.body["model"], re.search(r"Schwartz value ([\w-]+)", r.body["messages"][0]["content"]))
        for r in openai_server.chat_requests
        if r.body["response_format"]["json_schema"]["name"] == "ActionAnswer"
    ]
    values = {(model, m.group(1)) for model, m in asked if m}
    assert values == {(g, v.value) for g in ("gen-a", "gen-b") for v in SchwartzValue}
    # Requests and tokens per stage and model in the run summary, and behind the release.
    usage = summary.stages["generate"].usage
    assert set(usage) == {"gen-a", "gen-b"}
    assert all(u["calls"] == 20 and u["prompt_tokens"] > 0 for u in usage.values())
    assert set(summary.stages["judge"].usage) <= {"gpt-4o-mini", "llama-3.1-8b-instruct"}
    manifest = json.loads((s.releases_dir / s.release.version / "manifest.json").read_text())
    tokens = manifest["tokens"]
    assert {"gen-a", "gen-b", "gpt-4o-mini"} <= set(tokens)
    assert tokens["gen-a"]["requests"] == 20 and tokens["gen-a"]["completion_tokens"] > 0
