"""The offline value annotator: a probability per value for an action, with no model server.

A multinomial logistic regression on MiniLM sentence embeddings, trained on the project's own
labelled examples: model-style actions written for scenarios and a target value
(`pipeline/data/annotator/train.jsonl`) plus the PVQ-style portraits of `VALUE_EXEMPLARS`.
Similarity to one prototype per value (the first offline annotator) read most actions as their
topic (a career question "is" Achievement); two things fix most of that:

- contrast: when an action comes with its scenario's other candidates, the mean of their
  embeddings (what they share: the scenario's topic and the generator's phrasing) is
  subtracted before classifying, so what is left is what sets this action apart;
- a classifier instead of nearest prototype, so the weights learn which directions of the
  embedding separate the values rather than weighting all 384 dimensions alike.

Two models are fitted: `centred` for an action with at least `MIN_CONTRAST` candidates, `raw`
for an action alone. The fitted weights ship as `weights.npz` next to the training data,
stamped with a fingerprint of everything that determines them; when the data or settings
change and the stamp no longer matches, the models are refitted at load (deterministic:
lbfgs, fixed data order) and `scripts/eval_annotator.py --write-weights` refreshes the file.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import softmax

from schemas import VALUE_EXEMPLARS, SchwartzValue

if TYPE_CHECKING:
    from pipeline.embeddings import Embedder

log = logging.getLogger(__name__)

VALUES: tuple[SchwartzValue, ...] = tuple(SchwartzValue)
# An action is contrasted with its scenario's candidates only when there are this many (itself
# included): the mean of two or three actions is mostly the actions themselves.
MIN_CONTRAST = 5
# Inverse regularisation strength, chosen by 6-fold cross-validation grouped by scenario on the
# training part only (1, 3 and 10 tried; 3 best for both models).
_C = 3.0
_DATA = "data/annotator"


@dataclass(frozen=True)
class LabelledScenario:
    """A scenario with one action written for each of (some of) the ten values."""

    id: str
    kind: str
    scenario: str
    actions: dict[SchwartzValue, str]


def load_labelled(path: Path | str) -> list[LabelledScenario]:
    """A JSON-lines file of {"id", "kind", "scenario", "actions": {value name: text}}."""
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out.append(
                LabelledScenario(
                    id=row["id"],
                    kind=row.get("kind", ""),
                    scenario=row.get("scenario", ""),
                    actions={SchwartzValue(k): v for k, v in row["actions"].items()},
                )
            )
    return out


def _data_file(name: str) -> Path:
    return Path(str(resources.files("pipeline").joinpath(f"{_DATA}/{name}")))


def training_scenarios() -> list[LabelledScenario]:
    """The bundled training actions, then the exemplars as pseudo-scenarios (the i-th exemplar
    of every value together), so both models learn from both."""
    scenarios = load_labelled(_data_file("train.jsonl"))
    n = min(len(e) for e in VALUE_EXEMPLARS.values())
    scenarios += [
        LabelledScenario(
            f"exemplars-{i}", "exemplar", "", {v: VALUE_EXEMPLARS[v][i] for v in VALUES}
        )
        for i in range(n)
    ]
    return scenarios


def fingerprint(scenarios: list[LabelledScenario], embedder_name: str) -> str:
    """What the weights depend on: the examples, the regularisation and the embedding model
    (not its backend: fp32, ONNX and bf16 vectors differ too little to refit for)."""
    blob = json.dumps(
        [[s.id, sorted((v.value, t) for v, t in s.actions.items())] for s in scenarios]
        + [_C, MIN_CONTRAST, embedder_name],
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class _Linear:
    """A fitted multinomial logistic regression: probabilities = softmax(x @ coef.T + bias)."""

    coef: np.ndarray
    bias: np.ndarray

    def proba(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(softmax(x @ self.coef.T + self.bias, axis=-1), dtype=np.float64)


def _fit(x: np.ndarray, y: np.ndarray) -> _Linear:
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=_C, max_iter=5000, random_state=0).fit(x, y)
    assert list(clf.classes_) == list(range(len(VALUES)))
    return _Linear(clf.coef_.astype(np.float64), clf.intercept_.astype(np.float64))


class ValueClassifier:
    """Per-value probabilities for actions, in `VALUES` order."""

    def __init__(self, raw: _Linear, centred: _Linear, stamp: str) -> None:
        self.raw, self.centred, self.stamp = raw, centred, stamp

    @classmethod
    def fit(cls, embedder: Embedder, scenarios: list[LabelledScenario]) -> ValueClassifier:
        vecs = embedder.encode([t for s in scenarios for t in s.actions.values()])
        xs, cs, ys, at = [], [], [], 0
        for s in scenarios:
            block = vecs[at : at + len(s.actions)]
            at += len(s.actions)
            xs.append(block)
            cs.append(block - block.mean(axis=0))
            ys += [VALUES.index(v) for v in s.actions]
        y = np.asarray(ys)
        return cls(
            _fit(np.concatenate(xs), y),
            _fit(np.concatenate(cs), y),
            fingerprint(scenarios, embedder.model_name),
        )

    @classmethod
    def bundled(cls, embedder: Embedder) -> ValueClassifier:
        """The shipped weights if they match the bundled data, else a fresh fit."""
        scenarios = training_scenarios()
        stamp = fingerprint(scenarios, embedder.model_name)
        path = _data_file("weights.npz")
        if path.exists():
            with np.load(path) as w:
                if str(w["stamp"]) == stamp:
                    return cls(
                        _Linear(w["raw_coef"], w["raw_bias"]),
                        _Linear(w["centred_coef"], w["centred_bias"]),
                        stamp,
                    )
        log.warning("offline annotator weights are stale or missing: fitting them now")
        return cls.fit(embedder, scenarios)

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            stamp=np.asarray(self.stamp),
            raw_coef=self.raw.coef.astype(np.float32),
            raw_bias=self.raw.bias.astype(np.float32),
            centred_coef=self.centred.coef.astype(np.float32),
            centred_bias=self.centred.bias.astype(np.float32),
        )

    def proba(self, vec: np.ndarray, candidates: np.ndarray | None = None) -> np.ndarray:
        """Probabilities for one action's vector; `candidates` are the vectors of its
        scenario's candidates (itself included), used when there are enough of them."""
        if candidates is not None and len(candidates) >= MIN_CONTRAST:
            return self.centred.proba(vec - candidates.mean(axis=0))
        return self.raw.proba(vec)


def scores_dict(probs: np.ndarray) -> dict[str, float]:
    """Per-value probabilities as {value name: probability}, rounded for storage."""
    return {v.value: round(float(p), 6) for v, p in zip(VALUES, probs, strict=True)}


def scenario_scores(
    classifier: ValueClassifier,
    embedder: Embedder,
    scenarios: list[LabelledScenario],
    *,
    contrast: bool = True,
) -> list[np.ndarray]:
    """Per scenario, an (actions x values) probability matrix, actions in the scenario's order;
    with `contrast` each action is read against its scenario's other candidates."""
    vecs = embedder.encode([t for s in scenarios for t in s.actions.values()])
    out, at = [], 0
    for s in scenarios:
        block = vecs[at : at + len(s.actions)]
        at += len(s.actions)
        out.append(np.stack([classifier.proba(v, block if contrast else None) for v in block]))
    return out


def evaluate(scenarios: list[LabelledScenario], scores: list[np.ndarray]) -> dict[str, object]:
    """Ten-way accuracy, per-value accuracy (recall of the intended value), how often each
    value is answered, and the study's "select the value": for every 4 of a scenario's
    candidates and each of their values, whether the option written for it scores highest."""
    from itertools import combinations

    from sklearn.metrics import accuracy_score, recall_score

    intended, predicted, picks = [], [], []
    per_value_pick: dict[str, list[bool]] = {v.value: [] for v in VALUES}
    for s, m in zip(scenarios, scores, strict=True):
        idx = [VALUES.index(v) for v in s.actions]
        intended += idx
        predicted += [int(np.argmax(row)) for row in m]
        for combo in combinations(range(len(idx)), 4):
            for target in combo:
                ok = max(combo, key=lambda o: m[o, idx[target]]) == target
                picks.append(ok)
                per_value_pick[VALUES[idx[target]].value].append(ok)
    labels = list(range(len(VALUES)))
    recall = recall_score(intended, predicted, labels=labels, average=None, zero_division=0)
    counts = np.bincount(predicted, minlength=len(VALUES))
    return {
        "actions": len(intended),
        "ten_way": round(float(accuracy_score(intended, predicted)), 4),
        "per_value": {v.value: round(float(r), 4) for v, r in zip(VALUES, recall, strict=True)},
        "answered_share": {
            v.value: round(float(c) / len(predicted), 4)
            for v, c in zip(VALUES, counts, strict=True)
        },
        "select_the_value": round(float(np.mean(picks)), 4),
        "select_per_value": {k: round(float(np.mean(p)), 4) for k, p in per_value_pick.items()},
    }
