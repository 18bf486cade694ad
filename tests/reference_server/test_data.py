"""Data behaviour: stable cursor paging, incremental change tracking, bulk export and import, deletion,
audit metadata and the audit trail."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from conformance.reference.server import ReferenceServer

from .conftest import INPUTS, Api, person_input, schema_errors

ENTITIES = ["persons", "objects", "locations", "events"]


def _walk(api: Api, path: str, limit: int, between: Any = None) -> list[str]:
    ids: list[str] = []
    url = f"{path}?limit={limit}"
    while url:
        page = api.get(url).json()
        ids += [item["id"] for item in page["items"]]
        if between is not None:
            between()
        url = page["links"].get("next", "")
        assert ("nextCursor" in page) == bool(url)
    return ids


@pytest.fixture
def fresh() -> Any:
    """An empty server (no seed data), for exact counts."""
    with ReferenceServer(seed_data=False, rate_limit_per_minute=1_000_000) as running:
        yield running


def test_paging_is_stable_while_records_change(fresh: ReferenceServer) -> None:
    """Walking with small pages while records are added and deleted never repeats or skips a record
    that existed throughout."""
    api = Api(fresh)
    original = [api.post("/persons", json=person_input(f"Person {n}")).json()["id"] for n in range(9)]
    doomed = iter(original[1::3])
    changes = iter(range(100))

    def churn() -> None:
        api.post("/persons", json=person_input(f"Newcomer {next(changes)}"))
        victim = next(doomed, None)
        if victim is not None:
            assert api.delete(f"/persons/{victim}").status_code == 204

    seen = _walk(api, "/persons", 2, churn)
    assert len(seen) == len(set(seen))
    survivors = [i for i in original if i not in original[1::3]]
    assert [i for i in seen if i in survivors] == survivors


def test_list_order_is_created_at_then_id(api: Api) -> None:
    """The order is (createdAt, id), as the document says."""
    items = api.get("/persons?limit=500").json()["items"]
    keys = [(p["createdAt"].replace("Z", ""), p["id"]) for p in items]
    assert len(items) >= 5
    assert [k[1] for k in sorted(keys, key=lambda k: (k[0].ljust(26, "0"), k[1]))] == [k[1] for k in keys]


def test_updated_after_returns_only_changes(fresh: ReferenceServer) -> None:
    """Records created or changed after T appear in lists and exports with updatedAfter=T; others do not."""
    api = Api(fresh)
    old = api.post("/objects", json=INPUTS["objects"]()).json()
    untouched = api.post("/objects", json=INPUTS["objects"]()).json()
    mark = api.get("/exports/objects").json()["exportedAt"]
    new = api.post("/objects", json=INPUTS["objects"]()).json()
    api.put(f"/objects/{old['id']}", json=INPUTS["objects"](serialNumber="SN-2"))
    listed = {o["id"] for o in api.get(f"/objects?updatedAfter={mark}").json()["items"]}
    exported = {o["id"] for o in api.get("/exports/objects", params={"updatedAfter": mark}).json()["items"]}
    assert listed == exported == {old["id"], new["id"]}
    assert untouched["id"] not in listed


def test_export_formats(api: Api) -> None:
    """JSON, NDJSON and RFC 4180 CSV exports hold the same records in the same order."""
    as_json = api.get("/exports/persons").json()
    assert as_json["entityType"] == "persons"
    assert as_json["count"] == len(as_json["items"])
    ndjson = api.get("/exports/persons", headers={"Accept": "application/x-ndjson"})
    assert ndjson.headers["Content-Type"] == "application/x-ndjson"
    lines = ndjson.content.decode("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == as_json["items"]
    response = api.get("/exports/persons", headers={"Accept": "text/csv"})
    assert response.headers["Content-Type"].startswith("text/csv")
    raw = response.content
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert raw.endswith(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert [r["id"] for r in rows] == [p["id"] for p in as_json["items"]]
    first = as_json["items"][0]
    assert rows[0]["fullName"] == first["fullName"]
    assert rows[0]["review.nextReviewDate"] == first["review"]["nextReviewDate"]
    assert json.loads(rows[0]["givenNames"]) == first["givenNames"]


def test_csv_quotes_commas_and_quotes(api: Api) -> None:
    """Fields with commas and double quotes are quoted (RFC 4180 §2.6, §2.7)."""
    api.post("/objects", json=INPUTS["objects"](description='Knife, "kitchen" type'))
    text = api.get("/exports/objects", headers={"Accept": "text/csv"}).content.decode("utf-8")
    assert '"Knife, ""kitchen"" type"' in text


def test_export_records_are_schema_valid(api: Api) -> None:
    """Every exported record validates against its record schema (audit and MoPI metadata included)."""
    for entity, schema in zip(ENTITIES, ["Person", "Object", "Location", "Event"], strict=True):
        for record in api.get(f"/exports/{entity}").json()["items"]:
            assert schema_errors(schema, record) == []
            assert {"createdAt", "updatedAt", "createdBy", "updatedBy", "review"} <= set(record)


def test_round_trip_into_an_empty_server(server: ReferenceServer) -> None:
    """Export every type from force A, import into an empty server, re-export: identical, links and
    non-ASCII text included."""
    source = Api(server)
    with ReferenceServer(seed_data=False, rate_limit_per_minute=1_000_000) as empty:
        target = Api(empty, "force-b")
        for entity in ENTITIES:
            items = source.get(f"/exports/{entity}").json()["items"]
            ndjson = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items).encode("utf-8")
            summary = target.post(
                f"/imports/{entity}", data=ndjson, headers={"Content-Type": "application/x-ndjson"}
            ).json()
            assert summary == {"imported": len(items), "failed": 0, "errors": []}
            assert target.get(f"/exports/{entity}").json()["items"] == items


def test_import_reports_invalid_records_and_keeps_the_valid_ones(fresh: ReferenceServer) -> None:
    """Each record is validated on its own; errors give the index and a pointer."""
    api = Api(fresh)
    good = api.post("/persons", json=person_input()).json()
    api.delete(f"/persons/{good['id']}")
    bad = dict(good, dateOfBirth="yesterday")
    response = api.post("/imports/persons", json={"items": [good, bad, {"objectType": "vehicle"}]})
    assert response.status_code == 200
    summary = response.json()
    assert summary["imported"] == 1
    assert [(e["index"], e.get("pointer")) for e in summary["errors"]] == [(1, "/dateOfBirth"), (2, "")]
    assert summary["errors"][0]["id"] == good["id"]
    assert api.get(f"/persons/{good['id']}").status_code == 200


def test_import_keeps_ids_metadata_and_counts_as_changed_now(fresh: ReferenceServer) -> None:
    """Imported records keep their stamps but appear in updatedAfter queries from the import on."""
    api = Api(fresh)
    mark = api.get("/exports/persons").json()["exportedAt"]
    record = {
        "id": "5f2b7c1e-8d4a-4c3b-9e6f-1a2b3c4d5e6f",
        "createdAt": "2020-01-01T00:00:00Z",
        "updatedAt": "2020-01-02T00:00:00Z",
        "createdBy": "other-supplier/PC1",
        "updatedBy": "other-supplier/PC2",
        **person_input(),
    }
    assert api.post("/imports/persons", json={"items": [record]}).json()["imported"] == 1
    assert api.get(f"/persons/{record['id']}").json() == record
    assert [p["id"] for p in api.get(f"/persons?updatedAfter={mark}").json()["items"]] == [record["id"]]


@pytest.mark.parametrize("entity", ENTITIES)
def test_deleted_records_are_gone(api: Api, entity: str) -> None:
    """DELETE gives 204; then the record is 404 and absent from lists and exports; a second DELETE is 404."""
    ident = api.post(f"/{entity}", json=INPUTS[entity]()).json()["id"]
    assert api.delete(f"/{entity}/{ident}").status_code == 204
    assert api.get(f"/{entity}/{ident}").status_code == 404
    assert api.delete(f"/{entity}/{ident}").status_code == 404
    assert ident not in {r["id"] for r in api.get(f"/{entity}?limit=500").json()["items"]}
    assert ident not in {r["id"] for r in api.get(f"/exports/{entity}").json()["items"]}


def test_linked_records_cannot_be_deleted_until_the_event_goes(api: Api) -> None:
    """A person, object or location linked from an event is 409 until the event is deleted."""
    person = api.post("/persons", json=person_input()).json()["id"]
    thing = api.post("/objects", json=INPUTS["objects"]()).json()["id"]
    place = api.post("/locations", json=INPUTS["locations"]()).json()["id"]
    links = {
        "personLinks": [{"personId": person, "role": "victim"}],
        "objectIds": [thing],
        "locationId": place,
    }
    event = api.post("/events", json=INPUTS["events"](**links)).json()["id"]
    for path in (f"/persons/{person}", f"/objects/{thing}", f"/locations/{place}"):
        assert api.delete(path).status_code == 409
    assert api.delete(f"/events/{event}").status_code == 204
    for path in (f"/persons/{person}", f"/objects/{thing}", f"/locations/{place}"):
        assert api.delete(path).status_code == 204


def test_event_links_must_exist_in_the_force(api: Api, api_b: Api) -> None:
    """Linking another force's person is 422 with a pointer to the link."""
    other = api_b.post("/persons", json=person_input()).json()["id"]
    response = api.post(
        "/events", json=INPUTS["events"](personLinks=[{"personId": other, "role": "witness"}])
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/personLinks/0/personId"


def test_audit_metadata_and_trail(api: Api) -> None:
    """Records carry who/when stamps; the audit trail records create, replace and delete by client id."""
    created = api.post("/persons", json=person_input()).json()
    assert created["createdBy"] == created["updatedBy"] == "reference-force-a"
    replaced = api.put(f"/persons/{created['id']}", json=person_input("Renamed")).json()
    assert replaced["createdAt"] == created["createdAt"]
    assert replaced["updatedAt"] > created["updatedAt"]
    api.delete(f"/persons/{created['id']}")
    trail = api.get(f"/audit-records?recordId={created['id']}").json()["items"]
    assert [a["action"] for a in trail] == ["created", "replaced", "deleted"]
    assert {a["actor"] for a in trail} == {"reference-force-a"}
    assert all(schema_errors("AuditRecord", a) == [] for a in trail)


def test_audit_trail_pages_stably(fresh: ReferenceServer) -> None:
    """The audit trail pages with cursors like the record lists (by at, then id)."""
    api = Api(fresh)
    for n in range(7):
        api.post("/locations", json=INPUTS["locations"](name=f"Place {n}"))
    ids = _walk(api, "/audit-records", 3)
    assert len(ids) == len(set(ids)) == 7


def test_import_with_no_valid_record_is_422(fresh: ReferenceServer) -> None:
    """When not one record can be imported the request is unprocessable (422), with a pointer per record."""
    api = Api(fresh)
    response = api.post("/imports/objects", json={"items": [{"objectType": "vehicle"}, {"description": "x"}]})
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json()["errors"]] == ["/items/0", "/items/1"]
    assert api.get("/exports/objects").json()["count"] == 0
