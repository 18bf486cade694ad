"""The server implements the document: every operation, called with valid data, answers a documented
status with the documented headers and a body valid against the documented schema."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from conformance.reference.server.contract import get_contract

from .conftest import INPUTS, MERGE, Api, document, event_input, response_errors

B_FORCE = "W15900002"


def _create(api: Api, entity: str, **extra: Any) -> dict[str, Any]:
    response = api.post(f"/{entity}", json=INPUTS[entity](**extra))
    assert response.status_code == 201, response.text
    return dict(response.json())


def _linked_event(api: Api) -> dict[str, Any]:
    person = _create(api, "persons")
    thing = _create(api, "objects")
    place = _create(api, "locations")
    links = {
        "personLinks": [{"personId": person["id"], "role": "witness"}],
        "objectIds": [thing["id"]],
        "locationId": place["id"],
    }
    return _create(api, "events", **links)


def _aid_request(api: Api) -> dict[str, Any]:
    event = _create(api, "events")
    body = {
        "providingForce": B_FORCE,
        "eventId": event["id"],
        "requiredFrom": "2026-06-21T06:00:00Z",
        "requiredUntil": "2026-06-21T22:00:00Z",
        "resources": [{"resourceType": "officer", "quantity": 4}],
        "notes": "Synthetic.",
    }
    response = api.post("/mutual-aid-requests", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


Case = Callable[[Api], tuple[str, str, requests.Response]]


def _pole_cases(entity: str, name: str, param: str) -> dict[str, Case]:
    item = f"/{entity}/{{{param}}}"

    def create(api: Api) -> tuple[str, str, requests.Response]:
        if entity == "events":
            return f"/{entity}", "POST", api.post(f"/{entity}", json=event_input(personLinks=[]))
        return f"/{entity}", "POST", api.post(f"/{entity}", json=INPUTS[entity]())

    def read(api: Api) -> tuple[str, str, requests.Response]:
        record = _linked_event(api) if entity == "events" else _create(api, entity)
        return item, "GET", api.get(f"/{entity}/{record['id']}")

    def replace(api: Api) -> tuple[str, str, requests.Response]:
        record = _create(api, entity)
        return item, "PUT", api.put(f"/{entity}/{record['id']}", json=INPUTS[entity]())

    def delete(api: Api) -> tuple[str, str, requests.Response]:
        record = _create(api, entity)
        return item, "DELETE", api.delete(f"/{entity}/{record['id']}")

    return {
        f"list{name}s": lambda api: (f"/{entity}", "GET", api.get(f"/{entity}?limit=3")),
        f"create{name}": create,
        f"get{name}": read,
        f"replace{name}": replace,
        f"delete{name}": delete,
    }


def _aid_get(api: Api) -> tuple[str, str, requests.Response]:
    return (
        "/mutual-aid-requests/{requestId}",
        "GET",
        api.get(f"/mutual-aid-requests/{_aid_request(api)['id']}"),
    )


def _aid_patch(api: Api) -> tuple[str, str, requests.Response]:
    ident = _aid_request(api)["id"]
    response = api.patch(
        f"/mutual-aid-requests/{ident}", json={"status": "withdrawn", "notes": None}, headers=MERGE
    )
    return "/mutual-aid-requests/{requestId}", "PATCH", response


def _aid_delete(api: Api) -> tuple[str, str, requests.Response]:
    ident = _aid_request(api)["id"]
    api.patch(f"/mutual-aid-requests/{ident}", json={"status": "withdrawn"}, headers=MERGE)
    return "/mutual-aid-requests/{requestId}", "DELETE", api.delete(f"/mutual-aid-requests/{ident}")


def _aid_status(api: Api) -> tuple[str, str, requests.Response]:
    ident = _aid_request(api)["id"]
    return "/mutual-aid-requests/{requestId}/status", "GET", api.get(f"/mutual-aid-requests/{ident}/status")


def _import(api: Api) -> tuple[str, str, requests.Response]:
    exported = api.get("/exports/persons").json()["items"][:2]
    return "/imports/{entityType}", "POST", api.post("/imports/persons", json={"items": exported})


CASES: dict[str, Case] = {
    **_pole_cases("persons", "Person", "personId"),
    **_pole_cases("objects", "Object", "objectId"),
    **_pole_cases("locations", "Location", "locationId"),
    **_pole_cases("events", "Event", "eventId"),
    "listMutualAidRequests": lambda api: ("/mutual-aid-requests", "GET", api.get("/mutual-aid-requests")),
    "createMutualAidRequest": lambda api: (
        "/mutual-aid-requests",
        "POST",
        api.post(
            "/mutual-aid-requests",
            json={
                "providingForce": B_FORCE,
                "eventId": _create(api, "events")["id"],
                "requiredFrom": "2026-06-21T06:00:00+01:00",
                "requiredUntil": "2026-06-21T22:00:00Z",
                "resources": [{"resourceType": "drone", "quantity": 1}],
            },
        ),
    ),
    "getMutualAidRequest": _aid_get,
    "updateMutualAidRequest": _aid_patch,
    "deleteMutualAidRequest": _aid_delete,
    "getMutualAidRequestStatus": _aid_status,
    "exportRecords": lambda api: ("/exports/{entityType}", "GET", api.get("/exports/events")),
    "importRecords": _import,
    "listAuditRecords": lambda api: ("/audit-records", "GET", api.get("/audit-records?limit=5")),
}


def test_every_documented_operation_has_a_case() -> None:
    """The table below covers exactly the document's operations."""
    assert set(CASES) == set(get_contract().operations)


@pytest.mark.parametrize("operation_id", sorted(CASES))
def test_operation_answers_as_documented(api: Api, operation_id: str) -> None:
    """Valid data gets a 2xx the document lists, its required headers, and a schema-valid body."""
    path, method, response = CASES[operation_id](api)
    assert document()["paths"][path][method.lower()]["operationId"] == operation_id
    assert 200 <= response.status_code < 300, response.text
    assert response_errors(path, method, response) == []


@pytest.mark.parametrize("accept", ["application/x-ndjson", "text/csv"])
def test_export_alternative_media_types_are_documented(api: Api, accept: str) -> None:
    """NDJSON and CSV exports answer with the documented media types."""
    response = api.get("/exports/persons", headers={"Accept": accept})
    assert response.status_code == 200
    assert response_errors("/exports/{entityType}", "GET", response) == []


ERROR_CASES: dict[str, Callable[[Api], tuple[str, str, requests.Response]]] = {
    "401 without a token": lambda api: (
        "/persons",
        "GET",
        requests.get(api.url("/persons"), verify=api.session.verify, timeout=10),
    ),
    "403 without the scope": lambda api: (
        "/persons",
        "POST",
        Api(api.server, scopes=["pole:read"]).post("/persons", json=INPUTS["persons"]()),
    ),
    "404 unknown id": lambda api: (
        "/persons/{personId}",
        "GET",
        api.get("/persons/00000000-0000-4000-8000-000000000000"),
    ),
    "400 bad limit": lambda api: ("/persons", "GET", api.get("/persons?limit=0")),
    "400 bad cursor": lambda api: ("/events", "GET", api.get("/events?cursor=not-a-cursor")),
    "406 unsupported Accept": lambda api: (
        "/objects",
        "GET",
        api.get("/objects", headers={"Accept": "application/xml"}),
    ),
    "415 text/plain body": lambda api: (
        "/objects",
        "POST",
        api.post("/objects", data="{}", headers={"Content-Type": "text/plain"}),
    ),
    "422 invalid body": lambda api: ("/persons", "POST", api.post("/persons", json={"fullName": ""})),
    "409 linked person": lambda api: (
        "/persons/{personId}",
        "DELETE",
        api.delete(f"/persons/{_linked_event(api)['personLinks'][0]['personId']}"),
    ),
    "409 invalid transition": lambda api: (
        "/mutual-aid-requests/{requestId}",
        "PATCH",
        api.patch(
            f"/mutual-aid-requests/{_aid_request(api)['id']}", json={"status": "fulfilled"}, headers=MERGE
        ),
    ),
    "413 too many records": lambda api: (
        "/imports/{entityType}",
        "POST",
        api.post(
            "/imports/persons",
            data=b'{"fullName":"x"}\n' * 10_001,
            headers={"Content-Type": "application/x-ndjson"},
        ),
    ),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_error_answers_as_documented(api: Api, case: str) -> None:
    """Errors use a status the operation documents, problem+json and the Problem schema."""
    path, method, response = ERROR_CASES[case](api)
    assert response.status_code == int(case[:3]), response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response_errors(path, method, response) == []
