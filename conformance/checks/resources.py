"""C4 — resources: kebab-case noun paths, shallow nesting, no GET bodies, no identity or behaviour in
query strings, no ``X-`` headers (static checks).

Sources: GOV.UK API technical and data standards, "When naming and hosting your API", "When using
sub-resources" and "When using query arguments"
(https://www.gov.uk/guidance/gds-api-technical-and-data-standards);
CDDO api-standards-linting rules ``paths-kebab-case``, ``no-x-headers`` and ``no-x-response-headers``;
RFC 9110 §9.3.1 (GET) and RFC 6648 (deprecating the ``X-`` prefix).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from ..outcome import Finding
from ..registry import CheckContext, Inapplicable, check
from ..spec import SpecIndex
from ..spec.model import Header, Loc, Operation, child
from ._common import finding, justified, labels, param_pattern, words

_NAMING = 'GOV.UK API technical and data standards, "When naming and hosting your API"'
_QUERY = 'GOV.UK API technical and data standards, "When using query arguments"'
_TEMPLATE = re.compile(r"\{[^{}]*\}")
_PARAM_SEGMENT = re.compile(r"^\{[^{}]+\}$")
# fmt: off
_VERBS = [
    "get", "create", "update", "delete", "remove", "add", "do", "make", "fetch", "list", "set", "run",
    "execute", "process", "save", "send", "retrieve", "modify",
]
# fmt: on
# Second words that turn a verb into a noun: add-ons, set-ups, log-ins, run-offs.
_PARTICLES = ["on", "ons", "in", "ins", "up", "ups", "out", "outs", "off", "offs"]


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def _is_param(segment: str) -> bool:
    """A segment holding a path template variable (``{id}``, ``{sid}.json``)."""
    return "{" in segment and bool(_TEMPLATE.search(segment))


def _path_loc(path: str) -> Loc:
    return child("#/paths", path)


# -- IOP-C4-06 ------------------------------------------------------------------------------------------
@check(
    id="openapi.paths.kebab-nouns",
    mode="static",
    title="Paths are kebab-case nouns",
    references=("CDDO api-standards-linting rule 'paths-kebab-case'", _NAMING),
    params={
        "segment_pattern": r"^[a-z0-9][a-z0-9.-]*$",
        "allowed_segments": [".well-known"],
        "verbs": _VERBS,
        "noun_particles": _PARTICLES,
    },
)
def paths_kebab_nouns(
    ctx: CheckContext,
    *,
    segment_pattern: str,
    allowed_segments: list[str],
    verbs: list[str],
    noun_particles: list[str],
) -> Iterator[Finding]:
    """Every literal path segment matches ``segment_pattern`` (lower-case kebab-case; dots allowed, so
    ``v1.2`` and ``.json`` suffixes pass) or is in ``allowed_segments``; template variables (``{id}``)
    are not judged, and the literal part of a mixed segment (``{id}.json``) is. Separately, a segment
    whose first word is in ``verbs`` (``getPerson``, ``create-case``, ``update``) is reported, unless its
    second word is in ``noun_particles`` (``add-ons``, ``set-up``): resources are nouns and the HTTP
    method is the verb. One finding of each kind per path, listing its segments.
    Inapplicable when the document has no paths."""
    index: SpecIndex = ctx.spec.index
    if not index.paths:
        raise Inapplicable("the document has no operations")
    pattern = param_pattern("segment_pattern", segment_pattern)
    allowed = set(allowed_segments)
    verb_set = {v.lower() for v in verbs}
    particles = {p.lower() for p in noun_particles}
    for path in index.paths:
        bad: list[str] = []
        verbal: list[str] = []
        for segment in _segments(path):
            if _PARAM_SEGMENT.match(segment) or segment in allowed:
                continue
            literal = _TEMPLATE.sub("x", segment)
            if not pattern.match(literal):
                bad.append(segment)
            parts = words(_TEMPLATE.sub("", segment))
            if parts and parts[0] in verb_set and not (len(parts) > 1 and parts[1] in particles):
                verbal.append(segment)
        if bad:
            yield finding(
                "Path segment not kebab-case",
                f"Path {path} has segment(s) that are not lower-case kebab-case: {', '.join(bad)}.",
                loc=_path_loc(path),
                expected=f"segments matching {segment_pattern} or {{parameter}}",
                found=", ".join(bad),
                fix="Use lower-case words joined by hyphens, e.g. /stop-searches/{stopSearchId} (in a new "
                "major version if clients use the old path).",
            )
        if verbal:
            yield finding(
                "Verb in path",
                f"Path {path} names an action rather than a resource: {', '.join(verbal)}.",
                loc=_path_loc(path),
                expected="noun segments; the HTTP method says what is done",
                found=", ".join(verbal),
                fix="Name the resource and let the method act on it: POST /persons rather than "
                "/create-person, DELETE /persons/{id} rather than /persons/{id}/delete.",
            )


# -- IOP-C4-07 ------------------------------------------------------------------------------------------
@check(
    id="openapi.paths.nesting",
    mode="static",
    title="Resources are nested no more than three levels deep",
    references=('GOV.UK API technical and data standards, "When using sub-resources"',),
    params={
        "max_depth": 3,
        "ignore_pattern": r"^(v[0-9]+([a-z]+[0-9]*)?(\.[0-9]+)*|[0-9]{4}-[0-9]{2}-[0-9]{2})$",
        "ignore_leading": ["api"],
    },
)
def paths_nesting(
    ctx: CheckContext, *, max_depth: int, ignore_pattern: str, ignore_leading: list[str]
) -> Iterator[Finding]:
    """Each path has at most ``max_depth`` literal (resource) segments: ``/a/{id}/b/{id}/c`` is three.
    Segments holding a template variable are not counted, nor version segments matching
    ``ignore_pattern`` (``v1``, ``v2beta1``, ``2010-04-01``), nor a first segment in ``ignore_leading``
    (``/api``). One finding per path. Inapplicable when the document has no paths."""
    index: SpecIndex = ctx.spec.index
    if not index.paths:
        raise Inapplicable("the document has no operations")
    version = param_pattern("ignore_pattern", ignore_pattern)
    leading = set(ignore_leading)
    for path in index.paths:
        segments = _segments(path)
        if segments and segments[0] in leading:
            segments = segments[1:]
        levels = [s for s in segments if not _is_param(s) and not version.match(s)]
        if len(levels) > max_depth:
            yield finding(
                "Resource nested too deeply",
                f"Path {path} nests {len(levels)} resource levels ({' / '.join(levels)}).",
                loc=_path_loc(path),
                expected=f"at most {max_depth} levels, e.g. /a/{{id}}/b/{{id}}/c",
                found=f"{len(levels)} levels",
                fix="Give deep sub-resources their own top-level collection with filters, e.g. "
                "/charges?caseId=… instead of "
                "/cases/{caseId}/defendants/{defendantId}/offences/{id}/charges.",
            )


# -- IOP-C4-08a -----------------------------------------------------------------------------------------
@check(
    id="openapi.get.no-body",
    mode="static",
    title="GET operations take no request body",
    references=("RFC 9110 §9.3.1 (content in a GET request has no generally defined semantics)", _QUERY),
    params={"methods": ["get", "head"]},
)
def get_no_body(ctx: CheckContext, *, methods: list[str]) -> Iterator[Finding]:
    """No operation whose method is in ``methods`` (GET and HEAD) has a request body: an OpenAPI 3
    ``requestBody``, or a Swagger 2.0 ``body`` or ``formData`` parameter. Inapplicable when there are no
    such operations."""
    wanted = {m.lower() for m in methods}
    ops = [op for op in ctx.spec.index.operations if op.method in wanted]
    if not ops:
        raise Inapplicable(f"the document has no {'/'.join(m.upper() for m in sorted(wanted))} operations")
    for op in ops:
        if op.request_body is None:
            continue
        yield finding(
            "Request body on GET/HEAD",
            f"{op.label} declares a request body; intermediaries and clients may drop or reject it.",
            loc=op.request_body.loc,
            op=op,
            expected=f"no request body on {op.method.upper()}",
            found=", ".join(m.media_type for m in op.request_body.content) or "a request body",
            fix="Pass the criteria as query parameters, or make it POST to a search resource "
            "(e.g. POST /person-searches) if the criteria are too large or sensitive for a URL.",
        )


# -- IOP-C4-08b -----------------------------------------------------------------------------------------
@lru_cache(maxsize=4096)
def _name_key(name: str) -> str:
    """``personId`` / ``person_id`` / ``PersonID`` -> ``personid``."""
    return "".join(words(name)) or name.lower()


def _path_key(segments: list[str]) -> str:
    return "/" + "/".join("{}" if _is_param(s) else s for s in segments)


def _singulars(segment: str) -> set[str]:
    key = _name_key(segment)
    forms = {key}
    if key.endswith("ies"):
        forms.add(key[:-3] + "y")
    if key.endswith("es"):
        forms.add(key[:-2])
    if key.endswith("s"):
        forms.add(key[:-1])
    return forms


def _identity_forms(paths: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """For each collection path (with variables normalised to ``{}``), the query names that would
    identify one of its items, mapped to the path form that does so: ``/persons`` ->
    ``{"personid": "/persons/{personId}", "id": …}`` when ``/persons/{personId}`` exists. Linear in the
    total number of path segments."""
    forms: dict[str, dict[str, str]] = {}
    for path in paths:
        segments = _segments(path)
        prefix = ""  # the key of segments[:i], built as we go
        for i, segment in enumerate(segments):
            if _PARAM_SEGMENT.match(segment):
                example = "/" + "/".join(segments[: i + 1])
                names = forms.setdefault(prefix or "/", {})
                names.setdefault(_name_key(segment[1:-1]), example)
                if i and not _is_param(segments[i - 1]):
                    for stem in _singulars(segments[i - 1]):
                        names.setdefault(stem + "id", example)
            prefix += "/{}" if _is_param(segment) else "/" + segment
    return forms


@check(
    id="openapi.query.no-identity",
    mode="static",
    title="Query strings are not used for identity or behaviour",
    references=(_QUERY,),
    params={
        "identity_names": ["id"],
        "behaviour_names": ["action", "method", "op", "operation", "cmd", "command", "do", "verb"],
    },
)
def query_no_identity(
    ctx: CheckContext, *, identity_names: list[str], behaviour_names: list[str]
) -> Iterator[Finding]:
    """No query parameter identifies the resource or selects behaviour.

    Identity: a query parameter named in ``identity_names``, or named like the path variable of an
    item path under the same collection (``GET /persons?personId=`` when ``/persons/{personId}``
    exists; names compare by their words, so ``person_id`` matches ``personId``, and the singular
    collection name plus ``id`` also matches). Behaviour: a query parameter named in
    ``behaviour_names`` (``?action=close``). Names compare case-insensitively. One finding per parameter
    and path. Inapplicable when no operation has a query parameter."""
    index: SpecIndex = ctx.spec.index
    identity = {_name_key(n) for n in identity_names}
    behaviour = {_name_key(n) for n in behaviour_names}
    forms = _identity_forms(index.paths)
    any_query = False
    seen: set[tuple[Loc, str]] = set()
    keys: dict[str, str] = {}
    for op in index.operations:
        if op.path not in keys:
            keys[op.path] = _path_key(_segments(op.path))
        item_forms = forms.get(keys[op.path], {})
        for param in op.parameters:
            if param.location != "query":
                continue
            any_query = True
            if (param.loc, op.path) in seen:
                continue
            seen.add((param.loc, op.path))
            key = _name_key(param.name)
            if key in behaviour:
                yield finding(
                    "Behaviour in query string",
                    f"{op.label} selects what to do with the query parameter '{param.name}'.",
                    loc=param.loc,
                    op=op,
                    expected="the HTTP method (or a sub-resource) to choose the behaviour",
                    found=f"?{param.name}=…",
                    fix=f"Use the method for the action, or a resource named for its result (e.g. POST "
                    f"/cases/{{caseId}}/closures), instead of ?{param.name}=.",
                )
            elif key in identity or key in item_forms:
                form = item_forms.get(key)
                via = f"; the path form {form} exists" if form else ""
                yield finding(
                    "Identifier in query string",
                    f"{op.label} takes the identifier '{param.name}' as a query parameter{via}.",
                    loc=param.loc,
                    op=op,
                    expected="the identifier in the path, e.g. " + (form or f"{op.path.rstrip('/')}/{{id}}"),
                    found=f"?{param.name}=…",
                    fix="Address a single resource by its path and keep query parameters for filtering, "
                    "sorting and paging.",
                )
    if not any_query:
        raise Inapplicable("no operation has a query parameter")


# -- IOP-C4-09 ------------------------------------------------------------------------------------------
def _header_home(header: Header) -> Loc:
    """Where a response header is defined: its own location, or the component it references."""
    schema = header.schema
    if schema is None or schema == header.loc or schema.startswith(header.loc + "/"):
        return header.loc
    home = schema.rsplit("/schema", 1)[0]
    return home.rsplit("/content/", 1)[0] if "/content/" in home else home


@check(
    id="openapi.headers.no-x-prefix",
    mode="static",
    title="Header names do not use the X- prefix",
    references=(
        "CDDO api-standards-linting rules 'no-x-headers' and 'no-x-response-headers'",
        "RFC 6648 (deprecating the X- prefix)",
    ),
    params={"allowed_names": []},
)
def headers_no_x_prefix(ctx: CheckContext, *, allowed_names: list[str]) -> Iterator[Finding]:
    """No header parameter and no response header has a name starting with ``X-`` (any case), except
    those in ``allowed_names``. Vendor ``x-`` extensions of the document are not headers and are not
    judged. Each definition is reported once, however many operations use it; a definition carrying
    ``x-interop-pol-justification`` is not reported. Inapplicable when no header is declared."""
    index: SpecIndex = ctx.spec.index
    allowed = {n.lower() for n in allowed_names}
    any_header = False
    found: dict[Loc, tuple[str, str, list[Operation], Any]] = {}
    for op in index.operations:
        for param in op.parameters:
            if param.location != "header":
                continue
            any_header = True
            if param.name.lower().startswith("x-") and param.name.lower() not in allowed:
                entry = found.setdefault(param.loc, ("request", param.name, [], param.raw))
                entry[2].append(op)
        for response in op.responses:
            for header in response.headers:
                any_header = True
                if header.name.lower().startswith("x-") and header.name.lower() not in allowed:
                    home = _header_home(header)
                    entry = found.setdefault(home, ("response", header.name, [], None))
                    entry[2].append(op)
    if not any_header:
        raise Inapplicable("no header parameter or response header is declared")
    excused = 0
    for loc, (kind, name, ops, raw) in found.items():
        if justified(ctx, raw if raw is not None else index.value(loc)):
            excused += 1
            continue
        used = f" (used by {labels(ops)})" if len(ops) > 1 else ""
        yield finding(
            "X- header",
            f"The {kind} header '{name}'{used} uses the deprecated X- prefix.",
            loc=loc,
            op=ops[0],
            expected="a header name without X- (RFC 6648)",
            found=name,
            fix=f"Name it without the prefix (e.g. '{name[2:]}'), or use a registered header such as "
            "RateLimit-Limit or Idempotency-Key where one exists.",
        )
    if excused:
        ctx.note(f"{excused} X- header(s) carry a written justification.")
