"""C4 payload checks: JSON media types, object roots, property case, predictable keys, ISO 8601 dates,
location coordinates; each passes on a good document and fails on a bad one."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.outcome import Status
from tests.conftest import CORPUS, check_outcome, corpus_names, corpus_spec, minimal_doc

PAYLOAD_CHECKS = (
    "openapi.media.json",
    "openapi.response.object-root",
    "openapi.property-case",
    "openapi.predictable-keys",
    "openapi.dates.iso8601",
    "openapi.location.crs",
)


def _content(schema: dict[str, Any], media_type: str = "application/json") -> dict[str, Any]:
    return {"content": {media_type: {"schema": schema}}}


def _ok(schema: dict[str, Any], media_type: str = "application/json") -> dict[str, Any]:
    return {"200": {"description": "OK", **_content(schema, media_type)}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _api(schemas: dict[str, Any], root: str = "Case") -> dict[str, Any]:
    """A document with ``schemas`` and one GET /cases/{caseId} returning ``root``, one POST accepting it."""
    doc = minimal_doc()
    doc["components"]["schemas"] = schemas
    doc["paths"] = {
        "/cases/{caseId}": {
            "get": {
                "operationId": "getCase",
                "parameters": [
                    {"name": "caseId", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": _ok(_ref(root)),
            }
        },
        "/cases": {
            "post": {
                "operationId": "createCase",
                "requestBody": _content(_ref(root)),
                "responses": {"201": {"description": "Created", **_content(_ref(root))}},
            }
        },
    }
    return doc


def _case(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


# -- openapi.media.json ----------------------------------------------------------------------------------
def test_media_json_passes_on_json_api(spec_from: Any) -> None:
    """Operations exchanging application/json (or a +json type) pass."""
    doc = _api({"Case": _case(id={"type": "string"})})
    doc["paths"]["/cases"]["post"]["responses"]["201"] = {
        "description": "Created",
        **_content(_ref("Case"), "application/vnd.police.case+json"),
    }
    assert check_outcome("openapi.media.json", spec_from(doc)).status is Status.PASSED


def test_media_json_flags_xml_only_operation(spec_from: Any) -> None:
    """An operation that only speaks XML is reported once, as XML-only, at the operation."""
    doc = _api({"Case": _case(id={"type": "string"})})
    doc["paths"]["/cases"]["post"]["requestBody"] = _content(_ref("Case"), "application/xml")
    doc["paths"]["/cases"]["post"]["responses"]["201"] = {
        "description": "Created",
        **_content(_ref("Case"), "text/xml"),
    }
    outcome = check_outcome("openapi.media.json", spec_from(doc))
    assert outcome.status is Status.FAILED
    [only] = outcome.findings
    assert (only.title, only.pointer, only.operation) == (
        "XML-only operation",
        "/paths/~1cases/post",
        "POST /cases",
    )


def test_media_json_judges_request_and_response_separately(spec_from: Any) -> None:
    """A form-encoded request body fails even though the response is JSON."""
    doc = _api({"Case": _case(id={"type": "string"})})
    doc["paths"]["/cases"]["post"]["requestBody"] = _content(
        _ref("Case"), "application/x-www-form-urlencoded"
    )
    outcome = check_outcome("openapi.media.json", spec_from(doc))
    assert [(f.title, f.pointer) for f in outcome.findings] == [
        ("Request body not offered as JSON", "/paths/~1cases/post/requestBody")
    ]
    assert outcome.findings[0].found == "application/x-www-form-urlencoded"


def test_media_json_allows_listed_non_json_and_wildcard_requests(spec_from: Any) -> None:
    """CSV exports and */* request bodies pass; a response that is only text/plain fails."""
    doc = _api({"Case": _case(id={"type": "string"})})
    doc["paths"]["/cases/{caseId}"]["get"]["responses"] = _ok({"type": "string"}, "text/csv")
    doc["paths"]["/cases"]["post"]["requestBody"] = _content(_ref("Case"), "*/*")
    assert check_outcome("openapi.media.json", spec_from(doc)).status is Status.PASSED
    doc["paths"]["/cases/{caseId}"]["get"]["responses"] = _ok({"type": "string"}, "text/plain")
    outcome = check_outcome("openapi.media.json", spec_from(doc))
    assert [(f.title, f.operation) for f in outcome.findings] == [
        ("Response not offered as JSON", "GET /cases/{caseId}")
    ]
    assert (
        check_outcome("openapi.media.json", spec_from(doc), allowed_non_json=["text/*"]).status
        is Status.PASSED
    )


def test_media_json_accepts_written_justification(spec_from: Any) -> None:
    """x-interop-pol-justification keyed by the catalogue id excuses the operation and is noted."""
    doc = _api({"Case": _case(id={"type": "string"})})
    post = doc["paths"]["/cases"]["post"]
    post["requestBody"] = _content(_ref("Case"), "application/xml")
    post["responses"]["201"] = {"description": "Created", **_content(_ref("Case"), "application/xml")}
    post["x-interop-pol-justification"] = {"C4-02": "MAIT v0.2.2 messages are XML"}
    outcome = check_outcome("openapi.media.json", spec_from(doc), requirement_id="IOP-C4-02")
    assert outcome.status is Status.PASSED
    assert any("POST /cases" in note for note in outcome.notes)


def test_media_json_swagger2_produces_xml(spec_from: Any) -> None:
    """Swagger 2.0 produces/consumes are read: an XML-only operation fails."""
    doc = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1.0.0"},
        "produces": ["application/xml"],
        "consumes": ["application/xml"],
        "paths": {
            "/cases": {"get": {"responses": {"200": {"description": "OK", "schema": {"type": "object"}}}}}
        },
    }
    outcome = check_outcome("openapi.media.json", spec_from(doc))
    assert [f.title for f in outcome.findings] == ["XML-only operation"]


def test_media_json_inapplicable_without_bodies(spec_from: Any) -> None:
    """No request or 2xx response body anywhere: nothing to judge."""
    doc = minimal_doc()
    doc["paths"] = {"/cases/{id}": {"delete": {"responses": {"204": {"description": "Deleted"}}}}}
    assert check_outcome("openapi.media.json", spec_from(doc)).status is Status.INAPPLICABLE


# -- openapi.response.object-root ------------------------------------------------------------------------
def test_object_root_passes_on_object(spec_from: Any) -> None:
    """An object at the top level (through $ref) passes."""
    doc = _api({"Case": _case(id={"type": "string"})})
    assert check_outcome("openapi.response.object-root", spec_from(doc)).status is Status.PASSED


def test_object_root_flags_array_through_ref_and_all_of(spec_from: Any) -> None:
    """A 2xx JSON schema that is an array (via $ref and allOf) is reported at the media type's schema."""
    doc = _api(
        {
            "Case": _case(id={"type": "string"}),
            "CaseList": {"allOf": [{"type": "array", "items": _ref("Case")}]},
        }
    )
    doc["paths"]["/cases"]["get"] = {"responses": _ok(_ref("CaseList"))}
    outcome = check_outcome("openapi.response.object-root", spec_from(doc))
    assert [(f.title, f.operation, f.pointer) for f in outcome.findings] == [
        (
            "Array at the top level",
            "GET /cases",
            "/paths/~1cases/get/responses/200/content/application~1json/schema",
        )
    ]


def test_object_root_reports_shared_response_once(spec_from: Any) -> None:
    """A component response used by two operations is one finding naming both."""
    doc = _api({"Case": _case(id={"type": "string"})})
    doc["components"]["responses"] = {
        "Cases": {"description": "Cases", **_content({"type": "array", "items": {}})}
    }
    doc["paths"]["/cases"]["get"] = {"responses": {"200": {"$ref": "#/components/responses/Cases"}}}
    doc["paths"]["/open-cases"] = {"get": {"responses": {"200": {"$ref": "#/components/responses/Cases"}}}}
    outcome = check_outcome("openapi.response.object-root", spec_from(doc))
    [only] = outcome.findings
    assert only.pointer == "/components/responses/Cases/content/application~1json/schema"
    assert "GET /cases" in only.message
    assert "GET /open-cases" in only.message


def test_object_root_inapplicable_without_json_schemas(spec_from: Any) -> None:
    """No 2xx JSON response schema: inapplicable."""
    doc = minimal_doc()
    doc["paths"] = {"/report": {"get": {"responses": _ok({"type": "string"}, "text/csv")}}}
    assert check_outcome("openapi.response.object-root", spec_from(doc)).status is Status.INAPPLICABLE


# -- openapi.property-case -------------------------------------------------------------------------------
def test_property_case_passes_on_camel_case(spec_from: Any) -> None:
    """camelCase and single words, plus ignored prefixes like _links and @type, pass."""
    doc = _api(
        {
            "Case": _case(
                caseId={"type": "string"},
                openedAt={"type": "string"},
                status={"type": "string"},
                _links={"type": "object"},
                **{"@type": {"type": "string"}},
            )
        }
    )
    outcome = check_outcome("openapi.property-case", spec_from(doc))
    assert outcome.status is Status.PASSED
    assert "camelCase" in outcome.notes[0]


def test_property_case_flags_minority_convention(spec_from: Any) -> None:
    """In a camelCase document a snake_case name and a PascalCase name are reported, once per name."""
    doc = _api(
        {
            "Case": _case(
                caseId={"type": "string"}, openedAt={"type": "string"}, closed_at={"type": "string"}
            ),
            "Charge": _case(
                chargeId={"type": "string"}, closed_at={"type": "string"}, Offence={"type": "string"}
            ),
        }
    )
    outcome = check_outcome("openapi.property-case", spec_from(doc))
    assert sorted((f.title, f.found) for f in outcome.findings) == [
        ("Property name not in the chosen case", "'Offence' (PascalCase)"),
        ("Property name not in the chosen case", "'closed_at' (snake_case)"),
    ]
    closed = next(f for f in outcome.findings if "closed_at" in f.found)
    assert closed.pointer == "/components/schemas/Case/properties/closed_at"
    assert "closedAt" in (closed.fix or "")


def test_property_case_explicit_convention(spec_from: Any) -> None:
    """convention=snake_case reports the camelCase names instead."""
    doc = _api(
        {"Case": _case(caseId={"type": "string"}, openedAt={"type": "string"}, closed_at={"type": "string"})}
    )
    outcome = check_outcome("openapi.property-case", spec_from(doc), convention="snake_case")
    assert sorted(f.found or "" for f in outcome.findings) == [
        "'caseId' (camelCase)",
        "'openedAt' (camelCase)",
    ]


def test_property_case_pascal_document_has_no_convention(spec_from: Any) -> None:
    """A document with only PascalCase names fails: neither camelCase nor snake_case is used."""
    doc = _api({"Case": _case(CaseId={"type": "string"}, Status={"type": "string"})})
    outcome = check_outcome("openapi.property-case", spec_from(doc))
    assert {f.expected for f in outcome.findings} == {"camelCase or snake_case"}
    assert len(outcome.findings) == 2


def test_property_case_bad_convention_and_inapplicable(spec_from: Any) -> None:
    """An unknown convention cannot be judged; a document without properties is inapplicable."""
    doc = _api({"Case": _case(caseId={"type": "string"})})
    outcome = check_outcome("openapi.property-case", spec_from(doc), convention="kebab")
    assert outcome.status is Status.CANT_TELL
    assert "convention" in (outcome.reason or "")
    assert check_outcome("openapi.property-case", spec_from(minimal_doc())).status is Status.INAPPLICABLE


# -- openapi.predictable-keys ----------------------------------------------------------------------------
def test_predictable_keys_passes_on_fixed_properties(spec_from: Any) -> None:
    """Fixed properties and free-form objects (additionalProperties true, {} or only annotations) pass."""
    doc = _api(
        {
            "Case": _case(
                id={"type": "string"},
                extra={"type": "object", "additionalProperties": True},
                more={"type": "object", "additionalProperties": {}},
                notes={"type": "object", "additionalProperties": {"description": "Any value."}},
            )
        }
    )
    assert check_outcome("openapi.predictable-keys", spec_from(doc)).status is Status.PASSED


def test_predictable_keys_flags_maps_in_responses(spec_from: Any) -> None:
    """A typed additionalProperties map and patternProperties reached from a response are reported."""
    doc = _api(
        {
            "Case": _case(id={"type": "string"}, labels=_ref("Labels")),
            "Labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "Counts": {"type": "object", "patternProperties": {"^[a-z]+$": {"type": "integer"}}},
        }
    )
    doc["components"]["schemas"]["Case"]["properties"]["counts"] = _ref("Counts")
    outcome = check_outcome("openapi.predictable-keys", spec_from(doc))
    assert sorted((f.title, f.pointer) for f in outcome.findings) == [
        ("Map keyed by data", "/components/schemas/Counts"),
        ("Map keyed by data", "/components/schemas/Labels"),
    ]


def test_predictable_keys_ignores_request_only_and_justified_maps(spec_from: Any) -> None:
    """A map only used in requests is not judged; a justified map is not reported."""
    doc = _api(
        {
            "Case": _case(id={"type": "string"}),
            "Filter": {"type": "object", "additionalProperties": {"type": "string"}},
        }
    )
    doc["paths"]["/searches"] = {
        "post": {"requestBody": _content(_ref("Filter")), "responses": {"204": {"description": "ok"}}}
    }
    doc["components"]["schemas"]["Case"]["properties"]["tags"] = {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "x-interop-pol-justification": "Free-form tags chosen by the force.",
    }
    outcome = check_outcome("openapi.predictable-keys", spec_from(doc))
    assert outcome.status is Status.PASSED
    assert outcome.notes == ("1 map schema(s) carry a written justification.",)


def test_predictable_keys_inapplicable_without_response_schemas(spec_from: Any) -> None:
    """No response schema at all: inapplicable."""
    doc = minimal_doc()
    doc["paths"] = {"/cases/{id}": {"delete": {"responses": {"204": {"description": "Deleted"}}}}}
    assert check_outcome("openapi.predictable-keys", spec_from(doc)).status is Status.INAPPLICABLE


# -- openapi.dates.iso8601 -------------------------------------------------------------------------------
def test_dates_pass_with_iso_formats(spec_from: Any) -> None:
    """ISO date strings pass through $ref, allOf and a 3.1 nullable anyOf; unrelated names are skipped."""
    doc = _api(
        {
            "Timestamp": {"type": "string", "format": "date-time"},
            "Case": _case(
                createdAt=_ref("Timestamp"),
                dateOfBirth={"type": "string", "format": "date"},
                updatedOn={"allOf": [_ref("Timestamp")], "description": "Last change."},
                closedAt={"anyOf": [_ref("Timestamp"), {"type": "null"}]},
                timeZone={"type": "string"},
                timeoutSeconds={"type": "integer"},
                candidate={"type": "string"},
                isDated={"type": "boolean"},
            ),
        }
    )
    doc["paths"]["/cases"]["get"] = {
        "parameters": [
            {"name": "updatedAfter", "in": "query", "schema": _ref("Timestamp")},
            {"name": "If-Modified-Since", "in": "header", "schema": {"type": "string"}},
        ],
        "responses": _ok(_ref("Case")),
    }
    outcome = check_outcome("openapi.dates.iso8601", spec_from(doc))
    assert outcome.status is Status.PASSED, outcome.findings


def test_dates_flag_numbers_free_text_and_foreign_formats(spec_from: Any) -> None:
    """Epoch integers, strings without a format and RFC 2822 dates are reported with their kind."""
    doc = _api(
        {
            "Case": _case(
                createdAt={"type": "integer"},
                date_of_offence={"type": "string"},
                date_created={"type": "string", "format": "date-time-rfc-2822"},
            )
        }
    )
    outcome = check_outcome("openapi.dates.iso8601", spec_from(doc))
    assert sorted((f.title, f.pointer) for f in outcome.findings) == [
        ("Date or time as a number", "/components/schemas/Case/properties/createdAt"),
        ("Date or time in a non-ISO 8601 format", "/components/schemas/Case/properties/date_created"),
        ("Date or time without an ISO 8601 format", "/components/schemas/Case/properties/date_of_offence"),
    ]


def test_dates_flag_query_parameter_and_non_string_format(spec_from: Any) -> None:
    """A date-like query parameter without a format, and format: date on an integer, are reported."""
    doc = _api({"Case": _case(id={"type": "string"}, year={"type": "integer", "format": "date"})})
    doc["paths"]["/cases"]["get"] = {
        "parameters": [{"name": "updated_since", "in": "query", "schema": {"type": "string"}}],
        "responses": _ok(_ref("Case")),
    }
    outcome = check_outcome("openapi.dates.iso8601", spec_from(doc))
    assert sorted((f.title, f.operation, f.pointer) for f in outcome.findings) == [
        ("Date format on a non-string", None, "/components/schemas/Case/properties/year"),
        ("Date or time without an ISO 8601 format", "GET /cases", "/paths/~1cases/get/parameters/0"),
    ]


def test_dates_swagger2_parameters(spec_from: Any) -> None:
    """Swagger 2.0 parameters carry type and format themselves."""
    doc = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1.0.0"},
        "paths": {
            "/cases": {
                "get": {
                    "parameters": [
                        {"name": "fromDate", "in": "query", "type": "string", "format": "date"},
                        {"name": "toDate", "in": "query", "type": "string"},
                    ],
                    "responses": {"200": {"description": "OK"}},
                }
            }
        },
    }
    outcome = check_outcome("openapi.dates.iso8601", spec_from(doc))
    assert [f.pointer for f in outcome.findings] == ["/paths/~1cases/get/parameters/1"]


def test_dates_parameters_and_inapplicable(spec_from: Any) -> None:
    """The name patterns are parameters; a bad one cannot be judged; no date-like names: inapplicable."""
    doc = _api({"Case": _case(id={"type": "string"}, heardWhen={"type": "string"})})
    assert check_outcome("openapi.dates.iso8601", spec_from(doc)).status is Status.INAPPLICABLE
    custom = check_outcome("openapi.dates.iso8601", spec_from(doc), name_pattern=r"_when$")
    assert [f.title for f in custom.findings] == ["Date or time without an ISO 8601 format"]
    broken = check_outcome("openapi.dates.iso8601", spec_from(doc), name_pattern="(")
    assert broken.status is Status.CANT_TELL
    assert "name_pattern" in (broken.reason or "")


# -- openapi.location.crs --------------------------------------------------------------------------------
def _located(location: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return _api(
        {"Case": _case(id={"type": "string"}, location=_ref("Location")), "Location": location, **extra}
    )


def test_location_passes_with_geojson_or_stated_crs(spec_from: Any) -> None:
    """GeoJSON geometry, and lat/long with WGS 84 stated (description or crs property), pass."""
    point = {"type": "object", "properties": {"type": {"type": "string"}, "coordinates": {"type": "array"}}}
    geo = _located(
        {"type": "object", "x-pole-entity": "Location", "properties": {"geometry": _ref("Point")}},
        Point=point,
    )
    assert check_outcome("openapi.location.crs", spec_from(geo)).status is Status.PASSED
    described = _located(
        {
            "type": "object",
            "description": "A point in WGS 84 (EPSG:4326) decimal degrees.",
            "properties": {
                "latitude": {"type": "number"},
                "longitude": {"type": "number"},
                "easting": {"type": "number"},
                "northing": {"type": "number"},
            },
        }
    )
    assert check_outcome("openapi.location.crs", spec_from(described)).status is Status.PASSED
    crs = _located(
        {
            "type": "object",
            "properties": {"lat": {"type": "number"}, "lng": {"type": "number"}, "crs": {"type": "string"}},
        }
    )
    assert check_outcome("openapi.location.crs", spec_from(crs)).status is Status.PASSED


def test_location_flags_missing_crs(spec_from: Any) -> None:
    """lat/long without any CRS statement is reported at the schema that holds them."""
    doc = _located(
        {"type": "object", "properties": {"latitude": {"type": "number"}, "longitude": {"type": "number"}}}
    )
    outcome = check_outcome("openapi.location.crs", spec_from(doc))
    assert [(f.title, f.pointer) for f in outcome.findings] == [
        ("Coordinate reference system not stated", "/components/schemas/Location")
    ]


def test_location_flags_osgb36_only(spec_from: Any) -> None:
    """Eastings/northings without lat/long or GeoJSON are reported."""
    doc = _located(
        {"type": "object", "properties": {"easting": {"type": "integer"}, "northing": {"type": "integer"}}}
    )
    outcome = check_outcome("openapi.location.crs", spec_from(doc))
    assert [f.title for f in outcome.findings] == ["OSGB36 eastings/northings only"]


def test_location_flags_tagged_location_without_coordinates(spec_from: Any) -> None:
    """A schema tagged x-pole-entity: Location that reaches no coordinates is reported."""
    doc = _located(
        {"type": "object", "x-pole-entity": "Location", "properties": {"postcode": {"type": "string"}}}
    )
    outcome = check_outcome("openapi.location.crs", spec_from(doc))
    assert [(f.title, f.pointer) for f in outcome.findings] == [
        ("Location without coordinates", "/components/schemas/Location")
    ]


def test_location_inapplicable_without_location_schemas(spec_from: Any) -> None:
    """No location-like schema (an IpAddress is not one): inapplicable; an untagged Address passes."""
    doc = _api(
        {
            "Case": _case(id={"type": "string"}, source=_ref("IpAddress")),
            "IpAddress": _case(ip={"type": "string"}),
        }
    )
    assert check_outcome("openapi.location.crs", spec_from(doc)).status is Status.INAPPLICABLE
    doc["components"]["schemas"]["Address"] = _case(postcode={"type": "string"})
    outcome = check_outcome("openapi.location.crs", spec_from(doc))
    assert outcome.status is Status.PASSED
    assert "Address" in outcome.notes[0]


# -- the corpus ------------------------------------------------------------------------------------------
@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not available")
@pytest.mark.parametrize("name", corpus_names())
def test_payload_checks_decide_on_every_corpus_document(name: str) -> None:
    """On real documents every payload check decides (passed, failed or inapplicable), never crashes."""
    spec = corpus_spec(name)
    for check_id in PAYLOAD_CHECKS:
        outcome = check_outcome(check_id, spec)
        assert outcome.status is not Status.CANT_TELL, (check_id, outcome.reason)
