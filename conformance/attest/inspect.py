"""``conformance inspect``: show what a report's envelopes *claim*, without verifying anything.

Everything shown is UNVERIFIED and labelled so: anyone can write an envelope that says anything. The
envelope file is still read strictly (the same parser as ``verify``) so what is shown is unambiguous.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import ConformanceError
from ._json import StrictJSONError, loads_strict
from .certs import describe, parse_der
from .envelope import read_bundle
from .errors import UntrustedCertificate
from .verify import locate

__all__ = ["BANNER", "inspect_envelopes", "render_text"]

BANNER = (
    "UNVERIFIED: nothing below has been checked. Anyone can write an envelope that says anything; "
    "run `conformance verify` with the signer's key before relying on it."
)


def inspect_envelopes(target: Path) -> dict[str, Any]:
    """Decode every envelope line of a report folder (or envelope file) for display; verifies nothing."""
    _, path = locate(target)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConformanceError(f"cannot read: {exc.strerror}", source=str(path)) from None
    lines = []
    for number, envelope in enumerate(read_bundle(data, str(path)), start=1):
        where = f"{path}:line {number}"
        try:
            statement: Any = loads_strict(envelope.payload)
        except StrictJSONError as exc:
            statement = {"error": f"payload is not strict JSON: {exc}"}
        subjects = []
        for der in envelope.certificates:
            try:
                subjects.append(describe(parse_der(der, where)))
            except UntrustedCertificate:
                subjects.append("(unparseable certificate)")
        lines.append(
            {
                "line": number,
                "role": "supplier signature" if number == 1 else "countersignature",
                "payloadType": envelope.payload_type,
                "keyid_hint": envelope.keyid,
                "certificates": subjects,
                "statement": statement,
            }
        )
    return {"verified": False, "warning": BANNER, "file": str(path), "envelopes": lines}


def render_text(inspected: dict[str, Any]) -> str:
    out = [f"*** {BANNER} ***", "", f"file: {inspected['file']}"]
    for entry in inspected["envelopes"]:
        out += [
            "",
            f"line {entry['line']} ({entry['role']}, UNVERIFIED)",
            f"  payloadType    {json.dumps(entry['payloadType'])[1:-1]}",
            f"  keyid (hint)   {json.dumps(entry['keyid_hint'])[1:-1]}",
        ]
        for subject in entry["certificates"]:
            out.append(f"  certificate    {json.dumps(subject)[1:-1]} (not checked)")
        out.append("  statement (decoded payload, not checked):")
        out += [
            "    " + line for line in json.dumps(entry["statement"], indent=2, ensure_ascii=True).splitlines()
        ]
    out += ["", f"*** {BANNER} ***"]
    return "\n".join(out) + "\n"
