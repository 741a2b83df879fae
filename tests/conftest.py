"""Shared fixtures: settings over temporary folders, an open store, tiny dump files."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zstandard

from pipeline.context import RunContext
from pipeline.embeddings import Embedder
from pipeline.settings import Settings
from pipeline.store import Store
from schemas import SchwartzValue

pytest_plugins = ["tests.conftest_openai"]

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO / "data" / "raw" / "sample"
_VALUES = [v.value for v in SchwartzValue]
# Per-scenario actions must not name their value, so the fake model writes a code for it that
# the annotate branch reads back ("I would act for aim-3" is an action for _VALUES[3]).
_CODES = {v: f"aim-{i}" for i, v in enumerate(_VALUES)}
_DECODE = {c: v for v, c in _CODES.items()}


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    data: dict[str, Any] = {
        "processed_dir": tmp_path / "processed",
        "source": {"raw_dir": tmp_path / "raw"},
        "sampling": {"per_category": 2},
        # Test pools are templated posts (one body with a number changed): near duplicates of
        # each other by design, so the near-duplicate check is off unless a test turns it on
        # (tests/test_dedup.py; the end-to-end build runs with it).
        "dedup": {"near_dup": False},
        # Tests of other stages count requests and rows on pools of a post or two, where a
        # scenario the gate drops has no replacement: the gate records its verdicts only, unless
        # a test turns it on (tests/test_gate.py; the end-to-end and reuse-matrix builds run it).
        "gate": {"enforce": False},
    }
    data.update(overrides)
    return Settings(**data)


@pytest.fixture(autouse=True)
def _no_user_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see only the settings they build, never a developer's environment."""
    import os

    for key in list(os.environ):
        if key.startswith("VALACT_") or key in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
            monkeypatch.delenv(key, raising=False)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    (tmp_path / "raw").mkdir()
    return make_settings(tmp_path)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real MiniLM, loaded once per session (from the installed package, no network)."""
    return Embedder()


@pytest.fixture
def ctx(settings: Settings, embedder: Embedder) -> Iterator[RunContext]:
    settings.processed_dir.mkdir(parents=True, exist_ok=True)
    with Store.open(settings.db_path) as store:
        yield RunContext(settings=settings, store=store, run_id="test-run", _embedder=embedder)


def submission(post_id: str, subreddit: str = "careerguidance", **fields: Any) -> dict[str, Any]:
    """A dump record in the Arctic Shift shape with a plausible decision post."""
    record: dict[str, Any] = {
        "id": post_id,
        "name": f"t3_{post_id}",
        "subreddit": subreddit,
        "author": f"author_{post_id}",
        "created_utc": 1_790_000_000 + sum(map(ord, post_id)),
        "over_18": False,
        "stickied": False,
        "title": f"Should I take the offer ({post_id})?",
        "selftext": (
            "I have worked at my company for four years and I like my team, but I just got an "
            "offer from a startup that pays more and would let me lead a small group. My partner "
            "is worried about the risk because we are saving for a house, and my manager says a "
            "promotion may come next year. Should I take the new job or stay where I am?"
        ),
        "permalink": f"/r/{subreddit}/comments/{post_id}/x/",
    }
    record.update(fields)
    return record


def model_answers(body: dict) -> str:
    """Deterministic answers that depend on the model and the whole prompt."""
    kind = body["response_format"]["json_schema"]["name"]
    prompt = "\n".join(m["content"] for m in body["messages"])
    h = int(hashlib.sha256(f"{body['model']}\n{prompt}".encode()).hexdigest(), 16)
    if kind == "JudgeAnswer":
        return json.dumps({"is_decision": h % 4 != 0, "reason": f"r{h % 97}"})
    if kind == "ActionAnswer":  # one action (per-value mode, or the gate's re-ask)
        value = re.search(r"Schwartz value ([\w-]+)", prompt).group(1)  # type: ignore[union-attr]
        return json.dumps({"action": f"I would act for {_CODES[value]} (v{h % 1000})."})
    if kind in ("ScenarioActionsAnswer", "PartialActionsAnswer"):  # values asked = its keys
        keys = body["response_format"]["json_schema"]["schema"]["properties"]
        return json.dumps(
            {v: f"I would act for {_CODES[v]} (v{(h >> i) % 1000})." for i, v in enumerate(keys)}
        )
    value = re.search(r"Action: I would act for ([\w-]+)", prompt).group(1)  # type: ignore[union-attr]
    value = _DECODE.get(value, value)
    if h % 5 == 0:  # sometimes read another value
        value = _VALUES[(_VALUES.index(value) + 1) % len(_VALUES)]
    return json.dumps({"value": value})


CAREER_SUBREDDITS = ["careerguidance", "AskHR", "consulting"]


def write_career_dump(raw: Path, n: int) -> Path:
    """`n` distinct decision posts spread over the three career subreddits, as one dump."""
    return write_dump(
        raw / "RS.zst",
        [
            submission(
                f"p{i}",
                subreddit=CAREER_SUBREDDITS[i % 3],
                title=f"Transfer {i}?",
                selftext=f"My manager offered me option {i}: a transfer that doubles my commute "
                "but comes with a raise, and my partner is worried about the kids' school. I "
                "keep going back and forth every evening. Should I take the transfer or stay "
                "in the team I know and wait for the next opening?",
            )
            for i in range(n)
        ],
    )


def write_dump(path: Path, lines: list[Any], compress: bool = True) -> Path:
    """Records (dicts are JSON-encoded, bytes/str written as they are) as NDJSON(.zst)."""
    raw = b""
    for line in lines:
        if isinstance(line, dict | list):
            line = json.dumps(line)
        raw += (line if isinstance(line, bytes) else line.encode()) + b"\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(zstandard.ZstdCompressor().compress(raw) if compress else raw)
    return path
