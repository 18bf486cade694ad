"""One function per documented operation, keyed by operationId.

By the time a handler runs, the app has routed the request, authenticated and authorised it, checked
``Accept`` and ``Content-Type``, validated parameters and the body against the document, and dropped
undeclared properties. Handlers apply the business rules the document states (tenancy, links, 409s,
mutual-aid transitions), talk to the store, write the audit trail and return a ``Reply``. Faults that
change what a particular operation does are applied here; faults about HTTP in general live in the app.
"""

from __future__ import annotations

import re
import unicodedata
import urllib.parse
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from .clock import format_datetime, parse_datetime
from .contract import Contract, Operation, columns, prune
from .formats import csv_bytes, ndjson_lines, strip_offsets
from .problems import ApiProblem, FaultCrash, FieldError
from .store import AuditAction, Cursor, Page, Store, decode_cursor, encode_cursor

__all__ = ["HANDLERS", "Call", "Handler", "Reply", "fold_ascii"]

MAX_IMPORT_RECORDS = 10_000
DEFAULT_LIMIT = 100
_NDJSON_CHUNK = 256

_SINGULAR = {"persons": "person", "objects": "object", "locations": "location", "events": "event"}
_SCHEMA = {"persons": "Person", "objects": "Object", "locations": "Location", "events": "Event"}
# What the lossy-import fault drops from each type of record.
_LOSSY_FIELD = {
    "persons": "aliases",
    "objects": "serialNumber",
    "locations": "address",
    "events": "personLinks",
}
# The mutual-aid status machine (MutualAidStatus): (from, to) -> the side that may make the change.
_TRANSITIONS = {
    ("requested", "accepted"): "providing",
    ("requested", "declined"): "providing",
    ("requested", "withdrawn"): "requesting",
    ("accepted", "fulfilled"): "providing",
    ("accepted", "withdrawn"): "requesting",
}
_FINAL = ("declined", "fulfilled", "withdrawn")
# What the no-audit-metadata fault leaves out of every record it answers with.
_ACTOR_FIELDS = ("createdBy", "updatedBy")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass(frozen=True, slots=True)
class Call:
    """One authorised, validated request, as a handler sees it."""

    operation: Operation
    force: str
    actor: str
    path_params: Mapping[str, str]
    query: Mapping[str, Any]
    body: Any
    raw_body: bytes
    content_type: str
    media_type: str
    correlation_id: str
    faults: frozenset[str]
    origin: str
    path: str
    query_string: str


@dataclass(frozen=True, slots=True)
class Reply:
    """A handler's answer: a JSON ``body``, or ``raw`` bytes, or a ``stream`` of bytes."""

    status: int
    body: Any = None
    media_type: str = "application/json"
    raw: bytes | None = None
    stream: AsyncIterator[bytes] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


Handler = Callable[[Store, Contract, Call], Reply]


# -- shared helpers -------------------------------------------------------------------------------------
def fold_ascii(value: Any) -> Any:
    """The ascii-folding fault: text loses its diacritics, and what cannot be folded becomes '?'."""
    if isinstance(value, str):
        decomposed = unicodedata.normalize("NFKD", value)
        stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
        return stripped.encode("ascii", "replace").decode("ascii")
    if isinstance(value, dict):
        return {k: fold_ascii(v) for k, v in value.items()}
    if isinstance(value, list):
        return [fold_ascii(v) for v in value]
    return value


def _stored_fields(call: Call) -> dict[str, Any]:
    fields: dict[str, Any] = dict(call.body)
    return fold_ascii(fields) if "ascii-folding" in call.faults else fields


def _cursor(call: Call) -> Cursor | None:
    text = call.query.get("cursor")
    if text is None:
        return None
    cursor = decode_cursor(text)
    if cursor is None:
        raise ApiProblem(400, "The cursor is not one this server issued; pass back nextCursor unchanged.")
    return cursor


def _since(call: Call, name: str = "updatedAfter") -> Any:
    if name == "updatedAfter" and "no-since-filter" in call.faults:
        return None
    text = call.query.get(name)
    return parse_datetime(text) if text is not None else None


def _page_body(call: Call, page: Page) -> dict[str, Any]:
    query = call.query_string
    self_url = f"{call.origin}{call.path}" + (f"?{query}" if query else "")
    body: dict[str, Any] = {"items": page.items}
    links: dict[str, str] = {"self": self_url}
    if page.next is not None:
        token = encode_cursor(page.next)
        params = [(k, v) for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True) if k != "cursor"]
        params.append(("cursor", token))
        body["nextCursor"] = token
        links["next"] = f"{call.origin}{call.path}?{urllib.parse.urlencode(params)}"
    body["links"] = links
    return body


def _not_found(store: Store, entity: str, ident: str) -> ApiProblem:
    return ApiProblem(404, f"No {_SINGULAR[entity]} with id {ident}.", soft=not store.holders(entity, ident))


def _drift(entity: str, call: Call, record: dict[str, Any]) -> dict[str, Any]:
    """A record as answered: the schema-drift fault gives Person records a retention group outside the enum;
    the no-audit-metadata fault drops who created and last changed every record."""
    record = _actors_shown(call, record)
    if entity != "persons" or "schema-drift" not in call.faults:
        return record
    return record | {"review": {**record["review"], "retentionCategory": "Group 3 (all other offences)"}}


def _actors_shown(call: Call, record: dict[str, Any]) -> dict[str, Any]:
    """The record, without createdBy/updatedBy under the no-audit-metadata fault."""
    if "no-audit-metadata" not in call.faults:
        return record
    return {k: v for k, v in record.items() if k not in _ACTOR_FIELDS}


def _owner(store: Store, call: Call, entity: str, ident: str) -> str | None:
    """The force whose record a write by id acts on: the caller's, or (cross-tenant-write fault) any holder's."""
    if store.get(call.force, entity, ident) is not None:
        return call.force
    if "cross-tenant-write" in call.faults:
        return next(iter(store.holders(entity, ident)), None)
    return None


def _audit(store: Store, call: Call, action: AuditAction, record_type: str, record_id: str) -> None:
    if action in ("replaced", "updated") and "no-audit-metadata" in call.faults:
        return  # the fault's audit trail only knows about creations, reads, deletions and bulk operations
    store.audit(
        call.force,
        actor=call.actor,
        action=action,
        record_type=record_type,
        record_id=record_id,
        correlation_id=call.correlation_id,
    )


def _link_errors(store: Store, force: str, fields: Mapping[str, Any]) -> list[FieldError]:
    """Every event link that does not name a record of the caller's force."""
    errors: list[FieldError] = []
    location = fields.get("locationId")
    if location is not None and store.get(force, "locations", location) is None:
        errors.append(FieldError("/locationId", "No location with this id in your force."))
    for i, link in enumerate(fields.get("personLinks", [])):
        if store.get(force, "persons", link["personId"]) is None:
            errors.append(FieldError(f"/personLinks/{i}/personId", "No person with this id in your force."))
    for i, ident in enumerate(fields.get("objectIds", [])):
        if store.get(force, "objects", ident) is None:
            errors.append(FieldError(f"/objectIds/{i}", "No object with this id in your force."))
    return errors


def _unprocessable(errors: list[FieldError]) -> ApiProblem:
    noun = "field is" if len(errors) == 1 else "fields are"
    return ApiProblem(422, f"{len(errors)} {noun} not valid.", errors=errors)


# -- POLE records -----------------------------------------------------------------------------------------
def _list_records(entity: str) -> Handler:
    def handler(store: Store, contract: Contract, call: Call) -> Reply:
        page = store.page(
            call.force,
            entity,
            after=_cursor(call),
            limit=call.query.get("limit", DEFAULT_LIMIT),
            updated_after=_since(call),
            unstable="unstable-paging" in call.faults,
        )
        page = Page([_drift(entity, call, r) for r in page.items], page.next)
        return Reply(200, _page_body(call, page))

    return handler


def _create_record(entity: str) -> Handler:
    def handler(store: Store, contract: Contract, call: Call) -> Reply:
        fields = _stored_fields(call)
        if entity == "events":
            errors = _link_errors(store, call.force, fields)
            if errors:
                raise _unprocessable(errors)
        record = store.create(call.force, entity, fields, call.actor)
        _audit(store, call, "created", _SINGULAR[entity], record["id"])
        location = f"{call.origin}/v1/{entity}/{record['id']}"
        return Reply(201, _drift(entity, call, record), headers={"Location": location})

    return handler


def _get_record(entity: str, param: str) -> Handler:
    def handler(store: Store, contract: Contract, call: Call) -> Reply:
        ident = call.path_params[param]
        record = store.get(call.force, entity, ident)
        if record is None and "cross-tenant-read" in call.faults:
            for holder in store.holders(entity, ident):
                record = store.get(holder, entity, ident)
        if record is None:
            raise _not_found(store, entity, ident)
        _audit(store, call, "read", _SINGULAR[entity], ident)
        status = 203 if "wrong-status" in call.faults and entity != "persons" else 200
        return Reply(status, _drift(entity, call, record))

    return handler


def _replace_record(entity: str, param: str) -> Handler:
    def handler(store: Store, contract: Contract, call: Call) -> Reply:
        ident = call.path_params[param]
        owner = _owner(store, call, entity, ident)
        if owner is None:
            raise _not_found(store, entity, ident)
        fields = _stored_fields(call)
        if entity == "events":
            errors = _link_errors(store, owner, fields)
            if errors:
                raise _unprocessable(errors)
        record = store.replace(owner, entity, ident, fields, call.actor)
        assert record is not None
        _audit(store, call, "replaced", _SINGULAR[entity], ident)
        return Reply(200, _drift(entity, call, record))

    return handler


def _delete_record(entity: str, param: str) -> Handler:
    def handler(store: Store, contract: Contract, call: Call) -> Reply:
        ident = call.path_params[param]
        owner = _owner(store, call, entity, ident)
        if owner is None:
            raise _not_found(store, entity, ident)
        if entity != "events":
            event = store.linked_from(owner, entity, ident)
            if event is not None:
                what = _SINGULAR[entity]
                raise ApiProblem(
                    409,
                    f"The {what} is still linked from event {event}: unlink or dispose of the event first.",
                )
        store.delete(owner, entity, ident)
        _audit(store, call, "deleted", _SINGULAR[entity], ident)
        return Reply(204)

    return handler


# -- mutual aid -------------------------------------------------------------------------------------------
def _request_not_found(store: Store, ident: str) -> ApiProblem:
    return ApiProblem(404, f"No mutual-aid request with id {ident}.", soft=not store.request_exists(ident))


def list_requests(store: Store, contract: Contract, call: Call) -> Reply:
    page = store.page_requests(
        call.force,
        after=_cursor(call),
        limit=call.query.get("limit", DEFAULT_LIMIT),
        updated_after=_since(call),
        status=call.query.get("status"),
        unstable="unstable-paging" in call.faults,
    )
    return Reply(200, _page_body(call, page))


def create_request(store: Store, contract: Contract, call: Call) -> Reply:
    fields = _stored_fields(call)
    errors: list[FieldError] = []
    if fields["providingForce"] == call.force:
        errors.append(FieldError("/providingForce", "A force cannot ask itself for mutual aid."))
    if store.get(call.force, "events", fields["eventId"]) is None:
        errors.append(FieldError("/eventId", "No event with this id in your force."))
    start, end = parse_datetime(fields["requiredFrom"]), parse_datetime(fields["requiredUntil"])
    if start is not None and end is not None and end <= start:
        errors.append(FieldError("/requiredUntil", "Must be after requiredFrom."))
    if errors:
        raise _unprocessable(errors)
    record = store.create_request(call.force, fields, call.actor)
    _audit(store, call, "created", "mutualAidRequest", record["id"])
    location = f"{call.origin}/v1/mutual-aid-requests/{record['id']}"
    return Reply(201, record, headers={"Location": location})


def get_request(store: Store, contract: Contract, call: Call) -> Reply:
    ident = call.path_params["requestId"]
    record = store.get_request(call.force, ident)
    if record is None:
        raise _request_not_found(store, ident)
    _audit(store, call, "read", "mutualAidRequest", ident)
    return Reply(200, record)


def update_request(store: Store, contract: Contract, call: Call) -> Reply:
    ident = call.path_params["requestId"]
    record = store.get_request(call.force, ident)
    if record is None:
        raise _request_not_found(store, ident)
    patch = _stored_fields(call)
    side = "requesting" if record["requestingForce"] == call.force else "providing"
    changes: dict[str, Any] = {}
    new_status = patch.get("status")
    if new_status is not None and new_status != record["status"]:
        allowed = _TRANSITIONS.get((record["status"], new_status))
        if allowed is None:
            raise ApiProblem(409, f"A {record['status']} request cannot become {new_status}.")
        if allowed != side:
            raise ApiProblem(
                403, f"Only the {allowed} force may make a request {new_status}.", title="Forbidden"
            )
        changes["status"] = new_status
    if "notes" in patch:
        changes["notes"] = patch["notes"]
    updated = store.update_request(ident, changes, call.actor)
    _audit(store, call, "updated", "mutualAidRequest", ident)
    return Reply(200, updated)


def delete_request(store: Store, contract: Contract, call: Call) -> Reply:
    ident = call.path_params["requestId"]
    record = store.get_request(call.force, ident)
    if record is None:
        raise _request_not_found(store, ident)
    if record["requestingForce"] != call.force:
        raise ApiProblem(
            403, "Only the requesting force may dispose of a mutual-aid request.", title="Forbidden"
        )
    if record["status"] not in _FINAL:
        raise ApiProblem(409, f"A {record['status']} request is not over: withdraw it with PATCH first.")
    store.delete_request(ident)
    _audit(store, call, "deleted", "mutualAidRequest", ident)
    return Reply(204)


def get_request_status(store: Store, contract: Contract, call: Call) -> Reply:
    ident = call.path_params["requestId"]
    record = store.get_request(call.force, ident)
    if record is None:
        raise _request_not_found(store, ident)
    _audit(store, call, "read", "mutualAidRequest", ident)
    return Reply(200, {"requestId": ident, "status": record["status"], "updatedAt": record["updatedAt"]})


# -- bulk export and import -------------------------------------------------------------------------------
async def _chunks(lines: Iterable[bytes]) -> AsyncIterator[bytes]:
    batch: list[bytes] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= _NDJSON_CHUNK:
            yield b"".join(batch)
            batch = []
    if batch:
        yield b"".join(batch)


def export_records(store: Store, contract: Contract, call: Call) -> Reply:
    entity = call.path_params["entityType"]
    exported_at = store.now()
    records = store.snapshot(
        call.force,
        entity,
        updated_after=_since(call),
        include_deleted="soft-delete-still-exported" in call.faults,
    )
    if "export-drops-records" in call.faults and records:
        # The newest record (last in createdAt order) "was not committed yet" when the snapshot was taken.
        newest = max(records, key=lambda r: (parse_datetime(r["createdAt"]), r["id"]))
        records = [r for r in records if r is not newest]
    for record in records:
        _audit(store, call, "exported", _SINGULAR[entity], record["id"])
    if "no-audit-metadata" in call.faults:
        records = [_actors_shown(call, r) for r in records]
    if call.media_type == "application/json":
        body = {
            "entityType": entity,
            "exportedAt": format_datetime(exported_at),
            "count": len(records),
            "items": records,
        }
        return Reply(200, body)
    if "naive-datetimes" in call.faults:
        records = strip_offsets(records)
    if call.media_type == "application/x-ndjson":
        return Reply(200, media_type="application/x-ndjson", stream=_chunks(ndjson_lines(records)))
    names = columns(contract.shape(_SCHEMA[entity]))
    data = csv_bytes(records, names, rfc4180="csv-not-rfc4180" not in call.faults)
    return Reply(200, media_type="text/csv; charset=utf-8; header=present", raw=data)


def _import_items(call: Call) -> list[tuple[Any, str | None]]:
    """(record, parse problem) pairs from a JSON or NDJSON body; 422 for a JSON body of the wrong shape."""
    if call.content_type == "application/x-ndjson":
        items: list[tuple[Any, str | None]] = []
        for number, line in enumerate(call.raw_body.split(b"\n"), start=1):
            if not line.strip():
                continue
            try:
                items.append((orjson.loads(line), None))
            except orjson.JSONDecodeError:
                items.append((None, f"Line {number} is not JSON."))
        return items
    body = call.body
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise ApiProblem(
            422,
            "The body must be an object with an 'items' array.",
            errors=[FieldError("/items", "Missing or not an array.")],
        )
    return [(item, None) for item in body["items"]]


def import_records(store: Store, contract: Contract, call: Call) -> Reply:
    entity = call.path_params["entityType"]
    schema = _SCHEMA[entity]
    items = _import_items(call)
    if len(items) > MAX_IMPORT_RECORDS:
        raise ApiProblem(413, f"An import holds at most {MAX_IMPORT_RECORDS:,} records; split the file.")
    if not items:
        raise ApiProblem(422, "The import holds no records.", errors=[FieldError("/items", "Empty.")])
    shape = contract.shape(schema)
    valid: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for index, (item, problem) in enumerate(items):
        found = contract.errors(schema, item, limit=1) if problem is None else []
        if problem is not None or found:
            error: dict[str, Any] = {"index": index, "detail": problem or found[0][0].detail}
            if found:
                error["pointer"] = found[0][0].pointer
            ident = item.get("id") if isinstance(item, dict) else None
            if isinstance(ident, str) and _UUID.match(ident):
                error["id"] = ident
            errors.append(error)
            continue
        record, dropped = prune(item, shape)
        if dropped and "strict-unknown-fields" in call.faults:
            raise FaultCrash("an undeclared property reached the database layer")
        valid.append(record)
    if not valid:
        # Nothing could be imported: the request as a whole is unprocessable (and a client that sends
        # only invalid records learns so from the status, not just from a 200 with failed == count).
        where = "/items/" if call.content_type != "application/x-ndjson" else "/"
        field_errors = [
            FieldError(f"{where}{e['index']}{e.get('pointer', '')}", e["detail"]) for e in errors[:20]
        ]
        noun = "record is" if len(errors) == 1 else "records are"
        raise ApiProblem(422, f"No record was imported: {len(errors)} {noun} not valid.", errors=field_errors)
    for record in valid:
        if "lossy-import" in call.faults:
            record.pop(_LOSSY_FIELD[entity], None)
        if "ascii-folding" in call.faults:
            record = fold_ascii(record)
        store.put_imported(call.force, entity, record)
        _audit(store, call, "imported", _SINGULAR[entity], record["id"])
    return Reply(200, {"imported": len(valid), "failed": len(errors), "errors": errors})


# -- audit ------------------------------------------------------------------------------------------------
def list_audit(store: Store, contract: Contract, call: Call) -> Reply:
    page = store.page_audit(
        call.force,
        after=_cursor(call),
        limit=call.query.get("limit", DEFAULT_LIMIT),
        since=_since(call, "after"),
        record_type=call.query.get("recordType"),
        record_id=call.query.get("recordId"),
        unstable="unstable-paging" in call.faults,
    )
    return Reply(200, _page_body(call, page))


def _table() -> dict[str, Handler]:
    table: dict[str, Handler] = {}
    for entity, name in (
        ("persons", "Person"),
        ("objects", "Object"),
        ("locations", "Location"),
        ("events", "Event"),
    ):
        param = f"{_SINGULAR[entity]}Id"
        table[f"list{name}s"] = _list_records(entity)
        table[f"create{name}"] = _create_record(entity)
        table[f"get{name}"] = _get_record(entity, param)
        table[f"replace{name}"] = _replace_record(entity, param)
        table[f"delete{name}"] = _delete_record(entity, param)
    table |= {
        "listMutualAidRequests": list_requests,
        "createMutualAidRequest": create_request,
        "getMutualAidRequest": get_request,
        "updateMutualAidRequest": update_request,
        "deleteMutualAidRequest": delete_request,
        "getMutualAidRequestStatus": get_request_status,
        "exportRecords": export_records,
        "importRecords": import_records,
        "listAuditRecords": list_audit,
    }
    return table


HANDLERS: Mapping[str, Handler] = _table()
"""Every documented operation's handler, by operationId (a test checks none is missing)."""
