"""Builds through the Batch API (`batch = true` on an endpoint) against the fake server's files
and batches endpoints: the same release as direct requests, at the batch price, a running batch
collected by the next run instead of submitted again, bad lines re-asked or recorded."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.build import run_stages
from pipeline.embeddings import Embedder
from pipeline.settings import Settings
from pipeline.store import Store
from tests.conftest import make_settings, model_answers, write_career_dump
from tests.fakes.openai_server import FakeOpenAIServer, Fault


def _settings(tmp_path: Path, server: FakeOpenAIServer, folder: str, **llm: object) -> Settings:
    return make_settings(
        tmp_path,
        processed_dir=tmp_path / folder,
        categories=[{"name": "career", "subreddits": ["careerguidance", "AskHR", "consulting"]}],
        dedup={"near_dup": False},
        llm={
            "base_url": server.base_url,
            "max_retries": 0,
            "input_usd_per_mtok": 2.0,
            "output_usd_per_mtok": 8.0,
            "batch_poll_s": 0.01,
            **llm,
        },
    )


def _fingerprint(folder: Path) -> str:
    return json.loads(next((folder / "releases").glob("*/manifest.json")).read_text())[
        "fingerprint"
    ]


def test_a_batch_build_equals_a_direct_one_at_half_the_price(
    tmp_path: Path, openai_server: FakeOpenAIServer, embedder: Embedder
) -> None:
    openai_server.responder = model_answers
    write_career_dump(tmp_path / "raw", 12)
    direct = run_stages(_settings(tmp_path, openai_server, "direct"), embedder=embedder)
    assert direct.error is None, direct.error
    asked_directly = len(openai_server.chat_requests)
    s = _settings(tmp_path, openai_server, "batched", batch=True)
    batched = run_stages(s, embedder=embedder)
    assert batched.error is None, batched.error
    assert len(openai_server.chat_requests) == asked_directly  # no direct request this time
    assert len(openai_server.batches) >= 3  # judge waves, generation, annotation
    assert _fingerprint(tmp_path / "direct") == _fingerprint(tmp_path / "batched")
    assert (
        batched.cost_usd == direct.cost_usd / 2
        or abs(batched.cost_usd - direct.cost_usd / 2) < 1e-5
    )
    with Store.open(s.db_path) as store:
        assert store.scalar("SELECT count(*) FROM llm_cache WHERE backend <> 'openai-batch'") == 0
        assert store.scalar("SELECT count(*) FROM llm_batches WHERE status <> 'merged'") == 0
    manifest = json.loads(next(s.releases_dir.glob("*/manifest.json")).read_text())
    direct_manifest = json.loads(
        next((tmp_path / "direct" / "releases").glob("*/manifest.json")).read_text()
    )
    for model, used in manifest["tokens"].items():
        assert abs(used["cost_usd"] - direct_manifest["tokens"][model]["cost_usd"] / 2) < 1e-5
    again = run_stages(s, embedder=embedder)  # everything cached: no batch, no request
    assert again.error is None and len(openai_server.batches) == len(openai_server.batches)
    assert again.cost_usd == 0


def test_a_running_batch_is_collected_by_the_next_run_not_submitted_again(
    tmp_path: Path, openai_server: FakeOpenAIServer, embedder: Embedder
) -> None:
    openai_server.responder = model_answers
    openai_server.batch_delay = 3600  # the provider takes its time
    write_career_dump(tmp_path / "raw", 12)
    s = _settings(tmp_path, openai_server, "b", batch=True, batch_max_wait_s=0.05)
    first = run_stages(s, embedder=embedder)
    assert first.error and "still running" in first.error and "run again later" in first.error
    assert len(openai_server.batches) == 2  # one job per model: the two judges
    job_ids = list(openai_server.batches)
    second = run_stages(s, embedder=embedder)  # still running: nothing new submitted
    assert second.error and all(j in second.error for j in job_ids)
    assert list(openai_server.batches) == job_ids
    openai_server.batch_delay = 0
    third = run_stages(s, embedder=embedder)
    assert third.error is None, third.error
    sent = [
        line["custom_id"]
        for b in openai_server.batches.values()
        for line in openai_server.files[b.input_file_id].lines()
    ]
    assert len(sent) == len(set(sent))  # nothing paid twice
    assert not openai_server.chat_requests


def test_bad_batch_lines_are_sent_back_or_recorded(
    tmp_path: Path, openai_server: FakeOpenAIServer, embedder: Embedder
) -> None:
    openai_server.responder = model_answers
    faults: dict[str, Fault] = {}

    def line_fault(custom_id: str) -> Fault | None:
        # The first two lines answered: one invalid answer, one server error; once each.
        if len(faults) < 2 and custom_id not in faults:
            faults[custom_id] = (
                Fault.bad_content('{"nope": 1}') if not faults else Fault.server_error(500)
            )
            return faults[custom_id]
        return None

    openai_server.batch_line_faults = line_fault
    write_career_dump(tmp_path / "raw", 12)
    s = _settings(tmp_path, openai_server, "b", batch=True)
    s.sampling.per_category = 6  # the judge walks every post, the failed one too
    first = run_stages(s, embedder=embedder)
    assert first.error is None, first.error
    # The invalid answer went back directly, quoting the problem; the failed line is recorded.
    (sent_back,) = openai_server.chat_requests
    assert "That answer was rejected" in sent_back.body["messages"][-1]["content"]
    with Store.open(s.db_path) as store:
        failures = store.query("SELECT reason FROM llm_failures")
    assert len(failures) == 1 and "500" in failures[0]["reason"]
    s.release.version = "0.1.1"  # the retried vote may change what the release holds
    second = run_stages(s, embedder=embedder)  # the failed one goes in a new batch
    assert second.error is None, second.error
    with Store.open(s.db_path) as store:
        assert store.scalar("SELECT count(*) FROM llm_failures") == 0
    assert _fingerprint(tmp_path / "b")
