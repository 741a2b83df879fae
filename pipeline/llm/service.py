"""`LLMService.ask`: cache lookup, backend call, answer validation, retries, failure records.

Every request is keyed by the sha256 of everything that determines its answer (model, prompt
fingerprint, messages, sampling settings), and each answer is written to `llm_cache` as soon as
it arrives, so a killed run resumes at the next request. A request that keeps failing is given
up after `llm.give_up_after_runs` runs in a row, until `valact retry-failed` re-opens it.
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

from pipeline.llm.prompts import fingerprint
from pipeline.settings import OFFLINE_PREFIX
from pipeline.store import Provenance, Store
from schemas import LLMCall, LLMFailure, LLMRequest
from schemas.llm import Task

if TYPE_CHECKING:
    from pipeline.context import RunContext

log = logging.getLogger(__name__)
VERSION = "2"


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
        self._failures = {f.request_id: f for f in ctx.store.load(LLMFailure)}
        self._versions: dict[tuple[str, bool], str] = {}
        self._prov = Provenance("llm", VERSION, "llm-cache", ctx.run_id)

    def prompt_version(self, task: Task, model: str) -> str:
        """The task's prompt fingerprint; for an offline model also its code version, since
        its "prompt" is code (rules, templates, value prototypes)."""
        offline = model.startswith(OFFLINE_PREFIX)
        if (task, offline) not in self._versions:
            version = fingerprint(task, self.ctx.settings.generation)
            if offline:
                from pipeline.llm.offline import OFFLINE_VERSION

                version += f"+offline-{OFFLINE_VERSION}"
            self._versions[task, offline] = version
        return self._versions[task, offline]

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
            prompt_version=self.prompt_version(task, model),
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
        known = self._failures.get(rid)
        if known is not None and known.given_up:
            self.stats["given_up"] += 1
            return None
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
        store.put(
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
            self._prov,
            request.request_id,
        )
        if self._failures.pop(request.request_id, None) is not None:
            store.delete("llm_failures", "request_id = ?", [request.request_id])

    def _fail(self, request: LLMRequest, item_key: str, reason: str, attempts: int) -> None:
        """Record a failure; its count of failing runs grows once per run."""
        self.stats["failures"] += 1
        log.warning("%s %s failed for %s: %s", request.task, request.model, item_key, reason)
        run_id = self.ctx.run_id
        prev = self._failures.get(request.request_id)
        runs = 1 if prev is None else prev.runs + (prev.last_run_id != run_id)
        failure = LLMFailure(
            request_id=request.request_id,
            task=request.task,
            model=request.model,
            item_key=item_key,
            reason=reason[:500],
            attempts=attempts,
            runs=runs,
            last_run_id=run_id,
            given_up=runs >= self.ctx.settings.llm.give_up_after_runs,
        )
        self._failures[request.request_id] = failure
        self.ctx.store.put("llm_failures", [failure], self._prov, request.request_id)

    def snapshot(self) -> Counter[str]:
        return Counter(self.stats)

    def notes(self, since: Counter[str] | None = None) -> list[str]:
        """Call statistics since a snapshot, for a stage's report."""
        diff = Counter(self.stats)
        diff.subtract(since or Counter())
        return [f"llm {k}: {v}" for k, v in sorted(diff.items()) if v]


def reopen_failures(store: Store) -> int:
    """Let every given-up request be tried again (`valact retry-failed`); returns how many."""
    n = store.count("llm_failures", "given_up")
    store.con.execute("UPDATE llm_failures SET given_up = false, runs = 0 WHERE given_up")
    return n
