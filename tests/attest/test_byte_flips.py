"""Every single-byte change to a signed report pack is rejected.

Positions: every byte of ``report.intoto.jsonl`` (both lines: the supplier's envelope with its certificate
chain, and a countersignature), every byte of the evidence file, and 200 positions spread over report.json.
The masks cycle through all eight bits, so flips land on JSON syntax, whitespace-free separators, base64
padding and unused bits, the keyid hint, the certificate extension, and the trailing newline alike.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from conformance.attest import TrustAnchors, countersign_report_folder, sign_report_folder, verify_report
from conformance.attest.certs import load_certificates
from conformance.attest.keys import load_public_key
from conformance.errors import VerificationError

from .conftest import PKI, KeyPair

MASKS = (0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80)


def _positions(size: int, count: int | None) -> list[int]:
    if count is None or count >= size:
        return list(range(size))
    return sorted({round(i * (size - 1) / (count - 1)) for i in range(count)})


def _flip_all(path: Path, positions: list[int], verify: Callable[[], object]) -> list[str]:
    original = path.read_bytes()
    accepted = []
    try:
        for n, position in enumerate(positions):
            data = bytearray(original)
            data[position] ^= MASKS[n % len(MASKS)]
            path.write_bytes(bytes(data))
            try:
                verify()
            except VerificationError:
                continue
            accepted.append(f"{path.name}@{position} ^{MASKS[n % len(MASKS)]:#04x}")
    finally:
        path.write_bytes(original)
    return accepted


@pytest.mark.parametrize("mode", ["certificate", "bare-key"])
def test_every_flip_is_rejected(
    report_dir: Path,
    p256: KeyPair,
    ed: KeyPair,
    body: KeyPair,
    pki: PKI,
    chain_for: Callable[..., Path],
    mode: str,
) -> None:
    """No single-byte change anywhere in the envelope, the evidence or report.json verifies."""
    if mode == "certificate":
        sign_report_folder(report_dir, p256.key, cert_path=chain_for(p256))
        supplier = TrustAnchors(roots=load_certificates(pki.root.pem, "root"))
    else:
        sign_report_folder(report_dir, ed.key)
        supplier = TrustAnchors(keys=(load_public_key(ed.pub),))
    countersign_report_folder(report_dir, body.key, properties=["TECHUK_INTEROP_POL_CORE_0_1_CONFORMANT"])
    countersigners = TrustAnchors(keys=(load_public_key(body.pub),))

    def verify() -> object:
        return verify_report(report_dir, supplier, countersigners=countersigners, require_countersign=True)

    verify()  # the untouched pack verifies
    envelope = report_dir / "report.intoto.jsonl"
    evidence = report_dir / "evidence" / "exchanges.ndjson"
    report = report_dir / "report.json"
    plan = [
        (envelope, _positions(envelope.stat().st_size, None)),
        (evidence, _positions(evidence.stat().st_size, None)),
        (report, _positions(report.stat().st_size, 200)),
    ]
    total = sum(len(p) for _, p in plan)
    assert total >= 200
    assert all(len(p) >= 100 for _, p in plan)
    accepted = [hit for path, positions in plan for hit in _flip_all(path, positions, verify)]
    assert accepted == [], f"{len(accepted)} of {total} flips were accepted: {accepted[:10]}"
    verify()  # and everything was restored
