"""Verifying a signed report folder: the ten steps of ``reference/signing.md`` §7.

(1)  Read ``report.intoto.jsonl``: strict JSON per line (duplicate keys, non-UTF-8, floats rejected), the
     exact envelope form we write (so no byte of it can change unnoticed), base64 decoded strictly,
     ``payloadType == application/vnd.in-toto+json``. The type check is a constant comparison made before
     the signature check; DSSE orders it after, which is equivalent because nothing is parsed for it and
     the type is inside the PAE anyway.
(2)  Verify the signature over ``PAE(payloadType, payload)`` with each *trusted* key: the pinned
     ``--key`` public keys, or the leaf key of the certificate chain (trusted only once (3) passes). The
     envelope's ``keyid`` only names a candidate; it must then equal the id of the key that verified.
     From here on only the verified payload bytes are used.
(3)  Certificate identity (``--trust-root``): validate the chain to a pinned root at the signing time
     the signer recorded, with KeyUsage/EKU checks (``certs.py``). That time is inside the signed payload,
     so this step runs right after the payload is parsed in (5), and nothing from the payload is trusted
     or shown before it passes. The time is self-asserted: stated in every result.
(4)  RFC 3161 timestamps: not supported yet. Envelopes carrying one are rejected in (1) as not our form,
     and every result says the signing time is self-asserted.
(5)  Parse the verified payload (strictly): ``_type`` Statement v1, ``predicateType`` test-result v0.1,
     ``result`` in PASSED/WARNED/FAILED, predicate shape; the signed ``interopConformance.signer`` must name
     the key that verified and exactly the certificates the envelope carries; the signing time must not be
     in the future.
(6)  Recompute the subjects: sha256 of ``report.json`` and ``dirHash`` of ``evidence/``; match by name and
     digest.
(7)  Policy: with ``--profile``/``--spec``, the signed configuration digests must equal the sha256 of the
     reviewer's own copies.
(8)  Consistency: the predicate must equal what ``report.json`` implies (result, test lists, configuration,
     target, times, verdict, counts), and report.json's own evidence digest, if any, must match evidence/.
(9)  Countersignatures (lines 2+): with ``--countersign-key``/``--countersign-root`` every one must pass
     (1)-(5) for its own key, carry the SVR predicate, name this report.json and line 1's payload digest,
     and (if asked) the expected property; ``--require-countersign`` fails when none does.
(10) Return a summary: who signed (key id / certificate subject), when (self-asserted), profile, document,
     target, verdict and result, countersignatures, and the notes on what was *not* checked.

Each step fails with its own ``VerificationError`` subclass (``errors.py``). What callers must still do:
decide whether the verdict is acceptable (a verified FAILED report verifies), and obtain the trusted keys
and roots out of band.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from cryptography import x509

from ..errors import ConformanceError, UsageError
from . import dsse
from ._json import StrictJSONError, loads_strict
from .certs import certificate_digest, describe, parse_der, verify_chain
from .envelope import PAYLOAD_TYPE, Envelope, read_bundle
from .errors import (
    BadSignature,
    BadStatement,
    CountersignatureError,
    InconsistentReport,
    MalformedEnvelope,
    NotSigned,
    PolicyMismatch,
    SubjectMismatch,
)
from .evidence import EvidenceError, dir_hash
from .keys import key_id
from .sign import ENVELOPE_NAME, EVIDENCE_NAME, REPORT_NAME, TIME_SOURCE
from .statement import (
    EVIDENCE_SUBJECT,
    EXTENSION,
    REPORT_SUBJECT,
    SUPPLIER_SUBJECT,
    check_svr_statement,
    check_test_result_statement,
    parse_time,
    report_predicate,
    signer_of,
)

__all__ = ["Countersignature", "Signer", "TrustAnchors", "VerifiedReport", "locate", "verify_report"]

CLOCK_SKEW = timedelta(minutes=5)  # a signing time this far ahead of our clock is still accepted


@dataclass(frozen=True, slots=True)
class TrustAnchors:
    """What the reviewer trusts, obtained out of band: pinned public keys, or pinned root certificates."""

    keys: tuple[dsse.PublicKey, ...] = ()
    roots: tuple[x509.Certificate, ...] = ()

    def __post_init__(self) -> None:
        if self.keys and self.roots:
            raise UsageError("give trusted keys or trusted roots, not both")

    @property
    def empty(self) -> bool:
        return not self.keys and not self.roots


@dataclass(frozen=True, slots=True)
class Signer:
    keyid: str
    algorithm: str
    subject: str | None  # certificate subject: verified with roots, or None
    certificate_checked: bool  # False when a chain was carried but the reviewer pinned a bare key
    signed_at: str  # self-asserted (see TIME_SOURCE)

    def to_dict(self) -> dict[str, Any]:
        return {
            "keyid": self.keyid,
            "algorithm": self.algorithm,
            "subject": self.subject,
            "certificate_checked": self.certificate_checked,
            "signed_at": self.signed_at,
            "time_source": TIME_SOURCE,
        }


@dataclass(frozen=True, slots=True)
class Countersignature:
    signer: Signer
    verifier_id: str
    properties: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "signer": self.signer.to_dict(),
            "verifier_id": self.verifier_id,
            "properties": list(self.properties),
        }


@dataclass(frozen=True, slots=True)
class VerifiedReport:
    """A report folder that passed every step; everything in it comes from verified bytes."""

    folder: Path
    supplier: Signer
    result: str
    verdict: str
    profile: dict[str, Any]
    document: dict[str, Any] | None
    harness: dict[str, Any] | None
    target: Any
    scope: str
    started_on: str
    finished_on: str
    counts: dict[str, int]
    countersignatures: tuple[Countersignature, ...]
    notes: tuple[str, ...]
    statement: dict[str, Any] = field(repr=False)
    payload: bytes = field(repr=False)  # line 1's verified payload bytes

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "folder": str(self.folder),
            "supplier": self.supplier.to_dict(),
            "result": self.result,
            "verdict": self.verdict,
            "profile": self.profile,
            "document": self.document,
            "harness": self.harness,
            "target": self.target,
            "scope": self.scope,
            "started_on": self.started_on,
            "finished_on": self.finished_on,
            "counts": self.counts,
            "countersignatures": [c.to_dict() for c in self.countersignatures],
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class _Checked:
    """One envelope after steps (2), (3) and (5)."""

    statement: dict[str, Any]
    subjects: dict[str, dict[str, str]]
    payload: bytes
    signer: Signer


def locate(target: Path) -> tuple[Path, Path]:
    """``(folder, envelope file)`` for a report folder, its envelope file, or its report.json."""
    if target.is_dir():
        return target, target / ENVELOPE_NAME
    if target.name == REPORT_NAME:
        return target.parent, target.parent / ENVELOPE_NAME
    return target.parent, target


# -- (1) read the bundle -------------------------------------------------------------------------------
def _read_envelopes(path: Path) -> list[Envelope]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotSigned(
            "the report is not signed (no report.intoto.jsonl)",
            source=str(path.parent),
            hint="anyone could have written or edited it",
        ) from None
    except OSError as exc:
        raise ConformanceError(f"cannot read: {exc.strerror}", source=str(path)) from None
    envelopes = read_bundle(data, str(path))  # (1) strict JSON, exact form, strict base64
    for number, envelope in enumerate(envelopes, start=1):
        if envelope.payload_type != PAYLOAD_TYPE:  # (1) payload type
            raise MalformedEnvelope(
                f"unsupported payloadType {envelope.payload_type!r:.80} (expected {PAYLOAD_TYPE})",
                source=f"{path}:line {number}",
            )
    return envelopes


# -- (2), (3), (5) one envelope ------------------------------------------------------------------------
def _parse_payload(payload: bytes, where: str) -> Any:
    try:
        return loads_strict(payload)
    except StrictJSONError as exc:
        raise BadStatement(f"the signed payload is not strict JSON: {exc}", source=where) from None


def _check_envelope(
    envelope: Envelope,
    anchors: TrustAnchors,
    where: str,
    now: datetime,
    check_shape: Callable[[object], dict[str, dict[str, str]]],
) -> _Checked:
    # (2) the signature over the PAE, with trusted keys only; keyid narrows nothing, it is checked after.
    certificates: tuple[x509.Certificate, ...] = ()
    if anchors.keys:
        verified_key: dsse.PublicKey | None = None
        payload: bytes | None = None
        for key in anchors.keys:
            payload = dsse.verify_payload(key, envelope.payload_type, envelope.payload, envelope.signature)
            if payload is not None:
                verified_key = key
                break
        if verified_key is None or payload is None:
            tried = ", ".join(key_id(k) for k in anchors.keys)
            named = (
                ""
                if envelope.keyid in {key_id(k) for k in anchors.keys}
                else (f"; the envelope names key {envelope.keyid!r:.80}, which you did not trust")
            )
            raise BadSignature(
                f"the signature does not verify with any trusted key (tried {tried}){named}", source=where
            )
    else:
        if not envelope.certificates:
            raise BadSignature(
                "the envelope carries no certificate chain, so --trust-root cannot identify the signer",
                source=where,
                hint="verify with the signer's public key (--key)",
            )
        # Certificates are parsed only in this mode: the leaf is where the candidate key comes from.
        certificates = tuple(parse_der(der, where) for der in envelope.certificates)
        try:
            verified_key = dsse.allowed_public_key(certificates[0].public_key())
        except ValueError as exc:
            raise BadSignature(f"the signer's certificate key: {exc}", source=where) from None
        except Exception:  # hostile DER (UnsupportedAlgorithm, ...) means "unusable", never a crash
            raise BadSignature("the signer's certificate holds no usable public key", source=where) from None
        payload = dsse.verify_payload(
            verified_key, envelope.payload_type, envelope.payload, envelope.signature
        )
        if payload is None:
            raise BadSignature(
                "the signature does not verify with the key of the certificate it carries", source=where
            )
    keyid = key_id(verified_key)
    if envelope.keyid != keyid:  # (2) the unauthenticated hint must name the key that verified
        raise BadSignature(
            f"the envelope's keyid {envelope.keyid!r:.80} is not the key that signed ({keyid})", source=where
        )
    # (5) only now parse, and only the verified bytes.
    statement = _parse_payload(payload, where)
    try:
        subjects = check_shape(statement)
    except BadStatement as exc:
        raise BadStatement(exc.message, source=where) from None
    predicate = statement["predicate"]
    extension = predicate[EXTENSION]
    signed_text = extension.get("signedAt") or predicate.get("timeCreated")
    signed_at = parse_time(signed_text, "signing time")
    if signed_at > now + CLOCK_SKEW:
        raise BadStatement(f"the signing time {signed_text} is in the future", source=where)
    subject = None
    if anchors.roots:
        # (3) chain to a pinned root, at the (self-asserted) signing time read from the verified payload.
        verify_chain(certificates, anchors.roots, signed_at, where)
        subject = describe(certificates[0])
    # (4) no RFC 3161 timestamps yet: envelopes carrying one failed (1); the time stays self-asserted.
    # (5) the signed statement binds the key and the exact certificates that travel outside the signature.
    signer = signer_of(predicate)
    if signer["keyid"] != keyid or signer["algorithm"] != dsse.algorithm_of(verified_key):
        raise BadStatement(
            f"the statement was made for key {signer['keyid']!r:.80} "
            f"({signer['algorithm']!r:.40}), not the key that signed it ({keyid})",
            source=where,
        )
    if signer["certificates"] != [certificate_digest(der) for der in envelope.certificates]:
        raise BadStatement(
            "the certificates in the envelope are not the ones the signer recorded in the signed statement",
            source=where,
        )
    return _Checked(
        statement=statement,
        subjects=subjects,
        payload=payload,
        signer=Signer(
            keyid=keyid,
            algorithm=dsse.algorithm_of(verified_key),
            subject=subject,
            certificate_checked=bool(anchors.roots),
            signed_at=str(signed_text),
        ),
    )


# -- (6) subjects --------------------------------------------------------------------------------------
def _read_report_bytes(folder: Path) -> bytes:
    path = folder / REPORT_NAME
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SubjectMismatch("report.json is missing", source=str(folder)) from None
    except OSError as exc:
        raise ConformanceError(f"cannot read: {exc.strerror}", source=str(path)) from None


def _evidence_hash(folder: Path) -> str:
    try:
        return dir_hash(folder / EVIDENCE_NAME)
    except EvidenceError as exc:
        raise SubjectMismatch(f"the evidence folder cannot be checked: {exc}", source=str(folder)) from None


def _check_subjects(
    subjects: dict[str, dict[str, str]], report_bytes: bytes, evidence: str, where: str
) -> None:
    if set(subjects) != {REPORT_SUBJECT, EVIDENCE_SUBJECT}:
        raise SubjectMismatch(
            f"the statement must name exactly {REPORT_SUBJECT} and {EVIDENCE_SUBJECT} "
            f"(names {', '.join(sorted(subjects))})",
            source=where,
        )
    signed_report = subjects[REPORT_SUBJECT].get("sha256")
    if signed_report != hashlib.sha256(report_bytes).hexdigest():
        raise SubjectMismatch("report.json has changed since it was signed (sha256 differs)", source=where)
    if subjects[EVIDENCE_SUBJECT].get("dirHash") != evidence:
        raise SubjectMismatch(
            "the evidence folder has changed since it was signed (dirHash differs)", source=where
        )


# -- (7) policy ----------------------------------------------------------------------------------------
def _descriptor(predicate: dict[str, Any], name: str) -> dict[str, Any] | None:
    for entry in predicate["configuration"]:
        if isinstance(entry, dict) and entry.get("name") == name:
            return entry
    return None


def _file_sha256(path: Path, flag: str) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise UsageError(f"cannot read the {flag} file: {exc.strerror}", source=str(path)) from None


def _check_policy(
    predicate: dict[str, Any], profile: Path | None, spec: Path | None, where: str
) -> list[str]:
    notes = []
    for path, name, flag in ((profile, "profile", "--profile"), (spec, "openapi", "--spec")):
        descriptor = _descriptor(predicate, name)
        signed = (descriptor or {}).get("digest", {}).get("sha256") if isinstance(descriptor, dict) else None
        if path is None:
            notes.append(f"{name} digest not compared with your own copy (no {flag} given)")
            continue
        mine = _file_sha256(path, flag)
        if signed is None:
            raise PolicyMismatch(
                f"the signed statement records no {name} digest to compare with {flag}", source=where
            )
        if signed != mine:
            raise PolicyMismatch(
                f"the report was made with a different {name}: signed sha256 {signed}, "
                f"your {path.name} has {mine}",
                source=where,
            )
    return notes


# -- (8) consistency -----------------------------------------------------------------------------------
def _first_difference(signed: Any, expected: Any, path: str = "predicate") -> str:
    if isinstance(signed, dict) and isinstance(expected, dict):
        for key in sorted(set(signed) | set(expected)):
            if signed.get(key, ...) != expected.get(key, ...):
                return _first_difference(signed.get(key), expected.get(key), f"{path}.{key}")
    if isinstance(signed, list) and isinstance(expected, list) and len(signed) == len(expected):
        for index, (a, b) in enumerate(zip(signed, expected, strict=True)):
            if a != b:
                return _first_difference(a, b, f"{path}[{index}]")
    return path


def _check_consistency(
    predicate: dict[str, Any], report_bytes: bytes, evidence: str, where: str
) -> dict[str, Any]:
    try:
        report = loads_strict(report_bytes)
        expected = report_predicate(report)
    except (StrictJSONError, ValueError) as exc:
        raise InconsistentReport(f"report.json cannot be read as a report: {exc}", source=where) from None
    # Exact equality with what this harness derives from report.json. If report_predicate ever changes, bump
    # statement.EXTENSION_VERSION and keep the old derivation for old reports (the shape check pins the version).
    signed = dict(predicate)
    signed[EXTENSION] = {k: v for k, v in predicate[EXTENSION].items() if k not in ("signedAt", "signer")}
    if signed != expected:
        raise InconsistentReport(
            f"the signed statement and report.json disagree at {_first_difference(signed, expected)}",
            source=where,
        )
    recorded = report.get("evidence")
    if isinstance(recorded, dict) and recorded.get("sha256") not in (None, evidence):
        raise InconsistentReport(
            "report.json's evidence.sha256 is not the evidence folder's dirHash", source=where
        )
    return dict(report)


# -- (9) countersignatures -----------------------------------------------------------------------------
def _check_countersignatures(
    envelopes: Sequence[Envelope],
    anchors: TrustAnchors,
    *,
    required: bool,
    wanted: str | None,
    supplier_payload: bytes,
    report_bytes: bytes,
    predicate: dict[str, Any],
    source: str,
    now: datetime,
) -> tuple[tuple[Countersignature, ...], list[str]]:
    if anchors.empty:
        notes = (
            [
                f"{len(envelopes)} countersignature(s) present but NOT verified (give --countersign-key or "
                "--countersign-root)"
            ]
            if envelopes
            else []
        )
        return (), notes
    if required and not envelopes:
        raise CountersignatureError("no countersignature, but one is required", source=source)
    profile = _descriptor(predicate, "profile") or {}
    results = []
    for number, envelope in enumerate(envelopes, start=2):
        where = f"{source}:line {number}"
        try:
            checked = _check_envelope(envelope, anchors, where, now, check_svr_statement)
        except ConformanceError as exc:
            raise CountersignatureError(
                f"countersignature: {exc.message}", source=where, hint=exc.hint
            ) from None
        statement = checked.statement
        subjects = checked.subjects
        if subjects.get(REPORT_SUBJECT, {}).get("sha256") != hashlib.sha256(report_bytes).hexdigest():
            raise CountersignatureError("the countersignature is about a different report.json", source=where)
        if subjects.get(SUPPLIER_SUBJECT, {}).get("sha256") != hashlib.sha256(supplier_payload).hexdigest():
            raise CountersignatureError(
                "the countersignature is about a different supplier statement", source=where
            )
        verifier = statement["predicate"]["verifier"]
        policy = verifier.get("policy")
        if not isinstance(policy, dict) or policy.get("digest") != profile.get("digest"):
            raise CountersignatureError(
                "the countersignature's policy is not this report's profile", source=where
            )
        properties = tuple(statement["predicate"]["properties"])
        results.append(
            Countersignature(signer=checked.signer, verifier_id=verifier["id"], properties=properties)
        )
    if wanted is not None and envelopes and not any(wanted in c.properties for c in results):
        asserted = ", ".join(sorted({p for c in results for p in c.properties}))
        raise CountersignatureError(
            f"no countersignature asserts {wanted} (they assert {asserted})", source=source
        )
    return tuple(results), [] if envelopes else ["no countersignature present"]


# -- the verifier --------------------------------------------------------------------------------------
def verify_report(
    target: Path,
    supplier: TrustAnchors,
    *,
    countersigners: TrustAnchors = TrustAnchors(),
    require_countersign: bool = False,
    countersign_property: str | None = None,
    profile: Path | None = None,
    spec: Path | None = None,
    now: datetime | None = None,
) -> VerifiedReport:
    """Run steps (1)-(10) on a report folder (or its envelope file); raise a ``VerificationError`` on failure."""
    if supplier.empty:
        raise UsageError(
            "give the supplier's public key (--key) or a trusted root certificate (--trust-root)"
        )
    if (require_countersign or countersign_property) and countersigners.empty:
        raise UsageError(
            "--require-countersign and --countersign-property need --countersign-key or --countersign-root"
        )
    now = now or datetime.now(timezone.utc)
    folder, path = locate(target)
    envelopes = _read_envelopes(path)  # (1)
    where = f"{path}:line 1"
    checked = _check_envelope(envelopes[0], supplier, where, now, check_test_result_statement)  # (2) (3) (5)
    statement = checked.statement
    predicate = statement["predicate"]
    report_bytes = _read_report_bytes(folder)  # read once: the same bytes are hashed and parsed
    evidence = _evidence_hash(folder)
    _check_subjects(checked.subjects, report_bytes, evidence, where)  # (6)
    notes = _check_policy(predicate, profile, spec, where)  # (7)
    report = _check_consistency(predicate, report_bytes, evidence, where)  # (8)
    countersignatures, more = _check_countersignatures(  # (9)
        envelopes[1:],
        countersigners,
        required=require_countersign or countersign_property is not None,
        wanted=countersign_property,
        supplier_payload=checked.payload,
        report_bytes=report_bytes,
        predicate=predicate,
        source=str(path),
        now=now,
    )
    notes += more
    if checked.signer.subject is None and envelopes[0].certificates:
        notes.append(
            "the envelope carries a certificate chain that was not checked (verify with --trust-root)"
        )
    notes.append("the signing time is self-asserted: no trusted timestamp backs it")
    extension = predicate[EXTENSION]
    spec_section = report.get("spec") if isinstance(report.get("spec"), dict) else None
    return VerifiedReport(  # (10)
        folder=folder,
        supplier=checked.signer,
        result=predicate["result"],
        verdict=extension["verdict"]["status"],
        profile={k: report["profile"].get(k) for k in ("id", "version", "sha256")},
        document={k: spec_section.get(k) for k in ("source", "sha256", "title")} if spec_section else None,
        harness=report.get("harness"),
        target=extension.get("target"),
        scope=extension["scope"],
        started_on=extension["startedOn"],
        finished_on=extension["finishedOn"],
        counts=dict(extension["counts"]),
        countersignatures=countersignatures,
        notes=tuple(notes),
        statement=statement,
        payload=checked.payload,
    )
