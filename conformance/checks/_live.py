"""Helpers shared by the live checks: picking operations to probe, filling paths, sample bodies.

Live checks read the document under test (``ctx.spec``) to decide what to call, and talk to the
target only through ``ctx.target`` (a ``conformance.live.LiveTarget``), which guards, rate-limits and
records every exchange. Anything a check writes must be synthetic and cleaned up; writing needs the
target to be marked as a test tenant (``ctx.target.require_writes(...)``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from ..outcome import Finding
from ..registry import CantTell, CheckContext, Inapplicable
from ..spec.model import Loc, Operation

_TEMPLATE = re.compile(r"\{([^{}]+)\}")
_MAX_SAMPLE_DEPTH = 6


def live_finding(
    title: str,
    message: str,
    *,
    exchange: Any = None,
    operation: str | None = None,
    expected: str | None = None,
    found: str | None = None,
    fix: str | None = None,
) -> Finding:
    """A finding about observed behaviour, linked to the exchange (evidence) that shows it."""
    return Finding(
        title=title,
        message=message,
        expected=expected,
        found=found,
        operation=operation,
        fix=fix,
        exchange=getattr(exchange, "id", exchange),
    )


def target_of(ctx: CheckContext) -> Any:
    """The live target; a check only runs with one, but say so clearly if it is missing."""
    if ctx.target is None:
        raise Inapplicable("no live target")
    return ctx.target


def require_response(exchange: Any, what: str) -> Any:
    """The exchange if it got a response; otherwise the check cannot tell (network problem)."""
    if not exchange.ok or exchange.status is None:
        raise CantTell(f"{what}: {exchange.error or 'no response'}")
    return exchange


def operations(ctx: CheckContext) -> tuple[Operation, ...]:
    if ctx.spec is None:
        raise Inapplicable("no OpenAPI document to say which operations exist")
    ops: tuple[Operation, ...] = ctx.spec.index.operations
    return ops


def collection_reads(ctx: CheckContext) -> list[Operation]:
    """GET operations on paths without parameters and without required query parameters (lists)."""
    return [
        op
        for op in operations(ctx)
        if op.method == "get"
        and not _TEMPLATE.search(op.path)
        and not any(p.required and p.location in ("query", "header", "cookie") for p in op.parameters)
    ]


def first_collection_read(ctx: CheckContext) -> Operation:
    reads = collection_reads(ctx)
    if not reads:
        raise Inapplicable("the document has no GET operation without required parameters to probe")
    # Prefer a list that returns JSON, so bodies can be inspected.
    for op in reads:
        if any(m.media_type.startswith("application/json") for r in op.responses for m in r.content):
            return op
    return reads[0]


def item_read_for(ctx: CheckContext, collection: Operation) -> Operation | None:
    """The GET ``/collection/{id}`` operation that goes with a collection read, if the document has one."""
    for op in operations(ctx):
        if (
            op.method == "get"
            and op.path.startswith(collection.path.rstrip("/") + "/{")
            and op.path.count("/") == (collection.path.rstrip("/").count("/") + 1)
        ):
            return op
    return None


def fill_path(path: str, values: Mapping[str, str]) -> str:
    """``/persons/{personId}`` with ``{"personId": "p1"}`` -> ``/persons/p1``; missing values raise CantTell."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise CantTell(f"no value for the path parameter {{{name}}} of {path}")
        return str(values[name])

    return _TEMPLATE.sub(one, path)


def path_parameters(path: str) -> list[str]:
    return _TEMPLATE.findall(path)


def first_item_id(body: Any) -> str | None:
    """The ``id`` of the first record in a list response (``items``/``data``/top-level array)."""
    items: Any = body
    if isinstance(body, Mapping):
        for key in ("items", "data", "results", "records", "content"):
            if isinstance(body.get(key), list):
                items = body[key]
                break
    if isinstance(items, list) and items and isinstance(items[0], Mapping):
        value = items[0].get("id")
        return str(value) if value is not None else None
    return None


def json_request_schema(op: Operation) -> Loc | None:
    if op.request_body is None:
        return None
    for media in op.request_body.content:
        if media.media_type.split(";")[0].strip() in ("application/json",) and media.schema is not None:
            return media.schema
    return None


def sample_value(index: Any, loc: Loc | None, depth: int = 0) -> Any:
    """A value valid for the schema at ``loc`` as far as examples, enums, defaults and types tell.

    Uses the schema's own ``examples``/``example``/``default``/``enum``/``const`` first, so a document with
    good examples gets realistic (and valid) bodies; otherwise builds the required properties by type.
    """
    node = index.deref(loc)
    if node is None or depth > _MAX_SAMPLE_DEPTH:
        return None
    schema = node.mapping
    for key in ("const",):
        if key in schema:
            return schema[key]
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return examples[0]
    for key in ("example", "default"):
        if key in schema:
            return schema[key]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("oneOf", "anyOf"):
        parts = schema.get(key)
        if isinstance(parts, list) and parts:
            return sample_value(index, f"{node.loc}/{key}/0", depth + 1)
    kind = index.schema_type(node.loc)
    if kind == "object" or index.properties(node.loc):
        props = index.properties(node.loc)
        required = index.required(node.loc)
        result: dict[str, Any] = {}
        for name, prop_loc in props.items():
            prop = index.deref(prop_loc)
            if prop is not None and prop.mapping.get("readOnly") is True:
                continue
            if name in required:
                result[name] = sample_value(index, prop_loc, depth + 1)
        return result
    if kind == "array":
        item = schema.get("items")
        return [sample_value(index, f"{node.loc}/items", depth + 1)] if isinstance(item, Mapping) else []
    return {"string": _sample_string(schema), "integer": 1, "number": 1, "boolean": True}.get(kind or "")


def _sample_string(schema: Mapping[str, Any]) -> str:
    fmt = schema.get("format")
    return {
        "date-time": "2026-01-02T03:04:05Z",
        "date": "2026-01-02",
        "uuid": "00000000-0000-4000-8000-000000000000",
        "email": "test@example.invalid",
        "uri": "https://example.invalid/",
    }.get(str(fmt), "conformance-test")


def create_operations(ctx: CheckContext) -> Iterator[tuple[Operation, Loc]]:
    """POST operations on collection paths taking a JSON body, with the body's schema."""
    for op in operations(ctx):
        schema = json_request_schema(op)
        if op.method == "post" and schema is not None and not _TEMPLATE.search(op.path):
            yield op, schema
