"""`LLMService.ask`: cache lookup, backend call, answer validation, retries, failure records.

Every request is keyed by the sha256 of everything that determines its answer (model, prompt
fingerprint, messages, sampling settings), and each answer is written to `llm_cache` as soon as
it arrives, so a killed run resumes at the next request. A request that keeps failing is given
up after `llm.give_up_after_runs` runs in a row, until `valact retry-failed` re-opens it.

A model endpoint that fails request after request (a refused key, a server that is down) stops
the stage with an `EndpointError` instead of failing, and logging, every item one by one.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, ValidationError

from pipeline.errors import EndpointError
from pipeline.llm.prompts import fingerprint
from pipeline.settings import OFFLINE_PREFIX, LLMSettings
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
    """A call that failed after the backend's own retries; `reason` is safe to record.
    `status` is the HTTP status, if the endpoint answered one (401/403 trip the breaker)."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


# Exact secrets shorter than this are not substituted: they would garble ordinary words, and
# the patterns below still catch them in URLs, queries and headers.
_MIN_SECRET = 6
_SECRET_NAME = (
    r"[\w.-]*(?:key|token|sig|signature|secret|password|passwd|pwd|credential|auth|session)"
)
_REDACTIONS: list[tuple[re.Pattern[str], str]] = [
    # user:password@ (or a bare token@) in a URL
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@?#]+@"), r"\1***@"),
    # key=..., api_key=..., access_token=..., sig=..., X-Amz-Signature=... (not max_tokens=)
    (re.compile(rf"(?i)(?<![\w.-])({_SECRET_NAME}=)[^&\s#\"'<>,;)]+"), r"\1***"),
    # "api_key": "..." in an echoed JSON body
    (re.compile(rf"(?i)(\"{_SECRET_NAME}\"\s*:\s*\")[^\"]+"), r"\1***"),
    (re.compile(r"\b([Bb]earer)\s+[\w.~+/=-]{6,}"), r"\1 ***"),
    # an echoed Authorization header, whatever its scheme (Basic user:password, ...)
    (
        re.compile(
            r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?(?:basic|bearer|token)?\s*)[^\s,;\"']+"
        ),
        r"\1***",
    ),
    # provider-style tokens: sk-..., sk-proj-..., hf_..., ghp_..., xoxb-..., AIza...
    (
        re.compile(r"\b(?:sk-|hf_|gh[pousr]_|github_pat_|xox[abpr]-|AIza)[\w-]{6,}"),
        "***",
    ),
]


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Error text with credentials removed, before it is stored, logged or raised: endpoints
    and proxies echo URLs, keys and headers in their error bodies. `secrets` are known values
    (the API key, the base URL's query values) replaced wherever they appear."""
    for secret in sorted({s for s in secrets if len(s) >= _MIN_SECRET}, key=len, reverse=True):
        text = text.replace(secret, "***")
    for pattern, repl in _REDACTIONS:
        text = pattern.sub(repl, text)
    return text


def endpoint_secrets(settings: LLMSettings) -> tuple[str, ...]:
    """The values to redact for an endpoint: its key, and what its base URL carries besides
    the address (user and password, query values: some gateways take the key in the query)."""
    found = [settings.key()]
    if settings.base_url:
        parts = urlsplit(settings.base_url)
        found += [parts.username or "", parts.password or ""]
        found += [v for _, v in parse_qsl(parts.query)]
    return tuple(s for s in found if s)


class Backend(Protocol):
    name: str
    # The endpoint as it may be shown (no credentials); None for a backend that runs locally,
    # which the circuit breaker leaves alone.
    endpoint: str | None

    def complete(self, request: LLMRequest) -> Completion: ...

    def prepare(self, requests: list[LLMRequest]) -> None:
        """Batch work ahead of `complete` calls (may do nothing)."""


Check = Callable[[BaseModel], str | None]

_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.MULTILINE)


@dataclass
class _Streak:
    """Failed requests in a row on one endpoint, and each one's failure record before it."""

    failures: int = 0
    auth_errors: int = 0
    held: dict[str, LLMFailure | None] = field(default_factory=dict)


_AUTH_STATUSES = frozenset({401, 403})


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
        self._secrets = endpoint_secrets(ctx.settings.llm)
        self._streaks: dict[str, _Streak] = {}

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
        endpoint_failed = False
        retries = self.ctx.settings.llm.invalid_answer_retries
        while attempts <= retries:
            attempts += 1
            started = time.perf_counter()
            try:
                completion = backend.complete(attempt_request)
            except BackendError as err:
                reason = redact(err.reason, self._secrets)
                self.stats["backend_errors"] += 1
                self._endpoint_failed(backend, err.status, reason)
                endpoint_failed = True
                break  # the backend already retried transport errors
            if backend.endpoint is not None:
                self._streaks.pop(backend.endpoint, None)  # it answered: the endpoint works
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
        prev = self._fail(request, item_key, reason, attempts)
        if endpoint_failed and backend.endpoint is not None:
            streak = self._streaks.get(backend.endpoint)
            if streak is not None:
                streak.held.setdefault(request.request_id, prev)
        return None

    def _endpoint_failed(self, backend: Backend, status: int | None, reason: str) -> None:
        """Count a failed request against its endpoint; raise `EndpointError` when too many
        failed in a row. The requests of that streak are not to blame, so their failure
        records are put back as they were (else a broken key would get them given up)."""
        endpoint, llm = backend.endpoint, self.ctx.settings.llm
        if endpoint is None:
            return
        streak = self._streaks.setdefault(endpoint, _Streak())
        streak.failures += 1
        streak.auth_errors = streak.auth_errors + 1 if status in _AUTH_STATUSES else 0
        last = " ".join(reason.split())[:200]
        if streak.auth_errors >= llm.max_auth_errors:
            message = (
                f"LLM endpoint {endpoint} refused the credentials {streak.auth_errors} times in "
                f"a row ({last}): check VALACT_LLM__API_KEY (or OPENAI_API_KEY) and "
                "VALACT_LLM__BASE_URL"
            )
        elif streak.failures >= llm.max_consecutive_failures:
            message = (
                f"LLM endpoint {endpoint} failed {streak.failures} requests in a row (last: "
                f"{last}): check that it is up and serves the configured models, "
                "VALACT_LLM__BASE_URL and llm.timeout_s"
            )
        else:
            return
        self._restore(streak.held)
        del self._streaks[endpoint]
        raise EndpointError(redact(message, self._secrets))

    def _restore(self, held: dict[str, LLMFailure | None]) -> None:
        for request_id, prev in held.items():
            if prev is None:
                self._failures.pop(request_id, None)
                self.ctx.store.delete("llm_failures", "request_id = ?", [request_id])
            else:
                self._failures[request_id] = prev
                self.ctx.store.put("llm_failures", [prev], self._prov, request_id)

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

    def _fail(
        self, request: LLMRequest, item_key: str, reason: str, attempts: int
    ) -> LLMFailure | None:
        """Record a failure; its count of failing runs grows once per run. Returns the
        request's previous failure record."""
        self.stats["failures"] += 1
        reason = redact(reason, self._secrets)
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
        return prev

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
