"""The canary: known secret values never reach a file in the evidence folder, nor the terminal.

A token fetch and a dozen requests run against a local API that echoes credentials back in every way it can
(JSON, text, binary, headers, cookies, redirects, query strings, error bodies). Afterwards every byte under
the evidence folder and everything printed is scanned for each canary, raw and in every common encoding.
"""

from __future__ import annotations

import base64
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, quote_plus

import orjson
import pytest

from conformance.live import AuthConfig, AuthKind, AuthMode, LiveTarget, Secret, TargetConfig
from tests.live.oauth import Issuer
from tests.live.servers import AppServer, Reply, Request

CLIENT_ID = "canary-client"
CLIENT_SECRET = "CANARY-client-secret-7f3a/9+x="
PASSWORD = "CANARY-password-c0rrect-h0rse"
PII = "CANARY-1984-02-29-dob"  # a date of birth, configured for redaction by key


def spellings(value: str) -> set[bytes]:
    raw = value.encode()
    forms = {
        value,
        quote(value, safe=""),
        quote(value),
        quote_plus(value),
        base64.b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        json.dumps(value)[1:-1],
    }
    return {f.encode() for f in forms}


@pytest.fixture
def canary_api(app: Callable[..., AppServer]) -> tuple[AppServer, Issuer]:
    issuer = Issuer(CLIENT_ID, CLIENT_SECRET)

    def route(request: Request) -> Reply:
        if request.path == "/token":
            return issuer.token_endpoint(request)
        path = request.path.removeprefix("/api")
        echo = request.headers.get("Authorization", "")
        token = echo.removeprefix("Bearer ")
        if path.startswith("/person"):
            doc = {
                "id": "p-1",
                "name": "Jo Bloggs",
                "dateOfBirth": PII,
                "credentials": {"password": PASSWORD},
                "seenToken": token,  # a marker key
                "note": f"your token is {token}",  # a known value inside free text
            }
            return Reply(200, [("Content-Type", "application/json")], orjson.dumps(doc))
        if path.startswith("/echo-text"):
            return Reply(200, [("Content-Type", "text/plain")], f"{echo}\n{request.body.decode()}".encode())
        if path.startswith("/echo-binary"):
            return Reply(
                200, [("Content-Type", "application/octet-stream")], b"\xff\x00" + token.encode() + b"\x00"
            )
        if path.startswith("/echo-headers"):
            return Reply(
                204,
                [
                    ("X-Echo", token),
                    ("Set-Cookie", f"session={token}; Secure; HttpOnly"),
                    ("Location", f"/next?access_token={token}&dateOfBirth={quote(PII)}"),
                ],
                b"",
            )
        if path.startswith("/problem"):
            body = {
                "type": "about:blank",
                "title": "Bad",
                "detail": f"password {PASSWORD} rejected for {PII}",
            }
            return Reply(400, [("Content-Type", "application/problem+json")], orjson.dumps(body))
        if path.startswith("/escaped"):
            body = '{"message": "' + "".join(f"\\u{ord(c):04x}" for c in token) + '"}'
            return Reply(200, [("Content-Type", "application/json")], body.encode())
        return Reply(404, [], b"")

    return app(route), issuer


def test_no_secret_reaches_any_file_or_the_terminal(
    canary_api: tuple[AppServer, Issuer], tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    server, issuer = canary_api
    evidence = tmp_path / "evidence"
    config = TargetConfig(
        base_url=server.origin + "/api",
        auth=AuthConfig(
            kind=AuthKind.CLIENT_CREDENTIALS,
            token_url=server.origin + "/token",
            client_id=CLIENT_ID,
            client_secret=Secret(CLIENT_SECRET, source="env:CANARY"),
            scopes=("read", "write"),
        ),
        redact_keys=("dateOfBirth",),
        redact_pointers=("/detail",),
        rate_per_second=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning would be printed: fail instead
        live = LiveTarget.open(config, evidence)
        live.set_requirement("IOP-CANARY")
        exchanges = [
            live.request("GET", "/person/1"),
            live.request("GET", "/person/1", scopes=["read"]),  # a second token
            live.request("POST", "/echo-text", json={"password": PASSWORD, "dateOfBirth": PII}),
            live.request("POST", "/echo-text", data={"password": PASSWORD, "dateOfBirth": PII}),
            live.request("GET", "/echo-binary"),
            live.request("GET", "/echo-headers"),
            live.request("GET", "/problem"),
            live.request("GET", "/escaped"),
            live.request("GET", "/person/1", params={"access_token": "x", "q": CLIENT_SECRET}),
            live.request("GET", "/person/1", auth=AuthMode.INVALID),
        ]
        response = live.session.get(server.origin + "/api/person/1", headers=live.tokens.headers())
        assert response.json()["credentials"]["password"] == PASSWORD  # checks still see the real body
        print(repr(live), repr(live.config), repr(live.tokens), *map(repr, exchanges), sep="\n")
        live.close()

    tokens = list(issuer.issued)
    assert len(tokens) == 2
    assert all(e.ok for e in exchanges), [e.error for e in exchanges]
    assert exchanges[0].json()["dateOfBirth"] == PII  # redaction never touches what checks inspect

    canaries = {
        "client secret": spellings(CLIENT_SECRET),
        "basic credentials": {
            base64.b64encode(f"{quote_plus(CLIENT_ID)}:{quote_plus(CLIENT_SECRET)}".encode()),
            base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()),
        },
        "password": spellings(PASSWORD),
        "PII": spellings(PII),
        **{f"token {i}": spellings(token) for i, token in enumerate(tokens)},
    }
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert evidence / "exchanges.ndjson" in files
    captured = capfd.readouterr()
    sources = {str(p.relative_to(tmp_path)): p.read_bytes() for p in files}
    sources["stdout"] = captured.out.encode()
    sources["stderr"] = captured.err.encode()
    leaks = [
        f"{name} ({form!r}) in {where}"
        for where, data in sources.items()
        for name, forms in canaries.items()
        for form in forms
        if form in data
    ]
    assert leaks == []

    # The evidence is still useful: every exchange is there, labelled, with what is not secret.
    lines = [orjson.loads(line) for line in (evidence / "exchanges.ndjson").read_bytes().splitlines()]
    assert len(lines) == 13  # 2 token requests + 10 requests + 1 through the requests API
    assert {line["requirement"] for line in lines} == {"IOP-CANARY"}
    person = orjson.loads(lines[1]["response"]["body"]["content"])
    assert person["name"] == "Jo Bloggs"
    assert person["dateOfBirth"] == "[redacted]"
    cookie = next(v for n, v in lines[7]["response"]["headers"] if n == "Set-Cookie")
    assert cookie == "session=[redacted]; Secure; HttpOnly"
