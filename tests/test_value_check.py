"""`valact value-check`: label a CSV of actions with the configured annotators; bad rows are
reported with their line numbers and the rest still labelled."""

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from pipeline.value_check import ValueCheckError, read_rows
from schemas import SchwartzValue
from tests.conftest import make_settings
from tests.fakes.openai_server import FakeOpenAIServer

OFFLINE = "offline/minilm-values"
SCENARIO = "My sister wants me to co-sign her car loan; I'm saving for a house."
ROWS = [
    ["id", "action", "scenario"],
    ["r1", "I'll co-sign because she's my sister and she needs someone in her corner.", SCENARIO],
    ["r2", "I'd keep my credit clean and protect my own savings before anything else.", SCENARIO],
    ["r3", "I'd say no politely, since that's what most people would advise.", SCENARIO],
    ["r4", "I'd treat myself to a weekend away with the money instead.", SCENARIO],
    ["r5", "I'd push for a promotion at work so I can afford both.", SCENARIO],
    ["r6", "I'd speak up so the rules are applied fairly to everyone, whoever they are.", ""],
    ["r2", "A second row with an id seen before.", ""],
    ["", "An action without an id.", ""],
    ["r8", "   ", ""],
    ["r9", "Too many fields here.", "", "extra"],
    ["r10"],
]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


def read_out(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def config_file(tmp_path: Path, **extra: str) -> Path:
    lines = [f'processed_dir = "{tmp_path / "processed"}"']
    lines += [f"{k} = {v}" for k, v in extra.items()]
    path = tmp_path / "valact.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_bad_rows_are_reported_with_their_lines_and_the_rest_labelled(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "in.csv", ROWS)
    out = tmp_path / "out" / "labels.csv"
    result = CliRunner().invoke(
        app, ["value-check", str(src), "--out", str(out), "-c", str(config_file(tmp_path))]
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "6 rows labelled by offline/minilm-values" in text and "5 bad rows skipped" in text
    assert "line 8: duplicate id (first on line 3) (id 'r2')" in text
    assert "line 9: empty id" in text
    assert "line 10: empty action (id 'r8')" in text
    assert "line 11: more fields than the 3 columns (id 'r9')" in text
    assert "line 12: missing field(s) action, scenario (id 'r10')" in text
    rows = read_out(out)
    assert [r["id"] for r in rows] == ["r1", "r2", "r3", "r4", "r5", "r6"]
    assert list(rows[0])[:4] == ["id", "action", "scenario", f"{OFFLINE}:value"]
    for r in rows:
        scores = [float(r[f"{OFFLINE}:{v.value}"]) for v in SchwartzValue]
        assert sum(scores) == pytest.approx(1.0, abs=1e-3)
        best = max(SchwartzValue, key=lambda v: float(r[f"{OFFLINE}:{v.value}"]))
        assert r[f"{OFFLINE}:value"] == best.value
    by_id = {r["id"]: r[f"{OFFLINE}:value"] for r in rows}
    assert by_id["r1"] == "Benevolence" and by_id["r2"] == "Security"
    # Labelled again: the same labels (answers come from the cache).
    again = tmp_path / "again.csv"
    CliRunner().invoke(
        app, ["value-check", str(src), "--out", str(again), "-c", str(config_file(tmp_path))]
    )
    assert read_out(again) == rows


def test_a_file_without_an_action_column_is_one_clear_error(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "in.csv", [["id", "text"], ["a", "I would go."]])
    with pytest.raises(ValueCheckError, match="no column action"):
        read_rows(src)
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ValueCheckError, match="is empty"):
        read_rows(tmp_path / "empty.csv")
    (tmp_path / "latin.csv").write_bytes("id,action\na,caf\xe9\n".encode("latin-1"))
    with pytest.raises(ValueCheckError, match="not UTF-8"):
        read_rows(tmp_path / "latin.csv")
    result = CliRunner().invoke(
        app,
        [
            "value-check",
            str(src),
            "--out",
            str(tmp_path / "o.csv"),
            "-c",
            str(config_file(tmp_path)),
        ],
    )
    assert result.exit_code == 2 and "no column action" in " ".join(result.output.split())


def test_a_model_annotator_labels_through_the_llm_service(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    """With an endpoint configured, the configured model annotates (its value, no scores),
    through the normal prompts; a quoted action spanning lines is one row."""
    openai_server.responder = lambda body: json.dumps({"value": "Security"})
    rows = [["id", "action"], ["m1", "I'd keep my savings\nwhere they are."], ["m2", "I'd go."]]
    src = write_csv(tmp_path / "in.csv", rows)
    s = make_settings(
        tmp_path,
        llm={"base_url": openai_server.base_url, "api_key": "sk-x", "max_retries": 0},
        annotation={"models": ["gpt-4o-mini"]},
    )
    from pipeline.context import RunContext
    from pipeline.store import Store
    from pipeline.value_check import value_check

    s.processed_dir.mkdir(parents=True)
    out = tmp_path / "out.csv"
    with Store.open(s.db_path) as store:
        result = value_check(RunContext(settings=s, store=store, run_id="t"), src, out)
    assert result.bad == [] and result.annotators == ["gpt-4o-mini"]
    got = read_out(out)
    assert [r["gpt-4o-mini:value"] for r in got] == ["Security", "Security"]
    assert got[0]["action"] == "I'd keep my savings\nwhere they are."
    assert all(r["gpt-4o-mini:Power"] == "" for r in got)
    prompts = [m["content"] for r in openai_server.chat_requests for m in r.body["messages"]]
    assert any("Which one of these ten Schwartz values" in p for p in prompts)
