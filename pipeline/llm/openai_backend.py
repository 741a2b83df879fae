"""Any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, Ollama, llama.cpp server).

The `openai` client does the transport retries itself (429 honouring Retry-After, 5xx,
timeouts, connection errors, with backoff); what is left after them becomes a BackendError.
Answers are requested as JSON-schema structured output from the task's schema model.
"""

from __future__ import annotations

import openai

from pipeline.llm.service import BackendError, Completion
from pipeline.settings import LLMSettings
from schemas import LLMRequest


class OpenAIBackend:
    name = "openai"

    def __init__(self, settings: LLMSettings) -> None:
        self._secret = settings.key()
        # Local servers (vLLM, Ollama, llama.cpp) accept any key; the client requires one.
        self.client = openai.OpenAI(
            base_url=settings.base_url or None,
            api_key=self._secret or "not-needed",
            timeout=settings.timeout_s,
            max_retries=settings.max_retries,
        )

    def _safe(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text

    def prepare(self, requests: list[LLMRequest]) -> None:
        return None

    def complete(self, request: LLMRequest) -> Completion:
        schema = request.answer_schema
        try:
            resp = self.client.chat.completions.create(  # type: ignore[call-overload]
                model=request.model,
                messages=request.messages,
                temperature=request.temperature,
                max_tokens=request.max_tokens,
                seed=request.seed,
                response_format={
                    "type": "json_schema",
                    "json_schema": {
                        "name": schema.__name__,
                        "schema": schema.model_json_schema(),
                        "strict": True,
                    },
                },
            )
        except openai.APIStatusError as err:
            raise BackendError(self._safe(f"http {err.status_code}: {err.message}")[:300]) from None
        except openai.APITimeoutError:
            raise BackendError("timeout") from None
        except openai.APIConnectionError as err:
            raise BackendError(self._safe(f"connection error: {err}")[:300]) from None
        except openai.APIResponseValidationError as err:
            raise BackendError(self._safe(f"malformed response: {err}")[:300]) from None
        except (ValueError, TypeError) as err:  # a body that is not JSON at all
            raise BackendError(self._safe(f"malformed response: {err}")[:300]) from None
        if not getattr(resp, "choices", None):
            raise BackendError("malformed response: no choices")
        content = resp.choices[0].message.content or ""
        usage = resp.usage
        return Completion(
            content=content,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
        )
