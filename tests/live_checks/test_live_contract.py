"""C1-10, C1-11 and C9-18 live: the served document, contract conformance and negative testing (Schemathesis)."""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

from conformance.checks import _schemathesis as glue
from conformance.live import LiveTarget, TargetConfig
from conformance.outcome import Level, Outcome, Status
from conformance.reference.target import target_config_for
from conformance.registry import CheckContext
from conformance.runner import Scope, run_requirement
from conformance.spec import load_spec
from tests.conftest import minimal_doc, requirement_for
from tests.live.servers import AppServer, Reply, Request

from .conftest import live_outcome

SERVED = "live.spec.served-matches"
CONTRACT = "live.contract.conformance"
NEGATIVE = "live.contract.negative"
SMALL = {"max_examples": 2}  # enough to trip every fault; the default bounds run in the clean tests


class At:
    """The running reference server with some of its URLs replaced (for ``target_config_for``)."""

    def __init__(self, server: Any, **replaced: str) -> None:
        self._server = server
        self._replaced = replaced

    def __getattr__(self, name: str) -> Any:
        return self._replaced[name] if name in self._replaced else getattr(self._server, name)


def exchanges(evidence: Path) -> dict[str, dict[str, Any]]:
    # Split on newlines only: fuzzed strings may hold U+2028 and friends, which str.splitlines() breaks on.
    return {r["id"]: r for r in map(json.loads, filter(None, evidence.read_bytes().split(b"\n")))}


def assert_linked(outcome: Outcome, evidence: Path) -> None:
    recorded = exchanges(evidence)
    for finding in outcome.findings:
        assert finding.exchange in recorded, finding


def titles(outcome: Outcome) -> set[str]:
    return {f.title for f in outcome.findings}


def record_counts(server: Any, folder: Path) -> dict[str, int]:
    """How many records of each kind force A holds (read through a LiveTarget of its own)."""
    folder.mkdir(exist_ok=True)
    with LiveTarget.open(target_config_for(server), folder) as target:
        return {
            path: len(target.request("GET", path, params={"limit": 500}).json()["items"])
            for path in ("/persons", "/objects", "/locations", "/events", "/mutual-aid-requests")
        }


# -- C1-10 --------------------------------------------------------------------------------------------------
def test_served_matches_passes_on_reference(reference: Any, tmp_path: Path) -> None:
    """The served JSON equals the bundled YAML once parsed: passed, with the fetch in the evidence."""
    outcome, evidence = live_outcome(SERVED, reference, tmp_path)
    assert outcome.status is Status.PASSED, outcome
    assert any("equals the document under test once parsed" in n for n in outcome.notes)
    assert any(r["url"] == reference.spec_url for r in exchanges(evidence).values())


def test_served_matches_byte_identical(reference: Any, tmp_path: Path) -> None:
    """The served YAML is the bundled file's bytes: passed on the SHA-256 alone."""
    server = At(reference, spec_url=reference.base_url + "/openapi.yaml")
    outcome, _ = live_outcome(SERVED, server, tmp_path)
    assert outcome.status is Status.PASSED, outcome
    assert any("byte-identical" in n for n in outcome.notes)


def test_served_matches_fails_when_served_spec_differs(faulty: Any, tmp_path: Path) -> None:
    """A served document a patch ahead, with an extra operation: one finding with the semantic diff."""
    outcome, evidence = live_outcome(SERVED, faulty("served-spec-differs"), tmp_path)
    assert outcome.status is Status.FAILED
    (finding,) = outcome.findings
    assert finding.title == "Served document differs from the document under test"
    assert "'1.0.1' served but '1.0.0' under test" in finding.message
    assert "only in the served document: GET /persons/{personId}/photo" in finding.message
    assert "/info/version (changed)" in finding.message
    assert_linked(outcome, evidence)


def test_served_matches_when_the_document_under_test_is_the_served_one(
    reference: Any, tmp_path: Path
) -> None:
    """A document loaded from the served URL is the served document: passed without a second fetch."""
    spec = load_spec(reference.spec_url, ca_bundle=str(reference.ca_bundle))
    outcome, evidence = live_outcome(SERVED, reference, tmp_path, spec=spec)
    assert outcome.status is Status.PASSED
    assert any("loaded from the served URL" in n for n in outcome.notes)
    assert not evidence.exists() or not evidence.read_text().strip()


def test_served_matches_body_not_openapi(reference: Any, tmp_path: Path) -> None:
    """A served URL answering 200 with something else is a finding."""
    server = At(reference, spec_url=reference.origin + "/.well-known/security.txt")
    outcome, evidence = live_outcome(SERVED, server, tmp_path)
    assert titles(outcome) == {"Served document is not an OpenAPI document"}
    assert_linked(outcome, evidence)


def test_served_matches_cant_tell_when_not_retrievable(faulty: Any, tmp_path: Path) -> None:
    """402 for the document: C1-10 cannot compare (C3-01 judges retrievability)."""
    outcome, _ = live_outcome(SERVED, faulty("spec-not-public"), tmp_path)
    assert outcome.status is Status.CANT_TELL
    assert "HTTP 402" in (outcome.reason or "")


# -- C1-11 --------------------------------------------------------------------------------------------------
def test_conformance_passes_on_reference_and_cleans_up(reference: Any, tmp_path: Path) -> None:
    """Default bounds, writes allowed: no failure, and every record a write created is deleted again."""
    before = record_counts(reference, tmp_path / "before")
    outcome, evidence = live_outcome(CONTRACT, reference, tmp_path)
    assert outcome.status is Status.PASSED, outcome.findings[:3]
    assert record_counts(reference, tmp_path / "after") == before
    assert any(f"Schemathesis {schemathesis.__version__}, positive data" in n for n in outcome.notes)
    assert any("deleted again" in n for n in outcome.notes)
    methods = {r["method"] for r in exchanges(evidence).values()}
    assert {"GET", "POST", "PUT", "PATCH", "DELETE"} <= methods
    cases = [
        r
        for r in exchanges(evidence).values()
        if dict(r["request"]["headers"]).get("X-Schemathesis-TestCaseId")
    ]
    assert len(cases) > 29  # every operation, several cases each, all sent through the guarded session


def test_conformance_fails_under_schema_drift(faulty: Any, tmp_path: Path) -> None:
    """Person bodies outside the documented enum: response_schema_conformance findings, value not quoted."""
    outcome, evidence = live_outcome(CONTRACT, faulty("schema-drift"), tmp_path, **SMALL)
    assert outcome.status is Status.FAILED
    assert titles(outcome) == {"Response violates schema"}
    assert {f.operation for f in outcome.findings} >= {"GET /persons", "GET /persons/{personId}"}
    for finding in outcome.findings:
        assert "/review/retentionCategory fails 'enum'" in finding.message
        assert "response_schema_conformance" in finding.message
        assert "Group 3" not in finding.message  # the offending value (possibly personal data) is elided
    assert_linked(outcome, evidence)


def test_conformance_fails_under_wrong_status(faulty: Any, tmp_path: Path) -> None:
    """203 for reads of one record (found through ids the lists return): status_code_conformance."""
    outcome, evidence = live_outcome(CONTRACT, faulty("wrong-status"), tmp_path, **SMALL)
    assert outcome.status is Status.FAILED
    assert titles(outcome) == {"Undocumented status code"}
    assert {f.operation for f in outcome.findings} == {
        "GET /objects/{objectId}",
        "GET /locations/{locationId}",
        "GET /events/{eventId}",
    }
    assert all(f.found == "HTTP 203" for f in outcome.findings)
    assert_linked(outcome, evidence)


def test_conformance_reads_only_without_writes(faulty: Any, tmp_path: Path) -> None:
    """Without --allow-writes only safe methods are sent; the reads still decide (schema drift fails)."""
    outcome, evidence = live_outcome(CONTRACT, faulty("schema-drift"), tmp_path, allow_writes=False, **SMALL)
    assert outcome.status is Status.FAILED
    assert any("Writes were not exercised (16 operation(s))" in n for n in outcome.notes)
    sent = {(r["method"], r["url"].split("/")[-1]) for r in exchanges(evidence).values()}
    assert {method for method, last in sent if last != "token"} == {"GET"}


def test_conformance_is_deterministic(reference: Any, tmp_path: Path) -> None:
    """Same seed, same server: the same Schemathesis requests (server-made ids of cleanups aside)."""

    def requests_of(folder: Path) -> list[Any]:
        _, evidence = live_outcome(CONTRACT, reference, folder, allow_writes=False, **SMALL)
        return [
            (
                r["method"],
                r["url"],
                r["request"]["body"],
                [h for h in r["request"]["headers"] if h[0] != "Authorization"],
            )
            for r in exchanges(evidence).values()
        ]

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = requests_of(tmp_path / "a"), requests_of(tmp_path / "b")
    assert first == second
    assert len(first) > 20


def test_configuration_is_explicit_and_valid() -> None:
    """The configuration names the seed, bounds, phases and exactly our checks, and Schemathesis accepts it."""
    plan = glue.Plan(mode="negative", seed=7, max_examples=3, max_operations=5, include_writes=False)
    config = glue.configuration(plan, base_url="https://api.example/v1", request_timeout=5.0)
    assert config["seed"] == 7
    assert {"max-examples": 3, "deterministic": True, "database": "none"}.items() <= config[
        "generation"
    ].items()
    assert config["phases"]["coverage"] == {"enabled": False}
    assert config["phases"]["stateful"] == {"enabled": False}
    enabled = {
        name for name, value in config["checks"].items() if isinstance(value, dict) and value["enabled"]
    }
    assert enabled == set(glue.NEGATIVE_CHECKS)
    assert "5xx" not in config["checks"]["negative_data_rejection"]["expected-statuses"]
    loaded = schemathesis.Config.from_dict(config)
    assert loaded.seed == 7


def test_no_discovered_config_and_no_hooks_from_the_environment(
    reference: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A schemathesis.toml in the working folder and $SCHEMATHESIS_HOOKS never reach the run."""
    (tmp_path / ".git").mkdir()  # discovery would stop here, after reading the file below
    (tmp_path / "schemathesis.toml").write_text('seed = 99\nhooks = "no_such_hooks_module"\n')
    hooks = tmp_path / "hooks.py"
    hooks.write_text("raise RuntimeError('SCHEMATHESIS_HOOKS was imported')\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SCHEMATHESIS_HOOKS", str(hooks))
    discovered: list[bool] = []
    original = SchemathesisConfig.discover.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(
        SchemathesisConfig, "discover", classmethod(lambda cls: discovered.append(True) or original(cls))
    )
    (tmp_path / "out").mkdir()
    outcome, _ = live_outcome(CONTRACT, reference, tmp_path / "out", max_examples=1, max_operations=3)
    assert outcome.status is Status.PASSED, outcome
    assert discovered == []
    assert any("seed 1," in n for n in outcome.notes)


def test_generation_ignores_constants_of_local_modules(
    reference_spec: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hypothesis mixes literals of locally imported modules into draws; ours must not depend on them."""
    plan = glue.Plan(mode="negative", seed=1, max_examples=5, max_operations=40, include_writes=True)
    config = glue.configuration(plan, base_url="https://api.example/v1", request_timeout=5.0)

    def drawn() -> list[str]:
        schema = glue.load_schema(reference_spec.data, config)
        operations = [result.ok() for result in schema.get_all_operations()][:10]
        return [repr(case) for op in operations for _, case in glue._generate(schema, op, plan, None)[0]]

    before = drawn()
    module = tmp_path / "zz_local_constants.py"
    module.write_text(
        "WORDS = [" + ", ".join(f'"zz-local-{i}"' for i in range(300)) + "]\n"
        "NUMBERS = [" + ", ".join(str(-77_000 - i) for i in range(300)) + "]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(sys.modules, "zz_local_constants", importlib.import_module("zz_local_constants"))
    after = drawn()
    assert after == before
    assert not any("zz-local" in case for case in after)


@pytest.mark.parametrize("check_id", [CONTRACT, NEGATIVE])
def test_inapplicable_without_operations(
    check_id: str, reference: Any, tmp_path: Path, spec_from: Any
) -> None:
    """A document without operations gives Schemathesis nothing to run."""
    outcome, _ = live_outcome(check_id, reference, tmp_path, spec=spec_from(minimal_doc()))
    assert outcome.status is Status.INAPPLICABLE


@pytest.mark.parametrize("check_id", [CONTRACT, NEGATIVE])
def test_untested_when_every_operation_writes(
    check_id: str, reference: Any, tmp_path: Path, spec_from: Any
) -> None:
    """Only write operations and no --allow-writes: untested, never passed."""
    doc = minimal_doc()
    doc["paths"] = {"/persons": {"post": {"responses": {"201": {"description": "created"}}}}}
    outcome, _ = live_outcome(check_id, reference, tmp_path, spec=spec_from(doc), allow_writes=False)
    assert outcome.status is Status.UNTESTED
    assert "--allow-writes" in (outcome.reason or "")


@pytest.mark.parametrize("check_id", [CONTRACT, NEGATIVE])
def test_cant_tell_when_the_api_does_not_answer(check_id: str, reference: Any, tmp_path: Path) -> None:
    """A base URL where nothing listens: cantTell, never passed."""
    server = At(reference, base_url="https://127.0.0.1:9/v1")
    outcome, _ = live_outcome(check_id, server, tmp_path, max_examples=1, max_operations=3)
    assert outcome.status is Status.CANT_TELL
    assert "no request got a response" in (outcome.reason or "") or "unreachable" in (outcome.reason or "")


# -- C9-18 --------------------------------------------------------------------------------------------------
def test_negative_passes_on_reference(reference: Any, tmp_path: Path) -> None:
    """Default bounds: every schema-violating request is refused with a 4xx; nothing is left behind."""
    before = record_counts(reference, tmp_path / "before")
    outcome, _ = live_outcome(NEGATIVE, reference, tmp_path)
    assert outcome.status is Status.PASSED, outcome.findings[:3]
    assert record_counts(reference, tmp_path / "after") == before
    assert any("negative data" in n for n in outcome.notes)


def test_negative_fails_under_fuzz_crash(faulty: Any, tmp_path: Path) -> None:
    """500 for some invalid inputs: one "Server error" per operation, never also "accepted"."""
    outcome, evidence = live_outcome(NEGATIVE, faulty("fuzz-crash"), tmp_path, **SMALL)
    assert outcome.status is Status.FAILED
    assert titles(outcome) == {"Server error"}
    assert all(f.found == "HTTP 500" for f in outcome.findings)
    assert len({f.exchange for f in outcome.findings}) == len(outcome.findings)
    assert_linked(outcome, evidence)
    for finding in outcome.findings:
        assert exchanges(evidence)[finding.exchange]["response"]["status"] == 500


def test_negative_reads_only_still_decides(faulty: Any, tmp_path: Path) -> None:
    """Without --allow-writes the invalid query parameters of lists still show the crash."""
    outcome, evidence = live_outcome(NEGATIVE, faulty("fuzz-crash"), tmp_path, allow_writes=False, **SMALL)
    assert outcome.status is Status.FAILED
    assert {f.operation.split()[0] for f in outcome.findings if f.operation} == {"GET"}
    assert any("Writes were not exercised" in n for n in outcome.notes)
    assert_linked(outcome, evidence)


def test_negative_rejects_an_empty_status_list(reference: Any, tmp_path: Path) -> None:
    """expected_statuses=[] would accept nothing: the check says so instead of failing everything."""
    outcome, _ = live_outcome(NEGATIVE, reference, tmp_path, expected_statuses=[])
    assert outcome.status is Status.CANT_TELL
    assert "expected_statuses" in (outcome.reason or "")


def test_negative_no_response_is_a_finding(tmp_path: Path, spec_from: Any) -> None:
    """Invalid input that makes the API hang is a finding while the API goes on answering other requests."""

    def route(request: Request) -> Reply:
        query = parse_qs(urlsplit(request.path).query)
        if request.path.startswith("/api/items") and any(not v.isdigit() for v in query.get("limit", [])):
            time.sleep(1.5)  # past the target's total timeout: the client gives up
        return Reply(400, [("Content-Type", "application/problem+json")], b'{"status":400}')

    server = AppServer(route)
    try:
        doc = minimal_doc()
        doc["paths"] = {
            "/items": {
                "get": {
                    "parameters": [
                        {"name": "limit", "in": "query", "required": True, "schema": {"type": "integer"}}
                    ],
                    "responses": {"200": {"description": "items"}, "400": {"description": "bad"}},
                }
            },
            "/things/{id}": {
                "get": {
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
                    ],
                    "responses": {"200": {"description": "a thing"}, "400": {"description": "bad"}},
                }
            },
        }
        config = TargetConfig(
            base_url=server.origin + "/api",
            rate_per_second=0.0,
            connect_timeout=0.5,
            read_timeout=0.5,
            total_timeout=0.6,
            max_consecutive_failures=50,
        )
        (tmp_path / "evidence").mkdir()
        with LiveTarget.open(config, tmp_path / "evidence") as target:
            requirement = requirement_for(
                NEGATIVE, requirement_id="TEST-negative", commitment="C9", level=Level.SHOULD, max_examples=3
            )
            outcome = run_requirement(
                requirement, CheckContext(spec=spec_from(doc), target=target), scope=Scope.FULL
            )
    finally:
        server.close()
    assert outcome.status is Status.FAILED, outcome
    assert "No response to invalid input" in titles(outcome)
    finding = next(f for f in outcome.findings if f.title == "No response to invalid input")
    assert finding.operation == "GET /items"
    assert "timed out" in finding.message
    assert_linked(outcome, tmp_path / "evidence" / "exchanges.ndjson")
