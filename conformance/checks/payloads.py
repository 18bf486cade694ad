"""C4 — payloads: JSON media types, object roots, one naming convention, predictable keys, ISO 8601
dates and times, and locations with a stated coordinate reference system (static checks).

Sources: GOV.UK API technical and data standards, "Use JSON", "To represent time and date" and "To
represent a physical location" (https://www.gov.uk/guidance/gds-api-technical-and-data-standards);
Open Standards Board profiles for ISO 8601 dates and the exchange of location points.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from functools import lru_cache

from ..outcome import Finding
from ..registry import CantTell, CheckContext, Inapplicable, check
from ..spec import SpecIndex
from ..spec.model import Loc, Operation, Response, SchemaNode, child, split_loc
from ._common import (
    POLE_EXTENSION,
    describe,
    finding,
    is_json_media,
    justified,
    labels,
    media_base,
    param_pattern,
    snake_name,
    words,
)

_USE_JSON = 'GOV.UK API technical and data standards, "Use JSON"'
_DATES = 'GOV.UK API technical and data standards, "To represent time and date" (ISO 8601)'
_LOCATION = 'GOV.UK API technical and data standards, "To represent a physical location"'
_JUSTIFY = (
    "or, where a standard or legacy system requires it, give the reason in "
    "`x-interop-pol-justification: {IOP-C4-02: <reason>}` on the operation"
)


def _pointer(loc: Loc) -> str:
    return split_loc(loc)[1] or "/"


def _where(node: SchemaNode) -> str:
    """A short, human name for a schema node: ``property 'labels' of ObjectMeta``."""
    owner = f" of {node.component}" if node.component else ""
    if node.keyword == "properties" and node.name is not None:
        return f"property '{node.name}'{owner}"
    if node.component and node.parent is None:
        return f"schema {node.component}"
    return f"schema {_pointer(node.loc)}"


# -- IOP-C4-02 ------------------------------------------------------------------------------------------
@lru_cache(maxsize=512)
def _is_json(media_type: str) -> bool:
    return is_json_media(media_type)


def _is_xml(media_type: str) -> bool:
    base = media_base(media_type)
    return base in ("application/xml", "text/xml") or base.endswith("+xml")


def _is_allowed(media_type: str, allowed: set[str]) -> bool:
    base = media_base(media_type)
    return base in allowed or f"{base.split('/', 1)[0]}/*" in allowed


@check(
    id="openapi.media.json",
    mode="static",
    title="Requests and responses use JSON",
    references=(_USE_JSON, "RFC 8259 (JSON)", "RFC 6839 §3.1 (+json structured syntax suffix)"),
    params={"allowed_non_json": ["text/csv", "application/x-ndjson", "application/octet-stream"]},
)
def media_json(ctx: CheckContext, *, allowed_non_json: list[str]) -> Iterator[Finding]:
    """Each request body, and the 2xx responses of each operation taken together, offer a JSON media
    type (``application/json`` or ``*+json``), unless every media type offered is in
    ``allowed_non_json`` (``type/*`` entries allowed), such as CSV exports or binary downloads.

    The request and the response side are judged separately: a form-encoded or XML request body fails
    even when the response is JSON. A request body accepting ``*/*`` or ``application/*`` accepts JSON;
    a response offering only ``*/*`` does not say it returns JSON. An operation whose bodies are all
    XML is reported once, as an XML-only operation. An operation with a written justification
    (``x-interop-pol-justification`` keyed by the requirement id) is not reported; the justified
    operations are listed in a note. Inapplicable when no operation has a request body or a 2xx
    response body."""
    allowed = {media_base(m) for m in allowed_non_json}
    any_body = False
    excused: list[str] = []
    for op in ctx.spec.index.operations:
        request = (
            list(dict.fromkeys(m.media_type for m in op.request_body.content)) if op.request_body else []
        )
        successes = [r for r in op.responses if r.status_class == "2" and r.content]
        response = list(dict.fromkeys(m.media_type for r in successes for m in r.content))
        if not request and not response:
            continue
        any_body = True
        bad_request = _not_json(request, allowed, accepts=True)
        bad_response = _not_json(response, allowed)
        if not (bad_request or bad_response):
            continue
        if justified(ctx, op.raw):
            excused.append(op.label)
            continue
        every = request + response
        if all(_is_xml(m) for m in every):
            yield finding(
                "XML-only operation",
                f"{op.label} exchanges only XML ({', '.join(dict.fromkeys(every))}).",
                loc=op.loc,
                op=op,
                expected="application/json (or a *+json type) for the request body and the response",
                found=", ".join(dict.fromkeys(every)),
                fix="Offer application/json alongside or instead of XML, " + _JUSTIFY + ".",
            )
            continue
        if bad_request and op.request_body is not None:
            yield finding(
                "Request body not offered as JSON",
                f"{op.label} accepts its request body only as {', '.join(request)}.",
                loc=op.request_body.loc,
                op=op,
                expected="application/json (or a *+json type) among the request media types",
                found=", ".join(request),
                fix="Accept application/json request bodies, " + _JUSTIFY + ".",
            )
        if bad_response:
            yield finding(
                "Response not offered as JSON",
                f"{op.label} returns its success body only as {', '.join(response)}.",
                loc=successes[0].loc,
                op=op,
                expected="application/json (or a *+json type) among the 2xx media types",
                found=", ".join(response),
                fix="Return application/json (clients choose with Accept), " + _JUSTIFY + ".",
            )
    if not any_body:
        raise Inapplicable("no operation has a request body or a 2xx response body")
    if excused:
        ctx.note(
            f"Non-JSON media types justified in writing on {len(excused)} operation(s): {', '.join(excused)}."
        )


def _not_json(media_types: list[str], allowed: set[str], *, accepts: bool = False) -> bool:
    """No JSON type among ``media_types``, and not all of them allowed non-JSON types. With ``accepts``
    (a request body), a range that includes JSON (``*/*``, ``application/*``) counts as accepting JSON."""
    if not media_types or any(map(_is_json, media_types)):
        return False
    if accepts and any(media_base(m) in ("*/*", "application/*") for m in media_types):
        return False
    return not all(_is_allowed(m, allowed) for m in media_types)


# -- IOP-C4-03 ------------------------------------------------------------------------------------------
@check(
    id="openapi.response.object-root",
    mode="static",
    title="Success responses are JSON objects, not bare arrays",
    references=(_USE_JSON + " (an object at the top level)",),
)
def response_object_root(ctx: CheckContext) -> Iterator[Finding]:
    """No 2xx JSON response schema has ``type: array`` at the top level (looking through ``$ref`` and
    ``allOf``). A response shared by several operations (a component response) is reported once.
    Inapplicable when no 2xx response has a JSON schema."""
    index: SpecIndex = ctx.spec.index
    any_json = False
    arrays: dict[Loc, tuple[Response, Loc, list[str], list[Operation]]] = {}
    kinds: dict[Loc, str | None] = {}
    for op in index.operations:
        for response in op.responses:
            if response.status_class != "2":
                continue
            for media in response.content:
                if media.schema is None or not _is_json(media.media_type):
                    continue
                any_json = True
                kind = kinds.get(media.schema, "?")
                if kind == "?":
                    kind = kinds[media.schema] = index.schema_type(media.schema)
                if kind != "array":
                    continue
                entry = arrays.setdefault(response.loc, (response, media.schema, [], []))
                if media.media_type not in entry[2]:
                    entry[2].append(media.media_type)
                if op not in entry[3]:
                    entry[3].append(op)
    if not any_json:
        raise Inapplicable("no 2xx response has a JSON schema")
    for response, schema, media_types, ops in arrays.values():
        shared = f" (shared by {labels(ops)})" if len(ops) > 1 else ""
        yield finding(
            "Array at the top level",
            f"{ops[0].label} {response.status} returns a bare JSON array ({', '.join(media_types)}){shared}.",
            loc=schema,
            op=ops[0],
            expected="type: object at the top level",
            found="type: array",
            fix='Wrap the list in an object, e.g. {"items": [...], "links": {...}}, so it can grow '
            "(paging, metadata) without breaking clients.",
        )


# -- IOP-C4-04 ------------------------------------------------------------------------------------------
_CASES = (  # (name, pattern), tried in order; "single" fits both conventions
    ("single", re.compile(r"^[a-z][a-z0-9]*$")),
    ("camelCase", re.compile(r"^[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)+$")),
    ("snake_case", re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$")),
    ("UPPER_CASE", re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$")),
    ("PascalCase", re.compile(r"^[A-Z][a-zA-Z0-9]*$")),
    ("kebab-case", re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)+$")),
)
_CONVENTIONS = ("auto", "camelCase", "snake_case")


def _case_of(name: str) -> str:
    for kind, pattern in _CASES:
        if pattern.match(name):
            return kind
    return "mixed"


@check(
    id="openapi.property-case",
    mode="static",
    title="Property names follow one case convention",
    references=(_USE_JSON + " (camelCase or snake_case, used consistently)",),
    params={"convention": "auto", "ignore_prefixes": ["_", "$", "@"]},
)
def property_case(ctx: CheckContext, *, convention: str, ignore_prefixes: list[str]) -> Iterator[Finding]:
    """Every property name is in one convention: camelCase (``dateOfBirth``) or snake_case
    (``date_of_birth``); single lower-case words (``name``) fit both.

    ``convention`` is ``camelCase``, ``snake_case`` or ``auto``: the convention of most distinct
    multi-word names (camelCase on a tie; none when the document has neither, and then every name
    that is not camelCase, snake_case or a single word is reported). Names starting with one of
    ``ignore_prefixes`` (``_links``, ``$schema``, ``@odata.type``) are skipped. PascalCase, UPPER_CASE,
    kebab-case and mixed names are reported whatever the convention. One finding per distinct name, at
    its first occurrence. Inapplicable when the document names no properties."""
    if convention not in _CONVENTIONS:
        raise CantTell(
            f"parameter 'convention' must be one of {', '.join(_CONVENTIONS)} (got {convention!r})"
        )
    prefixes = tuple(p for p in ignore_prefixes if p)
    places: dict[str, list[Loc]] = {}
    for node in ctx.spec.index.property_nodes:
        name = node.name
        if name is None or (prefixes and name.startswith(prefixes)):
            continue
        places.setdefault(name, []).append(node.loc)
    if not places:
        raise Inapplicable("the document declares no named properties")
    kinds = {name: _case_of(name) for name in places}
    counts: dict[str, int] = {}
    for kind in kinds.values():
        counts[kind] = counts.get(kind, 0) + 1
    camel, snake = counts.get("camelCase", 0), counts.get("snake_case", 0)
    chosen: str | None = convention
    if convention == "auto":
        chosen = None if not (camel or snake) else "snake_case" if snake > camel else "camelCase"
    how = " (the majority)" if convention == "auto" and chosen else ""
    tally = ", ".join(f"{n} {k}" for k, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    ctx.note(f"Property names: convention {chosen or 'none found'}{how}; distinct names: {tally}.")
    expected = chosen or "camelCase or snake_case"
    for name, kind in kinds.items():
        if kind in ("single", chosen) or (chosen is None and kind in ("camelCase", "snake_case")):
            continue
        locs = places[name]
        more = f" (and {len(locs) - 1} other place(s))" if len(locs) > 1 else ""
        suggestion = (
            repr(_rename(name, chosen))
            if chosen
            else f"{_rename(name, 'camelCase')!r} or {_rename(name, 'snake_case')!r}"
        )
        yield finding(
            "Property name not in the chosen case",
            f"Property '{name}'{more} is {kind}; property names should be {expected}.",
            loc=locs[0],
            expected=expected,
            found=f"{name!r} ({kind})",
            fix=f"Rename it to {suggestion}, using one convention throughout (in a new major version if "
            "clients depend on the old name).",
        )


def _rename(name: str, convention: str) -> str:
    parts = words(name) or [name]
    if convention == "snake_case":
        return "_".join(parts)
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


# -- IOP-C4-05 ------------------------------------------------------------------------------------------
# Keywords that describe but do not constrain: additionalProperties with only these means "any value".
_ANNOTATIONS = frozenset(
    {
        "description",
        "title",
        "example",
        "examples",
        "default",
        "deprecated",
        "readOnly",
        "writeOnly",
        "$comment",
    }
)


@check(
    id="openapi.predictable-keys",
    mode="static",
    title="Response objects do not use data values as keys",
    references=(_USE_JSON + ' ("avoid unpredictable object keys")',),
)
def predictable_keys(ctx: CheckContext) -> Iterator[Finding]:
    """No schema reachable from a response body is a map keyed by data: ``additionalProperties`` given
    as a schema that constrains the values (``{}`` or a schema with only annotations such as
    ``description`` means the same as ``true``: a free-form object) or any ``patternProperties``.
    A map schema carrying ``x-interop-pol-justification`` is not reported. Inapplicable when no
    response has a schema."""
    index: SpecIndex = ctx.spec.index
    if not index.response_schema_roots:
        raise Inapplicable("no response has a schema")
    excused = 0
    in_responses = index.response_nodes
    for loc, node in index.schemas.items():
        schema = node.schema
        if not isinstance(schema, dict) or loc not in in_responses:
            continue
        extra = schema.get("additionalProperties")
        typed_map = isinstance(extra, Mapping) and any(
            k not in _ANNOTATIONS and not k.startswith("x-") for k in extra
        )
        patterned = isinstance(schema.get("patternProperties"), Mapping) and bool(schema["patternProperties"])
        if not (typed_map or patterned):
            continue
        if justified(ctx, schema):
            excused += 1
            continue
        keyword = "patternProperties" if patterned else "additionalProperties"
        yield finding(
            "Map keyed by data",
            f"The {_where(node)} is an object whose keys are data values ({keyword}); clients cannot know "
            "its property names in advance.",
            loc=loc,
            expected="fixed property names",
            found=f"{keyword}: {describe(schema.get(keyword), 60)}",
            fix='Return a list of objects instead, e.g. [{"key": "app", "value": "web"}], or give the '
            "reason in x-interop-pol-justification on this schema.",
        )
    if excused:
        ctx.note(f"{excused} map schema(s) carry a written justification.")


# -- IOP-C4-10 ------------------------------------------------------------------------------------------
# Patterns match the name in snake_case form (``createdAt`` -> ``created_at``), case-insensitively.
_DATE_NAME = (
    r"(^|_)(date|dates|datetime|time|timestamp|dob)(_|$)"
    r"|(^|_)(created|updated|modified|expires|expiry)$"
    r"|_(at|on|since|after|before|until)$"
)
_NOT_DATE_NAME = "|".join(
    (
        r"time_?zones?|timeouts?|runtimes?|datetime_?format|date_?format|time_?format",
        r"(^|_)times(_|$)",
        # a word after the date word that makes the name something else (a zone, a format, a unit, a token…)
        r"_(zone|tz|format|pattern|unit|units|type|kind|precision|granularity|resolution|offset|limit|token"
        r"|count|number|id|ids|seconds|secs|ms|millis|milliseconds|micros|nanos|minutes|mins|hours|days"
        r"|weeks|months|years)$",
        # durations, not points in time
        r"(^|_)(wait|queue|response|processing|elapsed|idle|hold|talk|ring|handle|lead|turnaround|cpu"
        r"|execution|travel|to_live)_time(_|$)|(^|_)time_to_live(_|$)",
    )
)


def _facets(index: SpecIndex, loc: Loc | None, depth: int = 0) -> tuple[str | None, str | None]:
    """``(type, format)`` of a schema through ``$ref``/``allOf``; when those say nothing, through the
    ``anyOf``/``oneOf`` branches if they agree (``type: null`` branches ignored)."""
    kind = index.schema_type(loc)
    fmt: str | None = None
    branches: list[Loc] = []
    queue = [loc]
    seen = 0
    while queue and seen < 32:
        node = index.deref(queue.pop(0))
        seen += 1
        if node is None:
            continue
        schema = node.mapping
        if fmt is None and isinstance(schema.get("format"), str):
            fmt = schema["format"]
        for key in ("allOf", "anyOf", "oneOf"):
            parts = schema.get(key)
            if isinstance(parts, list):
                (queue if key == "allOf" else branches).extend(
                    child(node.loc, key, i) for i in range(len(parts))
                )
    if kind is None and fmt is None and branches and depth < 4:
        agreed = {_facets(index, b, depth + 1) for b in branches[:8] if not _is_null(index, b)}
        if len(agreed) == 1:
            kind, fmt = next(iter(agreed))
    return kind, fmt


def _is_null(index: SpecIndex, loc: Loc) -> bool:
    node = index.deref(loc)
    return node is not None and node.mapping.get("type") == "null"


@check(
    id="openapi.dates.iso8601",
    mode="static",
    title="Dates and times are ISO 8601 (format date or date-time)",
    references=(_DATES, "RFC 3339 §5.6", "OpenAPI Specification: data type formats date, date-time"),
    params={
        "name_pattern": _DATE_NAME,
        "exclude_pattern": _NOT_DATE_NAME,
        "formats": ["date", "date-time", "time", "duration"],
    },
)
def dates_iso8601(
    ctx: CheckContext, *, name_pattern: str, exclude_pattern: str, formats: list[str]
) -> Iterator[Finding]:
    """Properties and query/path/cookie parameters named like a date or time are strings with a
    ``format`` in ``formats``; and no schema declares one of those formats on a non-string type.

    A name is date-like when its snake_case form (``createdAt`` -> ``created_at``) matches
    ``name_pattern`` and not ``exclude_pattern`` (both case-insensitive regular expressions). The type and
    format are read through ``$ref`` and ``allOf``. Date-like names whose schema is an object, an array or
    a boolean are not dates and are skipped; integers (epoch seconds) and numbers are reported, as are
    strings without one of the formats (free text, or e.g. ``date-time-rfc-2822``). Header parameters are
    skipped: HTTP defines their date format (RFC 9110 §5.6.7). Inapplicable when the document has no
    date-like property or parameter and no date format."""
    index: SpecIndex = ctx.spec.index
    is_date = param_pattern("name_pattern", name_pattern, re.IGNORECASE)
    not_date = param_pattern("exclude_pattern", exclude_pattern, re.IGNORECASE) if exclude_pattern else None
    allowed = set(formats)
    checked = 0
    flagged: set[Loc] = set()

    verdicts: dict[str, bool] = {}

    def date_like(name: str) -> bool:
        verdict = verdicts.get(name)
        if verdict is None:
            snake = snake_name(name)
            verdict = bool(is_date.search(snake)) and not (not_date is not None and not_date.search(snake))
            verdicts[name] = verdict
        return verdict

    def judge(loc: Loc, schema: Loc | None, label: str, op: Operation | None) -> Finding | None:
        nonlocal checked
        kind, fmt = _facets(index, schema)
        if kind in ("object", "array", "boolean") or (kind is None and index.properties(schema)):
            return None
        checked += 1
        if kind == "string" and fmt in allowed:
            return None
        flagged.add(loc)
        expected = f"type: string with format {' or '.join(formats)}"
        found = f"type: {kind or 'none'}" + (f", format: {fmt}" if fmt else ", no format")
        if kind in ("integer", "number"):
            title, why = (
                "Date or time as a number",
                "is a number (e.g. epoch seconds), not an ISO 8601 string",
            )
        elif kind == "string" and fmt:
            title, why = "Date or time in a non-ISO 8601 format", f"uses format '{fmt}', not ISO 8601"
        else:
            title, why = "Date or time without an ISO 8601 format", "does not declare an ISO 8601 format"
        return finding(
            title,
            f"The {label} looks like a date or time but {why}.",
            loc=loc,
            op=op,
            expected=expected,
            found=found,
            fix="Use type: string with format: date-time (RFC 3339, e.g. 2025-03-01T09:30:00Z) or "
            "format: date (e.g. 2025-03-01). If it is a duration, use format: duration or add a unit to "
            "its name (e.g. timeoutSeconds).",
        )

    for node in index.property_nodes:
        if node.name is not None and date_like(node.name):
            result = judge(node.loc, node.loc, _where(node), None)
            if result is not None:
                yield result
    seen_params: set[Loc] = set()
    for op in index.operations:
        for param in op.parameters:
            if param.location == "header" or param.loc in seen_params or not date_like(param.name):
                continue
            seen_params.add(param.loc)
            if param.schema is None:
                continue
            result = judge(param.loc, param.schema, f"{param.location} parameter '{param.name}'", op)
            if result is not None:
                yield result
    for loc, node in index.schemas.items():
        schema = node.schema
        if not isinstance(schema, dict):
            continue
        fmt = schema.get("format")
        if not isinstance(fmt, str) or fmt not in allowed or loc in flagged:
            continue
        checked += 1
        declared = schema.get("type")
        types = declared if isinstance(declared, list) else [declared] if isinstance(declared, str) else []
        if types and "string" not in types:
            yield finding(
                "Date format on a non-string",
                f"The {_where(node)} has format '{fmt}' but type {', '.join(map(str, types))}.",
                loc=loc,
                expected=f"type: string with format: {fmt}",
                found=f"type: {', '.join(map(str, types))}, format: {fmt}",
                fix="Make it type: string; ISO 8601 values are strings.",
            )
    if not checked:
        raise Inapplicable(
            "no property or parameter is named like a date or time, and no schema has a date format"
        )
    ctx.note(f"{checked} date/time schema(s) checked.")


# -- IOP-C4-14 ------------------------------------------------------------------------------------------
_LOCATION_DEFAULTS: dict[str, list[str]] = {
    "location_words": ["location", "address", "place", "geo", "geolocation", "position", "premises"],
    "ignore_words": [
        "ip",
        "email",
        "mail",
        "web",
        "url",
        "uri",
        "mac",
        "server",
        "endpoint",
        "node",
        "host",
        "network",
        "memory",
        "cidr",
    ],
    "latitude_names": ["latitude", "lat"],
    "longitude_names": ["longitude", "long", "lon", "lng"],
    "easting_names": ["easting", "eastings"],
    "northing_names": ["northing", "northings"],
    "geometry_names": ["geometry", "geojson", "geom"],
    "crs_names": [
        "crs",
        "srid",
        "srs",
        "epsg",
        "datum",
        "coordinatereferencesystem",
        "spatialreference",
        "spatialreferencesystem",
    ],
    "crs_markers": [
        "wgs 84",
        "wgs84",
        "wgs-84",
        "epsg:4326",
        "epsg 4326",
        "etrs89",
        "etrs 89",
        "epsg:4258",
        "epsg 4258",
        "geojson",
        "rfc 7946",
        "rfc7946",
    ],
}


def _norm(name: str) -> str:
    return "".join(words(name))


_GEOJSON_MARKERS = ("geojson", "rfc 7946", "rfc7946")


@check(
    id="openapi.location.crs",
    mode="static",
    title="Locations use GeoJSON or WGS 84/ETRS89 coordinates and state the CRS",
    references=(
        _LOCATION,
        "Open Standards Board: exchange of location point (ETRS89/WGS 84)",
        "RFC 7946 (GeoJSON)",
    ),
    params=_LOCATION_DEFAULTS,
)
def location_crs(
    ctx: CheckContext,
    *,
    location_words: list[str],
    ignore_words: list[str],
    latitude_names: list[str],
    longitude_names: list[str],
    easting_names: list[str],
    northing_names: list[str],
    geometry_names: list[str],
    crs_names: list[str],
    crs_markers: list[str],
) -> Iterator[Finding]:
    """Location data carries WGS 84/ETRS89 coordinates with a stated CRS, or GeoJSON.

    Location-like schemas are component schemas tagged ``x-pole-entity: Location``, object component
    schemas whose name has a word from ``location_words`` (and none from ``ignore_words``, e.g.
    *IpAddress*), and any schema with coordinate or geometry properties. Property names are compared by
    their words, case-insensitively. Rules, for each schema declaring coordinate properties itself
    (taking its ``allOf`` siblings into account):

    * eastings/northings (``easting_names``/``northing_names``) without latitude/longitude or GeoJSON
      are reported: OSGB36 is allowed in addition to WGS 84, not instead;
    * latitude and longitude (``latitude_names``/``longitude_names``) outside GeoJSON must state the CRS:
      a property named like ``crs_names``, or a description (of the schema, its owner or the coordinate
      properties) containing one of ``crs_markers`` (WGS 84, EPSG:4326, ETRS89, GeoJSON…);
    * GeoJSON — a ``coordinates`` array with a ``type``, a property named like ``geometry_names``, or a
      description mentioning GeoJSON/RFC 7946 — implies WGS 84 and passes.

    A schema tagged ``x-pole-entity: Location`` that reaches no coordinates or geometry at all is
    reported. Inapplicable when there is no location-like schema."""
    index: SpecIndex = ctx.spec.index
    wanted = {
        "lat": {_norm(n) for n in latitude_names},
        "lon": {_norm(n) for n in longitude_names},
        "east": {_norm(n) for n in easting_names},
        "north": {_norm(n) for n in northing_names},
        "geometry": {_norm(n) for n in geometry_names},
        "crs": {_norm(n) for n in crs_names},
    }
    markers = [m.lower() for m in crs_markers if m]
    loc_words = {w.lower() for w in location_words}
    skip_words = {w.lower() for w in ignore_words}
    role_cache: dict[str, frozenset[str]] = {}

    def roles(names: Collection[str]) -> set[str]:
        """What a set of property names provides: lat, lon, east, north, geometry, crs, geojson."""
        found: set[str] = set()
        for name in names:
            cached = role_cache.get(name)
            if cached is None:
                parts = {_norm(name), *words(name)}
                cached = role_cache[name] = frozenset(k for k, v in wanted.items() if parts & v)
            found |= cached
        if "coordinates" in names and "type" in names:
            found.add("geojson")
        return found

    def text_of(loc: Loc | None) -> str:
        parts: list[str] = []
        for holder in (index.schemas.get(loc) if loc else None, index.deref(loc)):
            for key in ("description", "title"):
                value = holder.mapping.get(key) if holder is not None else None
                if isinstance(value, str):
                    parts.append(value.lower())
        return " ".join(parts)

    # Schemas declaring coordinate or geometry properties themselves, found from the property names.
    owners: dict[Loc, list[str]] = {}
    for prop in index.property_nodes:
        if prop.parent is not None and prop.name is not None:
            owners.setdefault(prop.parent, []).append(prop.name)
    location_like: dict[Loc, str] = {}
    geo_nodes: list[Loc] = []
    for loc, names in owners.items():
        own = roles(names)
        own_ll, own_en = {"lat", "lon"} <= own, {"east", "north"} <= own
        if not (own_ll or own_en or own & {"geometry", "geojson"}):
            continue
        node = index.schemas[loc]
        geo_nodes.append(loc)
        location_like.setdefault(loc, _where(node))
        if not (own_ll or own_en):
            continue
        # Judge the whole object this node is (part of): allOf siblings may add GeoJSON or a CRS.
        owner = node.parent if node.keyword == "allOf" and node.parent else loc
        props = index.properties(owner)
        found = roles(props)
        context = text_of(loc) + " " + (text_of(owner) if owner != loc else "")
        geojson = bool(found & {"geometry", "geojson"}) or any(m in context for m in _GEOJSON_MARKERS)
        has_ll = {"lat", "lon"} <= found
        if not has_ll and not geojson:
            yield finding(
                "OSGB36 eastings/northings only",
                f"The {_where(node)} gives eastings/northings but no WGS 84/ETRS89 latitude/longitude "
                "or GeoJSON.",
                loc=loc,
                expected="latitude/longitude (WGS 84 or ETRS89) or a GeoJSON geometry; eastings/northings "
                "only in addition",
                found="eastings/northings only",
                fix="Add latitude and longitude in WGS 84 (EPSG:4326), or a GeoJSON geometry; keep "
                "eastings/northings as well if users need British National Grid.",
            )
        elif has_ll and not geojson:
            coordinate_text = " ".join(text_of(p) for n, p in props.items() if roles([n]) & {"lat", "lon"})
            stated = "crs" in found or any(m in context + " " + coordinate_text for m in markers)
            if not stated:
                yield finding(
                    "Coordinate reference system not stated",
                    f"The {_where(node)} has latitude/longitude but does not say which CRS they are in.",
                    loc=loc,
                    expected="a crs property, or a description naming WGS 84 (EPSG:4326) or ETRS89 "
                    "(EPSG:4258)",
                    found="latitude/longitude without a CRS",
                    fix="Say in the description that coordinates are WGS 84 (EPSG:4326) decimal degrees, "
                    "add a 'crs' property, or use a GeoJSON Point (RFC 7946).",
                )
    tagged: list[tuple[str, Loc]] = []
    for name, loc in index.component_schemas.items():
        target = index.deref(loc)
        if target is None:
            continue
        if target.mapping.get(POLE_EXTENSION) == "Location":
            tagged.append((name, target.loc))
            location_like.setdefault(target.loc, f"schema {name}")
            continue
        name_words = set(words(name))
        if (
            name_words & loc_words
            and not name_words & skip_words
            and (index.schema_type(loc) == "object" or bool(index.properties(loc)))
        ):
            location_like.setdefault(target.loc, f"schema {name}")
    if not location_like:
        raise Inapplicable(
            "no location-like schema (tagged Location, named like a location, or with coordinates)"
        )
    with_geometry = index.reaching(geo_nodes) if tagged and geo_nodes else set()
    for name, loc in tagged:
        if loc not in with_geometry:
            yield finding(
                "Location without coordinates",
                f"Schema {name} is tagged x-pole-entity: Location but has no latitude/longitude or "
                "GeoJSON geometry.",
                loc=loc,
                expected="a GeoJSON geometry or WGS 84/ETRS89 latitude/longitude",
                found="no coordinates",
                fix="Add a GeoJSON Point (RFC 7946), or latitude/longitude in WGS 84 (EPSG:4326), to the "
                "location.",
            )
    shown = sorted(set(location_like.values()))
    more = " …" if len(shown) > 10 else ""
    ctx.note(f"Location-like schemas ({len(shown)}): {', '.join(shown[:10])}{more}.")
