"""The signing commands end to end: exit codes, streams, prompts, usage errors, help with examples."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import click
import pytest

from conformance.cli_attest import COMMANDS

from .conftest import PASSPHRASE, KeyPair, Result


def test_commands_exported() -> None:
    """The main CLI registers exactly these commands."""
    assert [c.name for c in COMMANDS] == ["keygen", "csr", "sign", "verify", "countersign", "inspect"]
    assert all(isinstance(c, click.Command) for c in COMMANDS)


@pytest.mark.parametrize("name", ["keygen", "csr", "sign", "verify", "countersign", "inspect"])
def test_help_has_an_example(name: str, run_cli: Callable[..., Result]) -> None:
    result = run_cli(name, "--help")
    assert result.code == 0
    assert "Example:" in result.out
    assert f"conformance {name}" in result.out


def test_keygen_prompts_twice_and_prints_the_key_id(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    """Without the env variable keygen prompts (hidden, confirmed); stdout is only the key id."""
    result = run_cli("keygen", "--out", str(tmp_path / "acme"), input=f"{PASSPHRASE}\n{PASSPHRASE}\n")
    assert result.code == 0, result.text
    assert result.out.strip().startswith("sha256:")
    assert len(result.out.strip()) == 71
    assert "encrypted" in result.err
    assert "keep it secret" in result.err
    assert (tmp_path / "acme.key").read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    if os.name == "posix":
        assert stat.S_IMODE((tmp_path / "acme.key").stat().st_mode) == 0o600


def test_keygen_env_passphrase_and_ed25519(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    result = run_cli(
        "keygen",
        "--out",
        str(tmp_path / "ci"),
        "--algorithm",
        "ed25519",
        env={"CONFORMANCE_KEY_PASSPHRASE": PASSPHRASE},
    )
    assert result.code == 0
    assert "(ed25519)" in result.err


def test_keygen_short_passphrase(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    result = run_cli("keygen", "--out", str(tmp_path / "acme"), env={"CONFORMANCE_KEY_PASSPHRASE": "short"})
    assert result.code == 2
    assert result.err.strip() == (
        "usage error: the passphrase must be at least 12 characters "
        "(use a long passphrase, or --no-passphrase for a throw-away key)"
    )


def test_keygen_has_no_passphrase_option(run_cli: Callable[..., Result]) -> None:
    """Passphrases never go on the command line."""
    assert "--passphrase " not in run_cli("keygen", "--help").out


def test_sign_prompts_for_an_encrypted_key(
    report_dir: Path, tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    run_cli("keygen", "--out", str(tmp_path / "acme"), env={"CONFORMANCE_KEY_PASSPHRASE": PASSPHRASE})
    result = run_cli("sign", str(report_dir), "--key", str(tmp_path / "acme.key"), input=f"{PASSPHRASE}\n")
    assert result.code == 0, result.text
    assert "signed: " in result.err
    assert "self-asserted" in result.err


def test_verify_ok_output(
    signed: Path, p256: KeyPair, profile_file: Path, spec_file: Path, run_cli: Callable[..., Result]
) -> None:
    """OK: first, then who, when (self-asserted), profile, document, target, verdict, and the honesty note."""
    result = run_cli(
        "verify",
        str(signed),
        "--key",
        str(p256.pub),
        "--profile",
        str(profile_file),
        "--spec",
        str(spec_file),
    )
    assert result.code == 0
    assert result.out == ""
    lines = result.err.splitlines()
    assert lines[0] == f"OK: {signed} verified"
    assert f"key {p256.keyid} (ecdsa-p256-sha256), your pinned {p256.pub.name}" in lines[1]
    assert "self-asserted" in lines[2]
    assert "interop-pol-core 0.1.0" in result.err
    assert "(matches your --profile)" in result.err
    assert "(matches your --spec)" in result.err
    assert "https://sandbox.acme.example/v1" in result.err
    assert "CONFORMANT (test-result WARNED" in result.err
    assert "does not prove that the run was honest" in result.err


def test_verify_json(signed: Path, p256: KeyPair, run_cli: Callable[..., Result]) -> None:
    result = run_cli("verify", str(signed), "--key", str(p256.pub), "--json")
    data = json.loads(result.out)
    assert data["ok"] is True
    assert data["supplier"]["keyid"] == p256.keyid
    assert data["result"] == "WARNED"


def test_verify_json_failure(signed: Path, other_p256: KeyPair, run_cli: Callable[..., Result]) -> None:
    result = run_cli("verify", str(signed), "--key", str(other_p256.pub), "--json")
    data = json.loads(result.out)
    assert result.code == 1
    assert data["ok"] is False
    assert data["step"] == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give the supplier's public key (--key PUB) or a trusted root"),
        (("--key", "{pub}", "--trust-root", "{root}"), "use --key or --trust-root, not both"),
        (
            ("--key", "{pub}", "--require-countersign"),
            "--require-countersign and --countersign-property need",
        ),
    ],
)
def test_verify_usage_errors(
    signed: Path,
    p256: KeyPair,
    pki: object,
    args: tuple[str, ...],
    message: str,
    run_cli: Callable[..., Result],
) -> None:
    """Flag mistakes exit 2 with one line naming the flags."""
    values = {"pub": str(p256.pub), "root": str(pki.root.pem)}  # type: ignore[attr-defined]
    result = run_cli("verify", str(signed), *(a.format(**values) for a in args))
    assert result.code == 2, result.text
    assert message in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_verify_missing_folder(tmp_path: Path, p256: KeyPair, run_cli: Callable[..., Result]) -> None:
    result = run_cli("verify", str(tmp_path / "nope"), "--key", str(p256.pub))
    assert result.code == 2
    assert "does not exist" in result.err


def test_inspect_is_marked_unverified(signed: Path, run_cli: Callable[..., Result]) -> None:
    result = run_cli("inspect", str(signed))
    assert result.code == 0
    assert result.out.startswith("*** UNVERIFIED")
    assert result.out.rstrip().endswith("***")
    assert "line 1 (supplier signature, UNVERIFIED)" in result.out
    assert '"result": "WARNED"' in result.out
    data = json.loads(run_cli("inspect", str(signed), "--json").out)
    assert data["verified"] is False
    assert data["envelopes"][0]["statement"]["predicate"]["result"] == "WARNED"


def test_inspect_garbled(signed: Path, run_cli: Callable[..., Result]) -> None:
    (signed / "report.intoto.jsonl").write_bytes(b"{nope\n")
    result = run_cli("inspect", str(signed))
    assert result.code == 1
    assert result.err.startswith("error: ")
    assert "not JSON" in result.err
    assert "Traceback" not in result.text


def test_csr_command(tmp_path: Path, p256: KeyPair, run_cli: Callable[..., Result]) -> None:
    out = tmp_path / "acme.csr"
    result = run_cli(
        "csr",
        "--key",
        str(p256.key),
        "--org",
        "Acme Ltd",
        "--org-id",
        "NTRGB-01234567",
        "--country",
        "GB",
        "--out",
        str(out),
    )
    assert result.code == 0, result.text
    assert out.read_bytes().startswith(b"-----BEGIN CERTIFICATE REQUEST-----")
    assert p256.keyid in result.err


def test_sign_twice_without_force(signed: Path, p256: KeyPair, run_cli: Callable[..., Result]) -> None:
    result = run_cli("sign", str(signed), "--key", str(p256.key))
    assert result.code == 2
    assert "already signed" in result.err
    assert "--force" in result.err


def test_signed_text_cannot_draw_on_the_terminal(
    report_dir: Path, p256: KeyPair, run_cli: Callable[..., Result]
) -> None:
    """A newline, ANSI escape or bidi override in signed text is shown escaped, never interpreted."""
    from conformance.attest import sign_report_folder
    from conformance.report.json_render import canonical_bytes

    report = json.loads((report_dir / "report.json").read_bytes())
    report["target"]["base_url"] = "https://x.example\nOK: forged line\x1b[2J\u202e"
    (report_dir / "report.json").write_bytes(canonical_bytes(report))
    sign_report_folder(report_dir, p256.key)
    result = run_cli("verify", str(report_dir), "--key", str(p256.pub))
    assert result.code == 0
    assert "\x1b" not in result.err
    assert "\u202e" not in result.err
    assert "https://x.example\\nOK: forged line\\x1b[2J\\u202e" in result.err
    assert sum(line.startswith("OK:") for line in result.err.splitlines()) == 1
    shown = run_cli("inspect", str(report_dir)).out
    assert "\x1b" not in shown
    assert "\u202e" not in shown
    assert "\nOK: forged" not in shown
