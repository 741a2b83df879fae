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


def agreement(annotations: list[Annotation]) -> dict[str, Any]:
    """Per-annotator accuracy (overall and per value), Cohen's kappa against the intended
    value, and Krippendorff's alpha with the intended value as one more rater."""
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
        for v in SchwartzValue:
            of_v = [a for a in answered if a.value == v.value]
            if of_v:
                per_value[v.value] = round(sum(bool(a.agrees) for a in of_v) / len(of_v), 4)
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
        result["annotators"][name] = {
            "annotated": len(rows),
            "answered": len(answered),
            "accuracy": round(sum(bool(a.agrees) for a in answered) / len(answered), 4)
            if answered
            else None,
            "per_value_accuracy": per_value,
            "cohen_kappa_vs_intended": kappa,
        }
    raters: list[list[str | None]] = [[intended[i] for i in action_ids]]
    raters += [
        [rows[i].predicted_value if i in rows else None for i in action_ids]
        for _, rows in sorted(by_annotator.items())
    ]
    result["krippendorff_alpha_with_intended"] = _alpha(raters)
    result["krippendorff_alpha_annotators"] = _alpha(raters[1:]) if len(raters) > 2 else None
    return result
