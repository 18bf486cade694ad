"""HTTP behaviour: routing, problem+json, negotiation, headers, the public documents, TLS and start-up."""

from __future__ import annotations

import datetime
import email.utils
import re
import socket
import ssl
import time
import uuid
from typing import Any

import pytest
import requests
from cryptography import x509

from conformance.reference import REFERENCE_SPEC, load_reference_document
from conformance.reference.server import FAULTS, ReferenceServer

from .conftest import MERGE, Api, person_input, response_errors

RFC3339_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def _datetimes(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if re.match(r"^\d{4}-\d{2}-\d{2}T", value) else []
    if isinstance(value, dict):
        return [d for v in value.values() for d in _datetimes(v)]
    if isinstance(value, list):
        return [d for v in value for d in _datetimes(v)]
    return []


def test_unknown_path_is_404_problem(api: Api) -> None:
    """A path the document does not list is 404 application/problem+json."""
    response = api.get("/no-such-collection")
    assert response.status_code == 404
    problem = response.json()
    assert response.headers["Content-Type"] == "application/problem+json"
    assert {"type", "title", "status", "detail", "correlationId"} <= set(problem)
    assert problem["status"] == 404


@pytest.mark.parametrize(
    ("path", "method", "allow"),
    [
        ("/persons", "DELETE", "GET, POST"),
        ("/persons/5f2b7c1e-8d4a-4c3b-9e6f-1a2b3c4d5e6f", "POST", "GET, PUT, DELETE"),
        ("/mutual-aid-requests/5f2b7c1e-8d4a-4c3b-9e6f-1a2b3c4d5e6f", "PUT", "GET, PATCH, DELETE"),
        ("/exports/persons", "TRACE", "GET"),
    ],
)
def test_undocumented_method_is_405_with_allow(api: Api, path: str, method: str, allow: str) -> None:
    """A known path with an undocumented method is 405, and Allow lists exactly the documented methods."""
    response = api.request(method, path)
    assert response.status_code == 405
    assert response.headers["Allow"] == allow


def test_options_advertises_the_documented_methods(api: Api) -> None:
    """OPTIONS answers 204 with the same Allow."""
    response = api.request("OPTIONS", "/events")
    assert response.status_code == 204
    assert response.headers["Allow"] == "GET, POST"


def test_head_has_the_get_headers_and_no_body(api: Api) -> None:
    """HEAD on a GET operation: same status and Content-Length, no body."""
    get = api.get("/persons?limit=2")
    head = api.request("HEAD", "/persons?limit=2")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["Content-Length"] == str(len(get.content))


def test_unparsable_json_is_400(api: Api) -> None:
    """A body that is not JSON is 400."""
    response = api.post("/persons", data=b'{"fullName": ', headers={"Content-Type": "application/json"})
    assert response.status_code == 400


def test_schema_errors_are_422_with_pointers(api: Api) -> None:
    """Each invalid field is listed with a JSON Pointer."""
    body = person_input(dateOfBirth="17/03/84", gender="female")
    response = api.post("/persons", json=body)
    assert response.status_code == 422
    assert sorted(e["pointer"] for e in response.json()["errors"]) == ["/dateOfBirth", "/gender"]


def test_merge_patch_needs_its_media_type(api: Api) -> None:
    """PATCH takes application/merge-patch+json only (415 for application/json)."""
    ident = api.get("/mutual-aid-requests").json()["items"][0]["id"]
    assert api.patch(f"/mutual-aid-requests/{ident}", json={"notes": "x"}).status_code == 415


def test_unknown_properties_are_ignored_not_stored(api: Api) -> None:
    """An undeclared property is accepted and dropped (tolerant reader): never a 5xx, never stored."""
    response = api.post(
        "/persons",
        json=person_input(
            favouriteColour="blue",
            review={"retentionCategory": "group1", "nextReviewDate": "2030-01-01", "extra": 1},
        ),
    )
    assert response.status_code == 201
    assert "favouriteColour" not in response.json()
    assert "extra" not in response.json()["review"]
    assert "favouriteColour" not in api.get(f"/persons/{response.json()['id']}").json()


def test_correlation_id_is_echoed(api: Api) -> None:
    """A Correlation-Id sent is echoed, on success and on errors, and quoted in problems."""
    cid = str(uuid.uuid4())
    assert api.get("/persons", headers={"Correlation-Id": cid}).headers["Correlation-Id"] == cid
    error = api.get("/nope", headers={"Correlation-Id": cid})
    assert error.headers["Correlation-Id"] == cid
    assert error.json()["correlationId"] == cid


def test_correlation_id_is_generated_when_absent(api: Api) -> None:
    """Without one, the server generates a UUIDv4."""
    generated = uuid.UUID(api.get("/persons").headers["Correlation-Id"])
    assert generated.version == 4


def test_malformed_correlation_id_is_400(api: Api) -> None:
    """The header is a documented uuid parameter; a malformed one is 400 (and a fresh id is returned)."""
    response = api.get("/persons", headers={"Correlation-Id": "not-a-uuid"})
    assert response.status_code == 400
    assert uuid.UUID(response.headers["Correlation-Id"])


@pytest.mark.parametrize(
    "path", ["/persons", "/nope", "/openapi.json", "/.well-known/security.txt", "/oauth2/token"]
)
def test_every_response_has_hsts_and_a_versionless_server_header(api: Api, path: str) -> None:
    """HSTS on every HTTPS response; Server names no versions; no X-Powered-By."""
    response = api.get(path)
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert response.headers["Server"] == "reference-supplier"
    assert "X-Powered-By" not in response.headers


def test_error_bodies_have_no_stack_traces(api: Api) -> None:
    """Malformed input gets a plain problem, with no traceback or SQL."""
    for response in (
        api.post("/persons", data=b"\xff\xfe", headers={"Content-Type": "application/json"}),
        api.get("/persons?limit=abc"),
        api.post("/imports/persons", json={"items": "nope"}),
    ):
        assert 400 <= response.status_code < 500
        assert "Traceback" not in response.text
        assert "SELECT" not in response.text


def test_security_txt(api: Api) -> None:
    """RFC 9116: Contact and a future Expires on the API host."""
    response = api.get("/.well-known/security.txt")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    fields = dict(
        line.split(": ", 1)
        for line in response.text.splitlines()
        if ": " in line and not line.startswith("#")
    )
    assert fields["Contact"].startswith(("mailto:", "https://"))
    expires = datetime.datetime.fromisoformat(fields["Expires"].replace("Z", "+00:00"))
    assert expires > datetime.datetime.now(datetime.timezone.utc)


def test_served_document_equals_the_bundled_one(server: ReferenceServer) -> None:
    """/v1/openapi.yaml is the bundled file byte for byte; /v1/openapi.json is the same document. Both public."""
    yaml_response = requests.get(f"{server.base_url}/openapi.yaml", verify=str(server.ca_bundle), timeout=10)
    json_response = requests.get(server.spec_url, verify=str(server.ca_bundle), timeout=10)
    assert yaml_response.status_code == json_response.status_code == 200
    assert yaml_response.content == REFERENCE_SPEC.read_bytes()
    assert json_response.headers["Content-Type"] == "application/json"
    assert json_response.json() == load_reference_document()


def test_deprecated_operation_sends_deprecation_sunset_and_link(api: Api) -> None:
    """RFC 9745 Deprecation (@seconds), RFC 8594 Sunset (HTTP-date) and the successor Link."""
    ident = api.get("/mutual-aid-requests").json()["items"][0]["id"]
    response = api.get(f"/mutual-aid-requests/{ident}/status")
    assert response.status_code == 200
    assert response.headers["Deprecation"] == "@1767225600"
    sunset = email.utils.parsedate_to_datetime(response.headers["Sunset"])
    assert sunset.year == 2027
    assert f'</v1/mutual-aid-requests/{ident}>; rel="successor-version"' in response.headers["Link"]
    assert "Deprecation" not in api.get(f"/mutual-aid-requests/{ident}").headers


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_plain_http_redirects_without_data(server: ReferenceServer, method: str) -> None:
    """Plain HTTP without credentials answers 301 to the HTTPS URL with an empty body."""
    session = requests.Session()
    session.trust_env = False
    response = session.request(
        method, f"{server.plain_http_url}/v1/persons?limit=1", allow_redirects=False, timeout=10
    )
    assert response.status_code == 301
    assert response.headers["Location"] == f"{server.base_url}/persons?limit=1"
    assert response.content == b""


def test_plain_http_with_credentials_is_refused_not_redirected(server: ReferenceServer) -> None:
    """A credentialed request over plain HTTP gets 426 and no body: no redirect that would resend the token."""
    session = requests.Session()
    session.trust_env = False
    token = server.issue_token("force-a")
    response = session.get(
        f"{server.plain_http_url}/v1/persons",
        headers={"Authorization": f"Bearer {token}"},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 426
    assert "Location" not in response.headers
    assert response.content == b""


def test_date_times_are_rfc3339_utc(api: Api) -> None:
    """Every date-time in responses is RFC 3339 with Z, including ones sent with an offset."""
    event = api.post(
        "/events",
        json={
            "eventType": "crime",
            "occurredAt": "2025-03-13T23:40:00+01:00",
            "summary": "x",
            "review": {"retentionCategory": "group3", "nextReviewDate": "2031-03-14"},
        },
    ).json()
    assert event["occurredAt"] == "2025-03-13T22:40:00Z"
    values = _datetimes(api.get("/events?limit=100").json()) + _datetimes(
        api.get("/audit-records?limit=20").json()
    )
    assert values
    assert all(RFC3339_Z.match(v) for v in values), [v for v in values if not RFC3339_Z.match(v)]


def test_json_is_utf8_and_non_ascii_round_trips(api: Api) -> None:
    """Names in Welsh and non-Latin scripts are stored and read back byte-identically, as UTF-8."""
    name = "Siân Ŵyn Jones 李秀英 فاطمة"
    created = api.post("/persons", json=person_input(name))
    assert created.headers["Content-Type"] == "application/json"
    read = api.get(f"/persons/{created.json()['id']}")
    assert read.content.decode("utf-8")
    assert read.json()["fullName"] == name
    assert name.encode("utf-8") in read.content


def test_unknown_fault_names_suggest_the_closest(server: ReferenceServer) -> None:
    """A misspelt fault is a ValueError naming the closest match and the valid ones."""
    with pytest.raises(ValueError, match="did you mean 'no-hsts'") as info:
        ReferenceServer(faults=["no-hst"])
    assert "ignore-auth" in str(info.value)
    with pytest.raises(ValueError, match="did you mean 'ignore-auth'"):
        server.set_faults(["ignore-auths"])


def test_tls_faults_cannot_be_switched_at_run_time(server: ReferenceServer) -> None:
    """TLS faults shape the TLS context and are chosen at start only."""
    with pytest.raises(ValueError, match="only be chosen at start"):
        server.set_faults(["tls1.0"])


def test_every_fault_names_a_requirement() -> None:
    """Each fault has a one-line description and names the requirement it breaks."""
    for fault in FAULTS.values():
        assert re.match(r"^IOP-C\d+-\d+[a-z]?$", fault.requirement), fault
        assert fault.description
        assert "\n" not in fault.description


# -- TLS ----------------------------------------------------------------------------------------------------
def _handshake(server: ReferenceServer, version: ssl.TLSVersion) -> str:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(server.ca_bundle)
    context.minimum_version = context.maximum_version = version
    if version < ssl.TLSVersion.TLSv1_2:
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with (
        socket.create_connection((server.host, server.port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=server.host) as tls,
    ):
        return str(tls.version())


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_tls_12_and_13_are_accepted(server: ReferenceServer, version: ssl.TLSVersion) -> None:
    """TLS 1.2 and 1.3 handshakes succeed against the throw-away CA."""
    assert (
        _handshake(server, version)
        == {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]
    )


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
def test_legacy_tls_is_refused(server: ReferenceServer, version: ssl.TLSVersion) -> None:
    """TLS 1.0 and 1.1 handshakes fail."""
    with pytest.raises(ssl.SSLError):
        _handshake(server, version)


def test_certificate_names_loopback_and_lives_a_year(server: ReferenceServer) -> None:
    """The server certificate covers 127.0.0.1, ::1 and localhost and is valid for about a year."""
    pem = ssl.get_server_certificate((server.host, server.port))
    cert = x509.load_pem_x509_certificate(pem.encode())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {str(ip) for ip in names.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    days = (cert.not_valid_after_utc - datetime.datetime.now(datetime.timezone.utc)).days
    assert 360 <= days <= 366


def test_starts_fast_and_logs_no_secrets(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """Start-up (to a completed TLS handshake) takes well under a second; nothing prints a secret."""
    caplog.set_level("DEBUG")
    began = time.perf_counter()
    with ReferenceServer() as fresh:
        elapsed = time.perf_counter() - began
        secrets = [c.client_secret for c in fresh.clients.values()]
        api = Api(fresh, client=None)
        token = api.token().json()["access_token"]
        api.get("/persons", headers={"Authorization": f"Bearer {token}"})
        api.get("/persons", headers={"Authorization": "Bearer wrong"})
    out, err = capfd.readouterr()
    assert elapsed < 1.5
    for secret in [*secrets, token]:
        assert secret not in out + err + caplog.text


def _has_ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _has_ipv6(), reason="no IPv6 loopback on this machine")
def test_ipv6_loopback() -> None:
    """The server listens on ::1 with a bracketed origin, and its certificate matches."""
    with ReferenceServer(host="::1") as v6:
        assert v6.origin.startswith("https://[::1]:")
        response = Api(v6).get("/persons?limit=1")
        assert response.status_code == 200
        assert response.json()["links"]["self"].startswith("https://[::1]:")


def test_oidc_discovery() -> None:
    """In OIDC mode, discovery names the origin as issuer, an https jwks_uri and ES256 only."""
    with ReferenceServer(oidc=True) as oidc:
        api = Api(oidc, client=None)
        config = api.get("/.well-known/openid-configuration").json()
        assert config["issuer"] == oidc.origin
        assert config["jwks_uri"].startswith("https://")
        assert config["token_endpoint"] == oidc.token_url
        assert config["id_token_signing_alg_values_supported"] == ["ES256"]
        keys = api.get(config["jwks_uri"]).json()["keys"]
        assert keys[0]["kty"] == "EC"
        assert keys[0]["crv"] == "P-256"
        assert "d" not in keys[0]


def test_no_oidc_documents_without_oidc(api: Api) -> None:
    """Without OIDC mode, discovery is 404."""
    assert api.get("/.well-known/openid-configuration").status_code == 404


def test_patch_with_notes_null_removes_notes(api: Api) -> None:
    """JSON Merge Patch: null removes a member."""
    ident = next(r["id"] for r in api.get("/mutual-aid-requests").json()["items"] if r.get("notes"))
    response = api.patch(f"/mutual-aid-requests/{ident}", json={"notes": None}, headers=MERGE)
    assert response.status_code == 200
    assert "notes" not in response.json()


def test_rate_limit_answers_429_with_retry_after() -> None:
    """Past the burst allowance a client gets 429 with Retry-After seconds and a documented problem;
    another client's quota is untouched."""
    with ReferenceServer(rate_limit_per_minute=60) as limited:
        api, other = Api(limited), Api(limited, "force-b")
        statuses = [
            api.get("/persons?limit=1").status_code for _ in range(limited.rate_limit_per_minute // 10)
        ]
        assert set(statuses) == {200}
        refused = api.get("/persons?limit=1")
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert response_errors("/persons", "GET", refused) == []
        assert other.get("/persons?limit=1").status_code == 200


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1", "example.org"])
def test_only_loopback_hosts(host: str) -> None:
    """The server refuses to listen anywhere but loopback."""
    with pytest.raises(ValueError, match="loopback"):
        ReferenceServer(host=host)
