"""Signing a report folder (supplier) and countersigning it (standards body).

``sign_report_folder`` writes ``report.intoto.jsonl`` (line 1: the supplier's DSSE envelope) and
``VERIFY.txt`` beside ``report.json``; ``countersign_report_folder`` appends one more envelope line with an
SVR predicate. Files are replaced atomically (write to a temporary file, then rename), so a crash never
leaves half an envelope. Only ``report.json`` and ``evidence/`` are signed: ``report.html``, ``junit.xml``
and ``report.sarif`` are renderings of report.json and can be regenerated from it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from .. import __version__
from ..errors import ReportError, UsageError
from . import dsse
from ._json import StrictJSONError, dumps_canonical, loads_strict
from .certs import certificate_digest, describe, load_certificates
from .envelope import PAYLOAD_TYPE, Envelope, read_bundle
from .evidence import EvidenceError, dir_hash
from .keys import PASSPHRASE_ENV, SigningKey, key_id, load_signing_key
from .statement import PROPERTY, profile_descriptor, supplier_statement, svr_statement, time_text

__all__ = [
    "ENVELOPE_NAME",
    "EVIDENCE_NAME",
    "HONESTY",
    "REPORT_NAME",
    "VERIFY_NAME",
    "SignatureInfo",
    "countersign_report_folder",
    "sign_report_folder",
]

REPORT_NAME = "report.json"
EVIDENCE_NAME = "evidence"
ENVELOPE_NAME = "report.intoto.jsonl"
VERIFY_NAME = "VERIFY.txt"
DEFAULT_VERIFIER_ID = f"pkg:pypi/interop-conformance@{__version__}"
TIME_SOURCE = "self-asserted (the signer's own clock; no trusted timestamp)"

HONESTY = {
    "proves": "who signed this report (the holder of the signing key) and that report.json and the "
    "evidence folder have not changed by a single byte since it was signed.",
    "does_not_prove": "that the run was honest: a signer could have tested a different system, edited the "
    "harness, or chosen favourable conditions. The signing time is the signer's own claim.",
    "spot_check": "re-run selected checks yourself with the profile and OpenAPI document whose sha256 the "
    "signature records (conformance verify ... --profile FILE --spec FILE, then "
    "conformance run --profile FILE --spec FILE -k 'C4') and compare the outcomes.",
}


@dataclass(frozen=True, slots=True)
class SignatureInfo:
    """What was signed, by which key, when; ``to_dict()`` feeds the HTML report's ``signature=``."""

    keyid: str
    algorithm: str
    subject: str | None  # certificate subject, or None for a bare key
    signed_at: str  # RFC 3339 UTC, self-asserted
    envelope_path: Path
    warnings: tuple[str, ...] = field(default=())  # for the caller to print (loose key permissions, …)

    def to_dict(self) -> dict[str, Any]:
        return {
            "keyid": self.keyid,
            "algorithm": self.algorithm,
            "subject": self.subject,
            "signed_at": self.signed_at,
            "time_source": TIME_SOURCE,
            "envelope_path": str(self.envelope_path),
            "envelope_name": self.envelope_path.name,
            **HONESTY,
        }


# -- shared helpers ------------------------------------------------------------------------------------
def _passphrase(passphrase: bytes | None) -> bytes | None:
    if passphrase is not None:
        return passphrase
    env = os.environ.get(PASSPHRASE_ENV)
    return env.encode("utf-8") if env else None


def _read_report(folder: Path) -> tuple[bytes, dict[str, Any]]:
    if not folder.is_dir():
        raise ReportError("not a report folder", source=str(folder))
    path = folder / REPORT_NAME
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReportError(
            f"cannot read: {exc.strerror}",
            source=str(path),
            hint="sign a folder written by `conformance run`",
        ) from None
    try:
        report = loads_strict(data)
    except StrictJSONError as exc:
        raise ReportError(f"not a report: {exc}", source=str(path)) from None
    if not isinstance(report, dict) or "verdict" not in report or "outcomes" not in report:
        raise ReportError("not a report written by `conformance run`", source=str(path))
    return data, report


def _load_chain(cert_path: Path | None, key: SigningKey, at: datetime) -> tuple[x509.Certificate, ...]:
    if cert_path is None:
        return ()
    certificates = load_certificates(cert_path, "certificate chain")
    leaf = certificates[0]
    if key_id(leaf.public_key()) != key.keyid:
        raise UsageError(
            "the first certificate is not for this signing key",
            source=str(cert_path),
            hint="the chain file must start with the certificate issued for your CSR",
        )
    if not leaf.not_valid_before_utc <= at <= leaf.not_valid_after_utc:
        raise UsageError(
            f"the certificate is not valid now (valid {leaf.not_valid_before_utc:%Y-%m-%d} to "
            f"{leaf.not_valid_after_utc:%Y-%m-%d}); verifiers would reject the signature",
            source=str(cert_path),
            hint="ask the issuing body for a new certificate",
        )
    # DSSE's verification-material extension carries leaf + intermediates, never a root: a verifier must
    # trust a root because it pinned it, not because the envelope brought it along.
    return (leaf, *(c for c in certificates[1:] if c.subject != c.issuer))


def _signer_fields(key: SigningKey, chain: Sequence[x509.Certificate]) -> dict[str, Any]:
    return {
        "keyid": key.keyid,
        "algorithm": key.algorithm,
        "certificates": [certificate_digest(c.public_bytes(Encoding.DER)) for c in chain],
    }


def _envelope(key: SigningKey, chain: Sequence[x509.Certificate], statement: dict[str, Any]) -> Envelope:
    payload = dumps_canonical(statement)
    return Envelope(
        payload_type=PAYLOAD_TYPE,
        payload=payload,
        keyid=key.keyid,
        signature=dsse.sign(key, PAYLOAD_TYPE, payload),
        certificates=tuple(c.public_bytes(Encoding.DER) for c in chain),
    )


def _write_atomic(path: Path, content: bytes) -> None:
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ReportError(f"cannot write: {exc.strerror}", source=str(path)) from None


def _evidence_digest(folder: Path, *, create: bool) -> str:
    evidence = folder / EVIDENCE_NAME
    if create and not evidence.exists() and not evidence.is_symlink():
        try:
            evidence.mkdir()
        except OSError as exc:
            raise ReportError(
                f"cannot create the evidence folder: {exc.strerror}", source=str(evidence)
            ) from None
    try:
        return dir_hash(evidence)
    except EvidenceError as exc:
        raise ReportError(str(exc), source=str(folder)) from None


# -- signing -------------------------------------------------------------------------------------------
def _sign_folder(
    folder: Path, key: SigningKey, chain: Sequence[x509.Certificate], signed_at: datetime, *, force: bool
) -> SignatureInfo:
    """Sign without certificate sanity checks (tests use it to build deliberately bad envelopes)."""
    envelope_path = folder / ENVELOPE_NAME
    if envelope_path.exists() and not force:
        raise UsageError(
            "the report is already signed",
            source=str(envelope_path),
            hint="use --force to replace the signature (this also drops any countersignature)",
        )
    report_bytes, report = _read_report(folder)
    evidence = _evidence_digest(folder, create=True)
    signed_at_text = time_text(signed_at)
    try:
        statement = supplier_statement(
            report,
            report_sha256=hashlib.sha256(report_bytes).hexdigest(),
            evidence_dir_hash=evidence,
            signer=_signer_fields(key, chain),
            signed_at=signed_at_text,
        )
    except ValueError as exc:
        raise ReportError(str(exc), source=str(folder / REPORT_NAME)) from None
    _write_atomic(envelope_path, _envelope(key, chain, statement).line())
    from .instructions import verify_txt

    _write_atomic(folder / VERIFY_NAME, verify_txt(key.keyid).encode("utf-8"))
    return SignatureInfo(
        keyid=key.keyid,
        algorithm=key.algorithm,
        subject=describe(chain[0]) if chain else None,
        signed_at=signed_at_text,
        envelope_path=envelope_path,
        warnings=key.warnings,
    )


def sign_report_folder(
    folder: Path,
    key_path: Path,
    *,
    cert_path: Path | None = None,
    passphrase: bytes | None = None,
    force: bool = False,
) -> SignatureInfo:
    """Sign ``folder/report.json`` and ``folder/evidence/`` (created if missing) with ``key_path``.

    ``passphrase`` defaults to ``$CONFORMANCE_KEY_PASSPHRASE`` for an encrypted key. ``cert_path`` is a PEM
    chain, leaf first, issued for this key. Writes ``report.intoto.jsonl`` and ``VERIFY.txt``; refuses to
    replace an existing signature unless ``force``. Raises ``ConformanceError`` subclasses (exit 2).
    """
    key = load_signing_key(key_path, _passphrase(passphrase))
    now = datetime.now(timezone.utc)
    chain = _load_chain(cert_path, key, now)
    return _sign_folder(folder, key, chain, now, force=force)


# -- countersigning ------------------------------------------------------------------------------------
def countersign_report_folder(
    folder: Path,
    key_path: Path,
    *,
    properties: Sequence[str],
    cert_path: Path | None = None,
    passphrase: bytes | None = None,
    verifier_id: str | None = None,
    supplier_payload: bytes | None = None,
) -> SignatureInfo:
    """Append a countersignature (SVR predicate) over line 1's payload digest and report.json.

    ``supplier_payload`` is line 1's payload as returned by a successful ``verify_report`` (the CLI
    verifies first when it was given the supplier's key or root); without it the payload is taken from the
    envelope unverified, and the caller must say so.
    """
    if not properties:
        raise UsageError("give at least one --property (e.g. TECHUK_INTEROP_POL_CORE_1_CONFORMANT)")
    for prop in properties:
        if not PROPERTY.fullmatch(prop):
            raise UsageError(f"--property must be letters, digits and _ . : - (got {prop!r})")
    envelope_path = folder / ENVELOPE_NAME
    try:
        bundle = envelope_path.read_bytes()
    except OSError as exc:
        raise ReportError(
            f"cannot read: {exc.strerror}",
            source=str(envelope_path),
            hint="the supplier must sign the report first",
        ) from None
    envelopes = read_bundle(bundle, str(envelope_path))
    report_bytes, report = _read_report(folder)
    payload = supplier_payload if supplier_payload is not None else envelopes[0].payload
    key = load_signing_key(key_path, _passphrase(passphrase))
    now = datetime.now(timezone.utc)
    chain = _load_chain(cert_path, key, now)
    try:
        policy = profile_descriptor(report)
    except (KeyError, TypeError) as exc:
        raise ReportError(
            f"report.json lacks its profile ({exc})", source=str(folder / REPORT_NAME)
        ) from None
    statement = svr_statement(
        report_sha256=hashlib.sha256(report_bytes).hexdigest(),
        supplier_payload_sha256=hashlib.sha256(payload).hexdigest(),
        policy={"uri": policy["uri"], "digest": policy["digest"]},
        verifier_id=verifier_id or DEFAULT_VERIFIER_ID,
        properties=sorted(set(properties)),
        signer=_signer_fields(key, chain),
        time_created=time_text(now),
    )
    _write_atomic(envelope_path, bundle + _envelope(key, chain, statement).line())
    return SignatureInfo(
        keyid=key.keyid,
        algorithm=key.algorithm,
        subject=describe(chain[0]) if chain else None,
        signed_at=time_text(now),
        envelope_path=envelope_path,
        warnings=key.warnings,
    )
