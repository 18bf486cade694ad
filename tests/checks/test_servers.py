"""C4/C5/C8 server checks: HTTPS only, a sandbox server, a visible major version."""

from __future__ import annotations

from typing import Any

from conformance.outcome import Status
from tests.conftest import check_outcome, minimal_doc

HTTPS = "openapi.servers.https"
SANDBOX = "openapi.servers.sandbox"
VERSION = "openapi.version.visible"


def _with_servers(*servers: dict[str, Any]) -> dict[str, Any]:
    doc = minimal_doc()
    doc["servers"] = list(servers)
    return doc


def _swagger(**top: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"swagger": "2.0", "info": {"title": "t", "version": "1.0.0"}, "paths": {}}
    doc.update(top)
    return doc


def _op(summary: str = "An operation", **extra: Any) -> dict[str, Any]:
    return {"summary": summary, "responses": {"204": {"description": "done"}}, **extra}


# -- openapi.servers.https --------------------------------------------------------------------------------
def test_https_passes_on_https_servers(spec_from: Any) -> None:
    """https:// servers pass."""
    doc = _with_servers(
        {"url": "https://api.example.police.uk/v1"}, {"url": "HTTPS://sandbox.example.police.uk"}
    )
    assert check_outcome(HTTPS, spec_from(doc)).status is Status.PASSED


def test_https_fails_on_http_server(spec_from: Any) -> None:
    """A plain http:// server is a finding at its url."""
    doc = _with_servers({"url": "https://api.example.police.uk"}, {"url": "http://api.example.police.uk"})
    outcome = check_outcome(HTTPS, spec_from(doc))
    assert outcome.status is Status.FAILED
    assert [(f.title, f.pointer) for f in outcome.findings] == [("Server not HTTPS", "/servers/1/url")]


def test_https_allows_localhost_only_when_asked(spec_from: Any) -> None:
    """http://localhost, 127.0.0.1 and [::1] pass by default and fail with allow_localhost=false."""
    doc = _with_servers(
        {"url": "http://localhost:8080/v1"}, {"url": "http://127.0.0.1/v1"}, {"url": "http://[::1]:9000"}
    )
    spec = spec_from(doc)
    assert check_outcome(HTTPS, spec).status is Status.PASSED
    strict = check_outcome(HTTPS, spec, allow_localhost=False)
    assert [f.pointer for f in strict.findings] == ["/servers/0/url", "/servers/1/url", "/servers/2/url"]


def test_https_fails_on_scheme_variable_allowing_http(spec_from: Any) -> None:
    """A {scheme} variable with an http enum value is a finding at the variable."""
    doc = _with_servers(
        {
            "url": "{scheme}://api.example.police.uk",
            "variables": {"scheme": {"default": "https", "enum": ["https", "http"]}},
        }
    )
    outcome = check_outcome(HTTPS, spec_from(doc))
    assert [(f.title, f.pointer) for f in outcome.findings] == [
        ("Server variable allows HTTP", "/servers/0/variables/scheme")
    ]


def test_https_checks_a_whole_url_variable(spec_from: Any) -> None:
    """A URL that is a single variable is judged by its values."""
    doc = _with_servers(
        {
            "url": "{base}",
            "variables": {"base": {"default": "https://a.example", "enum": ["https://a.example"]}},
        }
    )
    assert check_outcome(HTTPS, spec_from(doc)).status is Status.PASSED
    doc["servers"][0]["variables"]["base"]["enum"].append("http://b.example")
    outcome = check_outcome(HTTPS, spec_from(doc))
    assert outcome.findings[0].found == "http://b.example"


def test_https_inapplicable_without_servers_or_with_relative_ones(spec_from: Any) -> None:
    """No servers, or only relative ones, cannot be judged statically."""
    doc = minimal_doc()
    del doc["servers"]
    outcome = check_outcome(HTTPS, spec_from(doc))
    assert outcome.status is Status.INAPPLICABLE
    assert "no server" in (outcome.reason or "")
    relative = check_outcome(HTTPS, spec_from(_with_servers({"url": "/v1"})))
    assert relative.status is Status.INAPPLICABLE
    assert "relative" in (relative.reason or "")


def test_https_swagger_2_schemes(spec_from: Any) -> None:
    """Swagger 2: http in `schemes` is a finding; no `schemes` inherits the document's scheme."""
    outcome = check_outcome(HTTPS, spec_from(_swagger(host="api.example", schemes=["http", "https"])))
    assert [(f.title, f.pointer) for f in outcome.findings] == [("Server not HTTPS", "/schemes/0")]
    assert check_outcome(HTTPS, spec_from(_swagger(host="api.example"))).status is Status.INAPPLICABLE
    assert check_outcome(HTTPS, spec_from(_swagger(host="api.example", schemes=["https"]))).status is (
        Status.PASSED
    )


# -- openapi.servers.sandbox ------------------------------------------------------------------------------
def test_sandbox_found_in_url_or_description(spec_from: Any) -> None:
    """A sandbox host label or a 'UAT' description passes."""
    by_url = _with_servers(
        {"url": "https://api.example.police.uk"}, {"url": "https://sandbox.api.example.police.uk"}
    )
    assert check_outcome(SANDBOX, spec_from(by_url)).status is Status.PASSED
    by_description = _with_servers(
        {"url": "https://api2.example.police.uk", "description": "UAT environment"}
    )
    assert check_outcome(SANDBOX, spec_from(by_description)).status is Status.PASSED
    numbered = _with_servers({"url": "https://api-uat2.example.police.uk"})
    assert check_outcome(SANDBOX, spec_from(numbered)).status is Status.PASSED


def test_sandbox_needs_a_whole_word(spec_from: Any) -> None:
    """'latest' and 'contest' do not count as test servers."""
    doc = _with_servers({"url": "https://latest.example.police.uk", "description": "Contest entries"})
    outcome = check_outcome(SANDBOX, spec_from(doc))
    assert outcome.status is Status.FAILED
    assert outcome.findings[0].title == "No sandbox server"
    assert outcome.findings[0].pointer == "/servers"


def test_sandbox_missing_when_no_servers(spec_from: Any) -> None:
    """No servers at all means no sandbox is declared."""
    doc = minimal_doc()
    del doc["servers"]
    outcome = check_outcome(SANDBOX, spec_from(doc))
    assert outcome.status is Status.FAILED
    assert outcome.findings[0].found == "no servers declared"


def test_sandbox_markers_are_a_parameter(spec_from: Any) -> None:
    """A profile can name its own environments."""
    doc = _with_servers({"url": "https://reference.example.police.uk"})
    assert check_outcome(SANDBOX, spec_from(doc)).status is Status.FAILED
    assert check_outcome(SANDBOX, spec_from(doc), markers=["reference"]).status is Status.PASSED


# -- openapi.version.visible ------------------------------------------------------------------------------
def test_version_in_every_server_url_passes(spec_from: Any) -> None:
    """/v1 in the server URL covers every operation."""
    doc = _with_servers({"url": "https://api.example.police.uk/v1"}, {"url": "https://sandbox.example/v1"})
    doc["paths"] = {"/persons": {"get": _op()}}
    assert check_outcome(VERSION, spec_from(doc)).status is Status.PASSED


def test_version_in_paths_header_or_media_type_passes(spec_from: Any) -> None:
    """Each operation may show its version its own way."""
    doc = _with_servers({"url": "https://api.example.police.uk"})
    doc["paths"] = {
        "/v2/persons": {"get": _op()},
        "/apis/apps/v1beta1/things": {"get": _op()},
        "/2010-04-01/calls": {"get": _op()},
        "/vehicles": {
            "get": _op(parameters=[{"name": "Accept-Version", "in": "header", "schema": {"type": "string"}}])
        },
        "/locations": {
            "get": {
                "summary": "List",
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"application/json;version=3": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
        "/events": {
            "get": {
                "summary": "List",
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"application/vnd.police.v2+json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    }
    assert check_outcome(VERSION, spec_from(doc)).status is Status.PASSED


def test_version_missing_lists_operations(spec_from: Any) -> None:
    """Operations without a visible version are listed in one finding at #/paths."""
    doc = _with_servers({"url": "https://api.example.police.uk"})
    doc["paths"] = {"/v1/persons": {"get": _op()}, "/health": {"get": _op()}, "/latest/items": {"get": _op()}}
    outcome = check_outcome(VERSION, spec_from(doc))
    assert outcome.status is Status.FAILED
    [only] = outcome.findings
    assert (only.title, only.pointer) == ("Version not visible", "/paths")
    assert "GET /health" in only.message
    assert "GET /latest/items" in only.message
    assert "/v1/persons" not in only.message
    assert only.found == "2 operations without one"


def test_version_uses_server_variable_default_and_swagger_base_path(spec_from: Any) -> None:
    """A {version} variable's default and a Swagger 2 basePath (even without host) count."""
    doc = _with_servers(
        {"url": "https://api.example.police.uk/{version}", "variables": {"version": {"default": "v3"}}}
    )
    doc["paths"] = {"/persons": {"get": _op()}}
    assert check_outcome(VERSION, spec_from(doc)).status is Status.PASSED
    swagger = _swagger(basePath="/open-banking/v3.1/aisp", paths={"/accounts": {"get": _op()}})
    assert check_outcome(VERSION, spec_from(swagger)).status is Status.PASSED


def test_version_pattern_is_a_parameter(spec_from: Any) -> None:
    """A profile may insist on /v{n}/ only."""
    doc = _with_servers({"url": "https://api.example.police.uk/2010-04-01"})
    doc["paths"] = {"/calls": {"get": _op()}}
    spec = spec_from(doc)
    assert check_outcome(VERSION, spec).status is Status.PASSED
    assert check_outcome(VERSION, spec, path_pattern="^v[0-9]+$").status is Status.FAILED


def test_version_inapplicable_without_operations(spec_from: Any) -> None:
    """A document with no operations has nothing to version."""
    assert check_outcome(VERSION, spec_from(minimal_doc())).status is Status.INAPPLICABLE
