"""`rescrape`: the scheduled refresh. Scrape what is new, carry it through the stages (each
reuses what it already has, so the cost follows the new posts), and say what the new posts
added to the pool. Without `publish.target` it stops before `release`: versions are immutable,
so publishing the grown pool is a deliberate step (`valact release --bump minor`). With one, it
ends by releasing the next minor version when the content changed and publishing it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.build_dataset import as_task
from pipeline.build import open_run
from pipeline.errors import PipelineError
from pipeline.pool import added_to_pool
from pipeline.publish import release_and_publish
from pipeline.settings import load_settings
from pipeline.stages import run_all
from schemas.run import StageReport

UNTIL = "release"  # the stages a rescrape runs are those before this one


@flow(name="rescrape")
def rescrape(config: str | None = None) -> dict[str, Any]:
    """Scrape new posts and bring every stage up to date with them; returns the run summary,
    whose `pool` entry says what the new posts added."""
    settings = load_settings(Path(config) if config else None)
    with open_run(settings) as (ctx, summary):
        before = ctx.store.keys("posts")
        run_all(ctx, summary.stages, as_task, until=UNTIL)
        failed = any(r.error for r in summary.stages.values())
        if settings.publish.target and not failed:
            publish_task = task(release_and_publish, name="publish", cache_policy=NO_CACHE)  # type: ignore[call-overload]
            try:
                report, result = publish_task(ctx)
            except PipelineError as err:
                summary.stages["publish"] = StageReport(
                    stage="publish", version="", signature="", error=str(err)
                )
            else:
                if report is not None:
                    summary.stages["release"] = report
                summary.notes.append(result.summary())
        pool = added_to_pool(ctx.store, before)
        summary.notes.append(
            f"rescrape: {pool['new_posts']} new posts, "
            f"{pool.get('new_candidates', 0)} new candidates"
        )
    return {**summary.model_dump(mode="json"), "pool": pool}
