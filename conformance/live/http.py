"""The guarded HTTP session every live check (and Schemathesis) sends its requests through.

For *every* request, including those made through the plain ``requests`` API:

* **origins** — only the base URL's origin, the token URL's, the plain-HTTP probe's, the spec URL's and
  ``extra_origins``; anything else is refused before a byte is sent, and the refusal is recorded;
* **redirects** — not followed unless the caller asks (``allow_redirects=True``); then at most
  ``max_redirects`` hops, never to an origin outside the list, and ``Authorization``, ``Proxy-Authorization``
  and ``Cookie`` are dropped as soon as a hop leaves the origin (scheme, host and effective port: even a
  same-host http→https upgrade keeps nothing). A redirect to an origin outside the list is reported as the
  exchange's error ("redirect to another origin not followed") whether or not following was asked for;
* **time** — connect and read timeouts, plus a wall-clock deadline for the whole request enforced by a
  watchdog that shuts the socket down (see ``_watchdog``), so a server trickling a byte a second is cut off
  at ``total_timeout`` like one that never answers;
* **size** — the body is read (after decompression) up to ``max_body_bytes``; beyond that the connection
  is closed and the exchange marked ``truncated`` ("response body over 10 MiB");
* **TLS** — verified against the CA bundle (or the system store); ``verify_tls=False`` warns once, loudly;
  a client certificate is presented when configured (mTLS);
* **pace** — a token-bucket rate limit shared by every request of the run;
* **retries** — none for non-idempotent methods (``POST``, ``PATCH``). An idempotent request (``GET``,
  ``HEAD``, ``OPTIONS``, ``PUT``, ``DELETE``, ``TRACE``) is retried *once* when the connection was refused,
  reset or closed before any response arrived, i.e. when the server cannot have acted on it (the usual
  cause is a kept-alive connection the server closed meanwhile). Timeouts are never retried: the server may
  still be working on the request;
* **circuit breaker** — after ``max_consecutive_failures`` network failures in a row (no response at all),
  every later request fails at once with "target unreachable: <last error>", for the rest of the run.

Every attempt is recorded (redacted) as one evidence line and returned as an :class:`Exchange`. Through the
``requests`` API, :meth:`GuardedSession.send` returns an ordinary, fully read ``requests.Response`` (and
raises a ``requests`` exception when there is no usable response); the matching exchange is
``session.last_exchange`` (per thread) or ``session.exchange_for(response)``.

**Streams.** :meth:`GuardedSession.open_stream` (``LiveTarget.stream``) is for bodies too large to hold, such
as bulk exports. Every rule above applies, except that the body is not read before returning and is not
capped at ``max_body_bytes``: the caller iterates it (:meth:`StreamedExchange.iter_bytes` /
:meth:`~StreamedExchange.iter_lines`) and it is bounded instead by an idle timeout between chunks (the read
timeout), a wall-clock deadline from the request to the last byte (``export_timeout``, enforced by the same
watchdog) and ``max_stream_bytes``. Redirects are never followed. Nothing but a bounded prefix is kept in
memory; the exchange is recorded when the stream closes, with its full size and the SHA-256 of the bytes
received (``conformance.live.evidence``). A body that cannot be read to its end raises :class:`StreamError`
from the iterator, so a cut-off export can never pass for a short one.

Not supported: proxies and ``.netrc`` (``trust_env`` is off, so nothing from the environment can add
credentials or reroute traffic), a cookie jar (each request carries only the cookies its caller sets), and
streaming through the ``requests`` API (``stream=True`` is accepted, but the body is always read, within the
limits, before returning; use :meth:`GuardedSession.open_stream`).
"""

from __future__ import annotations

import contextlib
import http.client
import json as jsonlib
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import Any
from urllib.parse import urljoin

import requests
import urllib3.exceptions
from requests.models import PreparedRequest

from .. import __version__
from ..errors import TargetError
from ._defaults import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_EVIDENCE_BODY_LIMIT,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_REDIRECTS,
    DEFAULT_RATE,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_TOTAL_TIMEOUT,
)
from ._headers import Headers
from ._limits import CircuitBreaker, RateLimiter
from ._origin import origin_of
from ._problems import Phase, describe, seconds
from ._transport import GuardedAdapter
from ._watchdog import Deadline, Watchdog, current_deadline, use_deadline
from .config import TargetConfig
from .evidence import EvidenceRecorder, Recorded, StreamedBody

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_EVIDENCE_BODY_LIMIT",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_REDIRECTS",
    "DEFAULT_RATE",
    "DEFAULT_READ_TIMEOUT",
    "DEFAULT_TOTAL_TIMEOUT",
    "IDEMPOTENT_METHODS",
    "USER_AGENT",
    "BodyTooLarge",
    "Exchange",
    "GuardedSession",
    "InsecureTlsWarning",
    "LiveRequestError",
    "OriginRefused",
    "StreamError",
    "StreamedExchange",
    "TargetUnreachable",
    "TotalTimeout",
]

USER_AGENT = f"interop-conformance/{__version__} (live conformance checks)"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})  # RFC 9110 §9.2.2
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CREDENTIAL_HEADERS = ("Authorization", "Proxy-Authorization", "Cookie")
_READ_CHUNK = 256 * 1024
DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024  # StreamedExchange.iter_lines refuses a longer line
# requests wraps what happens inside adapter.send; reading the body raises urllib3 and http.client errors as
# they are; OSError covers sockets and ssl, ValueError http.client's refusal of a malformed header.
_NETWORK_ERRORS = (
    requests.exceptions.RequestException,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    OSError,
    ValueError,
)


# -- errors raised through the requests API --------------------------------------------------------------
class LiveRequestError(TargetError, requests.exceptions.RequestException):
    """Raised through the ``requests`` API when the guard stops a request or its response is unusable.

    Both a :class:`~conformance.errors.TargetError` and a ``requests`` exception, so Schemathesis reports it
    as a network error and our own code can catch it with the rest of our errors.
    """


class OriginRefused(LiveRequestError):
    """The URL's origin is not one the target configuration allows: nothing was sent."""


class TargetUnreachable(LiveRequestError, requests.exceptions.ConnectionError):
    """The circuit breaker is open (or the request failed before any response)."""


class TotalTimeout(LiveRequestError, requests.exceptions.Timeout):
    """The wall-clock limit for the request passed."""


class BodyTooLarge(LiveRequestError):
    """The response body is larger than ``max_body_bytes``; the connection was closed."""


class StreamError(LiveRequestError):
    """A streamed body could not be read to its end: idle or export timeout, a broken connection, the size
    cap, an over-long line, or no response at all. Raised by the iterators of :class:`StreamedExchange`."""


class InsecureTlsWarning(UserWarning):
    """TLS certificate verification is turned off for the live target."""


# -- exchanges ------------------------------------------------------------------------------------------
class _ResponseHeaders:
    """The response-header helpers :class:`Exchange` and :class:`StreamedExchange` share."""

    __slots__ = ()
    headers: Headers

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    @property
    def media_type(self) -> str | None:
        """``type/subtype`` of ``Content-Type``, lower case, without parameters."""
        value = self.headers.get("content-type")
        if not value:
            return None
        return value.split(";", 1)[0].strip().lower() or None

    @property
    def charset(self) -> str | None:
        value = self.headers.get("content-type") or ""
        for parameter in value.split(";")[1:]:
            name, _, val = parameter.partition("=")
            if name.strip().lower() == "charset":
                return val.strip().strip('"').lower() or None
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Exchange(_ResponseHeaders):
    """One request and what came back, as recorded in the evidence (``id``).

    ``url`` and ``request_headers`` are the redacted forms; ``headers`` and ``body`` are what the server sent
    (``body`` possibly cut at ``max_body_bytes``: see ``truncated``), for checks to inspect. They are never
    written anywhere unredacted, and ``repr`` shows neither.
    """

    id: str
    method: str
    url: str
    request_headers: Headers
    status: int | None
    reason: str
    headers: Headers
    body: bytes
    truncated: bool
    elapsed_ms: int
    error: str | None

    @property
    def ok(self) -> bool:
        """No network, size or guard error (any HTTP status counts as ok)."""
        return self.error is None

    def text(self) -> str:
        """The body as text, in its declared charset (else UTF-8), undecodable bytes replaced."""
        try:
            return self.body.decode(self.charset or "utf-8", "replace")
        except LookupError:  # an unknown charset name
            return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body parsed as JSON, strictly: ``ValueError`` on invalid UTF-8 (RFC 8259 §8.1), a BOM, invalid
        JSON, or ``NaN``/``Infinity``."""
        text = self.body.decode("utf-8")  # UnicodeDecodeError is a ValueError

        def refuse(constant: str) -> Any:
            raise ValueError(f"{constant} is not JSON")

        return jsonlib.loads(text, parse_constant=refuse)

    def __repr__(self) -> str:
        outcome = self.error if self.error else f"{self.status} {self.reason}".strip()
        return f"Exchange({self.id} {self.method} {self.url} -> {outcome}, {len(self.body)} bytes)"


class StreamedExchange(_ResponseHeaders):
    """A request whose response body is read as a stream (:meth:`GuardedSession.open_stream`).

    ``status``, ``reason``, ``headers``, ``error`` and the helpers match :class:`Exchange`; the body is read
    once, through :meth:`iter_bytes`, :meth:`iter_lines` or :meth:`read`. Use it as a context manager (or
    call :meth:`close`): closing stops reading (closing the connection if the body was not finished), ends
    the deadline and records the exchange under :attr:`id`, which is known from the start so findings can
    name it while the body is still streaming. Afterwards :attr:`size`, :attr:`sha256` (of every byte
    received) and :attr:`complete` describe the body, and :attr:`exchange` is an :class:`Exchange` whose
    ``body`` is the first bytes only.
    """

    def __init__(
        self,
        *,
        session: GuardedSession,
        exchange_id: str,
        method: str,
        url: str,
        redacted_url: str,
        request_headers: list[tuple[str, str]],
        redacted_request_headers: list[tuple[str, str]],
        request_body: bytes | None,
        response: requests.Response | None,
        deadline: Deadline | None,
        total_timeout: float,
        idle_timeout: float,
        started: float,
        error: str | None,
        links: Mapping[str, str] | None,
        recorded: bool,
    ) -> None:
        self._session = session
        self.id = exchange_id
        self.method = method
        self._url = url
        self.url = redacted_url
        self._request_headers = request_headers
        self.request_headers = Headers(redacted_request_headers)
        self._request_body = request_body
        self._response = response
        self._deadline = deadline
        self._total = total_timeout
        self._idle = idle_timeout
        self._started = started
        self._links = links
        self._recorded = recorded
        self._reading = False
        self._done = response is None
        self._limit = session.recorder.body_limit
        self.body = StreamedBody(self._limit)
        self.status: int | None = response.status_code if response is not None else None
        self.reason: str = (response.reason or "") if response is not None else ""
        raw = response.raw if response is not None else None
        self._raw_headers: list[tuple[str, str]] = list(raw.headers.items()) if raw is not None else []
        self.headers = Headers(self._raw_headers)
        self.error: str | None = error  # the guard's verdict on the request (or on the body, once it failed)
        self.elapsed_ms = int((time.perf_counter() - started) * 1000)

    # -- what came back -------------------------------------------------------------------------------
    @property
    def ok(self) -> bool:
        """A response arrived and nothing went wrong so far (any HTTP status counts as ok)."""
        return self.error is None and self._response is not None

    @property
    def size(self) -> int:
        """Bytes of body received so far (after decoding any Content-Encoding)."""
        return self.body.size

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the body bytes received so far."""
        return self.body.sha256

    @property
    def complete(self) -> bool:
        """The body was read to its end."""
        return self._done and self._response is not None and self.error is None

    # -- reading --------------------------------------------------------------------------------------
    def iter_bytes(self, chunk_size: int = _READ_CHUNK) -> Iterator[bytes]:
        """The body in chunks of at most ``chunk_size`` bytes; :class:`StreamError` when it cannot be read
        to its end (nothing is retried: the caller decides what a partial body means)."""
        if self._response is None:
            raise StreamError(self.error or "no response")
        if self._reading:
            raise StreamError("the body of a stream can only be read once")
        self._reading = True
        raw = self._response.raw
        cap = self._session.config.max_stream_bytes
        while not self._done:
            try:
                chunk = raw.read(chunk_size, decode_content=True)
            except _NETWORK_ERRORS as exc:
                self._fail(exc)
            if self._deadline is not None and self._deadline.expired:
                # The watchdog shut the socket down; Linux may still hand over data a peer keeps sending.
                self._fail(None)
            if not chunk:
                self._done = True
                self._end_deadline()
                return
            if self.body.size + len(chunk) > cap:
                self._fail(None, f"streamed body over {_size_text(cap)}")
            self.body.update(chunk)
            yield chunk

    def iter_lines(self, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Iterator[bytes]:
        """The body split after each ``\\n``, terminators kept (``b"a,b\\r\\n"``), so callers see the line
        ends that were sent; the last line may lack one. A line longer than ``max_line_bytes`` raises
        :class:`StreamError` (a single-line body such as one big JSON document: use :meth:`iter_bytes`)."""
        buffer = bytearray()
        for chunk in self.iter_bytes():
            buffer += chunk
            start = 0
            while True:
                end = buffer.find(b"\n", start)
                if end < 0:
                    break
                yield bytes(buffer[start : end + 1])
                start = end + 1
            if start:
                del buffer[:start]
            if len(buffer) > max_line_bytes:
                self.close()
                raise StreamError(f"a line of the body is longer than {_size_text(max_line_bytes)}")
        if buffer:
            yield bytes(buffer)

    def read(self, limit: int) -> bytes:
        """Up to ``limit`` bytes of the body (e.g. a small error document); the rest is left unread."""
        parts: list[bytes] = []
        size = 0
        for chunk in self.iter_bytes(min(_READ_CHUNK, max(limit, 1))):
            parts.append(chunk)
            size += len(chunk)
            if size >= limit:
                break
        return b"".join(parts)[:limit]

    def _fail(self, exc: BaseException | None, text: str | None = None) -> None:
        """Close, record the reason as the exchange's error, and raise StreamError."""
        if text is None:
            if self._deadline is not None and self._deadline.expired:
                text = f"body not complete within {seconds(self._total)} s (export time limit)"
            elif exc is not None:
                text = describe(
                    exc,
                    phase=Phase.BODY,
                    connect_timeout=self._session.config.connect_timeout,
                    read_timeout=self._idle,
                ).text
            else:
                text = "connection broken while receiving the body"
        self.error = self._session.recorder.redactor.redact_text(text)
        self.close()
        raise StreamError(self.error) from exc

    def _end_deadline(self) -> None:
        if self._deadline is not None:
            self._session._watchdog.finish(self._deadline)
            self._deadline = None

    # -- closing --------------------------------------------------------------------------------------
    def close(self) -> None:
        """Stop reading (closing the connection when the body is not finished) and record the exchange."""
        if self._response is not None and not self._done:
            with contextlib.suppress(Exception):
                self._response.close()
        self._end_deadline()
        if self._recorded:
            return
        self._recorded = True
        self.elapsed_ms = int((time.perf_counter() - self._started) * 1000)
        self._session.recorder.record_http(
            method=self.method,
            url=self._url,
            request_headers=self._request_headers,
            request_body=self._request_body,
            status=self.status,
            reason=self.reason,
            response_headers=self._raw_headers,
            response_body=None,
            incomplete=not self._done,
            elapsed_ms=self.elapsed_ms,
            error=self.error,
            links=self._links,
            exchange_id=self.id,
            streamed=self.body,
        )

    def __enter__(self) -> StreamedExchange:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def exchange(self) -> Exchange:
        """This exchange as an :class:`Exchange`; ``body`` holds only the first bytes received (not
        redacted), ``truncated`` says whether there were more."""
        prefix = self.body.prefix[: self._limit]
        return Exchange(
            id=self.id,
            method=self.method,
            url=self.url,
            request_headers=self.request_headers,
            status=self.status,
            reason=self.reason,
            headers=self.headers,
            body=prefix,
            truncated=self.body.size > len(prefix),
            elapsed_ms=self.elapsed_ms,
            error=self.error,
        )

    def __repr__(self) -> str:
        outcome = self.error if self.error else f"{self.status} {self.reason}".strip()
        return f"StreamedExchange({self.id} {self.method} {self.url} -> {outcome}, {self.size} bytes so far)"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Outcome:
    exchange: Exchange
    response: requests.Response | None  # None when nothing usable came back
    exception: BaseException | None  # what the requests API raises when response is None or truncated
    retryable: bool = False
    next_request: PreparedRequest | None = None  # the redirect to follow, when asked and allowed


@dataclass(frozen=True, slots=True)
class _Opened:
    """One attempt at opening a stream, and whether resending it is safe and useful."""

    first: StreamedExchange
    retryable: bool = False


def _size_text(size: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"


def _body_bytes(body: Any) -> bytes | None:
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return b"<streamed body, not recorded>"


def _request_parts(prepared: PreparedRequest) -> tuple[str, str, list[tuple[str, str]], bytes | None]:
    """Method, URL, headers and body of a prepared request, as recorded."""
    return (
        (prepared.method or "GET").upper(),
        prepared.url or "",
        list(prepared.headers.items()),
        _body_bytes(prepared.body),
    )


def _min_timeout(configured: float, given: Any) -> float:
    return min(configured, float(given)) if isinstance(given, (int, float)) and given > 0 else configured


class GuardedSession(requests.Session):
    """A ``requests.Session`` that enforces the live-target rules (see the module docstring)."""

    def __init__(self, config: TargetConfig, recorder: EvidenceRecorder) -> None:
        super().__init__()
        self.config = config
        self.recorder = recorder
        self.trust_env = False  # no proxies, .netrc credentials or CA bundle from the environment
        self.max_redirects = config.max_redirects
        self.headers["User-Agent"] = USER_AGENT
        adapter = GuardedAdapter(max_retries=0)  # retries are ours: see the module docstring
        self.mount("https://", adapter)
        self.mount("http://", adapter)
        self._allowed = config.allowed_origins
        self._allowed_text = ", ".join(sorted(str(o) for o in self._allowed))
        self._limiter = RateLimiter(config.rate_per_second)
        self._breaker = CircuitBreaker(config.max_consecutive_failures)
        self._watchdog = Watchdog()
        self._local = threading.local()
        self._by_response: weakref.WeakKeyDictionary[requests.Response, Exchange] = (
            weakref.WeakKeyDictionary()
        )
        self._verify: bool | str = str(config.ca_bundle) if config.ca_bundle else True
        if not config.verify_tls:
            self._verify = False
            warnings.warn(
                f"TLS CERTIFICATE VERIFICATION IS OFF for {config.origin}: the target's identity is not "
                "checked, so nothing in this run proves which server answered",
                InsecureTlsWarning,
                stacklevel=2,
            )
        cert, key = config.auth.client_cert, config.auth.client_key
        self._cert: str | tuple[str, str] | None = (
            (str(cert), str(key)) if cert and key else (str(cert) if cert else None)
        )

    # -- the plain requests API ---------------------------------------------------------------------
    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("allow_redirects", False)
        return super().request(method, url, *args, **kwargs)

    def get(self, url: str | bytes, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("allow_redirects", False)  # requests itself defaults to following for GET
        return self.request("GET", url, **kwargs)

    def options(self, url: str | bytes, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("allow_redirects", False)
        return self.request("OPTIONS", url, **kwargs)

    def head(self, url: str | bytes, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("allow_redirects", False)
        return self.request("HEAD", url, **kwargs)

    def send(self, request: PreparedRequest, **kwargs: Any) -> requests.Response:
        """Send through the guard; returns a fully read response or raises a ``requests`` exception."""
        outcome = self._perform(
            request, timeout=kwargs.get("timeout"), follow=bool(kwargs.get("allow_redirects", False))
        )
        response = outcome.response
        if response is None or outcome.exchange.truncated:
            assert outcome.exception is not None
            raise outcome.exception
        self._by_response[response] = outcome.exchange
        return response

    # -- the exchange API (live checks, token requests) ------------------------------------------------
    @contextlib.contextmanager
    def unpaced(self) -> Any:
        """Within this block, requests from this thread skip the run's politeness pace (``--rate``).

        For checks that must send a burst on purpose (the rate-limit check); every other rule — allowed
        origins, timeouts, body caps, the circuit breaker, recording — still applies.
        """
        previous = getattr(self._local, "unpaced", False)
        self._local.unpaced = True
        try:
            yield self
        finally:
            self._local.unpaced = previous

    def exchange(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        allow_redirects: bool = False,
        timeout: float | None = None,
        before_record: Callable[[int | None, bytes], None] | None = None,
    ) -> Exchange:
        """Send one request and return its :class:`Exchange`; never raises for network problems.

        ``before_record(status, body)`` runs before the exchange is written, so a caller can register
        secrets it finds in the response (an access token) and have them redacted in this very record.
        """
        prepared = self._prepare(method.upper(), url, headers, params=params, json=json, data=data)
        if isinstance(prepared, str):
            return self._not_sent(method.upper(), url, [], None, prepared).exchange
        outcome = self._perform(
            prepared, timeout=timeout, follow=allow_redirects, before_record=before_record
        )
        return outcome.exchange

    def not_sent(self, method: str, url: str, error: str) -> Exchange:
        """Record (and return) an exchange that was decided against before sending, e.g. for lack of a token."""
        return self._not_sent(method.upper(), url, [], None, error).exchange

    def open_stream(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        idle_timeout: float | None = None,
        total_timeout: float | None = None,
    ) -> StreamedExchange:
        """Send one request and return as soon as the response head arrives, the body unread.

        Never raises for network problems: a request that got no response is a :class:`StreamedExchange`
        with ``error`` set (recorded at once). ``idle_timeout`` (default: the read timeout) bounds the
        silence between two chunks; ``total_timeout`` (default: ``export_timeout``) bounds the whole
        exchange, from sending to the last byte. An idempotent request refused or reset before any
        response is retried once, as for :meth:`exchange`. Redirects are not followed.
        """
        verb = method.upper()
        prepared = self._prepare(verb, url, headers, params=params, json=json, data=data)
        if isinstance(prepared, str):
            return self._stream_not_sent(self._not_sent(verb, url, [], None, prepared))
        idle = _min_timeout(self.config.read_timeout, idle_timeout)
        total = (
            total_timeout if total_timeout is not None and total_timeout > 0 else self.config.export_timeout
        )
        stream = self._open_once(prepared, idle, total, links=None)
        if stream.retryable and verb in IDEMPOTENT_METHODS and not self._breaker.open_reason:
            stream = self._open_once(prepared, idle, total, links={"retry_of": stream.first.id})
        return stream.first

    def stream_not_sent(self, method: str, url: str, error: str) -> StreamedExchange:
        """Record (and return) a stream that was decided against before sending (see :meth:`not_sent`)."""
        return self._stream_not_sent(self._not_sent(method.upper(), url, [], None, error))

    def _stream_not_sent(self, outcome: _Outcome) -> StreamedExchange:
        exchange = outcome.exchange
        return StreamedExchange(
            session=self,
            exchange_id=exchange.id,
            method=exchange.method,
            url=exchange.url,
            redacted_url=exchange.url,
            request_headers=[],
            redacted_request_headers=list(exchange.request_headers.items()),
            request_body=None,
            response=None,
            deadline=None,
            total_timeout=0.0,
            idle_timeout=0.0,
            started=time.perf_counter(),
            error=exchange.error or "not sent",
            links=None,
            recorded=True,
        )

    def _open_once(
        self, prepared: PreparedRequest, idle: float, total: float, *, links: Mapping[str, str] | None
    ) -> _Opened:
        method, url, headers, body = _request_parts(prepared)
        refusal = self._refusal(url)
        if refusal is not None:
            return _Opened(
                self._stream_not_sent(self._not_sent(method, url, headers, body, refusal[0], links=links))
            )
        connect_t = self.config.connect_timeout
        start, deadline = self._start(total)
        response: requests.Response | None = None
        failure: BaseException | None = None
        try:
            response = self._transmit(prepared, connect_t, idle)
        except _NETWORK_ERRORS as exc:
            failure = exc
        finally:
            use_deadline(None)
        redactor = self.recorder.redactor
        retryable = False
        if failure is not None or response is None:
            expired = deadline.expired
            self._watchdog.finish(deadline)
            if expired:
                error = f"no response within {seconds(total)} s (export time limit)"
            else:
                assert failure is not None
                problem = describe(
                    failure, phase=Phase.BEFORE_RESPONSE, connect_timeout=connect_t, read_timeout=idle
                )
                error, retryable = problem.text, problem.retryable
            self._breaker.failure(error)
            elapsed_ms = int((time.perf_counter() - start) * 1000)
            record = self._record_unanswered(method, url, headers, body, error, links, elapsed_ms)
            exchange_id, redacted_url, redacted_headers = record.id, record.url, record.request_headers
            stream_deadline: Deadline | None = None  # already finished
            error_text: str | None = redactor.redact_text(error)
            recorded = True
        else:
            self._breaker.success()
            redirect_error: str | None = None
            if response.status_code in _REDIRECT_STATUSES and "location" in response.headers:
                redirect_error, _ = self._redirect(prepared, response, follow=False, hop=0)
            exchange_id = self.recorder.reserve_id()  # recorded when the stream closes
            redacted_url, redacted_headers = redactor.redact_url(url), redactor.redact_headers(headers)
            stream_deadline = deadline
            error_text = redactor.redact_text(redirect_error) if redirect_error else None
            recorded = False
        opened = StreamedExchange(
            session=self,
            exchange_id=exchange_id,
            method=method,
            url=url,
            redacted_url=redacted_url,
            request_headers=headers,
            redacted_request_headers=redacted_headers,
            request_body=body,
            response=response,
            deadline=stream_deadline,
            total_timeout=total,
            idle_timeout=idle,
            started=start,
            error=error_text,
            links=links,
            recorded=recorded,
        )
        return _Opened(opened, retryable=retryable)

    @property
    def last_exchange(self) -> Exchange | None:
        """The last exchange this thread performed (the final hop when redirects were followed)."""
        return getattr(self._local, "last", None)

    def exchange_for(self, response: requests.Response) -> Exchange | None:
        """The exchange behind a response returned by :meth:`send`."""
        return self._by_response.get(response)

    @property
    def unreachable(self) -> str | None:
        """``"target unreachable: <last error>"`` once the circuit breaker has opened, else ``None``."""
        return self._breaker.open_reason

    def close(self) -> None:
        super().close()
        self._watchdog.close()

    # -- internals ------------------------------------------------------------------------------------
    def _perform(
        self,
        prepared: PreparedRequest,
        *,
        timeout: Any,
        follow: bool,
        before_record: Callable[[int | None, bytes], None] | None = None,
    ) -> _Outcome:
        if isinstance(timeout, tuple) and len(timeout) == 2:
            connect_t = _min_timeout(self.config.connect_timeout, timeout[0])
            read_t = _min_timeout(self.config.read_timeout, timeout[1])
        else:
            connect_t = _min_timeout(self.config.connect_timeout, timeout)
            read_t = _min_timeout(self.config.read_timeout, timeout)
        outcome = self._attempt(
            prepared, connect_t, read_t, follow=follow, hop=0, links=None, hook=before_record
        )
        history: list[requests.Response] = []
        hop = 0
        while outcome.next_request is not None and outcome.response is not None:
            history.append(outcome.response)
            hop += 1
            links = {"redirect_of": outcome.exchange.id}
            outcome = self._attempt(
                outcome.next_request, connect_t, read_t, follow=follow, hop=hop, links=links, hook=None
            )
        if history and outcome.response is not None:
            outcome.response.history = history
        self._local.last = outcome.exchange
        return outcome

    def _attempt(
        self,
        prepared: PreparedRequest,
        connect_t: float,
        read_t: float,
        *,
        follow: bool,
        hop: int,
        links: dict[str, str] | None,
        hook: Callable[[int | None, bytes], None] | None,
    ) -> _Outcome:
        method, url, headers, body = _request_parts(prepared)
        refusal = self._refusal(url)
        if refusal is not None:
            return self._not_sent(method, url, headers, body, *refusal, links)
        outcome = self._send_once(
            prepared, method, url, headers, body, connect_t, read_t, follow, hop, links, hook
        )
        if (
            outcome.retryable
            and method in IDEMPOTENT_METHODS
            and not self._breaker.open_reason
            and (prepared.body is None or isinstance(prepared.body, (bytes, str)))
        ):
            retry_links = {**(links or {}), "retry_of": outcome.exchange.id}
            outcome = self._send_once(
                prepared, method, url, headers, body, connect_t, read_t, follow, hop, retry_links, hook
            )
        return outcome

    def _prepare(
        self, method: str, url: str, headers: Mapping[str, str] | None, *, params: Any, json: Any, data: Any
    ) -> PreparedRequest | str:
        """The request prepared with the session's defaults, or the error to record when it is invalid."""
        request = requests.Request(
            method=method, url=url, headers=dict(headers or {}), params=params, json=json, data=data
        )
        try:
            return self.prepare_request(request)
        except (requests.exceptions.RequestException, ValueError, TypeError) as exc:
            text = " ".join(str(exc).split())[:200]
            return f"not sent: invalid request: {text}"

    def _refusal(self, url: str) -> tuple[str, LiveRequestError] | None:
        """Why a request to ``url`` must not be sent (an origin not allowed, the circuit breaker open) and
        what the ``requests`` API raises for it; ``None`` when it may be sent."""
        try:
            allowed = origin_of(url) in self._allowed
            reason = (
                ""
                if allowed
                else f"{origin_of(url)} is not an allowed origin (allowed: {self._allowed_text})"
            )
        except ValueError as exc:
            allowed, reason = False, str(exc)
        if not allowed:
            text = f"refused: {reason}"
            return text, OriginRefused(text)
        unreachable = self._breaker.open_reason
        if unreachable:
            return unreachable, TargetUnreachable(unreachable)
        return None

    def _start(self, total: float) -> tuple[float, Deadline]:
        """Wait for the run's pace (unless :meth:`unpaced`), then start the clock and a ``total``-second
        deadline for this thread's request; the caller ends it with ``use_deadline(None)``."""
        if not getattr(self._local, "unpaced", False):
            self._limiter.acquire()
        start = time.perf_counter()
        deadline = self._watchdog.start(total)
        use_deadline(deadline)
        return start, deadline

    def _transmit(self, prepared: PreparedRequest, connect_t: float, read_t: float) -> requests.Response:
        """Send ``prepared`` through the adapter, the body left unread."""
        return self.get_adapter(prepared.url or "").send(
            prepared,
            stream=True,
            timeout=(connect_t, read_t),
            verify=self._verify,
            cert=self._cert,
            proxies={},
        )

    def _record_unanswered(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        body: bytes | None,
        error: str,
        links: Mapping[str, str] | None,
        elapsed_ms: int,
    ) -> Recorded:
        """Record an exchange that got no response (not sent, or failed before the response head)."""
        return self.recorder.record_http(
            method=method,
            url=url,
            request_headers=headers,
            request_body=body,
            status=None,
            reason=None,
            response_headers=None,
            response_body=None,
            incomplete=False,
            elapsed_ms=elapsed_ms,
            error=error,
            links=links,
        )

    def _not_sent(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        body: bytes | None,
        error: str,
        exception: BaseException | None = None,
        links: Mapping[str, str] | None = None,
    ) -> _Outcome:
        recorded = self._record_unanswered(method, url, headers, body, error, links, 0)
        exchange = Exchange(
            id=recorded.id,
            method=method,
            url=recorded.url,
            request_headers=Headers(recorded.request_headers),
            status=None,
            reason="",
            headers=Headers(),
            body=b"",
            truncated=False,
            elapsed_ms=0,
            error=self.recorder.redactor.redact_text(error),
        )
        self._local.last = exchange
        return _Outcome(exchange=exchange, response=None, exception=exception or TargetUnreachable(error))

    def _send_once(
        self,
        prepared: PreparedRequest,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        body: bytes | None,
        connect_t: float,
        read_t: float,
        follow: bool,
        hop: int,
        links: Mapping[str, str] | None,
        hook: Callable[[int | None, bytes], None] | None,
    ) -> _Outcome:
        total = self.config.total_timeout
        response: requests.Response | None = None
        content = b""
        truncated = False
        failure: BaseException | None = None
        phase = Phase.BEFORE_RESPONSE
        start, deadline = self._start(total)
        try:
            response = self._transmit(prepared, connect_t, read_t)
            phase = Phase.BODY
            content, truncated = self._read_body(response)
        except _NETWORK_ERRORS as exc:
            # Every network failure becomes this exchange's error; anything else is a bug and propagates.
            failure = exc
            content = getattr(exc, "_partial_body", b"")
        finally:
            use_deadline(None)
            self._watchdog.finish(deadline)
        elapsed = time.perf_counter() - start
        elapsed_ms = int(elapsed * 1000)

        error: str | None = None
        exception: BaseException | None = None
        retryable = False
        next_request: PreparedRequest | None = None
        if failure is not None:
            if deadline.expired:
                if phase is Phase.BEFORE_RESPONSE:
                    error = f"no response within {seconds(total)} s (total time limit)"
                else:
                    error = f"response not complete within {seconds(total)} s (total time limit)"
                exception = TotalTimeout(error)
            else:
                problem = describe(failure, phase=phase, connect_timeout=connect_t, read_timeout=read_t)
                error, retryable = problem.text, problem.retryable
                exception = failure
            if response is not None:
                with contextlib.suppress(Exception):
                    response.close()
            if phase is Phase.BEFORE_RESPONSE:
                self._breaker.failure(error)
        else:
            assert response is not None
            self._breaker.success()
            response._content = content
            response._content_consumed = True  # type: ignore[attr-defined]
            response.elapsed = timedelta(seconds=elapsed)
            if truncated:
                error = f"response body over {_size_text(self.config.max_body_bytes)}"
                exception = BodyTooLarge(error)
            elif response.status_code in _REDIRECT_STATUSES and "location" in response.headers:
                error, next_request = self._redirect(prepared, response, follow=follow, hop=hop)

        status = response.status_code if response is not None else None
        if hook is not None:
            hook(status, content)
        raw_headers = (
            response.raw.headers.items() if response is not None and response.raw is not None else ()
        )
        recorded = self.recorder.record_http(
            method=method,
            url=url,
            request_headers=headers,
            request_body=body,
            status=status,
            reason=response.reason if response is not None else None,
            response_headers=raw_headers,
            response_body=content if response is not None else None,
            incomplete=truncated,
            elapsed_ms=elapsed_ms,
            error=error,
            links=links,
        )
        exchange = Exchange(
            id=recorded.id,
            method=method,
            url=recorded.url,
            request_headers=Headers(recorded.request_headers),
            status=status,
            reason=(response.reason or "") if response is not None else "",
            headers=Headers(raw_headers),
            body=content,
            truncated=truncated,
            elapsed_ms=elapsed_ms,
            error=self.recorder.redactor.redact_text(error) if error else None,
        )
        return _Outcome(
            exchange=exchange,
            response=response if phase is Phase.BODY and failure is None else None,
            exception=exception,
            retryable=retryable,
            next_request=next_request,
        )

    def _read_body(self, response: requests.Response) -> tuple[bytes, bool]:
        """Read the (decoded) body up to ``max_body_bytes``; ``(body, truncated)``."""
        raw = response.raw
        limit = self.config.max_body_bytes
        deadline = current_deadline()
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                chunk = raw.read(_READ_CHUNK, decode_content=True)
                if not chunk:
                    break
                # The watchdog's shutdown() wakes a read blocked on an empty socket, but Linux keeps
                # delivering data a peer goes on streaming: so the loop also checks the deadline itself.
                if deadline is not None and deadline.expired:
                    raise TimeoutError("total time limit reached while reading the body")
                size += len(chunk)
                if size > limit:
                    chunks.append(chunk[: len(chunk) - (size - limit)])
                    response.close()  # closes the connection: the rest of the body is never read
                    return b"".join(chunks), True
                chunks.append(chunk)
        except BaseException as exc:
            exc._partial_body = b"".join(chunks)  # type: ignore[attr-defined]
            raise
        raw.release_conn()
        return b"".join(chunks), False

    def _redirect(
        self, prepared: PreparedRequest, response: requests.Response, *, follow: bool, hop: int
    ) -> tuple[str | None, PreparedRequest | None]:
        """The error to report for a redirect and, when asked to and allowed, the next request."""
        location = self.get_redirect_target(response)
        if not location:
            return None, None
        target = urljoin(prepared.url or "", location)
        try:
            target_origin = origin_of(target)
        except ValueError:
            return "redirect to a URL that is not http(s): not followed", None
        if target_origin not in self._allowed:
            return f"redirect to another origin not followed ({target_origin} is not an allowed origin)", None
        if not follow:
            return None, None
        if hop >= self.config.max_redirects:
            return f"too many redirects (more than {self.config.max_redirects})", None
        following = prepared.copy()
        following.prepare_url(target, None)
        self.rebuild_method(following, response)
        if following.method != prepared.method or response.status_code == 303:
            following.body = None
            for name in ("Content-Length", "Content-Type", "Transfer-Encoding"):
                following.headers.pop(name, None)
        if target_origin != origin_of(prepared.url or ""):
            # Credentials are for the origin they were given to: a hop elsewhere (even http->https on the
            # same host) carries none of them, and later hops cannot get them back.
            for name in _CREDENTIAL_HEADERS:
                following.headers.pop(name, None)
        return None, following
