"""Shared helpers for the reference supplier tests: one server per module, a small API client, and
response validation against the document with the Python ``jsonschema`` package (an implementation
independent of the ``jsonschema_rs`` validator the server itself uses)."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conformance.reference import load_reference_document
from conformance.reference.server import ReferenceServer

DOC_URI = "urn:reference-openapi"
# Generous for the shared server, so only the rate-limit tests ever see a 429.
TEST_RATE = 1_000_000


@functools.lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    return load_reference_document()


@functools.lru_cache(maxsize=1)
def _registry() -> Registry:
    resource = Resource.from_contents(document(), default_specification=DRAFT202012)
    return Registry().with_resource(DOC_URI, resource)


@functools.lru_cache(maxsize=64)
def _validator(pointer: str) -> Draft202012Validator:
    return Draft202012Validator(
        {"$ref": f"{DOC_URI}#{pointer}"}, registry=_registry(), format_checker=FormatChecker()
    )


def schema_errors(schema_name: str, instance: Any) -> list[str]:
    """Every error of ``instance`` against ``#/components/schemas/<schema_name>``."""
    validator = _validator(f"/components/schemas/{schema_name}")
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(instance)]


def resolve(node: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in node:
        target: Any = document()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/")]
        node = target
    return node


def response_errors(path: str, method: str, response: requests.Response) -> list[str]:
    """Why ``response`` does not match the document: undocumented status, content type, required headers
    missing, or a body that breaks the documented schema."""
    operation = document()["paths"][path][method.lower()]
    documented = operation["responses"].get(str(response.status_code))
    if documented is None:
        return [f"status {response.status_code} is not documented for {method} {path}"]
    documented = resolve(documented)
    problems = []
    for name, header in documented.get("headers", {}).items():
        if resolve(header).get("required") and name not in response.headers:
            problems.append(f"required header {name} missing")
    content = documented.get("content", {})
    if not content:
        if response.content:
            problems.append("a body was sent where none is documented")
        return problems
    kind = response.headers.get("content-type", "").split(";")[0].strip()
    if kind not in content:
        return [*problems, f"content type {kind!r} is not documented ({', '.join(content)})"]
    if kind == "application/json" or kind.endswith("+json"):
        schema = content[kind]["schema"]
        validator = Draft202012Validator(
            {"$ref": f"{DOC_URI}{schema['$ref']}"} if "$ref" in schema else schema,
            registry=_registry(),
            format_checker=FormatChecker(),
        )
        problems += [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(response.json())
        ]
    return problems


class Api:
    """A thin requests wrapper for one server: verifies TLS against its CA and ignores proxy/CA env
    variables (requests lets REQUESTS_CA_BUNDLE override a session's ``verify``)."""

    def __init__(
        self, server: ReferenceServer, client: str | None = "force-a", scopes: list[str] | None = None
    ) -> None:
        self.server = server
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = str(server.ca_bundle)
        if client is not None:
            self.session.headers["Authorization"] = f"Bearer {server.issue_token(client, scopes)}"

    def url(self, path: str) -> str:
        if path.startswith("http"):
            return path
        if path.startswith(("/.well-known", "/oauth2")):
            return self.server.origin + path
        return self.server.base_url + path

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        kwargs.setdefault("allow_redirects", False)
        return self.session.request(method, self.url(path), **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def token(self, client: str = "force-a", **data: str) -> requests.Response:
        owner = self.server.clients[client]
        return self.session.post(
            self.server.token_url,
            data={"grant_type": "client_credentials", **data},
            auth=(owner.client_id, owner.client_secret),
            headers={"Authorization": None},  # type: ignore[dict-item]
            timeout=10,
        )


# -- sample inputs ---------------------------------------------------------------------------------------
REVIEW = {"retentionCategory": "group3", "nextReviewDate": "2031-03-14"}


def person_input(name: str = "Siân Ŵyn Jones 李", **extra: Any) -> dict[str, Any]:
    return {
        "fullName": name,
        "givenNames": ["Siân", "Ŵyn"],
        "aliases": ["S, W. Jones"],
        "review": REVIEW,
        **extra,
    }


def object_input(**extra: Any) -> dict[str, Any]:
    return {
        "objectType": "property",
        "description": 'Bicycle, red, "Raleigh" frame',
        "review": REVIEW,
        **extra,
    }


def location_input(**extra: Any) -> dict[str, Any]:
    return {
        "geometry": {"type": "Point", "coordinates": [-3.1791, 51.4816]},
        "crs": "EPSG:4326",
        "review": REVIEW,
        **extra,
    }


def event_input(**extra: Any) -> dict[str, Any]:
    return {
        "eventType": "incident",
        "occurredAt": "2025-03-13T22:40:00Z",
        "summary": "Synthetic test event.",
        "review": REVIEW,
        **extra,
    }


MERGE = {"Content-Type": "application/merge-patch+json"}

INPUTS = {
    "persons": person_input,
    "objects": object_input,
    "locations": location_input,
    "events": event_input,
}


@pytest.fixture(scope="module")
def server() -> Iterator[ReferenceServer]:
    """One clean server for the whole module (tests switch faults with ``set_faults`` and restore them)."""
    with ReferenceServer(rate_limit_per_minute=TEST_RATE) as running:
        yield running


@pytest.fixture(autouse=True)
def _no_faults_left_behind(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "server" in request.fixturenames:
        running: ReferenceServer = request.getfixturevalue("server")
        running.set_faults(())


@pytest.fixture
def api(server: ReferenceServer) -> Api:
    """A force A client with every scope."""
    return Api(server)


@pytest.fixture
def api_b(server: ReferenceServer) -> Api:
    """A force B client with every scope."""
    return Api(server, "force-b")
