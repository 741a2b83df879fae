"""Dump files read in parallel on Dask: one Prefect task per file (`read_to_shard`, which needs
no store) on the `prefect-dask` task runner, and the one DuckDB writer loading each shard.

`source.dask = "local"` starts a `LocalCluster` of `source.workers` processes; an address
(`tcp://scheduler:8786`) uses an existing cluster, whose workers must see the raw files and the
processed folder (the shards are written there) at the same paths. Workers get the settings
without credentials: reading a file needs none.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from pipeline.ingest import ShardInfo, ShardReader, ToRead, read_to_shard
from pipeline.settings import LLMSettings, RedditSettings, Settings


def without_secrets(settings: Settings) -> Settings:
    return settings.model_copy(update={"llm": LLMSettings(), "reddit": RedditSettings()})


@task(name="read-file", cache_policy=NO_CACHE)
def read_file(item: ToRead, settings: Settings, out_dir: str) -> ShardInfo:
    return read_to_shard(
        item.path, item.name, settings, Path(out_dir), table=item.table, sha256=item.sha256
    )


def task_runner(settings: Settings) -> Any:
    from prefect_dask import DaskTaskRunner

    address = settings.source.dask
    if address == "local":
        workers = settings.source.workers
        return DaskTaskRunner(
            cluster_kwargs={
                "n_workers": workers,
                "threads_per_worker": 1,
                "processes": True,
                "dashboard_address": None,
            }
        )
    return DaskTaskRunner(address=address)


def dask_reader(settings: Settings) -> ShardReader:
    """A `pipeline.ingest.run` reader that fans the files out as Prefect tasks on Dask."""
    safe = without_secrets(settings)

    def read(todo: list[ToRead], out_dir: Path) -> Iterable[ShardInfo]:
        @flow(name="read_dumps", task_runner=task_runner(settings))
        def read_dumps() -> list[ShardInfo]:
            futures = [read_file.submit(item, safe, str(out_dir)) for item in todo]
            return [f.result() for f in futures]

        return read_dumps()

    return read
