"""C6-02: the customer-supplied POLE data dictionary — its loader (one-line errors naming file and row), the
value rules the live check uses, and the static check of tagged schemas against it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conformance.checks.pole_dictionary import (
    DataType,
    DictionaryAttribute,
    load_dictionary,
    value_problem,
    values_at,
)
from conformance.errors import DataDictionaryError
from conformance.outcome import Status
from conformance.reference import REFERENCE_DICTIONARY
from conformance.spec import Spec, load_spec
from tests.conftest import REFERENCE_SPEC, ROOT, check_outcome, minimal_doc

CHECK = "openapi.pole.dictionary"
FIXTURES = ROOT / "tests" / "fixtures" / "pole-dictionary"
GOOD = REFERENCE_DICTIONARY
BROKEN = FIXTURES / "synthetic-violated.json"
HEADER = "entity,attribute,data_type,max_length,mandatory,code_list,values\n"


@pytest.fixture(scope="module")
def reference_spec() -> Spec:
    return load_spec(str(REFERENCE_SPEC))


def _csv(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "dictionary.csv"
    path.write_text(header + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def _attribute(data_type: DataType, **fields: Any) -> DictionaryAttribute:
    values: dict[str, Any] = {
        "entity": "Person",
        "attribute": "x",
        "max_length": None,
        "mandatory": False,
        "code_list": None,
        "values": (),
        "row": 2,
    }
    return DictionaryAttribute(data_type=data_type, **(values | fields))


# -- the loader ---------------------------------------------------------------------------------------------
def test_csv_fixture_loads() -> None:
    """The synthetic CSV: comment lines before the header are skipped, columns matched by their words, rows
    numbered by line, a code list's values shared by every row that names it."""
    dictionary = load_dictionary(GOOD)
    assert dictionary.entities == ("Person", "Object", "Location", "Event")
    assert len(dictionary.attributes) == 29
    dob = next(a for a in dictionary.entity("person") if a.attribute == "Date of Birth")
    assert (dob.path, dob.data_type, dob.row) == (("dateofbirth",), DataType.DATE, 9)
    retention = next(a for a in dictionary.entity("Object") if a.attribute == "review.retentionCategory")
    assert retention.path == ("review", "retentioncategory")
    assert retention.values == ("group1", "group2", "group3", "group4")  # from the Person row's list
    assert len(dictionary.sha256) == 64


def test_json_fixture_loads() -> None:
    """The JSON form: name, version, rows in 'attributes', values from 'codeLists'."""
    dictionary = load_dictionary(BROKEN)
    assert dictionary.name is not None
    assert dictionary.name.startswith("SYNTHETIC EXAMPLE")
    assert dictionary.version == "0.0-test"
    gender = next(a for a in dictionary.attributes if a.attribute == "gender")
    assert (gender.values, gender.row, gender.mandatory) == (
        ("GNDR_0001", "GNDR_0002", "GNDR_0003"),
        3,
        False,
    )


def test_spellings_of_types_and_flags(tmp_path: Path) -> None:
    """Data types and mandatory flags are read in the spellings dictionary exports use."""
    path = _csv(
        tmp_path,
        "Person,a,Free Text,35,M,,",
        "Person,b,Date/Time,,O,,",
        "Person,c,Yes/No,,yes,,",
        "Person,d,Whole number,,,,",
        "Person,e,Lookup,4,false,GNDR,GNDR_0001|GNDR_0002",
    )
    rows = load_dictionary(path).attributes
    assert [(a.data_type, a.mandatory) for a in rows] == [
        (DataType.TEXT, True),
        (DataType.DATE_TIME, False),
        (DataType.BOOLEAN, True),
        (DataType.INTEGER, False),
        (DataType.CODE, False),
    ]
    assert rows[-1].values == ("GNDR_0001", "GNDR_0002")


@pytest.mark.parametrize(
    ("rows", "header", "message"),
    [
        ((), "entity,attribute\n", r"dictionary\.csv:row 1: the header row has no 'data_type' column"),
        (("Person,x,blob,,,,",), HEADER, r":row 2: 'data_type' must be one of text, code, .* \(got 'blob'\)"),
        (
            ("Person,x,text,ten,,,",),
            HEADER,
            r":row 2: 'max_length' must be a whole number of 1 or more \(got 'ten'\)",
        ),
        (
            ("Person,x,text,0,,,",),
            HEADER,
            r":row 2: 'max_length' must be a whole number of 1 or more \(got '0'\)",
        ),
        (("Person,x,text,,maybe,,",), HEADER, r":row 2: 'mandatory' must be one of Y, N, .* \(got 'maybe'\)"),
        ((",x,text,,,,",), HEADER, r":row 2: 'entity' must not be empty"),
        (("Person,x,text", "person,X,code"), HEADER, r":row 3: person\.X is already defined on row 2"),
        (("Person,x,text,,,,,extra",), HEADER, r":row 2: the row has 8 cells but the header names 7 columns"),
        (("Person,a..b,text",), HEADER, r":row 2: 'attribute' must be a name, or names joined by '\.'"),
        (
            ("Person,a,code,,,L,A|B", "Person,b,code,,,L,A|C"),
            HEADER,
            r":row 3: code list 'L' is given different values on row 2",
        ),
        ((), HEADER, r"dictionary\.csv: the data dictionary defines no attributes"),
    ],
)
def test_csv_errors_name_file_and_row(
    tmp_path: Path, rows: tuple[str, ...], header: str, message: str
) -> None:
    """Each malformed CSV is refused with one line naming the file and the row."""
    path = _csv(tmp_path, *rows, header=header)
    with pytest.raises(DataDictionaryError, match=message) as caught:
        load_dictionary(path)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", r"dictionary\.json: not valid JSON"),
        ('{"rows": []}', r"must be an object with an 'attributes' array, or an array of rows"),
        ('["Person"]', r"dictionary\.json:row 1: must be an object \(got Person\)"),
        ('{"codeLists": [], "attributes": []}', r"'codeLists' must be an object"),
        (
            '[{"entity": "Person", "attribute": "x", "type": "text", "values": 3}]',
            r":row 1: 'values' must be",
        ),
    ],
)
def test_json_errors(tmp_path: Path, text: str, message: str) -> None:
    """Each malformed JSON dictionary is refused with a message naming the file (and the row)."""
    path = tmp_path / "dictionary.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataDictionaryError, match=message):
        load_dictionary(path)


def test_unreadable_files(tmp_path: Path) -> None:
    """A missing file and a file that is not UTF-8 are refused, naming the file."""
    with pytest.raises(DataDictionaryError, match=r"missing\.csv: cannot read the data dictionary"):
        load_dictionary(tmp_path / "missing.csv")
    latin = tmp_path / "latin.csv"
    latin.write_bytes(HEADER.encode() + "Person,Siân,text\n".encode("latin-1"))
    with pytest.raises(DataDictionaryError, match=r"latin\.csv: the data dictionary is not UTF-8"):
        load_dictionary(latin)


# -- values (used by live.pole.payloads) --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data_type", "good", "bad"),
    [
        (DataType.TEXT, "Siân", 7),
        (DataType.CODE, "GNDR_0001", 1.5),
        (DataType.INTEGER, 3, "3"),
        (DataType.NUMBER, 2.5, True),
        (DataType.BOOLEAN, False, "false"),
        (DataType.DATE, "2025-02-28", "2025-02-30"),
        (DataType.DATE_TIME, "2025-03-14T09:26:53+01:00", "2025-03-14T09:26:53"),
        (DataType.TIME, "16:00:00", "4pm"),
    ],
)
def test_value_types(data_type: DataType, good: Any, bad: Any) -> None:
    """Each data type accepts its JSON form and refuses another."""
    attribute = _attribute(data_type)
    assert value_problem(attribute, good) is None
    problem = value_problem(attribute, bad)
    assert problem is not None
    assert problem[0] == "type"


def test_value_length_and_code() -> None:
    """Lengths count characters (not bytes); codes are checked only when the dictionary carries them."""
    assert value_problem(_attribute(DataType.TEXT, max_length=4), "Siân") is None
    assert value_problem(_attribute(DataType.TEXT, max_length=3), "Siân") == (
        "length",
        "4 characters, more than the field size 3",
    )
    coded = _attribute(DataType.CODE, code_list="GNDR", values=("GNDR_0001",))
    assert value_problem(coded, "GNDR_0001") is None
    problem = value_problem(coded, "GNDR_0009")
    assert problem is not None
    assert problem[0] == "code"
    assert value_problem(_attribute(DataType.CODE, code_list="GNDR"), "anything") is None


def test_values_at_paths() -> None:
    """Members are found by their words, through objects and arrays; null counts as absent."""
    record = {"given_names": ["Siân", "Ŵyn"], "Review": {"nextReviewDate": "2031-03-14"}, "alias": None}
    assert values_at(record, _attribute(DataType.TEXT, attribute="Given Names")) == ["Siân", "Ŵyn"]
    assert values_at(record, _attribute(DataType.DATE, attribute="review.next_review_date")) == ["2031-03-14"]
    assert values_at(record, _attribute(DataType.TEXT, attribute="alias")) is None
    assert values_at(record, _attribute(DataType.TEXT, attribute="review.reason")) is None


# -- openapi.pole.dictionary ------------------------------------------------------------------------------
def test_untested_without_a_dictionary(reference_spec: Spec) -> None:
    """No dictionary: untested (never passed), naming the flag."""
    outcome = check_outcome(CHECK, reference_spec)
    assert outcome.status is Status.UNTESTED
    assert "--data-dictionary" in (outcome.reason or "")


def test_reference_matches_its_synthetic_dictionary(reference_spec: Spec) -> None:
    """The reference document matches the dictionary written for it; the table counts every attribute."""
    outcome = check_outcome(CHECK, reference_spec, options={"data_dictionary": GOOD})
    assert outcome.status is Status.PASSED, outcome.findings
    (table,) = outcome.tables
    assert [(row[0], row[2], row[3], row[6]) for row in table.rows] == [
        ("Person", 13, 13, 0),
        ("Object", 6, 6, 0),
        ("Location", 6, 6, 0),
        ("Event", 4, 4, 0),
    ]
    assert any(note.startswith("Data dictionary: pole-dictionary.csv") for note in outcome.notes)


def test_reference_breaks_the_violated_dictionary(reference_spec: Spec) -> None:
    """Against the dictionary it breaks: one finding per broken rule, at the property."""
    outcome = check_outcome(CHECK, reference_spec, options={"data_dictionary": BROKEN})
    assert outcome.status is Status.FAILED
    person = "/components/schemas/PersonInput"
    assert [(f.title, f.pointer) for f in outcome.findings] == [
        ("Longer than the field size", f"{person}/properties/fullName"),
        ("Mandatory attribute not required", f"{person}/properties/familyName"),
        ("Enum value not in the code list", f"{person}/properties/gender"),
        ("Type differs from the dictionary", f"{person}/properties/dateOfBirth"),
        ("Different code list", f"{person}/properties/nationality"),
        ("Mandatory attribute missing", person),
        ("Code attribute not constrained", "/components/schemas/ObjectInput/properties/serialNumber"),
        ("Longer than the field size", "/components/schemas/EventInput/properties/summary"),
    ]
    required = outcome.findings[1]
    assert "'PersonInput' and 'Person'" in required.message
    assert any(
        "Catalogue entities the dictionary does not define (not judged): Location" in n for n in outcome.notes
    )


def _tagged(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    doc = minimal_doc()
    doc["components"]["schemas"]["Suspect"] = {
        "type": "object",
        "x-pole-entity": "Person",
        "x-pole-catalogue-entity": "Person",
        "required": required or [],
        "properties": properties,
        **extra,
    }
    return doc


def test_types_lengths_and_nesting(spec_from: Any, tmp_path: Path) -> None:
    """Types are compared through $ref and arrays, lengths through maxLength or the longest enum value, a
    dotted attribute through an object property; a pattern or date format bounds a length well enough."""
    doc = _tagged(
        {
            "aliases": {"type": "array", "items": {"type": "string", "maxLength": 50}},
            "born": {"type": "string"},
            "pnc": {"type": "string", "pattern": "^[0-9]{4}/[0-9]{7}[A-Z]$"},
            "gender": {"$ref": "#/components/schemas/Gender"},
            "note": {"type": "string"},
            "height": {"type": "number"},
            "address": {"type": "object", "properties": {"postcode": {"type": "string", "maxLength": 8}}},
        }
    )
    doc["components"]["schemas"]["Gender"] = {"type": "string", "enum": ["GNDR_0001", "GNDR_LONGER"]}
    path = _csv(
        tmp_path,
        "Person,aliases,text,40,N,,",
        "Person,born,date,,N,,",
        "Person,pnc,text,13,N,,",
        "Person,gender,code,9,N,,",
        "Person,note,text,100,N,,",
        "Person,height,integer,,N,,",
        "Person,address.postcode,text,8,Y,,",
    )
    outcome = check_outcome(CHECK, spec_from(doc), options={"data_dictionary": path})
    found = [(f.title, (f.pointer or "").rsplit("/", 1)[-1]) for f in outcome.findings]
    assert found == [
        ("Longer than the field size", "aliases"),
        ("Type differs from the dictionary", "born"),
        ("Code longer than the field size", "gender"),
        ("Length not limited", "note"),
        ("Type differs from the dictionary", "height"),
        ("Mandatory attribute not required", "postcode"),
    ]
    assert outcome.findings[1].found == "string"
    assert outcome.findings[1].expected == "type: string, format: date"


def test_unknown_attributes_are_noted_or_reported(spec_from: Any, tmp_path: Path) -> None:
    """Properties the dictionary lacks are listed in a note, or are findings when asked."""
    doc = _tagged({"fullName": {"type": "string", "maxLength": 20}, "shoeSize": {"type": "integer"}})
    path = _csv(tmp_path, "Person,full name,text,20,N,,")
    noted = check_outcome(CHECK, spec_from(doc), options={"data_dictionary": path})
    assert noted.status is Status.PASSED
    assert "Person: properties the dictionary does not define: shoeSize" in noted.notes
    reported = check_outcome(
        CHECK, spec_from(doc), options={"data_dictionary": path}, report_unknown_attributes=True
    )
    assert [(f.title, f.found) for f in reported.findings] == [
        ("Attribute not in the dictionary", "shoeSize")
    ]


def test_cant_tell_without_matching_tags(spec_from: Any, tmp_path: Path) -> None:
    """Untagged schemas, or tags naming no dictionary entity, cannot be judged: cantTell, never passed."""
    path = _csv(tmp_path, "Vehicle,vrm,text,10,Y,,")
    untagged = minimal_doc()
    untagged["components"]["schemas"]["Person"] = {"type": "object", "properties": {"id": {"type": "string"}}}
    outcome = check_outcome(CHECK, spec_from(untagged), options={"data_dictionary": path})
    assert outcome.status is Status.CANT_TELL
    assert "x-pole-catalogue-entity" in (outcome.reason or "")
    outcome = check_outcome(
        CHECK, spec_from(_tagged({"a": {"type": "string"}})), options={"data_dictionary": path}
    )
    assert outcome.status is Status.CANT_TELL
    assert outcome.reason == (
        "no tagged schema names an entity of the dictionary (the document names Person; the dictionary "
        "defines Vehicle)"
    )


def test_a_broken_dictionary_cant_tell(reference_spec: Spec, tmp_path: Path) -> None:
    """A dictionary that does not load stops the check with the loader's one-line message."""
    path = _csv(tmp_path, "Person,x,text,-3,,,")
    outcome = check_outcome(CHECK, reference_spec, options={"data_dictionary": path})
    assert outcome.status is Status.CANT_TELL
    assert outcome.reason == f"{path}:row 2: 'max_length' must be a whole number of 1 or more (got '-3')"
