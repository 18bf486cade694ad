"""C4/C5 — responses: 406 and 415 declared, error responses documented with a schema, Problem Details
(RFC 9457) error bodies, and 429 declared for rate limiting (static checks).

Sources: CDDO api-standards-linting rules ``not-acceptable`` and ``unsupported-media-type``; GOV.UK API
technical and data standards, "Document your API" and "Test your API's performance and scalability"
(https://www.gov.uk/guidance/gds-api-technical-and-data-standards); RFC 9457 (Problem Details);
RFC 6585 §4 (429 Too Many Requests).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from ..outcome import Finding
from ..registry import CheckContext, Inapplicable, check
from ..spec import SpecIndex
from ..spec.model import Loc, Operation, Response, child
from ._common import finding, labels, media_base

_DOCUMENT = 'GOV.UK API technical and data standards, "Document your API"'
_ERROR_CLASSES = ("4", "5", "default")


def _declares(op: Operation, status: str, *, accept_range: bool) -> bool:
    """The operation documents ``status`` explicitly (or its ``4XX`` range, when ``accept_range``)."""
    statuses = {r.status.upper() for r in op.responses}
    return status in statuses or (accept_range and f"{status[0]}XX" in statuses)


@dataclass(slots=True)
class _Uses:
    """One error response definition and where it is used."""

    response: Response
    ops: list[Operation] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)

    @property
    def subject(self) -> str:
        """``GET /persons 404``, or ``The 400/404 response shared by GET /a, GET /b and 3 more``."""
        if len(self.ops) == 1:
            return f"{self.ops[0].label} {self.statuses[0]}"
        return f"The {'/'.join(self.statuses)} response shared by {labels(self.ops)}"


def _error_responses(index: SpecIndex, skip_methods: set[str]) -> dict[Loc, _Uses]:
    """4xx/5xx/default responses by location, with the operations and statuses using each, in document
    order. A component response referenced by many operations (or statuses) is one entry."""
    found: dict[Loc, _Uses] = {}
    for op in index.operations:
        if op.method in skip_methods:
            continue
        for response in op.responses:
            if response.status_class in _ERROR_CLASSES:
                uses = found.get(response.loc) or found.setdefault(response.loc, _Uses(response))
                if op not in uses.ops:
                    uses.ops.append(op)
                if response.status not in uses.statuses:
                    uses.statuses.append(response.status)
    return found


# -- IOP-C4-15 ------------------------------------------------------------------------------------------
@check(
    id="openapi.responses.406-415",
    mode="static",
    title="Operations declare 406 (responses with bodies) and 415 (request bodies)",
    references=(
        "CDDO api-standards-linting rules 'not-acceptable' and 'unsupported-media-type'",
        "RFC 9110 §15.5.7 (406) and §15.5.16 (415)",
    ),
    params={"accept_range": False},
)
def responses_406_415(ctx: CheckContext, *, accept_range: bool) -> Iterator[Finding]:
    """An operation whose 2xx responses have a body declares a ``406`` response, and an operation with
    a request body declares a ``415`` response. A ``default`` response does not count; a ``4XX`` range
    counts only when ``accept_range`` is true. Inapplicable when no operation has a request body or a
    2xx response body."""
    applicable = False
    for op in ctx.spec.index.operations:
        returns_body = any(r.content for r in op.responses if r.status_class == "2")
        takes_body = op.request_body is not None
        applicable = applicable or returns_body or takes_body
        declared = ", ".join(r.status for r in op.responses) or "none"
        if returns_body and not _declares(op, "406", accept_range=accept_range):
            yield finding(
                "406 not declared",
                f"{op.label} returns a body but does not document 406 Not Acceptable.",
                loc=child(op.loc, "responses"),
                op=op,
                expected="a 406 response (the server cannot produce a type the client accepts)",
                found=f"responses: {declared}",
                fix="Add a 406 response, and return it when the Accept header excludes every type offered.",
            )
        if takes_body and not _declares(op, "415", accept_range=accept_range):
            yield finding(
                "415 not declared",
                f"{op.label} takes a request body but does not document 415 Unsupported Media Type.",
                loc=child(op.loc, "responses"),
                op=op,
                expected="a 415 response (the request body's media type is not supported)",
                found=f"responses: {declared}",
                fix="Add a 415 response, and return it when Content-Type is not one the operation consumes.",
            )
    if not applicable:
        raise Inapplicable("no operation has a request body or a 2xx response body")


# -- IOP-C4-17 ------------------------------------------------------------------------------------------
@check(
    id="openapi.responses.errors-documented",
    mode="static",
    title="Every operation documents its error responses with a schema",
    references=(_DOCUMENT + ' ("error scenarios … error codes and messages")',),
    params={"skip_methods": ["head"]},
)
def errors_documented(ctx: CheckContext, *, skip_methods: list[str]) -> Iterator[Finding]:
    """Each operation (except methods in ``skip_methods``: HEAD responses have no body) declares at
    least one 4xx response (``4XX`` and ``default`` count), and every declared 4xx, 5xx and
    ``default`` response has content with a schema (Swagger 2.0: a ``schema``). A component response
    shared by many operations is reported once. Inapplicable when there are no such operations."""
    index: SpecIndex = ctx.spec.index
    skip = {m.lower() for m in skip_methods}
    ops = [op for op in index.operations if op.method not in skip]
    if not ops:
        raise Inapplicable("the document has no operations (other than " + ", ".join(sorted(skip)) + ")")
    for op in ops:
        if not any(r.status_class in ("4", "default") for r in op.responses):
            yield finding(
                "No error responses",
                f"{op.label} documents no 4xx (or default) response.",
                loc=child(op.loc, "responses"),
                op=op,
                expected="the 4xx responses clients must handle (e.g. 400, 401, 403, 404), each with "
                "a schema",
                found=f"responses: {', '.join(r.status for r in op.responses) or 'none'}",
                fix="Document each error the operation can return, with a schema for its body "
                "(application/problem+json is a good default).",
            )
    for uses in _error_responses(index, skip).values():
        response = uses.response
        if any(m.schema is not None for m in response.content):
            continue
        yield finding(
            "Error response without a schema",
            f"{uses.subject} does not describe its body.",
            loc=response.loc,
            op=uses.ops[0],
            expected="content with a schema for the error body",
            found="no content" if not response.content else "content without a schema",
            fix="Describe the error body with a schema (e.g. a shared Problem schema under "
            "components/responses), so clients can read the error code and message.",
        )


# -- IOP-C4-18a ------------------------------------------------------------------------------------------
@check(
    id="openapi.responses.problem-json",
    mode="static",
    title="Error responses use application/problem+json (RFC 9457)",
    references=("RFC 9457 Problem Details for HTTP APIs, §3 and §3.1",),
    params={
        "media_type": "application/problem+json",
        "members": ["type", "title", "status"],
        "skip_methods": ["head"],
    },
)
def problem_json(
    ctx: CheckContext, *, media_type: str, members: list[str], skip_methods: list[str]
) -> Iterator[Finding]:
    """Every declared 4xx, 5xx and ``default`` response (of operations not in ``skip_methods``) offers
    ``media_type`` (``application/problem+json``; the XML form is not enough), and its schema has the
    properties in ``members`` (``type``, ``title``, ``status``), looking through ``$ref`` and ``allOf``.
    A component response shared by many operations is reported once. Inapplicable when no error
    response is declared."""
    index: SpecIndex = ctx.spec.index
    errors = _error_responses(index, {m.lower() for m in skip_methods})
    if not errors:
        raise Inapplicable("no 4xx, 5xx or default response is declared")
    wanted = media_base(media_type)
    for uses in errors.values():
        response, label = uses.response, uses.subject
        problem = [m for m in response.content if media_base(m.media_type) == wanted]
        if not problem:
            offered = ", ".join(m.media_type for m in response.content) or "no content"
            yield finding(
                "Error response not problem+json",
                f"{label} is not offered as {wanted}.",
                loc=response.loc,
                op=uses.ops[0],
                expected=wanted,
                found=offered,
                fix=f"Offer {wanted} (RFC 9457) for error bodies, with type, title, status and detail.",
            )
            continue
        props = index.properties(problem[0].schema)
        missing = [name for name in members if name not in props]
        if missing:
            yield finding(
                "Problem details incomplete",
                f"{label}: the {wanted} schema lacks {', '.join(missing)}.",
                loc=problem[0].schema or problem[0].loc,
                op=uses.ops[0],
                expected=f"properties {', '.join(members)}",
                found=f"properties {', '.join(props) or 'none'}",
                fix="Use the RFC 9457 members: type (a URI), title, status (the HTTP status) and detail.",
            )


# -- IOP-C5-05 ------------------------------------------------------------------------------------------
@check(
    id="openapi.responses.429",
    mode="static",
    title="Rate limiting is documented (429 responses declared)",
    references=(
        'GOV.UK API technical and data standards, "Test your API\'s performance and scalability"',
        "RFC 6585 §4 (429 Too Many Requests)",
    ),
    params={"accept_range": False},
)
def responses_429(ctx: CheckContext, *, accept_range: bool) -> Iterator[Finding]:
    """Every operation declares a ``429`` response (a ``4XX`` range counts only when ``accept_range``
    is true; ``default`` never does). One finding per operation. Inapplicable when the document has no
    operations."""
    ops = ctx.spec.index.operations
    if not ops:
        raise Inapplicable("the document has no operations")
    for op in ops:
        if _declares(op, "429", accept_range=accept_range):
            continue
        yield finding(
            "No 429 response",
            f"{op.label} does not document 429 Too Many Requests.",
            loc=child(op.loc, "responses"),
            op=op,
            expected="a 429 response (with a Retry-After header)",
            found=f"responses: {', '.join(r.status for r in op.responses) or 'none'}",
            fix="Declare 429 with a Retry-After header, and document the quota in the API description.",
        )
