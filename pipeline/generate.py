"""Stage 6, action generation: `scenarios` -> `actions`, one per (scenario, generator, value).

Two generators x ten Schwartz values = 20 candidate actions per scenario. Each answer must be
the action only, within the sentence and word limits (stated in the prompt and checked); a
longer or empty one is sent back for another try. An action is reused while its scenario, its
generator, the prompt and the sampling settings are unchanged; actions of generators no longer
configured (the offline templates after switching to a model) are removed.
"""

from __future__ import annotations

import re

from pipeline.context import SAMPLING, RunContext, start_report
from pipeline.llm.prompts import generate_messages
from pipeline.reuse import digest, plan
from pipeline.settings import OFFLINE_PREFIX, GenerationSettings
from pipeline.text import clean, words
from schemas import Action, ActionAnswer, Scenario, SchwartzValue
from schemas.run import StageReport

STAGE, VERSION = "generate", "2"
_SENTENCE_END = re.compile(r"[.!?…]+(?=\s|$)")
# A full stop that ends no sentence: "e.g.", "Mr.", "U.S.", a lone initial, a number's "No.".
_ABBREVIATION = re.compile(
    r"\b(?:e\.g|i\.e|etc|vs|approx|mr|mrs|ms|dr|prof|sr|jr|st|no|u\.s|[a-z])\.(?=\s)",
    re.IGNORECASE,
)


def action_id(scenario_id: str, generator: str, value: SchwartzValue) -> str:
    return f"{scenario_id}:{generator}:{value.value}"


def sentence_count(text: str) -> int:
    return max(1, len(_SENTENCE_END.findall(_ABBREVIATION.sub("", text.strip()))))


def check_action(rules: GenerationSettings):
    def check(answer: ActionAnswer) -> str | None:  # type: ignore[override]
        text = clean(answer.action)
        if not text:
            return "empty action"
        if sentence_count(text) > rules.max_sentences:
            return f"more than {rules.max_sentences} sentences"
        if len(words(text)) > rules.max_words:
            return f"more than {rules.max_words} words"
        return None

    return check


def run(ctx: RunContext) -> StageReport:
    s, store = ctx.settings, ctx.store
    generators = s.generator_models()
    report = start_report(
        ctx,
        STAGE,
        VERSION,
        "generation.max_sentences",
        "generation.max_words",
        *SAMPLING,
        extra=([ctx.llm.prompt_version("generate", g) for g in generators],),
    )
    prov = ctx.provenance(report)
    scenarios = {sc.scenario_id: sc for sc in store.load(Scenario, order="scenario_id")}
    items: dict[str, tuple[Scenario, str, SchwartzValue]] = {}
    wanted: dict[str, str] = {}
    for sc in scenarios.values():
        for generator in generators:
            for value in SchwartzValue:
                aid = action_id(sc.scenario_id, generator, value)
                items[aid] = (sc, generator, value)
                wanted[aid] = digest(sc.title, sc.text, generator, value.value)
    todo = plan(wanted, store.stored("actions"), report.signature)
    report.removed = store.delete_keys("actions", todo.stale)
    store.delete_keys("actions", todo.todo)  # an outdated row must not outlive a failed retry
    report.inputs, report.skipped = len(wanted), len(todo.reuse)
    before = ctx.llm.snapshot()
    check = check_action(s.generation)
    rows: list[Action] = []
    for aid in todo.todo:
        sc, generator, value = items[aid]
        request = ctx.llm.request(
            "generate",
            generator,
            generate_messages(sc.title, sc.text, value, s.generation),
            {"title": sc.title, "text": sc.text, "value": value.value},
        )
        answer = ctx.llm.ask(request, item_key=aid, check=check)  # type: ignore[arg-type]
        report.processed += 1
        if answer is None:
            report.drop("generation_failed")
            continue
        assert isinstance(answer, ActionAnswer)
        rows.append(
            Action(
                action_id=aid,
                scenario_id=sc.scenario_id,
                generator=generator,
                value=value.value,
                text=clean(answer.action),
                placeholder=generator.startswith(OFFLINE_PREFIX),
                request_id=request.request_id,
            )
        )
        if len(rows) >= 200:  # written as it goes: a killed run keeps what it made
            report.outputs += store.put("actions", rows, prov, [wanted[r.action_id] for r in rows])
            rows = []
    report.outputs += store.put("actions", rows, prov, [wanted[r.action_id] for r in rows])
    placeholders = store.count("actions", "placeholder")
    if placeholders:
        report.notes.append(
            f"{placeholders} actions are offline TEMPLATE placeholders, not model-written"
        )
    report.notes += ctx.llm.notes(since=before)
    return report
