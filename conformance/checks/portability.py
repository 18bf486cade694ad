"""C10 — data portability and exit: list/export operations per POLE entity, incremental export, MoPI.

POLE entities are ``_common.pole_entities`` (tagged schemas, or object schemas named like POLE data).
Which entities an operation returns is answered on the component graph: component A -> B when a ``$ref``
inside A points into B. The graph is built once per document (one pass over the index's schema nodes) and
each operation's answer is memoised, so the checks stay linear in the size of the document.

* An operation *lists* an entity when it is a GET on a collection path (the last segment is not a path
  parameter), its 2xx response is not itself a record of a POLE entity (``GET /persons/me`` returning a
  Person is not a list of that Person's addresses), and a list array of that response has items that reach
  the entity's schema (directly, or nested: the Address inside each listed Person). A list array is the
  response root, an array property of the root, or an array property of an envelope property of the root
  (``data``, ``_embedded``…: the ``list_envelopes`` parameter).
* An operation *returns* an entity when any schema of the given responses reaches it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from ..outcome import Finding
from ..registry import CheckContext, Inapplicable, check
from ..spec.model import Loc, Operation, child
from ._common import (
    DEFAULT_POLE_VOCABULARY,
    DEFAULT_WRAPPER_WORDS,
    PoleSchema,
    finding,
    justified,
    labels,
    operation_schemas,
    pole_entities,
    schema_justified,
    words,
)

_TCOP = 'Technology Code of Practice point 10 ("access to all your data … through an API")'
_MOPI = 'College of Policing APP, Management of Police Information (reviews "must be recorded")'

DEFAULT_PAGINATION_PARAMS = [
    "cursor", "page", "pageToken", "page_token", "pageNumber", "after", "before", "offset", "limit",
    "pageSize", "page_size", "perPage", "per_page", "continue", "startingAfter", "starting_after", "skip",
    "top",
]  # fmt: skip
DEFAULT_CURSOR_PARAMS = [
    "cursor", "pageToken", "page_token", "continue", "after", "startingAfter", "starting_after", "nextToken",
]  # fmt: skip
DEFAULT_NEXT_PROPERTIES = [
    "next", "nextCursor", "nextPageToken", "nextLink", "nextPage", "nextPageUri", "nextPageUrl", "nextUrl",
    "nextToken", "continue",
]  # fmt: skip
DEFAULT_ORDER_PARAMS = [
    "sort", "sortBy", "sortOrder", "sortField", "orderBy", "order", "ordering", "sort_by", "order_by",
]  # fmt: skip
DEFAULT_ORDER_PHRASES = [
    "ordered", "sorted", "sort order", "order by", "in order of", "chronological", "ascending", "descending",
]  # fmt: skip
DEFAULT_INCREMENTAL_PARAMS = [
    "since", "updatedAfter", "updated_after", "updatedSince", "modifiedSince", "modified_since",
    "modifiedAfter", "changedSince", "changedAfter", "lastModified", "lastUpdated", "updatedFrom", "fromDate",
]  # fmt: skip
DEFAULT_LIST_ENVELOPES = ["data", "_embedded", "embedded", "results", "result", "content", "page", "payload"]
DEFAULT_FEED_SEGMENTS = [
    "changes", "change-feed", "feed", "events/changes", "deltas", "delta", "sync", "watch",
]  # fmt: skip
DEFAULT_REVIEW_NAMES = [
    "nextReviewDate", "reviewDate", "reviewNextDate", "reviewDueDate", "reviewDue", "lastReviewDate",
    "reviewedOn",
]  # fmt: skip
DEFAULT_RETENTION_NAMES = [
    "retentionCategory", "retentionPeriod", "retentionPolicy", "retentionSchedule", "retainUntil",
    "mopiGroup", "mopiCategory", "disposalDate", "destructionDate", "deletionDate",
]  # fmt: skip


def _normal(name: str) -> str:
    """``page_size`` / ``pageSize`` / ``PageSize`` -> ``pagesize``."""
    return "".join(words(name))


def _normals(names: Iterable[str]) -> frozenset[str]:
    return frozenset(_normal(n) for n in names)


def _item_path(path: str) -> bool:
    """The last segment holds a path parameter (``/persons/{id}``, ``/Calls/{Sid}.json``)."""
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return "{" in last


def _collection_of(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[0] or "/"


# -- the component graph, memoised per document ---------------------------------------------------------
Envelopes = frozenset[str]


@dataclass(slots=True)
class _Graph:
    """Component-level reachability plus per-schema and per-operation answers, each computed once."""

    index: Any
    edges: dict[str, set[str]] = field(default_factory=dict)  # component -> components it refers to
    entries: dict[Loc, frozenset[str]] = field(default_factory=dict)  # schema -> components it enters first
    reach: dict[str, frozenset[str]] = field(default_factory=dict)  # component -> all it reaches
    closures: dict[frozenset[str], frozenset[str]] = field(default_factory=dict)
    items: dict[tuple[Loc, Envelopes], tuple[Loc, ...]] = field(default_factory=dict)
    names: dict[Loc, frozenset[str]] = field(default_factory=dict)  # schema -> _names_with_nesting
    listed: dict[tuple[Loc, Envelopes], frozenset[str]] = field(default_factory=dict)
    returned: dict[tuple[Loc, str], frozenset[str]] = field(default_factory=dict)

    def _key(self, loc: Loc) -> Loc:
        node = self.index.deref(loc)
        return node.loc if node is not None else loc

    def entry(self, loc: Loc) -> frozenset[str]:
        """The named schemas a schema enters first: walking down from ``loc`` (inline parts, and the parts of
        a component it starts inside), stop at each component root reached (``loc`` itself, if it is one)."""
        cached = self.entries.get(loc)
        if cached is not None:
            return cached
        found: set[str] = set()
        seen: set[Loc] = set()
        stack = [loc]
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            node = self.index.schemas.get(current)
            if node is None:
                continue
            if node.component is not None and node.parent is None:
                found.add(node.component)
                continue
            stack.extend(self.index.edges.get(current, ()))
        result = frozenset(found)
        self.entries[loc] = result
        return result

    def reaches(self, component: str) -> frozenset[str]:
        cached = self.reach.get(component)
        if cached is not None:
            return cached
        seen: set[str] = set()
        stack = [component]
        while stack:
            name = stack.pop()
            if name in seen:
                continue
            seen.add(name)
            known = self.reach.get(name)
            if known is not None:
                seen |= known
                continue
            stack.extend(self.edges.get(name, ()))
        result = frozenset(seen)
        self.reach[component] = result
        return result

    def closure(self, locs: Iterable[Loc]) -> frozenset[str]:
        """Every component the schemas at ``locs`` reach (themselves included)."""
        start = frozenset(c for loc in locs for c in self.entry(loc))
        cached = self.closures.get(start)
        if cached is None:
            cached = frozenset().union(*(self.reaches(c) for c in start)) if start else frozenset()
            self.closures[start] = cached
        return cached

    def array_items(self, root: Loc, envelopes: Envelopes) -> tuple[Loc, ...]:
        key = (self._key(root), envelopes)
        cached = self.items.get(key)
        if cached is None:
            cached = self.items[key] = tuple(_array_items(self.index, key[0], envelopes))
        return cached

    def property_names(self, loc: Loc) -> frozenset[str]:
        key = self._key(loc)
        cached = self.names.get(key)
        if cached is None:
            cached = self.names[key] = frozenset(_names_with_nesting(self.index, key))
        return cached

    def lists(self, op: Operation, envelopes: Envelopes) -> frozenset[str]:
        """Components whose records the operation lists (see the module docstring); empty if not a list."""
        key = (op.loc, envelopes)
        cached = self.listed.get(key)
        if cached is None:
            cached = frozenset()
            if op.method == "get" and not _item_path(op.path):
                roots = operation_schemas(op)
                cached = self.closure(i for root in roots for i in self.array_items(root, envelopes))
            self.listed[key] = cached
        return cached

    def records(self, op: Operation) -> frozenset[str]:
        """The components an operation's 2xx response objects are (a single record, not a list)."""
        nodes = (self.index.deref(r) for r in operation_schemas(op) if self.index.schema_type(r) != "array")
        return frozenset(n.component for n in nodes if n is not None and n.component is not None)

    def returns(self, op: Operation, statuses: str = "2") -> frozenset[str]:
        key = (op.loc, statuses)
        cached = self.returned.get(key)
        if cached is None:
            cached = self.returned[key] = self.closure(operation_schemas(op, statuses=statuses))
        return cached


_graphs: WeakKeyDictionary[Any, _Graph] = WeakKeyDictionary()


def _graph(ctx: CheckContext) -> _Graph:
    index = ctx.spec.index
    graph = _graphs.get(index)
    if graph is None:
        graph = _Graph(index=index)
        schemas = index.schemas
        for node in schemas.values():
            if node.ref is None or node.component is None:
                continue
            target = schemas.get(node.ref)
            if target is not None and target.component is not None and target.component != node.component:
                graph.edges.setdefault(node.component, set()).add(target.component)
        _graphs[index] = graph
    return graph


def _array_items(index: Any, root: Loc, envelopes: Envelopes) -> list[Loc]:
    """Items of the list arrays of a response: the root itself, or arrays among its properties, or among
    the properties of an envelope property (``data``, ``_embedded``…: names in ``envelopes``)."""

    def items_of(loc: Loc) -> Loc | None:
        node = index.deref(loc)
        if node is None or not isinstance(node.mapping.get("items"), Mapping):
            return None
        return child(node.loc, "items")

    top = items_of(root)
    if top is not None:
        return [top]
    found: list[Loc] = []
    for name, loc in index.properties(root).items():
        items = items_of(loc)
        if items is not None:
            found.append(items)
        elif _normal(name) in envelopes:
            found.extend(i for i in map(items_of, index.properties(loc).values()) if i is not None)
    return found


def _entities(
    ctx: CheckContext, vocabulary: Mapping[str, list[str]], wrappers: list[str]
) -> tuple[PoleSchema, ...]:
    entities = pole_entities(ctx, vocabulary, wrappers)
    if not entities:
        raise Inapplicable("No component schema is tagged x-pole-entity or named like POLE data.")
    return entities


def _listing(
    ctx: CheckContext, entities: Iterable[PoleSchema], envelopes: Envelopes
) -> dict[str, list[Operation]]:
    """Entity name -> the operations that list it (a response that is itself one entity record is not a list,
    even if the record holds arrays)."""
    graph = _graph(ctx)
    wanted = {e.name for e in entities}
    result: dict[str, list[Operation]] = {name: [] for name in wanted}
    for op in ctx.spec.index.operations:
        listed = graph.lists(op, envelopes) & wanted
        if listed and not graph.records(op) & wanted:
            for name in listed:
                result[name].append(op)
    return result


def _next_property(graph: _Graph, op: Operation, names: frozenset[str]) -> bool:
    return any(graph.property_names(root) & names for root in operation_schemas(op))


# -- openapi.export.list-operations -----------------------------------------------------------------------
@check(
    id="openapi.export.list-operations",
    mode="static",
    title="Each POLE entity type has a paginated, stably ordered list or export operation",
    references=(_TCOP,),
    params={
        "pole_vocabulary": DEFAULT_POLE_VOCABULARY,
        "wrapper_words": DEFAULT_WRAPPER_WORDS,
        "list_envelopes": DEFAULT_LIST_ENVELOPES,
        "pagination_params": DEFAULT_PAGINATION_PARAMS,
        "cursor_params": DEFAULT_CURSOR_PARAMS,
        "next_properties": DEFAULT_NEXT_PROPERTIES,
        "order_params": DEFAULT_ORDER_PARAMS,
        "order_phrases": DEFAULT_ORDER_PHRASES,
    },
)
def list_operations(
    ctx: CheckContext,
    *,
    pole_vocabulary: dict[str, list[str]],
    wrapper_words: list[str],
    list_envelopes: list[str],
    pagination_params: list[str],
    cursor_params: list[str],
    next_properties: list[str],
    order_params: list[str],
    order_phrases: list[str],
) -> Iterator[Finding]:
    """Each POLE entity is listed by at least one operation (a GET on a collection path whose 2xx response
    has a list array — root, root property, or inside an envelope named in ``list_envelopes`` — of, or
    containing, the entity; see the module docstring). Each such list operation is
    paginated — a query parameter in ``pagination_params``, a ``Link`` response header, or a response
    property in ``next_properties`` (at the root or one level down, e.g. ``links.next``) — and has a stable
    order: a query parameter in ``order_params``, a summary/description (operation or 2xx response) with one
    of ``order_phrases``, or cursor pagination (``cursor_params``), which implies one. Names are compared
    ignoring case and ``_``. ``x-interop-pol-justification`` for this requirement on an entity schema excuses
    a missing list operation, and on an operation its pagination and order. Inapplicable when there are no
    POLE entities."""
    entities = _entities(ctx, pole_vocabulary, wrapper_words)
    listing = _listing(ctx, entities, _normals(list_envelopes))
    paging, cursors = _normals(pagination_params), _normals(cursor_params)
    nexts, orders = _normals(next_properties), _normals(order_params)
    phrases = [p.lower() for p in order_phrases if p]
    said = re.compile(r"\b(?:" + "|".join(map(re.escape, phrases)) + r")\b") if phrases else None
    for entity in entities:
        if not listing[entity.name] and not schema_justified(ctx, entity.loc, f"Schema '{entity.name}'"):
            yield finding(
                "No list operation",
                f"No GET operation lists POLE {entity.entity or 'entity'} '{entity.name}', so its records "
                "cannot all be exported.",
                loc=entity.loc,
                expected="a GET on a collection path whose response holds an array of the entity",
                found="no list operation",
                fix=f"Add a paginated list operation (e.g. GET /{_plural(entity.name)}?cursor=…) returning "
                f"{{items: [{entity.name}], next: …}}, or an export operation.",
            )
    listed_by: dict[Loc, tuple[Operation, list[str]]] = {}
    for entity in entities:
        for op in listing[entity.name]:
            listed_by.setdefault(op.loc, (op, []))[1].append(entity.name)
    for op, names in listed_by.values():
        reason = justified(ctx, op.raw)
        if reason is not None:
            ctx.note(f"{op.label}: justified: {reason}")
            continue
        query = {_normal(p.name) for p in op.parameters if p.location == "query"}
        headers = {h.name.lower() for r in op.responses if r.status_class == "2" for h in r.headers}
        what = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        paginated = bool(query & paging) or "link" in headers or _next_property(_graph(ctx), op, nexts)
        if not paginated:
            yield finding(
                "List not paginated",
                f"{op.label} lists {what} but has no pagination (no page/cursor parameter, Link header or "
                "next link).",
                loc=op.loc,
                op=op,
                expected=f"a query parameter such as {', '.join(pagination_params[:4])}, a Link header, or "
                "a next link in the response",
                found="none",
                fix="Add cursor pagination: a `cursor` (or pageToken) query parameter and a `next` link or "
                "cursor in the response.",
            )
        texts = [op.summary or "", op.description or ""]
        texts += [r.description or "" for r in op.responses if r.status_class == "2"]
        text = " ".join(texts).lower()
        ordered = bool(query & orders) or bool(query & cursors) or bool(said and said.search(text))
        if not ordered:
            yield finding(
                "Order not stable",
                f"{op.label} lists {what} without a documented, stable order: pages may skip or repeat "
                "records.",
                loc=op.loc,
                op=op,
                expected="a sort/orderBy parameter, cursor pagination, or a description of the order",
                found="no order documented",
                fix="Document the order (e.g. 'ordered by createdAt, then id') or use cursor pagination.",
            )


def _plural(name: str) -> str:
    base = "-".join(words(name.rsplit(".", 1)[-1])) or "records"
    return base if base.endswith("s") else base + "s"


# -- openapi.export.incremental ---------------------------------------------------------------------------
def _feed(operations: Iterable[Operation], feeds: list[list[str]]) -> Operation | None:
    for op in operations:
        if op.method != "get":
            continue
        segments = [s.lower().split(".", 1)[0] for s in op.path.split("/") if s and "{" not in s]
        for feed in feeds:
            size = len(feed)
            if any(segments[i : i + size] == feed for i in range(len(segments) - size + 1)):
                return op
    return None


@check(
    id="openapi.export.incremental",
    mode="static",
    title="Incremental export is possible (a since/updatedAfter filter or a change feed)",
    references=('GOV.UK API technical and data standards, "Let users download whole datasets in bulk"',),
    params={
        "pole_vocabulary": DEFAULT_POLE_VOCABULARY,
        "wrapper_words": DEFAULT_WRAPPER_WORDS,
        "list_envelopes": DEFAULT_LIST_ENVELOPES,
        "incremental_params": DEFAULT_INCREMENTAL_PARAMS,
        "feed_segments": DEFAULT_FEED_SEGMENTS,
    },
)
def incremental(
    ctx: CheckContext,
    *,
    pole_vocabulary: dict[str, list[str]],
    wrapper_words: list[str],
    list_envelopes: list[str],
    incremental_params: list[str],
    feed_segments: list[str],
) -> Iterator[Finding]:
    """Either a change feed exists — a GET whose path has the segment(s) of one of ``feed_segments``
    (``/changes``, ``/events/changes``, ``/watch/…``; a file extension is ignored) — or every POLE entity that
    has list operations (as in ``openapi.export.list-operations``, with ``list_envelopes``) has at least one
    with a query parameter from ``incremental_params`` (names compared ignoring case and ``_``). Entities
    without any list operation are left to ``openapi.export.list-operations``; an entity schema with
    ``x-interop-pol-justification`` for this requirement is skipped and noted. Inapplicable when there are no
    POLE entities or no list operations."""
    index = ctx.spec.index
    entities = _entities(ctx, pole_vocabulary, wrapper_words)
    listing = _listing(ctx, entities, _normals(list_envelopes))
    if not any(listing.values()):
        raise Inapplicable("No operation lists a POLE entity (reported by openapi.export.list-operations).")
    feed = _feed(index.operations, [[s.lower() for s in f.split("/") if s] for f in feed_segments])
    if feed is not None:
        ctx.note(f"Change feed: {feed.label}.")
        return
    wanted = _normals(incremental_params)
    for entity in entities:
        ops = listing[entity.name]
        if not ops:
            continue
        if any(_normal(p.name) in wanted for op in ops for p in op.parameters if p.location == "query"):
            continue
        if schema_justified(ctx, entity.loc, f"Schema '{entity.name}'"):
            continue
        yield finding(
            "No incremental export",
            f"POLE {entity.entity or 'entity'} '{entity.name}' can only be exported in full: its list "
            f"operations ({labels(ops)}) take no changed-since filter, and there is no change feed.",
            loc=ops[0].loc,
            op=ops[0],
            expected=f"a query parameter such as {', '.join(incremental_params[:3])}, or a change-feed "
            "operation",
            found="none",
            fix=f"Add `updatedAfter` (date-time) to {ops[0].label}, or publish a change feed (e.g. GET "
            "/changes).",
        )


# -- openapi.mopi.metadata --------------------------------------------------------------------------------
def _names_with_nesting(index: Any, loc: Loc) -> set[str]:
    """Normalised property names of a schema and of its object-valued properties (``review.date`` gives
    both ``date`` and ``reviewdate``)."""
    names: set[str] = set()
    for name, prop in index.properties(loc).items():
        outer = _normal(name)
        names.add(outer)
        for inner in index.properties(prop):
            names.add(_normal(inner))
            names.add(outer + _normal(inner))
    return names


def _deletions(
    ctx: CheckContext, entities: Iterable[PoleSchema], envelopes: Envelopes
) -> dict[str, list[Operation]]:
    """Entity name -> item DELETE operations that dispose of records containing it."""
    index = ctx.spec.index
    graph = _graph(ctx)
    wanted = {e.name for e in entities}
    by_path: dict[str, list[Operation]] = {}
    for op in index.operations:
        by_path.setdefault(op.path, []).append(op)
    result: dict[str, list[Operation]] = {name: [] for name in wanted}
    for op in index.operations:
        if op.method != "delete" or not _item_path(op.path):
            continue
        related: set[str] = set(graph.closure(m.schema for r in op.responses for m in r.content if m.schema))
        for sibling in by_path.get(op.path, ()):
            if sibling.method == "get":
                related |= graph.returns(sibling)
            elif sibling.method in ("put", "patch") and sibling.request_body is not None:
                related |= graph.closure(
                    m.schema for m in sibling.request_body.content if m.schema is not None
                )
        for sibling in by_path.get(_collection_of(op.path), ()):
            related |= graph.lists(sibling, envelopes)
        for name in related & wanted:
            result[name].append(op)
    return result


@check(
    id="openapi.mopi.metadata",
    mode="static",
    title="Records carry MoPI review/retention metadata and can be deleted",
    references=(_MOPI,),
    params={
        "pole_vocabulary": DEFAULT_POLE_VOCABULARY,
        "wrapper_words": DEFAULT_WRAPPER_WORDS,
        "list_envelopes": DEFAULT_LIST_ENVELOPES,
        "review_names": DEFAULT_REVIEW_NAMES,
        "retention_names": DEFAULT_RETENTION_NAMES,
    },
)
def mopi_metadata(
    ctx: CheckContext,
    *,
    pole_vocabulary: dict[str, list[str]],
    wrapper_words: list[str],
    list_envelopes: list[str],
    review_names: list[str],
    retention_names: list[str],
) -> Iterator[Finding]:
    """Each POLE entity schema (properties merged over ``$ref``/``allOf``, plus one level of object-valued
    properties, so ``metadata: {nextReviewDate, retentionCategory}`` counts; a nested name also counts
    joined to its parent's, e.g. ``review.date`` as reviewDate) has a review property (``review_names``)
    and a retention property (``retention_names``), names compared ignoring case and ``_``; and a
    documented DELETE on an item path (last segment a path parameter) disposes of records holding it: the
    DELETE's own responses, a GET or PUT/PATCH on the same path, or a list GET (with ``list_envelopes``) on
    the parent collection path reach the entity (deleting a Person disposes of the Address inside it). An
    entity schema with ``x-interop-pol-justification`` for this requirement is skipped and noted. Inapplicable
    when there are no POLE entities."""
    entities = _entities(ctx, pole_vocabulary, wrapper_words)
    review, retention = _normals(review_names), _normals(retention_names)
    deletions = _deletions(ctx, entities, _normals(list_envelopes))
    graph = _graph(ctx)
    for entity in entities:
        if schema_justified(ctx, entity.loc, f"Schema '{entity.name}'"):
            continue
        names = graph.property_names(entity.loc)
        label = f"POLE {entity.entity or 'entity'} '{entity.name}'"
        if not names & review:
            yield finding(
                "No review metadata",
                f"{label} records carry no MoPI review date.",
                loc=entity.loc,
                expected=f"a property such as {', '.join(review_names[:2])}",
                found="none",
                fix="Add `nextReviewDate` (format: date) to the schema, or a `review` object holding it.",
            )
        if not names & retention:
            yield finding(
                "No retention metadata",
                f"{label} records carry no MoPI retention category or period.",
                loc=entity.loc,
                expected=f"a property such as {', '.join(retention_names[:2])} (e.g. the MoPI group)",
                found="none",
                fix="Add `retentionCategory` (e.g. an enum of the MoPI groups 1-4) or `retentionPeriod`.",
            )
        if not deletions[entity.name]:
            yield finding(
                "No deletion operation",
                f"{label} records cannot be deleted through the API: no DELETE on an item path relates to "
                "it.",
                loc=entity.loc,
                expected=f"e.g. DELETE /{_plural(entity.name)}/{{id}}",
                found="none",
                fix="Document a DELETE (disposal) operation for the entity's records, with its 204/404 "
                "responses.",
            )
