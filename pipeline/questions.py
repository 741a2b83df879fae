"""Stage 9, question assembly: the 20 `actions` of each scenario the value-check gate kept ->
5 `questions` of 4 options.

Every candidate is used exactly once and no value appears twice within a question, so each
value appears exactly twice per scenario. The study drew with an unseeded retry loop; here the
shuffle is seeded per scenario (seed + scenario id), so a rebuild gives the same questions, and
rejection sampling keeps every valid arrangement equally likely (~1 in 5 draws is valid).
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict

from pipeline.context import RunContext, start_report
from pipeline.reuse import digest, plan
from schemas import Action, Question, SchwartzValue
from schemas.run import StageReport

STAGE, VERSION = "questions", "2"


class AssemblyError(ValueError):
    pass


def assemble(
    scenario_id: str, actions: list[Action], seed: int, size: int, max_attempts: int
) -> list[Question]:
    values = [a.value for a in actions]
    n_values = len(SchwartzValue)
    if len(actions) % size or sorted(set(values)) != sorted(v.value for v in SchwartzValue):
        raise AssemblyError(f"{len(actions)} actions over {len(set(values))} values")
    counts = {v: values.count(v) for v in set(values)}
    if len(set(counts.values())) != 1 or len(actions) != n_values * next(iter(counts.values())):
        raise AssemblyError("values are not equally represented")
    digest = hashlib.sha256(f"{seed}:{scenario_id}".encode()).digest()
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    pool = sorted(actions, key=lambda a: a.action_id)
    for _ in range(max_attempts):
        rng.shuffle(pool)
        groups = [pool[i : i + size] for i in range(0, len(pool), size)]
        if all(len({a.value for a in g}) == size for g in groups):
            return [
                Question(
                    question_id=f"{scenario_id}-q{k}",
                    scenario_id=scenario_id,
                    question_index=k,
                    action_ids=[a.action_id for a in g],
                    values=[a.value for a in g],
                )
                for k, g in enumerate(groups)
            ]
    raise AssemblyError(f"no valid arrangement in {max_attempts} draws")


def run(ctx: RunContext) -> StageReport:
    s, store = ctx.settings, ctx.store
    report = start_report(ctx, STAGE, VERSION, "questions", "seed")
    prov = ctx.provenance(report)
    actions: dict[str, list[Action]] = defaultdict(list)
    for a in store.load(Action):
        actions[a.scenario_id].append(a)
    expected = len(s.generator_models()) * len(SchwartzValue)
    verdicts = {
        r["scenario_id"]: r["keep"]
        for r in store.query("SELECT scenario_id, keep FROM gate_scenarios")
    }
    wanted: dict[str, str] = {}
    for sid in sorted(store.keys("scenarios")):
        if len(actions.get(sid, [])) != expected:
            report.drop("incomplete_actions")  # assembled once generation fills the gaps
            continue
        if sid not in verdicts:
            report.drop("no_gate_verdict")  # its value check waits for a failed request
            continue
        if not verdicts[sid]:
            report.drop("gate_dropped")  # replaced by the next eligible scenario
            continue
        wanted[sid] = digest(sorted((a.action_id, a.value) for a in actions[sid]))
    stored = {
        r["scenario_id"]: (r["sig"], r["inputs"])
        for r in store.query(
            "SELECT scenario_id, any_value(_signature) AS sig, any_value(_inputs) AS inputs "
            "FROM questions GROUP BY scenario_id"
        )
    }
    todo = plan(wanted, stored, report.signature)
    gone = sorted(todo.stale | set(todo.todo))
    store.delete("questions", "scenario_id IN (SELECT unnest(?))", [gone])
    report.removed = len(todo.stale)
    report.inputs, report.skipped = len(wanted), len(todo.reuse)
    for sid in todo.todo:
        try:
            qs = assemble(
                sid,
                actions[sid],
                s.seed,
                s.questions.options_per_question,
                s.questions.max_attempts,
            )
        except AssemblyError as err:
            report.drop("assembly_failed")
            report.notes.append(f"{sid}: {err}")
            continue
        report.outputs += store.put("questions", qs, prov, wanted[sid])
        report.processed += 1
    return report
