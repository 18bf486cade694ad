"""OAuth 2.0 client credentials for the reference supplier: clients, scopes, tokens and the token endpoint.

* Two police forces (tenants), each with one client holding every scope the document defines. Client
  secrets are random per start and never logged; ``Client``'s repr masks them.
* ``/oauth2/token`` implements the client credentials grant (RFC 6749 §4.4) with ``client_secret_basic``
  and ``client_secret_post`` (§2.3.1); errors follow §5.2. ``scope`` is optional: requested scopes must be
  a subset of the client's, and the default is all of them.
* Access tokens are opaque random strings kept in memory with their expiry (15 minutes, as the
  document says), bound to one client and so to one force.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "REALM",
    "TOKEN_LIFETIME",
    "Client",
    "Force",
    "Grant",
    "TokenReply",
    "TokenStore",
    "make_clients",
    "token_reply",
]

REALM = "reference-supplier"
TOKEN_LIFETIME = 900  # seconds; the document: "Tokens live for 15 minutes"


@dataclass(frozen=True, slots=True)
class Force:
    """A tenant: a (synthetic) police force, by an ONS Police Force Area code no real force uses."""

    key: str
    code: str
    name: str


FORCES: tuple[Force, ...] = (
    Force("force-a", "E23900001", "Force A (synthetic)"),
    Force("force-b", "W15900002", "Force B (synthetic)"),
)


@dataclass(frozen=True, slots=True)
class Client:
    """An OAuth client of one force. The secret is masked in ``repr`` so it cannot leak into logs."""

    client_id: str
    client_secret: str = field(repr=False)
    tenant: str
    scopes: tuple[str, ...]

    def __repr__(self) -> str:
        return f"Client(client_id={self.client_id!r}, client_secret='***', tenant={self.tenant!r}, scopes={self.scopes!r})"


def make_clients(scopes: Sequence[str]) -> dict[str, Client]:
    """One full-scope client per force, keyed by the force's key (``force-a``, ``force-b``)."""
    return {
        force.key: Client(
            client_id=f"reference-{force.key}",
            client_secret=secrets.token_urlsafe(32),
            tenant=force.code,
            scopes=tuple(scopes),
        )
        for force in FORCES
    }


@dataclass(frozen=True, slots=True)
class Grant:
    """What an access token stands for: a client (and so a force), its granted scopes and its expiry."""

    client: Client
    scopes: frozenset[str]
    expires_at: float


class TokenStore:
    """Opaque bearer tokens in memory (thread-safe: tests mint tokens from outside the server's loop)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._tokens: dict[str, Grant] = {}
        self._clock = clock
        self._lock = threading.Lock()

    def issued(self) -> list[str]:
        """Every token issued so far (tests use it to prove none leaks into a report)."""
        with self._lock:
            return list(self._tokens)

    def issue(self, client: Client, scopes: Iterable[str], lifetime: int = TOKEN_LIFETIME) -> str:
        """A new token for ``client``; a lifetime of 0 or less gives one that has already expired."""
        token = secrets.token_urlsafe(32)
        now = self._clock()
        with self._lock:
            # Forget tokens that expired over an hour ago, so a long run does not grow without bound.
            stale = [t for t, g in self._tokens.items() if g.expires_at < now - 3600]
            for old in stale:
                del self._tokens[old]
            self._tokens[token] = Grant(client, frozenset(scopes), now + lifetime)
        return token

    def resolve(self, token: str) -> tuple[Grant | None, str]:
        """(grant, "") for a live token, else (None, why) with why "expired" or "unknown"."""
        with self._lock:
            grant = self._tokens.get(token)
        if grant is None:
            return None, "unknown"
        if grant.expires_at <= self._clock():
            return None, "expired"
        return grant, ""


@dataclass(frozen=True, slots=True)
class TokenReply:
    """The token endpoint's answer: status, JSON body and extra headers."""

    status: int
    body: Mapping[str, Any]
    headers: Mapping[str, str]


_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _error(status: int, error: str, description: str, *, basic_challenge: bool = False) -> TokenReply:
    headers = dict(_NO_STORE)
    if basic_challenge:
        headers["WWW-Authenticate"] = f'Basic realm="{REALM}", charset="UTF-8"'
    return TokenReply(status, {"error": error, "error_description": description}, headers)


def _basic_credentials(authorization: str) -> tuple[str, str] | None:
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    if not sep:
        return None
    # RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
    return urllib.parse.unquote_plus(user), urllib.parse.unquote_plus(password)


def token_reply(
    form: Mapping[str, Sequence[str]],
    authorization: str | None,
    clients: Iterable[Client],
    store: TokenStore,
    *,
    downgrade: bool = False,
) -> TokenReply:
    """Answer one token request (the form already parsed; repeated parameters are refused, §3.2)."""
    repeated = sorted(name for name, values in form.items() if len(values) > 1)
    if repeated:
        return _error(400, "invalid_request", f"Parameter {repeated[0]!r} is repeated.")
    params = {name: values[0] for name, values in form.items()}
    basic = _basic_credentials(authorization) if authorization else None
    if authorization and basic is None and authorization.split(" ", 1)[0].lower() == "basic":
        return _error(401, "invalid_client", "The Basic credentials cannot be decoded.", basic_challenge=True)
    if basic is not None and (
        "client_secret" in params or ("client_id" in params and params["client_id"] != basic[0])
    ):
        return _error(400, "invalid_request", "Use one client authentication method, not two.")
    client_id, secret = basic if basic is not None else (params.get("client_id"), params.get("client_secret"))
    grant_type = params.get("grant_type")
    if not grant_type:
        return _error(400, "invalid_request", "The grant_type parameter is missing.")
    if grant_type != "client_credentials":
        return _error(400, "unsupported_grant_type", "Only the client_credentials grant is supported.")
    client = next((c for c in clients if c.client_id == client_id), None)
    # Compare secrets in constant time, even for an unknown client, so timing reveals nothing.
    expected = client.client_secret if client is not None else secrets.token_urlsafe(32)
    if client is None or not secret or not hmac.compare_digest(expected.encode(), secret.encode()):
        return _error(401, "invalid_client", "Client authentication failed.", basic_challenge=True)
    requested = params.get("scope", "").split()
    unknown = [s for s in requested if s not in client.scopes]
    if unknown:
        return _error(400, "invalid_scope", f"The client may not have the scope {unknown[0]!r}.")
    granted = list(dict.fromkeys(requested)) or list(client.scopes)
    if downgrade:
        # The fault: write scopes silently become their read counterparts (or vanish).
        granted = list(
            dict.fromkeys(
                s.replace(":write", ":read") for s in granted if s.replace(":write", ":read") in client.scopes
            )
        )
    token = store.issue(client, granted)
    body = {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME,
        "scope": " ".join(granted),
    }
    return TokenReply(200, body, dict(_NO_STORE))
