"""Loopback servers for live-layer tests: a tiny routed HTTP app and raw TCP servers that misbehave.

Every server binds port 0 on 127.0.0.1 (or ::1), runs in daemon threads and is stopped by ``close()``;
misbehaving connections also watch a stop event, so no thread outlives its test by more than a moment.
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


Route = Callable[[Request], Reply]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    wbufsize = 1 << 16  # head and body leave in one segment: no Nagle / delayed-ACK stall between them
    server: AppServer._Server  # type: ignore[name-defined]

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(self.command, self.path, dict(self.headers.items()), body)
        self.server.app.requests.append(request)
        reply = self.server.app.route(request)
        self.send_response(reply.status)
        names = {name.lower() for name, _ in reply.headers}
        for name, value in reply.headers:
            self.send_header(name, value)
        if "content-length" not in names:
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle


class AppServer:
    """An HTTP/1.1 server whose every request goes to ``route(request) -> Reply``; requests are kept."""

    class _Server(ThreadingHTTPServer):
        daemon_threads = True
        app: AppServer

    def __init__(self, route: Route, *, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> None:
        self.route = route
        self.requests: list[Request] = []
        server_cls = self._Server
        if ":" in host:
            server_cls = type("_Server6", (self._Server,), {"address_family": socket.AF_INET6})
        self._server = server_cls((host, 0), _Handler)
        self._server.app = self
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        scheme = "https" if tls else "http"
        self.origin = f"{scheme}://[{host}]:{self.port}" if ":" in host else f"{scheme}://{host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


Behaviour = Callable[[socket.socket, threading.Event], None]


class RawServer:
    """A TCP server that hands each connection to ``behaviour(conn, stop)``; records the bytes it reads."""

    def __init__(self, behaviour: Behaviour, *, host: str = "127.0.0.1") -> None:
        self.behaviour = behaviour
        self.stop = threading.Event()
        self.received = bytearray()
        self.connections = 0
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self._sock.listen(16)
        self._sock.settimeout(0.05)
        self.port = self._sock.getsockname()[1]
        self.origin = f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"
        self._threads: list[threading.Thread] = []
        self._accept = threading.Thread(target=self._serve, daemon=True)
        self._accept.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            thread = threading.Thread(target=self._run, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _run(self, conn: socket.socket) -> None:
        try:
            self.behaviour(conn, self.stop)
        except OSError:
            pass
        finally:
            conn.close()

    def read_request(self, conn: socket.socket) -> bytes:
        """Read until the end of the request head (enough for bodiless requests)."""
        conn.settimeout(0.05)
        data = b""
        while b"\r\n\r\n" not in data and not self.stop.is_set():
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                break
            data += chunk
        self.received += data
        return data

    def close(self) -> None:
        self.stop.set()
        self._sock.close()
        self._accept.join(timeout=5)
        for thread in self._threads:
            thread.join(timeout=5)


# -- misbehaviours -----------------------------------------------------------------------------------------
def never_answer(server: RawServer) -> Behaviour:
    def behave(conn: socket.socket, stop: threading.Event) -> None:
        server.read_request(conn)
        stop.wait()

    return behave


def trickle(server: RawServer, *, interval: float) -> Behaviour:
    """Answer one byte every ``interval`` seconds, forever (the response head never completes)."""

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        server.read_request(conn)
        reply = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Slow: " + b"x" * 10_000
        for byte in reply:
            if stop.wait(interval):
                return
            conn.sendall(bytes([byte]))

    return behave


def endless_body(server: RawServer, *, size: int = 1 << 30, pace: float = 0.0) -> Behaviour:
    """Announce ``size`` bytes (1 GiB) and stream zeros lazily (64 KiB every ``pace`` seconds) until the
    client hangs up."""

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        server.read_request(conn)
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
            + f"Content-Length: {size}\r\n\r\n".encode()
        )
        chunk = b"\0" * 65536
        sent = 0
        conn.settimeout(2)
        while sent < size and not stop.is_set():
            conn.sendall(chunk)
            sent += len(chunk)
            if pace:
                stop.wait(pace)

    return behave


def garbage(server: RawServer) -> Behaviour:
    def behave(conn: socket.socket, stop: threading.Event) -> None:
        server.read_request(conn)
        conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n\x00\xff\xfe garbage \x01\x02\r\n\r\n")
        stop.wait(0.5)

    return behave


def reset(server: RawServer) -> Behaviour:
    def behave(conn: socket.socket, stop: threading.Event) -> None:
        server.read_request(conn)
        # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    return behave


def slow_accept_then_answer(server: RawServer, *, delay: float) -> Behaviour:
    def behave(conn: socket.socket, stop: threading.Event) -> None:
        server.read_request(conn)
        if stop.wait(delay):
            return
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    return behave


def unused_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on (bound, then closed: connection refused)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()
