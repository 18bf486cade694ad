"""TLS facts about the target from real handshakes with the ``ssl`` module: protocol versions and certificate.

:func:`probe_versions` makes one handshake per protocol version with a client context pinned to exactly that
version (legacy versions with ``@SECLEVEL=0``, so OpenSSL 3 will offer them at all). A version the local
OpenSSL cannot even offer is reported ``unsupported_by_client`` — never ``refused``, which would wrongly
credit the server. Version probes do not verify the certificate (that is :func:`certificate`'s job), so an
untrusted certificate cannot hide which versions a server accepts.

Every handshake is bounded by a wall-clock deadline (a server that trickles its handshake is cut off), and
each probe is appended to the evidence as a ``"tls"`` record when a recorder is given.
"""

from __future__ import annotations

import datetime
import enum
import ipaddress
import socket
import ssl
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ._defaults import DEFAULT_TLS_TIMEOUT
from ._problems import seconds
from ._watchdog import Watchdog
from .evidence import EvidenceRecorder

__all__ = ["TLS_VERSIONS", "CertificateInfo", "ProbeOutcome", "TlsProbe", "certificate", "probe_versions"]

TLS_VERSIONS = ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
_VERSION_ENUM = {
    "SSLv3": "SSLv3",
    "TLSv1": "TLSv1",
    "TLSv1.1": "TLSv1_1",
    "TLSv1.2": "TLSv1_2",
    "TLSv1.3": "TLSv1_3",
}
_HAS = {"SSLv3": ssl.HAS_SSLv3, "TLSv1": ssl.HAS_TLSv1, "TLSv1.1": ssl.HAS_TLSv1_1}
# OpenSSL reasons meaning "this client has nothing to offer for that version", not "the server said no".
_CLIENT_SIDE = ("no protocols available", "no ciphers available", "unsupported protocol", "no suitable")


@enum.unique
class ProbeOutcome(str, enum.Enum):
    ACCEPTED = "accepted"  # the handshake completed with exactly this version
    REFUSED = "refused"  # the server rejected the version (alert, reset or close during the handshake)
    UNSUPPORTED_BY_CLIENT = "unsupported_by_client"  # the local OpenSSL cannot offer it: no conclusion
    ERROR = "error"  # no TCP connection or no answer in time: no conclusion


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsProbe:
    version: str
    outcome: ProbeOutcome
    negotiated: str | None = None
    cipher: str | None = None
    error: str | None = None
    elapsed_ms: int = 0

    @property
    def accepted(self) -> bool:
        return self.outcome is ProbeOutcome.ACCEPTED


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateInfo:
    subject: str | None = None
    issuer: str | None = None
    sans: tuple[str, ...] = ()
    not_before: str | None = None  # ISO 8601, UTC
    not_after: str | None = None
    days_left: int | None = None
    chain_trusted: bool = False
    hostname_matches: bool = False
    error: str | None = None  # why the chain is not trusted, or why no certificate could be read
    elapsed_ms: int = 0


def _context(version: str) -> ssl.SSLContext:
    if version in _HAS and not _HAS[version]:
        raise ValueError("not compiled into this Python/OpenSSL")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the legacy TLSVersion members are deprecated
        member = getattr(ssl.TLSVersion, _VERSION_ENUM[version])
        context.minimum_version = member
        context.maximum_version = member
    if version in _HAS:
        context.set_ciphers("ALL:@SECLEVEL=0")
    return context


def _connect(
    host: str, port: int, context: ssl.SSLContext, server_name: str | None, timeout: float
) -> tuple[ssl.SSLSocket | None, str | None, bool]:
    """``(tls socket, error, connected)``: the TCP connect and handshake under one deadline."""
    watchdog = Watchdog(name="conformance-tls-watchdog")
    deadline = watchdog.start(timeout)
    sock: socket.socket | None = None
    try:
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except TimeoutError:
            return None, f"connect timeout after {seconds(timeout)} s", False
        except OSError as exc:
            return (
                None,
                ("connection refused" if isinstance(exc, ConnectionRefusedError) else str(exc)),
                False,
            )
        deadline.attach(sock)
        sni = server_name if server_name and not _is_ip(server_name) else None
        try:
            tls = context.wrap_socket(sock, server_hostname=sni)
            sock = None  # now owned by the TLS socket
            return tls, None, True
        except (ssl.SSLError, OSError) as exc:
            if deadline.expired:
                return None, f"no handshake within {seconds(timeout)} s", True
            return None, _reason(exc), True
    finally:
        watchdog.finish(deadline)
        watchdog.close()
        if sock is not None:
            sock.close()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        return (exc.reason or exc.__class__.__name__).replace("_", " ").lower()
    if isinstance(exc, ConnectionResetError):
        return "connection reset during the handshake"
    if isinstance(exc, TimeoutError):
        return "no answer during the handshake"
    return " ".join(str(exc).split())[:160] or exc.__class__.__name__


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


def _probe_one(host: str, port: int, version: str, server_name: str | None, timeout: float) -> TlsProbe:
    start = time.perf_counter()
    try:
        context = _context(version)
    except (ValueError, ssl.SSLError, AttributeError) as exc:
        return TlsProbe(version=version, outcome=ProbeOutcome.UNSUPPORTED_BY_CLIENT, error=str(exc))
    tls, error, connected = _connect(host, port, context, server_name, timeout)
    elapsed_ms = int((time.perf_counter() - start) * 1000)
    if tls is not None:
        with tls:
            negotiated, cipher = tls.version(), (tls.cipher() or (None,))[0]
        return TlsProbe(
            version=version,
            outcome=ProbeOutcome.ACCEPTED,
            negotiated=negotiated,
            cipher=cipher,
            elapsed_ms=elapsed_ms,
        )
    if not connected or (error or "").startswith("no handshake within"):
        return TlsProbe(version=version, outcome=ProbeOutcome.ERROR, error=error, elapsed_ms=elapsed_ms)
    if any(marker in (error or "") for marker in _CLIENT_SIDE):
        outcome = ProbeOutcome.UNSUPPORTED_BY_CLIENT
    else:
        outcome = ProbeOutcome.REFUSED
    return TlsProbe(version=version, outcome=outcome, error=error, elapsed_ms=elapsed_ms)


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return list(value)
    return value


def probe_versions(
    host: str,
    port: int,
    *,
    ca_bundle: Path | None = None,
    server_name: str | None = None,
    timeout: float = DEFAULT_TLS_TIMEOUT,
    recorder: EvidenceRecorder | None = None,
) -> dict[str, TlsProbe]:
    """Which of SSLv3, TLSv1, TLSv1.1, TLSv1.2 and TLSv1.3 the server accepts (``ca_bundle`` is unused: no
    version probe verifies the certificate; it is accepted for a uniform call signature)."""
    start = time.perf_counter()
    results: dict[str, TlsProbe] = {}
    unreachable: TlsProbe | None = None
    for version in TLS_VERSIONS:
        if unreachable is not None:
            # No connection, or no answer at all: every other version would wait out the same timeout.
            results[version] = TlsProbe(version=version, outcome=ProbeOutcome.ERROR, error=unreachable.error)
            continue
        probe = _probe_one(host, port, version, server_name or host, timeout)
        results[version] = probe
        if probe.outcome is ProbeOutcome.ERROR:
            unreachable = probe
    if recorder is not None:
        recorder.record_tls(
            probe="versions",
            host=host,
            port=port,
            server_name=server_name,
            result={v: {k: _plain(x) for k, x in asdict(p).items()} for v, p in results.items()},
            elapsed_ms=int((time.perf_counter() - start) * 1000),
            error=None,
        )
    return results


def certificate(
    host: str,
    port: int,
    *,
    ca_bundle: Path | None = None,
    server_name: str | None = None,
    timeout: float = DEFAULT_TLS_TIMEOUT,
    recorder: EvidenceRecorder | None = None,
) -> CertificateInfo:
    """The server's certificate, whether its chain is trusted (by ``ca_bundle`` or the system store) and
    whether it is valid for ``server_name`` (default: ``host``)."""
    start = time.perf_counter()
    name = server_name or host
    info = _certificate(host, port, ca_bundle, name, timeout)
    info = CertificateInfo(**{**_fields(info), "elapsed_ms": int((time.perf_counter() - start) * 1000)})
    if recorder is not None:
        recorder.record_tls(
            probe="certificate",
            host=host,
            port=port,
            server_name=server_name,
            result={k: _plain(v) for k, v in asdict(info).items() if k != "elapsed_ms"},
            elapsed_ms=info.elapsed_ms,
            error=info.error,
        )
    return info


def _fields(info: CertificateInfo) -> dict[str, Any]:
    return {name: getattr(info, name) for name in CertificateInfo.__dataclass_fields__}


def _certificate(host: str, port: int, ca_bundle: Path | None, name: str, timeout: float) -> CertificateInfo:
    # 1. Read the certificate without judging it, so an untrusted one can still be described.
    reader = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    reader.check_hostname = False
    reader.verify_mode = ssl.CERT_NONE
    tls, error, _ = _connect(host, port, reader, name, timeout)
    if tls is None:
        return CertificateInfo(error=f"no certificate: {error}")
    with tls:
        der = tls.getpeercert(binary_form=True)
    if not der:
        return CertificateInfo(error="the server sent no certificate")
    described = _describe(der, name)
    # 2. Judge the chain (not the name: that is hostname_matches, computed from the SANs above).
    judge = ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else None)
    judge.check_hostname = False
    tls, error, _ = _connect(host, port, judge, name, timeout)
    if tls is not None:
        tls.close()
    return CertificateInfo(**{**_fields(described), "chain_trusted": tls is not None, "error": error})


def _describe(der: bytes, name: str) -> CertificateInfo:
    from cryptography import x509  # imported here: only TLS checks pay for it

    cert = x509.load_der_x509_certificate(der)
    sans: list[str] = []
    try:
        extension = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        sans = [*extension.get_values_for_type(x509.DNSName)]
        sans += [str(ip) for ip in extension.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        pass
    not_before = cert.not_valid_before_utc
    not_after = cert.not_valid_after_utc
    now = datetime.datetime.now(datetime.timezone.utc)
    return CertificateInfo(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        sans=tuple(sans),
        not_before=not_before.isoformat().replace("+00:00", "Z"),
        not_after=not_after.isoformat().replace("+00:00", "Z"),
        days_left=(not_after - now).days,
        hostname_matches=_matches(name, sans),
    )


def _matches(name: str, sans: list[str]) -> bool:
    """RFC 6125 §6.4: exact (case-insensitive) match, or a ``*`` as the whole left-most label."""
    name = name.strip("[]").rstrip(".").lower()
    if _is_ip(name):
        return any(_is_ip(s) and ipaddress.ip_address(s) == ipaddress.ip_address(name) for s in sans)
    for san in sans:
        pattern = san.rstrip(".").lower()
        if pattern == name:
            return True
        if pattern.startswith("*.") and "." in name:
            label, rest = name.split(".", 1)
            if label and rest == pattern[2:] and rest.count(".") >= 1:
                return True
    return False
