"""Tokens: client credentials (Basic and post, scopes, caching, another origin), static bearer, failures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from conformance.errors import TargetError
from conformance.live import (
    AuthConfig,
    AuthKind,
    AuthMode,
    EvidenceRecorder,
    LiveTarget,
    Redactor,
    Secret,
    TargetConfig,
    TokenAuthMethod,
    TokenProvider,
)
from conformance.registry import NotTested
from tests.live.conftest import json_reply, records
from tests.live.oauth import Issuer
from tests.live.servers import AppServer, Reply, Request

SECRET = "the-client-secret-value"


def client_credentials(token_url: str, **kwargs: object) -> AuthConfig:
    return AuthConfig(
        kind=AuthKind.CLIENT_CREDENTIALS,
        token_url=token_url,
        client_id="harness",
        client_secret=Secret(SECRET, source="test"),
        scopes=("read", "write"),
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
def issuer() -> Issuer:
    return Issuer("harness", SECRET)


@pytest.fixture
def idp(app: Callable[..., AppServer], issuer: Issuer) -> AppServer:
    """The token endpoint, on its own origin."""
    return app(issuer.token_endpoint)


@pytest.fixture
def api(app: Callable[..., AppServer], issuer: Issuer) -> AppServer:
    def route(request: Request) -> Reply:
        scopes = issuer.scopes_of(request)
        if scopes is None:
            return Reply(401, [("WWW-Authenticate", 'Bearer error="invalid_token"')], b"")
        return json_reply({"scopes": sorted(scopes)})

    return app(route)


@pytest.mark.parametrize("method", list(TokenAuthMethod))
def test_client_credentials_on_another_origin(
    idp: AppServer, api: AppServer, issuer: Issuer, target: Callable[..., LiveTarget], method: TokenAuthMethod
) -> None:
    live = target(api.origin, auth=client_credentials(idp.origin + "/token", token_auth_method=method))
    exchange = live.request("GET", "/me")
    assert exchange.status == 200
    assert exchange.json() == {"scopes": ["read", "write"]}
    token_request = issuer.token_requests[0]
    if method is TokenAuthMethod.CLIENT_SECRET_BASIC:
        assert token_request.headers["Authorization"].startswith("Basic ")
        assert b"client_secret" not in token_request.body
    else:
        assert "Authorization" not in token_request.headers
        assert b"client_secret=" in token_request.body


def test_tokens_are_cached_per_scope_set(
    idp: AppServer, api: AppServer, issuer: Issuer, target: Callable[..., LiveTarget]
) -> None:
    live = target(api.origin, auth=client_credentials(idp.origin + "/token"))
    assert live.request("GET", "/me").json() == {"scopes": ["read", "write"]}
    assert live.request("GET", "/me").json() == {"scopes": ["read", "write"]}
    assert live.request("GET", "/me", scopes=["read"]).json() == {"scopes": ["read"]}
    assert live.request("GET", "/me", scopes=["read"]).json() == {"scopes": ["read"]}
    assert live.request("GET", "/me", scopes=[]).json() == {"scopes": []}
    assert len(issuer.token_requests) == 3


def test_tokens_are_renewed_before_they_expire(idp: AppServer, issuer: Issuer, tmp_path: Path) -> None:
    now = [1000.0]
    config = TargetConfig(
        base_url=idp.origin, auth=client_credentials(idp.origin + "/token"), rate_per_second=0
    )
    live = LiveTarget.open(config, tmp_path)
    tokens = TokenProvider(config.auth, live.session, live.recorder.redactor, clock=lambda: now[0])
    first = tokens.token()
    now[0] += 300 - 31  # still more than the 30 s margin left
    assert tokens.token() == first
    now[0] += 2  # inside the margin: renewed
    assert tokens.token() != first
    live.close()


def test_token_failure_is_one_line_without_the_secret(
    app: Callable[..., AppServer], target: Callable[..., LiveTarget], tmp_path: Path
) -> None:
    wrong = Issuer("harness", "another-secret")
    idp = app(wrong.token_endpoint)
    live = target(idp.origin, auth=client_credentials(idp.origin + "/token"))
    with pytest.raises(TargetError) as caught:
        live.tokens.token()
    message = str(caught.value)
    assert (
        message == f"token request to {idp.origin}/token failed: HTTP 401 invalid_client (evidence ex-0001)"
    )
    assert SECRET not in message
    # Through LiveTarget.request the failure becomes an exchange error, recorded, never an exception.
    exchange = live.request("GET", "/anything")
    assert exchange.error == f"not sent: {message}".replace("ex-0001", "ex-0002")
    assert records(tmp_path / "evidence")[-1]["error"] == exchange.error


def test_token_endpoint_unreachable(target: Callable[..., LiveTarget]) -> None:
    from tests.live.servers import unused_port

    token_url = f"http://127.0.0.1:{unused_port()}/token"
    live = target(token_url.rsplit("/", 1)[0], auth=client_credentials(token_url))
    with pytest.raises(TargetError, match=r"token request to .* failed: connection refused"):
        live.tokens.token()


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (json_reply({"token_type": "Bearer"}), "returned no access_token"),
        (json_reply({"access_token": "abcdefgh", "token_type": "mac"}), "returned token_type 'mac'"),
        (Reply(500, [], b"<html>oops</html>"), "failed: HTTP 500"),
    ],
)
def test_bad_token_responses(
    app: Callable[..., AppServer], target: Callable[..., LiveTarget], reply: Reply, message: str
) -> None:
    idp = app(lambda request: reply)
    live = target(idp.origin, auth=client_credentials(idp.origin + "/token"))
    with pytest.raises(TargetError, match=message):
        live.tokens.token()


def test_auth_modes(
    idp: AppServer, api: AppServer, issuer: Issuer, target: Callable[..., LiveTarget]
) -> None:
    live = target(api.origin, auth=client_credentials(idp.origin + "/token"))
    assert live.request("GET", "/me", auth=AuthMode.NONE).status == 401
    assert "Authorization" not in api.requests[-1].headers
    invalid = live.request("GET", "/me", auth="invalid")
    assert invalid.status == 401
    assert api.requests[-1].headers["Authorization"].startswith("Bearer ")
    assert invalid.request_headers["Authorization"] == "Bearer [redacted]"
    with pytest.raises(NotTested, match="needs a second tenant"):
        live.request("GET", "/me", auth=AuthMode.OTHER_TENANT)
    assert issuer.token_requests == []  # none of the above needed a real token


def test_other_tenant(
    app: Callable[..., AppServer], idp: AppServer, api: AppServer, target: Callable[..., LiveTarget]
) -> None:
    other_issuer = Issuer("tenant-b", "tenant-b-secret")
    other_idp = app(other_issuer.token_endpoint)
    other = AuthConfig(
        kind=AuthKind.CLIENT_CREDENTIALS,
        token_url=other_idp.origin + "/token",
        client_id="tenant-b",
        client_secret=Secret("tenant-b-secret", source="test"),
    )
    live = target(api.origin, auth=client_credentials(idp.origin + "/token"), other_tenant=other)
    exchange = live.request("GET", "/me", auth=AuthMode.OTHER_TENANT)
    assert exchange.status == 401  # the API only knows the first issuer's tokens
    assert len(other_issuer.token_requests) == 1


def test_static_bearer(app: Callable[..., AppServer], target: Callable[..., LiveTarget]) -> None:
    api = app(lambda request: json_reply({"auth": request.headers.get("Authorization")}))
    auth = AuthConfig(kind=AuthKind.BEARER, bearer=Secret("static-token-value", source="test"))
    live = target(api.origin, auth=auth)
    assert live.request("GET", "/").json() == {"auth": "Bearer static-token-value"}
    with pytest.raises(NotTested, match="needs OAuth2 client credentials"):
        live.tokens.token(["read"])
    assert live.tokens.headers() == {"Authorization": "Bearer static-token-value"}


def test_no_auth(app: Callable[..., AppServer], target: Callable[..., LiveTarget]) -> None:
    api = app(lambda request: json_reply({"auth": request.headers.get("Authorization")}))
    live = target(api.origin)
    assert live.request("GET", "/").json() == {"auth": None}
    assert live.tokens.headers() == {}
    with pytest.raises(NotTested, match="needs credentials"):
        live.tokens.token()


def test_mtls_client_certificate(
    app: Callable[..., AppServer], target: Callable[..., LiveTarget], tmp_path: Path
) -> None:
    """A client certificate is presented when configured; a server requiring one refuses clients without."""
    import ssl

    from tests.live.client_cert import make_client_cert
    from tests.tls import make_tls

    server_files = make_tls(tmp_path)
    client_ca, client_cert, client_key = make_client_cert(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(server_files.server_cert, server_files.server_key)
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(client_ca)
    api = app(lambda request: json_reply({"ok": True}), tls=context)
    auth = AuthConfig(client_cert=client_cert, client_key=client_key)
    with_cert = target(api.origin, ca_bundle=server_files.ca_cert, auth=auth)
    exchange = with_cert.request("GET", "/")
    assert exchange.ok, exchange.error
    assert exchange.json() == {"ok": True}
    without = target(api.origin, ca_bundle=server_files.ca_cert)
    assert without.request("GET", "/").error is not None


def test_require_writes(target: Callable[..., LiveTarget]) -> None:
    assert target("https://api.example.com", allow_writes=True).writes_allowed
    live = target("https://api.example.com")
    with pytest.raises(NotTested, match=r"^needs --allow-writes: creates a person$"):
        live.require_writes("creates a person")


def test_open_does_not_contact_the_target(tmp_path: Path) -> None:
    """Opening a target (even an unreachable one) sends nothing and writes no evidence."""
    config = TargetConfig(
        base_url="https://unreachable.invalid", auth=client_credentials("https://idp.invalid/token")
    )
    live = LiveTarget.open(config, tmp_path / "evidence")
    live.close()
    assert not (tmp_path / "evidence").exists()


def test_token_provider_repr_hides_tokens(idp: AppServer, tmp_path: Path) -> None:
    config = TargetConfig(
        base_url=idp.origin, auth=client_credentials(idp.origin + "/token"), rate_per_second=0
    )
    live = LiveTarget.open(config, tmp_path)
    token = live.tokens.token()
    assert token not in repr(live.tokens)
    assert SECRET not in repr(live) + repr(live.config) + repr(live.tokens)
    live.close()


def test_redactor_and_recorder_types(tmp_path: Path) -> None:
    recorder = EvidenceRecorder(tmp_path, Redactor())
    assert recorder.path == tmp_path / "exchanges.ndjson"
