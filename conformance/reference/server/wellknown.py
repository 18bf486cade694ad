"""Public documents outside the API: ``security.txt`` (RFC 9116) and, in OIDC mode, discovery and JWKS.

The OIDC mode exists so the C9-15 check has something to look at: a discovery document (OpenID
Connect Discovery 1.0 §3, with the RFC 8414 fields a client-credentials server has) whose ``issuer`` is
the server's origin, whose ``jwks_uri`` is HTTPS, and which signs only with ES256. The server still
issues opaque access tokens; the JWKS holds a real P-256 public key made at start. There is no
authorization endpoint, because the only grant is client credentials.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
from collections.abc import Sequence
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .clock import format_datetime

__all__ = ["SECURITY_TXT_LIFETIME", "make_jwks", "oidc_configuration", "security_txt"]

SECURITY_TXT_LIFETIME = datetime.timedelta(days=180)
_WRONG_ISSUER = "https://auth.reference-supplier.example"


def security_txt(origin: str, now: datetime.datetime) -> str:
    """RFC 9116 fields: Contact and Expires are required; the rest help a reporter."""
    expires = (now + SECURITY_TXT_LIFETIME).replace(microsecond=0)
    return (
        "# Reference supplier (synthetic): report security problems here.\n"
        "Contact: mailto:security@reference-supplier.example\n"
        "Contact: https://developer.reference-supplier.example/security\n"
        f"Expires: {format_datetime(expires)}\n"
        "Preferred-Languages: en, cy\n"
        f"Canonical: {origin}/.well-known/security.txt\n"
        "Policy: https://developer.reference-supplier.example/security/disclosure-policy\n"
    )


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_jwks() -> dict[str, Any]:
    """A JWK Set with one new ES256 public key (RFC 7517/7518); its kid is the key's SHA-256 thumbprint."""
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    numbers = public.public_numbers()
    x, y = _b64url(numbers.x.to_bytes(32, "big")), _b64url(numbers.y.to_bytes(32, "big"))
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return {
        "keys": [
            {
                "kty": "EC",
                "crv": "P-256",
                "x": x,
                "y": y,
                "use": "sig",
                "alg": "ES256",
                "kid": hashlib.sha256(der).hexdigest()[:16],
            }
        ]
    }


def oidc_configuration(
    origin: str, scopes: Sequence[str], *, alg_none: bool = False, issuer_mismatch: bool = False
) -> dict[str, Any]:
    """The discovery document; the two faults advertise ``none`` or name another issuer."""
    algorithms = ["ES256", "none"] if alg_none else ["ES256"]
    return {
        "issuer": _WRONG_ISSUER if issuer_mismatch else origin,
        "token_endpoint": f"{origin}/oauth2/token",
        "jwks_uri": f"{origin}/oauth2/jwks",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": list(scopes),
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algorithms,
    }
