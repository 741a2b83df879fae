"""A build: open the store, run stages, and report (console table + run_summary.json)."""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from pipeline.context import RunContext
from pipeline.errors import describe
from pipeline.progress import Progress
from pipeline.settings import Settings, redact_url
from pipeline.stages import Stage, run_all
from pipeline.store import Store
from schemas.run import RunSummary

if TYPE_CHECKING:
    from pipeline.embeddings import Embedder

log = logging.getLogger(__name__)


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6]


def backend_banner(settings: Settings) -> str:
    if settings.offline:
        return (
            "No LLM configured: using the OFFLINE backend set (rule-based judges, TEMPLATE "
            "placeholder actions, MiniLM value annotator). Set VALACT_LLM__BASE_URL (and "
            "VALACT_LLM__API_KEY) to use a model."
        )
    shown = redact_url(settings.llm.base_url)
    return f"LLM endpoint: {shown}; models: {settings.judge_models()[0]}, " + (
        f"{settings.generator_models()}, {settings.annotator_models()}"
    )


@contextmanager
def open_run(
    settings: Settings, embedder: Embedder | None = None, progress: bool | None = False
) -> Iterator[tuple[RunContext, RunSummary]]:
    """A run context over the store, and its summary, written however the run ends.

    `embedder` lets a caller that builds many times (tests, benchmarks) load the model once;
    `progress` shows progress bars (None: when stderr is a terminal)."""
    settings.processed_dir.mkdir(parents=True, exist_ok=True)
    run_id = new_run_id()
    summary = RunSummary(
        run_id=run_id,
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        config_hash=settings.section_hash(),
        settings=settings.public_dict(),
        offline=settings.offline,
        placeholder_actions=settings.offline,
    )
    with Store.open(settings.db_path, settings.store) as store:
        summary.notes += store.notes
        ctx = RunContext(
            settings=settings,
            store=store,
            run_id=run_id,
            _embedder=embedder,
            progress=Progress(progress),
        )
        try:
            yield ctx, summary
        finally:
            summary.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
            summary.placeholder_actions = store.count("actions", "placeholder") > 0
            summary.cost_usd = round(ctx._llm.spend.spent_usd, 6) if ctx._llm else 0.0
            release = summary.stages.get("release")
            if release and (release.outputs or release.skipped):
                summary.release_dir = str(settings.releases_dir / settings.release.version)
            write_summary(settings, summary)


def write_summary(settings: Settings, summary: RunSummary) -> None:
    """Written atomically (a full disk leaves the previous summary, never an empty file); a
    failure to write it is logged, so it never hides the error that ended the run."""
    text = json.dumps(summary.model_dump(mode="json"), indent=2) + "\n"
    runs = settings.processed_dir / "runs"
    try:
        runs.mkdir(exist_ok=True)
        for path in (runs / f"{summary.run_id}.json", settings.processed_dir / "run_summary.json"):
            write_atomic(path, text)
    except OSError as err:
        log.error("run summary not written: %s", describe(err))


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def run_stages(
    settings: Settings,
    stages: list[Stage] | None = None,
    embedder: Embedder | None = None,
    progress: bool | None = False,
) -> RunSummary:
    """Run stages in order without an orchestrator, stopping at a stage that reports an
    error the user must fix."""
    with open_run(settings, embedder, progress) as (ctx, summary):
        if stages is None:
            run_all(ctx, summary.stages)
        else:
            for stage in stages:
                report = summary.stages[stage.name] = stage.execute(ctx)
                if report.error:
                    break
    return summary


def print_summary(summary: RunSummary, console: Console | None = None) -> None:
    console = console or Console(width=max(Console().width, 120))
    table = Table(title=f"ValAct run {summary.run_id}")
    for col in (
        "stage",
        "in",
        "processed",
        "reused",
        "removed",
        "out",
        "dropped (reason: n)",
        "s",
    ):
        table.add_column(col, justify="left" if col.startswith(("stage", "dropped")) else "right")
    for name, r in summary.stages.items():
        dropped = ", ".join(f"{k}: {v}" for k, v in sorted(r.dropped.items())) or "-"
        table.add_row(
            name,
            str(r.inputs),
            str(r.processed),
            str(r.skipped),
            str(r.removed),
            str(r.outputs),
            dropped,
            f"{r.seconds:.1f}",
        )
    console.print(table)
    for note in summary.notes:
        console.print(f"  [dim]store[/dim]: {note}", highlight=False)
    for name, r in summary.stages.items():
        for note in r.notes:
            console.print(f"  [dim]{name}[/dim]: {note}", highlight=False)
        for model, u in r.usage.items():
            tokens = u.get("prompt_tokens", 0) + u.get("completion_tokens", 0)
            used = (
                f", {u.get('prompt_tokens', 0):,.0f} prompt + "
                f"{u.get('completion_tokens', 0):,.0f} completion tokens, "
                f"${u.get('cost_usd', 0):.4f}"
                if tokens
                else ""  # an offline model: no tokens, no cost
            )
            console.print(
                f"  [dim]{name}[/dim]: {model}: {u.get('calls', 0):.0f} requests{used}",
                highlight=False,
            )
    spent = sum(u.get("cost_usd", 0) for r in summary.stages.values() for u in r.usage.values())
    if spent:
        console.print(f"  model requests this run: ${spent:.4f}", highlight=False)
