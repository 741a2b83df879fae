"""`<release>/report.html`: one self-contained page people look at (value and category
distributions, the confusion matrix as a heatmap, per-value accuracy with intervals, the
agreement table, drop reasons per stage). Plots are PNGs inside the page (matplotlib, Agg), and
nothing is linked, so it opens from disk in any browser, offline."""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from typing import TYPE_CHECKING, Any

from pipeline.agreement import LABELS

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from pydantic import BaseModel

    from pipeline.store import Store

_STYLE = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .6em;
text-align:left;font-size:.9em}th{background:#f3f3f3}img{max-width:100%}.ci{color:#777}"""

# (label, SQL giving reason and count of what a stage dropped); tables may be empty.
_DROPS = {
    "ingest": "SELECT reason, count(*) FROM ingest_rejects GROUP BY ALL",
    "prefilter": "SELECT reason, count(*) FROM prefilter WHERE NOT keep GROUP BY ALL",
    "dedup": "SELECT reason, count(*) FROM dedup WHERE NOT keep GROUP BY ALL",
    "judge": "SELECT reason, count(*) FROM judge_panel WHERE NOT keep GROUP BY ALL",
    "near duplicates": "SELECT reason, count(*) FROM near_dup WHERE NOT keep GROUP BY ALL",
    "gate (actions)": "SELECT reason, count(*) FROM gate_actions WHERE NOT passed GROUP BY ALL",
    "gate (scenarios, replaced)": "SELECT reason, count(*) FROM gate_scenarios WHERE NOT keep "
    "GROUP BY ALL",
    "model requests": "SELECT task || ': ' || reason, count(*) FROM llm_failures GROUP BY ALL",
}


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
    return f'<img alt="" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure  # Agg canvas: no display, no global pyplot state

    return Figure(figsize=(width, height))


def _bars(counts: dict[str, int], title: str) -> str:
    fig = _figure(8, 3)
    ax = fig.subplots()
    ax.bar(list(counts), list(counts.values()), color="#4c72b0")
    ax.set_title(title)
    ax.tick_params(axis="x", labelrotation=45)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    return _png(fig)


def _heatmap(name: str, matrix: list[list[int]]) -> str:
    import numpy as np

    m = np.array(matrix)
    fig = _figure(7, 6)
    ax = fig.subplots()
    im = ax.imshow(m, cmap="Blues")
    ax.set_xticks(range(len(LABELS)), LABELS, rotation=45, ha="right")
    ax.set_yticks(range(len(LABELS)), LABELS)
    ax.set_xlabel("predicted")
    ax.set_ylabel("intended")
    ax.set_title(f"Confusion matrix: {name}")
    top = m.max() or 1
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            if m[i, j]:
                colour = "white" if m[i, j] > top / 2 else "black"
                ax.text(j, i, str(m[i, j]), ha="center", va="center", color=colour, fontsize=8)
    fig.colorbar(im, ax=ax)
    return _png(fig)


def _accuracy_bars(name: str, acc: dict[str, float], ci: dict[str, list[float] | None]) -> str:
    values = [v for v in LABELS if v in acc]
    heights = [acc[v] for v in values]
    lows = [acc[v] - (ci.get(v) or [acc[v], acc[v]])[0] for v in values]
    highs = [(ci.get(v) or [acc[v], acc[v]])[1] - acc[v] for v in values]
    fig = _figure(8, 3.2)
    ax = fig.subplots()
    ax.bar(values, heights, yerr=[lows, highs], capsize=3, color="#55a868")
    ax.set_ylim(0, 1.05)
    ax.set_title(f"Accuracy per value with 95% intervals: {name}")
    ax.tick_params(axis="x", labelrotation=45)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    return _png(fig)


def _fmt(value: Any, ci: Any = None) -> str:
    if value is None:
        return "–"
    text = f"{value:.3f}" if isinstance(value, float) else html.escape(str(value))
    if ci:
        text += f' <span class="ci">[{ci[0]:.3f}, {ci[1]:.3f}]</span>'
    return text


def _table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{th}</tr>{body}</table>"


def agreement_table(agr: dict[str, Any]) -> str:
    """Per annotator: accuracy, Cohen's kappa and "select the value", each with its interval;
    then the figures across annotators and the judge panel's."""
    select = agr.get("select_the_value", {})
    rows = [
        [
            f"<code>{html.escape(name)}</code>",
            _fmt(a["answered"]),
            _fmt(a["accuracy"], a.get("accuracy_ci")),
            _fmt(a.get("cohen_kappa_vs_intended"), a.get("cohen_kappa_vs_intended_ci")),
            _fmt(select.get(name, {}).get("accuracy"), select.get(name, {}).get("accuracy_ci")),
        ]
        for name, a in agr.get("annotators", {}).items()
    ]
    out = _table(
        ["annotator", "actions", "accuracy", "Cohen's kappa vs intended", "select the value"],
        rows,
    )
    overall = [
        ["Krippendorff's alpha, annotators + intended", "krippendorff_alpha_with_intended"],
        ["Krippendorff's alpha, annotators", "krippendorff_alpha_annotators"],
        ["Fleiss' kappa, annotators + intended", "fleiss_kappa_with_intended"],
        ["Fleiss' kappa, annotators", "fleiss_kappa_annotators"],
    ]
    lines = [[label, _fmt(agr.get(key), agr.get(f"{key}_ci"))] for label, key in overall]
    judges = agr.get("judge_panel") or {}
    if judges.get("items"):
        pair = " vs ".join(judges["judges"])
        lines += [
            [
                f"judge panel ({html.escape(pair)}), Cohen's kappa over {judges['items']} posts",
                _fmt(judges.get("cohen_kappa"), judges.get("cohen_kappa_ci")),
            ],
            [
                "judge panel, Krippendorff's alpha",
                _fmt(judges.get("krippendorff_alpha"), judges.get("krippendorff_alpha_ci")),
            ],
            [
                "judge panel, percent agreement",
                _fmt(judges.get("percent_agreement"), judges.get("percent_agreement_ci")),
            ],
        ]
    out += _table(["figure", "value [95% interval]"], lines)
    for key, label in (("by_category", "category"), ("by_generator", "generator")):
        groups = agr.get(key) or {}
        rows = [
            [
                html.escape(group),
                f"<code>{html.escape(name)}</code>",
                _fmt(a["answered"]),
                _fmt(a["accuracy"], a.get("accuracy_ci")),
                _fmt(a.get("cohen_kappa_vs_intended"), a.get("cohen_kappa_vs_intended_ci")),
            ]
            for group, g in groups.items()
            for name, a in g["annotators"].items()
        ]
        if rows:
            out += f"<h3>By {label}</h3>" + _table(
                [label, "annotator", "actions", "accuracy", "Cohen's kappa"], rows
            )
    return out


def gate_table(gate: dict[str, Any]) -> str:
    """What the value-check gate did: its rule, and re-asks per value."""
    if not gate:
        return ""
    head = (
        f"<h3>Value-check gate</h3><p>{html.escape(str(gate.get('rule')))} "
        f"({'enforced' if gate.get('enforced') else 'recorded only'}; up to "
        f"{gate.get('max_attempts')} re-asks): {gate.get('passed_as_written'):,} actions passed "
        f"as written, {gate.get('passed_after_regeneration'):,} after a re-ask; scenarios dropped "
        "and replaced: "
        + html.escape(
            ", ".join(f"{c} {n}" for c, n in (gate.get("scenarios_dropped") or {}).items())
            or "none"
        )
        + ". The agreement above is of the actions as first written.</p>"
    )
    rows = [
        [html.escape(v), f"{c['actions']:,}", f"{c['regenerated']:,}"]
        for v, c in (gate.get("regenerated_by_value") or {}).items()
    ]
    return head + _table(["value", "released actions", "re-asked"], rows)


def drop_reasons(store: Store) -> str:
    rows = []
    for stage, sql in _DROPS.items():
        for reason, n in store.con.execute(sql + " ORDER BY 2 DESC, 1").fetchall():
            rows.append([html.escape(stage), html.escape(reason or "unknown"), f"{n:,}"])
    if not rows:
        return "<p>Nothing was dropped.</p>"
    return _table(["stage", "reason", "dropped"], rows)


def render(store: Store, manifest: dict[str, Any], rows: dict[str, list[BaseModel]]) -> str:
    """The page's HTML."""
    values = Counter(getattr(a, "value", "") for a in rows.get("actions", []))
    categories = Counter(getattr(s, "category", "") for s in rows.get("scenarios", []))
    agr = manifest.get("agreement") or {}
    title = f"{manifest.get('name', 'ValAct')} {manifest.get('version', '')}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}: report</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<p>"
        + ", ".join(f"{n:,} {html.escape(k)}" for k, n in manifest.get("counts", {}).items())
        + f"; content fingerprint <code>{html.escape(str(manifest.get('fingerprint', ''))[:16])}"
        "</code>.</p>",
    ]
    if manifest.get("placeholder_actions"):
        parts.append(
            "<p><strong>Placeholder actions:</strong> built offline; the actions are templates "
            "and the annotator a classifier on MiniLM embeddings.</p>"
        )
    parts += [
        '<h2 id="distributions">Distributions</h2>',
        _bars({v: values.get(v, 0) for v in LABELS}, "Actions per value"),
        _bars(dict(sorted(categories.items())), "Scenarios per category"),
        '<h2 id="agreement">Agreement</h2>',
        "<p>95% intervals in brackets: Wilson for proportions, a percentile bootstrap over "
        "actions (or posts) for kappa and alpha.</p>",
        agreement_table(agr),
        gate_table(manifest.get("value_check") or {}),
        '<h2 id="confusion">Confusion matrices</h2>',
    ]
    for name, a in agr.get("annotators", {}).items():
        if a.get("confusion_matrix"):
            parts.append(_heatmap(name, a["confusion_matrix"]["matrix"]))
    parts.append('<h2 id="accuracy">Accuracy per value</h2>')
    for name, a in agr.get("annotators", {}).items():
        if a.get("per_value_accuracy"):
            parts.append(
                _accuracy_bars(name, a["per_value_accuracy"], a.get("per_value_accuracy_ci", {}))
            )
    parts += ['<h2 id="drops">Drop reasons per stage</h2>', drop_reasons(store), "</body></html>"]
    return "\n".join(parts) + "\n"
