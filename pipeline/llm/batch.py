"""OpenAI Batch API: a stage's uncached chat-completion requests sent as one file, at half price.

`submit` uploads the requests and creates the batch; the caller stores the `BatchJob` it
returns (table `llm_batches`) before waiting, so a killed run collects that same batch next
time instead of paying for the requests again. `collect` polls it for a bounded time and, once
it is over, turns its output and error files into one `Completion` or `BackendError` per
request, like `OpenAIBackend.complete` gives for a direct call. Nothing here touches the store.

Client errors surface as a raised `BackendError` with the HTTP status (the breaker needs it);
every reason is redacted, since endpoints echo keys and URLs in their error bodies.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final, TypeVar

import openai

from pipeline.llm.service import BackendError, Completion, redact
from schemas import BatchJob, LLMRequest

T = TypeVar("T")

CHAT_URL: Final = "/v1/chat/completions"
# Statuses after which a batch changes no more; the others (validating, in_progress,
# finalizing, cancelling) are worth waiting for.
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
_CUSTOM_ID = re.compile(r'"custom_id"\s*:\s*"([^"\\]+)"')

Result = Completion | BackendError


def _error(reason: str, status: int | None, secrets: Iterable[str]) -> BackendError:
    """A BackendError whose reason is one redacted line, short enough to store."""
    return BackendError(redact(" ".join(reason.split()), secrets)[:300], status)


def _call(fn: Callable[[], T], secrets: Iterable[str]) -> T:
    """Run one client call, its failures (after the client's own retries) as BackendError,
    worded and with the status as `OpenAIBackend.complete` reports them."""
    try:
        return fn()
    except openai.APIStatusError as err:
        body = err.body if isinstance(err.body, dict) else {}
        message = body.get("message") if isinstance(body.get("message"), str) else None
        status = err.status_code
        raise _error(f"http {status}: {message or err.message}", status, secrets) from None
    except openai.APITimeoutError:
        raise _error("timeout", None, secrets) from None
    except openai.APIConnectionError as err:
        raise _error(f"connection error: {err}", None, secrets) from None
    except openai.APIResponseValidationError as err:
        raise _error(f"malformed response: {err}", None, secrets) from None
    except (ValueError, TypeError) as err:  # a body that is not JSON at all
        raise _error(f"malformed response: {err}", None, secrets) from None


def batch_lines(requests: list[LLMRequest]) -> bytes:
    """The batch input file: one JSON line per request, its body exactly what a direct call
    sends. Post text stays data: JSON-encoded inside `body`, it cannot start a line."""
    from pipeline.llm.openai_backend import chat_body  # it imports the service: no cycle

    lines = [
        json.dumps(
            {"custom_id": r.request_id, "method": "POST", "url": CHAT_URL, "body": chat_body(r)},
            ensure_ascii=False,
        )
        for r in requests
    ]
    return "".join(line + "\n" for line in lines).encode()


def submit(
    client: openai.OpenAI,
    requests: list[LLMRequest],
    *,
    endpoint: str,
    run_id: str,
    secrets: Sequence[str] = (),
) -> BatchJob:
    """Upload the requests and create their batch. One model per batch (a batch is billed and
    rate-limited per model); a request given twice is sent once (custom ids must be unique).
    `endpoint` is the endpoint's name, never a URL; `secrets` are redacted from errors."""
    unique = list({r.request_id: r for r in requests}.values())
    if not unique:
        raise ValueError("no requests to submit")
    models = sorted({r.model for r in unique})
    if len(models) != 1:
        raise ValueError(f"one model per batch, got {', '.join(models)}")
    data = batch_lines(unique)
    uploaded = _call(
        lambda: client.files.create(file=("valact-batch.jsonl", data), purpose="batch"), secrets
    )
    batch = _call(
        lambda: client.batches.create(
            input_file_id=uploaded.id,
            endpoint=CHAT_URL,
            completion_window="24h",
            metadata={
                "valact_run_id": run_id[:512],
                "valact_endpoint": endpoint[:512],
                "valact_requests": str(len(unique)),
            },
        ),
        secrets,
    )
    return BatchJob(
        batch_id=batch.id,
        endpoint=endpoint,
        model=models[0],
        input_file_id=uploaded.id,
        request_ids=[r.request_id for r in unique],
        status=batch.status,
        submitted_run_id=run_id,
        output_file_id=batch.output_file_id,
        error_file_id=batch.error_file_id,
    )


def collect(
    client: openai.OpenAI,
    job: BatchJob,
    *,
    poll_s: float,
    max_wait_s: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    secrets: Sequence[str] = (),
) -> tuple[BatchJob, dict[str, Result] | None]:
    """Wait up to `max_wait_s` for the batch, looking every `poll_s`. Returns the job as the
    provider now reports it, and None while it still runs (the caller stops cleanly and a
    later run collects it), else a result for every request of the job: a `Completion`, or a
    `BackendError` for a request that failed, could not be read or was never answered."""
    deadline, batch_id = clock() + max_wait_s, job.batch_id
    while True:
        batch = _call(lambda: client.batches.retrieve(batch_id), secrets)
        job = job.model_copy(
            update={
                "status": batch.status,
                "output_file_id": batch.output_file_id,
                "error_file_id": batch.error_file_id,
            }
        )
        if batch.status in TERMINAL:
            break
        left = deadline - clock()
        if left <= 0:
            return job, None
        sleep(min(poll_s, left))

    wanted = set(job.request_ids)
    results: dict[str, Result] = {}
    unread = 0  # lines that could not be tied to a request
    for file_id in (job.output_file_id, job.error_file_id):
        if not file_id:
            continue
        # Split on "\n" only: str.splitlines also breaks at U+2028 and the like, which JSON
        # leaves unescaped inside strings.
        for line in _file_text(client, file_id, secrets).split("\n"):
            if not line.strip():
                continue
            custom_id, result = _read_line(line, secrets)
            if custom_id is None:
                unread += 1
            if custom_id not in wanted:
                continue
            if not isinstance(results.get(custom_id), Completion):  # an answer wins
                results[custom_id] = result

    if batch.status == "failed":
        errors = batch.errors.data if batch.errors and batch.errors.data else []
        detail = "; ".join(
            (f"line {e.line}: " if e.line is not None else "") + (e.message or e.code or "?")
            for e in errors
        )
        missing = f"batch failed: {detail or 'no reason given'}"
    elif unread:
        missing = f"malformed batch line: {unread} line(s) had no readable custom_id; no result"
    else:
        missing = f"batch {batch.status}: no result"
    for request_id in job.request_ids:
        results.setdefault(request_id, _error(missing, None, secrets))
    return job, results


def _file_text(client: openai.OpenAI, file_id: str, secrets: Iterable[str]) -> str:
    """A result file as text: JSONL is UTF-8 whatever content type the endpoint claims."""
    data = _call(lambda: client.files.content(file_id).content, secrets)
    return data.decode("utf-8", errors="replace")


def _read_line(line: str, secrets: Iterable[str]) -> tuple[str | None, Result]:
    """One line of an output or error file as (custom_id, result). A line that is not what
    OpenAI writes fails its request only (found by its custom_id if the text still shows it)."""
    try:
        data = json.loads(line)
    except ValueError as err:
        found = _CUSTOM_ID.search(line)
        return (found.group(1) if found else None), _error(
            f"malformed batch line: not JSON ({err})", None, secrets
        )
    if not isinstance(data, dict) or not isinstance(data.get("custom_id"), str):
        return None, _error("malformed batch line: no custom_id", None, secrets)
    custom_id: str = data["custom_id"]
    error, response = data.get("error"), data.get("response")
    if isinstance(error, dict):
        code, message = error.get("code"), error.get("message")
        return custom_id, _error(f"batch request error: {code}: {message}", None, secrets)
    if not isinstance(response, dict) or not isinstance(response.get("status_code"), int):
        return custom_id, _error("malformed batch line: no response status", None, secrets)
    status: int = response["status_code"]
    body = response.get("body")
    if status != 200:
        inner = body.get("error") if isinstance(body, dict) else None
        message = inner.get("message") if isinstance(inner, dict) else None
        return custom_id, _error(f"http {status}: {message or body}", status, secrets)
    return custom_id, _completion(body, secrets)


def _completion(body: Any, secrets: Iterable[str]) -> Result:
    """A chat.completion object as a Completion, as `OpenAIBackend.complete` reads one."""
    choices = body.get("choices") if isinstance(body, dict) else None
    if not isinstance(choices, list) or not choices:
        return _error("malformed batch line: no choices", None, secrets)
    message = choices[0].get("message") if isinstance(choices[0], dict) else None
    if not isinstance(message, dict):
        return _error("malformed batch line: no message", None, secrets)
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        return _error("malformed batch line: content is not text", None, secrets)
    usage = body.get("usage")
    usage = usage if isinstance(usage, dict) else {}

    def tokens(key: str) -> int:
        value = usage.get(key)
        return value if isinstance(value, int) else 0

    refusal = message.get("refusal")
    return Completion(
        content=content or "",
        prompt_tokens=tokens("prompt_tokens"),
        completion_tokens=tokens("completion_tokens"),
        refusal=redact(refusal, secrets) if isinstance(refusal, str) else None,
    )
