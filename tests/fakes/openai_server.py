"""A small fake of the OpenAI chat-completions and Batch HTTP API, for tests.

It runs on 127.0.0.1 (a free port) in a daemon thread, uses only the standard library, and is
meant to be driven by the real ``openai`` client::

    with FakeOpenAIServer() as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0)
        server.script(Fault.rate_limit(retry_after=1), Fault.server_error(503))
        client.chat.completions.create(model="m", messages=[...])

Endpoints: ``POST /v1/chat/completions``, ``GET /v1/models``, ``GET /v1/models/{id}``, and for
the Batch API ``POST /v1/files`` (multipart upload), ``GET /v1/files/{id}``,
``GET /v1/files/{id}/content``, ``POST /v1/batches``, ``GET /v1/batches/{id}``,
``POST /v1/batches/{id}/cancel``. Anything else is a 404 with an OpenAI-style error body.

Message content comes from ``server.responder`` (``(request_body: dict) -> str``; a non-string
return value is JSON-encoded). The default, :func:`default_responder`, answers structured-output
requests with a minimal instance of the requested JSON schema.

Faults queued with :meth:`FakeOpenAIServer.script` are consumed one per chat-completions request
(other endpoints never consume them), in order; normal answers resume when the queue is empty.

Batches: a created batch is ``validating``, then ``in_progress`` when looked at before
``server.batch_delay`` seconds (default 0) have passed since its creation, then ends when looked
at after that, each line answered by ``server.responder`` as a chat request would be. How it
ends is read at that moment from these knobs::

    server.batch_delay = 60            # still running for a minute (set it to 0 to end it now)
    server.batch_status = "failed"     # or "expired" / "completed" (the default)
    server.batch_failure = "..."       # the message of a failed batch's error
    server.batch_answered = 1          # an expired batch answers only its first N lines
    server.batch_line_faults = {custom_id: Fault.http_error(400, "bad")}   # or a set of
        # custom_ids (each a 400 line), or a callable custom_id -> Fault | None

Per-line faults: ``http_error`` puts the line in the error file with that status and body,
``malformed_body`` writes ``body`` verbatim as the output line, ``content``/``empty_choices`` shape
the chat.completion as for chat requests, ``timeout``/``disconnect`` give an error line with
``"error": {"code": "request_timeout", ...}``. ``server.files`` and ``server.batches`` (dicts by
id, in creation order) record every file and batch, so tests can count submissions.
"""

from __future__ import annotations

import contextlib
import email.message
import json
import math
import re
import socket
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "DEFAULT_MODELS",
    "FakeBatch",
    "FakeFile",
    "FakeOpenAIServer",
    "Fault",
    "RecordedRequest",
    "Responder",
    "default_responder",
    "minimal_instance",
]

Responder = Callable[[dict[str, Any]], Any]

DEFAULT_MODELS: tuple[str, ...] = ("gpt-4o-mini", "gpt-4o", "fake-model")

# Errors that just mean "the client went away"; never worth reporting.
_CONNECTION_ERRORS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)


# --------------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """One scripted misbehaviour. Build them with the classmethods, not the constructor.

    kind is one of: "http_error", "timeout", "malformed_body", "content", "empty_choices",
    "disconnect".
    """

    kind: str
    status: int = 200
    error: Mapping[str, Any] | None = None  # the object under "error" in the JSON body
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0  # seconds to sleep before acting
    body: str | None = None  # raw body for malformed_body
    content_type: str = "application/json"
    content: str | None = None  # message content for "content"
    finish_reason: str = "stop"

    # -- HTTP errors ---------------------------------------------------------------------------

    @classmethod
    def http_error(
        cls,
        status: int,
        message: str = "Fake error.",
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Fault:
        """Any status with an OpenAI-style body ``{"error": {message, type, param, code}}``."""
        error = {"message": message, "type": type, "param": param, "code": code}
        return cls(
            kind="http_error",
            status=status,
            error=error,
            headers=tuple((headers or {}).items()),
        )

    @classmethod
    def rate_limit(
        cls,
        retry_after: float | None = 1,
        *,
        retry_after_ms: float | None = None,
    ) -> Fault:
        """429 ``rate_limit_exceeded``, with ``Retry-After: <retry_after>`` (seconds) and, if
        given, ``retry-after-ms: <retry_after_ms>``. Pass ``retry_after=None`` to omit the header.
        The openai client prefers ``retry-after-ms`` and honours delays in (0, 120] seconds."""
        headers: dict[str, str] = {}
        if retry_after is not None:
            headers["Retry-After"] = _fmt_number(retry_after)
        if retry_after_ms is not None:
            headers["retry-after-ms"] = _fmt_number(retry_after_ms)
        return cls.http_error(
            429,
            "Rate limit reached for fake-model: limit 1, used 1, requested 1. "
            "Please try again later.",
            type="rate_limit_exceeded",
            code="rate_limit_exceeded",
            headers=headers,
        )

    @classmethod
    def server_error(cls, status: int = 500, *, retry_after: float | None = None) -> Fault:
        """A 5xx (500, 502, 503, ...) with an OpenAI-style ``server_error`` body."""
        if status < 500:
            raise ValueError(f"server_error needs a 5xx status, got {status}")
        headers = {"Retry-After": _fmt_number(retry_after)} if retry_after is not None else {}
        return cls.http_error(
            status,
            "The server had an error while processing your request. Sorry about that!",
            type="server_error",
            headers=headers,
        )

    # -- other misbehaviour --------------------------------------------------------------------

    @classmethod
    def timeout(cls, seconds: float) -> Fault:
        """Sleep ``seconds`` and then answer normally (a client with a shorter timeout gives up).
        The sleep is cut short when the server shuts down."""
        return cls(kind="timeout", delay=float(seconds))

    @classmethod
    def malformed_body(
        cls,
        body: str = '{"id": "chatcmpl-broken", "object": "chat.comp',
        *,
        content_type: str = "application/json",
        status: int = 200,
    ) -> Fault:
        """``status`` (200) with a body that is not JSON. With the default JSON content type the
        client fails while decoding; with e.g. ``text/html`` it hands back the text as a ``str``.
        """
        return cls(kind="malformed_body", status=status, body=body, content_type=content_type)

    @classmethod
    def bad_content(cls, text: str, *, finish_reason: str = "stop") -> Fault:
        """A valid chat.completion envelope whose message content is exactly ``text`` (which may
        be non-JSON, or JSON that fails the schema). ``finish_reason="length"`` simulates a
        truncated answer."""
        return cls(kind="content", content=text, finish_reason=finish_reason)

    @classmethod
    def refusal(cls, text: str = "I'm sorry, I can't help with that.") -> Fault:
        """A structured-output refusal: ``content`` null, ``refusal`` set (as OpenAI sends)."""
        return cls(kind="refusal", content=text)

    @classmethod
    def empty_choices(cls) -> Fault:
        """A valid chat.completion envelope with ``"choices": []``."""
        return cls(kind="empty_choices")

    @classmethod
    def disconnect(cls) -> Fault:
        """Close the connection without sending any response."""
        return cls(kind="disconnect")


# Per-line batch faults: by custom_id, a callable, or custom_ids that each get a 400 line.
LineFaults = Mapping[str, Fault] | Callable[[str], Fault | None] | Collection[str]


def _fmt_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


# --------------------------------------------------------------------------------------------
# Recorded requests
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it. ``headers`` keys are lower-cased; ``body`` is the parsed
    JSON body (None if there was no body or it was not JSON); ``fault`` is the scripted fault
    that answered it, if any."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    fault: Fault | None = None
    raw_body: bytes = field(default=b"", repr=False)


# --------------------------------------------------------------------------------------------
# Files and batches
# --------------------------------------------------------------------------------------------

BATCH_TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})


@dataclass
class FakeFile:
    """A stored file: uploaded by a client (``purpose="batch"``) or a batch's output or error
    file (``purpose="batch_output"``)."""

    id: str
    filename: str
    purpose: str
    data: bytes
    created_at: int

    def lines(self) -> list[Any]:
        """The JSONL lines, parsed."""
        return [json.loads(line) for line in self.data.split(b"\n") if line.strip()]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.data),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "expires_at": None,
            "status_details": None,
        }


@dataclass
class FakeBatch:
    """One created batch. ``times`` holds the ``*_at`` timestamps reached (``in_progress_at``,
    ``completed_at``, ...)."""

    id: str
    input_file_id: str
    endpoint: str
    completion_window: str
    metadata: dict[str, str] | None
    created_at: int
    started: float = field(repr=False)  # time.monotonic() at creation
    status: str = "validating"
    output_file_id: str | None = None
    error_file_id: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    completed: int = 0
    failed: int = 0
    times: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        stamps = ("in_progress", "finalizing", "completed", "failed", "expired", "cancelling")
        return {
            "id": self.id,
            "object": "batch",
            "endpoint": self.endpoint,
            "model": None,
            "errors": {"object": "list", "data": self.errors} if self.errors else None,
            "input_file_id": self.input_file_id,
            "completion_window": self.completion_window,
            "status": self.status,
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
            "created_at": self.created_at,
            "expires_at": self.created_at + 86400,
            **{f"{s}_at": self.times.get(f"{s}_at") for s in (*stamps, "cancelled")},
            "request_counts": {
                "total": self.total,
                "completed": self.completed,
                "failed": self.failed,
            },
            "metadata": self.metadata,
        }


# --------------------------------------------------------------------------------------------
# Default responder: minimal instances of JSON schemas
# --------------------------------------------------------------------------------------------

_MAX_DEPTH = 12

_FORMAT_EXAMPLES = {
    "date-time": "2000-01-01T00:00:00Z",
    "date": "2000-01-01",
    "time": "00:00:00",
    "duration": "PT0S",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "ipv4": "127.0.0.1",
    "ipv6": "::1",
    "hostname": "example.com",
}


def default_responder(body: dict[str, Any]) -> str:
    """``json_schema`` response_format -> minimal valid instance; ``json_object`` -> ``"{}"``;
    anything else -> ``"ok"``."""
    fmt = body.get("response_format")
    if isinstance(fmt, Mapping):
        if fmt.get("type") == "json_schema":
            spec = fmt.get("json_schema") or {}
            schema = spec.get("schema") if isinstance(spec, Mapping) else None
            return json.dumps(minimal_instance(schema if isinstance(schema, Mapping) else {}))
        if fmt.get("type") == "json_object":
            return "{}"
    return "ok"


def minimal_instance(
    schema: Mapping[str, Any] | bool, root: Mapping[str, Any] | None = None
) -> Any:
    """A small value that validates against ``schema``.

    Covers what pydantic's ``model_json_schema()`` and openai's strict-schema conversion emit:
    object/properties/required, string (minLength/maxLength, common formats), integer/number
    (minimum/maximum/exclusive*/multipleOf), boolean, null, enum, const, array (items,
    prefixItems, minItems), ``$ref`` into ``$defs``/``definitions``, anyOf/oneOf (first non-null
    branch; null once nesting gets deep, which ends recursive models), allOf, type lists.
    ``pattern`` is not honoured. Only required properties are emitted.
    """
    if isinstance(schema, bool):
        return None
    return _instance(schema, schema if root is None else root, 0)


def _instance(schema: Mapping[str, Any], root: Mapping[str, Any], depth: int) -> Any:
    if depth > 4 * _MAX_DEPTH:
        return None
    if not isinstance(schema, Mapping):
        return None
    if "$ref" in schema:
        return _instance(_resolve_ref(root, schema["$ref"]), root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return _instance(_pick_branch(schema[key], depth), root, depth + 1)
    if schema.get("allOf"):
        parts = [_instance(s, root, depth + 1) for s in schema["allOf"]]
        if all(isinstance(p, dict) for p in parts):
            merged: dict[str, Any] = {}
            for p in parts:
                merged.update(p)
            return merged
        return parts[0]

    typ = schema.get("type")
    if isinstance(typ, list):
        non_null = [t for t in typ if t != "null"]
        typ = "null" if not non_null or ("null" in typ and depth > _MAX_DEPTH) else non_null[0]
    if typ is None:
        if "properties" in schema or "required" in schema or "additionalProperties" in schema:
            typ = "object"
        elif "items" in schema or "prefixItems" in schema:
            typ = "array"
        else:
            return None

    if typ == "object":
        props = schema.get("properties") or {}
        return {
            name: _instance(props.get(name, {}), root, depth + 1)
            for name in schema.get("required") or []
        }
    if typ == "array":
        prefix = [_instance(s, root, depth + 1) for s in schema.get("prefixItems") or []]
        min_items = int(schema.get("minItems") or 0)
        items = schema.get("items")
        if len(prefix) < min_items and isinstance(items, Mapping):
            prefix += [_instance(items, root, depth + 1) for _ in range(min_items - len(prefix))]
        return prefix
    if typ == "string":
        fmt = schema.get("format")
        text = _FORMAT_EXAMPLES.get(fmt, "") if isinstance(fmt, str) else ""
        min_len = int(schema.get("minLength") or 0)
        if len(text) < min_len:
            text += "x" * (min_len - len(text))
        max_len = schema.get("maxLength")
        if max_len is not None and len(text) > max_len:
            text = "x" * max(min_len, int(max_len)) if not fmt else text[: int(max_len)]
        return text
    if typ in ("integer", "number"):
        return _number(schema, integer=typ == "integer")
    if typ == "boolean":
        return False
    return None


def _resolve_ref(root: Mapping[str, Any], ref: str) -> Mapping[str, Any]:
    if not ref.startswith("#"):
        raise ValueError(f"only local $refs are supported, got {ref!r}")
    node: Any = root
    for part in filter(None, ref[1:].split("/")):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _is_null_schema(schema: Any) -> bool:
    return isinstance(schema, Mapping) and schema.get("type") == "null"


def _pick_branch(options: list[Any], depth: int) -> Any:
    non_null = [o for o in options if not _is_null_schema(o)]
    has_null = len(non_null) < len(options)
    if not non_null or (has_null and depth > _MAX_DEPTH):
        return {"type": "null"}
    return non_null[0]


def _number(schema: Mapping[str, Any], *, integer: bool) -> int | float:
    lo, hi = schema.get("minimum"), schema.get("maximum")
    xlo, xhi = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    # Draft-4 style boolean exclusives.
    if xlo is True:
        xlo, lo = lo, None
    if xhi is True:
        xhi, hi = hi, None
    xlo = None if isinstance(xlo, bool) else xlo
    xhi = None if isinstance(xhi, bool) else xhi
    step = schema.get("multipleOf")

    def ok(v: float) -> bool:
        return (
            (lo is None or v >= lo)
            and (hi is None or v <= hi)
            and (xlo is None or v > xlo)
            and (xhi is None or v < xhi)
            and (not step or math.isclose(v / step, round(v / step)))
        )

    if ok(0):
        return 0 if integer else 0.0
    lower = max((b for b in (lo, xlo) if b is not None), default=None)
    upper = min((b for b in (hi, xhi) if b is not None), default=None)
    if integer:
        if lower is not None:
            start = math.ceil(lower)
            for v in range(start, start + 1000 * int(step or 1) + 2):
                if ok(v):
                    return v
        if upper is not None:
            start = math.floor(upper)
            for v in range(start, start - 1000 * int(step or 1) - 2, -1):
                if ok(v):
                    return v
        return 0
    if step:
        base = lower if lower is not None else upper
        v = math.ceil(base / step) * step if lower is not None else math.floor(base / step) * step
        while not ok(v) and lower is not None and (upper is None or v < upper):
            v += step
        return float(v)
    if lower is not None and upper is not None:
        return float(lower if lo is not None and lower == lo else (lower + upper) / 2)
    if lower is not None:
        return float(lower if xlo is None or lower != xlo else lower + 1)
    if upper is not None:
        return float(upper if xhi is None or upper != xhi else upper - 1)
    return 0.0


# --------------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API
    server_version = "FakeOpenAI/1.0"
    sys_version = ""
    timeout = 60  # idle keep-alive connections give up eventually (close() ends them anyway)
    server: _HTTPServer

    def setup(self) -> None:
        # Headers and body go out in two writes; without TCP_NODELAY, Nagle's algorithm and
        # the client's delayed ACK hold the body back ~40 ms per request (real servers set it).
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self.server.fake._dispatch(self)

    def do_POST(self) -> None:
        self.server.fake._dispatch(self)

    def do_DELETE(self) -> None:
        self.server.fake._dispatch(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False
    request_queue_size = 128

    def __init__(self, fake: FakeOpenAIServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake
        self._conn_lock = threading.Lock()
        self._conns: dict[threading.Thread, socket.socket] = {}

    # One thread per connection, tracked so close() can end and join them.
    def process_request(self, request: Any, client_address: Any) -> None:
        t = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name=f"fake-openai-conn-{client_address[1]}",
            daemon=True,
        )
        with self._conn_lock:
            self._conns[t] = request
        t.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            with self._conn_lock:
                self._conns.pop(threading.current_thread(), None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if exc is None or isinstance(exc, _CONNECTION_ERRORS):
            return
        if isinstance(exc, OSError) and self.fake._closing.is_set():
            return
        self.fake._record_error(exc)

    def close_connections(self, timeout: float) -> list[threading.Thread]:
        """Shut down every open connection and join its thread; returns threads still alive."""
        with self._conn_lock:
            conns = list(self._conns.items())
        for _, sock in conns:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for t, _ in conns:
            t.join(max(0.0, deadline - time.monotonic()))
        return [t for t, _ in conns if t.is_alive()]


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class FakeOpenAIServer:
    """Fake OpenAI API on 127.0.0.1. Use as a context manager, or call start()/close().

    Attributes tests may set at any time:
      responder  -- ``(request_body: dict) -> str`` giving the assistant message content.
      api_key    -- when set, requests without ``Authorization: Bearer <api_key>`` get a 401.
      models     -- model ids listed by ``GET /v1/models``.
      batch_delay, batch_status, batch_failure, batch_answered, batch_line_faults -- how
                    batches run and end (see the module docstring).

    Recorded: ``files`` and ``batches``, dicts by id in creation order.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        responder: Responder | None = None,
        models: tuple[str, ...] | list[str] = DEFAULT_MODELS,
        batch_delay: float = 0.0,
    ) -> None:
        self.api_key = api_key
        self.responder: Responder = responder or default_responder
        self.models = list(models)
        self.batch_delay = batch_delay
        self.batch_status = "completed"  # how batches end: completed | failed | expired
        self.batch_failure = "Fake batch failure."
        self.batch_answered = 0  # lines an expired batch answered before it expired
        self.batch_line_faults: LineFaults | None = None
        self.files: dict[str, FakeFile] = {}
        self.batches: dict[str, FakeBatch] = {}
        self._batch_lock = threading.RLock()  # files, batches and their progress
        self._lock = threading.Lock()
        self._faults: deque[Fault] = deque()
        self._requests: list[RecordedRequest] = []
        self._errors: list[BaseException] = []
        self._closing = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakeOpenAIServer:
        if self._httpd is not None:
            return self
        self._closing.clear()
        self._httpd = _HTTPServer(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-openai-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self, timeout: float = 5.0) -> None:
        """Stop accepting, end open connections (waking any Fault.timeout sleeps), join threads.
        Idempotent."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._closing.set()
        httpd.shutdown()
        httpd.server_close()
        stuck = httpd.close_connections(timeout)
        if thread is not None:
            thread.join(timeout)
        self._httpd = self._thread = None
        if stuck:
            raise RuntimeError(f"fake OpenAI server: threads did not stop: {stuck}")

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- addresses -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("FakeOpenAIServer is not started")
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no /v1)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """What to pass as ``openai.OpenAI(base_url=...)``."""
        return f"{self.url}/v1"

    # -- scripting and inspection ----------------------------------------------------------------

    def script(self, *faults: Fault) -> None:
        """Append faults; each chat-completions request consumes one until the queue is empty."""
        for f in faults:
            if not isinstance(f, Fault):
                raise TypeError(f"expected Fault, got {f!r}")
        with self._lock:
            self._faults.extend(faults)

    @property
    def pending_faults(self) -> int:
        with self._lock:
            return len(self._faults)

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of all requests received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """Only the ``POST /v1/chat/completions`` requests."""
        return [r for r in self.requests if r.method == "POST" and _route(r.path) == "chat"]

    @property
    def errors(self) -> list[BaseException]:
        """Exceptions raised inside the fake itself (including by the responder)."""
        with self._lock:
            return list(self._errors)

    def reset(self) -> None:
        """Forget recorded requests/errors, files and batches, and drop pending faults
        (responder and batch knobs are kept)."""
        with self._lock:
            self._faults.clear()
            self._requests.clear()
            self._errors.clear()
        with self._batch_lock:
            self.files.clear()
            self.batches.clear()

    def _record_error(self, exc: BaseException) -> None:
        with self._lock:
            self._errors.append(exc)

    # -- request handling ------------------------------------------------------------------------

    def _dispatch(self, h: _Handler) -> None:
        try:
            self._handle(h)
        except _CONNECTION_ERRORS:
            h.close_connection = True
        except Exception as exc:
            if not (self._closing.is_set() and isinstance(exc, OSError)):
                self._record_error(exc)
            h.close_connection = True
            with contextlib.suppress(Exception):
                self._send_error(h, 500, f"fake server crashed: {exc!r}", "server_error")

    def _handle(self, h: _Handler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length > 0 else b""
        body: Any = None
        if raw:
            with contextlib.suppress(ValueError):
                body = json.loads(raw)
        headers = {k.lower(): v for k, v in h.headers.items()}
        route = _route(h.path)

        authorized = self._authorized(headers)
        fault = None
        if authorized and h.command == "POST" and route == "chat" and isinstance(body, dict):
            with self._lock:
                fault = self._faults.popleft() if self._faults else None
        with self._lock:
            self._requests.append(
                RecordedRequest(h.command, h.path, headers, body, fault, raw_body=raw)
            )

        if not authorized:
            self._send_error(
                h,
                401,
                "Incorrect API key provided. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                "invalid_request_error",
                code="invalid_api_key",
            )
        elif route == "chat" and h.command == "POST":
            self._chat(h, body, fault)
        elif route == "models" and h.command == "GET":
            self._send_json(
                h, 200, {"object": "list", "data": [self._model(m) for m in self.models]}
            )
        elif self._batch_api(h, route, body, raw, headers):
            pass
        elif isinstance(route, tuple) and route[0] == "model" and h.command == "GET":
            model_id = route[1]
            if model_id in self.models:
                self._send_json(h, 200, self._model(model_id))
            else:
                self._send_error(
                    h,
                    404,
                    f"The model '{model_id}' does not exist or you do not have access to it.",
                    "invalid_request_error",
                    code="model_not_found",
                )
        else:
            self._send_error(
                h,
                404,
                f"Invalid URL ({h.command} {urlsplit(h.path).path})",
                "invalid_request_error",
            )

    def _authorized(self, headers: Mapping[str, str]) -> bool:
        key = self.api_key
        return key is None or headers.get("authorization") == f"Bearer {key}"

    @staticmethod
    def _model(model_id: str) -> dict[str, Any]:
        return {"id": model_id, "object": "model", "created": 1700000000, "owned_by": "fake"}

    def _chat(self, h: _Handler, body: Any, fault: Fault | None) -> None:
        if not isinstance(body, dict):
            self._send_error(
                h,
                400,
                "We could not parse the JSON body of your request.",
                "invalid_request_error",
            )
            return
        if body.get("stream"):
            self._send_error(
                h, 400, "stream=true is not supported by the fake server", "invalid_request_error"
            )
            return

        if fault is not None:
            if fault.delay and self._closing.wait(fault.delay):
                h.close_connection = True
                return
            if fault.kind == "http_error":
                self._send_json(
                    h, fault.status, {"error": dict(fault.error or {})}, headers=fault.headers
                )
                return
            if fault.kind == "disconnect":
                h.close_connection = True
                with contextlib.suppress(OSError):
                    h.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault.kind == "malformed_body":
                self._send_raw(h, fault.status, (fault.body or "").encode(), fault.content_type)
                return
            if fault.kind == "empty_choices":
                self._send_json(h, 200, self._completion(body, None, "stop", n=0))
                return
            if fault.kind == "content":
                self._send_json(h, 200, self._completion(body, fault.content, fault.finish_reason))
                return
            if fault.kind == "refusal":
                answer = self._completion(body, None, "stop")
                answer["choices"][0]["message"]["refusal"] = fault.content
                self._send_json(h, 200, answer)
                return
            # "timeout": fall through to a normal answer after the delay.

        try:
            content = self.responder(body)
        except Exception as exc:
            self._record_error(exc)
            self._send_error(h, 500, f"fake responder raised {exc!r}", "server_error")
            return
        if not isinstance(content, str):
            content = json.dumps(content)
        self._send_json(h, 200, self._completion(body, content, "stop"))

    @staticmethod
    def _completion(
        body: dict[str, Any], content: str | None, finish_reason: str, n: int | None = None
    ) -> dict[str, Any]:
        if n is None:
            n = body.get("n") if isinstance(body.get("n"), int) and body["n"] > 0 else 1
        prompt_tokens = sum(
            _count_words(m.get("content"))
            for m in body.get("messages") or []
            if isinstance(m, Mapping)
        )
        completion_tokens = _count_words(content) * n
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model") or "fake-model",
            "system_fingerprint": "fp_fake",
            "choices": [
                {
                    "index": i,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "logprobs": None,
                    "finish_reason": finish_reason,
                }
                for i in range(n)
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    # -- files and batches -----------------------------------------------------------------------

    def _batch_api(
        self, h: _Handler, route: Any, body: Any, raw: bytes, headers: Mapping[str, str]
    ) -> bool:
        """Serve the files and batches endpoints; False for any other route."""
        kind, ident = route if isinstance(route, tuple) else (route, "")
        method = h.command
        if (kind, method) == ("files", "POST"):
            self._upload(h, raw, headers.get("content-type", ""))
        elif (kind, method) == ("batches", "POST"):
            self._create_batch(h, body)
        elif kind in ("file", "file_content") and method == "GET":
            with self._batch_lock:
                file = self.files.get(ident)
            if file is None:
                self._send_error(h, 404, f"No such File object: {ident}", "invalid_request_error")
            elif kind == "file":
                self._send_json(h, 200, file.to_json())
            else:
                self._send_raw(h, 200, file.data, "application/octet-stream")
        elif kind in ("batch", "batch_cancel") and method == ("GET" if kind == "batch" else "POST"):
            with self._batch_lock:
                batch = self.batches.get(ident)
                if batch is None:
                    payload = None
                elif kind == "batch":
                    self._advance(batch)
                    payload = batch.to_json()
                elif batch.status in BATCH_TERMINAL or batch.status == "cancelling":
                    payload = {"status": batch.status}
                else:
                    batch.status = "cancelling"
                    batch.times["cancelling_at"] = int(time.time())
                    payload = batch.to_json()
            if payload is None:
                self._send_error(
                    h, 404, f"No batch found with id '{ident}'.", "invalid_request_error"
                )
            elif "id" not in payload:
                self._send_error(
                    h,
                    400,
                    f"Cannot cancel a batch with status '{payload['status']}'.",
                    "invalid_request_error",
                )
            else:
                self._send_json(h, 200, payload)
        else:
            return False
        return True

    def _upload(self, h: _Handler, raw: bytes, content_type: str) -> None:
        fields = _multipart(content_type, raw)
        purpose, upload = fields.get("purpose"), fields.get("file")
        if purpose is None or upload is None or upload[0] is None:
            self._send_error(
                h,
                400,
                "A multipart/form-data body with 'file' and 'purpose' is required.",
                "invalid_request_error",
            )
            return
        file = FakeFile(
            id=f"file-{uuid.uuid4().hex[:24]}",
            filename=upload[0],
            purpose=purpose[1].decode(),
            data=upload[1],
            created_at=int(time.time()),
        )
        with self._batch_lock:
            self.files[file.id] = file
        self._send_json(h, 200, file.to_json())

    def _create_batch(self, h: _Handler, body: Any) -> None:
        body = body if isinstance(body, dict) else {}
        with self._batch_lock:
            file = self.files.get(str(body.get("input_file_id")))
        problem = None
        if file is None or file.purpose != "batch":
            problem = f"Invalid input_file_id {body.get('input_file_id')!r}: no batch file."
        elif body.get("endpoint") != "/v1/chat/completions":
            problem = f"Unsupported endpoint {body.get('endpoint')!r} (the fake serves chat)."
        elif body.get("completion_window") != "24h":
            problem = "completion_window must be '24h'."
        if problem or file is None:
            self._send_error(h, 400, problem or "", "invalid_request_error")
            return
        batch = FakeBatch(
            id=f"batch_{uuid.uuid4().hex[:24]}",
            input_file_id=file.id,
            endpoint=body["endpoint"],
            completion_window="24h",
            metadata=body.get("metadata"),
            created_at=int(time.time()),
            started=time.monotonic(),
            total=sum(1 for line in file.data.split(b"\n") if line.strip()),
        )
        with self._batch_lock:
            self.batches[batch.id] = batch
        self._send_json(h, 200, batch.to_json())

    def _advance(self, batch: FakeBatch) -> None:
        """Move a batch on as time has passed (under the batch lock)."""
        now = int(time.time())
        if batch.status == "cancelling":
            batch.status = "cancelled"
            batch.times["cancelled_at"] = now
        if batch.status in BATCH_TERMINAL:
            return
        if batch.status == "validating":
            batch.status = "in_progress"
            batch.times["in_progress_at"] = now
        if time.monotonic() - batch.started >= self.batch_delay:
            self._finish(batch, now)

    def _finish(self, batch: FakeBatch, now: int) -> None:
        end = self.batch_status
        if end not in ("completed", "failed", "expired"):
            raise ValueError(f"batch_status must be completed, failed or expired, not {end!r}")
        lines, problems = _batch_input(self.files[batch.input_file_id].data, batch.endpoint)
        if end == "failed" or problems:
            batch.status = "failed"
            batch.times["failed_at"] = now
            batch.errors = problems or [
                {
                    "code": "invalid_request",
                    "message": self.batch_failure,
                    "param": None,
                    "line": None,
                }
            ]
            return
        answered = lines if end == "completed" else lines[: self.batch_answered]
        output: list[str] = []
        errors: list[str] = []
        for line in answered:
            failed, text = self._batch_line(line)
            (errors if failed else output).append(text)
        batch.completed, batch.failed = len(output), len(errors)
        batch.times["finalizing_at"] = now
        batch.output_file_id = self._result_file(batch, "output", output)
        batch.error_file_id = self._result_file(batch, "error", errors)
        batch.status = end
        batch.times[f"{end}_at"] = now

    def _result_file(self, batch: FakeBatch, kind: str, lines: list[str]) -> str | None:
        if not lines:
            return None
        file = FakeFile(
            id=f"file-{uuid.uuid4().hex[:24]}",
            filename=f"{batch.id}_{kind}.jsonl",
            purpose="batch_output",
            data="".join(line + "\n" for line in lines).encode(),
            created_at=int(time.time()),
        )
        self.files[file.id] = file
        return file.id

    def _line_fault(self, custom_id: str) -> Fault | None:
        knob = self.batch_line_faults
        if knob is None:
            return None
        if isinstance(knob, Mapping):
            return knob.get(custom_id)
        if callable(knob):
            return knob(custom_id)
        if custom_id in knob:
            return Fault.http_error(400, f"Fake error for request {custom_id}.")
        return None

    def _batch_line(self, line: dict[str, Any]) -> tuple[bool, str]:
        """One input line answered: (goes to the error file, the output line)."""
        custom_id, body = line["custom_id"], line["body"]
        request_id = f"req_{uuid.uuid4().hex}"

        def result(status: int | None, payload: Any, error: Any = None) -> str:
            response = None
            if status is not None:
                response = {"status_code": status, "request_id": request_id, "body": payload}
            return json.dumps(
                {
                    "id": f"batch_req_{uuid.uuid4().hex[:24]}",
                    "custom_id": custom_id,
                    "response": response,
                    "error": error,
                },
                ensure_ascii=False,
            )

        fault = self._line_fault(custom_id)
        if fault is not None:
            if fault.kind == "http_error":
                return True, result(fault.status, {"error": dict(fault.error or {})})
            if fault.kind == "malformed_body":
                return False, fault.body or ""
            if fault.kind == "empty_choices":
                return False, result(200, self._completion(body, None, "stop", n=0))
            if fault.kind == "content":
                return False, result(
                    200, self._completion(body, fault.content, fault.finish_reason)
                )
            timeout = {"code": "request_timeout", "message": "The request timed out."}
            return True, result(None, None, timeout)
        try:
            content = self.responder(body)
        except Exception as exc:
            self._record_error(exc)
            error = {"message": f"fake responder raised {exc!r}", "type": "server_error"}
            return True, result(500, {"error": error})
        if not isinstance(content, str):
            content = json.dumps(content)
        return False, result(200, self._completion(body, content, "stop"))

    # -- responses ---------------------------------------------------------------------------

    def _send_error(
        self, h: _Handler, status: int, message: str, type_: str, code: str | None = None
    ) -> None:
        error = {"message": message, "type": type_, "param": None, "code": code}
        self._send_json(h, status, {"error": error})

    def _send_json(
        self,
        h: _Handler,
        status: int,
        payload: Any,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self._send_raw(h, status, json.dumps(payload).encode(), "application/json", headers)

    def _send_raw(
        self,
        h: _Handler,
        status: int,
        data: bytes,
        content_type: str,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(data)))
        h.send_header("x-request-id", f"req_{uuid.uuid4().hex}")
        for name, value in headers:
            h.send_header(name, value)
        h.end_headers()
        h.wfile.write(data)
        h.wfile.flush()


def _route(path: str) -> str | tuple[str, str] | None:
    p = urlsplit(path).path.rstrip("/")
    if p == "/v1/chat/completions":
        return "chat"
    if p == "/v1/models":
        return "models"
    if p in ("/v1/files", "/v1/batches"):
        return p[len("/v1/") :]
    if m := re.fullmatch(r"/v1/files/([^/]+)(/content)?", p):
        return ("file_content" if m.group(2) else "file", m.group(1))
    if m := re.fullmatch(r"/v1/batches/([^/]+)(/cancel)?", p):
        return ("batch_cancel" if m.group(2) else "batch", m.group(1))
    if p.startswith("/v1/models/"):
        return ("model", p[len("/v1/models/") :])
    return None


def _count_words(content: Any) -> int:
    """Crude token count: whitespace-separated words (text parts of multi-part content too)."""
    if isinstance(content, str):
        return len(content.split())
    if isinstance(content, list):
        return sum(_count_words(part.get("text")) for part in content if isinstance(part, Mapping))
    return 0


def _multipart(content_type: str, raw: bytes) -> dict[str, tuple[str | None, bytes]]:
    """A multipart/form-data body as name -> (filename, data); by hand, since the stdlib's
    email parser may rewrite line endings of a part it takes for text."""
    header = email.message.Message()
    header["content-type"] = content_type
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/form-data" or not isinstance(boundary, str):
        return {}
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in raw.split(b"--" + boundary.encode())[1:]:
        if part.startswith(b"--"):
            break
        head, _, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        disposition = email.message.Message()
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-disposition":
                disposition["content-disposition"] = value.strip()
        field_name = disposition.get_param("name", header="content-disposition")
        filename = disposition.get_filename()
        if isinstance(field_name, str):
            fields[field_name] = (filename, data.removesuffix(b"\r\n"))
    return fields


def _batch_input(data: bytes, endpoint: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A batch input file as its lines, and the problems that fail the batch as OpenAI's
    validation would (``errors.data`` entries)."""
    lines: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    seen: set[str] = set()
    for n, raw in enumerate((r for r in data.split(b"\n") if r.strip()), start=1):
        try:
            line = json.loads(raw)
        except ValueError:
            line = None
        if not isinstance(line, dict):
            message = "The line is not a JSON object."
        elif not isinstance(line.get("custom_id"), str):
            message = "Missing custom_id."
        elif line["custom_id"] in seen:
            message = f"Duplicate custom_id {line['custom_id']!r}."
        elif line.get("method") != "POST" or line.get("url") != endpoint:
            message = f"The line must POST to {endpoint}."
        elif not isinstance(line.get("body"), dict):
            message = "Missing body."
        else:
            seen.add(line["custom_id"])
            lines.append(line)
            continue
        problems.append({"code": "invalid_request", "message": message, "param": None, "line": n})
    return lines, problems
