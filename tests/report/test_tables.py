"""Tables a check attaches to its outcome reach report.json (schema-valid) and the HTML page."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import jsonschema

from conformance.outcome import Outcome, Status, Table
from conformance.profiles import load_profile
from conformance.report import RunResult, build_report
from conformance.report.html import render
from tests.conftest import ROOT


def test_tables_are_reported_and_rendered() -> None:
    profile = load_profile(ROOT / "tests" / "fixtures" / "c1-only.yaml")
    table = Table(
        title="Reconciliation <per entity>",
        columns=("entity", "seeded", "exported"),
        rows=(("Person", 3, 3),),
    )
    outcomes = {"T-C1-08": Outcome(requirement_id="T-C1-08", status=Status.PASSED, tables=(table,))}
    now = datetime.now(timezone.utc)
    report = build_report(
        RunResult(
            profile=profile, spec=None, scope="static", started_at=now, finished_at=now, outcomes=outcomes
        )
    )
    entry = next(o for o in report["outcomes"] if o["id"] == "T-C1-08")
    assert entry["tables"] == [
        {
            "title": "Reconciliation <per entity>",
            "columns": ["entity", "seeded", "exported"],
            "rows": [["Person", 3, 3]],
        }
    ]
    schema = json.loads(
        (ROOT / "conformance" / "report" / "schema" / "report.schema.json").read_text(encoding="utf-8")
    )
    jsonschema.Draft202012Validator(schema).validate(report)
    page = render(report).decode()
    assert "What the checks counted" in page
    assert "Reconciliation &lt;per entity&gt;" in page
