"""Keys: generation, file modes, encryption, key ids, loading errors, permission warnings, CSRs."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conformance.attest.keys import (
    KeyAlgorithm,
    build_csr,
    generate_key_pair,
    load_public_key,
    load_signing_key,
)
from conformance.errors import ConformanceError, UsageError

from .conftest import PASSPHRASE

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


@posix_only
@pytest.mark.parametrize("algorithm", list(KeyAlgorithm))
def test_keygen_writes_0600_encrypted_pkcs8(tmp_path: Path, algorithm: KeyAlgorithm) -> None:
    """The private key is mode 0600, encrypted PKCS#8 PEM; the public key sits beside it as NAME.pub."""
    files = generate_key_pair(tmp_path / "acme", algorithm, PASSPHRASE.encode())
    assert files.private_path == tmp_path / "acme.key"
    assert files.public_path == tmp_path / "acme.pub"
    assert stat.S_IMODE(files.private_path.stat().st_mode) == 0o600
    assert files.private_path.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert files.public_path.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    key = load_signing_key(files.private_path, PASSPHRASE.encode())
    assert key.keyid == files.keyid
    assert key.warnings == ()
    assert files.algorithm == {"p256": "ecdsa-p256-sha256", "ed25519": "ed25519"}[algorithm.value]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_key_id_is_sha256_of_der_spki(tmp_path: Path) -> None:
    """The key id equals `openssl pkey -pubin -outform DER | sha256sum` (what reviewers can compute)."""
    files = generate_key_pair(tmp_path / "acme", KeyAlgorithm.P256, None)
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-in", str(files.public_path), "-outform", "DER"],
        capture_output=True,
        check=True,
    ).stdout
    import hashlib

    assert files.keyid == "sha256:" + hashlib.sha256(der).hexdigest()


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    """An existing key is never overwritten."""
    generate_key_pair(tmp_path / "acme", KeyAlgorithm.P256, None)
    with pytest.raises(UsageError, match="refusing to overwrite"):
        generate_key_pair(tmp_path / "acme", KeyAlgorithm.P256, None)


def test_short_passphrase_is_refused(tmp_path: Path) -> None:
    """A passphrase under 12 characters is refused at keygen."""
    with pytest.raises(UsageError, match="at least 12 characters"):
        generate_key_pair(tmp_path / "acme", KeyAlgorithm.P256, b"short")


def test_wrong_passphrase(tmp_path: Path) -> None:
    """An encrypted key with the wrong passphrase fails with one clear line, exit 2."""
    files = generate_key_pair(tmp_path / "acme", KeyAlgorithm.P256, PASSPHRASE.encode())
    with pytest.raises(ConformanceError, match="wrong passphrase") as info:
        load_signing_key(files.private_path, b"not the passphrase")
    assert info.value.exit_code == 2


def test_missing_passphrase(tmp_path: Path) -> None:
    """An encrypted key without any passphrase says how to give one."""
    files = generate_key_pair(tmp_path / "acme", KeyAlgorithm.P256, PASSPHRASE.encode())
    with pytest.raises(ConformanceError, match="CONFORMANCE_KEY_PASSPHRASE"):
        load_signing_key(files.private_path, None)


@posix_only
def test_loose_permissions_warn(tmp_path: Path) -> None:
    """A key readable by others loads, with a warning naming the fix."""
    files = generate_key_pair(tmp_path / "acme", KeyAlgorithm.ED25519, PASSPHRASE.encode())
    files.private_path.chmod(0o644)
    key = load_signing_key(files.private_path, PASSPHRASE.encode())
    assert any("permissions 0644" in w and "chmod 600" in w for w in key.warnings)


def test_unencrypted_key_warns(tmp_path: Path) -> None:
    """A throw-away (unencrypted) key loads with a warning."""
    files = generate_key_pair(tmp_path / "tmp", KeyAlgorithm.P256, None)
    assert any("not encrypted" in w for w in load_signing_key(files.private_path, None).warnings)


def test_public_and_private_keys_are_not_confused(tmp_path: Path) -> None:
    """Signing with a .pub, or verifying with a .key, is a clear usage error."""
    files = generate_key_pair(tmp_path / "acme", KeyAlgorithm.P256, None)
    with pytest.raises(ConformanceError, match="not the public key"):
        load_signing_key(files.public_path, None)
    with pytest.raises(UsageError, match="this is a private key"):
        load_public_key(files.private_path)


def test_unsupported_public_key(tmp_path: Path) -> None:
    """A P-384 public key is outside the allow-list."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    path = tmp_path / "p384.pub"
    path.write_bytes(
        ec.generate_private_key(ec.SECP384R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(UsageError, match="unsupported key type secp384r1"):
        load_public_key(path)


@pytest.mark.parametrize("algorithm", list(KeyAlgorithm))
def test_csr_names_the_organisation(tmp_path: Path, algorithm: KeyAlgorithm) -> None:
    """The CSR carries O, organizationIdentifier, CN, C, digitalSignature and codeSigning, and is self-signed."""
    files = generate_key_pair(tmp_path / "acme", algorithm, None)
    key = load_signing_key(files.private_path, None)
    csr = x509.load_pem_x509_csr(build_csr(key, org="Acme Ltd", org_id="NTRGB-01234567", country="gb"))
    assert csr.is_signature_valid
    subject = csr.subject
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Acme Ltd"
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)[0].value == "NTRGB-01234567"
    assert subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "GB"
    assert csr.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    assert (
        ExtendedKeyUsageOID.CODE_SIGNING
        in csr.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    )


def test_csr_rejects_bad_country(tmp_path: Path) -> None:
    files = generate_key_pair(tmp_path / "acme", KeyAlgorithm.P256, None)
    with pytest.raises(UsageError, match="two-letter"):
        build_csr(load_signing_key(files.private_path, None), org="Acme", org_id="X", country="GBR")


def test_signing_key_repr_hides_the_key(tmp_path: Path) -> None:
    """repr() of a loaded key shows the key id, never key material."""
    files = generate_key_pair(tmp_path / "acme", KeyAlgorithm.P256, None)
    text = repr(load_signing_key(files.private_path, None))
    assert "private_key" not in text
    assert files.keyid in text


def test_csr_rejects_overlong_common_name(tmp_path: Path) -> None:
    """A name X.509 cannot hold is a usage error naming the fix, not a traceback."""
    files = generate_key_pair(tmp_path / "acme", KeyAlgorithm.P256, None)
    with pytest.raises(UsageError, match="use --cn with a shorter name"):
        build_csr(load_signing_key(files.private_path, None), org="A" * 80, org_id="X")
