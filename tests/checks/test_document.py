"""C1 document checks: each passes on a good document and fails on a bad one."""

from __future__ import annotations

from typing import Any

from conformance.outcome import Status
from tests.conftest import check_outcome, minimal_doc


def _person_api() -> dict[str, Any]:
    doc = minimal_doc()
    doc["components"]["schemas"]["Person"] = {
        "type": "object",
        "x-pole-entity": "Person",
        "description": "A person.",
        "properties": {
            "id": {"type": "string", "description": "Identifier.", "example": "p-1"},
            "fullName": {"type": "string", "description": "Full name.", "example": "Siân Jones"},
        },
    }
    ok = {
        "200": {
            "description": "OK",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Person"}}},
        }
    }
    doc["paths"] = {
        "/persons/{personId}": {
            "get": {
                "operationId": "getPerson",
                "summary": "Read a person",
                "parameters": [
                    {"name": "personId", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": ok,
            }
        },
        "/persons": {
            "post": {
                "operationId": "createPerson",
                "summary": "Create a person",
                "requestBody": {
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Person"}}}
                },
                "responses": {"201": ok["200"]},
            }
        },
    }
    doc["info"]["contact"] = {"email": "api@example.police.uk"}
    return doc


def test_good_document_passes_every_document_check(spec_from: Any) -> None:
    """A small, complete POLE API passes all C1 static checks."""
    spec = spec_from(_person_api())
    for check_id in (
        "openapi.document.valid",
        "openapi.import-export",
        "openapi.operation-id",
        "openapi.descriptions",
        "openapi.success-response-schema",
        "openapi.typed-inputs",
        "openapi.property-docs",
        "openapi.info.contact",
        "openapi.info.semver",
    ):
        outcome = check_outcome(check_id, spec)
        assert outcome.status is Status.PASSED, (check_id, outcome.findings)


def test_document_valid_fails_on_schema_error(spec_from: Any) -> None:
    """A response without its required description is a schema violation, located by pointer."""
    doc = _person_api()
    del doc["paths"]["/persons"]["post"]["responses"]["201"]["description"]
    outcome = check_outcome("openapi.document.valid", spec_from(doc))
    assert outcome.status is Status.FAILED
    assert any(f.pointer == "/paths/~1persons/post/responses/201" for f in outcome.findings)


def test_document_valid_fails_on_swagger_2(spec_from: Any) -> None:
    """Swagger 2.0 is loaded but fails C1-01: the charter asks for OpenAPI 3."""
    doc = {"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {}}
    outcome = check_outcome("openapi.document.valid", spec_from(doc))
    assert outcome.status is Status.FAILED
    assert outcome.findings[0].title == "Not OpenAPI 3"


def test_document_valid_fails_on_undeclared_path_variable(spec_from: Any) -> None:
    doc = _person_api()
    doc["paths"]["/persons/{personId}"]["get"]["parameters"] = []
    outcome = check_outcome("openapi.document.valid", spec_from(doc))
    assert outcome.status is Status.FAILED
    assert any("personId" in f.message for f in outcome.findings)


def test_import_export_fails_without_write_operation(spec_from: Any) -> None:
    doc = _person_api()
    del doc["paths"]["/persons"]
    outcome = check_outcome("openapi.import-export", spec_from(doc))
    assert outcome.status is Status.FAILED
    assert [f.title for f in outcome.findings] == ["No import of POLE data"]


def test_import_export_fails_without_pole_schemas(spec_from: Any) -> None:
    doc = minimal_doc()
    doc["components"]["schemas"]["Widget"] = {"type": "object"}
    outcome = check_outcome("openapi.import-export", spec_from(doc))
    assert outcome.status is Status.FAILED
    assert outcome.findings[0].title == "No POLE data described"


def test_operation_id_missing_and_duplicate(spec_from: Any) -> None:
    doc = _person_api()
    doc["paths"]["/persons"]["post"]["operationId"] = "getPerson"
    doc["paths"]["/persons/{personId}"]["delete"] = {
        "summary": "Delete",
        "responses": {"204": {"description": "gone"}},
    }
    outcome = check_outcome("openapi.operation-id", spec_from(doc))
    assert outcome.status is Status.FAILED
    assert sorted(f.title for f in outcome.findings) == ["Duplicate operationId", "Missing operationId"]


def test_descriptions_missing(spec_from: Any) -> None:
    doc = _person_api()
    del doc["info"]["description"]
    del doc["paths"]["/persons"]["post"]["summary"]
    outcome = check_outcome("openapi.descriptions", spec_from(doc))
    assert outcome.status is Status.FAILED
    assert {f.title for f in outcome.findings} == {"API not described", "Operation not described"}


def test_success_response_without_schema_fails_but_204_passes(spec_from: Any) -> None:
    doc = _person_api()
    doc["paths"]["/persons"]["post"]["responses"] = {"201": {"description": "created"}}
    doc["paths"]["/persons/{personId}"]["delete"] = {
        "operationId": "deletePerson",
        "responses": {"204": {"description": "gone"}},
    }
    outcome = check_outcome("openapi.success-response-schema", spec_from(doc))
    assert outcome.status is Status.FAILED
    assert [f.operation for f in outcome.findings] == ["POST /persons"]


def test_typed_inputs_flags_untyped_parameter_and_empty_schema(spec_from: Any) -> None:
    doc = _person_api()
    doc["paths"]["/persons/{personId}"]["get"]["parameters"][0]["schema"] = {"description": "anything"}
    doc["components"]["schemas"]["Person"]["properties"]["extra"] = {}
    outcome = check_outcome("openapi.typed-inputs", spec_from(doc))
    assert outcome.status is Status.FAILED
    titles = sorted(f.title for f in outcome.findings)
    assert titles == ["Untyped parameter", "Untyped schema"]


def test_property_docs_coverage_threshold(spec_from: Any) -> None:
    doc = _person_api()
    for prop in doc["components"]["schemas"]["Person"]["properties"].values():
        del prop["example"]
    outcome = check_outcome("openapi.property-docs", spec_from(doc))
    assert outcome.status is Status.FAILED
    assert outcome.findings[0].found == "0%"
    assert (
        check_outcome("openapi.property-docs", spec_from(doc), example_coverage_min=0).status is Status.PASSED
    )


def test_contact_and_semver(spec_from: Any) -> None:
    doc = _person_api()
    doc["info"]["contact"] = {"name": "Team"}
    doc["info"]["version"] = "v1"
    spec = spec_from(doc)
    assert check_outcome("openapi.info.contact", spec).findings[0].title == "Contact without email or URL"
    assert check_outcome("openapi.info.semver", spec).status is Status.FAILED
    doc["info"]["version"] = "1.0.0-rc.1"
    assert check_outcome("openapi.info.semver", spec_from(doc)).status is Status.PASSED
    assert (
        check_outcome("openapi.info.semver", spec_from(doc), allow_prerelease=False).status is Status.FAILED
    )
