"""Agreement between the value an action was written for and what annotators read in it."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np

from schemas import Annotation, SchwartzValue

_INDEX = {v.value: i for i, v in enumerate(SchwartzValue)}


def _alpha(rows: list[list[str | None]]) -> float | None:
    """Nominal Krippendorff's alpha over raters (rows) x units (columns); None if undefined."""
    data = np.array([[_INDEX.get(v or "", np.nan) for v in row] for row in rows], dtype=float)
    if data.shape[1] < 2 or np.count_nonzero(~np.isnan(data)) < 2:
        return None
    if len(np.unique(data[~np.isnan(data)])) < 2:
        return None
    import krippendorff  # imported here: the command line starts without it

    a = float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))
    return None if math.isnan(a) else round(a, 4)


CONFIDENCE = 0.95
RESAMPLES = 400  # bootstrap resamples: the interval's ends move by ~0.01 between seeds
SEED = 20260101


def wilson(successes: int, n: int) -> list[float] | None:
    """95% Wilson interval of a proportion (scipy's), None when there is nothing to count."""
    if n == 0:
        return None
    from scipy.stats import binomtest

    ci = binomtest(successes, n).proportion_ci(confidence_level=CONFIDENCE, method="wilson")
    return [round(float(ci.low), 4), round(float(ci.high), 4)]


def bootstrap_ci(n: int, statistic: Any) -> list[float] | None:
    """95% percentile bootstrap interval (scipy's) of `statistic(indices)` over n units
    resampled with replacement; None when undefined (too few units, a constant resample)."""
    if n < 5:
        return None
    from scipy.stats import bootstrap

    def stat(idx: np.ndarray) -> float:
        value = statistic(idx.astype(int))
        return float("nan") if value is None else float(value)

    with np.errstate(all="ignore"):
        res = bootstrap(
            (np.arange(n),),
            stat,
            vectorized=False,
            n_resamples=RESAMPLES,
            confidence_level=CONFIDENCE,
            method="percentile",
            rng=np.random.default_rng(SEED),
        )
    low, high = res.confidence_interval
    if math.isnan(low) or math.isnan(high):
        return None
    return [round(float(low), 4), round(float(high), 4)]


def agreement(annotations: list[Annotation]) -> dict[str, Any]:
    """Per-annotator accuracy (overall and per value), Cohen's kappa against the intended
    value, and Krippendorff's alpha with the intended value as one more rater, each with its
    95% interval (`*_ci`: Wilson for accuracies, bootstrap over actions for kappa and alpha)."""
    from sklearn.metrics import cohen_kappa_score  # slow to import: only when needed

    by_annotator: dict[str, dict[str, Annotation]] = defaultdict(dict)
    for a in annotations:
        by_annotator[a.annotator][a.action_id] = a
    action_ids = sorted({a.action_id for a in annotations})
    intended = {a.action_id: a.value for a in annotations}
    result: dict[str, Any] = {"actions": len(action_ids), "annotators": {}}
    for name, rows in sorted(by_annotator.items()):
        answered = [a for a in rows.values() if a.predicted_value is not None]
        per_value: dict[str, float] = {}
        per_value_ci: dict[str, list[float] | None] = {}
        for v in SchwartzValue:
            of_v = [a for a in answered if a.value == v.value]
            if of_v:
                hits = sum(bool(a.agrees) for a in of_v)
                per_value[v.value] = round(hits / len(of_v), 4)
                per_value_ci[v.value] = wilson(hits, len(of_v))
        truth = [a.value for a in answered]
        said = [a.predicted_value for a in answered]

        def kappa_of(idx: np.ndarray, truth: list = truth, said: list = said) -> float | None:
            t, p = [truth[i] for i in idx], [said[i] for i in idx]
            if len(set(t) | set(p)) < 2:
                return None
            return float(cohen_kappa_score(t, p))

        kappa = None
        if len({a.value for a in answered} | {a.predicted_value for a in answered}) > 1:
            kappa = round(
                float(
                    cohen_kappa_score(
                        [a.value for a in answered], [a.predicted_value for a in answered]
                    )
                ),
                4,
            )
        hits = sum(bool(a.agrees) for a in answered)
        result["annotators"][name] = {
            "annotated": len(rows),
            "answered": len(answered),
            "accuracy": round(hits / len(answered), 4) if answered else None,
            "accuracy_ci": wilson(hits, len(answered)),
            "per_value_accuracy": per_value,
            "per_value_accuracy_ci": per_value_ci,
            "cohen_kappa_vs_intended": kappa,
            "cohen_kappa_vs_intended_ci": bootstrap_ci(len(answered), kappa_of)
            if kappa is not None
            else None,
        }
    raters: list[list[str | None]] = [[intended[i] for i in action_ids]]
    raters += [
        [rows[i].predicted_value if i in rows else None for i in action_ids]
        for _, rows in sorted(by_annotator.items())
    ]
    result["krippendorff_alpha_with_intended"] = _alpha(raters)
    result["krippendorff_alpha_with_intended_ci"] = (
        bootstrap_ci(len(action_ids), lambda idx: _alpha([[r[i] for i in idx] for r in raters]))
        if result["krippendorff_alpha_with_intended"] is not None
        else None
    )
    result["krippendorff_alpha_annotators"] = _alpha(raters[1:]) if len(raters) > 2 else None
    return result
