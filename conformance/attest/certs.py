"""X.509 identity: a supplier's (or standards body's) certificate chain, validated to a pinned root.

Validation uses ``cryptography.x509.verification`` (``PolicyBuilder`` + ``Store``, cryptography >= 43):
path building and signature checks, validity periods of every certificate *at the given time*, CA basic
constraints, key usage and path length via the WebPKI CA profile. For the signer's own (leaf)
certificate we require KeyUsage ``digitalSignature`` and an ExtendedKeyUsage containing ``codeSigning``
(a body may later add its own scheme OID to ``ACCEPTED_EKUS``); host names and SANs play no role.

Limits, stated plainly: no revocation checking (no CRL or OCSP is consulted: archive the body's CRL with
the report if revocation matters), and the validation time is the signing time the signer wrote into the
signed statement, which is *self-asserted*: a signer holding an expired or revoked key could backdate it.
Only an RFC 3161 timestamp (not implemented yet) or a countersignature's ``timeCreated`` bounds it.
CA certificates must be signed with ECDSA or RSA (the WebPKI profile); leaves may hold P-256 or Ed25519.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..errors import ConformanceError, UsageError
from .dsse import PublicKey, allowed_public_key
from .errors import UntrustedCertificate

__all__ = [
    "ACCEPTED_EKUS",
    "certificate_digest",
    "describe",
    "load_certificates",
    "parse_der",
    "verify_chain",
]

ACCEPTED_EKUS = (ExtendedKeyUsageOID.CODE_SIGNING,)
MAX_CHAIN_DEPTH = 4  # root -> issuing CA -> leaf is the recommended shape; a little room, no more


def load_certificates(path: Path, what: str) -> tuple[x509.Certificate, ...]:
    """All PEM certificates in a file, in file order; a usage error if there are none."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConformanceError(f"cannot read the {what} file: {exc.strerror}", source=str(path)) from None
    if b"PRIVATE KEY-----" in data:
        raise UsageError(
            f"this file holds a private key, not a {what}", source=str(path), hint="never share the .key file"
        )
    try:
        certificates = tuple(x509.load_pem_x509_certificates(data))
    except ValueError:
        raise UsageError(
            f"not a PEM {what} (expected -----BEGIN CERTIFICATE----- blocks)", source=str(path)
        ) from None
    if not certificates:
        raise UsageError(f"no certificate in the {what} file", source=str(path))
    return certificates


def parse_der(der: bytes, where: str) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(der)
    except Exception:  # hostile DER: ValueError, InvalidVersion, ... all mean "not usable", never a crash
        raise UntrustedCertificate("a certificate in the envelope cannot be parsed", source=where) from None


def certificate_digest(der: bytes) -> str:
    """``sha256:<hex>`` of a DER certificate: what the signed statement records for each certificate.

    It works on the bytes, not a parsed certificate, so a verifier pinning a bare key never parses them.
    """
    return "sha256:" + hashlib.sha256(der).hexdigest()


def describe(certificate: x509.Certificate) -> str:
    """A short subject for people: ``O=Acme Ltd, organizationIdentifier=NTRGB-01234567, CN=…``."""
    try:
        return _describe(certificate)
    except Exception:  # also shown by `inspect` for certificates nobody has checked
        return "(unreadable subject)"


def _describe(certificate: x509.Certificate) -> str:
    parts = []
    for oid, label in (
        (NameOID.ORGANIZATION_NAME, "O"),
        (NameOID.ORGANIZATION_IDENTIFIER, "organizationIdentifier"),
        (NameOID.COMMON_NAME, "CN"),
        (NameOID.COUNTRY_NAME, "C"),
    ):
        for attribute in certificate.subject.get_attributes_for_oid(oid):
            value = (
                attribute.value
                if isinstance(attribute.value, str)
                else attribute.value.decode("utf-8", "replace")
            )
            parts.append(f"{label}={value}")
    return ", ".join(parts) or certificate.subject.rfc4514_string()


def _leaf_usage_ok(certificate: x509.Certificate) -> str | None:
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return "the signer's certificate has no KeyUsage extension (digitalSignature required)"
    if not usage.digital_signature:
        return "the signer's certificate does not allow digitalSignature"
    try:
        eku = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return "the signer's certificate has no ExtendedKeyUsage (codeSigning required)"
    if not any(oid in eku for oid in ACCEPTED_EKUS):
        return "the signer's certificate is not issued for codeSigning"
    return None


def verify_chain(
    chain: Sequence[x509.Certificate], roots: Sequence[x509.Certificate], at: datetime, where: str
) -> PublicKey:
    """Validate ``chain`` (leaf first) to one of ``roots`` at time ``at``; return the leaf's public key."""
    from cryptography.x509 import verification

    if not hasattr(verification, "ExtensionPolicy"):  # added in cryptography 45
        import cryptography

        raise ConformanceError(
            f"certificate verification needs cryptography >= 45 (installed: {cryptography.__version__})",
            hint="pip install -U cryptography, or verify with the signer's public key (--key)",
        )
    try:
        return _verify_chain(chain, roots, at, where)
    except UntrustedCertificate:
        raise
    except Exception as exc:  # certificates come from the envelope: malformed means untrusted
        raise UntrustedCertificate(
            f"a certificate cannot be processed ({type(exc).__name__})", source=where
        ) from None


def _verify_chain(
    chain: Sequence[x509.Certificate], roots: Sequence[x509.Certificate], at: datetime, where: str
) -> PublicKey:
    from cryptography.x509 import verification as v

    leaf, intermediates = chain[0], list(chain[1:])
    problem = _leaf_usage_ok(leaf)
    if problem:
        raise UntrustedCertificate(problem, source=where)
    ee_policy = (
        v.ExtensionPolicy.permit_all()
        .require_present(x509.KeyUsage, v.Criticality.AGNOSTIC, None)
        .require_present(x509.ExtendedKeyUsage, v.Criticality.AGNOSTIC, None)
    )
    verifier = (
        v.PolicyBuilder()
        .store(v.Store(list(roots)))
        .time(at)
        .max_chain_depth(MAX_CHAIN_DEPTH)
        .extension_policies(ca_policy=v.ExtensionPolicy.webpki_defaults_ca(), ee_policy=ee_policy)
        .build_client_verifier()
    )
    try:
        verifier.verify(leaf, intermediates)
    except v.VerificationError as exc:
        reason = str(exc).split(" (encountered processing")[0].removeprefix("validation failed: ")
        if "not valid at validation time" in reason:
            reason = f"a certificate in the chain is not valid at the signing time {at:%Y-%m-%dT%H:%M:%SZ} (expired?)"
        elif "candidates exhausted" in reason or "no issuer" in reason.lower():
            reason = "the chain does not lead to a trusted root (issued by an untrusted CA?)"
        raise UntrustedCertificate(f"certificate not trusted: {reason}", source=where) from None
    try:
        return allowed_public_key(leaf.public_key())
    except ValueError as exc:
        raise UntrustedCertificate(f"the signer's certificate key: {exc}", source=where) from None
