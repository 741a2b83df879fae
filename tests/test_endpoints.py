"""Named endpoints per model, their concurrency and rate limits, prices, the spend cap, the
cost report and `valact estimate`, against fake OpenAI-compatible servers with the real client."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from pipeline.build import run_stages
from pipeline.context import RunContext
from pipeline.embeddings import Embedder
from pipeline.errors import EndpointError, SpendCapReached
from pipeline.llm.limits import RateLimit, SpendCap
from pipeline.llm.prompts import judge_messages
from pipeline.progress import Progress
from pipeline.settings import Settings
from pipeline.store import Store
from schemas import JudgeAnswer
from tests.conftest import make_settings, model_answers, write_career_dump
from tests.fakes.openai_server import FakeOpenAIServer


class Recorder:
    """A responder that records the most requests in flight and when each arrived."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay, self.now, self.most = delay, 0, 0
        self.arrivals: list[float] = []
        self.lock = threading.Lock()

    def __call__(self, body: dict) -> str:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
            self.arrivals.append(time.monotonic())
        time.sleep(self.delay)
        with self.lock:
            self.now -= 1
        return model_answers(body)


def _two_endpoints(
    tmp_path: Path, judges: FakeOpenAIServer, writers: FakeOpenAIServer, **llm: object
) -> Settings:
    return make_settings(
        tmp_path,
        categories=[{"name": "career", "subreddits": ["careerguidance", "AskHR", "consulting"]}],
        dedup={"near_dup": False},
        judge={"models": ["judge-a", "judge-b"], "tiebreaker": "judge-c"},
        generation={"models": ["writer-a", "writer-b"]},
        annotation={"models": ["judge-a"]},
        llm={
            "max_retries": 0,
            "endpoints": {
                "judges": {
                    "base_url": judges.base_url,
                    "api_key_env": "VALACT_TEST_JUDGES_KEY",
                    "models": ["judge-a", "judge-b", "judge-c"],
                    "max_in_flight": 2,
                    "input_usd_per_mtok": 1.0,
                    "output_usd_per_mtok": 2.0,
                },
                "writers": {
                    "base_url": writers.base_url,
                    "api_key_env": "VALACT_TEST_WRITERS_KEY",
                    "models": ["writer-a", "writer-b"],
                    "max_in_flight": 5,
                    "input_usd_per_mtok": 10.0,
                    "output_usd_per_mtok": 30.0,
                    "prices": {"writer-b": {"input_usd_per_mtok": 0, "output_usd_per_mtok": 0}},
                },
            },
            **llm,
        },
    )


@pytest.fixture
def second_server() -> FakeOpenAIServer:
    with FakeOpenAIServer() as server:
        yield server  # type: ignore[misc]


def test_each_model_goes_to_its_endpoint_with_its_key_and_cap(
    tmp_path: Path,
    openai_server: FakeOpenAIServer,
    second_server: FakeOpenAIServer,
    embedder: Embedder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VALACT_TEST_JUDGES_KEY", "sk-judges-000000")
    monkeypatch.setenv("VALACT_TEST_WRITERS_KEY", "sk-writers-11111")
    openai_server.api_key, second_server.api_key = "sk-judges-000000", "sk-writers-11111"
    judges, writers = Recorder(0.02), Recorder(0.02)
    openai_server.responder, second_server.responder = judges, writers
    write_career_dump(tmp_path / "raw", 18)
    s = _two_endpoints(tmp_path, openai_server, second_server)
    summary = run_stages(s, embedder=embedder)
    assert summary.error is None, summary.error
    assert {r.body["model"] for r in openai_server.chat_requests} <= {
        "judge-a",
        "judge-b",
        "judge-c",
    }
    assert {r.body["model"] for r in second_server.chat_requests} == {"writer-a", "writer-b"}
    assert judges.most <= 2 and writers.most <= 5
    assert writers.most > 2  # the writers' own cap, not the judges'
    # Cost per model at its endpoint's prices, a per-model price overriding the endpoint's.
    gen = summary.stages["generate"].usage
    a = gen["writer-a"]
    assert a["cost_usd"] == pytest.approx(
        (a["prompt_tokens"] * 10 + a["completion_tokens"] * 30) / 1e6, rel=1e-4
    )
    assert gen["writer-b"]["cost_usd"] == 0
    assert summary.cost_usd == pytest.approx(
        sum(u["cost_usd"] for r in summary.stages.values() for u in r.usage.values()), abs=1e-5
    )
    manifest = json.loads(next(s.releases_dir.glob("*/manifest.json")).read_text())
    assert manifest["tokens"]["writer-a"]["cost_usd"] > 0
    text = json.dumps(summary.model_dump()) + json.dumps(manifest)
    assert "sk-judges" not in text and "sk-writers" not in text


def test_an_unset_key_variable_stops_with_one_line(
    tmp_path: Path,
    openai_server: FakeOpenAIServer,
    second_server: FakeOpenAIServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("VALACT_TEST_JUDGES_KEY", raising=False)
    s = _two_endpoints(tmp_path, openai_server, second_server)
    s.processed_dir.mkdir(parents=True)
    with Store.open(s.db_path) as store:
        ctx = RunContext(settings=s, store=store, run_id="t")
        request = ctx.llm.request("judge", "judge-a", judge_messages("t", "post"), {})
        with pytest.raises(EndpointError, match="VALACT_TEST_JUDGES_KEY"):
            ctx.llm.ask(request, "p")
    assert not openai_server.chat_requests


def test_settings_name_the_model_without_an_endpoint(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"no endpoint serves .*writer-x \(generators\)"):
        make_settings(
            tmp_path,
            judge={"models": ["j1", "j2"], "tiebreaker": "j3"},
            generation={"models": ["writer-x", "j1"]},
            annotation={"models": ["j1"]},
            llm={"endpoints": {"one": {"base_url": "http://x/v1", "models": ["j1", "j2", "j3"]}}},
        )
    with pytest.raises(ValidationError, match="listed by endpoints"):
        make_settings(
            tmp_path,
            llm={
                "base_url": "http://x/v1",
                "endpoints": {
                    "a": {"base_url": "http://a/v1", "models": ["m"]},
                    "b": {"base_url": "http://b/v1", "models": ["m"]},
                },
            },
        )
    with pytest.raises(ValidationError, match="endpoint name"):
        make_settings(tmp_path, llm={"endpoints": {"../x": {"base_url": "u", "models": ["m"]}}})
    with pytest.raises(ValidationError, match="environment variable name"):
        make_settings(
            tmp_path,
            llm={"endpoints": {"a": {"base_url": "u", "models": ["m"], "api_key_env": "$(x)"}}},
        )


def test_the_shorthand_endpoint_and_its_env_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VALACT_LLM__BASE_URL", "http://127.0.0.1:1/v1?key=secret-in-query")
    monkeypatch.setenv("VALACT_LLM__MAX_IN_FLIGHT", "7")
    monkeypatch.setenv("VALACT_LLM__REQUESTS_PER_MINUTE", "300")
    s = make_settings(tmp_path)
    assert s.llm.endpoint_name("any-model") == "default"
    assert s.llm.limits("default").max_in_flight == 7
    assert s.llm.limits("default").requests_per_minute == 300
    assert "secret-in-query" not in json.dumps(s.public_dict())


def test_rate_limit_books_slots_in_order_and_lets_a_burst_through() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)

    limit = RateLimit(per_minute=60, burst_s=2.0, clock=lambda: now[0], sleep=sleep)
    waits = [limit.take() for _ in range(6)]
    # One a second after a burst of two seconds' worth (three at once).
    assert waits[:3] == [0, 0, 0]
    assert waits[3:] == pytest.approx([1.0, 2.0, 3.0])
    # A weight larger than the burst waits its turn instead of never fitting.
    big = RateLimit(per_minute=600, burst_s=1.0, clock=lambda: now[0], sleep=sleep)
    assert big.take(100) == 0
    assert big.take(1) == pytest.approx(100 * 0.1 - 1.0)
    big.give_back(100)  # over-booked: the next one need not wait
    now[0] = 0.0
    assert big.take(1) <= 0.1 + 1e-9


def test_requests_per_minute_hold_against_the_server(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    recorder = Recorder()
    openai_server.responder = recorder
    s = make_settings(
        tmp_path,
        llm={
            "base_url": openai_server.base_url,
            "max_retries": 0,
            "requests_per_minute": 1200,  # 20 a second, bursts of two seconds' worth
        },
    )
    s.processed_dir.mkdir(parents=True)
    with Store.open(s.db_path) as store:
        ctx = RunContext(settings=s, store=store, run_id="t")
        requests = [
            ctx.llm.request("judge", "gpt-4o-mini", judge_messages("t", f"post {i}"), {})
            for i in range(61)
        ]
        ctx.llm.ask(requests[0], "warm")  # the client connects before the clock matters
        time.sleep(3)  # the bucket fills up again
        recorder.arrivals.clear()
        answers = ctx.llm.ask_many([(r, f"p{i}", None) for i, r in enumerate(requests[1:])])
    assert all(isinstance(a, JudgeAnswer) for a in answers)
    arrivals = sorted(recorder.arrivals)
    # 40 at once, then 20 a second: the last one arrives about a second after the first.
    assert arrivals[-1] - arrivals[0] >= 0.9
    for i, t in enumerate(arrivals):  # never more than the burst plus the rate in any second
        assert sum(1 for u in arrivals[i:] if u - t < 1.0) <= 40 + 20 + 1


def test_spend_cap_reserves_the_worst_case() -> None:
    cap = SpendCap(1.0)
    assert cap.reserve(0.6) and not cap.reserve(0.6)
    cap.settle(0.6, 0.1)
    assert cap.reserve(0.6) and cap.spent_usd == pytest.approx(0.1)
    assert cap.reached


def _priced(tmp_path: Path, server: FakeOpenAIServer, folder: str, cap: float | None) -> Settings:
    return make_settings(
        tmp_path,
        processed_dir=tmp_path / folder,
        categories=[{"name": "career", "subreddits": ["careerguidance", "AskHR", "consulting"]}],
        dedup={"near_dup": False},
        llm={
            "base_url": server.base_url,
            "max_retries": 0,
            "max_in_flight": 4,
            "input_usd_per_mtok": 100.0,
            "output_usd_per_mtok": 100.0,
            "spend_cap_usd": cap,
        },
    )


def test_the_spend_cap_stops_cleanly_and_the_next_run_goes_on(
    tmp_path: Path, openai_server: FakeOpenAIServer, embedder: Embedder
) -> None:
    openai_server.responder = model_answers
    write_career_dump(tmp_path / "raw", 18)
    s = _priced(tmp_path, openai_server, "capped", cap=0.5)
    first = run_stages(s, embedder=embedder)
    assert first.error and "spend cap reached" in first.error
    assert 0 < first.cost_usd <= 0.5
    sent_first = [json.dumps(r.body, sort_keys=True) for r in openai_server.chat_requests]
    runs = [first]
    while runs[-1].error:  # each run spends up to the cap and stops; nothing is asked twice
        assert len(runs) < 40, runs[-1].error
        runs.append(run_stages(s, embedder=embedder))
        assert runs[-1].cost_usd <= 0.5
    sent = [json.dumps(r.body, sort_keys=True) for r in openai_server.chat_requests]
    assert len(sent) == len(set(sent)) and sent[: len(sent_first)] == sent_first
    fresh = run_stages(_priced(tmp_path, openai_server, "fresh", cap=None), embedder=embedder)
    assert fresh.error is None
    fingerprints = [
        json.loads(next((tmp_path / f / "releases").glob("*/manifest.json")).read_text())[
            "fingerprint"
        ]
        for f in ("capped", "fresh")
    ]
    assert fingerprints[0] == fingerprints[1]


def test_the_spend_cap_raises_before_any_request_that_would_pass_it(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    s = _priced(tmp_path, openai_server, "p", cap=0.0001)
    s.processed_dir.mkdir(parents=True)
    with Store.open(s.db_path) as store:
        ctx = RunContext(settings=s, store=store, run_id="t")
        request = ctx.llm.request("judge", "gpt-4o-mini", judge_messages("t", "post"), {})
        with pytest.raises(SpendCapReached, match=r"one request may cost .* raise the cap"):
            ctx.llm.ask(request, "p")
    assert not openai_server.chat_requests


def test_estimate_counts_requests_and_cost_and_drops_what_is_cached(
    tmp_path: Path, openai_server: FakeOpenAIServer, embedder: Embedder, monkeypatch
) -> None:
    from flows.cli import app

    openai_server.responder = model_answers
    write_career_dump(tmp_path / "raw", 18)
    s = _priced(tmp_path, openai_server, "est", cap=None)
    config = tmp_path / "valact.toml"
    config.write_text("")
    for key, value in {
        "VALACT_PROCESSED_DIR": str(s.processed_dir),
        "VALACT_SOURCE__RAW_DIR": str(tmp_path / "raw"),
        "VALACT_SAMPLING__PER_CATEGORY": "2",
        "VALACT_CATEGORIES": json.dumps(
            [{"name": "career", "subreddits": ["careerguidance", "AskHR", "consulting"]}]
        ),
        "VALACT_LLM__BASE_URL": openai_server.base_url,
        "VALACT_LLM__INPUT_USD_PER_MTOK": "100",
        "VALACT_LLM__OUTPUT_USD_PER_MTOK": "100",
    }.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    before = runner.invoke(app, ["estimate", "-c", str(config)])
    assert before.exit_code == 0, before.output
    assert "generate" in before.output and "annotate" in before.output
    assert not openai_server.chat_requests  # estimating asks nothing
    assert run_stages(s, embedder=embedder).error is None
    after = runner.invoke(app, ["estimate", "-c", str(config)])
    assert after.exit_code == 0, after.output
    total = next(line for line in after.output.splitlines() if line.startswith("│ total"))
    assert total.split("│")[6].strip() == "0"  # everything cached: nothing to send
    assert "from 1" in after.output or "posts judged" in after.output


def test_progress_bars_draw_only_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[int] = []
    with Progress(False).track("x", 3) as advance:
        advance(3)
        seen.append(1)
    bars = Progress(True)
    with bars.track("judge", 4) as advance:
        advance(2)
        with bars.track("nested", 1) as inner:  # silent: one bar at a time
            inner(1)
        advance(2)
    assert seen == [1]
