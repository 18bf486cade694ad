"""Fixtures for the signing tests: report folders, key pairs, a small PKI, and the CLI as users run it."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conformance.attest.keys import KeyAlgorithm, generate_key_pair
from conformance.cli_attest import COMMANDS

FIXTURES = Path(__file__).parent / "fixtures"
PASSPHRASE = "correct horse battery staple"
NOW = datetime.now(timezone.utc)


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """``run_cli(*args, input=None, env=None)``: ``conformance.cli.main`` with our commands registered.

    Until the main CLI wires ``COMMANDS`` itself, they are added to its group for the test only, so the
    tests exercise the real entry point: its error handling, exit codes and one-line messages.
    """
    from conformance.cli import cli, main

    for command in COMMANDS:
        if command.name not in cli.commands:
            monkeypatch.setitem(cli.commands, str(command.name), command)

    def invoke(*args: str, input: str | None = None, env: dict[str, str | None] | None = None) -> Result:
        runner = CliRunner()
        with runner.isolation(input=input, env=env) as (out, err, _):
            code = main(list(args))
        return Result(code=code, out=out.getvalue().decode(), err=err.getvalue().decode())

    return invoke


@pytest.fixture
def command() -> Callable[[str], click.Command]:
    return lambda name: next(c for c in COMMANDS if c.name == name)


# -- report folders --------------------------------------------------------------------------------
@pytest.fixture
def report_dir(tmp_path: Path) -> Path:
    """A fresh copy of the fixture report folder (report.json + evidence/exchanges.ndjson)."""
    folder = tmp_path / "acme-20261127T100000Z"
    folder.mkdir()
    shutil.copy(FIXTURES / "report.json", folder / "report.json")
    shutil.copytree(FIXTURES / "evidence", folder / "evidence")
    return folder


@pytest.fixture
def profile_file() -> Path:
    return FIXTURES / "profile.yaml"


@pytest.fixture
def spec_file() -> Path:
    return FIXTURES / "openapi.yaml"


# -- keys ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KeyPair:
    key: Path
    pub: Path
    keyid: str
    algorithm: str


def make_pair(folder: Path, name: str, algorithm: str = "p256", passphrase: bytes | None = None) -> KeyPair:
    files = generate_key_pair(folder / name, KeyAlgorithm(algorithm), passphrase)
    return KeyPair(files.private_path, files.public_path, files.keyid, files.algorithm)


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys")


@pytest.fixture(scope="session")
def p256(keys_dir: Path) -> KeyPair:
    return make_pair(keys_dir, "supplier-p256", "p256")


@pytest.fixture(scope="session")
def ed(keys_dir: Path) -> KeyPair:
    return make_pair(keys_dir, "supplier-ed25519", "ed25519")


@pytest.fixture(scope="session")
def body(keys_dir: Path) -> KeyPair:
    return make_pair(keys_dir, "body", "ed25519")


@pytest.fixture(scope="session")
def other_p256(keys_dir: Path) -> KeyPair:
    return make_pair(keys_dir, "someone-else", "p256")


@pytest.fixture(params=["p256", "ed25519"])
def pair(request: pytest.FixtureRequest, p256: KeyPair, ed: KeyPair) -> KeyPair:
    return p256 if request.param == "p256" else ed


@pytest.fixture
def signed(report_dir: Path, p256: KeyPair) -> Path:
    """The fixture report, signed with the P-256 supplier key."""
    from conformance.attest import sign_report_folder

    sign_report_folder(report_dir, p256.key)
    return report_dir


# -- a small PKI -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CA:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    pem: Path


def _name(org: str, cn: str, org_id: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)]
    if org_id:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, org_id))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attributes)


def _ku(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def make_root(folder: Path, name: str) -> CA:
    key = ec.generate_private_key(ec.SECP384R1())
    subject = _name(name, f"{name} Conformance Root CA")
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=3650))
        .not_valid_after(NOW + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(_ku(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA384())
    )
    pem = folder / f"{name.lower().replace(' ', '-')}-root.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return CA(key=key, cert=cert, pem=pem)


def issue(
    issuer: CA,
    public_key: Any,
    *,
    org: str,
    org_id: str | None = "NTRGB-01234567",
    ca: bool = False,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    eku: x509.ObjectIdentifier | None = ExtendedKeyUsageOID.CODE_SIGNING,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(org, f"{org} signing", org_id))
        .issuer_name(issuer.cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - timedelta(days=30))
        .not_valid_after(not_after or NOW + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(_ku(ca=ca), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if eku is not None and not ca:
        builder = builder.add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
    return builder.sign(issuer.key, hashes.SHA384())


def write_chain(path: Path, *certs: x509.Certificate) -> Path:
    path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs))
    return path


def public_of(pair: KeyPair) -> Any:
    return serialization.load_pem_public_key(pair.pub.read_bytes())


@dataclass(frozen=True)
class PKI:
    root: CA
    issuing: CA
    other_root: CA
    folder: Path


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    """techUK-like root -> issuing CA; plus an unrelated root."""
    folder = tmp_path_factory.mktemp("pki")
    root = make_root(folder, "Body")
    issuing_key = ec.generate_private_key(ec.SECP256R1())
    issuing_cert = issue(root, issuing_key.public_key(), org="Body Issuing CA", org_id=None, ca=True)
    issuing = CA(key=issuing_key, cert=issuing_cert, pem=write_chain(folder / "issuing.pem", issuing_cert))
    return PKI(root=root, issuing=issuing, other_root=make_root(folder, "Other"), folder=folder)


@pytest.fixture
def chain_for(pki: PKI, tmp_path: Path) -> Callable[..., Path]:
    """``chain_for(pair, **issue_kwargs)`` -> a PEM chain file (leaf, issuing CA) for that key."""

    def build(pair: KeyPair, issuer: CA | None = None, **kwargs: Any) -> Path:
        issuer = issuer or pki.issuing
        leaf = issue(issuer, public_of(pair), org="Acme Ltd", **kwargs)
        name = hashlib.sha256(leaf.public_bytes(serialization.Encoding.DER)).hexdigest()[:12]
        return write_chain(tmp_path / f"chain-{name}.pem", leaf, issuer.cert)

    return build


@pytest.fixture(autouse=True)
def _no_ambient_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests decide the passphrase themselves; a developer's environment must not leak in."""
    monkeypatch.delenv("CONFORMANCE_KEY_PASSPHRASE", raising=False)
