"""Human value labels: a stratified sample exported for people (CSV, or a Label Studio project)
and their labels imported back, checked and compared with the intended values and the models.

People label blind: the files carry an action's id, its scenario and its text, never the value
it was written for or the model that wrote it. An import counts only rows naming exactly one
of the ten values for a known action, once per person; everything else is reported with where
it was (task and annotation ids, or CSV row numbers) and why, and counted nowhere."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.agreement import LABELS, agreement, kappa_block
from pipeline.errors import PipelineError
from pipeline.pii import scrub
from pipeline.store import Provenance
from pipeline.text import post_text
from schemas import Annotation, SchwartzValue
from schemas.human import HumanAnnotation, HumanImport, ImportProblem

if TYPE_CHECKING:
    from pipeline.settings import Settings
    from pipeline.store import Store

CSV_COLUMNS = ("id", "scenario", "action", "annotator", "value")
CSV_REQUIRED = ("id", "annotator", "value")
CHOICES_NAME = "value"  # the labeling config's <Choices name>
HUMAN_PREFIX = "human:"  # how people are named beside the model annotators
IMPORT_VERSION = "1"

_NO_VALUE = {"", "none", "n/a", "na", "-", "?", "unsure", "not sure", "don't know", "dont know"}
_SKIP = {"skip", "skipped"}
_SPLIT = re.compile(r"\s*(?:[,;/|+&]|\band\b)\s*", re.IGNORECASE)


def _norm(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


_VALUE_OF = {_norm(v): v for v in LABELS}


def sample(store: Store, size: int, seed: int) -> list[dict[str, Any]]:
    """Up to `size` actions spread evenly over the value x category cells: cells take turns,
    each giving its next action in a seeded hash order, so the sample is the same every time
    and grows by adding rows."""
    # The text a release shows (the gate's, after any re-ask), of scenarios the gate kept.
    rows = store.query(
        "SELECT a.action_id, a.value, coalesce(g.text, a.text) AS action, s.category, s.title, "
        "s.text FROM actions a JOIN scenarios s USING (scenario_id) "
        "LEFT JOIN gate_actions g USING (action_id) WHERE a.scenario_id NOT IN "
        "(SELECT scenario_id FROM gate_scenarios WHERE NOT keep)"
    )

    def rank(action_id: str) -> str:
        return hashlib.sha256(f"{seed}:{action_id}".encode()).hexdigest()

    cells: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        cells[r["value"], r["category"]].append(r)
    queues = [sorted(cells[k], key=lambda r: rank(r["action_id"])) for k in sorted(cells)]
    out: list[dict[str, Any]] = []
    turn = 0
    while len(out) < size and any(turn < len(q) for q in queues):
        out += [q[turn] for q in queues if turn < len(q)][: size - len(out)]
        turn += 1
    return sorted(out, key=lambda r: rank(r["action_id"]))  # cells mixed for the annotators


def labeling_config() -> str:
    """Label Studio's labeling config: the scenario and the action shown, the ten values as
    single choices (each with its description as a hint)."""
    from schemas import VALUE_DESCRIPTIONS

    view = ET.Element("View")
    ET.SubElement(view, "Header", value="Scenario")
    ET.SubElement(view, "Text", name="scenario", value="$scenario")
    ET.SubElement(view, "Header", value="Action")
    ET.SubElement(view, "Text", name="action", value="$action")
    ET.SubElement(view, "Header", value="Which value does this action most reflect?")
    choices = ET.SubElement(
        view,
        "Choices",
        name=CHOICES_NAME,
        toName="action",
        choice="single",
        required="true",
        showInline="false",
    )
    for v in SchwartzValue:
        ET.SubElement(choices, "Choice", value=v.value, hint=VALUE_DESCRIPTIONS[v])
    ET.indent(view)
    return ET.tostring(view, encoding="unicode") + "\n"


def export(settings: Settings, store: Store, out: Path, size: int | None = None) -> dict[str, Any]:
    """Writes `human_sample.csv`, `label_studio_tasks.json` and `label_studio_config.xml` into
    `out`; returns the paths and how many actions per value and category."""
    rows = sample(store, size or settings.human.sample_size, settings.seed)
    if not rows:
        raise PipelineError("no actions to export: run the build (or `valact generate`) first")
    out.mkdir(parents=True, exist_ok=True)
    items = [
        {
            "id": r["action_id"],
            "scenario": scrub(post_text(r["title"], r["text"]), settings.pii),
            "action": scrub(r["action"], settings.pii),
        }
        for r in rows
    ]
    csv_path = out / "human_sample.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows({**i, "annotator": "", "value": ""} for i in items)
    tasks = [
        {"data": {"item_id": i["id"], "scenario": i["scenario"], "action": i["action"]}}
        for i in items
    ]
    tasks_path = out / "label_studio_tasks.json"
    tasks_path.write_text(json.dumps(tasks, indent=2, ensure_ascii=False) + "\n")
    config_path = out / "label_studio_config.xml"
    config_path.write_text(labeling_config())
    cells: dict[str, int] = defaultdict(int)
    for r in rows:
        cells[f"{r['value']} x {r['category']}"] += 1
    return {
        "actions": len(rows),
        "csv": csv_path,
        "tasks": tasks_path,
        "config": config_path,
        "cells": dict(sorted(cells.items())),
    }


def parse_value(text: str) -> tuple[str | None, str | None]:
    """(value, None) for an answer naming exactly one of the ten values, else (None, why):
    skipped, no_value, unknown_value or several_values."""
    raw = text.strip()
    if raw.lower() in _SKIP:
        return None, "skipped"
    if raw.lower() in _NO_VALUE or not re.search(r"[A-Za-z]", raw):
        return None, "no_value"
    whole = _VALUE_OF.get(_norm(raw))  # "Self-Direction", "self direction"
    if whole:
        return whole, None
    parts = [p for p in _SPLIT.split(raw) if p.strip()]
    found = {_VALUE_OF.get(_norm(p)) for p in parts}
    if None in found:
        return None, "unknown_value"
    return (found.pop(), None) if len(found) == 1 else (None, "several_values")


class _Reader:
    """Collects labels and problems while a file is read."""

    def __init__(self, intended: dict[str, str], source: str) -> None:
        self.intended, self.source = intended, source
        self.labels: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
        self.problems: list[ImportProblem] = []
        self.skipped = self.cancelled = 0

    def problem(self, ref: str, reason: str, detail: str) -> None:
        self.problems.append(ImportProblem(item_ref=ref, reason=reason, detail=detail))

    def answer(self, ref: str, item_id: str, annotator: str, answers: list[str]) -> None:
        if item_id not in self.intended:
            self.problem(ref, "unknown_id", f"{item_id!r} is not an action in the store")
            return
        if not annotator:
            self.problem(ref, "no_annotator", "no annotator named")
            return
        values: set[str] = set()
        for text in answers:
            value, why = parse_value(text)
            if why == "skipped":
                continue
            if why is not None:
                self.problem(ref, why, f"answer {text!r} of {annotator!r}")
                return
            values.add(value)  # type: ignore[arg-type]
        if not values:  # nothing chosen: a skip, not a problem
            self.skipped += 1
            return
        if len(values) > 1:
            self.problem(ref, "several_values", f"{annotator!r} chose {sorted(values)}")
            return
        self.labels[item_id, annotator].append((values.pop(), ref))

    def result(self, fmt: str) -> tuple[list[HumanAnnotation], HumanImport]:
        rows: list[HumanAnnotation] = []
        for (item_id, annotator), said in sorted(self.labels.items()):
            if len({v for v, _ in said}) > 1:
                for v, ref in said:
                    self.problem(
                        ref,
                        "conflicting_duplicate",
                        f"{annotator!r} labelled {item_id!r} more than once, differently ({v})",
                    )
                continue
            for _, ref in said[1:]:
                self.problem(ref, "duplicate_row", f"{annotator!r} labelled {item_id!r} again")
            value, ref = said[0]
            rows.append(
                HumanAnnotation(
                    action_id=item_id,
                    annotator=annotator,
                    value=self.intended[item_id],
                    predicted_value=value,
                    agrees=value == self.intended[item_id],
                    source_file=self.source,
                    item_ref=ref,
                )
            )
        report = HumanImport(
            source_file=self.source,
            format=fmt,
            stored=len(rows),
            annotators=sorted({r.annotator for r in rows}),
            skipped=self.skipped,
            cancelled=self.cancelled,
            problems=self.problems,
        )
        return rows, report


def _annotator(completed_by: Any) -> str:
    if isinstance(completed_by, dict):
        return str(completed_by.get("email") or completed_by.get("id") or "")
    return "" if completed_by is None else str(completed_by)


def read_label_studio(data: Any, reader: _Reader) -> None:
    """A Label Studio JSON export: a list of tasks, each with `data.item_id` and its
    `annotations` (`completed_by`, `was_cancelled`, `result` with the choices)."""
    if not isinstance(data, list) or not any(isinstance(t, dict) and "data" in t for t in data):
        raise PipelineError(
            f"{reader.source}: not a Label Studio JSON export (expected a list of tasks, each "
            "with 'data' and 'annotations')"
        )
    for n, task in enumerate(data, 1):
        tid = task.get("id", f"#{n}") if isinstance(task, dict) else f"#{n}"
        ref = f"task {tid}"
        item = task.get("data") if isinstance(task, dict) else None
        if not isinstance(item, dict) or not isinstance(item.get("item_id"), str):
            reader.problem(ref, "bad_task", "no data.item_id")
            continue
        annotations = task.get("annotations", task.get("completions", []))
        if not isinstance(annotations, list):
            reader.problem(ref, "bad_task", "'annotations' is not a list")
            continue
        for k, ann in enumerate(annotations, 1):
            aref = f"{ref} annotation {ann.get('id', k) if isinstance(ann, dict) else k}"
            if not isinstance(ann, dict) or not isinstance(ann.get("result", []), list):
                reader.problem(aref, "bad_task", "an annotation without a result list")
                continue
            if ann.get("was_cancelled"):
                reader.cancelled += 1
                continue
            answers: list[str] = []
            for res in ann.get("result", []):
                if isinstance(res, dict) and res.get("type", "choices") == "choices":
                    choices = (res.get("value") or {}).get("choices", [])
                    answers += [str(c) for c in choices] or [""]
            reader.answer(aref, item["item_id"], _annotator(ann.get("completed_by")), answers)


def read_csv(path: Path, reader: _Reader) -> None:
    """The exported CSV filled in: one row per action and person (`annotator`, `value`)."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        rows = csv.DictReader(fh)
        header = [h.strip().lower() for h in rows.fieldnames or []]
        missing = [c for c in CSV_REQUIRED if c not in header]
        if missing:
            raise PipelineError(
                f"{reader.source}: not a human label CSV: missing column(s) {', '.join(missing)} "
                f"(expected {', '.join(CSV_COLUMNS)}; found {', '.join(header) or 'none'})"
            )
        rows.fieldnames = header
        for line, row in enumerate(rows, 2):
            ref = f"row {line}"
            item_id, who = (row.get("id") or "").strip(), (row.get("annotator") or "").strip()
            value = (row.get("value") or "").strip()
            if not who and not value:  # a row nobody filled in
                reader.skipped += 1
                continue
            reader.answer(ref, item_id, who, [value] if value else ["skip"])


def read(path: Path, intended: dict[str, str]) -> tuple[list[HumanAnnotation], HumanImport]:
    """Human labels of a Label Studio JSON export or a filled CSV, and what was not counted."""
    reader = _Reader(intended, path.name)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise PipelineError(f"{path}: not a text file ({err.reason})") from None
    if path.suffix.lower() == ".json" or text.lstrip().startswith(("[", "{")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise PipelineError(f"{path}: not valid JSON ({err.msg}, line {err.lineno})") from None
        read_label_studio(data, reader)
        return reader.result("label_studio")
    read_csv(path, reader)
    return reader.result("csv")


def import_file(store: Store, path: Path) -> HumanImport:
    """Stores the labels of `path` (replacing a person's earlier label of the same action)."""
    intended = {
        r["action_id"]: r["value"] for r in store.query("SELECT action_id, value FROM actions")
    }
    rows, report = read(path, intended)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    run_id = "human-import-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    prov = Provenance("human_import", IMPORT_VERSION, sha, run_id)
    store.put("human_annotations", rows, prov, sha)
    return report


def as_annotations(rows: list[HumanAnnotation]) -> list[Annotation]:
    """People's labels in the annotators' shape (named `human:<name>`), for the same metrics."""
    return [
        Annotation(
            action_id=r.action_id,
            annotator=HUMAN_PREFIX + r.annotator,
            value=r.value,
            predicted_value=r.predicted_value,
            agrees=r.agrees,
            request_id=r.source_file,
        )
        for r in rows
    ]


def model_readings(store: Store) -> list[Annotation]:
    """The annotators' readings of the texts people see: a re-asked action's are the gate's
    readings of its new text, not those of the text it replaced."""
    regenerated = store.query(
        "SELECT action_id, value, text, request_id, annotators, predicted_values "
        "FROM gate_actions WHERE regenerations > 0"
    )
    replaced = {r["action_id"] for r in regenerated}
    return [a for a in store.load(Annotation) if a.action_id not in replaced] + [
        Annotation(
            action_id=r["action_id"],
            annotator=model,
            value=r["value"],
            predicted_value=said,
            agrees=None if said is None else said == r["value"],
            request_id=r["request_id"],
        )
        for r in regenerated
        for model, said in zip(r["annotators"], r["predicted_values"], strict=True)
    ]


def human_agreement(store: Store) -> dict[str, Any]:
    """Human-human (Fleiss' kappa, Krippendorff's alpha, pairwise kappa), human-intended (each
    person's accuracy, kappa and confusion matrix, as for the models) and human-model (each
    person against each model annotator over the actions both labelled)."""
    people = as_annotations(store.load(HumanAnnotation, order="action_id, annotator"))
    models = [a for a in model_readings(store) if a.predicted_value is not None]
    vs_intended = agreement(people)
    said: dict[str, dict[str, str]] = defaultdict(dict)
    for a in people + models:
        said[a.annotator][a.action_id] = a.predicted_value  # type: ignore[assignment]
    human_model: dict[str, Any] = {}
    for person in sorted({a.annotator for a in people}):
        for model in sorted({a.annotator for a in models}):
            shared = sorted(set(said[person]) & set(said[model]))
            human_model[f"{person} vs {model}"] = kappa_block(
                [said[person][k] for k in shared], [said[model][k] for k in shared]
            )
    return {
        "labels": len(people),
        "actions": vs_intended["actions"],
        "annotators": sorted({a.annotator for a in people}),
        "human_human": {
            "fleiss_kappa": vs_intended["fleiss_kappa_annotators"],
            "fleiss_kappa_ci": vs_intended["fleiss_kappa_annotators_ci"],
            "krippendorff_alpha": vs_intended["krippendorff_alpha_annotators"],
            "krippendorff_alpha_ci": vs_intended["krippendorff_alpha_annotators_ci"],
            "pairwise": vs_intended["pairwise"],
        },
        "human_intended": vs_intended,
        "human_model": human_model,
    }
