"""DSSE: the pre-authentication encoding and signatures, against the DSSE specification's own vectors."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from conformance.attest import dsse
from conformance.attest.keys import SigningKey, key_id

# https://github.com/secure-systems-lab/dsse/blob/v1.0.0/protocol.md#test-vectors
SPEC_TYPE = "http://example.com/HelloWorld"
SPEC_BODY = b"hello world"
SPEC_PAE = b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
SPEC_X = 46950820868899156662930047687818585632848591499744589407958293238635476079160
SPEC_Y = 5640078356564379163099075877009565129882514886557779369047442380624545832820
SPEC_D = 97358161215184420915383655311931858321456579547487070936769975997791359926199
SPEC_SIG = (
    "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA=="  # raw r||s
)


def _spec_der_signature() -> bytes:
    raw = base64.b64decode(SPEC_SIG)
    return encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))


def test_pae_matches_the_spec_vector() -> None:
    """PAE of the protocol.md example is byte for byte the documented string."""
    assert dsse.pae(SPEC_TYPE, SPEC_BODY) == SPEC_PAE


def test_spec_ecdsa_signature_verifies() -> None:
    """The spec's ECDSA P-256 signature verifies over our PAE (converted from raw r||s to DER)."""
    public = ec.EllipticCurvePublicNumbers(SPEC_X, SPEC_Y, ec.SECP256R1()).public_key()
    assert dsse.verify_payload(public, SPEC_TYPE, SPEC_BODY, _spec_der_signature()) == SPEC_BODY
    assert dsse.verify_payload(public, SPEC_TYPE, b"hello worle", _spec_der_signature()) is None
    assert (
        dsse.verify_payload(public, "http://example.com/HelloWorlD", SPEC_BODY, _spec_der_signature()) is None
    )


def test_deterministic_signing_reproduces_the_spec_signature() -> None:
    """Signing the spec vector with its private key (RFC 6979) reproduces the spec's signature exactly."""
    private = ec.derive_private_key(SPEC_D, ec.SECP256R1())
    signer = SigningKey(
        private_key=private, keyid=key_id(private.public_key()), algorithm="ecdsa-p256-sha256"
    )
    assert dsse.sign(signer, SPEC_TYPE, SPEC_BODY) == _spec_der_signature()


def test_pae_uses_byte_lengths() -> None:
    """LEN counts UTF-8 bytes: é is two bytes (signing.md's worked example, 55 bytes in all)."""
    message = dsse.pae("application/vnd.in-toto+json", '{"r":"café"}'.encode())
    assert message == b'DSSEv1 28 application/vnd.in-toto+json 13 {"r":"caf\xc3\xa9"}'
    assert len(message) == 55
    assert dsse.pae("application/vnd.ex\u00e4mple+json", b"").startswith(b"DSSEv1 29 ")


def test_pae_of_empty_body_keeps_the_separator() -> None:
    """An empty body is "... 0 " with its trailing space (no special case)."""
    assert dsse.pae("application/vnd.in-toto+json", b"") == b"DSSEv1 28 application/vnd.in-toto+json 0 "


def test_ed25519_rfc8032_key_vector() -> None:
    """An Ed25519 DSSE vector (RFC 8032 test key 1, from the DSSE repository's testvectors) verifies."""
    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    key = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    body = b'{"_type":"https://in-toto.io/Statement/v1"}'
    sig = base64.b64decode(
        "2WAfaHm5jluo0w+0rk8uVkluELJYWjSmU9x7EUzx+AyteDGJ4/nqyJXfmAUVFIAoQafWm7AxBZNw5M9ixNHiCA=="
    )
    assert dsse.verify_payload(key.public_key(), "application/vnd.in-toto+json", body, sig) == body
    assert dsse.verify_payload(key.public_key(), "application/vnd.example.other+json", body, sig) is None


def test_allow_list_rejects_other_algorithms() -> None:
    """RSA and other curves are never 'verified', and algorithm_of names them."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    p384 = ec.generate_private_key(ec.SECP384R1())
    sig = p384.sign(dsse.pae("t", b"x"), ec.ECDSA(hashes.SHA256()))
    assert dsse.verify_payload(p384.public_key(), "t", b"x", sig) is None  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="secp384r1"):
        dsse.algorithm_of(p384.public_key())
    with pytest.raises(ValueError, match="RSA"):
        dsse.algorithm_of(rsa_key.public_key())
    assert dsse.ALGORITHMS == ("ecdsa-p256-sha256", "ed25519")


def test_garbage_signature_is_rejected_not_raised() -> None:
    """A malformed DER signature is just 'not verified'."""
    key = ec.generate_private_key(ec.SECP256R1())
    assert dsse.verify_payload(key.public_key(), "t", b"x", b"\x30\x02\x01") is None
