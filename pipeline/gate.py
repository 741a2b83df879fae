"""Stage 8, the value-check gate: `actions` + `annotations` -> `gate_actions`,
`regenerations`, `gate_scenarios`.

An action is valid when at least k of the gate's N annotators (`gate` settings) name the value
it was written for. One that is not goes back to its generator, the re-ask naming the value it
was read as, and the new text is annotated again, up to `gate.max_attempts` times; one never
recovered is dropped, and its scenario with it (a scenario's questions need all 20
candidates). A dropped scenario stays recorded in `gate_scenarios` after sampling lets go of
it: sampling and the judge walk skip its post and take the next eligible one of its category,
and the build runs the stages from the judge to the gate again for the replacements
(`pipeline.stages.run_all`).

A regenerated action is read against its scenario's candidates as first written (its own text
replaced), so each verdict depends on its scenario alone and a rebuild equals a fresh build. A
verdict is reused while the scenario's actions and their annotations, the gate settings and
every upstream prompt and model are unchanged. A scenario whose re-ask or annotation failed gets
no verdict this run (asked again by the next), and is neither released nor replaced, unless the
request was given up.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from pydantic import BaseModel

from pipeline import annotate, generate
from pipeline.context import SAMPLING, RunContext, start_report
from pipeline.llm.prompts import regenerate_messages
from pipeline.llm.service import Check
from pipeline.reuse import digest, plan
from pipeline.settings import OFFLINE_PREFIX
from pipeline.text import clean, post_text
from schemas import (
    Action,
    ActionAnswer,
    Annotation,
    AnnotationAnswer,
    GateAction,
    GateScenario,
    LLMRequest,
    Regeneration,
    Scenario,
    SchwartzValue,
)
from schemas.run import StageReport

STAGE, VERSION = "gate", "1"


def start(ctx: RunContext) -> StageReport:
    """The stage's report. Its signature covers what every verdict depends on: the gate's
    settings, the annotators it counts, the re-ask prompt, and the generate and annotate
    stages' own signatures (a verdict on other actions or other readings is no verdict)."""
    s = ctx.settings
    k, n = s.gate.quorum(len(s.annotator_models()))
    return start_report(
        ctx,
        STAGE,
        VERSION,
        "gate.enforce",
        "gate.max_attempts",
        "generation.max_sentences",
        "generation.max_words",
        *SAMPLING,
        extra=(
            k,
            s.annotator_models()[:n],
            [ctx.llm.prompt_version("regenerate", g) for g in s.generator_models()],
            generate.CHECK_RULES,
            generate.start(ctx).signature,
            annotate.start(ctx).signature,
        ),
    )


def rejected_posts(ctx: RunContext) -> dict[str, str]:
    """post_id -> content_sha of the posts whose scenario the gate dropped under the current
    signature: sampling and the judge walk pass over them while the post is unchanged."""
    return {r["post_id"]: r["content_sha"] for r in _rejections(ctx, start(ctx).signature)}


def _rejections(ctx: RunContext, signature: str) -> list[dict[str, str]]:
    """The dropped scenarios' rows made under `signature` (those of other settings are void)."""
    return ctx.store.query(
        "SELECT scenario_id, post_id, content_sha FROM gate_scenarios "
        "WHERE NOT keep AND _signature = ?",
        [signature],
    )


def read_as(value: str, predicted: list[str | None]) -> str | None:
    """The value most of the disagreeing annotators named (the first named, on a tie)."""
    wrong = [p for p in predicted if p is not None and p != value]
    return Counter(wrong).most_common(1)[0][0] if wrong else None


@dataclass
class _Slot:
    """One action on its way through the gate."""

    action: Action
    text: str
    request_id: str
    predicted: list[str | None]
    attempts: int = 0
    pending: bool = False  # a request failed: no verdict this run
    gave_up: bool = False  # the re-ask was given up: dropped
    history: list[Regeneration] = field(default_factory=list)

    def agreeing(self) -> int:
        return sum(p == self.action.value for p in self.predicted)


def run(ctx: RunContext) -> StageReport:
    s, store = ctx.settings, ctx.store
    report = start(ctx)
    prov = ctx.provenance(report)
    k, n = s.gate.quorum(len(s.annotator_models()))
    annotators = s.annotator_models()[:n]
    expected = len(s.generator_models()) * len(SchwartzValue)
    scenarios = {sc.scenario_id: sc for sc in store.load(Scenario, order="scenario_id")}
    actions: dict[str, list[Action]] = defaultdict(list)
    for a in store.load(Action, order="action_id"):
        actions[a.scenario_id].append(a)
    readings: dict[tuple[str, str], str | None] = {
        (a.action_id, a.annotator): a.predicted_value
        for a in store.load(
            Annotation, where="annotator IN (SELECT unnest(?))", params=[annotators]
        )
    }
    shas = {
        r["post_id"]: r["content_sha"]
        for r in store.query(
            "SELECT post_id, content_sha FROM posts WHERE post_id IN (SELECT unnest(?))",
            [[sc.post_id for sc in scenarios.values()]],
        )
    }
    wanted: dict[str, str] = {}
    waiting = 0
    for sid, sc in scenarios.items():
        acts = actions.get(sid, [])
        unread = any((a.action_id, m) not in readings for a in acts for m in annotators)
        if len(acts) != expected or (unread and s.gate.enforce):
            waiting += 1  # generation or annotation not done yet: no verdict possible
            continue
        # Recording only, a missing reading counts as no agreement (and the release says that
        # annotations are missing, as it would without a gate).
        wanted[sid] = digest(
            shas.get(sc.post_id),
            [(a.action_id, a.value, a.text) for a in acts],
            [[readings.get((a.action_id, m)) for m in annotators] for a in acts],
        )
    stored = store.stored("gate_scenarios")
    todo = plan(wanted, stored, report.signature)
    kept_rejections = {r["scenario_id"] for r in _rejections(ctx, report.signature)}
    # A verdict no longer wanted goes, except a current rejection: it is what keeps sampling
    # off the post once its scenario has left `scenarios`.
    gone = (todo.stale - kept_rejections) | set(todo.todo)
    report.removed = len(todo.stale - kept_rejections)
    for table in ("gate_scenarios", "gate_actions", "regenerations"):
        store.delete(table, "scenario_id IN (SELECT unnest(?))", [sorted(gone)])
    report.inputs, report.skipped = len(wanted), len(todo.reuse)
    before = ctx.llm.snapshot()

    slots = {
        sid: [
            _Slot(a, a.text, a.request_id, [readings.get((a.action_id, m)) for m in annotators])
            for a in actions[sid]
        ]
        for sid in todo.todo
    }
    if s.gate.enforce:
        _regenerate(ctx, scenarios, slots, annotators, k)

    counts: Counter[str] = Counter()
    for sid in todo.todo:
        sc = scenarios[sid]
        if any(slot.pending for slot in slots[sid]):
            counts["scenarios_waiting"] += 1  # a request failed: decided by the next run
            continue
        rows = [_verdict(slot, annotators, k) for slot in slots[sid]]
        valid = sum(r.passed for r in rows)
        keep = valid == len(rows) or not s.gate.enforce
        failed = [r for r in rows if not r.passed]
        verdict = GateScenario(
            scenario_id=sid,
            post_id=sc.post_id,
            category=sc.category,
            content_sha=shas.get(sc.post_id) or "",
            keep=keep,
            reason=None if keep else "too_few_valid_actions",
            valid_actions=valid,
            detail=(
                f"{valid} of {len(rows)} actions valid"
                + "".join(f"; {r.generator} {r.value}: {r.detail}" for r in failed[:4])
                + ("; ..." if len(failed) > 4 else "")
                if failed
                else None
            ),
        )
        regenerated = [r for slot in slots[sid] for r in slot.history]
        store.put("gate_actions", rows, prov, wanted[sid])
        store.put("regenerations", regenerated, prov, wanted[sid])
        store.put("gate_scenarios", [verdict], prov, wanted[sid])
        report.processed += 1
        for r in rows:
            counts["actions_checked"] += 1
            if r.passed:
                counts["passed_as_written" if r.regenerations == 0 else "passed_regenerated"] += 1
            elif s.gate.enforce:
                report.drop(f"action_{r.reason}")
            else:
                counts["failed_recorded"] += 1
        counts["regeneration_requests"] += len(regenerated)
        if keep:
            report.outputs += 1
        else:
            report.drop("scenario_too_few_valid_actions")
    # Dropped scenarios sampling has not let go of yet: the build refills their places.
    report.counters = dict(counts) | {
        "to_replace": store.scalar(
            "SELECT count(*) FROM gate_scenarios WHERE NOT keep "
            "AND scenario_id IN (SELECT scenario_id FROM scenarios)"
        ),
        "scenarios_replaced_so_far": store.count("gate_scenarios", "NOT keep"),
    }
    if waiting:
        report.notes.append(f"{waiting} scenarios wait for their actions or annotations")
    if counts["scenarios_waiting"]:
        report.notes.append(
            f"{counts['scenarios_waiting']} scenarios without a verdict: a re-ask or its "
            "annotation failed (asked again on the next run)"
        )
    report.notes.append(
        f"value check: at least {k} of {n} annotator(s) ({', '.join(annotators)}) must name an "
        f"action's value; up to {s.gate.max_attempts} re-asks"
        + ("" if s.gate.enforce else " (gate.enforce = false: verdicts recorded only)")
    )
    report.notes += ctx.llm.notes(since=before)
    return report


def _verdict(slot: _Slot, annotators: list[str], k: int) -> GateAction:
    a = slot.action
    agreeing = slot.agreeing()
    passed = agreeing >= k and not slot.gave_up
    wrong = read_as(a.value, slot.predicted)
    if passed:
        reason = detail = None
    elif slot.gave_up:
        reason, detail = "no_valid_regeneration", "the re-ask got no valid action (given up)"
    else:
        reason = "read_as_other"
        detail = f"read as {wrong or 'no value'} ({agreeing} of {len(annotators)} named {a.value})"
        if slot.attempts:
            detail += f" after {slot.attempts} re-ask(s)"
    return GateAction(
        action_id=a.action_id,
        scenario_id=a.scenario_id,
        generator=a.generator,
        value=a.value,
        text=slot.text,
        request_id=slot.request_id,
        regenerations=slot.attempts,
        annotators=annotators,
        predicted_values=slot.predicted,
        agreeing=agreeing,
        passed=passed,
        reason=reason,
        detail=detail,
    )


def _regenerate(
    ctx: RunContext,
    scenarios: dict[str, Scenario],
    slots: dict[str, list[_Slot]],
    annotators: list[str],
    k: int,
) -> None:
    """Re-ask every action read as another value, all scenarios' at once per attempt, and read
    each new text again; stop at the first text that passes."""
    s = ctx.settings
    for attempt in range(1, s.gate.max_attempts + 1):
        failing = [
            (sid, slot)
            for sid, group in slots.items()
            if not any(x.pending for x in group)
            for slot in group
            if slot.agreeing() < k and not slot.gave_up
        ]
        if not failing:
            return
        requests = [_reask(ctx, scenarios[sid], slot, attempt, slots[sid]) for sid, slot in failing]
        answers = ctx.llm.ask_many(
            [
                (request, f"{slot.action.action_id}:regenerate:{attempt}", check)
                for (sid, slot), (request, check) in zip(failing, requests, strict=True)
            ]
        )
        texts: list[tuple[str, _Slot, LLMRequest, str]] = []
        for (sid, slot), (request, _), answer in zip(failing, requests, answers, strict=True):
            if answer is None:
                if _given_up(ctx, request.request_id):
                    slot.gave_up = True
                else:
                    slot.pending = True
                continue
            assert isinstance(answer, ActionAnswer)
            texts.append((sid, slot, request, clean(answer.action)))
        asks: list[tuple[LLMRequest, str, Check | None]] = [
            (
                annotate.annotate_request(
                    ctx,
                    m,
                    sid,
                    post_text(scenarios[sid].title, scenarios[sid].text),
                    text,
                    sorted(text if x is slot else x.action.text for x in slots[sid]),
                ),
                f"{slot.action.action_id}:{attempt}:{m}",
                None,
            )
            for sid, slot, _, text in texts
            for m in annotators
        ]
        ctx.llm.prepare([r for r, _, _ in asks])
        read = ctx.llm.ask_many(asks)
        for i, (_, slot, request, text) in enumerate(texts):
            got = read[i * len(annotators) : (i + 1) * len(annotators)]
            if any(g is None for g in got):
                slot.pending = True
                continue
            before = read_as(slot.action.value, slot.predicted)
            slot.attempts, slot.text, slot.request_id = attempt, text, request.request_id
            slot.predicted = [g.value.value for g in got if isinstance(g, AnnotationAnswer)]
            slot.history.append(
                Regeneration(
                    action_id=slot.action.action_id,
                    attempt=attempt,
                    scenario_id=slot.action.scenario_id,
                    value=slot.action.value,
                    generator=slot.action.generator,
                    read_as=before,
                    text=text,
                    request_id=request.request_id,
                    predicted_values=slot.predicted,
                    agreeing=slot.agreeing(),
                    passed=slot.agreeing() >= k,
                )
            )


def _reask(
    ctx: RunContext, sc: Scenario, slot: _Slot, attempt: int, group: list[_Slot]
) -> tuple[LLMRequest, Check]:
    """The re-ask for a slot, and the check its answer must pass: the limits, and for a model
    not naming its value nor repeating the text it replaces or another candidate."""
    s, a = ctx.settings, slot.action
    value = SchwartzValue(a.value)
    wrong = read_as(a.value, slot.predicted)
    messages = regenerate_messages(
        sc.title,
        sc.text,
        value,
        slot.text,
        SchwartzValue(wrong) if wrong else None,
        s.generation,
        s.pii,
    )
    request = ctx.llm.request(
        "regenerate",
        a.generator,
        messages,
        {
            "title": sc.title,
            "text": sc.text,
            "value": a.value,
            "previous": slot.text,
            "read_as": wrong,
            "attempt": attempt,
        },
    )
    model_written = not a.generator.startswith(OFFLINE_PREFIX)
    others = {
        x.action.value + " (" + x.action.generator + ")": x.text for x in group if x is not slot
    }
    replaced = [slot.text, a.text]

    def check(answer: BaseModel) -> str | None:
        assert isinstance(answer, ActionAnswer)
        text = clean(answer.action)
        problem = generate.action_problem(text, s.generation)
        if problem or not model_written:
            return problem
        if (term := generate.named_value(text, value)) is not None:
            return f'names its value ("{term}")'
        if any(generate.similarity(text, old) >= generate.NEAR_DUPLICATE for old in replaced):
            return "nearly the same as the action it replaces"
        twin = next(
            (
                k
                for k, t in others.items()
                if generate.similarity(text, t) >= generate.NEAR_DUPLICATE
            ),
            None,
        )
        return f"nearly the same as the action for {twin}" if twin else None

    return request, check


def _given_up(ctx: RunContext, request_id: str) -> bool:
    return bool(
        ctx.store.scalar(
            "SELECT any_value(given_up) FROM llm_failures WHERE request_id = ?", [request_id]
        )
    )


def gate_summary(ctx: RunContext, released: set[str]) -> dict[str, object]:
    """What the gate did for a release: its rule, how the released actions passed, and the
    scenarios it dropped (each replaced by the next eligible post of its category)."""
    s, store = ctx.settings, ctx.store
    k, n = s.gate.quorum(len(s.annotator_models()))
    rows = store.query(
        "SELECT value, regenerations, passed FROM gate_actions "
        "WHERE action_id IN (SELECT unnest(?))",
        [sorted(released)],
    )
    per_value: dict[str, dict[str, int]] = {}
    for r in rows:
        cell = per_value.setdefault(r["value"], {"actions": 0, "regenerated": 0})
        cell["actions"] += 1
        cell["regenerated"] += r["regenerations"] > 0
    dropped = store.query(
        "SELECT category, count(*) AS n FROM gate_scenarios WHERE NOT keep GROUP BY ALL ORDER BY 1"
    )
    return {
        "rule": f"at least {k} of {n} annotators name the action's value",
        "annotators": s.annotator_models()[:n],
        "enforced": s.gate.enforce,
        "max_attempts": s.gate.max_attempts,
        "actions": len(rows),
        "passed_as_written": sum(r["passed"] and not r["regenerations"] for r in rows),
        "passed_after_regeneration": sum(r["passed"] and r["regenerations"] > 0 for r in rows),
        "failed": sum(not r["passed"] for r in rows),  # only when the gate is not enforced
        "regenerated_by_value": {v: per_value[v] for v in sorted(per_value)},
        "scenarios_dropped": {r["category"]: r["n"] for r in dropped},
    }
