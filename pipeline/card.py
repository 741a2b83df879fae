"""The dataset card (`README.md` of a release): Hub metadata built with `huggingface_hub`'s
`DatasetCardData`, and a body that says how the release was made, from the store and the
manifest (sources and dates, counts per stage with drop reasons, models and prompt versions,
agreement, distributions, limitations, citation, licence).

`merge_hub_card` keeps what maintainers edited on the Hub: metadata keys the pipeline does not
write stay as they are, tags are merged; the keys it writes and the body are the release's."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from huggingface_hub import DatasetCard, DatasetCardData

from schemas.release import RELEASE_CONFIGS

if TYPE_CHECKING:
    from pydantic import BaseModel

    from pipeline.context import RunContext

# The metadata keys a release writes; any other key on the Hub's card is the maintainers'.
OWNED_KEYS = (
    "pretty_name",
    "license",
    "language",
    "task_categories",
    "size_categories",
    "source_datasets",
    "configs",
    "annotations_creators",
    "language_creators",
    "multilinguality",
)
CITATION = """@misc{huang2026knowing,
  title  = {Knowing But Not Doing: How Language Models Act on Human Values},
  author = {Huang and others},
  year   = {2026},
  note   = {The ValAct-15k study; see the paper for the full reference}
}"""


def size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")):
        if n < limit:
            return name
    return "100K<n<1M"


def metadata(ctx: RunContext, manifest: dict[str, Any], prefix: str) -> DatasetCardData:
    s = ctx.settings
    return DatasetCardData(
        pretty_name=s.release.name,
        license=s.release.licence,
        language=["en"],
        task_categories=["multiple-choice"],
        size_categories=[size_category(int(manifest["counts"].get("questions", 0)))],
        source_datasets=["original"],
        annotations_creators=["machine-generated"],
        language_creators=["found", "machine-generated"],
        multilinguality=["monolingual"],
        tags=["values", "schwartz-values", "decision-making", "reddit"],
        configs=[
            {
                "config_name": name,
                "data_files": [{"split": s.release.split, "path": f"{name}/{prefix}-*"}],
            }
            for name in RELEASE_CONFIGS
        ],
    )


def build(
    ctx: RunContext, manifest: dict[str, Any], rows: dict[str, list[BaseModel]], prefix: str
) -> str:
    """The card's text: YAML metadata, then the body."""
    data = metadata(ctx, manifest, prefix)
    return f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(body(ctx, manifest, rows)) + "\n"


def merge_hub_card(local: str, hub: str | None) -> str:
    """The release's card, keeping the metadata maintainers set on the Hub's current card."""
    if not hub:
        return local
    ours, theirs = DatasetCard(local), DatasetCard(hub)
    merged = theirs.data.to_dict()
    for key, value in ours.data.to_dict().items():
        if key == "tags":
            merged[key] = sorted({*merged.get("tags", []), *value})
        elif key in OWNED_KEYS or key not in merged:
            merged[key] = value
    data = DatasetCardData(**merged)
    return f"---\n{data.to_yaml()}\n---\n{ours.text}"


def _funnel(ctx: RunContext) -> list[str]:
    """Posts per stage and why the others dropped out, from the store."""
    con = ctx.store.con
    (posts,) = con.execute("SELECT count(*) FROM posts").fetchone() or (0,)
    lines = [f"- posts ingested: {posts:,}"]
    stages = {
        "prefilter (rules)": "prefilter",
        "dedup (exact and near duplicates)": "dedup",
        "judge panel": "judge_panel",
    }
    for label, table in stages.items():
        kept, total = con.execute(
            f"SELECT count(*) FILTER (WHERE keep), count(*) FROM {table}"
        ).fetchone() or (0, 0)
        reasons = con.execute(
            f"SELECT reason, count(*) FROM {table} WHERE NOT keep GROUP BY reason "
            "ORDER BY count(*) DESC, reason LIMIT 8"
        ).fetchall()
        said = ", ".join(f"{r or 'unknown'} {n:,}" for r, n in reasons)
        dropped = f" (dropped: {said})" if said else ""
        lines.append(f"- {label}: {kept:,} of {total:,} kept{dropped}")
    return lines


def _prompt_versions(ctx: RunContext, manifest: dict[str, Any]) -> list[str]:
    generate: Literal["generate", "generate_all"] = (
        "generate_all" if ctx.settings.generation.mode == "per_scenario" else "generate"
    )
    tasks: dict[str, Literal["judge", "generate", "generate_all", "annotate"]] = {
        "judges": "judge",
        "generators": generate,
        "annotators": "annotate",
    }
    out = []
    for role, task in tasks.items():
        for model in manifest["models"].get(role, []):
            try:
                version = ctx.llm.prompt_version(task, model)
            except Exception:  # a model no longer configured: its version is unknown
                version = "?"
            out.append(f"- {role[:-1]} `{model}`, prompt `{version}`")
    return out


def _sources(ctx: RunContext, rows: dict[str, list[Any]]) -> list[str]:
    s = ctx.settings
    subs = ", ".join(sorted({r.subreddit for r in rows["scenarios"]})) or "none"
    dates = _dates(rows)
    if s.source.date_from or s.source.date_to:
        dates += f"; source date range {s.source.date_from} to {s.source.date_to}"
    pii = f"scrubbed ({', '.join(s.pii.kinds)})" if s.pii.enabled else "not scrubbed"
    return [f"- subreddits: {subs}", f"- {dates}", f"- personal information: {pii}"]


def _provenance(manifest: dict[str, Any]) -> list[str]:
    code = manifest.get("code") or {}
    commit = f", git commit `{code['git_commit']}`" if code.get("git_commit") else ""
    if commit and code.get("git_dirty"):
        commit += " with local changes"
    models = manifest["models"]
    return [
        f"- pipeline version {manifest['pipeline_version']}{commit}, run `{manifest['run_id']}`",
        f"- settings hash `{manifest['settings_hash']}`, seed {manifest['seed']} (settings in "
        "`manifest.json`, with a sha256 per data file: a rebuild with the same settings and "
        "seed gives the same bytes)",
        f"- models: judges {models['judges']}, generators {models['generators']}, annotators "
        f"{models['annotators']}",
        f"- content fingerprint `{manifest['fingerprint']}`",
    ]


def _ci(interval: list[float] | None) -> str:
    return f" [{interval[0]}, {interval[1]}]" if interval else ""


def _text_policy(manifest: dict[str, Any]) -> list[str]:
    if manifest.get("text_policy") == "masked":
        return [
            "**Masked**, as the study released its scenarios: Reddit's terms do not let a "
            "dataset redistribute its users' posts, so scenario titles and texts (and the "
            "questions' `scenario`) are left out; each scenario keeps its `post_id`, "
            "`permalink` and `text_sha256`. Put the texts back with `valact rehydrate` (from "
            "the Reddit API or from dumps): every text is checked against its hash, and posts "
            "edited or deleted since are reported, never filled in.",
        ]
    return [
        "**Full**: the post titles and texts are included, with personal information "
        "replaced by placeholders; each scenario's `text_sha256` fingerprints its text. They "
        "remain their authors' (see Licence).",
    ]


def _distributions(rows: dict[str, list[Any]]) -> list[str]:
    categories = Counter(r.category for r in rows["scenarios"])
    values = Counter(a.value for a in rows["actions"])
    passed = Counter(a.value for a in rows["actions"] if a.value_check_passed)
    return [
        "| category | scenarios |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in sorted(categories.items())),
        "",
        "| value | actions | value check passed |",
        "|---|---|---|",
        *(f"| {k} | {v} | {passed[k]} |" for k, v in sorted(values.items())),
    ]


def _dates(rows: dict[str, list[Any]]) -> str:
    times = [getattr(r, "created_utc", 0) for r in rows["scenarios"]]
    if not times:
        return "no scenarios"

    def day(t: int) -> str:
        return datetime.fromtimestamp(t, UTC).date().isoformat()

    return f"posts created {day(min(times))} to {day(max(times))} (UTC)"


def _gate(gate: dict[str, Any]) -> list[str]:
    """The value-check gate's rule and what it did."""
    if not gate:
        return []
    dropped = gate.get("scenarios_dropped") or {}
    lines = [
        f"Gate ({'enforced' if gate.get('enforced') else 'recorded only'}): {gate['rule']} "
        f"({', '.join(f'`{a}`' for a in gate.get('annotators', []))}); an action that fails is "
        f"re-asked up to {gate.get('max_attempts')} times, naming the value it was read as. Of "
        f"the {gate.get('actions')} released actions, {gate.get('passed_as_written')} passed as "
        f"written and {gate.get('passed_after_regeneration')} after a re-ask"
        + (f"; {gate['failed']} did not pass" if gate.get("failed") else "")
        + ". Scenarios dropped for a candidate that never passed, each replaced by the next "
        + "eligible post of its category: "
        + (", ".join(f"{c} {n}" for c, n in dropped.items()) if dropped else "none")
        + ".",
        "",
    ]
    return lines


def _more_agreement(agr: dict[str, Any]) -> list[str]:
    """Fleiss' kappa, the study's "select the value" check and the judge panel's agreement
    (the full tables, by category and generator too, are in the release's report.html)."""
    lines = []
    if agr.get("fleiss_kappa_annotators") is not None:
        lines.append(
            f"- Fleiss' kappa across annotators: {agr['fleiss_kappa_annotators']}"
            f"{_ci(agr.get('fleiss_kappa_annotators_ci'))}"
        )
    for name, sel in (agr.get("select_the_value") or {}).items():
        if sel.get("accuracy") is not None:
            lines.append(
                f'- `{name}` picks the option written for a named value ("select the value", '
                f"among a question's options): {sel['accuracy']}{_ci(sel.get('accuracy_ci'))} "
                f"over {sel['picks']} picks"
            )
    judges = agr.get("judge_panel") or {}
    if judges.get("items"):
        lines.append(
            f"- judge panel ({' vs '.join(f'`{j}`' for j in judges['judges'])}) over "
            f"{judges['items']} posts: Cohen's kappa {judges.get('cohen_kappa')}"
            f"{_ci(judges.get('cohen_kappa_ci'))}, agreement {judges.get('percent_agreement')}"
        )
    if lines:
        lines.append("- More (by category and generator, confusion matrices): `report.html`.")
    return lines


def body(ctx: RunContext, manifest: dict[str, Any], rows: dict[str, list[BaseModel]]) -> list[str]:
    s = ctx.settings
    c = manifest["counts"]
    synthetic = s.source.synthetic
    source = (
        "Synthetic decision scenarios written for testing the pipeline (no Reddit text)"
        if synthetic
        else "Real decision scenarios from Reddit advice posts"
    )
    lines = [
        f"# {s.release.name} {manifest['version']}",
        "",
        f"{source}; for each, 20 candidate actions (two generator models x the ten Schwartz "
        "values), assembled into questions in which no value appears twice. Built with the "
        'ValAct pipeline (method of Huang et al., 2026, "Knowing But Not Doing").',
        "",
    ]
    if manifest.get("partial"):
        said = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in manifest["partial"].items())
        lines += [
            f"> **Partial release.** Requested work was missing when it was built ({said}); "
            "scenarios without questions are left out.",
            "",
        ]
    if manifest["placeholder_actions"]:
        lines += [
            "> **Warning: placeholder actions.** This release was built with the OFFLINE "
            "backend set (no language model configured). Its actions are TEMPLATE "
            "placeholders (`placeholder: true`), its judge is rule-based and its annotator is "
            "a MiniLM similarity. Use it to test tooling, not to evaluate models.",
            "",
        ]
    lines += [
        "| config | rows |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in c.items()),
        "",
        "```python",
        "import datasets",
        f'questions = datasets.load_dataset("<this repo or folder>", "questions", '
        f'split="{s.release.split}", revision="v{manifest["version"]}")',
        "```",
        "",
        "## Sources",
        "",
        *_sources(ctx, rows),
        "",
        "## Text policy",
        "",
        *_text_policy(manifest),
        "",
        "## How it was built",
        "",
        *_funnel(ctx),
        f"- scenarios released: {c.get('scenarios', 0):,}, actions {c.get('actions', 0):,}, "
        f"questions {c.get('questions', 0):,}",
        "",
        "Models and prompt versions:",
        "",
        *_prompt_versions(ctx, manifest),
        "",
        "## Distributions",
        "",
        *_distributions(rows),
        "",
        "## Value check (agreement)",
        "",
    ]
    agr = manifest.get("agreement") or {}
    lines += _gate(manifest.get("value_check") or {})
    lines.append(
        "Agreement of the actions as first written, before any re-ask; 95% intervals in "
        "brackets (Wilson for accuracies, bootstrap over actions)."
    )
    lines.append("")
    for name, a in agr.get("annotators", {}).items():
        lines.append(
            f"- `{name}`: accuracy {a['accuracy']}{_ci(a.get('accuracy_ci'))} over "
            f"{a['answered']} actions; Cohen's kappa vs intended "
            f"{a.get('cohen_kappa_vs_intended')}{_ci(a.get('cohen_kappa_vs_intended_ci'))}"
        )
        cis = a.get("per_value_accuracy_ci", {})
        for value, acc in a["per_value_accuracy"].items():
            lines.append(f"  - {value}: {acc}{_ci(cis.get(value))}")
    lines += [
        f"- Krippendorff's alpha (annotators + intended value): "
        f"{agr.get('krippendorff_alpha_with_intended')}"
        f"{_ci(agr.get('krippendorff_alpha_with_intended_ci'))}",
        *_more_agreement(agr),
        "",
        "## Provenance",
        "",
        *_provenance(manifest),
        "",
        "## Known limitations",
        "",
        "- Reddit's advice communities are not a sample of people: English-speaking, skewed "
        "young and towards some countries; categories follow the subreddits they came from.",
        "- A post is kept when the judge panel calls it a decision with several defensible "
        "answers; the offline judges are rules (precision 0.94, recall 0.45 on 100 unseen "
        "real posts).",
        "- Personal information is replaced by rules and name lists, not a trained recognizer: "
        "some names can remain, some ordinary words can be replaced.",
        "- An action's value is checked by annotators that can disagree with the intended "
        "value; `value_check_passed` says whether they recovered it.",
        "",
        "## Licence",
        "",
        (
            "The scenarios are synthetic, written for this project and released under CC0-1.0; "
            f"the rest of the data is under `{s.release.licence}`."
            if synthetic
            else f"`{s.release.licence}` covers what this dataset adds: the generated actions, "
            "the questions and the annotations. The scenario texts are excerpts of Reddit "
            "posts: they remain their authors' and are subject to Reddit's User Agreement and "
            "Data API Terms, which this licence does not override. Use them for research, "
            "and honour deletion requests (rebuild without removed posts)."
        ),
        "",
        "## Citation",
        "",
        "Cite the study whose method this follows:",
        "",
        "```bibtex",
        CITATION,
        "```",
        "",
        f"and this release as {s.release.name} {manifest['version']} (content fingerprint "
        f"`{manifest['fingerprint'][:16]}`).",
        "",
    ]
    return lines
