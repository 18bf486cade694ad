"""TLS probes: real handshakes per protocol version, and the certificate's facts."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path

from conformance.live import LiveTarget, ProbeOutcome, TargetConfig, certificate, probe_versions
from tests.live.conftest import ok_route, records
from tests.live.servers import AppServer, RawServer, never_answer, unused_port
from tests.tls import make_tls


def tls_server(
    app: Callable[..., AppServer], tmp_path: Path, **versions: ssl.TLSVersion
) -> tuple[AppServer, Path]:
    files = make_tls(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.server_cert, files.server_key)
    for name, value in versions.items():
        setattr(context, name, value)
    return app(ok_route, tls=context), files.ca_cert


def test_modern_server(app: Callable[..., AppServer], tmp_path: Path) -> None:
    server, _ = tls_server(app, tmp_path, minimum_version=ssl.TLSVersion.TLSv1_2)
    results = probe_versions("127.0.0.1", server.port)
    assert results["TLSv1.2"].outcome is ProbeOutcome.ACCEPTED
    assert results["TLSv1.2"].negotiated == "TLSv1.2"
    assert results["TLSv1.3"].outcome is ProbeOutcome.ACCEPTED
    assert results["TLSv1.3"].cipher
    # The server refuses legacy versions, unless this OpenSSL cannot even offer them (then: no conclusion).
    for legacy in ("TLSv1", "TLSv1.1"):
        assert results[legacy].outcome in (ProbeOutcome.REFUSED, ProbeOutcome.UNSUPPORTED_BY_CLIENT)
    if not ssl.HAS_SSLv3:
        assert results["SSLv3"].outcome is ProbeOutcome.UNSUPPORTED_BY_CLIENT


def test_server_without_tls13(app: Callable[..., AppServer], tmp_path: Path) -> None:
    server, _ = tls_server(app, tmp_path, maximum_version=ssl.TLSVersion.TLSv1_2)
    results = probe_versions("127.0.0.1", server.port)
    assert results["TLSv1.2"].accepted
    assert results["TLSv1.3"].outcome is ProbeOutcome.REFUSED
    assert results["TLSv1.3"].error


def test_unreachable_and_silent_servers(raw: Callable[..., RawServer]) -> None:
    results = probe_versions("127.0.0.1", unused_port(), timeout=0.5)
    assert {p.outcome for v, p in results.items() if v not in ("SSLv3",)} == {ProbeOutcome.ERROR}
    assert results["TLSv1.2"].error == "connection refused"
    silent = raw(never_answer)
    probe = probe_versions("127.0.0.1", silent.port, timeout=0.3)["TLSv1.2"]
    assert probe.outcome is ProbeOutcome.ERROR
    assert probe.error == "no handshake within 0.3 s"
    assert probe.elapsed_ms < 900


def test_certificate_facts(app: Callable[..., AppServer], tmp_path: Path) -> None:
    server, ca = tls_server(app, tmp_path)
    info = certificate("127.0.0.1", server.port, ca_bundle=ca)
    assert info.chain_trusted
    assert info.hostname_matches
    assert info.error is None
    assert info.subject == "CN=localhost"
    assert info.sans == ("localhost", "127.0.0.1", "::1")
    assert info.not_after
    assert info.not_after.endswith("Z")
    assert info.days_left == 0  # the test certificate lives one day
    untrusted = certificate("127.0.0.1", server.port)
    assert not untrusted.chain_trusted
    assert untrusted.error
    assert "certificate verify failed" in untrusted.error
    by_name = certificate("127.0.0.1", server.port, ca_bundle=ca, server_name="api.example.com")
    assert not by_name.hostname_matches


def test_live_target_records_tls_evidence(app: Callable[..., AppServer], tmp_path: Path) -> None:
    server, ca = tls_server(app, tmp_path)
    live = LiveTarget.open(TargetConfig(base_url=server.origin, ca_bundle=ca), tmp_path / "evidence")
    live.set_requirement("IOP-C9-05")
    live.tls_versions()
    live.tls_certificate()
    live.close()
    lines = records(tmp_path / "evidence")
    assert [(line["kind"], line["probe"], line["requirement"]) for line in lines] == [
        ("tls", "versions", "IOP-C9-05"),
        ("tls", "certificate", "IOP-C9-05"),
    ]
    assert lines[0]["result"]["TLSv1.2"]["outcome"] == "accepted"
    assert lines[1]["result"]["chain_trusted"] is True


def test_wildcard_matching() -> None:
    from conformance.live.tls import _matches

    assert _matches("api.example.com", ["*.example.com"])
    assert not _matches("a.b.example.com", ["*.example.com"])
    assert not _matches("example.com", ["*.example.com"])
    assert _matches("API.Example.com.", ["api.example.com"])
    assert _matches("::1", ["::1"])
    assert not _matches("127.0.0.1", ["localhost"])
