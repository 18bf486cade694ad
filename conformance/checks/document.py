"""C1 — publish full, machine-readable details of import and export interfaces (static checks)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..outcome import Finding
from ..registry import CheckContext, check
from ..spec.model import WRITE_METHODS, Loc, child
from ._common import DEFAULT_POLE_VOCABULARY, DEFAULT_WRAPPER_WORDS, finding, pole_entities

_GDS_DOCS = 'GOV.UK API technical and data standards, "Document your API"'
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$"
)
_SCALAR_TYPES = {"string", "number", "integer", "boolean"}
_TYPE_MARKERS = ("type", "$ref", "allOf", "anyOf", "oneOf", "not", "enum", "const")


@check(
    id="openapi.document.valid",
    mode="static",
    title="The document is a valid OpenAPI 3.0/3.1 description",
    references=(
        _GDS_DOCS,
        "CDDO api-standards-linting rule 'oas3-minimum'",
        "OpenAPI Specification 3.0.3 / 3.1.1",
    ),
)
def document_valid(ctx: CheckContext) -> Iterator[Finding]:
    """The document declares OpenAPI 3.0.x or 3.1.x, validates against the official OpenAPI schema,
    resolves without remote references, and every path template variable is declared."""
    titles = {
        "version": "Not OpenAPI 3",
        "schema": "Invalid against the OpenAPI schema",
        "semantic": "Inconsistent document",
        "remote-ref": "Remote reference not resolved",
    }
    fixes = {
        "version": "Convert the document to OpenAPI 3.1 (e.g. with swagger2openapi) and publish that.",
        "schema": "Correct the document so that it validates (e.g. run `conformance run` or an OpenAPI validator locally).",
        "semantic": "Declare every {variable} of the path as a parameter with `in: path` and `required: true`.",
        "remote-ref": "Bundle the referenced definitions into the published document so it is self-contained.",
    }
    for issue in ctx.spec.issues:
        yield finding(
            titles.get(issue.kind, "Document problem"),
            issue.message,
            loc=issue.loc,
            expected=issue.expected,
            found=issue.found,
            fix=fixes.get(issue.kind),
        )


@check(
    id="openapi.import-export",
    mode="static",
    title="The API offers both export (read) and import (write) of POLE data",
    references=('techUK InterOp-Pol tiers, Silver: "details for import and export of data"',),
    params={"pole_vocabulary": DEFAULT_POLE_VOCABULARY, "wrapper_words": DEFAULT_WRAPPER_WORDS},
)
def import_export(
    ctx: CheckContext, *, pole_vocabulary: dict[str, list[str]], wrapper_words: list[str]
) -> Iterator[Finding]:
    """At least one GET operation returns POLE data and at least one POST/PUT/PATCH operation accepts it.

    A schema holds POLE data when it is tagged ``x-pole-entity`` or, failing that, when its name uses the
    POLE vocabulary (``pole_vocabulary``; names with ``wrapper_words`` such as *List* are skipped)."""
    index = ctx.spec.index
    pole = pole_entities(ctx, pole_vocabulary, wrapper_words)
    if not pole:
        yield finding(
            "No POLE data described",
            "No component schema is tagged x-pole-entity or named like Person/Object/Location/Event data.",
            loc="#/components" if ctx.spec.version.is_oas3 else "#/definitions",
            expected="schemas for the POLE entities the product holds",
            found="none",
            fix="Describe the POLE entities as component schemas and tag them with x-pole-entity.",
        )
        return
    reaching = index.reaching(p.loc for p in pole)
    readers = [
        op
        for op in index.operations
        if op.method == "get"
        and any(m.schema in reaching for r in op.responses if r.status_class == "2" for m in r.content)
    ]
    writers = [
        op
        for op in index.operations
        if op.method in WRITE_METHODS
        and op.request_body is not None
        and any(m.schema in reaching for m in op.request_body.content)
    ]
    names = ", ".join(sorted(p.name for p in pole)[:8])
    if not readers:
        yield finding(
            "No export of POLE data",
            f"No GET operation returns POLE data (POLE schemas: {names}).",
            loc="#/paths",
            expected="a GET operation whose 2xx response uses a POLE schema",
            found="none",
            fix="Document the read/list operations that return each POLE entity.",
        )
    if not writers:
        yield finding(
            "No import of POLE data",
            f"No POST/PUT/PATCH operation accepts POLE data (POLE schemas: {names}).",
            loc="#/paths",
            expected="a POST/PUT/PATCH operation whose request body uses a POLE schema",
            found="none",
            fix="Document the create/update operations that accept each POLE entity.",
        )


@check(
    id="openapi.operation-id",
    mode="static",
    title="Every operation has a unique operationId",
    references=("CDDO api-standards-linting rule 'operation-id'", "OpenAPI Specification §4.8.10"),
)
def operation_ids(ctx: CheckContext) -> Iterator[Finding]:
    """Every operation has an ``operationId`` and no two operations share one."""
    first_seen: dict[str, Any] = {}
    for op in ctx.spec.index.operations:
        if op.operation_id is None:
            yield finding(
                "Missing operationId",
                f"{op.label} has no operationId.",
                loc=op.loc,
                op=op,
                expected="a unique operationId",
                found="none",
                fix="Add an operationId such as 'listPersons' (verbNoun, unique across the document).",
            )
        elif op.operation_id in first_seen:
            other = first_seen[op.operation_id]
            yield finding(
                "Duplicate operationId",
                f"operationId '{op.operation_id}' is used by {other.label} and {op.label}.",
                loc=child(op.loc, "operationId"),
                op=op,
                expected="each operationId used once",
                found=f"also on {other.label}",
                fix="Rename one of the operations.",
            )
        else:
            first_seen[op.operation_id] = op


@check(
    id="openapi.descriptions",
    mode="static",
    title="The API and every operation are described",
    references=(
        "CDDO api-standards-linting rule 'description'",
        "Spectral rule 'operation-description'",
        _GDS_DOCS,
    ),
)
def descriptions(ctx: CheckContext) -> Iterator[Finding]:
    """``info.description`` is present, and every operation has a ``summary`` or ``description``."""
    info = ctx.spec.data.get("info")
    text = info.get("description") if isinstance(info, dict) else None
    if not (isinstance(text, str) and text.strip()):
        yield finding(
            "API not described",
            "info.description is missing or empty.",
            loc="#/info",
            expected="a description of what the API is for",
            found="none",
            fix="Add info.description: purpose, audience, and links to the human documentation.",
        )
    for op in ctx.spec.index.operations:
        if op.summary is None and op.description is None:
            yield finding(
                "Operation not described",
                f"{op.label} has neither a summary nor a description.",
                loc=op.loc,
                op=op,
                expected="summary or description",
                found="neither",
                fix="Add a one-line summary (and a description for anything non-obvious).",
            )


@check(
    id="openapi.success-response-schema",
    mode="static",
    title="Every operation documents a 2xx response with a schema",
    references=(_GDS_DOCS + ' ("full details of request and response parameters")',),
    params={"no_body_statuses": ["204", "205"], "no_body_methods": ["head"]},
)
def success_response_schema(
    ctx: CheckContext, *, no_body_statuses: list[str], no_body_methods: list[str]
) -> Iterator[Finding]:
    """Each operation defines at least one 2xx response, and one of them has content with a schema
    (responses listed in ``no_body_statuses``, and methods in ``no_body_methods``, need no body)."""
    for op in ctx.spec.index.operations:
        successes = [r for r in op.responses if r.status_class == "2"]
        if not successes:
            yield finding(
                "No success response",
                f"{op.label} documents no 2xx response.",
                loc=child(op.loc, "responses"),
                op=op,
                expected="at least one 2xx response",
                found=", ".join(r.status for r in op.responses) or "no responses",
                fix="Document the success response (status, media type and schema).",
            )
            continue
        if op.method in no_body_methods:
            continue
        if any(r.status in no_body_statuses for r in successes):
            continue
        if any(m.schema is not None for r in successes for m in r.content):
            continue
        response = successes[0]
        yield finding(
            "Success response without a schema",
            f"{op.label} {response.status} has no content schema.",
            loc=response.loc,
            op=op,
            expected="content with a schema (or a 204 response)",
            found="no content" if not response.content else "content without a schema",
            fix="Describe the response body with a schema, or use 204 if there is no body.",
        )


def _is_typed(index: Any, loc: Loc | None, depth: int = 0) -> bool:
    node = index.deref(loc)
    if node is None or depth > 16:
        return False
    schema = node.mapping
    if "type" in schema:
        return True
    for key in ("allOf", "oneOf", "anyOf"):
        parts = schema.get(key)
        if (
            isinstance(parts, list)
            and parts
            and all(_is_typed(index, child(node.loc, key, i), depth + 1) for i in range(len(parts)))
        ):
            return True
    return False


@check(
    id="openapi.typed-inputs",
    mode="static",
    title="Every parameter and request body has a typed schema",
    references=(_GDS_DOCS + " (data types and constraints of every parameter)",),
    params={"include_responses": False},
)
def typed_inputs(ctx: CheckContext, *, include_responses: bool) -> Iterator[Finding]:
    """Parameters and request bodies declare a schema with ``type`` (directly, through ``$ref``, or
    through typed ``allOf``/``oneOf``/``anyOf`` parts), and no schema inside them is untyped ``{}``."""
    index = ctx.spec.index
    roots: list[Loc] = []
    for op in index.operations:
        for param in op.parameters:
            if param.schema is None:
                yield finding(
                    "Parameter without a schema",
                    f"{op.label}: parameter '{param.name}' ({param.location}) has no schema.",
                    loc=param.loc,
                    op=op,
                    expected="a schema with a type",
                    found="none",
                    fix="Add `schema: {type: ...}` to the parameter.",
                )
            elif not _is_typed(index, param.schema):
                yield finding(
                    "Untyped parameter",
                    f"{op.label}: parameter '{param.name}' ({param.location}) has a schema without a type.",
                    loc=param.schema,
                    op=op,
                    expected="type: string/integer/number/boolean/array/object",
                    found="no type",
                    fix="Declare the parameter's type (and format, if it has one).",
                )
            else:
                roots.append(param.schema)
        if op.request_body is not None:
            for media in op.request_body.content:
                if media.schema is None:
                    if (
                        media.media_type.startswith("application/x-www-form-urlencoded")
                        and not ctx.spec.version.is_oas3
                    ):
                        continue  # Swagger 2.0 formData parameters carry the types
                    yield finding(
                        "Request body without a schema",
                        f"{op.label}: request body '{media.media_type}' has no schema.",
                        loc=media.loc,
                        op=op,
                        expected="a schema with a type",
                        found="none",
                        fix="Describe the request body with a schema.",
                    )
                elif not _is_typed(index, media.schema):
                    yield finding(
                        "Untyped request body",
                        f"{op.label}: request body '{media.media_type}' schema has no type.",
                        loc=media.schema,
                        op=op,
                        expected="type: object (or another declared type)",
                        found="no type",
                        fix="Declare the body's type.",
                    )
                else:
                    roots.append(media.schema)
    if include_responses:
        roots.extend(index.response_schema_roots)
    for loc in sorted(index.reachable(roots)):
        node = index.schemas.get(loc)
        if node is None:
            continue
        schema = node.schema
        untyped = schema is True or (
            isinstance(schema, dict)
            and not any(k in schema for k in _TYPE_MARKERS)
            and not any(k in schema for k in ("properties", "items", "additionalProperties", "prefixItems"))
        )
        if untyped:
            label = f"property '{node.name}'" if node.name else f"'{node.keyword or 'schema'}' schema"
            yield finding(
                "Untyped schema",
                f"The {label} accepts any value: it has no type.",
                loc=loc,
                expected="a type (and format/constraints)",
                found="{}" if schema is True or not schema else ", ".join(sorted(schema)),
                fix="Give the schema a type; if any JSON value is really allowed, say so in its description.",
            )


def _leaf(index: Any, loc: Loc) -> bool:
    node = index.deref(loc)
    if node is None:
        return False
    kind = index.schema_type(node.loc)
    return kind in _SCALAR_TYPES or (kind is None and "enum" in node.mapping)


def _has_example(index: Any, loc: Loc, parent: Loc | None, name: str | None) -> bool:
    for candidate in (index.schemas.get(loc), index.deref(loc)):
        if candidate is not None and ("example" in candidate.mapping or "examples" in candidate.mapping):
            return True
    # An example on the enclosing object that shows this property counts as well.
    if parent is not None and name is not None:
        owner = index.schemas.get(parent)
        example = owner.mapping.get("example") if owner is not None else None
        if isinstance(example, dict) and name in example:
            return True
    return False


def _has_description(index: Any, loc: Loc) -> bool:
    for candidate in (index.schemas.get(loc), index.deref(loc)):
        if candidate is not None:
            text = candidate.mapping.get("description") or candidate.mapping.get("title")
            if isinstance(text, str) and text.strip():
                return True
    return False


@check(
    id="openapi.property-docs",
    mode="static",
    title="Properties are described and leaf properties have examples",
    references=(
        _GDS_DOCS + ' ("give examples of valid values")',
        "GOV.UK guidance: Writing API reference documentation",
    ),
    params={"require_descriptions": True, "example_coverage_min": 80},
)
def property_docs(
    ctx: CheckContext, *, require_descriptions: bool, example_coverage_min: int
) -> Iterator[Finding]:
    """Every property has a ``description`` (or ``title``), and at least ``example_coverage_min`` percent of
    leaf (scalar) properties have an ``example``/``examples`` (on the property, or in the example of the
    object that holds it)."""
    index = ctx.spec.index
    leaves = covered = 0
    for node in index.property_nodes:
        if require_descriptions and not _has_description(index, node.loc):
            yield finding(
                "Property not described",
                f"Property '{node.name}' has no description.",
                loc=node.loc,
                expected="a description saying what the value means",
                found="none",
                fix="Add a description (meaning, units, allowed values).",
            )
        if _leaf(index, node.loc):
            leaves += 1
            if _has_example(index, node.loc, node.parent, node.name):
                covered += 1
    if leaves:
        percent = covered * 100 // leaves
        ctx.note(f"{covered} of {leaves} leaf properties have examples ({percent}%).")
        if percent < example_coverage_min:
            yield finding(
                "Too few examples",
                f"Only {covered} of {leaves} leaf properties ({percent}%) have an example.",
                loc="#/components" if ctx.spec.version.is_oas3 else "#/definitions",
                expected=f"at least {example_coverage_min}% of leaf properties with examples",
                found=f"{percent}%",
                fix="Add `example:` values to scalar properties (or an example object to each schema).",
            )


@check(
    id="openapi.info.contact",
    mode="static",
    title="A contact (email or URL) is published",
    references=("CDDO api-standards-linting rule 'contact'", "CDDO federated API model: required 'contact'"),
)
def info_contact(ctx: CheckContext) -> Iterator[Finding]:
    """``info.contact`` has an ``email`` or a ``url``."""
    info = ctx.spec.data.get("info")
    contact = info.get("contact") if isinstance(info, dict) else None
    if not isinstance(contact, dict):
        yield finding(
            "No contact",
            "info.contact is missing.",
            loc="#/info",
            expected="info.contact with an email or url",
            found="none",
            fix="Add info.contact with the integration team's email address or support URL.",
        )
        return
    if not any(isinstance(contact.get(k), str) and contact[k].strip() for k in ("email", "url")):
        yield finding(
            "Contact without email or URL",
            "info.contact gives neither an email nor a url.",
            loc="#/info/contact",
            expected="email or url",
            found=", ".join(sorted(contact)) or "empty",
            fix="Add contact.email or contact.url.",
        )


@check(
    id="openapi.info.semver",
    mode="static",
    title="The API version is a semantic version",
    references=("CDDO api-standards-linting rule 'semver'", "Semantic Versioning 2.0.0"),
    params={"allow_prerelease": True},
)
def info_semver(ctx: CheckContext, *, allow_prerelease: bool) -> Iterator[Finding]:
    """``info.version`` is MAJOR.MINOR.PATCH (pre-release and build suffixes allowed unless
    ``allow_prerelease`` is false)."""
    info = ctx.spec.data.get("info")
    version = info.get("version") if isinstance(info, dict) else None
    text = str(version) if version is not None else ""
    match = _SEMVER.match(text)
    ok = match is not None and (allow_prerelease or (match.group(4) is None and match.group(5) is None))
    if not ok:
        yield finding(
            "Version is not semver",
            f"info.version is {text!r}.",
            loc="#/info/version" if version is not None else "#/info",
            expected="MAJOR.MINOR.PATCH, e.g. 1.4.0",
            found=text or "none",
            fix="Version the API with semantic versioning and bump MAJOR for breaking changes.",
        )
