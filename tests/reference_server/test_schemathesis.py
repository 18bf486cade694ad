"""Property-based conformance with Schemathesis 4.x: generated valid and invalid requests for every
operation get documented statuses, media types, headers and schema-valid bodies, and never a 5xx.

The configuration is explicit (no ``schemathesis.toml`` is looked up), the seed is fixed, generation
is derandomised and the number of examples per operation is bounded, so the run is repeatable and fast.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import schemathesis
import schemathesis.checks as core_checks
import schemathesis.specs.openapi.checks as openapi_checks
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from conformance.reference import load_reference_document
from conformance.reference.server import ReferenceServer

from .conftest import TEST_RATE

EXAMPLES = 5
CHECKS = [
    core_checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.negative_data_rejection,
]


@pytest.fixture(scope="module")
def target() -> Iterator[tuple[ReferenceServer, requests.Session]]:
    with ReferenceServer(rate_limit_per_minute=TEST_RATE) as server:
        session = requests.Session()
        session.trust_env = False
        session.headers["Authorization"] = f"Bearer {server.issue_token('force-a')}"
        yield server, session


def _schema() -> schemathesis.BaseSchema:
    config = schemathesis.Config.from_dict({"seed": 20260101, "generation": {"deterministic": True}})
    return schemathesis.openapi.from_dict(load_reference_document(), config=config)


def _run(
    server: ReferenceServer,
    session: requests.Session,
    operation: schemathesis.APIOperation,
    mode: GenerationMode,
    failures: list[str],
) -> None:
    """Up to EXAMPLES generated cases of one operation in one mode; failures are collected, not raised."""

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        response = case.call(
            base_url=server.base_url, session=session, verify=str(server.ca_bundle), timeout=10
        )
        try:
            case.validate_response(response, checks=CHECKS)
        except BaseException as exc:  # Schemathesis raises a BaseExceptionGroup of failures
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            failures.append(f"{operation.label} ({mode.value}) -> {response.status_code}: {str(exc)[:400]}")

    run()


def _failures(
    server: ReferenceServer, session: requests.Session, operation_id: str | None = None
) -> list[str]:
    schema = _schema()
    if operation_id is not None:
        schema = schema.include(operation_id=operation_id)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _run(server, session, operation, mode, failures)
    return failures


def test_every_operation_conforms_under_generated_input(
    target: tuple[ReferenceServer, requests.Session],
) -> None:
    """No check fails for any operation, with valid or invalid generated input."""
    server, session = target
    assert _failures(server, session) == []


def test_schemathesis_sees_schema_drift(target: tuple[ReferenceServer, requests.Session]) -> None:
    """The same run catches the schema-drift fault (so the clean result above means something)."""
    server, session = target
    server.set_faults(["schema-drift"])
    try:
        found = _failures(server, session, operation_id="listPersons")
    finally:
        server.set_faults(())
    assert any("Response violates schema" in failure for failure in found)
