"""Measure the offline value annotator on labelled model-style actions, next to the first one.

    PYTHONPATH=$PWD python scripts/eval_annotator.py [--data tests/fixtures/annotator_heldout.jsonl]
    PYTHONPATH=$PWD python scripts/eval_annotator.py --write-weights   # refit the shipped weights

The default data is the held-out part, written apart from the training part and never used to
fit or tune anything. Printed: ten-way accuracy, per-value accuracy (recall of the intended
value), answer shares and "select the value" among four, for
- `prototype-v1`: today's annotator until offline version 2 (cosine to the mean of each value's
  description and three short exemplars, which are kept here to reproduce it);
- `classifier-alone`: the classifier on each action by itself (as `value-check` without
  scenarios);
- `classifier-contrast`: the classifier against its scenario's candidates (as `annotate`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from pipeline.embeddings import Embedder
from pipeline.llm.offline_annotator import (
    VALUES,
    ValueClassifier,
    _data_file,
    evaluate,
    load_labelled,
    scenario_scores,
    training_scenarios,
)
from schemas import VALUE_DESCRIPTIONS

ROOT = Path(__file__).resolve().parent.parent
V1_EXEMPLARS: dict[str, tuple[str, str, str]] = {
    "Self-Direction": (
        "I will decide for myself and follow my own path.",
        "I choose independently, on my own terms, whatever others think.",
        "I explore my own ideas and keep my freedom to choose.",
    ),
    "Stimulation": (
        "I go for the exciting, adventurous and new option.",
        "I take the risky challenge because it would be thrilling.",
        "I try something novel instead of the same routine.",
    ),
    "Hedonism": (
        "I do what I would enjoy most and treat myself.",
        "I choose the fun, pleasurable option and relax.",
        "I put my own comfort and enjoyment first.",
    ),
    "Achievement": (
        "I push for the option that advances my career and shows my competence.",
        "I work hard to succeed and be recognised as capable.",
        "I pick what helps me reach my ambitious goals.",
    ),
    "Power": (
        "I take control and use my position to get authority over others.",
        "I choose the option that raises my status, wealth and influence.",
        "I make sure I have the upper hand and the leverage.",
    ),
    "Security": (
        "I choose the safe, stable option and avoid risk.",
        "I protect my savings and keep things predictable.",
        "I keep a safety net and do nothing that endangers my stability.",
    ),
    "Conformity": (
        "I follow the rules and do what is expected of me.",
        "I avoid upsetting anyone and behave politely and properly.",
        "I go along with what my boss and family expect.",
    ),
    "Tradition": (
        "I respect my family's customs and the way things have always been done.",
        "I follow my religion and cultural traditions.",
        "I honour the traditions I grew up with.",
    ),
    "Benevolence": (
        "I help my family and close friends even if it costs me.",
        "I put the wellbeing of the people I love first.",
        "I stay loyal and supportive to those close to me.",
    ),
    "Universalism": (
        "I choose what is fair and just for everyone, including strangers.",
        "I consider the wider world, equality and the environment.",
        "I act with tolerance and care for all people and nature.",
    ),
}


def prototype_v1_scores(embedder: Embedder, scenarios: list) -> list[np.ndarray]:
    protos = []
    for v in VALUES:
        vecs = embedder.encode([f"{v.value}: {VALUE_DESCRIPTIONS[v]}", *V1_EXEMPLARS[v.value]])
        centre = vecs.mean(axis=0)
        protos.append(centre / np.linalg.norm(centre))
    p = np.asarray(protos)
    out, at = [], 0
    vecs = embedder.encode([t for s in scenarios for t in s.actions.values()])
    for s in scenarios:
        out.append(vecs[at : at + len(s.actions)] @ p.T)
        at += len(s.actions)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / "tests/fixtures/annotator_heldout.jsonl")
    ap.add_argument("--write-weights", action="store_true", help="refit and write weights.npz")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    embedder = Embedder()
    if args.write_weights:
        clf = ValueClassifier.fit(embedder, training_scenarios())
        clf.save(_data_file("weights.npz"))
        print(f"wrote {_data_file('weights.npz')} (stamp {clf.stamp})")
        return
    scenarios = load_labelled(args.data)
    clf = ValueClassifier.bundled(embedder)
    results = {
        "prototype-v1": evaluate(scenarios, prototype_v1_scores(embedder, scenarios)),
        "classifier-alone": evaluate(
            scenarios, scenario_scores(clf, embedder, scenarios, contrast=False)
        ),
        "classifier-contrast": evaluate(scenarios, scenario_scores(clf, embedder, scenarios)),
    }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{args.data.name}: {len(scenarios)} scenarios")
    names = list(results)
    print(f"{'':24}" + "".join(f"{n:>22}" for n in names))
    for key in ("actions", "ten_way", "select_the_value"):
        print(f"{key:24}" + "".join(f"{results[n][key]:>22}" for n in names))
    for section in ("per_value", "select_per_value", "answered_share"):
        print(section)
        for v in VALUES:
            row = "".join(f"{results[n][section][v.value]:>22.2f}" for n in names)  # type: ignore[index]
            print(f"  {v.value:22}" + row)


if __name__ == "__main__":
    main()
