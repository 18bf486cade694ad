"""Every fault switch visibly breaks its behaviour, and only that behaviour.

A battery of probes checks one clean behaviour each (HSTS present, 401 without a token, 405 with
Allow, …). With no fault every probe passes; with one fault switched on exactly the probes listed for it
in ``EXPECTED`` fail. TLS faults shape the TLS context at start, so each gets its own server.
"""

from __future__ import annotations

import csv
import datetime
import io
import socket
import ssl
import uuid
from collections.abc import Callable, Iterator

import pytest
import requests
from cryptography import x509
from jsonschema import Draft202012Validator

from conformance.reference import load_reference_document
from conformance.reference.server import FAULTS, TLS_FAULTS, ReferenceServer

from .conftest import DOC_URI, INPUTS, Api, _registry, person_input

LICENCE = {"Licence-Key": "test-licence"}
FAR_FUTURE = "2100-01-01T00:00:00Z"


class Battery:
    """The probe server and the fixtures the probes need (force B's record, a token for force B)."""

    def __init__(self, server: ReferenceServer) -> None:
        self.server = server
        self.api = Api(server)
        self.anonymous = Api(server, client=None)
        self.reader = Api(server, scopes=["pole:read"])
        self.burst = Api(server, "force-b")
        self.b_person = self.burst.post("/persons", json=person_input("Force B only")).json()["id"]
        # Probes read seed records (which no probe changes), so one fault cannot leave another's trace.
        self.a_person = self.api.get("/persons?limit=1").json()["items"][0]["id"]
        self.a_object = self.api.get("/objects?limit=1").json()["items"][0]["id"]
        self.aid = self.api.get("/mutual-aid-requests?limit=1").json()["items"][0]["id"]
        self.plain = requests.Session()
        self.plain.trust_env = False


Probe = Callable[[Battery], bool]


def _tls(server: ReferenceServer, version: ssl.TLSVersion) -> bool:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(server.ca_bundle)
    context.minimum_version = context.maximum_version = version
    if version < ssl.TLSVersion.TLSv1_2:
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    try:
        with (
            socket.create_connection((server.host, server.port), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname=server.host),
        ):
            return True
    except ssl.SSLError:
        return False


def _rate_probe(b: Battery) -> requests.Response | None:
    for _ in range(b.server.rate_limit_per_minute // 10 + 20):
        response = b.burst.get("/locations?limit=1")
        if response.status_code == 429:
            return response
    return None


def _paging(b: Battery) -> bool:
    # Objects: no probe adds any, so the walk stays a few pages long.
    everything = [p["id"] for p in b.api.get("/objects?limit=500").json()["items"]]
    walked: list[str] = []
    url = "/objects?limit=1"
    while url and len(walked) <= 2 * len(everything):
        page = b.api.get(url).json()
        walked += [p["id"] for p in page["items"]]
        url = page["links"].get("next", "")
    return walked == everything


def _csv(b: Battery) -> bool:
    raw = b.api.get("/exports/objects", headers={"Accept": "text/csv"}).content
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    return (
        raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"") and len({len(r) for r in rows}) == 1
    )


def _lossless_import(b: Battery) -> bool:
    ident = str(uuid.uuid4())
    stamp = "2025-01-01T00:00:00Z"
    meta = {
        "id": ident,
        "createdAt": stamp,
        "updatedAt": stamp,
        "createdBy": "elsewhere",
        "updatedBy": "elsewhere",
    }
    record = meta | person_input("Imported", aliases=["Plain ASCII alias"])
    b.api.post("/imports/persons", json={"items": [record]})
    return b.api.get(f"/persons/{ident}").json().get("aliases") == ["Plain ASCII alias"]


def _deleted_not_exported(b: Battery) -> bool:
    ident = b.api.post("/locations", json=INPUTS["locations"]()).json()["id"]
    b.api.delete(f"/locations/{ident}")
    return ident not in {r["id"] for r in b.api.get("/exports/locations").json()["items"]}


def _cross_tenant_write_refused(b: Battery) -> bool:
    # A fresh record of force B each time: under the fault, force A's DELETE really removes it.
    ident = b.burst.post("/persons", json=person_input("Force B only")).json()["id"]
    replaced = b.api.put(f"/persons/{ident}", json=person_input("Written by force A")).status_code
    deleted = b.api.delete(f"/persons/{ident}").status_code
    b.burst.delete(f"/persons/{ident}")
    return replaced == deleted == 404


def _audit_metadata(b: Battery) -> bool:
    stamped = {"createdBy", "updatedBy"} <= set(b.api.get(f"/persons/{b.a_person}").json())
    ident = b.api.post("/locations", json=INPUTS["locations"]()).json()["id"]
    b.api.put(f"/locations/{ident}", json=INPUTS["locations"]())
    actions = {e["action"] for e in b.api.get(f"/audit-records?recordId={ident}").json()["items"]}
    b.api.delete(f"/locations/{ident}")
    return stamped and actions == {"created", "replaced"}


def _plain_http_no_data(b: Battery) -> bool:
    url = f"{b.server.plain_http_url}/v1/persons"
    response = b.plain.get(url, headers=b.api.session.headers, allow_redirects=False, timeout=10)
    return response.status_code == 426 and not response.content


_PERSON_SHAPE = Draft202012Validator({"$ref": f"{DOC_URI}#/components/schemas/Person"}, registry=_registry())


PROBES: dict[str, Probe] = {
    "hsts": lambda b: "Strict-Transport-Security" in b.api.get("/persons?limit=1").headers,
    "plain-http-no-data": _plain_http_no_data,
    "unauthenticated-401": lambda b: (
        b.anonymous.get("/persons").status_code == 401
        and b.anonymous.get("/persons", headers={"Authorization": "Bearer nope"}).status_code == 401
    ),
    "challenge": lambda b: (
        (r := b.anonymous.get("/persons")).status_code != 401 or "WWW-Authenticate" in r.headers
    ),
    "scopes-enforced": lambda b: b.reader.post("/persons", json=person_input()).status_code == 403,
    "tenant-isolation": lambda b: b.api.get(f"/persons/{b.b_person}").status_code == 404,
    "tenant-isolation-write": _cross_tenant_write_refused,
    "token-scopes": lambda b: (
        b.api.token().json()["scope"].split() == list(b.server.clients["force-a"].scopes)
    ),
    "status-documented": lambda b: b.api.get(f"/objects/{b.a_object}").status_code == 200,
    "person-schema": lambda b: _PERSON_SHAPE.is_valid(b.api.get(f"/persons/{b.a_person}").json()),
    "served-spec-same": lambda b: (
        b.api.get("/openapi.json", headers=LICENCE).json() == load_reference_document()
    ),
    "spec-public": lambda b: b.anonymous.get("/openapi.json").status_code == 200,
    "no-shadow": lambda b: (
        not ((r := b.anonymous.get("/internal/debug")).ok and r.content)
        and b.api.request("OPTIONS", "/persons").headers.get("Allow") == "GET, POST"
    ),
    "pole-tags": lambda b: (
        "x-pole-entity"
        in b.api.get("/openapi.json", headers=LICENCE).json()["components"]["schemas"]["Person"]
    ),
    "datetimes-z": lambda b: b.api.get(f"/persons/{b.a_person}").json()["createdAt"].endswith("Z"),
    "utf8-json": lambda b: (
        (r := b.api.get(f"/persons/{b.a_person}")).headers["Content-Type"] == "application/json"
        and "Siân".encode() in r.content
    ),
    "non-ascii-stored": lambda b: (
        b.api.get(f"/persons/{b.api.post('/persons', json=person_input('Ŵyn 李')).json()['id']}").json()[
            "fullName"
        ]
        == "Ŵyn 李"
    ),
    "negotiation": lambda b: (
        b.api.get("/persons", headers={"Accept": "application/xml"}).status_code == 406
        and b.api.post("/persons", data="{}", headers={"Content-Type": "text/plain"}).status_code == 415
    ),
    "problem-json": lambda b: (
        b.api.delete("/objects").headers.get("Content-Type", "").split(";")[0] == "application/problem+json"
    ),
    "allow-header": lambda b: b.api.delete("/persons").headers.get("Allow") == "GET, POST",
    "not-found": lambda b: (
        b.api.get("/nope").status_code == 404
        and b.api.get("/persons/00000000-0000-4000-8000-000000000000").status_code == 404
    ),
    "deprecation": lambda b: (
        (h := b.api.get(f"/mutual-aid-requests/{b.aid}/status").headers).get("Deprecation") is not None
        and "Sunset" in h
        and "Link" in h
    ),
    "tolerant": lambda b: b.api.post("/persons", json=person_input(undeclared=True)).status_code == 201,
    "rate-limited": lambda b: _rate_probe(b) is not None,
    "retry-after": lambda b: (r := _rate_probe(b)) is None or int(r.headers.get("Retry-After", "0")) >= 1,
    "no-stack-traces": lambda b: "Traceback" not in b.api.get("/persons?limit=abc").text,
    "server-header": lambda b: (
        (h := b.api.get("/persons?limit=1").headers)["Server"] == "reference-supplier"
        and "X-Powered-By" not in h
    ),
    "oidc-algs": lambda b: (
        "none"
        not in b.anonymous.get("/.well-known/openid-configuration").json()[
            "id_token_signing_alg_values_supported"
        ]
    ),
    "oidc-issuer": lambda b: (
        b.anonymous.get("/.well-known/openid-configuration").json()["issuer"] == b.server.origin
    ),
    "security-txt": lambda b: b.anonymous.get("/.well-known/security.txt").status_code == 200,
    "correlation-id": lambda b: "Correlation-Id" in b.api.get("/persons?limit=1").headers,
    "fuzz": lambda b: (
        b.api.get("/persons?limit=-1").status_code == 400
        and b.api.post("/persons", json=person_input(fullName=42)).status_code == 422
    ),
    "export-complete": lambda b: (
        {p["id"] for p in b.api.get("/persons?limit=500").json()["items"]}
        <= {p["id"] for p in b.api.get("/exports/persons").json()["items"]}
    ),
    "paging-stable": _paging,
    "since-filter": lambda b: b.api.get(f"/persons?updatedAfter={FAR_FUTURE}").json()["items"] == [],
    "csv-rfc4180": _csv,
    "import-lossless": _lossless_import,
    "deleted-not-exported": _deleted_not_exported,
    "audit-metadata": _audit_metadata,
}

EXPECTED: dict[str, set[str]] = {
    "no-hsts": {"hsts"},
    "http-serves-data": {"plain-http-no-data"},
    "ignore-auth": {"unauthenticated-401"},
    "no-www-authenticate": {"challenge"},
    "ignore-scopes": {"scopes-enforced"},
    "cross-tenant-read": {"tenant-isolation"},
    "cross-tenant-write": {"tenant-isolation-write"},
    "scope-downgrade": {"token-scopes"},
    "wrong-status": {"status-documented"},
    "schema-drift": {"person-schema"},
    "served-spec-differs": {"served-spec-same"},
    "spec-not-public": {"spec-public"},
    "shadow-endpoint": {"no-shadow"},
    # The served document is what loses its tags, so it no longer equals the bundled one either.
    "untagged-pole-schemas": {"pole-tags", "served-spec-same"},
    "naive-datetimes": {"datetimes-z"},
    "latin1-json": {"utf8-json"},
    "ascii-folding": {"non-ascii-stored"},
    "no-content-negotiation": {"negotiation"},
    "html-errors": {"problem-json"},
    "no-allow-header": {"allow-header"},
    "soft-404": {"not-found"},
    "no-deprecation-headers": {"deprecation"},
    "strict-unknown-fields": {"tolerant"},
    "no-rate-limit": {"rate-limited"},
    "no-retry-after": {"retry-after"},
    "stack-trace-errors": {"no-stack-traces"},
    "leaky-server-header": {"server-header"},
    "oidc-alg-none": {"oidc-algs"},
    "oidc-issuer-mismatch": {"oidc-issuer"},
    "no-security-txt": {"security-txt"},
    "no-correlation-id": {"correlation-id"},
    "fuzz-crash": {"fuzz"},
    "export-drops-records": {"export-complete"},
    "unstable-paging": {"paging-stable"},
    "no-since-filter": {"since-filter"},
    "csv-not-rfc4180": {"csv-rfc4180"},
    "lossy-import": {"import-lossless"},
    "soft-delete-still-exported": {"deleted-not-exported"},
    # Person records without createdBy/updatedBy no longer match the documented Person schema either.
    "no-audit-metadata": {"audit-metadata", "person-schema"},
}


@pytest.fixture(scope="module")
def battery() -> Iterator[Battery]:
    # The document's own quota (600 a minute), so the rate probes see real 429s; OIDC on for its probes.
    with ReferenceServer(oidc=True, rate_limit_per_minute=600) as server:
        yield Battery(server)


def _failing(battery: Battery) -> set[str]:
    battery.server.set_faults(battery.server.faults)  # refill the rate-limit buckets
    return {name for name, probe in PROBES.items() if not probe(battery)}


def test_every_fault_is_covered() -> None:
    """Each runtime fault has its expected probes here; TLS faults have their own tests below."""
    assert set(EXPECTED) | TLS_FAULTS == set(FAULTS)
    assert set().union(*EXPECTED.values()) == set(PROBES)


def test_clean_server_passes_every_probe(battery: Battery) -> None:
    """With no fault, every probe passes."""
    battery.server.set_faults(())
    assert _failing(battery) == set()


@pytest.mark.parametrize("fault", sorted(EXPECTED))
def test_fault_breaks_only_its_behaviour(battery: Battery, fault: str) -> None:
    """Switching the fault on fails exactly its probes; switching it off restores them."""
    battery.server.set_faults([fault])
    try:
        assert _failing(battery) == EXPECTED[fault]
    finally:
        battery.server.set_faults(())


# -- TLS faults (chosen at start) ---------------------------------------------------------------------------
def _certificate_days(server: ReferenceServer) -> int:
    cert = x509.load_pem_x509_certificate(ssl.get_server_certificate((server.host, server.port)).encode())
    return (cert.not_valid_after_utc - datetime.datetime.now(datetime.timezone.utc)).days


def _still_healthy(server: ReferenceServer) -> None:
    response = Api(server).get("/persons?limit=1")
    assert response.status_code == 200
    assert "Strict-Transport-Security" in response.headers


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_fault_tls10_accepts_legacy_handshakes() -> None:
    """tls1.0: TLS 1.0 and 1.1 handshakes succeed; 1.3 is still offered and the API still works."""
    with ReferenceServer(faults=["tls1.0"]) as server:
        assert _tls(server, ssl.TLSVersion.TLSv1)
        assert _tls(server, ssl.TLSVersion.TLSv1_1)
        assert _tls(server, ssl.TLSVersion.TLSv1_3)
        assert _certificate_days(server) > 300
        _still_healthy(server)


def test_fault_no_tls13_caps_at_tls12() -> None:
    """no-tls1.3: a TLS 1.3-only client fails; TLS 1.2 works."""
    with ReferenceServer(faults=["no-tls1.3"]) as server:
        assert not _tls(server, ssl.TLSVersion.TLSv1_3)
        assert _tls(server, ssl.TLSVersion.TLSv1_2)
        assert _certificate_days(server) > 300
        _still_healthy(server)


def test_fault_expiring_certificate() -> None:
    """expiring-certificate: the certificate has at most 7 days left (C9-07 wants more than 14)."""
    with ReferenceServer(faults=["expiring-certificate"]) as server:
        assert _certificate_days(server) <= 7
        assert _tls(server, ssl.TLSVersion.TLSv1_3)
        _still_healthy(server)


def test_tls_faults_survive_set_faults() -> None:
    """TLS faults chosen at start stay in force when runtime faults change."""
    with ReferenceServer(faults=["no-tls1.3", "no-hsts"]) as server:
        server.set_faults(["no-tls1.3"])
        assert server.faults == {"no-tls1.3"}
        server.set_faults(())
        assert server.faults == {"no-tls1.3"}
        assert not _tls(server, ssl.TLSVersion.TLSv1_3)


def test_oidc_faults_need_oidc_mode() -> None:
    """OIDC faults without oidc=True are refused: there would be nothing to break."""
    with pytest.raises(ValueError, match="needs oidc=True"):
        ReferenceServer(faults=["oidc-alg-none"])


def test_every_fault_names_a_requirement_of_the_core_profile() -> None:
    """A fault is there to make a requirement's check fail: that requirement must exist in the shipped profile
    (an id renamed in the profile would otherwise leave the fault proving nothing)."""
    from conformance.profiles import load_profile

    ids = {requirement.id for requirement in load_profile("interop-pol-core").requirements}
    dangling = {fault.name: fault.requirement for fault in FAULTS.values() if fault.requirement not in ids}
    assert not dangling, dangling
