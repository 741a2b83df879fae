"""Live Reddit through praw: a client built from `RedditSettings`, and one listing page at a
time, with bounded retries and rate-limit waits.

A page is the listing JSON as Reddit sends it (`Reddit.request`, so praw still does the OAuth,
the rate-limit bookkeeping and the HTTP), and each `t3` child's `data` - the fields a praw
`Submission` holds in its `__dict__` - becomes a record in the dump shape that takes the same
road as a dump line, `pipeline.sources.dumps.to_post`. Reading the JSON rather than praw's
objects keeps what praw rewrites (an `author` of "[deleted]" becomes None, `author` and
`subreddit` become lazy objects whose missing attributes would each cost a request) as a dump
has it, and lets one malformed child be one reject instead of failing the page; `record_of`
gives the same record for a praw `Submission` too.

Retries: prawcore's own (two, after random 0-4 s sleeps) are turned off, and a page is tried up
to `reddit.max_retries` more times here, with exponential backoff, on a 5xx, a timeout or a
dropped connection, a 429, a page that is not a JSON listing (kept in `bad_pages`, with its URL),
or a rejected access token. prawcore reads Reddit's `x-ratelimit-*` headers and works out when
the next request may go; a wait longer than `reddit.max_wait_s` (a spent budget, a 429) stops
the listing with `ListingStopped`, so the caller keeps what it has. A 401 from the token
endpoint is a `RedditCredentialsError` naming the settings to check. No message here holds a
secret: only setting names, statuses and URLs without user info.
"""

from __future__ import annotations

import configparser
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

import praw
import requests
from praw.exceptions import MissingRequiredAttributeException, PRAWException
from praw.models import Submission
from prawcore.const import ACCESS_TOKEN_PATH
from prawcore.exceptions import (
    BadJSON,
    InvalidInvocation,
    InvalidToken,
    OAuthException,
    PrawcoreException,
    RequestException,
    ResponseException,
    TooManyRequests,
)
from prawcore.requestor import Requestor
from prawcore.sessions import FiniteRetryStrategy
from requests import Response

from pipeline.errors import PipelineError
from pipeline.settings import RedditSettings, redact_url
from pipeline.sources.dumps import RecordError

SOURCE_PREFIX = "reddit-api"
PAGE_SIZE = 100  # Reddit's most per request
BACKOFF_S = 2.0  # the first retry's wait; doubled on each further one
BACKOFF_MAX_S = 120.0
# The listing JSON fields a post record keeps (what `to_post` reads), as a dump line has them.
RECORD_FIELDS = (
    "id",
    "subreddit",
    "title",
    "selftext",
    "author",
    "created_utc",
    "over_18",
    "stickied",
    "crosspost_parent",
    "permalink",
    "url",
    "score",
    "num_comments",
    "removed_by_category",
)


class RedditCredentialsError(PipelineError):
    """Reddit refused the app's credentials: nothing can be fetched until they are fixed."""


class ListingStopped(Exception):
    """This listing cannot go on in this run; what was fetched before stands."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass
class BadPage:
    """A listing page that was not a JSON listing."""

    url: str
    reason: str  # invalid_json | not_a_listing
    detail: str
    snippet: str


@dataclass
class FetchStats:
    """What fetching one listing took, for the report."""

    requests: int = 0
    retries: int = 0
    waited_s: float = 0.0
    bad_pages: list[BadPage] = field(default_factory=list)


@dataclass
class Page:
    """One listing page: a record (dump shape) or why a child is not one, per child."""

    items: list[dict[str, Any] | RecordError]
    after: str | None
    url: str


def source_name(subreddit: str, listing: str) -> str:
    """The `source_file` of posts from a listing: where they came from, never a URL."""
    return f"{SOURCE_PREFIX}:r/{subreddit}/{listing}"


# -- the client -------------------------------------------------------------------------------


class _Requestor(Requestor):
    """Every request waits at most the configured timeout: prawcore passes its own default
    (16 s) to API requests, which would otherwise win over the requestor's."""

    def request(self, *args: Any, timeout: float | None = None, **kwargs: Any) -> Response:
        return super().request(*args, timeout=self.timeout, **kwargs)


@dataclass(frozen=True)
class _OneAttempt(FiniteRetryStrategy):
    """No retries inside prawcore (nor its sleep before them): `fetch_page` retries."""

    DEFAULT_RETRIES: ClassVar[int] = 0
    retries: int = 0


def connect(rs: RedditSettings) -> praw.Reddit:
    """A read-only praw client (a script app's user login with username and password) from the
    settings, or from a praw.ini section (`reddit.site`; fields set in the settings win).
    Needs no praw.ini, never checks for praw updates. Close it with `close`."""
    given = rs.model_fields_set
    kwargs: dict[str, Any] = {"check_for_updates": False, "check_for_async": False}
    for name in ("client_id", "user_agent", "username", "oauth_url", "reddit_url"):
        value = getattr(rs, name)
        if value is not None and (rs.site is None or name in given):
            kwargs[name] = value
    for name in ("client_secret", "password"):
        secret = getattr(rs, name)
        if secret is not None:
            kwargs[name] = secret.get_secret_value()
    session = requests.Session()

    def build() -> praw.Reddit:
        return praw.Reddit(
            site_name=rs.site,
            requestor_class=_Requestor,
            requestor_kwargs={"session": session, "timeout": rs.timeout_s},
            **kwargs,
        )

    try:
        try:
            reddit = build()
        except MissingRequiredAttributeException as err:
            if "user_agent" not in str(err) or "user_agent" in kwargs:
                raise
            kwargs["user_agent"] = rs.user_agent  # a praw.ini section without one: ours
            reddit = build()
    except configparser.NoSectionError:
        session.close()
        raise PipelineError(
            f"reddit.site {rs.site!r} is not a section of any praw.ini (./praw.ini or "
            "~/.config/praw.ini): add it, or set VALACT_REDDIT__CLIENT_ID and "
            "VALACT_REDDIT__CLIENT_SECRET instead"
        ) from None
    except MissingRequiredAttributeException as err:
        session.close()
        quoted = str(err).split("'")
        missing = quoted[1] if len(quoted) > 2 and quoted[1].isidentifier() else "client_id"
        raise PipelineError(
            f"reddit.{missing} is not set: set VALACT_REDDIT__{missing.upper()}"
            + (f" or {missing} in praw.ini section [{rs.site}]" if rs.site else "")
        ) from None
    except InvalidInvocation as err:  # e.g. a user agent under 7 characters
        session.close()
        raise PipelineError(
            f"reddit settings not usable: {err} (check reddit.user_agent)"
        ) from None
    for core in (reddit._read_only_core, reddit._authorized_core):
        if core is not None:
            core._retry_strategy_class = _OneAttempt
    return reddit


def close(reddit: praw.Reddit) -> None:
    """Close the client's HTTP session (shared by its read-only and user sessions)."""
    if reddit._core is not None:
        reddit._core.close()


def required_wait(reddit: praw.Reddit) -> float:
    """Seconds prawcore's rate limiter will sleep before the next request (0 if none)."""
    limiter = getattr(reddit._core, "rate_limiter", None)
    ready_ns = getattr(limiter, "next_request_timestamp_ns", None)
    if ready_ns is None:
        return 0.0
    return max(0.0, (ready_ns - time.monotonic_ns()) / 1e9)


# -- pages ------------------------------------------------------------------------------------


def public_url(url: str) -> str:
    """A URL without user info (a proxy's password), keeping the path and the query (listing
    parameters; the token travels in a header)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def fetch_page(
    reddit: praw.Reddit,
    rs: RedditSettings,
    path: str,
    params: dict[str, str | int],
    stats: FetchStats,
) -> Page:
    """One listing page, retried up to `rs.max_retries` times with backoff. Raises
    ListingStopped when it cannot be had in this run, RedditCredentialsError when the app's
    credentials are refused."""
    url = public_url(urljoin(rs.oauth_url, path) + "?" + urlencode({**params, "raw_json": 1}))
    attempt = 0
    while True:
        wait = required_wait(reddit)
        if wait > rs.max_wait_s:
            raise ListingStopped("rate_limited", _too_long(wait, rs))
        if wait > 0:
            time.sleep(wait)
            stats.waited_s += wait
        stats.requests += 1
        try:
            payload = reddit.request(method="GET", path=path, params=dict(params))
            return _page(payload, url)
        except _NotAListing as err:
            stats.bad_pages.append(BadPage(url, "not_a_listing", err.detail, err.snippet))
            reason, detail, pause = "not_a_listing", err.detail, _backoff(attempt)
        except BadJSON as err:
            bad = _bad_json(err.response, url)
            stats.bad_pages.append(bad)
            reason, detail, pause = "invalid_json", bad.detail, _backoff(attempt)
        except TooManyRequests as err:
            after = _seconds(err.response.headers.get("retry-after"))
            pause = max(_backoff(attempt), required_wait(reddit), after)
            reason, detail = "rate_limited", "HTTP 429"
            if pause > rs.max_wait_s:
                raise ListingStopped(reason, f"HTTP 429; {_too_long(pause, rs)}") from None
        except OAuthException as err:  # a 200 from the token endpoint with an error
            raise _credentials_error(rs, err.error) from None
        except InvalidToken:  # prawcore dropped the token: the next try gets a new one
            reason, detail, pause = "http_401", "HTTP 401 (access token refused)", 0.0
        except ResponseException as err:
            status = err.response.status_code
            if urlsplit(err.response.url or "").path.endswith(ACCESS_TOKEN_PATH) and status in (
                400,
                401,
                403,
            ):
                raise _credentials_error(rs, f"HTTP {status}") from None
            if status < 500:  # 403 private, 404 banned, a redirect for no such subreddit
                raise ListingStopped(f"http_{status}", f"HTTP {status} for {url}") from None
            reason, detail, pause = f"http_{status}", f"HTTP {status}", _backoff(attempt)
        except RequestException as err:  # a timeout, a dropped connection
            name = type(err.original_exception).__name__
            reason, detail, pause = "request_failed", name, _backoff(attempt)
        except (PrawcoreException, PRAWException) as err:
            raise ListingStopped("failed", f"{type(err).__name__}: {err}"[:200]) from None
        attempt += 1
        if attempt > rs.max_retries:
            tries = "try" if attempt == 1 else "tries"
            raise ListingStopped(reason, f"{detail}; gave up after {attempt} {tries}")
        time.sleep(pause)
        stats.retries += 1
        stats.waited_s += pause


def _backoff(attempt: int) -> float:
    return float(min(BACKOFF_MAX_S, BACKOFF_S * 2**attempt))


def _seconds(value: str | None) -> float:
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        return 0.0


def _too_long(wait: float, rs: RedditSettings) -> str:
    return (
        f"Reddit's rate limit asks for a {wait:.0f} s wait, over reddit.max_wait_s "
        f"({rs.max_wait_s:g} s)"
    )


def _credentials_error(rs: RedditSettings, what: str) -> RedditCredentialsError:
    where = f"{redact_url(rs.reddit_url)}{ACCESS_TOKEN_PATH}"
    ini = f" (or praw.ini section [{rs.site}])" if rs.site else ""
    if what in ("invalid_grant", "unsupported_grant_type"):
        check = "VALACT_REDDIT__USERNAME and VALACT_REDDIT__PASSWORD (the app's owner)"
    else:
        check = "VALACT_REDDIT__CLIENT_ID and VALACT_REDDIT__CLIENT_SECRET"
    return RedditCredentialsError(
        f"Reddit refused the app's credentials ({what} from {where}): check {check}{ini}"
    )


class _NotAListing(Exception):
    def __init__(self, detail: str, snippet: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.snippet = snippet


def _bad_json(response: Response, url: str) -> BadPage:
    kind = response.headers.get("content-type", "no content type").split(";")[0]
    return BadPage(
        public_url(response.url) if response.url else url,
        "invalid_json",
        f"HTTP {response.status_code}, {kind}: not JSON",
        response.text[:200],
    )


def _page(payload: Any, url: str) -> Page:
    data = payload.get("data") if isinstance(payload, dict) else None
    children = data.get("children") if isinstance(data, dict) else None
    if (
        not isinstance(payload, dict)
        or payload.get("kind") != "Listing"
        or not isinstance(children, list)
    ):
        raise _NotAListing("JSON, but not a Listing", repr(payload)[:200])
    assert isinstance(data, dict)
    after = data.get("after")
    items: list[dict[str, Any] | RecordError] = []
    for child in children:
        if not isinstance(child, dict) or not isinstance(child.get("data"), dict):
            items.append(RecordError("not_a_submission", f"child {repr(child)[:60]}"))
        elif child.get("kind") != "t3":
            items.append(RecordError("not_a_submission", f"a {child.get('kind')!r} child"))
        else:
            items.append(record_of(child["data"]))
    return Page(items, after if isinstance(after, str) and after else None, url)


def record_of(submission: dict[str, Any] | Submission) -> dict[str, Any]:
    """A post record in the dump shape from a listing child's `data`, or from a praw
    `Submission` (its `__dict__`: the listing fields, with `author` and `subreddit` turned
    back into the names the listing had; never an attribute praw would fetch)."""
    if isinstance(submission, dict):
        return {k: submission[k] for k in RECORD_FIELDS if k in submission}
    raw = vars(submission)
    record = {k: raw[k] for k in RECORD_FIELDS if k in raw}
    if "author" in record:  # praw's Redditor, or None for "[deleted]"
        author = record["author"]
        record["author"] = "[deleted]" if author is None else vars(author).get("name")
    if "subreddit" in record and not isinstance(record["subreddit"], str):
        record["subreddit"] = vars(record["subreddit"]).get("display_name")
    return record
