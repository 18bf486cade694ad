"""C9 security checks: schemes defined and required, no Basic or query keys, OAuth 2.0, scopes."""

from __future__ import annotations

from typing import Any

from conformance.outcome import Status
from tests.conftest import check_outcome, minimal_doc

DEFINED = "openapi.security.defined"
BASIC = "openapi.security.no-basic-or-query-key"
API_KEY = "openapi.security.no-api-key"
OAUTH2 = "openapi.security.oauth2"
SCOPES = "openapi.security.scopes"

_TOKEN_URL = "https://auth.example.police.uk/token"


def _oauth(flow: str = "clientCredentials", scopes: dict[str, str] | None = None) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "scopes": {"persons.read": "Read", "persons.write": "Write"} if scopes is None else scopes
    }
    if flow in ("clientCredentials", "password", "authorizationCode"):
        settings["tokenUrl"] = _TOKEN_URL
    if flow in ("authorizationCode", "implicit"):
        settings["authorizationUrl"] = "https://auth.example.police.uk/authorize"
    return {"type": "oauth2", "flows": {flow: settings}}


def _op(security: Any = None, summary: str = "Op") -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {"204": {"description": "done"}}}
    if security is not None:
        op["security"] = security
    return op


def _api(schemes: dict[str, Any] | None = None) -> dict[str, Any]:
    """GET and POST /persons, GET and DELETE /persons/{id}, each with read or write scopes."""
    doc = minimal_doc()
    doc["components"]["securitySchemes"] = {"oauth": _oauth()} if schemes is None else schemes
    read, write = [{"oauth": ["persons.read"]}], [{"oauth": ["persons.write"]}]
    doc["paths"] = {
        "/persons": {"get": _op(read), "post": _op(write)},
        "/persons/{id}": {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "get": _op(read),
            "delete": _op(write),
        },
    }
    return doc


# -- openapi.security.defined -----------------------------------------------------------------------------
def test_defined_passes_when_every_operation_is_secured(spec_from: Any) -> None:
    """Schemes defined, every operation secured by a defined scheme."""
    assert check_outcome(DEFINED, spec_from(_api())).status is Status.PASSED


def test_defined_fails_without_schemes_and_security(spec_from: Any) -> None:
    """No schemes and no security anywhere: two findings."""
    doc = minimal_doc()
    doc["paths"] = {"/persons": {"get": _op()}, "/vehicles": {"get": _op()}}
    outcome = check_outcome(DEFINED, spec_from(doc))
    assert [(f.title, f.pointer) for f in outcome.findings] == [
        ("No security schemes", "/components/securitySchemes"),
        ("Operation not secured", "/paths"),
    ]
    assert "2 operations" in outcome.findings[1].message


def test_defined_flags_open_and_anonymous_operations(spec_from: Any) -> None:
    """security: [] and an anonymous {} alternative are findings on their operations."""
    doc = _api()
    doc["paths"]["/persons"]["get"]["security"] = []
    doc["paths"]["/persons/{id}"]["get"]["security"] = [{"oauth": ["persons.read"]}, {}]
    outcome = check_outcome(DEFINED, spec_from(doc))
    assert sorted((f.title, f.operation, f.pointer) for f in outcome.findings) == [
        ("Anonymous access allowed", "GET /persons/{id}", "/paths/~1persons~1{id}/get/security"),
        ("Operation not secured", "GET /persons", "/paths/~1persons/get/security"),
    ]


def test_defined_accepts_justified_or_allowed_operations(spec_from: Any) -> None:
    """A written justification or the allow list exempts an operation, and it is noted."""
    doc = _api()
    doc["paths"]["/health"] = {"get": {**_op([], "Health"), "operationId": "health"}}
    doc["paths"]["/status"] = {"get": _op([], "Status")}
    doc["paths"]["/status"]["get"]["x-interop-pol-justification"] = {"IOP-C9-01": "Liveness probe, no data"}
    spec = spec_from(doc)
    assert check_outcome(DEFINED, spec, requirement_id="IOP-C9-01").status is Status.FAILED
    outcome = check_outcome(DEFINED, spec, requirement_id="IOP-C9-01", allow_unauthenticated=["health"])
    assert outcome.status is Status.PASSED
    assert any("GET /status" in n and "Liveness probe" in n for n in outcome.notes)
    by_label = check_outcome(DEFINED, spec, requirement_id="IOP-C9-01", allow_unauthenticated=["get /health"])
    assert by_label.status is Status.PASSED


def test_defined_flags_undefined_scheme_once_for_the_root(spec_from: Any) -> None:
    """A root requirement naming an unknown scheme is reported once, at #/security."""
    doc = minimal_doc()
    doc["components"]["securitySchemes"] = {"oauth": _oauth()}
    doc["security"] = [{"oauth2": []}]
    doc["paths"] = {"/a": {"get": _op()}, "/b": {"get": _op()}}
    outcome = check_outcome(DEFINED, spec_from(doc))
    assert [(f.title, f.pointer, f.operation) for f in outcome.findings] == [
        ("Undefined security scheme", "/security", None)
    ]


def test_defined_inapplicable_without_operations(spec_from: Any) -> None:
    """Nothing to secure."""
    assert check_outcome(DEFINED, spec_from(minimal_doc())).status is Status.INAPPLICABLE


# -- openapi.security.no-basic-or-query-key ---------------------------------------------------------------
def test_no_basic_passes_on_oauth(spec_from: Any) -> None:
    """OAuth 2.0 and header keys are not this check's concern."""
    schemes = {"oauth": _oauth(), "key": {"type": "apiKey", "in": "header", "name": "Api-Key"}}
    assert check_outcome(BASIC, spec_from(_api(schemes))).status is Status.PASSED


def test_basic_and_query_keys_fail(spec_from: Any) -> None:
    """http basic (any case) and an apiKey in the query are findings, even unused."""
    schemes = {
        "oauth": _oauth(),
        "basicAuth": {"type": "http", "scheme": "Basic"},
        "queryKey": {"type": "apiKey", "in": "query", "name": "api_key"},
    }
    outcome = check_outcome(BASIC, spec_from(_api(schemes)))
    assert [(f.title, f.pointer) for f in outcome.findings] == [
        ("HTTP Basic authentication", "/components/securitySchemes/basicAuth/scheme"),
        ("API key in query string", "/components/securitySchemes/queryKey/in"),
    ]


def test_swagger_2_basic_fails(spec_from: Any) -> None:
    """Swagger 2 `type: basic` is Basic authentication."""
    doc = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1.0.0"},
        "paths": {},
        "securityDefinitions": {"basic": {"type": "basic"}},
    }
    outcome = check_outcome(BASIC, spec_from(doc))
    assert [(f.title, f.pointer) for f in outcome.findings] == [
        ("HTTP Basic authentication", "/securityDefinitions/basic/type")
    ]


def test_no_basic_inapplicable_without_schemes(spec_from: Any) -> None:
    """No schemes: reported by openapi.security.defined instead."""
    assert check_outcome(BASIC, spec_from(minimal_doc())).status is Status.INAPPLICABLE


# -- openapi.security.no-api-key --------------------------------------------------------------------------
def test_api_key_beside_oauth_passes_and_is_noted(spec_from: Any) -> None:
    """A subscription key required together with OAuth 2.0 is accepted; an unused key is noted."""
    schemes = {
        "oauth": _oauth(),
        "subscription": {"type": "apiKey", "in": "header", "name": "Subscription-Key"},
        "legacy": {"type": "apiKey", "in": "cookie", "name": "session"},
    }
    doc = _api(schemes)
    doc["security"] = [{"oauth": ["persons.read"], "subscription": []}]
    doc["paths"]["/extra"] = {"get": _op()}
    outcome = check_outcome(API_KEY, spec_from(doc))
    assert outcome.status is Status.PASSED
    assert "API key 'subscription' is only used together with oauth." in outcome.notes
    assert "API key scheme 'legacy' is defined but no operation uses it." in outcome.notes


def test_api_key_as_only_credential_fails(spec_from: Any) -> None:
    """A header key that is an alternative on its own is one finding per scheme."""
    schemes = {"oauth": _oauth(), "key": {"type": "apiKey", "in": "header", "name": "Authorization"}}
    doc = _api(schemes)
    doc["paths"]["/persons"]["get"]["security"] = [{"oauth": ["persons.read"]}, {"key": []}]
    doc["paths"]["/persons"]["post"]["security"] = [{"key": []}]
    outcome = check_outcome(API_KEY, spec_from(doc))
    [only] = outcome.findings
    assert (only.title, only.pointer) == ("API key authentication", "/components/securitySchemes/key")
    assert "2 operations: GET /persons, POST /persons" in only.message
    assert "bearer" in (only.fix or "")


def test_api_key_inapplicable_without_schemes(spec_from: Any) -> None:
    """No schemes: reported by openapi.security.defined instead."""
    assert check_outcome(API_KEY, spec_from(minimal_doc())).status is Status.INAPPLICABLE


# -- openapi.security.oauth2 ------------------------------------------------------------------------------
def test_oauth2_client_credentials_or_oidc_pass(spec_from: Any) -> None:
    """clientCredentials OAuth 2.0 passes; so does OpenID Connect with mutual TLS in addition."""
    assert check_outcome(OAUTH2, spec_from(_api())).status is Status.PASSED
    schemes = {
        "oidc": {
            "type": "openIdConnect",
            "openIdConnectUrl": "https://auth.example/.well-known/openid-configuration",
        },
        "mtls": {"type": "mutualTLS"},
    }
    doc = _api(schemes)
    for item in doc["paths"].values():
        for name, op in item.items():
            if name != "parameters":
                op["security"] = [{"oidc": [], "mtls": []}]
    assert check_outcome(OAUTH2, spec_from(doc)).status is Status.PASSED


def test_swagger_2_access_code_flow_passes(spec_from: Any) -> None:
    """Swagger 2 accessCode is the authorization code flow."""
    doc = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1.0.0"},
        "securityDefinitions": {
            "oauth": {
                "type": "oauth2",
                "flow": "accessCode",
                "authorizationUrl": "https://a.example/authorize",
                "tokenUrl": _TOKEN_URL,
                "scopes": {"read": "r"},
            }
        },
        "security": [{"oauth": ["read"]}],
        "paths": {"/a": {"get": _op()}},
    }
    assert check_outcome(OAUTH2, spec_from(doc)).status is Status.PASSED


def test_bearer_or_mutual_tls_alone_fails_once_for_the_root(spec_from: Any) -> None:
    """A root requirement offering only http bearer + mutualTLS is one finding at #/security."""
    doc = _api({"bearer": {"type": "http", "scheme": "bearer"}, "mtls": {"type": "mutualTLS"}})
    doc["security"] = [{"bearer": []}, {"mtls": []}]
    for item in doc["paths"].values():
        for name, op in item.items():
            if name != "parameters":
                op.pop("security", None)
    outcome = check_outcome(OAUTH2, spec_from(doc))
    [only] = outcome.findings
    assert (only.title, only.pointer, only.operation) == ("No OAuth 2.0 or OpenID Connect", "/security", None)
    assert "inherited by 4 operations" in only.message


def test_deprecated_flows_fail(spec_from: Any) -> None:
    """Defined implicit and password flows are findings (RFC 9700)."""
    schemes = {"oauth": _oauth(), "legacy": _oauth("implicit"), "ropc": _oauth("password")}
    outcome = check_outcome(OAUTH2, spec_from(_api(schemes)))
    assert [(f.title, f.pointer) for f in outcome.findings] == [
        ("Deprecated OAuth flow", "/components/securitySchemes/legacy/flows/implicit"),
        ("Deprecated OAuth flow", "/components/securitySchemes/ropc/flows/password"),
    ]


def test_oauth2_inapplicable_when_nothing_is_secured(spec_from: Any) -> None:
    """No secured operation: reported by openapi.security.defined instead."""
    doc = minimal_doc()
    doc["paths"] = {"/a": {"get": _op()}}
    assert check_outcome(OAUTH2, spec_from(doc)).status is Status.INAPPLICABLE


# -- openapi.security.scopes ------------------------------------------------------------------------------
def test_scopes_pass_with_separate_read_and_write(spec_from: Any) -> None:
    """Defined scopes, listed per operation, reads and writes separate."""
    assert check_outcome(SCOPES, spec_from(_api())).status is Status.PASSED


def test_scopes_missing_or_undefined_fail(spec_from: Any) -> None:
    """A flow without scopes, an operation without scopes and an undefined scope are findings."""
    schemes = {"oauth": _oauth(), "other": _oauth(scopes={})}
    doc = _api(schemes)
    doc["paths"]["/persons"]["post"]["security"] = [{"oauth": []}]
    doc["paths"]["/persons/{id}"]["delete"]["security"] = [{"oauth": ["persons.erase"]}]
    outcome = check_outcome(SCOPES, spec_from(doc))
    assert sorted((f.title, f.pointer) for f in outcome.findings) == [
        ("No scopes defined", "/components/securitySchemes/other/flows/clientCredentials/scopes"),
        ("No scopes required", "/paths/~1persons/post/security"),
        ("Undefined scope", "/paths/~1persons~1{id}/delete/security"),
    ]


def test_read_and_write_sharing_a_scope_fails(spec_from: Any) -> None:
    """One scope for everything: writes share it with reads, reported once for the root."""
    doc = _api({"oauth": _oauth(scopes={"api": "All access"})})
    doc["security"] = [{"oauth": ["api"]}]
    for item in doc["paths"].values():
        for name, op in item.items():
            if name != "parameters":
                op.pop("security", None)
    outcome = check_outcome(SCOPES, spec_from(doc))
    [only] = outcome.findings
    assert (only.title, only.pointer) == ("Read and write share a scope", "/security")
    assert "POST /persons" in only.message
    assert "DELETE /persons/{id}" in only.message


def test_read_requiring_a_write_scope_fails(spec_from: Any) -> None:
    """A GET that needs persons.write (or admin) in every alternative is a finding; a justified one is not."""
    doc = _api()
    doc["paths"]["/persons/{id}"]["get"]["security"] = [{"oauth": ["persons.write"]}]
    outcome = check_outcome(SCOPES, spec_from(doc))
    assert [(f.title, f.operation) for f in outcome.findings] == [
        ("Read requires a write scope", "GET /persons/{id}")
    ]
    doc["paths"]["/persons/{id}"]["get"]["x-interop-pol-justification"] = (
        "Reading audit data needs the write role"
    )
    assert check_outcome(SCOPES, spec_from(doc)).status is Status.PASSED


def test_scopes_inapplicable_without_oauth(spec_from: Any) -> None:
    """No operation uses OAuth 2.0."""
    doc = _api({"bearer": {"type": "http", "scheme": "bearer"}})
    for item in doc["paths"].values():
        for name, op in item.items():
            if name != "parameters":
                op["security"] = [{"bearer": []}]
    outcome = check_outcome(SCOPES, spec_from(doc))
    assert outcome.status is Status.INAPPLICABLE
    assert outcome.reason == "OAuth 2.0 schemes are not defined."
