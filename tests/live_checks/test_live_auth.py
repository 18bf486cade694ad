"""Live auth checks (C5-02, C9-10, C9-11, C9-13, C9-15): 401s, scopes, rate limits, OIDC, the auth flow."""

from __future__ import annotations

import copy
import dataclasses
import datetime
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from conformance.checks import live_auth
from conformance.live import AuthConfig, AuthKind, LiveTarget, Secret, TargetConfig
from conformance.live._limits import RateLimiter
from conformance.outcome import Outcome, Status
from conformance.reference.server import ReferenceServer
from conformance.reference.target import target_config_for
from conformance.spec import Spec
from tests.live.servers import unused_port
from tests.live_checks.conftest import live_outcome, run_live

REQUIRED = "live.auth.required"
SCOPES = "live.auth.scopes"
RATE = "live.rate-limit"
OIDC = "live.oidc.discovery"
FLOW = "live.sandbox.auth-flow"


# -- helpers ----------------------------------------------------------------------------------------------
def evidence_records(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()] if path.exists() else []


def titles(outcome: Outcome) -> list[str]:
    return [f.title for f in outcome.findings]


def assert_linked(outcome: Outcome, evidence: Path) -> None:
    """Every finding cites an exchange recorded in the evidence file."""
    ids = {record["id"] for record in evidence_records(evidence)}
    for found in outcome.findings:
        assert found.exchange in ids, (found.title, found.exchange)


def run_with(
    check_id: str, config: TargetConfig, tmp_path: Path, spec: Spec, **params: Any
) -> tuple[Outcome, Path, LiveTarget]:
    """Like ``live_outcome``, for a hand-made TargetConfig; also returns the (closed) target to inspect."""
    return run_live(check_id, config, tmp_path, spec, commitment="C9", **params)


@pytest.fixture
def patched(reference_spec: Spec, spec_from: Callable[..., Spec]) -> Callable[..., Spec]:
    """``patched(change)``: the reference document, changed in place by ``change(doc)``, loaded anew."""

    def build(change: Callable[[dict[str, Any]], None]) -> Spec:
        doc = copy.deepcopy(dict(reference_spec.data))
        change(doc)
        return spec_from(doc)

    return build


def with_oidc_scheme(url: str) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        doc["components"]["securitySchemes"]["oidc"] = {"type": "openIdConnect", "openIdConnectUrl": url}

    return change


@pytest.fixture(scope="module")
def limited() -> Iterator[ReferenceServer]:
    """A reference supplier with 60 requests a minute per client (bursts of 6)."""
    with ReferenceServer(rate_limit_per_minute=60) as server:
        yield server


@pytest.fixture(scope="module")
def oidc_server() -> Iterator[ReferenceServer]:
    """A reference supplier in OIDC mode (discovery document and JWKS)."""
    with ReferenceServer(oidc=True, rate_limit_per_minute=100_000) as server:
        yield server


def switch(server: ReferenceServer) -> Iterator[Callable[..., ReferenceServer]]:
    def on(*names: str) -> ReferenceServer:
        server.set_faults(names)  # also refills the rate-limit buckets
        return server

    yield on
    server.set_faults(())


@pytest.fixture
def limited_faulty(limited: ReferenceServer) -> Iterator[Callable[..., ReferenceServer]]:
    yield from switch(limited)


@pytest.fixture
def oidc_faulty(oidc_server: ReferenceServer) -> Iterator[Callable[..., ReferenceServer]]:
    yield from switch(oidc_server)


def bearer_config(server: ReferenceServer) -> TargetConfig:
    """Force A's access, as a static bearer token (so scopes cannot be chosen)."""
    token = Secret(server.issue_token("force-a"), source="test")
    return dataclasses.replace(
        target_config_for(server), auth=AuthConfig(kind=AuthKind.BEARER, bearer=token), other_tenant=None
    )


# -- live.auth.required -----------------------------------------------------------------------------------
def test_auth_required_passes_on_the_reference(reference: ReferenceServer, tmp_path: Path) -> None:
    """401 with a Bearer challenge without credentials and for an invalid token; the expired case is noted."""
    outcome, evidence = live_outcome(REQUIRED, reference, tmp_path)
    assert outcome.status is Status.PASSED
    assert (
        outcome.notes[0]
        == 'GET /persons without credentials: 401, WWW-Authenticate: Bearer realm="reference-supplier"'
    )
    assert outcome.notes[-1].startswith("An expired token was not tried")
    # Neither probe needed a real token: no token request at all.
    assert [r["url"].rsplit("/", 1)[-1] for r in evidence_records(evidence)] == ["persons", "persons"]


def test_auth_required_fails_when_auth_is_ignored(faulty: Any, tmp_path: Path) -> None:
    """Fault ignore-auth: both probes get 200."""
    outcome, evidence = live_outcome(REQUIRED, faulty("ignore-auth"), tmp_path)
    assert titles(outcome) == ["Request without credentials accepted", "Invalid token accepted"]
    assert_linked(outcome, evidence)


def test_auth_required_fails_without_a_challenge(faulty: Any, tmp_path: Path) -> None:
    """Fault no-www-authenticate: both 401s lack WWW-Authenticate."""
    outcome, evidence = live_outcome(REQUIRED, faulty("no-www-authenticate"), tmp_path)
    assert titles(outcome) == ["No WWW-Authenticate challenge"] * 2
    assert_linked(outcome, evidence)


def test_auth_required_inapplicable_when_nothing_is_secured(
    reference: ReferenceServer, patched: Callable[..., Spec], tmp_path: Path
) -> None:
    """A document that secures no GET operation gives the check nothing to probe."""

    def unsecure(doc: dict[str, Any]) -> None:
        doc.pop("security", None)
        for item in doc["paths"].values():
            for operation in item.values():
                if isinstance(operation, dict):
                    operation.pop("security", None)

    outcome, _ = live_outcome(REQUIRED, reference, tmp_path, spec=patched(unsecure))
    assert outcome.status is Status.INAPPLICABLE


def test_auth_required_cant_tell_without_a_response(reference_spec: Spec, tmp_path: Path) -> None:
    """Connection refused is a network problem, not a finding."""
    config = TargetConfig(base_url=f"https://127.0.0.1:{unused_port()}/v1")
    outcome, _, _ = run_with(REQUIRED, config, tmp_path, reference_spec)
    assert outcome.status is Status.CANT_TELL
    assert "connection refused" in (outcome.reason or "")


# -- live.auth.scopes -------------------------------------------------------------------------------------
def test_scopes_pass_on_the_reference(reference: ReferenceServer, tmp_path: Path) -> None:
    """A read with other read scopes and a create with read-only scopes both get 403 insufficient_scope."""
    outcome, evidence = live_outcome(SCOPES, reference, tmp_path)
    assert outcome.status is Status.PASSED
    assert [n.split(":")[0] for n in outcome.notes] == [
        "GET /persons with a token for mutual-aid",
        "POST /persons with a token for pole",
    ]
    posted = [
        r for r in evidence_records(evidence) if r["method"] == "POST" and r["url"].endswith("/persons")
    ]
    assert [p["request"]["body"]["content"] for p in posted] == ["{}"]


def test_scopes_fail_when_scopes_are_ignored(faulty: Any, tmp_path: Path) -> None:
    """Fault ignore-scopes: the read answers 200, the create goes on to validation (422)."""
    outcome, evidence = live_outcome(SCOPES, faulty("ignore-scopes"), tmp_path)
    assert titles(outcome) == ["Token without the scope accepted", "Token without the scope not refused"]
    assert outcome.findings[1].found == "422 Unprocessable Entity"
    assert "deliberately invalid ({})" in outcome.findings[1].message
    assert_linked(outcome, evidence)


def test_scopes_inapplicable_without_oauth_scopes(
    reference: ReferenceServer, patched: Callable[..., Spec], tmp_path: Path
) -> None:
    """No OAuth 2.0 scopes in the document: nothing to leave out."""

    def no_scopes(doc: dict[str, Any]) -> None:
        doc["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]["scopes"] = {}

    outcome, _ = live_outcome(SCOPES, reference, tmp_path, spec=patched(no_scopes))
    assert outcome.status is Status.INAPPLICABLE


def test_scopes_untested_with_a_static_token(
    reference: ReferenceServer, reference_spec: Spec, tmp_path: Path
) -> None:
    """A static bearer token's scopes cannot be chosen: untested, not passed."""
    outcome, evidence, _ = run_with(SCOPES, bearer_config(reference), tmp_path, reference_spec)
    assert outcome.status is Status.UNTESTED
    assert not evidence.exists()


# -- live.rate-limit --------------------------------------------------------------------------------------
def test_rate_limit_passes_with_a_quota(limited_faulty: Any, tmp_path: Path) -> None:
    """60 a minute, bursts of 6: the 7th request (or so, on a slow machine) gets 429 with Retry-After: 1,
    and the check waits 1 s."""
    outcome, evidence = live_outcome(RATE, limited_faulty(), tmp_path)
    assert outcome.status is Status.PASSED
    assert any(re.fullmatch(r"429 after (7|8|9) requests, Retry-After: 1\.", n) for n in outcome.notes)
    assert "The document states a quota of 600 requests a minute." in outcome.notes
    assert "Waited 1 s after the 429 so that later checks are not throttled." in outcome.notes
    assert outcome.duration_ms >= 1000
    assert [r["response"]["status"] for r in evidence_records(evidence)][-1] == 429


def test_rate_limit_fails_without_a_limit(limited_faulty: Any, tmp_path: Path) -> None:
    """Fault no-rate-limit: no 429 within the burst; the finding cites the last request."""
    outcome, evidence = live_outcome(RATE, limited_faulty("no-rate-limit"), tmp_path, max_burst=30)
    assert titles(outcome) == ["No rate limit"]
    assert outcome.findings[0].found == "30× 200"
    assert_linked(outcome, evidence)
    assert outcome.findings[0].exchange == evidence_records(evidence)[-1]["id"]


def test_rate_limit_fails_without_retry_after(limited_faulty: Any, tmp_path: Path) -> None:
    """Fault no-retry-after: the 429 gives no delay."""
    outcome, evidence = live_outcome(RATE, limited_faulty("no-retry-after"), tmp_path, max_recovery_wait=0)
    assert titles(outcome) == ["429 without Retry-After"]
    assert_linked(outcome, evidence)


def test_rate_limit_burst_lifts_the_run_pace_only_for_itself(
    limited: ReferenceServer, reference_spec: Spec, tmp_path: Path
) -> None:
    """At a run pace of 2 requests a second, 8 paced requests would take 3.5 s; the burst takes far less,
    every request is still recorded, and the session's own limiter is back in place afterwards."""
    limited.set_faults(())
    config = target_config_for(limited, rate_per_second=2.0)
    outcome, evidence, target = run_with(RATE, config, tmp_path, reference_spec, max_recovery_wait=0)
    assert outcome.status is Status.PASSED
    assert outcome.duration_ms < 3000
    records = evidence_records(evidence)  # the token request, then the reads up to the 429
    assert len(records) >= 8
    assert records[-1]["response"]["status"] == 429
    limiter = target.session._limiter
    assert isinstance(limiter, RateLimiter)
    assert not limiter.unlimited


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("120", 120.0), (" 0 ", 0.0), ("Wed, 01 Jan 2031 00:00:30 GMT", 30.0), ("soon", None), ("-1", None)],
)
def test_retry_after_values(value: str, seconds: float | None) -> None:
    """RFC 9110 §10.2.3: delay-seconds or an HTTP-date (measured from now), nothing else."""
    now = datetime.datetime(2031, 1, 1, tzinfo=datetime.timezone.utc)
    assert live_auth._retry_after_seconds(value, now) == seconds


# -- live.oidc.discovery ----------------------------------------------------------------------------------
def test_oidc_passes_with_a_declared_scheme(
    oidc_server: ReferenceServer, patched: Callable[..., Spec], tmp_path: Path
) -> None:
    """The openIdConnectUrl's discovery document: issuer = origin, https jwks_uri, ES256 only."""
    url = f"{oidc_server.origin}/.well-known/openid-configuration"
    outcome, _ = live_outcome(OIDC, oidc_server, tmp_path, spec=patched(with_oidc_scheme(url)))
    assert outcome.status is Status.PASSED
    assert outcome.notes == (f"Discovery URL from the openIdConnect scheme 'oidc': {url}",)


def test_oidc_passes_when_only_served(oidc_server: ReferenceServer, tmp_path: Path) -> None:
    """No openIdConnect scheme, but the target serves discovery: checked all the same."""
    outcome, _ = live_outcome(OIDC, oidc_server, tmp_path)
    assert outcome.status is Status.PASSED
    assert "declares no openIdConnect scheme, but the target serves" in outcome.notes[0]


def test_oidc_fails_when_none_is_offered(oidc_faulty: Any, tmp_path: Path) -> None:
    """Fault oidc-alg-none: 'none' among the ID token signing algorithms."""
    outcome, evidence = live_outcome(OIDC, oidc_faulty("oidc-alg-none"), tmp_path)
    assert titles(outcome) == ["Algorithm none offered"]
    assert outcome.findings[0].found == "ES256, none"
    assert_linked(outcome, evidence)


def test_oidc_fails_on_an_issuer_mismatch(oidc_faulty: Any, tmp_path: Path) -> None:
    """Fault oidc-issuer-mismatch: the issuer is not the URL the document was fetched from."""
    server = oidc_faulty("oidc-issuer-mismatch")
    outcome, evidence = live_outcome(OIDC, server, tmp_path)
    assert titles(outcome) == ["Issuer mismatch"]
    assert outcome.findings[0].expected == server.origin
    assert_linked(outcome, evidence)


def test_oidc_inapplicable_without_oidc(reference: ReferenceServer, tmp_path: Path) -> None:
    """No scheme declared and /.well-known/openid-configuration answers 404."""
    outcome, _ = live_outcome(OIDC, reference, tmp_path)
    assert outcome.status is Status.INAPPLICABLE
    assert "(404)" in (outcome.reason or "")


def test_oidc_fails_when_the_declared_url_is_missing(
    reference: ReferenceServer, patched: Callable[..., Spec], tmp_path: Path
) -> None:
    """A declared openIdConnectUrl that answers 404 is a finding, not inapplicable."""
    url = f"{reference.origin}/.well-known/openid-configuration"
    outcome, evidence = live_outcome(OIDC, reference, tmp_path, spec=patched(with_oidc_scheme(url)))
    assert titles(outcome) == ["Discovery document not reachable"]
    assert_linked(outcome, evidence)


def test_oidc_cant_tell_for_an_undeclared_origin(
    reference: ReferenceServer, patched: Callable[..., Spec], tmp_path: Path
) -> None:
    """An identity provider on an origin the configuration does not allow is never contacted."""
    url = "https://idp.example.invalid/.well-known/openid-configuration"
    outcome, _ = live_outcome(OIDC, reference, tmp_path, spec=patched(with_oidc_scheme(url)))
    assert outcome.status is Status.CANT_TELL
    assert "add its origin to extra_origins" in (outcome.reason or "")


@pytest.mark.parametrize(
    ("url", "issuer"),
    [
        ("https://idp.example/.well-known/openid-configuration", "https://idp.example"),
        ("https://idp.example/tenant/.well-known/openid-configuration", "https://idp.example/tenant"),
        ("https://idp.example/.well-known/openid-configuration/tenant", "https://idp.example/tenant"),
        ("https://idp.example/oidc/config", None),
    ],
)
def test_expected_issuer(url: str, issuer: str | None) -> None:
    """OIDC Discovery 1.0 §4.3 (suffix appended) and RFC 8414 §5 (well-known inserted before the path)."""
    assert live_auth._expected_issuer(url) == issuer


# -- live.sandbox.auth-flow -------------------------------------------------------------------------------
def test_auth_flow_passes_on_the_reference(reference: ReferenceServer, tmp_path: Path) -> None:
    """Client credentials for all five documented scopes: Bearer, expires_in, every scope; the token reads."""
    outcome, evidence = live_outcome(FLOW, reference, tmp_path)
    assert outcome.status is Status.PASSED
    assert "The configuration states that the target is a sandbox (target.sandbox = true)." in outcome.notes
    assert any(n.startswith("'Synthetic data only' is the supplier's declaration") for n in outcome.notes)
    assert outcome.notes[-1] == "GET /persons with the new token: 200."
    token_request = evidence_records(evidence)[0]
    assert token_request["request"]["body"]["content"].count("pole%3Awrite") == 1
    assert "access_token" in token_request["response"]["body"]["content"]
    assert reference.clients["force-a"].client_secret not in evidence.read_text()


def test_auth_flow_fails_when_scopes_are_downgraded(faulty: Any, tmp_path: Path) -> None:
    """Fault scope-downgrade: the token response silently drops the write scopes."""
    outcome, evidence = live_outcome(FLOW, faulty("scope-downgrade"), tmp_path)
    assert titles(outcome) == ["Requested scopes not granted"]
    assert "pole:write, mutual-aid:write are silently missing" in outcome.findings[0].message
    assert_linked(outcome, evidence)


def test_auth_flow_fails_when_the_token_is_refused(
    reference: ReferenceServer, reference_spec: Spec, tmp_path: Path
) -> None:
    """A client the server does not know gets 401 invalid_client: the flow does not work for it."""
    config = target_config_for(reference)
    wrong = dataclasses.replace(config.auth, client_secret=Secret("not-the-secret-at-all", source="test"))
    outcome, evidence, _ = run_with(FLOW, dataclasses.replace(config, auth=wrong), tmp_path, reference_spec)
    assert titles(outcome) == ["Token request refused"]
    assert outcome.findings[0].found == "401 invalid_client"
    assert_linked(outcome, evidence)


def test_auth_flow_notes_a_sandbox_server_of_the_document(
    reference: ReferenceServer, patched: Callable[..., Spec], tmp_path: Path
) -> None:
    """Without the user's statement, the base URL's host matching a documented sandbox server is noted."""

    def sandbox_here(doc: dict[str, Any]) -> None:
        doc["servers"] = [{"url": reference.base_url, "description": "Sandbox (synthetic data)"}]

    config = dataclasses.replace(target_config_for(reference), sandbox=None)
    outcome, _, _ = run_with(FLOW, config, tmp_path, patched(sandbox_here))
    assert outcome.status is Status.PASSED
    assert (
        f"The base URL's host is the document's server {reference.base_url}, a sandbox or test server."
        in (outcome.notes)
    )


def test_auth_flow_untested_with_a_static_token(
    reference: ReferenceServer, reference_spec: Spec, tmp_path: Path
) -> None:
    """The harness cannot run the client-credentials flow with a static bearer token."""
    outcome, _, _ = run_with(FLOW, bearer_config(reference), tmp_path, reference_spec)
    assert outcome.status is Status.UNTESTED
