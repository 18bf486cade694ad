"""C4/C8/C9 — live HTTP behaviour: RFC 3339 dates, UTF-8 JSON, a Unicode round trip, content negotiation,
Problem Details, 404 and 405 with ``Allow``, deprecation headers, tolerant reading of request bodies,
errors that leak nothing, ``security.txt`` and correlation ids (live checks).

Every check reads the document under test to choose what to call (a list read, an item read, a create
operation, a deprecated operation…), talks to the target only through ``ctx.target`` and links each
finding to the exchange that shows it. Traffic is a handful of requests per check. The two checks that
write (``live.unicode.round-trip`` and ``live.tolerant-reader``) need ``--allow-writes``, create one
record whose free text says ``conformance-test`` and delete it again (a failed clean-up is noted); they
do not write at all when the document offers no way to delete what they would create. The other checks
send nothing that can create data: the bodies they send are not valid JSON, or empty.

Sources: GOV.UK API technical and data standards (https://www.gov.uk/guidance/gds-api-technical-and-data-standards);
RFC 3339 §5.6; RFC 8259 §8.1; RFC 9110 §15.5.5, §15.5.6, §15.5.7, §15.5.16; RFC 9457; RFC 9745; RFC 8594;
RFC 9116; NCSC "Securing HTTP-based APIs" (limiting exposure); CDDO federated API model ADR 0005.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from ..outcome import Finding
from ..registry import CantTell, CheckContext, Inapplicable, check
from ..spec.model import Loc, Operation, Parameter, SchemaNode, child
from ._common import (
    POLE_EXTENSION,
    describe,
    is_json_media,
    operation_schemas,
    param_pattern,
    pole_schemas,
    snake_name,
    words,
)
from ._live import (
    collection_reads,
    create_operations,
    fill_path,
    first_collection_read,
    first_item_id,
    item_read_for,
    live_finding,
    operations,
    path_parameters,
    require_response,
    sample_value,
    target_of,
)

if TYPE_CHECKING:
    from ..live import Exchange, LiveTarget

_GOVUK = "GOV.UK API technical and data standards"
_MARK = "conformance-test"  # every value these checks write says so
_UTC = dt.timezone.utc
_DATE_FORMATS = frozenset({"date", "date-time"})
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))?$"
)
_FULL_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_TEMPLATE = re.compile(r"\{([^{}]+)\}")
_MAX_DEPTH = 32
_PAGE_SIZE_NAMES = ("limit", "pagesize", "perpage", "size", "top")
_PAGE_SIZE = 5


# -- small helpers --------------------------------------------------------------------------------------
def _target(ctx: CheckContext) -> LiveTarget:
    target: LiveTarget = target_of(ctx)
    return target


def _answered(exchange: Exchange, what: str) -> Exchange:
    """The exchange when a response came back; ``CantTell`` (naming what was being done) otherwise."""
    require_response(exchange, what)
    return exchange


def _is_2xx(exchange: Exchange) -> bool:
    return exchange.status is not None and 200 <= exchange.status < 300


def _is_error(exchange: Exchange) -> bool:
    return exchange.status is not None and exchange.status >= 400


def _json_value(exchange: Exchange) -> tuple[bool, Any]:
    """``(True, value)`` for a JSON body — read strictly, else in its declared charset — or ``(False, None)``."""
    try:
        return True, exchange.json()
    except ValueError:
        pass
    try:
        return True, json.loads(exchange.text())
    except ValueError:
        return False, None


def _list_params(index: Any, op: Operation) -> dict[str, str]:
    """A small page size for a list read, when the operation declares a page-size query parameter."""
    for param in op.parameters:
        if param.location != "query" or param.name.lower().replace("_", "") not in _PAGE_SIZE_NAMES:
            continue
        node = index.deref(param.schema)
        if node is None or index.schema_type(param.schema) != "integer":
            continue
        low = node.mapping.get("minimum")
        size = max(_PAGE_SIZE, low) if isinstance(low, int) else _PAGE_SIZE
        high = node.mapping.get("maximum")
        return {param.name: str(min(size, high) if isinstance(high, int) else size)}
    return {}


def _read_list(ctx: CheckContext, op: Operation, path: str | None = None) -> Exchange:
    """``GET`` a list (``path``: the operation's path with its parameters filled), with a small page size."""
    params = _list_params(ctx.spec.index, op) or None
    return _target(ctx).request("GET", path or op.path, params=params)


def _index(ctx: CheckContext) -> Any:
    """The document's index; ``Inapplicable`` when the run has no document to say what to call."""
    operations(ctx)
    return ctx.spec.index


def _path_param(op: Operation, name: str) -> Parameter | None:
    return next((p for p in op.parameters if p.location == "path" and p.name == name), None)


def _unknown_id(index: Any, param: Parameter | None) -> str:
    """An id no record has: a fresh UUID, or a large integer when the parameter is numeric."""
    if param is not None and index.schema_type(param.schema) in ("integer", "number"):
        return str(2_000_000_000 + uuid.uuid4().int % 100_000_000)
    return str(uuid.uuid4())


def _unknown_item(ctx: CheckContext) -> tuple[Operation, str] | None:
    """An item read (``GET /things/{id}``) of the first list, with an id no record has."""
    try:
        collection = first_collection_read(ctx)
    except Inapplicable:
        return None
    item = item_read_for(ctx, collection)
    if item is None:
        return None
    names = path_parameters(item.path)
    values = {name: _unknown_id(ctx.spec.index, _path_param(item, name)) for name in names}
    return item, fill_path(item.path, values)


def _matches_template(path: str, templates: Sequence[str]) -> bool:
    for template in templates:
        pattern = "".join(
            "[^/]+" if part.startswith("{") else re.escape(part)
            for part in re.split(r"(\{[^{}]+\})", template)
        )
        if re.fullmatch(pattern.rstrip("/") + "/?", path):
            return True
    return False


def _unknown_path(ctx: CheckContext) -> str | None:
    """A path under the base URL that no documented path template matches, or ``None``."""
    templates = ctx.spec.index.paths if ctx.spec is not None else ()
    path = ""
    for _ in range(3):
        path += f"/{_MARK}-{uuid.uuid4().hex[:12]}"
        if not _matches_template(path, templates):
            return path
    return None


def _invalid_query(index: Any, param: Parameter) -> tuple[int, str] | None:
    """``(preference, value)``: a value the parameter's schema forbids, or ``None`` if none is obvious."""
    node = index.deref(param.schema)
    if node is None:
        return None
    schema = node.mapping
    kind = index.schema_type(param.schema)
    if kind in ("integer", "number"):
        low, high = schema.get("minimum"), schema.get("maximum")
        exclusive = schema.get("exclusiveMinimum")
        if isinstance(exclusive, (int, float)) and not isinstance(exclusive, bool):
            return 0, str(int(exclusive))
        if isinstance(low, (int, float)) and not isinstance(low, bool):
            return 0, str(int(low) - 1)
        if isinstance(high, (int, float)) and not isinstance(high, bool):
            return 1, str(int(high) + 1)
        return 2, f"{_MARK}-not-a-number"
    if isinstance(schema.get("enum"), list):
        return 3, f"{_MARK}-not-in-the-enum"
    if kind == "string" and schema.get("format") in _DATE_FORMATS:
        return 4, f"{_MARK}-not-a-date"
    if kind == "boolean":
        return 5, f"{_MARK}-not-a-boolean"
    return None


def _bad_query(ctx: CheckContext) -> tuple[Operation, dict[str, str]] | None:
    """A list read and a query parameter value its schema forbids (e.g. ``limit=0`` for ``minimum: 1``)."""
    index = ctx.spec.index
    best: tuple[int, int, Operation, dict[str, str]] | None = None
    for order, op in enumerate(collection_reads(ctx)):
        for param in op.parameters:
            if param.location != "query":
                continue
            found = _invalid_query(index, param)
            if found is not None and (best is None or (found[0], order) < best[:2]):
                best = (found[0], order, op, {param.name: found[1]})
    return None if best is None else (best[2], best[3])


def _response_schema(op: Operation, status: int) -> tuple[Loc | None, bool]:
    """``(schema, documented as JSON)`` of the response the operation documents for ``status``."""
    code = str(status)
    by_status = {r.status.upper(): r for r in op.responses}
    for key in (code, f"{code[0]}XX", "DEFAULT"):
        response = by_status.get(key)
        if response is None:
            continue
        for media in response.content:
            if is_json_media(media.media_type):
                return media.schema, True
        return None, False
    return None, False


# -- record creation (the writing checks) --------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Creatable:
    """A create operation, its body schema and the item operations that go with it."""

    create: Operation
    schema: Loc
    read: Operation | None
    delete: Operation | None
    rank: int  # 0 a POLE Person by x-pole-entity, 1 a Person by name, 2 anything else


def _item_operation(ctx: CheckContext, collection: str, method: str) -> Operation | None:
    base = collection.rstrip("/")
    for op in operations(ctx):
        rest = op.path[len(base) :]
        if op.method == method and op.path.startswith(base + "/{") and _TEMPLATE.fullmatch(rest[1:]):
            return op
    return None


def _creatables(ctx: CheckContext) -> list[_Creatable]:
    """Create operations whose body is an object, POLE Persons first, in document order otherwise."""
    index = ctx.spec.index
    person = {p.loc: p.tagged for p in pole_schemas(ctx) if p.entity == "Person"}
    found: list[_Creatable] = []
    for op, schema in create_operations(ctx):
        kind = index.schema_type(schema)
        if kind not in (None, "object") or (kind is None and not index.properties(schema)):
            continue
        node = index.deref(schema)
        rank = 2
        if node is not None:
            if node.mapping.get(POLE_EXTENSION) == "Person" or person.get(node.loc) is True:
                rank = 0
            elif node.loc in person or any(w in ("person", "persons", "people") for w in words(op.path)):
                rank = 1
        found.append(
            _Creatable(
                create=op,
                schema=schema,
                read=_item_operation(ctx, op.path, "get"),
                delete=_item_operation(ctx, op.path, "delete"),
                rank=rank,
            )
        )
    return sorted(found, key=lambda c: c.rank)


def _plain_text_fits(index: Any, loc: Loc | None, text: str) -> bool:
    """The schema is a free-text string (no enum, const, pattern or format) that ``text`` fits."""
    node = index.deref(loc)
    if node is None or index.schema_type(loc) != "string":
        return False
    schema = node.mapping
    if any(key in schema for key in ("enum", "const", "pattern", "format")) or schema.get("readOnly") is True:
        return False
    longest, shortest = schema.get("maxLength"), schema.get("minLength")
    return not (isinstance(longest, int) and len(text) > longest) and not (
        isinstance(shortest, int) and len(text) < shortest
    )


def _synthetic_body(index: Any, schema: Loc) -> dict[str, Any] | None:
    """A valid body for ``schema`` (from its examples and types) whose free-text fields say ``conformance-test``."""
    body = sample_value(index, schema)
    if not isinstance(body, dict):
        return None
    for name, loc in index.properties(schema).items():
        if isinstance(body.get(name), str) and _plain_text_fits(index, loc, _MARK):
            body[name] = _MARK
    return body


def _record_url(ctx: CheckContext, item: _Creatable, created: Exchange) -> str | None:
    """Where the created record lives: its ``Location`` header, else the item path filled with its id."""
    target = _target(ctx)
    location = created.header("location")
    if location:
        return urljoin(target.url(item.create.path), location.strip())
    ok, body = _json_value(created)
    ident = body.get("id") if ok and isinstance(body, Mapping) else None
    known = item.read or item.delete
    if ident is None or known is None:
        return None
    template = known.path
    names = path_parameters(template)
    if len(names) != 1:
        return None
    return target.url(fill_path(template, {names[0]: str(ident)}))


def _delete_created(ctx: CheckContext, url: str | None, created: Exchange) -> None:
    """Delete what a check created; a clean-up that fails is noted (never a finding)."""
    if url is None:
        ctx.note(
            f"clean-up failed: the record created by exchange {created.id} could not be located (no Location "
            f"header and no id in the body); delete it by hand (it is marked '{_MARK}')"
        )
        return
    deleted = _target(ctx).request("DELETE", url)
    if deleted.ok and deleted.status is not None and (_is_2xx(deleted) or deleted.status == 410):
        return
    outcome = deleted.error or f"answered {deleted.status}"
    ctx.note(
        f"clean-up failed: DELETE {url} {outcome} (exchange {deleted.id}); delete the record by hand "
        f"(it is marked '{_MARK}')"
    )


# -- IOP-C4-11 ------------------------------------------------------------------------------------------
_DATE_NAME = (
    r"(^|_)(date|datetime|time|timestamp|dob)(_|$)"
    r"|(^|_)(created|updated|modified|expires|expiry|issued)$"
    r"|_(at|on|since|until)$"
)


@dataclass(slots=True)
class _DateValue:
    path: str  # $.items[0].createdAt
    shape: str  # $.items[*].createdAt
    value: str
    fmt: str  # "date" or "date-time"
    declared: bool  # the format comes from the schema (else from the name)


def _parts(index: Any, loc: Loc | None) -> list[SchemaNode]:
    """The schema at ``loc`` and its ``allOf``/``anyOf``/``oneOf`` parts (through ``$ref``)."""
    found: list[SchemaNode] = []
    seen: set[Loc] = set()
    queue = [loc]
    while queue and len(seen) < 64:
        node = index.deref(queue.pop(0))
        if node is None or node.loc in seen:
            continue
        seen.add(node.loc)
        found.append(node)
        for key in ("allOf", "anyOf", "oneOf"):
            parts = node.mapping.get(key)
            if isinstance(parts, list):
                queue.extend(child(node.loc, key, i) for i in range(len(parts)))
    return found


def _member_schema(parts: Sequence[SchemaNode], name: str) -> Loc | None:
    for node in parts:
        props = node.mapping.get("properties")
        if isinstance(props, Mapping) and name in props:
            return child(node.loc, "properties", name)
    for node in parts:
        if isinstance(node.mapping.get("additionalProperties"), Mapping):
            return child(node.loc, "additionalProperties")
    return None


def _item_schema(parts: Sequence[SchemaNode]) -> Loc | None:
    for node in parts:
        if isinstance(node.mapping.get("items"), Mapping):
            return child(node.loc, "items")
    return None


def _date_values(
    index: Any,
    loc: Loc | None,
    value: Any,
    date_name: Callable[[str], bool],
    *,
    path: str = "$",
    shape: str = "$",
    name: str | None = None,
    depth: int = 0,
) -> Iterator[_DateValue]:
    """Every string the schema declares ``format: date``/``date-time``; where the body has no schema, every
    string that starts with a digit under a date-like name (``date_name``)."""
    if depth > _MAX_DEPTH:
        return
    parts = _parts(index, loc) if loc is not None else []
    if isinstance(value, str):
        if parts:
            fmt = next((n.mapping["format"] for n in parts if isinstance(n.mapping.get("format"), str)), None)
            if fmt in _DATE_FORMATS:
                yield _DateValue(path, shape, value, fmt, True)
        elif loc is None and name is not None and value[:1].isdigit() and date_name(name):
            yield _DateValue(path, shape, value, "date" if len(value) == 10 else "date-time", False)
    elif isinstance(value, Mapping):
        for key, member in value.items():
            sub = _member_schema(parts, str(key)) if parts else None
            step = f".{key}" if re.fullmatch(r"[A-Za-z_$][\w$]*", str(key)) else f"[{json.dumps(key)}]"
            yield from _date_values(
                index,
                sub,
                member,
                date_name,
                path=path + step,
                shape=shape + step,
                name=str(key),
                depth=depth + 1,
            )
    elif isinstance(value, list):
        items = _item_schema(parts) if parts else None
        for i, member in enumerate(value):
            yield from _date_values(
                index,
                items,
                member,
                date_name,
                path=f"{path}[{i}]",
                shape=f"{shape}[*]",
                name=name,
                depth=depth + 1,
            )


def _datetime_problem(text: str) -> tuple[str, str] | None:
    """``(title, why)`` when ``text`` is not an RFC 3339 §5.6 date-time with ``Z`` or a numeric offset."""
    match = _RFC3339.match(text)
    if match is None:
        return "Date-time not RFC 3339", "is not an RFC 3339 date-time (YYYY-MM-DDThh:mm:ss[.fff]Z or ±hh:mm)"
    year, month, day, hour, minute, second, zulu, sign, off_h, off_m = match.groups()
    try:
        dt.date(int(year), int(month), int(day))
    except ValueError:
        return "Date-time not RFC 3339", "has a calendar date that does not exist"
    if int(hour) > 23 or int(minute) > 59 or int(second) > 60:
        return "Date-time not RFC 3339", "has a time of day out of range"
    if not zulu and not sign:
        return "Date-time without an offset", "has no UTC offset, so the instant it names is unknown"
    if sign and (int(off_h) > 23 or int(off_m) > 59):
        return "Date-time not RFC 3339", "has an offset out of range"
    return None


def _date_problem(text: str) -> str | None:
    match = _FULL_DATE.match(text)
    if match is None:
        return "is not an RFC 3339 full-date (YYYY-MM-DD)"
    try:
        dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        return "names a calendar date that does not exist"
    return None


def _reaches_date_format(index: Any, op: Operation) -> bool:
    return any(
        index.schemas[loc].mapping.get("format") in _DATE_FORMATS
        for loc in index.reachable(operation_schemas(op))
        if loc in index.schemas
    )


@check(
    id="live.datetimes",
    mode="live",
    title="Dates and date-times in responses are RFC 3339 (date-times with Z or an offset)",
    references=(
        f'{_GOVUK}, "To represent time and date" (ISO 8601 mandated)',
        "RFC 3339 §5.6 (date-time, full-date)",
    ),
    params={"date_name_pattern": _DATE_NAME, "item_read": True},
)
def datetimes(ctx: CheckContext, *, date_name_pattern: str, item_read: bool) -> Iterator[Finding]:
    """Reads one list (preferring one whose documented response holds ``format: date``/``date-time``
    values) and, when ``item_read`` is true and the document has an item read for it, the first record of
    the list. Each JSON body is walked with the documented response schema (through ``$ref``, ``allOf``,
    ``anyOf``/``oneOf``, ``items`` and ``additionalProperties``): a string declared ``format: date-time``
    must be an RFC 3339 §5.6 date-time with ``Z`` or a numeric offset (``2025-03-14T09:26:53Z``,
    ``…+01:00``), and one declared ``format: date`` an RFC 3339 full-date (``YYYY-MM-DD``); both must
    name real calendar dates. Where a body has no documented schema (the whole response, or an undeclared
    property), a string that starts with a digit under a name matching ``date_name_pattern`` (applied to
    the snake_case name, case-insensitive) is judged instead: ten characters as a date, otherwise as a
    date-time. Findings are grouped by place (``$.items[*].createdAt``) and give the first offending
    value and its JSON path. Inapplicable when the document declares no date formats and the sampled
    bodies hold nothing date-like; ``cantTell`` when the responses hold no dates to judge."""
    target = _target(ctx)
    index = _index(ctx)
    date_name = param_pattern("date_name_pattern", date_name_pattern, re.IGNORECASE)
    reads = collection_reads(ctx)
    dated = [op for op in reads if _reaches_date_format(index, op)]
    op = dated[0] if dated else first_collection_read(ctx)

    def judge_name(name: str) -> bool:
        return bool(date_name.search(snake_name(name)))

    samples: list[tuple[Operation, Exchange]] = []
    listed = _answered(_read_list(ctx, op), f"GET {op.path}")
    if not _is_2xx(listed):
        raise CantTell(f"GET {op.path} answered {listed.status} (exchange {listed.id}): no body to sample")
    samples.append((op, listed))
    item = item_read_for(ctx, op) if item_read else None
    ok, body = _json_value(listed)
    ident = first_item_id(body) if ok else None
    names = path_parameters(item.path) if item is not None else []
    if item is not None and ident is not None and len(names) == 1:
        read = _answered(target.request("GET", fill_path(item.path, {names[0]: ident})), f"GET {item.path}")
        if _is_2xx(read):
            samples.append((item, read))

    judged = 0
    for sampled_op, exchange in samples:
        ok, body = _json_value(exchange)
        if not ok:
            ctx.note(f"{sampled_op.label}: the body is not JSON (exchange {exchange.id}); not sampled")
            continue
        schema, _ = _response_schema(sampled_op, exchange.status or 0)
        groups: dict[tuple[str, str], list[_DateValue]] = {}
        totals: dict[str, int] = {}
        for found in _date_values(index, schema, body, judge_name):
            judged += 1
            totals[found.shape] = totals.get(found.shape, 0) + 1
            if found.fmt == "date-time":
                problem = _datetime_problem(found.value)
                if problem is not None:
                    groups.setdefault((found.shape, problem[0]), []).append(found)
            elif _date_problem(found.value) is not None:
                groups.setdefault((found.shape, "Date not RFC 3339"), []).append(found)
        for (shape, title), bad in groups.items():
            first = bad[0]
            if first.fmt == "date-time":
                why = (_datetime_problem(first.value) or ("", ""))[1]
                expected = "an RFC 3339 date-time with Z or a numeric offset, e.g. 2025-03-14T09:26:53Z"
                fix = "Write date-times in UTC with Z (or with a numeric offset such as +01:00)."
            else:
                why = _date_problem(first.value) or ""
                expected = "an RFC 3339 full-date, e.g. 2025-03-14"
                fix = "Write dates as YYYY-MM-DD."
            yield live_finding(
                title,
                f"{sampled_op.label}: {len(bad)} of {totals[shape]} value(s) at {shape} "
                f"({'declared format ' + first.fmt if first.declared else 'named like a date'}); the first, "
                f"{first.value!r} at {first.path}, {why}.",
                exchange=exchange,
                operation=sampled_op.label,
                expected=expected,
                found=f"{first.path} = {describe(first.value)}",
                fix=fix,
            )
    ctx.note(f"{judged} date or date-time value(s) judged in {len(samples)} response(s)")
    if judged == 0:
        declared = any(node.mapping.get("format") in _DATE_FORMATS for node in index.schemas.values())
        if not declared:
            raise Inapplicable(
                "the document declares no date formats and the sampled responses hold no dates"
            )
        raise CantTell("the sampled responses hold no date or date-time values to judge")


# -- IOP-C4-12 ------------------------------------------------------------------------------------------
def _utf8_findings(op_label: str, exchange: Exchange, *, documented_json: bool) -> Iterator[Finding]:
    media = exchange.media_type
    claims_json = media is not None and is_json_media(media)
    if not exchange.body or exchange.status in (204, 304):
        return
    if not claims_json:
        if documented_json:
            yield live_finding(
                "Response not labelled as JSON",
                f"{op_label} answered {exchange.status} with Content-Type "
                f"{exchange.header('content-type') or '(none)'}, but the document says the body is JSON.",
                exchange=exchange,
                operation=op_label,
                expected="Content-Type: application/json (or a +json type)",
                found=exchange.header("content-type") or "no Content-Type",
                fix="Label JSON bodies application/json (or the documented +json type).",
            )
        else:
            return
    charset = exchange.charset
    if charset is not None and charset not in ("utf-8", "utf8"):
        yield live_finding(
            "JSON charset is not UTF-8",
            f"{op_label} labels its JSON body charset={charset}; JSON exchanged between systems must be UTF-8.",
            exchange=exchange,
            operation=op_label,
            expected="no charset parameter, or charset=utf-8",
            found=exchange.header("content-type") or "",
            fix="Encode JSON as UTF-8 and drop the charset parameter (or set it to utf-8).",
        )
    if exchange.body.startswith(b"\xef\xbb\xbf"):
        yield live_finding(
            "JSON body starts with a byte-order mark",
            f"{op_label} starts its JSON body with a UTF-8 byte-order mark, which RFC 8259 §8.1 forbids.",
            exchange=exchange,
            operation=op_label,
            expected="JSON text without a byte-order mark",
            found="EF BB BF at the start of the body",
            fix="Do not write a byte-order mark before JSON text.",
        )
        return
    try:
        text = exchange.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = exchange.body[exc.start : exc.start + 4].hex(" ").upper()
        yield live_finding(
            "JSON body is not valid UTF-8",
            f"{op_label}: the JSON body is not valid UTF-8 (byte {exc.start}: {bad}).",
            exchange=exchange,
            operation=op_label,
            expected="UTF-8 (RFC 8259 §8.1)",
            found=f"invalid UTF-8 at byte {exc.start}: {bad}",
            fix="Encode JSON bodies as UTF-8.",
        )
        return
    try:
        json.loads(text)
    except ValueError as exc:
        yield live_finding(
            "Body is not valid JSON",
            f"{op_label}: the body is labelled JSON but does not parse ({describe(str(exc))}).",
            exchange=exchange,
            operation=op_label,
            expected="a JSON text (RFC 8259)",
            found=describe(text),
            fix="Send well-formed JSON, or label the body with its real media type.",
        )


@check(
    id="live.json.utf8",
    mode="live",
    title="JSON responses are labelled JSON and encoded as UTF-8",
    references=(
        "RFC 8259 §8.1 (JSON text exchanged between systems MUST be encoded using UTF-8; no byte order mark)",
        f'{_GOVUK}, "Use Unicode for encoding" (UTF-8 mandatory)',
    ),
)
def json_utf8(ctx: CheckContext) -> Iterator[Finding]:
    """Reads one list, the first record of it (when the document has an item read) and a record that
    does not exist (an item read with a fresh UUID; an unknown path when there is no item read), and
    judges every body that claims to be JSON plus every 2xx body the document says is JSON: the
    ``Content-Type`` is ``application/json`` or a ``+json`` type; a ``charset`` parameter, if any, is
    ``utf-8`` (case-insensitive); the bytes are valid UTF-8 without a byte-order mark; the text parses as
    JSON. An error body that is not labelled JSON is left to ``live.errors.problem-json``."""
    target = _target(ctx)
    op = first_collection_read(ctx)
    probes: list[tuple[str, Exchange, bool]] = []
    listed = _answered(_read_list(ctx, op), f"GET {op.path}")
    probes.append((op.label, listed, _is_2xx(listed) and _response_schema(op, listed.status or 0)[1]))
    item = item_read_for(ctx, op)
    ok, body = _json_value(listed)
    ident = first_item_id(body) if ok and _is_2xx(listed) else None
    names = path_parameters(item.path) if item is not None else []
    if item is not None and ident is not None and len(names) == 1:
        read = _answered(target.request("GET", fill_path(item.path, {names[0]: ident})), f"GET {item.path}")
        probes.append((item.label, read, _is_2xx(read) and _response_schema(item, read.status or 0)[1]))
    unknown = _unknown_item(ctx)
    if unknown is not None:
        missing = _answered(target.request("GET", unknown[1]), f"GET {unknown[0].path} (unknown id)")
        probes.append((f"{unknown[0].label} (unknown id)", missing, False))
    else:
        path = _unknown_path(ctx)
        if path is not None:
            missing = _answered(target.request("GET", path), f"GET {path}")
            probes.append((f"GET {path}", missing, False))
    judged = 0
    for label, exchange, documented in probes:
        if exchange.body and (documented or is_json_media(exchange.media_type or "")):
            judged += 1
        yield from _utf8_findings(label, exchange, documented_json=documented)
    ctx.note(f"{judged} of {len(probes)} response(s) carried JSON")
    if judged == 0:
        raise CantTell("none of the sampled responses carried a JSON body")


# -- IOP-C4-13 ------------------------------------------------------------------------------------------
_NAME_PROPERTIES = [
    "fullName",
    "name",
    "displayName",
    "preferredName",
    "familyName",
    "surname",
    "lastName",
    "givenName",
    "firstName",
    "forename",
    "forenames",
]


def _normal_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _name_property(
    index: Any, schema: Loc, wanted: Sequence[str], values: Sequence[str]
) -> tuple[str, str] | None:
    """``(property, value)``: the first name-like free-text property (in ``wanted`` order) one of ``values`` fits."""
    props = {_normal_name(name): (name, loc) for name, loc in index.properties(schema).items()}
    for candidate in wanted:
        found = props.get(_normal_name(candidate))
        if found is None:
            continue
        for value in values:
            if _plain_text_fits(index, found[1], value):
                return found[0], value
    return None


def _code_points(text: str) -> str:
    return " ".join(f"U+{ord(c):04X}" for c in text)


def _difference(sent: str, got: Any) -> str | None:
    """Why ``got`` is not exactly ``sent`` (code point for code point), or ``None`` when it is."""
    if got == sent:
        return None
    if not isinstance(got, str):
        return f"came back as {describe(got)} (not the string sent)"
    if unicodedata.normalize("NFC", got) == unicodedata.normalize("NFC", sent):
        return "came back in another Unicode normalisation form (the same text, different code points)"
    at = next(
        (i for i, (a, b) in enumerate(zip(sent, got, strict=False)) if a != b), min(len(sent), len(got))
    )
    was, now = sent[at : at + 3], got[at : at + 3]
    return (
        f"differs from character {at + 1}: sent {was!r} ({_code_points(was)}), "
        f"got {now!r} ({_code_points(now) or 'nothing'})"
    )


@check(
    id="live.unicode.round-trip",
    mode="live",
    title="Non-ASCII names are stored and returned unchanged (Welsh diacritics, non-Latin scripts)",
    references=(
        f'{_GOVUK}, "Use Unicode for encoding" (UTF-8; names could be misinterpreted)',
        "RFC 8259 §8.1",
    ),
    params={"text": "Siân Ŵyn 李小龍 Ørsted", "name_properties": _NAME_PROPERTIES},
)
def unicode_round_trip(ctx: CheckContext, *, text: str, name_properties: list[str]) -> Iterator[Finding]:
    """Creates one record and reads it back. The create operation is a POST on a collection path with
    a JSON object body whose records the document also lets clients delete (``DELETE`` on the item
    path), chosen in this order: a schema tagged ``x-pole-entity: Person``, one named like a person, anything
    else; it must have a free-text string property (no enum, pattern or format; long enough) named in
    ``name_properties`` (compared without case, ``_`` or ``-``). The body is built from the schema's
    examples and types, free-text fields set to ``conformance-test``, and the name property set to
    ``"conformance-test " + text`` (or ``text`` alone when the longer value does not fit). The record is
    re-read from the ``Location`` header (else the item path with the returned ``id``) and the name must
    come back code point for code point (no Unicode normalisation is applied before comparing); the
    create response's own copy, when it has one, is compared too. The record is then deleted (a failed
    clean-up is noted). Needs ``--allow-writes``. Inapplicable without such a create operation;
    ``cantTell`` when the document cannot delete what would be created, or the create is refused (4xx);
    a 5xx answer to the create is a finding."""
    target = _target(ctx)
    index = _index(ctx)
    values = [f"{_MARK} {text}", text]
    chosen: tuple[_Creatable, str, str] | None = None
    undeletable: list[str] = []
    for item in _creatables(ctx):
        found = _name_property(index, item.schema, name_properties, values)
        if found is None:
            continue
        if item.delete is None:
            undeletable.append(item.create.label)
            continue
        chosen = (item, *found)
        break
    if chosen is None:
        if undeletable:
            raise CantTell(
                f"{', '.join(undeletable)} could create a record with a name, but the document has no DELETE "
                "to remove it again: nothing was written"
            )
        raise Inapplicable("no create operation takes a JSON object with a free-text name property")
    item, prop, value = chosen
    op = item.create
    if item.rank == 2:
        ctx.note(f"no Person create operation: used {op.label} and its property '{prop}'")
    target.require_writes(f"creates a synthetic record through {op.label}, re-reads it and deletes it")
    body = _synthetic_body(index, item.schema) or {}
    body[prop] = value
    created = target.request("POST", op.path, json=body)
    if not created.ok or created.status is None:
        ctx.note(
            f"{op.label} got no response (exchange {created.id}); a record named {value!r} may have been "
            "created: check and delete it by hand"
        )
        raise CantTell(f"{op.label}: {created.error or 'no response'}")
    if created.status >= 500:
        yield live_finding(
            "Non-ASCII text not accepted",
            f"{op.label} answered {created.status} to a valid body whose '{prop}' is {value!r}.",
            exchange=created,
            operation=op.label,
            expected="2xx: the record is created",
            found=f"{created.status} {created.reason}".strip(),
            fix="Accept and store any Unicode text in UTF-8 (e.g. a utf8mb4 or UTF-8 database encoding).",
        )
        return
    if not _is_2xx(created):
        raise CantTell(
            f"{op.label} refused the synthetic record ({created.status}, exchange {created.id}): the round "
            "trip could not be tried"
        )
    url = _record_url(ctx, item, created)
    try:
        ok, echoed = _json_value(created)
        if ok and isinstance(echoed, Mapping) and prop in echoed:
            why = _difference(value, echoed[prop])
            if why is not None:
                yield _round_trip_finding(op.label, prop, value, echoed[prop], why, created)
        if url is None:
            raise CantTell(
                f"{op.label}: no Location header and no id in the body: the record cannot be re-read"
            )
        read = _answered(target.request("GET", url), f"GET {url}")
        if not _is_2xx(read):
            raise CantTell(f"re-reading the record answered {read.status} (exchange {read.id})")
        ok, stored = _json_value(read)
        if not ok or not isinstance(stored, Mapping):
            raise CantTell(f"the re-read record is not a JSON object (exchange {read.id})")
        why = _difference(value, stored.get(prop))
        reader = item.read.label if item.read is not None else f"GET {url}"
        if why is None:
            ctx.note(f"{op.label} stored '{prop}' = {value!r}; {reader} returned it unchanged")
        else:
            yield _round_trip_finding(f"GET {url}", prop, value, stored.get(prop), why, read, reader)
    finally:
        _delete_created(ctx, url, created)


def _round_trip_finding(
    where: str, prop: str, sent: str, got: Any, why: str, exchange: Exchange, operation: str | None = None
) -> Finding:
    return live_finding(
        "Non-ASCII text changed on the round trip",
        f"{where}: '{prop}' {why}.",
        exchange=exchange,
        operation=operation or where,
        expected=f"{sent!r} ({_code_points(sent)})",
        found=describe(got) if not isinstance(got, str) else f"{got!r} ({_code_points(got)})",
        fix="Store and return text as received, in UTF-8 end to end (no ASCII folding, transliteration or "
        "normalisation).",
    )


# -- IOP-C4-16 ------------------------------------------------------------------------------------------
_NOT_JSON = f"{_MARK}: this body is plain text, not JSON {{".encode()


@check(
    id="live.content-negotiation",
    mode="live",
    title="Unsupported Accept gets 406; an unsupported request Content-Type gets 415",
    references=(
        "RFC 9110 §15.5.7 (406 Not Acceptable) and §15.5.16 (415 Unsupported Media Type)",
        "CDDO api-standards-linting ADRs 0001 and 0002 (not-acceptable, unsupported-media-type)",
    ),
    params={"accept": "application/x-unsupported"},
)
def content_negotiation(ctx: CheckContext, *, accept: str) -> Iterator[Finding]:
    """Reads one list with ``Accept: <accept>`` (a type no API produces) and expects ``406``; and sends
    a body that is not JSON, labelled ``Content-Type: text/plain``, to the first create operation (a
    POST on a collection path taking JSON) and expects ``415``. No writes are needed: the body cannot be
    read as JSON, so even a server that ignores ``Content-Type`` cannot create anything from it; should
    a record be created anyway, it is deleted again and the answer reported. A ``401``/``403`` answer
    (the token may not call the operation) leaves that half undecided. Inapplicable when the document
    has neither a list read nor a create operation."""
    _index(ctx)
    target = _target(ctx)
    judged = 0
    try:
        op: Operation | None = first_collection_read(ctx)
    except Inapplicable:
        op = None
    if op is not None:
        refused = _answered(target.request("GET", op.path, accept=accept), f"GET {op.path}")
        if refused.status in (401, 403):
            ctx.note(f"{op.label} with Accept: {accept} answered {refused.status}: not judged")
        else:
            judged += 1
            if refused.status != 406:
                yield live_finding(
                    "Unsupported Accept not answered 406",
                    f"{op.label} with Accept: {accept} answered {refused.status} instead of 406 Not Acceptable.",
                    exchange=refused,
                    operation=op.label,
                    expected="406 Not Acceptable",
                    found=f"{refused.status} ({refused.header('content-type') or 'no Content-Type'})",
                    fix="Answer 406 when the Accept header excludes every media type the operation produces.",
                )
    creatables = _creatables(ctx)
    create = creatables[0] if creatables else None
    if create is None:
        create_ops = list(create_operations(ctx))
        if create_ops:
            create = _Creatable(
                create=create_ops[0][0], schema=create_ops[0][1], read=None, delete=None, rank=2
            )
    if create is not None:
        label = create.create.label
        sent = target.request("POST", create.create.path, data=_NOT_JSON, content_type="text/plain")
        if not sent.ok or sent.status is None:
            raise CantTell(f"{label} with a text/plain body: {sent.error or 'no response'}")
        if sent.status in (401, 403):
            ctx.note(f"{label} with a text/plain body answered {sent.status}: not judged")
        else:
            judged += 1
            if _is_2xx(sent):
                ctx.note(f"{label} accepted a text/plain body that is not JSON ({sent.status})")
                if sent.header("location") or _json_value(sent)[0]:
                    _delete_created(ctx, _record_url(ctx, create, sent), sent)
            if sent.status != 415:
                yield live_finding(
                    "Unsupported Content-Type not answered 415",
                    f"{label} with a text/plain body answered {sent.status} instead of 415 Unsupported Media Type.",
                    exchange=sent,
                    operation=label,
                    expected="415 Unsupported Media Type",
                    found=f"{sent.status} {sent.reason}".strip(),
                    fix="Check Content-Type before reading the body and answer 415 for a type the operation "
                    "does not take.",
                )
    if op is None and create is None:
        raise Inapplicable("the document has no list read and no create operation to negotiate with")
    if judged == 0:
        raise CantTell("the probes were refused (401/403): the token may not call these operations")


# -- IOP-C4-18b (live half) --------------------------------------------------------------------------------
_PROBLEM_JSON = "application/problem+json"


def _error_probes(ctx: CheckContext, *, invalid_json: bool) -> list[tuple[str, Exchange]]:
    """Cheap provocations: an unknown id (or an unknown path), a forbidden query value and, when asked,
    a create with a body that is not valid JSON. Network failures raise ``CantTell``."""
    _index(ctx)
    target = _target(ctx)
    probes: list[tuple[str, Exchange]] = []
    unknown = _unknown_item(ctx)
    if unknown is not None:
        label = f"{unknown[0].label} with an unknown id"
        probes.append((label, _answered(target.request("GET", unknown[1]), label)))
    else:
        path = _unknown_path(ctx)
        if path is not None:
            probes.append(
                (f"GET {path} (unknown path)", _answered(target.request("GET", path), f"GET {path}"))
            )
    bad = _bad_query(ctx)
    if bad is not None:
        op, params = bad
        query = "&".join(f"{k}={v}" for k, v in params.items())
        label = f"{op.label}?{query}"
        probes.append((label, _answered(target.request("GET", op.path, params=params), label)))
    if invalid_json:
        create = next(iter(create_operations(ctx)), None)
        if create is not None:
            label = f"{create[0].label} with a body that is not valid JSON"
            body = b'{"' + _MARK.encode() + b'": '
            sent = target.request("POST", create[0].path, data=body, content_type="application/json")
            probes.append((label, _answered(sent, label)))
    return probes


@check(
    id="live.errors.problem-json",
    mode="live",
    title="Error responses are RFC 9457 Problem Details (application/problem+json)",
    references=("RFC 9457 §3 (members type, title, status) and §6.1 (application/problem+json)",),
)
def errors_problem_json(ctx: CheckContext) -> Iterator[Finding]:
    """Provokes errors cheaply — an item read with an id no record has (an unknown path when there is no
    item read) and a list read with a query value its schema forbids (e.g. ``limit=0`` for
    ``minimum: 1``) — and judges each 4xx/5xx answer: ``Content-Type: application/problem+json``; a JSON
    object with ``type`` (string), ``title`` (string) and ``status`` (integer) equal to the HTTP status.
    A probe that is not answered with an error is noted, not judged. Inapplicable when nothing can be
    provoked; ``cantTell`` when no probe got an error."""
    probes = _error_probes(ctx, invalid_json=False)
    if not probes:
        raise Inapplicable(
            "the document offers no item read, no query parameter and no free path to provoke errors"
        )
    judged = 0
    for label, exchange in probes:
        if not _is_error(exchange):
            ctx.note(f"{label} answered {exchange.status} (not an error): not judged")
            continue
        judged += 1
        if exchange.media_type != _PROBLEM_JSON:
            yield live_finding(
                "Error not application/problem+json",
                f"{label} answered {exchange.status} with Content-Type "
                f"{exchange.header('content-type') or '(none)'}.",
                exchange=exchange,
                operation=label,
                expected=f"Content-Type: {_PROBLEM_JSON} (RFC 9457)",
                found=exchange.header("content-type") or "no Content-Type",
                fix="Answer errors with RFC 9457 Problem Details: application/problem+json with type, title, "
                "status and detail.",
            )
            continue
        ok, body = _json_value(exchange)
        if not ok or not isinstance(body, Mapping):
            yield live_finding(
                "Problem details not a JSON object",
                f"{label}: the application/problem+json body is not a JSON object.",
                exchange=exchange,
                operation=label,
                expected="a JSON object with type, title and status",
                found=describe(exchange.text()),
                fix="Send a JSON object with the RFC 9457 members.",
            )
            continue
        missing = [
            name
            for name, kind in (("type", str), ("title", str), ("status", int))
            if not isinstance(body.get(name), kind) or isinstance(body.get(name), bool)
        ]
        if missing:
            yield live_finding(
                "Problem details incomplete",
                f"{label}: the problem details lack (or mistype) {', '.join(missing)}.",
                exchange=exchange,
                operation=label,
                expected="type (URI reference), title (string) and status (integer)",
                found=", ".join(f"{k}={describe(body.get(k))}" for k in ("type", "title", "status")),
                fix="Include type, title and status in every problem details object.",
            )
        elif body["status"] != exchange.status:
            yield live_finding(
                "Problem status differs from the HTTP status",
                f"{label}: the body says status {body['status']}, the response is {exchange.status}.",
                exchange=exchange,
                operation=label,
                expected=f"status: {exchange.status}",
                found=f"status: {body['status']}",
                fix="Set the problem's status member to the HTTP status code of the response.",
            )
    if judged == 0:
        raise CantTell("none of the provocations was answered with an error status")


# -- IOP-C4-19 ------------------------------------------------------------------------------------------
_METHOD_ORDER = ["GET", "PATCH", "POST", "PUT", "DELETE"]
_ONLY_ON_UNKNOWN_IDS = frozenset({"POST", "PUT", "DELETE"})


@dataclass(frozen=True, slots=True)
class _MethodProbe:
    template: str
    path: str
    method: str
    documented: frozenset[str]
    random_id: bool  # a path parameter was filled with an id no record has


def _method_probe(ctx: CheckContext, methods: Sequence[str]) -> _MethodProbe | None:
    """An undocumented method on a documented path, the safest first: paths that need no invented id
    before those that do, then ``methods`` order. ``POST``/``PUT``/``DELETE`` are only sent to paths
    filled with an id no record has, so that a server that wrongly accepts them changes nothing."""
    index = ctx.spec.index
    by_path: dict[str, list[Operation]] = {}
    for op in operations(ctx):
        by_path.setdefault(op.path, []).append(op)
    order = [m.upper() for m in methods]
    best: tuple[tuple[bool, int, int], _MethodProbe] | None = None
    for position, (template, ops) in enumerate(by_path.items()):
        documented = frozenset(op.method.upper() for op in ops)
        values: dict[str, str] = {}
        random_id = False
        for name in path_parameters(template):
            param = next((p for op in ops if (p := _path_param(op, name)) is not None), None)
            node = index.deref(param.schema) if param is not None else None
            enum = node.mapping.get("enum") if node is not None else None
            if isinstance(enum, list) and enum:
                values[name] = str(enum[0])
            else:
                values[name] = _unknown_id(index, param)
                random_id = True
        for rank, method in enumerate(order):
            if method in documented or (method == "HEAD" and "GET" in documented) or method == "OPTIONS":
                continue
            if method in _ONLY_ON_UNKNOWN_IDS and not random_id:
                continue
            key = (random_id, rank, position)
            if best is None or key < best[0]:
                probe = _MethodProbe(template, fill_path(template, values), method, documented, random_id)
                best = (key, probe)
    return None if best is None else best[1]


def _allow_methods(value: str) -> set[str]:
    return {token.strip().upper() for token in value.split(",") if token.strip()}


@check(
    id="live.errors.404-405",
    mode="live",
    title="Unknown resources get 404; undocumented methods get 405 with an Allow header",
    references=(
        "RFC 9110 §15.5.5 (404 Not Found)",
        "RFC 9110 §15.5.6 (405: the origin server MUST generate an Allow header) and §10.2.1 (Allow)",
    ),
    params={"methods": _METHOD_ORDER},
)
def errors_404_405(ctx: CheckContext, *, methods: list[str]) -> Iterator[Finding]:
    """Three probes. (1) An item read of the first list with an id no record has (a fresh UUID, or a
    large number for a numeric id) must answer ``404`` (``410`` also passes): a 2xx (a "soft 404"), a
    5xx or another status is a finding (a ``400`` is only noted when the invented id does not match the
    parameter's ``pattern``). (2) A path under the base URL that no documented template matches must
    answer ``404``/``410``. (3) A method the document does not list for a documented path — chosen from
    ``methods`` in order, preferring paths whose parameters are all enums (filled with the first value)
    over paths that need an invented id; ``POST``, ``PUT`` and ``DELETE`` only go to paths with an
    invented id, and every probe has an empty body, so a server that wrongly accepts the method changes
    nothing — must answer ``405`` with an ``Allow`` header that names exactly the documented methods
    (``HEAD`` alongside ``GET`` and ``OPTIONS`` are not counted as extra). ``401``/``403`` answers are
    noted and leave that probe undecided."""
    target = _target(ctx)
    index = _index(ctx)
    judged = 0
    probes: list[tuple[str, str, Parameter | None]] = []
    unknown = _unknown_item(ctx)
    if unknown is not None:
        item, path = unknown
        name = path_parameters(item.path)[0] if path_parameters(item.path) else ""
        probes.append((f"{item.label} with an unknown id", path, _path_param(item, name)))
    free = _unknown_path(ctx)
    if free is not None:
        probes.append((f"GET {free} (undocumented path)", free, None))
    for label, path, param in probes:
        answer = _answered(target.request("GET", path), label)
        status = answer.status or 0
        if status in (404, 410):
            judged += 1
            continue
        if status in (401, 403):
            ctx.note(f"{label} answered {status}: not judged")
            continue
        if status == 400 and param is not None and not _id_fits_pattern(index, param, path):
            ctx.note(f"{label} answered 400 and the invented id does not match the parameter's pattern")
            continue
        judged += 1
        yield live_finding(
            "Unknown resource not answered 404",
            f"{label} answered {status}"
            + (" (a 'soft 404')" if 200 <= status < 300 else " (a server error)" if status >= 500 else "")
            + ".",
            exchange=answer,
            operation=label,
            expected="404 Not Found",
            found=f"{status} {answer.reason}".strip(),
            fix="Answer 404 (with a problem details body) for any path or id that names no resource.",
        )
    probe = _method_probe(ctx, methods)
    if probe is None:
        ctx.note("every documented path already documents all of " + ", ".join(methods) + ": no 405 probe")
    else:
        label = f"{probe.method} {probe.template} (undocumented)"
        answer = _answered(target.request(probe.method, probe.path, data=b""), label)
        if answer.status in (401, 403) or (answer.status == 404 and probe.random_id):
            ctx.note(f"{label} answered {answer.status}: not judged")
        else:
            judged += 1
            yield from _judge_405(label, probe, answer)
    if not probes and probe is None:
        raise Inapplicable("the document has no item read, no free path and no path without every method")
    if judged == 0:
        raise CantTell("no probe got an answer that could be judged (401/403, or 404 for an invented id)")


def _id_fits_pattern(index: Any, param: Parameter, path: str) -> bool:
    node = index.deref(param.schema)
    pattern = node.mapping.get("pattern") if node is not None else None
    if not isinstance(pattern, str):
        return True
    try:
        return re.search(pattern, path.rstrip("/").rsplit("/", 1)[-1]) is not None
    except re.error:
        return True


def _judge_405(label: str, probe: _MethodProbe, answer: Exchange) -> Iterator[Finding]:
    status = answer.status or 0
    documented = ", ".join(sorted(probe.documented))
    if status != 405:
        yield live_finding(
            "Undocumented method not answered 405",
            f"{label} answered {status}; the document lists only {documented} for {probe.template}.",
            exchange=answer,
            operation=label,
            expected="405 Method Not Allowed, with Allow: " + documented,
            found=f"{status} {answer.reason}".strip(),
            fix="Answer 405 with an Allow header for any method a path does not support.",
        )
        return
    allow = answer.header("allow")
    if allow is None:
        yield live_finding(
            "405 without an Allow header",
            f"{label} answered 405 without the Allow header RFC 9110 §15.5.6 requires.",
            exchange=answer,
            operation=label,
            expected=f"Allow: {documented}",
            found="no Allow header",
            fix="Send Allow with the methods the path supports on every 405.",
        )
        return
    listed = _allow_methods(allow)
    missing = sorted(probe.documented - listed)
    implied = {"OPTIONS"} | ({"HEAD"} if "GET" in probe.documented else set())
    extra = sorted(listed - probe.documented - implied)
    if missing or extra:
        parts = [
            f"leaves out {', '.join(missing)}" if missing else "",
            f"adds {', '.join(extra)}" if extra else "",
        ]
        yield live_finding(
            "Allow header differs from the documented methods",
            f"{label}: Allow {' and '.join(p for p in parts if p)} compared with the document.",
            exchange=answer,
            operation=label,
            expected=f"Allow: {documented}",
            found=f"Allow: {allow}",
            fix="List exactly the methods the path supports (and document every one of them).",
        )


# -- IOP-C8-04 ------------------------------------------------------------------------------------------
_SF_DATE = re.compile(r"^@-?\d{1,15}$")


def _http_date(value: str) -> dt.datetime | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=_UTC)


def _fill_from_parents(
    ctx: CheckContext, op: Operation, budget: int
) -> tuple[dict[str, str] | None, str, int]:
    """Values for the path parameters of ``op``: an enum's first value, or the first id of a list read of
    the parent collection (``/things`` for ``/things/{id}/…``). ``(values or None, why not, requests used)``."""
    index = ctx.spec.index
    values: dict[str, str] = {}
    used = 0
    for name in path_parameters(op.path):
        param = _path_param(op, name)
        node = index.deref(param.schema) if param is not None else None
        enum = node.mapping.get("enum") if node is not None else None
        if isinstance(enum, list) and enum:
            values[name] = str(enum[0])
            continue
        parent_path = op.path[: op.path.index("{" + name + "}")].rstrip("/")
        parent = next(
            (
                o
                for o in operations(ctx)
                if o.method == "get"
                and o.path.rstrip("/") == parent_path
                and not any(p.required and p.location != "path" for p in o.parameters)
            ),
            None,
        )
        if parent is None:
            return None, f"no list read of {parent_path or '/'} to take a {{{name}}} from", used
        if used >= budget:
            return None, f"max_requests reached before {{{name}}} could be filled", used
        listed = _answered(_read_list(ctx, parent, fill_path(parent.path, values)), f"GET {parent.path}")
        used += 1
        if not _is_2xx(listed):
            return None, f"GET {parent.path} answered {listed.status} (exchange {listed.id})", used
        ok, body = _json_value(listed)
        ident = first_item_id(body) if ok else None
        if ident is None:
            return None, f"GET {parent.path} returned no record with an id (exchange {listed.id})", used
        values[name] = ident
    return values, "", used


@check(
    id="live.deprecation.headers",
    mode="live",
    title="Deprecated operations announce it in Deprecation and/or Sunset headers",
    references=(
        "RFC 9745 (the Deprecation header field)",
        "RFC 8594 (the Sunset header field)",
        f'{_GOVUK}, "Set clear deprecation policies" (the Warning header it names is obsolete: RFC 9111 §5.5)',
    ),
    params={"max_operations": 3, "max_requests": 6},
)
def deprecation_headers(ctx: CheckContext, *, max_operations: int, max_requests: int) -> Iterator[Finding]:
    """Calls up to ``max_operations`` operations the document marks ``deprecated: true`` that are GETs
    (others are noted and skipped: calling them could change data). Path parameters are filled with an
    enum's first value or with the first id of a list read of the parent collection (at most
    ``max_requests`` such reads in all); an operation whose path cannot be filled is noted and skipped.
    Each response must carry ``Deprecation`` (RFC 9745: ``@<unix seconds>``; the older draft forms
    ``true`` or an HTTP-date are accepted and noted) and/or ``Sunset`` (RFC 8594: an HTTP-date); the
    legacy ``Warning: 299 …`` header is accepted and noted. A malformed ``Deprecation`` or ``Sunset`` is a
    finding. Inapplicable when nothing is deprecated; ``cantTell`` when no deprecated operation could be
    called."""
    target = _target(ctx)
    deprecated = [op for op in operations(ctx) if op.deprecated]
    if not deprecated:
        raise Inapplicable("the document marks no operation deprecated")
    called = 0
    budget = max_requests
    for op in deprecated:
        if called >= max_operations:
            ctx.note(f"{op.label}: not called (max_operations={max_operations} reached)")
            continue
        if op.method != "get":
            ctx.note(f"{op.label}: deprecated but not a GET, so not called (it could change data)")
            continue
        values, why, used = _fill_from_parents(ctx, op, budget)
        budget -= used
        if values is None:
            ctx.note(f"{op.label}: not called: {why}")
            continue
        params = _list_params(ctx.spec.index, op) if not path_parameters(op.path) else {}
        answer = _answered(target.request("GET", fill_path(op.path, values), params=params or None), op.label)
        called += 1
        yield from _judge_deprecation(ctx, op, answer)
    if called == 0:
        raise CantTell("no deprecated operation could be called cheaply (see the notes)")


def _judge_deprecation(ctx: CheckContext, op: Operation, answer: Exchange) -> Iterator[Finding]:
    deprecation = answer.header("deprecation")
    sunset = answer.header("sunset")
    sent = [f"{n}: {answer.header(n)}" for n in ("Deprecation", "Sunset", "Link") if answer.header(n)]
    ctx.note(f"{op.label} answered {answer.status} with " + ("; ".join(sent) or "no deprecation headers"))
    warnings = [w for w in answer.headers.get_all("warning") if re.match(r"\s*299\b", w)]
    announced = False
    if deprecation is not None:
        value = deprecation.strip()
        if _SF_DATE.match(value):
            announced = True
        elif value.lower() == "true" or _http_date(value) is not None:
            announced = True
            ctx.note(
                f"{op.label}: Deprecation: {value} is the older draft form; RFC 9745 uses @<unix seconds>"
            )
        else:
            yield live_finding(
                "Deprecation header malformed",
                f"{op.label}: Deprecation: {describe(value)} is not an RFC 9745 date (@<unix seconds>).",
                exchange=answer,
                operation=op.label,
                expected="Deprecation: @<seconds since 1970-01-01T00:00:00Z>, e.g. @1767225600",
                found=f"Deprecation: {describe(value)}",
                fix="Send the date the operation was deprecated as an RFC 9745 Structured Field Date.",
            )
    if sunset is not None:
        when = _http_date(sunset)
        if when is None:
            yield live_finding(
                "Sunset header malformed",
                f"{op.label}: Sunset: {describe(sunset)} is not an HTTP-date (RFC 8594).",
                exchange=answer,
                operation=op.label,
                expected="Sunset: an HTTP-date, e.g. Wed, 31 Mar 2027 23:59:59 GMT",
                found=f"Sunset: {describe(sunset)}",
                fix="Send the date the operation stops working as an IMF-fixdate.",
            )
        else:
            announced = True
            if when < dt.datetime.now(_UTC):
                ctx.note(f"{op.label}: its Sunset date ({sunset.strip()}) has passed but it still answers")
    if warnings:
        announced = True
        ctx.note(
            f"{op.label}: announces deprecation with the legacy Warning: 299 header (obsolete, RFC 9111 §5.5)"
        )
    if not announced and deprecation is None and sunset is None:
        yield live_finding(
            "Deprecated operation without Deprecation or Sunset",
            f"{op.label} is deprecated in the document, but its response ({answer.status}) says nothing about it.",
            exchange=answer,
            operation=op.label,
            expected="Deprecation: @<unix seconds> (RFC 9745) and/or Sunset: <HTTP-date> (RFC 8594)",
            found="neither header (nor Warning: 299)",
            fix="Send Deprecation, Sunset and a Link to the successor on every response of a deprecated operation.",
        )


# -- IOP-C8-05 ------------------------------------------------------------------------------------------
@check(
    id="live.tolerant-reader",
    mode="live",
    title="An undeclared property in a request body is ignored or rejected, never a server error",
    references=(
        f'{_GOVUK}, "When iterating your API" (clients and servers should ignore properties they do not expect)',
        'NCSC "Securing HTTP-based APIs": input validation',
    ),
    params={"extra_property": "conformanceUnknownField"},
)
def tolerant_reader(ctx: CheckContext, *, extra_property: str) -> Iterator[Finding]:
    """Sends a valid create body (built from the schema's examples and types, free-text fields set to
    ``conformance-test``) plus the undeclared property ``extra_property`` to the first create operation
    (POLE Persons first) whose records the document lets clients delete. ``2xx`` means the property was
    ignored (the record is then deleted again; a failed clean-up is noted); ``400``/``422`` mean it was
    rejected; both pass, as does any other 4xx except ``401``/``403``, which leave it undecided. A 5xx
    is a finding. Needs ``--allow-writes``. Inapplicable without a create operation taking a JSON
    object; ``cantTell`` when the document cannot delete what would be created or ``extra_property`` is
    in fact declared."""
    target = _target(ctx)
    index = _index(ctx)
    candidates = _creatables(ctx)
    if not candidates:
        raise Inapplicable("no create operation takes a JSON object body")
    item = next((c for c in candidates if c.delete is not None), None)
    if item is None:
        labels = ", ".join(c.create.label for c in candidates)
        raise CantTell(
            f"{labels}: the document has no DELETE to remove a created record: nothing was written"
        )
    op = item.create
    if extra_property in index.properties(item.schema):
        raise CantTell(f"'{extra_property}' is declared by {op.label}'s body: choose another extra_property")
    target.require_writes(f"creates a synthetic record through {op.label} with an undeclared property")
    body = _synthetic_body(index, item.schema)
    if body is None:
        raise CantTell(f"no sample body could be built for {op.label}")
    body[extra_property] = _MARK
    created = target.request("POST", op.path, json=body)
    if not created.ok or created.status is None:
        ctx.note(f"{op.label} got no response (exchange {created.id}); a record may have been created")
        raise CantTell(f"{op.label}: {created.error or 'no response'}")
    status = created.status
    if _is_2xx(created):
        ok, echoed = _json_value(created)
        stored = ok and isinstance(echoed, Mapping) and extra_property in echoed
        ctx.note(
            f"{op.label} ignored the undeclared property ({status})"
            + ("; it echoed it back" if stored else "")
        )
        _delete_created(ctx, _record_url(ctx, item, created), created)
        return
    if status in (401, 403):
        raise CantTell(
            f"{op.label} answered {status} (exchange {created.id}): the token may not create records"
        )
    if status >= 500:
        yield live_finding(
            "Undeclared property caused a server error",
            f"{op.label} answered {status} to a valid body with the extra property '{extra_property}'.",
            exchange=created,
            operation=op.label,
            expected="2xx (the property ignored) or 400/422 (rejected with a clear error)",
            found=f"{status} {created.reason}".strip(),
            fix="Ignore properties the schema does not declare (or reject them with 400/422); never fail with 5xx.",
        )
        return
    ctx.note(
        f"{op.label} answered {status}"
        + (" (rejected the undeclared property)" if status in (400, 422) else " (not a server error)")
    )


# -- IOP-C9-14 ------------------------------------------------------------------------------------------
_LEAK_PATTERNS = [
    r"Traceback \(most recent call last\)",
    r'File "[^"\n]+", line \d+',
    r"\bat [\w.$<>]+\([\w$]+\.java:\d+\)",
    r"\bat [\w.<>`]+\(.*\) in [^\n]+:line \d+",
    r"\bat [\w.<>]+ \((?:/|[A-Za-z]:\\)[^)\n]+:\d+:\d+\)",
    r"\.php(?::\d+| on line \d+)",
    r"\bSELECT\b[^\n]{0,200}\bFROM\b",
    r"\b(?:INSERT INTO|DELETE FROM)\b|\bUPDATE \w+ SET\b",
    r"\bORA-\d{5}\b",
    r"\bSQLSTATE\b",
    r"(?i)you have an error in your sql syntax",
    r"(?i)\bpsycopg2?\b",
    r"\bsqlite3\.",
    r"(?i)\bjdbc:",
    r"\bjava\.lang\.\w+(?:Exception|Error)\b",
    r"(?i)\bdjango\b",
    r"(?i)\bwerkzeug\b",
    r"\b[\w-]+(?:\.[\w-]+)*\.(?:internal|local|localdomain|corp|lan|intranet)\b(?::\d+)?",
    r"\b10\.\d{1,3}\.\d{1,3}\.\d{1,3}\b|\b192\.168\.\d{1,3}\.\d{1,3}\b",
    r"\b172\.(?:1[6-9]|2\d|3[01])\.\d{1,3}\.\d{1,3}\b",
]
_VERSION_PATTERN = r"\b[A-Za-z][\w.+-]*/v?\d+(?:\.\d+)*\b|^\s*Express\b"
_BANNER_HEADERS = ("Server", "X-Powered-By")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for member in value.values():
            yield from _strings(member)
    elif isinstance(value, list):
        for member in value:
            yield from _strings(member)


def _searchable_text(exchange: Exchange) -> str:
    """The body as text and, for JSON, its string values unescaped (``File \\"x\\"`` reads ``File "x"``)."""
    text = exchange.text()
    ok, value = _json_value(exchange)
    return text + "\n" + "\n".join(_strings(value)) if ok else text


@check(
    id="live.errors.no-leaks",
    mode="live",
    title="Errors expose no stack traces, SQL or internal names; Server headers no versions",
    references=(
        'NCSC "Securing HTTP-based APIs": limit exposure (no implementation detail in errors)',
        "OWASP API Security Top 10 2023, API8 Security Misconfiguration",
    ),
    params={"leak_patterns": _LEAK_PATTERNS, "version_pattern": _VERSION_PATTERN},
)
def errors_no_leaks(
    ctx: CheckContext, *, leak_patterns: list[str], version_pattern: str
) -> Iterator[Finding]:
    """Provokes errors with malformed input — a body that is not valid JSON sent as ``application/json``
    to the first create operation (nothing can be created from it), a list read with a query value its
    schema forbids, and an item read with an id no record has (an unknown path when there is no item
    read) — and searches every 4xx/5xx body (as text) for each regular expression in ``leak_patterns``:
    stack traces (Python, Java, .NET, Node, PHP), SQL and database driver errors, framework names and
    debuggers, internal host names and private IP addresses (a match naming the API's own host does not
    count). One finding per response lists what matched.
    The ``Server`` and ``X-Powered-By`` headers of every response must not match ``version_pattern`` (a
    product token with a version, such as ``nginx/1.25``, ``uvicorn/0.30``, ``Python/3.11``, ``PHP/8``, or
    ``X-Powered-By: Express``). Inapplicable when nothing can be provoked."""
    compiled = [param_pattern("leak_patterns", p) for p in leak_patterns]
    versions = param_pattern("version_pattern", version_pattern)
    probes = _error_probes(ctx, invalid_json=True)
    if not probes:
        raise Inapplicable("the document offers no operation to send malformed input to")
    own_host = _target(ctx).origin.host.lower()  # the API's own name is no leak
    errors = 0
    reported: set[tuple[str, str]] = set()
    for label, exchange in probes:
        if _is_error(exchange):
            errors += 1
            text = _searchable_text(exchange)
            matched = dict.fromkeys(
                " ".join(m.group(0).split())
                for pattern in compiled
                for m in pattern.finditer(text)
                if own_host not in m.group(0).lower()
            )
            if matched:
                shown = "; ".join(describe(m, 60) for m in list(matched)[:6])
                yield live_finding(
                    "Error body exposes internals",
                    f"{label} answered {exchange.status} with a body that shows implementation details: {shown}.",
                    exchange=exchange,
                    operation=label,
                    expected="a problem description for the client, without stack traces, SQL or internal names",
                    found=describe(shown, 200),
                    fix="Log the details server-side under a correlation id; send the client only a problem "
                    "details body (type, title, status, detail) that quotes that id.",
                )
        else:
            ctx.note(f"{label} answered {exchange.status} (not an error): its body was not searched")
        for name in _BANNER_HEADERS:
            value = exchange.header(name)
            if value is None or (name, value) in reported or not versions.search(value):
                continue
            reported.add((name, value))
            yield live_finding(
                "Response header exposes software versions",
                f"{label}: {name}: {value} names the software (and version) behind the API.",
                exchange=exchange,
                operation=label,
                expected=f"no {name} header, or a product name without a version",
                found=f"{name}: {value}",
                fix=f"Remove {name} or reduce it to a generic name (e.g. server_tokens off; uvicorn --no-server-header).",
            )
    ctx.note(f"{errors} of {len(probes)} provocation(s) answered with an error")


# -- IOP-C9-16 ------------------------------------------------------------------------------------------
_FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9-]*):[ \t]*(.*?)\s*$")


@check(
    id="live.security-txt",
    mode="live",
    title="/.well-known/security.txt is published with Contact and a future Expires",
    references=(
        "RFC 9116 §3 (location, text/plain), §2.5.3 (Contact), §2.5.5 (Expires)",
        "Data Standards Authority: security.txt endorsed",
    ),
)
def security_txt(ctx: CheckContext) -> Iterator[Finding]:
    """``GET <origin>/.well-known/security.txt`` without credentials (redirects within the allowed origins
    are followed) must answer ``200`` with ``Content-Type: text/plain`` (a ``charset`` other than
    ``utf-8`` is a finding; none at all is noted), at least one ``Contact:`` field and exactly one
    ``Expires:`` field holding an RFC 3339 date-time (with an offset) in the future. An ``Expires`` more
    than a year ahead is noted (RFC 9116 recommends less)."""
    target = _target(ctx)
    url = f"{target.origin}/.well-known/security.txt"
    answer = _answered(target.request("GET", url, auth="none", allow_redirects=True), f"GET {url}")
    label = "GET /.well-known/security.txt"
    if answer.status != 200:
        yield live_finding(
            "security.txt not published",
            f"{label} answered {answer.status}.",
            exchange=answer,
            operation=label,
            expected="200 with a text/plain security.txt (RFC 9116)",
            found=f"{answer.status} {answer.reason}".strip(),
            fix="Publish /.well-known/security.txt with Contact and Expires fields on the API host.",
        )
        return
    if answer.media_type != "text/plain":
        yield live_finding(
            "security.txt not text/plain",
            f"{label} is served as {answer.header('content-type') or 'no Content-Type'}.",
            exchange=answer,
            operation=label,
            expected="Content-Type: text/plain; charset=utf-8",
            found=answer.header("content-type") or "no Content-Type",
            fix="Serve security.txt as text/plain; charset=utf-8.",
        )
    elif answer.charset is None:
        ctx.note("security.txt has no charset parameter (RFC 9116 asks for charset=utf-8)")
    elif answer.charset not in ("utf-8", "utf8"):
        yield live_finding(
            "security.txt not UTF-8",
            f"{label} is labelled charset={answer.charset}.",
            exchange=answer,
            operation=label,
            expected="charset=utf-8",
            found=answer.header("content-type") or "",
            fix="Serve security.txt as text/plain; charset=utf-8.",
        )
    fields: dict[str, list[str]] = {}
    for line in answer.body.decode("utf-8", "replace").splitlines():
        match = _FIELD.match(line)
        if match is not None:
            fields.setdefault(match.group(1).lower(), []).append(match.group(2))
    if not fields.get("contact"):
        yield live_finding(
            "security.txt without Contact",
            f"{label} has no Contact: field.",
            exchange=answer,
            operation=label,
            expected="at least one Contact: field (mailto:, https: or tel: URI)",
            found="no Contact field",
            fix="Add Contact: mailto:security@… (or an https: URL) to security.txt.",
        )
    expires = fields.get("expires", [])
    if len(expires) != 1:
        yield live_finding(
            "security.txt Expires missing or repeated",
            f"{label} has {len(expires)} Expires: fields; RFC 9116 requires exactly one.",
            exchange=answer,
            operation=label,
            expected="exactly one Expires: field",
            found=f"{len(expires)} Expires field(s)",
            fix="Add one Expires: field with an RFC 3339 date-time less than a year ahead.",
        )
        return
    when = _rfc3339_instant(expires[0])
    now = dt.datetime.now(_UTC)
    if when is None:
        yield live_finding(
            "security.txt Expires not RFC 3339",
            f"{label}: Expires: {describe(expires[0])} is not an RFC 3339 date-time with an offset.",
            exchange=answer,
            operation=label,
            expected="Expires: e.g. 2026-12-31T23:59:59Z",
            found=f"Expires: {describe(expires[0])}",
            fix="Write Expires as an RFC 3339 date-time with Z or an offset.",
        )
    elif when <= now:
        yield live_finding(
            "security.txt expired",
            f"{label}: Expires: {expires[0]} has passed; the file must not be relied on.",
            exchange=answer,
            operation=label,
            expected="an Expires date in the future",
            found=f"Expires: {expires[0]}",
            fix="Review security.txt and move Expires forward (less than a year ahead).",
        )
    elif when - now > dt.timedelta(days=366):
        ctx.note(f"security.txt Expires ({expires[0]}) is more than a year ahead; RFC 9116 recommends less")


def _rfc3339_instant(text: str) -> dt.datetime | None:
    """An RFC 3339 date-time with ``Z`` or an offset as an aware UTC datetime (a leap second reads :59)."""
    match = _RFC3339.match(text.strip())
    if match is None or _datetime_problem(text.strip()) is not None:
        return None
    year, month, day, hour, minute, second, _, sign, off_h, off_m = match.groups()
    offset = dt.timedelta(hours=int(off_h or 0), minutes=int(off_m or 0)) * (-1 if sign == "-" else 1)
    local = dt.datetime(int(year), int(month), int(day), int(hour), int(minute), min(int(second), 59))
    return (local - offset).replace(tzinfo=_UTC)


# -- IOP-C9-17 ------------------------------------------------------------------------------------------
_CORRELATION_HEADERS = ["Correlation-Id", "X-Correlation-Id", "X-Request-Id", "Request-Id"]


def _declared_header(ctx: CheckContext, names: Sequence[str]) -> str | None:
    wanted = {n.lower(): n for n in names}
    declared: set[str] = set()
    for op in operations(ctx):
        declared.update(p.name.lower() for p in op.parameters if p.location == "header")
        for response in op.responses:
            declared.update(h.name.lower() for h in response.headers)
    return next((wanted[n.lower()] for n in names if n.lower() in declared), None)


@check(
    id="live.correlation-id",
    mode="live",
    title="A correlation id sent with a request is echoed (or one is generated)",
    references=(
        "CDDO federated API model, ADR 0005 (UUIDv4 correlation id in request and response headers)",
    ),
    params={"header_names": _CORRELATION_HEADERS},
)
def correlation_id(ctx: CheckContext, *, header_names: list[str]) -> Iterator[Finding]:
    """Reads one list (the base URL when the document has no list read) sending a fresh UUIDv4 in a
    correlation header: the first of ``header_names`` the document declares (as a header parameter or a
    response header), else the first of the list. Passes when the response carries that UUID in any of
    ``header_names`` (case-insensitive); also passes, with a note, when it carries a different
    UUID-looking id in one of them (the server generates its own)."""
    if not header_names:
        raise CantTell("header_names must name at least one header")
    target = _target(ctx)
    name = _declared_header(ctx, header_names) if ctx.spec is not None else None
    if name is None:
        name = header_names[0]
        ctx.note(f"the document declares none of {', '.join(header_names)}: sent {name}")
    sent = str(uuid.uuid4())
    try:
        op: Operation | None = first_collection_read(ctx)
    except Inapplicable:
        op = None
    path, label = (op.path, op.label) if op is not None else ("", "GET /")
    answer = _answered(target.request("GET", path, headers={name: sent}), label)
    returned = {n: answer.header(n) for n in header_names if answer.header(n) is not None}
    echoed = [n for n, v in returned.items() if (v or "").strip().lower() == sent]
    if echoed:
        ctx.note(f"{name} sent; echoed in {', '.join(echoed)}")
        return
    generated = [n for n, v in returned.items() if _UUID.match((v or "").strip())]
    if generated:
        ctx.note(f"{name} sent but not echoed; the server returned its own id in {', '.join(generated)}")
        return
    yield live_finding(
        "Correlation id not returned",
        f"{label} with {name}: {sent} returned no correlation id"
        + (f" (only {', '.join(f'{k}: {v}' for k, v in returned.items())})" if returned else "")
        + ".",
        exchange=answer,
        operation=label,
        expected=f"{name}: {sent} (echoed) or a generated UUID in one of {', '.join(header_names)}",
        found=", ".join(f"{k}: {v}" for k, v in returned.items()) or "none of those headers",
        fix=f"Echo {name} on every response (and generate a UUIDv4 when the client sends none); log it.",
    )
