"""OAuth 2.0 client credentials, bearer tokens, scopes and per-force tenancy."""

from __future__ import annotations

import base64

import pytest
import requests

from conformance.reference.server import Client, ReferenceServer
from conformance.reference.server.contract import get_contract

from .conftest import MERGE, Api, person_input


def _post_token(
    server: ReferenceServer, data: dict[str, str], auth: tuple[str, str] | None = None, **kw: object
) -> requests.Response:
    return requests.post(
        server.token_url, data=data, auth=auth, verify=str(server.ca_bundle), timeout=10, **kw
    )  # type: ignore[arg-type]


def test_client_secret_basic_grants_every_scope_by_default(server: ReferenceServer) -> None:
    """Without `scope`, the token carries all of the client's scopes (RFC 6749 §4.4)."""
    client = server.clients["force-a"]
    response = _post_token(
        server, {"grant_type": "client_credentials"}, (client.client_id, client.client_secret)
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["scope"].split() == list(get_contract().scopes)
    assert response.headers["Cache-Control"] == "no-store"


def test_client_secret_post_with_a_scope_subset(server: ReferenceServer) -> None:
    """Form credentials work too, and a requested subset is granted exactly."""
    client = server.clients["force-b"]
    data = {
        "grant_type": "client_credentials",
        "client_id": client.client_id,
        "client_secret": client.client_secret,
        "scope": "pole:read audit:read",
    }
    response = _post_token(server, data)
    assert response.status_code == 200
    assert response.json()["scope"] == "pole:read audit:read"


@pytest.mark.parametrize(
    ("data", "status", "error"),
    [
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({}, 400, "invalid_request"),
        ({"grant_type": "client_credentials", "scope": "pole:admin"}, 400, "invalid_scope"),
    ],
)
def test_token_errors_follow_rfc6749(
    server: ReferenceServer, data: dict[str, str], status: int, error: str
) -> None:
    """Bad grant types, missing parameters and unknown scopes get RFC 6749 §5.2 errors."""
    client = server.clients["force-a"]
    response = _post_token(server, data, (client.client_id, client.client_secret))
    assert response.status_code == status
    assert response.json()["error"] == error


def test_wrong_secret_is_invalid_client(server: ReferenceServer) -> None:
    """A wrong secret gets 401 invalid_client with a Basic challenge."""
    response = _post_token(
        server, {"grant_type": "client_credentials"}, (server.clients["force-a"].client_id, "wrong")
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic ")


def test_two_authentication_methods_are_refused(server: ReferenceServer) -> None:
    """Basic plus a form secret is invalid_request (RFC 6749 §2.3)."""
    client = server.clients["force-a"]
    data = {"grant_type": "client_credentials", "client_secret": client.client_secret}
    response = _post_token(server, data, (client.client_id, client.client_secret))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_basic_credentials_are_form_decoded(server: ReferenceServer) -> None:
    """RFC 6749 §2.3.1: the id and secret are form-urlencoded inside Basic."""
    client = server.clients["force-a"]
    encoded = base64.b64encode(f"{client.client_id}:{client.client_secret}".encode()).decode()
    response = _post_token(
        server, {"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {encoded}"}
    )
    assert response.status_code == 200


def test_client_repr_masks_the_secret(server: ReferenceServer) -> None:
    """The secret never appears in a repr (and so never in a log line or a failed assertion)."""
    client = server.clients["force-a"]
    assert client.client_secret not in repr(client)
    assert "***" in repr(client)
    assert isinstance(client, Client)


def test_missing_token_is_401_with_a_bare_challenge(api: Api) -> None:
    """RFC 6750 §3.1: no credentials, 401 and a challenge without an error code."""
    response = requests.get(api.url("/persons"), verify=api.session.verify, timeout=10)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="reference-supplier"'
    assert response.headers["Content-Type"] == "application/problem+json"


def test_invalid_token_is_401_invalid_token(api: Api) -> None:
    """An unknown token gets error="invalid_token"."""
    response = api.get("/persons", headers={"Authorization": "Bearer not-a-real-token"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_expired_token_is_401_invalid_token(server: ReferenceServer, api: Api) -> None:
    """An expired token gets error="invalid_token" and says it expired."""
    token = server.issue_token("force-a", lifetime=0)
    response = api.get("/persons", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "expired" in response.headers["WWW-Authenticate"]


def test_token_lacking_the_scope_is_403(server: ReferenceServer) -> None:
    """A read-only token cannot write: 403 insufficient_scope."""
    reader = Api(server, scopes=["pole:read"])
    response = reader.post("/persons", json=person_input())
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert reader.get("/persons").status_code == 200


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_another_forces_record_is_404(api: Api, api_b: Api, method: str) -> None:
    """Force A cannot read, replace or delete force B's record: 404, exactly like an unknown id."""
    record = api_b.post("/persons", json=person_input("Eluned Prys")).json()
    response = api.request(
        method, f"/persons/{record['id']}", json=person_input() if method == "PUT" else None
    )
    assert response.status_code == 404
    assert api_b.get(f"/persons/{record['id']}").json()["fullName"] == "Eluned Prys"


def test_lists_and_exports_hold_only_the_callers_force(api: Api, api_b: Api) -> None:
    """Force A's lists, exports and audit trail never include force B's records."""
    record = api_b.post("/persons", json=person_input("Only in B")).json()
    ids_a = {p["id"] for p in api.get("/exports/persons").json()["items"]}
    assert record["id"] not in ids_a
    assert all(
        item["recordId"] != record["id"] for item in api.get("/audit-records?limit=500").json()["items"]
    )
    assert record["id"] in {p["id"] for p in api_b.get("/exports/persons").json()["items"]}


def test_mutual_aid_requests_are_shared_by_both_forces(api: Api, api_b: Api) -> None:
    """The providing force sees a request at once, answers it, and the requester sees the answer."""
    event = api.post(
        "/events",
        json={
            "eventType": "publicOrder",
            "occurredAt": "2026-06-21T06:00:00Z",
            "summary": "x",
            "review": {"retentionCategory": "group3", "nextReviewDate": "2031-03-14"},
        },
    ).json()
    body = {
        "providingForce": "W15900002",
        "eventId": event["id"],
        "requiredFrom": "2026-06-21T06:00:00Z",
        "requiredUntil": "2026-06-21T08:00:00Z",
        "resources": [{"resourceType": "horse", "quantity": 2}],
    }
    created = api.post("/mutual-aid-requests", json=body).json()
    assert created["requestingForce"] == "E23900001"
    assert created["status"] == "requested"
    listed = api_b.get("/mutual-aid-requests?status=requested&limit=500").json()["items"]
    assert created["id"] in {r["id"] for r in listed}
    # The requester may not accept its own request (403); the provider may (200).
    assert (
        api.patch(
            f"/mutual-aid-requests/{created['id']}", json={"status": "accepted"}, headers=MERGE
        ).status_code
        == 403
    )
    assert (
        api_b.patch(
            f"/mutual-aid-requests/{created['id']}", json={"status": "accepted"}, headers=MERGE
        ).status_code
        == 200
    )
    assert api.get(f"/mutual-aid-requests/{created['id']}").json()["status"] == "accepted"
    # A final status cannot change again (409); only the requester disposes of a closed request.
    assert (
        api_b.patch(
            f"/mutual-aid-requests/{created['id']}", json={"status": "fulfilled"}, headers=MERGE
        ).status_code
        == 200
    )
    assert (
        api.patch(
            f"/mutual-aid-requests/{created['id']}", json={"status": "withdrawn"}, headers=MERGE
        ).status_code
        == 409
    )
    assert api_b.delete(f"/mutual-aid-requests/{created['id']}").status_code == 403
    assert api.delete(f"/mutual-aid-requests/{created['id']}").status_code == 204
    assert api_b.get(f"/mutual-aid-requests/{created['id']}").status_code == 404


def test_mutual_aid_request_needs_the_callers_own_event(api: Api, api_b: Api) -> None:
    """eventId must be an Event of the caller's force (422), not another force's."""
    event_b = api_b.get("/events?limit=1").json()["items"][0]
    body = {
        "providingForce": "W15900002",
        "eventId": event_b["id"],
        "requiredFrom": "2026-06-21T06:00:00Z",
        "requiredUntil": "2026-06-21T08:00:00Z",
        "resources": [{"resourceType": "officer", "quantity": 1}],
    }
    response = api.post("/mutual-aid-requests", json=body)
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json()["errors"]] == ["/eventId"]
