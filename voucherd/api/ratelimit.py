"""Optional per-project rate limiting (off unless a project's settings ask for it).

A project whose settings carry ``rate_limit: {"requests": N, "per_seconds": S}`` may make
N authenticated requests per fixed S-second window. Every answer to such a project carries
Voucherify's ``X-Rate-Limit-Limit`` / ``X-Rate-Limit-Remaining`` / ``X-Rate-Limit-Reset``
(seconds until the window resets); past the limit the answer is 429
``too_many_requests`` with ``Retry-After``. Counts live in each server process: with W
workers a project may get up to W×N requests per window (docs/decisions.md, Hardening).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from voucherd.store.errors import VoucherdError

STATE_KEY = "rate_limit_headers"


class TooManyRequests(VoucherdError):
    """The project's rate limit is exhausted for the current window."""

    key = "too_many_requests"
    message = "Too many requests"


@dataclass(frozen=True)
class Limit:
    """``requests`` per ``per_seconds``."""

    requests: int
    per_seconds: float


def limit_of(settings: dict[str, Any]) -> Limit | None:
    """The project's limit, or None when off (absent, or not a sane pair of numbers)."""
    raw = settings.get("rate_limit")
    if not isinstance(raw, dict):
        return None
    requests, per_seconds = raw.get("requests"), raw.get("per_seconds")
    if isinstance(requests, bool) or not isinstance(requests, int) or requests < 1:
        return None
    if isinstance(per_seconds, bool) or not isinstance(per_seconds, int | float):
        return None
    if per_seconds <= 0:
        return None
    return Limit(requests, float(per_seconds))


class RateLimiter:
    """Fixed windows per project, in this process; thread-safe (sync routes run in threads)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        self.windows: dict[str, tuple[float, int]] = {}

    def hit(self, project_id: str, limit: Limit) -> dict[str, str]:
        """Count one request; the headers to answer with (``Retry-After`` when over)."""
        now = self.clock()
        with self.lock:
            start, count = self.windows.get(project_id, (now, 0))
            if now - start >= limit.per_seconds:
                start, count = now, 0
            count += 1
            self.windows[project_id] = (start, count)
        reset = max(1, math.ceil(start + limit.per_seconds - now))
        headers = {
            "X-Rate-Limit-Limit": str(limit.requests),
            "X-Rate-Limit-Remaining": str(max(limit.requests - count, 0)),
            "X-Rate-Limit-Reset": str(reset),
        }
        if count > limit.requests:
            headers["Retry-After"] = str(reset)
        return headers


def enforce(limiter: RateLimiter, state: Any, project_id: str, settings: dict[str, Any]) -> None:
    """Apply the project's limit, if any, to one request.

    The headers go into the request ``state``, where RequestContextMiddleware adds them to
    whatever answer follows (a 200, a 404, or the 429 raised here).
    """
    limit = limit_of(settings)
    if limit is None:
        return
    headers = limiter.hit(project_id, limit)
    setattr(state, STATE_KEY, headers)
    if "Retry-After" in headers:
        raise TooManyRequests(
            f"Rate limit of {limit.requests} requests per {limit.per_seconds:g} seconds "
            f"exceeded; retry in {headers['Retry-After']} seconds"
        )
