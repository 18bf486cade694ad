"""report.sarif: valid against the official SARIF 2.1.0 schema; every finding present, placed and levelled."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import jsonschema
import pytest

from conformance.report import sarif

from .conftest import (
    CORPUS_DOCS,
    SCHEMAS,
    check_golden,
    edge_reports,
    hostile_report,
    load_golden_report,
    make_report,
)

_LEVELS = {"MUST": "error", "SHOULD": "warning", "MAY": "note"}


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _valid_log(validator: jsonschema.protocols.Validator, report: dict[str, Any]) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(sarif.render(report))
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(log)]
    assert errors == []
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    return log


def _check_results(report: dict[str, Any], log: dict[str, Any]) -> None:
    """Every finding of every failed requirement is a result, in order, with its level and region."""
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [o["id"] for o in report["outcomes"]]
    expected = [(o, f) for o in report["outcomes"] if o["status"] == "failed" for f in o["findings"]]
    assert len(run["results"]) == len(expected)
    for result, (outcome, finding) in zip(run["results"], expected, strict=True):
        assert result["ruleId"] == outcome["id"]
        assert rules[result["ruleIndex"]]["id"] == outcome["id"]
        assert result["level"] == _LEVELS[outcome["level"]]
        assert result["message"]["text"].startswith(finding["message"])
        location = result["locations"][0] if "locations" in result else {}
        physical = location.get("physicalLocation")
        if "line" in finding:
            assert physical["region"] == {"startLine": finding["line"], "startColumn": finding["column"]}
        elif physical is not None:
            assert "region" not in physical
        if report["spec"] is None:
            assert physical is None
        logical = {
            entry["kind"]: entry["fullyQualifiedName"] for entry in location.get("logicalLocations", [])
        }
        if "pointer" in finding:
            assert logical["member"] == finding["pointer"]
        if "operation" in finding:
            assert logical["function"] == finding["operation"]


@pytest.mark.parametrize("name", CORPUS_DOCS)
def test_corpus_reports(
    name: str, corpus_report: Callable[[str], dict[str, Any]], validator: jsonschema.protocols.Validator
) -> None:
    """Corpus reports validate, and every failed finding appears with the right level and region."""
    report = corpus_report(name)
    log = _valid_log(validator, report)
    _check_results(report, log)
    run = log["runs"][0]
    assert run["artifacts"][0]["hashes"] == {"sha-256": report["spec"]["sha256"]}
    assert run["properties"]["verdict"] == report["verdict"]["status"]
    assert run["properties"]["profile"]["sha256"] == report["profile"]["sha256"]
    assert run["properties"]["document"]["sha256"] == report["spec"]["sha256"]


@pytest.mark.parametrize("case", sorted(edge_reports()))
def test_edge_cases(case: str, validator: jsonschema.protocols.Validator) -> None:
    """Deselected, cantTell, no-document and full runs all give valid SARIF."""
    report = edge_reports()[case]()
    log = _valid_log(validator, report)
    _check_results(report, log)
    run = log["runs"][0]
    notifications = run["invocations"][0].get("toolExecutionNotifications", [])
    cant_tell = [o["id"] for o in report["outcomes"] if o["status"] == "cantTell"]
    assert [n["associatedRule"]["id"] for n in notifications] == cant_tell
    if report["spec"] is None:
        assert "artifacts" not in run


def test_rules_describe_requirements(validator: jsonschema.protocols.Validator) -> None:
    """A rule per requirement: check id as name, title, references in the help, level as default level."""
    report = load_golden_report()
    rules = _valid_log(validator, report)["runs"][0]["tool"]["driver"]["rules"]
    by_id = {r["id"]: r for r in rules}
    rule = by_id["TINY-C9-01"]
    assert rule["name"] == "openapi.security.defined"
    assert rule["shortDescription"] == {"text": "Security schemes are defined"}
    assert rule["defaultConfiguration"] == {"level": "note"}
    assert rule["properties"]["reconstructed"] is True
    assert "reconstructed" in rule["properties"]["tags"]
    assert "NCSC, Securing HTTP-based APIs" in rule["help"]["text"]
    assert by_id["TINY-C1-01"]["defaultConfiguration"] == {"level": "error"}
    assert by_id["TINY-C1-02"]["defaultConfiguration"] == {"level": "warning"}


def test_locations_in_referenced_documents(validator: jsonschema.protocols.Validator) -> None:
    """A relative source stays relative to %SRCROOT%; a finding in a referenced file points at that file."""
    log = _valid_log(validator, load_golden_report())
    run = log["runs"][0]
    assert [a["location"] for a in run["artifacts"]] == [
        {"uri": "specs/openapi.yaml", "uriBaseId": "%SRCROOT%"},
        {"uri": "specs/common/address.yaml", "uriBaseId": "%SRCROOT%"},
    ]
    first, second = run["results"][:2]
    assert first["locations"][0]["physicalLocation"]["artifactLocation"]["index"] == 0
    located = second["locations"][0]["physicalLocation"]["artifactLocation"]
    assert located == {"uri": "specs/common/address.yaml", "uriBaseId": "%SRCROOT%", "index": 1}


@pytest.mark.parametrize(
    ("source", "document", "expected"),
    [
        ("/abs/api/openapi.yaml", None, {"uri": "file:///abs/api/openapi.yaml"}),
        ("/abs/api/open api.yaml", "../common/a b.yaml", {"uri": "file:///abs/common/a%20b.yaml"}),
        ("openapi.json", None, {"uri": "openapi.json", "uriBaseId": "%SRCROOT%"}),
        ("./specs/openapi.json", "x.yaml", {"uri": "specs/x.yaml", "uriBaseId": "%SRCROOT%"}),
        ("https://api.example/v1/openapi.json", None, {"uri": "https://api.example/v1/openapi.json"}),
        (
            "https://api.example/v1/openapi.json",
            "schemas/p.json",
            {"uri": "https://api.example/v1/schemas/p.json"},
        ),
        ("C:\\specs\\openapi.yaml", None, {"uri": "file:///C:/specs/openapi.yaml"}),
    ],
)
def test_artifact_uris(source: str, document: str | None, expected: dict[str, str]) -> None:
    """Document sources become sensible URIs: URLs as given, absolute paths as file URIs, relative paths relative."""
    assert sarif._artifact_location(source, document) == expected


def test_fingerprints_are_stable_across_runs(corpus_spec: Callable[[str], Any]) -> None:
    """The same findings get the same partialFingerprints in a later run (new time, new run id)."""
    spec = corpus_spec("govuk-pay-publicapi.json")
    first = json.loads(sarif.render(make_report(spec)))
    later = json.loads(
        sarif.render(make_report(spec, started=datetime(2027, 5, 6, 7, 8, 9, tzinfo=timezone.utc)))
    )
    assert first["runs"][0]["automationDetails"] != later["runs"][0]["automationDetails"]

    def prints(log: dict[str, Any]) -> list[str]:
        return [r["partialFingerprints"][sarif.FINGERPRINT_KEY] for r in log["runs"][0]["results"]]

    assert prints(first) == prints(later)
    assert len(set(prints(first))) > 1


def test_hostile_text_is_plain_json(validator: jsonschema.protocols.Validator) -> None:
    """Markup and control characters are carried as JSON strings, unchanged."""
    log = _valid_log(validator, hostile_report())
    (result,) = log["runs"][0]["results"]
    assert result["message"]["text"].startswith("<script>alert('owned')</script> & \"quoted\" \x07bell")


def test_deterministic_and_golden(update_golden: bool) -> None:
    """The same report gives the same bytes, equal to the reviewed golden file."""
    first = sarif.render(load_golden_report())
    assert sarif.render(load_golden_report()) == first
    check_golden("tiny.sarif", first, update=update_golden)
