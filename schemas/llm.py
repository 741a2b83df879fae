"""LLM requests and the structured answers each task must return (also sent as JSON schema)."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.values import SchwartzValue

Task = Literal["judge", "generate", "annotate"]


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
    model_config = ConfigDict(extra="forbid")
    value: SchwartzValue = Field(description="The value the action most reflects")


ANSWER_SCHEMAS: dict[str, type[BaseModel]] = {
    "judge": JudgeAnswer,
    "generate": ActionAnswer,
    "annotate": AnnotationAnswer,
}


class LLMRequest(BaseModel):
    """Everything that determines an answer; its sha256 is the cache key.

    `payload` carries the structured inputs, so offline backends need not parse prompts.
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
        return ANSWER_SCHEMAS[self.task]
