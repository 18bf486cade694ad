"""Wall-clock deadlines for blocking socket work: a watchdog thread that shuts sockets down when time is up.

Socket timeouts bound each *single* ``recv``; a server that trickles one byte a second never trips them, and a
TLS handshake fed the same way can last hours. A deadline covers the whole request instead:

* :meth:`Watchdog.start` opens a :class:`Deadline` for one request (connect, TLS, send, the whole body);
* the transport calls :meth:`Deadline.attach` for every socket the request uses. It keeps a *duplicate* file
  descriptor of that socket, so the watchdog can never touch an unrelated socket that reused a closed
  descriptor number, and so a socket already wrapped by ``ssl`` (whose original object is detached) can
  still be reached;
* when the deadline passes first, the watchdog calls ``shutdown(SHUT_RDWR)`` on the duplicate: the socket
  itself is shut down, a ``recv``/``send`` blocked on it returns at once, and the request fails with
  :attr:`Deadline.expired` set so the caller can say "no response within N s". (Linux still hands over data
  that a peer keeps *streaming* after the shutdown, so loops that read a body check :attr:`Deadline.expired`
  between chunks as well);
* :meth:`Watchdog.finish` closes the duplicates. The thread sleeps until the earliest deadline, exits after
  ``IDLE_EXIT`` seconds without work (and on :meth:`Watchdog.close`), and is started again on demand, so no
  thread outlives its use.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import math
import os
import socket
import threading
import time

__all__ = ["Deadline", "Watchdog", "current_deadline", "use_deadline"]

IDLE_EXIT = 2.0  # seconds without any deadline before the watchdog thread ends (it restarts on demand)
_COMPACT_AT = 512  # finished deadlines tolerated in the heap before it is rebuilt without them

_local = threading.local()


def current_deadline() -> Deadline | None:
    """The deadline of the request this thread is performing, if any (read by the transport)."""
    return getattr(_local, "deadline", None)


def use_deadline(deadline: Deadline | None) -> None:
    _local.deadline = deadline


class Deadline:
    """One request's wall-clock limit and the sockets it watches."""

    __slots__ = ("at", "done", "expired", "in_heap", "seconds", "socks", "watchdog")

    def __init__(self, watchdog: Watchdog, seconds: float) -> None:
        self.watchdog = watchdog
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.socks: list[socket.socket] = []
        self.expired = False
        self.done = False
        self.in_heap = True

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def attach(self, sock: socket.socket) -> None:
        self.watchdog._attach(self, sock)


def _shutdown(sock: socket.socket) -> None:
    # OSError: already closed by the peer or not connected, so there is nothing left to interrupt.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class Watchdog:
    """Enforces :class:`Deadline` objects for one session (see the module docstring)."""

    def __init__(self, name: str = "conformance-watchdog") -> None:
        self._name = name
        self._cond = threading.Condition(threading.Lock())
        self._heap: list[tuple[float, int, Deadline]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._stop = False
        self._wake_at = math.inf  # when the thread will next look at the heap on its own
        self._finished_in_heap = 0

    def start(self, seconds: float) -> Deadline:
        deadline = Deadline(self, seconds)
        with self._cond:
            heapq.heappush(self._heap, (deadline.at, next(self._seq), deadline))
            if self._thread is None:
                self._stop = False
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            elif deadline.at < self._wake_at:
                # Only wake the thread when it would otherwise sleep past this deadline: with a constant
                # timeout every new deadline is later than the pending ones, so the hot path never notifies.
                self._cond.notify()
        return deadline

    def _attach(self, deadline: Deadline, sock: socket.socket) -> None:
        try:
            watched = socket.socket(fileno=os.dup(sock.fileno()))
        except OSError:
            return  # the socket is already closed: there is nothing left to interrupt
        with self._cond:
            if not deadline.done:
                deadline.socks.append(watched)
                if deadline.expired:
                    _shutdown(watched)
                return
        watched.close()

    def finish(self, deadline: Deadline) -> None:
        with self._cond:
            deadline.done = True
            socks, deadline.socks = deadline.socks, []
            if deadline.in_heap:
                self._finished_in_heap += 1
                if self._finished_in_heap > _COMPACT_AT and self._finished_in_heap * 2 > len(self._heap):
                    self._heap = [entry for entry in self._heap if not entry[2].done]
                    for entry in self._heap:
                        entry[2].in_heap = True
                    heapq.heapify(self._heap)
                    self._finished_in_heap = 0
        for watched in socks:
            watched.close()

    def close(self) -> None:
        """Stop the thread now (it would stop by itself after ``IDLE_EXIT`` seconds without work)."""
        with self._cond:
            self._stop = True
            thread = self._thread
            self._cond.notify()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5.0)

    @property
    def running(self) -> bool:
        return self._thread is not None

    def _run(self) -> None:
        idle_since: float | None = None
        with self._cond:
            try:
                while not self._stop:
                    now = time.monotonic()
                    heap = self._heap
                    while heap and heap[0][0] <= now:
                        _, _, deadline = heapq.heappop(heap)
                        deadline.in_heap = False
                        if deadline.done:
                            self._finished_in_heap -= 1
                            continue
                        deadline.expired = True
                        for watched in deadline.socks:
                            _shutdown(watched)
                    if heap:
                        idle_since = None
                        self._wake_at = heap[0][0]
                        self._cond.wait(heap[0][0] - now)
                        continue
                    if idle_since is None:
                        idle_since = now
                    elif now - idle_since >= IDLE_EXIT:
                        return
                    self._wake_at = now + IDLE_EXIT
                    self._cond.wait(IDLE_EXIT)
            finally:
                self._thread = None
                self._wake_at = math.inf
