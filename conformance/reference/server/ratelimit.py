"""A token bucket per client: the document's "600 requests a minute", with a burst allowance.

Each key (a client id, or the peer address for requests without a valid token) has a bucket holding up
to ``burst`` tokens, refilled at ``per_minute / 60`` a second. A request takes one token; with none left
it is refused and told how many whole seconds until one is back (``Retry-After``, at least 1).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

__all__ = ["RateLimiter"]


class RateLimiter:
    """Thread-safe token buckets keyed by client."""

    def __init__(
        self, per_minute: int, burst: int | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if per_minute < 1:
            msg = f"per_minute must be at least 1 (got {per_minute})"
            raise ValueError(msg)
        self.per_minute = per_minute
        # A tenth of a minute's allowance, so a client can burst briefly but not spend its minute at once.
        self.burst = burst if burst is not None else max(1, per_minute // 10)
        self._rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> int | None:
        """Take a token for ``key``: None when allowed, else the seconds to wait (>= 1)."""
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self._rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return None
            self._buckets[key] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / self._rate))

    def reset(self) -> None:
        """Refill every bucket (tests use it between bursts)."""
        with self._lock:
            self._buckets.clear()
