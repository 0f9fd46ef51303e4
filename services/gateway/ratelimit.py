"""Counters that slow down password guessing and sign-up or SSO-start floods.

In-process only: each gateway replica counts on its own, so N replicas allow N times the
limit. That bounds abuse well enough for one or two replicas; a shared store would be
needed to hold an exact limit across many.
"""

import time
from collections import deque
from http import HTTPStatus

from shared.errors import AppError

MAX_KEYS = 50_000


class RateLimited(AppError):
    status_code = HTTPStatus.TOO_MANY_REQUESTS
    error = "rate_limited"


class RateLimiter:
    """A sliding window of request times per (action, client address)."""

    def __init__(self, limits: dict[str, int], window: float) -> None:
        self._limits = limits
        self._window = window
        self._hits: dict[tuple[str, str], deque[float]] = {}

    def check(self, action: str, client: str) -> None:
        now = time.monotonic()
        hits = self._hits.setdefault((action, client), deque())
        while hits and now - hits[0] >= self._window:
            hits.popleft()
        if len(hits) >= self._limits[action]:
            raise RateLimited(f"too many attempts from this address; wait {self._wait(hits, now)}s")
        hits.append(now)
        if len(self._hits) > MAX_KEYS:
            self._prune(now)

    def _wait(self, hits: deque[float], now: float) -> int:
        return max(1, int(self._window - (now - hits[0])) + 1)

    def _prune(self, now: float) -> None:
        for key in [
            k for k, hits in self._hits.items() if not hits or now - hits[-1] >= self._window
        ]:
            del self._hits[key]
