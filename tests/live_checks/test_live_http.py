"""Live HTTP checks (C4/C8/C9) against the reference supplier: each passes on the clean server, fails under
its fault switch with findings linked to recorded exchanges, and says why when it cannot run."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.checks import live_http
from conformance.live import Exchange, Headers, Origin
from conformance.outcome import Outcome, Status
from conformance.reference import REFERENCE_SPEC
from conformance.registry import CHECKS, CheckContext, NotTested
from conformance.runner import Scope, run_requirement
from conformance.spec import Spec, load_spec

from ..conftest import minimal_doc, requirement_for
from .conftest import live_outcome

CHECK_IDS = [
    "live.datetimes",
    "live.json.utf8",
    "live.unicode.round-trip",
    "live.content-negotiation",
    "live.errors.problem-json",
    "live.errors.404-405",
    "live.deprecation.headers",
    "live.tolerant-reader",
    "live.errors.no-leaks",
    "live.security-txt",
    "live.correlation-id",
]

# check, fault, the finding titles the fault must produce (exactly this set)
FAULTS = [
    ("live.datetimes", "naive-datetimes", {"Date-time without an offset"}),
    ("live.json.utf8", "latin1-json", {"JSON charset is not UTF-8", "JSON body is not valid UTF-8"}),
    ("live.unicode.round-trip", "ascii-folding", {"Non-ASCII text changed on the round trip"}),
    (
        "live.content-negotiation",
        "no-content-negotiation",
        {"Unsupported Accept not answered 406", "Unsupported Content-Type not answered 415"},
    ),
    ("live.errors.problem-json", "html-errors", {"Error not application/problem+json"}),
    ("live.errors.404-405", "no-allow-header", {"405 without an Allow header"}),
    ("live.errors.404-405", "soft-404", {"Unknown resource not answered 404"}),
    (
        "live.deprecation.headers",
        "no-deprecation-headers",
        {"Deprecated operation without Deprecation or Sunset"},
    ),
    ("live.tolerant-reader", "strict-unknown-fields", {"Undeclared property caused a server error"}),
    ("live.errors.no-leaks", "stack-trace-errors", {"Error body exposes internals"}),
    ("live.errors.no-leaks", "leaky-server-header", {"Response header exposes software versions"}),
    ("live.security-txt", "no-security-txt", {"security.txt not published"}),
    ("live.correlation-id", "no-correlation-id", {"Correlation id not returned"}),
]


def _exchanges(evidence: Path) -> list[dict[str, Any]]:
    lines = evidence.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _assert_linked(outcome: Outcome, evidence: Path) -> None:
    """Every finding names an exchange, and that exchange is in the evidence file."""
    ids = {record["id"] for record in _exchanges(evidence)}
    for finding in outcome.findings:
        assert finding.exchange is not None, finding
        assert finding.exchange in ids, (finding.exchange, sorted(ids))


def _api_requests(evidence: Path, method: str) -> list[dict[str, Any]]:
    return [r for r in _exchanges(evidence) if r.get("method") == method and "/oauth2/" not in r["url"]]


@cache
def _reference_document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.load(REFERENCE_SPEC.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    return document


def _spec_with(tmp_path: Path, change: Any) -> Spec:
    """The reference document, changed by ``change(doc)``, loaded from ``tmp_path``."""
    document = copy.deepcopy(_reference_document())
    change(document)
    path = tmp_path / "openapi.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return load_spec(str(path))


# -- both ways, for every check --------------------------------------------------------------------------
@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_passes_on_the_clean_reference(check_id: str, reference: Any, tmp_path: Path) -> None:
    """Each check passes against the reference supplier without faults."""
    outcome, _ = live_outcome(check_id, reference, tmp_path)
    assert outcome.status is Status.PASSED, (outcome.reason, outcome.findings)


@pytest.mark.parametrize(("check_id", "fault", "titles"), FAULTS)
def test_fails_under_its_fault(
    check_id: str, fault: str, titles: set[str], faulty: Any, tmp_path: Path
) -> None:
    """Each check fails under its fault switch, with the expected findings linked to recorded exchanges."""
    outcome, evidence = live_outcome(check_id, faulty(fault), tmp_path)
    assert outcome.status is Status.FAILED, (outcome.reason, outcome.notes)
    assert {f.title for f in outcome.findings} == titles
    _assert_linked(outcome, evidence)


def test_every_check_of_the_module_is_tested() -> None:
    """The lists above cover every check this module registers, each with a fault."""
    registered = {spec.id for spec in CHECKS.all() if spec.module == live_http.__name__}
    assert registered == set(CHECK_IDS)
    assert {check_id for check_id, _, _ in FAULTS} == registered


# -- live.datetimes --------------------------------------------------------------------------------------
def test_datetimes_names_the_path_and_the_value(faulty: Any, tmp_path: Path) -> None:
    """A naive date-time is reported per place, with its JSON path and value, for the list and the item."""
    outcome, _ = live_outcome("live.datetimes", faulty("naive-datetimes"), tmp_path)
    by_place = {(f.operation, f.message.split(" value(s) at ")[1].split(" ")[0]) for f in outcome.findings}
    assert by_place == {
        ("GET /persons", "$.items[*].createdAt"),
        ("GET /persons", "$.items[*].updatedAt"),
        ("GET /persons/{personId}", "$.createdAt"),
        ("GET /persons/{personId}", "$.updatedAt"),
    }
    first = next(f for f in outcome.findings if "$.items[*].createdAt" in f.message)
    assert first.found is not None
    assert first.found.startswith("$.items[0].createdAt = 20")
    assert not first.found.endswith("Z")


def test_datetimes_fall_back_to_names_without_a_schema(faulty: Any, tmp_path: Path) -> None:
    """Without a documented response schema, date-like names are judged instead."""

    def drop_schema(doc: dict[str, Any]) -> None:
        for item in doc["paths"].values():
            ok = item.get("get", {}).get("responses", {}).get("200", {})
            ok.get("content", {}).get("application/json", {}).pop("schema", None)

    spec = _spec_with(tmp_path, drop_schema)
    outcome, evidence = live_outcome(
        "live.datetimes", faulty("naive-datetimes"), tmp_path, spec=spec, item_read=False
    )
    assert outcome.status is Status.FAILED
    assert {f.title for f in outcome.findings} == {"Date-time without an offset"}
    assert all("(named like a date)" in f.message for f in outcome.findings)
    _assert_linked(outcome, evidence)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("2025-03-14T09:26:53Z", None),
        ("2025-03-14t09:26:53.123456z", None),
        ("2025-03-14T09:26:53+01:00", None),
        ("2025-03-14T09:26:53-05:30", None),
        ("2016-12-31T23:59:60Z", None),
        ("2025-03-14T09:26:53", "Date-time without an offset"),
        ("2025-03-14 09:26:53Z", "Date-time not RFC 3339"),
        ("2025-02-30T00:00:00Z", "Date-time not RFC 3339"),
        ("2025-03-14T24:00:00Z", "Date-time not RFC 3339"),
        ("2025-03-14T09:26:53+24:00", "Date-time not RFC 3339"),
        ("14/03/2025 09:26", "Date-time not RFC 3339"),
    ],
)
def test_rfc3339_date_times(value: str, problem: str | None) -> None:
    """RFC 3339 §5.6 date-times need Z or a numeric offset and real dates and times."""
    found = live_http._datetime_problem(value)
    assert (found[0] if found else None) == problem


@pytest.mark.parametrize(
    ("value", "ok"), [("2025-03-14", True), ("2024-02-29", True), ("2025-02-29", False), ("2025-3-14", False)]
)
def test_rfc3339_full_dates(value: str, ok: bool) -> None:
    """Dates are YYYY-MM-DD and exist."""
    assert (live_http._date_problem(value) is None) is ok


# -- live.json.utf8 --------------------------------------------------------------------------------------
def test_json_utf8_judges_error_bodies_too(faulty: Any, tmp_path: Path) -> None:
    """Under latin1-json the 404 problem body is reported too (its charset label)."""
    outcome, _ = live_outcome("live.json.utf8", faulty("latin1-json"), tmp_path)
    assert ("JSON charset is not UTF-8", "GET /persons/{personId} (unknown id)") in {
        (f.title, f.operation) for f in outcome.findings
    }


# -- writing checks: untested without writes, and they clean up -----------------------------------------
@pytest.mark.parametrize("check_id", ["live.unicode.round-trip", "live.tolerant-reader"])
def test_writing_checks_untested_without_writes(check_id: str, reference: Any, tmp_path: Path) -> None:
    """Without --allow-writes a writing check is untested and sends no POST."""
    outcome, evidence = live_outcome(check_id, reference, tmp_path, allow_writes=False)
    assert outcome.status is Status.UNTESTED
    assert outcome.reason is not None
    assert "--allow-writes" in outcome.reason
    assert not evidence.exists() or not _api_requests(evidence, "POST")


@pytest.mark.parametrize("check_id", ["live.unicode.round-trip", "live.tolerant-reader"])
def test_writing_checks_delete_what_they_create(check_id: str, reference: Any, tmp_path: Path) -> None:
    """The record a writing check creates is deleted again (DELETE answered 204; no clean-up note)."""
    outcome, evidence = live_outcome(check_id, reference, tmp_path)
    posts = _api_requests(evidence, "POST")
    deletes = _api_requests(evidence, "DELETE")
    assert [p["response"]["status"] for p in posts] == [201]
    assert [d["response"]["status"] for d in deletes] == [204]
    assert not any("clean-up failed" in note for note in outcome.notes)
    assert "conformance-test" in posts[0]["request"]["body"]["content"]


def test_unicode_round_trip_reports_the_code_points(faulty: Any, tmp_path: Path) -> None:
    """The finding shows what was sent and what came back, code point by code point."""
    outcome, _ = live_outcome("live.unicode.round-trip", faulty("ascii-folding"), tmp_path)
    reread = next(f for f in outcome.findings if f.operation == "GET /persons/{personId}")
    assert reread.expected is not None
    assert "Siân Ŵyn 李小龍 Ørsted" in reread.expected
    assert "U+00E2" in reread.expected
    assert reread.found is not None
    assert "Sian" in reread.found


def test_unicode_round_trip_inapplicable_without_a_create_operation(reference: Any, tmp_path: Path) -> None:
    """No POST on a collection: nothing to create a record with."""

    def drop_creates(doc: dict[str, Any]) -> None:
        for path, item in doc["paths"].items():
            if "{" not in path:
                item.pop("post", None)

    outcome, _ = live_outcome(
        "live.unicode.round-trip", reference, tmp_path, spec=_spec_with(tmp_path, drop_creates)
    )
    assert outcome.status is Status.INAPPLICABLE


@pytest.mark.parametrize("check_id", ["live.unicode.round-trip", "live.tolerant-reader"])
def test_writing_checks_write_nothing_they_cannot_delete(
    check_id: str, reference: Any, tmp_path: Path
) -> None:
    """When the document offers no DELETE for created records, nothing is written: cantTell."""

    def drop_deletes(doc: dict[str, Any]) -> None:
        for item in doc["paths"].values():
            item.pop("delete", None)

    outcome, evidence = live_outcome(check_id, reference, tmp_path, spec=_spec_with(tmp_path, drop_deletes))
    assert outcome.status is Status.CANT_TELL
    assert outcome.reason is not None
    assert "nothing was written" in outcome.reason
    assert not evidence.exists() or not _api_requests(evidence, "POST")


# -- live.content-negotiation ---------------------------------------------------------------------------
def test_content_negotiation_sends_no_json(reference: Any, tmp_path: Path) -> None:
    """The 415 probe's body cannot be read as JSON, so nothing can be created from it."""
    _, evidence = live_outcome("live.content-negotiation", reference, tmp_path)
    (post,) = _api_requests(evidence, "POST")
    body = post["request"]["body"]["content"]
    with pytest.raises(ValueError, match="Expecting"):
        json.loads(body)
    assert post["response"]["status"] == 415


# -- live.errors.404-405 ---------------------------------------------------------------------------------
def test_405_probe_uses_a_safe_method(reference: Any, tmp_path: Path) -> None:
    """The undocumented-method probe is a GET on a POST-only path (nothing a wrong answer could change)."""
    _, evidence = live_outcome("live.errors.404-405", reference, tmp_path)
    probe = next(r for r in _exchanges(evidence) if r.get("response") and r["response"]["status"] == 405)
    assert probe["method"] == "GET"
    assert probe["url"].endswith("/v1/imports/persons")


def test_405_allow_compared_with_the_document(reference: Any, tmp_path: Path) -> None:
    """An Allow header that leaves out a documented method is reported, naming it."""

    def document_put(doc: dict[str, Any]) -> None:
        item = doc["paths"]["/imports/{entityType}"]
        item["put"] = copy.deepcopy(item["post"])
        item["put"]["operationId"] = "replaceImport"

    outcome, evidence = live_outcome(
        "live.errors.404-405", reference, tmp_path, spec=_spec_with(tmp_path, document_put)
    )
    assert [(f.title, f.found) for f in outcome.findings] == [
        ("Allow header differs from the documented methods", "Allow: POST")
    ]
    assert "leaves out PUT" in outcome.findings[0].message
    _assert_linked(outcome, evidence)


def test_method_probe_never_sends_unsafe_methods_to_real_resources(reference_spec: Spec) -> None:
    """POST, PUT and DELETE are only chosen for paths filled with an id no record has."""
    ctx = CheckContext(spec=reference_spec)
    probe = live_http._method_probe(ctx, ["DELETE", "PUT", "POST"])
    assert probe is not None
    assert probe.random_id
    assert "{" in probe.template


# -- live.deprecation.headers ------------------------------------------------------------------------------
def test_deprecation_inapplicable_when_nothing_is_deprecated(reference: Any, tmp_path: Path) -> None:
    """No deprecated operation: the requirement does not apply."""

    def undeprecate(doc: dict[str, Any]) -> None:
        doc["paths"]["/mutual-aid-requests/{requestId}/status"]["get"]["deprecated"] = False

    outcome, _ = live_outcome(
        "live.deprecation.headers", reference, tmp_path, spec=_spec_with(tmp_path, undeprecate)
    )
    assert outcome.status is Status.INAPPLICABLE


# -- live.errors.no-leaks --------------------------------------------------------------------------------
def test_no_leaks_names_what_leaked(faulty: Any, tmp_path: Path) -> None:
    """The finding quotes the traceback, the SQL, the driver and the internal host name."""
    outcome, _ = live_outcome("live.errors.no-leaks", faulty("stack-trace-errors"), tmp_path)
    message = outcome.findings[0].message
    for leak in ("Traceback (most recent call last)", "SELECT id", "psycopg2", "db-primary.internal:5432"):
        assert leak in message
    assert {f.operation for f in outcome.findings} == {
        "GET /persons/{personId} with an unknown id",
        "GET /persons?limit=0",
        "POST /persons with a body that is not valid JSON",
    }


# -- live.correlation-id ---------------------------------------------------------------------------------
def test_correlation_id_notes_the_echo(reference: Any, tmp_path: Path) -> None:
    """The declared header is sent and the note says where it was echoed."""
    outcome, evidence = live_outcome("live.correlation-id", reference, tmp_path)
    assert outcome.notes == ("Correlation-Id sent; echoed in Correlation-Id",)
    sent = next(r for r in _api_requests(evidence, "GET"))
    assert any(name.lower() == "correlation-id" for name, _ in sent["request"]["headers"])


# -- details the reference supplier cannot show: a scripted target ------------------------------------------
class _ScriptedTarget:
    """Just enough of a LiveTarget for a check: answers come from ``answer(method, url, request)``."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.origin = Origin("https", "api.example.test", 443)
        self.base_url = "https://api.example.test/v1"
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    def url(self, path: str) -> str:
        return path if "://" in path else f"{self.base_url}/{path.lstrip('/')}"

    def require_writes(self, reason: str) -> None:
        raise NotTested(f"needs --allow-writes: {reason}")

    def request(self, method: str, path: str, **request: Any) -> Exchange:
        url = self.url(path)
        self.sent.append((method, url, request))
        status, headers, body = self.answer(method, url, request)
        return Exchange(
            id=f"ex-{len(self.sent):04d}",
            method=method,
            url=url,
            request_headers=Headers(),
            status=status,
            reason="",
            headers=Headers(headers.items()),
            body=body if isinstance(body, bytes) else json.dumps(body).encode(),
            truncated=False,
            elapsed_ms=0,
            error=None,
        )


def _scripted(check_id: str, spec: Spec | None, target: _ScriptedTarget, **params: Any) -> Outcome:
    req = requirement_for(check_id, **params)
    ctx = CheckContext(spec=spec, target=target, requirement_id=req.id)
    return run_requirement(req, ctx, scope=Scope.FULL)


def _ok(schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": "OK", "content": {"application/json": {"schema": schema or {"type": "object"}}}}


def _doc(paths: dict[str, Any]) -> dict[str, Any]:
    doc = minimal_doc()
    doc["paths"] = paths
    return doc


_JSON = {"Content-Type": "application/json"}
_PROBLEM = {"Content-Type": "application/problem+json"}


def test_deprecation_fills_nested_paths_and_judges_the_forms(spec_from: Any) -> None:
    """Nested path parameters come from the parent lists; older forms are noted, a bad Sunset reported."""
    spec = spec_from(
        _doc(
            {
                "/forces": {"get": {"responses": {"200": _ok()}}},
                "/forces/{forceId}/units": {"get": {"responses": {"200": _ok()}}},
                "/forces/{forceId}/units/{unitId}/roster": {
                    "get": {"deprecated": True, "responses": {"200": _ok()}}
                },
            }
        )
    )
    lists = {
        "https://api.example.test/v1/forces": {"items": [{"id": "f1"}]},
        "https://api.example.test/v1/forces/f1/units": {"items": [{"id": "u9"}]},
    }

    def answer(method: str, url: str, request: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        if url in lists:
            return 200, _JSON, lists[url]
        assert url == "https://api.example.test/v1/forces/f1/units/u9/roster"
        headers = {**_JSON, "Deprecation": "true", "Sunset": "next spring", "Warning": '299 - "Deprecated"'}
        return 200, headers, {}

    target = _ScriptedTarget(answer)
    outcome = _scripted("live.deprecation.headers", spec, target)
    assert [f.title for f in outcome.findings] == ["Sunset header malformed"]
    assert any("older draft form" in note for note in outcome.notes)
    assert any("legacy Warning: 299" in note for note in outcome.notes)
    assert len(target.sent) == 3


def test_correlation_id_generated_by_the_server_passes(spec_from: Any) -> None:
    """Not echoed, but a server-generated UUID in one of the header names: passed, with a note."""
    spec = spec_from(_doc({"/things": {"get": {"responses": {"200": _ok()}}}}))
    target = _ScriptedTarget(
        lambda *_: (200, {**_JSON, "X-Request-Id": "6f1c8f4e-3b7a-4c2d-9e8f-0a1b2c3d4e5f"}, {})
    )
    outcome = _scripted("live.correlation-id", spec, target)
    assert outcome.status is Status.PASSED
    assert outcome.notes[-1] == (
        "Correlation-Id sent but not echoed; the server returned its own id in X-Request-Id"
    )
    assert "Correlation-Id" in target.sent[0][2]["headers"]


@pytest.mark.parametrize(
    ("text", "titles"),
    [
        ("Contact: mailto:s@example.test\nExpires: 2020-01-01T00:00:00Z\n", {"security.txt expired"}),
        ("# no contact\nExpires: 2999-01-01T00:00:00Z\n", {"security.txt without Contact"}),
        (
            "Contact: mailto:s@example.test\nExpires: Tue, 01 Jan 2999 00:00:00 GMT\n",
            {"security.txt Expires not RFC 3339"},
        ),
        ("Contact: mailto:s@example.test\n", {"security.txt Expires missing or repeated"}),
    ],
)
def test_security_txt_fields(text: str, titles: set[str]) -> None:
    """Contact is required; Expires must appear once, be RFC 3339 and lie in the future."""
    target = _ScriptedTarget(lambda *_: (200, {"Content-Type": "text/plain; charset=utf-8"}, text.encode()))
    outcome = _scripted("live.security-txt", None, target)
    assert {f.title for f in outcome.findings} == titles
    assert target.sent[0][1] == "https://api.example.test/.well-known/security.txt"
    assert target.sent[0][2]["auth"] == "none"


def test_problem_json_members_and_status(spec_from: Any) -> None:
    """A problem whose status differs from the response's, and one without a title, are reported."""
    limit = {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1}}
    spec = spec_from(
        _doc(
            {
                "/things": {"get": {"parameters": [limit], "responses": {"200": _ok()}}},
                "/things/{id}": {
                    "get": {
                        "parameters": [
                            {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                        ],
                        "responses": {"200": _ok()},
                    }
                },
            }
        )
    )

    def answer(method: str, url: str, request: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        if request.get("params") == {"limit": "0"}:
            return 400, _PROBLEM, {"type": "about:blank", "status": 400}
        return 404, _PROBLEM, {"type": "about:blank", "title": "Not found", "status": 400}

    outcome = _scripted("live.errors.problem-json", spec, _ScriptedTarget(answer))
    assert [(f.title, f.operation) for f in outcome.findings] == [
        ("Problem status differs from the HTTP status", "GET /things/{id} with an unknown id"),
        ("Problem details incomplete", "GET /things?limit=0"),
    ]


def test_405_allow_listing_undocumented_methods(spec_from: Any) -> None:
    """PATCH (empty body) on a collection; an Allow that adds PATCH is reported, HEAD and OPTIONS are not."""
    spec = spec_from(
        _doc({"/things": {"get": {"responses": {"200": _ok()}}, "post": {"responses": {"201": _ok()}}}})
    )

    def answer(method: str, url: str, request: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        if method == "PATCH":
            return 405, {**_PROBLEM, "Allow": "GET, POST, PATCH, HEAD, OPTIONS"}, {}
        return 404, _PROBLEM, {}

    target = _ScriptedTarget(answer)
    outcome = _scripted("live.errors.404-405", spec, target)
    assert [(f.title, f.message) for f in outcome.findings] == [
        (
            "Allow header differs from the documented methods",
            "PATCH /things (undocumented): Allow adds PATCH compared with the document.",
        )
    ]
    patch = next(request for method, _, request in target.sent if method == "PATCH")
    assert patch["data"] == b""
