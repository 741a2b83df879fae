"""The published configs of a ValAct release; their HF features derive from these models."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ScenarioRow(BaseModel):
    scenario_id: str
    category: str
    subreddit: str
    title: str
    text: str
    post_id: str
    permalink: str | None
    created_utc: int
    # sha256 of the released title and text (`pipeline.release.text_sha`): what a masked
    # release's text must hash to when it is rehydrated from Reddit or from dumps.
    text_sha256: str = ""  # set once the text is scrubbed


class ActionRow(BaseModel):
    action_id: str
    scenario_id: str
    generator: str
    value: str
    text: str
    placeholder: bool
    annotators: list[str]
    predicted_values: list[str | None]
    value_check_passed: bool | None
    regenerations: int = Field(
        0, description="Times the generator was re-asked before this text passed the value check"
    )


class QuestionRow(BaseModel):
    question_id: str
    scenario_id: str
    question_index: int
    category: str
    subreddit: str
    scenario: str
    options: list[str]
    option_values: list[str]
    option_action_ids: list[str]
    option_generators: list[str]


RELEASE_CONFIGS: dict[str, type[BaseModel]] = {
    "scenarios": ScenarioRow,
    "actions": ActionRow,
    "questions": QuestionRow,
}
