"""DSSE v1: pre-authentication encoding, signing and signature verification, over ``cryptography`` only.

Spec: https://github.com/secure-systems-lab/dsse/blob/v1.0.0/protocol.md . The signature covers
``PAE(payloadType, payload)``, so the payload's exact bytes are signed and no JSON canonicalisation is
needed for security. ``verify_payload`` returns the verified payload bytes: callers parse those and only
those, after the signature verified. It does not check the payload type or parse anything; that is the
caller's job (``conformance.attest.verify``).

Algorithms are an allow-list: ECDSA P-256 with SHA-256 (DER signatures, as cosign/sigstore and ``openssl
dgst`` use; what standards-body CAs, HSMs, PIV cards, cloud KMS and FIPS modules all support) and pure
Ed25519 (RFC 8032; small, deterministic, no hash choice to get wrong). Nothing else is accepted: RSA would
bring padding choices (PKCS#1 v1.5 vs PSS) and bigger keys for no gain here; other curves and hashes
would be options a reviewer must get right. Adding ML-DSA later is a second signature, not a swap.
"""

from __future__ import annotations

from typing import Protocol, TypeAlias

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

__all__ = [
    "ALGORITHMS",
    "PublicKey",
    "Signer",
    "algorithm_of",
    "allowed_public_key",
    "pae",
    "sign",
    "verify_payload",
]

PublicKey: TypeAlias = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey
ALGORITHMS = ("ecdsa-p256-sha256", "ed25519")  # the allow-list; see the module docstring for why


class Signer(Protocol):
    """Anything that signs bytes: a key file today, an HSM or KMS later."""

    @property
    def public_key(self) -> PublicKey: ...

    def sign(self, message: bytes) -> bytes: ...


def pae(payload_type: str, payload: bytes) -> bytes:
    """``"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body``; LEN is the decimal *byte* length."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


def allowed_public_key(key: object) -> PublicKey:
    """``key`` itself if its algorithm is on the allow-list; ``ValueError`` naming it otherwise."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    name = getattr(getattr(key, "curve", None), "name", None) or type(key).__name__
    raise ValueError(f"unsupported key type {name} (allowed: ECDSA P-256, Ed25519)")


def algorithm_of(key: object) -> str:
    """The allow-listed algorithm name of a public key; ``ValueError`` for anything else."""
    return "ed25519" if isinstance(allowed_public_key(key), ed25519.Ed25519PublicKey) else "ecdsa-p256-sha256"


def sign(signer: Signer, payload_type: str, payload: bytes) -> bytes:
    """The DSSE signature over ``payload`` (the signer decides the algorithm from its key)."""
    return signer.sign(pae(payload_type, payload))


def verify_payload(key: PublicKey, payload_type: str, payload: bytes, signature: bytes) -> bytes | None:
    """Return ``payload`` if ``signature`` is valid over its PAE under ``key``, else ``None``."""
    message = pae(payload_type, payload)
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, message)
        elif isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        else:
            return None  # not on the allow-list: never "verified"
    except InvalidSignature:
        return None
    return payload
