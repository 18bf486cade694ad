"""`conformance demo`: the README's main-job command, end to end (static + live, signed, verified)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.reference import load_flaws


def _reports(folder: Path) -> dict[str, dict[str, object]]:
    return {
        p.parent.name.rsplit("-2", 1)[0]: json.loads(p.read_text(encoding="utf-8"))
        for p in folder.glob("*/report.json")
    }


def test_demo_is_conformant_in_full_scope(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The clean reference supplier passes every requirement, static and live; the report is signed."""
    assert main(["demo", "--out", str(tmp_path)]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "Verdict: CONFORMANT (full scope)" in err
    assert "Verified as a reviewer would: OK" in err
    (report,) = _reports(tmp_path).values()
    assert report["scope"] == "full"
    statuses = {o["id"]: o["status"] for o in report["outcomes"]}  # type: ignore[attr-defined]
    assert set(statuses.values()) <= {"passed", "inapplicable"}
    assert statuses["IOP-C9-10"] == "passed"  # a live requirement really ran
    assert report["target"]["allow_writes"] is True  # type: ignore[index]
    # The portability half ran too: seeded exports, the round trip, isolation, the dictionary, the peer.
    for requirement in (
        "IOP-C10-02",
        "IOP-C10-04a",
        "IOP-C10-05",
        "IOP-C9-12",
        "IOP-C6-02",
        "IOP-C6-03",
        "IOP-C7-01",
    ):
        assert statuses[requirement] == "passed", requirement
    inputs = report["inputs"]
    assert inputs["data_dictionary"]["file"] == "pole-dictionary.csv"  # type: ignore[index]
    assert inputs["peer"]["allow_writes"] is True  # type: ignore[index]
    folder = next(tmp_path.glob("reference-supplier-demo-*"))
    assert sorted(p.name for p in folder.iterdir()) == [
        "VERIFY.txt",
        "evidence",
        "junit.xml",
        "report.html",
        "report.intoto.jsonl",
        "report.json",
        "report.sarif",
    ]
    assert (folder / "evidence" / "exchanges.ndjson").stat().st_size > 0
    peer_lines = (folder / "evidence" / "peer" / "exchanges.ndjson").read_text(encoding="utf-8").splitlines()
    assert peer_lines
    assert all(json.loads(line)["id"].startswith("peer-ex-") for line in peer_lines)
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "Second supplier&#39;s API" in html or "Second supplier's API" in html
    assert "Export reconciliation" in html  # the reconciliation a procurement reviewer reads
    assert "Signed report" in html
    assert "This report is not signed" not in html


def test_demo_with_a_fault_is_not_conformant(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--fault ignore-auth` breaks a MUST: NOT CONFORMANT, exit 1, the failing exchange shown in the HTML."""
    assert main(["demo", "--out", str(tmp_path), "--fault", "ignore-auth", "--format", "json,html"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "Verdict: NOT CONFORMANT (full scope)" in err
    (report,) = _reports(tmp_path).values()
    assert report["verdict"]["failed_musts"] == ["IOP-C9-10"]  # type: ignore[index]
    html = next(tmp_path.glob("*/report.html")).read_text(encoding="utf-8")
    assert "What the API did" in html


def test_demo_unknown_fault_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--out", str(tmp_path), "--fault", "ignore-auht"]) == 2
    assert "unknown fault 'ignore-auht' (did you mean 'ignore-auth'?)" in capsys.readouterr().err


@pytest.mark.slow
def test_demo_flawed_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--flawed-document` adds a static run on the flawed copy, failing exactly the flawed requirements."""
    assert main(["demo", "--out", str(tmp_path), "--flawed-document", "--format", "json"]) == 0
    flawed = _reports(tmp_path)["reference-supplier-flawed-copy-demo"]
    failed = {o["id"] for o in flawed["outcomes"] if o["status"] == "failed"}  # type: ignore[attr-defined]
    assert failed == {f.requirement for f in load_flaws()}
    assert Path(str(flawed["spec"]["source"])).is_file()  # type: ignore[index]
