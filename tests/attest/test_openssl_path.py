"""The openssl + jq + sha256sum route of docs/verifying.md, run exactly as written there.

The shell text is taken from the document itself (between its BEGIN/END markers), so the documentation
and what is tested cannot drift; it must also equal the script shipped in the package and in VERIFY.txt.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from conformance.attest import countersign_report_folder, sign_report_folder
from conformance.attest.instructions import script_text

from .conftest import PKI, KeyPair

DOC = Path(__file__).resolve().parents[2] / "docs" / "verifying.md"
MISSING = [tool for tool in ("openssl", "jq", "sha256sum") if shutil.which(tool) is None]
needs_tools = pytest.mark.skipif(
    bool(MISSING), reason=f"not installed: {', '.join(MISSING)} (the openssl route needs them)"
)


def doc_block(name: str) -> str:
    """The fenced shell block between ``<!-- BEGIN name -->`` and ``<!-- END name -->`` in docs/verifying.md."""
    text = DOC.read_text(encoding="utf-8")
    match = re.search(
        rf"<!-- BEGIN {re.escape(name)} -->\n```sh\n(.*?)```\n<!-- END {re.escape(name)} -->", text, re.S
    )
    assert match, f"docs/verifying.md has no {name} block"
    return match.group(1)


def sh(script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", "-c", script, "verify-with-openssl.sh", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_doc_script_is_the_shipped_script(report_dir: Path, p256: KeyPair) -> None:
    """docs/verifying.md, the package script and VERIFY.txt carry the same text."""
    assert doc_block("verify-with-openssl.sh") == script_text()
    sign_report_folder(report_dir, p256.key)
    verify_txt = (report_dir / "VERIFY.txt").read_text()
    assert (
        "\n".join(line[4:] for line in verify_txt.splitlines() if line.startswith("    ")).count(
            "openssl pkeyutl -verify -pubin"
        )
        == 1
    )
    for line in script_text().splitlines():
        assert (f"    {line}" if line else "") in verify_txt.splitlines()


@needs_tools
@pytest.mark.parametrize(("supplier", "countersigner"), [("p256", "ed"), ("ed", "p256")])
def test_openssl_route_verifies_both_key_types(
    report_dir: Path, tmp_path: Path, supplier: str, countersigner: str, request: pytest.FixtureRequest
) -> None:
    """The documented commands verify a supplier signature and a countersignature of either key type."""
    signer: KeyPair = request.getfixturevalue(supplier)
    body: KeyPair = request.getfixturevalue(countersigner)
    sign_report_folder(report_dir, signer.key)
    countersign_report_folder(report_dir, body.key, properties=["TECHUK_INTEROP_POL_CORE_0_1_CONFORMANT"])
    script = doc_block("verify-with-openssl.sh")
    line1 = sh(script, str(report_dir), str(signer.pub), cwd=tmp_path)
    assert line1.returncode == 0, line1.stdout + line1.stderr
    assert (
        "Signature Verified Successfully" if signer.algorithm == "ed25519" else "Verified OK"
    ) in line1.stdout
    assert f"key id: {signer.keyid}" in line1.stdout
    assert "OK: report.json unchanged" in line1.stdout
    assert "OK: evidence/ unchanged" in line1.stdout
    assert '"result": "WARNED"' in line1.stdout
    line2 = sh(script, str(report_dir), str(body.pub), "2", cwd=tmp_path)
    assert line2.returncode == 0, line2.stdout + line2.stderr
    assert "OK: supplier-statement unchanged" in line2.stdout
    assert "TECHUK_INTEROP_POL_CORE_0_1_CONFORMANT" in line2.stdout


@needs_tools
def test_openssl_route_rejects_tampering(
    report_dir: Path, tmp_path: Path, ed: KeyPair, p256: KeyPair
) -> None:
    """The documented commands fail on a changed report.json, a changed evidence file and a wrong key."""
    sign_report_folder(report_dir, ed.key)
    script = doc_block("verify-with-openssl.sh")
    wrong = sh(script, str(report_dir), str(p256.pub), cwd=tmp_path)
    assert wrong.returncode != 0
    evidence = report_dir / "evidence" / "exchanges.ndjson"
    evidence.write_bytes(evidence.read_bytes() + b"\n")
    changed = sh(script, str(report_dir), str(ed.pub), cwd=tmp_path)
    assert changed.returncode == 1
    assert "FAIL: evidence/ changed" in changed.stdout
    report = report_dir / "report.json"
    report.write_bytes(report.read_bytes().replace(b"CONFORMANT", b"CONFORMANX", 1))
    changed = sh(script, str(report_dir), str(ed.pub), cwd=tmp_path)
    assert changed.returncode == 1
    assert "FAIL: report.json changed" in changed.stdout


@needs_tools
def test_openssl_route_with_a_certificate(
    report_dir: Path, pair: KeyPair, pki: PKI, chain_for: Callable[..., Path]
) -> None:
    """The documented certificate commands validate the chain at the signing time and verify with its key."""
    sign_report_folder(report_dir, pair.key, cert_path=chain_for(pair))
    shutil.copy(pki.root.pem, report_dir / "ROOT.pem")
    (report_dir / "verify-with-openssl.sh").write_text(doc_block("verify-with-openssl.sh"))
    done = subprocess.run(
        ["sh", "-c", "set -e\n" + doc_block("certificate")],
        cwd=report_dir,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert ": OK" in done.stdout
    assert "Code Signing" in done.stdout
    assert "O = Acme Ltd" in done.stdout
    assert "OK: line 1 of report.intoto.jsonl verified" in done.stdout


@needs_tools
def test_reviewers_compare_command(tmp_path: Path) -> None:
    """The third reviewer command lists re-run requirements and flags differing outcomes."""
    import json

    from .conftest import FIXTURES

    theirs = json.loads((FIXTURES / "report.json").read_text())
    mine = json.loads((FIXTURES / "report.json").read_text())
    for outcome in mine["outcomes"]:
        outcome["status"] = {"IOP-C4-01": "passed", "IOP-C4-02": "failed"}.get(outcome["id"], "untested")
    (tmp_path / "reports" / "acme-20261127T100000Z").mkdir(parents=True)
    (tmp_path / "reports" / "acme-20261127T100000Z" / "report.json").write_text(json.dumps(theirs))
    (tmp_path / "spot-check" / "acme-20261201T090000Z").mkdir(parents=True)
    (tmp_path / "spot-check" / "acme-20261201T090000Z" / "report.json").write_text(json.dumps(mine))
    done = subprocess.run(
        ["sh", "-c", doc_block("compare")], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines() == [
        "IOP-C4-01  supplier: passed  you: passed  same",
        "IOP-C4-02  supplier: passed  you: failed  DIFFERENT",
    ]
