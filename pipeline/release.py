"""Stage 10, local release: store -> `<processed>/releases/<version>/` (Parquet per config,
a dataset card and a manifest that describes how the release was made).

A version is immutable: rebuilding an existing version with the same content fingerprint is a
no-op, and one whose content would change is refused (bump `release.version`). A release is
written to a temporary folder then moved in place, so a killed run never leaves half a release.
The manifest names the models found in the released rows, not those in the settings.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

import pipeline
from pipeline import card as dataset_card
from pipeline import report as report_page
from pipeline.agreement import store_agreement
from pipeline.context import RunContext, start_report
from pipeline.errors import PipelineError
from pipeline.gate import gate_summary
from pipeline.pii import scrub
from pipeline.settings import PIISettings
from pipeline.sources.dumps import file_sha256
from pipeline.text import post_text
from schemas.convert import hf_features
from schemas.release import RELEASE_CONFIGS, ActionRow, QuestionRow, ScenarioRow
from schemas.run import StageReport

# 3: texts scrubbed (pipeline.pii); 4: text_sha256, policy; 5: report.html, fuller agreement;
# 6: texts and value checks from the gate, `regenerations`
STAGE, VERSION = "release", "6"


def collect(ctx: RunContext) -> dict[str, list[BaseModel]]:
    """The rows of each config: only scenarios whose questions are complete."""
    store = ctx.store
    complete = "scenario_id IN (SELECT scenario_id FROM questions)"
    scenarios = {
        r["scenario_id"]: r
        for r in store.query(f"SELECT * FROM scenarios WHERE {complete} ORDER BY scenario_id")
    }
    # The text that stands is the gate's (as written, or its last re-ask) and so is its check.
    gated = {r["action_id"]: r for r in store.query("SELECT * FROM gate_actions")}
    actions = {}
    for r in store.query(f"SELECT * FROM actions WHERE {complete} ORDER BY action_id"):
        g = gated.get(r["action_id"])  # none only while a stage between is not yet re-run
        actions[r["action_id"]] = ActionRow(
            action_id=r["action_id"],
            scenario_id=r["scenario_id"],
            generator=r["generator"],
            value=r["value"],
            text=g["text"] if g else r["text"],
            placeholder=r["placeholder"],
            annotators=g["annotators"] if g else [],
            predicted_values=g["predicted_values"] if g else [],
            value_check_passed=g["passed"] if g else None,
            regenerations=g["regenerations"] if g else 0,
        )
    questions: list[BaseModel] = []
    for q in store.query("SELECT * FROM questions ORDER BY scenario_id, question_index"):
        sc = scenarios[q["scenario_id"]]
        opts = [actions[a] for a in q["action_ids"]]
        questions.append(
            QuestionRow(
                question_id=q["question_id"],
                scenario_id=q["scenario_id"],
                question_index=q["question_index"],
                category=sc["category"],
                subreddit=sc["subreddit"],
                scenario=post_text(sc["title"], sc["text"]),
                options=[o.text for o in opts],
                option_values=[o.value for o in opts],
                option_action_ids=[o.action_id for o in opts],
                option_generators=[o.generator for o in opts],
            )
        )
    return {
        "scenarios": [
            ScenarioRow.model_validate({k: r[k] for k in ScenarioRow.model_fields if k in r})
            for r in scenarios.values()
        ],
        "actions": list(actions.values()),
        "questions": questions,
    }


_TEXT_FIELDS = {"scenarios": ("title", "text"), "actions": ("text",), "questions": ("scenario",)}


def released_rows(ctx: RunContext) -> dict[str, list[BaseModel]]:
    """The rows a release of the store's current content holds: collected, scrubbed, their
    texts hashed, then masked under `release.text_policy = "masked"`."""
    rows = scrub_rows(collect(ctx), ctx.settings.pii)
    return mask_rows(rows) if ctx.settings.release.text_policy == "masked" else rows


def text_sha(title: str, text: str) -> str:
    """The hash a scenario's released title and text are checked against."""
    return hashlib.sha256(json.dumps([title, text], ensure_ascii=False).encode()).hexdigest()


def mask_rows(rows: dict[str, list[BaseModel]]) -> dict[str, list[BaseModel]]:
    """Scenario titles and texts (and the questions' scenario) left out; ids, permalinks and
    hashes stay, so the text can be put back and checked."""
    return {
        **rows,
        "scenarios": [r.model_copy(update={"title": "", "text": ""}) for r in rows["scenarios"]],
        "questions": [r.model_copy(update={"scenario": ""}) for r in rows["questions"]],
    }


def scrub_rows(rows: dict[str, list[BaseModel]], pii: PIISettings) -> dict[str, list[BaseModel]]:
    """The rows with personal information replaced in every free text (scenario titles and
    texts, actions, question scenarios and options): the store keeps the originals, nothing
    that leaves it does."""
    out: dict[str, list[BaseModel]] = {}
    for config, items in rows.items():
        fields = _TEXT_FIELDS.get(config, ())
        out[config] = []
        for row in items:
            update: dict[str, Any] = {f: scrub(getattr(row, f), pii) for f in fields}
            if config == "scenarios":
                update["text_sha256"] = text_sha(update["title"], update["text"])
            if config == "questions":
                update["options"] = [scrub(o, pii) for o in row.options]  # type: ignore[attr-defined]
            out[config].append(row.model_copy(update=update))
    return out


def fingerprint(rows: dict[str, list[BaseModel]], version: str) -> str:
    h = hashlib.sha256(version.encode())
    for config in sorted(rows):
        for row in rows[config]:
            h.update(row.model_dump_json().encode())
    return h.hexdigest()


def data_prefix(split: str, manifest: dict[str, Any]) -> str:
    """File names carry the content fingerprint: `datasets` caches a local folder by its name
    and data-file pattern, so without it a rebuilt release would load a stale cached copy."""
    return f"{split}-{manifest['fingerprint'][:12]}"


def write(
    ctx: RunContext, rows: dict[str, list[BaseModel]], manifest: dict[str, Any], target: Path
) -> None:
    import datasets

    split = ctx.settings.release.split
    tmp = target.with_name(f".{target.name}.tmp-{ctx.run_id}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, model in RELEASE_CONFIGS.items():
        records = [r.model_dump(mode="json") for r in rows[name]]
        columns = {field: [r[field] for r in records] for field in model.model_fields}
        dd = datasets.DatasetDict(
            {split: datasets.Dataset.from_dict(columns, features=hf_features(model))}
        )
        (tmp / name).mkdir()
        for split_name, ds in dd.items():
            prefix = data_prefix(split_name, manifest)
            ds.to_parquet(str(tmp / name / f"{prefix}-00000-of-00001.parquet"))
    # Checksums of the data: two builds with the same settings and seed give the same bytes.
    manifest["files"] = {
        p.relative_to(tmp).as_posix(): file_sha256(p) for p in sorted(tmp.rglob("*.parquet"))
    }
    prefix = data_prefix(split, manifest)
    (tmp / "README.md").write_text(dataset_card.build(ctx, manifest, rows, prefix))
    (tmp / "report.html").write_text(report_page.render(ctx.store, manifest, rows))
    # The manifest last: a folder with a manifest is a complete release.
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    tmp.rename(target)  # atomic; the target does not exist (versions are never replaced)


def code_version() -> dict[str, Any]:
    """The pipeline's version and, from a git checkout, its commit (and whether files differed
    from it): what a reader needs to rebuild the release with the same code."""
    out: dict[str, Any] = {"version": pipeline.__version__, "git_commit": None, "git_dirty": None}
    repo = Path(pipeline.__file__).resolve().parents[1]
    if not (repo / ".git").exists():
        return out
    try:
        commit = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        status = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return out
    if commit.returncode == 0:
        out["git_commit"] = commit.stdout.strip()
        out["git_dirty"] = bool(status.stdout.strip()) if status.returncode == 0 else None
    return out


def release_dir(ctx: RunContext) -> Path:
    """The version's folder, which must be a direct child of the releases folder."""
    releases = ctx.settings.releases_dir
    target = releases / ctx.settings.release.version
    if target.resolve().parent != releases.resolve() or target.name.startswith("."):
        raise PipelineError(
            f"release.version {ctx.settings.release.version!r} does not name a folder inside "
            f"{releases}: use a version like 1.2.0"
        )
    return target


def sweep_temporary(ctx: RunContext) -> int:
    """Remove what interrupted runs left half-written (runs never overlap: see lock.py)."""
    stale = [
        p
        for p in ctx.settings.releases_dir.glob(".*.tmp-*")
        if p.is_dir() and not p.name.endswith(ctx.run_id)
    ]
    for p in stale:
        shutil.rmtree(p, ignore_errors=True)
    return len(stale)


def missing_work(ctx: RunContext) -> dict[str, int]:
    """Requested work without a result: scenarios with no questions, actions with no
    annotation from an annotator now configured."""
    store, annotators = ctx.store, ctx.settings.annotator_models()
    awaiting = store.count(
        "scenarios", "scenario_id IN (SELECT scenario_id FROM gate_scenarios WHERE NOT keep)"
    )
    no_questions = (
        store.count("scenarios", "scenario_id NOT IN (SELECT scenario_id FROM questions)")
        - awaiting
    )
    unannotated = store.scalar(
        "SELECT count(*) FROM actions a, (SELECT unnest(?) AS annotator) m "
        "WHERE NOT EXISTS (SELECT 1 FROM annotations n WHERE n.action_id = a.action_id "
        "AND n.annotator = m.annotator)",
        [annotators],
    )
    missing = {
        "scenarios_without_questions": no_questions,
        "missing_annotations": unannotated,
        "dropped_scenarios_awaiting_replacement": awaiting,  # refill rounds ran out this build
    }
    return {k: int(v) for k, v in missing.items() if v}


def models_used(ctx: RunContext, rows: dict[str, list[BaseModel]]) -> dict[str, list[str]]:
    """The models behind the released rows, read from the rows and their votes."""
    posts = [r.post_id for r in rows["scenarios"]]  # type: ignore[attr-defined]
    judges = ctx.store.query(
        "SELECT DISTINCT model FROM judge_votes WHERE post_id IN (SELECT unnest(?)) ORDER BY model",
        [posts],
    )
    return {
        "judges": [r["model"] for r in judges],
        "generators": sorted({a.generator for a in rows["actions"]}),  # type: ignore[attr-defined]
        "annotators": sorted({n for a in rows["actions"] for n in a.annotators}),  # type: ignore[attr-defined]
    }


def tokens_behind(ctx: RunContext, rows: dict[str, list[BaseModel]]) -> dict[str, dict[str, float]]:
    """Model -> requests, tokens and cost of the answers behind the released rows (the judge
    votes on their posts, their actions, their annotations), from the cache: what the release
    cost, whichever run paid for it. Cost is at the configured prices, with the batch discount
    for answers that came through the Batch API."""
    posts = [r.post_id for r in rows["scenarios"]]  # type: ignore[attr-defined]
    actions = [a.action_id for a in rows["actions"]]  # type: ignore[attr-defined]
    used = ctx.store.query(
        "SELECT model, backend = 'openai-batch' AS batch, count(*) AS requests, "
        "sum(prompt_tokens) AS prompt_tokens, sum(completion_tokens) AS completion_tokens "
        "FROM llm_cache WHERE request_id IN ("
        "SELECT request_id FROM judge_votes WHERE post_id IN (SELECT unnest(?)) "
        "UNION SELECT request_id FROM actions WHERE action_id IN (SELECT unnest(?)) "
        "UNION SELECT request_id FROM annotations WHERE action_id IN (SELECT unnest(?)) "
        "UNION SELECT request_id FROM regenerations WHERE action_id IN (SELECT unnest(?))) "
        "GROUP BY ALL ORDER BY ALL",
        [posts, actions, actions, actions],
    )
    llm = ctx.settings.llm
    out: dict[str, dict[str, float]] = {}
    for r in used:
        model, tokens = r["model"], out.setdefault(r["model"], {"cost_usd": 0.0})
        for k in ("requests", "prompt_tokens", "completion_tokens"):
            tokens[k] = tokens.get(k, 0) + int(r[k] or 0)
        cost = llm.cost(model, r["prompt_tokens"] or 0, r["completion_tokens"] or 0)
        if r["batch"] and (name := llm.endpoint_name(model)):
            cost *= llm.limits(name).batch_price_factor
        tokens["cost_usd"] = round(tokens["cost_usd"] + cost, 6)
    return {
        m: {**{k: v for k, v in t.items() if k != "cost_usd"}, "cost_usd": t["cost_usd"]}
        for m, t in out.items()
    }


def run(ctx: RunContext) -> StageReport:
    s = ctx.settings
    report = start_report(ctx, STAGE, VERSION, "release", "pii")
    rows = released_rows(ctx)
    report.inputs = 1
    if not rows["questions"]:
        report.drop("no_complete_scenarios")
        report.notes.append("nothing to release: no scenario has its questions yet")
        return report
    version = s.release.version
    target = release_dir(ctx)
    if swept := sweep_temporary(ctx):
        report.notes.append(f"removed {swept} half-written release folder(s) of killed runs")
    missing = missing_work(ctx)
    if missing and not s.release.allow_partial:
        said = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in missing.items())
        raise PipelineError(
            f"release {version} not written, requested work is missing ({said}): run the build "
            "again (failed requests: valact dropped), or set release.allow_partial = true"
        )
    fp = fingerprint(rows, version)
    manifest_path = target / "manifest.json"
    if target.exists():
        try:
            old = json.loads(manifest_path.read_text()).get("fingerprint")
        except (OSError, json.JSONDecodeError):
            old = None
        if old is None:
            raise PipelineError(
                f"{target} exists but holds no readable manifest: move it aside (nothing is "
                "deleted automatically), then run again"
            )
        if old == fp:
            report.skipped = 1
            report.notes.append(f"release {version} unchanged at {target}")
            return report
        raise PipelineError(
            f"release {version} already exists at {target} with other content: versions are "
            "immutable, so bump release.version (e.g. VALACT_RELEASE__VERSION) to publish this"
        )
    released = {a.action_id for a in rows["actions"]}  # type: ignore[attr-defined]
    manifest = {
        "name": s.release.name,
        "version": version,
        "fingerprint": fp,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "run_id": ctx.run_id,
        "pipeline_version": pipeline.__version__,
        "code": code_version(),
        "config_hash": s.section_hash(),
        "settings_hash": s.content_hash(),
        "text_policy": s.release.text_policy,
        "seed": s.seed,
        "offline": s.offline,
        "placeholder_actions": any(getattr(a, "placeholder", False) for a in rows["actions"]),
        "partial": missing or None,  # what was missing when a partial release was allowed
        "counts": {k: len(v) for k, v in rows.items()},
        "models": models_used(ctx, rows),
        "tokens": tokens_behind(ctx, rows),
        "agreement": store_agreement(ctx.store, released),
        "value_check": gate_summary(ctx, released),
        "settings": s.public_dict(),
    }
    write(ctx, rows, manifest, target)
    report.processed = 1
    report.outputs = 1
    report.notes.append(f"wrote {target}")
    return report
