"""The pipeline's shape, in order. The CLI and the Prefect flow both walk this list."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from pipeline import (
    annotate,
    dedup,
    gate,
    generate,
    ingest,
    judge,
    prefilter,
    questions,
    release,
    sampling,
    scrape,
)
from pipeline.context import RunContext, StageFn
from pipeline.errors import PipelineError, describe
from schemas.run import StageReport


@dataclass(frozen=True)
class Stage:
    name: str
    run: StageFn
    reads: str
    writes: str

    def execute(self, ctx: RunContext) -> StageReport:
        """Run the stage and time it (the one place stage timings are taken). An expected
        failure (a `PipelineError`; an `OSError` such as a full disk or a read-only folder)
        becomes the report's one-line `error`, and the build stops after it."""
        start = time.perf_counter()
        before = ctx._llm.usage() if ctx._llm is not None else {}
        try:
            report = self.run(ctx)
        except (PipelineError, OSError, duckdb.IOException) as err:
            report = StageReport(stage=self.name, version="", signature="", error=describe(err))
        report.seconds = round(time.perf_counter() - start, 3)
        if ctx._llm is not None:  # what this stage sent to each model
            report.usage = usage_since(ctx._llm.usage(), before)
        return report


def usage_since(
    now: dict[str, dict[str, float]], before: dict[str, dict[str, float]]
) -> dict[str, dict[str, float]]:
    """Per-model counts added since `before`, models with nothing new left out."""
    out = {}
    for model, counts in now.items():
        diff = {
            k: round(v - before.get(model, {}).get(k, 0), 6)
            if k == "cost_usd"
            else v - before.get(model, {}).get(k, 0)
            for k, v in counts.items()
        }
        if any(diff.values()):
            out[model] = diff
    return out


STAGES: list[Stage] = [
    Stage("scrape", scrape.run, "Reddit listings (praw)", "posts, scrape_state, ingest_rejects"),
    Stage("ingest", ingest.run, "data/raw dump files", "posts, ingest_rejects, source_files"),
    Stage("prefilter", prefilter.run, "posts", "prefilter"),
    Stage("dedup", dedup.run, "posts + prefilter (every post)", "dedup, minhashes, minhash_bands"),
    Stage(
        "judge",
        judge.run,
        "posts + dedup + earlier releases (the candidates the quotas reach)",
        "near_dup, embeddings, judge_votes, judge_panel, llm_cache",
    ),
    Stage("sample", sampling.run, "judge_panel + near_dup", "scenarios"),
    Stage("generate", generate.run, "scenarios", "actions, llm_cache"),
    Stage("annotate", annotate.run, "actions", "annotations, llm_cache, agreement.json"),
    Stage(
        "gate",
        gate.run,
        "actions + annotations",
        "gate_actions, regenerations, gate_scenarios, llm_cache",
    ),
    Stage("questions", questions.run, "actions + gate_scenarios", "questions"),
    Stage(
        "release", release.run, "scenarios, actions, annotations, questions", "releases/<version>/"
    ),
]

BY_NAME = {s.name: s for s in STAGES}

# What runs again when the gate drops scenarios: the judge walks on past the dropped posts,
# sampling takes the next eligible ones, and their actions are written, read and checked.
REFILL = ("judge", "sample", "generate", "annotate", "gate")

Execute = Callable[[Stage, RunContext], StageReport]


def run_all(
    ctx: RunContext,
    reports: dict[str, StageReport],
    execute: Execute | None = None,
    until: str | None = None,
) -> None:
    """Run every stage in order (those before `until`, if given) into `reports`, stopping at a
    stage that reports an error.

    After the gate, while it has dropped scenarios that sampling still holds, the `REFILL`
    stages run again (at most `gate.max_rounds` times; a later build goes on where this one
    stopped), their reports kept as "<stage> (refill N)". `execute` lets the Prefect flow run
    each stage as a task."""
    run = execute or (lambda stage, c: stage.execute(c))
    for stage in STAGES:
        if stage.name == until:
            return
        report = reports[stage.name] = run(stage, ctx)
        if report.error:
            return
        if stage.name != "gate":
            continue
        for n in range(1, ctx.settings.gate.max_rounds + 1):
            if not report.counters.get("to_replace"):
                break
            for name in REFILL:
                report = reports[f"{name} (refill {n})"] = run(BY_NAME[name], ctx)
                if report.error:
                    return
        if report.counters.get("to_replace"):
            report.notes.append(
                f"{report.counters['to_replace']} dropped scenarios not yet replaced after "
                f"{ctx.settings.gate.max_rounds} refill round(s): the next build goes on"
            )
