"""Model requests run concurrently up to `llm.max_in_flight`, with every guarantee kept: the
same answers, the same judged set and release, one write thread, a breaker that still trips."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from pipeline.build import run_stages
from pipeline.context import RunContext
from pipeline.embeddings import Embedder
from pipeline.errors import EndpointError
from pipeline.llm.prompts import judge_messages
from pipeline.store import Store
from schemas import JudgeAnswer
from tests.conftest import make_settings, model_answers, submission, write_dump
from tests.fakes.openai_server import FakeOpenAIServer


class InFlight:
    """A responder wrapper that counts requests in flight on the server."""

    def __init__(self, delay: float) -> None:
        self.delay, self.now, self.most = delay, 0, 0
        self.lock = threading.Lock()

    def __call__(self, body: dict) -> str:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(self.delay)
        with self.lock:
            self.now -= 1
        return model_answers(body)


@pytest.mark.parametrize("in_flight", [1, 4, 16])
def test_requests_run_concurrently_up_to_the_cap(
    tmp_path: Path, openai_server: FakeOpenAIServer, embedder: Embedder, in_flight: int
) -> None:
    # Long enough an answer for every slot to be filled before the first one frees, even on a
    # loaded machine (the client starts a thread per slot).
    counter = InFlight(delay=0.05 * max(1, in_flight // 2))
    openai_server.responder = counter
    s = make_settings(
        tmp_path,
        llm={"base_url": openai_server.base_url, "max_retries": 0, "max_in_flight": in_flight},
    )
    s.processed_dir.mkdir(parents=True)
    with Store.open(s.db_path) as store:
        ctx = RunContext(settings=s, store=store, run_id="t", _embedder=embedder)
        requests = [
            ctx.llm.request("judge", "gpt-4o-mini", judge_messages("t", f"post {i}"), {})
            for i in range(3 * in_flight + 2)
        ]
        answers = ctx.llm.ask_many([(r, f"p{i}", None) for i, r in enumerate(requests)])
        assert all(isinstance(a, JudgeAnswer) for a in answers)
        assert counter.most == in_flight
        assert store.count("llm_cache") == len(requests)
        # A second call is answered from the cache: nothing is asked twice.
        again = ctx.llm.ask_many([(r, f"p{i}", None) for i, r in enumerate(requests)])
        assert again == answers and len(openai_server.chat_requests) == len(requests)


def _dump(raw: Path) -> None:
    texts = [
        f"My manager offered me option {i}: a transfer that doubles my commute but comes with "
        f"a raise, and my partner is worried about the kids' school. Case {i} has been on my "
        "mind for weeks and I keep going back and forth every evening after work. Should I "
        "take the transfer or stay in the team I know and wait for the next opening?"
        for i in range(24)
    ]
    subs = ["careerguidance", "AskHR", "consulting"]
    write_dump(
        raw / "RS.zst",
        [
            submission(f"p{i}", subreddit=subs[i % 3], title=f"Transfer {i}?", selftext=t)
            for i, t in enumerate(texts)
        ],
    )


def test_concurrent_and_one_at_a_time_builds_give_the_same_release(
    tmp_path: Path, openai_server: FakeOpenAIServer, embedder: Embedder
) -> None:
    openai_server.responder = model_answers
    summaries = {}
    for in_flight in (1, 16):
        s = make_settings(
            tmp_path / str(in_flight),
            source={"raw_dir": tmp_path / "raw"},
            sampling={"per_category": 3},
            dedup={"near_dup": False},
            categories=[
                {"name": "career", "subreddits": ["careerguidance", "AskHR", "consulting"]}
            ],
            llm={"base_url": openai_server.base_url, "max_retries": 0, "max_in_flight": in_flight},
        )
        if in_flight == 1:
            _dump(tmp_path / "raw")
        summary = run_stages(s, embedder=embedder)
        assert summary.error is None
        manifest = s.releases_dir / s.release.version / "manifest.json"
        summaries[in_flight] = (summary, json.loads(manifest.read_text())["fingerprint"], s)
    (one, fp1, s1), (many, fp16, s16) = summaries[1], summaries[16]
    assert fp1 == fp16
    with Store.open(s1.db_path) as a, Store.open(s16.db_path) as b:
        query = "SELECT post_id, keep FROM judge_panel ORDER BY post_id"
        assert a.query(query) == b.query(query)  # the walk judged the same posts
    assert one.stages["judge"].outputs == many.stages["judge"].outputs


def test_the_breaker_trips_with_requests_in_flight(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    openai_server.api_key = "right"
    s = make_settings(
        tmp_path,
        llm={
            "base_url": openai_server.base_url,
            "api_key": "wrong",
            "max_retries": 0,
            "max_in_flight": 8,
        },
    )
    s.processed_dir.mkdir(parents=True)
    with Store.open(s.db_path) as store:
        ctx = RunContext(settings=s, store=store, run_id="t")
        requests = [
            ctx.llm.request("judge", "gpt-4o-mini", judge_messages("t", f"post {i}"), {})
            for i in range(100)
        ]
        with pytest.raises(EndpointError, match="401"):
            ctx.llm.ask_many([(r, f"p{i}", None) for i, r in enumerate(requests)])
    assert len(openai_server.chat_requests) <= s.llm.max_auth_errors + 8


def test_a_sigkilled_concurrent_build_resumes_asking_only_what_has_no_answer(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    import os
    import signal
    import subprocess
    import sys

    from tests.conftest import REPO

    slow = InFlight(delay=0.05)
    openai_server.responder = slow
    _dump(tmp_path / "raw")
    config = tmp_path / "empty.toml"
    config.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VALACT_", "PREFECT_"))}
    env.update(
        VALACT_SOURCE__RAW_DIR=str(tmp_path / "raw"),
        VALACT_SAMPLING__PER_CATEGORY="3",
        VALACT_DEDUP__NEAR_DUP="false",  # the templated posts are near duplicates by design
        VALACT_CATEGORIES=json.dumps(
            [{"name": "career", "subreddits": ["careerguidance", "AskHR", "consulting"]}]
        ),
        VALACT_LLM__BASE_URL=openai_server.base_url,
        VALACT_LLM__MAX_RETRIES="0",
        VALACT_LLM__MAX_IN_FLIGHT="8",
    )

    def build(processed: Path) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "flows.cli", "build", "--no-prefect", "-c", str(config)],
            cwd=REPO,
            env={**env, "VALACT_PROCESSED_DIR": str(processed)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def bodies() -> list[str]:
        return [json.dumps(r.body, sort_keys=True) for r in openai_server.chat_requests]

    killed = build(tmp_path / "a")
    deadline = time.monotonic() + 240
    while len(openai_server.chat_requests) < 60 and killed.poll() is None:
        assert time.monotonic() < deadline, "the build never got going"
        time.sleep(0.02)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)
    first = bodies()
    assert killed.returncode == -signal.SIGKILL and len(first) >= 60

    resumed = build(tmp_path / "a")
    out, _ = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, out
    second = bodies()[len(first) :]
    asked_twice = set(first) & set(second)
    # Only what was in flight when it died: a slot takes a new request only once the answer
    # it held is written.
    assert len(asked_twice) <= 8

    fresh = build(tmp_path / "b")
    out, _ = fresh.communicate(timeout=600)
    assert fresh.returncode == 0, out
    fingerprints = [
        json.loads(next((tmp_path / f / "releases").glob("*/manifest.json")).read_text())[
            "fingerprint"
        ]
        for f in ("a", "b")
    ]
    assert fingerprints[0] == fingerprints[1]


def test_a_fresh_write_of_a_stored_key_falls_back_to_replacing(tmp_path: Path) -> None:
    from pipeline.store import Provenance
    from schemas import LLMCall

    def call(answer: str) -> LLMCall:
        return LLMCall(
            request_id="r1",
            task="judge",
            model="m",
            backend="openai",
            prompt_version="v",
            request_json="{}",
            response_json=answer,
            prompt_tokens=1,
            completion_tokens=1,
            latency_s=0.1,
        )

    with Store.open(tmp_path / "s.duckdb") as store:
        prov = Provenance("llm", "2", "sig", "run")
        assert store.put("llm_cache", [call('{"a": 1}')], prov, "r1", fresh=True) == 1
        assert store.put("llm_cache", [call('{"a": 2}')], prov, "r1", fresh=True) == 1
        assert store.query("SELECT response_json FROM llm_cache") == [{"response_json": '{"a": 2}'}]
