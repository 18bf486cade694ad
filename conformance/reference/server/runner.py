"""``ReferenceServer``: start the reference supplier on loopback in a background thread, and stop it.

One thread runs one asyncio loop with two uvicorn servers: HTTPS (the API, the token endpoint and the
public documents) and plain HTTP (a redirector). The listening sockets are bound before the thread
starts, so the ports are known at once, and ``start`` returns only after a real TLS handshake with the
new CA succeeds. Everything made at start (CA, keys, client secrets, data) lives in memory or in a
temporary folder that ``stop`` removes.

uvicorn's access log is off and its loggers are left unconfigured: nothing the server does prints a
token or a secret.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import shutil
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any

import uvicorn

from .app import ApiApp, PlainHttpApp, ServerState
from .auth import TOKEN_LIFETIME, Client, TokenStore, make_clients
from .contract import get_contract
from .faults import OIDC_FAULTS, TLS_FAULTS, validate_fault_names
from .ratelimit import RateLimiter
from .seed import seed_bulk, seed_store
from .store import Store
from .tls import CERT_LIFETIME, EXPIRING_CERT_LIFETIME, make_tls_material, server_context
from .wellknown import make_jwks

__all__ = ["ReferenceServer"]

_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 10.0
_GRACE = 0.3

# uvicorn's loggers are left unconfigured; a NullHandler keeps Python's last-resort handler from
# printing uvicorn's shutdown chatter to the terminal (an application that configures logging still
# receives everything).
logging.getLogger("uvicorn").addHandler(logging.NullHandler())


class _Config(uvicorn.Config):
    """uvicorn's configuration with our own TLS context (uvicorn would build one from files, without
    the control over versions and ciphers the TLS faults need)."""

    def __init__(self, app: Any, *, ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__(
            app,
            http="h11",
            ws="none",
            loop="asyncio",
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
            proxy_headers=False,
            timeout_graceful_shutdown=2,
        )
        self._context = ssl_context

    def load(self) -> None:
        super().load()
        self.ssl = self._context


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP explicitly: asyncio only sets TCP_NODELAY on sockets whose proto is IPPROTO_TCP,
    # and without it every small response waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def _quiet(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    # A client that fails a TLS handshake or drops its connection is not the server's problem
    # (the TLS checks do exactly that on purpose); anything else goes to the default handler.
    if isinstance(context.get("exception"), OSError):
        return
    loop.default_exception_handler(context)


class ReferenceServer:
    """The bundled reference supplier, on loopback with TLS, as a context manager.

    >>> with ReferenceServer(faults=["no-hsts"]) as server:   # doctest: +SKIP
    ...     requests.get(server.spec_url, verify=str(server.ca_bundle))

    ``seed_records=N`` adds N synthetic records of each POLE type to force A (straight into the store, in a
    second or two for N = 25,000), for benchmarks of the export checks; force B keeps its small sample, so
    there is room to import into it. ``python -m conformance.reference.server`` runs the server in a
    process of its own (see ``__main__``).
    """

    def __init__(
        self,
        *,
        port: int = 0,
        faults: Iterable[str] = (),
        host: str = "127.0.0.1",
        oidc: bool = False,
        seed_data: bool = True,
        rate_limit_per_minute: int = 600,
        rate_limit_burst: int | None = None,
        http_port: int = 0,
        seed_records: int = 0,
    ) -> None:
        chosen = validate_fault_names(faults)
        self._check_oidc(chosen, oidc)
        if not _is_loopback(host):
            # A server with switches like ignore-auth belongs on this machine only; its certificate
            # names nothing else anyway.
            msg = f"host must be a loopback address such as 127.0.0.1, ::1 or localhost (got {host!r})"
            raise ValueError(msg)
        if rate_limit_per_minute < 1:
            msg = f"rate_limit_per_minute must be at least 1 (got {rate_limit_per_minute})"
            raise ValueError(msg)
        if isinstance(seed_records, bool) or not isinstance(seed_records, int) or seed_records < 0:
            msg = f"seed_records must be a whole number, 0 or more (got {seed_records!r})"
            raise ValueError(msg)
        self._requested_port = port
        self._requested_http_port = http_port
        self.host = host
        self.oidc = oidc
        self.seed_data = seed_data
        self.seed_records = seed_records  # extra synthetic records per POLE type for force A (benchmarks)
        self.rate_limit_per_minute = rate_limit_per_minute
        self.rate_limit_burst = rate_limit_burst  # None: a tenth of a minute's allowance
        self._initial_faults = chosen
        self._tls_faults = chosen & TLS_FAULTS
        self._state: ServerState | None = None
        self._folder: Path | None = None
        self._ca: Path | None = None
        self._servers: list[uvicorn.Server] = []
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.port = 0
        self.plain_http_port = 0

    @staticmethod
    def _check_oidc(chosen: frozenset[str], oidc: bool) -> None:
        needs = sorted(chosen & OIDC_FAULTS)
        if needs and not oidc:
            msg = f"fault {needs[0]!r} needs oidc=True (the discovery document only exists in OIDC mode)"
            raise ValueError(msg)

    # -- lifecycle ------------------------------------------------------------------------------------
    def __enter__(self) -> ReferenceServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> ReferenceServer:
        """Start both listeners; return once the HTTPS one completes a TLS handshake."""
        if self._thread is not None:
            msg = "the reference server is already running"
            raise RuntimeError(msg)
        self._folder = Path(tempfile.mkdtemp(prefix="reference-supplier-"))
        lifetime = EXPIRING_CERT_LIFETIME if "expiring-certificate" in self._tls_faults else CERT_LIFETIME
        material = make_tls_material(self._folder, lifetime=lifetime)
        self._ca = material.ca_cert
        context = server_context(
            material, allow_legacy="tls1.0" in self._tls_faults, max_tls12="no-tls1.3" in self._tls_faults
        )
        https_socket = _bind(self.host, self._requested_port)
        plain_socket = _bind(self.host, self._requested_http_port)
        self.port = https_socket.getsockname()[1]
        self.plain_http_port = plain_socket.getsockname()[1]
        contract = get_contract()
        clients = make_clients(contract.scopes)
        store = Store([client.tenant for client in clients.values()])
        if self.seed_data:
            seed_store(store, clients)
        seed_bulk(store, "force-a", clients["force-a"], self.seed_records)
        self._state = ServerState(
            contract=contract,
            store=store,
            clients=MappingProxyType(clients),
            tokens=TokenStore(),
            limiter=RateLimiter(self.rate_limit_per_minute, self.rate_limit_burst),
            origin=f"https://{_netloc(self.host, self.port)}",
            faults=self._initial_faults,
            oidc=self.oidc,
            jwks=make_jwks() if self.oidc else None,
        )
        api = ApiApp(self._state)
        self._servers = [
            uvicorn.Server(_Config(api, ssl_context=context)),
            uvicorn.Server(_Config(PlainHttpApp(self._state, api))),
        ]
        self._ready.clear()
        self._error = None
        self._thread = threading.Thread(
            target=self._run, args=([https_socket], [plain_socket]), name="reference-supplier", daemon=True
        )
        self._thread.start()
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _run(self, https_sockets: list[socket.socket], plain_sockets: list[socket.socket]) -> None:
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(_quiet)
        try:
            loop.run_until_complete(self._serve(https_sockets, plain_sockets))
        except BaseException as exc:  # SystemExit from a failed uvicorn startup included
            self._error = exc
        finally:
            for sock in (*https_sockets, *plain_sockets):
                sock.close()
            loop.close()
            self._ready.set()

    async def _serve(self, https_sockets: list[socket.socket], plain_sockets: list[socket.socket]) -> None:
        https, plain = self._servers

        async def announce() -> None:
            while not (https.started and plain.started):
                if https.should_exit or plain.should_exit:
                    return
                await asyncio.sleep(0.002)
            self._ready.set()

        await asyncio.gather(
            https.serve(sockets=https_sockets), plain.serve(sockets=plain_sockets), announce()
        )

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT
        if not self._ready.wait(_START_TIMEOUT) or self._error is not None:
            msg = f"the reference server did not start: {self._error!r}" if self._error else "start timed out"
            raise RuntimeError(msg)
        assert self._ca is not None
        context = ssl.create_default_context(cafile=str(self._ca))
        while True:
            try:
                with (
                    socket.create_connection((self.host, self.port), timeout=2) as raw,
                    context.wrap_socket(raw, server_hostname=self.host),
                ):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def stop(self) -> None:
        """Stop both listeners, wait for the thread, and delete the temporary folder (CA and keys)."""
        for server in self._servers:
            server.should_exit = True
        if self._thread is not None:
            # In-flight requests get a moment to finish; then idle keep-alive connections are not waited
            # for (a TLS close waits for the client's close_notify, which an idle client never sends).
            self._thread.join(_GRACE)
            for server in self._servers:
                server.force_exit = True
            self._thread.join(_STOP_TIMEOUT)
            self._thread = None
        self._servers = []
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    # -- what clients need ----------------------------------------------------------------------------
    def _running(self) -> ServerState:
        if self._state is None or self._thread is None:
            msg = "the reference server is not running: use `with ReferenceServer() as server:` or start()"
            raise RuntimeError(msg)
        return self._state

    @property
    def origin(self) -> str:
        """``https://127.0.0.1:PORT`` (IPv6 hosts in brackets)."""
        return self._running().origin

    @property
    def base_url(self) -> str:
        """The API's base URL (``…/v1``), where the document's paths start."""
        return f"{self.origin}/v1"

    @property
    def token_url(self) -> str:
        """The OAuth 2.0 token endpoint (client credentials)."""
        return f"{self.origin}/oauth2/token"

    @property
    def spec_url(self) -> str:
        """The served OpenAPI document, as JSON (``/v1/openapi.yaml`` serves the bundled YAML bytes)."""
        return f"{self.base_url}/openapi.json"

    @property
    def plain_http_url(self) -> str:
        """The plain-HTTP listener (redirects to HTTPS; serves data only under ``http-serves-data``)."""
        self._running()
        return f"http://{_netloc(self.host, self.plain_http_port)}"

    @property
    def ca_bundle(self) -> Path:
        """The throw-away CA certificate (PEM) that the server certificate chains to."""
        self._running()
        assert self._ca is not None
        return self._ca

    @property
    def clients(self) -> Mapping[str, Client]:
        """The OAuth clients, keyed ``force-a`` and ``force-b`` (secrets are random per start)."""
        return self._running().clients

    @property
    def faults(self) -> frozenset[str]:
        """The faults in force now."""
        return self._state.faults if self._state is not None else self._initial_faults

    def set_faults(self, names: Iterable[str]) -> None:
        """Switch the non-TLS faults at run time (TLS faults stay as chosen at start).

        Naming a TLS fault that was not chosen at start raises ``ValueError``. Rate-limit buckets are
        refilled, so each behaviour starts from a clean slate.
        """
        state = self._running()
        chosen = validate_fault_names(names)
        self._check_oidc(chosen, self.oidc)
        extra_tls = sorted((chosen & TLS_FAULTS) - self._tls_faults)
        if extra_tls:
            msg = f"fault {extra_tls[0]!r} shapes TLS and can only be chosen at start: ReferenceServer(faults=[...])"
            raise ValueError(msg)
        state.faults = (chosen - TLS_FAULTS) | self._tls_faults
        state.limiter.reset()

    def issue_token(
        self, client: str, scopes: Iterable[str] | None = None, *, lifetime: int = TOKEN_LIFETIME
    ) -> str:
        """A bearer token for ``force-a`` or ``force-b`` without the token endpoint (tests use it for
        expired tokens: ``lifetime=0``). Scopes default to all of the client's."""
        state = self._running()
        owner = state.clients[client]
        granted = list(scopes) if scopes is not None else list(owner.scopes)
        unknown = [s for s in granted if s not in owner.scopes]
        if unknown:
            msg = f"scope {unknown[0]!r} is not one of the client's: {', '.join(owner.scopes)}"
            raise ValueError(msg)
        return state.tokens.issue(owner, granted, lifetime)
