"""Bad input and attacks, one test each, through the command line: one clear line, never a traceback.

Exit 1 is "verification failed"; exit 2 is a problem with the reviewer's or signer's own input.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from conformance.attest import dsse
from conformance.attest._json import dumps_canonical
from conformance.attest.envelope import PAYLOAD_TYPE, Envelope, read_bundle
from conformance.attest.keys import load_signing_key

from .conftest import NOW, PASSPHRASE, PKI, KeyPair, Result, make_pair

ENVELOPE = "report.intoto.jsonl"


def failed(result: Result, reason: str, code: int = 1) -> None:
    """The run failed with ``code`` and exactly one stderr line containing ``reason``; no traceback."""
    assert result.code == code, result.text
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert reason in lines[0], lines[0]
    assert "Traceback" not in result.text
    if code == 1:
        assert lines[0].startswith("FAIL: ")


def statement_of(folder: Path) -> dict[str, Any]:
    return json.loads(read_bundle((folder / ENVELOPE).read_bytes(), "x")[0].payload)


def resign(folder: Path, pair: KeyPair, payload: bytes, payload_type: str = PAYLOAD_TYPE) -> None:
    """Replace line 1 with an envelope really signed by ``pair`` over ``payload`` (a malicious signer)."""
    key = load_signing_key(pair.key, None)
    envelope = Envelope(
        payload_type=payload_type,
        payload=payload,
        keyid=pair.keyid,
        signature=dsse.sign(key, payload_type, payload),
    )
    (folder / ENVELOPE).write_bytes(envelope.line())


def edit_envelope(folder: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Edit line 1's JSON and write it back in canonical form (so only the change itself differs)."""
    envelope = json.loads((folder / ENVELOPE).read_bytes())
    change(envelope)
    (folder / ENVELOPE).write_bytes(dumps_canonical(envelope) + b"\n")


def test_unsigned_report(report_dir: Path, p256: KeyPair, run_cli: Callable[..., Result]) -> None:
    """A folder without report.intoto.jsonl fails: nothing proves who wrote it."""
    failed(run_cli("verify", str(report_dir), "--key", str(p256.pub)), "the report is not signed")


def test_wrong_key(signed: Path, other_p256: KeyPair, run_cli: Callable[..., Result]) -> None:
    """A different key of the same algorithm does not verify."""
    result = run_cli("verify", str(signed), "--key", str(other_p256.pub))
    failed(result, "does not verify with any trusted key")
    assert "which you did not trust" in result.err


def test_key_of_the_other_algorithm(signed: Path, ed: KeyPair, run_cli: Callable[..., Result]) -> None:
    """An Ed25519 key does not verify a P-256 signature (and is not confused by the keyid hint)."""
    failed(run_cli("verify", str(signed), "--key", str(ed.pub)), "does not verify with any trusted key")


def test_truncated_envelope(signed: Path, p256: KeyPair, run_cli: Callable[..., Result]) -> None:
    """An envelope cut short is rejected before anything else."""
    path = signed / ENVELOPE
    path.write_bytes(path.read_bytes()[:200])
    failed(run_cli("verify", str(signed), "--key", str(p256.pub)), "truncated")


def test_truncated_with_newline(signed: Path, p256: KeyPair, run_cli: Callable[..., Result]) -> None:
    path = signed / ENVELOPE
    path.write_bytes(path.read_bytes()[:200] + b"\n")
    failed(run_cli("verify", str(signed), "--key", str(p256.pub)), "not a valid envelope: not JSON")


def test_garbled_envelope(signed: Path, p256: KeyPair, run_cli: Callable[..., Result]) -> None:
    """Random bytes (not even UTF-8) in the envelope file are rejected in one line."""
    (signed / ENVELOPE).write_bytes(os.urandom(64) + b"\xff\n")
    failed(run_cli("verify", str(signed), "--key", str(p256.pub)), "not a valid envelope")


def test_payload_type_changed(signed: Path, p256: KeyPair, run_cli: Callable[..., Result]) -> None:
    """Editing payloadType is rejected (it is inside the PAE, and the type must be in-toto's)."""
    edit_envelope(signed, lambda e: e.update(payloadType="application/vnd.in-toto.other+json"))
    failed(run_cli("verify", str(signed), "--key", str(p256.pub)), "unsupported payloadType")


def test_payload_type_changed_and_resigned(
    signed: Path, p256: KeyPair, run_cli: Callable[..., Result]
) -> None:
    """Even correctly signed, a statement under another payload type is not accepted."""
    resign(signed, p256, read_bundle((signed / ENVELOPE).read_bytes(), "x")[0].payload, "application/json")
    failed(run_cli("verify", str(signed), "--key", str(p256.pub)), "unsupported payloadType")


def test_payload_type_swapped_signature_checked(signed: Path, p256: KeyPair) -> None:
    """The type is bound by the PAE: the same signature does not verify under another type."""
    envelope = read_bundle((signed / ENVELOPE).read_bytes(), "x")[0]
    key = load_signing_key(p256.key, None).public_key
    assert dsse.verify_payload(key, envelope.payload_type, envelope.payload, envelope.signature)
    assert dsse.verify_payload(key, "application/json", envelope.payload, envelope.signature) is None


def test_signature_over_other_bytes(
    signed: Path, report_dir: Path, p256: KeyPair, tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    """A genuine signature by the right key, but over a different statement, does not verify."""
    other = statement_of(signed)
    other["predicate"]["result"] = "PASSED"
    key = load_signing_key(p256.key, None)
    foreign = dsse.sign(key, PAYLOAD_TYPE, dumps_canonical(other))
    edit_envelope(signed, lambda e: e["signatures"][0].update(sig=base64.b64encode(foreign).decode()))
    failed(run_cli("verify", str(signed), "--key", str(p256.pub)), "does not verify with any trusted key")


def test_duplicate_keys_in_envelope(signed: Path, p256: KeyPair, run_cli: Callable[..., Result]) -> None:
    """An envelope with a duplicated key is rejected (parsers disagree on which value wins)."""
    path = signed / ENVELOPE
    path.write_bytes(path.read_bytes().replace(b'"payloadType":', b'"payloadType":"x","payloadType":', 1))
    failed(run_cli("verify", str(signed), "--key", str(p256.pub)), "duplicate key 'payloadType'")


def test_duplicate_keys_in_signed_payload(
    signed: Path, p256: KeyPair, run_cli: Callable[..., Result]
) -> None:
    """Even a correctly signed payload with {"result":"FAILED","result":"PASSED"} is rejected."""
    payload = dumps_canonical(statement_of(signed)).replace(
        b'"result":"WARNED"', b'"result":"FAILED","result":"PASSED"'
    )
    resign(signed, p256, payload)
    failed(run_cli("verify", str(signed), "--key", str(p256.pub)), "duplicate key 'result'")


def test_non_utf8_signed_payload(signed: Path, p256: KeyPair, run_cli: Callable[..., Result]) -> None:
    """A signed payload that is not UTF-8 is rejected after the signature check, before any use."""
    resign(signed, p256, b'{"_type":"\xff"}')
    failed(run_cli("verify", str(signed), "--key", str(p256.pub)), "not UTF-8")


def test_report_json_byte_changed(signed: Path, p256: KeyPair, run_cli: Callable[..., Result]) -> None:
    """One byte of report.json changed: the subject digest no longer matches."""
    path = signed / "report.json"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    failed(
        run_cli("verify", str(signed), "--key", str(p256.pub)), "report.json has changed since it was signed"
    )


def test_evidence_byte_changed(signed: Path, p256: KeyPair, run_cli: Callable[..., Result]) -> None:
    """One byte of an evidence file changed: the dirHash no longer matches."""
    path = signed / "evidence" / "exchanges.ndjson"
    data = bytearray(path.read_bytes())
    data[10] ^= 0x20
    path.write_bytes(bytes(data))
    failed(run_cli("verify", str(signed), "--key", str(p256.pub)), "the evidence folder has changed")


def test_evidence_file_added(signed: Path, p256: KeyPair, run_cli: Callable[..., Result]) -> None:
    (signed / "evidence" / "extra.ndjson").write_bytes(b"{}\n")
    failed(run_cli("verify", str(signed), "--key", str(p256.pub)), "the evidence folder has changed")


def test_envelope_byte_changed(signed: Path, p256: KeyPair, run_cli: Callable[..., Result]) -> None:
    """One byte inside the base64 payload changed: rejected."""
    path = signed / ENVELOPE
    data = bytearray(path.read_bytes())
    data[data.index(b'"payload":"') + 40] ^= 0x01
    path.write_bytes(bytes(data))
    result = run_cli("verify", str(signed), "--key", str(p256.pub))
    assert result.code == 1
    assert result.err.startswith("FAIL: ")


def test_keyid_hint_changed(signed: Path, p256: KeyPair, run_cli: Callable[..., Result]) -> None:
    """The unauthenticated keyid must still name the key that verified (every byte is tamper-evident)."""
    edit_envelope(signed, lambda e: e["signatures"][0].update(keyid="sha256:" + "0" * 64))
    failed(run_cli("verify", str(signed), "--key", str(p256.pub)), "is not the key that signed")


def test_reformatted_envelope(signed: Path, p256: KeyPair, run_cli: Callable[..., Result]) -> None:
    """Pretty-printing the envelope (same JSON, other bytes) is rejected: only our exact form is accepted."""
    path = signed / ENVELOPE
    path.write_bytes(json.dumps(json.loads(path.read_bytes())).encode() + b"\n")
    failed(run_cli("verify", str(signed), "--key", str(p256.pub)), "not in the exact form")


def test_url_safe_base64_is_not_our_form(signed: Path, p256: KeyPair, run_cli: Callable[..., Result]) -> None:
    """Standard padded base64 only: another spelling of the same bytes is a changed byte."""
    edit_envelope(signed, lambda e: e.update(payload=e["payload"].rstrip("=")))
    failed(run_cli("verify", str(signed), "--key", str(p256.pub)), "'payload' is not")


def test_second_signature_in_one_envelope(
    signed: Path, p256: KeyPair, run_cli: Callable[..., Result]
) -> None:
    edit_envelope(signed, lambda e: e["signatures"].append(dict(e["signatures"][0])))
    failed(run_cli("verify", str(signed), "--key", str(p256.pub)), "exactly one signature (found 2)")


def test_statement_for_another_key(
    signed: Path, p256: KeyPair, other_p256: KeyPair, run_cli: Callable[..., Result]
) -> None:
    """A statement naming another signer (copied from elsewhere) is rejected even if the signature is valid."""
    statement = statement_of(signed)
    statement["predicate"]["interopConformance"]["signer"]["keyid"] = other_p256.keyid
    resign(signed, p256, dumps_canonical(statement))
    failed(run_cli("verify", str(signed), "--key", str(p256.pub)), "the statement was made for key")


def test_signing_time_in_the_future(signed: Path, p256: KeyPair, run_cli: Callable[..., Result]) -> None:
    statement = statement_of(signed)
    statement["predicate"]["interopConformance"]["signedAt"] = "2999-01-01T00:00:00Z"
    resign(signed, p256, dumps_canonical(statement))
    failed(run_cli("verify", str(signed), "--key", str(p256.pub)), "is in the future")


def test_predicate_disagrees_with_report(signed: Path, p256: KeyPair, run_cli: Callable[..., Result]) -> None:
    """A signer that claims PASSED for a WARNED report is caught by the consistency step."""
    statement = statement_of(signed)
    statement["predicate"]["result"] = "PASSED"
    resign(signed, p256, dumps_canonical(statement))
    failed(run_cli("verify", str(signed), "--key", str(p256.pub)), "disagree at predicate.result")


def test_reviewers_profile_differs(
    signed: Path, p256: KeyPair, tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    """A profile copy that is not the one the report was made with fails step 7."""
    mine = tmp_path / "profile.yaml"
    mine.write_text("profile: interop-pol-core\nversion: 0.2.0\n")
    failed(
        run_cli("verify", str(signed), "--key", str(p256.pub), "--profile", str(mine)),
        "the report was made with a different profile",
    )


def test_expired_certificate(
    report_dir: Path, p256: KeyPair, pki: PKI, chain_for: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    """A leaf that had expired at the (recorded) signing time does not verify."""
    from conformance.attest.certs import load_certificates
    from conformance.attest.sign import _sign_folder

    chain = chain_for(p256, not_before=NOW - timedelta(days=400), not_after=NOW - timedelta(days=1))
    certificates = load_certificates(chain, "chain")[:1]
    _sign_folder(report_dir, load_signing_key(p256.key, None), certificates, NOW, force=False)
    failed(
        run_cli("verify", str(report_dir), "--trust-root", str(pki.root.pem)), "not valid at the signing time"
    )


def test_signing_refuses_an_expired_certificate(
    report_dir: Path, p256: KeyPair, chain_for: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    """`sign --cert` with an expired certificate stops before writing anything (exit 2)."""
    chain = chain_for(p256, not_before=NOW - timedelta(days=400), not_after=NOW - timedelta(days=1))
    failed(
        run_cli("sign", str(report_dir), "--key", str(p256.key), "--cert", str(chain)),
        "the certificate is not valid now",
        code=2,
    )
    assert not (report_dir / ENVELOPE).exists()


def test_chain_to_untrusted_root(
    report_dir: Path, p256: KeyPair, pki: PKI, chain_for: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    """A chain issued under another root does not verify against the pinned root."""
    from .conftest import issue, write_chain

    leaf = issue(pki.other_root, load_signing_key(p256.key, None).public_key, org="Acme Ltd")
    chain = write_chain(report_dir.parent / "other-chain.pem", leaf)
    assert run_cli("sign", str(report_dir), "--key", str(p256.key), "--cert", str(chain)).code == 0
    failed(
        run_cli("verify", str(report_dir), "--trust-root", str(pki.root.pem)),
        "does not lead to a trusted root",
    )


def test_missing_countersignature_when_required(
    signed: Path, p256: KeyPair, body: KeyPair, run_cli: Callable[..., Result]
) -> None:
    failed(
        run_cli(
            "verify",
            str(signed),
            "--key",
            str(p256.pub),
            "--require-countersign",
            "--countersign-key",
            str(body.pub),
        ),
        "no countersignature, but one is required",
    )


def test_encrypted_key_wrong_passphrase(
    report_dir: Path, tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    """Signing with the wrong passphrase: exit 2, one line, nothing written."""
    pair = make_pair(tmp_path, "enc", "p256", PASSPHRASE.encode())
    result = run_cli(
        "sign",
        str(report_dir),
        "--key",
        str(pair.key),
        env={"CONFORMANCE_KEY_PASSPHRASE": "not the right passphrase"},
    )
    failed(result, "wrong passphrase", code=2)
    assert not (report_dir / ENVELOPE).exists()


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_key_file_with_loose_permissions_warns(
    report_dir: Path, tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    """A key readable by others still signs, with a warning naming chmod 600."""
    pair = make_pair(tmp_path, "loose", "ed25519", PASSPHRASE.encode())
    pair.key.chmod(0o644)
    result = run_cli(
        "sign", str(report_dir), "--key", str(pair.key), env={"CONFORMANCE_KEY_PASSPHRASE": PASSPHRASE}
    )
    assert result.code == 0
    assert f"warning: {pair.key} has permissions 0644" in result.err
    assert "chmod 600" in result.err


def test_unreadable_public_key_is_usage_error(
    signed: Path, tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    """A --key file that is not a public key is the reviewer's input problem: exit 2."""
    bogus = tmp_path / "bogus.pub"
    bogus.write_text("hello")
    failed(run_cli("verify", str(signed), "--key", str(bogus)), "not a PEM public key", code=2)
