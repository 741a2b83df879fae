"""Agreement between the value an action was written for and what annotators read in it.

Every figure comes from a library (scikit-learn, krippendorff, statsmodels, scipy) with its 95%
interval: Wilson for proportions, a seeded percentile bootstrap over the units for the rest.
`agreement` reads annotations only (the annotate stage's `agreement.json`); `store_agreement`
adds what needs the store: breakdowns by category and generator, the study's "select the
value" check over the questions, and the judge panel's agreement from filtering."""

from __future__ import annotations

import math
import warnings
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import numpy as np

from schemas import Annotation, JudgeVote, Question, SchwartzValue

if TYPE_CHECKING:
    from pipeline.store import Store

LABELS = [v.value for v in SchwartzValue]
_INDEX = {v: i for i, v in enumerate(LABELS)}


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

    # A resample set with no spread (tiny or unanimous data) is reported as no interval, not
    # with scipy's DegenerateDataWarning.
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
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

        xt, xs, k = _coded(truth, said)

        def kappa_of(
            idx: np.ndarray, xt: np.ndarray = xt, xs: np.ndarray = xs, k: int = k
        ) -> float | None:
            return _kappa_codes(xt[idx], xs[idx], k)

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
        matrix = confusion(truth, said)
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
            "confusion_matrix": matrix,
        }
    raters: list[list[str | None]] = [[intended[i] for i in action_ids]]
    raters += [
        [rows[i].predicted_value if i in rows else None for i in action_ids]
        for _, rows in sorted(by_annotator.items())
    ]
    coded = np.array([[_INDEX.get(v or "", np.nan) for v in row] for row in raters], dtype=float)
    result["krippendorff_alpha_with_intended"] = _alpha(raters)
    result["krippendorff_alpha_with_intended_ci"] = (
        bootstrap_ci(len(action_ids), lambda idx: _alpha_codes(coded[:, idx]))
        if result["krippendorff_alpha_with_intended"] is not None
        else None
    )
    result["krippendorff_alpha_annotators"] = _alpha(raters[1:]) if len(raters) > 2 else None
    result["krippendorff_alpha_annotators_ci"] = (
        bootstrap_ci(len(action_ids), lambda idx: _alpha_codes(coded[1:, idx]))
        if result["krippendorff_alpha_annotators"] is not None
        else None
    )
    result["fleiss_kappa_with_intended"], result["fleiss_kappa_with_intended_ci"] = fleiss(raters)
    result["fleiss_kappa_annotators"], result["fleiss_kappa_annotators_ci"] = (
        fleiss(raters[1:]) if len(raters) > 2 else (None, None)
    )
    result["pairwise"] = pairwise(annotations) if len(by_annotator) > 1 else {}
    return result


def confusion(truth: list[str], said: list[str | None]) -> dict[str, Any]:
    """Intended (rows) x predicted (columns) counts over the ten values (scikit-learn's)."""
    from sklearn.metrics import confusion_matrix

    pairs = [(t, p) for t, p in zip(truth, said, strict=True) if t in _INDEX and p in _INDEX]
    if not pairs:
        return {"labels": LABELS, "matrix": [[0] * len(LABELS) for _ in LABELS]}
    m = confusion_matrix([t for t, _ in pairs], [p for _, p in pairs], labels=LABELS)
    return {"labels": LABELS, "matrix": m.tolist()}


def _fleiss(rows: list[list[str | None]]) -> float | None:
    """Fleiss' kappa (statsmodels) over the units every rater answered; None if undefined."""

    coded = np.array([[_INDEX.get(v or "", -1) for v in r] for r in rows], dtype=int)
    return _fleiss_codes(coded)


def _fleiss_codes(coded: np.ndarray) -> float | None:
    """Fleiss' kappa of coded raters (rows) x units (columns, -1: no answer)."""
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

    units = coded[:, (coded >= 0).all(axis=0)].T
    if len(units) < 2 or len(np.unique(units)) < 2:
        return None
    table, _ = aggregate_raters(units, n_cat=len(LABELS))
    with np.errstate(all="ignore"):
        k = float(fleiss_kappa(table, method="fleiss"))
    return None if math.isnan(k) else round(k, 4)


def fleiss(rows: list[list[str | None]]) -> tuple[float | None, list[float] | None]:
    """Fleiss' kappa of raters (rows) x units (columns) and its bootstrap interval."""
    coded = np.array([[_INDEX.get(v or "", -1) for v in r] for r in rows], dtype=int)
    k = _fleiss_codes(coded)
    if k is None:
        return None, None
    return k, bootstrap_ci(coded.shape[1], lambda idx: _fleiss_codes(coded[:, idx]))


def _kappa_codes(x: np.ndarray, y: np.ndarray, k: int) -> float | None:
    """Cohen's kappa of two coded raters from their k x k table (statsmodels'; the same value
    as scikit-learn's, a hundred times faster, which the bootstrap's resamples need)."""
    from statsmodels.stats.inter_rater import cohens_kappa

    if len(x) < 2 or len(np.union1d(x, y)) < 2:
        return None
    table = np.bincount(x * k + y, minlength=k * k).reshape(k, k)
    with np.errstate(all="ignore"):
        value = float(cohens_kappa(table, return_results=False))
    return None if math.isnan(value) else round(value, 4)


def _coded(a: list[Any], b: list[Any]) -> tuple[np.ndarray, np.ndarray, int]:
    codes = {c: i for i, c in enumerate(sorted({str(v) for v in [*a, *b]}))}
    return (
        np.array([codes[str(v)] for v in a], dtype=int),
        np.array([codes[str(v)] for v in b], dtype=int),
        max(len(codes), 1),
    )


def kappa_block(a: list[Any], b: list[Any], with_alpha: bool = True) -> dict[str, Any]:
    """Two raters over the same units: how many, percent agreement (Wilson interval), Cohen's
    kappa and (unless `with_alpha` is off: breakdowns skip it, each bootstrap costs seconds
    on a large release) Krippendorff's alpha, with bootstrap intervals."""
    n = len(a)
    same = sum(x == y for x, y in zip(a, b, strict=True))
    xa, xb, k = _coded(a, b)

    def alpha_of(idx: np.ndarray) -> float | None:
        return _alpha_codes(np.stack([xa[idx], xb[idx]]).astype(float))

    def kappa_of(idx: np.ndarray) -> float | None:
        return _kappa_codes(xa[idx], xb[idx], k)

    kappa = kappa_of(np.arange(n))
    alpha = alpha_of(np.arange(n)) if with_alpha else None
    return {
        "items": n,
        "percent_agreement": round(same / n, 4) if n else None,
        "percent_agreement_ci": wilson(same, n),
        "cohen_kappa": kappa,
        "cohen_kappa_ci": None if kappa is None else bootstrap_ci(n, kappa_of),
        "krippendorff_alpha": alpha,
        "krippendorff_alpha_ci": None if alpha is None else bootstrap_ci(n, alpha_of),
    }


def _alpha_codes(data: np.ndarray) -> float | None:
    if data.shape[1] < 2 or len(np.unique(data[~np.isnan(data)])) < 2:
        return None
    import krippendorff

    a = float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))
    return None if math.isnan(a) else round(a, 4)


def pairwise(annotations: list[Annotation]) -> dict[str, dict[str, Any]]:
    """Each pair of annotators over the actions both answered (`"a vs b"`)."""
    said: dict[str, dict[str, str]] = defaultdict(dict)
    for a in annotations:
        if a.predicted_value is not None:
            said[a.annotator][a.action_id] = a.predicted_value
    names = sorted(said)
    out: dict[str, dict[str, Any]] = {}
    for i, x in enumerate(names):
        for y in names[i + 1 :]:
            shared = sorted(set(said[x]) & set(said[y]))
            out[f"{x} vs {y}"] = kappa_block(
                [said[x][k] for k in shared], [said[y][k] for k in shared]
            )
    return out


def breakdown(annotations: list[Annotation], group_of: dict[str, str]) -> dict[str, Any]:
    """Accuracy and Cohen's kappa against the intended value per annotator, within each group
    (a category, a generator) of actions."""
    groups: dict[str, list[Annotation]] = defaultdict(list)
    for a in annotations:
        if a.predicted_value is not None and a.action_id in group_of:
            groups[group_of[a.action_id]].append(a)
    out: dict[str, Any] = {}
    for group, rows in sorted(groups.items()):
        per: dict[str, Any] = {}
        by_name: dict[str, list[Annotation]] = defaultdict(list)
        for a in rows:
            by_name[a.annotator].append(a)
        for name, mine in sorted(by_name.items()):
            block = kappa_block(
                [a.value for a in mine], [a.predicted_value for a in mine], with_alpha=False
            )
            per[name] = {
                "answered": block["items"],
                "accuracy": block["percent_agreement"],
                "accuracy_ci": block["percent_agreement_ci"],
                "cohen_kappa_vs_intended": block["cohen_kappa"],
                "cohen_kappa_vs_intended_ci": block["cohen_kappa_ci"],
            }
        out[group] = {"actions": len({a.action_id for a in rows}), "annotators": per}
    return out


def _pick(options: list[Annotation], value: str) -> int | None:
    """Which option an annotator picks for a named value: the one whose probability for it is
    highest when it gave scores (as the study asks: the best fit among the options), else the
    only one it labelled with that value (None: it labelled none, or several, with it)."""
    scores = [a.scores for a in options]  # a probability per value, in SchwartzValue order
    if value in _INDEX and all(sc is not None and len(sc) == len(_INDEX) for sc in scores):
        vals = [float(sc[_INDEX[value]]) for sc in scores]  # type: ignore[index]
        best = max(vals)
        return vals.index(best) if vals.count(best) == 1 else None
    hits = [i for i, a in enumerate(options) if a.predicted_value == value]
    return hits[0] if len(hits) == 1 else None


def select_the_value(annotations: list[Annotation], questions: list[Question]) -> dict[str, Any]:
    """The study's check: for each value named in a question, does the annotator pick the
    option written for it among the question's options; per annotator, overall and per value,
    with Wilson intervals. A question with an option the annotator did not answer is left out."""
    by: dict[tuple[str, str], Annotation] = {(a.annotator, a.action_id): a for a in annotations}
    names = sorted({a.annotator for a in annotations})
    out: dict[str, Any] = {}
    for name in names:
        hits: dict[str, list[int]] = {v: [0, 0] for v in LABELS}
        for q in questions:
            opts = [by.get((name, aid)) for aid in q.action_ids]
            if any(o is None or o.predicted_value is None for o in opts):
                continue
            for i, value in enumerate(q.values):
                if value not in hits:
                    continue
                hits[value][1] += 1
                hits[value][0] += int(_pick(opts, value) == i)  # type: ignore[arg-type]
        ok, n = sum(h[0] for h in hits.values()), sum(h[1] for h in hits.values())
        out[name] = {
            "picks": n,
            "accuracy": round(ok / n, 4) if n else None,
            "accuracy_ci": wilson(ok, n),
            "per_value_accuracy": {v: round(h[0] / h[1], 4) for v, h in hits.items() if h[1]},
            "per_value_accuracy_ci": {v: wilson(h[0], h[1]) for v, h in hits.items() if h[1]},
        }
    return out


def judge_agreement(votes: list[JudgeVote]) -> dict[str, Any]:
    """The judge panel's agreement in filtering: the two judges (not the tiebreaker) over the
    posts both answered; how often the tiebreaker was needed."""
    said: dict[str, dict[str, bool]] = defaultdict(dict)
    tiebroken = 0
    for v in votes:
        if v.role == "tiebreaker":
            tiebroken += 1
        elif v.is_decision is not None:
            said[v.model][v.post_id] = v.is_decision
    names = sorted(said)
    if len(names) < 2:
        return {"judges": names}
    x, y = names[0], names[1]
    shared = sorted(set(said[x]) & set(said[y]))
    block = kappa_block([said[x][p] for p in shared], [said[y][p] for p in shared])
    return {"judges": [x, y], **block, "posts": len(shared), "tiebreaker_votes": tiebroken}


def store_agreement(store: Store, action_ids: set[str] | None = None) -> dict[str, Any]:
    """`agreement` of the stored annotations (of `action_ids` when given) plus the breakdowns by
    category and generator, "select the value" over the stored questions, and the judge
    panel's agreement."""
    annotations = [
        a for a in store.load(Annotation) if action_ids is None or a.action_id in action_ids
    ]
    result = agreement(annotations)
    rows = store.query(
        "SELECT a.action_id, a.generator, s.category FROM actions a "
        "LEFT JOIN scenarios s USING (scenario_id)"
    )
    result["by_category"] = breakdown(
        annotations, {r["action_id"]: r["category"] for r in rows if r["category"]}
    )
    result["by_generator"] = breakdown(annotations, {r["action_id"]: r["generator"] for r in rows})
    questions = store.load(Question, order="question_id")
    if action_ids is not None:
        questions = [q for q in questions if set(q.action_ids) <= action_ids]
    result["select_the_value"] = select_the_value(annotations, questions)
    result["judge_panel"] = judge_agreement(store.load(JudgeVote))
    return result
