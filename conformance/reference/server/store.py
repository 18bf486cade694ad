"""In-memory data of the reference supplier: per-force POLE records, mutual-aid requests and audit trails.

* **Tenancy.** Every POLE record and audit record belongs to one force and is only reachable through
  that force's collections; record ids are unique within a force (an import may bring the same id into
  another force). A mutual-aid request is shared by the two forces it names.
* **Stable paging.** Collections keep their keys sorted by (createdAt, id); a cursor is the key of the
  last item returned (keyset paging), so inserts and deletes while a client walks the pages never make
  it skip or repeat a record.
* **Change tracking.** Each record remembers when it was created, changed or imported *in this system*
  (``changed``), which is what ``updatedAfter`` filters on: an imported record counts from its import,
  not from the ``updatedAt`` it arrived with (as the document says).
* **Deletion** removes a record from reads, lists and exports; a tombstone copy is kept only so the
  ``soft-delete-still-exported`` fault has something to leak.

The store is used from the server's event loop only (and by seeding before it starts), so it needs no
locks. It knows nothing about HTTP: handlers enforce the business rules and map results to statuses.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import datetime
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from .clock import Clock, format_datetime, parse_datetime

__all__ = [
    "ENTITY_TYPES",
    "AuditAction",
    "AuditEntry",
    "Cursor",
    "Page",
    "Store",
    "decode_cursor",
    "encode_cursor",
]

ENTITY_TYPES = ("persons", "objects", "locations", "events")
AuditAction = Literal["created", "read", "replaced", "updated", "deleted", "exported", "imported"]
Key = tuple[datetime.datetime, str]


# -- cursors ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page walk stands: the key of the last item returned (and, for the unstable-paging
    fault only, an offset and page number)."""

    at: datetime.datetime
    id: str
    offset: int = 0
    page: int = 0


def encode_cursor(cursor: Cursor) -> str:
    """Opaque to clients: base64url of a small JSON object, without padding."""
    data: dict[str, Any] = {"c": format_datetime(cursor.at), "i": cursor.id}
    if cursor.offset or cursor.page:
        data |= {"o": cursor.offset, "p": cursor.page}
    return base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b"=").decode("ascii")


def decode_cursor(text: str) -> Cursor | None:
    """The cursor, or None when ``text`` is not one this server issued."""
    try:
        data = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    at = parse_datetime(data["c"]) if isinstance(data.get("c"), str) else None
    ident, offset, page = data.get("i"), data.get("o", 0), data.get("p", 0)
    if at is None or not isinstance(ident, str) or not isinstance(offset, int) or not isinstance(page, int):
        return None
    if offset < 0 or page < 0:
        return None
    return Cursor(at, ident, offset, page)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of items and, when more follow, the cursor of the next page."""

    items: list[dict[str, Any]]
    next: Cursor | None


# -- records ----------------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Entry:
    """A stored record with its sort key and the instant it last changed in this system."""

    record: dict[str, Any]
    key: Key
    changed: datetime.datetime


@dataclass(slots=True)
class _Collection:
    """The records of one type for one force (or the shared mutual-aid requests), kept sorted."""

    entries: dict[str, _Entry] = field(default_factory=dict)
    keys: list[Key] = field(default_factory=list)
    tombstones: dict[str, _Entry] = field(default_factory=dict)

    def put(self, entry: _Entry) -> None:
        old = self.entries.get(entry.record["id"])
        if old is not None:
            self._drop_key(old.key)
        self.tombstones.pop(entry.record["id"], None)
        self.entries[entry.record["id"]] = entry
        bisect.insort(self.keys, entry.key)

    def remove(self, ident: str) -> _Entry | None:
        entry = self.entries.pop(ident, None)
        if entry is not None:
            self._drop_key(entry.key)
            self.tombstones[ident] = entry
        return entry

    def _drop_key(self, key: Key) -> None:
        index = bisect.bisect_left(self.keys, key)
        if index < len(self.keys) and self.keys[index] == key:
            del self.keys[index]

    def ordered(self) -> Iterator[_Entry]:
        for _, ident in self.keys:
            yield self.entries[ident]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One immutable audit record (rendered to the document's AuditRecord on demand)."""

    id: str
    actor: str
    action: str
    record_type: str
    record_id: str
    at: datetime.datetime
    correlation_id: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "actor": self.actor,
            "action": self.action,
            "recordType": self.record_type,
            "recordId": self.record_id,
            "at": format_datetime(self.at),
            "correlationId": self.correlation_id,
        }


@dataclass(slots=True)
class _Tenant:
    collections: dict[str, _Collection] = field(
        default_factory=lambda: {t: _Collection() for t in ENTITY_TYPES}
    )
    audit: list[AuditEntry] = field(default_factory=list)
    audit_keys: list[Key] = field(default_factory=list)


def _key_of(record: Mapping[str, Any]) -> Key:
    created = parse_datetime(record["createdAt"])
    assert created is not None, "records are validated before they are stored"
    return created, record["id"]


def _walk(
    keys: list[Key],
    lookup: Callable[[Key], dict[str, Any] | None],
    *,
    after: Cursor | None,
    limit: int,
    keep: Callable[[dict[str, Any]], bool],
) -> Page:
    """Keyset paging: the first ``limit`` kept items after the cursor's key, and whether more follow."""
    start = bisect.bisect_right(keys, (after.at, after.id)) if after is not None else 0
    items: list[dict[str, Any]] = []
    last: Key | None = None
    for index in range(start, len(keys)):
        key = keys[index]
        item = lookup(key)
        if item is None or not keep(item):
            continue
        if len(items) == limit:
            assert last is not None
            return Page(items, Cursor(last[0], last[1]))
        items.append(item)
        last = key
    return Page(items, None)


def _walk_unstably(
    keys: list[Key],
    lookup: Callable[[Key], dict[str, Any] | None],
    *,
    after: Cursor | None,
    limit: int,
    keep: Callable[[dict[str, Any]], bool],
) -> Page:
    """The unstable-paging fault: offset paging that skips one record after even pages and repeats one
    after odd pages (a classic off-by-one), while still always making progress."""
    kept: list[tuple[Key, dict[str, Any]]] = []
    for key in keys:
        item = lookup(key)
        if item is not None and keep(item):
            kept.append((key, item))
    offset = after.offset if after is not None else 0
    page = after.page if after is not None else 0
    chosen = kept[offset : offset + limit]
    following = offset + len(chosen) + (1 if page % 2 == 0 else -1)
    if not chosen or following >= len(kept):
        return Page([item for _, item in chosen], None)
    last = chosen[-1][0]
    return Page([item for _, item in chosen], Cursor(last[0], last[1], max(following, offset + 1), page + 1))


class Store:
    """All data of one server instance."""

    def __init__(self, tenants: list[str], clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self._tenants = {code: _Tenant() for code in tenants}
        self._requests = _Collection()

    # -- helpers --------------------------------------------------------------------------------------
    def _collection(self, tenant: str, entity: str) -> _Collection:
        return self._tenants[tenant].collections[entity]

    def now(self) -> datetime.datetime:
        return self.clock.now()

    # -- POLE records ---------------------------------------------------------------------------------
    def get(self, tenant: str, entity: str, ident: str) -> dict[str, Any] | None:
        entry = self._collection(tenant, entity).entries.get(ident)
        return entry.record if entry is not None else None

    def holders(self, entity: str, ident: str) -> list[str]:
        """The forces that hold a record with this id (for faults that look across forces)."""
        return [code for code, t in self._tenants.items() if ident in t.collections[entity].entries]

    def count(self, tenant: str, entity: str) -> int:
        return len(self._collection(tenant, entity).entries)

    def page(
        self,
        tenant: str,
        entity: str,
        *,
        after: Cursor | None,
        limit: int,
        updated_after: datetime.datetime | None,
        unstable: bool = False,
    ) -> Page:
        collection = self._collection(tenant, entity)

        def keep(record: dict[str, Any]) -> bool:
            return updated_after is None or collection.entries[record["id"]].changed > updated_after

        def lookup(key: Key) -> dict[str, Any] | None:
            entry = collection.entries.get(key[1])
            return entry.record if entry is not None else None

        walker = _walk_unstably if unstable else _walk
        return walker(collection.keys, lookup, after=after, limit=limit, keep=keep)

    def snapshot(
        self,
        tenant: str,
        entity: str,
        *,
        updated_after: datetime.datetime | None,
        include_deleted: bool = False,
    ) -> list[dict[str, Any]]:
        """Every record of the type, ordered by (createdAt, id), as at this instant."""
        collection = self._collection(tenant, entity)
        entries = list(collection.ordered())
        if include_deleted:
            entries = sorted([*entries, *collection.tombstones.values()], key=lambda e: e.key)
        return [e.record for e in entries if updated_after is None or e.changed > updated_after]

    def create(self, tenant: str, entity: str, fields: Mapping[str, Any], actor: str) -> dict[str, Any]:
        at = self.now()
        now = format_datetime(at)
        record = {
            "id": str(uuid.uuid4()),
            "createdAt": now,
            "updatedAt": now,
            "createdBy": actor,
            "updatedBy": actor,
        }
        record.update(fields)
        self._collection(tenant, entity).put(_Entry(record, (at, record["id"]), at))
        return record

    def replace(
        self, tenant: str, entity: str, ident: str, fields: Mapping[str, Any], actor: str
    ) -> dict[str, Any] | None:
        collection = self._collection(tenant, entity)
        old = collection.entries.get(ident)
        if old is None:
            return None
        at = self.now()
        record = {
            "id": ident,
            "createdAt": old.record["createdAt"],
            "updatedAt": format_datetime(at),
            "createdBy": old.record["createdBy"],
            "updatedBy": actor,
        }
        record.update(fields)
        collection.put(_Entry(record, old.key, at))
        return record

    def delete(self, tenant: str, entity: str, ident: str) -> bool:
        return self._collection(tenant, entity).remove(ident) is not None

    def put_imported(self, tenant: str, entity: str, record: dict[str, Any]) -> None:
        """Store a record as given (ids, stamps and links kept); it counts as changed now."""
        self._collection(tenant, entity).put(_Entry(record, _key_of(record), self.now()))

    def seed(self, tenant: str, entity: str, record: dict[str, Any]) -> None:
        """Store a seed record as created at its own ``createdAt``."""
        key = _key_of(record)
        self._collection(tenant, entity).put(
            _Entry(record, key, parse_datetime(record["updatedAt"]) or key[0])
        )

    def linked_from(self, tenant: str, entity: str, ident: str) -> str | None:
        """The id of an event that links to this person, object or location, if any."""
        for event in self._collection(tenant, "events").entries.values():
            record = event.record
            if entity == "persons" and any(
                link.get("personId") == ident for link in record.get("personLinks", [])
            ):
                return str(record["id"])
            if entity == "objects" and ident in record.get("objectIds", []):
                return str(record["id"])
            if entity == "locations" and record.get("locationId") == ident:
                return str(record["id"])
        return None

    # -- mutual-aid requests --------------------------------------------------------------------------
    @staticmethod
    def _party(record: Mapping[str, Any], force: str) -> bool:
        return force in (record["requestingForce"], record["providingForce"])

    def get_request(self, force: str, ident: str) -> dict[str, Any] | None:
        entry = self._requests.entries.get(ident)
        if entry is None or not self._party(entry.record, force):
            return None
        return entry.record

    def request_exists(self, ident: str) -> bool:
        return ident in self._requests.entries

    def page_requests(
        self,
        force: str,
        *,
        after: Cursor | None,
        limit: int,
        updated_after: datetime.datetime | None,
        status: str | None,
        unstable: bool = False,
    ) -> Page:
        entries = self._requests.entries

        def keep(record: dict[str, Any]) -> bool:
            if not self._party(record, force) or (status is not None and record["status"] != status):
                return False
            return updated_after is None or entries[record["id"]].changed > updated_after

        def lookup(key: Key) -> dict[str, Any] | None:
            entry = entries.get(key[1])
            return entry.record if entry is not None else None

        walker = _walk_unstably if unstable else _walk
        return walker(self._requests.keys, lookup, after=after, limit=limit, keep=keep)

    def create_request(self, force: str, fields: Mapping[str, Any], actor: str) -> dict[str, Any]:
        at = self.now()
        now = format_datetime(at)
        record: dict[str, Any] = dict(fields)
        record |= {
            "id": str(uuid.uuid4()),
            "requestingForce": force,
            "status": "requested",
            "createdAt": now,
            "updatedAt": now,
            "createdBy": actor,
            "updatedBy": actor,
        }
        self._requests.put(_Entry(record, _key_of(record), at))
        return record

    def seed_request(self, record: dict[str, Any]) -> None:
        key = _key_of(record)
        self._requests.put(_Entry(record, key, parse_datetime(record["updatedAt"]) or key[0]))

    def update_request(self, ident: str, changes: Mapping[str, Any], actor: str) -> dict[str, Any]:
        entry = self._requests.entries[ident]
        at = self.now()
        record = {k: v for k, v in entry.record.items() if k not in changes or changes[k] is not None}
        record.update({k: v for k, v in changes.items() if v is not None})
        record["updatedAt"] = format_datetime(at)
        record["updatedBy"] = actor
        self._requests.put(_Entry(record, entry.key, at))
        return record

    def delete_request(self, ident: str) -> None:
        self._requests.remove(ident)

    # -- audit trail ----------------------------------------------------------------------------------
    def audit(
        self,
        tenant: str,
        *,
        actor: str,
        action: AuditAction,
        record_type: str,
        record_id: str,
        correlation_id: str,
    ) -> None:
        entry = AuditEntry(
            id=str(uuid.uuid4()),
            actor=actor,
            action=action,
            record_type=record_type,
            record_id=record_id,
            at=self.now(),
            correlation_id=correlation_id,
        )
        tenant_data = self._tenants[tenant]
        tenant_data.audit.append(entry)
        # The clock never repeats an instant, so appending keeps (at, id) sorted.
        tenant_data.audit_keys.append((entry.at, entry.id))

    def page_audit(
        self,
        tenant: str,
        *,
        after: Cursor | None,
        limit: int,
        since: datetime.datetime | None,
        record_type: str | None,
        record_id: str | None,
        unstable: bool = False,
    ) -> Page:
        tenant_data = self._tenants[tenant]
        keys = tenant_data.audit_keys

        def lookup(key: Key) -> dict[str, Any] | None:
            # Filter on the entry itself, so only the entries on the page are rendered.
            entry = tenant_data.audit[bisect.bisect_left(keys, key)]
            if record_type is not None and entry.record_type != record_type:
                return None
            if record_id is not None and entry.record_id != record_id:
                return None
            if since is not None and entry.at <= since:
                return None
            return entry.to_json()

        if since is not None and after is None and not unstable:
            # Start at the first entry after `since` rather than walking the trail from its beginning.
            after = Cursor(since, "\uffff")
        walker = _walk_unstably if unstable else _walk
        return walker(keys, lookup, after=after, limit=limit, keep=lambda item: True)
