"""Stage 7, value annotation: `actions` -> `annotations` (+ `agreement.json`).

Each annotator names the value an action most reflects; an action passes its value check when
most annotators name the value it was written for.
"""

from __future__ import annotations

import json

from pipeline.agreement import agreement
from pipeline.context import RunContext, start_report
from pipeline.llm.prompts import PROMPT_VERSION, annotate_messages
from pipeline.text import post_text
from schemas import Action, Annotation, AnnotationAnswer, LLMRequest
from schemas.run import StageReport

STAGE, VERSION = "annotate", f"1+{PROMPT_VERSION}"


def run(ctx: RunContext) -> StageReport:
    s, store = ctx.settings, ctx.store
    report = start_report(ctx, STAGE, VERSION, "annotation", "llm", "seed")
    prov = ctx.provenance(STAGE, VERSION, report.config_hash)
    annotators = s.annotator_models()
    done = store.keys("annotations")
    scenarios = {
        r["scenario_id"]: post_text(r["title"], r["text"])
        for r in store.query("SELECT scenario_id, title, text FROM scenarios")
    }
    before = ctx.llm.snapshot()
    pending: list[tuple[Action, LLMRequest]] = []
    for action in store.load(Action, order="action_id"):
        for annotator in annotators:
            report.inputs += 1
            if (action.action_id, annotator) in done:
                report.skipped += 1
                continue
            request = ctx.llm.request(
                "annotate",
                annotator,
                annotate_messages(scenarios.get(action.scenario_id, ""), action.text),
                {"action": action.text, "scenario_id": action.scenario_id},
            )
            pending.append((action, request))
    ctx.llm.prepare([r for _, r in pending])
    rows: list[Annotation] = []
    for action, request in pending:
        answer = ctx.llm.ask(request, item_key=action.action_id)
        report.processed += 1
        if answer is None:
            report.drop("annotation_failed")
            continue
        assert isinstance(answer, AnnotationAnswer)
        rows.append(
            Annotation(
                action_id=action.action_id,
                annotator=request.model,
                value=action.value,
                predicted_value=answer.value.value,
                agrees=answer.value.value == action.value,
                confidence=None,
                request_id=request.request_id,
            )
        )
        if len(rows) >= 500:
            report.outputs += store.insert("annotations", rows, prov)
            rows = []
    report.outputs += store.insert("annotations", rows, prov)
    stats = agreement(store.load(Annotation))
    path = s.processed_dir / "agreement.json"
    path.write_text(json.dumps(stats, indent=2) + "\n")
    for name, a in stats["annotators"].items():
        report.notes.append(f"{name}: accuracy {a['accuracy']} over {a['answered']} actions")
    report.notes.append(
        f"Krippendorff alpha (with intended): {stats['krippendorff_alpha_with_intended']}"
    )
    report.notes += ctx.llm.notes(since=before)
    return report
