"""A static run does not load the live stack: Schemathesis, Hypothesis, requests and urllib3 cost start-up
time and memory (issue 2: keep heavy imports out of the static path until they are needed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conformance.reference import REFERENCE_SPEC

HEAVY = ("schemathesis", "hypothesis", "requests", "urllib3")

_PROGRAM = """
import json, sys
from conformance.cli import main
code = main(["run", "--profile", "interop-pol-core", "--spec", sys.argv[1], "--out", sys.argv[2], "-q"])
print(json.dumps({"code": code, "loaded": [m for m in sys.argv[3:] if m in sys.modules]}))
"""


def test_a_static_run_loads_no_live_stack(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROGRAM, str(REFERENCE_SPEC), str(tmp_path / "out"), *HEAVY],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["code"] == 0, done.stderr  # the reference document is conformant in static scope
    assert result["loaded"] == [], f"the static path imported {result['loaded']}"
