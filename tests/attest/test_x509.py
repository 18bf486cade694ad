"""Certificate identity: a chain issued under a pinned root, validated at the recorded signing time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID

from conformance.attest import TrustAnchors, sign_report_folder, verify_report
from conformance.attest.envelope import read_bundle
from conformance.attest.errors import BadSignature, UntrustedCertificate
from conformance.attest.keys import load_public_key

from .conftest import PKI, KeyPair, Result


def roots(*pems: Path) -> TrustAnchors:
    from conformance.attest.certs import load_certificates

    return TrustAnchors(roots=tuple(c for p in pems for c in load_certificates(p, "root")))


def test_chain_to_pinned_root_verifies(
    report_dir: Path, pair: KeyPair, pki: PKI, chain_for: Callable[..., Path]
) -> None:
    """leaf (P-256 or Ed25519) <- issuing CA <- pinned root: verified, subject shown."""
    info = sign_report_folder(report_dir, pair.key, cert_path=chain_for(pair))
    assert info.subject == "O=Acme Ltd, organizationIdentifier=NTRGB-01234567, CN=Acme Ltd signing"
    result = verify_report(report_dir, roots(pki.root.pem))
    assert result.supplier.subject == info.subject
    assert result.supplier.certificate_checked


def test_root_is_not_carried_in_the_envelope(
    report_dir: Path, p256: KeyPair, pki: PKI, chain_for: Callable[..., Path], tmp_path: Path
) -> None:
    """A chain file that includes the root: the root is dropped (trust comes from pinning, not the envelope)."""
    chain = chain_for(p256)
    with_root = tmp_path / "with-root.pem"
    with_root.write_bytes(chain.read_bytes() + pki.root.pem.read_bytes())
    sign_report_folder(report_dir, p256.key, cert_path=with_root)
    envelope = read_bundle((report_dir / "report.intoto.jsonl").read_bytes(), "x")[0]
    assert len(envelope.certificates) == 2
    verify_report(report_dir, roots(pki.root.pem))


def test_pinned_key_still_works_with_a_chain(
    report_dir: Path, p256: KeyPair, chain_for: Callable[..., Path]
) -> None:
    """With --key, a carried chain is not checked, and the result says so."""
    sign_report_folder(report_dir, p256.key, cert_path=chain_for(p256))
    result = verify_report(report_dir, TrustAnchors(keys=(load_public_key(p256.pub),)))
    assert result.supplier.subject is None
    assert any("certificate chain that was not checked" in n for n in result.notes)


def test_trust_root_without_a_chain(signed: Path, pki: PKI) -> None:
    """--trust-root on a bare-key signature says to use --key instead."""
    with pytest.raises(BadSignature, match="carries no certificate chain"):
        verify_report(signed, roots(pki.root.pem))


def test_leaf_without_code_signing(
    report_dir: Path, p256: KeyPair, pki: PKI, chain_for: Callable[..., Path]
) -> None:
    """A leaf issued for TLS client auth, not code signing, is refused."""
    sign_report_folder(report_dir, p256.key, cert_path=chain_for(p256, eku=ExtendedKeyUsageOID.CLIENT_AUTH))
    with pytest.raises(UntrustedCertificate, match="not issued for codeSigning"):
        verify_report(report_dir, roots(pki.root.pem))


def test_certificate_for_another_key_is_refused_at_signing(
    report_dir: Path, p256: KeyPair, ed: KeyPair, chain_for: Callable[..., Path]
) -> None:
    from conformance.errors import UsageError

    with pytest.raises(UsageError, match="not for this signing key"):
        sign_report_folder(report_dir, p256.key, cert_path=chain_for(ed))


def test_swapped_certificate_is_detected(
    report_dir: Path, p256: KeyPair, pki: PKI, chain_for: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    """Replacing the carried leaf by another valid one for the same key is caught: the statement binds it."""
    import base64
    import json

    sign_report_folder(report_dir, p256.key, cert_path=chain_for(p256))
    other = (
        chain_for(p256).read_bytes().split(b"-----END CERTIFICATE-----")[0] + b"-----END CERTIFICATE-----\n"
    )
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    der = x509.load_pem_x509_certificate(other).public_bytes(Encoding.DER)
    path = report_dir / "report.intoto.jsonl"
    envelope = json.loads(path.read_bytes())
    envelope["signatures"][0]["extension"]["ext"]["x509CertificateChain"]["certificates"][0]["rawBytes"] = (
        base64.b64encode(der).decode()
    )
    path.write_bytes(json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode() + b"\n")
    result = run_cli("verify", str(report_dir), "--trust-root", str(pki.root.pem))
    assert result.code == 1
    assert "not the ones the signer recorded" in result.err
