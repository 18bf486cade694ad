"""`conformance demo`: the README's main-job command, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.reference import load_flaws


def test_demo_shows_a_conformant_and_a_flawed_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The reference document is CONFORMANT (exit 0); the flawed copy fails exactly the flawed requirements."""
    assert main(["demo", "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "Reference document: CONFORMANT; flawed copy: NOT CONFORMANT" in " ".join(err.split())
    reports = {
        p.parent.name.split("-2")[0]: json.loads(p.read_text(encoding="utf-8"))
        for p in tmp_path.glob("*/report.json")
    }
    assert set(reports) == {"reference-supplier-demo", "reference-supplier-flawed-copy-demo"}
    assert reports["reference-supplier-demo"]["verdict"]["status"] == "CONFORMANT"
    flawed = reports["reference-supplier-flawed-copy-demo"]
    failed = {o["id"] for o in flawed["outcomes"] if o["status"] == "failed"}
    assert failed == {f.requirement for f in load_flaws()}
    assert flawed["spec"]["source"].endswith("demo-inputs/openapi-flawed.yaml")
    assert Path(flawed["spec"]["source"]).is_file()
    for folder in tmp_path.glob("reference-supplier-*"):
        assert sorted(p.name for p in folder.iterdir()) == [
            "VERIFY.txt",
            "evidence",
            "junit.xml",
            "report.html",
            "report.intoto.jsonl",
            "report.json",
            "report.sarif",
        ]
        html = (folder / "report.html").read_text(encoding="utf-8")
        assert "Signed report" in html
        assert "This report is not signed" not in html
