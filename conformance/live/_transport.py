"""The ``requests`` transport adapter whose urllib3 connections report their sockets to the request deadline.

urllib3 creates every socket in ``HTTPConnection._new_conn`` (plain and TLS alike: TLS wraps that socket
afterwards), and sends every request through ``HTTPConnection.request``; the subclasses below hook those
two points and nothing else. A connection kept alive between requests is attached again to each new
request's deadline.
"""

from __future__ import annotations

import ssl
import warnings
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, InsecureRequestWarning

from ._watchdog import current_deadline

__all__ = ["GuardedAdapter"]


def _limit_connect(conn: HTTPConnection) -> None:
    """Shorten the connect timeout to what is left of the request's total time."""
    deadline = current_deadline()
    if deadline is None:
        return
    remaining = deadline.remaining()
    if remaining <= 0:
        raise ConnectTimeoutError(conn, "the total time limit was reached before connecting")
    if not isinstance(conn.timeout, (int, float)) or conn.timeout > remaining:
        conn.timeout = remaining


def _watch(conn: HTTPConnection, sock: Any) -> None:
    deadline = current_deadline()
    if deadline is not None and getattr(conn, "_watched_by", None) is not deadline:
        deadline.attach(sock)
        conn._watched_by = deadline  # type: ignore[attr-defined]


class _WatchedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> Any:
        _limit_connect(self)
        sock = super()._new_conn()
        _watch(self, sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        if self.sock is not None:
            _watch(self, self.sock)
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(_WatchedHTTPConnection, HTTPSConnection):
    """The same hooks over ``HTTPSConnection`` (the MRO puts it between them and ``HTTPConnection``)."""


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection

    def _validate_conn(self, conn: Any) -> None:
        if getattr(conn, "cert_reqs", None) in (ssl.CERT_NONE, "CERT_NONE"):
            # GuardedSession already warned once, loudly; urllib3 would warn again on every request.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", InsecureRequestWarning)
                super()._validate_conn(conn)
        else:
            super()._validate_conn(conn)


class GuardedAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose pools use the deadline-aware connections (no urllib3 retries: max_retries=0)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
