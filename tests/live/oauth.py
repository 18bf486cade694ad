"""A small OAuth 2.0 client-credentials token endpoint and a protected API, for auth and canary tests."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote_plus

import orjson

from tests.live.servers import Reply, Request


@dataclass
class Issuer:
    """Issues tokens for one client (Basic or post authentication) and remembers their scopes."""

    client_id: str
    client_secret: str
    expires_in: int = 300
    issued: dict[str, frozenset[str]] = field(default_factory=dict)
    token_requests: list[Request] = field(default_factory=list)

    def token_endpoint(self, request: Request) -> Reply:
        self.token_requests.append(request)
        form = dict(parse_qsl(request.body.decode()))
        client = (form.get("client_id"), form.get("client_secret"))
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            client = (unquote_plus(user), unquote_plus(password))
        if client != (self.client_id, self.client_secret):
            return Reply(401, [("Content-Type", "application/json")], b'{"error":"invalid_client"}')
        if form.get("grant_type") != "client_credentials":
            return Reply(400, [("Content-Type", "application/json")], b'{"error":"unsupported_grant_type"}')
        token = secrets.token_urlsafe(24)
        scopes = frozenset(form.get("scope", "").split())
        self.issued[token] = scopes
        body = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": " ".join(sorted(scopes)),
        }
        return Reply(
            200, [("Content-Type", "application/json"), ("Cache-Control", "no-store")], orjson.dumps(body)
        )

    def scopes_of(self, request: Request) -> frozenset[str] | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        return self.issued.get(header[7:])
