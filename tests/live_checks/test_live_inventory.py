"""C3-01 and C11-01 live: the document is freely available; the API exposes no undocumented operations."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from conformance.live import AuthConfig, AuthKind, Secret, TargetConfig
from conformance.outcome import Level, Outcome, Status
from conformance.spec import Spec
from tests.conftest import minimal_doc
from tests.live.servers import AppServer, Reply, Request

from .conftest import live_outcome, run_live

AVAILABLE = "live.spec.freely-available"
UNDOCUMENTED = "live.inventory.undocumented"
TOKEN = "inventory-test-token-5d1c"


def exchanges(evidence: Path) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in map(json.loads, filter(None, evidence.read_bytes().split(b"\n")))}


def assert_linked(outcome: Outcome, evidence: Path) -> None:
    recorded = exchanges(evidence)
    for finding in outcome.findings:
        assert finding.exchange in recorded, finding


# -- a small API of our own, for what the reference supplier never does ------------------------------------
@pytest.fixture
def app() -> Iterator[Callable[..., AppServer]]:
    started: list[AppServer] = []

    def start(route: Callable[[Request], Reply]) -> AppServer:
        server = AppServer(route)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


def small_api_doc(origin: str) -> dict[str, Any]:
    doc = minimal_doc()
    doc["servers"] = [{"url": origin + "/api"}]
    doc["externalDocs"] = {"url": origin + "/docs/guide"}
    doc["info"]["contact"] = {"url": "https://support.elsewhere.example/"}
    doc["info"]["description"] = f"Guides: [missing page]({origin}/docs/gone). Code: `https://not.a.link/`."
    doc["paths"] = {"/items": {"get": {"responses": {"200": {"description": "the items"}}}}}
    return doc


def run_on(
    check_id: str, config: TargetConfig, spec: Spec | None, folder: Path, **params: Any
) -> tuple[Outcome, Path]:
    outcome, evidence, _ = run_live(
        check_id, config, folder, spec, commitment="C3", level=Level.SHOULD, **params
    )
    return outcome, evidence


def bearer_config(server: AppServer, **extra: Any) -> TargetConfig:
    return TargetConfig(
        base_url=server.origin + "/api",
        spec_url=server.origin + "/api/openapi.json",
        auth=AuthConfig(kind=AuthKind.BEARER, bearer=Secret(TOKEN, source="test")),
        rate_per_second=0.0,
        **extra,
    )


def customer_only_api(doc: dict[str, Any], links: dict[str, str] | None = None) -> Callable[[Request], Reply]:
    def route(request: Request) -> Reply:
        authorised = request.headers.get("Authorization") == f"Bearer {TOKEN}"
        path = request.path.split("?")[0]
        if path == "/api/openapi.json":
            if not authorised:
                return Reply(401, [("WWW-Authenticate", 'Bearer realm="api"')], b"")
            return Reply(200, [("Content-Type", "application/json")], orjson.dumps(doc))
        if path == "/docs/guide":
            return Reply(200, [("Content-Type", "text/html")], b"<h1>Guide</h1>")
        if path == "/api/items" and request.method == "GET":
            body = {"items": [{"id": "a1"}], "links": links or {"self": "/api/items"}}
            return Reply(200, [("Content-Type", "application/json")], orjson.dumps(body))
        if request.method == "OPTIONS" and path == "/api/items":
            return Reply(204, [("Allow", "GET, OPTIONS, HEAD")], b"")
        return Reply(404, [("Content-Type", "application/problem+json")], b'{"status":404}')

    return route


# -- C3-01 --------------------------------------------------------------------------------------------------
def test_available_passes_on_reference(reference: Any, tmp_path: Path) -> None:
    """The reference serves its document publicly; its documentation links are on other origins."""
    outcome, evidence = live_outcome(AVAILABLE, reference, tmp_path)
    assert outcome.status is Status.PASSED, outcome
    assert any("is public" in n for n in outcome.notes)
    assert any(
        "other origins and were not fetched" in n and "developer.reference-supplier" in n
        for n in outcome.notes
    )
    assert [r["url"] for r in exchanges(evidence).values()] == [reference.spec_url]


def test_available_fails_when_a_licence_is_required(faulty: Any, tmp_path: Path) -> None:
    """402 unless a Licence-Key is sent, even with the customer's token: a licence step."""
    outcome, evidence = live_outcome(AVAILABLE, faulty("spec-not-public"), tmp_path)
    assert outcome.status is Status.FAILED
    (finding,) = outcome.findings
    assert finding.title == "Licence step required"
    assert "402 Payment Required even with the customer's credentials" in finding.message
    assert finding.found == "HTTP 402, asking for 'licence'"
    assert_linked(outcome, evidence)
    sent = [dict(r["request"]["headers"]).get("Authorization") for r in exchanges(evidence).values()]
    assert sent[0] is None
    assert sent[-1] == "Bearer [redacted]"


def test_available_customer_only_and_documentation_links(
    app: Callable[..., AppServer], tmp_path: Path, spec_from: Any
) -> None:
    """401 without and 200 with the customer's token passes; a same-origin documentation link that is 404
    fails; links elsewhere are listed, not fetched."""
    server = app(lambda r: Reply(500))
    doc = small_api_doc(server.origin)
    server.route = customer_only_api(doc)
    outcome, evidence = run_on(AVAILABLE, bearer_config(server), spec_from(doc), tmp_path)
    assert outcome.status is Status.FAILED
    (finding,) = outcome.findings
    assert finding.title == "Documentation link broken"
    assert finding.message.endswith(f"{server.origin}/docs/gone, which answers 404.")
    assert any("served to the customer's credentials" in n for n in outcome.notes)
    assert any("https://support.elsewhere.example/" in n for n in outcome.notes)
    assert not any("not.a.link" in n for n in outcome.notes)
    fetched = {r["url"] for r in exchanges(evidence).values()}
    assert f"{server.origin}/docs/guide" in fetched
    assert not any("elsewhere" in url for url in fetched)
    assert_linked(outcome, evidence)


def test_available_refused_even_with_credentials(
    app: Callable[..., AppServer], tmp_path: Path, spec_from: Any
) -> None:
    """403 to the customer's token, without a word about licences: not retrievable by the customer."""
    server = app(lambda r: Reply(403, [("Content-Type", "application/problem+json")], b'{"status":403}'))
    outcome, evidence = run_on(AVAILABLE, bearer_config(server), spec_from(minimal_doc()), tmp_path)
    assert [f.title for f in outcome.findings] == ["Not retrievable with the customer's credentials"]
    assert_linked(outcome, evidence)


def test_available_guesses_base_openapi_json(reference: Any, tmp_path: Path) -> None:
    """Without a spec_url the document is looked for at <base_url>/openapi.json."""

    class NoSpecUrl:
        def __getattr__(self, name: str) -> Any:
            return None if name == "spec_url" else getattr(reference, name)

    outcome, _ = live_outcome(AVAILABLE, NoSpecUrl(), tmp_path)
    assert outcome.status is Status.PASSED  # the reference also serves <base>/openapi.json


def test_available_cant_tell_when_nothing_is_served(
    app: Callable[..., AppServer], tmp_path: Path, spec_from: Any
) -> None:
    """A guessed <base>/openapi.json that answers 404 cannot decide C3-01."""
    server = app(lambda r: Reply(404))
    config = dataclasses.replace(bearer_config(server), spec_url=None)
    outcome, _ = run_on(AVAILABLE, config, spec_from(minimal_doc()), tmp_path)
    assert outcome.status is Status.CANT_TELL
    assert "spec_url" in (outcome.reason or "")


# -- C11-01 -------------------------------------------------------------------------------------------------
def test_undocumented_passes_on_reference(reference: Any, tmp_path: Path) -> None:
    """Shadow paths 404, Allow lists only documented methods, list links stay documented."""
    outcome, evidence = live_outcome(UNDOCUMENTED, reference, tmp_path)
    assert outcome.status is Status.PASSED, outcome
    methods = [r["method"] for r in exchanges(evidence).values()]
    assert methods.count("OPTIONS") == 14
    assert any("Probed" in n and "cannot be seen this way" in n for n in outcome.notes)


def test_undocumented_fails_under_shadow_endpoint(faulty: Any, tmp_path: Path) -> None:
    """/v1/internal/debug serves data and OPTIONS advertises an undocumented method on every path."""
    outcome, evidence = live_outcome(UNDOCUMENTED, faulty("shadow-endpoint"), tmp_path)
    assert outcome.status is Status.FAILED
    shadow = [f for f in outcome.findings if f.title == "Undocumented endpoint serves data"]
    assert len(shadow) == 1
    assert "/v1/internal/debug answered 200" in shadow[0].message
    advertised = [f for f in outcome.findings if f.title == "Undocumented method advertised"]
    assert len(advertised) == 14
    assert any(f.operation == "OPTIONS /persons" and f.found == "Allow: GET, POST, PATCH" for f in advertised)
    assert_linked(outcome, evidence)


def test_undocumented_link_in_a_response(
    app: Callable[..., AppServer], tmp_path: Path, spec_from: Any
) -> None:
    """A list linking to a path the document does not describe is a finding; documented links are not."""
    server = app(lambda r: Reply(500))
    doc = small_api_doc(server.origin)
    links = {
        "self": "/api/items",
        "export": f"{server.origin}/api/bulk-export",
        "docs": "https://elsewhere/x",
    }
    server.route = customer_only_api(doc, links)
    outcome, evidence = run_on(UNDOCUMENTED, bearer_config(server), spec_from(doc), tmp_path)
    assert outcome.status is Status.FAILED
    (finding,) = outcome.findings
    assert finding.title == "Response links to an undocumented path"
    assert finding.found == f"{server.origin}/api/bulk-export"
    assert finding.operation == "GET /items"
    assert_linked(outcome, evidence)


def test_undocumented_inapplicable_without_operations(reference: Any, tmp_path: Path, spec_from: Any) -> None:
    """Nothing documented, nothing to compare with."""
    outcome, _ = live_outcome(UNDOCUMENTED, reference, tmp_path, spec=spec_from(minimal_doc()))
    assert outcome.status is Status.INAPPLICABLE


def test_undocumented_cant_tell_when_nothing_answers(reference: Any, tmp_path: Path) -> None:
    """A base URL where nothing listens: cantTell."""

    class Nowhere:
        def __getattr__(self, name: str) -> Any:
            return "https://127.0.0.1:9/v1" if name == "base_url" else getattr(reference, name)

    outcome, _ = live_outcome(UNDOCUMENTED, Nowhere(), tmp_path, probe_paths=["/debug"], max_paths=2)
    assert outcome.status is Status.CANT_TELL


def test_available_partner_wall_is_a_licence_step(
    app: Callable[..., AppServer], tmp_path: Path, spec_from: Any
) -> None:
    """403 asking to join a partner programme, even with the customer's token: a licence step."""
    body = b'{"status":403,"detail":"Join the Technology Partner Programme to download the API description."}'
    server = app(lambda r: Reply(403, [("Content-Type", "application/problem+json")], body))
    outcome, _ = run_on(AVAILABLE, bearer_config(server), spec_from(minimal_doc()), tmp_path)
    assert [f.title for f in outcome.findings] == ["Licence step required"]
    assert outcome.findings[0].found == "HTTP 403, asking for 'partner'"


def test_available_cant_tell_without_credentials_to_try(
    app: Callable[..., AppServer], tmp_path: Path, spec_from: Any
) -> None:
    """401 and no credentials configured: customer-only access may be fine, so cantTell."""
    server = app(lambda r: Reply(401, [("WWW-Authenticate", 'Bearer realm="api"')], b""))
    config = dataclasses.replace(bearer_config(server), auth=AuthConfig())
    outcome, _ = run_on(AVAILABLE, config, spec_from(minimal_doc()), tmp_path)
    assert outcome.status is Status.CANT_TELL
    assert "--auth" in (outcome.reason or "")
