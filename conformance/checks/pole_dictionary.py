"""C6-02/C6-03 — a customer-supplied POLE data dictionary: its loader, its value rules, the static check.

The PDS POLE Data Standards Catalogue's data dictionary (v1.1) is access-controlled (Knowledge Hub), so the
suite bundles none of it: the user exports the dictionary to a CSV or JSON file and gives it to the run
(``--data-dictionary FILE``); checks read it from ``ctx.options["data_dictionary"]`` (a path, or an already
loaded :class:`PoleDictionary`). The file format is in ``docs/pole.md`` ("A customer-supplied data
dictionary"). Without a dictionary both checks are ``untested``, never passed.

One dictionary row says: entity, attribute, data type, maximum length, mandatory, code list id and,
optionally, the code list's values. Schemas are matched to entities by ``x-pole-catalogue-entity`` (ignoring
case); attributes to properties by their words, ignoring case, spaces, ``_`` and ``-`` (``Date of Birth``
is ``dateOfBirth``); a dotted attribute (``address.postcode``) names a property of an object property.

* ``openapi.pole.dictionary`` (static, below) compares the document's tagged schemas with the dictionary.
* ``live.pole.payloads`` (``live_data``) validates sampled records with :func:`values_at` and
  :func:`value_problem`.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import hashlib
import io
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import DataDictionaryError
from ..outcome import Finding
from ..registry import CantTell, CheckContext, NotTested, check
from ..spec.model import Loc, child
from ._common import CODE_LIST_EXTENSION, POLE_CATALOGUE_EXTENSION, describe, finding, words

__all__ = [
    "DataType",
    "DictionaryAttribute",
    "PoleDictionary",
    "dictionary_from",
    "load_dictionary",
    "value_problem",
    "values_at",
]

_CATALOGUE = "PDS POLE Data Standards Catalogue v1.0 and its data dictionary v1.1 (field size, format, type, validation rules)"
_OPTION = "data_dictionary"
_NO_DICTIONARY = (
    "no POLE data dictionary was given (--data-dictionary FILE: a CSV or JSON export of the catalogue's "
    "data dictionary, see docs/pole.md)"
)
_FIX_FORMAT = "see 'A customer-supplied data dictionary' in docs/pole.md"
_LENGTH_IMPLIED = frozenset({"date", "date-time", "time", "uuid"})
_FULL_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DATE_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$"
)
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})?$")


@enum.unique
class DataType(str, enum.Enum):
    """The data types a dictionary row may name (each with the spellings accepted for it)."""

    TEXT = "text"  # text, string, varchar, char, alphanumeric, free text
    CODE = "code"  # code, code list, lookup, enumeration, reference data
    INTEGER = "integer"  # integer, int, whole number, long
    NUMBER = "number"  # number, numeric, decimal, float, double
    BOOLEAN = "boolean"  # boolean, bool, flag, indicator, yes/no
    DATE = "date"  # date (YYYY-MM-DD)
    DATE_TIME = "date-time"  # date-time, datetime, timestamp, date and time
    TIME = "time"  # time of day


_TYPE_NAMES: dict[str, DataType] = {
    **dict.fromkeys(
        ("text", "string", "str", "varchar", "nvarchar", "char", "character", "alphanumeric", "freetext",
         "memo", "identifier", "uuid", "guid"),
        DataType.TEXT,
    ),
    **dict.fromkeys(
        ("code", "coded", "codelist", "lookup", "enum", "enumeration", "referencedata", "constrainedvalue"),
        DataType.CODE,
    ),
    **dict.fromkeys(("integer", "int", "wholenumber", "long", "smallint", "bigint"), DataType.INTEGER),
    **dict.fromkeys(("number", "numeric", "decimal", "float", "double", "real"), DataType.NUMBER),
    **dict.fromkeys(("boolean", "bool", "flag", "indicator", "yesno", "yn"), DataType.BOOLEAN),
    "date": DataType.DATE,
    **dict.fromkeys(("datetime", "timestamp", "dateandtime"), DataType.DATE_TIME),
    "time": DataType.TIME,
}  # fmt: skip
_TRUE = frozenset({"y", "yes", "true", "1", "m", "mandatory", "required", "r"})
_FALSE = frozenset({"", "n", "no", "false", "0", "o", "optional", "c", "conditional"})
# Column (or JSON member) names accepted for each field, compared as lower-case letters and digits only.
_COLUMNS: dict[str, tuple[str, ...]] = {
    "entity": ("entity", "entityname", "poleentity", "catalogueentity"),
    "attribute": ("attribute", "attributename", "field", "fieldname", "property", "propertyname"),
    "data_type": ("datatype", "type", "format"),
    "max_length": ("maxlength", "maximumlength", "fieldsize", "length", "size"),
    "mandatory": ("mandatory", "required", "optionality", "obligation"),
    "code_list": ("codelist", "codelistid", "codelistidentifier", "referencedata", "lookup"),
    "values": ("values", "allowedvalues", "permittedvalues", "codelistvalues", "codes"),
}
_REQUIRED_COLUMNS = ("entity", "attribute", "data_type")


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _normal(name: str) -> str:
    """``Date of Birth`` / ``date_of_birth`` / ``dateOfBirth`` -> ``dateofbirth``."""
    return "".join(words(name))


# -- the dictionary ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class DictionaryAttribute:
    """One row of the dictionary."""

    entity: str
    attribute: str  # as written; dotted for a nested property (address.postcode)
    data_type: DataType
    max_length: int | None
    mandatory: bool
    code_list: str | None
    values: tuple[str, ...]  # the code list's values, when the dictionary carries them
    row: int  # 1-based: the CSV line, or the position in the JSON attributes array

    @property
    def path(self) -> tuple[str, ...]:
        """The attribute's segments, normalised (``address.postcode`` -> ``("address", "postcode")``)."""
        return tuple(_normal(part) for part in self.attribute.split("."))

    @property
    def label(self) -> str:
        return f"{self.entity}.{self.attribute}"


@dataclass(frozen=True, slots=True, kw_only=True)
class PoleDictionary:
    """A loaded data dictionary; ``sha256`` identifies the exact file for the report."""

    source: str
    sha256: str
    name: str | None
    version: str | None
    attributes: tuple[DictionaryAttribute, ...]

    @property
    def entities(self) -> tuple[str, ...]:
        """Entity names as first written, in file order."""
        return tuple(dict.fromkeys(a.entity for a in self.attributes))

    def entity(self, name: str) -> tuple[DictionaryAttribute, ...]:
        """The attributes of entity ``name`` (case-insensitive); empty when the dictionary lacks it."""
        wanted = name.strip().casefold()
        return tuple(a for a in self.attributes if a.entity.casefold() == wanted)

    def describe(self) -> str:
        title = self.name or Path(self.source).name
        version = f" version {self.version}" if self.version else ""
        return (
            f"{title}{version} ({len(self.attributes)} attributes of {len(self.entities)} entities; "
            f"sha256 {self.sha256[:16]}…)"
        )


def load_dictionary(path: str | Path) -> PoleDictionary:
    """Read a CSV or JSON data dictionary (by suffix; otherwise by its first character).

    Raises ``DataDictionaryError`` with a one-line message naming the file and, for a bad row, the row:
    ``dictionary.csv:row 7: 'max_length' must be a whole number of 1 or more (got 'ten')``.
    """
    file = Path(path)
    source = str(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise DataDictionaryError(
            f"cannot read the data dictionary: {exc.strerror or exc}", source=source
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = f"the data dictionary is not UTF-8 (byte {exc.start})"
        raise DataDictionaryError(msg, source=source, hint="save it as UTF-8 CSV or JSON") from None
    digest = hashlib.sha256(raw).hexdigest()
    suffix = file.suffix.lower()
    name = version = None
    if suffix == ".json" or (suffix != ".csv" and text.lstrip()[:1] in ("[", "{")):
        name, version, rows, lists = _json_rows(text, source)
    else:
        rows, lists = _csv_rows(text, source), {}
    attributes = _attributes(rows, lists, source)
    if not attributes:
        raise DataDictionaryError(
            "the data dictionary defines no attributes", source=source, hint=_FIX_FORMAT
        )
    return PoleDictionary(source=source, sha256=digest, name=name, version=version, attributes=attributes)


_Row = tuple[int, dict[str, Any]]  # (row number, field -> raw value)


def _fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Known fields of a row, whatever the column/member spelling (unknown ones, e.g. description, dropped)."""
    found: dict[str, Any] = {}
    for name, value in raw.items():
        key = _key(str(name))
        for field_name, aliases in _COLUMNS.items():
            if key in aliases and field_name not in found:
                found[field_name] = value
    return found


def _csv_rows(text: str, source: str) -> list[_Row]:
    """Rows of a CSV dictionary: lines before the header whose first cell starts with ``#`` are comments."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[_Row] = []
    try:
        for cells in reader:
            line = reader.line_num
            if header is None:
                if not cells or not "".join(cells).strip() or cells[0].lstrip().startswith("#"):
                    continue
                header = cells
                columns = _fields({c: c for c in header})
                missing = [c for c in _REQUIRED_COLUMNS if c not in columns]
                if missing:
                    msg = (
                        f"the header row has no '{missing[0]}' column (found: {', '.join(header) or 'none'})"
                    )
                    raise DataDictionaryError(
                        msg,
                        source=source,
                        location=f"row {line}",
                        hint="name the columns entity, attribute, data_type, max_length, mandatory, code_list",
                    )
                continue
            if not "".join(cells).strip():
                continue
            if len(cells) > len(header):
                msg = f"the row has {len(cells)} cells but the header names {len(header)} columns"
                raise DataDictionaryError(
                    msg, source=source, location=f"row {line}", hint="quote cells that contain commas"
                )
            rows.append((line, _fields(dict(zip(header, cells, strict=False)))))
    except csv.Error as exc:
        raise DataDictionaryError(
            f"not valid CSV: {exc}", source=source, location=f"row {reader.line_num}"
        ) from None
    if header is None:
        raise DataDictionaryError("the CSV file has no header row", source=source, hint=_FIX_FORMAT)
    return rows


def _json_rows(
    text: str, source: str
) -> tuple[str | None, str | None, list[_Row], dict[str, tuple[str, ...]]]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise DataDictionaryError(f"not valid JSON: {exc}", source=source) from None
    name = version = None
    lists: dict[str, tuple[str, ...]] = {}
    if isinstance(data, Mapping):
        name = data.get("name") if isinstance(data.get("name"), str) else None
        raw_version = data.get("version")
        version = str(raw_version) if isinstance(raw_version, (str, int, float)) else None
        code_lists = data.get("codeLists", {})
        if not isinstance(code_lists, Mapping):
            raise DataDictionaryError(
                "'codeLists' must be an object of list id -> array of values", source=source
            )
        for list_id, values in code_lists.items():
            lists[str(list_id).casefold()] = _values(values, source, f"codeLists.{list_id}")
        data = data.get("attributes")
    if not isinstance(data, list):
        msg = "a JSON data dictionary must be an object with an 'attributes' array, or an array of rows"
        raise DataDictionaryError(msg, source=source, hint=_FIX_FORMAT)
    rows: list[_Row] = []
    for number, item in enumerate(data, start=1):
        if not isinstance(item, Mapping):
            raise DataDictionaryError(
                f"must be an object (got {describe(item)})", source=source, location=f"row {number}"
            )
        rows.append((number, _fields(item)))
    return name, version, rows, lists


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _values(value: Any, source: str, where: str) -> tuple[str, ...]:
    """Code-list values: a JSON array of strings or numbers, or one string with values separated by ``|``."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split("|") if v.strip())
    if isinstance(value, list) and all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
        return tuple(str(v) for v in value)
    msg = (
        f"'values' must be an array of codes or one string of codes separated by '|' (got {describe(value)})"
    )
    raise DataDictionaryError(msg, source=source, location=where)


def _attributes(
    rows: Sequence[_Row], lists: dict[str, tuple[str, ...]], source: str
) -> tuple[DictionaryAttribute, ...]:
    seen: dict[tuple[str, tuple[str, ...]], int] = {}
    list_rows: dict[str, int] = {}
    parsed: list[DictionaryAttribute] = []
    for number, row in rows:
        where = f"row {number}"

        def fail(message: str, hint: str | None = None, where: str = where) -> DataDictionaryError:
            return DataDictionaryError(message, source=source, location=where, hint=hint)

        entity, attribute = _text(row.get("entity")), _text(row.get("attribute"))
        for name, value in (("entity", entity), ("attribute", attribute)):
            if not value:
                raise fail(f"'{name}' must not be empty")
        if any(not _normal(part) for part in attribute.split(".")):
            raise fail(f"'attribute' must be a name, or names joined by '.' (got {attribute!r})")
        type_text = _text(row.get("data_type"))
        data_type = _TYPE_NAMES.get(_key(type_text))
        if data_type is None:
            choices = ", ".join(t.value for t in DataType)
            raise fail(f"'data_type' must be one of {choices} (got {type_text!r})")
        length_text = _text(row.get("max_length"))
        max_length: int | None = None
        if length_text:
            whole = re.fullmatch(r"(\d+)(?:\.0+)?", length_text)
            max_length = int(whole[1]) if whole else 0
            if max_length < 1:
                raise fail(f"'max_length' must be a whole number of 1 or more (got {length_text!r})")
        mandatory_value = row.get("mandatory")
        if isinstance(mandatory_value, bool):
            mandatory = mandatory_value
        else:
            flag = _text(mandatory_value).lower()
            if flag not in _TRUE | _FALSE:
                raise fail(
                    f"'mandatory' must be one of Y, N, yes, no, true, false, M, O or empty (got {_text(mandatory_value)!r})"
                )
            mandatory = flag in _TRUE
        code_list = _text(row.get("code_list")) or None
        values = _values(row.get("values"), source, where)
        if code_list is not None:
            known = lists.get(code_list.casefold())
            if values and known is not None and set(values) != set(known):
                first = list_rows.get(code_list.casefold())
                also = f" on row {first}" if first else " in codeLists"
                raise fail(f"code list '{code_list}' is given different values{also}")
            if values and known is None:
                lists[code_list.casefold()] = values
                list_rows[code_list.casefold()] = number
        identity = (entity.casefold(), tuple(_normal(p) for p in attribute.split(".")))
        if identity in seen:
            raise fail(f"{entity}.{attribute} is already defined on row {seen[identity]}")
        seen[identity] = number
        parsed.append(
            DictionaryAttribute(
                entity=entity,
                attribute=attribute,
                data_type=data_type,
                max_length=max_length,
                mandatory=mandatory,
                code_list=code_list,
                values=values,
                row=number,
            )
        )
    # A row naming a code list without values takes them from another row (or codeLists) naming it.
    return tuple(
        a if a.values or a.code_list is None else _with_values(a, lists.get(a.code_list.casefold(), ()))
        for a in parsed
    )


def _with_values(attribute: DictionaryAttribute, values: tuple[str, ...]) -> DictionaryAttribute:
    return replace(attribute, values=values) if values else attribute


_loaded: dict[tuple[str, int, int], PoleDictionary] = {}


def dictionary_from(ctx: CheckContext) -> PoleDictionary:
    """The run's dictionary (``ctx.options["data_dictionary"]``: a path or a :class:`PoleDictionary`).

    ``NotTested`` when none was given; ``CantTell`` (with the loader's one-line message) when it cannot be
    read. A file is read once per run (and again only if it changes).
    """
    given = ctx.options.get(_OPTION)
    if given is None or given == "":
        raise NotTested(_NO_DICTIONARY)
    if isinstance(given, PoleDictionary):
        return given
    path = Path(given)
    try:
        info = path.stat()
        key = (str(path.resolve()), info.st_mtime_ns, info.st_size)
        cached = _loaded.get(key)
        if cached is None:
            cached = _loaded[key] = load_dictionary(path)
    except OSError as exc:
        raise CantTell(f"{path}: cannot read the data dictionary: {exc.strerror or exc}") from None
    except DataDictionaryError as exc:
        raise CantTell(exc.one_line()) from None
    return cached


# -- values (the live check) ------------------------------------------------------------------------------
_ABSENT = object()


def values_at(record: Any, attribute: DictionaryAttribute) -> list[Any] | None:
    """The values a record holds for the attribute (array items one by one), or ``None`` when it holds none
    (absent or null). Member names are matched like property names (ignoring case, ``_`` and ``-``)."""
    current: list[Any] = [record]
    for segment in attribute.path:
        following: list[Any] = []
        for value in current:
            if not isinstance(value, Mapping):
                continue
            member = next((v for k, v in value.items() if _normal(str(k)) == segment), _ABSENT)
            if member is _ABSENT or member is None:
                continue
            following.extend(member if isinstance(member, list) else [member])
        current = [v for v in following if v is not None]
        if not current:
            return None
    return current


def value_problem(attribute: DictionaryAttribute, value: Any) -> tuple[str, str] | None:
    """``(rule, why)`` for the first dictionary rule ``value`` breaks (``type``, ``length``, ``code``), or
    ``None``. A code's values are checked only when the dictionary carries them."""
    kind = attribute.data_type
    if not _type_fits(kind, value):
        return "type", f"{describe(value, 40)} is not {_TYPE_WORDS[kind]}"
    if isinstance(value, str) and attribute.max_length is not None and len(value) > attribute.max_length:
        return "length", f"{len(value)} characters, more than the field size {attribute.max_length}"
    if attribute.values and str(value) not in attribute.values:
        return (
            "code",
            f"{describe(value, 40)} is not a code of {attribute.code_list or 'the attribute'}'s list",
        )
    return None


_TYPE_WORDS = {
    DataType.TEXT: "text",
    DataType.CODE: "a code (text)",
    DataType.INTEGER: "a whole number",
    DataType.NUMBER: "a number",
    DataType.BOOLEAN: "true or false",
    DataType.DATE: "a date (YYYY-MM-DD)",
    DataType.DATE_TIME: "an RFC 3339 date-time with Z or an offset",
    DataType.TIME: "a time of day (hh:mm:ss)",
}


def _real_date(text: str) -> bool:
    match = _FULL_DATE.match(text) or _DATE_TIME.match(text)
    if match is None:
        return False
    try:
        dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return False
    return True


def _type_fits(kind: DataType, value: Any) -> bool:
    if kind is DataType.BOOLEAN:
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind is DataType.TEXT:
        return isinstance(value, str)
    if kind is DataType.CODE:
        return isinstance(value, (str, int))
    if kind is DataType.INTEGER:
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if kind is DataType.NUMBER:
        return isinstance(value, (int, float))
    if not isinstance(value, str):
        return False
    if kind is DataType.DATE:
        return bool(_FULL_DATE.match(value)) and _real_date(value)
    if kind is DataType.DATE_TIME:
        return bool(_DATE_TIME.match(value)) and _real_date(value)
    return bool(_TIME.match(value))


# -- the document (the static check) ----------------------------------------------------------------------
@dataclass(slots=True)
class _Facts:
    """What a property's schema says about its values (through ``$ref`` and ``allOf``; an array's items)."""

    types: set[str] = field(default_factory=set)
    formats: set[str] = field(default_factory=set)
    values: list[Any] | None = None  # enum / const / oneOf-of-consts values
    max_length: int | None = None
    pattern: bool = False
    code_list: str | None = None
    items: Loc | None = None
    array: bool = False  # these are the facts of an array's items

    def describe(self) -> str:
        kind = "/".join(sorted(self.types)) or "untyped"
        if self.formats:
            kind += f" (format {', '.join(sorted(self.formats))})"
        return f"array of {kind}" if self.array else kind


def _facts(index: Any, loc: Loc) -> _Facts:
    facts = _collect(index, loc)
    if "array" in facts.types and facts.items is not None:
        inner = _collect(index, facts.items)
        inner.array = True
        return inner
    return facts


def _collect(index: Any, loc: Loc) -> _Facts:
    facts = _Facts()
    seen: set[Loc] = set()
    stack = [loc]
    while stack:
        current = stack.pop()
        node = index.schemas.get(current)
        if node is None or current in seen:
            continue
        seen.add(current)
        schema = node.mapping
        declared = schema.get("type")
        names = [declared] if isinstance(declared, str) else declared if isinstance(declared, list) else []
        facts.types.update(t for t in names if isinstance(t, str) and t != "null")
        if isinstance(schema.get("format"), str):
            facts.formats.add(schema["format"])
        if isinstance(schema.get("enum"), list):
            facts.values = [v for v in schema["enum"] if v is not None]
        if "const" in schema:
            facts.values = [schema["const"]]
        branches = schema.get("oneOf") or schema.get("anyOf")
        if (
            isinstance(branches, list)
            and branches
            and all(isinstance(b, Mapping) and "const" in b for b in branches)
        ):
            facts.values = [b["const"] for b in branches]
        longest = schema.get("maxLength")
        if isinstance(longest, int) and not isinstance(longest, bool):
            facts.max_length = longest if facts.max_length is None else min(facts.max_length, longest)
        facts.pattern = facts.pattern or isinstance(schema.get("pattern"), str)
        code_list = schema.get(CODE_LIST_EXTENSION)
        if isinstance(code_list, Mapping) and isinstance(code_list.get("id"), (str, int)):
            facts.code_list = str(code_list["id"])
        if isinstance(schema.get("items"), Mapping) and facts.items is None:
            facts.items = child(current, "items")
        if node.ref is not None:
            stack.append(node.ref)
        if isinstance(schema.get("allOf"), list):
            stack.extend(child(current, "allOf", i) for i in range(len(schema["allOf"])))
    return facts


def _type_ok(kind: DataType, facts: _Facts) -> bool | None:
    """Whether the schema's type can hold the dictionary's; ``None`` when the schema declares no type."""
    types = facts.types
    if not types:
        return None
    if kind in (DataType.TEXT, DataType.CODE):
        return "string" in types or (kind is DataType.CODE and "integer" in types)
    if kind is DataType.INTEGER:
        return "integer" in types
    if kind is DataType.NUMBER:
        return bool(types & {"number", "integer"})
    if kind is DataType.BOOLEAN:
        return "boolean" in types
    wanted = {DataType.DATE: "date", DataType.DATE_TIME: "date-time", DataType.TIME: "time"}[kind]
    return "string" in types and wanted in facts.formats


_EXPECTED_TYPE = {
    DataType.TEXT: "type: string",
    DataType.CODE: "type: string (an enum or x-code-list)",
    DataType.INTEGER: "type: integer",
    DataType.NUMBER: "type: number (or integer)",
    DataType.BOOLEAN: "type: boolean",
    DataType.DATE: "type: string, format: date",
    DataType.DATE_TIME: "type: string, format: date-time",
    DataType.TIME: "type: string, format: time",
}


@dataclass(frozen=True, slots=True)
class _Tagged:
    name: str
    loc: Loc
    catalogue: str


def _tagged(index: Any) -> list[_Tagged]:
    """Component schemas naming their catalogue entity (``x-pole-catalogue-entity``), in document order."""
    found: list[_Tagged] = []
    for name, loc in index.component_schemas.items():
        node = index.deref(loc)
        value = node.mapping.get(POLE_CATALOGUE_EXTENSION) if node is not None else None
        if isinstance(value, str) and value.strip():
            found.append(_Tagged(name, node.loc if node is not None else loc, value.strip()))
    return found


def _object_loc(index: Any, loc: Loc) -> Loc | None:
    """The object schema behind a property (through ``$ref``, ``allOf`` and array ``items``)."""
    facts = _collect(index, loc)
    if "array" in facts.types and facts.items is not None:
        loc = facts.items
    node = index.deref(loc)
    return node.loc if node is not None and index.properties(node.loc) else None


def resolve_attribute(index: Any, schema: Loc, path: Sequence[str]) -> tuple[Loc, Loc, str] | None:
    """``(property, holder, name)``: the property a (normalised) attribute path names in ``schema``, the
    object schema holding its last segment and the property's own name; ``None`` when it is not there."""
    holder: Loc | None = schema
    for depth, segment in enumerate(path):
        if holder is None:
            return None
        props = index.properties(holder)
        name = next((n for n in props if _normal(n) == segment), None)
        if name is None:
            return None
        if depth == len(path) - 1:
            return props[name], holder, name
        holder = _object_loc(index, props[name])
    return None


@dataclass(slots=True)
class _Tally:
    schemas: list[str] = field(default_factory=list)
    attributes: int = 0
    found: int = 0
    missing_mandatory: int = 0
    missing_optional: int = 0
    findings: int = 0


@check(
    id="openapi.pole.dictionary",
    mode="static",
    title="POLE schemas match the customer's POLE data dictionary (names, types, lengths, mandatory)",
    references=(_CATALOGUE,),
    params={"report_unknown_attributes": False},
)
def pole_dictionary(ctx: CheckContext, *, report_unknown_attributes: bool) -> Iterator[Finding]:
    """Needs the customer's data dictionary (``ctx.options["data_dictionary"]``, from ``--data-dictionary``;
    format in ``docs/pole.md``): ``untested`` without one. Every component schema carrying
    ``x-pole-catalogue-entity`` is matched to the dictionary entity of that name (ignoring case); for each
    of the entity's attributes (matched to property names ignoring case, spaces, ``_`` and ``-``; a dotted
    attribute names a property of an object property, through arrays):

    * a mandatory attribute is a property of at least one of the entity's schemas, and is ``required``
      (by the object holding it) in every schema that has it;
    * the property's type can hold the dictionary's (text: string; code: string or integer; integer;
      number: number or integer; boolean; date/date-time/time: string with that ``format``), judged on an
      array's items;
    * for text and code attributes with a maximum length: the property's ``maxLength`` (or its longest
      ``enum`` value) is at most that length; a string with no ``maxLength`` is unbounded unless a date,
      date-time, time or uuid ``format`` implies its length (a ``pattern`` alone is not judged);
    * a code attribute is constrained (``enum``/``const``/``oneOf`` of consts, or ``x-code-list``); when the
      dictionary names a code list and the property's ``x-code-list`` names another, or the dictionary
      carries the list's values and the ``enum`` has values outside them, that is a finding.

    Each property is judged once even when several schemas share it (``Person`` = ``allOf`` of
    ``PersonInput``). Properties the dictionary does not name are listed in a note, or are findings when
    ``report_unknown_attributes`` is true. A table shows, per entity, how many attributes were found and
    missed. ``cantTell`` when no schema is tagged with a catalogue entity the dictionary defines."""
    dictionary = dictionary_from(ctx)
    index = ctx.spec.index
    tagged = _tagged(index)
    if not tagged:
        raise CantTell(
            f"no schema carries {POLE_CATALOGUE_EXTENSION}, so no schema can be matched to the dictionary "
            "(tag POLE schemas as openapi.pole.tagged asks)"
        )
    groups: dict[str, list[_Tagged]] = {}
    for schema in tagged:
        groups.setdefault(schema.catalogue.casefold(), []).append(schema)
    matched = {key: schemas for key, schemas in groups.items() if dictionary.entity(key)}
    ctx.note(f"Data dictionary: {dictionary.describe()}")
    if not matched:
        named = ", ".join(sorted({s.catalogue for s in tagged}))
        raise CantTell(
            f"no tagged schema names an entity of the dictionary (the document names {named}; the "
            f"dictionary defines {', '.join(dictionary.entities)})"
        )
    unmatched = sorted(
        {s.catalogue for key, schemas in groups.items() if key not in matched for s in schemas}
    )
    if unmatched:
        ctx.note(f"Catalogue entities the dictionary does not define (not judged): {', '.join(unmatched)}")
    absent = [e for e in dictionary.entities if e.casefold() not in matched]
    if absent:
        ctx.note(f"Dictionary entities no schema is tagged with: {', '.join(absent)}")
    judged: set[Loc] = set()
    unknown: dict[str, list[str]] = {}
    rows: list[list[str | int]] = []
    for key, schemas in matched.items():
        attributes = dictionary.entity(key)
        tally = _Tally(schemas=[s.name for s in schemas], attributes=len(attributes))
        for attribute in attributes:
            places = [(s, resolve_attribute(index, s.loc, attribute.path)) for s in schemas]
            present = [(s, found) for s, found in places if found is not None]
            if not present:
                if attribute.mandatory:
                    tally.missing_mandatory += 1
                    tally.findings += 1
                    yield _missing(attribute, schemas)
                else:
                    tally.missing_optional += 1
                continue
            tally.found += 1
            optional: dict[Loc, list[str]] = {}
            for schema, (prop, holder, name) in present:
                if attribute.mandatory and name not in index.required(holder):
                    optional.setdefault(prop, []).append(schema.name)
            for prop, holders in optional.items():
                tally.findings += 1
                yield _not_required(attribute, prop, holders)
            for schema, (prop, _, name) in present:
                if prop in judged:
                    continue
                judged.add(prop)
                for found_finding in _judge(index, attribute, schema, name, prop):
                    tally.findings += 1
                    yield found_finding
        names = {a.path[0] for a in attributes}
        for schema in schemas:
            for prop_name, prop_loc in index.properties(schema.loc).items():
                if _normal(prop_name) in names or prop_loc in judged:
                    continue
                judged.add(prop_loc)
                if prop_name not in unknown.setdefault(schemas[0].catalogue, []):
                    unknown[schemas[0].catalogue].append(prop_name)
                if report_unknown_attributes:
                    tally.findings += 1
                    yield finding(
                        "Attribute not in the dictionary",
                        f"Schema '{schema.name}' has '{prop_name}', which the dictionary does not define for "
                        f"{schemas[0].catalogue}.",
                        loc=prop_loc,
                        expected=f"an attribute of {schemas[0].catalogue} in the dictionary",
                        found=prop_name,
                        fix="Rename the property to the dictionary's attribute, or agree the extension with the "
                        "customer.",
                    )
        rows.append(
            [
                schemas[0].catalogue,
                ", ".join(tally.schemas),
                tally.attributes,
                tally.found,
                tally.missing_mandatory,
                tally.missing_optional,
                tally.findings,
            ]
        )
    for entity, props in unknown.items():
        if not report_unknown_attributes:
            ctx.note(f"{entity}: properties the dictionary does not define: {', '.join(props)}")
    ctx.table(
        "POLE data dictionary alignment",
        [
            "Catalogue entity",
            "Schemas",
            "Dictionary attributes",
            "Found",
            "Missing (mandatory)",
            "Missing (optional)",
            "Findings",
        ],
        rows,
    )


def _not_required(attribute: DictionaryAttribute, prop: Loc, schemas: Sequence[str]) -> Finding:
    which = " and ".join(f"'{s}'" for s in schemas)
    return finding(
        "Mandatory attribute not required",
        f"The dictionary makes {attribute.label} mandatory (row {attribute.row}), but schema(s) {which} do not "
        "require it.",
        loc=prop,
        expected="the property in the required list of the object holding it",
        found="optional",
        fix=f"Add it to `required`, or record why the API may omit {attribute.label}.",
    )


def _missing(attribute: DictionaryAttribute, schemas: Sequence[_Tagged]) -> Finding:
    names = ", ".join(f"'{s.name}'" for s in schemas)
    return finding(
        "Mandatory attribute missing",
        f"The dictionary makes {attribute.label} mandatory (row {attribute.row}), but no schema tagged "
        f"{schemas[0].catalogue} ({names}) has it.",
        loc=schemas[0].loc,
        expected=f"a property '{attribute.attribute}' ({attribute.data_type.value})",
        found="no such property",
        fix=f"Add '{attribute.attribute}' to the schema (required), named as the dictionary names it.",
    )


def _judge(
    index: Any, attribute: DictionaryAttribute, schema: _Tagged, name: str, prop: Loc
) -> Iterator[Finding]:
    """Type, length and code-list findings for one property."""
    facts = _facts(index, prop)
    label = f"'{name}' of schema '{schema.name}'"
    source = f"{attribute.label} (row {attribute.row})"
    fits = _type_ok(attribute.data_type, facts)
    if fits is False:
        yield finding(
            "Type differs from the dictionary",
            f"{label} is {facts.describe()}, but the dictionary says {source} is {attribute.data_type.value}.",
            loc=prop,
            expected=_EXPECTED_TYPE[attribute.data_type],
            found=facts.describe(),
            fix=f"Declare {_EXPECTED_TYPE[attribute.data_type]} for '{name}'.",
        )
        return
    if attribute.data_type in (DataType.TEXT, DataType.CODE) and attribute.max_length is not None:
        limit = attribute.max_length
        if facts.values:
            longest = max(len(str(v)) for v in facts.values)
            if longest > limit:
                yield finding(
                    "Code longer than the field size",
                    f"{label} allows a value of {longest} characters; the dictionary's field size for {source} "
                    f"is {limit}.",
                    loc=prop,
                    expected=f"values of at most {limit} characters",
                    found=f"longest enum value: {longest} characters",
                    fix="Use the dictionary's codes, or agree a longer field with the customer.",
                )
        elif facts.max_length is not None:
            if facts.max_length > limit:
                yield finding(
                    "Longer than the field size",
                    f"{label} allows {facts.max_length} characters; the dictionary's field size for {source} "
                    f"is {limit}.",
                    loc=prop,
                    expected=f"maxLength: {limit} (or less)",
                    found=f"maxLength: {facts.max_length}",
                    fix=f"Set `maxLength: {limit}`, so that every value the API accepts fits the field.",
                )
        elif not (facts.formats & _LENGTH_IMPLIED) and not facts.pattern:
            yield finding(
                "Length not limited",
                f"{label} has no maxLength; the dictionary's field size for {source} is {limit}.",
                loc=prop,
                expected=f"maxLength: {limit} (or less)",
                found="no maxLength",
                fix=f"Add `maxLength: {limit}`.",
            )
    if attribute.data_type is not DataType.CODE and attribute.code_list is None and not attribute.values:
        return
    if attribute.data_type is DataType.CODE and facts.values is None and facts.code_list is None:
        yield finding(
            "Code attribute not constrained",
            f"The dictionary makes {source} a code, but {label} is free {facts.describe()}.",
            loc=prop,
            expected=f"an enum of the codes, or {CODE_LIST_EXTENSION}: {{id: {attribute.code_list or '…'}, version}}",
            found="no enum or code list",
            fix=f"Constrain '{name}' to the code list{' ' + attribute.code_list if attribute.code_list else ''}.",
        )
        return
    if (
        attribute.code_list
        and facts.code_list
        and facts.code_list.casefold() != attribute.code_list.casefold()
    ):
        yield finding(
            "Different code list",
            f"{label} takes codes from '{facts.code_list}'; the dictionary's {source} uses '{attribute.code_list}'.",
            loc=prop,
            expected=f"{CODE_LIST_EXTENSION}.id: {attribute.code_list}",
            found=f"{CODE_LIST_EXTENSION}.id: {facts.code_list}",
            fix="Use the dictionary's code list (or map to it, and say so in the documentation).",
        )
    if attribute.values and facts.values:
        allowed = set(attribute.values)
        extra = [str(v) for v in facts.values if str(v) not in allowed]
        if extra:
            yield finding(
                "Enum value not in the code list",
                f"{label} allows {len(extra)} value(s) that {attribute.code_list or 'the dictionary'}'s list "
                f"for {source} does not have: {', '.join(extra[:5])}{'…' if len(extra) > 5 else ''}.",
                loc=prop,
                expected=f"values of the list ({', '.join(attribute.values[:5])}{'…' if len(attribute.values) > 5 else ''})",
                found=", ".join(extra[:5]),
                fix="Remove the codes the list does not define, or map them to the list's codes.",
            )
