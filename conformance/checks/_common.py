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
    "Person": ["person", "people", "suspect", "victim", "witness", "offender", "officer", "individual", "nominal"],
    "Object": ["object", "vehicle", "weapon", "property", "item", "exhibit", "document", "drug", "firearm", "device"],
    "Location": ["location", "address", "place", "premises", "site"],
    "Event": ["event", "incident", "crime", "occurrence", "offence", "case", "investigation", "arrest", "custody"],
}
# Name words that mark a wrapper around POLE data rather than the data itself.
DEFAULT_WRAPPER_WORDS = [
    "list", "page", "collection", "links", "link", "error", "problem", "summary", "ref", "reference",
    "id", "ids", "type", "types", "status", "filter", "query", "response", "result", "results", "export", "import",
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
    return [m.schema for r in op.responses if r.status_class in statuses for m in r.content if m.schema is not None]
