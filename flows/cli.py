"""`valact`: build the whole release (Prefect flow) or run one stage (plain Python).

The command line sits above both `flows` and `pipeline`, so it lives here, beside the flows it
launches; `pipeline` never imports it. Every expected failure ends as one line and exit code 2
(`--debug` shows the traceback instead).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import duckdb
import typer
from rich.console import Console

from pipeline.build import backend_banner, print_summary, run_stages
from pipeline.errors import PipelineError, describe, is_interrupt
from pipeline.lock import run_lock
from pipeline.progress import Progress
from pipeline.settings import Settings, load_settings
from pipeline.stages import BY_NAME, STAGES
from pipeline.store import Store, StoreSchemaError
from schemas.run import RunSummary

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help=__doc__, pretty_exceptions_enable=False
)
console = Console(width=max(Console().width, 120))  # room for the summary table
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="TOML settings (default: $VALACT_CONFIG or ./valact.toml)"),
]
ProgressOpt = Annotated[
    bool | None,
    typer.Option(
        "--progress/--no-progress",
        help="Progress bars with rate and ETA (default: when stderr is a terminal)",
        show_default=False,
    ),
]


def _fail(kind: str, message: str) -> NoReturn:
    console.print(f"[red]{kind}:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _settings(config: Path | None) -> Settings:
    """Settings, and a store that opens: both fail here with one clear line, not a traceback."""
    try:
        settings = load_settings(config)
    except (OSError, ValueError) as err:
        _fail("settings error", str(err) if isinstance(err, ValueError) else describe(err))
    try:
        with Store.open(settings.db_path, settings.store):
            pass
    except StoreSchemaError as err:
        _fail("store error", str(err))
    except duckdb.Error as err:
        _fail(
            "store error",
            f"{settings.db_path} cannot be opened ({describe(err)}): if it is damaged, move it "
            "aside and run again (model answers are in its llm_cache table)",
        )
    except OSError as err:
        _fail("store error", describe(err))
    return settings


def _quiet_libraries() -> None:
    """Keep the console to what a user acts on: no progress bars or library chatter."""
    import os

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    # HTTP clients log full request URLs at INFO, and a gateway's key may sit in the query.
    for name in ("httpx", "httpx2", "httpcore", "httpcore2", "openai", "distributed", "prawcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    log = logging.getLogger("pipeline")
    if not log.handlers:  # leave the root logger to Prefect's own configuration
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.WARNING)
        log.propagate = False


def _finish(summary: RunSummary, settings: Settings) -> None:
    print_summary(summary, console)
    if summary.error:
        _fail("error", summary.error)
    console.print(f"run summary: {settings.processed_dir / 'run_summary.json'}")
    if summary.release_dir:
        console.print(f"release: {summary.release_dir}")
    if summary.placeholder_actions:
        console.print(
            "[yellow]Note:[/yellow] actions are offline TEMPLATE placeholders, not model-written."
        )
    console.print(backend_banner(settings), highlight=False)


@app.command()
def build(
    config: ConfigOpt = None,
    prefect: Annotated[bool, typer.Option(help="Run as the Prefect flow")] = True,
    progress: ProgressOpt = None,
) -> None:
    """Build or refresh the release: every stage, skipping what is already done."""
    _quiet_libraries()
    settings = _settings(config)
    console.print(backend_banner(settings), highlight=False)
    with run_lock(settings.processed_dir):  # before Prefect starts: one run per folder
        if prefect:
            from flows.prefect_env import configure

            configure(settings.processed_dir)
            from flows.build_dataset import build_dataset

            summary = RunSummary.model_validate(
                build_dataset(
                    config=str(config) if config else None,
                    progress=Progress(progress).enabled,
                )
            )
        else:
            summary = run_stages(settings, progress=progress)
    _finish(summary, settings)


def _stage_command(name: str) -> None:
    stage = BY_NAME[name]

    def command(config: ConfigOpt = None, progress: ProgressOpt = None) -> None:
        _quiet_libraries()
        settings = _settings(config)
        with run_lock(settings.processed_dir):
            summary = run_stages(settings, [stage], progress=progress)
        print_summary(summary, console)
        if summary.error:
            _fail("error", summary.error)

    command.__doc__ = f"Run only the {name} stage ({stage.reads} -> {stage.writes})."
    app.command(name=name)(command)


for _stage in STAGES:
    if _stage.name not in ("release", "annotate"):  # annotate: a group, at the end
        _stage_command(_stage.name)


@app.command("release")
def release_command(
    config: ConfigOpt = None,
    progress: ProgressOpt = None,
    bump: Annotated[
        str | None,
        typer.Option(
            help="Release the next version after the newest local one: major (a changed schema "
            "or method), minor (new scenarios) or patch (fixes); default: release.version"
        ),
    ] = None,
) -> None:
    """Run only the release stage (scenarios, actions, annotations, questions ->
    releases/<version>/)."""
    from pipeline.versions import next_version

    _quiet_libraries()
    settings = _settings(config)
    if bump is not None:
        if bump not in ("major", "minor", "patch"):
            _fail("release error", f"--bump takes major, minor or patch, not {bump!r}")
        version = next_version(settings.releases_dir, bump)  # type: ignore[arg-type]
        release = settings.release.model_copy(update={"version": version})
        settings = settings.model_copy(update={"release": release})
        console.print(f"releasing version {version}", highlight=False)
    with run_lock(settings.processed_dir):
        summary = run_stages(settings, [BY_NAME["release"]], progress=progress)
    print_summary(summary, console)
    if summary.error:
        _fail("error", summary.error)


@app.command("diff")
def diff_command(
    old: Annotated[str, typer.Argument(help="A local version, or hf://OWNER/NAME@vX.Y.Z")],
    new: Annotated[str, typer.Argument(help="A local version, or hf://OWNER/NAME@vX.Y.Z")],
    config: ConfigOpt = None,
    show: Annotated[int, typer.Option(help="Ids listed per kind of change")] = 20,
) -> None:
    """What changed between two releases: added, removed and changed rows, counts first."""
    from pipeline.diff import diff, resolve

    _quiet_libraries()
    settings = _settings(config)
    try:
        a, b = resolve(old, settings.releases_dir), resolve(new, settings.releases_dir)
    except PipelineError as err:
        _fail("diff error", str(err))
    changes = diff(a, b)
    console.print(f"{old} -> {new}", highlight=False)
    for d in changes:
        counts = ", ".join(f"{v:,} {k}" for k, v in d.counts().items())
        console.print(f"  {d.config}: {counts}", highlight=False)
    for d in changes:
        for kind, ids in (("added", d.added), ("removed", d.removed)):
            if ids:
                more = f" (+{len(ids) - show:,} more)" if len(ids) > show else ""
                console.print(f"{d.config} {kind}: {', '.join(ids[:show])}{more}", highlight=False)
        if d.changed:
            items = list(d.changed.items())
            listed = "; ".join(f"{k} ({', '.join(v)})" for k, v in items[:show])
            more = f" (+{len(items) - show:,} more)" if len(items) > show else ""
            console.print(f"{d.config} changed: {listed}{more}", highlight=False)


@app.command()
def summary(config: ConfigOpt = None) -> None:
    """Print the last run's summary."""
    settings = _settings(config)
    path = settings.processed_dir / "run_summary.json"
    if not path.exists():
        console.print(f"no run summary at {path}")
        raise typer.Exit(1)
    try:
        last = RunSummary.model_validate(json.loads(path.read_text()))
    except (OSError, ValueError) as err:
        _fail("error", f"the run summary {path} is unreadable ({describe(err)}): run a build")
    print_summary(last, console)


DROP_QUERIES = {
    "ingest_rejects": "SELECT reason, source_file || ':' || line_no AS item, detail "
    "FROM ingest_rejects",
    "prefilter": "SELECT reason, post_id AS item, detail FROM prefilter WHERE NOT keep",
    "dedup": "SELECT reason, post_id AS item, 'duplicate of ' || duplicate_of || "
    "coalesce(' (similarity ' || similarity || ')', '') AS detail FROM dedup WHERE NOT keep",
    "near_dup": "SELECT reason, post_id AS item, 'duplicate of ' || duplicate_of || "
    "' (cosine ' || cosine || ', Jaccard ' || jaccard || ')' AS detail "
    "FROM near_dup WHERE NOT keep",
    "judge_panel": "SELECT reason, post_id AS item, array_to_string(votes, ', ') AS detail "
    "FROM judge_panel WHERE NOT keep",
    "gate_actions": "SELECT CASE WHEN passed THEN 'regenerated' ELSE reason END AS reason, "
    "action_id AS item, CASE WHEN passed THEN 'passed after ' || regenerations || "
    "' re-ask(s): ' || text ELSE detail END AS detail FROM gate_actions "
    "WHERE NOT passed OR regenerations > 0",
    "gate_scenarios": "SELECT reason, scenario_id AS item, detail FROM gate_scenarios "
    "WHERE NOT keep",
    "llm_failures": "SELECT reason, item_key AS item, task || ' ' || model || ', failed in ' "
    "|| runs || ' run(s)' || CASE WHEN given_up THEN ', given up' ELSE '' END AS detail "
    "FROM llm_failures",
}


@app.command()
def dropped(
    config: ConfigOpt = None,
    examples: Annotated[int, typer.Option(help="Examples shown per reason")] = 3,
) -> None:
    """What was dropped, re-asked or failed, by table and reason, with a few examples each."""
    settings = _settings(config)
    with Store.open(settings.db_path, settings.store) as store:
        for table, sql in DROP_QUERIES.items():
            rows = store.query(f"SELECT * FROM ({sql}) ORDER BY reason, item")
            by_reason: dict[str, list[dict]] = {}
            for row in rows:
                by_reason.setdefault(row["reason"] or "unknown", []).append(row)
            console.print(f"[bold]{table}[/bold]: {len(rows)}")
            for reason, items in by_reason.items():
                console.print(f"  {reason}: {len(items)}", highlight=False)
                for row in items[:examples]:
                    detail = (row["detail"] or "")[:100]
                    console.print(f"    {row['item']}  {detail}", highlight=False, markup=False)


@app.command("retry-failed")
def retry_failed(config: ConfigOpt = None) -> None:
    """Re-open the model requests given up after failing in several runs in a row."""
    from pipeline.llm.service import reopen_failures

    settings = _settings(config)
    with Store.open(settings.db_path, settings.store) as store:
        n = reopen_failures(store)
    console.print(f"{n} given-up requests re-opened: the next build asks them again")


@app.command()
def estimate(config: ConfigOpt = None) -> None:
    """Requests, tokens and cost of a build before it runs (cached answers excluded)."""
    from rich.table import Table

    from pipeline.context import RunContext
    from pipeline.estimate import estimate as estimate_build

    settings = _settings(config)
    with Store.open(settings.db_path, settings.store) as store:
        ctx = RunContext(settings=settings, store=store, run_id="estimate")
        lines, notes = estimate_build(settings, store, ctx.llm)
    table = Table(title="Estimated model requests of a build")
    for col in (
        "stage",
        "model",
        "endpoint",
        "requests",
        "cached",
        "to send",
        "input tokens",
        "output tokens",
        "cost (USD)",
    ):
        table.add_column(col, justify="left" if col in ("stage", "model", "endpoint") else "right")
    for line in lines:
        table.add_row(
            line.stage,
            line.model,
            line.endpoint,
            f"{line.requests:,}",
            f"{line.cached:,}",
            f"{line.to_send:,}",
            f"{line.prompt_tokens:,}",
            f"{line.completion_tokens:,}",
            f"{line.cost_usd:,.2f}",
        )
    total = sum(line.cost_usd for line in lines)
    sent = sum(line.to_send for line in lines)
    table.add_row("total", "", "", "", "", f"{sent:,}", "", "", f"{total:,.2f}")
    console.print(table)
    for note in notes:
        console.print(f"  {note}", highlight=False)
    cap = settings.llm.spend_cap_usd
    if cap is not None and total > cap:
        console.print(
            f"[yellow]The estimate (${total:,.2f}) is above llm.spend_cap_usd "
            f"(${cap:,.2f}):[/yellow]"
            " the build will stop at the cap; run it again to go on.",
            highlight=False,
        )


@app.command()
def publish(
    version: Annotated[str, typer.Argument(help="The local release to publish, e.g. 1.2.0")],
    to: Annotated[
        str | None, typer.Option("--to", help="hf://OWNER/NAME (default: publish.target)")
    ] = None,
    private: Annotated[
        bool | None, typer.Option("--private/--public", help="A new repo's visibility")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option(help="List what would be uploaded, send nothing")
    ] = False,
    config: ConfigOpt = None,
) -> None:
    """Upload a local release to the Hugging Face Hub in one commit, then tag it vVERSION."""
    from pipeline.publish import publish as publish_release

    _quiet_libraries()
    settings = _settings(config)
    target = to or settings.publish.target
    if target is None:
        _fail("publish error", "no target: pass --to hf://OWNER/NAME or set publish.target")
    folder = settings.releases_dir / version
    if folder.resolve().parent != settings.releases_dir.resolve() or version.startswith("."):
        _fail("publish error", f"{version!r} is not a release version like 1.2.0")
    if not folder.is_dir():
        _fail("publish error", f"no local release {version} in {settings.releases_dir}")
    try:
        result = publish_release(
            folder,
            target,
            private=settings.publish.private if private is None else private,
            dry_run=dry_run,
        )
    except PipelineError as err:
        _fail("publish error", str(err))
    if dry_run:
        for path, size in result.files:
            console.print(f"  {path}  {size:,} bytes", highlight=False, markup=False)
    console.print(result.summary(), highlight=False, markup=False)


@app.command()
def rehydrate(
    version: Annotated[str, typer.Argument(help="A local masked release, e.g. 1.2.0")],
    source: Annotated[
        str, typer.Option("--from", help="dumps (source.raw_dir) or reddit (the API)")
    ] = "dumps",
    config: ConfigOpt = None,
) -> None:
    """Put a masked release's texts back (from dumps or the Reddit API), each checked against
    its hash; writes <processed>/rehydrated/VERSION/ and reports what it could not fill."""
    from pipeline.rehydrate import rehydrate as rehydrate_release

    _quiet_libraries()
    settings = _settings(config)
    if source not in ("dumps", "reddit"):
        _fail("rehydrate error", f"--from takes dumps or reddit, not {source!r}")
    try:
        report = rehydrate_release(settings, version, source)  # type: ignore[arg-type]
    except PipelineError as err:
        _fail("rehydrate error", str(err))
    console.print(report.summary(), highlight=False)
    for post_id in report.mismatched[:20]:
        console.print(f"  changed since: {post_id}", highlight=False)
    for post_id, why in list(report.gone.items())[:20]:
        console.print(f"  {why}: {post_id}", highlight=False)
    console.print(f"written to {report.out} (see rehydrated.json)", highlight=False)


@app.command()
def serve(
    config: ConfigOpt = None,
    port: Annotated[int, typer.Option(help="Port of the local Prefect server and its UI")] = 4200,
) -> None:
    """Serve the scheduled `rescrape` deployment (cron: rescrape.cron). Without PREFECT_API_URL
    a local Prefect server with its UI is started (PREFECT_HOME: ./.prefect)."""
    from flows.serve import serve as serve_deployment
    from pipeline.settings import default_config_path

    _quiet_libraries()
    settings = _settings(config)
    serve_deployment(settings, config or default_config_path(), Path(".prefect").resolve(), port)


@app.command()
def rescrape(config: ConfigOpt = None) -> None:
    """Run the `rescrape` flow once now: scrape, bring every stage but the release up to date,
    and say what the new posts added to the pool."""
    _quiet_libraries()
    settings = _settings(config)
    with run_lock(settings.processed_dir):
        from flows.prefect_env import configure

        configure(settings.processed_dir)
        from flows.rescrape import rescrape as rescrape_flow

        result = rescrape_flow(config=str(config) if config else None)
    pool = result.pop("pool")
    _finish(RunSummary.model_validate(result), settings)
    console.print(f"added to the pool: {json.dumps(pool)}", highlight=False)


@app.command("config")
def show_config(config: ConfigOpt = None) -> None:
    """Print the effective settings (secrets hidden)."""
    settings = _settings(config)
    sys.stdout.write(json.dumps(settings.public_dict(), indent=2) + "\n")


@app.callback()
def _options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of an error instead of one line")
    ] = False,
) -> None:
    """(Read by `main`, which handles errors around the whole command.)"""


def main() -> None:
    """The `valact` entry point: any expected failure left is one line and exit code 2."""
    debug = "--debug" in sys.argv[1:]
    try:
        app()
    except (PipelineError, OSError, RuntimeError, duckdb.Error) as err:
        if is_interrupt(err):
            console.print("[red]interrupted[/red] (Ctrl-C): run again to go on from here")
            sys.exit(130)
        if debug or not isinstance(err, (PipelineError, OSError, duckdb.Error)):
            raise
        console.print(f"[red]error:[/red] {describe(err)}", highlight=False, soft_wrap=True)
        console.print("(run with --debug for the traceback)", style="dim")
        sys.exit(2)


@app.command("value-check")
def value_check_command(
    src: Annotated[Path, typer.Argument(help="CSV with columns id, action (optional scenario)")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the labelled CSV")],
    config: ConfigOpt = None,
    progress: ProgressOpt = None,
) -> None:
    """Label the actions of a CSV with the configured value annotators (offline by default):
    each annotator's value and its probability per value. Bad rows are listed and skipped."""
    from pipeline.context import RunContext
    from pipeline.value_check import ValueCheckError, value_check

    _quiet_libraries()
    settings = _settings(config)
    if not src.is_file():
        _fail("input error", f"{src} is not a file")
    with Store.open(settings.db_path, settings.store) as store:
        ctx = RunContext(settings=settings, store=store, run_id="value-check")
        ctx.progress = Progress(progress)
        try:
            with ctx.progress.track("value-check", None) as advance:
                result = value_check(ctx, src, out, progress=advance)
        except ValueCheckError as err:
            _fail("input error", str(err))
    for bad in result.bad:
        console.print(
            f"  line {bad.line}: {bad.reason}" + (f" (id {bad.id!r})" if bad.id else ""),
            highlight=False,
            soft_wrap=True,
        )
    failed = "".join(f"; {a} could not label {n}" for a, n in result.failed.items())
    console.print(
        f"{result.written} rows labelled by {', '.join(result.annotators)} -> {out}; "
        f"{len(result.bad)} bad rows skipped{failed}",
        highlight=False,
        soft_wrap=True,
    )


annotate_app = typer.Typer(
    invoke_without_command=True,
    help="Run the annotate stage (actions -> annotations); `export` and `import` bring people in.",
)
app.add_typer(annotate_app, name="annotate")


@annotate_app.callback()
def annotate_command(
    ctx: typer.Context, config: ConfigOpt = None, progress: ProgressOpt = None
) -> None:
    """Run only the annotate stage (actions -> annotations), or a subcommand."""
    if ctx.invoked_subcommand is not None:
        return
    _quiet_libraries()
    settings = _settings(config)
    with run_lock(settings.processed_dir):
        summary = run_stages(settings, [BY_NAME["annotate"]], progress=progress)
    print_summary(summary, console)
    if summary.error:
        _fail("error", summary.error)


@annotate_app.command("export")
def annotate_export(
    config: ConfigOpt = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder for the files (default: <processed>/human)")
    ] = None,
    size: Annotated[
        int | None, typer.Option(min=1, help="Actions to export (default: human.sample_size)")
    ] = None,
) -> None:
    """Write a stratified sample (value x category) for people: a CSV and a Label Studio
    project (tasks JSON and labeling config XML)."""
    from pipeline.human import export

    settings = _settings(config)
    folder = out or settings.processed_dir / "human"
    with Store.open(settings.db_path, settings.store) as store:
        try:
            result = export(settings, store, folder, size)
        except PipelineError as err:
            _fail("export error", str(err))
    console.print(
        f"{result['actions']} actions from {len(result['cells'])} value x category cells",
        highlight=False,
    )
    for key in ("csv", "tasks", "config"):
        console.print(f"  {result[key]}", highlight=False)


@annotate_app.command("import")
def annotate_import(
    file: Annotated[Path, typer.Argument(help="A Label Studio JSON export or the filled CSV")],
    config: ConfigOpt = None,
    show: Annotated[int, typer.Option(help="Problems listed")] = 50,
) -> None:
    """Read people's labels back, store them, and report human-human, human-intended and
    human-model agreement (written to <processed>/human_agreement.json)."""
    from pipeline.human import human_agreement, import_file

    _quiet_libraries()
    settings = _settings(config)
    if not file.is_file():
        _fail("import error", f"{file} is not a file")
    with run_lock(settings.processed_dir), Store.open(settings.db_path, settings.store) as store:
        try:
            report = import_file(store, file)
        except PipelineError as err:
            _fail("import error", str(err))
        stats = human_agreement(store)
    path = settings.processed_dir / "human_agreement.json"
    path.write_text(json.dumps({"import": report.model_dump(), **stats}, indent=2) + "\n")
    console.print(
        f"{file.name} ({report.format}): {report.stored} labels stored from "
        f"{len(report.annotators)} annotator(s); {report.skipped} skipped, {report.cancelled} "
        f"cancelled, {len(report.problems)} not counted",
        highlight=False,
    )
    for p in report.problems[:show]:
        console.print(f"  {p.item_ref}: {p.reason}: {p.detail}", highlight=False, markup=False)
    if len(report.problems) > show:
        console.print(f"  (+{len(report.problems) - show} more)", highlight=False)
    hh = stats["human_human"]
    console.print(
        f"human-human: Fleiss' kappa {hh['fleiss_kappa']} {hh['fleiss_kappa_ci']}, "
        f"Krippendorff's alpha {hh['krippendorff_alpha']} {hh['krippendorff_alpha_ci']}",
        highlight=False,
    )
    for name, a in stats["human_intended"]["annotators"].items():
        console.print(
            f"{name} vs intended: accuracy {a['accuracy']} {a['accuracy_ci']} over "
            f"{a['answered']}, kappa {a['cohen_kappa_vs_intended']}",
            highlight=False,
        )
    for pair, b in stats["human_model"].items():
        console.print(
            f"{pair}: agreement {b['percent_agreement']} over {b['items']}, kappa "
            f"{b['cohen_kappa']} {b['cohen_kappa_ci']}",
            highlight=False,
        )
    console.print(f"written to {path}", highlight=False)


if __name__ == "__main__":
    main()
