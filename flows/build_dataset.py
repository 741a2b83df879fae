"""`build_dataset`: every pipeline stage as a Prefect task, in the order of `STAGES`.

Caching and resume are the store's job (each stage skips what is done), so Prefect's own
result caching is off: a task re-run must look at the store, not at a cached return value.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from pipeline import ingest
from pipeline.build import open_run
from pipeline.settings import load_settings
from pipeline.stages import STAGES


@flow(name="build_dataset")
def build_dataset(config: str | None = None, progress: bool = False) -> dict[str, Any]:
    """Build (or refresh) a ValAct release; returns the run summary. `progress` draws bars
    (for a run started from a terminal; a deployment's logs want none)."""
    settings = load_settings(Path(config) if config else None)
    with open_run(settings, progress=progress) as (ctx, summary):
        for stage in STAGES:
            if stage.name == "ingest" and settings.source.dask:
                # Its files are tasks of their own, on Dask (a subflow): this stays in the flow.
                from flows.parallel_ingest import dask_reader

                parallel = replace(stage, run=partial(ingest.run, read=dask_reader(settings)))
                report = summary.stages[stage.name] = parallel.execute(ctx)
                if report.error:
                    break
                continue
            stage_task = task(stage.execute, name=stage.name, cache_policy=NO_CACHE)  # type: ignore[call-overload]
            report = summary.stages[stage.name] = stage_task(ctx)
            if report.error:  # a problem the user must fix: said in one line, not a traceback
                break
    return summary.model_dump(mode="json")
