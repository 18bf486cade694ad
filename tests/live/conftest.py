"""Fixtures for the live client layer: loopback servers and targets with small limits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from conformance.live import LiveTarget, TargetConfig
from tests.live.servers import AppServer, RawServer, Reply, Request, Route

# Small limits so that every hostile case ends within a few seconds.
FAST = {"connect_timeout": 0.5, "read_timeout": 0.5, "total_timeout": 1.0, "rate_per_second": 0.0}


@pytest.fixture
def app() -> Iterator[Callable[..., AppServer]]:
    """``app(route, host=..., tls=...)`` starts a routed HTTP server, stopped after the test."""
    started: list[AppServer] = []

    def start(route: Route, **kwargs: Any) -> AppServer:
        server = AppServer(route, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture
def raw() -> Iterator[Callable[..., RawServer]]:
    """``raw(lambda server: behaviour)`` starts a misbehaving TCP server, stopped after the test."""
    started: list[RawServer] = []

    def start(make: Callable[[RawServer], Any], **kwargs: Any) -> RawServer:
        server = RawServer(lambda conn, stop: None, **kwargs)
        server.behaviour = make(server)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Callable[..., LiveTarget]]:
    """``target(base_url, **config)`` opens a LiveTarget (fast limits, no rate limit) with evidence in
    ``tmp_path/evidence``; closed after the test."""
    opened: list[LiveTarget] = []

    def open_target(base_url: str, **overrides: Any) -> LiveTarget:
        live = LiveTarget.open(
            TargetConfig(base_url=base_url, **{**FAST, **overrides}), tmp_path / "evidence"
        )
        opened.append(live)
        return live

    yield open_target
    for live in opened:
        live.close()


def records(folder: Path) -> list[dict[str, Any]]:
    path = folder / "exchanges.ndjson"
    if not path.exists():
        return []
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def json_reply(doc: Any, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Reply:
    return Reply(status, [("Content-Type", "application/json"), *(headers or [])], orjson.dumps(doc))


def ok_route(request: Request) -> Reply:
    return json_reply({"path": request.path, "items": [1, 2, 3]})
