from pipeline.agreement import agreement
from schemas import Annotation, SchwartzValue

VALUES = [v.value for v in SchwartzValue]


def ann(i: int, value: str, predicted: str | None, who: str = "m1") -> Annotation:
    return Annotation(
        action_id=f"a{i}",
        annotator=who,
        value=value,
        predicted_value=predicted,
        agrees=None if predicted is None else predicted == value,
        confidence=None,
        request_id="r",
    )


def test_perfect_agreement() -> None:
    rows = [ann(i, v, v) for i, v in enumerate(VALUES * 2)]
    a = agreement(rows)
    m1 = a["annotators"]["m1"]
    assert m1["accuracy"] == 1.0 and m1["cohen_kappa_vs_intended"] == 1.0
    assert set(m1["per_value_accuracy"].values()) == {1.0}
    assert a["krippendorff_alpha_with_intended"] == 1.0


def test_partial_agreement_and_missing_answers() -> None:
    rows = [ann(i, v, v) for i, v in enumerate(VALUES)]
    rows += [ann(10 + i, v, VALUES[(i + 1) % 10]) for i, v in enumerate(VALUES)]  # all wrong
    rows.append(ann(99, VALUES[0], None))  # no valid answer
    rows += [ann(i, v, v, who="m2") for i, v in enumerate(VALUES)]
    a = agreement(rows)
    m1 = a["annotators"]["m1"]
    assert (m1["annotated"], m1["answered"], m1["accuracy"]) == (21, 20, 0.5)
    assert m1["per_value_accuracy"]["Hedonism"] == 0.5
    assert 0 < a["krippendorff_alpha_with_intended"] < 1
    assert a["krippendorff_alpha_annotators"] is not None


def test_every_figure_has_its_95_percent_interval_and_the_interval_holds_it() -> None:
    import random

    rng = random.Random(5)
    rows = []
    for i in range(300):
        v = VALUES[i % 10]
        rows.append(ann(i, v, v if rng.random() < 0.7 else rng.choice(VALUES)))
    a = agreement(rows)
    m1 = a["annotators"]["m1"]
    low, high = m1["accuracy_ci"]
    assert low < m1["accuracy"] < high and high - low < 0.15  # Wilson, n = 300
    low, high = m1["cohen_kappa_vs_intended_ci"]
    assert low < m1["cohen_kappa_vs_intended"] < high
    low, high = a["krippendorff_alpha_with_intended_ci"]
    assert low < a["krippendorff_alpha_with_intended"] < high
    assert set(m1["per_value_accuracy_ci"]) == set(VALUES)
    assert agreement(rows) == a  # seeded: the same intervals every run
