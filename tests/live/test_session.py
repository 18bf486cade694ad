"""The guarded session as a plain requests.Session (Schemathesis), the Exchange helpers and the evidence format."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from conformance.attest.evidence import dir_hash
from conformance.live import Exchange, Headers, InsecureTlsWarning, LiveTarget
from tests.live.conftest import json_reply, ok_route, records
from tests.live.servers import AppServer, Reply


def test_plain_requests_api_returns_a_response_and_records_it(
    app: Callable[..., AppServer], target: Callable[..., LiveTarget], tmp_path: Path
) -> None:
    server = app(ok_route)
    live = target(server.origin)
    response = live.session.get(server.origin + "/persons", params={"limit": 2})
    assert isinstance(response, requests.Response)
    assert response.status_code == 200
    assert response.json() == {"path": "/persons?limit=2", "items": [1, 2, 3]}
    assert response.elapsed.total_seconds() >= 0
    exchange = live.session.exchange_for(response)
    assert exchange is not None
    assert exchange is live.session.last_exchange
    assert exchange.url == server.origin + "/persons?limit=2"
    assert [r["id"] for r in records(tmp_path / "evidence")] == [exchange.id]
    posted = live.session.post(server.origin + "/persons", json={"name": "x"})
    assert posted.status_code == 200
    assert server.requests[-1].body == b'{"name": "x"}'


def test_requests_api_does_not_follow_redirects_by_default(
    app: Callable[..., AppServer], target: Callable[..., LiveTarget]
) -> None:
    server = app(lambda r: Reply(302, [("Location", "/landing")]) if r.path == "/start" else json_reply({}))
    live = target(server.origin)
    assert live.session.get(server.origin + "/start").status_code == 302
    followed = live.session.get(server.origin + "/start", allow_redirects=True)
    assert followed.status_code == 200
    assert [r.status_code for r in followed.history] == [302]


def test_schemathesis_case_call_uses_the_guarded_session(
    app: Callable[..., AppServer], target: Callable[..., LiveTarget], tmp_path: Path
) -> None:
    """Schemathesis sends through ``case.call(session=...)``: the request is guarded and recorded."""
    schemathesis = pytest.importorskip("schemathesis")
    server = app(lambda r: json_reply({"id": r.path.rsplit("/", 1)[1]}))
    schema = schemathesis.openapi.from_dict(
        {
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/persons/{id}": {
                    "get": {
                        "parameters": [
                            {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                        ],
                        "responses": {"200": {"description": "ok"}},
                    }
                }
            },
        },
        config=schemathesis.Config.from_dict({}),
    )
    live = target(server.origin)
    case = schema["/persons/{id}"]["GET"].Case(path_parameters={"id": "p-1"})
    response = case.call(base_url=server.origin, session=live.session)
    assert response.status_code == 200
    exchange = live.session.last_exchange
    assert exchange is not None
    assert exchange.url == server.origin + "/persons/p-1"
    assert records(tmp_path / "evidence")[-1]["id"] == exchange.id
    # And an origin outside the configuration is refused, as a network error Schemathesis understands.
    with pytest.raises(requests.exceptions.RequestException, match="not an allowed origin"):
        case.call(base_url="http://127.0.0.1:9", session=live.session)


def test_exchange_helpers(app: Callable[..., AppServer], target: Callable[..., LiveTarget]) -> None:
    replies = {
        "/json": Reply(200, [("Content-Type", 'application/problem+json; charset="UTF-8"')], b'{"a": 1}'),
        "/latin1": Reply(
            200, [("Content-Type", "application/json; charset=iso-8859-1")], '{"a": "é"}'.encode("latin-1")
        ),
        "/bom": Reply(200, [("Content-Type", "application/json")], b'\xef\xbb\xbf{"a": 1}'),
        "/nan": Reply(200, [("Content-Type", "application/json")], b'{"a": NaN}'),
        "/cookies": Reply(200, [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")], b""),
    }
    server = app(lambda r: replies[r.path])
    live = target(server.origin)
    exchange = live.request("GET", "/json", auth="none")
    assert exchange.ok
    assert exchange.media_type == "application/problem+json"
    assert exchange.charset == "utf-8"
    assert exchange.json() == {"a": 1}
    assert exchange.header("CONTENT-TYPE") == 'application/problem+json; charset="UTF-8"'
    latin1 = live.request("GET", "/latin1", auth="none")
    assert latin1.text() == '{"a": "é"}'
    for path in ("/latin1", "/bom", "/nan"):
        with pytest.raises(ValueError):  # noqa: PT011 - strictness is the point, not the message
            live.request("GET", path, auth="none").json()
    cookies = live.request("GET", "/cookies", auth="none")
    assert cookies.headers.get_all("set-cookie") == ["a=1", "b=2"]
    assert cookies.headers["Set-Cookie"] == "a=1, b=2"
    assert "b=2" not in repr(cookies)


def test_exchange_repr_hides_bodies_and_headers() -> None:
    exchange = Exchange(
        id="ex-0001",
        method="GET",
        url="https://x/p",
        request_headers=Headers([("Authorization", "Bearer [redacted]")]),
        status=200,
        reason="OK",
        headers=Headers([("X-Token", "raw-secret-header")]),
        body=b"raw-secret-body",
        truncated=False,
        elapsed_ms=3,
        error=None,
    )
    assert repr(exchange) == "Exchange(ex-0001 GET https://x/p -> 200 OK, 15 bytes)"


def test_gzip_bomb_is_capped_after_decompression(
    app: Callable[..., AppServer], target: Callable[..., LiveTarget]
) -> None:
    bomb = gzip.compress(b"\0" * (50 << 20))
    server = app(lambda r: Reply(200, [("Content-Encoding", "gzip"), ("Content-Type", "text/plain")], bomb))
    exchange = target(server.origin, max_body_bytes=1 << 20).request("GET", "/", auth="none")
    assert exchange.error == "response body over 1 MiB"
    assert len(exchange.body) == 1 << 20


def test_unverified_tls_warns_once(
    app: Callable[..., AppServer], target: Callable[..., LiveTarget], tmp_path: Path
) -> None:
    import ssl
    import warnings

    from tests.tls import make_tls

    files = make_tls(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.server_cert, files.server_key)
    server = app(ok_route, tls=context)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        live = target(server.origin, verify_tls=False)
        for _ in range(3):
            assert live.request("GET", "/", auth="none").status == 200
    assert [type(w.message) for w in caught] == [InsecureTlsWarning]
    assert "VERIFICATION IS OFF" in str(caught[0].message)


def _floats(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(_floats(v) for v in value.values())
    if isinstance(value, list):
        return any(_floats(v) for v in value)
    return False


def test_evidence_records(
    app: Callable[..., AppServer], target: Callable[..., LiveTarget], tmp_path: Path
) -> None:
    server = app(ok_route)
    live = target(server.origin)
    live.set_requirement("IOP-C1-10")
    live.request("POST", "/p", auth="none", json={"x": 1.5})
    live.set_requirement(None)
    live.request("GET", "/q", auth="none")
    lines = records(tmp_path / "evidence")
    assert [line["id"] for line in lines] == ["ex-0001", "ex-0002"]
    assert [line["requirement"] for line in lines] == ["IOP-C1-10", None]
    assert list(lines[0]) == [
        "id",
        "kind",
        "requirement",
        "time",
        "method",
        "url",
        "request",
        "response",
        "elapsed_ms",
        "error",
    ]
    assert lines[0]["time"].endswith("Z")
    assert lines[0]["request"]["body"] == {"size": 10, "encoding": "utf-8", "content": '{"x": 1.5}'}
    assert not any(_floats(line) for line in lines)
    assert dir_hash(tmp_path / "evidence")  # names are digestable (no unsafe characters)


def test_recorder_continues_numbering(
    app: Callable[..., AppServer], target: Callable[..., LiveTarget], tmp_path: Path
) -> None:
    server = app(ok_route)
    first = target(server.origin)
    first.request("GET", "/", auth="none")
    first.close()
    second = target(server.origin)
    assert second.request("GET", "/", auth="none").id == "ex-0002"


def test_threads_share_the_session(
    app: Callable[..., AppServer], target: Callable[..., LiveTarget], tmp_path: Path
) -> None:
    server = app(ok_route)
    live = target(server.origin)
    seen: list[str] = []

    def work() -> None:
        for _ in range(10):
            exchange = live.request("GET", "/", auth="none")
            assert live.session.last_exchange is exchange
            seen.append(exchange.id)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == sorted({r["id"] for r in records(tmp_path / "evidence")})
    assert len(set(seen)) == 40


def test_invalid_request_is_recorded_not_raised(
    app: Callable[..., AppServer], target: Callable[..., LiveTarget]
) -> None:
    server = app(ok_route)
    exchange = target(server.origin).request("GET", "/", auth="none", headers={"X-Bad": "a\r\nInjected: 1"})
    assert exchange.error is not None
    assert server.requests == []


def test_url_building(target: Callable[..., LiveTarget]) -> None:
    live = target("https://api.example.com/v1/")
    assert live.url("/persons") == "https://api.example.com/v1/persons"
    assert live.url("persons?x=1") == "https://api.example.com/v1/persons?x=1"
    assert live.url("https://api.example.com/other") == "https://api.example.com/other"
    assert live.plain_http_url("/persons") == "http://api.example.com/v1/persons"
    assert str(live.origin) == "https://api.example.com"
