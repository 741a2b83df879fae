"""Data contracts: one pydantic model per concept, used for validation, the DuckDB tables,
LLM structured output and the published Hugging Face features."""

from schemas.llm import ActionAnswer, AnnotationAnswer, BatchJob, JudgeAnswer, LLMRequest
from schemas.records import (
    Action,
    Annotation,
    DedupDecision,
    Embedding,
    FilterDecision,
    IngestReject,
    JudgeVote,
    LLMCall,
    LLMFailure,
    PanelDecision,
    Post,
    Question,
    Scenario,
    SourceFile,
)
from schemas.values import VALUE_DESCRIPTIONS, VALUE_EXEMPLARS, SchwartzValue

__all__ = [
    "VALUE_DESCRIPTIONS",
    "VALUE_EXEMPLARS",
    "Action",
    "ActionAnswer",
    "Annotation",
    "AnnotationAnswer",
    "BatchJob",
    "DedupDecision",
    "Embedding",
    "FilterDecision",
    "IngestReject",
    "JudgeAnswer",
    "JudgeVote",
    "LLMCall",
    "LLMFailure",
    "LLMRequest",
    "PanelDecision",
    "Post",
    "Question",
    "Scenario",
    "SchwartzValue",
    "SourceFile",
]
