"""Signing a report folder and verifying it: the happy paths and the library API the main CLI calls."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from conformance.attest import SignatureInfo, TrustAnchors, sign_report_folder, verify_report
from conformance.attest.envelope import read_bundle
from conformance.attest.evidence import EMPTY_DIR_HASH
from conformance.attest.keys import load_public_key
from conformance.errors import ReportError, UsageError

from .conftest import FIXTURES, PASSPHRASE, KeyPair, make_pair


def anchors(*pairs: KeyPair) -> TrustAnchors:
    return TrustAnchors(keys=tuple(load_public_key(p.pub) for p in pairs))


def test_round_trip(report_dir: Path, pair: KeyPair) -> None:
    """A folder signed with either algorithm verifies with the matching public key."""
    info = sign_report_folder(report_dir, pair.key)
    assert info.keyid == pair.keyid
    assert info.algorithm == pair.algorithm
    assert info.subject is None
    result = verify_report(report_dir, anchors(pair))
    assert result.supplier.keyid == pair.keyid
    assert (result.verdict, result.result) == ("CONFORMANT", "WARNED")
    assert result.target["base_url"] == "https://sandbox.acme.example/v1"
    assert result.profile == {
        "id": "interop-pol-core",
        "version": "0.1.0",
        "sha256": hashlib.sha256((FIXTURES / "profile.yaml").read_bytes()).hexdigest(),
    }


def test_envelope_file_layout(signed: Path, p256: KeyPair) -> None:
    """report.intoto.jsonl is one canonical DSSE envelope per line; subjects are report.json and evidence/."""
    data = (signed / "report.intoto.jsonl").read_bytes()
    assert data.count(b"\n") == 1
    assert data.endswith(b"\n")
    envelope = json.loads(data)
    assert list(envelope) == ["payload", "payloadType", "signatures"]
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    assert envelope["signatures"][0]["keyid"] == p256.keyid
    statement = json.loads(read_bundle(data, "x")[0].payload)
    assert [s["name"] for s in statement["subject"]] == ["report.json", "evidence/"]
    assert (
        statement["subject"][0]["digest"]["sha256"]
        == hashlib.sha256((signed / "report.json").read_bytes()).hexdigest()
    )


def test_signature_info_for_the_html_renderer(report_dir: Path, p256: KeyPair) -> None:
    """SignatureInfo.to_dict() has what the HTML report shows, including what a signature does not prove."""
    info = sign_report_folder(report_dir, p256.key)
    assert isinstance(info, SignatureInfo)
    data = info.to_dict()
    assert set(data) == {
        "keyid",
        "algorithm",
        "subject",
        "signed_at",
        "time_source",
        "envelope_path",
        "envelope_name",
        "proves",
        "does_not_prove",
        "spot_check",
    }
    assert data["envelope_name"] == "report.intoto.jsonl"
    assert "self-asserted" in data["time_source"]
    assert "honest" in data["does_not_prove"]


def test_verify_txt_is_written(signed: Path, p256: KeyPair) -> None:
    """VERIFY.txt names the key id and carries both ways to verify, and the honesty statement."""
    text = (signed / "VERIFY.txt").read_text()
    assert p256.keyid in text
    assert "conformance verify . --key supplier.pub" in text
    assert "openssl dgst -sha256 -verify" in text
    assert "pkeyutl -verify" in text
    assert "DOES NOT PROVE" in text


def test_missing_evidence_folder_is_created_and_signed_as_empty(report_dir: Path, p256: KeyPair) -> None:
    """Without evidence/, signing creates it and the evidence subject is the empty-folder digest."""
    shutil.rmtree(report_dir / "evidence")
    sign_report_folder(report_dir, p256.key)
    assert (report_dir / "evidence").is_dir()
    statement = json.loads(read_bundle((report_dir / "report.intoto.jsonl").read_bytes(), "x")[0].payload)
    assert statement["subject"][1]["digest"] == {"dirHash": EMPTY_DIR_HASH}
    verify_report(report_dir, anchors(p256))
    (report_dir / "evidence").rmdir()  # e.g. lost by git: still verifies, nothing was in it
    verify_report(report_dir, anchors(p256))


def test_encrypted_key_with_env_passphrase(
    report_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An encrypted key signs with $CONFORMANCE_KEY_PASSPHRASE (CI) or an explicit passphrase."""
    pair = make_pair(tmp_path, "ci", "p256", PASSPHRASE.encode())
    monkeypatch.setenv("CONFORMANCE_KEY_PASSPHRASE", PASSPHRASE)
    sign_report_folder(report_dir, pair.key)
    monkeypatch.delenv("CONFORMANCE_KEY_PASSPHRASE")
    sign_report_folder(report_dir, pair.key, passphrase=PASSPHRASE.encode(), force=True)
    verify_report(report_dir, anchors(pair))


def test_already_signed_needs_force(signed: Path, p256: KeyPair) -> None:
    """Signing twice is refused unless forced (it would drop countersignatures)."""
    with pytest.raises(UsageError, match="already signed"):
        sign_report_folder(signed, p256.key)
    sign_report_folder(signed, p256.key, force=True)


def test_folder_without_report(tmp_path: Path, p256: KeyPair) -> None:
    """A folder without report.json cannot be signed (exit 2, not a verification failure)."""
    with pytest.raises(ReportError, match="cannot read"):
        sign_report_folder(tmp_path, p256.key)


def test_envelope_path_as_target(signed: Path, p256: KeyPair) -> None:
    """verify accepts the envelope file as well as the folder."""
    assert verify_report(signed / "report.intoto.jsonl", anchors(p256)).folder == signed


def test_several_trusted_keys(signed: Path, p256: KeyPair, ed: KeyPair) -> None:
    """With several pinned keys, the one that verifies is reported."""
    assert verify_report(signed, anchors(ed, p256)).supplier.keyid == p256.keyid


def test_reviewers_own_profile_and_document(
    signed: Path, p256: KeyPair, profile_file: Path, spec_file: Path
) -> None:
    """--profile/--spec copies that match the signed digests pass step 7."""
    result = verify_report(signed, anchors(p256), profile=profile_file, spec=spec_file)
    assert not any("not compared" in n for n in result.notes)


def test_evidence_digest_recorded_in_report_must_match(report_dir: Path, p256: KeyPair) -> None:
    """When report.json records evidence.sha256 it must be the evidence folder's dirHash."""
    from conformance.attest.evidence import dir_hash
    from conformance.report.json_render import canonical_bytes

    report = json.loads((report_dir / "report.json").read_bytes())
    report["evidence"] = {"sha256": dir_hash(report_dir / "evidence")}
    (report_dir / "report.json").write_bytes(canonical_bytes(report))
    sign_report_folder(report_dir, p256.key)
    verify_report(report_dir, anchors(p256))


def test_report_json_as_target(signed: Path, p256: KeyPair) -> None:
    """Pointing verify at report.json itself finds the envelope beside it."""
    assert verify_report(signed / "report.json", anchors(p256)).folder == signed
