"""C3 licence-gating heuristic: names of scopes, schemes, headers and tags are flagged for review."""

from __future__ import annotations

from typing import Any

from conformance.outcome import Status
from tests.conftest import check_outcome, minimal_doc

GATING = "openapi.no-licence-gating"


def _api(**security_schemes: Any) -> dict[str, Any]:
    doc = minimal_doc()
    doc["components"]["securitySchemes"] = security_schemes or {
        "oauth": {
            "type": "oauth2",
            "flows": {
                "clientCredentials": {
                    "tokenUrl": "https://auth.example.police.uk/token",
                    "scopes": {"persons.read": "Read persons"},
                }
            },
        }
    }
    doc["paths"] = {
        "/persons": {
            "get": {
                "summary": "List persons",
                "tags": ["Persons"],
                "parameters": [{"name": "Accept-Language", "in": "header", "schema": {"type": "string"}}],
                "responses": {"204": {"description": "none"}},
            }
        }
    }
    return doc


def test_clean_names_pass(spec_from: Any) -> None:
    """Ordinary scope, scheme, header and tag names raise nothing."""
    assert check_outcome(GATING, spec_from(_api())).status is Status.PASSED


def test_partner_scope_and_licence_header_are_flagged(spec_from: Any) -> None:
    """A partner scope and a licence header each give one 'Possible licence gating' finding."""
    doc = _api()
    doc["components"]["securitySchemes"]["oauth"]["flows"]["clientCredentials"]["scopes"][
        "partner.export"
    ] = "x"
    doc["paths"]["/persons"]["get"]["parameters"].append(
        {"name": "Integration-Licence-Key", "in": "header", "schema": {"type": "string"}}
    )
    outcome = check_outcome(GATING, spec_from(doc))
    assert outcome.status is Status.FAILED
    assert {f.title for f in outcome.findings} == {"Possible licence gating"}
    pointers = sorted(f.pointer or "" for f in outcome.findings)
    assert pointers == [
        "/components/securitySchemes/oauth/flows/clientCredentials/scopes/partner.export",
        "/paths/~1persons/get/parameters/1",
    ]
    header = next(f for f in outcome.findings if "header" in f.message)
    assert header.operation == "GET /persons"


def test_scheme_key_name_and_tag_are_flagged(spec_from: Any) -> None:
    """A premium API key scheme (and its header name) and an Enterprise tag are flagged."""
    doc = _api(premiumKey={"type": "apiKey", "in": "header", "name": "X-Enterprise-Key"})
    doc["paths"]["/persons"]["get"]["tags"] = ["Enterprise features"]
    outcome = check_outcome(GATING, spec_from(doc))
    messages = " ".join(f.message for f in outcome.findings)
    assert len(outcome.findings) == 3
    assert "security scheme 'premiumKey'" in messages
    assert "API key header name 'X-Enterprise-Key'" in messages
    assert "tag 'Enterprise features'" in messages


def test_markers_are_a_parameter(spec_from: Any) -> None:
    """A profile can add its own markers."""
    doc = _api()
    doc["paths"]["/persons"]["get"]["tags"] = ["Gold tier"]
    assert check_outcome(GATING, spec_from(doc)).status is Status.PASSED
    assert check_outcome(GATING, spec_from(doc), markers=["gold"]).status is Status.FAILED


def test_inapplicable_without_operations_or_schemes(spec_from: Any) -> None:
    """An empty document has nothing to inspect."""
    assert check_outcome(GATING, spec_from(minimal_doc())).status is Status.INAPPLICABLE
