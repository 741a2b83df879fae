"""`valact value-check`: label actions from anywhere with the configured value annotators.

Researchers bring a CSV with `id` and `action` (and optionally `scenario`); every configured
annotator names the value each action most reflects, with a probability per value where it has
them, through the same prompts, cache and limits as the annotate stage. The offline annotator
reads an action against the other rows of the same `scenario` text, as it reads a build's
action against its scenario's candidates. A bad row (missing fields, empty action or id, an id
seen before, extra fields) is reported with its line number and skipped; the others go on.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.annotate import score_list
from pipeline.errors import PipelineError
from pipeline.llm.prompts import annotate_messages
from pipeline.settings import OFFLINE_PREFIX
from schemas import AnnotationAnswer, LLMRequest, SchwartzValue

if TYPE_CHECKING:
    from pipeline.context import RunContext
    from pipeline.llm.service import Check

REQUIRED = ("id", "action")


class ValueCheckError(PipelineError):
    """An input file that cannot be read at all (not CSV text, no header, no `action`...)."""


@dataclass(frozen=True)
class CheckRow:
    line: int  # where the row starts in the file (the header is line 1)
    id: str
    action: str
    scenario: str


@dataclass(frozen=True)
class BadRow:
    line: int
    id: str
    reason: str


@dataclass
class CheckResult:
    rows: list[CheckRow] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)
    annotators: list[str] = field(default_factory=list)
    written: int = 0
    failed: dict[str, int] = field(default_factory=dict)  # annotator -> rows it could not label


def read_rows(path: Path) -> tuple[list[CheckRow], list[BadRow]]:
    """The usable rows and the bad ones, each with its line number."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValueCheckError(
            f"{path} is not UTF-8 text ({err.reason} at byte {err.start})"
        ) from None
    reader = csv.DictReader(text.splitlines(keepends=True), restkey="\x00extra")
    header = [h.strip() for h in reader.fieldnames or []]
    if not header:
        raise ValueCheckError(f"{path} is empty: expected a header with columns id, action")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ValueCheckError(
            f"{path} has no column {', '.join(missing)} (its columns: {', '.join(header)}); "
            "expected id, action and optionally scenario"
        )
    reader.fieldnames = header
    rows: list[CheckRow] = []
    bad: list[BadRow] = []
    seen: dict[str, int] = {}
    line = reader.line_num
    for raw in reader:
        start, line = line + 1, reader.line_num
        rid = (raw.get("id") or "").strip()
        absent = [c for c in header if raw.get(c) is None]
        if absent:
            bad.append(BadRow(start, rid, f"missing field(s) {', '.join(absent)}"))
        elif "\x00extra" in raw:
            bad.append(BadRow(start, rid, f"more fields than the {len(header)} columns"))
        elif not rid:
            bad.append(BadRow(start, rid, "empty id"))
        elif not (raw.get("action") or "").strip():
            bad.append(BadRow(start, rid, "empty action"))
        elif rid in seen:
            bad.append(BadRow(start, rid, f"duplicate id (first on line {seen[rid]})"))
        else:
            seen[rid] = start
            rows.append(
                CheckRow(start, rid, raw["action"].strip(), (raw.get("scenario") or "").strip())
            )
    return rows, bad


def output_columns(annotators: list[str], with_scenario: bool) -> list[str]:
    cols = ["id", "action", *(["scenario"] if with_scenario else [])]
    for a in annotators:
        cols += [f"{a}:value", *(f"{a}:{v.value}" for v in SchwartzValue)]
    return cols


def value_check(
    ctx: RunContext,
    src: Path,
    out: Path,
    progress: Callable[[int], None] | None = None,
) -> CheckResult:
    """Label every good row of `src` with each configured annotator and write `out`: per
    annotator its value and its probability per value (empty where it gives none)."""
    rows, bad = read_rows(src)
    annotators = ctx.settings.annotator_models()
    result = CheckResult(rows=rows, bad=bad, annotators=annotators)
    groups: dict[str, list[str]] = {}
    for r in rows:
        if r.scenario:
            groups.setdefault(r.scenario, []).append(r.action)
    labels: dict[tuple[str, str], AnnotationAnswer | None] = {}
    for annotator in annotators:
        items: list[tuple[LLMRequest, str, Check | None]] = []
        for r in rows:
            payload: dict[str, object] = {"action": r.action}
            if annotator.startswith(OFFLINE_PREFIX) and r.scenario:
                payload["candidates"] = sorted(groups[r.scenario])
            messages = annotate_messages(r.scenario, r.action, ctx.settings.pii)
            items.append((ctx.llm.request("annotate", annotator, messages, payload), r.id, None))
        ctx.llm.prepare([request for request, _, _ in items])
        answers = ctx.llm.ask_many(items, progress=progress)
        for r, answer in zip(rows, answers, strict=True):
            assert answer is None or isinstance(answer, AnnotationAnswer)
            labels[r.id, annotator] = answer
            if answer is None:
                result.failed[annotator] = result.failed.get(annotator, 0) + 1
    with_scenario = any(r.scenario for r in rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(output_columns(annotators, with_scenario))
        for r in rows:
            line: list[object] = [r.id, r.action, *([r.scenario] if with_scenario else [])]
            for a in annotators:
                answer = labels[r.id, a]
                scores = score_list(answer) if answer is not None else None
                line.append(answer.value.value if answer is not None else "")
                line += [f"{s:.4f}" for s in scores] if scores else [""] * len(SchwartzValue)
            writer.writerow(line)
            result.written += 1
    return result
