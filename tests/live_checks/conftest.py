"""Live checks against the reference supplier: one server per module, faults switched per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.live import LiveTarget, TargetConfig
from conformance.outcome import Level, Outcome
from conformance.reference import REFERENCE_SPEC
from conformance.reference.server import ReferenceServer
from conformance.reference.target import target_config_for
from conformance.registry import CheckContext
from conformance.runner import Scope, run_requirement
from conformance.spec import Spec, load_spec
from tests.conftest import requirement_for


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


def run_live(
    check_id: str,
    config: TargetConfig,
    folder: Path,
    spec: Spec | None,
    *,
    options: dict[str, Any] | None = None,
    commitment: str = "C1",
    level: Level = Level.MUST,
    **params: Any,
) -> tuple[Outcome, Path, LiveTarget]:
    """Run one live check (a ``requirement_for`` it) against the target ``config`` describes, recording into
    ``folder/evidence``; return the outcome, the evidence file and the (closed) target to inspect."""
    req = requirement_for(check_id, commitment=commitment, level=level, **params)
    evidence = folder / "evidence"
    evidence.mkdir(parents=True, exist_ok=True)
    with LiveTarget.open(config, evidence) as target:
        target.set_requirement(req.id)
        outcome = run_requirement(
            req,
            CheckContext(spec=spec, target=target, requirement_id=req.id, options=options or {}),
            scope=Scope.FULL,
        )
    return outcome, evidence / "exchanges.ndjson", target


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
    config = target_config_for(server, allow_writes=allow_writes, other_tenant=other_tenant)
    if spec is None:
        spec = load_spec(str(REFERENCE_SPEC))
    outcome, evidence, _ = run_live(check_id, config, tmp_path, spec, options=options, **params)
    return outcome, evidence


def holdings(server: ReferenceServer) -> dict[tuple[str, str], frozenset[str]]:
    """Every record id each force holds, per type (read from the server's own store)."""
    store = server._running().store
    return {
        (client.tenant, entity): frozenset(
            r["id"] for r in store.snapshot(client.tenant, entity, updated_after=None)
        )
        for client in server.clients.values()
        for entity in ("persons", "objects", "locations", "events")
    }
