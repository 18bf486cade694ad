"""junit.xml: valid against the Jenkins JUnit XSD, counts consistent, text escaped once."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest
import xmlschema

from conformance.report import junit

from .conftest import (
    CORPUS_DOCS,
    SCHEMAS,
    check_golden,
    edge_reports,
    hostile_report,
    load_golden_report,
    many_findings_report,
)


@pytest.fixture(scope="module")
def xsd() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMAS / "junit-10.xsd"))


def _parse_valid(xsd: xmlschema.XMLSchema, report: dict[str, Any]) -> ET.Element:
    """Render, validate against the XSD, and check the counts the way pytest's own tests do."""
    data = junit.render(report)
    assert data.startswith(b"<?xml version='1.0' encoding='utf-8'?>\n")
    xsd.validate(data.decode("utf-8"))
    root = ET.fromstring(data)
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert int(suite.get("tests", "-1")) == len(cases) == len(report["outcomes"])
    assert int(suite.get("failures", "-1")) == sum(1 for c in cases if c.find("failure") is not None)
    assert int(suite.get("errors", "-1")) == sum(1 for c in cases if c.find("error") is not None)
    assert int(suite.get("skipped", "-1")) == sum(1 for c in cases if c.find("skipped") is not None)
    for key in ("tests", "failures", "errors"):
        assert root.get(key) == suite.get(key)
    counts = report["verdict"]["counts"]
    assert int(suite.get("failures", "-1")) == counts["failed"]
    assert int(suite.get("errors", "-1")) == counts["cantTell"]
    assert int(suite.get("skipped", "-1")) == counts["inapplicable"] + counts["untested"]
    return root


@pytest.mark.parametrize("name", CORPUS_DOCS)
def test_corpus_reports(
    name: str, corpus_report: Callable[[str], dict[str, Any]], xsd: xmlschema.XMLSchema
) -> None:
    """Every corpus report is valid JUnit XML with one testcase per requirement."""
    report = corpus_report(name)
    root = _parse_valid(xsd, report)
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("name") == report["profile"]["id"]
    assert suite.get("timestamp") == report["started_at"]
    names = [c.get("name") for c in suite.iter("testcase")]
    assert names == [f"{o['id']} {o['title']}" for o in report["outcomes"]]
    classnames = [c.get("classname") for c in suite.iter("testcase")]
    assert classnames == [f"{report['profile']['id']}.{o['commitment']}" for o in report["outcomes"]]


@pytest.mark.parametrize("case", sorted(edge_reports()))
def test_edge_cases(case: str, xsd: xmlschema.XMLSchema) -> None:
    """cantTell becomes <error>, inapplicable/untested <skipped> with the reason; all still valid."""
    report = edge_reports()[case]()
    root = _parse_valid(xsd, report)
    by_id = {c.get("name", "").split(" ", 1)[0]: c for c in root.iter("testcase")}
    for outcome in report["outcomes"]:
        case_el = by_id[outcome["id"]]
        if outcome["status"] == "cantTell":
            error = case_el.find("error")
            assert error is not None
            assert error.get("message") == outcome["reason"]
        elif outcome["status"] in ("inapplicable", "untested"):
            skipped = case_el.find("skipped")
            assert skipped is not None
            assert outcome["reason"] in skipped.get("message", "")
        elif outcome["status"] == "passed":
            assert list(case_el) == [] or [child.tag for child in case_el] == ["system-out"]


def test_failure_carries_level_and_findings(xsd: xmlschema.XMLSchema) -> None:
    """A failed requirement's <failure> has type=level and every finding with where, expected, found, fix."""
    report = load_golden_report()
    root = _parse_valid(xsd, report)
    failures = {c.get("name", "").split(" ", 1)[0]: c.find("failure") for c in root.iter("testcase")}
    must = failures["TINY-C1-01"]
    assert must is not None
    assert must.get("type") == "MUST"
    assert must.get("message", "").startswith(
        "MUST requirement failed with 2 finding(s): GET /persons has no"
    )
    text = must.text or ""
    assert "at GET /persons — openapi.yaml#/paths/~1persons/get (line 12, column 7)" in text
    assert "Expected: a unique operationId" in text
    assert "How to fix: Add operationId: listPersons." in text
    assert "common/address.yaml#/Address" in text
    should = failures["TINY-C1-02"]
    assert should is not None
    assert should.get("type") == "SHOULD"


def test_properties_bind_the_inputs(xsd: xmlschema.XMLSchema) -> None:
    """The suite's properties carry the verdict and the profile and document digests."""
    report = load_golden_report()
    root = _parse_valid(xsd, report)
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["verdict"] == "NOT CONFORMANT"
    assert props["profile.sha256"] == report["profile"]["sha256"]
    assert props["profile.resolved_sha256"] == report["profile"]["resolved_sha256"]
    assert props["spec.sha256"] == report["spec"]["sha256"]
    assert props["run_id"] == report["run_id"]


def test_text_is_escaped_once(xsd: xmlschema.XMLSchema) -> None:
    """Markup in messages round-trips through the XML unchanged; control characters are made visible."""
    report = hostile_report()
    data = junit.render(report)
    root = _parse_valid(xsd, report)
    assert b"<script>" not in data
    assert b"&amp;lt;" not in data  # not escaped twice
    failure = next(c.find("failure") for c in root.iter("testcase") if c.find("failure") is not None)
    assert failure is not None
    assert "<script>alert('owned')</script> & \"quoted\" \\x07bell" in (failure.text or "")
    assert "Found: <img src=x onerror=alert(1)>" in (failure.text or "")
    assert "\x07" not in data.decode("utf-8")


def test_findings_are_capped(xsd: xmlschema.XMLSchema) -> None:
    """At most MAX_FINDINGS findings per failure, then 'and N more'."""
    report = many_findings_report(10_000)
    root = _parse_valid(xsd, report)
    failure = next(c.find("failure") for c in root.iter("testcase") if c.find("failure") is not None)
    assert failure is not None
    text = failure.text or ""
    assert text.count("Synthetic finding:") == junit.MAX_FINDINGS
    assert f"… and {3334 - junit.MAX_FINDINGS} more — see report.json" in text


def test_times_are_exact(xsd: xmlschema.XMLSchema) -> None:
    """Durations are written from integer milliseconds, never through floats."""
    root = _parse_valid(xsd, load_golden_report())
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("time") == root.get("time") == "1.234"
    assert [c.get("time") for c in suite.iter("testcase")][:2] == ["0.012", "0.001"]


def test_deterministic_and_golden(update_golden: bool) -> None:
    """The same report gives the same bytes, equal to the reviewed golden file."""
    first = junit.render(load_golden_report())
    assert junit.render(load_golden_report()) == first
    check_golden("tiny.junit.xml", first, update=update_golden)
