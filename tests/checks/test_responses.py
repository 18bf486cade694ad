"""C4/C5 response checks: 406/415, documented errors, Problem Details, 429; each passes on a good
document and fails on a bad one."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.outcome import Status
from tests.conftest import CORPUS, check_outcome, corpus_names, corpus_spec, minimal_doc

RESPONSE_CHECKS = (
    "openapi.responses.406-415",
    "openapi.responses.errors-documented",
    "openapi.responses.problem-json",
    "openapi.responses.429",
)
_PROBLEM = {"$ref": "#/components/responses/Problem"}


def _body(media_type: str = "application/json", schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"content": {media_type: {"schema": schema or {"type": "object"}}}}


def _good_api() -> dict[str, Any]:
    """GET and POST /cases with 406/415/429 and problem+json errors (a Problem schema built with allOf)."""
    doc = minimal_doc()
    doc["components"]["schemas"]["Problem"] = {
        "allOf": [
            {"type": "object", "properties": {"type": {"type": "string"}, "title": {"type": "string"}}},
            {"type": "object", "properties": {"status": {"type": "integer"}, "detail": {"type": "string"}}},
        ]
    }
    doc["components"]["responses"] = {
        "Problem": {
            "description": "An error",
            **_body("application/problem+json", {"$ref": "#/components/schemas/Problem"}),
        }
    }
    errors = {"400": _PROBLEM, "404": _PROBLEM, "406": _PROBLEM, "429": _PROBLEM, "default": _PROBLEM}
    doc["paths"] = {
        "/cases": {
            "get": {"responses": {"200": {"description": "OK", **_body()}, **errors}},
            "post": {
                "requestBody": _body(),
                "responses": {"201": {"description": "Created", **_body()}, "415": _PROBLEM, **errors},
            },
        }
    }
    return doc


def test_good_document_passes_every_response_check(spec_from: Any) -> None:
    """A document declaring 406, 415, 429 and problem+json errors passes all four checks."""
    spec = spec_from(_good_api())
    for check_id in RESPONSE_CHECKS:
        outcome = check_outcome(check_id, spec)
        assert outcome.status is Status.PASSED, (check_id, outcome.findings)


# -- openapi.responses.406-415 ---------------------------------------------------------------------------
def test_406_415_missing(spec_from: Any) -> None:
    """Missing 406 (body returned) and 415 (body taken) are reported at the operation's responses."""
    doc = _good_api()
    del doc["paths"]["/cases"]["get"]["responses"]["406"]
    del doc["paths"]["/cases"]["post"]["responses"]["415"]
    outcome = check_outcome("openapi.responses.406-415", spec_from(doc))
    assert [(f.title, f.operation, f.pointer) for f in outcome.findings] == [
        ("406 not declared", "GET /cases", "/paths/~1cases/get/responses"),
        ("415 not declared", "POST /cases", "/paths/~1cases/post/responses"),
    ]


def test_406_415_ranges_only_when_accepted(spec_from: Any) -> None:
    """A 4XX range counts only with accept_range; default never counts."""
    doc = _good_api()
    get = doc["paths"]["/cases"]["get"]["responses"]
    del get["406"]
    get["4XX"] = _PROBLEM
    spec = spec_from(doc)
    assert [f.title for f in check_outcome("openapi.responses.406-415", spec).findings] == [
        "406 not declared"
    ]
    assert check_outcome("openapi.responses.406-415", spec, accept_range=True).status is Status.PASSED


def test_406_415_inapplicable_without_bodies(spec_from: Any) -> None:
    """No request bodies and no 2xx bodies: inapplicable."""
    doc = minimal_doc()
    doc["paths"] = {"/cases/{id}": {"delete": {"responses": {"204": {"description": "Deleted"}}}}}
    assert check_outcome("openapi.responses.406-415", spec_from(doc)).status is Status.INAPPLICABLE


# -- openapi.responses.errors-documented -----------------------------------------------------------------
def test_errors_documented_no_error_responses(spec_from: Any) -> None:
    """An operation with only success responses is reported; HEAD is exempt."""
    doc = _good_api()
    doc["paths"]["/cases"]["get"]["responses"] = {"200": {"description": "OK", **_body()}}
    doc["paths"]["/cases"]["head"] = {"responses": {"200": {"description": "OK"}}}
    outcome = check_outcome("openapi.responses.errors-documented", spec_from(doc))
    assert [(f.title, f.operation, f.pointer) for f in outcome.findings] == [
        ("No error responses", "GET /cases", "/paths/~1cases/get/responses")
    ]


def test_errors_documented_without_schema(spec_from: Any) -> None:
    """Error responses without a body schema are reported; a shared one once, naming its users."""
    doc = _good_api()
    doc["components"]["responses"]["Problem"] = {"description": "An error"}
    doc["paths"]["/cases"]["get"]["responses"]["401"] = {
        "description": "Unauthorised",
        "content": {"application/json": {}},
    }
    outcome = check_outcome("openapi.responses.errors-documented", spec_from(doc))
    assert [(f.title, f.pointer, f.found) for f in outcome.findings] == [
        ("Error response without a schema", "/components/responses/Problem", "no content"),
        ("Error response without a schema", "/paths/~1cases/get/responses/401", "content without a schema"),
    ]
    assert outcome.findings[0].message.startswith(
        "The 400/404/406/429/default/415 response shared by GET /cases, POST /cases"
    )


def test_errors_documented_swagger2_schema(spec_from: Any) -> None:
    """Swagger 2.0: an error response with a schema passes, one without fails."""
    doc = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1.0.0"},
        "paths": {
            "/cases": {
                "get": {
                    "responses": {
                        "200": {"description": "OK", "schema": {"type": "object"}},
                        "400": {"description": "Bad", "schema": {"type": "object"}},
                        "404": {"description": "Missing"},
                    }
                }
            }
        },
    }
    outcome = check_outcome("openapi.responses.errors-documented", spec_from(doc))
    assert [f.pointer for f in outcome.findings] == ["/paths/~1cases/get/responses/404"]


def test_errors_documented_inapplicable_with_only_head(spec_from: Any) -> None:
    """Only HEAD operations: inapplicable."""
    doc = minimal_doc()
    doc["paths"] = {"/cases": {"head": {"responses": {"200": {"description": "OK"}}}}}
    assert check_outcome("openapi.responses.errors-documented", spec_from(doc)).status is Status.INAPPLICABLE


# -- openapi.responses.problem-json ----------------------------------------------------------------------
def test_problem_json_not_offered(spec_from: Any) -> None:
    """An application/json (or problem+xml) error body is reported per response."""
    doc = _good_api()
    doc["paths"]["/cases"]["get"]["responses"]["404"] = {"description": "Not found", **_body()}
    doc["paths"]["/cases"]["get"]["responses"]["400"] = {
        "description": "Bad",
        **_body("application/problem+xml"),
    }
    outcome = check_outcome("openapi.responses.problem-json", spec_from(doc))
    assert [(f.title, f.pointer, f.found) for f in outcome.findings] == [
        ("Error response not problem+json", "/paths/~1cases/get/responses/400", "application/problem+xml"),
        ("Error response not problem+json", "/paths/~1cases/get/responses/404", "application/json"),
    ]


def test_problem_json_incomplete_schema(spec_from: Any) -> None:
    """A problem+json schema without status is reported once, at the shared schema location."""
    doc = _good_api()
    del doc["components"]["schemas"]["Problem"]["allOf"][1]
    outcome = check_outcome("openapi.responses.problem-json", spec_from(doc))
    [only] = outcome.findings
    assert only.title == "Problem details incomplete"
    assert only.pointer == "/components/responses/Problem/content/application~1problem+json/schema"
    assert "status" in only.message


def test_problem_json_inapplicable_without_errors(spec_from: Any) -> None:
    """No error responses declared: inapplicable."""
    doc = minimal_doc()
    doc["paths"] = {"/cases": {"get": {"responses": {"200": {"description": "OK", **_body()}}}}}
    assert check_outcome("openapi.responses.problem-json", spec_from(doc)).status is Status.INAPPLICABLE


# -- openapi.responses.429 -------------------------------------------------------------------------------
def test_429_missing_per_operation(spec_from: Any) -> None:
    """Each operation without 429 is reported; 4XX counts only with accept_range."""
    doc = _good_api()
    del doc["paths"]["/cases"]["post"]["responses"]["429"]
    doc["paths"]["/cases"]["post"]["responses"]["4XX"] = _PROBLEM
    spec = spec_from(doc)
    outcome = check_outcome("openapi.responses.429", spec)
    assert [(f.title, f.operation, f.pointer) for f in outcome.findings] == [
        ("No 429 response", "POST /cases", "/paths/~1cases/post/responses")
    ]
    assert check_outcome("openapi.responses.429", spec, accept_range=True).status is Status.PASSED


def test_429_inapplicable_without_operations(spec_from: Any) -> None:
    """No operations: inapplicable."""
    assert check_outcome("openapi.responses.429", spec_from(minimal_doc())).status is Status.INAPPLICABLE


# -- the corpus ------------------------------------------------------------------------------------------
@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not available")
@pytest.mark.parametrize("name", corpus_names())
def test_response_checks_decide_on_every_corpus_document(name: str) -> None:
    """On real documents every response check decides (passed, failed or inapplicable), never crashes."""
    spec = corpus_spec(name)
    for check_id in RESPONSE_CHECKS:
        outcome = check_outcome(check_id, spec)
        assert outcome.status is not Status.CANT_TELL, (check_id, outcome.reason)
