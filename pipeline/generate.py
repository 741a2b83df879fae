"""Stage 6, action generation: `scenarios` -> `actions`, one per (scenario, generator, value).

Two generators x ten Schwartz values = 20 candidate actions per scenario. With
`generation.mode = "per_scenario"` (the study's way, the default) each generator gets one
request per scenario for all ten actions, a JSON object keyed by value name; with "per_value"
one request per action. Each action must be the action only, within the sentence and word
limits (stated in the prompt and checked). In a per-scenario answer a model-written action
must also not name its value, nor nearly repeat another action of the answer; the rejected
values (only those) are sent back in one follow-up request that quotes each problem.
An action is reused while its scenario, its generator, the mode, the prompt and the sampling
settings are unchanged; actions of generators no longer configured (the offline templates
after switching to a model) are removed.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterator

from pydantic import BaseModel

from pipeline.context import SAMPLING, RunContext, start_report
from pipeline.llm.prompts import generate_again_message, generate_all_messages, generate_messages
from pipeline.llm.service import Check
from pipeline.progress import Advance
from pipeline.reuse import digest, plan
from pipeline.settings import OFFLINE_PREFIX, GenerationSettings
from pipeline.text import clean, words
from schemas import Action, ActionAnswer, LLMRequest, Scenario, SchwartzValue
from schemas.llm import Task, action_texts
from schemas.run import StageReport
from schemas.values import VALUE_NAME_TERMS

log = logging.getLogger(__name__)

STAGE, VERSION = "generate", "2"
_SENTENCE_END = re.compile(r"[.!?…]+(?=\s|$)")
# A full stop that ends no sentence: "e.g.", "Mr.", "U.S.", a lone initial, a number's "No.".
_ABBREVIATION = re.compile(
    r"\b(?:e\.g|i\.e|etc|vs|approx|mr|mrs|ms|dr|prof|sr|jr|st|no|u\.s|[a-z])\.(?=\s)",
    re.IGNORECASE,
)
# Two actions of one answer whose word sets overlap this much (Jaccard) say the same thing: the
# later one cannot stand for a different value in a question, so it is sent back.
NEAR_DUPLICATE = 0.8
_NAMES = {
    v: re.compile(
        r"\b(?:" + "|".join(r"[-\s]?".join(map(re.escape, t.split("-"))) for t in terms) + r")\b",
        re.IGNORECASE,
    )
    for v, terms in VALUE_NAME_TERMS.items()
}
# What decides which per-scenario actions are sent back, beyond the prompt: part of the stage
# signature and of each follow-up request (a cached follow-up was accepted under these rules).
CHECK_RULES = digest({v.value: t for v, t in VALUE_NAME_TERMS.items()}, NEAR_DUPLICATE)


def action_id(scenario_id: str, generator: str, value: SchwartzValue) -> str:
    return f"{scenario_id}:{generator}:{value.value}"


def sentence_count(text: str) -> int:
    return max(1, len(_SENTENCE_END.findall(_ABBREVIATION.sub("", text.strip()))))


def action_problem(text: str, rules: GenerationSettings) -> str | None:
    """Why an action breaks the limits of the settings, or None."""
    text = clean(text)
    if not text:
        return "empty action"
    if sentence_count(text) > rules.max_sentences:
        return f"more than {rules.max_sentences} sentences"
    if len(words(text)) > rules.max_words:
        return f"more than {rules.max_words} words"
    return None


def check_action(rules: GenerationSettings):
    def check(answer: ActionAnswer) -> str | None:  # type: ignore[override]
        return action_problem(answer.action, rules)

    return check


def named_value(text: str, value: SchwartzValue) -> str | None:
    """The word of `text` that names `value` (its name or a label derived from it), if any."""
    found = _NAMES[value].search(text)
    return found.group(0).lower() if found else None


def similarity(a: str, b: str) -> float:
    """Jaccard overlap of the two texts' word sets (numbers count as words)."""
    ta, tb = set(re.findall(r"\w+", a.lower())), set(re.findall(r"\w+", b.lower()))
    return len(ta & tb) / len(ta | tb) if ta | tb else 1.0


def answer_problems(
    texts: dict[SchwartzValue, str],
    rules: GenerationSettings,
    model_written: bool,
    kept: dict[SchwartzValue, str] | None = None,
) -> dict[SchwartzValue, str]:
    """The problem of each rejected action of a per-scenario answer (in value order).

    Limits apply to every action; a model-written one must also not name its value, nor be a
    near-duplicate of an action accepted before it (`kept`: those of an earlier answer). The
    offline templates are fixed text, some quoting the post's title, so they get the limits
    only. Problems are fixed phrases (never model text): they go into the follow-up prompt.
    """
    accepted = dict(kept or {})
    problems: dict[SchwartzValue, str] = {}
    for value in SchwartzValue:
        if value not in texts:
            continue
        text = clean(texts[value])
        problem = "missing or empty" if not text else action_problem(text, rules)
        if problem is None and model_written:
            term = named_value(text, value)
            twin = next(
                (v for v, t in accepted.items() if similarity(text, t) >= NEAR_DUPLICATE), None
            )
            if term is not None:
                problem = f'names its value ("{term}")'
            elif twin is not None:
                problem = f"nearly the same as the action for {twin.value}"
        if problem is None:
            accepted[value] = text
        else:
            problems[value] = problem
    return problems


def _kind(problem: str) -> str:
    if problem.startswith("names its value"):
        return "names its value"
    if problem.startswith("nearly the same"):
        return "near-duplicate"
    if problem.startswith("more than"):
        return "over the limits"
    return "missing or empty"


def _describe(problems: dict[SchwartzValue, str]) -> str | None:
    return "; ".join(f"{v.value}: {p}" for v, p in problems.items()) or None


Made = Iterator[tuple[str, str | None, str]]  # action id, text (None: failed), request id
_CHUNK = 256  # requests asked concurrently before their rows are written


def _per_value(ctx: RunContext, todo: list[tuple[str, Scenario, str, SchwartzValue]]) -> Made:
    check = check_action(ctx.settings.generation)
    with ctx.progress.track("generate", len(todo)) as advance:
        yield from _per_value_chunks(ctx, todo, check, advance)


def _per_value_chunks(
    ctx: RunContext,
    todo: list[tuple[str, Scenario, str, SchwartzValue]],
    check: Check,
    advance: Advance,
) -> Made:
    for first in range(0, len(todo), _CHUNK):  # asked concurrently, a chunk at a time
        chunk = todo[first : first + _CHUNK]
        requests = [
            ctx.llm.request(
                "generate",
                generator,
                generate_messages(
                    sc.title, sc.text, value, ctx.settings.generation, ctx.settings.pii
                ),
                {"title": sc.title, "text": sc.text, "value": value.value},
            )
            for _, sc, generator, value in chunk
        ]
        answers = ctx.llm.ask_many(
            [(r, aid, check) for r, (aid, *_) in zip(requests, chunk, strict=True)],  # type: ignore[misc]
            progress=advance,
        )
        for (aid, *_), request, answer in zip(chunk, requests, answers, strict=True):
            assert answer is None or isinstance(answer, ActionAnswer)
            yield aid, None if answer is None else clean(answer.action), request.request_id


def _per_scenario(
    ctx: RunContext, todo: list[tuple[str, Scenario, str, SchwartzValue]], sent_back: Counter[str]
) -> Made:
    groups: dict[tuple[str, str], list[tuple[str, Scenario, SchwartzValue]]] = {}
    for aid, sc, generator, value in todo:
        groups.setdefault((sc.scenario_id, generator), []).append((aid, sc, value))
    keys = list(groups)
    with ctx.progress.track("generate", len(keys)) as advance:
        for first in range(0, len(keys), _CHUNK):  # first requests concurrently, into the cache
            ctx.llm.ask_many(
                [
                    (_first_request(ctx, groups[key][0][1], key[1]), f"{key[0]}:{key[1]}", None)
                    for key in keys[first : first + _CHUNK]
                ],
                progress=advance,
            )
    for (_, generator), group in groups.items():
        made = scenario_actions(ctx, group[0][1], generator, sent_back)
        for aid, _, value in group:
            text, request_id = made.get(value, (None, ""))
            yield aid, text, request_id


def _actions_request(
    ctx: RunContext,
    generator: str,
    messages: list[dict[str, str]],
    sc: Scenario,
    values: list[SchwartzValue],
    **payload: str,
) -> LLMRequest:
    """A "generate_all" request for `values`; its token budget is `llm.max_tokens` per action
    asked, the budget one action gets in per-value mode."""
    request = ctx.llm.request(
        "generate_all",
        generator,
        messages,
        {"title": sc.title, "text": sc.text, "values": [v.value for v in values], **payload},
    )
    return request.model_copy(update={"max_tokens": ctx.settings.llm.max_tokens * len(values)})


def _first_request(ctx: RunContext, sc: Scenario, generator: str) -> LLMRequest:
    """The request for all ten actions of a scenario (prefetched concurrently, then read)."""
    messages = generate_all_messages(sc.title, sc.text, ctx.settings.generation, ctx.settings.pii)
    return _actions_request(ctx, generator, messages, sc, list(SchwartzValue))


def scenario_actions(
    ctx: RunContext, sc: Scenario, generator: str, sent_back: Counter[str]
) -> dict[SchwartzValue, tuple[str, str]]:
    """value -> (action, id of the request that wrote it), for the values that passed.

    One request for all ten; if some are rejected, one follow-up (the conversation so far
    plus the problems) asks for those only, and is itself retried by the service (up to
    `llm.invalid_answer_retries` correction turns) until all it asked for pass. Its failure
    is recorded like any request's (`llm_failures`, retried by a later run). Both requests
    are cached, and the follow-up is rebuilt from the cached first answer, so a re-run asks
    nothing.
    """
    rules = ctx.settings.generation
    model_written = not generator.startswith(OFFLINE_PREFIX)
    first = _first_request(ctx, sc, generator)
    messages = first.messages
    answer = ctx.llm.ask(first, item_key=f"{sc.scenario_id}:{generator}")
    if answer is None:
        return {}
    texts = action_texts(answer)
    problems = answer_problems(texts, rules, model_written)
    made = {v: (clean(t), first.request_id) for v, t in texts.items() if v not in problems}
    if not problems:
        return made
    sent_back.update(_kind(p) for p in problems.values())
    log.info("%s %s: sending back %s", sc.scenario_id, generator, _describe(problems))
    conversation = [
        *messages,
        {"role": "assistant", "content": answer.model_dump_json()},
        generate_again_message(problems, rules),
    ]
    follow_up = _actions_request(
        ctx, generator, conversation, sc, list(problems), rules=CHECK_RULES
    )
    kept = {v: text for v, (text, _) in made.items()}

    def check(again: BaseModel) -> str | None:
        return _describe(answer_problems(action_texts(again), rules, model_written, kept))

    item_key = f"{sc.scenario_id}:{generator}:{','.join(v.value for v in problems)}"
    again = ctx.llm.ask(follow_up, item_key=item_key, check=check)
    if again is not None:
        made.update((v, (clean(t), follow_up.request_id)) for v, t in action_texts(again).items())
    return made


def start(ctx: RunContext) -> StageReport:
    """The stage's report, its signature saying what its actions depend on (the value-check
    gate's verdicts depend on it too)."""
    per_scenario = ctx.settings.generation.mode == "per_scenario"
    task: Task = "generate_all" if per_scenario else "generate"
    return start_report(
        ctx,
        STAGE,
        VERSION,
        "generation.max_sentences",
        "generation.max_words",
        "generation.mode",
        *SAMPLING,
        extra=(
            [ctx.llm.prompt_version(task, g) for g in ctx.settings.generator_models()],
            CHECK_RULES if per_scenario else None,
        ),
    )


def run(ctx: RunContext) -> StageReport:
    s, store = ctx.settings, ctx.store
    generators = s.generator_models()
    per_scenario = s.generation.mode == "per_scenario"
    report = start(ctx)
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
    work = [(aid, *items[aid]) for aid in todo.todo]
    sent_back: Counter[str] = Counter()
    made = _per_scenario(ctx, work, sent_back) if per_scenario else _per_value(ctx, work)
    rows: list[Action] = []
    for aid, text, request_id in made:
        sc, generator, value = items[aid]
        report.processed += 1
        if text is None:
            report.drop("generation_failed")
            continue
        rows.append(
            Action(
                action_id=aid,
                scenario_id=sc.scenario_id,
                generator=generator,
                value=value.value,
                text=text,
                placeholder=generator.startswith(OFFLINE_PREFIX),
                request_id=request_id,
            )
        )
        if len(rows) >= 200:  # written as it goes: a killed run keeps what it made
            report.outputs += store.put("actions", rows, prov, [wanted[r.action_id] for r in rows])
            rows = []
    report.outputs += store.put("actions", rows, prov, [wanted[r.action_id] for r in rows])
    if sent_back:
        kinds = ", ".join(f"{k}: {n}" for k, n in sorted(sent_back.items()))
        report.notes.append(f"{sum(sent_back.values())} actions sent back ({kinds})")
    placeholders = store.count("actions", "placeholder")
    if placeholders:
        report.notes.append(
            f"{placeholders} actions are offline TEMPLATE placeholders, not model-written"
        )
    report.notes += ctx.llm.notes(since=before)
    return report
