"""Live transport checks (C9-05…C9-09): TLS versions and certificate, HSTS, plain HTTP — both ways."""

from __future__ import annotations

import dataclasses
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from conformance.checks import live_transport
from conformance.live import ProbeOutcome, TargetConfig, TlsProbe, probe_versions
from conformance.outcome import Outcome, Status
from conformance.reference.server import ReferenceServer
from conformance.reference.target import target_config_for
from conformance.spec import Spec
from tests.live.servers import AppServer, Reply, Request, unused_port
from tests.live_checks.conftest import live_outcome, run_live
from tests.tls import make_tls

VERSIONS = "live.tls.versions"
TLS13 = "live.tls.tls13"
CERTIFICATE = "live.tls.certificate"
HSTS = "live.hsts"
NO_DATA = "live.plain-http.no-data"
NO_REDIRECT = "live.plain-http.no-redirect"


# -- helpers ----------------------------------------------------------------------------------------------
def evidence_ids(path: Path) -> set[str]:
    return {orjson.loads(line)["id"] for line in path.read_bytes().splitlines()} if path.exists() else set()


def titles(outcome: Outcome) -> list[str]:
    return [f.title for f in outcome.findings]


def assert_linked(outcome: Outcome, evidence: Path) -> None:
    """Every finding cites an exchange (or TLS probe) recorded in the evidence file."""
    ids = evidence_ids(evidence)
    for found in outcome.findings:
        assert found.exchange in ids, (found.title, found.exchange, sorted(ids))


def run_with(
    check_id: str, config: TargetConfig, tmp_path: Path, spec: Spec, **params: Any
) -> tuple[Outcome, Path]:
    """Like ``live_outcome``, for a hand-made TargetConfig (another CA bundle, another plain-HTTP URL…)."""
    outcome, evidence, _ = run_live(check_id, config, tmp_path, spec, commitment="C9", **params)
    return outcome, evidence


@pytest.fixture
def app() -> Iterator[Callable[..., AppServer]]:
    """``app(route, tls=...)`` starts a loopback HTTP(S) server, stopped after the test."""
    started: list[AppServer] = []

    def start(route: Callable[[Request], Reply], **kwargs: Any) -> AppServer:
        server = AppServer(route, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture(scope="module")
def legacy_tls() -> Iterator[ReferenceServer]:
    with ReferenceServer(faults=["tls1.0"], rate_limit_per_minute=100_000) as server:
        yield server


# -- live.tls.versions ------------------------------------------------------------------------------------
def test_versions_pass_on_the_reference(reference: ReferenceServer, tmp_path: Path) -> None:
    """TLS 1.2 and 1.3 accepted, 1.0 and 1.1 refused; a version this OpenSSL cannot offer is only noted."""
    outcome, _ = live_outcome(VERSIONS, reference, tmp_path)
    assert outcome.status is Status.PASSED, outcome
    assert any("accepted TLS 1.2, TLS 1.3; refused TLS 1.0, TLS 1.1" in n for n in outcome.notes)
    if not ssl.HAS_SSLv3:
        assert any(n.startswith("SSL 3.0 was not tried") for n in outcome.notes)


def test_versions_fail_when_tls10_is_accepted(legacy_tls: ReferenceServer, tmp_path: Path) -> None:
    """Fault tls1.0: the TLS 1.0 and 1.1 handshakes complete, one finding each, citing the TLS probe."""
    outcome, evidence = live_outcome(VERSIONS, legacy_tls, tmp_path)
    assert outcome.status is Status.FAILED
    assert titles(outcome) == ["Legacy TLS version accepted"] * 2
    assert [f.expected for f in outcome.findings] == ["TLS 1.0 refused", "TLS 1.1 refused"]
    assert_linked(outcome, evidence)
    record = orjson.loads(evidence.read_bytes().splitlines()[0])
    assert (record["kind"], record["probe"], record["id"]) == (
        "tls",
        "versions",
        outcome.findings[0].exchange,
    )


def test_versions_plain_http_base_url_is_a_finding(
    reference: ReferenceServer, reference_spec: Spec, tmp_path: Path
) -> None:
    """An http:// base URL has no TLS at all: a finding, without any handshake."""
    config = dataclasses.replace(target_config_for(reference), base_url=f"{reference.plain_http_url}/v1")
    outcome, evidence = run_with(VERSIONS, config, tmp_path, reference_spec)
    assert titles(outcome) == ["No TLS"]
    assert not evidence.exists()


def test_versions_cant_tell_without_a_handshake(reference_spec: Spec, tmp_path: Path) -> None:
    """Nothing listens: no probe concludes anything, so cantTell (not a finding)."""
    config = TargetConfig(base_url=f"https://127.0.0.1:{unused_port()}/v1")
    outcome, _ = run_with(VERSIONS, config, tmp_path, reference_spec)
    assert outcome.status is Status.CANT_TELL
    assert "connection refused" in (outcome.reason or "")


def test_versions_cant_tell_when_no_legacy_version_can_be_tried(
    reference: ReferenceServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A local OpenSSL that can offer none of SSL 3.0, TLS 1.0, 1.1 cannot show that the server refuses them."""

    def without_legacy(*args: Any, **kwargs: Any) -> dict[str, TlsProbe]:
        probes = probe_versions(*args, **kwargs)
        for version in ("SSLv3", "TLSv1", "TLSv1.1"):
            probes[version] = TlsProbe(
                version=version, outcome=ProbeOutcome.UNSUPPORTED_BY_CLIENT, error="no protocols available"
            )
        return probes

    monkeypatch.setattr(live_transport, "probe_versions", without_legacy)
    outcome, _ = live_outcome(VERSIONS, reference, tmp_path)
    assert outcome.status is Status.CANT_TELL
    assert "none of SSL 3.0, TLS 1.0 and TLS 1.1 could be tried" in (outcome.reason or "")
    assert sum(n.endswith("counts as neither refused nor accepted.") for n in outcome.notes) == 3


# -- live.tls.tls13 ---------------------------------------------------------------------------------------
def test_tls13_passes_on_the_reference(reference: ReferenceServer, tmp_path: Path) -> None:
    """The reference accepts a TLS 1.3 handshake."""
    outcome, _ = live_outcome(TLS13, reference, tmp_path)
    assert outcome.status is Status.PASSED
    assert any("accepted TLS 1.3" in n for n in outcome.notes)


def test_tls13_fails_without_tls13(tmp_path: Path) -> None:
    """Fault no-tls1.3: the TLS 1.3 handshake is refused; the finding names TLS 1.2 as the newest accepted."""
    with ReferenceServer(faults=["no-tls1.3"]) as server:
        outcome, evidence = live_outcome(TLS13, server, tmp_path)
    assert titles(outcome) == ["TLS 1.3 not offered"]
    assert outcome.findings[0].found == "TLS 1.3 refused (newest accepted: TLS 1.2)"
    assert_linked(outcome, evidence)


# -- live.tls.certificate ---------------------------------------------------------------------------------
def test_certificate_passes_on_the_reference(reference: ReferenceServer, tmp_path: Path) -> None:
    """Trusted by the configured CA bundle, names 127.0.0.1, a year left."""
    outcome, _ = live_outcome(CERTIFICATE, reference, tmp_path)
    assert outcome.status is Status.PASSED
    assert any("the configured CA bundle (ca.pem)" in n for n in outcome.notes)


def test_certificate_fails_when_it_expires_within_14_days(tmp_path: Path) -> None:
    """Fault expiring-certificate: 7 days left is not more than 14; a 3-day threshold lets it pass."""
    (tmp_path / "relaxed").mkdir()
    with ReferenceServer(faults=["expiring-certificate"]) as server:
        outcome, evidence = live_outcome(CERTIFICATE, server, tmp_path)
        relaxed, _ = live_outcome(CERTIFICATE, server, tmp_path / "relaxed", min_days_left=3)
    assert titles(outcome) == ["Certificate expires soon"]
    assert outcome.findings[0].expected == "more than 14 days left"
    assert_linked(outcome, evidence)
    assert relaxed.status is Status.PASSED


def test_certificate_fails_when_untrusted(
    reference: ReferenceServer, reference_spec: Spec, tmp_path: Path
) -> None:
    """Without the throw-away CA, the system trust store does not verify the reference's chain."""
    config = dataclasses.replace(target_config_for(reference), ca_bundle=None)
    outcome, evidence = run_with(CERTIFICATE, config, tmp_path, reference_spec)
    assert titles(outcome) == ["Certificate not trusted"]
    assert "certificate verify failed" in (outcome.findings[0].found or "")
    assert_linked(outcome, evidence)


def test_certificate_fails_for_another_host(
    app: Callable[..., AppServer], reference_spec: Spec, tmp_path: Path
) -> None:
    """A trusted certificate for api.example.com does not name 127.0.0.1."""
    files = make_tls(tmp_path, hostnames=("api.example.com",), ips=())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.server_cert, files.server_key)
    server = app(lambda request: Reply(404), tls=context)
    config = TargetConfig(base_url=f"{server.origin}/v1", ca_bundle=files.ca_cert)
    outcome, evidence = run_with(CERTIFICATE, config, tmp_path, reference_spec, min_days_left=0)
    assert titles(outcome) == ["Certificate name mismatch"]
    assert outcome.findings[0].found == "api.example.com"
    assert_linked(outcome, evidence)


# -- live.hsts --------------------------------------------------------------------------------------------
def test_hsts_passes_on_the_reference(reference: ReferenceServer, tmp_path: Path) -> None:
    """max-age=31536000; includeSubDomains on the first collection read."""
    outcome, _ = live_outcome(HSTS, reference, tmp_path)
    assert outcome.status is Status.PASSED
    assert "Strict-Transport-Security: max-age=31536000; includeSubDomains." in outcome.notes


def test_hsts_fails_without_the_header(faulty: Any, tmp_path: Path) -> None:
    """Fault no-hsts: no Strict-Transport-Security on the response."""
    outcome, evidence = live_outcome(HSTS, faulty("no-hsts"), tmp_path)
    assert titles(outcome) == ["No HSTS header"]
    assert outcome.findings[0].operation == "GET /persons"
    assert_linked(outcome, evidence)


def test_hsts_fails_below_the_minimum_max_age(reference: ReferenceServer, tmp_path: Path) -> None:
    """A profile asking for two years finds the reference's one year too short."""
    outcome, _ = live_outcome(HSTS, reference, tmp_path, min_max_age=63_072_000)
    assert titles(outcome) == ["HSTS max-age too short"]


@pytest.mark.parametrize(
    ("value", "age", "problem"),
    [
        ('max-age="600"; preload', 600, None),
        ("MAX-AGE=600", 600, None),
        ("includeSubDomains", None, "no max-age directive"),
        ("max-age=1 year", None, "max-age is not a whole number of seconds ('1 year')"),
        ("max-age=1; max-age=2", None, "the directive 'max-age' appears twice"),
    ],
)
def test_hsts_value_parsing(value: str, age: int | None, problem: str | None) -> None:
    """RFC 6797 §6.1: names case-insensitive, quoted values, each directive at most once."""
    parsed_age, parsed_problem, _ = live_transport._hsts(value)
    assert parsed_age == age
    assert (parsed_problem or "").startswith(problem or "")


# -- live.plain-http.no-data ------------------------------------------------------------------------------
def test_plain_http_no_data_passes_on_the_reference(reference: ReferenceServer, tmp_path: Path) -> None:
    """301 without credentials, 426 with a dummy token: no data either way."""
    outcome, _ = live_outcome(NO_DATA, reference, tmp_path)
    assert outcome.status is Status.PASSED
    assert outcome.notes == (
        "Plain HTTP without credentials: 301 Moved Permanently, no API data.",
        "Plain HTTP with a dummy token: 426 Upgrade Required, no API data.",
    )


def test_plain_http_no_data_fails_when_the_api_answers_on_http(faulty: Any, tmp_path: Path) -> None:
    """Fault http-serves-data: the API itself answers on plain HTTP (401 with a Bearer challenge), so a real
    token would get data there; the check still never sends one."""
    server = faulty("http-serves-data")
    outcome, evidence = live_outcome(NO_DATA, server, tmp_path)
    assert titles(outcome) == ["API served over plain HTTP"] * 2
    assert_linked(outcome, evidence)
    for line in evidence.read_bytes().splitlines():
        record = orjson.loads(line)
        assert record["url"].startswith("http://")  # no token request: no real token was even fetched


def test_plain_http_no_data_fails_when_data_is_served(faulty: Any, tmp_path: Path) -> None:
    """Faults http-serves-data and ignore-auth: records come back over plain HTTP."""
    outcome, evidence = live_outcome(NO_DATA, faulty("http-serves-data", "ignore-auth"), tmp_path)
    assert titles(outcome) == ["API data served over plain HTTP"] * 2
    assert outcome.findings[0].found is not None
    assert outcome.findings[0].found.startswith("200 application/json")
    assert_linked(outcome, evidence)


def test_plain_http_no_data_passes_when_nothing_listens(
    reference: ReferenceServer, reference_spec: Spec, tmp_path: Path
) -> None:
    """Connection refused: nothing is served, and the second probe is not sent."""
    plain = f"http://127.0.0.1:{unused_port()}/v1"
    config = dataclasses.replace(target_config_for(reference), plain_http_url=plain)
    outcome, evidence = run_with(NO_DATA, config, tmp_path, reference_spec)
    assert outcome.status is Status.PASSED
    assert "connection refused" in outcome.notes[0]
    # One probe (which the session retries once: refused before any response), and no second probe.
    first, retry = (orjson.loads(line) for line in evidence.read_bytes().splitlines())
    assert retry["retry_of"] == first["id"]
    assert "Authorization" not in dict(first["request"]["headers"])


# -- live.plain-http.no-redirect --------------------------------------------------------------------------
def test_no_redirect_passes_on_the_reference(reference: ReferenceServer, tmp_path: Path) -> None:
    """A request with a token is refused with 426, not redirected."""
    outcome, _ = live_outcome(NO_REDIRECT, reference, tmp_path)
    assert outcome.status is Status.PASSED
    assert outcome.notes == ("A plain-HTTP request with a token was answered 426 Upgrade Required.",)


def test_no_redirect_fails_on_a_redirecting_listener(
    reference: ReferenceServer, reference_spec: Spec, app: Callable[..., AppServer], tmp_path: Path
) -> None:
    """A plain-HTTP listener that redirects everything to HTTPS (no reference fault does: http-serves-data
    serves instead). The token it received is the dummy one, which the reference never issued."""
    location = f"{reference.origin}/v1/persons"
    redirector = app(lambda request: Reply(301, [("Location", location)]))
    config = dataclasses.replace(target_config_for(reference), plain_http_url=f"{redirector.origin}/v1")
    outcome, evidence = run_with(NO_REDIRECT, config, tmp_path, reference_spec)
    assert titles(outcome) == ["Authenticated request redirected"]
    assert outcome.findings[0].found == f"301 to {location}"
    assert_linked(outcome, evidence)
    [request] = redirector.requests
    scheme, _, token = request.headers["Authorization"].partition(" ")
    assert scheme == "Bearer"
    grant, why = reference._running().tokens.resolve(token)  # the server's own token store is the judge
    assert (grant, why) == (None, "unknown")


def test_no_redirect_passes_when_nothing_listens(
    reference: ReferenceServer, reference_spec: Spec, tmp_path: Path
) -> None:
    """Connection refused: nothing to redirect."""
    plain = f"http://127.0.0.1:{unused_port()}/v1"
    config = dataclasses.replace(target_config_for(reference), plain_http_url=plain)
    outcome, _ = run_with(NO_REDIRECT, config, tmp_path, reference_spec)
    assert outcome.status is Status.PASSED
    assert "connection refused" in outcome.notes[0]
