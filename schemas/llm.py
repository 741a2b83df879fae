"""LLM requests and the structured answers each task must return (also sent as JSON schema)."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.json_schema import SkipJsonSchema

from schemas.values import SchwartzValue

# "generate": one action for one value; "generate_all": the actions for several values at once
# (all ten for a scenario, or the ones sent back), a JSON object keyed by value name;
# "regenerate": a new action for one value, after annotators read the last one as another.
Task = Literal["judge", "generate", "generate_all", "annotate", "regenerate"]


class JudgeAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    is_decision: bool = Field(
        description="True if the post asks for a personal decision with several defensible "
        "answers and enough context"
    )
    reason: str = Field(description="One short sentence")


class ActionAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: str = Field(
        description="The action only, within the sentence and word limits of the instructions"
    )


class AnnotationAnswer(BaseModel):
    # `scores` (a probability per value) comes from annotators that have them (the offline
    # one); it is left out of the schema sent to models (a comment, not a docstring, for the
    # same reason), so their prompt version and cached answers stay valid.
    model_config = ConfigDict(extra="forbid")
    value: SchwartzValue = Field(description="The value the action most reflects")
    scores: SkipJsonSchema[dict[SchwartzValue, float] | None] = None


def _all_required(schema: dict[str, Any]) -> None:
    """Every key required and no defaults in the schema sent, as strict structured output
    demands; the model itself defaults a missing key to "" so that one missing action is sent
    back on its own instead of failing the whole answer."""
    schema["required"] = list(schema.get("properties", {}))
    for prop in schema.get("properties", {}).values():
        prop.pop("default", None)


@cache
def actions_answer(values: tuple[SchwartzValue, ...]) -> type[BaseModel]:
    """The answer model for the actions of `values`: one string per value, the JSON key being
    the value's name ("Self-Direction"), nothing else allowed. All ten values give
    `ScenarioActionsAnswer`; a subset (the actions sent back) gives `PartialActionsAnswer`."""
    fields: dict[str, Any] = {
        v.name.lower(): (
            str,
            Field(
                "",
                alias=v.value,
                description=f"The action for {v.value} only, within the limits of the instructions",
            ),
        )
        for v in values
    }
    full = set(values) == set(SchwartzValue)
    model: type[BaseModel] = create_model(  # type: ignore[call-overload]
        "ScenarioActionsAnswer" if full else "PartialActionsAnswer",
        __config__=ConfigDict(
            extra="forbid", serialize_by_alias=True, json_schema_extra=_all_required
        ),
        __module__=__name__,
        **fields,
    )
    return model


def action_texts(answer: BaseModel) -> dict[SchwartzValue, str]:
    """An `actions_answer` instance as value -> text."""
    return {SchwartzValue(k): v for k, v in answer.model_dump(by_alias=True).items()}


ScenarioActionsAnswer = actions_answer(tuple(SchwartzValue))

ANSWER_SCHEMAS: dict[str, type[BaseModel]] = {
    "judge": JudgeAnswer,
    "generate": ActionAnswer,
    "generate_all": ScenarioActionsAnswer,
    "annotate": AnnotationAnswer,
    "regenerate": ActionAnswer,
}


class LLMRequest(BaseModel):
    """Everything that determines an answer; its sha256 is the cache key.

    `payload` carries the structured inputs, so offline backends need not parse prompts; for
    "generate_all" its "values" name the actions asked for, which shapes the answer schema.
    """

    task: Task
    model: str
    prompt_version: str
    messages: list[dict[str, str]]
    payload: dict[str, Any]
    temperature: float = 0.0
    max_tokens: int = 256
    seed: int = 0

    @property
    def request_id(self) -> str:
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()

    @property
    def answer_schema(self) -> type[BaseModel]:
        if self.task == "generate_all" and "values" in self.payload:
            wanted = set(self.payload["values"])
            return actions_answer(tuple(v for v in SchwartzValue if v.value in wanted))
        return ANSWER_SCHEMAS[self.task]


class BatchJob(BaseModel):
    """A submitted OpenAI Batch API job (table `llm_batches`). Stored as soon as the batch is
    created, so a killed run collects the same batch next time instead of paying for it twice.

    `endpoint` is the endpoint's name as configured, never its URL (which may carry a key).
    `request_ids` are the requests the batch answers, its lines' `custom_id`s.
    """

    batch_id: str
    endpoint: str
    model: str
    input_file_id: str
    request_ids: list[str]
    status: str  # the provider's: validating, in_progress, ..., completed, failed, expired, ...
    submitted_run_id: str
    output_file_id: str | None = None
    error_file_id: str | None = None
