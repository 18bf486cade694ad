"""report.json against its own JSON Schema (conformance/report/schema/report.schema.json)."""

from __future__ import annotations

import copy
import hashlib
import importlib.resources
import json
from collections.abc import Callable
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from conformance.outcome import Level, Status
from conformance.report import SCHEMA_VERSION
from conformance.report.json_render import canonical_bytes
from conformance.verdict import MATURITY_LEVELS, Verdict

from .conftest import (
    CORPUS_DOCS,
    SCHEMAS,
    edge_reports,
    hostile_report,
    load_golden_report,
    many_findings_report,
)


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    text = (
        importlib.resources.files("conformance.report")
        .joinpath("schema/report.schema.json")
        .read_text("utf-8")
    )
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=FormatChecker())


def _errors(validator: Draft202012Validator, report: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(report)]


def test_schema_is_valid_2020_12(schema: dict[str, Any]) -> None:
    """The schema itself is a valid JSON Schema 2020-12 document."""
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_format_checking_is_active() -> None:
    """date-time is really checked (rfc3339-validator is installed), so the format assertions mean something."""
    assert "date-time" in FormatChecker().checkers
    assert not FormatChecker().conforms("2026-13-40T99:00:00Z", "date-time")


def test_schema_enums_match_the_code(schema: dict[str, Any]) -> None:
    """Statuses, levels, verdicts, maturity levels and the version come from the code's own enums."""
    defs = schema["$defs"]
    assert set(defs["status"]["enum"]) == {s.value for s in Status}
    assert set(defs["statusCounts"]["required"]) == {s.value for s in Status}
    assert set(defs["level"]["enum"]) == {lv.value for lv in Level}
    assert set(defs["verdictStatus"]["enum"]) == {v.value for v in Verdict}
    assert tuple(defs["maturityLevel"]["enum"]) == MATURITY_LEVELS
    assert set(defs["verdict"]["properties"]["exit_code"]["enum"]) == {int(v.exit_code) for v in Verdict}
    assert schema["properties"]["schema_version"]["const"] == SCHEMA_VERSION


@pytest.mark.parametrize("name", CORPUS_DOCS)
def test_corpus_reports_validate(
    name: str, corpus_report: Callable[[str], dict[str, Any]], validator: Draft202012Validator
) -> None:
    """Reports of real documents validate, and survive the canonical JSON round trip unchanged."""
    report = corpus_report(name)
    assert _errors(validator, report) == []
    assert _errors(validator, json.loads(canonical_bytes(report))) == []


@pytest.mark.parametrize("case", sorted(edge_reports()))
def test_edge_case_reports_validate(case: str, validator: Draft202012Validator) -> None:
    """Deselected requirements, cantTell/inapplicable outcomes, no document and a full run all validate."""
    report = edge_reports()[case]()
    assert _errors(validator, report) == []


def test_edge_cases_exercise_what_they_claim() -> None:
    """The edge-case reports really contain what their names promise."""
    cases = edge_reports()
    deselected = cases["deselected"]()
    assert deselected["selection"]["deselected"] == ["IOP-C1-02", "MINI-C8-01"]
    assert {o["id"]: o["status"] for o in deselected["outcomes"]}["IOP-C1-02"] == "untested"
    statuses = {o["status"] for o in cases["cantTell"]()["outcomes"]}
    assert {"cantTell", "inapplicable"} <= statuses
    no_spec = cases["no-spec"]()
    assert no_spec["spec"] is None
    assert {o["status"] for o in no_spec["outcomes"]} == {"untested"}
    assert cases["full-scope"]()["target"] == {"base_url": "https://sandbox.example.police.uk"}


def test_golden_hostile_and_large_reports_validate(validator: Draft202012Validator) -> None:
    """The hand-written golden report and the synthetic ones used by the renderer tests are valid too."""
    assert _errors(validator, load_golden_report()) == []
    assert _errors(validator, hostile_report()) == []
    assert _errors(validator, many_findings_report(300)) == []


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        pytest.param(lambda r: r.update(extra=1), "Additional properties are not allowed", id="unknown-key"),
        pytest.param(lambda r: r.update(duration_ms=1.5), "is not of type 'integer'", id="float"),
        pytest.param(lambda r: r["outcomes"][0].update(status="skipped"), "is not one of", id="status"),
        pytest.param(lambda r: r["outcomes"][0].update(level="MUSTN'T"), "is not one of", id="level"),
        pytest.param(lambda r: r["verdict"].update(status="PASS"), "is not one of", id="verdict"),
        pytest.param(
            lambda r: r["outcomes"][2]["findings"].append({"title": "t", "message": "m"}),
            "is expected to be empty",
            id="findings-on-a-pass",
        ),
        pytest.param(
            lambda r: r["outcomes"][0]["findings"][0].pop("column"),
            "'column' is a dependency of 'line'",
            id="line-without-column",
        ),
        pytest.param(
            lambda r: r["outcomes"][0]["findings"][0].update(where="x"),
            "Additional properties are not allowed",
            id="unknown-finding-key",
        ),
        pytest.param(lambda r: r.update(started_at="2026-03-04 10:00:00"), "does not match", id="time"),
        pytest.param(lambda r: r["profile"].update(sha256="abc"), "does not match", id="digest"),
        pytest.param(lambda r: r["verdict"]["maturity"].pop(), "is too short", id="maturity-levels"),
        pytest.param(
            lambda r: r.update(spec={"source": "x"}),
            "is not valid under any of the given schemas",
            id="spec-shape",
        ),
    ],
)
def test_schema_rejects_drift(
    mutate: Callable[[dict[str, Any]], Any], expected: str, validator: Draft202012Validator
) -> None:
    """The schema is closed: unknown keys, floats, unknown statuses and inconsistent findings are errors."""
    report = copy.deepcopy(load_golden_report())
    mutate(report)
    errors = _errors(validator, report)
    assert errors, "the mutated report should not validate"
    assert any(expected in e for e in errors), errors


@pytest.mark.parametrize(
    ("name", "digest"),
    [
        ("junit-10.xsd", "62ca5a7bd8a6b8268818a64192bd8f94dbf38b63eb85a19c159deba08244f1fd"),
        ("sarif-schema-2.1.0.json", "ddddcccbf95c7c50c037b5b07eff4140556278ca574ff374db46786b5fce7949"),
    ],
)
def test_vendored_schemas_are_unmodified(name: str, digest: str) -> None:
    """The third-party schemas are byte-for-byte the copies tests/schemas/README.md records."""
    data = (SCHEMAS / name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == digest
    assert digest in (SCHEMAS / "README.md").read_text(encoding="utf-8")
