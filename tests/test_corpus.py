"""Every real third-party document in ../shared/corpus gets a complete, valid and sensible report."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conformance.profiles import Profile, load_profile
from conformance.registry import CheckContext
from conformance.report import RunResult, build_report
from conformance.runner import run_requirement
from conformance.spec import load_spec
from tests.conftest import CORPUS, ROOT

DOCUMENTS = (
    sorted(p.name for p in CORPUS.iterdir() if p.suffix in (".json", ".yaml", ".yml"))
    if CORPUS.is_dir()
    else []
)
SCHEMA = json.loads(
    (ROOT / "conformance" / "report" / "schema" / "report.schema.json").read_text(encoding="utf-8")
)

pytestmark = pytest.mark.skipif(not DOCUMENTS, reason=f"the shared corpus is not at {CORPUS}")


@lru_cache(maxsize=1)
def _profile() -> Profile:
    return load_profile("interop-pol-core")


@cache
def _report(name: str) -> dict[str, Any]:
    spec = load_spec(str(CORPUS / name))
    profile = _profile()
    started = datetime.now(timezone.utc)
    outcomes = {
        req.id: run_requirement(req, CheckContext(spec=spec, requirement_id=req.id))
        for req in profile.requirements
    }
    return build_report(
        RunResult(
            profile=profile,
            spec=spec,
            scope="static",
            started_at=started,
            finished_at=datetime.now(timezone.utc),
            outcomes=outcomes,
        )
    )


def _status(report: dict[str, Any], requirement_id: str) -> str:
    return next(o["status"] for o in report["outcomes"] if o["id"] == requirement_id)


@pytest.mark.parametrize("name", DOCUMENTS)
def test_report_is_complete_and_valid(name: str) -> None:
    """Every requirement gets a decided outcome (none crashes), and the report validates against its schema."""
    report = _report(name)
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(report)
    static = [o for o in report["outcomes"] if o["mode"] == "static"]
    undecided = {o["id"]: o.get("reason") for o in static if o["status"] in ("cantTell", "untested")}
    # IOP-C6-02 needs the customer's data dictionary, which these runs do not have: untested, saying why.
    assert "--data-dictionary" in str(undecided.pop("IOP-C6-02"))
    assert not undecided
    assert {o["status"] for o in report["outcomes"] if o["mode"] == "live"} == {"untested"}
    assert len(report["outcomes"]) == len(_profile().requirements)
    # None of these general-purpose APIs was designed for InterOp-Pol: each misses at least one MUST.
    assert report["verdict"]["status"] == "NOT CONFORMANT"


@pytest.mark.parametrize("name", DOCUMENTS)
def test_findings_point_into_the_document(name: str) -> None:
    """Every finding with a pointer resolves in the document, and most carry a line number."""
    report = _report(name)
    spec = load_spec(str(CORPUS / name))
    pointers = [
        f for o in report["outcomes"] for f in o["findings"] if "pointer" in f and "document" not in f
    ]
    assert pointers
    for finding in pointers[:500]:
        node: Any = spec.data
        for token in filter(None, finding["pointer"].split("/")):
            token = token.replace("~1", "/").replace("~0", "~")
            if isinstance(node, list):
                node = node[int(token)]
            elif token in node:
                node = node[token]
            else:
                break  # a pointer to something missing names its parent, which exists
    assert sum("line" in f for f in pointers) >= len(pointers) * 9 // 10


def test_sensible_verdicts_on_known_documents() -> None:
    """What the documents say about themselves shows up in the report."""
    swagger = [n for n in DOCUMENTS if "swagger" in n]
    for name in swagger:  # Swagger 2.0 is not OpenAPI 3
        assert _status(_report(name), "IOP-C1-01") == "failed", name
    plain_http = "companieshouse-officer-filing-swagger2.json"  # schemes: [http] only
    assert _status(_report(plain_http), "IOP-C4-01") == "failed"
    no_schemes = "nhs-immunisation-fhir-api.yaml"  # an authenticated API without securitySchemes
    assert _status(_report(no_schemes), "IOP-C9-01") == "failed"
    basic = "twilio_api_v2010.json"  # HTTP Basic authentication only
    assert _status(_report(basic), "IOP-C9-02a") == "failed"
    assert _status(_report("govuk-pay-publicapi.json"), "IOP-C4-01") == "passed"


def test_the_reference_document_for_contrast() -> None:
    """The bundled reference document passes all of it, so the corpus failures are not the harness's doing."""
    spec = load_spec(str(Path(ROOT / "conformance" / "reference" / "openapi.yaml")))
    profile = _profile()
    options = {"data_dictionary": ROOT / "conformance" / "reference" / "pole-dictionary.csv"}
    statuses = {
        req.id: run_requirement(
            req, CheckContext(spec=spec, requirement_id=req.id, options=options)
        ).status.value
        for req in profile.requirements
        if req.check.startswith("openapi.")
    }
    assert set(statuses.values()) == {"passed"}
