"""`build_dataset`: every pipeline stage as a Prefect task, in the order of `STAGES` (with the
gate's refill rounds, `pipeline.stages.run_all`).

Caching and resume are the store's job (each stage skips what is done), so Prefect's own
result caching is off: a task re-run must look at the store, not at a cached return value.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from pipeline import ingest
from pipeline.build import open_run
from pipeline.context import RunContext
from pipeline.settings import load_settings
from pipeline.stages import Stage, run_all
from schemas.run import StageReport


@flow(name="build_dataset")
def build_dataset(config: str | None = None, progress: bool = False) -> dict[str, Any]:
    """Build (or refresh) a ValAct release; returns the run summary. `progress` draws bars
    (for a run started from a terminal; a deployment's logs want none)."""
    settings = load_settings(Path(config) if config else None)

    def execute(stage: Stage, ctx: RunContext) -> StageReport:
        if stage.name == "ingest" and settings.source.dask:
            # Its files are tasks of their own, on Dask (a subflow): this stays in the flow.
            from flows.parallel_ingest import dask_reader

            return replace(stage, run=partial(ingest.run, read=dask_reader(settings))).execute(ctx)
        return as_task(stage, ctx)

    with open_run(settings, progress=progress) as (ctx, summary):
        run_all(ctx, summary.stages, execute)
    if summary.release_dir and (Path(summary.release_dir) / "report.html").is_file():
        _report_artifact(Path(summary.release_dir))
    return summary.model_dump(mode="json")


def as_task(stage: Stage, ctx: RunContext) -> StageReport:
    """A stage run as a Prefect task (uncached: the store decides what is done); an error is the
    report's one line, not a traceback."""
    stage_task = task(stage.execute, name=stage.name, cache_policy=NO_CACHE)  # type: ignore[call-overload]
    return stage_task(ctx)


def _report_artifact(release: Path) -> None:
    """The release's report as a Prefect artifact: its agreement table in the UI, and where
    the full page (with the plots) is on disk."""
    from prefect.artifacts import create_markdown_artifact

    manifest = json.loads((release / "manifest.json").read_text())
    agr = manifest.get("agreement") or {}
    lines = [
        f"# {manifest.get('name')} {manifest.get('version')}",
        "",
        f"Full report (plots included): `{(release / 'report.html').resolve()}`",
        "",
        "| annotator | actions | accuracy [95%] | Cohen's kappa [95%] |",
        "|---|---|---|---|",
    ]
    for name, a in agr.get("annotators", {}).items():
        lines.append(
            f"| `{name}` | {a['answered']} | {a['accuracy']} {a.get('accuracy_ci')} | "
            f"{a.get('cohen_kappa_vs_intended')} {a.get('cohen_kappa_vs_intended_ci')} |"
        )
    lines.append(
        f"\nKrippendorff's alpha (with intended): {agr.get('krippendorff_alpha_with_intended')} "
        f"{agr.get('krippendorff_alpha_with_intended_ci')}"
    )
    create_markdown_artifact(
        markdown="\n".join(lines), key="valact-report", description="ValAct release report"
    )
