"""Access tokens for live checks: OAuth 2.0 client credentials (RFC 6749 §4.4), a static bearer token, or none.

Client-credentials tokens are cached per scope set until ``TOKEN_REFRESH_MARGIN`` seconds before they expire.
Asking for a *subset* of the configured scopes is how a check obtains a token that lacks a scope. Token
requests go through the guarded session (so they are paced, bounded and recorded); every token obtained is
registered with the redactor *before* its exchange is written, so it never reaches the evidence.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote_plus

import orjson

from ..errors import TargetError
from ..registry import NotTested
from ._defaults import TOKEN_DEFAULT_LIFETIME, TOKEN_REFRESH_MARGIN
from .config import AuthConfig, AuthKind, TokenAuthMethod
from .evidence import Redactor
from .http import GuardedSession

__all__ = ["TokenProvider"]


class TokenProvider:
    """Hands out access tokens for one set of credentials (the target's, or another tenant's)."""

    def __init__(
        self,
        auth: AuthConfig,
        session: GuardedSession,
        redactor: Redactor,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.auth = auth
        self._session = session
        self._redactor = redactor
        self._clock = clock
        self._cache: dict[frozenset[str], tuple[str, float]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TokenProvider(kind={self.auth.kind.value}, cached={len(self._cache)})"

    @property
    def kind(self) -> AuthKind:
        return self.auth.kind

    def token(self, scopes: Sequence[str] | None = None) -> str:
        """An access token; ``scopes`` (client credentials only) asks for exactly those scopes.

        Raises ``TargetError`` when no token can be had (with the HTTP status and OAuth ``error`` code), and
        ``NotTested`` when the configuration cannot express the request (scopes with a static token).
        """
        kind = self.auth.kind
        if kind is AuthKind.NONE:
            raise NotTested("needs credentials: the target configuration has no authentication (--auth FILE)")
        if kind is AuthKind.BEARER:
            if scopes is not None and tuple(scopes) != self.auth.scopes:
                raise NotTested("needs OAuth2 client credentials to obtain a token with chosen scopes")
            assert self.auth.bearer is not None
            return self.auth.bearer.reveal()
        wanted = frozenset(self.auth.scopes if scopes is None else scopes)
        with self._lock:
            cached = self._cache.get(wanted)
            if cached is not None and cached[1] > self._clock():
                return cached[0]
            token, lifetime = self._fetch(sorted(wanted))
            margin = min(TOKEN_REFRESH_MARGIN, lifetime / 2)
            self._cache[wanted] = (token, self._clock() + lifetime - margin)
            return token

    def headers(self, scopes: Sequence[str] | None = None) -> dict[str, str]:
        """``{"Authorization": "Bearer …"}``, or ``{}`` when the target has no token authentication."""
        if self.auth.kind is AuthKind.NONE:
            return {}
        return {"Authorization": f"Bearer {self.token(scopes)}"}

    def sample(self) -> str | None:
        """A token already at hand (static, or cached), without any request: for shaping fake tokens."""
        if self.auth.kind is AuthKind.BEARER and self.auth.bearer is not None:
            return self.auth.bearer.reveal()
        with self._lock:
            return next((token for token, _ in self._cache.values()), None)

    def invalidate(self) -> None:
        """Forget cached tokens (e.g. after the server revoked one)."""
        with self._lock:
            self._cache.clear()

    def _fetch(self, scopes: list[str]) -> tuple[str, float]:
        auth = self.auth
        assert auth.token_url
        assert auth.client_id
        assert auth.client_secret
        secret = auth.client_secret.reveal()
        form = {"grant_type": "client_credentials"}
        if scopes:
            form["scope"] = " ".join(scopes)
        headers = {"Accept": "application/json"}
        if auth.token_auth_method is TokenAuthMethod.CLIENT_SECRET_BASIC:
            # RFC 6749 §2.3.1: the id and secret are form-encoded before they are joined for HTTP Basic.
            pair = f"{quote_plus(auth.client_id)}:{quote_plus(secret)}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        else:
            form["client_id"] = auth.client_id
            form["client_secret"] = secret

        found: dict[str, Any] = {}

        def remember(status: int | None, body: bytes) -> None:
            # Runs before the exchange is written: the new token is redacted from its own record.
            try:
                parsed = orjson.loads(body) if body else None
            except orjson.JSONDecodeError:
                return
            if isinstance(parsed, dict):
                found.update(parsed)
                for name in ("access_token", "refresh_token", "id_token"):
                    value = parsed.get(name)
                    if isinstance(value, str) and value:
                        self._redactor.register_secret(value)

        exchange = self._session.exchange(
            "POST", auth.token_url, headers=headers, data=form, before_record=remember
        )
        where = f"token request to {auth.token_url.split('?', 1)[0]}"
        if exchange.error:
            raise TargetError(f"{where} failed: {exchange.error}", hint=f"evidence {exchange.id}")
        if exchange.status != 200:
            code = found.get("error")
            detail = f" {code}" if isinstance(code, str) and code.isprintable() and len(code) < 80 else ""
            raise TargetError(
                f"{where} failed: HTTP {exchange.status}{detail}", hint=f"evidence {exchange.id}"
            )
        token = found.get("access_token")
        if not isinstance(token, str) or not token:
            raise TargetError(f"{where} returned no access_token", hint=f"evidence {exchange.id}")
        token_type = found.get("token_type", "Bearer")
        if not isinstance(token_type, str) or token_type.lower() != "bearer":
            raise TargetError(f"{where} returned token_type {token_type!r}: only Bearer tokens are supported")
        lifetime = found.get("expires_in")
        if isinstance(lifetime, str) and lifetime.isdigit():
            lifetime = int(lifetime)  # some servers send it as a string
        if isinstance(lifetime, bool) or not isinstance(lifetime, (int, float)) or lifetime <= 0:
            lifetime = TOKEN_DEFAULT_LIFETIME
        return token, float(lifetime)
