"""Helpers shared by the static checks: naming heuristics, POLE classification, finding builders.

Anything here that reads the document goes through the spec index (``ctx.spec.index``) so that no
check walks the raw document on its own. Results that several checks need (the POLE entity schemas)
are computed once per loaded document and memoised on it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from ..outcome import Finding
from ..registry import CheckContext
from ..spec.model import Loc, Operation, split_loc

POLE_TYPES = ("Person", "Object", "Location", "Event")
POLE_EXTENSION = "x-pole-entity"
POLE_CATALOGUE_EXTENSION = "x-pole-catalogue-entity"
CODE_LIST_EXTENSION = "x-code-list"
JUSTIFICATION_EXTENSION = "x-interop-pol-justification"

# Words in a schema name that suggest POLE data, by entity type. A heuristic: profiles can override it.
DEFAULT_POLE_VOCABULARY: dict[str, list[str]] = {
    "Person": [
        "person",
        "people",
        "suspect",
        "victim",
        "witness",
        "offender",
        "officer",
        "individual",
        "nominal",
    ],
    "Object": [
        "object",
        "vehicle",
        "weapon",
        "property",
        "item",
        "exhibit",
        "document",
        "drug",
        "firearm",
        "device",
    ],
    "Location": ["location", "address", "place", "premises", "site"],
    "Event": [
        "event",
        "incident",
        "crime",
        "occurrence",
        "offence",
        "case",
        "investigation",
        "arrest",
        "custody",
    ],
}
# Name words that mark a wrapper around POLE data rather than the data itself.
DEFAULT_WRAPPER_WORDS = [
    "list",
    "page",
    "collection",
    "links",
    "link",
    "error",
    "problem",
    "summary",
    "ref",
    "reference",
    "id",
    "ids",
    "type",
    "types",
    "status",
    "filter",
    "query",
    "response",
    "result",
    "results",
    "export",
    "import",
]

_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def words(name: str) -> list[str]:
    """``dateOfBirth`` / ``date_of_birth`` / ``DateOfBirth`` -> ``["date", "of", "birth"]``."""
    return [w.lower() for w in _WORD.findall(name)]


def finding(
    title: str,
    message: str,
    *,
    loc: Loc | None = None,
    op: Operation | None = None,
    expected: str | None = None,
    found: str | None = None,
    fix: str | None = None,
) -> Finding:
    """Build a Finding from a location (``doc#pointer``) and an optional operation."""
    document, pointer = split_loc(loc) if loc is not None else (None, None)
    return Finding(
        title=title,
        message=message,
        expected=expected,
        found=found,
        pointer=pointer if loc is not None else None,
        document=document,
        operation=op.label if op is not None else None,
        fix=fix,
    )


def justification(raw: Mapping[str, Any], requirement_id: str, catalogue_id: str | None = None) -> str | None:
    """A written justification for deviating, if the document gives one.

    Convention: ``x-interop-pol-justification: {IOP-C4-02: "MAIT v0.2.2 is XML"}`` on the object
    (catalogue ids such as ``C4-02`` are accepted as keys too), or a plain string for every rule.
    """
    value = raw.get(JUSTIFICATION_EXTENSION)
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, Mapping):
        for key in (requirement_id, catalogue_id):
            text = value.get(key) if key else None
            if isinstance(text, str) and text.strip():
                return text
    return None


def catalogue_id(requirement_id: str) -> str:
    """``IOP-C4-08a`` -> ``C4-08``."""
    match = re.search(r"C\d+-\d+", requirement_id)
    return match.group(0) if match else requirement_id


def is_json_media(media_type: str) -> bool:
    base = media_type.split(";", 1)[0].strip().lower()
    return base == "application/json" or base.endswith("+json")


def describe(value: Any, limit: int = 80) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- POLE classification --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PoleSchema:
    name: str
    loc: Loc
    entity: str | None  # Person/Object/Location/Event if known (tag or name)
    tagged: bool  # carries x-pole-entity
    tag_value: Any  # the raw x-pole-entity value


_pole_cache: WeakKeyDictionary[Any, dict[tuple[Any, ...], tuple[PoleSchema, ...]]] = WeakKeyDictionary()


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def pole_schemas(
    ctx: CheckContext,
    vocabulary: Mapping[str, Iterable[str]] | None = None,
    wrapper_words: Iterable[str] | None = None,
) -> tuple[PoleSchema, ...]:
    """Component schemas that hold POLE data: tagged with ``x-pole-entity``, or named like POLE data."""
    vocab = {k: [w.lower() for w in v] for k, v in (vocabulary or DEFAULT_POLE_VOCABULARY).items()}
    wrappers = {w.lower() for w in (wrapper_words or DEFAULT_WRAPPER_WORDS)}
    key = (_freeze(vocab), tuple(sorted(wrappers)))
    spec = ctx.spec
    cache = _pole_cache.setdefault(spec.index, {})
    if key in cache:
        return cache[key]
    index = spec.index
    found: list[PoleSchema] = []
    for name, loc in index.component_schemas.items():
        node = index.deref(loc)
        schema = node.mapping if node is not None else {}
        tag = schema.get(POLE_EXTENSION)
        if tag is not None:
            entity = tag if tag in POLE_TYPES else None
            found.append(PoleSchema(name=name, loc=loc, entity=entity, tagged=True, tag_value=tag))
            continue
        name_words = words(name)
        if not name_words or any(w in wrappers for w in name_words):
            continue
        for entity, entity_words in vocab.items():
            if any(w in entity_words for w in name_words):
                found.append(PoleSchema(name=name, loc=loc, entity=entity, tagged=False, tag_value=None))
                break
    result = tuple(found)
    cache[key] = result
    return result


def operation_schemas(op: Operation, *, statuses: str = "2") -> list[Loc]:
    """Schema locations of an operation's responses whose status starts with ``statuses``."""
    return [
        m.schema
        for r in op.responses
        if r.status_class in statuses
        for m in r.content
        if m.schema is not None
    ]


# -- helpers for the C4/C5 checks (payloads, resources, responses, documentation) -----------------------
def justified(ctx: CheckContext, raw: Any) -> str | None:
    """The written justification on ``raw`` (an operation, schema, parameter…) for the running requirement."""
    if not isinstance(raw, Mapping):
        return None
    return justification(raw, ctx.requirement_id, catalogue_id(ctx.requirement_id))


def param_pattern(name: str, pattern: str, flags: int = 0) -> re.Pattern[str]:
    """Compile a regular-expression parameter; a bad one stops the check with a message naming it."""
    from ..registry import CantTell  # appended helper: keeps the module's import block unchanged

    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        raise CantTell(
            f"parameter '{name}' must be a valid regular expression ({exc}; got {pattern!r})"
        ) from None


def snake_name(name: str) -> str:
    """``createdAt`` / ``CreatedAt`` / ``created-at`` -> ``created_at`` (the words of ``name``, joined by ``_``)."""
    return "_".join(words(name))


def media_base(media_type: str) -> str:
    """``Application/JSON; charset=utf-8`` -> ``application/json``."""
    return media_type.split(";", 1)[0].strip().lower()


def labels(ops: Iterable[Operation], limit: int = 3) -> str:
    """``GET /a, POST /b and 4 more``: operations named briefly in a message."""
    names = list(dict.fromkeys(op.label for op in ops))
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"


# -- helpers for the C6/C10 checks (pole, portability) ------------------------------------------------
def pole_entities(
    ctx: CheckContext,
    vocabulary: Mapping[str, Iterable[str]] | None = None,
    wrapper_words: Iterable[str] | None = None,
) -> tuple[PoleSchema, ...]:
    """The POLE schemas that describe records: every tagged one, and the name-matched ones that are objects.

    ``pole_schemas`` classifies by name alone, so it also returns enums and scalars whose names use the
    vocabulary (``call_enum_event``, ``AddressLine: {type: string}``); a record of a POLE entity is an
    object (``type: object``, or untyped with properties or ``allOf``/``oneOf``/``anyOf`` parts).
    """
    index = ctx.spec.index
    result: list[PoleSchema] = []
    for pole in pole_schemas(ctx, vocabulary, wrapper_words):
        if pole.tagged:
            result.append(pole)
            continue
        node = index.deref(pole.loc)
        if node is None or "enum" in node.mapping or "const" in node.mapping:
            continue
        kind = index.schema_type(pole.loc)
        if kind == "object" or (
            kind is None
            and (index.properties(pole.loc) or any(k in node.mapping for k in ("allOf", "oneOf", "anyOf")))
        ):
            result.append(pole)
    return tuple(result)


def schema_justified(ctx: CheckContext, loc: Loc, what: str) -> bool:
    """True (and noted) when the schema at ``loc`` — the node itself or what its ``$ref`` points to —
    carries a written justification for the running requirement (``x-interop-pol-justification``)."""
    index = ctx.spec.index
    for node in (index.schemas.get(loc), index.deref(loc)):
        reason = justified(ctx, node.mapping) if node is not None else None
        if reason is not None:
            ctx.note(f"{what}: justified: {reason}")
            return True
    return False
