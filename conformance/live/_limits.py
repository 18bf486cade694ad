"""Run-wide pacing and failure handling: a rate limiter and a circuit breaker, both thread-safe."""

from __future__ import annotations

import threading
import time

__all__ = ["CircuitBreaker", "RateLimiter"]


class RateLimiter:
    """Spaces requests at most ``rate`` per second across every thread of the run (0 = unlimited).

    A token bucket holding a single token: requests are evenly spaced, never bursty, which is what a
    supplier's rate limiter (and its on-call engineer) expects from a well-behaved client.
    """

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    @property
    def unlimited(self) -> bool:
        return self._interval == 0.0

    def acquire(self) -> float:
        """Wait for this request's slot; returns the seconds waited."""
        if self._interval == 0.0:
            return 0.0
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self._interval
        wait = slot - now
        if wait > 0:
            time.sleep(wait)
        return max(wait, 0.0)


class CircuitBreaker:
    """Opens after ``threshold`` network failures in a row; once open it stays open for the run.

    A target that stopped answering would otherwise cost every remaining check its full timeout; staying
    open (no half-open probing) keeps a run against a dead target short and its report honest: every
    later check reads "target unreachable: <the last error>".
    """

    def __init__(self, threshold: int) -> None:
        self._threshold = threshold
        self._failures = 0
        self._last_error: str | None = None
        self._open = False
        self._lock = threading.Lock()

    @property
    def open_reason(self) -> str | None:
        return f"target unreachable: {self._last_error}" if self._open else None

    def success(self) -> None:
        if self._failures:
            with self._lock:
                self._failures = 0

    def failure(self, error: str) -> None:
        with self._lock:
            self._failures += 1
            self._last_error = error
            if self._failures >= self._threshold:
                self._open = True
