"""Requests- and tokens-per-minute limits, and the run's spend cap, shared by worker threads.

The rate limit is a token bucket in its "virtual scheduling" form (GCRA): each taker books
the next free slot under a lock and sleeps outside it, so threads are served in arrival order,
and a weight larger than the burst (one long request under a small tokens-per-minute limit)
waits its turn instead of never fitting. aiolimiter does the same for asyncio only; the model
stages run the blocking `openai` client in threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class RateLimit:
    """At most `per_minute` units a minute on average, with bursts of `burst_s` seconds' worth
    (providers count per minute but reject sharp spikes, so the burst stays short)."""

    per_minute: float
    burst_s: float = 2.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _tat: float = 0.0  # theoretical arrival time of the next unit
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, units: float = 1.0) -> float:
        """Block until `units` may be spent; returns the seconds waited."""
        interval = units * 60.0 / self.per_minute
        with self._lock:
            now = self.clock()
            start = max(self._tat, now)
            self._tat = start + interval
            allowed_at = self._tat - interval - self.burst_s
        wait = allowed_at - now
        if wait > 0:
            self.sleep(wait)
            return wait
        return 0.0

    def give_back(self, units: float) -> None:
        """Return units booked but not used (a request's tokens were over-estimated)."""
        if units <= 0:
            return
        with self._lock:
            self._tat = max(self.clock(), self._tat - units * 60.0 / self.per_minute)


@dataclass
class Limits:
    """One endpoint's rate limits (either may be absent)."""

    requests: RateLimit | None = None
    tokens: RateLimit | None = None

    def acquire(self, tokens: float) -> float:
        waited = self.requests.take() if self.requests else 0.0
        if self.tokens:
            waited += self.tokens.take(tokens)
        return waited

    def settle(self, booked: float, used: float) -> None:
        if self.tokens:
            self.tokens.give_back(booked - used)


class SpendCap:
    """The run's spending against `llm.spend_cap_usd`. A request reserves its worst case (its
    prompt and `max_tokens` of answer) before it is sent, so the requests in flight together can
    never take the run past the cap; the reservation becomes the real cost when it answers."""

    def __init__(self, cap_usd: float | None) -> None:
        self.cap_usd = cap_usd
        self.spent_usd = 0.0
        self._reserved = 0.0
        self._lock = threading.Lock()
        self.refused = 0
        self.largest_refused = 0.0

    def reserve(self, usd: float) -> bool:
        with self._lock:
            if self.cap_usd is not None and self.spent_usd + self._reserved + usd > self.cap_usd:
                self.refused += 1
                self.largest_refused = max(self.largest_refused, usd)
                return False
            self._reserved += usd
            return True

    def settle(self, reserved: float, spent: float) -> None:
        with self._lock:
            self._reserved -= reserved
            self.spent_usd += spent

    @property
    def reached(self) -> bool:
        return self.refused > 0


def estimate_prompt_tokens(messages: list[dict[str, str]]) -> int:
    """A rough token count (4 characters a token, plus per-message framing): what the limits
    and the spend cap book before the endpoint reports the real count."""
    return sum(len(m.get("content", "")) for m in messages) // 4 + 4 * len(messages) + 3
