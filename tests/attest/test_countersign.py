"""Countersigning: a standards body's SVR envelope over the supplier statement and report.json."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from conformance.attest import TrustAnchors, countersign_report_folder, verify_report
from conformance.attest.envelope import read_bundle
from conformance.attest.errors import CountersignatureError
from conformance.attest.keys import load_public_key, load_signing_key
from conformance.attest.sign import _sign_folder
from conformance.attest.statement import SVR_TYPE

from .conftest import NOW, PKI, KeyPair, Result

PROPERTY = "TECHUK_INTEROP_POL_CORE_0_1_CONFORMANT"


def keys(*pairs: KeyPair) -> TrustAnchors:
    return TrustAnchors(keys=tuple(load_public_key(p.pub) for p in pairs))


def test_countersignature_appends_an_svr_line(signed: Path, p256: KeyPair, body: KeyPair) -> None:
    """Line 2 is an SVR statement naming report.json and line 1's payload digest, the profile as policy."""
    payload = verify_report(signed, keys(p256)).payload
    countersign_report_folder(signed, body.key, properties=[PROPERTY], supplier_payload=payload)
    envelopes = read_bundle((signed / "report.intoto.jsonl").read_bytes(), "x")
    assert len(envelopes) == 2
    statement = json.loads(envelopes[1].payload)
    assert statement["predicateType"] == SVR_TYPE
    assert [s["name"] for s in statement["subject"]] == ["report.json", "supplier-statement"]
    assert statement["predicate"]["properties"] == [PROPERTY]
    assert statement["predicate"]["verifier"]["policy"]["uri"].endswith("interop-pol-core@0.1.0")
    result = verify_report(
        signed, keys(p256), countersigners=keys(body), require_countersign=True, countersign_property=PROPERTY
    )
    assert result.countersignatures[0].properties == (PROPERTY,)
    assert result.countersignatures[0].signer.keyid == body.keyid


def test_countersignature_with_certificate(
    signed: Path, p256: KeyPair, body: KeyPair, pki: PKI, chain_for: Callable[..., Path]
) -> None:
    """A body countersigning with a certificate is verified against its pinned root."""
    from conformance.attest.certs import load_certificates

    countersign_report_folder(signed, body.key, properties=[PROPERTY], cert_path=chain_for(body))
    result = verify_report(
        signed,
        keys(p256),
        require_countersign=True,
        countersigners=TrustAnchors(roots=load_certificates(pki.root.pem, "root")),
    )
    assert result.countersignatures[0].signer.subject is not None


def test_countersignature_by_an_untrusted_key(
    signed: Path, p256: KeyPair, body: KeyPair, other_p256: KeyPair
) -> None:
    countersign_report_folder(signed, body.key, properties=[PROPERTY])
    with pytest.raises(CountersignatureError, match="does not verify with any trusted key"):
        verify_report(signed, keys(p256), countersigners=keys(other_p256), require_countersign=True)


def test_countersignature_of_a_resigned_report(signed: Path, p256: KeyPair, body: KeyPair) -> None:
    """If the supplier re-signs (new statement), an old countersignature no longer applies."""
    countersign_report_folder(signed, body.key, properties=[PROPERTY])
    old_line = (signed / "report.intoto.jsonl").read_bytes().splitlines(keepends=True)[1]
    _sign_folder(signed, load_signing_key(p256.key, None), (), NOW - timedelta(hours=1), force=True)
    path = signed / "report.intoto.jsonl"
    path.write_bytes(path.read_bytes() + old_line)
    with pytest.raises(CountersignatureError, match="about a different supplier statement"):
        verify_report(signed, keys(p256), countersigners=keys(body))


def test_missing_property(signed: Path, p256: KeyPair, body: KeyPair) -> None:
    countersign_report_folder(signed, body.key, properties=["OTHER_PROPERTY"])
    with pytest.raises(CountersignatureError, match=f"no countersignature asserts {PROPERTY}"):
        verify_report(signed, keys(p256), countersigners=keys(body), countersign_property=PROPERTY)


def test_unverified_countersignatures_are_reported(signed: Path, p256: KeyPair, body: KeyPair) -> None:
    """Without countersign keys, lines 2+ are not trusted and the result says so."""
    countersign_report_folder(signed, body.key, properties=[PROPERTY])
    result = verify_report(signed, keys(p256))
    assert result.countersignatures == ()
    assert any("1 countersignature(s) present but NOT verified" in n for n in result.notes)


def test_cli_countersign_verifies_the_supplier_first(
    signed: Path, p256: KeyPair, body: KeyPair, other_p256: KeyPair, run_cli: Callable[..., Result]
) -> None:
    """`countersign --supplier-key` refuses to vouch for a report that does not verify."""
    result = run_cli(
        "countersign",
        str(signed),
        "--key",
        str(body.key),
        "--property",
        PROPERTY,
        "--supplier-key",
        str(other_p256.pub),
    )
    assert result.code == 1
    assert "not countersigned" in result.err
    assert len((signed / "report.intoto.jsonl").read_bytes().splitlines()) == 1
    result = run_cli(
        "countersign",
        str(signed),
        "--key",
        str(body.key),
        "--property",
        PROPERTY,
        "--supplier-key",
        str(p256.pub),
    )
    assert result.code == 0, result.text
    result = run_cli(
        "verify",
        str(signed),
        "--key",
        str(p256.pub),
        "--require-countersign",
        "--countersign-key",
        str(body.pub),
        "--countersign-property",
        PROPERTY,
    )
    assert result.code == 0
    assert f"asserts {PROPERTY}" in result.err


def test_cli_countersign_without_supplier_key_warns(
    signed: Path, body: KeyPair, run_cli: Callable[..., Result]
) -> None:
    result = run_cli("countersign", str(signed), "--key", str(body.key), "--property", PROPERTY)
    assert result.code == 0
    assert "supplier's signature was NOT verified" in result.err


def test_bad_property_name(signed: Path, body: KeyPair, run_cli: Callable[..., Result]) -> None:
    result = run_cli("countersign", str(signed), "--key", str(body.key), "--property", "has space")
    assert result.code == 2
    assert "--property must be" in result.err
