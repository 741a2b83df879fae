"""Stage 7, value annotation: `actions` -> `annotations` (+ `agreement.json`).

Each annotator names the value an action most reflects, with a probability per value where it
has them (the offline annotator); an action passes its value check when most annotators name the
value it was written for. The offline annotator reads an action against its scenario's other
candidates, so for it those candidates' texts are part of the request and of the reuse key. An
annotation is reused while the action's text, its scenario (and, offline, its candidates), the
annotator, the prompt and the sampling settings are unchanged.
"""

from __future__ import annotations

import json

from pipeline.agreement import agreement
from pipeline.context import SAMPLING, RunContext, start_report
from pipeline.llm.prompts import annotate_messages
from pipeline.reuse import digest, plan
from pipeline.settings import OFFLINE_PREFIX
from pipeline.text import post_text
from schemas import Action, Annotation, AnnotationAnswer, LLMRequest, SchwartzValue
from schemas.run import StageReport

STAGE, VERSION = "annotate", "3"  # 3: per-value scores, offline contrast with candidates
_CHUNK = 512


def score_list(answer: AnnotationAnswer) -> list[float] | None:
    """The answer's per-value scores in `SchwartzValue` order (a value it gave none gets 0)."""
    if answer.scores is None:
        return None
    return [float(answer.scores.get(v, 0.0)) for v in SchwartzValue]


def start(ctx: RunContext) -> StageReport:
    """The stage's report, its signature saying what its annotations depend on (the
    value-check gate's verdicts depend on it too)."""
    annotators = ctx.settings.annotator_models()
    return start_report(
        ctx,
        STAGE,
        VERSION,
        *SAMPLING,
        extra=([ctx.llm.prompt_version("annotate", a) for a in annotators],),
    )


def annotate_request(
    ctx: RunContext,
    annotator: str,
    scenario_id: str,
    scenario: str,
    action: str,
    candidates: list[str],
) -> LLMRequest:
    """An annotation request; only the offline annotator reads the scenario's candidates (a
    model's request stays as it was)."""
    payload: dict[str, object] = {"action": action, "scenario_id": scenario_id}
    if annotator.startswith(OFFLINE_PREFIX):
        payload["candidates"] = candidates
    return ctx.llm.request(
        "annotate", annotator, annotate_messages(scenario, action, ctx.settings.pii), payload
    )


def run(ctx: RunContext) -> StageReport:
    s, store = ctx.settings, ctx.store
    annotators = s.annotator_models()
    report = start(ctx)
    prov = ctx.provenance(report)
    scenarios = {
        r["scenario_id"]: post_text(r["title"], r["text"])
        for r in store.query("SELECT scenario_id, title, text FROM scenarios")
    }
    actions = {a.action_id: a for a in store.load(Action, order="action_id")}
    candidates: dict[str, list[str]] = {}
    for a in actions.values():
        candidates.setdefault(a.scenario_id, []).append(a.text)
    candidates = {k: sorted(v) for k, v in candidates.items()}
    wanted: dict[tuple[str, str], str] = {}
    for action in actions.values():
        scenario = scenarios.get(action.scenario_id, "")
        for annotator in annotators:
            # Only the offline annotator reads the candidates; a model's key stays as it was.
            extra = candidates[action.scenario_id] if annotator.startswith(OFFLINE_PREFIX) else []
            wanted[action.action_id, annotator] = digest(
                action.text, action.value, scenario, annotator, *extra
            )
    todo = plan(wanted, store.stored("annotations"), report.signature)
    report.removed = store.delete_keys("annotations", todo.stale)
    store.delete_keys("annotations", todo.todo)
    report.inputs, report.skipped = len(wanted), len(todo.reuse)
    before = ctx.llm.snapshot()
    pending: list[tuple[Action, LLMRequest, str]] = []
    for action_id, annotator in todo.todo:
        action = actions[action_id]
        request = annotate_request(
            ctx,
            annotator,
            action.scenario_id,
            scenarios.get(action.scenario_id, ""),
            action.text,
            candidates[action.scenario_id],
        )
        pending.append((action, request, wanted[action_id, annotator]))
    ctx.llm.prepare([r for _, r, _ in pending])
    with ctx.progress.track("annotate", len(pending)) as advance:
        for first in range(0, len(pending), _CHUNK):  # concurrent requests, rows written per chunk
            chunk = pending[first : first + _CHUNK]
            rows: list[Annotation] = []
            inputs: list[str] = []
            answers = ctx.llm.ask_many(
                [(r, action.action_id, None) for action, r, _ in chunk], progress=advance
            )
            for (action, request, key_inputs), answer in zip(chunk, answers, strict=True):
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
                        request_id=request.request_id,
                        scores=score_list(answer),
                    )
                )
                inputs.append(key_inputs)
            report.outputs += store.put("annotations", rows, prov, inputs)
    stats = agreement(store.load(Annotation))
    (s.processed_dir / "agreement.json").write_text(json.dumps(stats, indent=2) + "\n")
    for name, a in stats["annotators"].items():
        report.notes.append(f"{name}: accuracy {a['accuracy']} over {a['answered']} actions")
    report.notes.append(
        f"Krippendorff alpha (with intended): {stats['krippendorff_alpha_with_intended']}"
    )
    report.notes += ctx.llm.notes(since=before)
    return report
