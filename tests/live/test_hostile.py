"""Hostile targets: each misbehaviour ends in bounded time with a named error, evidence, and no exception."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conformance.live import DEFAULT_EVIDENCE_BODY_LIMIT, DEFAULT_MAX_BODY_BYTES, Exchange, LiveTarget
from tests.live.conftest import FAST, json_reply, ok_route, records
from tests.live.servers import (
    AppServer,
    RawServer,
    Reply,
    Request,
    endless_body,
    garbage,
    never_answer,
    reset,
    trickle,
    unused_port,
)
from tests.tls import make_tls

# Generous: three times the configured wall-clock limit per request (plus one retry where allowed).
BOUND = 3 * FAST["total_timeout"] + 1.0


def timed(call: Callable[[], Exchange]) -> tuple[Exchange, float]:
    start = time.monotonic()
    exchange = call()
    return exchange, time.monotonic() - start


def assert_recorded(folder: Path, exchange: Exchange) -> dict[str, object]:
    found = [r for r in records(folder) if r["id"] == exchange.id]
    assert found, f"{exchange.id} was not recorded"
    assert found[0]["error"] == exchange.error
    return found[0]


def test_unreachable_port(target: Callable[..., LiveTarget], tmp_path: Path) -> None:
    """A closed port fails fast with "connection refused" (retried once: nothing was sent)."""
    live = target(f"http://127.0.0.1:{unused_port()}")
    exchange, elapsed = timed(lambda: live.request("GET", "/x", auth="none"))
    assert exchange.error == "connection refused"
    assert exchange.status is None
    assert elapsed < BOUND
    record = assert_recorded(tmp_path / "evidence", exchange)
    assert record["retry_of"] == "ex-0001"  # the first attempt, recorded too


def test_never_answers(
    raw: Callable[..., RawServer], target: Callable[..., LiveTarget], tmp_path: Path
) -> None:
    """A server that accepts and stays silent is cut off by the read timeout."""
    server = raw(never_answer)
    live = target(server.origin)
    exchange, elapsed = timed(lambda: live.request("GET", "/x", auth="none"))
    assert exchange.error == "no response within 0.5 s (read timeout)"
    assert elapsed < BOUND
    assert_recorded(tmp_path / "evidence", exchange)


def test_never_answers_within_total_deadline(
    raw: Callable[..., RawServer], target: Callable[..., LiveTarget]
) -> None:
    """With a read timeout longer than the total limit, the watchdog ends the request at the deadline."""
    server = raw(never_answer)
    live = target(server.origin, read_timeout=30.0, total_timeout=0.8)
    exchange, elapsed = timed(lambda: live.request("GET", "/x", auth="none"))
    assert exchange.error == "no response within 0.8 s (total time limit)"
    assert 0.7 < elapsed < 3 * 0.8


def test_one_byte_at_a_time(
    raw: Callable[..., RawServer], target: Callable[..., LiveTarget], tmp_path: Path
) -> None:
    """A server trickling bytes never trips the read timeout, but the wall-clock deadline cuts it off."""
    server = raw(lambda s: trickle(s, interval=0.1))
    live = target(server.origin)
    exchange, elapsed = timed(lambda: live.request("GET", "/x", auth="none"))
    assert exchange.error == "no response within 1 s (total time limit)"
    assert elapsed < BOUND
    assert_recorded(tmp_path / "evidence", exchange)


def test_trickle_through_requests_api(
    raw: Callable[..., RawServer], target: Callable[..., LiveTarget]
) -> None:
    """Through the plain requests API the deadline raises a requests Timeout (what Schemathesis expects)."""
    import requests

    server = raw(lambda s: trickle(s, interval=0.1))
    live = target(server.origin)
    start = time.monotonic()
    with pytest.raises(requests.exceptions.Timeout, match="total time limit"):
        live.session.get(server.origin + "/x")
    assert time.monotonic() - start < BOUND
    assert live.session.last_exchange is not None
    assert live.session.last_exchange.error == "no response within 1 s (total time limit)"


def test_one_gigabyte_body(
    raw: Callable[..., RawServer], target: Callable[..., LiveTarget], tmp_path: Path
) -> None:
    """A 1 GiB body is read up to max_body_bytes (default 10 MiB), then the connection is closed; the
    evidence keeps 64 KiB of it."""
    server = raw(endless_body)
    live = target(server.origin, max_body_bytes=DEFAULT_MAX_BODY_BYTES, total_timeout=10.0)
    exchange, elapsed = timed(lambda: live.request("GET", "/x", auth="none"))
    assert exchange.error == "response body over 10 MiB"
    assert exchange.truncated
    assert exchange.status == 200
    assert len(exchange.body) == DEFAULT_MAX_BODY_BYTES
    assert elapsed < 5.0
    record = assert_recorded(tmp_path / "evidence", exchange)
    body = record["response"]["body"]  # type: ignore[index]
    assert body["incomplete"] is True
    assert body["truncated"] is True
    assert body["size"] == DEFAULT_MAX_BODY_BYTES
    assert len(body["content"]) == DEFAULT_EVIDENCE_BODY_LIMIT  # NUL bytes are valid UTF-8: kept as text
    assert len(body["sha256"]) == 64


def test_one_gigabyte_body_with_the_total_deadline(
    raw: Callable[..., RawServer], target: Callable[..., LiveTarget]
) -> None:
    """With a large size limit, the total deadline still bounds a body that keeps streaming."""
    server = raw(lambda s: endless_body(s, pace=0.005))
    live = target(server.origin, max_body_bytes=2 << 30)
    exchange, elapsed = timed(lambda: live.request("GET", "/x", auth="none"))
    assert exchange.error == "response not complete within 1 s (total time limit)"
    assert exchange.status == 200
    assert elapsed < BOUND


def test_not_http(raw: Callable[..., RawServer], target: Callable[..., LiveTarget], tmp_path: Path) -> None:
    server = raw(garbage)
    live = target(server.origin)
    exchange, elapsed = timed(lambda: live.request("GET", "/x", auth="none"))
    assert exchange.error == "not HTTP: the reply is not an HTTP response"
    assert elapsed < BOUND
    assert_recorded(tmp_path / "evidence", exchange)


def test_connection_reset(
    raw: Callable[..., RawServer], target: Callable[..., LiveTarget], tmp_path: Path
) -> None:
    """A reset before any response: a GET is retried once, then reported."""
    server = raw(reset)
    live = target(server.origin)
    exchange, elapsed = timed(lambda: live.request("GET", "/x", auth="none"))
    assert exchange.error in ("connection reset", "connection closed without a response")
    assert elapsed < BOUND
    assert server.connections == 2
    assert_recorded(tmp_path / "evidence", exchange)


def test_post_is_never_retried(
    raw: Callable[..., RawServer], target: Callable[..., LiveTarget], tmp_path: Path
) -> None:
    server = raw(reset)
    live = target(server.origin)
    exchange = live.request("POST", "/x", auth="none", json={"a": 1})
    assert exchange.error in ("connection reset", "connection closed without a response")
    assert server.connections == 1
    assert len(records(tmp_path / "evidence")) == 1


def _redirect_to(location: str) -> Callable[[Request], Reply]:
    return lambda request: Reply(302, [("Location", location)], b"")


def test_redirect_to_another_origin_is_not_followed(
    app: Callable[..., AppServer], target: Callable[..., LiveTarget], tmp_path: Path
) -> None:
    """By default the redirect is reported, not followed: the other server receives nothing at all."""
    other = app(ok_route)
    first = app(_redirect_to(other.origin + "/landing"))
    live = target(first.origin, auth=_bearer_auth())
    exchange = live.request("GET", "/start")
    assert exchange.status == 302
    assert (
        exchange.error == f"redirect to another origin not followed ({other.origin} is not an allowed origin)"
    )
    assert first.requests[0].headers["Authorization"].startswith("Bearer ")
    assert other.requests == []
    assert_recorded(tmp_path / "evidence", exchange)


def test_redirect_is_refused_even_when_following_is_asked(
    app: Callable[..., AppServer], target: Callable[..., LiveTarget]
) -> None:
    other = app(ok_route)
    first = app(_redirect_to(other.origin + "/landing"))
    live = target(first.origin, auth=_bearer_auth())
    exchange = live.request("GET", "/start", allow_redirects=True)
    assert exchange.status == 302
    assert "not followed" in (exchange.error or "")
    assert other.requests == []


def test_redirect_to_an_allowed_origin_drops_credentials(
    app: Callable[..., AppServer], target: Callable[..., LiveTarget], tmp_path: Path
) -> None:
    """Following to another (allowed) origin: Authorization and Cookie never travel there."""
    other = app(ok_route)
    first = app(_redirect_to(other.origin + "/landing"))
    live = target(first.origin, auth=_bearer_auth(), extra_origins=(other.origin,))
    exchange = live.request("GET", "/start", allow_redirects=True, headers={"Cookie": "sid=abcdef123"})
    assert exchange.status == 200
    assert exchange.ok
    assert "Authorization" in first.requests[0].headers
    assert len(other.requests) == 1
    assert "Authorization" not in other.requests[0].headers
    assert "Cookie" not in other.requests[0].headers
    hops = records(tmp_path / "evidence")
    assert hops[-1]["redirect_of"] == hops[-2]["id"]


def test_same_origin_redirect_keeps_credentials_and_stops_after_max_hops(
    app: Callable[..., AppServer], target: Callable[..., LiveTarget]
) -> None:
    server = app(_redirect_to("/again"))
    live = target(server.origin, auth=_bearer_auth(), max_redirects=2)
    exchange = live.request("GET", "/start", allow_redirects=True)
    assert exchange.error == "too many redirects (more than 2)"
    assert len(server.requests) == 3
    assert all("Authorization" in r.headers for r in server.requests)


def test_wrong_host_certificate(
    app: Callable[..., AppServer], target: Callable[..., LiveTarget], tmp_path: Path
) -> None:
    """A certificate for another name fails verification; the TLS probe describes why."""
    import ssl

    files = make_tls(tmp_path, hostnames=("wrong.example",), ips=("127.0.0.2",))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.server_cert, files.server_key)
    server = app(ok_route, tls=context)
    live = target(server.origin, ca_bundle=files.ca_cert)
    exchange, elapsed = timed(lambda: live.request("GET", "/x", auth="none"))
    assert exchange.error == "TLS: certificate verify failed: IP address mismatch"
    assert elapsed < BOUND
    assert_recorded(tmp_path / "evidence", exchange)
    info = live.tls_certificate()
    assert info.chain_trusted  # signed by the configured CA ...
    assert not info.hostname_matches  # ... but for other names
    assert info.sans == ("wrong.example", "127.0.0.2")


def test_unknown_certificate_authority(
    app: Callable[..., AppServer], target: Callable[..., LiveTarget], tmp_path: Path
) -> None:
    import ssl

    files = make_tls(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.server_cert, files.server_key)
    server = app(ok_route, tls=context)
    live = target(server.origin)  # no CA bundle: the system store does not know the test CA
    exchange = live.request("GET", "/x", auth="none")
    assert exchange.error is not None
    assert exchange.error.startswith("TLS: certificate verify failed: ")
    trusted = target(server.origin, ca_bundle=files.ca_cert).request("GET", "/x", auth="none")
    assert trusted.ok
    assert trusted.status == 200


def test_circuit_breaker(target: Callable[..., LiveTarget], tmp_path: Path) -> None:
    """After max_consecutive_failures network failures, requests fail at once without being sent."""
    live = target(f"http://127.0.0.1:{unused_port()}", max_consecutive_failures=3)
    for _ in range(2):
        assert live.request("GET", "/x", auth="none").error == "connection refused"
    assert live.unreachable is not None  # 2 requests x (1 attempt + 1 retry) = 4 failures
    exchange, elapsed = timed(lambda: live.request("GET", "/x", auth="none"))
    assert exchange.error == "target unreachable: connection refused"
    assert elapsed < 0.1
    assert_recorded(tmp_path / "evidence", exchange)


def test_success_resets_the_breaker(app: Callable[..., AppServer], target: Callable[..., LiveTarget]) -> None:
    server = app(ok_route)
    live = target(
        server.origin, max_consecutive_failures=2, extra_origins=(f"http://127.0.0.1:{unused_port()}",)
    )
    dead = live.config.extra_origins[0]
    live.request("POST", dead + "/x", auth="none")
    assert live.request("GET", "/ok", auth="none").ok
    live.request("POST", dead + "/x", auth="none")
    assert live.unreachable is None


def test_origin_guard(
    app: Callable[..., AppServer], target: Callable[..., LiveTarget], tmp_path: Path
) -> None:
    """An unlisted origin (even another port on the same host) is refused and recorded, never contacted."""
    listed = app(ok_route)
    unlisted = app(ok_route)
    live = target(listed.origin)
    for url in (
        unlisted.origin + "/x",
        "https://" + listed.origin.split("://")[1] + "/x",
        "ftp://example.com/x",
    ):
        exchange = live.request("GET", url, auth="none")
        assert exchange.error is not None
        assert exchange.error.startswith("refused: ")
    assert unlisted.requests == []
    assert len(records(tmp_path / "evidence")) == 3


def test_origin_guard_through_requests_api(
    app: Callable[..., AppServer], target: Callable[..., LiveTarget]
) -> None:
    from conformance.errors import TargetError
    from conformance.live import OriginRefused

    unlisted = app(ok_route)
    live = target("http://127.0.0.1:1")
    with pytest.raises(OriginRefused, match="not an allowed origin") as caught:
        live.session.get(unlisted.origin + "/x")
    assert isinstance(caught.value, TargetError)
    assert unlisted.requests == []


def test_rate_limit_spaces_requests(app: Callable[..., AppServer], target: Callable[..., LiveTarget]) -> None:
    server = app(ok_route)
    live = target(server.origin, rate_per_second=20.0)
    start = time.monotonic()
    for _ in range(6):
        assert live.request("GET", "/x", auth="none").ok
    assert time.monotonic() - start >= 5 / 20.0 - 0.01


def test_rate_limit_is_shared_by_the_requests_api(
    app: Callable[..., AppServer], target: Callable[..., LiveTarget]
) -> None:
    server = app(ok_route)
    live = target(server.origin, rate_per_second=20.0)
    start = time.monotonic()
    for i in range(6):
        if i % 2:
            live.session.get(server.origin + "/x")
        else:
            live.request("GET", "/x", auth="none")
    assert time.monotonic() - start >= 5 / 20.0 - 0.01


def test_ipv6_loopback(app: Callable[..., AppServer], target: Callable[..., LiveTarget]) -> None:
    server = app(lambda r: json_reply({"v6": True}), host="::1")
    exchange = target(server.origin).request("GET", "/x", auth="none")
    assert exchange.json() == {"v6": True}


def test_watchdog_thread_ends(app: Callable[..., AppServer], target: Callable[..., LiveTarget]) -> None:
    """The deadline thread stops when the session closes (and by itself when idle)."""
    import threading

    server = app(ok_route)
    live = target(server.origin)
    live.request("GET", "/x", auth="none")
    assert any(t.name == "conformance-watchdog" for t in threading.enumerate())
    live.close()
    assert not any(t.name == "conformance-watchdog" for t in threading.enumerate())


def _bearer_auth() -> object:
    from conformance.live import AuthConfig, AuthKind, Secret

    return AuthConfig(kind=AuthKind.BEARER, bearer=Secret("static-bearer-token-123", source="test"))


def test_same_host_https_upgrade_keeps_no_credentials(target: Callable[..., LiveTarget]) -> None:
    """An http->https redirect on the same host is still another origin: credentials are dropped."""
    import requests

    live = target("http://127.0.0.1:8080", extra_origins=("https://127.0.0.1:8443",))
    prepared = requests.Request(
        "GET",
        "http://127.0.0.1:8080/x",
        headers={"Authorization": "Bearer t", "Cookie": "a=1", "X-Keep": "1"},
    ).prepare()
    response = requests.Response()
    response.status_code = 301
    response.headers["Location"] = "https://127.0.0.1:8443/x"
    error, following = live.session._redirect(prepared, response, follow=True, hop=0)
    assert error is None
    assert following is not None
    assert following.url == "https://127.0.0.1:8443/x"
    assert "Authorization" not in following.headers
    assert "Cookie" not in following.headers
    assert following.headers["X-Keep"] == "1"
    same = requests.Response()
    same.status_code = 307
    same.headers["Location"] = "/y"
    _, kept = live.session._redirect(prepared, same, follow=True, hop=0)
    assert kept is not None
    assert kept.headers["Authorization"] == "Bearer t"
