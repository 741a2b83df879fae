"""A small fake of Reddit's OAuth API for the listing endpoints praw uses, for tests.

It runs on 127.0.0.1 (a free port) in a daemon thread, uses only the standard library, and is
meant to be driven by the real ``praw`` client, pointed at it with ``oauth_url`` and
``reddit_url`` (plain http works: prawcore joins paths onto whatever URL it is given)::

    with FakeReddit() as reddit:
        reddit.add_post("careerguidance", title="...", selftext="...")
        reddit.script(RedditFault.server_error(503))
        praw.Reddit(client_id=reddit.client_id, client_secret=reddit.client_secret,
                    user_agent="test:valact:0.1", oauth_url=reddit.url, reddit_url=reddit.url)

Endpoints:

- ``POST /api/v1/access_token``: HTTP basic auth with the app's client id and secret (401
  otherwise); ``grant_type=client_credentials``, or ``password`` with ``username`` and
  ``password`` (a wrong pair is a 200 with ``{"error": "invalid_grant"}``, as Reddit answers).
- ``GET /api/info?id=t3_a,t3_b``: those posts (as a ``Listing``; unknown ids left out).
- ``GET /r/{sub}/new`` and ``GET /r/{sub}/top`` (``t``, ``limit`` up to 100, ``after``,
  ``raw_json``), with a bearer token the server issued (401 with ``www-authenticate`` otherwise):
  a Reddit ``Listing`` of ``t3`` children with the usual submission fields, newest first for
  ``new``, highest score first for ``top`` (within ``t`` of ``server.now``).

Every API answer carries ``x-ratelimit-remaining/used/reset`` (``server.budget`` requests per
window, ``server.reset_s`` seconds to its end; small by default so prawcore never sleeps).

Faults queued with :meth:`FakeReddit.script` are consumed one per listing request, in order:
a 429 with rate-limit headers, a 5xx, a page that is not JSON, a slow answer (a client timeout),
a good page that spends the whole rate-limit budget, or a 401 that voids every token issued.
``server.listing_cap`` stops a listing after that many posts (no ``after`` past it), as Reddit
does at about 1,000; ``server.closed`` makes a subreddit answer 403 (private) or 404 (banned).

Posts are made by the tests (:meth:`add_post`, synthetic text) and can be changed between
scrapes (:meth:`update_post`, :meth:`remove_post`). ``server.requests`` records every request
(path, query, status, posts served) without its credentials.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import zlib
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["FakeReddit", "RecordedRequest", "RedditFault"]

TIME_FILTERS = {
    "hour": 3_600,
    "day": 86_400,
    "week": 7 * 86_400,
    "month": 31 * 86_400,
    "year": 366 * 86_400,
    "all": None,
}
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def base36(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _BASE36[r] + out
        if not n:
            return out


@dataclass(frozen=True)
class RedditFault:
    """One scripted misbehaviour of a listing request. Build them with the classmethods."""

    kind: str  # ok | rate_limit | http_error | raw_page | slow | spend_budget | expire_tokens
    status: int = 200
    reset_s: int = 1
    retry_after: int | None = None
    delay: float = 0.0
    body: str = ""
    content_type: str = "text/html"

    @classmethod
    def ok(cls) -> RedditFault:
        """No fault: a normal answer (to script a fault for a later request)."""
        return cls("ok")

    @classmethod
    def rate_limit(cls, reset_s: int = 1, retry_after: int | None = None) -> RedditFault:
        """429 with ``x-ratelimit-remaining: 0`` and ``x-ratelimit-reset: reset_s``."""
        return cls("rate_limit", status=429, reset_s=reset_s, retry_after=retry_after)

    @classmethod
    def server_error(cls, status: int = 503) -> RedditFault:
        return cls("http_error", status=status, body=f"<html><body>{status}</body></html>")

    @classmethod
    def not_json(
        cls, body: str = "<html><body>Our CDN was unable to reach our servers"
    ) -> RedditFault:
        """A 200 whose body is an HTML page, as a CDN in trouble sends."""
        return cls("raw_page", body=body)

    @classmethod
    def not_a_listing(cls, body: str = '{"message": "busy", "error": 500}') -> RedditFault:
        """A 200 with JSON that is not a Listing."""
        return cls("raw_page", body=body, content_type="application/json")

    @classmethod
    def slow(cls, seconds: float) -> RedditFault:
        """Answer normally, but only after `seconds` (longer than the client's timeout)."""
        return cls("slow", delay=seconds)

    @classmethod
    def expire_tokens(cls) -> RedditFault:
        """Forget every access token issued, and answer this request with a 401."""
        return cls("expire_tokens", status=401)

    @classmethod
    def spend_budget(cls, reset_s: int) -> RedditFault:
        """Answer normally with ``x-ratelimit-remaining: 0``: the next request must wait
        ``reset_s`` seconds."""
        return cls("spend_budget", reset_s=reset_s)


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    status: int = 0
    posts: int = 0  # children in the listing served
    fault: str | None = None


@dataclass
class _Sub:
    name: str
    subreddit_id: str
    posts: list[dict[str, Any]] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer

    def do_GET(self) -> None:
        self.server.fake._handle(self, "GET")

    def do_POST(self) -> None:
        self.server.fake._handle(self, "POST")

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, fake: FakeReddit) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        exc = sys.exc_info()[1]
        if not isinstance(exc, ConnectionError | TimeoutError):
            self.fake.errors.append(exc)  # type: ignore[arg-type]


class FakeReddit:
    def __init__(
        self,
        client_id: str = "fake-client-id",
        client_secret: str = "fake-client-secret",
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.username = username
        self.password = password
        self.budget = 1_000  # requests per rate-limit window
        self.reset_s = 1  # seconds to the end of the window (small: prawcore never sleeps)
        self.listing_cap: int | None = None
        # Subreddit (lower-cased) -> the status its listings answer: 403 private, 404 banned.
        self.closed: dict[str, int] = {}
        self.now: float | None = None  # the server's clock for `t` (None: time.time())
        self.requests: list[RecordedRequest] = []
        self.errors: list[BaseException] = []
        self.tokens: set[str] = set()
        self._subs: dict[str, _Sub] = {}
        self._by_id: dict[str, dict[str, Any]] = {}
        self._faults: deque[RedditFault] = deque()
        self._used = 0
        self._next_id = 36**5  # six-character base36 ids, like Reddit's
        self._lock = threading.RLock()
        self._httpd: _HTTPServer | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeReddit:
        self._httpd = _HTTPServer(self)
        threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="fake-reddit", daemon=True
        ).start()
        return self

    def close(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeReddit:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "start the server first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    # -- scripting -------------------------------------------------------------------------

    def script(self, *faults: RedditFault) -> None:
        with self._lock:
            self._faults.extend(faults)

    @property
    def pending_faults(self) -> int:
        return len(self._faults)

    def listing_requests(self, sub: str | None = None) -> list[RecordedRequest]:
        return [
            r
            for r in self.requests
            if r.path.startswith("/r/") and (sub is None or r.path.split("/")[2] == sub)
        ]

    def add_post(
        self,
        subreddit: str,
        *,
        title: str,
        selftext: str,
        created_utc: int | None = None,
        score: int = 1,
        num_comments: int = 0,
        author: str = "someone",
        **fields: Any,
    ) -> dict[str, Any]:
        """A new submission in `subreddit` (its data dict, as the listing serves it)."""
        with self._lock:
            sub = self._subs.get(subreddit.lower())
            if sub is None:
                sub = self._subs[subreddit.lower()] = _Sub(
                    subreddit, f"t5_{base36(1_000 + len(self._subs))}"
                )
            post_id = base36(self._next_id)
            self._next_id += 1
            created = created_utc if created_utc is not None else int(time.time())
            permalink = f"/r/{sub.name}/comments/{post_id}/{_slug(title)}/"
            data: dict[str, Any] = {
                "approved_at_utc": None,
                "subreddit": sub.name,
                "selftext": selftext,
                "author_fullname": f"t2_{base36(zlib.crc32(author.encode()))}",
                "saved": False,
                "gilded": 0,
                "clicked": False,
                "title": title,
                "link_flair_text": None,
                "subreddit_name_prefixed": f"r/{sub.name}",
                "hidden": False,
                "pwls": 6,
                "downs": 0,
                "hide_score": False,
                "name": f"t3_{post_id}",
                "quarantine": False,
                "upvote_ratio": 0.9,
                "subreddit_type": "public",
                "ups": score,
                "total_awards_received": 0,
                "is_self": True,
                "edited": False,
                "is_original_content": False,
                "content_categories": None,
                "score": score,
                "thumbnail": "self",
                "created": float(created),
                "domain": f"self.{sub.name}",
                "selftext_html": f'<!-- SC_OFF --><div class="md"><p>{selftext}</p></div>',
                "likes": None,
                "banned_by": None,
                "archived": False,
                "no_follow": True,
                "is_crosspostable": True,
                "pinned": False,
                "over_18": False,
                "all_awardings": [],
                "media_only": False,
                "spoiler": False,
                "locked": False,
                "removed_by_category": None,
                "subreddit_id": sub.subreddit_id,
                "mod_reason_by": None,
                "removal_reason": None,
                "id": post_id,
                "author": author,
                "num_comments": num_comments,
                "send_replies": True,
                "whitelist_status": "all_ads",
                "contest_mode": False,
                "mod_reports": [],
                "author_patreon_flair": False,
                "permalink": permalink,
                "stickied": False,
                "url": f"https://www.reddit.com{permalink}",
                "subreddit_subscribers": 250_000,
                "created_utc": float(created),
                "num_crossposts": 0,
                "media": None,
                "is_video": False,
            }
            data.update(fields)
            sub.posts.append(data)
            self._by_id[post_id] = data
            return data

    def update_post(self, post_id: str, **fields: Any) -> None:
        """Change a served post (score, num_comments, selftext, removed_by_category, ...)."""
        with self._lock:
            data = self._by_id[post_id]
            data.update(fields)
            if "score" in fields:
                data["ups"] = fields["score"]

    def remove_post(self, post_id: str, category: str = "moderator") -> None:
        """As Reddit shows a removed post: its text replaced, the reason in
        `removed_by_category` (``"deleted"`` when its author deleted it)."""
        self.update_post(
            post_id,
            removed_by_category=category,
            selftext="[deleted]" if category == "deleted" else "[removed]",
            selftext_html=None,
            **({"author": "[deleted]"} if category == "deleted" else {}),
        )

    # -- serving -------------------------------------------------------------------------

    def _handle(self, h: _Handler, method: str) -> None:
        parts = urlsplit(h.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        record = RecordedRequest(method, parts.path.rstrip("/") or "/", query)
        with self._lock:
            self.requests.append(record)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        if method == "POST" and record.path == "/api/v1/access_token":
            self._token(h, record, body)
            return
        if method == "GET" and record.path == "/api/info":
            if not self._authorized(h):
                self._send(h, record, 401, {"message": "Unauthorized", "error": 401})
                return
            self._send(h, record, 200, self._info(query.get("id", "")), self._ratelimit())
            return
        segments = record.path.strip("/").split("/")
        if method != "GET" or len(segments) != 3 or segments[0] != "r":
            self._send(h, record, 404, {"message": "Not Found", "error": 404})
            return
        if not self._authorized(h):
            self._send(
                h,
                record,
                401,
                {"message": "Unauthorized", "error": 401},
                headers={"www-authenticate": 'Bearer realm="reddit", error="invalid_token"'},
            )
            return
        _, sub, listing = segments
        if listing not in ("new", "top"):
            self._send(h, record, 404, {"message": "Not Found", "error": 404})
            return
        if sub.lower() in self.closed:
            status = self.closed[sub.lower()]
            reason = {403: "private", 404: "banned"}.get(status, "closed")
            self._send(h, record, status, {"reason": reason, "message": "Closed", "error": status})
            return
        with self._lock:
            fault = self._faults.popleft() if self._faults else None
            self._used += 1
        record.fault = fault.kind if fault else None
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
        if fault is not None and fault.kind == "expire_tokens":
            with self._lock:
                self.tokens.clear()
            self._send(
                h,
                record,
                401,
                {"message": "Unauthorized", "error": 401},
                headers={"www-authenticate": 'Bearer realm="reddit", error="invalid_token"'},
            )
            return
        if fault is not None and fault.kind == "rate_limit":
            headers = self._ratelimit(remaining=0, reset_s=fault.reset_s)
            if fault.retry_after is not None:
                headers["retry-after"] = str(fault.retry_after)
            self._send(h, record, 429, {"message": "Too Many Requests", "error": 429}, headers)
            return
        if fault is not None and fault.kind == "http_error":
            self._send_raw(
                h, record, fault.status, fault.body.encode(), "text/html", self._ratelimit()
            )
            return
        if fault is not None and fault.kind == "raw_page":
            self._send_raw(
                h, record, 200, fault.body.encode(), fault.content_type, self._ratelimit()
            )
            return
        page = self._listing(sub, listing, query)
        record.posts = len(page["data"]["children"])
        headers = (
            self._ratelimit(remaining=0, reset_s=fault.reset_s)
            if fault is not None and fault.kind == "spend_budget"
            else self._ratelimit()
        )
        self._send(h, record, 200, page, headers)

    def _token(self, h: _Handler, record: RecordedRequest, body: bytes) -> None:
        form = {k: v[-1] for k, v in parse_qs(body.decode()).items()}
        record.query = {"grant_type": form.get("grant_type", "")}  # never the credentials
        auth = h.headers.get("Authorization", "")
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if auth != f"Basic {expected}":
            self._send(h, record, 401, {"message": "Unauthorized", "error": 401})
            return
        grant = form.get("grant_type")
        if grant == "password" and (
            form.get("username") != self.username or form.get("password") != self.password
        ):
            self._send(h, record, 200, {"error": "invalid_grant"})
            return
        if grant not in ("client_credentials", "password"):
            self._send(h, record, 200, {"error": "unsupported_grant_type"})
            return
        token = f"fake-token-{secrets.token_hex(8)}"
        with self._lock:
            self.tokens.add(token)
        self._send(
            h,
            record,
            200,
            {"access_token": token, "token_type": "bearer", "expires_in": 86_400, "scope": "*"},
        )

    def _authorized(self, h: _Handler) -> bool:
        auth = h.headers.get("Authorization", "")
        return auth.lower().startswith("bearer ") and auth[7:] in self.tokens

    def _ratelimit(
        self, remaining: int | None = None, reset_s: int | None = None
    ) -> dict[str, str]:
        left = max(self.budget - self._used, 0) if remaining is None else remaining
        return {
            "x-ratelimit-remaining": f"{float(left)}",
            "x-ratelimit-used": str(self._used),
            "x-ratelimit-reset": str(self.reset_s if reset_s is None else reset_s),
        }

    def _info(self, names: str) -> dict[str, Any]:
        """`/api/info?id=t3_a,t3_b`: the posts found, in the order asked (Reddit leaves out
        the ids it does not know)."""
        with self._lock:
            by_name = {p["name"]: dict(p) for sub in self._subs.values() for p in sub.posts}
        found = [by_name[n] for n in names.split(",") if n in by_name]
        return {
            "kind": "Listing",
            "data": {
                "after": None,
                "dist": len(found),
                "modhash": None,
                "geo_filter": "",
                "children": [{"kind": "t3", "data": p} for p in found],
                "before": None,
            },
        }

    def _listing(self, sub_name: str, listing: str, query: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            sub = self._subs.get(sub_name.lower())
            posts = [dict(p) for p in sub.posts] if sub else []
        if listing == "new":
            posts.sort(key=lambda p: (p["created_utc"], p["id"]), reverse=True)
        else:
            window = TIME_FILTERS.get(query.get("t", "day"), 86_400)
            if window is not None:
                now = self.now if self.now is not None else time.time()
                posts = [p for p in posts if p["created_utc"] >= now - window]
            posts.sort(key=lambda p: (p["score"], p["created_utc"]), reverse=True)
        if self.listing_cap is not None:
            posts = posts[: self.listing_cap]
        try:
            limit = min(max(int(query.get("limit", 25)), 1), 100)
        except ValueError:
            limit = 25
        start = 0
        after = query.get("after")
        if after:
            names = [p["name"] for p in posts]
            start = names.index(after) + 1 if after in names else len(posts)
        page = posts[start : start + limit]
        more = start + limit < len(posts)
        return {
            "kind": "Listing",
            "data": {
                "after": page[-1]["name"] if page and more else None,
                "dist": len(page),
                "modhash": None,
                "geo_filter": "",
                "children": [{"kind": "t3", "data": p} for p in page],
                "before": None,
            },
        }

    def _send(
        self,
        h: _Handler,
        record: RecordedRequest,
        status: int,
        payload: Any,
        headers: dict[str, str] | None = None,
    ) -> None:
        raw = json.dumps(payload).encode()
        self._send_raw(h, record, status, raw, "application/json; charset=UTF-8", headers)

    def _send_raw(
        self,
        h: _Handler,
        record: RecordedRequest,
        status: int,
        raw: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        record.status = status
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        h.end_headers()
        h.wfile.write(raw)


def _slug(title: str) -> str:
    words = "".join(c if c.isalnum() else " " for c in title.lower()).split()
    return "_".join(words[:8]) or "post"
