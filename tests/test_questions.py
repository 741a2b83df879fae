from collections import Counter

import pytest

from pipeline.generate import action_id, check_action, sentence_count
from pipeline.questions import AssemblyError, assemble
from pipeline.settings import GenerationSettings
from schemas import Action, ActionAnswer, SchwartzValue

GENERATORS = ["gen-a", "gen-b"]


def actions(sid: str = "s1") -> list[Action]:
    return [
        Action(
            action_id=action_id(sid, g, v),
            scenario_id=sid,
            generator=g,
            value=v.value,
            text=f"{g} {v.value}",
            placeholder=False,
            request_id="r",
        )
        for g in GENERATORS
        for v in SchwartzValue
    ]


@pytest.mark.parametrize("seed", range(200))
def test_questions_have_the_study_structure(seed: int) -> None:
    acts = actions()
    qs = assemble("s1", acts, seed, 4, 10_000)
    assert len(qs) == 5
    assert all(len(q.action_ids) == 4 and len(set(q.values)) == 4 for q in qs)
    used = [a for q in qs for a in q.action_ids]
    assert sorted(used) == sorted(a.action_id for a in acts)  # every candidate exactly once
    assert Counter(v for q in qs for v in q.values) == {v.value: 2 for v in SchwartzValue}
    by_id = {a.action_id: a.value for a in acts}
    assert all(by_id[a] == v for q in qs for a, v in zip(q.action_ids, q.values, strict=True))


def test_assembly_is_reproducible_and_seeded() -> None:
    a = assemble("s1", actions(), 1, 4, 10_000)
    b = assemble("s1", list(reversed(actions())), 1, 4, 10_000)
    c = assemble("s1", actions(), 2, 4, 10_000)
    assert [q.action_ids for q in a] == [q.action_ids for q in b]
    assert [q.action_ids for q in a] != [q.action_ids for q in c]


def test_assembly_refuses_incomplete_sets() -> None:
    with pytest.raises(AssemblyError):
        assemble("s1", actions()[:-1], 1, 4, 10_000)
    lopsided = actions()
    lopsided[0] = lopsided[0].model_copy(update={"value": SchwartzValue.POWER.value})
    with pytest.raises(AssemblyError):
        assemble("s1", lopsided, 1, 4, 10_000)


def test_action_answers_are_checked() -> None:
    check = check_action(GenerationSettings())
    assert check(ActionAnswer(action="I would stay. Then I would ask for a raise.")) is None
    assert check(ActionAnswer(action="  ")) == "empty action"
    assert "sentences" in check(ActionAnswer(action="One. Two. Three."))
    assert "words" in check(ActionAnswer(action="word " * 80))
    assert sentence_count("I would go (e.g. by train) now.") == 1
    assert sentence_count("I would ask Dr. Lee and Mr. Cho, i.e. my mentors, first.") == 1
    assert sentence_count("I would move to the U.S. next year. Then I would apply.") == 2
    assert sentence_count("I would wait... Then I would decide!") == 2
