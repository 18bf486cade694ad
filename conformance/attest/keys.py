"""Signing keys: generate, write, load, key ids, certificate signing requests, permission warnings.

Private keys are PKCS#8 PEM, written with mode 0600 and (unless the user explicitly opts out for a
throw-away key) encrypted with a passphrase: PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC, as produced by
``cryptography``'s ``BestAvailableEncryption`` and readable by ``openssl pkey``. The passphrase comes from a
prompt or ``CONFORMANCE_KEY_PASSPHRASE`` (CI), never from argv: command lines end up in shell history and
``ps`` output. The public key is written beside the private key as ``NAME.pub`` (PEM SubjectPublicKeyInfo).

The key id is ``sha256:`` + hex SHA-256 of the DER SubjectPublicKeyInfo, which anyone can recompute with
``openssl pkey -pubin -in NAME.pub -outform DER | sha256sum``. It is a fingerprint to compare out of band
(read it aloud, print it in a procurement pack), never a reason to trust a key by itself.

Nothing here ever prints, logs or stores a private key or passphrase outside the key file.
"""

from __future__ import annotations

import enum
import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeAlias

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..errors import ConformanceError, UsageError
from .dsse import PublicKey, algorithm_of, allowed_public_key

__all__ = [
    "MIN_PASSPHRASE_LENGTH",
    "PASSPHRASE_ENV",
    "KeyAlgorithm",
    "KeyFiles",
    "SigningKey",
    "build_csr",
    "generate_key_pair",
    "is_encrypted",
    "key_id",
    "load_public_key",
    "load_signing_key",
    "permission_warning",
]

PASSPHRASE_ENV = "CONFORMANCE_KEY_PASSPHRASE"
# The PKCS#8 KDF is PBKDF2 with OpenSSL's default 2048 iterations: cheap to guess, so a short passphrase
# protects little if the file leaks. 12 characters is the floor; a long passphrase is the real defence.
MIN_PASSPHRASE_LENGTH = 12

PrivateKey: TypeAlias = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


class KeyAlgorithm(str, enum.Enum):
    """What ``keygen --algorithm`` accepts."""

    P256 = "p256"  # ECDSA P-256 / SHA-256: the default (CAs, HSM/PIV/KMS, FIPS, cosign all support it)
    ED25519 = "ed25519"  # pure Ed25519: accepted everywhere we verify


def key_id(public_key: CertificatePublicKeyTypes) -> str:
    """``sha256:<hex>`` of the DER SubjectPublicKeyInfo (what ``openssl pkey -outform DER | sha256sum`` gives)."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest()


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A loaded private key that can sign; its ``repr`` never shows key material."""

    private_key: PrivateKey = field(repr=False)
    keyid: str
    algorithm: str
    warnings: tuple[str, ...] = ()

    @property
    def public_key(self) -> PublicKey:
        return self.private_key.public_key()

    def sign(self, message: bytes) -> bytes:
        if isinstance(self.private_key, ed25519.Ed25519PrivateKey):
            return self.private_key.sign(message)
        # DER-encoded ECDSA (what cosign and `openssl dgst -verify` expect). RFC 6979 deterministic nonces
        # where the installed cryptography supports them: no dependence on the RNG at signing time.
        try:
            scheme = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
        except TypeError:  # cryptography < 44
            scheme = ec.ECDSA(hashes.SHA256())
        return self.private_key.sign(message, scheme)


@dataclass(frozen=True, slots=True)
class KeyFiles:
    private_path: Path
    public_path: Path
    keyid: str
    algorithm: str
    encrypted: bool


def _new_private_key(algorithm: KeyAlgorithm) -> PrivateKey:
    if algorithm is KeyAlgorithm.ED25519:
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(ec.SECP256R1())


def _write_new(path: Path, content: bytes, mode: int) -> None:
    # O_EXCL: never overwrite an existing key; the mode is set at creation, so the key is never readable
    # by others, not even for an instant (and fchmod undoes a restrictive umask's effect on the public key).
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise UsageError(
            "file exists; refusing to overwrite a key",
            source=str(path),
            hint="choose another --out name or move the old file away",
        ) from None
    except OSError as exc:
        raise ConformanceError(f"cannot create: {exc.strerror}", source=str(path)) from None
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        os.write(fd, content)
    finally:
        os.close(fd)


def generate_key_pair(out: Path, algorithm: KeyAlgorithm, passphrase: bytes | None) -> KeyFiles:
    """Write ``OUT.key`` (PKCS#8 PEM, 0600, encrypted unless ``passphrase`` is None) and ``OUT.pub``."""
    if out.suffix in (".key", ".pub"):
        out = out.with_suffix("")
    if passphrase is not None and len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise UsageError(
            f"the passphrase must be at least {MIN_PASSPHRASE_LENGTH} characters",
            hint="use a long passphrase, or --no-passphrase for a throw-away key",
        )
    private_path, public_path = out.with_name(out.name + ".key"), out.with_name(out.name + ".pub")
    for path in (private_path, public_path):
        if path.exists():
            raise UsageError(
                "file exists; refusing to overwrite a key",
                source=str(path),
                hint="choose another --out name or move the old file away",
            )
    key = _new_private_key(algorithm)
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase is not None
        else serialization.NoEncryption()
    )
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    public = key.public_key()
    public_pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _write_new(private_path, pem, 0o600)
    _write_new(public_path, public_pem, 0o644)
    return KeyFiles(
        private_path=private_path,
        public_path=public_path,
        keyid=key_id(public),
        algorithm=algorithm_of(public),
        encrypted=passphrase is not None,
    )


def permission_warning(path: Path) -> str | None:
    """A warning when a private key file is readable or writable by group or others (POSIX only)."""
    if os.name != "posix":
        return None
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    if mode & 0o077:
        return (
            f"{path} has permissions {mode:04o}: other users on this machine can read your signing key "
            f"(run: chmod 600 {path})"
        )
    return None


def is_encrypted(path: Path) -> bool:
    """True for an encrypted PKCS#8 PEM (the only encrypted form we write)."""
    return b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in _read(path, "key")


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConformanceError(f"cannot read the {what} file: {exc.strerror}", source=str(path)) from None


def load_signing_key(path: Path, passphrase: bytes | None) -> SigningKey:
    """Load a PKCS#8 PEM private key; warn (in ``.warnings``) if the file is readable by others."""
    data = _read(path, "key")
    if b"PRIVATE KEY-----" not in data:
        hint = (
            "sign with the private key (NAME.key), not the public key" if b"PUBLIC KEY-----" in data else None
        )
        raise ConformanceError("not a PEM private key", source=str(path), hint=hint)
    encrypted = b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in data
    if encrypted and not passphrase:
        raise ConformanceError(
            "the key is encrypted and no passphrase was given",
            source=str(path),
            hint=f"set {PASSPHRASE_ENV} or run interactively to be prompted",
        )
    try:
        key = serialization.load_pem_private_key(data, password=passphrase if encrypted else None)
    except ValueError:
        # cryptography says "Incorrect password" or "Could not deserialize"; neither message carries secrets,
        # but we word it ourselves so nothing of the key file can ever leak into a message.
        reason = (
            "wrong passphrase (could not decrypt the key)"
            if encrypted
            else "not a readable PKCS#8 private key"
        )
        raise ConformanceError(reason, source=str(path)) from None
    except TypeError:
        raise ConformanceError(
            "the key is not encrypted but a passphrase was required", source=str(path)
        ) from None
    if not isinstance(key, (ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)):
        raise ConformanceError(
            f"unsupported key type {type(key).__name__}",
            source=str(path),
            hint="use ECDSA P-256 or Ed25519 (conformance keygen)",
        )
    try:
        algorithm = algorithm_of(key.public_key())
    except ValueError as exc:
        raise ConformanceError(str(exc), source=str(path)) from None
    warnings = tuple(w for w in (permission_warning(path),) if w)
    if not encrypted:
        warnings += (
            f"{path} is not encrypted: anyone who copies the file can sign as you "
            "(fine for a throw-away key only)",
        )
    return SigningKey(private_key=key, keyid=key_id(key.public_key()), algorithm=algorithm, warnings=warnings)


def load_public_key(path: Path) -> PublicKey:
    """Load a PEM SubjectPublicKeyInfo public key of an allow-listed algorithm."""
    data = _read(path, "public key")
    if b"PRIVATE KEY-----" in data:
        # Say nothing about the content: this is someone's secret handed to the wrong command.
        raise UsageError(
            "this is a private key; verification needs the public key (NAME.pub)",
            source=str(path),
            hint="never share the .key file",
        )
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise UsageError("not a PEM public key", source=str(path)) from None
    try:
        return allowed_public_key(key)
    except ValueError as exc:
        raise UsageError(str(exc), source=str(path)) from None


def build_csr(
    key: SigningKey, *, org: str, org_id: str, common_name: str | None = None, country: str | None = None
) -> bytes:
    """A PKCS#10 CSR (PEM) for a standards body's CA: O, organizationIdentifier (2.5.4.97), CN, C.

    It requests KeyUsage digitalSignature (critical) and ExtendedKeyUsage codeSigning; the CA decides what
    it actually issues. Only the public key and these names leave the supplier.
    """
    if not org.strip() or not org_id.strip():
        raise UsageError("--org and --org-id must not be empty")
    if country and (len(country) != 2 or not country.isalpha()):
        raise UsageError(f"--country must be a two-letter ISO 3166 code (got {country!r})")
    try:
        attributes = []
        if country:
            attributes.append(x509.NameAttribute(NameOID.COUNTRY_NAME, country.upper()))
        attributes += [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, org_id),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name or org),
        ]
    except ValueError as exc:  # e.g. a common name over 64 characters
        raise UsageError(
            f"cannot use that name in a CSR: {exc}", hint="use --cn with a shorter name"
        ) from None
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    builder = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name(attributes))
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
    )
    digest = None if isinstance(key.private_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    try:
        csr = builder.sign(key.private_key, digest)
    except ValueError as exc:
        raise UsageError(f"cannot build the CSR: {exc}") from None
    return csr.public_bytes(serialization.Encoding.PEM)
