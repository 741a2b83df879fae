"""The reuse rule as a matrix: after any one change, a rebuild in the same folder recomputes
exactly what depends on it and gives the release a fresh build in an empty folder gives.

Model stages talk to the fake chat-completions server over HTTP; its answers are a pure
function of the request, so a changed prompt or model gives other answers.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline import generate
from pipeline.build import run_stages
from pipeline.embeddings import Embedder
from pipeline.llm import prompts
from pipeline.settings import Settings
from schemas.run import RunSummary
from tests.conftest import model_answers, write_dump
from tests.fakes.openai_server import FakeOpenAIServer

CATEGORIES = [
    {"name": "career", "subreddits": ["careerguidance", "AskHR", "consulting"]},
    {"name": "finance", "subreddits": ["personalfinance", "Frugal"]},
]
SITUATIONS = [
    "my manager offered me a promotion that means moving to another city away from my family",
    "a startup offered me a job with equity but the salary is lower than my current one",
    "I found out a coworker is padding expense reports and my boss is friends with him",
    "my team lead keeps scheduling meetings at night and I want to complain to HR",
    "I inherited some money and my brother wants me to invest it in his restaurant",
    "my landlord raised the rent and I could buy a small flat if I empty my savings",
    "my partner wants a new car on credit while we are still paying off student loans",
    "my parents asked me to co-sign their mortgage even though their income is unstable",
    "I was accepted into a coding bootcamp but it costs most of my emergency fund",
    "my best friend asked to borrow three thousand dollars for a wedding next month",
    "I could take a consulting contract abroad for a year and rent out my apartment",
    "my company offers a buyout package and I am unsure whether to take it or stay",
]


# Each post's own context, so no two posts share more than a phrase (the dedup's Jaccard).
CONTEXTS = [
    "We just bought a house here and my daughter started first grade in September.",
    "I am thirty four, single, and my savings would cover about five months of rent.",
    "He has been at the company for ten years and everyone in the office likes him.",
    "The late calls started after the merger and my sleep is getting worse every week.",
    "The place has been losing money for two years according to his own spreadsheet.",
    "Prices in my neighbourhood keep climbing and the flat is close to my old parents.",
    "Our combined income is fine but the loans still take a third of every paycheck.",
    "Dad lost his job in the spring and mom only works part time at the library.",
    "Teaching chemistry pays little and I have always liked building small web tools.",
    "She paid for my flight home when my grandfather died, and I never forgot that.",
    "The contract is in Lisbon, my lease ends in June and my cat would stay with a friend.",
    "The package is nine months of salary and the new owners plan a big reorganisation.",
]
ASKS = [
    "Should I take the promotion and move, or turn it down for my family?",
    "Would you take the equity gamble, or is a lower salary a mistake right now?",
    "Do I report him to HR myself, or talk to my boss first and risk it?",
    "Should I complain formally or just put up with it until things calm down?",
    "Is it smart to invest, or should I keep the money safe and say no?",
    "Should I empty my savings to buy, or keep renting and wait a few years?",
    "Do we agree to the car loan now, or insist on waiting until the loans are gone?",
    "Should I co-sign to help them, or protect my own credit and refuse?",
    "Is the bootcamp worth most of my emergency fund, or am I being reckless?",
    "Do I lend her the money, or tell her honestly that I cannot afford it?",
    "Would you take the year abroad, or stay home and keep things simple?",
    "Take the buyout and look for something new, or stay and see what happens?",
]


def posts() -> list[dict[str, Any]]:
    """Distinct decision posts over five subreddits, plus a shorter one and a reposted one."""
    subs = ["careerguidance", "AskHR", "consulting", "personalfinance", "Frugal"]
    out = []
    for i, situation in enumerate(SITUATIONS):
        sub = subs[i % len(subs)]
        body = f"Here is my situation (story {i}): {situation}. {CONTEXTS[i]} {ASKS[i]}"
        out.append(_record(f"m{i}", sub, f"Should I go ahead ({situation[:30]})?", body, i))
    short = "My boss offered me a raise if I take on more weekend shifts. Should I accept it?"
    out.append(_record("s0", "AskHR", "Raise for weekends?", short + " I am not sure." * 4, 20))
    repost = out[1]["selftext"].replace("lower", "much lower").replace("while", "long while")
    out.append(_record("r0", "AskHR", out[1]["title"], repost, 21))
    return out


def _record(post_id: str, sub: str, title: str, body: str, n: int) -> dict[str, Any]:
    return {
        "id": post_id,
        "subreddit": sub,
        "author": f"u{n}",
        "created_utc": 1_790_000_000 + 1000 * n,
        "over_18": False,
        "stickied": False,
        "title": title,
        "selftext": body,
        "permalink": f"/r/{sub}/comments/{post_id}/x/",
    }


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        fake.responder = model_answers
        yield fake
    assert not fake.errors


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("raw")
    write_dump(folder / "RS_2026-01.zst", posts())
    return folder


def settings(folder: Path, raw: Path, server: FakeOpenAIServer | None, **changes: Any) -> Settings:
    data: dict[str, Any] = {
        "processed_dir": folder,
        "source": {"raw_dir": raw},
        "categories": CATEGORIES,
        "sampling": {"per_category": 2},
        "judge": {"oversample": 1.5},
        "release": {"version": "1.0.0"},
    }
    if server is not None:
        data["llm"] = {"base_url": server.base_url, "api_key": "k", "max_retries": 0}
    for key, value in changes.items():
        section, _, field = key.partition("__")
        if field:
            data[section] = {**data.get(section, {}), field: value}
        else:
            data[key] = value
    return Settings(**data)


def fingerprint(s: Settings) -> str:
    manifest = s.releases_dir / s.release.version / "manifest.json"
    return json.loads(manifest.read_text())["fingerprint"]


@pytest.fixture(scope="module")
def base(
    tmp_path_factory: pytest.TempPathFactory,
    raw: Path,
    server: FakeOpenAIServer,
    embedder: Embedder,
) -> dict[str, Path]:
    """A model-backed and an offline build of the release 1.0.0, to be copied and changed."""
    out = {}
    for name, srv in (("model", server), ("offline", None)):
        folder = tmp_path_factory.mktemp(f"base-{name}") / "processed"
        summary = run_stages(settings(folder, raw, srv), embedder=embedder)
        assert summary.error is None and summary.stages["release"].outputs == 1
        out[name] = folder
    return out


# change -> (which base, settings changes, stages that must recompute, stages that must not)
MATRIX: dict[str, tuple[str, dict[str, Any], set[str], set[str]]] = {
    "offline_to_model": ("offline", {"llm": "server"}, {"judge", "generate", "annotate"}, set()),
    "prefilter_threshold": (
        "model",
        {"prefilter__min_words": 30},
        {"prefilter", "dedup"},
        {"ingest"},
    ),
    "dedup_threshold": ("model", {"dedup__jaccard_threshold": 0.4}, {"dedup"}, {"prefilter"}),
    "near_dup_threshold": (
        "model",
        {"dedup__near_dup_threshold": 0.85, "dedup__pair_cosine": 0.7},
        set(),
        {"prefilter", "dedup"},
    ),
    "judge_models": (
        "model",
        {"judge__models": ["judge-x", "judge-y"]},
        {"judge"},
        {"prefilter", "dedup"},
    ),
    "generator_models": (
        "model",
        {"generation__models": ["gen-x", "gen-y"]},
        {"generate", "annotate", "questions"},
        {"judge", "sample"},
    ),
    # Other annotators read the actions otherwise: the gate may re-ask or drop others.
    "annotator_models": (
        "model",
        {"annotation__models": ["ann-x", "ann-y"]},
        {"annotate", "gate"},
        {"prefilter", "dedup"},
    ),
    # Verdicts recorded only: the posts whose scenarios the gate dropped come back.
    "gate_record_only": ("model", {"gate__enforce": False}, {"gate"}, {"prefilter", "dedup"}),
    "generation_prompt": ("model", {}, {"generate", "annotate"}, {"judge", "sample"}),
    "generation_mode": (
        "model",
        {"generation__mode": "per_value"},
        {"generate"},
        {"judge", "sample"},
    ),
    "generation_limits": (
        "model",
        {"generation__max_words": 40},
        {"generate"},
        {"judge", "sample"},
    ),
    "per_category": ("model", {"sampling__per_category": 3}, {"sample", "generate"}, {"dedup"}),
    "seed": ("model", {"seed": 99}, {"judge", "sample", "generate"}, {"prefilter", "dedup"}),
    "categories": (
        "model",
        {
            "categories": [
                {"name": "career", "subreddits": ["careerguidance", "AskHR", "Frugal"]},
                {"name": "finance", "subreddits": ["personalfinance", "consulting"]},
            ]
        },
        {"prefilter", "sample"},
        {"ingest", "dedup"},
    ),
    "ingest_line_cap": ("model", {"source__max_line_bytes": 1000}, {"ingest"}, set()),
    "judge_oversample": ("model", {"judge__oversample": 3.0}, {"judge"}, {"sample", "generate"}),
    "question_settings": (
        "model",
        {"questions__options_per_question": 5},
        {"questions"},
        {"generate", "annotate"},
    ),
}


def _reworded(original: Callable[..., list[dict[str, str]]]) -> Callable[..., Any]:
    def messages(*args: Any) -> list[dict[str, str]]:
        msgs = original(*args)
        msgs[0] = {**msgs[0], "content": msgs[0]["content"] + " Be specific."}
        return msgs

    return messages


@pytest.mark.parametrize("change", list(MATRIX))
def test_a_rebuild_after_a_change_equals_a_fresh_build(
    change: str,
    base: dict[str, Path],
    raw: Path,
    server: FakeOpenAIServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    embedder: Embedder,
) -> None:
    which, changes, recomputed, untouched = MATRIX[change]
    if change == "generation_prompt":  # both modes' prompts, whichever the build uses
        for name in ("generate_messages", "generate_all_messages"):
            reworded = _reworded(getattr(prompts, name))
            monkeypatch.setattr(prompts, name, reworded)
            monkeypatch.setattr(generate, name, reworded)
    srv: FakeOpenAIServer | None = server if which == "model" else None
    if changes.pop("llm", None):
        srv = server
    changes = {**changes, "release__version": "2.0.0"}

    folder = tmp_path / "rebuild"
    shutil.copytree(base[which], folder)
    rebuilt = settings(folder, raw, srv, **changes)
    embeddings_before = _embeddings(folder)
    summary = run_stages(rebuilt, embedder=embedder)
    fresh = settings(tmp_path / "fresh", raw, srv, **changes)
    fresh_summary = run_stages(fresh, embedder=embedder)

    assert summary.error is None and fresh_summary.error is None
    assert fingerprint(rebuilt) == fingerprint(fresh)
    did = {name: r.processed + r.removed for name, r in summary.stages.items()}
    assert all(did[stage] > 0 for stage in recomputed), str(did)
    assert all(did[stage] == 0 for stage in untouched), did
    if change in ("dedup_threshold", "near_dup_threshold"):  # applied to cached vectors
        after = _embeddings(folder)
        assert all(after[k] == v for k, v in embeddings_before.items())  # none recomputed
        # No post embedded again; the only new vectors: fp32 ones of posts newly in a pair
        # within the screening margin of the cosine floor.
        assert {m for _, m in set(after) - set(embeddings_before)} <= {embedder.name}
    _check_release(rebuilt, summary, offline=srv is None)


def _embeddings(folder: Path) -> dict[tuple[str, str], list[float]]:
    import duckdb

    con = duckdb.connect(str(folder / "valact.duckdb"), read_only=True)
    try:
        rows = con.execute("SELECT text_sha, model, vector FROM embeddings").fetchall()
    finally:
        con.close()
    return {(sha, model): list(vector) for sha, model, vector in rows}


def _check_release(s: Settings, summary: RunSummary, offline: bool) -> None:
    manifest = json.loads((s.releases_dir / s.release.version / "manifest.json").read_text())
    assert manifest["models"]["generators"] == sorted(s.generator_models())
    assert manifest["models"]["annotators"] == sorted(s.annotator_models())
    judges, tiebreaker = s.judge_models()
    assert set(manifest["models"]["judges"]) <= {*judges, tiebreaker}
    assert manifest["placeholder_actions"] is offline
    counts = manifest["counts"]
    assert counts["actions"] == 20 * counts["scenarios"] > 0


def test_offline_then_model_releases_only_model_work(
    base: dict[str, Path],
    raw: Path,
    server: FakeOpenAIServer,
    tmp_path: Path,
    embedder: Embedder,
) -> None:
    import duckdb

    folder = tmp_path / "processed"
    shutil.copytree(base["offline"], folder)
    s = settings(folder, raw, server, release__version="2.0.0")
    summary = run_stages(s, embedder=embedder)
    assert summary.stages["generate"].removed > 0  # the template actions are gone
    release = s.releases_dir / "2.0.0"
    con = duckdb.connect()
    actions = con.execute(
        f"SELECT scenario_id, generator, placeholder, annotators "
        f"FROM read_parquet('{release}/actions/*.parquet')"
    ).fetchall()
    per_scenario: dict[str, int] = {}
    for scenario_id, generator, placeholder, annotators in actions:
        per_scenario[scenario_id] = per_scenario.get(scenario_id, 0) + 1
        assert generator in s.generation.models and placeholder is False
        assert annotators == s.annotation.models
    assert set(per_scenario.values()) == {20}
    options = con.execute(
        f"SELECT option_generators FROM read_parquet('{release}/questions/*.parquet')"
    ).fetchall()
    assert {g for (gens,) in options for g in gens} == set(s.generation.models)
    assert not summary.placeholder_actions


def _scenarios(folder: Path) -> dict[str, list[str]]:
    """Category -> scenario ids in sample order."""
    import duckdb

    con = duckdb.connect(str(folder / "valact.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "SELECT category, scenario_id FROM scenarios ORDER BY category, sample_rank"
        ).fetchall()
    finally:
        con.close()
    out: dict[str, list[str]] = {}
    for category, sid in rows:
        out.setdefault(category, []).append(sid)
    return out


def test_growth_keeps_the_first_scenarios_and_shrinking_gives_them_back(
    base: dict[str, Path],
    raw: Path,
    server: FakeOpenAIServer,
    tmp_path: Path,
    embedder: Embedder,
) -> None:
    folder = tmp_path / "processed"
    shutil.copytree(base["model"], folder)
    first = _scenarios(folder)
    assert all(len(ids) == 2 for ids in first.values())
    grown = run_stages(
        settings(folder, raw, server, sampling__per_category=3, release__version="2.0.0"),
        embedder=embedder,
    )
    assert grown.stages["sample"].removed == 0
    assert grown.stages["generate"].skipped == 20 * 4  # the first scenarios keep their actions
    bigger = _scenarios(folder)
    assert {c: ids[:2] for c, ids in bigger.items()} == first
    assert sum(map(len, bigger.values())) > 4
    run_stages(
        settings(folder, raw, server, sampling__per_category=2, release__version="3.0.0"),
        embedder=embedder,
    )
    assert _scenarios(folder) == first


def test_a_rescrape_adds_posts_without_reshuffling_and_equals_a_fresh_build(
    base: dict[str, Path],
    raw: Path,
    server: FakeOpenAIServer,
    tmp_path: Path,
    embedder: Embedder,
) -> None:
    more = tmp_path / "raw"
    shutil.copytree(raw, more)
    new = [
        _record(f"n{i}", sub, f"Should I change course ({i})?", _new_body(i), 40 + i)
        for i, sub in enumerate(["careerguidance", "Frugal", "AskHR", "personalfinance"])
    ]
    write_dump(more / "RS_2026-02.zst", new)
    folder = tmp_path / "processed"
    shutil.copytree(base["model"], folder)
    before = _scenarios(folder)
    s = settings(folder, more, server, release__version="2.0.0")
    summary = run_stages(s, embedder=embedder)
    assert summary.stages["ingest"].processed == len(new)  # the old file is not read again
    after = _scenarios(folder)
    for category, ids in before.items():  # old posts keep their relative order
        kept = [i for i in after[category] if i in ids]
        assert kept == [i for i in ids if i in kept]
    fresh = settings(tmp_path / "fresh", more, server, release__version="2.0.0")
    run_stages(fresh, embedder=embedder)
    assert fingerprint(s) == fingerprint(fresh)


def _new_body(i: int) -> str:
    topics = ["a night class", "selling my car", "a transfer offer", "a second job"]
    return (
        f"I keep thinking about {topics[i]} and what it would mean for my budget and my "
        "time with my kids. My spouse is supportive but worried, and my friends disagree "
        "with each other about it. I have a deadline at the end of the month to answer. "
        f"Should I do it now, or wait until next year when things are calmer? ({i})"
    )
