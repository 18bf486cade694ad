"""Live checks against the reference supplier: one server per module, faults switched per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.live import LiveTarget
from conformance.outcome import Level, Outcome
from conformance.profiles import Requirement
from conformance.reference import REFERENCE_SPEC
from conformance.reference.server import ReferenceServer
from conformance.reference.target import target_config_for
from conformance.registry import CHECKS, CheckContext
from conformance.runner import Scope, run_requirement
from conformance.spec import Spec, load_spec


@pytest.fixture(scope="module")
def reference() -> Iterator[ReferenceServer]:
    """A clean reference supplier (no faults) for the module; tests switch runtime faults with ``faulty``."""
    with ReferenceServer(rate_limit_per_minute=100_000) as server:
        yield server


@pytest.fixture
def faulty(reference: ReferenceServer) -> Iterator[Any]:
    """``faulty("no-hsts")`` switches faults on for one test; the server is clean again afterwards."""

    def switch(*names: str) -> ReferenceServer:
        reference.set_faults(names)
        return reference

    yield switch
    reference.set_faults(())


@pytest.fixture(scope="session")
def reference_spec() -> Spec:
    return load_spec(str(REFERENCE_SPEC))


def live_outcome(
    check_id: str,
    server: Any,
    tmp_path: Path,
    *,
    spec: Spec | None = None,
    allow_writes: bool = True,
    other_tenant: bool = True,
    options: dict[str, Any] | None = None,
    **params: Any,
) -> tuple[Outcome, Path]:
    """Run one live check against ``server``; return the outcome and the evidence file. ``options`` are the
    run's ``ctx.options`` (e.g. ``data_dictionary``, ``peer``)."""
    check = CHECKS.get(check_id)
    req = Requirement(
        id=f"TEST-{check_id}",
        commitment="C1",
        level=Level.MUST,
        title=check.title,
        check=check_id,
        params={**check.params, **params},
        overrides=params,
        references=check.references,
        reconstructed=False,
        rationale=None,
        defined_in="test",
    )
    evidence = tmp_path / "evidence"
    evidence.mkdir(exist_ok=True)
    config = target_config_for(server, allow_writes=allow_writes, other_tenant=other_tenant)
    if spec is None:
        spec = load_spec(str(REFERENCE_SPEC))
    with LiveTarget.open(config, evidence) as target:
        target.set_requirement(req.id)
        outcome = run_requirement(
            req,
            CheckContext(spec=spec, target=target, requirement_id=req.id, options=options or {}),
            scope=Scope.FULL,
        )
    return outcome, evidence / "exchanges.ndjson"
