"""The statement: result mapping, test lists, configuration descriptors and the extension field."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from conformance.attest.errors import BadStatement
from conformance.attest.statement import (
    EXTENSION,
    TEST_RESULT_TYPE,
    check_test_result_statement,
    report_predicate,
    result_of,
    supplier_statement,
)

from .conftest import FIXTURES


@pytest.fixture
def report() -> dict[str, Any]:
    return json.loads((FIXTURES / "report.json").read_bytes())


def _set(report: dict[str, Any], requirement: str, status: str) -> dict[str, Any]:
    changed = copy.deepcopy(report)
    for outcome in changed["outcomes"]:
        if outcome["id"] == requirement:
            outcome["status"] = status
    return changed


def test_conformant_with_a_failed_should_is_warned(report: dict[str, Any]) -> None:
    """CONFORMANT with a SHOULD failure -> WARNED; the SHOULD is in warnedTests."""
    predicate = report_predicate(report)
    assert predicate["result"] == "WARNED"
    assert predicate["warnedTests"] == ["interop-pol-core@0.1.0#IOP-C1-03"]
    assert predicate["failedTests"] == []


def test_conformant_without_warnings_is_passed(report: dict[str, Any]) -> None:
    """CONFORMANT with no SHOULD/MAY failure -> PASSED."""
    clean = _set(report, "IOP-C1-03", "passed")
    clean["verdict"]["warnings"] = []
    assert result_of(clean) == "PASSED"


@pytest.mark.parametrize("status", ["NOT CONFORMANT", "INCOMPLETE"])
def test_not_conformant_and_incomplete_are_failed(report: dict[str, Any], status: str) -> None:
    """NOT CONFORMANT and INCOMPLETE -> FAILED: conformance was not shown."""
    report["verdict"]["status"] = status
    assert result_of(report) == "FAILED"


def test_undetermined_must_is_a_failed_test(report: dict[str, Any]) -> None:
    """A MUST that could not be determined (cantTell) is listed as failed, never as passed."""
    predicate = report_predicate(_set(report, "IOP-C4-02", "cantTell"))
    assert "interop-pol-core@0.1.0#IOP-C4-02" in predicate["failedTests"]
    assert "interop-pol-core@0.1.0#IOP-C4-02" not in predicate["passedTests"]


def test_inapplicable_and_untested_are_in_no_list(report: dict[str, Any]) -> None:
    """Inapplicable/untested requirements did not pass, so they are not in passedTests; counts keep them."""
    predicate = report_predicate(report)
    named = predicate["passedTests"] + predicate["warnedTests"] + predicate["failedTests"]
    assert not any(n.endswith(("IOP-C3-02", "IOP-C9-01")) for n in named)
    assert predicate[EXTENSION]["counts"]["untested"] == 1


def test_configuration_binds_profile_document_and_harness(report: dict[str, Any]) -> None:
    """Profile id@version + sha256, the document's sha256 and the harness name/version are descriptors."""
    by_name = {d["name"]: d for d in report_predicate(report)["configuration"]}
    assert by_name["profile"]["uri"] == "urn:interop-conformance:profile:interop-pol-core@0.1.0"
    assert by_name["profile"]["digest"] == {"sha256": report["profile"]["sha256"]}
    assert by_name["openapi"]["digest"] == {"sha256": report["spec"]["sha256"]}
    assert by_name["harness"]["uri"] == "pkg:pypi/interop-conformance@0.1.0"


def test_extension_carries_target_times_verdict_counts(report: dict[str, Any]) -> None:
    """One prefixed extension field holds the run facts the test-result predicate has no place for."""
    extension = report_predicate(report)[EXTENSION]
    assert extension["target"]["base_url"] == "https://sandbox.acme.example/v1"
    assert (extension["startedOn"], extension["finishedOn"]) == (
        "2026-11-27T10:00:00Z",
        "2026-11-27T10:04:12Z",
    )
    assert extension["scope"] == "full"
    assert extension["verdict"]["status"] == "CONFORMANT"
    assert extension["counts"] == report["verdict"]["counts"]


def test_statement_shape(report: dict[str, Any]) -> None:
    """Subjects are report.json (sha256) and evidence/ (dirHash); the shape check accepts our statement."""
    statement = supplier_statement(
        report,
        report_sha256="a" * 64,
        evidence_dir_hash="b" * 64,
        signer={"keyid": "sha256:x", "algorithm": "ed25519", "certificates": []},
        signed_at="2026-11-27T10:05:00Z",
    )
    assert statement["predicateType"] == TEST_RESULT_TYPE
    assert check_test_result_statement(statement) == {
        "report.json": {"sha256": "a" * 64},
        "evidence/": {"dirHash": "b" * 64},
    }


def test_old_pass_fail_result_is_rejected(report: dict[str, Any]) -> None:
    """The older draft's result "pass" under the same type URI is rejected."""
    statement = supplier_statement(
        report,
        report_sha256="a" * 64,
        evidence_dir_hash="b" * 64,
        signer={"keyid": "k", "algorithm": "ed25519", "certificates": []},
        signed_at="2026-11-27T10:05:00Z",
    )
    statement["predicate"]["result"] = "pass"
    with pytest.raises(BadStatement, match="must be one of PASSED, WARNED, FAILED"):
        check_test_result_statement(statement)


def test_report_without_a_verdict_cannot_be_signed(report: dict[str, Any]) -> None:
    del report["verdict"]
    with pytest.raises(ValueError, match="lacks a field"):
        report_predicate(report)
