"""Throw-away TLS material for the reference supplier: a CA and a server certificate, made at start.

Nothing is installed system-wide: the CA certificate is written to a temporary folder and its path is
handed to whoever needs to trust the server (``ReferenceServer.ca_bundle``). Keys are ECDSA P-256, the
same curve the signing code uses. The server certificate names ``127.0.0.1``, ``::1`` and
``localhost`` and lives a year, or 7 days under the ``expiring-certificate`` fault (C9-07 wants more
than 14 days left).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import warnings
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["CERT_LIFETIME", "EXPIRING_CERT_LIFETIME", "TlsMaterial", "make_tls_material", "server_context"]

CERT_LIFETIME = datetime.timedelta(days=365)
EXPIRING_CERT_LIFETIME = datetime.timedelta(days=7)
_CA_LIFETIME = datetime.timedelta(days=730)
# Clocks of a client and the server on one machine agree, but a few minutes of back-dating keeps a
# certificate valid for a client whose clock is slightly behind.
_BACKDATE = datetime.timedelta(minutes=5)
_DNS_NAMES = ("localhost",)
_IP_ADDRESSES = ("127.0.0.1", "::1")


@dataclass(frozen=True, slots=True)
class TlsMaterial:
    """Paths of the PEM files written by ``make_tls_material`` and the server certificate's expiry."""

    ca_cert: Path
    server_cert: Path
    server_key: Path
    not_valid_after: datetime.datetime


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(
                NameOID.ORGANIZATION_NAME, "interop-conformance reference supplier (throw-away)"
            ),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def make_tls_material(folder: Path, *, lifetime: datetime.timedelta = CERT_LIFETIME) -> TlsMaterial:
    """Write ``ca.pem``, ``server.pem`` and ``server.key`` (mode 0600) into ``folder``."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("interop-conformance reference supplier throw-away CA")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + _CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    alt_names: list[x509.GeneralName] = [x509.DNSName(name) for name in _DNS_NAMES]
    alt_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in _IP_ADDRESSES]
    not_after = now + lifetime
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    material = TlsMaterial(folder / "ca.pem", folder / "server.pem", folder / "server.key", not_after)
    material.ca_cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    material.server_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    # The private key is written 0600 from the start (no window where it is world-readable).
    fd = os.open(material.server_key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return material


def server_context(
    material: TlsMaterial, *, allow_legacy: bool = False, max_tls12: bool = False
) -> ssl.SSLContext:
    """The server's TLS context: TLS 1.2 and 1.3 only, unless a fault asks for legacy versions or no 1.3.

    ``allow_legacy`` (fault ``tls1.0``) lowers the floor to TLS 1.0 and the OpenSSL security level to 0,
    which OpenSSL 3 needs before it will negotiate TLS 1.0/1.1 at all (their SHA-1 based handshake is
    below the default level). The system OpenSSL configuration may set a floor too; an explicit
    ``minimum_version`` on the context overrides it.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(material.server_cert, material.server_key)
    if allow_legacy:
        with warnings.catch_warnings():
            # Python deprecates TLSVersion.TLSv1 precisely because it is insecure: that is the fault.
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    else:
        context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_2 if max_tls12 else ssl.TLSVersion.MAXIMUM_SUPPORTED
    context.set_alpn_protocols(["http/1.1"])
    return context
