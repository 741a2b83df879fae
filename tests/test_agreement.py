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


def test_confusion_matrix_fleiss_and_pairwise_across_annotators() -> None:
    import random

    rng = random.Random(11)
    rows = []
    for i in range(200):
        v = VALUES[i % 10]
        for who, acc in (("m1", 0.8), ("m2", 0.6), ("m3", 0.7)):
            rows.append(ann(i, v, v if rng.random() < acc else rng.choice(VALUES), who=who))
    a = agreement(rows)
    m1 = a["annotators"]["m1"]
    cm = m1["confusion_matrix"]
    assert cm["labels"] == VALUES and sum(map(sum, cm["matrix"])) == 200
    assert sum(cm["matrix"][i][i] for i in range(10)) == round(m1["accuracy"] * 200)
    for key in ("fleiss_kappa_annotators", "fleiss_kappa_with_intended"):
        low, high = a[f"{key}_ci"]
        assert 0 < low < a[key] < high < 1
    assert set(a["pairwise"]) == {"m1 vs m2", "m1 vs m3", "m2 vs m3"}
    pair = a["pairwise"]["m1 vs m2"]
    assert pair["items"] == 200 and pair["cohen_kappa_ci"][0] < pair["cohen_kappa"]
    low, high = a["krippendorff_alpha_annotators_ci"]
    assert low < a["krippendorff_alpha_annotators"] < high


def test_breakdowns_select_the_value_and_the_judge_panel() -> None:
    from pipeline.agreement import breakdown, judge_agreement, select_the_value
    from schemas import JudgeVote, Question

    # one question per 4 actions; m1 reads every action right except Power (read as Achievement)
    rows, questions = [], []
    for q in range(10):
        values = [VALUES[(q + k) % 10] for k in range(4)]
        ids = [q * 4 + k for k in range(4)]
        for i, v in zip(ids, values, strict=True):
            rows.append(ann(i, v, "Achievement" if v == "Power" else v))
        questions.append(
            Question(
                question_id=f"q{q}",
                scenario_id="s",
                question_index=q,
                action_ids=[f"a{i}" for i in ids],
                values=values,
            )
        )
    sel = select_the_value(rows, questions)["m1"]
    assert sel["picks"] == 40
    assert sel["per_value_accuracy"]["Hedonism"] == 1.0
    assert sel["per_value_accuracy"]["Power"] == 0.0  # no option read as Power
    # Achievement next to Power: two options read as Achievement, so no single pick
    assert sel["per_value_accuracy"]["Achievement"] < 1.0
    group = {f"a{i}": ("cat-a" if i < 20 else "cat-b") for i in range(40)}
    by = breakdown(rows, group)
    assert set(by) == {"cat-a", "cat-b"} and by["cat-a"]["annotators"]["m1"]["answered"] == 20
    votes = []
    for p in range(60):
        first = p % 3 != 0
        second = first if p % 5 else not first
        votes += [
            JudgeVote(
                post_id=f"p{p}",
                model="j1",
                role="judge",
                is_decision=first,
                reason="",
                request_id="r",
            ),
            JudgeVote(
                post_id=f"p{p}",
                model="j2",
                role="judge",
                is_decision=second,
                reason="",
                request_id="r",
            ),
        ]
    judges = judge_agreement(votes)
    assert judges["judges"] == ["j1", "j2"] and judges["items"] == 60
    assert judges["percent_agreement"] == 0.8
    assert judges["cohen_kappa_ci"][0] < judges["cohen_kappa"] < judges["cohen_kappa_ci"][1]
    assert judges["krippendorff_alpha"] is not None


def test_select_the_value_uses_an_annotators_per_value_probabilities() -> None:
    """Two options both read as Achievement: with scores, the one more Achievement-like is the
    pick (the study's "which option best fits the value"), so the check can still succeed."""
    from pipeline.agreement import select_the_value
    from schemas import Question

    values = ["Power", "Achievement", "Hedonism", "Security"]
    rows = []
    for i, v in enumerate(values):
        scores = [0.0] * 10
        top = "Achievement" if v == "Power" else v
        scores[VALUES.index(top)] = 0.6 if v == "Power" else 0.9
        scores[VALUES.index(v)] += 0.3 if v == "Power" else 0.0
        rows.append(ann(i, v, top).model_copy(update={"scores": scores}))
    question = Question(
        question_id="q", scenario_id="s", question_index=0,
        action_ids=[f"a{i}" for i in range(4)], values=values,
    )  # fmt: skip
    sel = select_the_value(rows, [question])["m1"]
    assert sel["per_value_accuracy"]["Achievement"] == 1.0  # 0.9 beats the Power option's 0.6
    assert sel["per_value_accuracy"]["Power"] == 1.0  # only the Power option scores Power
