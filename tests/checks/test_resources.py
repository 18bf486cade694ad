"""C4 resource checks: path naming and nesting, GET bodies, query strings, X- headers; each passes on a
good document and fails on a bad one."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.outcome import Status
from tests.conftest import CORPUS, check_outcome, corpus_names, corpus_spec, minimal_doc

RESOURCE_CHECKS = (
    "openapi.paths.kebab-nouns",
    "openapi.paths.nesting",
    "openapi.get.no-body",
    "openapi.query.no-identity",
    "openapi.headers.no-x-prefix",
)
_OK = {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}}


def _param(name: str, where: str = "path") -> dict[str, Any]:
    return {"name": name, "in": where, "required": where == "path", "schema": {"type": "string"}}


def _get(*params: dict[str, Any], responses: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"get": {"parameters": list(params), "responses": responses or _OK}}


def _doc(paths: dict[str, Any]) -> dict[str, Any]:
    doc = minimal_doc()
    doc["paths"] = paths
    return doc


# -- openapi.paths.kebab-nouns ---------------------------------------------------------------------------
def test_kebab_nouns_passes_on_good_paths(spec_from: Any) -> None:
    """Kebab-case nouns, versions, suffixes on variables, .well-known and add-ons pass."""
    doc = _doc(
        {
            "/v1/stop-searches/{stopSearchId}": _get(_param("stopSearchId")),
            "/v1/reports/{reportId}.json": _get(_param("reportId")),
            "/.well-known/openid-configuration": _get(),
            "/v1/add-ons": _get(),
        }
    )
    assert check_outcome("openapi.paths.kebab-nouns", spec_from(doc)).status is Status.PASSED


def test_kebab_nouns_flags_case_and_verbs(spec_from: Any) -> None:
    """Upper-case/underscored segments and verb segments are reported, one finding of each kind per path."""
    doc = _doc(
        {
            "/StopSearches/{id}": _get(_param("id")),
            "/stop_searches/{id}/getDetails": _get(_param("id")),
            "/persons/{id}/delete": {"post": {"parameters": [_param("id")], "responses": _OK}},
        }
    )
    outcome = check_outcome("openapi.paths.kebab-nouns", spec_from(doc))
    assert [(f.title, f.pointer, f.found) for f in outcome.findings] == [
        ("Path segment not kebab-case", "/paths/~1StopSearches~1{id}", "StopSearches"),
        (
            "Path segment not kebab-case",
            "/paths/~1stop_searches~1{id}~1getDetails",
            "stop_searches, getDetails",
        ),
        ("Verb in path", "/paths/~1stop_searches~1{id}~1getDetails", "getDetails"),
        ("Verb in path", "/paths/~1persons~1{id}~1delete", "delete"),
    ]


def test_kebab_nouns_inapplicable_without_paths(spec_from: Any) -> None:
    """No operations: inapplicable."""
    assert check_outcome("openapi.paths.kebab-nouns", spec_from(minimal_doc())).status is Status.INAPPLICABLE


# -- openapi.paths.nesting -------------------------------------------------------------------------------
def test_nesting_passes_at_three_levels(spec_from: Any) -> None:
    """/api/v1/a/{id}/b/{id}/c is three levels: /api and the version do not count."""
    doc = _doc(
        {
            "/api/v1/cases/{caseId}/defendants/{defendantId}/offences": _get(
                _param("caseId"), _param("defendantId")
            )
        }
    )
    assert check_outcome("openapi.paths.nesting", spec_from(doc)).status is Status.PASSED


def test_nesting_flags_four_levels(spec_from: Any) -> None:
    """Four resource levels are reported (a date version segment is ignored); max_depth is a parameter."""
    path = "/2010-04-01/cases/{caseId}/defendants/{defendantId}/offences/{offenceId}/charges"
    doc = _doc({path: _get(_param("caseId"), _param("defendantId"), _param("offenceId"))})
    outcome = check_outcome("openapi.paths.nesting", spec_from(doc))
    [only] = outcome.findings
    assert (only.title, only.found) == ("Resource nested too deeply", "4 levels")
    assert (
        only.pointer
        == "/paths/~12010-04-01~1cases~1{caseId}~1defendants~1{defendantId}~1offences~1{offenceId}~1charges"
    )
    assert check_outcome("openapi.paths.nesting", spec_from(doc), max_depth=4).status is Status.PASSED


# -- openapi.get.no-body ---------------------------------------------------------------------------------
def test_get_no_body_passes(spec_from: Any) -> None:
    """GET without a body and POST with one pass."""
    body = {"content": {"application/json": {"schema": {"type": "object"}}}}
    doc = _doc({"/cases": {**_get(), "post": {"requestBody": body, "responses": _OK}}})
    assert check_outcome("openapi.get.no-body", spec_from(doc)).status is Status.PASSED


def test_get_no_body_flags_request_body(spec_from: Any) -> None:
    """A GET requestBody is reported at the request body."""
    doc = _doc({"/cases": _get()})
    doc["paths"]["/cases"]["get"]["requestBody"] = {
        "content": {"application/json": {"schema": {"type": "object"}}}
    }
    outcome = check_outcome("openapi.get.no-body", spec_from(doc))
    assert [(f.title, f.operation, f.pointer) for f in outcome.findings] == [
        ("Request body on GET/HEAD", "GET /cases", "/paths/~1cases/get/requestBody")
    ]


def test_get_no_body_swagger2_body_parameter(spec_from: Any) -> None:
    """A Swagger 2.0 body parameter on GET is a request body too."""
    doc = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1.0.0"},
        "paths": {
            "/cases": {
                "get": {
                    "parameters": [{"name": "filter", "in": "body", "schema": {"type": "object"}}],
                    "responses": {"200": {"description": "OK"}},
                }
            }
        },
    }
    outcome = check_outcome("openapi.get.no-body", spec_from(doc))
    assert [f.pointer for f in outcome.findings] == ["/paths/~1cases/get/parameters/0"]


def test_get_no_body_inapplicable_without_get(spec_from: Any) -> None:
    """No GET or HEAD operation: inapplicable."""
    doc = _doc({"/cases": {"post": {"responses": _OK}}})
    assert check_outcome("openapi.get.no-body", spec_from(doc)).status is Status.INAPPLICABLE


# -- openapi.query.no-identity ---------------------------------------------------------------------------
def test_query_no_identity_passes_on_filters(spec_from: Any) -> None:
    """Filtering, paging and sorting query parameters pass."""
    doc = _doc(
        {
            "/persons": _get(_param("surname", "query"), _param("page", "query"), _param("sort", "query")),
            "/persons/{personId}": _get(_param("personId")),
        }
    )
    assert check_outcome("openapi.query.no-identity", spec_from(doc)).status is Status.PASSED


def test_query_no_identity_flags_identity_and_behaviour(spec_from: Any) -> None:
    """?person_id= on the collection of /persons/{personId}, ?id= and ?action= are reported."""
    doc = _doc(
        {
            "/persons": _get(_param("person_id", "query")),
            "/persons/{personId}": _get(_param("personId"), _param("action", "query")),
            "/cases": _get(_param("id", "query")),
        }
    )
    outcome = check_outcome("openapi.query.no-identity", spec_from(doc))
    assert [(f.title, f.operation, f.pointer) for f in outcome.findings] == [
        ("Identifier in query string", "GET /persons", "/paths/~1persons/get/parameters/0"),
        (
            "Behaviour in query string",
            "GET /persons/{personId}",
            "/paths/~1persons~1{personId}/get/parameters/1",
        ),
        ("Identifier in query string", "GET /cases", "/paths/~1cases/get/parameters/0"),
    ]
    assert "/persons/{personId}" in outcome.findings[0].message


def test_query_no_identity_singular_collection_name(spec_from: Any) -> None:
    """?caseId= on /cases counts as identity when /cases/{id} exists."""
    doc = _doc({"/cases": _get(_param("caseId", "query")), "/cases/{id}": _get(_param("id"))})
    outcome = check_outcome("openapi.query.no-identity", spec_from(doc))
    assert [f.title for f in outcome.findings] == ["Identifier in query string"]


def test_query_no_identity_inapplicable_without_query(spec_from: Any) -> None:
    """No query parameters at all: inapplicable."""
    doc = _doc({"/cases/{id}": _get(_param("id"))})
    assert check_outcome("openapi.query.no-identity", spec_from(doc)).status is Status.INAPPLICABLE


# -- openapi.headers.no-x-prefix -------------------------------------------------------------------------
def test_headers_pass_without_x_prefix(spec_from: Any) -> None:
    """Standard header names pass; vendor x- extensions are not headers."""
    ok = {"200": {"description": "OK", "headers": {"RateLimit-Limit": {"schema": {"type": "integer"}}}}}
    doc = _doc({"/cases": _get(_param("Idempotency-Key", "header"), responses=ok)})
    doc["x-vendor-flag"] = True
    doc["paths"]["/cases"]["get"]["x-internal"] = False
    assert check_outcome("openapi.headers.no-x-prefix", spec_from(doc)).status is Status.PASSED


def test_headers_flag_x_prefixes_once_per_definition(spec_from: Any) -> None:
    """A shared X- request header is reported once with its users; an X- response header once too."""
    doc = _doc({"/cases": _get(), "/persons": _get()})
    doc["components"]["parameters"] = {"RequestId": _param("X-Request-ID", "header")}
    doc["components"]["headers"] = {"Rate": {"schema": {"type": "integer"}}}
    ok = {
        "200": {"description": "OK", "headers": {"x-ratelimit-limit": {"$ref": "#/components/headers/Rate"}}}
    }
    for path in ("/cases", "/persons"):
        doc["paths"][path]["get"]["parameters"] = [{"$ref": "#/components/parameters/RequestId"}]
        doc["paths"][path]["get"]["responses"] = ok
    outcome = check_outcome("openapi.headers.no-x-prefix", spec_from(doc))
    assert [(f.title, f.pointer, f.found) for f in outcome.findings] == [
        ("X- header", "/components/parameters/RequestId", "X-Request-ID"),
        ("X- header", "/components/headers/Rate", "x-ratelimit-limit"),
    ]
    assert "GET /persons" in outcome.findings[0].message
    allowed = check_outcome(
        "openapi.headers.no-x-prefix", spec_from(doc), allowed_names=["x-request-id", "X-RateLimit-Limit"]
    )
    assert allowed.status is Status.PASSED


def test_headers_justification_and_inapplicable(spec_from: Any) -> None:
    """A justified X- header is not reported; a document without headers is inapplicable."""
    header = {**_param("x-fapi-interaction-id", "header"), "x-interop-pol-justification": "FAPI requires it."}
    doc = _doc({"/cases": _get(header)})
    outcome = check_outcome("openapi.headers.no-x-prefix", spec_from(doc))
    assert outcome.status is Status.PASSED
    assert outcome.notes == ("1 X- header(s) carry a written justification.",)
    plain = _doc({"/cases": _get()})
    assert check_outcome("openapi.headers.no-x-prefix", spec_from(plain)).status is Status.INAPPLICABLE


# -- the corpus ------------------------------------------------------------------------------------------
@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not available")
@pytest.mark.parametrize("name", corpus_names())
def test_resource_checks_decide_on_every_corpus_document(name: str) -> None:
    """On real documents every resource check decides (passed, failed or inapplicable), never crashes."""
    spec = corpus_spec(name)
    for check_id in RESOURCE_CHECKS:
        outcome = check_outcome(check_id, spec)
        assert outcome.status is not Status.CANT_TELL, (check_id, outcome.reason)
