"""Any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, Ollama, llama.cpp server).

The `openai` client does the transport retries itself (429 honouring Retry-After, 5xx,
timeouts, connection errors, with backoff; never 401/403); what is left after them becomes a
BackendError, with the HTTP status for the service's circuit breaker and its text redacted.
Answers are requested as JSON-schema structured output from the task's schema model.
"""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import openai
from pydantic import BaseModel

from pipeline.errors import EndpointError
from pipeline.llm.service import BackendError, Completion, endpoint_secrets, redact
from pipeline.settings import DEFAULT_ENDPOINT, LLMSettings, redact_url
from schemas import LLMRequest


def split_base_url(url: str | None) -> tuple[str | None, dict[str, str]]:
    """The base URL without its query, and the query as parameters. Some gateways take the key
    in the query (`.../v1?key=...`); pasted into the base URL it would end up in the middle of
    every request path (`/v1/?key=...chat/completions`)."""
    if not url:
        return None, {}
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")), query


@cache
def _json_schema(schema: type[BaseModel]) -> dict[str, Any]:
    """Built once per answer model: pydantic builds the schema anew on every call (about a
    millisecond for the ten-value answer), and every request sends it."""
    return schema.model_json_schema()


def chat_body(request: LLMRequest) -> dict[str, Any]:
    """The chat-completions body for a request (sent directly, or as a line of a batch file)."""
    schema = request.answer_schema
    return {
        "model": request.model,
        "messages": request.messages,
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "seed": request.seed,
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": schema.__name__,
                "schema": _json_schema(schema),
                "strict": True,
            },
        },
    }


class OpenAIBackend:
    name = "openai"

    def __init__(self, settings: LLMSettings, name: str = DEFAULT_ENDPOINT) -> None:
        self._secrets = endpoint_secrets(settings)
        base_url, query = split_base_url(settings.url(name))
        shown = redact_url(base_url) or "the default OpenAI endpoint"
        self.endpoint: str | None = shown if name == DEFAULT_ENDPOINT else f"{name} ({shown})"
        self.hint = settings.key_hint(name)
        key = settings.key(name)
        if not key and name != DEFAULT_ENDPOINT and settings.endpoints[name].api_key_env:
            raise EndpointError(
                f"LLM endpoint {name}: the environment variable "
                f"{settings.endpoints[name].api_key_env} (llm.endpoints.{name}.api_key_env) "
                "is not set"
            )
        # Local servers (vLLM, Ollama, llama.cpp) accept any key; the client requires one.
        self.client = openai.OpenAI(
            base_url=base_url,
            api_key=key or "not-needed",
            timeout=settings.timeout_s,
            max_retries=settings.max_retries,
            default_query=query or None,
        )

    def _error(self, reason: str, status: int | None = None) -> BackendError:
        """A BackendError whose reason is one redacted line, short enough to store."""
        return BackendError(redact(" ".join(reason.split()), self._secrets)[:300], status)

    def prepare(self, requests: list[LLMRequest]) -> None:
        return None

    def complete(self, request: LLMRequest) -> Completion:
        try:
            resp = self.client.chat.completions.create(**chat_body(request))
        except openai.APIStatusError as err:
            body = err.body if isinstance(err.body, dict) else {}
            message = body.get("message") if isinstance(body.get("message"), str) else None
            status = err.status_code
            raise self._error(f"http {status}: {message or err.message}", status) from None
        except openai.APITimeoutError:
            raise self._error("timeout") from None
        except openai.APIConnectionError as err:
            raise self._error(f"connection error: {err}") from None
        except openai.APIResponseValidationError as err:
            raise self._error(f"malformed response: {err}") from None
        except (ValueError, TypeError) as err:  # a body that is not JSON at all
            raise self._error(f"malformed response: {err}") from None
        if not getattr(resp, "choices", None):
            raise self._error("malformed response: no choices")
        message = resp.choices[0].message
        usage = resp.usage
        refusal = getattr(message, "refusal", None)
        return Completion(
            content=message.content or "",
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            refusal=redact(refusal, self._secrets) if isinstance(refusal, str) else None,
        )
