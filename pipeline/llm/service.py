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
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, ValidationError

from pipeline.errors import BatchPending, EndpointError, SpendCapReached
from pipeline.llm.limits import Limits, RateLimit, SpendCap, estimate_prompt_tokens
from pipeline.llm.prompts import fingerprint
from pipeline.settings import DEFAULT_ENDPOINT, OFFLINE_PREFIX, LLMSettings
from pipeline.store import Provenance, Store
from schemas import BatchJob, LLMCall, LLMFailure, LLMRequest
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
    refusal: str | None = None  # the model declined (structured outputs' `refusal` field)


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
    """The values to redact for every endpoint: its key, and what its base URL carries besides
    the address (user and password, query values: some gateways take the key in the query)."""
    found: list[str] = []
    for name in [DEFAULT_ENDPOINT, *settings.endpoints]:
        url = settings.url(name)
        found.append(settings.key(name))
        if url:
            parts = urlsplit(url)
            found += [parts.username or "", parts.password or ""]
            found += [v for _, v in parse_qsl(parts.query)]
    return tuple(s for s in found if s)


class Backend(Protocol):
    name: str
    # The endpoint as it may be shown (no credentials); None for a backend that runs locally,
    # which the circuit breaker, the limits and the spend cap leave alone.
    endpoint: str | None
    # Which settings to name when the endpoint refuses or fails.
    hint: str

    def complete(self, request: LLMRequest) -> Completion: ...

    def prepare(self, requests: list[LLMRequest]) -> None:
        """Batch work ahead of `complete` calls (may do nothing)."""


Check = Callable[[BaseModel], str | None]

_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.MULTILINE)


@dataclass
class _Outcome:
    """What asking one request came to, before it is accounted for."""

    answer: BaseModel | None = None
    reason: str = ""
    attempts: int = 0
    calls: int = 0
    invalid: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency: float = 0.0
    status: int | None = None
    endpoint_failed: bool = False
    skipped: bool = False  # not sent: the endpoint's breaker had tripped, or the spend cap
    cost_usd: float = 0.0
    via_batch: bool = False  # the answer kept came from a Batch API job


@dataclass
class _Streak:
    """Failed requests in a row on one endpoint."""

    failures: int = 0
    auth_errors: int = 0


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
        self._streaks: dict[str, _Streak] = {}  # per endpoint, counted by worker threads
        self._lock = threading.Lock()
        self._stopped: tuple[str, str] | None = None  # (endpoint, message) once tripped
        self._held: dict[str, dict[str, LLMFailure | None]] = {}  # failures of a streak
        self._usage: dict[str, Counter[str]] = {}  # model -> calls and tokens, this run
        self._cost: defaultdict[str, float] = defaultdict(float)  # model -> US dollars, this run
        self._failed_now: set[str] = set()  # failed in this run: not asked again until the next
        self._limits: dict[str, Limits] = {}  # per endpoint name
        self.spend = SpendCap(ctx.settings.llm.spend_cap_usd)

    def prompt_version(self, task: Task, model: str) -> str:
        """The task's prompt fingerprint; for an offline model also its code version, since
        its "prompt" is code (rules, templates, value prototypes)."""
        offline = model.startswith(OFFLINE_PREFIX)
        if (task, offline) not in self._versions:
            version = fingerprint(task, self.ctx.settings.generation, self.ctx.settings.pii)
            if offline:
                from pipeline.llm.offline import OFFLINE_VERSION

                version += f"+offline-{OFFLINE_VERSION}"
            self._versions[task, offline] = version
        return self._versions[task, offline]

    def backend_for(self, model: str) -> Backend:
        """The offline backend, or the client of the endpoint serving `model`."""
        if model.startswith(OFFLINE_PREFIX):
            kind = "offline"
        else:
            name = self.ctx.settings.llm.endpoint_name(model)
            if name is None:
                raise EndpointError(
                    f"no endpoint serves model {model!r}: list it under an "
                    "[llm.endpoints.NAME] models, or set llm.base_url"
                )
            kind = f"openai:{name}"
        if kind not in self._backends:
            if kind == "offline":
                from pipeline.llm.offline import OfflineBackend

                self._backends[kind] = OfflineBackend(self.ctx)
            else:
                from pipeline.llm.openai_backend import OpenAIBackend

                self._backends[kind] = OpenAIBackend(self.ctx.settings.llm, kind[7:])
        return self._backends[kind]

    def endpoint_of(self, model: str) -> str | None:
        """The name of the endpoint serving `model`; None for an offline model."""
        if model.startswith(OFFLINE_PREFIX):
            return None
        return self.ctx.settings.llm.endpoint_name(model)

    def _limits_for(self, name: str) -> Limits:
        if name not in self._limits:
            cfg = self.ctx.settings.llm.limits(name)
            self._limits[name] = Limits(
                RateLimit(cfg.requests_per_minute) if cfg.requests_per_minute else None,
                RateLimit(cfg.tokens_per_minute) if cfg.tokens_per_minute else None,
            )
        return self._limits[name]

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
        hit = self._cached_many([r.request_id for r in requests])
        by_backend: dict[int, tuple[Backend, list[LLMRequest]]] = {}
        for r in requests:
            if r.request_id not in hit:
                backend = self.backend_for(r.model)
                by_backend.setdefault(id(backend), (backend, []))[1].append(r)
        for backend, todo in by_backend.values():
            backend.prepare(todo)

    def ask(
        self, request: LLMRequest, item_key: str, check: Check | None = None
    ) -> BaseModel | None:
        """The validated answer, or None with the reason recorded in `llm_failures`."""
        return self.ask_many([(request, item_key, check)])[0]

    def ask_many(
        self,
        items: list[tuple[LLMRequest, str, Check | None]],
        progress: Callable[[int], None] | None = None,
    ) -> list[BaseModel | None]:
        """Answers for many requests, in their order: cached ones from the store, the rest
        asked concurrently, up to each endpoint's `max_in_flight` (offline backends run here,
        one at a time). Only this thread touches the store: answers are written as they
        arrive, before their slot takes another request, so a killed run loses at most the
        requests in flight. `progress` is told how many items each step settled."""
        out: list[BaseModel | None] = [None] * len(items)
        hits = self._cached_many([r.request_id for r, _, _ in items])
        todo: list[int] = []
        for i, (request, _, _) in enumerate(items):
            if request.request_id in hits:
                self.stats["cache_hits"] += 1
                out[i] = request.answer_schema.model_validate_json(hits[request.request_id])
            elif (known := self._failures.get(request.request_id)) and known.given_up:
                self.stats["given_up"] += 1
            elif request.request_id in self._failed_now:  # asked once per run, at most
                self.stats["failed_earlier_in_run"] += 1
            else:
                todo.append(i)
        first: dict[str, int] = {}  # the same request twice in one call is asked once
        copies: Counter[str] = Counter()
        for i in todo:
            first.setdefault(items[i][0].request_id, i)
            copies[items[i][0].request_id] += 1
        if progress:
            progress(len(items) - len(todo))

        def advance(i: int) -> None:
            if progress:
                progress(copies[items[i][0].request_id])

        groups: dict[str | None, list[int]] = {}
        for i in sorted(first.values()):
            groups.setdefault(self.endpoint_of(items[i][0].model), []).append(i)
        local = groups.pop(None, [])
        writes: list[tuple[LLMRequest, Backend, _Outcome]] = []
        unasked = 0
        priors: dict[int, Completion] = {}
        waiting: list[BatchJob] = []
        try:
            for i in local:  # fast, in this thread; written every few dozen
                out[i] = self._settle(items[i], self._attempt(items[i]), writes)
                advance(i)
                if len(writes) >= 64:
                    self._remember(writes)
            self._remember(writes)
            self._trip()
            for name in [n for n in groups if n and self.ctx.settings.llm.limits(n).batch]:
                batched = groups.pop(name)
                done, failed, jobs, left = self._batch(items, batched, name)
                priors.update(done)
                waiting += jobs
                unasked += left
                for i, err in failed.items():
                    outcome = _Outcome(reason=err.reason, attempts=1, status=err.status)
                    out[i] = self._settle(items[i], outcome, writes)
                    advance(i)
                groups[name] = sorted(done)  # validated (and corrected) like direct answers
            if any(groups.values()):
                unasked += self._ask_remote(items, groups, out, writes, advance, priors)  # type: ignore[arg-type]
        finally:
            self._remember(writes)
        if waiting:
            ids = ", ".join(sorted(j.batch_id for j in waiting))
            raise BatchPending(
                f"{sum(len(j.request_ids) for j in waiting)} requests are in Batch API jobs "
                f"still running at the endpoint ({ids}) after llm.batch_max_wait_s = "
                f"{self.ctx.settings.llm.batch_max_wait_s:g} s: run again later to collect "
                "them (nothing is submitted twice)"
            )
        cap = self.spend.cap_usd or 0.0
        if self.spend.reached and unasked and self.spend.largest_refused > cap:
            raise SpendCapReached(
                f"one request may cost up to ${self.spend.largest_refused:.4f} (its prompt and "
                f"llm.max_tokens at the endpoint's prices), more than llm.spend_cap_usd = "
                f"${cap:.2f} allows a whole run: raise the cap"
            )
        if self.spend.reached and unasked:
            raise SpendCapReached(
                f"spend cap reached: this run's model requests cost ${self.spend.spent_usd:.4f} "
                f"and {unasked} more could take it past llm.spend_cap_usd = "
                f"${self.spend.cap_usd:.2f}; the answers so far are stored: run again (or "
                "raise the cap) to go on from here"
            )
        for i in todo:
            out[i] = out[first[items[i][0].request_id]]
        return out

    def _ask_remote(
        self,
        items: list[tuple[LLMRequest, str, Check | None]],
        groups: dict[str, list[int]],
        out: list[BaseModel | None],
        writes: list[tuple[LLMRequest, Backend, _Outcome]],
        advance: Callable[[int], None],
        priors: dict[int, Completion] | None = None,
    ) -> int:
        """Keep each endpoint's `max_in_flight` requests going; returns how many were not
        asked because the spend cap was reached. `priors` are answers already received (from
        a batch), checked here and sent back if invalid."""
        priors = priors or {}
        llm = self.ctx.settings.llm
        caps = {name: llm.limits(name).max_in_flight for name in groups}
        queues = {name: deque(idxs) for name, idxs in groups.items()}
        running: dict[Future[_Outcome], tuple[int, str]] = {}
        load: Counter[str] = Counter()
        workers = sum(min(caps[n], len(q)) for n, q in queues.items())
        refused_before = self.spend.refused
        with ThreadPoolExecutor(workers, thread_name_prefix="llm") as pool:

            def fill() -> None:
                for name, queue in queues.items():
                    while queue and load[name] < caps[name] and not self.spend.reached:
                        i = queue.popleft()
                        job = pool.submit(self._attempt, items[i], priors.get(i))
                        running[job] = (i, name)
                        load[name] += 1

            try:
                fill()
                while running:
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        i, name = running.pop(future)
                        load[name] -= 1
                        out[i] = self._settle(items[i], future.result(), writes)
                        advance(i)
                    # Written before the freed slots take new requests.
                    self._remember(writes)
                    self._trip()
                    fill()
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
        return sum(map(len, queues.values())) + self.spend.refused - refused_before

    def _batch(
        self, items: list[tuple[LLMRequest, str, Check | None]], idxs: list[int], name: str
    ) -> tuple[dict[int, Completion], dict[int, BackendError], list[BatchJob], int]:
        """Requests of a Batch API endpoint: collect the stored jobs that hold any of them
        (a killed run's too), submit one job per model for the rest, and wait up to
        `llm.batch_max_wait_s`. Returns the answers and errors by item, the jobs still
        running, and how many requests the spend cap kept back."""
        from pipeline.llm import batch as batch_api

        llm, store = self.ctx.settings.llm, self.ctx.store
        factor = llm.limits(name).batch_price_factor
        by_id = {items[i][0].request_id: i for i in idxs}
        backend = self.backend_for(items[idxs[0]][0].model)
        client = backend.client  # type: ignore[attr-defined]
        jobs = [
            job
            for job in store.load(
                BatchJob, where="endpoint = ? AND status <> 'merged'", params=[name]
            )
            if not by_id.keys().isdisjoint(job.request_ids)
        ]
        covered = {rid for job in jobs for rid in job.request_ids}
        by_model: dict[str, list[LLMRequest]] = {}
        held, left = 0.0, 0
        for i in idxs:
            request = items[i][0]
            if request.request_id in covered:
                continue
            usd = factor * llm.cost(
                request.model, estimate_prompt_tokens(request.messages), request.max_tokens
            )
            if self.spend.reserve(usd):
                held += usd
                by_model.setdefault(request.model, []).append(request)
            else:
                left += 1
        try:
            for requests in by_model.values():
                job = batch_api.submit(
                    client, requests, endpoint=name, run_id=self.ctx.run_id, secrets=self._secrets
                )
                store.put("llm_batches", [job], self._prov, job.batch_id)  # before anything else
                jobs.append(job)
                self.stats["batches_submitted"] += 1
            done: dict[int, Completion] = {}
            failed: dict[int, BackendError] = {}
            waiting: list[BatchJob] = []
            for job in jobs:
                try:
                    job, results = batch_api.collect(
                        client,
                        job,
                        poll_s=llm.batch_poll_s,
                        max_wait_s=llm.batch_max_wait_s,
                        secrets=self._secrets,
                    )
                except BackendError as err:
                    if err.status != 404:
                        raise EndpointError(
                            f"Batch API of LLM endpoint {backend.endpoint}: {err.reason}: "
                            f"check {backend.hint}"
                        ) from None
                    # The endpoint no longer knows the job: its requests go in a new one.
                    results = {rid: err for rid in job.request_ids}
                    job = job.model_copy(update={"status": "lost"})
                if results is None:
                    store.put("llm_batches", [job], self._prov, job.batch_id)
                    waiting.append(job)
                    continue
                for rid, result in results.items():
                    if rid in by_id:
                        if isinstance(result, Completion):
                            done[by_id[rid]] = result
                        else:
                            failed[by_id[rid]] = result
                if by_id.keys() >= set(job.request_ids):  # every answer is accounted for
                    job = job.model_copy(update={"status": "merged"})
                store.put("llm_batches", [job], self._prov, job.batch_id)
        finally:
            self.spend.settle(held, 0.0)  # the answers' real cost is counted as they are read
        return done, failed, waiting, left

    def _cached_many(self, request_ids: list[str]) -> dict[str, str]:
        if not request_ids:
            return {}
        return dict(
            self.ctx.store.con.execute(
                "SELECT request_id, response_json FROM llm_cache "
                "WHERE request_id IN (SELECT unnest(?))",
                [sorted(set(request_ids))],
            ).fetchall()
        )

    def _attempt(
        self, item: tuple[LLMRequest, str, Check | None], prior: Completion | None = None
    ) -> _Outcome:
        """Ask the backend, sending an invalid answer back with the problem, up to
        `llm.invalid_answer_retries` times; `prior` is a first answer already received (from
        a batch, paid at the batch price). Touches neither the store nor shared state, so it
        runs in worker threads."""
        request, _, check = item
        llm = self.ctx.settings.llm
        backend = self.backend_for(request.model)
        endpoint = self.endpoint_of(request.model)
        outcome = _Outcome()
        attempt_request = request
        started = time.perf_counter()
        while outcome.attempts <= llm.invalid_answer_retries:
            if self._stopped is not None:  # the endpoint's breaker tripped: send nothing more
                outcome.skipped = True
                break
            if prior is not None:  # a batch's answer: paid for, at the batch price
                completion, prior = prior, None
                outcome.attempts, outcome.calls, outcome.via_batch = 1, 1, True
                outcome.prompt_tokens += completion.prompt_tokens
                outcome.completion_tokens += completion.completion_tokens
                spent = (
                    llm.cost(request.model, completion.prompt_tokens, completion.completion_tokens)
                    * llm.limits(endpoint or DEFAULT_ENDPOINT).batch_price_factor
                )
                self.spend.settle(0.0, spent)
                outcome.cost_usd += spent
            else:
                sent = self._send(backend, endpoint, attempt_request, outcome)
                if sent is None:
                    break
                completion = sent
            if completion.refusal is not None:  # asking again gets the same refusal
                outcome.reason = "model refused: " + " ".join(completion.refusal.split())[:200]
                outcome.invalid += 1
                break
            try:
                answer = parse_answer(completion.content, request.answer_schema)
                problem = check(answer) if check else None
            except ValidationError as err:
                problem = f"invalid answer: {err.errors()[0]['msg']}"
            if problem is None:
                outcome.answer = answer
                break
            outcome.reason = problem
            outcome.invalid += 1
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
        outcome.latency = time.perf_counter() - started
        return outcome

    def _send(
        self, backend: Backend, endpoint: str | None, request: LLMRequest, outcome: _Outcome
    ) -> Completion | None:
        """One call within the spend cap and the endpoint's rate limits; None if it was not
        sent (the cap) or failed (the reason is on `outcome`)."""
        llm = self.ctx.settings.llm
        booked_usd = booked_tokens = 0.0
        if endpoint is not None:
            prompt = estimate_prompt_tokens(request.messages)
            booked_tokens = prompt + request.max_tokens
            booked_usd = llm.cost(request.model, prompt, request.max_tokens)
            if not self.spend.reserve(booked_usd):
                outcome.skipped = True
                return None
            self._limits_for(endpoint).acquire(booked_tokens)
        outcome.attempts += 1
        try:
            completion = backend.complete(request)
        except BackendError as err:
            self.spend.settle(booked_usd, 0.0)
            outcome.reason = redact(err.reason, self._secrets)
            outcome.status, outcome.endpoint_failed = err.status, True
            self._count(backend, err.status, outcome.reason)
            return None  # the backend already retried transport errors
        self._count(backend, None, None)
        outcome.calls += 1
        outcome.via_batch = False
        outcome.prompt_tokens += completion.prompt_tokens
        outcome.completion_tokens += completion.completion_tokens
        if endpoint is not None:
            used_in, used_out = completion.prompt_tokens, completion.completion_tokens
            if not used_in and not used_out:  # the endpoint reports no usage: estimate
                used_in = int(booked_tokens) - request.max_tokens
                used_out = len(completion.content) // 4
            spent = llm.cost(request.model, used_in, used_out)
            self.spend.settle(booked_usd, spent)
            self._limits_for(endpoint).settle(booked_tokens, used_in + used_out)
            outcome.cost_usd += spent
        return completion

    def _settle(
        self,
        item: tuple[LLMRequest, str, Check | None],
        outcome: _Outcome,
        writes: list[tuple[LLMRequest, Backend, _Outcome]],
    ) -> BaseModel | None:
        """Account for one outcome (in the calling thread): statistics, the endpoint's
        circuit breaker, the answer queued for the cache or the failure recorded."""
        request, item_key, _ = item
        backend = self.backend_for(request.model)
        if outcome.calls:
            used = self._usage.setdefault(request.model, Counter())
            used["calls"] += outcome.calls
            used["prompt_tokens"] += outcome.prompt_tokens
            used["completion_tokens"] += outcome.completion_tokens
            self._cost[request.model] += outcome.cost_usd
        self.stats["calls"] += outcome.calls
        self.stats["prompt_tokens"] += outcome.prompt_tokens
        self.stats["completion_tokens"] += outcome.completion_tokens
        self.stats["invalid_answers"] += outcome.invalid
        held = self._held.setdefault(backend.endpoint or "", {})
        if outcome.skipped:
            return None
        if outcome.endpoint_failed:
            self.stats["backend_errors"] += 1
        elif backend.endpoint is not None:
            held.clear()  # it answered: the failures before were not the endpoint's
        if outcome.answer is not None:
            writes.append((request, backend, outcome))
            return outcome.answer
        prev = self._fail(request, item_key, outcome.reason, outcome.attempts)
        self._failed_now.add(request.request_id)
        if outcome.endpoint_failed and backend.endpoint is not None:
            held.setdefault(request.request_id, prev)
        return None

    def _count(self, backend: Backend, status: int | None, reason: str | None) -> None:
        """The endpoint's circuit breaker (in worker threads, hence the lock): count a failed
        request (`reason`) or reset on an answer; too many failures in a row stop it."""
        endpoint, llm = backend.endpoint, self.ctx.settings.llm
        if endpoint is None:
            return
        with self._lock:
            streak = self._streaks.setdefault(endpoint, _Streak())
            if reason is None:
                streak.failures = streak.auth_errors = 0
                return
            streak.failures += 1
            streak.auth_errors = streak.auth_errors + 1 if status in _AUTH_STATUSES else 0
            last = " ".join(reason.split())[:200]
            if streak.auth_errors >= llm.max_auth_errors:
                message = (
                    f"LLM endpoint {endpoint} refused the credentials {streak.auth_errors} times "
                    f"in a row ({last}): check {backend.hint}"
                )
            elif streak.failures >= llm.max_consecutive_failures:
                message = (
                    f"LLM endpoint {endpoint} failed {streak.failures} requests in a row (last: "
                    f"{last}): check that it is up and serves the configured models, "
                    f"{backend.hint} and llm.timeout_s"
                )
            else:
                return
            if self._stopped is None:
                self._stopped = (endpoint, redact(message, self._secrets))

    def _trip(self) -> None:
        """Raise the breaker's error. The requests of the failing streak are not to blame,
        so their failure records are put back as they were (else a broken key would get them
        given up)."""
        if self._stopped is None:
            return
        endpoint, message = self._stopped
        self._stopped = None
        self._streaks.pop(endpoint, None)
        self._restore(self._held.pop(endpoint, {}))
        raise EndpointError(message)

    def _restore(self, held: dict[str, LLMFailure | None]) -> None:
        for request_id, prev in held.items():
            self._failed_now.discard(request_id)
            if prev is None:
                self._failures.pop(request_id, None)
                self.ctx.store.delete("llm_failures", "request_id = ?", [request_id])
            else:
                self._failures[request_id] = prev
                self.ctx.store.put("llm_failures", [prev], self._prov, request_id)

    def _remember(self, writes: list[tuple[LLMRequest, Backend, _Outcome]]) -> None:
        """Write queued answers to the cache in one statement, and clear their failures."""
        if not writes:
            return
        rows = [
            LLMCall(
                request_id=request.request_id,
                task=request.task,
                model=request.model,
                backend=f"{backend.name}-batch" if outcome.via_batch else backend.name,
                prompt_version=request.prompt_version,
                request_json=json.dumps(request.model_dump(mode="json"), ensure_ascii=False),
                response_json=outcome.answer.model_dump_json(),  # type: ignore[union-attr]
                prompt_tokens=outcome.prompt_tokens,
                completion_tokens=outcome.completion_tokens,
                latency_s=round(outcome.latency, 4),
            )
            for request, backend, outcome in writes
        ]
        self.ctx.store.put("llm_cache", rows, self._prov, [r.request_id for r in rows], fresh=True)
        cleared = [r.request_id for r in rows if self._failures.pop(r.request_id, None)]
        if cleared:
            self.ctx.store.delete("llm_failures", "request_id IN (SELECT unnest(?))", [cleared])
        writes.clear()

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

    def usage(self) -> dict[str, dict[str, float]]:
        """Requests sent, tokens used and their cost (US dollars at the configured prices) so
        far, per model: what a stage's report shows."""
        return {
            model: {**c, "cost_usd": round(self._cost[model], 6)}
            for model, c in sorted(self._usage.items())
        }

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
