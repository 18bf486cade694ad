"""Helpers for the live data-portability checks (``live_portability``): what to call, how to read it, where to
keep what was seen.

* **Plans.** :func:`plan_entities` reads the document under test once per check: each POLE entity type
  (schemas tagged ``x-pole-entity``, or named like POLE data: ``_common.pole_entities``), its list operation
  (``portability``'s component-graph answer), create operation and body schema, item path (read, delete),
  bulk export operations (GETs whose path or operationId says export/download/dump/bulk, or that offer
  NDJSON/CSV without paging), bulk import operation, and the *link* properties of its create body
  (``locationId``, ``personLinks[].personId``, ``objectIds``: names ending in ``Id``/``Ids`` whose stem names
  another entity type). An export or import path like ``/exports/{entityType}`` is mapped to entity types
  through the ``enum`` of its path parameter (``persons`` matches the Person list path ``/persons``).
* **Bodies.** :class:`Seeder` creates clearly synthetic records (every free-text field starts with
  ``conformance-test`` and carries Welsh diacritics, Chinese and Arabic script, a comma and quotes; long
  texts a CRLF) linked to each other, and deletes them again, referrers first.
* **Reading exports.** :func:`records_of` turns a :class:`~conformance.live.StreamedExchange` into records,
  one at a time, for NDJSON (a line each), JSON (the elements of the ``items``-like array, parsed
  incrementally) and CSV (rows as ``{column: text}``); :class:`Rfc4180` reads CSV strictly and counts every
  deviation from RFC 4180.
* **Paging.** :class:`ListWalk` follows a list operation page by page (cursor token, next link, ``Link``
  header, page number or offset, in that order of preference) and records what breaks paging.
* **Memory.** :class:`Ledger` keeps id sets and per-record digests in a temporary SQLite file, so a check's
  memory is the same for a thousand records and for a million.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urljoin
from weakref import WeakKeyDictionary

import orjson

from ..registry import CantTell, CheckContext, Inapplicable
from ..spec.model import Loc, Operation, Parameter
from ._common import PoleSchema, _freeze, pole_entities, words
from ._live import fill_path, json_request_schema, path_parameters, sample_value
from .portability import _graph, _listing, _normal, _normals

if TYPE_CHECKING:
    from ..live import Exchange, LiveTarget, StreamedExchange

MARK = "conformance-test"  # every value these checks write starts with it
JSON_TYPES = ("application/json",)
NDJSON_TYPES = (
    "application/x-ndjson",
    "application/ndjson",
    "application/jsonl",
    "application/x-jsonlines",
    "application/jsonlines",
)
CSV_TYPES = ("text/csv", "application/csv")
EXPORT_WORDS = frozenset({"export", "exports", "download", "downloads", "dump", "bulk", "extract"})
IMPORT_WORDS = frozenset({"import", "imports", "upload", "uploads", "load", "bulk", "ingest"})
ITEM_ENVELOPES = ("items", "data", "results", "records", "content", "value", "entries", "elements")
_SIZE_NAMES = frozenset(
    _normal(n) for n in ("limit", "pageSize", "perPage", "size", "top", "maxResults", "pageLimit", "first")
)
_PAGE_NAMES = frozenset(_normal(n) for n in ("page", "pageNumber", "pageNo", "pageIndex"))
_OFFSET_NAMES = frozenset(_normal(n) for n in ("offset", "skip", "start", "startIndex", "from"))
_LINK_NAMES = frozenset(
    _normal(n) for n in ("next", "nextLink", "nextUrl", "nextPageUrl", "nextPageUri", "nextHref")
)
_LINK_HOLDERS = ("links", "_links", "link", "paging", "pagination", "meta")
_WELSH_LONG = 'Siân Ŵyn Jones, "Cymru" — 李小龍, فاطمة'
_TEXT_SHORT = "Siân Ŵyn 李小龍"
_NAME_WORDS = frozenset({"name", "names", "title", "alias", "aliases", "surname", "forename", "forenames"})
_LONG_WORDS = frozenset(
    {
        "description",
        "summary",
        "notes",
        "note",
        "comment",
        "comments",
        "text",
        "narrative",
        "rationale",
        "details",
    }
)
_NOT_ENTITY_WORDS = frozenset(
    {"input", "record", "records", "create", "update", "request", "new", "data", "body"}
)


def media_base(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def format_of(media_type: str | None) -> str | None:
    """``json``, ``ndjson``, ``csv`` or None for a media type."""
    base = media_base(media_type)
    if base in NDJSON_TYPES:
        return "ndjson"
    if base in CSV_TYPES:
        return "csv"
    if base in JSON_TYPES or (base.endswith("+json") and base != "application/problem+json"):
        return "json"
    return None


def short(value: Any, limit: int = 60) -> str:
    """A cell or message value: JSON text, cut with an ellipsis."""
    if value is ABSENT:
        return "(absent)"
    text = value if isinstance(value, str) else orjson.dumps(value).decode("utf-8", "replace")
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def first_ids(ids: Sequence[str], total: int, limit: int = 3) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" and {total - limit} more" if total > limit else "")


ABSENT = object()  # a member missing on one side (field_differences)


# -- plans ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Link:
    """A create-body property that holds the id of another entity type's record."""

    path: tuple[str, ...]  # ("locationId",), ("objectIds",), ("personLinks", "personId")
    target: str  # the entity type it points to
    many: bool  # an array of ids (or of objects holding one)
    holder: Loc | None  # for an array of objects: the item schema (its other members are sampled)


@dataclass(frozen=True, slots=True)
class Export:
    """One way to get every record of an entity type: an operation, its filled path, its formats."""

    op: Operation
    path: str
    media_types: tuple[str, ...]  # what the 2xx responses offer, as documented

    def formats(self) -> dict[str, str]:
        """``{format: media type}`` for the open formats offered (``json``, ``ndjson``, ``csv``)."""
        found: dict[str, str] = {}
        for media in self.media_types:
            kind = format_of(media)
            if kind is not None:
                found.setdefault(kind, media)
        return found


@dataclass(frozen=True, slots=True)
class Import:
    """The bulk import operation of an entity type."""

    op: Operation
    path: str
    media_types: tuple[str, ...]
    max_items: int | None  # documented maxItems of the JSON batch
    envelope: str | None  # the JSON batch's array member ("items"), None for a root array


@dataclass(frozen=True, slots=True)
class Plan:
    """What the document offers for one POLE entity type."""

    entity: str
    schemas: tuple[PoleSchema, ...]
    record: Loc | None  # the stored record's schema
    match: frozenset[str]  # normalised names that stand for the type (person, persons, …)
    list_op: Operation | None
    create: Operation | None
    create_schema: Loc | None
    item_path: str | None  # "/persons/{personId}"
    can_read: bool
    can_delete: bool
    exports: tuple[Export, ...]
    importer: Import | None
    links: tuple[Link, ...]

    @property
    def key(self) -> str:
        return self.entity.lower()


def _plural(word: str) -> set[str]:
    forms = {word, word + "s", word + "es"}
    if word.endswith("y"):
        forms.add(word[:-1] + "ies")
    if word == "person":
        forms.add("people")
    return forms


def _singular(word: str) -> str:
    if word == "people":
        return "person"
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("ses") or word.endswith("xes"):
        return word[:-2]
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _last_segment(path: str) -> str:
    segments = [s for s in path.split("/") if s and "{" not in s]
    return _normal(segments[-1].split(".", 1)[0]) if segments else ""


def _query_required(op: Operation) -> bool:
    return any(p.required and p.location in ("query", "header", "cookie") for p in op.parameters)


def _response_media(op: Operation) -> tuple[str, ...]:
    found = [m.media_type for r in op.responses if r.status_class == "2" for m in r.content]
    return tuple(dict.fromkeys(media_base(m) for m in found)) or ("application/json",)


def _enum_values(index: Any, param: Parameter) -> list[str]:
    node = index.deref(param.schema)
    values = node.mapping.get("enum") if node is not None else None
    return [str(v) for v in values] if isinstance(values, list) else []


def _fill_for(index: Any, op: Operation, plan_match: frozenset[str]) -> str | None:
    """The operation's path with every path parameter set to an enum value naming the entity type, or None."""
    values: dict[str, str] = {}
    for name in path_parameters(op.path):
        param = next((p for p in op.parameters if p.location == "path" and p.name == name), None)
        choice = None
        for value in _enum_values(index, param) if param is not None else []:
            if _normal(value) in plan_match or _singular(_normal(value)) in plan_match:
                choice = value
                break
        if choice is None:
            return None
        values[name] = choice
    return fill_path(op.path, values)


def _says(op: Operation, vocabulary: frozenset[str]) -> bool:
    said = set(words(op.path)) | set(words(op.operation_id or ""))
    return bool(said & vocabulary)


def _pagination(op: Operation) -> bool:
    names = {_normal(p.name) for p in op.parameters if p.location == "query"}
    return bool(names & (_SIZE_NAMES | _PAGE_NAMES | _OFFSET_NAMES | {"cursor", "pagetoken", "after"}))


@dataclass(frozen=True, slots=True)
class _Candidates:
    """The operations that can play each part in a plan, found in one pass over the document's operations
    (document order kept), so that planning each entity type does not scan them all again."""

    creates: tuple[tuple[Operation, Loc], ...]  # POSTs on paths without parameters, taking JSON
    items: Mapping[str, tuple[Operation, ...]]  # collection path -> operations on "<collection>/{param}"
    exports: tuple[tuple[Operation, tuple[str, ...]], ...]  # export-like GETs, with their media types
    imports: tuple[Operation, ...]  # POSTs/PUTs whose path or operationId says import

    @classmethod
    def of(cls, ops: Sequence[Operation]) -> _Candidates:
        creates: list[tuple[Operation, Loc]] = []
        items: dict[str, list[Operation]] = {}
        exports: list[tuple[Operation, tuple[str, ...]]] = []
        imports: list[Operation] = []
        for op in ops:
            item = _ITEM_PATH.fullmatch(op.path)
            if item is not None:
                items.setdefault(item.group(1), []).append(op)
            if op.method == "post" and not path_parameters(op.path):
                schema = json_request_schema(op)
                if schema is not None:
                    creates.append((op, schema))
            if op.method == "get" and not _query_required(op):
                media = _response_media(op)
                open_bulk = any(format_of(m) in ("ndjson", "csv") for m in media) and not _pagination(op)
                if _says(op, EXPORT_WORDS) or open_bulk:
                    exports.append((op, media))
            if op.method in ("post", "put") and op.request_body is not None and _says(op, IMPORT_WORDS):
                imports.append(op)
        return cls(
            creates=tuple(creates),
            items={path: tuple(found) for path, found in items.items()},
            exports=tuple(exports),
            imports=tuple(imports),
        )


_ITEM_PATH = re.compile(r"(.*)/\{[^{}/]+\}", re.DOTALL)  # "<collection>/{param}"
_plan_cache: WeakKeyDictionary[Any, dict[tuple[Any, ...], tuple[Plan, ...]]] = WeakKeyDictionary()


def plan_entities(
    ctx: CheckContext,
    *,
    pole_vocabulary: Mapping[str, list[str]] | None = None,
    wrapper_words: list[str] | None = None,
    list_envelopes: list[str],
) -> list[Plan]:
    """One :class:`Plan` per POLE entity type, in creation order (a type before the types that link to it).
    Planned once per document and parameters (plans are immutable), however many checks ask.

    Inapplicable when the document has no POLE entity."""
    if ctx.spec is None:
        raise Inapplicable("no OpenAPI document to say which operations exist")
    key = (_freeze(pole_vocabulary), _freeze(wrapper_words), _freeze(list_envelopes))
    cache = _plan_cache.setdefault(ctx.spec.index, {})
    if key not in cache:
        cache[key] = tuple(_plan(ctx, pole_vocabulary, wrapper_words, list_envelopes))
    return list(cache[key])


def _plan(
    ctx: CheckContext,
    pole_vocabulary: Mapping[str, list[str]] | None,
    wrapper_words: list[str] | None,
    list_envelopes: list[str],
) -> list[Plan]:
    index = ctx.spec.index
    entities = pole_entities(ctx, pole_vocabulary, wrapper_words)
    if not entities:
        raise Inapplicable("No component schema is tagged x-pole-entity or named like POLE data.")
    groups: dict[str, list[PoleSchema]] = {}
    for pole in entities:
        groups.setdefault(pole.entity or str(pole.tag_value or pole.name), []).append(pole)
    listing = _listing(ctx, entities, _normals(list_envelopes))
    graph = _graph(ctx)
    found = _Candidates.of(index.operations)
    plans: list[Plan] = []
    for entity, schemas in groups.items():
        names = {s.name for s in schemas}
        candidates = list({op.loc: op for s in schemas for op in listing.get(s.name, ())}.values())
        list_op = _best_list(index, candidates, names)
        match: set[str] = set(_plural(_normal(entity)))
        for schema in schemas:
            kept = [w for w in words(schema.name) if w not in _NOT_ENTITY_WORDS]
            if kept:
                match |= _plural("".join(kept))
        if list_op is not None:
            segment = _last_segment(list_op.path)
            if segment:
                match |= {segment, _singular(segment)}
        frozen = frozenset(match)
        create, create_schema = _create_for(found, list_op, names, index)
        item_path, can_read, can_delete = _item_for(found, list_op, create)
        record = _record_schema(index, list_op, schemas, names)
        exports = tuple(_exports_for(index, found, frozen, names, graph, list_op))
        plans.append(
            Plan(
                entity=entity,
                schemas=tuple(schemas),
                record=record,
                match=frozen,
                list_op=list_op,
                create=create,
                create_schema=create_schema,
                item_path=item_path,
                can_read=can_read,
                can_delete=can_delete,
                exports=exports,
                importer=_import_for(index, found, frozen),
                links=(),
            )
        )
    with_links = [_with_links(index, plan, plans) for plan in plans]
    return _creation_order(with_links)


def _best_list(index: Any, candidates: list[Operation], names: set[str]) -> Operation | None:
    def rank(op: Operation) -> tuple[int, int, int, int]:
        direct = 0
        for media in (m for r in op.responses if r.status_class == "2" for m in r.content):
            node = index.deref(media.schema)
            props = index.properties(media.schema) if node is not None else {}
            holders = [media.schema, *props.values()]
            for holder in holders:
                item = index.deref(holder)
                items = item.mapping.get("items") if item is not None else None
                target = index.deref(f"{item.loc}/items") if isinstance(items, Mapping) and item else None
                if target is not None and target.component in names:
                    direct = 1
        return (-direct, int(bool(path_parameters(op.path))), int(_query_required(op)), len(op.path))

    usable = [op for op in candidates if not _query_required(op)] or candidates
    return min(usable, key=rank) if usable else None


def _create_for(
    found: _Candidates, list_op: Operation | None, names: set[str], index: Any
) -> tuple[Operation | None, Loc | None]:
    fallback: tuple[Operation | None, Loc | None] = (None, None)
    for op, schema in found.creates:
        if list_op is not None and op.path == list_op.path:
            return op, schema
        node = index.deref(schema)
        if node is not None and node.component in names and fallback[0] is None:
            fallback = (op, schema)
    return fallback


def _item_for(
    found: _Candidates, list_op: Operation | None, create: Operation | None
) -> tuple[str | None, bool, bool]:
    collection = list_op or create
    if collection is None:
        return None, False, False
    paths = found.items.get(collection.path.rstrip("/"), ())
    if not paths:
        return None, False, False
    path = paths[0].path
    methods = {op.method for op in paths if op.path == path}
    return path, "get" in methods, "delete" in methods


def _record_schema(
    index: Any, list_op: Operation | None, schemas: Sequence[PoleSchema], names: set[str]
) -> Loc | None:
    if list_op is not None:
        for media in (m for r in list_op.responses if r.status_class == "2" for m in r.content):
            props = index.properties(media.schema)
            for holder in [media.schema, *props.values()]:
                node = index.deref(holder)
                if node is not None and isinstance(node.mapping.get("items"), Mapping):
                    item = index.deref(f"{node.loc}/items")
                    if item is not None and item.component in names:
                        loc: Loc = item.loc
                        return loc
    best = max(schemas, key=lambda s: len(index.properties(s.loc)), default=None)
    return best.loc if best is not None else None


def _entity_path(
    index: Any, op: Operation, match: frozenset[str], returns: Callable[[Operation], bool] | None = None
) -> str | None:
    """The path that serves the entity type: a templated path with its parameters filled from their enums,
    or a plain path whose words (path, operationId) name the type — or, with ``returns``, that returns it."""
    if path_parameters(op.path):
        return _fill_for(index, op, match)
    said = {_normal(w) for w in words(op.path) + words(op.operation_id or "")}
    return op.path if said & match or (returns is not None and returns(op)) else None


def _exports_for(
    index: Any,
    found: _Candidates,
    match: frozenset[str],
    names: set[str],
    graph: Any,
    list_op: Operation | None,
) -> Iterator[Export]:
    for op, media in found.exports:
        if op is list_op:
            continue
        path = _entity_path(index, op, match, lambda op: bool(graph.returns(op) & names))
        if path is not None:
            yield Export(op=op, path=path, media_types=media)


def _import_for(index: Any, found: _Candidates, match: frozenset[str]) -> Import | None:
    for op in found.imports:
        path = _entity_path(index, op, match)
        if path is None:
            continue
        assert op.request_body is not None
        media = tuple(dict.fromkeys(media_base(m.media_type) for m in op.request_body.content))
        max_items, envelope = None, None
        for content in op.request_body.content:
            if format_of(content.media_type) != "json" or content.schema is None:
                continue
            node = index.deref(content.schema)
            if node is None:
                continue
            if isinstance(node.mapping.get("items"), Mapping):
                limit = node.mapping.get("maxItems")
                max_items = limit if isinstance(limit, int) else None
                break
            for name, loc in index.properties(content.schema).items():
                member = index.deref(loc)
                if member is not None and isinstance(member.mapping.get("items"), Mapping):
                    limit = member.mapping.get("maxItems")
                    max_items, envelope = (limit if isinstance(limit, int) else None), name
                    break
        return Import(op=op, path=path, media_types=media, max_items=max_items, envelope=envelope)
    return None


def _with_links(index: Any, plan: Plan, plans: Sequence[Plan]) -> Plan:
    if plan.create_schema is None:
        return plan
    others = [p for p in plans if p.entity != plan.entity]
    found: list[Link] = []

    def target_of(name: str) -> str | None:
        parts = words(name)
        if len(parts) < 2 or parts[-1] not in ("id", "ids"):
            return None
        stem = "".join(parts[:-1])
        for other in others:
            if stem in other.match or _singular(stem) in other.match:
                return other.entity
        return None

    for name, loc in index.properties(plan.create_schema).items():
        node = index.deref(loc)
        if node is None or node.mapping.get("readOnly") is True:
            continue
        kind = index.schema_type(loc)
        target = target_of(name)
        if target is not None and kind in ("string", "array", None):
            found.append(Link(path=(name,), target=target, many=kind == "array", holder=None))
            continue
        if kind == "array" and isinstance(node.mapping.get("items"), Mapping):
            item_loc = f"{node.loc}/items"
            for inner, _ in index.properties(item_loc).items():
                inner_target = target_of(inner)
                if inner_target is not None:
                    found.append(Link(path=(name, inner), target=inner_target, many=True, holder=item_loc))
                    break
    return replace(plan, links=tuple(found))


def _creation_order(plans: list[Plan]) -> list[Plan]:
    """Referenced types before the types that link to them (document order otherwise)."""
    ordered: list[Plan] = []
    placed: set[str] = set()
    pending = list(plans)
    while pending:
        progress = False
        for plan in list(pending):
            if all(link.target in placed or link.target == plan.entity for link in plan.links):
                ordered.append(plan)
                placed.add(plan.entity)
                pending.remove(plan)
                progress = True
        if not progress:  # a cycle: keep document order for the rest
            ordered.extend(pending)
            break
    return ordered


# -- synthetic bodies and seeding -------------------------------------------------------------------------------
def _free_text(index: Any, loc: Loc | None) -> Mapping[str, Any] | None:
    """The schema when it is a free-text string (no enum, const, pattern or format), else None."""
    node = index.deref(loc)
    if node is None or index.schema_type(loc) != "string":
        return None
    schema: Mapping[str, Any] = node.mapping
    if any(key in schema for key in ("enum", "const", "pattern", "format")) or schema.get("readOnly") is True:
        return None
    return schema


def synthetic_text(name: str, schema: Mapping[str, Any], n: int, total: int) -> str | None:
    """A value for a free-text property: starts with ``conformance-test``, carries non-ASCII text (and, in
    long descriptive fields, a comma, quotes and a CRLF); None when even the mark does not fit."""
    longest = schema.get("maxLength")
    shortest = schema.get("minLength")
    limit = longest if isinstance(longest, int) else 10_000
    named = set(words(name))
    if limit >= 200 and not named & _NAME_WORDS and named & _LONG_WORDS:
        text = f"{MARK} synthetic record {n + 1} of {total}: {_WELSH_LONG}\r\nSecond line, for CSV quoting."
    else:
        text = f"{MARK} {n + 1} {_TEXT_SHORT}"
    text = text[:limit].rstrip()
    if len(text) < len(MARK) or (isinstance(shortest, int) and len(text) < shortest):
        return None
    return text


def synthetic_body(index: Any, schema: Loc, n: int, total: int, *, full: bool) -> Any:
    """A body for ``schema``: every writable property (``full``) or only the required ones, from the schema's
    examples, enums and types, with free text replaced by :func:`synthetic_text`."""
    return _fill(index, schema, "", n, total, full=full, depth=0)


def _fill(index: Any, loc: Loc | None, name: str, n: int, total: int, *, full: bool, depth: int) -> Any:
    node = index.deref(loc)
    if node is None or depth > 6:
        return None
    text = _free_text(index, loc)
    if text is not None:
        value = synthetic_text(name, text, n, total)
        return value if value is not None else sample_value(index, loc)
    kind = index.schema_type(loc)
    props = index.properties(loc)
    if kind == "object" or (kind is None and props):
        required = index.required(loc)
        result: dict[str, Any] = {}
        for prop, prop_loc in props.items():
            sub = index.deref(prop_loc)
            if sub is None or sub.mapping.get("readOnly") is True or (not full and prop not in required):
                continue
            result[prop] = _fill(index, prop_loc, prop, n, total, full=full, depth=depth + 1)
        return result
    if kind == "array":
        items = f"{node.loc}/items"
        if _free_text(index, items) is not None:
            return [_fill(index, items, name, n, total, full=full, depth=depth + 1)]
        if any(k in node.mapping for k in ("examples", "example", "default")):
            return sample_value(index, loc)
        if isinstance(node.mapping.get("items"), Mapping):
            return [_fill(index, items, name, n, total, full=full, depth=depth + 1)]
        return []
    return sample_value(index, loc)


def _set_links(
    body: dict[str, Any], plan: Plan, index: Any, created: Mapping[str, list[str]], n: int
) -> bool:
    """Fill the link properties with ids seeded earlier; False when a required link has nothing to point to."""
    required = index.required(plan.create_schema) if plan.create_schema else set()
    for link in plan.links:
        pool = created.get(link.target) or []
        top = link.path[0]
        if not pool:
            body.pop(top, None)
            if top in required:
                return False
            continue
        first, second = pool[n % len(pool)], pool[(n + 1) % len(pool)]
        chosen = [first] if first == second else [first, second]
        if len(link.path) == 1:
            body[top] = chosen if link.many else first
            continue
        members: list[Any] = []
        for ident in chosen:
            item = sample_value(index, link.holder) if link.holder else {}
            item = dict(item) if isinstance(item, Mapping) else {}
            item[link.path[1]] = ident
            members.append(item)
        body[top] = members
    return True


@dataclass(slots=True)
class Seeder:
    """Creates synthetic records through the API and deletes them again (see the module docstring)."""

    ctx: CheckContext
    target: LiveTarget
    plans: Sequence[Plan]
    id_property: str = "id"
    auth: Any = None
    created: dict[str, list[str]] = field(default_factory=dict)  # entity -> ids, in creation order

    def seed(self, per_entity: int) -> list[str]:
        """Create ``per_entity`` records of every type that can be created and deleted; returns why a type
        got none (one line each)."""
        index = self.ctx.spec.index
        problems: list[str] = []
        for plan in self.plans:
            if plan.create is None or plan.create_schema is None:
                problems.append(f"{plan.entity}: the document has no create operation")
                continue
            if plan.item_path is None or not plan.can_delete:
                problems.append(f"{plan.entity}: the document has no DELETE to remove what would be created")
                continue
            made = self.created.setdefault(plan.entity, [])
            for n in range(per_entity):
                why = self._create_one(index, plan, n, per_entity)
                if why is not None:
                    problems.append(f"{plan.entity}: {why}")
                    break
            if not made:
                self.created.pop(plan.entity, None)
        return problems

    def _create_one(self, index: Any, plan: Plan, n: int, total: int) -> str | None:
        assert plan.create is not None
        assert plan.create_schema is not None
        last = ""
        for full in (True, False):
            body = synthetic_body(index, plan.create_schema, n, total, full=full)
            if not isinstance(body, dict):
                return f"{plan.create.label} does not take a JSON object"
            if not _set_links(body, plan, index, self.created, n):
                return "a required link has no record to point to"
            kwargs: dict[str, Any] = {"json": body}
            if self.auth is not None:
                kwargs["auth"] = self.auth
            answer = self.target.request("POST", plan.create.path, **kwargs)
            if not answer.ok or answer.status is None:
                self.ctx.note(
                    f"{plan.create.label} got no response (exchange {answer.id}); a record marked '{MARK}' "
                    "may have been created: check and delete it by hand"
                )
                raise CantTell(f"{plan.create.label}: {answer.error or 'no response'}")
            if 200 <= answer.status < 300:
                ident = self._created_id(answer)
                if ident is None:
                    raise CantTell(
                        f"{plan.create.label} answered {answer.status} without the new record's "
                        f"'{self.id_property}' or a Location header (exchange {answer.id}): delete the "
                        f"record marked '{MARK}' by hand"
                    )
                self.created[plan.entity].append(ident)
                return None
            last = f"{plan.create.label} refused the synthetic record ({answer.status}, exchange {answer.id})"
            if answer.status not in (400, 409, 422):
                break
        return last

    def _created_id(self, answer: Exchange) -> str | None:
        try:
            body = answer.json()
        except ValueError:
            body = None
        if isinstance(body, Mapping) and body.get(self.id_property) is not None:
            return str(body[self.id_property])
        location = answer.header("location")
        if location:
            return unquote(location.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]) or None
        return None

    @property
    def count(self) -> int:
        return sum(len(ids) for ids in self.created.values())

    def cleanup(self) -> None:
        """Delete every seeded record, referrers first; a record that cannot be deleted is noted with its id."""
        failed = delete_records(
            self.target,
            [(plan, self.created.get(plan.entity, [])) for plan in reversed(self.plans)],
            auth=self.auth,
        )
        if failed:
            self.ctx.note(
                f"clean-up failed: {len(failed)} synthetic record(s) could not be deleted: "
                f"{first_ids(failed, len(failed), 10)}; delete them by hand (they are marked '{MARK}')"
            )


def delete_records(
    target: LiveTarget, batches: Iterable[tuple[Plan, Iterable[str]]], *, auth: Any = None
) -> list[str]:
    """DELETE each record (a ``409`` is tried again once every other record is gone); returns
    ``"<Entity> <id> (<why>)"`` for each record that could not be deleted."""
    retry: list[tuple[Plan, str]] = []
    failed: list[str] = []
    kwargs: dict[str, Any] = {} if auth is None else {"auth": auth}

    def delete(plan: Plan, ident: str) -> str | None:
        assert plan.item_path is not None
        name = path_parameters(plan.item_path)[0]
        answer = target.request("DELETE", fill_path(plan.item_path, {name: ident}), **kwargs)
        if (
            answer.ok
            and answer.status is not None
            and (200 <= answer.status < 300 or answer.status in (404, 410))
        ):
            return None
        return answer.error or f"answered {answer.status}, exchange {answer.id}"

    for plan, ids in batches:
        if plan.item_path is None or not plan.can_delete:
            failed.extend(f"{plan.entity} {ident} (no DELETE operation)" for ident in ids)
            continue
        for ident in ids:
            why = delete(plan, ident)
            if why is not None:
                retry.append((plan, ident))
    for plan, ident in retry:
        why = delete(plan, ident)
        if why is not None:
            failed.append(f"{plan.entity} {ident} ({why})")
    return failed


# -- records of an export ----------------------------------------------------------------------------------------
@dataclass(slots=True)
class Parsed:
    """One record of an export: its position, the parsed value and, for NDJSON, the line as received."""

    position: int  # 1-based line (NDJSON, CSV) or item number (JSON)
    value: Any
    raw: bytes | None = None


class ExportFormatError(ValueError):
    """An export body does not parse in its format; ``position`` says where."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


def records_of(
    stream: StreamedExchange,
    kind: str,
    *,
    envelopes: Sequence[str] = ITEM_ENVELOPES,
    meta: dict[str, Any] | None = None,
) -> Iterator[Parsed]:
    """The records of an export body as they stream; ``ExportFormatError`` at the first unparsable one.
    ``StreamError`` (from the stream) when the body is cut off. For JSON, the root's other scalar members
    (``count``, ``exportedAt``…) go to ``meta``."""
    if kind == "ndjson":
        yield from ndjson_records(stream.iter_lines())
    elif kind == "json":
        yield from json_items(stream.iter_bytes(), envelopes, meta)
    elif kind == "csv":
        yield from csv_records(stream.iter_lines(), stream.charset)
    else:
        raise ValueError(f"unknown export format {kind!r}")


def ndjson_records(lines: Iterable[bytes]) -> Iterator[Parsed]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ExportFormatError(f"line {number} is not JSON ({exc})", number) from None
        yield Parsed(number, value, line)


def _refuse(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_refuse)
_WS = re.compile(r"[ \t\n\r]*")


class _JsonText:
    """Decoded text of a JSON byte stream, fed on demand, with the consumed part dropped."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self.text = ""
        self.pos = 0
        self.eof = False
        self.consumed = 0

    def more(self) -> bool:
        if self.eof:
            return False
        chunk = next(self._chunks, None)
        try:
            if chunk is None:
                self.eof = True
                tail = self._decoder.decode(b"", final=True)
            else:
                tail = self._decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            raise ExportFormatError(f"the body is not valid UTF-8 ({exc.reason})") from None
        if self.pos > 65536:
            self.consumed += self.pos
            self.text = self.text[self.pos :]
            self.pos = 0
        self.text += tail
        return True

    def skip_ws(self) -> str:
        """The next non-whitespace character ('' at the end of the body)."""
        while True:
            self.pos = _WS.match(self.text, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.more():
                return ""

    def value(self) -> Any:
        """Decode one JSON value at the current position, after any whitespace (reading more text until it
        is complete)."""
        self.skip_ws()  # raw_decode refuses leading whitespace, which JSON allows around every value
        while True:
            try:
                value, end = _DECODER.raw_decode(self.text, self.pos)
            except ValueError as exc:
                if self.more():
                    continue
                where = self.consumed + self.pos
                raise ExportFormatError(f"invalid JSON at character {where}: {exc}") from None
            # A number (or literal) at the very end of the text may continue in the next chunk.
            if end >= len(self.text) and not self.eof and self.more():
                continue
            self.pos = end
            return value

    def expect(self, chars: str) -> str:
        found = self.skip_ws()
        if not found or found not in chars:
            where = self.consumed + self.pos
            raise ExportFormatError(
                f"expected one of {chars!r} at character {where}, found {found or 'the end'!r}"
            )
        self.pos += 1
        return found


def json_items(
    chunks: Iterator[bytes], envelopes: Sequence[str] = ITEM_ENVELOPES, meta: dict[str, Any] | None = None
) -> Iterator[Parsed]:
    """The elements of a JSON export, parsed incrementally: a root array, or the first array member of the
    root object named in ``envelopes``. Other root members go to ``meta`` (e.g. ``count``)."""
    text = _JsonText(chunks)
    first = text.expect("{[")
    number = 0
    if first == "[":
        yield from _elements(text)
        if text.skip_ws():
            raise ExportFormatError("data after the JSON document")
        return
    wanted = {e.lower() for e in envelopes}
    found_items = False
    if text.skip_ws() == "}":
        text.pos += 1
    else:
        while True:
            if text.skip_ws() != '"':
                raise ExportFormatError(f"expected a member name at character {text.consumed + text.pos}")
            name = text.value()
            text.expect(":")
            if not found_items and str(name).lower() in wanted and text.skip_ws() == "[":
                text.pos += 1
                found_items = True
                for parsed in _elements(text):
                    number += 1
                    yield parsed
            else:
                value = text.value()
                if meta is not None:
                    meta[str(name)] = value if not isinstance(value, (list, dict)) else type(value).__name__
            if text.expect(",}") == "}":
                break
    if text.skip_ws():
        raise ExportFormatError("data after the JSON document")
    if not found_items:
        raise ExportFormatError(
            f"no array of records (a root array, or a member named {', '.join(envelopes[:3])}…)"
        )


def _elements(text: _JsonText) -> Iterator[Parsed]:
    number = 0
    if text.skip_ws() == "]":
        text.pos += 1
        return
    while True:
        value = text.value()
        number += 1
        yield Parsed(number, value)
        if text.expect(",]") == "]":
            return


def _decoded_lines(lines: Iterable[bytes], charset: str | None) -> Iterator[str]:
    encoding = charset or "utf-8"
    try:
        decoder = codecs.getincrementaldecoder(encoding)("strict")
    except LookupError:
        raise ExportFormatError(f"unknown charset {charset!r}") from None
    for number, line in enumerate(lines, start=1):
        try:
            yield decoder.decode(line)
        except UnicodeDecodeError as exc:
            raise ExportFormatError(f"line {number} is not valid {encoding} ({exc.reason})", number) from None


def csv_records(lines: Iterable[bytes], charset: str | None = None) -> Iterator[Parsed]:
    """Rows of a CSV export as ``{column: text}``, read leniently (Python's csv module: any line ends); the
    first row is the header. ``ExportFormatError`` for undecodable text, a missing header or a row longer
    than the header."""
    reader = csv.reader(_decoded_lines(lines, charset), strict=True)
    header: list[str] | None = None
    try:
        for row in reader:
            if header is None:
                header = row
                if not row or not any(cell.strip() for cell in row):
                    raise ExportFormatError("no header row", reader.line_num)
                continue
            if not row:
                continue
            if len(row) > len(header):
                raise ExportFormatError(
                    f"record at line {reader.line_num} has {len(row)} fields, the header {len(header)}",
                    reader.line_num,
                )
            yield Parsed(reader.line_num, dict(zip(header, row, strict=False)))
    except csv.Error as exc:
        raise ExportFormatError(f"not CSV at line {reader.line_num}: {exc}", reader.line_num) from None
    if header is None:
        raise ExportFormatError("empty body: no header row")


# -- strict RFC 4180 ---------------------------------------------------------------------------------------------
_QUOTED = re.compile(r'"((?:[^"]|"")*)"')
_UNQUOTED = re.compile(r"[^,]*")
_RECORD_LIMIT = 1 << 20  # characters of one record before unbalanced quotes are assumed


@dataclass(slots=True)
class Rfc4180:
    """A strict RFC 4180 reader that counts every deviation instead of stopping at the first.

    Feed it the body's lines (terminators kept, :meth:`StreamedExchange.iter_lines`): it checks UTF-8, a
    header row (first record: non-empty, unique names, at least one of ``known_columns`` when given), CRLF
    after every record, quoting (a field holding a comma, quote, CR or LF is enclosed in quotes; quotes
    inside are doubled; nothing follows a closing quote) and the same number of fields in every record.
    ``problems`` maps each kind of deviation to ``[count, first line]``."""

    known_columns: frozenset[str] = frozenset()
    problems: dict[str, list[int]] = field(default_factory=dict)
    records: int = 0  # data records (the header excluded)
    header: list[str] | None = None
    quoted_special: int = 0  # fields that needed quotes and had them
    bom: bool = False

    def problem(self, kind: str, line: int) -> None:
        entry = self.problems.setdefault(kind, [0, line])
        entry[0] += 1

    def feed(self, lines: Iterable[bytes]) -> Iterator[list[str]]:
        """Yield each record's fields while checking it."""
        pending: list[str] = []
        pending_quotes = 0
        start_line = 0
        for number, raw in enumerate(lines, start=1):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                self.bom = True
                raw = raw[3:]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                self.problem("not UTF-8", number)
                text = raw.decode("utf-8", "replace")
            if not pending:
                start_line = number
            pending.append(text)
            pending_quotes += text.count('"')
            if pending_quotes % 2 and sum(len(p) for p in pending) < _RECORD_LIMIT:
                continue  # inside a quoted field: the record goes on on the next line
            if pending_quotes % 2:
                self.problem("unbalanced quotes", start_line)
            record = "".join(pending)
            pending, pending_quotes = [], 0
            yield from self._record(record, start_line, number)
        if pending:
            self.problem("unbalanced quotes", start_line)
            yield from self._record("".join(pending), start_line, start_line)

    def _record(self, record: str, line: int, last_line: int) -> Iterator[list[str]]:
        if record.endswith("\r\n"):
            body = record[:-2]
        elif record.endswith("\n"):
            body = record[:-1]
            self.problem("line end is LF, not CRLF", last_line)
        else:
            body = record  # the last record may end without a line break
        if not body and self.header is not None:
            self.problem("empty line", line)
            return
        fields = self._fields(body, line)
        if self.header is None:
            self.header = fields
            names = [f.strip() for f in fields]
            if (
                not all(names)
                or len(set(names)) != len(names)
                or (self.known_columns and not set(names) & self.known_columns)
            ):
                self.problem("no header row (the first record does not name the columns)", line)
            return
        self.records += 1
        if len(fields) != len(self.header):
            self.problem("field count differs from the header's", line)
        yield fields

    def _fields(self, body: str, line: int) -> list[str]:
        fields: list[str] = []
        pos = 0
        while True:
            if body.startswith('"', pos):
                match = _QUOTED.match(body, pos)
                if match is None:
                    self.problem("unbalanced quotes", line)
                    fields.append(body[pos + 1 :])
                    return fields
                value = match.group(1).replace('""', '"')
                if any(c in value for c in ',"\r\n'):
                    self.quoted_special += 1
                pos = match.end()
                if pos < len(body) and body[pos] != ",":
                    self.problem("text after a closing quote", line)
                    pos = body.find(",", pos)
                    pos = len(body) if pos < 0 else pos
            else:
                match = _UNQUOTED.match(body, pos)
                assert match is not None
                value = match.group(0)
                if '"' in value:
                    self.problem("quote in an unquoted field (not enclosed in quotes, or not doubled)", line)
                if "\r" in value or "\n" in value:
                    self.problem("line break in an unquoted field", line)
                pos = match.end()
            fields.append(value)
            if pos >= len(body):
                return fields
            pos += 1  # the comma
            if pos == len(body):
                fields.append("")
                return fields


# -- paging ------------------------------------------------------------------------------------------------------
def page_items(body: Any, envelopes: Sequence[str] = ITEM_ENVELOPES) -> list[Any] | None:
    """The records of one list page: a root array, or the array member named like an envelope (or the only
    array member); None when there is none."""
    if isinstance(body, list):
        return body
    if not isinstance(body, Mapping):
        return None
    for name in (*envelopes, "_embedded", "embedded"):
        value = body.get(name)
        if isinstance(value, list):
            return value
        if isinstance(value, Mapping):
            inner = [v for v in value.values() if isinstance(v, list)]
            if len(inner) == 1:
                return inner[0]
    arrays = [v for v in body.values() if isinstance(v, list)]
    return arrays[0] if len(arrays) == 1 else None


def _link_header_next(value: str | None) -> str | None:
    for part in (value or "").split(","):
        url, _, params = part.partition(";")
        if re.search(r'rel\s*=\s*"?(?:[^"]*\s)?next(?:\s[^"]*)?"?', params):
            return url.strip().strip("<>")
    return None


@dataclass(slots=True)
class WalkProblem:
    title: str
    message: str
    exchange: str | None


@dataclass(slots=True)
class ListWalk:
    """Walks a list operation to its end (see the module docstring); ids go to ``ledger`` under ``source``.

    Problems that show broken paging are collected in ``problems`` (no progress, a page larger than asked,
    a page refused part-way); a walk that cannot start raises ``CantTell``."""

    target: LiveTarget
    op: Operation
    ledger: Ledger
    source: str
    page_size: int | None
    id_property: str = "id"
    max_pages: int = 100_000
    next_properties: Sequence[str] = ()
    cursor_params: Sequence[str] = ()
    auth: Any = None
    pages: int = 0
    items: int = 0
    without_id: int = 0
    first_exchange: str | None = None
    problems: list[WalkProblem] = field(default_factory=list)

    def run(self) -> None:
        query = {_normal(p.name): p for p in self.op.parameters if p.location == "query"}
        size_param = next((p.name for n, p in query.items() if n in _SIZE_NAMES), None)
        cursors = _normals(self.cursor_params)
        cursor_param = next((p.name for n, p in query.items() if n in cursors), None)
        page_param = next((p.name for n, p in query.items() if n in _PAGE_NAMES), None)
        offset_param = next((p.name for n, p in query.items() if n in _OFFSET_NAMES), None)
        next_names = _normals(self.next_properties)
        params: dict[str, str] = {}
        if size_param is not None and self.page_size:
            params[size_param] = str(self.page_size)
        url: str | None = None
        page_number: int | None = None
        offset = 0
        seen: set[str] = set()
        kwargs: dict[str, Any] = {} if self.auth is None else {"auth": self.auth}
        while True:
            if self.pages >= self.max_pages:
                raise CantTell(f"{self.op.label}: stopped after {self.max_pages} pages (max_pages)")
            answer = self.target.request(
                "GET", url or self.op.path, params=None if url else dict(params), **kwargs
            )
            self.pages += 1
            if self.first_exchange is None:
                self.first_exchange = answer.id
            if not answer.ok or answer.status is None:
                raise CantTell(f"{self.op.label} page {self.pages}: {answer.error or 'no response'}")
            if not 200 <= answer.status < 300:
                if self.pages == 1:
                    raise CantTell(f"{self.op.label} answered {answer.status} (exchange {answer.id})")
                self.problems.append(
                    WalkProblem(
                        "Next page refused",
                        f"{self.op.label}: page {self.pages}, asked for as the previous page said, answered "
                        f"{answer.status}; the rest of the list cannot be read.",
                        answer.id,
                    )
                )
                return
            try:
                body = answer.json()
            except ValueError:
                raise CantTell(
                    f"{self.op.label} page {self.pages} is not JSON (exchange {answer.id})"
                ) from None
            items = page_items(body)
            if items is None:
                raise CantTell(
                    f"{self.op.label} page {self.pages} holds no array of records (exchange {answer.id})"
                )
            if self.page_size and size_param is not None and len(items) > self.page_size:
                self.problems.append(
                    WalkProblem(
                        "Page larger than requested",
                        f"{self.op.label}: page {self.pages} holds {len(items)} records; {size_param}="
                        f"{self.page_size} was asked for.",
                        answer.id,
                    )
                )
            for item in items:
                ident = item.get(self.id_property) if isinstance(item, Mapping) else None
                if ident is None:
                    self.without_id += 1
                    continue
                self.ledger.add(self.source, str(ident), exchange=answer.id)
            self.items += len(items)
            # Where the next page is, in order of preference.
            token = _member(body, next_names, urls=False) if cursor_param else None
            link = _member(body, _LINK_NAMES, urls=True) or _link_header_next(answer.header("link"))
            if token and cursor_param:
                params[cursor_param] = token
                state, url = f"cursor:{token}", None
            elif link:
                url = urljoin(self.target.url(self.op.path), link)
                state = f"url:{url}"
            elif (page_param or offset_param) and items:
                if self.page_size and size_param is not None and len(items) < self.page_size:
                    return  # a short page is the last one
                if page_param is not None:
                    page_number = (page_number or _first_page(self.target, self.op, page_param)) + 1
                    params[page_param] = str(page_number)
                    state = f"page:{page_number}"
                else:
                    assert offset_param is not None
                    offset += len(items)
                    params[offset_param] = str(offset)
                    state = f"offset:{offset}"
                url = None
            else:
                return
            if state in seen:
                self.problems.append(
                    WalkProblem(
                        "Paging does not progress",
                        f"{self.op.label}: page {self.pages} points back to a page already read "
                        f"({state.split(':', 1)[0]} repeated); the walk was stopped.",
                        answer.id,
                    )
                )
                return
            seen.add(state)


def _first_page(target: Any, op: Operation, name: str) -> int:
    """The number of the page a list answers without a page parameter: the documented default, else the
    minimum, else 1."""
    param = next(p for p in op.parameters if p.name == name)
    raw = param.raw.get("schema") if isinstance(param.raw.get("schema"), Mapping) else param.raw
    for key in ("default", "minimum"):
        value = raw.get(key) if isinstance(raw, Mapping) else None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return 1


def _member(body: Any, names: frozenset[str], *, urls: bool) -> str | None:
    """A string member named in ``names`` at the root or one level down (``links.next``, ``_links.next.href``);
    with ``urls``, only values that look like URLs."""
    if not isinstance(body, Mapping):
        return None

    def pick(holder: Mapping[str, Any]) -> str | None:
        for key, value in holder.items():
            if _normal(key) not in names:
                continue
            if isinstance(value, Mapping) and isinstance(value.get("href"), str):
                value = value["href"]
            if (
                isinstance(value, str)
                and value
                and (not urls or value.startswith(("http://", "https://", "/", "?")))
            ):
                return value
        return None

    found = pick(body)
    if found is not None:
        return found
    for holder_name in _LINK_HOLDERS:
        holder = body.get(holder_name)
        if isinstance(holder, Mapping):
            found = pick(holder)
            if found is not None:
                return found
    return None


# -- the ledger --------------------------------------------------------------------------------------------------
class Ledger:
    """Id sets (with how often each id was seen, the exchange that first and last showed it, and an optional
    digest) per *source*, in a temporary SQLite file: the check's memory does not grow with the records."""

    _FLUSH = 5000

    def __init__(self) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix="conformance-ledger-"))
        self._db = sqlite3.connect(str(self._folder / "ledger.sqlite3"))
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-4096", "temp_store=FILE"):
            self._db.execute(f"PRAGMA {pragma}")
        self._db.execute(
            "CREATE TABLE seen (src TEXT, id TEXT, n INTEGER, ex TEXT, dup_ex TEXT, digest BLOB,"
            " PRIMARY KEY (src, id)) WITHOUT ROWID"
        )
        self._pending: list[tuple[str, str, str | None, bytes | None]] = []

    @property
    def folder(self) -> Path:
        """A private temporary folder (removed by :meth:`close`) for spool files."""
        return self._folder

    def add(
        self, source: str, ident: str, *, exchange: str | None = None, digest: bytes | None = None
    ) -> None:
        self._pending.append((source, ident, exchange, digest))
        if len(self._pending) >= self._FLUSH:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self._db.executemany(
                "INSERT INTO seen VALUES (?, ?, 1, ?, NULL, ?) ON CONFLICT (src, id) DO UPDATE SET"
                " n = n + 1, dup_ex = excluded.ex",
                [(s, i, e, d) for s, i, e, d in self._pending],
            )
            self._pending.clear()

    def count(self, source: str) -> int:
        """Distinct ids seen in ``source``."""
        self.flush()
        row = self._db.execute("SELECT count(*) FROM seen WHERE src = ?", (source,)).fetchone()
        return int(row[0])

    def duplicates(self, source: str, limit: int = 5) -> tuple[int, list[str], str | None]:
        """(how many ids were seen more than once, the first few, an exchange that repeated one)."""
        self.flush()
        total = self._db.execute("SELECT count(*) FROM seen WHERE src = ? AND n > 1", (source,)).fetchone()[0]
        rows = self._db.execute(
            "SELECT id, dup_ex FROM seen WHERE src = ? AND n > 1 ORDER BY id LIMIT ?", (source, limit)
        ).fetchall()
        return int(total), [r[0] for r in rows], (rows[0][1] if rows else None)

    def missing(self, source: str, *others: str, limit: int = 5) -> tuple[int, list[str]]:
        """Ids of ``source`` that none of ``others`` has: (how many, the first few)."""
        self.flush()
        marks = ", ".join("?" for _ in others)
        where = f"a.src = ? AND NOT EXISTS (SELECT 1 FROM seen b WHERE b.id = a.id AND b.src IN ({marks}))"
        total = self._db.execute(f"SELECT count(*) FROM seen a WHERE {where}", (source, *others)).fetchone()[
            0
        ]
        rows = self._db.execute(
            f"SELECT a.id FROM seen a WHERE {where} ORDER BY a.id LIMIT ?", (source, *others, limit)
        ).fetchall()
        return int(total), [r[0] for r in rows]

    def both(self, first: str, second: str, into: str) -> int:
        """Copy the ids present in both sources into a new source ``into``; returns how many."""
        self.flush()
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO seen SELECT ?, a.id, 1, a.ex, NULL, NULL FROM seen a"
            " JOIN seen b ON b.id = a.id AND b.src = ? WHERE a.src = ?",
            (into, second, first),
        )
        return int(cursor.rowcount)

    def has(self, source: str, ident: str, *, flush: bool = True) -> bool:
        """Whether ``source`` holds ``ident`` (``flush=False``: ignore ids added since the last flush, for a
        source that is complete already)."""
        if flush:
            self.flush()
        row = self._db.execute("SELECT 1 FROM seen WHERE src = ? AND id = ?", (source, ident)).fetchone()
        return row is not None

    def ids(self, source: str, batch: int = 1000) -> Iterator[str]:
        """Every id of ``source``, read in batches (never all at once)."""
        self.flush()
        last = ""
        while True:
            rows = self._db.execute(
                "SELECT id FROM seen WHERE src = ? AND id > ? ORDER BY id LIMIT ?", (source, last, batch)
            ).fetchall()
            if not rows:
                return
            for (ident,) in rows:
                yield ident
            last = rows[-1][0]

    def differing(self, first: str, second: str, limit: int = 20) -> tuple[int, list[str]]:
        """Ids in both sources whose digests differ: (how many, the first few)."""
        self.flush()
        join = "FROM seen a JOIN seen b ON b.id = a.id AND b.src = ? WHERE a.src = ? AND a.digest IS NOT b.digest"
        total = self._db.execute(f"SELECT count(*) {join}", (second, first)).fetchone()[0]
        rows = self._db.execute(
            f"SELECT a.id {join} ORDER BY a.id LIMIT ?", (second, first, limit)
        ).fetchall()
        return int(total), [r[0] for r in rows]

    def close(self) -> None:
        self._pending.clear()
        self._db.close()
        shutil.rmtree(self._folder, ignore_errors=True)

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- documented fields ------------------------------------------------------------------------------------------
Shape = dict[str, Any]  # property name -> nested Shape, or None for a leaf


def shape_of(index: Any, loc: Loc | None, depth: int = 0, seen: frozenset[Loc] = frozenset()) -> Shape | None:
    """The documented properties of a schema, nested objects included (``oneOf``/``anyOf`` parts merged);
    None for a schema with no documented properties (a leaf)."""
    node = index.deref(loc)
    if node is None or depth > 8 or node.loc in seen:
        return None
    inside = seen | {node.loc}
    props: dict[str, Loc] = dict(index.properties(loc))
    for keyword in ("oneOf", "anyOf"):
        parts = node.mapping.get(keyword)
        if isinstance(parts, list):
            for i in range(len(parts)):
                for name, sub in index.properties(f"{node.loc}/{keyword}/{i}").items():
                    props.setdefault(name, sub)
    if not props:
        return None
    shape: Shape = {}
    for name, sub in props.items():
        if index.schema_type(sub) == "array":
            shape[name] = None  # arrays are compared whole
        else:
            shape[name] = shape_of(index, sub, depth + 1, inside)
    return shape


def project(value: Any, shape: Shape | None, ignore: frozenset[str] = frozenset(), prefix: str = "") -> Any:
    """``value`` keeping only documented members (recursively); members named in ``ignore`` (dotted) dropped."""
    if shape is None or not isinstance(value, Mapping):
        return value
    return {
        key: project(item, shape[key], ignore, f"{prefix}{key}.")
        for key, item in value.items()
        if key in shape and f"{prefix}{key}" not in ignore
    }


def digest(value: Any) -> bytes:
    return hashlib.blake2b(orjson.dumps(value, option=orjson.OPT_SORT_KEYS), digest_size=16).digest()


def field_differences(before: Any, after: Any, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """(field, exported value, re-exported value) for each documented field that differs, absent being
    :data:`ABSENT`. Objects present on both sides are compared member by member (``review.nextReviewDate``);
    an object missing on one side, arrays and scalars are compared whole."""
    if not (isinstance(before, Mapping) and isinstance(after, Mapping)):
        differs = _canonical(before) != _canonical(after)
        return [(prefix.rstrip(".") or "(record)", before, after)] if differs else []
    rows: list[tuple[str, Any, Any]] = []
    names = list(before) + [k for k in after if k not in before]
    for name in names:
        a, b = before.get(name, ABSENT), after.get(name, ABSENT)
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            rows += field_differences(a, b, f"{prefix}{name}.")
        elif a is ABSENT or b is ABSENT or _canonical(a) != _canonical(b):
            rows.append((f"{prefix}{name}", a, b))
    return rows


def _canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
