"""`valact estimate`: the requests, tokens and cost of a build, before it runs.

The counts follow from the settings (categories x scenarios, the judge's oversampling, two
generators, the annotators), corrected by what the store already knows: the judges' observed
acceptance and tiebreak rates, the typical length of the posts ingested, and the answers
already cached for the current prompts (a rebuild asks only what is missing). Tokens are
estimated from the real prompts at 4 characters a token; answers are assumed to fill their
length limits, so the cost errs high.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pipeline.llm.limits import estimate_prompt_tokens
from pipeline.llm.prompts import (
    annotate_messages,
    generate_all_messages,
    generate_messages,
    judge_messages,
    regenerate_messages,
)
from pipeline.llm.service import LLMService
from pipeline.settings import Settings
from pipeline.store import Store
from schemas import SchwartzValue
from schemas.llm import Task

# Used until the store has judged posts: the study's panel kept about half of the posts it saw.
ASSUMED_ACCEPTANCE = 0.5
ASSUMED_TIEBREAKS = 0.2
ASSUMED_POST_CHARS = 1_500
JUDGE_ANSWER_TOKENS = 40
ANNOTATE_ANSWER_TOKENS = 10
TOKENS_PER_WORD = 1.4
# Share of actions the value-check gate re-asks before any was checked: the study's models
# recovered 79-97% of actions' values (per value), so about one in ten.
ASSUMED_REASKS = 0.1


@dataclass
class Line:
    stage: str
    model: str
    endpoint: str
    requests: int
    cached: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float

    @property
    def to_send(self) -> int:
        return max(0, self.requests - self.cached)


def estimate(settings: Settings, store: Store, llm: LLMService) -> tuple[list[Line], list[str]]:
    """One line per stage and model, and notes saying which figures were assumed."""
    s, notes = settings, []
    scenarios = len(s.categories) * s.sampling.per_category
    target = math.ceil(s.sampling.per_category * s.judge.oversample)
    panel = store.query(
        "SELECT count(*) AS n, count(*) FILTER (WHERE keep) AS kept, "
        "count(*) FILTER (WHERE tiebreak_used) AS ties FROM judge_panel"
    )[0]
    if panel["n"] >= 20:
        acceptance = max(panel["kept"] / panel["n"], 0.01)
        ties = panel["ties"] / panel["n"]
        notes.append(
            f"judge acceptance {acceptance:.0%} and tiebreaks {ties:.0%}, "
            f"from {panel['n']} posts judged"
        )
    else:
        acceptance, ties = ASSUMED_ACCEPTANCE, ASSUMED_TIEBREAKS
        notes.append(
            f"judge acceptance {acceptance:.0%} and tiebreaks {ties:.0%} assumed (no posts "
            "judged yet)"
        )
    chars = store.scalar(
        "SELECT avg(length(title) + length(selftext)) FROM posts JOIN prefilter "
        "USING (post_id) WHERE keep"
    )
    if chars:
        notes.append(f"posts average {chars:,.0f} characters (the prefiltered posts ingested)")
    else:
        chars = ASSUMED_POST_CHARS
        notes.append(f"posts assumed to average {chars:,} characters (none ingested yet)")
    text = "x" * int(chars)
    action = "y" * int(s.generation.max_words * 5)
    pool = store.scalar(
        "SELECT count(*) FROM dedup JOIN prefilter USING (post_id) WHERE dedup.keep AND "
        "prefilter.category IS NOT NULL"
    )
    judged = len(s.categories) * math.ceil(target / acceptance)
    if pool:
        judged = min(judged, int(pool))
    judges, tiebreaker = s.judge_models()
    per_action_out = int(s.generation.max_words * TOKENS_PER_WORD)
    plan: list[tuple[str, Task, str, int, int, int]] = []  # stage, task, model, n, in, out
    judge_in = estimate_prompt_tokens(judge_messages("t", text, s.pii))
    for model in judges:
        plan.append(("judge", "judge", model, judged, judge_in, JUDGE_ANSWER_TOKENS))
    plan.append(
        ("judge", "judge", tiebreaker, math.ceil(judged * ties), judge_in, JUDGE_ANSWER_TOKENS)
    )
    for model in s.generator_models():
        if s.generation.mode == "per_scenario":
            prompt = estimate_prompt_tokens(generate_all_messages("t", text, s.generation, s.pii))
            plan.append(("generate", "generate_all", model, scenarios, prompt, 10 * per_action_out))
        else:
            prompt = estimate_prompt_tokens(
                generate_messages("t", text, SchwartzValue.POWER, s.generation, s.pii)
            )
            plan.append(("generate", "generate", model, scenarios * 10, prompt, per_action_out))
    annotate_in = estimate_prompt_tokens(annotate_messages(text, action, s.pii))
    for model in s.annotator_models():
        plan.append(
            ("annotate", "annotate", model, scenarios * 20, annotate_in, ANNOTATE_ANSWER_TOKENS)
        )
    if s.gate.enforce and s.gate.max_attempts:
        checked = store.count("gate_actions")
        if checked >= 20:  # a scenario's worth
            reasks = store.count("regenerations", "attempt = 1") / checked
            notes.append(f"gate re-asks {reasks:.0%} of actions, from {checked} checked")
        else:
            reasks = ASSUMED_REASKS
            notes.append(f"gate re-asks {reasks:.0%} of actions assumed (none checked yet)")
        n = math.ceil(scenarios * 10 * reasks)  # first re-asks; later attempts are fewer
        reask_in = estimate_prompt_tokens(
            regenerate_messages("t", text, SchwartzValue.POWER, action, None, s.generation, s.pii)
        )
        for model in s.generator_models():
            plan.append(("gate", "regenerate", model, n, reask_in, per_action_out))
        _, used = s.gate.quorum(len(s.annotator_models()))
        for model in s.annotator_models()[:used]:
            plan.append(("gate", "annotate", model, 2 * n, annotate_in, ANNOTATE_ANSWER_TOKENS))
    lines = []
    taken: dict[tuple[str, str], int] = {}  # cached answers counted by an earlier line
    for stage, task, model, n, tok_in, tok_out in plan:
        cached = -taken.get((task, model), 0) + int(
            store.scalar(
                "SELECT count(*) FROM llm_cache WHERE task = ? AND model = ? "
                "AND prompt_version = ?",
                [task, model, llm.prompt_version(task, model)],
            )
            or 0
        )
        cached = max(0, min(cached, n))
        taken[task, model] = taken.get((task, model), 0) + cached
        send = n - cached
        endpoint = "offline" if llm.endpoint_of(model) is None else str(llm.endpoint_of(model))
        factor = 1.0
        if endpoint != "offline" and s.llm.limits(endpoint).batch:
            factor = s.llm.limits(endpoint).batch_price_factor
        lines.append(
            Line(
                stage,
                model,
                endpoint,
                n,
                cached,
                send * tok_in,
                send * tok_out,
                s.llm.cost(model, send * tok_in, send * tok_out) * factor,
            )
        )
    by_endpoint: dict[str, int] = {}
    for line in lines:
        if line.endpoint != "offline":
            by_endpoint[line.endpoint] = by_endpoint.get(line.endpoint, 0) + line.to_send
    for name, n in sorted(by_endpoint.items()):
        rpm = s.llm.limits(name).requests_per_minute
        if rpm and n:
            notes.append(
                f"endpoint {name}: {n:,} requests take at least {n / rpm:,.0f} min at "
                f"its limit of {rpm:,.0f} requests a minute"
            )
    return lines, notes
