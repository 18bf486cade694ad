"""Short, human descriptions of network failures ("connection refused", "TLS: certificate verify failed: …").

``requests`` and urllib3 wrap the real cause two or three levels deep (``ConnectionError(MaxRetryError(
reason=NewConnectionError(…ConnectionRefusedError…)))``); :func:`describe` walks that chain and names the
first cause it recognises. The texts never contain URLs, headers or bodies, so they are safe to print.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Iterator
from enum import Enum

__all__ = ["Phase", "Problem", "describe", "seconds"]


class Phase(str, Enum):
    BEFORE_RESPONSE = "before_response"  # nothing received yet: no status line
    BODY = "body"  # the status line and headers arrived; the body did not complete


class Problem:
    """What went wrong, and whether resending an idempotent request is safe and useful."""

    __slots__ = ("retryable", "text")

    def __init__(self, text: str, *, retryable: bool = False) -> None:
        self.text = text
        self.retryable = retryable  # refused or reset before any response: the request was not processed


# OpenSSL verify codes worth naming plainly (X509_V_ERR_*).
_VERIFY_CODES = {
    2: "unknown issuer (the CA is not in the trust store)",
    10: "certificate has expired",
    9: "certificate is not yet valid",
    18: "self-signed certificate",
    19: "self-signed certificate in the chain",
    20: "unknown issuer (the CA is not in the trust store)",
    21: "unable to verify the first certificate (incomplete chain?)",
    62: "hostname mismatch",
    64: "IP address mismatch",
}


def seconds(value: float) -> str:
    """``5`` for whole seconds, ``0.5`` otherwise: messages read naturally either way."""
    return f"{value:g}"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        item = todo.pop(0)
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        reason = getattr(item, "reason", None)
        if isinstance(reason, BaseException):
            todo.append(reason)
        todo.extend(arg for arg in item.args if isinstance(arg, BaseException))
        for linked in (item.__cause__, item.__context__):
            if linked is not None:
                todo.append(linked)


def _tls(exc: ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = _VERIFY_CODES.get(exc.verify_code) or (exc.verify_message or "").lower() or "unknown reason"
        return f"TLS: certificate verify failed: {reason}"
    reason = (exc.reason or "").lower().replace("_", " ") if exc.reason else ""
    if isinstance(exc, ssl.SSLEOFError) or "eof" in reason:
        return "TLS: the server closed the connection during the handshake"
    if "wrong version number" in reason or "record layer failure" in reason:
        return "TLS: the server did not answer with TLS (plain HTTP on a TLS port?)"
    return f"TLS: {reason or exc.__class__.__name__}"


def describe(exc: BaseException, *, phase: Phase, connect_timeout: float, read_timeout: float) -> Problem:
    """A one-line description of ``exc``, a failure while performing one request."""
    import requests  # loaded with the HTTP stack, when a live run has a problem to describe
    import urllib3.exceptions as u3

    causes = list(_chain(exc))
    for cause in causes:
        # urllib3's NewConnectionError subclasses ConnectTimeoutError for history's sake: it is not a timeout.
        if isinstance(cause, (requests.exceptions.ConnectTimeout, u3.ConnectTimeoutError)) and not isinstance(
            cause, u3.NewConnectionError
        ):
            return Problem(f"connect timeout after {seconds(connect_timeout)} s")
        if isinstance(cause, ssl.SSLError):
            return Problem(_tls(cause))
        if isinstance(cause, (u3.NameResolutionError, socket.gaierror)):
            return Problem("host name not found (DNS)")
        if isinstance(cause, ConnectionRefusedError):
            return Problem("connection refused", retryable=True)
        if isinstance(cause, (http.client.BadStatusLine, http.client.LineTooLong)) and not isinstance(
            cause, http.client.RemoteDisconnected
        ):
            return Problem("not HTTP: the reply is not an HTTP response")
        if isinstance(cause, u3.HeaderParsingError):
            return Problem("not HTTP: malformed response headers")
    for cause in causes:
        if isinstance(
            cause, (requests.exceptions.ReadTimeout, u3.ReadTimeoutError, TimeoutError, socket.timeout)
        ):
            if phase is Phase.BODY:
                return Problem(f"read timeout after {seconds(read_timeout)} s while receiving the body")
            return Problem(f"no response within {seconds(read_timeout)} s (read timeout)")
        if isinstance(cause, ConnectionResetError):
            return Problem("connection reset", retryable=phase is Phase.BEFORE_RESPONSE)
        if isinstance(cause, http.client.RemoteDisconnected):
            return Problem("connection closed without a response", retryable=True)
        if isinstance(cause, (http.client.IncompleteRead, u3.IncompleteRead)):
            return Problem("connection closed before the body was complete")
        if isinstance(cause, (u3.DecodeError, requests.exceptions.ContentDecodingError)):
            return Problem("the body cannot be decoded (bad Content-Encoding)")
        if isinstance(cause, (BrokenPipeError, ConnectionAbortedError)):
            return Problem("connection broken while sending the request")
    if phase is Phase.BODY:
        return Problem("connection broken while receiving the body")
    # The deepest cause is usually an OSError naming the problem; the outer wrappers repeat the URL, which
    # may carry query parameters that must not reach a message.
    root = causes[-1]
    text = " ".join(str(root).split())
    return Problem(f"network error: {root.__class__.__name__}" + (f": {text[:160]}" if text else ""))
