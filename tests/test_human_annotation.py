"""The human round trip: a stratified sample exported (CSV and a Label Studio project),
labelled by a few fake people (with skipped and cancelled items), imported back, agreement
computed; bad files and bad answers reported and never counted."""

import csv
import json
import random
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.errors import PipelineError
from pipeline.human import export, human_agreement, import_file, parse_value
from pipeline.store import Provenance, Store
from schemas import Action, Annotation, Scenario, SchwartzValue
from schemas.human import HumanAnnotation
from tests.conftest import make_settings

VALUES = [v.value for v in SchwartzValue]
CATEGORIES = ["career", "relationships", "family"]
PROV = Provenance("test", "1", "sig", "run")


def fill(store: Store) -> None:
    """3 categories x 2 scenarios x 10 values x 2 generators, and a model's labels."""
    scenarios, actions, labels = [], [], []
    rng = random.Random(3)
    for c in CATEGORIES:
        for k in range(2):
            sid = f"{c}-{k}"
            scenarios.append(
                Scenario(
                    scenario_id=sid,
                    post_id=sid,
                    category=c,
                    subreddit=c,
                    title=f"Should I take the offer ({c} {k})?",
                    text="I have two weeks to decide and my family depends on me.",
                    created_utc=0,
                    permalink=None,
                    sample_rank=k,
                )
            )
            for g in ("gen-a", "gen-b"):
                for v in VALUES:
                    aid = f"{sid}-{g}-{v}"
                    actions.append(
                        Action(
                            action_id=aid,
                            scenario_id=sid,
                            generator=g,
                            value=v,
                            text=f"I act for {v.lower()} here ({g}).",
                            placeholder=False,
                            request_id="r",
                        )
                    )
                    said = v if rng.random() < 0.7 else rng.choice(VALUES)
                    labels.append(
                        Annotation(
                            action_id=aid,
                            annotator="model-x",
                            value=v,
                            predicted_value=said,
                            agrees=said == v,
                            request_id="r",
                        )
                    )
    store.put("scenarios", scenarios, PROV)
    store.put("actions", actions, PROV)
    store.put("annotations", labels, PROV)


@pytest.fixture
def setup(tmp_path: Path):
    s = make_settings(tmp_path, human={"sample_size": 60})
    with Store.open(s.db_path) as store:
        fill(store)
        yield s, store


def intended(store: Store) -> dict[str, str]:
    return {r["action_id"]: r["value"] for r in store.query("SELECT action_id, value FROM actions")}


def test_export_is_stratified_blind_and_a_valid_label_studio_project(setup, tmp_path) -> None:
    s, store = setup
    out = export(s, store, tmp_path / "human")
    assert out["actions"] == 60 and len(out["cells"]) == 30  # 10 values x 3 categories
    assert set(out["cells"].values()) == {2}  # evenly spread
    tasks = json.loads(out["tasks"].read_text())
    assert len(tasks) == 60 and set(tasks[0]["data"]) == {"item_id", "scenario", "action"}
    assert all(t["data"]["item_id"] in intended(store) for t in tasks)
    config = ET.fromstring(out["config"].read_text())
    choices = config.find("Choices")
    assert choices is not None and choices.get("toName") == "action"
    assert [c.get("value") for c in choices] == VALUES
    assert {t.get("value") for t in config.iter("Text")} == {"$scenario", "$action"}
    rows = list(csv.DictReader(out["csv"].open()))
    assert len(rows) == 60 and list(rows[0]) == ["id", "scenario", "action", "annotator", "value"]
    assert export(s, store, tmp_path / "again")["cells"] == out["cells"]  # seeded: the same


def label_studio_export(tasks: list[dict], truth: dict[str, str]) -> list[dict]:
    """What Label Studio's JSON export gives after three people labelled the project."""
    rng = random.Random(7)
    people = [{"id": 1, "email": "ann@example.org"}, {"id": 2, "email": "bo@example.org"}, 3]
    skill = [0.9, 0.75, 0.6]
    out = []
    for n, task in enumerate(tasks, 1):
        anns = []
        for p, (who, acc) in enumerate(zip(people, skill, strict=True)):
            aid = n * 10 + p
            value = truth[task["data"]["item_id"]]
            chosen = value if rng.random() < acc else rng.choice(VALUES)
            result = [
                {
                    "from_name": "value",
                    "to_name": "action",
                    "type": "choices",
                    "value": {"choices": [chosen]},
                }
            ]
            ann = {"id": aid, "completed_by": who, "was_cancelled": False, "result": result}
            if p == 2 and n % 7 == 0:
                ann.update(was_cancelled=True, result=[])  # skipped in the UI
            if p == 1 and n % 11 == 0:
                ann["result"] = []  # submitted with nothing chosen
            anns.append(ann)
        out.append({"id": n, "data": task["data"], "annotations": anns})
    return out


def test_label_studio_round_trip_gives_human_agreement(setup, tmp_path) -> None:
    s, store = setup
    out = export(s, store, tmp_path / "human")
    tasks = json.loads(out["tasks"].read_text())
    exported = label_studio_export(tasks, intended(store))
    path = tmp_path / "project-1-export.json"
    path.write_text(json.dumps(exported))
    report = import_file(store, path)
    assert report.format == "label_studio" and report.problems == []
    assert report.cancelled == 8 and report.skipped == 5  # tasks 7, 14, ...; 11, 22, ...
    assert report.stored == 3 * 60 - 8 - 5
    assert report.annotators == ["3", "ann@example.org", "bo@example.org"]
    stats = human_agreement(store)
    assert stats["labels"] == report.stored
    hh = stats["human_human"]
    assert 0 < hh["fleiss_kappa"] < 1 and 0 < hh["krippendorff_alpha"] < 1
    assert hh["fleiss_kappa_ci"][0] <= hh["fleiss_kappa"] <= hh["fleiss_kappa_ci"][1]
    assert len(hh["pairwise"]) == 3
    ann = stats["human_intended"]["annotators"]["human:ann@example.org"]
    assert ann["accuracy"] > 0.75 and ann["accuracy_ci"][0] < ann["accuracy"]
    assert sum(map(sum, ann["confusion_matrix"]["matrix"])) == ann["answered"] == 60
    pair = stats["human_model"]["human:ann@example.org vs model-x"]
    assert pair["items"] == 60 and pair["cohen_kappa"] is not None
    # importing the same export again replaces, never doubles
    assert import_file(store, path).stored == report.stored
    assert store.count("human_annotations") == report.stored


def test_csv_round_trip_through_the_cli(setup, tmp_path) -> None:
    from flows.cli import app

    s, store = setup
    truth = intended(store)
    store.con.close()  # the command opens the store itself
    env = {"VALACT_PROCESSED_DIR": str(s.processed_dir), "VALACT_HUMAN__SAMPLE_SIZE": "30"}
    runner = CliRunner()
    res = runner.invoke(app, ["annotate", "export", "--out", str(tmp_path / "h")], env=env)
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader((tmp_path / "h" / "human_sample.csv").open()))
    assert len(rows) == 30
    filled = []
    for who, wrong_every in (("kim", 5), ("lee", 3)):
        for i, r in enumerate(rows):
            value = (
                VALUES[(VALUES.index(truth[r["id"]]) + 1) % 10]
                if i % wrong_every == 0
                else truth[r["id"]]
            )
            filled.append({**r, "annotator": who, "value": value.lower()})  # case does not matter
    path = tmp_path / "labels.csv"
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(filled[0]))
        writer.writeheader()
        writer.writerows(filled)
    res = runner.invoke(app, ["annotate", "import", str(path)], env=env)
    assert res.exit_code == 0, res.output
    assert "60 labels stored from 2 annotator(s)" in res.output
    saved = json.loads((s.processed_dir / "human_agreement.json").read_text())
    kim = saved["human_intended"]["annotators"]["human:kim"]
    assert kim["accuracy"] == 0.8
    assert saved["human_human"]["pairwise"]["human:kim vs human:lee"]["items"] == 30
    assert "human:kim vs model-x" in saved["human_model"]


def test_bad_answers_are_reported_with_their_place_and_not_counted(setup, tmp_path) -> None:
    _s, store = setup
    truth = intended(store)
    ids = sorted(truth)[:6]
    path = tmp_path / "bad.csv"
    lines = [
        "id,annotator,value",
        f"{ids[0]},kim,{truth[ids[0]]}",  # fine (row 2)
        "nope-1,kim,Power",  # unknown id (row 3)
        f"{ids[1]},kim,",  # skipped (row 4)
        f"{ids[2]},kim,not sure",  # names no value (row 5)
        f"{ids[3]},kim,Loyalty",  # unknown value (row 6)
        f"{ids[4]},kim,Power and Achievement",  # two values (row 7)
        f"{ids[0]},kim,{truth[ids[0]]}",  # duplicate row (row 8)
        f"{ids[5]},kim,Power",  # conflicting duplicate (rows 9, 10)
        f"{ids[5]},kim,Hedonism",
        f"{ids[1]},,Power",  # no annotator (row 11)
    ]
    path.write_text("\n".join(lines) + "\n")
    report = import_file(store, path)
    said = {(p.item_ref, p.reason) for p in report.problems}
    assert said == {
        ("row 3", "unknown_id"),
        ("row 5", "no_value"),
        ("row 6", "unknown_value"),
        ("row 7", "several_values"),
        ("row 8", "duplicate_row"),
        ("row 9", "conflicting_duplicate"),
        ("row 10", "conflicting_duplicate"),
        ("row 11", "no_annotator"),
    }
    assert report.stored == 1 and report.skipped == 1
    stored = store.load(HumanAnnotation)
    assert [(h.action_id, h.item_ref) for h in stored] == [(ids[0], "row 2")]
    assert human_agreement(store)["human_intended"]["annotators"]["human:kim"]["answered"] == 1


def test_bad_label_studio_answers_and_wrong_schemas(setup, tmp_path) -> None:
    _s, store = setup
    aid = sorted(intended(store))[0]

    def choice(*values: str) -> list[dict]:
        return [{"type": "choices", "from_name": "value", "value": {"choices": list(values)}}]

    tasks = [
        {
            "id": 1,
            "data": {"item_id": "ghost"},
            "annotations": [{"id": 5, "completed_by": 1, "result": choice("Power")}],
        },
        {
            "id": 2,
            "data": {"item_id": aid},
            "annotations": [
                {"id": 6, "completed_by": 1, "result": choice("Power", "Security")},
                {"id": 7, "completed_by": 2, "result": choice("Courage")},
                {"id": 8, "completed_by": 3, "result": choice()},
            ],
        },
        {"id": 3, "data": {}, "annotations": []},
    ]
    path = tmp_path / "ls.json"
    path.write_text(json.dumps(tasks))
    report = import_file(store, path)
    assert Counter((p.item_ref, p.reason) for p in report.problems) == Counter(
        {
            ("task 1 annotation 5", "unknown_id"): 1,
            ("task 2 annotation 6", "several_values"): 1,
            ("task 2 annotation 7", "unknown_value"): 1,
            ("task 2 annotation 8", "no_value"): 1,
            ("task 3", "bad_task"): 1,
        }
    )
    assert report.stored == 0 and store.count("human_annotations") == 0
    for name, text, says in (
        ("obj.json", '{"tasks": 1}', "not a Label Studio JSON export"),
        ("broken.json", "[{", "not valid JSON"),
        ("cols.csv", "item,label\nx,Power\n", "missing column(s) id, annotator, value"),
    ):
        (tmp_path / name).write_text(text)
        with pytest.raises(PipelineError, match=re_escape(says)):
            import_file(store, tmp_path / name)


def re_escape(text: str) -> str:
    import re

    return re.escape(text)


def test_parse_value() -> None:
    assert parse_value("self direction") == ("Self-Direction", None)
    assert parse_value(" HEDONISM ") == ("Hedonism", None)
    assert parse_value("Power, Power") == ("Power", None)
    assert parse_value("Power / Benevolence") == (None, "several_values")
    assert parse_value("Loyalty") == (None, "unknown_value")
    assert parse_value("???") == (None, "no_value")
