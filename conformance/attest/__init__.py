"""Signed conformance reports: DSSE envelopes carrying in-toto statements, verifiable offline.

Design and rationale: ``reference/signing.md`` §7 and ``docs/verifying.md``. One job per module:

* ``dsse``       PAE, sign, verify (``cryptography`` only; algorithm allow-list)
* ``envelope``   the envelope / ``report.intoto.jsonl`` byte format, read strictly
* ``statement``  in-toto Statement v1 with the test-result predicate, and the SVR countersignature
* ``keys``       key generation, loading, key ids, passphrases, CSRs
* ``certs``      X.509 chains to a pinned root
* ``evidence``   the ``dirHash`` of the evidence folder
* ``sign``       signing and countersigning a report folder
* ``verify``     the ten-step verifier
* ``inspect``    showing envelopes, unverified
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes
from .errors import (
    BadSignature,
    BadStatement,
    CountersignatureError,
    InconsistentReport,
    MalformedEnvelope,
    NotSigned,
    PolicyMismatch,
    SubjectMismatch,
    UntrustedCertificate,
)

if TYPE_CHECKING:
    from .sign import ENVELOPE_NAME, HONESTY, SignatureInfo, countersign_report_folder, sign_report_folder
    from .verify import TrustAnchors, VerifiedReport, verify_report

# ``cryptography`` loads when a report is signed or verified, not for an unsigned run (report.json's
# evidence digest needs only ``evidence``).
_LAZY = {
    **dict.fromkeys(
        ("ENVELOPE_NAME", "HONESTY", "SignatureInfo", "countersign_report_folder", "sign_report_folder"),
        "sign",
    ),
    **dict.fromkeys(("TrustAnchors", "VerifiedReport", "verify_report"), "verify"),
}

__getattr__ = lazy_attributes(__name__, _LAZY)


__all__ = [
    "ENVELOPE_NAME",
    "HONESTY",
    "BadSignature",
    "BadStatement",
    "CountersignatureError",
    "InconsistentReport",
    "MalformedEnvelope",
    "NotSigned",
    "PolicyMismatch",
    "SignatureInfo",
    "SubjectMismatch",
    "TrustAnchors",
    "UntrustedCertificate",
    "VerifiedReport",
    "countersign_report_folder",
    "sign_report_folder",
    "verify_report",
]
