"""DSSE JSON envelopes and the ``report.intoto.jsonl`` bundle, in one exact byte form.

Spec: https://github.com/secure-systems-lab/dsse/blob/v1.0.0/envelope.md and in-toto's bundle
(``spec/v1/bundle.md``: JSON Lines, one envelope per line). Line 1 is the supplier's envelope, later lines
are countersignatures. Each envelope has exactly one signature (one party, one claim, one time).

We write every envelope in one canonical form: sorted keys, no whitespace, standard padded base64, one
``\\n`` after each line. The reader accepts *only* that form and re-serialises what it parsed to prove it.
That is stricter than DSSE (which lets readers accept URL-safe base64, ignore unknown fields and treat
``keyid`` as a mere hint) on purpose: a signed report pack must show *any* change to *any* byte, including
the bytes the signature cannot cover (whitespace, ``keyid``, the certificate extension). The verifier closes
the rest: ``keyid`` must be the id of the key that verified, and the certificate chain's digests are inside
the signed statement. Envelopes from other tools can still be checked with the openssl path
(docs/verifying.md).

Certificates (leaf first, then intermediates; never the root) travel in the DSSE 1.1 signature extension of
kind ``application/vnd.dev.sigstore.verificationmaterial;version=0.3`` as ``x509CertificateChain``.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from ._json import StrictJSONError, dumps_canonical, loads_strict
from .errors import MalformedEnvelope

__all__ = ["MAX_BUNDLE_BYTES", "PAYLOAD_TYPE", "VERIFICATION_MATERIAL_KIND", "Envelope", "read_bundle"]

PAYLOAD_TYPE = "application/vnd.in-toto+json"
VERIFICATION_MATERIAL_KIND = "application/vnd.dev.sigstore.verificationmaterial;version=0.3"
MAX_BUNDLE_BYTES = 64 * 1024 * 1024  # far above any real report; stops a hostile file exhausting memory


@dataclass(frozen=True, slots=True)
class Envelope:
    """One parsed envelope. ``payload`` is *not* trusted until ``dsse.verify_payload`` returned it."""

    payload_type: str
    payload: bytes = field(repr=False)
    keyid: str
    signature: bytes = field(repr=False)
    certificates: tuple[bytes, ...] = field(default=(), repr=False)  # DER, leaf first

    def to_json(self) -> dict[str, Any]:
        signature: dict[str, Any] = {"keyid": self.keyid, "sig": _b64(self.signature)}
        if self.certificates:
            signature["extension"] = {
                "kind": VERIFICATION_MATERIAL_KIND,
                "ext": {
                    "x509CertificateChain": {
                        "certificates": [{"rawBytes": _b64(c)} for c in self.certificates]
                    }
                },
            }
        return {"payload": _b64(self.payload), "payloadType": self.payload_type, "signatures": [signature]}

    def line(self) -> bytes:
        """The canonical envelope line, newline included."""
        return dumps_canonical(self.to_json()) + b"\n"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object, what: str, where: str) -> bytes:
    if not isinstance(text, str):
        raise MalformedEnvelope(f"'{what}' must be a base64 string", source=where)
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise MalformedEnvelope(f"'{what}' is not valid standard base64", source=where) from None
    if _b64(data) != text:  # unused trailing bits or missing padding: two texts would mean the same bytes
        raise MalformedEnvelope(f"'{what}' is not canonical base64", source=where)
    return data


def _keys(obj: object, expected: set[str], optional: set[str], what: str, where: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise MalformedEnvelope(f"{what} must be a JSON object", source=where)
    missing = expected - obj.keys()
    unknown = obj.keys() - expected - optional
    if missing:
        raise MalformedEnvelope(f"{what} lacks {', '.join(sorted(missing))}", source=where)
    if unknown:
        raise MalformedEnvelope(f"{what} has unexpected field(s) {', '.join(sorted(unknown))}", source=where)
    return obj


def _certificates(extension: object, where: str) -> tuple[bytes, ...]:
    ext = _keys(extension, {"kind", "ext"}, set(), "the signature extension", where)
    if ext["kind"] != VERIFICATION_MATERIAL_KIND:
        raise MalformedEnvelope(f"unsupported signature extension kind {ext['kind']!r:.80}", source=where)
    material = _keys(ext["ext"], {"x509CertificateChain"}, set(), "the verification material", where)
    chain = _keys(material["x509CertificateChain"], {"certificates"}, set(), "x509CertificateChain", where)
    entries = chain["certificates"]
    if not isinstance(entries, list) or not entries:
        raise MalformedEnvelope("x509CertificateChain.certificates must be a non-empty list", source=where)
    return tuple(
        _unb64(_keys(e, {"rawBytes"}, set(), "a certificate entry", where)["rawBytes"], "rawBytes", where)
        for e in entries
    )


def parse_line(line: bytes, where: str) -> Envelope:
    """Parse one envelope line (without its newline) strictly; ``MalformedEnvelope`` says what is wrong."""
    try:
        obj = loads_strict(line)
    except StrictJSONError as exc:
        raise MalformedEnvelope(f"not a valid envelope: {exc}", source=where) from None
    top = _keys(obj, {"payload", "payloadType", "signatures"}, set(), "the envelope", where)
    if not isinstance(top["payloadType"], str):
        raise MalformedEnvelope("'payloadType' must be a string", source=where)
    signatures = top["signatures"]
    if not isinstance(signatures, list) or len(signatures) != 1:
        count = len(signatures) if isinstance(signatures, list) else "no"
        raise MalformedEnvelope(f"an envelope must carry exactly one signature (found {count})", source=where)
    sig = _keys(signatures[0], {"keyid", "sig"}, {"extension"}, "the signature", where)
    if not isinstance(sig["keyid"], str):
        raise MalformedEnvelope("'keyid' must be a string", source=where)
    signature = _unb64(sig["sig"], "sig", where)
    if not signature:
        raise MalformedEnvelope("the signature is empty", source=where)
    envelope = Envelope(
        payload_type=top["payloadType"],
        payload=_unb64(top["payload"], "payload", where),
        keyid=sig["keyid"],
        signature=signature,
        certificates=_certificates(sig["extension"], where) if "extension" in sig else (),
    )
    if envelope.line()[:-1] != line:
        raise MalformedEnvelope(
            "not in the exact form `conformance sign` writes (whitespace, key order or escaping changed)",
            source=where,
        )
    return envelope


def read_bundle(data: bytes, source: str) -> list[Envelope]:
    """All envelopes of a ``.intoto.jsonl`` file: one per line, each line ending in ``\\n``, none empty."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise MalformedEnvelope(f"larger than {MAX_BUNDLE_BYTES // (1024 * 1024)} MiB", source=source)
    if not data:
        raise MalformedEnvelope("the file is empty", source=source)
    if not data.endswith(b"\n"):
        raise MalformedEnvelope("the last line does not end with a newline (truncated?)", source=source)
    lines = data[:-1].split(b"\n")
    envelopes = []
    for number, line in enumerate(lines, start=1):
        where = f"{source}:line {number}"
        if not line:
            raise MalformedEnvelope("empty line", source=where)
        envelopes.append(parse_line(line, where))
    return envelopes
