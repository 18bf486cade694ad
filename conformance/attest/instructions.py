"""``VERIFY.txt``: the short note every signed report folder carries for reviewers without our tool.

The openssl + jq + coreutils script is one file (``verify-with-openssl.sh`` in this package); VERIFY.txt
and ``docs/verifying.md`` include it verbatim and a test runs it, so the instructions cannot drift.
"""

from __future__ import annotations

from importlib import resources

__all__ = ["SCRIPT_NAME", "script_text", "verify_txt"]

SCRIPT_NAME = "verify-with-openssl.sh"


def script_text() -> str:
    return resources.files(__package__).joinpath(SCRIPT_NAME).read_text(encoding="utf-8")


def verify_txt(keyid: str) -> str:
    script = "".join(f"    {line}\n" if line else "\n" for line in script_text().splitlines())
    return f"""HOW TO CHECK THIS REPORT
========================

report.intoto.jsonl holds signatures over report.json and the evidence/ folder. Line 1 is the
supplier's signature, made with the key whose id is

    {keyid}

Obtain the supplier's public key (or the standards body's root certificate) from them directly,
never from this folder, and check that its key id matches the one above.

WHAT A SIGNATURE PROVES: who signed the report, and that report.json and evidence/ have not changed
by a single byte since. WHAT IT DOES NOT PROVE: that the run was honest (the right system, an
unmodified harness, fair conditions). The signing time is the signer's own claim. Spot-check by
re-running selected checks yourself with the profile and OpenAPI document whose sha256 the signature
records. report.html, junit.xml and report.sarif are renderings of report.json and are not signed.

1. With the conformance tool (pip install interop-conformance):

    conformance verify . --key supplier.pub --profile PROFILE.yaml --spec OPENAPI.yaml
    conformance run --profile PROFILE.yaml --spec OPENAPI.yaml -k "C4" --out spot-check/

2. With openssl, jq and coreutils only: save the script below as verify.sh and run

    sh verify.sh . supplier.pub          (line 2, 3, ...: add the line number and the body's key)

{script}
This file is not signed. The same instructions, explained step by step, are in docs/verifying.md of
interop-conformance.
"""
