"""The live client layer: everything a live check uses to talk to a supplier's API safely.

A live check receives a :class:`LiveTarget` as ``ctx.target``::

    exchange = ctx.target.request("GET", "/persons", scopes=["read"])
    if not exchange.ok:
        raise CantTell(exchange.error)
    if exchange.status != 200:
        yield Finding(title="…", message=f"Expected: 200 / Found: {exchange.status}", exchange=exchange.id)

A body too large to hold (a bulk export) is read as a stream, never whole::

    with ctx.target.stream("GET", "/exports/persons", accept="application/x-ndjson") as export:
        if not export.ok or export.status != 200:
            raise CantTell(export.error or f"export answered {export.status}")
        for line in export.iter_lines():   # raises StreamError if the body is cut off
            ...
    export.size, export.sha256             # every byte received; the evidence keeps the first 64 KiB

Layout: ``config`` (what the target is), ``http`` (the guarded session and :class:`Exchange`), ``auth``
(tokens), ``evidence`` (redaction and ``exchanges.ndjson``), ``tls`` (handshake probes). Rules the session
enforces on every request are listed in :mod:`conformance.live.http`; ``docs/live-targets.md`` is the user
guide.
"""

from __future__ import annotations

import base64
import contextlib
import enum
import json as jsonlib
import secrets
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._lazy import lazy_attributes
from ..errors import TargetError
from ..registry import NotTested
from ._defaults import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_EVIDENCE_BODY_LIMIT,
    DEFAULT_EXPORT_TIMEOUT,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_CONSECUTIVE_FAILURES,
    DEFAULT_MAX_REDIRECTS,
    DEFAULT_MAX_STREAM_BYTES,
    DEFAULT_RATE,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_TLS_TIMEOUT,
    DEFAULT_TOTAL_TIMEOUT,
)
from ._headers import Headers
from ._origin import Origin, is_loopback_host, origin_of
from .config import (
    AuthConfig,
    AuthKind,
    Secret,
    SecretFileWarning,
    TargetConfig,
    TokenAuthMethod,
    has_live_target,
    load_target_config,
    parse_rate,
    secret_from_env,
    secret_from_file,
)
from .evidence import EXCHANGES_FILE, REDACTED, EvidenceRecorder, Redactor, StreamedBody
from .tls import CertificateInfo, ProbeOutcome, TlsProbe, certificate, probe_versions

if TYPE_CHECKING:
    from .auth import TokenProvider
    from .http import (
        DEFAULT_MAX_LINE_BYTES,
        BodyTooLarge,
        Exchange,
        GuardedSession,
        InsecureTlsWarning,
        LiveRequestError,
        OriginRefused,
        StreamedExchange,
        StreamError,
        TargetUnreachable,
        TotalTimeout,
    )

# The HTTP stack (requests, urllib3) loads when a live run first needs it, not when the check modules are
# imported: a static run never pays for it.
_LAZY = {
    "TokenProvider": "auth",
    **dict.fromkeys(
        (
            "DEFAULT_MAX_LINE_BYTES",
            "BodyTooLarge",
            "Exchange",
            "GuardedSession",
            "InsecureTlsWarning",
            "LiveRequestError",
            "OriginRefused",
            "StreamedExchange",
            "StreamError",
            "TargetUnreachable",
            "TotalTimeout",
        ),
        "http",
    ),
}

__getattr__ = lazy_attributes(__name__, _LAZY)


__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_EVIDENCE_BODY_LIMIT",
    "DEFAULT_EXPORT_TIMEOUT",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_CONSECUTIVE_FAILURES",
    "DEFAULT_MAX_LINE_BYTES",
    "DEFAULT_MAX_REDIRECTS",
    "DEFAULT_MAX_STREAM_BYTES",
    "DEFAULT_RATE",
    "DEFAULT_READ_TIMEOUT",
    "DEFAULT_TLS_TIMEOUT",
    "DEFAULT_TOTAL_TIMEOUT",
    "EXCHANGES_FILE",
    "REDACTED",
    "AuthConfig",
    "AuthKind",
    "AuthMode",
    "BodyTooLarge",
    "CertificateInfo",
    "EvidenceRecorder",
    "Exchange",
    "GuardedSession",
    "Headers",
    "InsecureTlsWarning",
    "LiveRequestError",
    "LiveTarget",
    "Origin",
    "OriginRefused",
    "ProbeOutcome",
    "Redactor",
    "Secret",
    "SecretFileWarning",
    "StreamError",
    "StreamedBody",
    "StreamedExchange",
    "TargetConfig",
    "TargetUnreachable",
    "TlsProbe",
    "TokenAuthMethod",
    "TokenProvider",
    "TotalTimeout",
    "certificate",
    "has_live_target",
    "load_target_config",
    "origin_of",
    "parse_rate",
    "probe_versions",
    "secret_from_env",
    "secret_from_file",
]


@enum.unique
class AuthMode(str, enum.Enum):
    """Which credentials :meth:`LiveTarget.request` sends."""

    DEFAULT = "default"  # a token with the configured scopes (or with ``scopes=`` when given)
    NONE = "none"  # no Authorization header at all
    INVALID = "invalid"  # a well-formed token the server has never issued
    OTHER_TENANT = "other_tenant"  # a token of the second tenant (``other_tenant`` in the auth file)


class LiveTarget:
    """The supplier API under test, as a live check sees it (``ctx.target``).

    Build it with :meth:`open`, which does not contact the target: the first check does.
    """

    def __init__(
        self,
        *,
        config: TargetConfig,
        session: GuardedSession,
        tokens: TokenProvider,
        other_tokens: TokenProvider | None,
        recorder: EvidenceRecorder,
    ) -> None:
        self.config = config
        self.session = session
        self.tokens = tokens
        self.other_tokens = other_tokens
        self.recorder = recorder
        self._invalid_token: str | None = None
        # Results several checks share within one run (e.g. one TLS version probe for C9-05 and C9-06).
        self.memo: dict[str, Any] = {}

    @classmethod
    def open(cls, config: TargetConfig, evidence_folder: Path, *, exchange_prefix: str = "ex") -> LiveTarget:
        from .auth import TokenProvider
        from .http import GuardedSession

        redactor = Redactor(config)
        recorder = EvidenceRecorder(evidence_folder, redactor, id_prefix=exchange_prefix)
        session = GuardedSession(config, recorder)
        other = TokenProvider(config.other_tenant, session, redactor) if config.other_tenant else None
        return cls(
            config=config,
            session=session,
            tokens=TokenProvider(config.auth, session, redactor),
            other_tokens=other,
            recorder=recorder,
        )

    def __repr__(self) -> str:
        return f"LiveTarget({self.base_url!r}, auth={self.config.auth.kind.value})"

    # -- where ----------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return self.config.base_url

    @property
    def origin(self) -> Origin:
        return self.config.origin

    def url(self, path: str) -> str:
        """``path`` relative to the base URL (``"/persons"`` -> ``https://host/api/persons``), or an
        absolute URL unchanged (the session still refuses origins outside the configuration)."""
        if "://" in path.split("?", 1)[0]:
            return path
        return f"{self.config.base_url.rstrip('/')}/{path.lstrip('/')}"

    def plain_http_url(self, path: str = "") -> str:
        """The plain ``http://`` form of ``path`` for the plain-HTTP probe."""
        base = self.config.effective_plain_http_url
        return f"{base.rstrip('/')}/{path.lstrip('/')}" if path else base

    # -- what a check may do --------------------------------------------------------------------------
    @property
    def writes_allowed(self) -> bool:
        return self.config.allow_writes

    def require_writes(self, reason: str) -> None:
        """Stop the check as ``untested`` unless the target is a test tenant (``--allow-writes``)."""
        if not self.config.allow_writes:
            raise NotTested(f"needs --allow-writes: {reason}")

    @property
    def unreachable(self) -> str | None:
        """Why the target is considered unreachable (circuit breaker open), else ``None``."""
        return self.session.unreachable

    def set_requirement(self, requirement_id: str | None) -> None:
        """Label the evidence recorded from now on with ``requirement_id``."""
        self.recorder.current_requirement = requirement_id

    # -- requests -------------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        auth: AuthMode | str = AuthMode.DEFAULT,
        scopes: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        content_type: str | None = None,
        accept: str | None = None,
        allow_redirects: bool = False,
    ) -> Exchange:
        """Send one request and return its exchange; network trouble is ``exchange.error``, never an exception.

        Raises only ``NotTested`` when the configuration cannot express the request (e.g.
        ``auth=OTHER_TENANT`` without a second tenant).
        """
        url = self.url(path)
        try:
            sent = self._request_headers(url, auth, scopes, headers, content_type, accept)
        except TargetError as exc:
            return self.session.not_sent(method, url, f"not sent: {exc.one_line()}")
        return self.session.exchange(
            method, url, headers=sent, params=params, json=json, data=data, allow_redirects=allow_redirects
        )

    @contextlib.contextmanager
    def stream(
        self,
        method: str,
        path: str,
        *,
        auth: AuthMode | str = AuthMode.DEFAULT,
        scopes: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        content_type: str | None = None,
        accept: str | None = None,
        idle_timeout: float | None = None,
        total_timeout: float | None = None,
    ) -> Iterator[StreamedExchange]:
        """Send one request and yield its response with the body unread, for bodies too large to hold.

        The same guards as :meth:`request` (origins, TLS, pace, circuit breaker, one retry of an idempotent
        request refused before any response, redaction), except the body size: it is read through
        ``iter_bytes``/``iter_lines``, bounded by ``idle_timeout`` between chunks (default: the read
        timeout), ``total_timeout`` for the whole exchange (default: ``export_timeout``) and
        ``max_stream_bytes``. On leaving the block the connection is closed if the body was not finished
        and the exchange is recorded (the first 64 KiB, redacted line by line, with the size and SHA-256 of
        everything received). Network trouble before the response is ``error``, never an exception;
        trouble while reading the body raises :class:`StreamError` from the iterator.
        """
        url = self.url(path)
        try:
            sent = self._request_headers(url, auth, scopes, headers, content_type, accept)
        except TargetError as exc:
            opened = self.session.stream_not_sent(method, url, f"not sent: {exc.one_line()}")
        else:
            opened = self.session.open_stream(
                method,
                url,
                headers=sent,
                params=params,
                json=json,
                data=data,
                idle_timeout=idle_timeout,
                total_timeout=total_timeout,
            )
        try:
            yield opened
        finally:
            opened.close()

    def _request_headers(
        self,
        url: str,
        auth: AuthMode | str,
        scopes: Sequence[str] | None,
        headers: Mapping[str, str] | None,
        content_type: str | None,
        accept: str | None,
    ) -> dict[str, str]:
        """The headers :meth:`request` and :meth:`stream` send: ``Accept``, ``Content-Type``, the credentials
        ``auth`` selects, then the caller's ``headers``. ``TargetError`` when the request must not be sent."""
        mode = AuthMode(auth)
        sent: dict[str, str] = {}
        if accept is not None:
            sent["Accept"] = accept
        if content_type is not None:
            sent["Content-Type"] = content_type
        sent.update(self._auth_headers(mode, scopes, url))
        sent.update(headers or {})
        return sent

    def _auth_headers(self, mode: AuthMode, scopes: Sequence[str] | None, url: str) -> dict[str, str]:
        if mode is AuthMode.NONE:
            return {}
        if mode is AuthMode.INVALID:
            return {"Authorization": f"Bearer {self.invalid_token()}"}
        provider = self.tokens
        if mode is AuthMode.OTHER_TENANT:
            if self.other_tokens is None:
                raise NotTested("needs a second tenant: add an 'other_tenant' block to the auth file")
            provider = self.other_tokens
        if provider.kind is AuthKind.NONE:
            return {}
        target = origin_of(url)
        if target.scheme == "http" and not is_loopback_host(target.host):
            raise TargetError("a real token is never sent over plain http:// (use auth=AuthMode.INVALID)")
        return provider.headers(scopes)

    def invalid_token(self) -> str:
        """A token of the same shape as real ones (a JWT if they are JWTs) that no server has issued."""
        if self._invalid_token is None:
            shape = self.tokens.sample() or ""
            self._invalid_token = _fake_token(jwt=shape.count(".") == 2)
        return self._invalid_token

    # -- TLS ------------------------------------------------------------------------------------------
    def tls_versions(self) -> dict[str, TlsProbe]:
        origin = self.origin
        return probe_versions(
            origin.host,
            origin.port,
            ca_bundle=self.config.ca_bundle,
            server_name=origin.host,
            recorder=self.recorder,
        )

    def tls_certificate(self) -> CertificateInfo:
        origin = self.origin
        return certificate(
            origin.host,
            origin.port,
            ca_bundle=self.config.ca_bundle,
            server_name=origin.host,
            recorder=self.recorder,
        )

    def close(self) -> None:
        self.session.close()
        self.recorder.close()

    def __enter__(self) -> LiveTarget:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _fake_token(*, jwt: bool) -> str:
    if not jwt:
        return secrets.token_urlsafe(32)
    header = _b64(jsonlib.dumps({"alg": "RS256", "typ": "JWT", "kid": secrets.token_hex(8)}).encode())
    payload = _b64(
        jsonlib.dumps({"sub": "interop-conformance-invalid", "jti": secrets.token_hex(16)}).encode()
    )
    return f"{header}.{payload}.{_b64(secrets.token_bytes(256))}"
