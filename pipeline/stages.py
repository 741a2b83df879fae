"""The pipeline's shape, in order. The CLI and the Prefect flow both walk this list."""

from __future__ import annotations

import time
from dataclasses import dataclass

import duckdb

from pipeline import (
    annotate,
    dedup,
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
    Stage("dedup", dedup.run, "posts + prefilter (every post)", "dedup, minhashes"),
    Stage(
        "judge",
        judge.run,
        "posts + dedup + earlier releases (the candidates the quotas reach)",
        "near_dup, embeddings, judge_votes, judge_panel, llm_cache",
    ),
    Stage("sample", sampling.run, "judge_panel + near_dup", "scenarios"),
    Stage("generate", generate.run, "scenarios", "actions, llm_cache"),
    Stage("annotate", annotate.run, "actions", "annotations, llm_cache, agreement.json"),
    Stage("questions", questions.run, "actions", "questions"),
    Stage(
        "release", release.run, "scenarios, actions, annotations, questions", "releases/<version>/"
    ),
]

BY_NAME = {s.name: s for s in STAGES}
