"""Canary: private keys and passphrases never appear in any output, log or file other than the key file."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from conformance.attest import sign_report_folder
from conformance.attest.keys import load_signing_key

from .conftest import Result

CANARY = "canary-passphrase-7f3e9d1c"


def _secrets(key_file: Path) -> list[str]:
    """Every form a leaked key could take: passphrase, PEM body lines, DER, raw private bytes (hex, base64)."""
    key = load_signing_key(key_file, CANARY.encode())
    private = key.private_key
    der = private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    if isinstance(private, ed25519.Ed25519PrivateKey):
        raw = private.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
    else:
        assert isinstance(private, ec.EllipticCurvePrivateKey)
        raw = private.private_numbers().private_value.to_bytes(32, "big")
    encrypted_body = [line for line in key_file.read_text().splitlines() if not line.startswith("-----")]
    return [
        CANARY,
        raw.hex(),
        raw.hex().upper(),
        base64.b64encode(raw).decode(),
        base64.b64encode(der).decode()[:40],
        *(line for line in encrypted_body if len(line) > 20),
    ]


def test_no_key_material_anywhere(report_dir: Path, tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    """keygen, csr, sign, verify, countersign, inspect and error paths (also with -v) leak nothing."""
    env = {"CONFORMANCE_KEY_PASSPHRASE": CANARY}
    outputs: list[Result] = []
    for name, algorithm in (("supplier", "p256"), ("body", "ed25519")):
        outputs.append(run_cli("keygen", "--out", str(tmp_path / name), "--algorithm", algorithm, env=env))
    supplier, body = tmp_path / "supplier.key", tmp_path / "body.key"
    outputs += [
        run_cli("keygen", "--out", str(tmp_path / "prompted"), input=f"{CANARY}\n{CANARY}\n"),
        run_cli("csr", "--key", str(supplier), "--org", "Acme Ltd", "--org-id", "NTRGB-1", env=env),
        run_cli("sign", str(report_dir), "--key", str(supplier), input=f"{CANARY}\n"),
        run_cli("verify", str(report_dir), "--key", str(tmp_path / "supplier.pub"), "--json"),
        run_cli(
            "countersign",
            str(report_dir),
            "--key",
            str(body),
            "--property",
            "X_CONFORMANT",
            "--supplier-key",
            str(tmp_path / "supplier.pub"),
            env=env,
        ),
        run_cli("inspect", str(report_dir), "--json"),
        run_cli("verify", str(report_dir), "--key", str(supplier)),  # a private key given as --key
        run_cli(
            "-v",
            "sign",
            str(report_dir),
            "--key",
            str(supplier),
            "--force",
            env={"CONFORMANCE_KEY_PASSPHRASE": CANARY + "-wrong"},
        ),
        run_cli("-v", "sign", str(report_dir), "--key", str(tmp_path / "supplier.pub"), "--force"),
    ]
    assert [r.code for r in outputs] == [0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2], [r.text for r in outputs]
    texts = [r.text for r in outputs]
    texts += [p.read_bytes().decode("utf-8", "replace") for p in report_dir.rglob("*") if p.is_file()]
    texts += [(tmp_path / "supplier.csr").read_text()]
    texts += [repr(load_signing_key(supplier, CANARY.encode()))]
    texts += [repr(sign_report_folder(report_dir, body, passphrase=CANARY.encode(), force=True))]
    everything = "\n".join(texts)
    for key_file in (supplier, body, tmp_path / "prompted.key"):
        for secret in _secrets(key_file):
            assert secret not in everything, f"secret material from {key_file.name} leaked"
