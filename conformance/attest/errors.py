"""Verification failures, one class per step of the verifier (``reference/signing.md`` §7).

::

    conformance.errors.VerificationError     exit 1
    ├── NotSigned                (1) the report folder has no report.intoto.jsonl
    ├── MalformedEnvelope        (1) not strict JSON, not our exact envelope form, bad base64, wrong payload type
    ├── BadSignature             (2) no trusted key verifies the signature over the PAE
    ├── UntrustedCertificate     (3) the certificate chain does not lead to a pinned root at the signing time
    ├── BadStatement             (5) the verified payload is not our Statement / predicate, or does not bind the key
    ├── SubjectMismatch          (6) report.json or evidence/ differ from what was signed
    ├── PolicyMismatch           (7) the signed profile / document is not the reviewer's copy
    ├── InconsistentReport       (8) the signed predicate and report.json disagree
    └── CountersignatureError    (9) a countersignature is missing, invalid or about something else

Each carries ``step`` (the number above) so ``--json`` output and tests can say where verification stopped.
Problems with the reviewer's own inputs (an unreadable key file, bad flags) are not verification failures:
they are ``UsageError``/``ConformanceError`` and exit 2.
"""

from __future__ import annotations

from ..errors import VerificationError

__all__ = [
    "BadSignature",
    "BadStatement",
    "CountersignatureError",
    "InconsistentReport",
    "MalformedEnvelope",
    "NotSigned",
    "PolicyMismatch",
    "SubjectMismatch",
    "UntrustedCertificate",
]


class NotSigned(VerificationError):
    """The report folder has no envelope file: nothing proves who wrote it."""

    step = 1


class MalformedEnvelope(VerificationError):
    """An envelope line is not strict JSON, not in the exact form we write, or has an unsupported payload type."""

    step = 1


class BadSignature(VerificationError):
    """No trusted key verifies the signature over PAE(payloadType, payload)."""

    step = 2


class UntrustedCertificate(VerificationError):
    """The signer's certificate chain does not validate to a pinned root at the recorded signing time."""

    step = 3


class BadStatement(VerificationError):
    """The verified payload is not an in-toto Statement with our predicate, or does not bind the signing key."""

    step = 5


class SubjectMismatch(VerificationError):
    """A recomputed subject digest (report.json, evidence/) differs from the signed one."""

    step = 6


class PolicyMismatch(VerificationError):
    """The signed configuration differs from the reviewer's own copy of the profile or document."""

    step = 7


class InconsistentReport(VerificationError):
    """The signed predicate does not match report.json (result, tests, target, times, counts)."""

    step = 8


class CountersignatureError(VerificationError):
    """A required countersignature is missing, does not verify, or is about another report."""

    step = 9
