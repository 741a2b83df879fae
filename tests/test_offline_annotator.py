"""The offline value annotator on model-style actions it never saw (the held-out part of the
project's labelled set, `tests/fixtures/annotator_heldout.jsonl`), and its scores in a build.

Measured when written (scripts/eval_annotator.py): ten-way 74.5% with the scenario's candidates
(63.2% alone), "select the value" among four 91.7% (90.2% alone); the first prototype
annotator got 43.6% and 59.8% on the same set. The checks leave a margin for numeric drift of
the embedder, not for a worse annotator.
"""

from pathlib import Path

import numpy as np
import pytest

from pipeline.embeddings import Embedder
from pipeline.llm.offline_annotator import (
    VALUES,
    ValueClassifier,
    _data_file,
    evaluate,
    fingerprint,
    load_labelled,
    scenario_scores,
    training_scenarios,
)

HELD_OUT = Path(__file__).parent / "fixtures" / "annotator_heldout.jsonl"


@pytest.fixture(scope="module")
def figures(embedder: Embedder) -> dict[str, dict]:
    scenarios = load_labelled(HELD_OUT)
    clf = ValueClassifier.bundled(embedder)
    return {
        "contrast": evaluate(scenarios, scenario_scores(clf, embedder, scenarios)),
        "alone": evaluate(scenarios, scenario_scores(clf, embedder, scenarios, contrast=False)),
    }


def test_the_held_out_set_is_not_in_the_training_data() -> None:
    held = load_labelled(HELD_OUT)
    train = training_scenarios()
    assert len(held) >= 20 and sum(len(s.actions) for s in held) >= 200
    assert sum(len(s.actions) for s in train) >= 500
    train_texts = {t for s in train for t in s.actions.values()}
    assert not train_texts & {t for s in held for t in s.actions.values()}
    assert not {s.scenario for s in train} & {s.scenario for s in held}
    assert all(set(s.actions) == set(VALUES) for s in held)


def test_the_shipped_weights_match_the_bundled_examples(embedder: Embedder) -> None:
    """Edited examples without refreshed weights would be refitted at every load: run
    `python scripts/eval_annotator.py --write-weights`."""
    with np.load(_data_file("weights.npz")) as w:
        assert str(w["stamp"]) == fingerprint(training_scenarios(), embedder.model_name)
        assert w["centred_coef"].shape == w["raw_coef"].shape == (10, 384)


def test_ten_way_accuracy_on_held_out_model_style_actions(figures: dict) -> None:
    assert figures["contrast"]["ten_way"] >= 0.70  # measured 0.745; goal 0.65
    assert figures["alone"]["ten_way"] >= 0.58  # measured 0.632
    # No value swallows the others, as Achievement did (27% of answers on a public set).
    assert max(figures["contrast"]["answered_share"].values()) <= 0.16
    assert min(figures["contrast"]["per_value"].values()) >= 0.45


def test_select_the_value_on_held_out_model_style_actions(figures: dict) -> None:
    assert figures["contrast"]["select_the_value"] >= 0.88  # measured 0.917; goal 0.80
    assert figures["alone"]["select_the_value"] >= 0.86  # measured 0.902
    assert min(figures["contrast"]["select_per_value"].values()) >= 0.75


def test_the_backend_answers_a_value_with_a_probability_per_value(ctx) -> None:
    from pipeline.llm.offline import OfflineBackend
    from pipeline.llm.prompts import annotate_messages
    from schemas import AnnotationAnswer

    held = load_labelled(HELD_OUT)[0]
    texts = list(held.actions.values())
    backend = OfflineBackend(ctx)
    answers = []
    for candidates in (sorted(texts), []):
        request = ctx.llm.request(
            "annotate",
            "offline/minilm-values",
            annotate_messages(held.scenario, texts[0]),
            {"action": texts[0], "scenario_id": "s", "candidates": candidates},
        )
        answer = AnnotationAnswer.model_validate_json(backend.complete(request).content)
        assert answer.scores is not None and set(answer.scores) == set(VALUES)
        assert sum(answer.scores.values()) == pytest.approx(1.0, abs=1e-4)
        assert answer.value == max(answer.scores, key=lambda v: answer.scores[v])  # type: ignore[index]
        answers.append(answer)
    assert answers[0].scores != answers[1].scores  # the candidates change the reading
