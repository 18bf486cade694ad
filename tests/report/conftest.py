"""Reports to render: real runs of the mini fixture profile on corpus documents, plus edge cases."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from conformance.outcome import Finding, Outcome, Status
from conformance.profiles import Profile, load_profile
from conformance.registry import CheckContext
from conformance.report import RunResult, build_report
from conformance.runner import run_requirement
from conformance.spec import Spec, load_spec
from tests.conftest import CORPUS, ROOT

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden"
SCHEMAS = ROOT / "tests" / "schemas"
MINI_PROFILE = ROOT / "tests" / "fixtures" / "profiles" / "mini.yaml"
STARTED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
FINISHED = datetime(2026, 1, 2, 3, 4, 9, tzinfo=timezone.utc)

# Corpus documents the report tests run on (small and large, JSON and YAML, OpenAPI 3 and Swagger 2).
CORPUS_DOCS = (
    "govuk-pay-publicapi.json",
    "hmcts-crime-results-pcr.yml",
    "companieshouse-officer-filing-swagger2.json",
    "bcgov-open511-oas3.json",
    "twilio_api_v2010.json",
)


@cache
def mini_profile() -> Profile:
    return load_profile(MINI_PROFILE)


@cache
def _corpus_spec(name: str) -> Spec:
    return load_spec(str(CORPUS / name))


def run_outcomes(profile: Profile, spec: Spec | None, *, scope: str = "static") -> dict[str, Outcome]:
    return {
        req.id: run_requirement(req, CheckContext(spec=spec, requirement_id=req.id), scope=scope)
        for req in profile.requirements
    }


def make_report(
    spec: Spec | None,
    *,
    outcomes: Mapping[str, Outcome] | None = None,
    scope: str = "static",
    deselected: tuple[str, ...] = (),
    started: datetime = STARTED,
    **extra: Any,
) -> dict[str, Any]:
    profile = mini_profile()
    if outcomes is None:
        outcomes = run_outcomes(profile, spec, scope=scope)
    outcomes = {k: v for k, v in outcomes.items() if k not in deselected}
    run = RunResult(
        profile=profile,
        spec=spec,
        scope=scope,
        started_at=started,
        finished_at=FINISHED if started == STARTED else started,
        outcomes=outcomes,
        deselected=deselected,
        **extra,
    )
    return build_report(run)


def _need_corpus() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus is not at {CORPUS}")


@cache
def _corpus_report(name: str) -> str:
    return json.dumps(make_report(_corpus_spec(name)))


@pytest.fixture(scope="session")
def corpus_report() -> Callable[[str], dict[str, Any]]:
    """``corpus_report(name)`` -> a fresh copy of the mini profile's report on a corpus document."""

    def get(name: str) -> dict[str, Any]:
        _need_corpus()
        report: dict[str, Any] = json.loads(_corpus_report(name))
        return report

    return get


@pytest.fixture(scope="session")
def corpus_spec() -> Callable[[str], Spec]:
    def get(name: str) -> Spec:
        _need_corpus()
        return _corpus_spec(name)

    return get


def edge_reports() -> dict[str, Callable[[], dict[str, Any]]]:
    """Edge cases, each a thunk so a missing corpus only skips the cases that need it."""

    def deselected() -> dict[str, Any]:
        _need_corpus()
        return make_report(
            _corpus_spec("govuk-pay-publicapi.json"),
            deselected=("IOP-C1-02", "MINI-C8-01"),
            selection="not IOP-C1-02 and not MINI-C8-01",
        )

    def cant_tell() -> dict[str, Any]:
        _need_corpus()
        spec = _corpus_spec("hmcts-crime-results-pcr.yml")
        outcomes = run_outcomes(mini_profile(), spec)
        outcomes["IOP-C1-03"] = Outcome(
            requirement_id="IOP-C1-03", status=Status.CANT_TELL, reason="the check raised KeyError: 'paths'"
        )
        outcomes["MINI-C4-01"] = Outcome(
            requirement_id="MINI-C4-01", status=Status.INAPPLICABLE, reason="the document has no responses"
        )
        return make_report(spec, outcomes=outcomes)

    def no_spec() -> dict[str, Any]:
        return make_report(None)

    def full_scope() -> dict[str, Any]:
        _need_corpus()
        return make_report(
            _corpus_spec("govuk-pay-publicapi.json"),
            scope="full",
            target={"base_url": "https://sandbox.example.police.uk"},
            evidence_sha256="5" * 64,
            seed=42,
            product="Acme Records",
            notes=("a note from the run",),
        )

    return {"deselected": deselected, "cantTell": cant_tell, "no-spec": no_spec, "full-scope": full_scope}


def hostile_report() -> dict[str, Any]:
    """Document text and finding messages carrying markup, quotes and control characters."""
    outcomes = {
        req.id: Outcome(requirement_id=req.id, status=Status.PASSED) for req in mini_profile().requirements
    }
    outcomes["IOP-C1-04"] = Outcome(
        requirement_id="IOP-C1-04",
        status=Status.FAILED,
        findings=(
            Finding(
                title="Operation not described",
                message="<script>alert('owned')</script> & \"quoted\" \u0007bell",
                expected="<b>summary</b>",
                found="<img src=x onerror=alert(1)>",
                fix="Add a description; not </pre><script>",
                pointer="/paths/~1persons~1<script>/get",
                operation="GET /persons/<script>",
            ),
        ),
    )
    return make_report(None, outcomes=outcomes, product="<b>Evil</b> & Co")


def many_findings_report(total: int = 10_000) -> dict[str, Any]:
    """A report with ``total`` findings over three failed requirements."""
    profile = mini_profile()
    outcomes = {req.id: Outcome(requirement_id=req.id, status=Status.PASSED) for req in profile.requirements}
    for n, rid in enumerate(("IOP-C1-04", "IOP-C1-07", "MINI-C8-01")):
        count = total // 3 + (1 if n < total % 3 else 0)
        outcomes[rid] = Outcome(
            requirement_id=rid,
            status=Status.FAILED,
            findings=tuple(
                Finding(
                    title="Synthetic finding",
                    message=f"finding {i} of {rid}",
                    pointer=f"/components/schemas/S{i}",
                    operation=f"GET /things/{i}",
                    expected="something",
                    found=f"thing {i}",
                    fix="Fix it.",
                )
                for i in range(count)
            ),
        )
    return make_report(None, outcomes=outcomes)


def load_golden_report() -> dict[str, Any]:
    report: dict[str, Any] = json.loads((GOLDEN / "tiny.report.json").read_text(encoding="utf-8"))
    return report


def check_golden(name: str, actual: bytes, *, update: bool) -> None:
    """Compare with ``golden/<name>``; with UPDATE_GOLDEN=1 in the environment, rewrite it instead."""
    path = GOLDEN / name
    if update or not path.exists():
        path.write_bytes(actual)
        if not update:
            pytest.fail(f"golden file {path.name} was missing and has been written; check it and re-run")
    assert actual.decode("utf-8") == path.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def update_golden() -> bool:
    """Set UPDATE_GOLDEN=1 to rewrite the golden files after an intended change (then review the diff)."""
    return os.environ.get("UPDATE_GOLDEN") == "1"
