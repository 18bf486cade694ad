"""The pytest plugin used directly: items per requirement, -k selection, outcomes, exit codes, reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, minimal_doc

pytest_plugins = ["pytester"]

PROFILE = ROOT / "tests" / "fixtures" / "c1-only.yaml"


def _good_doc() -> dict[str, object]:
    doc = minimal_doc()
    doc["info"]["contact"] = {"email": "api@example.police.uk"}
    doc["paths"] = {
        "/things": {
            "get": {
                "operationId": "listThings",
                "summary": "List things",
                "responses": {"200": {"description": "ok"}},
            }
        }
    }
    return doc


def _write(pytester: pytest.Pytester, doc: dict[str, object]) -> Path:
    path = pytester.path / "openapi.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def _run(pytester: pytest.Pytester, spec: Path, *extra: str, profile: str = str(PROFILE)) -> pytest.RunResult:
    """Run pytest with the plugin on ``spec`` under ``profile``, writing the reports to ``out``."""
    return pytester.runpytest_subprocess(
        "--conformance-profile", profile, "--conformance-spec", str(spec), "--conformance-out", "out", *extra
    )


def _report(pytester: pytest.Pytester) -> dict[str, object]:
    reports = sorted((pytester.path / "out").glob("*/report.json"))
    assert len(reports) == 1, reports
    loaded: dict[str, object] = json.loads(reports[0].read_text(encoding="utf-8"))
    return loaded


def test_conformant_document_exits_0_with_one_item_per_requirement(pytester: pytest.Pytester) -> None:
    """Each requirement is a test item; a conformant document exits 0 and writes every report format."""
    spec = _write(pytester, _good_doc())
    result = _run(pytester, spec, "-v")
    result.stdout.fnmatch_lines(["*test-c1-only::T-C1-01 PASSED*", "*CONFORMANT (static scope)*"])
    assert result.ret == 0
    folder = next((pytester.path / "out").iterdir())
    assert sorted(p.name for p in folder.iterdir()) == [
        "evidence",
        "junit.xml",
        "report.html",
        "report.json",
        "report.sarif",
    ]
    report = _report(pytester)
    assert [o["status"] for o in report["outcomes"]] == ["passed"] * 5  # type: ignore[index]


def test_must_failure_exits_1_and_should_failure_is_a_warning(pytester: pytest.Pytester) -> None:
    """A failed MUST makes the run NOT CONFORMANT (exit 1); a failed SHOULD shows as W."""
    doc = _good_doc()
    del doc["info"]["contact"]  # type: ignore[attr-defined]
    doc["info"]["version"] = "v1"  # type: ignore[index]
    spec = _write(pytester, doc)
    result = _run(pytester, spec, "-v")
    result.stdout.fnmatch_lines(["*T-C1-08 FAILED*", "*T-C1-09 FAILED (SHOULD)*", "*NOT CONFORMANT*"])
    assert result.ret == 1


def test_keyword_selection_marks_the_rest_untested(pytester: pytest.Pytester) -> None:
    """-k runs a subset; the others are reported untested and the report says the selection was partial."""
    spec = _write(pytester, _good_doc())
    result = _run(pytester, spec, "-k", "T-C1-08 or T-C1-09")
    assert result.ret == 0
    report = _report(pytester)
    statuses = {o["id"]: o["status"] for o in report["outcomes"]}  # type: ignore[index]
    assert statuses == {
        "T-C1-01": "untested",
        "T-C1-03": "untested",
        "T-C1-07": "untested",
        "T-C1-08": "passed",
        "T-C1-09": "passed",
    }
    assert report["selection"] == {
        "expression": "T-C1-08 or T-C1-09",
        "deselected": ["T-C1-01", "T-C1-03", "T-C1-07"],
    }
    assert report["verdict"]["claimable"] is False  # type: ignore[index]


def test_check_that_raises_is_canttell_and_the_run_goes_on(pytester: pytest.Pytester) -> None:
    """A crashing check becomes cantTell with a short reason; later requirements still run; exit 3."""
    pytester.makeconftest(
        """
        from conformance.registry import check

        @check(id="test.boom", mode="static", title="Explodes")
        def boom(ctx):
            raise RuntimeError("kaboom")
            yield
        """
    )
    profile = PROFILE.read_text(encoding="utf-8").replace("check: openapi.document.valid", "check: test.boom")
    (pytester.path / "profile.yaml").write_text(profile, encoding="utf-8")
    spec = _write(pytester, _good_doc())
    result = _run(pytester, spec, "-v", profile="profile.yaml")
    result.stdout.fnmatch_lines(["*T-C1-01 CANTTELL*", "*T-C1-09 PASSED*", "*INCOMPLETE*"])
    assert result.ret == 3
    outcome = _report(pytester)["outcomes"][0]  # type: ignore[index]
    assert outcome["status"] == "cantTell"
    assert outcome["reason"] == "the check raised RuntimeError: kaboom"


def test_bad_input_exits_2_with_one_line(pytester: pytest.Pytester) -> None:
    """An unusable document is reported in one line (no traceback) and pytest exits 2."""
    bad = pytester.path / "bad.yaml"
    bad.write_text("openapi: 3.1.0\ninfo: [\n", encoding="utf-8")
    result = pytester.runpytest_subprocess(
        "--conformance-profile", str(PROFILE), "--conformance-spec", str(bad)
    )
    assert result.ret == 2
    result.stdout.fnmatch_lines(["conformance: error: *bad.yaml:*malformed YAML*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_plugin_is_inert_without_the_option(pytester: pytest.Pytester) -> None:
    """Without --conformance-profile the plugin leaves normal test collection alone."""
    pytester.makepyfile("def test_ok():\n    assert True\n")
    result = pytester.runpytest_subprocess()
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*1 passed*"])
