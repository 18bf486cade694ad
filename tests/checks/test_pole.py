"""C6 POLE checks: tagging, constrained values as code lists, inclusive person names."""

from __future__ import annotations

import re
from typing import Any

import yaml

from conformance.outcome import Status
from tests.conftest import ROOT, check_outcome, minimal_doc

TAGGED = "openapi.pole.tagged"
CODES = "openapi.pole.code-lists"
NAMES = "openapi.pole.names"


def _doc(**schemas: Any) -> dict[str, Any]:
    doc = minimal_doc()
    doc["components"]["schemas"] = schemas
    return doc


def _person(**properties: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "x-pole-entity": "Person",
        "x-pole-catalogue-entity": "Person",
        "properties": {"id": {"type": "string"}, **properties},
    }


# -- openapi.pole.tagged ----------------------------------------------------------------------------------
def test_tagged_schemas_pass(spec_from: Any) -> None:
    """Tagged POLE schemas pass; wrappers and non-POLE names are not POLE schemas."""
    doc = _doc(
        Person=_person(),
        Vehicle={
            "type": "object",
            "x-pole-entity": "Object",
            "x-pole-catalogue-entity": "Vehicle",
            "properties": {"vrm": {"type": "string"}},
        },
        PersonList={"type": "object", "properties": {"items": {"type": "array"}}},
        Widget={"type": "object"},
    )
    assert check_outcome(TAGGED, spec_from(doc)).status is Status.PASSED


def test_untagged_pole_schema_fails(spec_from: Any) -> None:
    """An object schema named like POLE data without x-pole-entity is a finding at the schema."""
    doc = _doc(Person=_person(), Address={"type": "object", "properties": {"postcode": {"type": "string"}}})
    outcome = check_outcome(TAGGED, spec_from(doc))
    assert [(f.title, f.pointer) for f in outcome.findings] == [
        ("POLE schema not tagged", "/components/schemas/Address")
    ]
    assert "x-pole-entity: Location" in (outcome.findings[0].fix or "")


def test_invalid_tag_and_missing_catalogue_entity(spec_from: Any) -> None:
    """A tag outside Person/Object/Location/Event, and a missing catalogue entity, are findings."""
    doc = _doc(
        Car={"type": "object", "x-pole-entity": "Vehicle", "x-pole-catalogue-entity": "Vehicle"},
        Person={"type": "object", "x-pole-entity": "Person", "properties": {"id": {"type": "string"}}},
    )
    outcome = check_outcome(TAGGED, spec_from(doc))
    assert sorted((f.title, f.pointer) for f in outcome.findings) == [
        ("Invalid POLE entity", "/components/schemas/Car/x-pole-entity"),
        ("No POLE catalogue entity", "/components/schemas/Person"),
    ]


def test_enums_named_like_pole_data_are_not_entities(spec_from: Any) -> None:
    """Scalar and enum schemas (call_enum_event, AddressLine) are not POLE records."""
    doc = _doc(call_enum_event={"type": "string", "enum": ["a", "b"]}, AddressLine={"type": "string"})
    outcome = check_outcome(TAGGED, spec_from(doc))
    assert outcome.status is Status.INAPPLICABLE


def test_tagged_inapplicable_without_pole_schemas(spec_from: Any) -> None:
    """No tagged or POLE-named schema: nothing to tag."""
    doc = _doc(Widget={"type": "object"})
    outcome = check_outcome(TAGGED, spec_from(doc))
    assert outcome.status is Status.INAPPLICABLE
    assert "x-pole-entity" in (outcome.reason or "")


# -- openapi.pole.code-lists ------------------------------------------------------------------------------
def test_enums_and_code_lists_pass(spec_from: Any) -> None:
    """enum, $ref to an enum, array items, x-code-list and an iHub-style oneOf of consts all pass."""
    doc = _doc(
        Gender={"type": "string", "enum": ["GNDR_0001", "GNDR_0003"]},
        Person=_person(
            gender={"$ref": "#/components/schemas/Gender"},
            ethnicAppearance={
                "type": "string",
                "x-code-list": {"id": "EOVD", "version": "1.0", "url": "https://x"},
            },
            nationalities={"type": "array", "items": {"type": "string", "enum": ["CRTY_GBR"]}},
            selfDefinedEthnicity={
                "type": "string",
                "oneOf": [{"const": "ESDD_W1", "description": "British"}, {"const": "ESDD_W2"}],
            },
            offenceCode={"allOf": [{"$ref": "#/components/schemas/Gender"}], "description": "x"},
            genderSelfDescribe={"type": "string"},
            offenceDate={"type": "string", "format": "date"},
            sexOffender={"type": "boolean"},
        ),
    )
    outcome = check_outcome(CODES, spec_from(doc))
    assert outcome.status is Status.PASSED, outcome.findings
    # sexOffender is named like one but is a flag, not a code
    assert outcome.notes == (
        "6 properties are named like constrained attributes; 5 use an enum or code list.",
    )


def test_free_text_code_fails(spec_from: Any) -> None:
    """A free string for gender, and Offence.code read as 'offence code', are findings."""
    doc = _doc(
        Person=_person(gender={"type": "string"}, ethnicity={"type": "integer"}),
        Offence={"type": "object", "properties": {"code": {"type": "string"}, "wording": {"type": "string"}}},
    )
    outcome = check_outcome(CODES, spec_from(doc))
    assert outcome.status is Status.FAILED
    assert sorted((f.title, f.pointer) for f in outcome.findings) == [
        ("Free-text code value", "/components/schemas/Offence/properties/code"),
        ("Free-text code value", "/components/schemas/Person/properties/ethnicity"),
        ("Free-text code value", "/components/schemas/Person/properties/gender"),
    ]


def test_incomplete_code_list_reference_fails(spec_from: Any) -> None:
    """An x-code-list without a version is a finding at the extension."""
    doc = _doc(Person=_person(nationality={"type": "string", "x-code-list": {"id": "NLTY"}}))
    outcome = check_outcome(CODES, spec_from(doc))
    [only] = outcome.findings
    assert (only.title, only.pointer) == (
        "Incomplete code list reference",
        "/components/schemas/Person/properties/nationality/x-code-list",
    )
    assert "without version" in only.message


def test_coded_object_is_judged_by_its_code(spec_from: Any) -> None:
    """gender: {code, label} passes when code is an enum and fails when it is free text."""
    coded = {
        "type": "object",
        "properties": {"code": {"type": "string", "enum": ["M"]}, "label": {"type": "string"}},
    }
    assert check_outcome(CODES, spec_from(_doc(Person=_person(gender=coded)))).status is Status.PASSED
    coded["properties"]["code"] = {"type": "string"}
    outcome = check_outcome(CODES, spec_from(_doc(Person=_person(gender=coded))))
    assert [f.pointer for f in outcome.findings] == [
        "/components/schemas/Person/properties/gender/properties/code"
    ]


def test_code_lists_inapplicable_without_constrained_names(spec_from: Any) -> None:
    """No property named like gender/ethnicity/offence: nothing to constrain."""
    outcome = check_outcome(CODES, spec_from(_doc(Person=_person(fullName={"type": "string"}))))
    assert outcome.status is Status.INAPPLICABLE


def test_constrained_names_are_a_parameter(spec_from: Any) -> None:
    """A profile can add attributes, such as eye colour."""
    doc = _doc(Person=_person(eyeColour={"type": "string"}))
    assert check_outcome(CODES, spec_from(doc)).status is Status.INAPPLICABLE
    outcome = check_outcome(CODES, spec_from(doc), constrained_names=["eye colour"])
    assert outcome.findings[0].title == "Free-text code value"


# -- openapi.pole.names -----------------------------------------------------------------------------------
def _named(required: list[str], **properties: Any) -> dict[str, Any]:
    person = _person(**properties)
    person["required"] = required
    return _doc(Person=person)


def test_names_pass_with_full_name_alternative_or_optional_parts(spec_from: Any) -> None:
    """Required first/last names are fine beside a fullName; optional ones are fine on their own."""
    text = {"type": "string"}
    with_full = _named(["firstName", "lastName"], firstName=text, lastName=text, fullName=text)
    assert check_outcome(NAMES, spec_from(with_full)).status is Status.PASSED
    optional = _named(["id"], forename=text, surname=text)
    assert check_outcome(NAMES, spec_from(optional)).status is Status.PASSED


def test_required_given_and_family_name_fail(spec_from: Any) -> None:
    """Required given_name + family_name without a full name is a finding at the schema."""
    text = {"type": "string"}
    doc = _named(["given_name", "family_name"], given_name=text, family_name=text)
    outcome = check_outcome(NAMES, spec_from(doc))
    [only] = outcome.findings
    assert (only.title, only.pointer) == ("Western name structure required", "/components/schemas/Person")
    assert only.found == "required: given_name, family_name"


def test_nested_name_object_is_examined(spec_from: Any) -> None:
    """A name object requiring forename + surname fails; an object called 'name' is no alternative."""
    name = {
        "type": "object",
        "required": ["forename", "surname"],
        "properties": {"forename": {"type": "string"}, "surname": {"type": "string"}},
    }
    outcome = check_outcome(NAMES, spec_from(_named([], name=name)))
    assert [f.pointer for f in outcome.findings] == ["/components/schemas/Person/properties/name"]
    name["properties"]["fullName"] = {"type": "string"}
    assert check_outcome(NAMES, spec_from(_named([], name=name))).status is Status.PASSED


def test_names_inapplicable_without_person_schemas(spec_from: Any) -> None:
    """Only Person entities are examined."""
    doc = _doc(Vehicle={"type": "object", "properties": {"firstName": {"type": "string"}}})
    assert check_outcome(NAMES, spec_from(doc)).status is Status.INAPPLICABLE


def test_justified_schemas_and_properties_are_skipped(spec_from: Any) -> None:
    """x-interop-pol-justification on a schema or property excuses it, and the reason is noted."""
    doc = _doc(
        EventSource={
            "type": "object",
            "x-interop-pol-justification": {"IOP-C6-01": "Not POLE data: a message-bus source"},
        },
        Person=_person(
            gender={"type": "string", "x-interop-pol-justification": {"C6-04": "Free text by law"}}
        ),
    )
    tagged = check_outcome(TAGGED, spec_from(doc), requirement_id="IOP-C6-01")
    assert tagged.status is Status.PASSED
    assert tagged.notes == ("Schema 'EventSource': justified: Not POLE data: a message-bus source",)
    assert check_outcome(TAGGED, spec_from(doc), requirement_id="IOP-C9-01").status is Status.FAILED
    codes = check_outcome(CODES, spec_from(doc), requirement_id="IOP-C6-04")
    assert codes.status is Status.PASSED
    assert "Property 'gender' of schema 'Person': justified: Free text by law" in codes.notes


def test_docs_pole_md_examples_conform(spec_from: Any) -> None:
    """Every schema example in docs/pole.md parses and passes the C6 checks (or is not in their scope)."""
    text = (ROOT / "docs" / "pole.md").read_text(encoding="utf-8")
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL)]
    examples = [b for b in blocks if isinstance(b, dict) and "components" in b]
    assert len(examples) >= 5
    for example in examples:
        doc = minimal_doc()
        doc["components"] = example["components"]
        doc["paths"] = example.get("paths", {})
        spec = spec_from(doc)
        checks = [(TAGGED, "IOP-C6-01"), (CODES, "IOP-C6-04"), (NAMES, "IOP-C6-06")]
        if "paths" in example:
            checks.append(("openapi.mopi.metadata", "IOP-C10-07"))
        for check_id, requirement_id in checks:
            outcome = check_outcome(check_id, spec, requirement_id=requirement_id)
            assert outcome.status is not Status.FAILED, (check_id, outcome.findings)
