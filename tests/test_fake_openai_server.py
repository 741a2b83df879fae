"""The fake OpenAI server, exercised through the real ``openai`` client."""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Literal, Optional

import openai
import pydantic
import pytest

from tests import conftest_openai
from tests.fakes.openai_server import FakeOpenAIServer, Fault, minimal_instance

# The fixture, bound here so this module works whichever way tests/conftest.py loads it.
openai_server = conftest_openai.openai_server

MESSAGES = [{"role": "user", "content": "Is it wrong to skip my sister's wedding?"}]


# -- schemas -----------------------------------------------------------------------------------


class Stance(enum.StrEnum):
    SUPPORT = "support"
    OPPOSE = "oppose"


class Evidence(pydantic.BaseModel):
    quote: str = pydantic.Field(min_length=3)
    weight: float = pydantic.Field(gt=0, le=1)


class Judgement(pydantic.BaseModel):
    label: Literal["acceptable", "unacceptable"]
    stance: Stance
    confidence: int = pydantic.Field(ge=1, le=5)
    values: list[str]
    evidence: list[Evidence] = pydantic.Field(min_length=1)
    primary: Evidence
    note: Optional[str]  # noqa: UP045 - exercise the Optional spelling explicitly
    flagged: bool


class Node(pydantic.BaseModel):
    name: str
    children: list[Node]
    parent: Node | None


class Everything(pydantic.BaseModel):
    when: dt.datetime
    day: dt.date
    ident: uuid.UUID
    pair: tuple[int, str]
    counts: dict[str, int]
    ratio: Annotated[float, pydantic.Field(gt=0.5, lt=0.75)]
    negative: Annotated[int, pydantic.Field(lt=-3)]
    even: Annotated[int, pydantic.Field(ge=3, multiple_of=2)]
    kind: Literal["x"] = "x"
    tree: Node
    maybe: Judgement | None = None
    short: Annotated[str, pydantic.Field(min_length=2, max_length=4)]


def json_schema_format(model: type[pydantic.BaseModel]) -> dict:
    return {
        "type": "json_schema",
        "json_schema": {
            "name": model.__name__,
            "schema": model.model_json_schema(),
            "strict": True,
        },
    }


def new_client(server: FakeOpenAIServer, **kwargs) -> openai.OpenAI:
    kwargs.setdefault("api_key", "test-key")
    kwargs.setdefault("max_retries", 0)
    kwargs.setdefault("timeout", 5)
    return openai.OpenAI(base_url=server.base_url, **kwargs)


@pytest.fixture
def make_client(openai_server):
    """``make_client(**kwargs)``: an openai.OpenAI for the fixture server, closed at teardown."""
    clients: list[openai.OpenAI] = []

    def make(**kwargs) -> openai.OpenAI:
        clients.append(new_client(openai_server, **kwargs))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


def ask(client: openai.OpenAI, **kwargs):
    kwargs.setdefault("model", "gpt-4o-mini")
    kwargs.setdefault("messages", MESSAGES)
    return client.chat.completions.create(**kwargs)


# -- normal answers ------------------------------------------------------------------------------


def test_structured_output_with_pydantic_schema(openai_server, make_client):
    client = make_client()
    resp = ask(client, model="gpt-4o-2024-08-06", response_format=json_schema_format(Judgement))

    assert resp.object == "chat.completion"
    assert resp.id.startswith("chatcmpl-")
    assert resp.model == "gpt-4o-2024-08-06"
    choice = resp.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    judgement = Judgement.model_validate_json(choice.message.content)
    assert judgement.label == "acceptable"
    assert judgement.evidence and judgement.primary.weight > 0

    content_words = len(choice.message.content.split())
    assert resp.usage.prompt_tokens == len(MESSAGES[0]["content"].split())
    assert resp.usage.completion_tokens == content_words
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + content_words

    (req,) = openai_server.requests
    assert (req.method, req.path) == ("POST", "/v1/chat/completions")
    assert req.headers["authorization"] == "Bearer test-key"
    assert req.body["messages"] == MESSAGES
    assert req.fault is None


def test_parse_helper_with_openai_strict_schema(make_client):
    client = make_client()
    resp = client.chat.completions.parse(
        model="gpt-4o-mini", messages=MESSAGES, response_format=Judgement
    )
    assert isinstance(resp.choices[0].message.parsed, Judgement)


@pytest.mark.parametrize("model", [Judgement, Node, Everything, Evidence])
def test_minimal_instance_validates(model):
    instance = minimal_instance(model.model_json_schema())
    model.model_validate(instance)
    model.model_validate_json(json.dumps(instance))


def test_minimal_instance_keywords():
    assert minimal_instance({"const": 3}) == 3
    assert minimal_instance({"enum": ["b", "a"]}) == "b"
    assert minimal_instance({"type": ["null", "integer"], "minimum": 2}) == 2
    assert minimal_instance({"type": "number", "exclusiveMinimum": 1}) == 2.0
    assert minimal_instance({"type": "array", "items": {"type": "boolean"}, "minItems": 2}) == [
        False,
        False,
    ]
    assert minimal_instance({"anyOf": [{"type": "null"}, {"type": "string"}]}) == ""
    assert minimal_instance({"allOf": [{"$ref": "#/$defs/A"}], "$defs": {"A": {"const": 1}}}) == 1
    assert minimal_instance({}) is None


def test_json_object_and_plain_text(make_client):
    client = make_client()
    assert ask(client, response_format={"type": "json_object"}).choices[0].message.content == "{}"
    assert ask(client).choices[0].message.content == "ok"


def test_custom_responder_gets_request_body(openai_server, make_client):
    seen = []

    def responder(body):
        seen.append(body)
        return {"echo": body["messages"][-1]["content"]}  # non-str is JSON-encoded

    openai_server.responder = responder
    content = ask(make_client(), temperature=0).choices[0].message.content
    assert json.loads(content) == {"echo": MESSAGES[0]["content"]}
    assert seen[0]["temperature"] == 0


def test_models_endpoint(make_client):
    client = make_client()
    assert "gpt-4o-mini" in [m.id for m in client.models.list()]
    assert client.models.retrieve("gpt-4o").id == "gpt-4o"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("nope")


# -- rate limits and server errors ------------------------------------------------------------


def test_rate_limit_retry_after_is_honoured(openai_server, make_client):
    openai_server.script(Fault.rate_limit(retry_after=1))
    client = make_client(max_retries=2)

    start = time.monotonic()
    resp = ask(client)
    elapsed = time.monotonic() - start

    assert resp.choices[0].message.content == "ok"
    assert 0.9 <= elapsed < 2.5  # slept for Retry-After (not the ~0.5 s default backoff)
    first, second = openai_server.requests
    assert first.fault.status == 429 and second.fault is None
    retry_counts = [r.headers["x-stainless-retry-count"] for r in (first, second)]
    assert retry_counts == ["0", "1"]


def test_rate_limit_error_details_without_retries(openai_server, make_client):
    openai_server.script(Fault.rate_limit(retry_after=7))
    with pytest.raises(openai.RateLimitError) as info:
        ask(make_client())
    err = info.value
    assert err.status_code == 429
    assert err.code == "rate_limit_exceeded" and err.type == "rate_limit_exceeded"
    assert err.response.headers["retry-after"] == "7"
    assert err.request_id.startswith("req_")


def test_retry_after_ms_takes_precedence(openai_server, make_client):
    openai_server.script(Fault.rate_limit(retry_after=60, retry_after_ms=50))
    start = time.monotonic()
    ask(make_client(max_retries=1))
    assert time.monotonic() - start < 1.0


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_error_then_success(openai_server, status, make_client):
    openai_server.script(Fault.server_error(status))  # no Retry-After: client backs off ~0.5 s
    resp = ask(make_client(max_retries=2))
    assert resp.choices[0].message.content == "ok"
    assert [r.fault and r.fault.status for r in openai_server.requests] == [status, None]


def test_server_errors_exhaust_retries(openai_server, make_client):
    openai_server.script(*[Fault.server_error(503, retry_after=0.01)] * 3, Fault.server_error())
    with pytest.raises(openai.InternalServerError) as info:
        ask(make_client(max_retries=2))
    assert info.value.status_code == 503
    assert len(openai_server.requests) == 3
    assert openai_server.pending_faults == 1


def test_client_errors_are_not_retried(openai_server, make_client):
    openai_server.script(
        Fault.http_error(400, "maximum context length exceeded", code="context_length_exceeded")
    )
    with pytest.raises(openai.BadRequestError) as info:
        ask(make_client(max_retries=2))
    assert info.value.code == "context_length_exceeded"
    assert len(openai_server.requests) == 1


# -- timeouts and broken connections -------------------------------------------------------------


def test_timeout_raises_api_timeout_error(openai_server, make_client):
    openai_server.script(Fault.timeout(2))
    client = make_client(timeout=0.5)
    start = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        ask(client)
    assert time.monotonic() - start < 1.5
    assert ask(client).choices[0].message.content == "ok"  # server still healthy


def test_timeout_is_retried(openai_server, make_client):
    openai_server.script(Fault.timeout(2))
    resp = ask(make_client(timeout=0.5, max_retries=1))
    assert resp.choices[0].message.content == "ok"
    assert len(openai_server.requests) == 2


def test_disconnect(openai_server, make_client):
    openai_server.script(Fault.disconnect())
    with pytest.raises(openai.APIConnectionError) as info:
        ask(make_client())
    assert not isinstance(info.value, openai.APITimeoutError)

    openai_server.script(Fault.disconnect())
    assert ask(make_client(max_retries=1)).choices[0].message.content == "ok"


# -- bad bodies --------------------------------------------------------------------------------


def test_malformed_json_body_raises_json_decode_error(openai_server, make_client):
    # The client decodes a 200 application/json body after its retry loop, so the decode error
    # escapes as a plain json.JSONDecodeError (a ValueError, not an openai.OpenAIError) and is
    # never retried.
    openai_server.script(Fault.malformed_body())
    with pytest.raises(json.JSONDecodeError) as info:
        ask(make_client(max_retries=2))
    assert not isinstance(info.value, openai.OpenAIError)
    assert len(openai_server.requests) == 1


def test_non_json_content_type_body(openai_server, make_client):
    html = "<html><body>502 Bad Gateway</body></html>"
    openai_server.script(Fault.malformed_body(html, content_type="text/html"))
    # Lenient (default) client: hands back the raw text instead of a ChatCompletion.
    assert ask(make_client()) == html

    openai_server.script(Fault.malformed_body(html, content_type="text/html"))
    strict = make_client(_strict_response_validation=True)
    with pytest.raises(openai.APIResponseValidationError):
        ask(strict)


@pytest.mark.parametrize("text", ["I think it is fine.", '{"label": "maybe"}'])
def test_bad_content_fails_schema_validation(openai_server, text, make_client):
    openai_server.script(Fault.bad_content(text))
    resp = ask(make_client(), response_format=json_schema_format(Judgement))
    assert resp.choices[0].message.content == text
    with pytest.raises(pydantic.ValidationError):
        Judgement.model_validate_json(resp.choices[0].message.content)


def test_truncated_content_with_parse_helper(openai_server, make_client):
    openai_server.script(Fault.bad_content('{"label": "accep', finish_reason="length"))
    with pytest.raises(openai.LengthFinishReasonError):
        make_client().chat.completions.parse(
            model="gpt-4o-mini", messages=MESSAGES, response_format=Judgement
        )


def test_empty_choices(openai_server, make_client):
    openai_server.script(Fault.empty_choices())
    resp = ask(make_client())
    assert resp.choices == []
    assert resp.object == "chat.completion"


# -- auth ----------------------------------------------------------------------------------------


def test_api_key_required(openai_server, make_client):
    openai_server.api_key = "secret"
    openai_server.script(Fault.server_error())  # not consumed by rejected requests

    with pytest.raises(openai.AuthenticationError) as info:
        ask(make_client(api_key="wrong", max_retries=2))
    assert info.value.status_code == 401 and info.value.code == "invalid_api_key"
    assert len(openai_server.requests) == 1  # 401 is not retried

    req = urllib.request.Request(
        openai_server.base_url + "/chat/completions",
        data=json.dumps({"model": "m", "messages": MESSAGES}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as http_info:
        urllib.request.urlopen(req, timeout=2)
    assert http_info.value.code == 401
    assert json.loads(http_info.value.read())["error"]["code"] == "invalid_api_key"
    http_info.value.close()

    assert openai_server.pending_faults == 1
    openai_server.reset()
    assert ask(make_client(api_key="secret")).choices[0].message.content == "ok"


# -- scripting, concurrency, lifecycle ---------------------------------------------------------


def test_faults_are_consumed_in_order(openai_server, make_client):
    openai_server.script(Fault.bad_content("one"), Fault.empty_choices())
    openai_server.script(Fault.bad_content("two"))
    client = make_client()
    client.models.list()  # other endpoints do not consume faults
    assert ask(client).choices[0].message.content == "one"
    assert ask(client).choices == []
    assert ask(client).choices[0].message.content == "two"
    assert ask(client).choices[0].message.content == "ok"
    assert openai_server.pending_faults == 0
    assert [r.fault.kind if r.fault else None for r in openai_server.chat_requests] == [
        "content",
        "empty_choices",
        "content",
        None,
    ]


def test_concurrent_requests(openai_server, make_client):
    openai_server.responder = lambda body: body["messages"][0]["content"].upper()
    client = make_client()

    def one(i: int) -> str:
        msgs = [{"role": "user", "content": f"request {i}"}]
        return ask(client, messages=msgs).choices[0].message.content

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, range(32)))
    assert results == [f"REQUEST {i}" for i in range(32)]
    assert len(openai_server.requests) == 32


def test_async_client(openai_server):
    openai_server.script(Fault.rate_limit(retry_after_ms=10, retry_after=None))

    async def main() -> str:
        async with openai.AsyncOpenAI(
            base_url=openai_server.base_url, api_key="k", max_retries=1
        ) as client:
            resp = await client.chat.completions.create(model="m", messages=MESSAGES)
            return resp.choices[0].message.content

    assert asyncio.run(main()) == "ok"


def test_close_is_prompt_and_leaves_no_threads():
    server = FakeOpenAIServer().start()
    client = new_client(server, timeout=0.3)
    ask(client)  # leaves an idle keep-alive connection open
    server.script(Fault.timeout(30))
    with pytest.raises(openai.APITimeoutError):
        ask(client)  # leaves a handler thread sleeping

    start = time.monotonic()
    server.close()
    assert time.monotonic() - start < 1.0
    assert not [t for t in threading.enumerate() if t.name.startswith("fake-openai")]
    assert server.errors == []
    server.close()  # idempotent
    client.close()


def test_responder_errors_surface(openai_server, make_client):
    def broken(body):
        raise RuntimeError("boom")

    openai_server.responder = broken
    with pytest.raises(openai.InternalServerError, match="boom"):
        ask(make_client())
    assert isinstance(openai_server.errors[0], RuntimeError)
    openai_server.reset()  # keep the fixture's teardown check happy
