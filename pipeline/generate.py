"""Stage 6, action generation: `scenarios` -> `actions`, one per (scenario, generator, value).

Two generators x ten Schwartz values = 20 candidate actions per scenario. Each answer must be
the action only, at most N sentences; a longer or empty one is sent back for another try.
"""

from __future__ import annotations

import re

from pipeline.context import RunContext, start_report
from pipeline.llm.prompts import PROMPT_VERSION, generate_messages
from pipeline.settings import OFFLINE_PREFIX, GenerationSettings
from pipeline.text import clean, words
from schemas import Action, ActionAnswer, Scenario, SchwartzValue
from schemas.run import StageReport

STAGE, VERSION = "generate", f"1+{PROMPT_VERSION}"
_SENTENCE_END = re.compile(r"[.!?…]+(?=\s|$)")


def action_id(scenario_id: str, generator: str, value: SchwartzValue) -> str:
    return f"{scenario_id}:{generator}:{value.value}"


def sentence_count(text: str) -> int:
    return max(1, len(_SENTENCE_END.findall(text.strip())))


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
    report = start_report(ctx, STAGE, VERSION, "generation", "llm", "seed")
    prov = ctx.provenance(STAGE, VERSION, report.config_hash)
    generators = s.generator_models()
    done = store.keys("actions")
    before = ctx.llm.snapshot()
    check = check_action(s.generation)
    for scenario in store.load(Scenario, order="scenario_id"):
        rows: list[Action] = []
        for generator in generators:
            for value in SchwartzValue:
                aid = action_id(scenario.scenario_id, generator, value)
                report.inputs += 1
                if aid in done:
                    report.skipped += 1
                    continue
                request = ctx.llm.request(
                    "generate",
                    generator,
                    generate_messages(
                        scenario.title, scenario.text, value, s.generation.max_sentences
                    ),
                    {"title": scenario.title, "text": scenario.text, "value": value.value},
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
                        scenario_id=scenario.scenario_id,
                        generator=generator,
                        value=value.value,
                        text=clean(answer.action),
                        placeholder=generator.startswith(OFFLINE_PREFIX),
                        request_id=request.request_id,
                    )
                )
        report.outputs += store.insert("actions", rows, prov)
    placeholders = store.count("actions", "placeholder")
    if placeholders:
        report.notes.append(
            f"{placeholders} actions are offline TEMPLATE placeholders, not model-written"
        )
    report.notes += ctx.llm.notes(since=before)
    return report
