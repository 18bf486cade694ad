"""Commands for signed reports: ``keygen``, ``csr``, ``sign``, ``verify``, ``countersign``, ``inspect``.

Thin wrappers over ``conformance.attest``; ``conformance.cli`` registers every command in ``COMMANDS``.
Passphrases come from ``$CONFORMANCE_KEY_PASSPHRASE`` or a hidden prompt, never from an option (argv ends up in
shell history and ``ps``). Human output goes to stderr, ``--json`` and ``inspect`` to stdout. ``verify``
prints ``OK: …`` or ``FAIL: <reason>`` and returns 0 or 1; bad flags and unreadable inputs raise
``UsageError``/``ConformanceError`` (exit 2 via ``conformance.cli.main``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from .errors import UsageError, VerificationError
from .verdict import ExitCode

__all__ = ["COMMANDS", "new_passphrase", "obtain_passphrase"]

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_DIR = click.Path(exists=True, file_okay=False, path_type=Path)


def obtain_passphrase(key_path: Path) -> bytes | None:
    """The passphrase for ``key_path``: None if it is not encrypted, else ``$CONFORMANCE_KEY_PASSPHRASE``, else
    a hidden prompt. ``conformance run --sign-key`` uses this before calling ``sign_report_folder``."""
    from .attest.keys import PASSPHRASE_ENV, is_encrypted

    if not is_encrypted(key_path):
        return None
    env = os.environ.get(PASSPHRASE_ENV)
    if env:
        return env.encode("utf-8")
    text: str = click.prompt(f"Passphrase for {key_path}", hide_input=True, err=True)
    return text.encode("utf-8")


def new_passphrase(no_passphrase: bool) -> bytes | None:
    from .attest.keys import PASSPHRASE_ENV

    if no_passphrase:
        return None
    env = os.environ.get(PASSPHRASE_ENV)
    if env:
        return env.encode("utf-8")
    text: str = click.prompt(
        "Passphrase for the new key", hide_input=True, confirmation_prompt=True, err=True
    )
    return text.encode("utf-8")


def _say(text: str) -> None:
    click.echo(text, err=True)


def _safe(value: object) -> str:
    """Text from a report or certificate, with control and format characters escaped.

    Even a trusted signer must not be able to draw on the reviewer's terminal: a newline, an ANSI escape or
    a right-to-left override inside a target URL could otherwise forge an extra "OK" line.
    """
    text = str(value)
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _warn(warnings: Sequence[str]) -> None:
    for warning in warnings:
        _say(f"warning: {warning}")


# -- keygen -------------------------------------------------------------------------------------------
@click.command()
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="NAME",
    help="Writes NAME.key (private, mode 0600) and NAME.pub (public).",
)
@click.option(
    "--algorithm",
    type=click.Choice(["p256", "ed25519"]),
    default="p256",
    show_default=True,
    help="ECDSA P-256 (works with CAs, HSMs, cosign) or Ed25519.",
)
@click.option(
    "--no-passphrase",
    is_flag=True,
    help="Do not encrypt the private key (throw-away keys only: anyone with the file can sign).",
)
def keygen(out: Path, algorithm: str, no_passphrase: bool) -> int:
    """Generate a signing key pair and print its key id.

    The private key is PKCS#8 PEM, mode 0600, encrypted with a passphrase read from a prompt or from
    $CONFORMANCE_KEY_PASSPHRASE (for CI). Give NAME.pub and the key id to reviewers; keep NAME.key secret.

    \b
    Example:
        conformance keygen --out acme
        conformance keygen --out throwaway --algorithm ed25519 --no-passphrase
    """
    from .attest.keys import KeyAlgorithm, generate_key_pair

    files = generate_key_pair(out, KeyAlgorithm(algorithm), new_passphrase(no_passphrase))
    state = "encrypted" if files.encrypted else "NOT encrypted"
    _say(f"wrote {files.private_path} (private key, {state}, mode 0600: keep it secret)")
    _say(f"wrote {files.public_path} (public key: give it to reviewers)")
    _say(f"key id ({files.algorithm}); reviewers compare it out of band:")
    click.echo(files.keyid)
    return int(ExitCode.OK)


# -- csr ----------------------------------------------------------------------------------------------
@click.command()
@click.option("--key", "key_path", required=True, type=_FILE, help="Your private key (from keygen).")
@click.option("--org", required=True, help="Legal name of the organisation (O=).")
@click.option("--org-id", required=True, help="Organisation identifier (2.5.4.97), e.g. NTRGB-01234567.")
@click.option("--cn", "common_name", help="Common name (default: the --org value).")
@click.option("--country", help="Two-letter country code (C=), e.g. GB.")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the CSR (default: KEY with the suffix .csr).",
)
def csr(
    key_path: Path, org: str, org_id: str, common_name: str | None, country: str | None, out: Path | None
) -> int:
    """Write a PKCS#10 certificate signing request for a standards body's CA.

    Only the public key and the names leave your machine; the CA returns a certificate chain to use
    with `conformance sign --cert`.

    \b
    Example:
        conformance csr --key acme.key --org "Acme Ltd" --org-id NTRGB-01234567 --country GB
    """
    from .attest.keys import build_csr, load_signing_key

    key = load_signing_key(key_path, obtain_passphrase(key_path))
    _warn(key.warnings)
    pem = build_csr(key, org=org, org_id=org_id, common_name=common_name, country=country)
    target = out or key_path.with_suffix(".csr")
    try:
        target.write_bytes(pem)
    except OSError as exc:
        raise UsageError(f"cannot write: {exc.strerror}", source=str(target)) from None
    _say(f"wrote {target} for key {key.keyid}: send it to the issuing body")
    return int(ExitCode.OK)


# -- sign ---------------------------------------------------------------------------------------------
@click.command()
@click.argument("report_dir", type=_DIR)
@click.option("--key", "key_path", required=True, type=_FILE, help="Your private key (from keygen).")
@click.option(
    "--cert", "cert_path", type=_FILE, help="Your certificate chain (PEM, leaf first), if a CA issued one."
)
@click.option("--force", is_flag=True, help="Replace an existing signature (drops any countersignature).")
def sign(report_dir: Path, key_path: Path, cert_path: Path | None, force: bool) -> int:
    """Sign an existing report folder (report.json and evidence/).

    Writes report.intoto.jsonl (a DSSE envelope with an in-toto test-result statement) and VERIFY.txt.

    \b
    Example:
        conformance sign reports/acme-20261127T100000Z --key acme.key
        conformance sign reports/acme-20261127T100000Z --key acme.key --cert acme-chain.pem
    """
    from .attest import sign_report_folder

    info = sign_report_folder(
        report_dir, key_path, cert_path=cert_path, passphrase=obtain_passphrase(key_path), force=force
    )
    _warn(info.warnings)
    who = f"{info.keyid} ({info.algorithm})" + (
        f", certificate {_safe(info.subject)}" if info.subject else ""
    )
    _say(f"signed: {info.envelope_path}")
    _say(f"  key      {who}")
    _say(f"  time     {info.signed_at} (your clock; self-asserted)")
    _say(f"  verify   conformance verify {report_dir} --key <your .pub>   (see VERIFY.txt)")
    return int(ExitCode.OK)


# -- verify -------------------------------------------------------------------------------------------
def _anchors(keys: Sequence[Path], roots: Sequence[Path], key_flag: str, root_flag: str) -> Any:
    from .attest.certs import load_certificates
    from .attest.keys import load_public_key
    from .attest.verify import TrustAnchors

    if keys and roots:
        raise UsageError(f"use {key_flag} or {root_flag}, not both")
    certificates = tuple(c for path in roots for c in load_certificates(path, "root certificate"))
    return TrustAnchors(keys=tuple(load_public_key(path) for path in keys), roots=certificates)


def _print_verified(result: Any, key_files: dict[str, str], profile: Path | None, spec: Path | None) -> None:
    from .attest.sign import HONESTY

    supplier = result.supplier
    _say(f"OK: {result.folder} verified")
    who = f"key {supplier.keyid} ({supplier.algorithm})"
    if supplier.keyid in key_files:
        who += f", your pinned {key_files[supplier.keyid]}"
    if supplier.subject:
        who += f"; certificate {_safe(supplier.subject)} (chain to your trusted root checked)"
    _say(f"  signed by   {who}")
    _say(f"  signed at   {supplier.signed_at} (self-asserted by the signer; no trusted timestamp)")
    p = result.profile
    mark = " (matches your --profile)" if profile else " (not compared: no --profile)"
    _say(f"  profile     {_safe(p['id'])} {_safe(p['version'])} sha256 {_safe(p['sha256'])}{mark}")
    if result.document:
        mark = " (matches your --spec)" if spec else " (not compared: no --spec)"
        document = result.document
        _say(f"  document    {_safe(document.get('source'))} sha256 {_safe(document.get('sha256'))}{mark}")
    else:
        _say("  document    none")
    target = result.target
    url = None
    if isinstance(target, dict):
        url = target.get("base_url") or target.get("baseUrl") or target.get("url")
    if url:
        _say(f"  target      {_safe(url)}")
    elif target:
        _say(f"  target      {_safe(json.dumps(target, ensure_ascii=True))}")
    else:
        _say(f"  target      none ({_safe(result.scope)} run)")
    _say(
        f"  run         {_safe(result.scope)} scope, {_safe(result.started_on)} to {_safe(result.finished_on)}"
    )
    counts = ", ".join(f"{_safe(v)} {_safe(k)}" for k, v in result.counts.items())
    _say(f"  verdict     {_safe(result.verdict)} (test-result {result.result}; {counts})")
    for c in result.countersignatures:
        signer = _safe(c.signer.subject) if c.signer.subject else c.signer.keyid
        properties = _safe(", ".join(c.properties))
        _say(f"  countersig  {signer} asserts {properties} at {c.signer.signed_at} ({_safe(c.verifier_id)})")
    for note in result.notes:
        _say(f"  note        {note}")
    _say(f"  A signature proves {HONESTY['proves']}")
    _say(f"  It does not prove {HONESTY['does_not_prove']}")


@click.command()
@click.argument("target", metavar="REPORT_DIR|ENVELOPE", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--key",
    "keys",
    multiple=True,
    type=_FILE,
    metavar="PUB",
    help="The supplier's public key, obtained out of band (repeatable).",
)
@click.option(
    "--trust-root",
    "roots",
    multiple=True,
    type=_FILE,
    metavar="ROOT.pem",
    help="A pinned root certificate; the signer's chain must lead to it (repeatable).",
)
@click.option(
    "--require-countersign", is_flag=True, help="Fail unless a trusted countersignature is present."
)
@click.option(
    "--countersign-key",
    "cs_keys",
    multiple=True,
    type=_FILE,
    metavar="PUB",
    help="A countersigner's public key (repeatable).",
)
@click.option(
    "--countersign-root",
    "cs_roots",
    multiple=True,
    type=_FILE,
    metavar="ROOT.pem",
    help="A countersigner's pinned root certificate (repeatable).",
)
@click.option("--countersign-property", metavar="NAME", help="A property a countersignature must assert.")
@click.option(
    "--profile",
    "profile",
    type=_FILE,
    metavar="FILE",
    help="Your copy of the profile: its sha256 must match.",
)
@click.option(
    "--spec",
    "spec",
    type=_FILE,
    metavar="FILE",
    help="Your copy of the OpenAPI document: its sha256 must match.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON to stdout.")
def verify(
    target: Path,
    keys: tuple[Path, ...],
    roots: tuple[Path, ...],
    require_countersign: bool,
    cs_keys: tuple[Path, ...],
    cs_roots: tuple[Path, ...],
    countersign_property: str | None,
    profile: Path | None,
    spec: Path | None,
    as_json: bool,
) -> int:
    """Verify a signed report: who signed it, and that nothing changed since.

    Checks the signature, the certificate chain (with --trust-root), report.json and evidence/ digests,
    your copies of the profile and document (with --profile/--spec), the statement against report.json,
    and countersignatures. Exit 0 verified, 1 failed, 2 usage or unreadable input.

    \b
    Example:
        conformance verify reports/acme-20261127T100000Z --key acme.pub
        conformance verify reports/acme/ --trust-root body-root.pem --profile interop-pol-core.yaml --spec openapi.yaml
        conformance verify reports/acme/ --key acme.pub --require-countersign --countersign-key body.pub
    """
    from .attest.keys import key_id
    from .attest.verify import verify_report

    if not keys and not roots:
        raise UsageError(
            "give the supplier's public key (--key PUB) or a trusted root (--trust-root ROOT.pem)"
        )
    supplier = _anchors(keys, roots, "--key", "--trust-root")
    countersigners = _anchors(cs_keys, cs_roots, "--countersign-key", "--countersign-root")
    key_files = {key_id(k): p.name for k, p in zip(supplier.keys, keys, strict=True)}
    try:
        result = verify_report(
            target,
            supplier,
            countersigners=countersigners,
            require_countersign=require_countersign,
            countersign_property=countersign_property,
            profile=profile,
            spec=spec,
        )
    except VerificationError as exc:
        _say(f"FAIL: {exc.one_line()}")
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "ok": False,
                        "error": exc.one_line(),
                        "step": getattr(exc, "step", None),
                        "target": str(target),
                    },
                    indent=2,
                )
            )
        return int(ExitCode.NOT_CONFORMANT)
    _print_verified(result, key_files, profile, spec)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    return int(ExitCode.OK)


# -- countersign --------------------------------------------------------------------------------------
@click.command()
@click.argument("report_dir", type=_DIR)
@click.option("--key", "key_path", required=True, type=_FILE, help="The countersigning body's private key.")
@click.option("--cert", "cert_path", type=_FILE, help="The body's certificate chain (PEM, leaf first).")
@click.option(
    "--property",
    "properties",
    multiple=True,
    required=True,
    metavar="NAME",
    help="A property the body asserts, e.g. TECHUK_INTEROP_POL_CORE_1_CONFORMANT (repeatable).",
)
@click.option("--verifier-id", metavar="URI", help="Versioned URI of the verifier (default: this harness).")
@click.option(
    "--supplier-key",
    "supplier_keys",
    multiple=True,
    type=_FILE,
    metavar="PUB",
    help="Verify the supplier's signature with this key first (recommended).",
)
@click.option(
    "--supplier-root",
    "supplier_roots",
    multiple=True,
    type=_FILE,
    metavar="ROOT.pem",
    help="Verify the supplier's certificate chain to this root first (recommended).",
)
def countersign(
    report_dir: Path,
    key_path: Path,
    cert_path: Path | None,
    properties: tuple[str, ...],
    verifier_id: str | None,
    supplier_keys: tuple[Path, ...],
    supplier_roots: tuple[Path, ...],
) -> int:
    """Countersign a signed report as a standards body (appends an SVR envelope line).

    The countersignature names report.json and the supplier's signed statement by digest, the profile
    as the policy, and the properties the body asserts. Give --supplier-key or --supplier-root so the
    supplier's signature is verified before you vouch for it.

    \b
    Example:
        conformance countersign reports/acme/ --key body.key --cert body-chain.pem \\
            --property TECHUK_INTEROP_POL_CORE_1_CONFORMANT --supplier-root body-root.pem
    """
    from .attest.sign import countersign_report_folder
    from .attest.verify import verify_report

    payload = None
    if supplier_keys or supplier_roots:
        anchors = _anchors(supplier_keys, supplier_roots, "--supplier-key", "--supplier-root")
        try:
            payload = verify_report(report_dir, anchors).payload
        except VerificationError as exc:
            _say(f"FAIL: {exc.one_line()}")
            _say("not countersigned: the supplier's report does not verify")
            return int(ExitCode.NOT_CONFORMANT)
        _say(f"OK: {report_dir} verified (supplier signature, digests, consistency)")
    else:
        _say(
            "warning: the supplier's signature was NOT verified before countersigning "
            "(give --supplier-key or --supplier-root)"
        )
    info = countersign_report_folder(
        report_dir,
        key_path,
        properties=properties,
        cert_path=cert_path,
        passphrase=obtain_passphrase(key_path),
        verifier_id=verifier_id,
        supplier_payload=payload,
    )
    _warn(info.warnings)
    who = _safe(info.subject) if info.subject else info.keyid
    _say(f"countersigned: {info.envelope_path} by {who}, asserting {', '.join(sorted(set(properties)))}")
    return int(ExitCode.OK)


# -- inspect ------------------------------------------------------------------------------------------
@click.command()
@click.argument("target", metavar="REPORT_DIR|ENVELOPE", type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def inspect(target: Path, as_json: bool) -> int:
    """Show what a report's signatures claim, WITHOUT verifying them.

    \b
    Example:
        conformance inspect reports/acme-20261127T100000Z
    """
    from .attest.inspect import inspect_envelopes, render_text

    inspected = inspect_envelopes(target)
    click.echo(
        json.dumps(inspected, indent=2, ensure_ascii=True) if as_json else render_text(inspected), nl=as_json
    )
    return int(ExitCode.OK)


COMMANDS: list[click.Command] = [keygen, csr, sign, verify, countersign, inspect]
