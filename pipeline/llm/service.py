"""`LLMService.ask`: cache lookup, backend call, answer validation, retries, failure records.

Every request is keyed by the sha256 of everything that determines its answer, and each answer
is written to `llm_cache` as soon as it arrives, so a killed run resumes at the next request.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ValidationError

from pipeline.llm.prompts import PROMPT_VERSION
from pipeline.settings import OFFLINE_PREFIX
from schemas import LLMCall, LLMFailure, LLMRequest
from schemas.llm import Task

if TYPE_CHECKING:
    from pipeline.context import RunContext

log = logging.getLogger(__name__)
VERSION = "1"


@dataclass
class Completion:
    content: str
    prompt_tokens: int = 0
    completion_tokens: int = 0


class BackendError(RuntimeError):
    """A call that failed after the backend's own retries; `reason` is safe to record."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Backend(Protocol):
    name: str

    def complete(self, request: LLMRequest) -> Completion: ...

    def prepare(self, requests: list[LLMRequest]) -> None:
        """Batch work ahead of `complete` calls (may do nothing)."""


Check = Callable[[BaseModel], str | None]

_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.MULTILINE)


def parse_answer(content: str, schema: type[BaseModel]) -> BaseModel:
    """Validate a model's JSON answer, tolerating code fences and prose around the object."""
    text = _FENCE.sub("", content.strip())
    try:
        return schema.model_validate_json(text)
    except ValidationError:
        start, end = text.find("{"), text.rfind("}")
        if start < 0 or end <= start:
            raise
        return schema.model_validate_json(text[start : end + 1])


class LLMService:
    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.stats: Counter[str] = Counter()
        self._backends: dict[str, Backend] = {}
        self._failed = ctx.store.keys("llm_failures")  # cleared when a retry succeeds

    def backend_for(self, model: str) -> Backend:
        kind = "offline" if model.startswith(OFFLINE_PREFIX) else "openai"
        if kind not in self._backends:
            if kind == "offline":
                from pipeline.llm.offline import OfflineBackend

                self._backends[kind] = OfflineBackend(self.ctx)
            else:
                from pipeline.llm.openai_backend import OpenAIBackend

                self._backends[kind] = OpenAIBackend(self.ctx.settings.llm)
        return self._backends[kind]

    def request(
        self, task: Task, model: str, messages: list[dict[str, str]], payload: dict[str, Any]
    ) -> LLMRequest:
        """A request with the run's sampling settings and the current prompt version."""
        s = self.ctx.settings
        return LLMRequest(
            task=task,
            model=model,
            prompt_version=PROMPT_VERSION,
            messages=messages,
            payload=payload,
            temperature=s.llm.temperature,
            max_tokens=s.llm.max_tokens,
            seed=s.seed,
        )

    def prepare(self, requests: list[LLMRequest]) -> None:
        """Let each backend batch the work for the requests that are not cached yet."""
        ids = [r.request_id for r in requests]
        hit = {
            row["request_id"]
            for row in self.ctx.store.query(
                "SELECT request_id FROM llm_cache WHERE request_id IN (SELECT unnest(?))", [ids]
            )
        }
        by_backend: dict[str, list[LLMRequest]] = {}
        for r in requests:
            if r.request_id not in hit:
                by_backend.setdefault(self.backend_for(r.model).name, []).append(r)
        for name, todo in by_backend.items():
            self._backends[name].prepare(todo)

    def cached(self, request_id: str, schema: type[BaseModel]) -> BaseModel | None:
        rows = self.ctx.store.query(
            "SELECT response_json FROM llm_cache WHERE request_id = ?", [request_id]
        )
        return schema.model_validate_json(rows[0]["response_json"]) if rows else None

    def ask(
        self, request: LLMRequest, item_key: str, check: Check | None = None
    ) -> BaseModel | None:
        """The validated answer, or None with the reason recorded in `llm_failures`."""
        rid, schema = request.request_id, request.answer_schema
        hit = self.cached(rid, schema)
        if hit is not None:
            self.stats["cache_hits"] += 1
            return hit
        backend = self.backend_for(request.model)
        attempt_request, attempts, reason = request, 0, ""
        retries = self.ctx.settings.llm.invalid_answer_retries
        while attempts <= retries:
            attempts += 1
            started = time.perf_counter()
            try:
                completion = backend.complete(attempt_request)
            except BackendError as err:
                reason = err.reason
                self.stats["backend_errors"] += 1
                break  # the backend already retried transport errors
            self.stats["calls"] += 1
            self.stats["prompt_tokens"] += completion.prompt_tokens
            self.stats["completion_tokens"] += completion.completion_tokens
            try:
                answer = parse_answer(completion.content, schema)
                problem = check(answer) if check else None
            except ValidationError as err:
                problem = f"invalid answer: {err.errors()[0]['msg']}"
            if problem is None:
                self._remember(request, backend, answer, completion, time.perf_counter() - started)
                return answer
            reason = problem
            self.stats["invalid_answers"] += 1
            attempt_request = request.model_copy(
                update={
                    "messages": [
                        *request.messages,
                        {"role": "assistant", "content": completion.content[:2000]},
                        {
                            "role": "user",
                            "content": f"That answer was rejected ({problem}). Reply again "
                            "with JSON that follows the schema exactly.",
                        },
                    ]
                }
            )
        self._fail(request, item_key, reason, attempts)
        return None

    def _remember(
        self,
        request: LLMRequest,
        backend: Backend,
        answer: BaseModel,
        completion: Completion,
        latency: float,
    ) -> None:
        store = self.ctx.store
        prov = self.ctx.provenance("llm", VERSION, self.ctx.settings.section_hash("llm"))
        store.insert(
            "llm_cache",
            [
                LLMCall(
                    request_id=request.request_id,
                    task=request.task,
                    model=request.model,
                    backend=backend.name,
                    prompt_version=request.prompt_version,
                    request_json=json.dumps(request.model_dump(mode="json"), ensure_ascii=False),
                    response_json=answer.model_dump_json(),
                    prompt_tokens=completion.prompt_tokens,
                    completion_tokens=completion.completion_tokens,
                    latency_s=round(latency, 4),
                )
            ],
            prov,
        )
        if request.request_id in self._failed:
            store.delete("llm_failures", "request_id = ?", [request.request_id])
            self._failed.discard(request.request_id)

    def _fail(self, request: LLMRequest, item_key: str, reason: str, attempts: int) -> None:
        self.stats["failures"] += 1
        log.warning("%s %s failed for %s: %s", request.task, request.model, item_key, reason)
        store = self.ctx.store
        store.delete("llm_failures", "request_id = ?", [request.request_id])
        self._failed.add(request.request_id)
        store.insert(
            "llm_failures",
            [
                LLMFailure(
                    request_id=request.request_id,
                    task=request.task,
                    model=request.model,
                    item_key=item_key,
                    reason=reason[:500],
                    attempts=attempts,
                )
            ],
            self.ctx.provenance("llm", VERSION, self.ctx.settings.section_hash("llm")),
        )

    def snapshot(self) -> Counter[str]:
        return Counter(self.stats)

    def notes(self, since: Counter[str] | None = None) -> list[str]:
        """Call statistics since a snapshot, for a stage's report."""
        diff = Counter(self.stats)
        diff.subtract(since or Counter())
        return [f"llm {k}: {v}" for k, v in sorted(diff.items()) if v]
