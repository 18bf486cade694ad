"""C6 — the common data model: POLE tagging, constrained values as code lists, inclusive person names.

The conventions these checks define for suppliers (``x-pole-entity``, ``x-pole-catalogue-entity``,
``x-code-list: {id, version, url}``) are written up, with examples, in ``docs/pole.md``. POLE schemas are
found by ``_common.pole_entities``: tagged schemas, or object schemas named with the POLE vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..outcome import Finding
from ..registry import CheckContext, Inapplicable, check
from ..spec.model import Loc, SchemaNode, child
from ._common import (
    CODE_LIST_EXTENSION,
    DEFAULT_POLE_VOCABULARY,
    DEFAULT_WRAPPER_WORDS,
    POLE_CATALOGUE_EXTENSION,
    POLE_EXTENSION,
    POLE_TYPES,
    PoleSchema,
    describe,
    finding,
    pole_entities,
    schema_justified,
    words,
)

_POLE_CATALOGUE = 'PDS POLE Data Standards Catalogue v1.0 ("default data standard for all POLE entities")'
_CATALOGUE_EXAMPLES = {"Person": "Person", "Object": "Vehicle", "Location": "Address", "Event": "Incident"}
_SKIPPED_FORMATS = frozenset(
    {"date", "date-time", "time", "duration", "uuid", "uri", "email", "binary", "byte"}
)

DEFAULT_CONSTRAINED_NAMES = [
    "gender", "sex", "ethnicity", "ethnic", "nationality", "offence", "offense", "crime type",
    "crime category", "religion", "marital status",
]  # fmt: skip
# Words that make a matching name free text, a date, an identifier or a reference, not a code.
DEFAULT_FREE_TEXT_WORDS = [
    "description", "desc", "details", "detail", "text", "notes", "note", "comment", "comments", "narrative",
    "summary", "reason", "rationale", "other", "describe", "described", "wording", "title", "legislation",
    "date", "time", "datetime", "at", "id", "ids", "identifier", "uuid", "ref", "reference", "url", "uri",
    "link", "links", "count", "number", "name", "known", "location", "address",
]  # fmt: skip
# A property named only with these words takes its meaning from its schema's name (Offence.code).
DEFAULT_CODE_WORDS = ["code", "type", "category", "class", "classification"]

DEFAULT_GIVEN_NAMES = [
    "firstName", "firstNames", "forename", "forenames", "givenName", "givenNames", "christianName",
]  # fmt: skip
DEFAULT_FAMILY_NAMES = ["lastName", "lastNames", "surname", "surnames", "familyName", "familyNames"]
DEFAULT_FULL_NAMES = [
    "fullName", "fullNames", "name", "displayName", "preferredName", "knownAs", "formattedName", "nameText",
    "wholeName", "personName",
]  # fmt: skip


def _normal(name: str) -> str:
    """``first_name`` / ``firstName`` / ``FirstName`` -> ``firstname``."""
    return "".join(words(name))


def _short_name(component: str | None) -> str:
    """``io.k8s.api.core.v1.Event`` -> ``Event``; ``Offence`` -> ``Offence``."""
    return (component or "").rsplit(".", 1)[-1]


def _owner(node: SchemaNode) -> str:
    """How a message names the schema that holds a property."""
    return f"schema '{node.component}'" if node.component else f"the schema at {node.parent or node.loc}"


# -- openapi.pole.tagged ----------------------------------------------------------------------------------
@check(
    id="openapi.pole.tagged",
    mode="static",
    title="POLE schemas are tagged with their POLE entity",
    references=(_POLE_CATALOGUE, "National Policing Digital Strategy 2020-2030, data enabler action 2"),
    params={"pole_vocabulary": DEFAULT_POLE_VOCABULARY, "wrapper_words": DEFAULT_WRAPPER_WORDS},
)
def pole_tagged(
    ctx: CheckContext, *, pole_vocabulary: dict[str, list[str]], wrapper_words: list[str]
) -> Iterator[Finding]:
    """Every component schema that holds POLE data carries ``x-pole-entity`` (one of Person, Object,
    Location, Event) and ``x-pole-catalogue-entity`` (a non-empty string naming the POLE catalogue entity,
    e.g. Vehicle). A schema holds POLE data when it is tagged, or when it is an object schema whose name uses
    ``pole_vocabulary`` (names containing ``wrapper_words``, such as PersonList, are skipped). A schema with
    ``x-interop-pol-justification`` for this requirement (e.g. "not POLE data") is skipped and noted. Inapplicable
    when no schema is tagged or named like POLE data."""
    index = ctx.spec.index
    entities = pole_entities(ctx, pole_vocabulary, wrapper_words)
    if not entities:
        raise Inapplicable("No component schema is tagged x-pole-entity or named like POLE data.")
    for pole in entities:
        if schema_justified(ctx, pole.loc, f"Schema '{pole.name}'"):
            continue
        node = index.deref(pole.loc)
        loc = node.loc if node is not None else pole.loc
        schema = node.mapping if node is not None else {}
        if not pole.tagged:
            vocabulary = {w.lower() for w in pole_vocabulary.get(pole.entity or "", [])}
            hint = next((w.capitalize() for w in words(pole.name) if w in vocabulary), pole.entity)
            yield finding(
                "POLE schema not tagged",
                f"Schema '{pole.name}' looks like POLE {pole.entity} data (by its name) but has no "
                f"{POLE_EXTENSION}.",
                loc=loc,
                expected=f"{POLE_EXTENSION}: Person|Object|Location|Event and {POLE_CATALOGUE_EXTENSION}",
                found=f"no {POLE_EXTENSION}",
                fix=f"Add `{POLE_EXTENSION}: {pole.entity}` and `{POLE_CATALOGUE_EXTENSION}: {hint}` to the "
                "schema (see docs/pole.md); if it is not POLE data, adjust the profile's pole_vocabulary.",
            )
            continue
        if pole.entity is None:
            yield finding(
                "Invalid POLE entity",
                f"Schema '{pole.name}' has {POLE_EXTENSION}: {describe(pole.tag_value)}, which is not a "
                "POLE entity.",
                loc=child(loc, POLE_EXTENSION),
                expected=" | ".join(POLE_TYPES),
                found=describe(pole.tag_value),
                fix=f"Use one of {', '.join(POLE_TYPES)} (exact case); put the finer entity, such as "
                f"Vehicle, in {POLE_CATALOGUE_EXTENSION}.",
            )
        catalogue = schema.get(POLE_CATALOGUE_EXTENSION)
        if not (isinstance(catalogue, str) and catalogue.strip()):
            example = _CATALOGUE_EXAMPLES.get(pole.entity or "", "Vehicle")
            yield finding(
                "No POLE catalogue entity",
                f"Schema '{pole.name}' is tagged {POLE_EXTENSION} but does not name its POLE catalogue "
                "entity.",
                loc=loc if catalogue is None else child(loc, POLE_CATALOGUE_EXTENSION),
                expected=f"{POLE_CATALOGUE_EXTENSION}: the catalogue entity name (e.g. {example})",
                found="missing" if catalogue is None else describe(catalogue),
                fix=f"Add `{POLE_CATALOGUE_EXTENSION}: {example}` (the entity's name in the POLE Data "
                "Standards Catalogue).",
            )


# -- openapi.pole.code-lists ------------------------------------------------------------------------------
@dataclass(slots=True)
class _Shape:
    """What a property's schema says about its values, gathered through $ref, allOf, items, oneOf/anyOf."""

    enumerated: bool = False
    code_lists: list[tuple[Loc, Any]] = field(default_factory=list)
    types: set[str] = field(default_factory=set)
    formats: set[str] = field(default_factory=set)
    objects: list[Loc] = field(default_factory=list)


def _all_constants(index: Any, loc: Loc, key: str, count: int) -> bool:
    """Each branch of a oneOf/anyOf is a const/enum (or null): the iHub code-list style."""
    for i in range(count):
        branch = index.deref(child(loc, key, i))
        schema = branch.mapping if branch is not None else {}
        if not ("const" in schema or "enum" in schema or schema.get("type") == "null"):
            return False
    return count > 0


def _shape(index: Any, loc: Loc) -> _Shape:
    shape = _Shape()
    seen: set[Loc] = set()
    stack = [loc]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        node = index.schemas.get(current)
        if node is None:
            continue
        schema = node.mapping
        if "enum" in schema or "const" in schema:
            shape.enumerated = True
        if CODE_LIST_EXTENSION in schema:
            shape.code_lists.append((child(current, CODE_LIST_EXTENSION), schema[CODE_LIST_EXTENSION]))
        declared = schema.get("type")
        if isinstance(declared, str):
            shape.types.add(declared)
        elif isinstance(declared, list):
            shape.types.update(t for t in declared if isinstance(t, str) and t != "null")
        if isinstance(schema.get("format"), str):
            shape.formats.add(schema["format"])
        if "properties" in schema or declared == "object":
            shape.objects.append(current)
        if node.ref is not None:
            stack.append(node.ref)
        if isinstance(schema.get("allOf"), list):
            stack.extend(child(current, "allOf", i) for i in range(len(schema["allOf"])))
        for key in ("oneOf", "anyOf"):
            parts = schema.get(key)
            if isinstance(parts, list) and _all_constants(index, current, key, len(parts)):
                shape.enumerated = True
        if isinstance(schema.get("items"), Mapping):
            stack.append(child(current, "items"))
    return shape


def _code_list_gaps(value: Any) -> list[str]:
    """Missing members of an ``x-code-list`` value (``id`` and ``version`` are required)."""
    if not isinstance(value, Mapping):
        return ["id", "version"]
    gaps = []
    for key in ("id", "version"):
        member = value.get(key)
        if not (isinstance(member, (int, float)) and not isinstance(member, bool)) and not (
            isinstance(member, str) and member.strip()
        ):
            gaps.append(key)
    return gaps


def _phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str] | None:
    """Matches a name's words (joined by spaces) that contain one of the phrases as whole words; the last
    word may be plural (``nationalities``, ``offences``)."""
    forms: set[str] = set()
    for phrase in phrases:
        parts = words(phrase)
        if not parts:
            continue
        last = parts[-1]
        plural = last[:-1] + "ies" if last.endswith("y") else last + "s"
        forms.update({" ".join(parts), " ".join([*parts[:-1], plural])})
    alternatives = sorted(forms, key=len, reverse=True)
    if not alternatives:
        return None
    return re.compile(r"(?:^| )(?:" + "|".join(re.escape(a) for a in alternatives) + r")(?: |$)")


@check(
    id="openapi.pole.code-lists",
    mode="static",
    title="Constrained attributes use enums or versioned code lists",
    references=(
        "Single Online Home iHub Standard Data Model (constrained-value codes such as GNDR_0001)",
        "Listpoint code lists (Police National Standards, Data)",
    ),
    params={
        "constrained_names": DEFAULT_CONSTRAINED_NAMES,
        "free_text_words": DEFAULT_FREE_TEXT_WORDS,
        "code_words": DEFAULT_CODE_WORDS,
    },
)
def pole_code_lists(
    ctx: CheckContext, *, constrained_names: list[str], free_text_words: list[str], code_words: list[str]
) -> Iterator[Finding]:
    """Every property whose name's words contain one of ``constrained_names`` (``genderCode``,
    ``ethnic_appearance``, ``offenceType``; a property named only with ``code_words``, such as ``code``, is
    read with its schema's name: ``Offence.code``), and none of ``free_text_words`` (``offenceDescription``,
    ``offenceDate``), is constrained: an ``enum``/``const``, a ``oneOf``/``anyOf`` of consts, or an
    ``x-code-list`` with ``id`` and ``version`` — directly or through ``$ref``, ``allOf`` or array ``items``.
    Booleans, dates and other formatted strings are not codes. An object-valued match (``gender: {code,
    label}``) is judged by its ``code`` (or ``value``) property unless it carries ``x-code-list`` itself; one
    with neither is a structure, not a code, and is left alone. Findings: a free-text value; an
    ``x-code-list`` without ``id`` or ``version``. A property (or the schema it refers to) with
    ``x-interop-pol-justification`` for this requirement is skipped and noted. Inapplicable when no property
    matches."""
    index = ctx.spec.index
    pattern = _phrase_pattern(constrained_names)
    if pattern is None:
        raise Inapplicable("The profile gives no constrained attribute names to look for.")
    free = {w.lower() for w in free_text_words}
    generic = {w.lower() for w in code_words}
    constrained = matched = 0
    done: set[Loc] = set()

    def judge(node: SchemaNode, label: str, *, nested: bool = False) -> Iterator[Finding]:
        nonlocal constrained
        if node.loc in done:
            return
        done.add(node.loc)
        if schema_justified(ctx, node.loc, f"Property '{label}' of {_owner(node)}"):
            return
        shape = _shape(index, node.loc)
        for code_loc, value in shape.code_lists:
            gaps = _code_list_gaps(value)
            if gaps:
                yield finding(
                    "Incomplete code list reference",
                    f"Property '{label}' of {_owner(node)} has an {CODE_LIST_EXTENSION} without "
                    f"{' or '.join(gaps)}.",
                    loc=code_loc,
                    expected=f"{CODE_LIST_EXTENSION}: {{id: <list id>, version: <list version>, url: "
                    "<where>}",
                    found=describe(value),
                    fix=f"Give the code list's identifier and version, e.g. `{CODE_LIST_EXTENSION}: {{id: "
                    f"GNDR, version: '1.0', url: https://…}}` (see docs/pole.md).",
                )
                return
        if shape.enumerated or shape.code_lists:
            constrained += 1
            return
        if shape.objects and not nested:
            code_props = [
                (name, loc)
                for obj in shape.objects[:1]
                for name, loc in index.properties(obj).items()
                if "code" in words(name) or name.lower() == "value"
            ]
            for name, loc in code_props:
                sub = index.schemas.get(loc)
                if sub is not None:
                    yield from judge(sub, f"{label}.{name}", nested=True)
            return
        if (
            shape.types and shape.types <= {"boolean", "object", "array"}
        ) or shape.formats & _SKIPPED_FORMATS:
            return  # not a code: a flag, a structure, a date or another formatted string
        kind = "/".join(sorted(shape.types - {"array"})) or "untyped value"
        yield finding(
            "Free-text code value",
            f"Property '{label}' of {_owner(node)} is a free {kind}: nothing constrains it to a code list.",
            loc=node.loc,
            expected=f"an enum of codes, or {CODE_LIST_EXTENSION}: {{id, version}} naming the code list",
            found=f"type {kind} without enum or {CODE_LIST_EXTENSION}",
            fix=f"Constrain '{label}' with `enum` (e.g. GNDR_0001…GNDR_0010) or add `{CODE_LIST_EXTENSION}: "
            f"{{id: GNDR, version: '1.0', url: …}}` naming the published list (see docs/pole.md).",
        )

    findings: list[Finding] = []
    split: dict[str, list[str]] = {}  # property names repeat a lot: split each once
    for node in index.property_nodes:
        name = node.name or ""
        name_words = split.get(name)
        if name_words is None:
            name_words = split[name] = words(name)
        if not name_words or any(w in free for w in name_words):
            continue
        candidates = [" ".join(name_words)]
        if all(w in generic for w in name_words):
            owner = node.component if node.parent is not None and _is_component_root(index, node) else None
            if owner:
                candidates.append(" ".join(words(_short_name(owner)) + name_words))
        if not any(pattern.search(c) for c in candidates):
            continue
        matched += 1
        findings.extend(judge(node, name))
    if not matched:
        raise Inapplicable(
            "No property is named like a constrained attribute (" + ", ".join(constrained_names) + ")."
        )
    ctx.note(
        f"{matched} properties are named like constrained attributes; {constrained} use an enum or code list."
    )
    yield from findings


def _is_component_root(index: Any, node: SchemaNode) -> bool:
    """The property sits directly in a named component (or one of its allOf parts), not deeper inside."""
    parent = index.schemas.get(node.parent) if node.parent is not None else None
    while parent is not None and parent.keyword == "allOf":
        parent = index.schemas.get(parent.parent) if parent.parent is not None else None
    return parent is not None and parent.parent is None and parent.component is not None


# -- openapi.pole.names -----------------------------------------------------------------------------------
def _object_loc(index: Any, loc: Loc) -> Loc | None:
    """The object schema behind a property (through $ref, allOf, and array items)."""
    node = index.deref(loc)
    if node is None:
        return None
    if index.schema_type(node.loc) == "array" and isinstance(node.mapping.get("items"), Mapping):
        node = index.deref(child(node.loc, "items"))
        if node is None:
            return None
    return node.loc if index.properties(node.loc) else None


def _is_text(index: Any, loc: Loc) -> bool:
    kind = index.schema_type(loc)
    if kind == "array":
        node = index.deref(loc)
        items = child(node.loc, "items") if node is not None else None
        kind = index.schema_type(items) if items is not None else None
    return kind in ("string", None) and not index.properties(loc)


@check(
    id="openapi.pole.names",
    mode="static",
    title="Person names do not force a Western first/last name structure",
    references=('GOV.UK API technical and data standards, "Design data fields with user needs in mind"',),
    params={
        "pole_vocabulary": DEFAULT_POLE_VOCABULARY,
        "wrapper_words": DEFAULT_WRAPPER_WORDS,
        "given_names": DEFAULT_GIVEN_NAMES,
        "family_names": DEFAULT_FAMILY_NAMES,
        "full_names": DEFAULT_FULL_NAMES,
    },
)
def pole_names(
    ctx: CheckContext,
    *,
    pole_vocabulary: dict[str, list[str]],
    wrapper_words: list[str],
    given_names: list[str],
    family_names: list[str],
    full_names: list[str],
) -> Iterator[Finding]:
    """No Person schema (POLE entity Person, tagged or by name) requires both a given-name property
    (``given_names``) and a family-name property (``family_names``) unless it also has a full-name
    alternative: a text property named in ``full_names`` (an object named ``name`` does not count). The
    Person schema itself and its object-valued properties whose names contain "name" (``name: {firstName,
    lastName}``) are examined; names are compared ignoring case and ``_``/``-``. A Person schema with
    ``x-interop-pol-justification`` for this requirement is skipped and noted. Inapplicable without Person
    schemas."""
    index = ctx.spec.index
    persons = [p for p in pole_entities(ctx, pole_vocabulary, wrapper_words) if p.entity == "Person"]
    if not persons:
        raise Inapplicable("No Person schema (x-pole-entity: Person, or named like a person) is described.")
    given = {_normal(n) for n in given_names}
    family = {_normal(n) for n in family_names}
    full = {_normal(n) for n in full_names}

    def alternatives(props: Mapping[str, Loc]) -> list[str]:
        return [n for n, loc in props.items() if _normal(n) in full and _is_text(index, loc)]

    for person in persons:
        if not schema_justified(ctx, person.loc, f"Schema '{person.name}'"):
            yield from _person_names(index, person, given, family, alternatives)


def _person_names(
    index: Any,
    person: PoleSchema,
    given: set[str],
    family: set[str],
    alternatives: Callable[[Mapping[str, Loc]], list[str]],
) -> Iterator[Finding]:
    props: dict[str, Loc] = index.properties(person.loc)
    top_alternatives: list[str] = alternatives(props)
    holders: list[tuple[Loc, str | None]] = [(person.loc, None)]
    for name, loc in props.items():
        if {"name", "names"} & set(words(name)):
            obj = _object_loc(index, loc)
            if obj is not None:
                holders.append((obj, name))
    for holder, via in holders:
        holder_props = props if via is None else index.properties(holder)
        required = index.required(holder)
        required_given = [n for n in holder_props if n in required and _normal(n) in given]
        required_family = [n for n in holder_props if n in required and _normal(n) in family]
        if not (required_given and required_family):
            continue
        found_alternatives = top_alternatives + ([] if via is None else alternatives(holder_props))
        if found_alternatives:
            continue
        where = f"Schema '{person.name}'" + (f" (its '{via}' object)" if via else "")
        pair = f"'{required_given[0]}' and '{required_family[0]}'"
        yield finding(
            "Western name structure required",
            f"{where} requires both {pair} and offers no full-name alternative.",
            loc=holder if via is None else props[via],
            expected="given and family names optional, or a full-name text property (e.g. fullName)",
            found=f"required: {required_given[0]}, {required_family[0]}",
            fix=f"Make {pair} optional, or add a `fullName` (free text) property so people with one name, "
            "or names in another order, can be recorded.",
        )
