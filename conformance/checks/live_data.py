"""C6/C7/C9/C10 — the live data checks: incremental export, audit metadata, MoPI deletion, tenant isolation,
POLE payloads against a customer's data dictionary, and a first cross-supplier transfer.

Every check reads the document under test to decide what to call. A *record type* is a list operation (a
GET on a path without parameters) whose 2xx response holds an array — the root, a root property, or one
inside an envelope (``list_envelopes``) — of a named component schema that is a POLE entity (tagged
``x-pole-entity``, or named like POLE data: ``_common.pole_entities``). Its create operation is the POST on
the same path taking a JSON object; its item operations are the GET/PUT/PATCH/DELETE on ``<path>/{id}``.
Records are identified by their ``id``; lists are walked by their ``Link: rel=next`` header, a next link in
the body (``links.next``, ``next``…) or a next cursor passed back in the list's cursor parameter.

Checks that write need ``--allow-writes`` and only ever write synthetic records: built from the schema's
examples, every free-text field set to ``conformance-test``. Each deletes what it created (a failed clean-up
is noted with the record's URL). Traffic is small: a few lists of one page each, a handful of writes, and
walks of at most ``max_pages`` pages when a check must look for a record.

Sources: GOV.UK API technical and data standards; Technology Code of Practice point 10; College of Policing
APP, Management of Police Information; NCSC "Securing HTTP-based APIs"; OWASP API Security Top 10 2023
(API1); the PDS POLE Data Standards Catalogue; the InterOp-Pol tiers (Gold).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin
from weakref import WeakKeyDictionary

from ..live import AuthMode
from ..outcome import Finding
from ..registry import CantTell, CheckContext, Inapplicable, NotTested, check
from ..spec.model import Loc, Operation
from ._common import (
    DEFAULT_POLE_VOCABULARY,
    DEFAULT_WRAPPER_WORDS,
    POLE_CATALOGUE_EXTENSION,
    _freeze,
    describe,
    operation_schemas,
    pole_entities,
    words,
)
from ._live import (
    collection_reads,
    fill_path,
    json_request_schema,
    live_finding,
    operations,
    path_parameters,
)
from .live_http import _answered, _is_2xx, _json_value, _plain_text_fits, _synthetic_body, _target
from .pole_dictionary import dictionary_from, value_problem, values_at
from .portability import (
    DEFAULT_CURSOR_PARAMS,
    DEFAULT_INCREMENTAL_PARAMS,
    DEFAULT_LIST_ENVELOPES,
    DEFAULT_NEXT_PROPERTIES,
    DEFAULT_RETENTION_NAMES,
    DEFAULT_REVIEW_NAMES,
    _array_items,
    _normal,
    _normals,
)

if TYPE_CHECKING:
    from ..live import Exchange, LiveTarget

_MARK = "conformance-test"
_GOVUK = "GOV.UK API technical and data standards"
_UTC = dt.timezone.utc
_ENTITY_ORDER = {"Person": 0, "Object": 1, "Location": 2, "Event": 3}
_WALK_PAGE = 100
_PAGE_SIZE_NAMES = frozenset({"limit", "pagesize", "perpage", "size", "top", "count", "maxresults"})
_NEXT_HOLDERS = ("links", "_links", "meta", "paging", "pagination", "page")
_ENVELOPE_KEYS = ("items", "data", "results", "records", "content", "entries", "values")
_ID_NAMES = ("id", "identifier", "uuid")
_LINK_NEXT = re.compile(r'<([^>]*)>\s*;[^,]*?\brel="?([^";,]*\s)?next(\s[^";,]*)?"?', re.IGNORECASE)
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$")

DEFAULT_CREATED_AT = ["createdAt", "created", "createdOn", "creationDate", "dateCreated", "createdTime"]
DEFAULT_UPDATED_AT = [
    "updatedAt", "updated", "updatedOn", "modifiedAt", "modified", "lastModified", "lastUpdated", "dateModified",
    "lastModifiedDate",
]  # fmt: skip
DEFAULT_CREATED_BY = ["createdBy", "creator", "createdByUser", "author"]
DEFAULT_UPDATED_BY = ["updatedBy", "modifiedBy", "lastModifiedBy", "lastUpdatedBy", "changedBy"]
DEFAULT_AUDIT_WORDS = ["audit", "audits", "history", "journal"]
DEFAULT_AUDIT_ACTION_NAMES = [
    "action", "operation", "event", "eventType", "activity", "verb", "change", "type",
]  # fmt: skip
DEFAULT_AUDIT_ACTOR_NAMES = [
    "actor", "user", "userId", "principal", "performedBy", "by", "who", "clientId", "agent",
]  # fmt: skip
DEFAULT_AUDIT_RECORD_PARAMS = [
    "recordId", "resourceId", "entityId", "objectId", "targetId", "subjectId", "itemId",
]  # fmt: skip
DEFAULT_AUDIT_SINCE_PARAMS = [
    "after", "since", "from", "fromDate", "start", "startTime", "occurredAfter", "updatedAfter",
]  # fmt: skip
DEFAULT_EXPORT_WORDS = ["export", "exports", "bulk", "download", "dump", "extract"]
DEFAULT_IMPORT_WORDS = ["import", "imports", "bulk", "upload", "load", "batch", "batches"]
# Words that say what an audit entry records (compared with the words of its action value).
_ACTIONS: dict[str, frozenset[str]] = {
    "created": frozenset(["create", "created", "creation", "insert", "inserted", "add", "added", "new", "post"]),
    "updated": frozenset([
        "update", "updated", "replace", "replaced", "modify", "modified", "edit", "edited", "change", "changed",
        "patch", "patched", "put", "amend", "amended",
    ]),
    "deleted": frozenset([
        "delete", "deleted", "remove", "removed", "dispose", "disposed", "destroy", "destroyed", "erase", "erased",
        "purge", "purged",
    ]),
}  # fmt: skip


# -- record types ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Kind:
    """One POLE record type as a document exposes it: its list, create and item operations."""

    name: str  # the record schema's component name
    entity: str | None  # Person/Object/Location/Event (tag, or by name)
    catalogue: str | None  # x-pole-catalogue-entity
    tagged: bool
    record: Loc
    listing: Operation
    create: Operation | None
    body: Loc | None  # the create operation's JSON request schema
    read: Operation | None
    replace: Operation | None
    patch: Operation | None
    delete: Operation | None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.listing.label})"

    @property
    def segment(self) -> str:
        """The list path's last segment (``/v1/persons`` -> ``persons``)."""
        return self.listing.path.rstrip("/").rsplit("/", 1)[-1].lower()

    def item_url(self, ident: str) -> str | None:
        template = next((op.path for op in (self.read, self.delete, self.replace, self.patch) if op), None)
        names = path_parameters(template) if template else []
        return fill_path(template, {names[0]: ident}) if template and len(names) == 1 else None


_ITEM_PATH = re.compile(r"(.*)/\{[^{}/]+\}/?", re.DOTALL)  # "<collection>/{id}", a trailing slash allowed


def _item_operations(ops: Iterable[Operation]) -> dict[tuple[str, str], Operation]:
    """(method, collection path) -> the first operation on ``<collection>/{param}``, in one pass."""
    found: dict[tuple[str, str], Operation] = {}
    for op in ops:
        item = _ITEM_PATH.fullmatch(op.path)
        if item is not None:
            found.setdefault((op.method, item.group(1)), op)
    return found


def _first_creates(ops: Iterable[Operation]) -> dict[str, Operation]:
    """Path -> the first POST on it that takes a JSON body, in one pass."""
    found: dict[str, Operation] = {}
    for op in ops:
        if op.method == "post" and json_request_schema(op):
            found.setdefault(op.path, op)
    return found


_kind_cache: WeakKeyDictionary[Any, dict[tuple[Any, ...], tuple[_Kind, ...]]] = WeakKeyDictionary()


def _kinds(
    ctx: CheckContext, vocabulary: Mapping[str, list[str]], wrappers: list[str], envelopes: list[str]
) -> list[_Kind]:
    """The document's POLE record types (see the module docstring), Persons first, then Objects, Locations,
    Events and any others; one per record schema (its first list operation). Found once per document and
    parameters (the record types are immutable), however many checks ask."""
    key = (_freeze(vocabulary), _freeze(wrappers), _freeze(envelopes))
    cache = _kind_cache.setdefault(ctx.spec.index, {})
    if key not in cache:
        cache[key] = tuple(_find_kinds(ctx, vocabulary, wrappers, envelopes))
    return list(cache[key])


def _find_kinds(
    ctx: CheckContext, vocabulary: Mapping[str, list[str]], wrappers: list[str], envelopes: list[str]
) -> list[_Kind]:
    index = ctx.spec.index
    ops = operations(ctx)
    items = _item_operations(ops)
    creates = _first_creates(ops)
    poles = {p.name: p for p in pole_entities(ctx, vocabulary, wrappers)}
    wanted = _normals(envelopes)
    found: dict[str, _Kind] = {}
    for op in collection_reads(ctx):
        for root in operation_schemas(op):
            for item in _array_items(index, root, wanted):
                node = index.deref(item)
                if node is None or node.component is None or node.parent is not None:
                    continue
                pole = poles.get(node.component)
                if pole is None or pole.name in found:
                    continue
                create = creates.get(op.path)
                base = op.path.rstrip("/")
                catalogue = node.mapping.get(POLE_CATALOGUE_EXTENSION)
                found[pole.name] = _Kind(
                    name=pole.name,
                    entity=pole.entity,
                    catalogue=catalogue.strip() if isinstance(catalogue, str) and catalogue.strip() else None,
                    tagged=pole.tagged,
                    record=node.loc,
                    listing=op,
                    create=create,
                    body=json_request_schema(create) if create else None,
                    read=items.get(("get", base)),
                    replace=items.get(("put", base)),
                    patch=items.get(("patch", base)),
                    delete=items.get(("delete", base)),
                )
    return sorted(found.values(), key=lambda k: _ENTITY_ORDER.get(k.entity or "", len(_ENTITY_ORDER)))


def _require_kinds(kinds: list[_Kind]) -> list[_Kind]:
    if not kinds:
        raise Inapplicable("no list operation returns records of a POLE entity schema")
    return kinds


# -- reading records ---------------------------------------------------------------------------------------
def _records(body: Any) -> list[dict[str, Any]] | None:
    """The records of a list body: a top-level array, or the array in ``items``/``data``/… (one level down in
    an envelope object too); ``None`` when the body holds no array of objects."""
    if isinstance(body, list):
        return [r for r in body if isinstance(r, dict)]
    if not isinstance(body, Mapping):
        return None
    holders: list[Any] = [body.get(key) for key in _ENVELOPE_KEYS] + list(body.values())
    for holder in holders:
        if isinstance(holder, list) and (not holder or isinstance(holder[0], Mapping)):
            return [r for r in holder if isinstance(r, dict)]
        if isinstance(holder, Mapping):
            inner = next((v for v in holder.values() if isinstance(v, list)), None)
            if inner is not None and (not inner or isinstance(inner[0], Mapping)):
                return [r for r in inner if isinstance(r, dict)]
    return None


def _ident(record: Mapping[str, Any]) -> str | None:
    for name in _ID_NAMES:
        value = record.get(name)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
            return str(value)
    return None


def _member(record: Mapping[str, Any], names: Iterable[str]) -> tuple[str, Any] | None:
    """``(path, value)`` of the first non-empty member named in ``names`` (ignoring case and ``_``), at the top
    level or one object down (``meta.createdAt``)."""
    wanted = _normals(names)
    for key, value in record.items():
        if _normal(str(key)) in wanted and value not in (None, ""):
            return str(key), value
    for outer, holder in record.items():
        if isinstance(holder, Mapping):
            for key, value in holder.items():
                if _normal(str(key)) in wanted and value not in (None, ""):
                    return f"{outer}.{key}", value
    return None


def _page_params(index: Any, op: Operation, size: int) -> dict[str, str]:
    """A page size for a list, when the operation declares an integer page-size query parameter."""
    for param in op.parameters:
        if param.location != "query" or _normal(param.name) not in _PAGE_SIZE_NAMES:
            continue
        node = index.deref(param.schema)
        if node is None or index.schema_type(param.schema) != "integer":
            continue
        low, high = node.mapping.get("minimum"), node.mapping.get("maximum")
        value = max(size, low) if isinstance(low, int) else size
        return {param.name: str(min(value, high) if isinstance(high, int) else value)}
    return {}


def _query_param(op: Operation, names: Iterable[str]) -> str | None:
    wanted = _normals(names)
    return next((p.name for p in op.parameters if p.location == "query" and _normal(p.name) in wanted), None)


@dataclass(slots=True)
class _Walk:
    """What a walk over a list's pages saw."""

    records: list[dict[str, Any]] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    complete: bool = False  # the last page was reached
    refused: Exchange | None = None  # a page that did not answer 2xx with a list

    @property
    def ids(self) -> set[str]:
        return {i for i in map(_ident, self.records) if i is not None}

    @property
    def last(self) -> Exchange | None:
        return self.exchanges[-1] if self.exchanges else None


def _next_page(
    target: LiveTarget, op: Operation, exchange: Exchange, body: Any, params: Mapping[str, str]
) -> tuple[str, dict[str, str] | None] | None:
    """Where the next page is: ``(url, None)`` for a link, ``(path, params)`` for a cursor; ``None`` at the end."""
    base = target.url(op.path)
    match = _LINK_NEXT.search(exchange.header("link") or "")
    if match:
        return urljoin(base, match.group(1)), None
    names = _normals(DEFAULT_NEXT_PROPERTIES)
    holders = [body] + [body.get(h) for h in _NEXT_HOLDERS] if isinstance(body, Mapping) else []
    tokens: list[str] = []
    for holder in holders:
        if not isinstance(holder, Mapping):
            continue
        for key, value in holder.items():
            if _normal(str(key)) not in names:
                continue
            if isinstance(value, Mapping):
                value = value.get("href")
            if not isinstance(value, str) or not value:
                continue
            if "://" in value or value.startswith(("/", "?")):
                return urljoin(base, value), None
            tokens.append(value)
    cursor = _query_param(op, DEFAULT_CURSOR_PARAMS)
    if tokens and cursor:
        return op.path, {**params, cursor: tokens[0]}
    return None


def _walk(
    target: LiveTarget,
    index: Any,
    op: Operation,
    *,
    params: Mapping[str, str] | None = None,
    auth: AuthMode = AuthMode.DEFAULT,
    max_pages: int,
    enough: Callable[[_Walk], bool] | None = None,
) -> _Walk:
    """Read a list page by page (at most ``max_pages``; ``enough`` can stop it early)."""
    query = {**_page_params(index, op, _WALK_PAGE), **(params or {})}
    walk = _Walk()
    url: str = op.path
    sent: dict[str, str] | None = query
    for _ in range(max(1, max_pages)):
        exchange = _answered(target.request("GET", url, params=sent, auth=auth), f"GET {op.path}")
        walk.exchanges.append(exchange)
        ok, body = _json_value(exchange)
        records = _records(body) if ok and _is_2xx(exchange) else None
        if records is None:
            walk.refused = exchange
            return walk
        walk.records.extend(records)
        following = _next_page(target, op, exchange, body, query)
        if following is None or not records:
            walk.complete = True
            return walk
        if enough is not None and enough(walk):
            return walk
        url, sent = following
        if sent is not None:
            query = sent
    return walk


def _holds(wanted: set[str]) -> Callable[[_Walk], bool]:
    """A walk's ``enough``: stop once every id in ``wanted`` was seen."""
    return lambda walk: wanted <= walk.ids


def _server_time(exchange: Exchange | None) -> dt.datetime | None:
    """The response's ``Date`` header (RFC 9110 §6.6.1, whole seconds) as an aware UTC datetime."""
    value = exchange.header("date") if exchange is not None else None
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed.replace(tzinfo=_UTC) if parsed.tzinfo is None else parsed.astimezone(_UTC)


def _rfc3339(moment: dt.datetime) -> str:
    return moment.astimezone(_UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _instant(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not _DATE_TIME.match(value):
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00")).astimezone(_UTC)
    except ValueError:
        return None


def _short(ident: str | None) -> str:
    return "?" if ident is None else ident if len(ident) <= 13 else ident[:8] + "…"


# -- writing records ---------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Created:
    """A synthetic record a check created (and must delete)."""

    kind: _Kind
    ident: str | None
    url: str | None
    record: dict[str, Any]
    exchange: Exchange
    auth: AuthMode = AuthMode.DEFAULT
    gone: bool = False  # deleted (by the check, or by the fault it found)


def _synthetic(ctx: CheckContext, kind: _Kind) -> dict[str, Any]:
    if kind.body is None:
        raise CantTell(f"{kind.label}: no create operation")
    body = _synthetic_body(ctx.spec.index, kind.body)
    if body is None:
        raise CantTell(f"{kind.create.label if kind.create else kind.label}: cannot build a synthetic body")
    return body


def _create(
    ctx: CheckContext,
    target: LiveTarget,
    kind: _Kind,
    created: list[_Created],
    *,
    auth: AuthMode = AuthMode.DEFAULT,
    body: dict[str, Any] | None = None,
) -> _Created:
    """POST a synthetic record (``body``, or one built from the schema); it is added to ``created`` for the
    clean-up. ``CantTell`` when the create is refused or unanswered."""
    assert kind.create is not None
    op = kind.create
    sent = body if body is not None else _synthetic(ctx, kind)
    exchange = target.request("POST", op.path, json=sent, auth=auth)
    if not exchange.ok or exchange.status is None:
        ctx.note(
            f"{op.label} got no response (exchange {exchange.id}); a record marked '{_MARK}' may have been "
            "created: check and delete it by hand"
        )
        raise CantTell(f"{op.label}: {exchange.error or 'no response'}")
    if not _is_2xx(exchange):
        raise CantTell(f"{op.label} refused a synthetic record: {exchange.status} (exchange {exchange.id})")
    made = _created_from(target, kind, exchange, auth)
    created.append(made)
    if made.url is None:
        raise CantTell(f"{op.label}: the created record cannot be located (no Location header and no id)")
    return made


def _created_from(target: LiveTarget, kind: _Kind, exchange: Exchange, auth: AuthMode) -> _Created:
    """The record a 2xx create answered with: its id (body, else the ``Location`` URL's last segment) and URL
    (``Location``, else the item path filled with the id)."""
    ok, answer = _json_value(exchange)
    record = answer if ok and isinstance(answer, dict) else {}
    ident = _ident(record)
    location = exchange.header("location")
    url = urljoin(target.url(kind.listing.path), location.strip()) if location else None
    if ident is None and url is not None:
        ident = url.rstrip("/").rsplit("/", 1)[-1]
    if url is None and ident is not None:
        item = kind.item_url(ident)
        url = target.url(item) if item else None
    return _Created(kind=kind, ident=ident, url=url, record=record, exchange=exchange, auth=auth)


def _clean_up(ctx: CheckContext, target: LiveTarget, created: Iterable[_Created]) -> None:
    """Delete what a check created, newest first; a deletion that fails is noted, never a finding."""
    done = failed = 0
    for item in reversed(list(created)):
        if item.gone:
            continue
        if item.url is None or item.kind.delete is None:
            failed += 1
            ctx.note(
                f"clean-up failed: the record created by exchange {item.exchange.id} cannot be deleted through "
                f"the document; delete it by hand (it is marked '{_MARK}')"
            )
            continue
        exchange = target.request("DELETE", item.url, auth=item.auth)
        if exchange.ok and (_is_2xx(exchange) or exchange.status in (404, 410)):
            done += 1
            item.gone = True
            continue
        failed += 1
        ctx.note(
            f"clean-up failed: DELETE {item.url} {exchange.error or f'answered {exchange.status}'} (exchange "
            f"{exchange.id}); delete the record by hand (it is marked '{_MARK}')"
        )
    if done and not failed:
        ctx.note(f"clean-up: the {done} record(s) this check created were deleted")


def _marked_change(ctx: CheckContext, kind: _Kind, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with one free-text field changed (still marked), so that an update really changes something."""
    changed = dict(body)
    index = ctx.spec.index
    for name, loc in index.properties(kind.body).items():
        if isinstance(changed.get(name), str) and _plain_text_fits(index, loc, f"{_MARK} (updated)"):
            changed[name] = f"{_MARK} (updated)"
            break
    return changed


def _update(
    ctx: CheckContext, target: LiveTarget, kind: _Kind, url: str, body: dict[str, Any], *, auth: AuthMode
) -> Exchange | None:
    """Send ``body`` as a PUT (or a PATCH in the operation's merge-patch/JSON type; a JSON Patch gets an empty,
    no-op patch); ``None`` when the document has neither."""
    if kind.replace is not None:
        return target.request("PUT", url, json=_writable(ctx, kind.replace, body), auth=auth)
    if kind.patch is None or kind.patch.request_body is None:
        return None
    media = [m.media_type.split(";")[0].strip().lower() for m in kind.patch.request_body.content]
    if "application/merge-patch+json" in media:
        data = json.dumps(_writable(ctx, kind.patch, body)).encode("utf-8")
        return target.request("PATCH", url, data=data, content_type="application/merge-patch+json", auth=auth)
    if "application/json" in media:
        return target.request("PATCH", url, json=_writable(ctx, kind.patch, body), auth=auth)
    if "application/json-patch+json" in media:
        return target.request("PATCH", url, data=b"[]", content_type="application/json-patch+json", auth=auth)
    return None


def _writable(ctx: CheckContext, op: Operation, record: Mapping[str, Any]) -> dict[str, Any]:
    """``record`` cut down to the properties the operation's JSON request schema declares (and does not mark
    ``readOnly``); the whole record when the schema declares none."""
    schema = None
    if op.request_body is not None:
        schema = next((m.schema for m in op.request_body.content if m.schema is not None), None)
    index = ctx.spec.index
    props = index.properties(schema) if schema is not None else {}
    if not props:
        return dict(record)
    result: dict[str, Any] = {}
    for name, value in record.items():
        node = index.deref(props[name]) if name in props else None
        if node is not None and node.mapping.get("readOnly") is not True:
            result[name] = value
    return result


# -- IOP-C10-03 (live) ------------------------------------------------------------------------------------
@check(
    id="live.export.incremental",
    mode="live",
    title="Records changed after a time T appear in the changed-since list; records not changed do not",
    references=(f'{_GOVUK}, "Let users download whole datasets in bulk" (incremental lists of changes)',),
    params={
        "pole_vocabulary": DEFAULT_POLE_VOCABULARY,
        "wrapper_words": DEFAULT_WRAPPER_WORDS,
        "list_envelopes": DEFAULT_LIST_ENVELOPES,
        "incremental_params": DEFAULT_INCREMENTAL_PARAMS,
        "updated_names": DEFAULT_UPDATED_AT,
        "max_wait_ms": 5000,
        "max_pages": 20,
    },
)
def export_incremental(
    ctx: CheckContext,
    *,
    pole_vocabulary: dict[str, list[str]],
    wrapper_words: list[str],
    list_envelopes: list[str],
    incremental_params: list[str],
    updated_names: list[str],
    max_wait_ms: int,
    max_pages: int,
) -> Iterator[Finding]:
    """Picks the first POLE record type (Persons first) whose list operation takes a changed-since query
    parameter (``incremental_params``, as ``openapi.export.incremental`` finds it; a ``format: date``
    parameter cannot separate changes within a day, so it is ``cantTell``) and that the document lets
    clients create and delete. Reads the list once and takes the server's time T from the response's
    ``Date`` header (RFC 9110 §6.6.1); a record on that page whose last-changed stamp (``updated_names``, at
    the top level or one object down) is before T is the *unchanged* record. When no record qualifies, the
    check creates one itself and takes T from a later response whose ``Date`` is past that record's own
    stamp (or two seconds past the create's ``Date``, as ``Date`` has whole seconds and may lag), polling for
    at most ``max_wait_ms``. It then creates a
    synthetic record (the *changed* one) and walks the list with the parameter set to T (RFC 3339, UTC):
    the changed record must appear and the unchanged one must not (findings link the filtered list). The
    synthetic records are deleted. Needs ``--allow-writes``. Inapplicable when no list takes such a
    parameter (``openapi.export.incremental`` reports that); ``cantTell`` without a ``Date`` header."""
    target = _target(ctx)
    index = ctx.spec.index
    kinds = _require_kinds(_kinds(ctx, pole_vocabulary, wrapper_words, list_envelopes))
    filtered = [(k, p) for k in kinds if (p := _query_param(k.listing, incremental_params)) is not None]
    if not filtered:
        raise Inapplicable(
            "no list of POLE records takes a changed-since parameter (openapi.export.incremental reports this)"
        )
    usable = [(k, p) for k, p in filtered if k.create is not None and k.delete is not None]
    if not usable:
        labels = ", ".join(k.listing.label for k, _ in filtered)
        raise CantTell(
            f"{labels} take a changed-since parameter, but no such record type can be created and deleted"
        )
    kind, name = usable[0]
    param = next(p for p in kind.listing.parameters if p.name == name and p.location == "query")
    node = index.deref(param.schema)
    if node is not None and node.mapping.get("format") == "date":
        raise CantTell(
            f"{kind.listing.label}: '{name}' takes a date, so changes within one day cannot be told apart"
        )
    target.require_writes(
        f"creates synthetic records through {kind.create.label if kind.create else ''} and deletes them"
    )
    created: list[_Created] = []
    try:
        baseline = _answered(
            target.request(
                "GET", kind.listing.path, params=_page_params(index, kind.listing, _WALK_PAGE) or None
            ),
            f"GET {kind.listing.path}",
        )
        if not _is_2xx(baseline):
            raise CantTell(f"{kind.listing.label} answered {baseline.status} (exchange {baseline.id})")
        moment = _server_time(baseline)
        if moment is None:
            raise CantTell(
                f"{kind.listing.label} sent no Date header (exchange {baseline.id}), so the server's time is unknown"
            )
        ok, body = _json_value(baseline)
        unchanged = _unchanged(_records(body) if ok else None, updated_names, moment)
        if unchanged is None:
            before = _create(ctx, target, kind, created)
            stamp = _member(before.record, updated_names)
            made_at = _instant(stamp[1]) if stamp else None
            if made_at is not None:
                after = made_at.replace(microsecond=0) + dt.timedelta(seconds=1)
            else:
                after = (_server_time(before.exchange) or moment) + dt.timedelta(seconds=2)
            moment = _server_time_after(target, index, kind.listing, after, max_wait_ms)
            unchanged = (
                before.ident or "?",
                f"created by this check before T (exchange {before.exchange.id})",
            )
        changed = _create(ctx, target, kind, created)
        since = _rfc3339(moment)
        wanted = {changed.ident, unchanged[0]}
        walk = _walk(
            target,
            index,
            kind.listing,
            params={name: since},
            max_pages=max_pages,
            enough=lambda w: wanted <= w.ids,
        )
        if walk.refused is not None:
            yield live_finding(
                "Changed-since list refused",
                f"{kind.listing.label}?{name}={since} answered {walk.refused.status} instead of a list, although "
                f"the document declares '{name}'.",
                exchange=walk.refused,
                operation=kind.listing.label,
                expected="2xx with the records changed after T",
                found=f"{walk.refused.status}",
                fix=f"Accept '{name}' as an RFC 3339 date-time and return the records changed after it.",
            )
            return
        ids = walk.ids
        evidence = walk.last
        if changed.ident not in ids:
            if walk.complete:
                yield live_finding(
                    "Changed record missing from the changed-since list",
                    f"A record created after T ({changed.ident}) is not in {kind.listing.label}?{name}={since}.",
                    exchange=evidence,
                    operation=kind.listing.label,
                    expected=f"record {changed.ident} listed",
                    found=f"{len(ids)} record(s), not including it",
                    fix=f"Filter on when each record last changed in this system: return every record changed "
                    f"after '{name}'.",
                )
            else:
                ctx.note(
                    f"the changed record was not in the first {max_pages} page(s) of the changed-since list"
                )
        if unchanged[0] in ids:
            yield live_finding(
                "Unchanged record in the changed-since list",
                f"Record {unchanged[0]} (last changed {unchanged[1]}) is in {kind.listing.label}?{name}={since}: "
                f"the filter does not filter ({len(ids)} record(s) listed).",
                exchange=evidence,
                operation=kind.listing.label,
                expected=f"only records changed after {since}",
                found=f"record {unchanged[0]}, unchanged since before T",
                fix=f"Apply '{name}': return only records created, changed or imported after it.",
            )
        ctx.table(
            "Changed-since list",
            ["Record", "Last changed", f"Listed with {name}={since}", "Expected"],
            [
                [
                    changed.ident or "?",
                    f"created after T (exchange {changed.exchange.id})",
                    "yes" if changed.ident in ids else "no",
                    "yes",
                ],
                [unchanged[0], unchanged[1], "yes" if unchanged[0] in ids else "no", "no"],
            ],
        )
    finally:
        _clean_up(ctx, target, created)


def _server_time_after(
    target: LiveTarget, index: Any, op: Operation, after: dt.datetime, max_wait_ms: int
) -> dt.datetime:
    """The server's time, once its ``Date`` header has reached ``after`` (read from a one-record page of
    ``op``, every half second); ``CantTell`` when it does not within ``max_wait_ms``."""
    deadline = time.monotonic() + max(max_wait_ms, 0) / 1000
    while True:
        probe = _answered(target.request("GET", op.path, params=_page_params(index, op, 1) or None), op.label)
        now = _server_time(probe)
        if now is not None and now >= after:
            return now
        if time.monotonic() >= deadline:
            raise CantTell(f"the server's Date did not reach {_rfc3339(after)} within {max_wait_ms} ms")
        time.sleep(0.5)


def _unchanged(
    records: list[dict[str, Any]] | None, names: list[str], moment: dt.datetime
) -> tuple[str, str] | None:
    """``(id, stamp)`` of the record on the page that changed longest before ``moment``, if any did."""
    best: tuple[dt.datetime, str, str] | None = None
    for record in records or []:
        ident, found = _ident(record), _member(record, names)
        stamp = _instant(found[1]) if found else None
        if ident is None or stamp is None or stamp >= moment:
            continue
        if best is None or stamp < best[0]:
            best = (stamp, ident, str(found[1]) if found else "")
    return None if best is None else (best[1], best[2])


# -- IOP-C10-06 -------------------------------------------------------------------------------------------
def _audit_operations(ctx: CheckContext, audit_words: list[str]) -> list[Operation]:
    """GET operations on parameter-free paths with a segment naming an audit trail (``/audit-records``)."""
    wanted = {w.lower() for w in audit_words}
    return [
        op
        for op in collection_reads(ctx)
        if any(wanted & set(words(segment)) for segment in op.path.split("/") if segment)
    ]


def _mentions(entry: Any, ident: str, depth: int = 0) -> bool:
    if isinstance(entry, str):
        return entry == ident or entry.rstrip("/").endswith("/" + ident)
    if depth < 3 and isinstance(entry, Mapping):
        return any(_mentions(v, ident, depth + 1) for v in entry.values())
    if depth < 3 and isinstance(entry, list):
        return any(_mentions(v, ident, depth + 1) for v in entry)
    return False


def _action(entry: Mapping[str, Any], names: list[str]) -> str | None:
    found = _member(entry, names)
    if found is None or not isinstance(found[1], str):
        return None
    said = set(words(found[1]))
    return next((action for action, vocabulary in _ACTIONS.items() if said & vocabulary), None)


def _names_client(actor: str, client: str) -> bool:
    return actor == client or actor.startswith(client + "/") or client in actor


@check(
    id="live.audit.metadata",
    mode="live",
    title="Records carry created/updated times and actors, and the audit trail shows each change",
    references=(
        'Technology Code of Practice point 10 ("audit trails … accessed and updated")',
        f'{_GOVUK}, "Keep a log of requests for personal data"',
    ),
    params={
        "pole_vocabulary": DEFAULT_POLE_VOCABULARY,
        "wrapper_words": DEFAULT_WRAPPER_WORDS,
        "list_envelopes": DEFAULT_LIST_ENVELOPES,
        "created_at_names": DEFAULT_CREATED_AT,
        "updated_at_names": DEFAULT_UPDATED_AT,
        "created_by_names": DEFAULT_CREATED_BY,
        "updated_by_names": DEFAULT_UPDATED_BY,
        "audit_words": DEFAULT_AUDIT_WORDS,
        "action_names": DEFAULT_AUDIT_ACTION_NAMES,
        "actor_names": DEFAULT_AUDIT_ACTOR_NAMES,
        "record_params": DEFAULT_AUDIT_RECORD_PARAMS,
        "since_params": DEFAULT_AUDIT_SINCE_PARAMS,
        "sample_size": 5,
        "max_pages": 20,
    },
)
def audit_metadata(
    ctx: CheckContext,
    *,
    pole_vocabulary: dict[str, list[str]],
    wrapper_words: list[str],
    list_envelopes: list[str],
    created_at_names: list[str],
    updated_at_names: list[str],
    created_by_names: list[str],
    updated_by_names: list[str],
    audit_words: list[str],
    action_names: list[str],
    actor_names: list[str],
    record_params: list[str],
    since_params: list[str],
    sample_size: int,
    max_pages: int,
) -> Iterator[Finding]:
    """**Metadata.** Reads the first page (``sample_size`` records) of each POLE record type's list: every
    record carries a creation time (``created_at_names``), a last-change time (``updated_at_names``), who
    created it (``created_by_names``) and who last changed it (``updated_by_names``): names compared
    ignoring case and ``_``, at the top level or one object down (``meta.createdBy``). **Audit trail.** The
    document has a GET on a parameter-free path with a segment naming an audit trail (``audit_words``,
    e.g. ``/audit-records``). With ``--allow-writes`` the check creates a synthetic record of the first type
    that can be created, changed (PUT, or PATCH) and deleted, changes it and deletes it, then walks the audit
    trail (filtered by record id and start time when it takes ``record_params``/``since_params``) for the
    entries that mention the record's id: a creation, an update and a deletion (``action_names`` members,
    read by their words: create/insert…, update/replace/modify…, delete/remove/dispose…) must each be
    there, naming the configured client id as the actor (``actor_names``; the id itself, or the id then
    ``/`` and a user). Without writes only the metadata is judged and a note says so. A table shows the
    metadata found per record type, and the trail's entries for the synthetic record."""
    target = _target(ctx)
    index = ctx.spec.index
    kinds = _require_kinds(_kinds(ctx, pole_vocabulary, wrapper_words, list_envelopes))
    fields = {
        "created at": created_at_names,
        "updated at": updated_at_names,
        "created by": created_by_names,
        "updated by": updated_by_names,
    }
    rows: list[list[str | int]] = []
    judged = 0
    last: Exchange | None = None
    for kind in kinds:
        listed = _answered(
            target.request(
                "GET", kind.listing.path, params=_page_params(index, kind.listing, sample_size) or None
            ),
            f"GET {kind.listing.path}",
        )
        last = listed
        ok, body = _json_value(listed)
        records = (_records(body) or []) if ok and _is_2xx(listed) else []
        sample = records[: max(sample_size, 1)]
        if not sample:
            ctx.note(f"{kind.label}: no records to judge (exchange {listed.id}, status {listed.status})")
            continue
        judged += len(sample)
        counts = {
            label: sum(_member(r, names) is not None for r in sample) for label, names in fields.items()
        }
        rows.append([kind.name, len(sample), *counts.values()])
        missing = [
            f"{label} ({len(sample) - n} of {len(sample)})" for label, n in counts.items() if n < len(sample)
        ]
        if missing:
            yield live_finding(
                "Records lack audit metadata",
                f"{kind.listing.label}: records without {', '.join(missing)}.",
                exchange=listed,
                operation=kind.listing.label,
                expected="each record says when it was created and last changed, and by whom "
                "(e.g. createdAt, updatedAt, createdBy, updatedBy)",
                found="missing: " + ", ".join(missing),
                fix="Return createdAt/updatedAt (date-time) and createdBy/updatedBy (the client, and the user it "
                "acted for) on every record.",
            )
    ctx.table("Audit metadata on records", ["Record type", "Records sampled", *fields], rows)
    trails = _audit_operations(ctx, audit_words)
    if not trails:
        yield live_finding(
            "No audit trail",
            "The document has no audit-trail operation (a GET on a path naming an audit trail or history), so "
            "who read or changed a record cannot be retrieved through the API.",
            exchange=last,
            expected="e.g. GET /audit-records listing who did what to which record, and when",
            found="no such operation",
            fix="Publish the audit trail (or an export of it) through the API.",
        )
        return
    trail = trails[0]
    if not target.writes_allowed:
        ctx.note(
            "writes not allowed (--allow-writes): the audit trail was not checked for a change made by this "
            f"check; only the records' metadata was judged (audit trail: {trail.label})"
        )
        if judged == 0:
            raise CantTell("no records to judge, and without --allow-writes none can be created")
        return
    usable = [k for k in kinds if k.create and k.delete and (k.replace or k.patch)]
    if not usable:
        ctx.note(
            "no record type can be created, changed and deleted through the document: the trail was not exercised"
        )
        return
    kind = usable[0]
    created: list[_Created] = []
    try:
        moment = _server_time(last) or dt.datetime.now(_UTC)
        made = _create(ctx, target, kind, created)
        assert made.url is not None
        assert made.ident is not None
        if not any(r[0] == kind.name for r in rows):
            yield from _own_metadata(kind, made, fields)
        expected = ["created"]
        updated = _update(
            ctx,
            target,
            kind,
            made.url,
            _marked_change(ctx, kind, _synthetic(ctx, kind)),
            auth=AuthMode.DEFAULT,
        )
        if updated is not None and _is_2xx(updated):
            expected.append("updated")
        else:
            ctx.note(
                f"the update of the synthetic record was refused ({updated.status if updated else 'no operation'})"
            )
        deleted = target.request("DELETE", made.url)
        if _is_2xx(deleted):
            made.gone = True
            expected.append("deleted")
        params = {}
        if (name := _query_param(trail, record_params)) is not None:
            params[name] = made.ident
        if (name := _query_param(trail, since_params)) is not None:
            params[name] = _rfc3339(moment - dt.timedelta(seconds=1))
        walk = _walk(target, index, trail, params=params, max_pages=max_pages)
        if walk.refused is not None:
            yield live_finding(
                "Audit trail not readable",
                f"{trail.label} answered {walk.refused.status} instead of a list of audit entries.",
                exchange=walk.refused,
                operation=trail.label,
                expected="2xx with the audit entries",
                found=str(walk.refused.status),
                fix="Let the force's clients read their own audit trail (with the documented scope).",
            )
            return
        yield from _judge_trail(ctx, target, trail, walk, made, expected, action_names, actor_names)
    finally:
        _clean_up(ctx, target, created)


def _own_metadata(kind: _Kind, made: _Created, fields: Mapping[str, list[str]]) -> Iterator[Finding]:
    missing = [label for label, names in fields.items() if _member(made.record, names) is None]
    if missing:
        yield live_finding(
            "Records lack audit metadata",
            f"{kind.create.label if kind.create else kind.label}: the created record has no {', '.join(missing)}.",
            exchange=made.exchange,
            operation=kind.create.label if kind.create else None,
            expected="createdAt, updatedAt, createdBy and updatedBy (or equivalents) on the record",
            found="missing: " + ", ".join(missing),
            fix="Return who created and last changed the record, and when.",
        )


def _judge_trail(
    ctx: CheckContext,
    target: LiveTarget,
    trail: Operation,
    walk: _Walk,
    made: _Created,
    expected: list[str],
    action_names: list[str],
    actor_names: list[str],
) -> Iterator[Finding]:
    assert made.ident is not None
    entries = [e for e in walk.records if _mentions(e, made.ident)]
    client = target.config.auth.client_id
    if client is None:
        ctx.note(
            "the configured credentials name no client id: any actor named in the audit trail is accepted"
        )
    rows: list[list[str | int]] = []
    for action in expected:
        matching = [e for e in entries if _action(e, action_names) == action]
        entry = matching[0] if matching else None
        actor = _member(entry, actor_names) if entry is not None else None
        at = _member(entry, ["at", "timestamp", "time", "occurredAt", "createdAt", "date"]) if entry else None
        rows.append(
            [action, "yes" if entry else "no", str(actor[1]) if actor else "—", str(at[1]) if at else "—"]
        )
        if entry is None:
            yield live_finding(
                "Change missing from the audit trail",
                f"The synthetic record {made.ident} was {action} (exchange {made.exchange.id} and after), but "
                f"{trail.label} has no entry saying so ({len(entries)} entr(ies) mention the record).",
                exchange=walk.last,
                operation=trail.label,
                expected=f"an entry for record {made.ident} with action '{action}'",
                found=", ".join(sorted({str(_member(e, action_names) or ("", "?"))[1] for e in entries}))
                or "none",
                fix="Write an audit entry for every create, change and deletion, naming the record, the actor and "
                "the time.",
            )
        elif actor is None:
            yield live_finding(
                "Audit entry names no actor",
                f"The '{action}' entry for record {made.ident} in {trail.label} does not say who acted.",
                exchange=walk.last,
                operation=trail.label,
                expected=f"an actor member ({', '.join(actor_names[:3])}…) naming the client",
                found="none",
                fix="Record the client (and the user it acted for) on every audit entry.",
            )
        elif client is not None and not _names_client(str(actor[1]), client):
            yield live_finding(
                "Audit entry names another actor",
                f"The '{action}' entry for record {made.ident} names {describe(actor[1])}, not the client "
                f"that made the change ({client}).",
                exchange=walk.last,
                operation=trail.label,
                expected=f"actor {client} (or {client}/<user>)",
                found=describe(actor[1]),
                fix="Record the authenticated client (and user) as the actor.",
            )
    ctx.table(
        f"Audit trail entries for the synthetic record {made.ident}",
        ["Action", "In the trail", "Actor", "At"],
        rows,
    )


# -- IOP-C10-07 (live) ------------------------------------------------------------------------------------
def _says_in_path(op: Operation, wanted: set[str]) -> bool:
    """A literal segment of the operation's path holds one of ``wanted`` (``/exports/…``, ``/persons/import``)."""
    return any(wanted & set(words(s)) for s in op.path.split("/") if s and "{" not in s)


def _enum_choice(index: Any, op: Operation, name: str, kind: _Kind) -> str | None:
    """The enum value of path parameter ``name`` that names the record type (``persons``), if any."""
    param = next((p for p in op.parameters if p.location == "path" and p.name == name), None)
    node = index.deref(param.schema) if param is not None else None
    choices = node.mapping.get("enum") if node is not None else None
    if not isinstance(choices, list):
        return None
    return next((c for c in choices if isinstance(c, str) and _normal(c) == _normal(kind.segment)), None)


def _export_operation(
    ctx: CheckContext, kind: _Kind, export_words: list[str]
) -> tuple[Operation, str] | None:
    """A bulk export of the record type: a GET whose path has an export segment and either names the type
    (``/persons/export``, ``/exports/persons``) or takes it as its one path parameter's enum value."""
    wanted = {w.lower() for w in export_words}
    index = ctx.spec.index
    for op in operations(ctx):
        if op.method != "get" or not _says_in_path(op, wanted):
            continue
        names = path_parameters(op.path)
        if not names and kind.segment in (s.lower() for s in op.path.split("/") if s):
            return op, op.path
        if len(names) == 1:
            match = _enum_choice(index, op, names[0], kind)
            if match is not None:
                return op, fill_path(op.path, {names[0]: match})
    return None


def _export_accept(op: Operation) -> str | None:
    produced = [
        m.media_type.split(";")[0].strip().lower()
        for r in op.responses
        if r.status_class == "2"
        for m in r.content
    ]
    for preferred in ("application/json", "application/x-ndjson", "application/ndjson", "text/csv"):
        if preferred in produced:
            return preferred
    return None


@check(
    id="live.mopi.deletion",
    mode="live",
    title="A record carries MoPI review/retention data, and once deleted it is gone from reads, lists and exports",
    references=(
        'College of Policing APP, Management of Police Information ("all reviews … must be recorded")',
    ),
    params={
        "pole_vocabulary": DEFAULT_POLE_VOCABULARY,
        "wrapper_words": DEFAULT_WRAPPER_WORDS,
        "list_envelopes": DEFAULT_LIST_ENVELOPES,
        "review_names": DEFAULT_REVIEW_NAMES,
        "retention_names": DEFAULT_RETENTION_NAMES,
        "incremental_params": DEFAULT_INCREMENTAL_PARAMS,
        "export_words": DEFAULT_EXPORT_WORDS,
        "max_pages": 20,
    },
)
def mopi_deletion(
    ctx: CheckContext,
    *,
    pole_vocabulary: dict[str, list[str]],
    wrapper_words: list[str],
    list_envelopes: list[str],
    review_names: list[str],
    retention_names: list[str],
    incremental_params: list[str],
    export_words: list[str],
    max_pages: int,
) -> Iterator[Finding]:
    """Creates a synthetic record of the first POLE record type that can be created and deleted (types whose
    record schema names review and retention data first) and checks it carries MoPI review metadata
    (``review_names``) and retention metadata (``retention_names``), at the top level or one object down,
    names compared ignoring case and ``_``. Deletes it with the documented DELETE (a refusal is a finding),
    then: reading it (GET on its URL) answers 404 or 410; walking the list (narrowed with a changed-since
    parameter, ``incremental_params``, from just before the creation when the list has one) does not
    return it; and the type's bulk export — a GET whose path has a segment in ``export_words`` and names the
    type (or takes it as its path parameter's enum value), asked for JSON, NDJSON or CSV — does not contain
    its id. A table lists each place looked and what was found. Needs ``--allow-writes``."""
    target = _target(ctx)
    index = ctx.spec.index
    kinds = [
        k
        for k in _require_kinds(_kinds(ctx, pole_vocabulary, wrapper_words, list_envelopes))
        if k.create and k.delete
    ]
    if not kinds:
        raise Inapplicable("no POLE record type can be both created and deleted through the document")
    review, retention = _normals(review_names), _normals(retention_names)

    def carries(names: frozenset[str], record: Mapping[str, Any]) -> bool:
        return _member(record, names) is not None

    kind = kinds[0]
    target.require_writes(
        f"creates a synthetic record through {kind.create.label if kind.create else ''} and deletes it"
    )
    created: list[_Created] = []
    rows: list[list[str | int]] = []
    try:
        made = _create(ctx, target, kind, created)
        assert made.url is not None
        assert made.ident is not None
        moment = _server_time(made.exchange)
        label = kind.create.label if kind.create else kind.label
        for what, names, example in (
            ("review", review, "nextReviewDate"),
            ("retention", retention, "retentionCategory"),
        ):
            if not carries(names, made.record):
                yield live_finding(
                    f"No MoPI {what} metadata on the record",
                    f"The record {label} created ({made.ident}) carries no MoPI {what} data.",
                    exchange=made.exchange,
                    operation=label,
                    expected=f"a member such as {example} (on the record, or one object down)",
                    found="none",
                    fix=f"Keep the record's MoPI {what} data with it and return it (e.g. review.{example}).",
                )
        deleted = _answered(
            target.request("DELETE", made.url), f"DELETE {kind.delete.path if kind.delete else ''}"
        )
        rows.append(["Delete", "2xx", str(deleted.status), deleted.id])
        if not _is_2xx(deleted):
            yield live_finding(
                "Deletion refused",
                f"{kind.delete.label if kind.delete else 'DELETE'} answered {deleted.status} for a synthetic record "
                "with no links.",
                exchange=deleted,
                operation=kind.delete.label if kind.delete else None,
                expected="2xx (the record disposed of)",
                found=str(deleted.status),
                fix="Let the force dispose of a record through the documented deletion operation.",
            )
            return
        made.gone = True
        reread = _answered(target.request("GET", made.url), f"GET {made.url}")
        rows.append(["Read by id", "404 or 410", str(reread.status), reread.id])
        if reread.status not in (404, 410):
            yield live_finding(
                "Deleted record still readable",
                f"After the deletion, GET {made.url} answered {reread.status}.",
                exchange=reread,
                operation=kind.read.label if kind.read else None,
                expected="404 Not Found or 410 Gone",
                found=str(reread.status),
                fix="Once a record is disposed of, answer 404 (or 410) for it.",
            )
        since = _query_param(kind.listing, incremental_params)
        params = {since: _rfc3339(moment - dt.timedelta(seconds=1))} if since and moment else None
        walk = _walk(
            target,
            index,
            kind.listing,
            params=params,
            max_pages=max_pages,
            enough=lambda w: made.ident in w.ids,
        )
        listed = made.ident in walk.ids
        where = f"{kind.listing.label}" + (f" ({since} before the creation)" if params else "")
        rows.append(
            [
                "List",
                "absent",
                "present" if listed else "absent" if walk.complete else "absent (first pages)",
                walk.last.id if walk.last else "—",
            ]
        )
        if listed:
            yield live_finding(
                "Deleted record still listed",
                f"After the deletion, {where} still returns record {made.ident}.",
                exchange=walk.last,
                operation=kind.listing.label,
                expected="the record absent",
                found="listed",
                fix="Leave disposed-of records out of every list.",
            )
        export = _export_operation(ctx, kind, export_words)
        if export is None:
            ctx.note(
                f"no bulk export of {kind.name} found: absence after deletion was judged on the list only"
            )
        else:
            op, path = export
            exported = _answered(target.request("GET", path, accept=_export_accept(op)), op.label)
            present = made.ident.encode() in exported.body
            state = "present" if present else "absent (body cut short)" if exported.truncated else "absent"
            rows.append(
                [
                    f"Bulk export ({op.label})",
                    "absent",
                    state if _is_2xx(exported) else str(exported.status),
                    exported.id,
                ]
            )
            if not _is_2xx(exported):
                ctx.note(
                    f"{op.label} answered {exported.status} (exchange {exported.id}): the export was not judged"
                )
            elif present:
                yield live_finding(
                    "Deleted record still exported",
                    f"After the deletion, {path} still contains record {made.ident} ({exported.media_type}).",
                    exchange=exported,
                    operation=op.label,
                    expected="the record absent from the bulk export",
                    found="exported",
                    fix="Build exports from live records only: a disposed-of record must not leave the system again.",
                )
        ctx.table(
            f"After deleting the synthetic record {made.ident}",
            ["Where", "Expected", "Found", "Exchange"],
            rows,
        )
    finally:
        _clean_up(ctx, target, created)


# -- IOP-C9-12 --------------------------------------------------------------------------------------------
@check(
    id="live.tenancy.isolation",
    mode="live",
    title="A token of one tenant (force) cannot read, change or delete another tenant's records by id",
    references=(
        "NCSC, Securing HTTP-based APIs (deny by default; authorise every request)",
        "OWASP API Security Top 10 2023, API1 Broken Object Level Authorization",
        "NCSC Cloud Security Principle 3 (separation between customers)",
    ),
    params={
        "pole_vocabulary": DEFAULT_POLE_VOCABULARY,
        "wrapper_words": DEFAULT_WRAPPER_WORDS,
        "list_envelopes": DEFAULT_LIST_ENVELOPES,
        "records_per_type": 2,
        "max_pages": 20,
    },
)
def tenancy_isolation(
    ctx: CheckContext,
    *,
    pole_vocabulary: dict[str, list[str]],
    wrapper_words: list[str],
    list_envelopes: list[str],
    records_per_type: int,
    max_pages: int,
) -> Iterator[Finding]:
    """Needs the second tenant's credentials (``other_tenant`` in the auth file): ``untested`` without them.
    For each POLE record type with an item read (``GET <list>/{id}``), lists tenant B's records with B's token
    and takes the first ``records_per_type``; a record whose id tenant A also holds (A's list walked, at most
    ``max_pages`` pages; the same id in two tenants, e.g. after an import) is skipped. With tenant A's token
    each is read by id: the answer must never be 2xx (403 or 404 expected; 404 is better, as it does not
    reveal the record exists; other statuses are noted). With ``--allow-writes`` the check also creates a
    synthetic record *as tenant B* (of the first type that can be created and changed or deleted) and, with
    A's token, sends B's own copy of it back as a PUT (or PATCH) and then a DELETE: neither may be 2xx.
    Probing a synthetic record means a broken server damages nothing of B's real data; whatever happens,
    the record is deleted again with B's token, and a write that wrongly succeeded is said loudly in the
    notes. A table lists every probe."""
    target = _target(ctx)
    if target.config.other_tenant is None:
        raise NotTested(
            "needs a second tenant's credentials: add an 'other_tenant' block to the auth file (a client of "
            "another force on the same test system)"
        )
    index = ctx.spec.index
    kinds = [k for k in _require_kinds(_kinds(ctx, pole_vocabulary, wrapper_words, list_envelopes)) if k.read]
    if not kinds:
        raise Inapplicable("no POLE record type can be read by id")
    rows: list[list[str | int]] = []
    for kind in kinds:
        theirs = _answered(
            target.request(
                "GET",
                kind.listing.path,
                params=_page_params(index, kind.listing, records_per_type) or None,
                auth=AuthMode.OTHER_TENANT,
            ),
            f"GET {kind.listing.path} as tenant B",
        )
        ok, body = _json_value(theirs)
        records = (_records(body) or []) if ok and _is_2xx(theirs) else []
        if not _is_2xx(theirs):
            ctx.note(
                f"{kind.label}: tenant B's list answered {theirs.status} (exchange {theirs.id}); not probed"
            )
            continue
        sample = [r for r in records if _ident(r) is not None][: max(records_per_type, 1)]
        if not sample:
            ctx.note(f"{kind.label}: tenant B holds no records to probe")
            continue
        ours = _walk(target, index, kind.listing, max_pages=max_pages)
        if not ours.complete:
            ctx.note(
                f"{kind.label}: tenant A's list was not walked to its end; shared ids cannot be ruled out"
            )
        for record in sample:
            ident = _ident(record)
            assert ident is not None
            if ident in ours.ids:
                ctx.note(f"{kind.label}: record {ident} is held by both tenants (the same id): skipped")
                continue
            url = kind.item_url(ident)
            assert url is not None
            read = _answered(target.request("GET", url), f"GET {url}")
            rows.append([kind.name, ident, "read (GET)", str(read.status), _verdict(read)])
            yield from _leak(ctx, kind, read, "read", ident)
    if not rows:
        raise CantTell("tenant B holds no records of any POLE type to probe (or its lists were refused)")
    if target.writes_allowed:
        yield from _write_probes(ctx, target, kinds, rows)
    else:
        ctx.note(
            "writes not allowed (--allow-writes): updating and deleting tenant B's records was not tried"
        )
    ctx.table(
        "Tenant A's token on tenant B's records",
        ["Record type", "Record of tenant B", "Probe", "Status", "Verdict"],
        rows,
    )


def _verdict(exchange: Exchange) -> str:
    if _is_2xx(exchange):
        return "LEAK: allowed"
    if exchange.status == 404:
        return "refused (404)"
    if exchange.status == 403:
        return "refused (403)"
    return f"refused ({exchange.status}; 403 or 404 expected)"


def _leak(ctx: CheckContext, kind: _Kind, exchange: Exchange, what: str, ident: str) -> Iterator[Finding]:
    if not _is_2xx(exchange):
        if exchange.status not in (403, 404):
            ctx.note(
                f"{exchange.method} of tenant B's record {ident} answered {exchange.status} (exchange {exchange.id})"
            )
        return
    titles = {
        "read": "Another tenant's record readable",
        "change": "Another tenant's record changed",
        "delete": "Another tenant's record deleted",
    }
    yield live_finding(
        titles[what],
        f"With tenant A's token, {exchange.method} on tenant B's {kind.name} {ident} answered {exchange.status}: "
        f"one force can {what} another force's record.",
        exchange=exchange,
        operation=f"{exchange.method} {kind.listing.path}/{{id}}",
        expected="403 or 404 (another tenant's records do not exist for this token)",
        found=str(exchange.status),
        fix="Authorise every request on the record's tenant, not only on the token's scopes (deny by default).",
    )


def _write_probes(
    ctx: CheckContext, target: LiveTarget, kinds: list[_Kind], rows: list[list[str | int]]
) -> Iterator[Finding]:
    usable = [k for k in kinds if k.create and (k.replace or k.patch or k.delete)]
    if not usable:
        ctx.note("no record type can be created and changed or deleted: cross-tenant writes were not tried")
        return
    kind = usable[0]
    created: list[_Created] = []
    try:
        try:
            theirs = _create(ctx, target, kind, created, auth=AuthMode.OTHER_TENANT)
        except CantTell as refused:
            ctx.note(
                f"cross-tenant writes not tried: {refused.reason}; B's real records are never written to, since a "
                "broken server could change or lose them"
            )
            return
        assert theirs.url is not None
        assert theirs.ident is not None
        copy = theirs.record or _synthetic(ctx, kind)
        damage: list[str] = []
        changed = _update(ctx, target, kind, theirs.url, copy, auth=AuthMode.DEFAULT)
        if changed is not None:
            rows.append(
                [
                    kind.name,
                    theirs.ident,
                    f"change ({changed.method})",
                    str(changed.status),
                    _verdict(changed),
                ]
            )
            if _is_2xx(changed):
                damage.append(f"{changed.method} answered {changed.status} (exchange {changed.id})")
            yield from _leak(ctx, kind, changed, "change", theirs.ident)
        if kind.delete is not None:
            removed = target.request("DELETE", theirs.url)
            rows.append([kind.name, theirs.ident, "delete (DELETE)", str(removed.status), _verdict(removed)])
            if _is_2xx(removed):
                damage.append(f"DELETE answered {removed.status} (exchange {removed.id})")
                theirs.gone = True
            yield from _leak(ctx, kind, removed, "delete", theirs.ident)
        if damage:
            ctx.note(
                f"TENANT ISOLATION BROKEN: tenant A's token wrote to tenant B's data: {'; '.join(damage)}. Only the "
                f"synthetic record {theirs.ident} this check had created as tenant B was touched; it is deleted "
                "again below (or already gone). No real record of tenant B was written to."
            )
    finally:
        _clean_up(ctx, target, created)


# -- IOP-C6-03 --------------------------------------------------------------------------------------------
_RULE_TITLES = {
    "missing": "Mandatory attribute missing from records",
    "type": "Value of the wrong type for the dictionary",
    "length": "Value longer than the dictionary's field size",
    "code": "Value not in the dictionary's code list",
}


@check(
    id="live.pole.payloads",
    mode="live",
    title="Sample records pass the customer's POLE data dictionary rules (types, lengths, mandatory, codes)",
    references=("PDS POLE Data Standards Catalogue v1.0 and its data dictionary v1.1 (validation rules)",),
    params={
        "pole_vocabulary": DEFAULT_POLE_VOCABULARY,
        "wrapper_words": DEFAULT_WRAPPER_WORDS,
        "list_envelopes": DEFAULT_LIST_ENVELOPES,
        "sample_size": 10,
    },
)
def pole_payloads(
    ctx: CheckContext,
    *,
    pole_vocabulary: dict[str, list[str]],
    wrapper_words: list[str],
    list_envelopes: list[str],
    sample_size: int,
) -> Iterator[Finding]:
    """Needs the customer's data dictionary (``ctx.options["data_dictionary"]``, ``docs/pole.md``):
    ``untested`` without one. For each POLE record type whose record schema carries an
    ``x-pole-catalogue-entity`` the dictionary defines, reads the first ``sample_size`` records of its list
    and checks every attribute of the entity on every record: a mandatory attribute is present and not null;
    each value (each item of an array) has the dictionary's type (text; code: text or a whole number;
    integer; number; boolean; date ``YYYY-MM-DD``; date-time RFC 3339 with ``Z`` or an offset; time), is
    no longer than the maximum length (in characters), and is one of the code list's values when the
    dictionary carries them. Findings are grouped by record type, attribute and rule, with the first
    offending record and value, and link the list exchange. ``cantTell`` when no record type is tagged
    with a dictionary entity, or none has records."""
    dictionary = dictionary_from(ctx)
    target = _target(ctx)
    index = ctx.spec.index
    kinds = _require_kinds(_kinds(ctx, pole_vocabulary, wrapper_words, list_envelopes))
    matched = [
        (k, dictionary.entity(k.catalogue)) for k in kinds if k.catalogue and dictionary.entity(k.catalogue)
    ]
    ctx.note(f"Data dictionary: {dictionary.describe()}")
    if not matched:
        named = ", ".join(k.catalogue or f"{k.name} (untagged)" for k in kinds)
        raise CantTell(f"no record type is tagged with an entity of the dictionary (the API lists {named})")
    rows: list[list[str | int]] = []
    sampled = 0
    for kind, attributes in matched:
        listed = _answered(
            target.request(
                "GET", kind.listing.path, params=_page_params(index, kind.listing, sample_size) or None
            ),
            f"GET {kind.listing.path}",
        )
        ok, body = _json_value(listed)
        records = ((_records(body) or []) if ok and _is_2xx(listed) else [])[: max(sample_size, 1)]
        if not records:
            ctx.note(f"{kind.label}: no records to sample (exchange {listed.id}, status {listed.status})")
            continue
        sampled += len(records)
        problems: dict[tuple[str, str], list[tuple[str, str]]] = {}
        checked = 0
        for record in records:
            who = _ident(record) or "?"
            for attribute in attributes:
                values = values_at(record, attribute)
                if values is None:
                    if attribute.mandatory:
                        problems.setdefault((attribute.attribute, "missing"), []).append((who, "absent"))
                    continue
                for value in values:
                    checked += 1
                    problem = value_problem(attribute, value)
                    if problem is not None:
                        problems.setdefault((attribute.attribute, problem[0]), []).append((who, problem[1]))
        rows.append(
            [kind.name, kind.catalogue or "", len(records), checked, sum(len(v) for v in problems.values())]
        )
        for (name, rule), bad in problems.items():
            attribute = next(a for a in attributes if a.attribute == name)
            records_hit = len({who for who, _ in bad})
            yield live_finding(
                _RULE_TITLES[rule],
                f"{kind.listing.label}: {attribute.label} (dictionary row {attribute.row}) broken in "
                f"{records_hit} of {len(records)} record(s); the first, record {bad[0][0]}: {bad[0][1]}.",
                exchange=listed,
                operation=kind.listing.label,
                expected=_expectation(rule, attribute),
                found=bad[0][1],
                fix="Store and return values the dictionary allows (validate them on input), or agree the "
                "difference with the customer.",
            )
    if sampled == 0:
        raise CantTell("no records of the dictionary's entities to sample")
    ctx.table(
        "Records checked against the data dictionary",
        ["Record type", "Entity", "Records", "Values checked", "Problems"],
        rows,
    )


def _expectation(rule: str, attribute: Any) -> str:
    if rule == "missing":
        return f"{attribute.attribute} on every record (mandatory)"
    if rule == "length":
        return f"at most {attribute.max_length} characters"
    if rule == "code":
        shown = ", ".join(attribute.values[:5]) + ("…" if len(attribute.values) > 5 else "")
        return f"a code of {attribute.code_list or 'the list'} ({shown})"
    return f"{attribute.data_type.value}"


# -- IOP-C7-01 --------------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Importer:
    """How the second supplier takes records of one type in bulk (ids and stamps kept)."""

    op: Operation
    path: str
    media: str  # application/json or application/x-ndjson
    wrapper: str | None  # the body's array property (None: the body is the array, or NDJSON)


def _importer(ctx: CheckContext, kind: _Kind, import_words: list[str]) -> _Importer | None:
    wanted = {w.lower() for w in import_words}
    index = ctx.spec.index
    for op in operations(ctx):
        if op.method != "post" or op.request_body is None or not _says_in_path(op, wanted):
            continue
        names = path_parameters(op.path)
        path: str | None = None
        if not names and kind.segment in (s.lower() for s in op.path.split("/") if s):
            path = op.path
        elif len(names) == 1:
            match = _enum_choice(index, op, names[0], kind)
            path = fill_path(op.path, {names[0]: match}) if match else None
        if path is None:
            continue
        for media in op.request_body.content:
            base = media.media_type.split(";")[0].strip().lower()
            if base == "application/json" and media.schema is not None:
                if index.schema_type(media.schema) == "array":
                    return _Importer(op, path, base, None)
                props = index.properties(media.schema)
                arrays = [n for n, loc in props.items() if index.schema_type(loc) == "array"]
                required = [n for n in arrays if n in index.required(media.schema)]
                if arrays:
                    return _Importer(op, path, base, (required or arrays)[0])
        for media in op.request_body.content:
            if media.media_type.split(";")[0].strip().lower() in (
                "application/x-ndjson",
                "application/ndjson",
            ):
                return _Importer(op, path, media.media_type.split(";")[0].strip().lower(), None)
    return None


@dataclass(slots=True)
class _Pair:
    """One record type of supplier A mapped to supplier B's, with the fields they share by name."""

    a: _Kind
    b: _Kind
    importer: _Importer | None
    mapped: list[tuple[str, str]] = field(default_factory=list)  # (A field, B field)
    unmapped: list[str] = field(default_factory=list)
    exported: list[dict[str, Any]] = field(default_factory=list)
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)  # B id -> the A record it came from
    refused: list[Exchange] = field(default_factory=list)
    refused_records: int = 0
    found: dict[str, dict[str, Any]] = field(default_factory=dict)  # B id -> B's record as re-exported
    identical: int = 0
    evidence: Exchange | None = None


def _same(a: Any, b: Any) -> bool:
    """Equal as data: the same instant for two RFC 3339 date-times, numbers by value, containers member by
    member (a null member is the same as an absent one)."""
    if isinstance(a, str) and isinstance(b, str):
        left, right = _instant(a), _instant(b)
        return left == right if left is not None and right is not None else a == b
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        keys = {k for k, v in a.items() if v is not None} | {k for k, v in b.items() if v is not None}
        return all(_same(a.get(k), b.get(k)) for k in keys)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _translate(value: Any, ids: Mapping[str, str]) -> Any:
    """``value`` with every string that is a transferred record's id in A replaced by its id in B."""
    if isinstance(value, str):
        return ids.get(value, value)
    if isinstance(value, Mapping):
        return {k: _translate(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_translate(v, ids) for v in value]
    return value


@check(
    id="live.interop.cross-supplier",
    mode="live",
    title="Records exported from this API, mapped through the POLE model and imported into another supplier's API, come back unchanged",
    references=(
        'InterOp-Pol tiers, Gold ("demonstrated interoperability … with at least one other supplier")',
        "PDS POLE Data Standards Catalogue v1.0 (the common model)",
    ),
    params={
        "pole_vocabulary": DEFAULT_POLE_VOCABULARY,
        "wrapper_words": DEFAULT_WRAPPER_WORDS,
        "list_envelopes": DEFAULT_LIST_ENVELOPES,
        "incremental_params": DEFAULT_INCREMENTAL_PARAMS,
        "import_words": DEFAULT_IMPORT_WORDS,
        "max_records_per_type": 100,
        "max_pages": 20,
    },
)
def cross_supplier(
    ctx: CheckContext,
    *,
    pole_vocabulary: dict[str, list[str]],
    wrapper_words: list[str],
    list_envelopes: list[str],
    incremental_params: list[str],
    import_words: list[str],
    max_records_per_type: int,
    max_pages: int,
) -> Iterator[Finding]:
    """Needs a second supplier's API (``ctx.options["peer"]``, a live target, and its OpenAPI document,
    ``ctx.options["peer_spec"]``): ``untested`` without them; both must be test tenants (``--allow-writes``:
    A's records leave A, and B is written to). **Mapping.** Record types of A and B (module docstring) are
    paired when their schemas carry the same ``x-pole-entity`` and ``x-pole-catalogue-entity`` (ignoring
    case); an untagged or unpaired type is reported, not transferred. Fields map by property name (exactly,
    else ignoring case and ``_``) from A's record schema to B's: its record schema when B has a bulk import
    for the type (a POST whose path has a segment in ``import_words`` and names the type), else its create
    schema (without ``readOnly`` properties); A's other fields are reported as unmapped. **Transfer.** A's
    list is walked (at most ``max_records_per_type`` records per type, ``max_pages`` pages); records whose id
    B already holds are skipped (never overwritten). Each record, cut to the mapped fields, goes to B's bulk
    import (which keeps ids) or, record by record, to B's create (ids in A's records that name transferred
    records are replaced by their new ids in B, so links survive). Types go Persons, Objects, Locations,
    Events. **Diff.** B's list is walked again (from just before the transfer when it takes a changed-since
    parameter) and every transferred record is compared field by field on the mapped fields: date-times as
    instants, numbers by value, null as absent. Findings: records B refused, records missing after the
    transfer, and each field lost or changed (per type and field, with a count and the first example).
    Tables: records per type, field differences, unmapped types and fields. Finally every record created in
    B is deleted (Events first), with B's token; failures are noted."""
    peer, peer_spec = ctx.options.get("peer"), ctx.options.get("peer_spec")
    if peer is None or peer_spec is None:
        raise NotTested(
            "needs a second supplier's API to transfer records to (--peer-base-url, --peer-auth, --peer-spec)"
        )
    target = _target(ctx)
    target.require_writes("exports this test tenant's records to another supplier's API")
    peer.require_writes("imports records into the second supplier's tenant and deletes them again")
    peer.set_requirement(ctx.requirement_id or None)
    peer_ctx = CheckContext(spec=peer_spec, target=peer, requirement_id=ctx.requirement_id)
    ours = _kinds(ctx, pole_vocabulary, wrapper_words, list_envelopes)
    theirs = _kinds(peer_ctx, pole_vocabulary, wrapper_words, list_envelopes)
    pairs, unmapped_rows = _pair(ctx, peer_ctx, ours, theirs, import_words)
    if not pairs:
        raise CantTell(
            "no record type of this API has a counterpart in the second API with the same x-pole-entity and "
            "x-pole-catalogue-entity, so nothing can go through the common model"
        )
    for pair in pairs:
        route = (
            pair.importer.op.label + " (bulk import)"
            if pair.importer
            else (f"{pair.b.create.label if pair.b.create else '?'} (one by one)")
        )
        ctx.note(
            f"{pair.a.name} → {pair.b.name}: {len(pair.mapped)} field(s) mapped by name, {len(pair.unmapped)} "
            f"unmapped; sent through {route}"
        )
    created_in_b: list[_Created] = []
    try:
        for pair in pairs:
            walk = _walk(
                target,
                ctx.spec.index,
                pair.a.listing,
                max_pages=max_pages,
                enough=lambda w: len(w.records) >= max_records_per_type,
            )
            pair.exported = [r for r in walk.records if _ident(r) is not None][:max_records_per_type]
            if walk.refused is not None:
                raise CantTell(
                    f"{pair.a.listing.label} answered {walk.refused.status} (exchange {walk.refused.id})"
                )
        probe = _answered(
            peer.request(
                "GET", pairs[0].b.listing.path, params=_page_params(peer_spec.index, pairs[0].b.listing, 1)
            ),
            "",
        )
        moment = _server_time(probe)
        ids: dict[str, str] = {}
        for pair in pairs:
            yield from _transfer(ctx, peer_ctx, peer, pair, ids, created_in_b, max_pages)
        for pair in pairs:
            since = _query_param(pair.b.listing, incremental_params)
            params = {since: _rfc3339(moment - dt.timedelta(seconds=1))} if since and moment else None
            wanted = set(pair.sent)
            walk = _walk(
                peer,
                peer_spec.index,
                pair.b.listing,
                params=params,
                max_pages=max_pages,
                enough=_holds(wanted),
            )
            pair.evidence = walk.last
            pair.found = {i: r for r in walk.records if (i := _ident(r)) in wanted}
        diff_rows: list[list[str | int]] = []
        for pair in pairs:
            yield from _diff(pair, ids, diff_rows)
        ctx.table(
            "Cross-supplier transfer (this API → the second supplier's), per record type",
            [
                "Entity",
                "From (A)",
                "To (B)",
                "Exported from A",
                "Sent to B",
                "Refused by B",
                "Found in B",
                "Identical",
            ],
            [_pair_row(p) for p in pairs],
        )
        if not any(p.sent for p in pairs) and not any(p.refused_records for p in pairs):
            # Nothing crossed over (e.g. B already held every record): interoperation was not shown.
            raise CantTell(
                "no record was transferred: the second API already held every exported record, or this API "
                "exported none; give a second tenant without this API's records"
            )
        if diff_rows:
            ctx.table(
                "Field differences after the transfer",
                ["Entity", "Field", "Lost", "Changed", "Example (A → B)"],
                diff_rows,
            )
        else:
            ctx.note("no field differences: every record found in B equals A's copy on every mapped field")
        if unmapped_rows:
            ctx.table("Not mapped through the common model", ["Side", "Type or field", "Why"], unmapped_rows)
    finally:
        _clean_up(ctx, peer, created_in_b)


def _pair(
    ctx: CheckContext, peer_ctx: CheckContext, ours: list[_Kind], theirs: list[_Kind], import_words: list[str]
) -> tuple[list[_Pair], list[list[str | int]]]:
    """Pair A's record types with B's by (x-pole-entity, x-pole-catalogue-entity) and map their fields."""

    def key(kind: _Kind) -> tuple[str, str] | None:
        return (
            (kind.entity, kind.catalogue.casefold())
            if kind.tagged and kind.entity and kind.catalogue
            else None
        )

    index = peer_ctx.spec.index
    by_key = {k: kind for kind in theirs if (k := key(kind)) is not None}
    pairs: list[_Pair] = []
    unmapped: list[list[str | int]] = []
    used: set[tuple[str, str]] = set()
    for kind in ours:
        k = key(kind)
        if k is None:
            unmapped.append(["A", kind.label, "not tagged with x-pole-entity and x-pole-catalogue-entity"])
            continue
        match = by_key.get(k)
        if match is None or k in used:
            unmapped.append(["A", kind.label, f"B has no {k[0]} / {kind.catalogue} record type"])
            continue
        used.add(k)
        importer = _importer(peer_ctx, match, import_words)
        target_schema = match.record if importer is not None else match.body
        if target_schema is None:
            unmapped.append(["A", kind.label, f"B can neither import nor create {match.name} records"])
            continue
        props = {
            name: loc
            for name, loc in index.properties(target_schema).items()
            if importer is not None
            or (n := index.deref(loc)) is None
            or n.mapping.get("readOnly") is not True
        }
        by_normal = {_normal(name): name for name in props}
        pair = _Pair(a=kind, b=match, importer=importer)
        for name in ctx.spec.index.properties(kind.record):
            if name in props:
                pair.mapped.append((name, name))
            elif _normal(name) in by_normal:
                pair.mapped.append((name, by_normal[_normal(name)]))
            else:
                pair.unmapped.append(name)
                unmapped.append(["A", f"{kind.name}.{name}", f"no property of that name in B's {match.name}"])
        pairs.append(pair)
    for kind in theirs:
        k = key(kind)
        if k is None:
            unmapped.append(["B", kind.label, "not tagged with x-pole-entity and x-pole-catalogue-entity"])
        elif k not in used:
            unmapped.append(["B", kind.label, "this API has no record type of that entity"])
    return pairs, unmapped


def _transfer(
    ctx: CheckContext,
    peer_ctx: CheckContext,
    peer: LiveTarget,
    pair: _Pair,
    ids: dict[str, str],
    created: list[_Created],
    max_pages: int,
) -> Iterator[Finding]:
    """Send A's exported records of one type to B (bulk import, else create one by one)."""
    held = _walk(peer, peer_ctx.spec.index, pair.b.listing, max_pages=max_pages)
    if held.refused is not None:
        raise CantTell(
            f"the second API's {pair.b.listing.label} answered {held.refused.status} (exchange {held.refused.id})"
        )
    records = [r for r in pair.exported if _ident(r) not in held.ids]
    if len(records) < len(pair.exported):
        ctx.note(
            f"{pair.b.label}: the second API already holds {len(pair.exported) - len(records)} record(s) with the "
            "same ids as this API's; they were not sent (nothing is overwritten)"
        )
    bodies = [(r, {b: r[a] for a, b in pair.mapped if a in r}) for r in records]
    if not bodies:
        return
    if pair.importer is not None:
        importer = pair.importer
        items = [body for _, body in bodies]
        if importer.media == "application/json":
            exchange = peer.request(
                "POST", importer.path, json=items if importer.wrapper is None else {importer.wrapper: items}
            )
        else:
            lines = b"".join(json.dumps(item, ensure_ascii=False).encode("utf-8") + b"\n" for item in items)
            exchange = peer.request("POST", importer.path, data=lines, content_type=importer.media)
        if not exchange.ok or not _is_2xx(exchange):
            pair.refused.append(exchange)
            pair.refused_records += len(items)
            yield live_finding(
                "Records refused by the second supplier",
                f"{importer.op.label} of the second API answered {exchange.status or exchange.error} to "
                f"{len(items)} {pair.a.name} record(s) exported from this API.",
                exchange=exchange,
                operation=importer.op.label,
                expected="2xx: the records imported",
                found=str(exchange.status or exchange.error),
                fix="Accept records in the common POLE model as the other supplier exports them.",
            )
            return
        for source, body in bodies:
            ident = _ident(body) or _ident(source)
            assert ident is not None
            item = pair.b.item_url(ident)
            created.append(
                _Created(
                    kind=pair.b,
                    ident=ident,
                    url=peer.url(item) if item else None,
                    record=body,
                    exchange=exchange,
                )
            )
            pair.sent[ident] = source
        return
    assert pair.b.create is not None
    refused: list[Exchange] = []
    for source, body in bodies:
        exchange = peer.request("POST", pair.b.create.path, json=_translate(body, ids))
        if not exchange.ok or not _is_2xx(exchange):
            refused.append(exchange)
            continue
        made = _created_from(peer, pair.b, exchange, AuthMode.DEFAULT)
        created.append(made)
        source_id = _ident(source)
        if made.ident is not None and source_id is not None:
            ids[source_id] = made.ident
            pair.sent[made.ident] = source
    if refused:
        pair.refused.extend(refused)
        pair.refused_records += len(refused)
        yield live_finding(
            "Records refused by the second supplier",
            f"{pair.b.create.label} of the second API refused {len(refused)} of {len(bodies)} {pair.a.name} "
            f"record(s) exported from this API; the first answered {refused[0].status or refused[0].error}.",
            exchange=refused[0],
            operation=pair.b.create.label,
            expected="2xx: each record created",
            found=str(refused[0].status or refused[0].error),
            fix="Accept records in the common POLE model as the other supplier exports them.",
        )


def _diff(pair: _Pair, ids: Mapping[str, str], rows: list[list[str | int]]) -> Iterator[Finding]:
    """Compare each transferred record with B's copy on the mapped fields."""
    missing = [i for i in pair.sent if i not in pair.found]
    if missing:
        yield live_finding(
            "Records missing after the transfer",
            f"{len(missing)} of {len(pair.sent)} {pair.a.name} record(s) the second API accepted are not in its "
            f"list {pair.b.listing.label} (first: {missing[0]}).",
            exchange=pair.evidence,
            operation=pair.b.listing.label,
            expected="every accepted record listed, under the id it was given",
            found=f"{len(missing)} missing",
            fix="Keep the ids of imported records (or return the new ids), and list every record.",
        )
    lost: dict[tuple[str, str], list[tuple[str, Any]]] = {}
    changed: dict[tuple[str, str], list[tuple[str, Any, Any]]] = {}
    for ident, source in pair.sent.items():
        record = pair.found.get(ident)
        if record is None:
            continue
        same = True
        for a_name, b_name in pair.mapped:
            before = _translate(source.get(a_name), ids)
            if before is None:
                continue
            after = record.get(b_name)
            if after is None:
                lost.setdefault((a_name, b_name), []).append((ident, before))
                same = False
            elif not _same(before, after):
                changed.setdefault((a_name, b_name), []).append((ident, before, after))
                same = False
        pair.identical += same
    for (a_name, b_name), cases in lost.items():
        ident, before = cases[0]
        rows.append([pair.a.name, a_name, len(cases), 0, f"{describe(before, 40)} → (absent)"])
        yield live_finding(
            "Field lost in the transfer",
            f"{pair.a.name}.{a_name} is missing from {len(cases)} record(s) after the transfer to the second API "
            f"({pair.b.name}.{b_name}); the first: record {ident} had {describe(before, 60)}.",
            exchange=pair.evidence,
            operation=pair.b.listing.label,
            expected=f"{b_name} as exported from this API",
            found="absent",
            fix=f"Import and keep {b_name}: a field of the common model must survive the move between suppliers.",
        )
    for (a_name, b_name), differing in changed.items():
        ident, before, after = differing[0]
        rows.append(
            [pair.a.name, a_name, 0, len(differing), f"{describe(before, 40)} → {describe(after, 40)}"]
        )
        yield live_finding(
            "Field changed in the transfer",
            f"{pair.a.name}.{a_name} differs in {len(differing)} record(s) after the transfer to the second API "
            f"({pair.b.name}.{b_name}); the first: record {ident}.",
            exchange=pair.evidence,
            operation=pair.b.listing.label,
            expected=describe(before, 80),
            found=describe(after, 80),
            fix=f"Store {b_name} exactly as given (same value, same meaning).",
        )


def _pair_row(pair: _Pair) -> list[str | int]:
    entity = f"{pair.a.entity} / {pair.a.catalogue}"
    return [
        entity,
        pair.a.name,
        pair.b.name,
        len(pair.exported),
        len(pair.sent) + pair.refused_records,
        pair.refused_records,
        len(pair.found),
        pair.identical,
    ]
