"""Every live requirement of the core profile can be shown to fail: a fault switch of the reference supplier
names it, or it is listed here with the bad input its failing test uses instead."""

from __future__ import annotations

import conformance.checks  # noqa: F401 - registers the checks
from conformance.profiles import load_profile
from conformance.reference.server.faults import FAULTS
from conformance.registry import CHECKS

# Requirements whose failure needs an input other than a broken reference supplier (test that proves it).
FAILED_OTHERWISE = {
    "IOP-C6-03": "a data dictionary the reference data breaks (test_live_data.py, synthetic-violated.json)",
    "IOP-C7-01": "a peer supplier whose import loses fields (test_live_data.py, lossy-import peer)",
    "IOP-C9-09b": "a plain-HTTP listener that redirects (test_live_transport.py)",
    "IOP-C10-04a": "an export that does not parse (test_live_portability.py, csv-not-rfc4180 and stub servers)",
}


def test_every_live_requirement_has_a_way_to_fail() -> None:
    profile = load_profile("interop-pol-core")
    live = {r.id for r in profile.requirements if CHECKS.get(r.check).mode == "live"}
    tripped = {fault.requirement for fault in FAULTS.values()}
    assert live - tripped - set(FAILED_OTHERWISE) == set()
    assert set(FAILED_OTHERWISE) <= live  # no stale entries
