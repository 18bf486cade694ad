"""C10 portability checks: list/export operations, incremental export, MoPI metadata and deletion."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.outcome import Status
from conformance.spec import load_spec
from tests.conftest import CORPUS, check_outcome, minimal_doc

LIST = "openapi.export.list-operations"
INCREMENTAL = "openapi.export.incremental"
MOPI = "openapi.mopi.metadata"

_ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]


def _ok(schema: dict[str, Any], description: str = "OK", **extra: Any) -> dict[str, Any]:
    return {"200": {"description": description, "content": {"application/json": {"schema": schema}}, **extra}}


def _query(*names: str) -> list[dict[str, Any]]:
    return [{"name": n, "in": "query", "schema": {"type": "string"}} for n in names]


def _api() -> dict[str, Any]:
    """A Person API that passes all three checks."""
    doc = minimal_doc()
    doc["components"]["schemas"] = {
        "Person": {
            "type": "object",
            "x-pole-entity": "Person",
            "x-pole-catalogue-entity": "Person",
            "properties": {
                "id": {"type": "string"},
                "fullName": {"type": "string"},
                "review": {
                    "type": "object",
                    "properties": {"nextReviewDate": {"type": "string", "format": "date"}},
                },
                "metadata": {"type": "object", "properties": {"retentionCategory": {"type": "string"}}},
            },
        },
        "PersonPage": {
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/Person"}},
                "next": {"type": "string"},
            },
        },
    }
    person = {"$ref": "#/components/schemas/Person"}
    doc["paths"] = {
        "/persons": {
            "get": {
                "summary": "List persons",
                "parameters": _query("cursor", "updatedAfter"),
                "responses": _ok({"$ref": "#/components/schemas/PersonPage"}),
            }
        },
        "/persons/{id}": {
            "parameters": _ID,
            "get": {"summary": "Read a person", "responses": _ok(person)},
            "delete": {
                "summary": "Dispose of a person record",
                "responses": {"204": {"description": "gone"}},
            },
        },
    }
    return doc


# -- openapi.export.list-operations -----------------------------------------------------------------------
def test_list_operation_passes(spec_from: Any) -> None:
    """A cursor-paginated list of Person passes (cursor pagination implies a stable order)."""
    assert check_outcome(LIST, spec_from(_api())).status is Status.PASSED


def test_no_list_operation_fails(spec_from: Any) -> None:
    """An entity only readable by id has no list operation."""
    doc = _api()
    del doc["paths"]["/persons"]
    outcome = check_outcome(LIST, spec_from(doc))
    assert [(f.title, f.pointer) for f in outcome.findings] == [
        ("No list operation", "/components/schemas/Person")
    ]


def test_unpaginated_unordered_list_fails(spec_from: Any) -> None:
    """A bare array without paging parameters is neither paginated nor stably ordered."""
    doc = _api()
    doc["paths"]["/persons"]["get"]["parameters"] = []
    doc["paths"]["/persons"]["get"]["responses"] = _ok(
        {"type": "array", "items": {"$ref": "#/components/schemas/Person"}}
    )
    outcome = check_outcome(LIST, spec_from(doc))
    assert [(f.title, f.operation) for f in outcome.findings] == [
        ("List not paginated", "GET /persons"),
        ("Order not stable", "GET /persons"),
    ]


def test_page_pagination_needs_a_documented_order(spec_from: Any) -> None:
    """page/pageSize paging needs a sort parameter or a description of the order."""
    doc = _api()
    get = doc["paths"]["/persons"]["get"]
    get["parameters"] = _query("page", "pageSize")
    outcome = check_outcome(LIST, spec_from(doc))
    assert [f.title for f in outcome.findings] == ["Order not stable"]
    get["description"] = "Results are unordered."
    assert check_outcome(LIST, spec_from(doc)).status is Status.FAILED
    get["description"] = "Persons are ordered by createdAt, then id."
    assert check_outcome(LIST, spec_from(doc)).status is Status.PASSED
    del get["description"]
    get["parameters"] += _query("sort")
    assert check_outcome(LIST, spec_from(doc)).status is Status.PASSED


def test_link_header_and_envelopes_count(spec_from: Any) -> None:
    """A Link header paginates; a list inside a `data` envelope is found."""
    doc = _api()
    get = doc["paths"]["/persons"]["get"]
    get["parameters"] = _query("orderBy")
    envelope = {
        "type": "object",
        "properties": {
            "data": {
                "type": "object",
                "properties": {
                    "persons": {"type": "array", "items": {"$ref": "#/components/schemas/Person"}}
                },
            }
        },
    }
    get["responses"] = _ok(envelope, headers={"Link": {"schema": {"type": "string"}}})
    assert check_outcome(LIST, spec_from(doc)).status is Status.PASSED
    del get["responses"]["200"]["headers"]
    outcome = check_outcome(LIST, spec_from(doc))
    assert [f.title for f in outcome.findings] == ["List not paginated"]


def test_a_single_record_with_arrays_is_not_a_list(spec_from: Any) -> None:
    """GET /persons/me returns one Person: its address array does not make it a list of addresses."""
    doc = _api()
    doc["components"]["schemas"]["Address"] = {
        "type": "object",
        "x-pole-entity": "Location",
        "properties": {"postcode": {"type": "string"}},
    }
    doc["components"]["schemas"]["Person"]["properties"]["addresses"] = {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Address"},
    }
    doc["paths"]["/persons/me"] = {
        "get": {"summary": "Me", "responses": _ok({"$ref": "#/components/schemas/Person"})}
    }
    outcome = check_outcome(LIST, spec_from(doc))
    assert outcome.status is Status.PASSED  # Address is listed, nested in each Person of GET /persons


def test_list_inapplicable_without_pole_entities(spec_from: Any) -> None:
    """No POLE entities: nothing to export."""
    doc = minimal_doc()
    doc["components"]["schemas"] = {"Widget": {"type": "object"}}
    assert check_outcome(LIST, spec_from(doc)).status is Status.INAPPLICABLE


# -- openapi.export.incremental ---------------------------------------------------------------------------
def test_incremental_filter_passes(spec_from: Any) -> None:
    """updatedAfter on the list operation passes."""
    assert check_outcome(INCREMENTAL, spec_from(_api())).status is Status.PASSED


def test_incremental_missing_fails_and_a_change_feed_fixes_it(spec_from: Any) -> None:
    """Without a since-filter it fails at the list operation; a GET /changes feed passes."""
    doc = _api()
    doc["paths"]["/persons"]["get"]["parameters"] = _query("cursor")
    outcome = check_outcome(INCREMENTAL, spec_from(doc))
    assert [(f.title, f.operation) for f in outcome.findings] == [("No incremental export", "GET /persons")]
    doc["paths"]["/events/changes"] = {"get": {"summary": "Changes", "responses": _ok({"type": "object"})}}
    passed = check_outcome(INCREMENTAL, spec_from(doc))
    assert passed.status is Status.PASSED
    assert passed.notes == ("Change feed: GET /events/changes.",)


def test_incremental_inapplicable_without_list_operations(spec_from: Any) -> None:
    """No list operations: reported by openapi.export.list-operations instead."""
    doc = _api()
    del doc["paths"]["/persons"]
    assert check_outcome(INCREMENTAL, spec_from(doc)).status is Status.INAPPLICABLE


# -- openapi.mopi.metadata --------------------------------------------------------------------------------
def test_mopi_metadata_passes(spec_from: Any) -> None:
    """Nested review/retention metadata and a DELETE on the item path pass."""
    assert check_outcome(MOPI, spec_from(_api())).status is Status.PASSED


def test_mopi_metadata_missing_fails(spec_from: Any) -> None:
    """No review date, no retention category and no DELETE: three findings at the schema."""
    doc = _api()
    props = doc["components"]["schemas"]["Person"]["properties"]
    del props["review"], props["metadata"]
    del doc["paths"]["/persons/{id}"]["delete"]
    outcome = check_outcome(MOPI, spec_from(doc))
    assert [(f.title, f.pointer) for f in outcome.findings] == [
        ("No review metadata", "/components/schemas/Person"),
        ("No retention metadata", "/components/schemas/Person"),
        ("No deletion operation", "/components/schemas/Person"),
    ]


def test_mopi_joined_names_and_delete_related_by_collection(spec_from: Any) -> None:
    """review.date reads as reviewDate; a DELETE whose collection GET lists the entity relates to it."""
    doc = _api()
    props = doc["components"]["schemas"]["Person"]["properties"]
    props["review"] = {"type": "object", "properties": {"date": {"type": "string", "format": "date"}}}
    del doc["paths"]["/persons/{id}"]["get"]
    assert check_outcome(MOPI, spec_from(doc)).status is Status.PASSED


def test_mopi_inapplicable_without_pole_entities(spec_from: Any) -> None:
    """No POLE entities: nothing to review or dispose of."""
    assert check_outcome(MOPI, spec_from(minimal_doc())).status is Status.INAPPLICABLE


# -- every check of this suite's C3-C10 static set, over the shared corpus --------------------------------
MY_CHECKS = {
    "openapi.servers.https": "IOP-C4-01",
    "openapi.servers.sandbox": "IOP-C5-01",
    "openapi.version.visible": "IOP-C8-01",
    "openapi.no-licence-gating": "IOP-C3-02",
    "openapi.pole.tagged": "IOP-C6-01",
    "openapi.pole.code-lists": "IOP-C6-04",
    "openapi.pole.names": "IOP-C6-06",
    "openapi.security.defined": "IOP-C9-01",
    "openapi.security.no-basic-or-query-key": "IOP-C9-02a",
    "openapi.security.no-api-key": "IOP-C9-02b",
    "openapi.security.oauth2": "IOP-C9-03",
    "openapi.security.scopes": "IOP-C9-04",
    LIST: "IOP-C10-01",
    INCREMENTAL: "IOP-C10-03",
    MOPI: "IOP-C10-07",
}
_CORPUS = (
    sorted(p for p in CORPUS.glob("*") if p.suffix in (".json", ".yaml", ".yml")) if CORPUS.is_dir() else []
)


@pytest.mark.skipif(not _CORPUS, reason=f"the shared corpus is not at {CORPUS}")
@pytest.mark.parametrize("path", _CORPUS, ids=lambda p: p.name)
def test_corpus_documents_get_a_verdict(path: Any) -> None:
    """On every corpus document each check decides (never cantTell); speed is measured in bench/."""
    spec = load_spec(str(path))
    outcomes = {cid: check_outcome(cid, spec, requirement_id=rid) for cid, rid in MY_CHECKS.items()}
    undecided = {cid: o.reason for cid, o in outcomes.items() if o.status is Status.CANT_TELL}
    assert not undecided


def test_justifications_excuse_entities_and_operations(spec_from: Any) -> None:
    """A justified entity needs no list operation or MoPI metadata; a justified list needs no paging."""
    doc = _api()
    doc["components"]["schemas"]["Person"]["x-interop-pol-justification"] = "Held by the national system"
    del doc["paths"]["/persons"]
    del doc["components"]["schemas"]["Person"]["properties"]["review"]
    spec = spec_from(doc)
    assert check_outcome(LIST, spec).status is Status.PASSED
    assert check_outcome(MOPI, spec).status is Status.PASSED
    listed = _api()
    listed["paths"]["/persons"]["get"]["parameters"] = []
    listed["paths"]["/persons"]["get"]["x-interop-pol-justification"] = {"IOP-C10-01": "At most 20 records"}
    outcome = check_outcome(LIST, spec_from(listed), requirement_id="IOP-C10-01")
    assert outcome.status is Status.PASSED
    assert outcome.notes == ("GET /persons: justified: At most 20 records",)
