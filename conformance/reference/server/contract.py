"""The bundled OpenAPI document as the server's routing table, validator and served artefact.

The server is spec first: its paths, methods, scopes, parameters, request media types and body schemas
all come from ``conformance/reference/openapi.yaml``, so a path or method the document does not list
cannot be served by accident, and a 405's ``Allow`` header is exactly the documented methods. Request
bodies and parameters are validated with ``jsonschema_rs`` against the document's own component
schemas (formats included); undeclared properties are dropped with ``prune``, never stored.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
import orjson
import yaml

from .. import REFERENCE_SPEC, load_reference_document
from .clock import format_datetime, parse_datetime
from .problems import FieldError

__all__ = [
    "HTTP_METHODS",
    "Contract",
    "Operation",
    "Parameter",
    "PathEntry",
    "Shape",
    "columns",
    "get_contract",
    "prune",
    "served_variant",
]

HTTP_METHODS = ("GET", "PUT", "POST", "PATCH", "DELETE")
_MAX_MESSAGE = 300


@dataclass(frozen=True, slots=True)
class Parameter:
    """One documented parameter with its compiled validator."""

    name: str
    location: str  # "path", "query" or "header"
    required: bool
    schema: Mapping[str, Any]
    validator: Any  # jsonschema_rs validator (untyped library)

    def coerce(self, raw: str) -> Any:
        """The raw text as the schema's type (an integer parameter that is not digits stays text, and fails)."""
        if self.schema.get("type") == "integer" and re.fullmatch(r"-?[0-9]{1,30}", raw):
            return int(raw)
        return raw


@dataclass(frozen=True, slots=True)
class Operation:
    """One documented operation: what the server needs to dispatch, authorise and validate it."""

    operation_id: str
    method: str
    path: str
    scopes: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    request_media_types: tuple[str, ...]
    request_schema: str | None  # component schema name of the JSON body
    response_media_types: tuple[str, ...]
    deprecated: bool


@dataclass(frozen=True, slots=True)
class PathEntry:
    """A documented path template, its matcher and its operations by method."""

    template: str
    pattern: re.Pattern[str]
    operations: Mapping[str, Operation]

    @property
    def allow(self) -> str:
        """The ``Allow`` header value: the documented methods, in a fixed order."""
        return ", ".join(m for m in HTTP_METHODS if m in self.operations)


@dataclass(frozen=True, slots=True)
class Shape:
    """The declared structure of a schema, for pruning and CSV columns.

    ``properties`` is None for a scalar; ``items`` is the element shape of an array.
    """

    properties: Mapping[str, Shape] | None = None
    items: Shape | None = None
    is_datetime: bool = False


_SCALAR = Shape()
_DATETIME = Shape(is_datetime=True)


class Contract:
    """The parsed document with its indexes; built once per process (``get_contract``)."""

    def __init__(self, document: Mapping[str, Any], yaml_bytes: bytes) -> None:
        self.document = document
        self.yaml_bytes = yaml_bytes
        self.json_bytes = orjson.dumps(document)
        self.version: str = document["info"]["version"]
        components = document.get("components", {})
        self._components = {"components": components}
        flows = components["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]
        self.scopes: tuple[str, ...] = tuple(flows["scopes"])
        self.paths: tuple[PathEntry, ...] = tuple(
            self._path_entry(template, item) for template, item in document["paths"].items()
        )
        self.operations: Mapping[str, Operation] = {
            op.operation_id: op for entry in self.paths for op in entry.operations.values()
        }
        self._validators: dict[str, Any] = {}
        self._shapes: dict[str, Shape] = {}

    # -- routing ------------------------------------------------------------------------------------
    def match(self, path: str) -> tuple[PathEntry, dict[str, str]] | None:
        """The path entry for a request path relative to ``/v1``, with the raw path parameters."""
        for entry in self.paths:
            found = entry.pattern.match(path)
            if found is not None:
                return entry, found.groupdict()
        return None

    def _resolve(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def _path_entry(self, template: str, item: Mapping[str, Any]) -> PathEntry:
        names = re.findall(r"{([A-Za-z0-9_]+)}", template)
        regex = re.escape(template)
        for name in names:
            regex = regex.replace(re.escape("{" + name + "}"), f"(?P<{name}>[^/]+)")
        shared = [self._resolve(p) for p in item.get("parameters", [])]
        operations: dict[str, Operation] = {}
        for method in HTTP_METHODS:
            op = item.get(method.lower())
            if op is None:
                continue
            params = {(p["name"], p["in"]): p for p in shared}
            params.update({(p["name"], p["in"]): p for p in map(self._resolve, op.get("parameters", []))})
            body = op.get("requestBody", {}).get("content", {})
            json_schema = body.get("application/json", body.get("application/merge-patch+json", {})).get(
                "schema"
            )
            responses = op.get("responses", {})
            produced: list[str] = []
            for status, response in responses.items():
                if str(status).startswith("2"):
                    for media in self._resolve(response).get("content", {}):
                        if media not in produced:
                            produced.append(media)
            operations[method] = Operation(
                operation_id=op["operationId"],
                method=method,
                path=template,
                scopes=tuple(
                    scope for requirement in op.get("security", []) for scope in requirement.get("oauth2", [])
                ),
                parameters=tuple(
                    Parameter(
                        name=p["name"],
                        location=p["in"],
                        required=bool(p.get("required")),
                        schema=p["schema"],
                        validator=self._compile(p["schema"]),
                    )
                    for p in params.values()
                ),
                request_media_types=tuple(body),
                request_schema=json_schema["$ref"].rsplit("/", 1)[1]
                if json_schema and "$ref" in json_schema
                else None,
                response_media_types=tuple(produced),
                deprecated=bool(op.get("deprecated")),
            )
        return PathEntry(template=template, pattern=re.compile(f"^{regex}$"), operations=operations)

    # -- validation ---------------------------------------------------------------------------------
    def _compile(self, schema: Mapping[str, Any]) -> Any:
        return jsonschema_rs.Draft202012Validator({**self._components, **schema}, validate_formats=True)

    def validator(self, schema_name: str) -> Any:
        """A compiled validator for ``#/components/schemas/<schema_name>`` (cached)."""
        found = self._validators.get(schema_name)
        if found is None:
            found = self._compile({"$ref": f"#/components/schemas/{schema_name}"})
            self._validators[schema_name] = found
        return found

    def errors(self, schema_name: str, value: Any, *, limit: int = 20) -> list[tuple[FieldError, bool]]:
        """Validation errors as (field error, is-a-type-error) pairs, at most ``limit``."""
        found: list[tuple[FieldError, bool]] = []
        for error in self.validator(schema_name).iter_errors(value):
            pointer = "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in error.instance_path)
            message = error.message
            if len(message) > _MAX_MESSAGE:
                message = message[: _MAX_MESSAGE - 1] + "…"
            found.append(
                (FieldError(pointer, message), isinstance(error.kind, jsonschema_rs.ValidationErrorKind.Type))
            )
            if len(found) >= limit:
                break
        return found

    # -- declared structure -------------------------------------------------------------------------
    def shape(self, schema_name: str) -> Shape:
        """The declared properties of a component schema, with ``allOf`` merged (cached)."""
        found = self._shapes.get(schema_name)
        if found is None:
            found = self._shape(self.document["components"]["schemas"][schema_name])
            self._shapes[schema_name] = found
        return found

    def _shape(self, node: Mapping[str, Any]) -> Shape:
        node = self._resolve(node)
        properties: dict[str, Shape] = {}
        is_object = node.get("type") == "object" or "properties" in node or "allOf" in node
        for part in node.get("allOf", []):
            merged = self._shape(part).properties or {}
            for key, value in merged.items():
                # A later allOf member decides the position (RecordMetadata's `review` moves after the input fields).
                properties.pop(key, None)
                properties[key] = value
        for key, value in node.get("properties", {}).items():
            properties.pop(key, None)
            properties[key] = self._shape(value)
        if is_object:
            return Shape(properties=properties)
        if node.get("type") == "array" and isinstance(node.get("items"), Mapping):
            return Shape(items=self._shape(node["items"]))
        if node.get("format") == "date-time":
            return _DATETIME
        return _SCALAR


def prune(value: Any, shape: Shape) -> tuple[Any, bool]:
    """``value`` without the properties ``shape`` does not declare, date-times normalised to UTC with ``Z``
    (the document accepts an offset on input but always answers in UTC); the flag says whether any
    property was dropped. ``value`` must already be valid against the schema."""
    if shape.is_datetime and isinstance(value, str):
        parsed = parse_datetime(value)
        return (format_datetime(parsed) if parsed is not None else value), False
    if shape.properties is not None and isinstance(value, dict):
        kept: dict[str, Any] = {}
        dropped = False
        for key, item in value.items():
            sub = shape.properties.get(key)
            if sub is None:
                dropped = True
                continue
            kept[key], inner = prune(item, sub)
            dropped = dropped or inner
        return kept, dropped
    if shape.items is not None and isinstance(value, list):
        pruned = [prune(item, shape.items) for item in value]
        return [item for item, _ in pruned], any(flag for _, flag in pruned)
    return value, False


def columns(shape: Shape, prefix: str = "") -> list[str]:
    """CSV column names: one per scalar or array, nested objects flattened with dots (``review.nextReviewDate``)."""
    names: list[str] = []
    for key, sub in (shape.properties or {}).items():
        if sub.properties is not None:
            names += columns(sub, f"{prefix}{key}.")
        else:
            names.append(prefix + key)
    return names


# -- the document as served -----------------------------------------------------------------------------
_EXTRA_OPERATION = {
    "get": {
        "operationId": "getPersonPhoto",
        "tags": ["Persons"],
        "summary": "Read a person's custody photo",
        "description": "Returns the custody photograph held for a Person record.",
        "security": [{"oauth2": ["pole:read"]}],
        "responses": {
            "200": {"description": "The photo.", "content": {"image/jpeg": {"schema": {"type": "string"}}}}
        },
    }
}


def served_variant(contract: Contract, *, differs: bool, untagged: bool) -> tuple[bytes, bytes]:
    """The (JSON, YAML) bytes of the document the server publishes, changed only as the faults ask.

    Without a fault the YAML is the bundled file's exact bytes and the JSON is the same document parsed.
    """
    if not differs and not untagged:
        return contract.json_bytes, contract.yaml_bytes
    return _changed_variant(contract, differs, untagged)


@functools.lru_cache(maxsize=4)
def _changed_variant(contract: Contract, differs: bool, untagged: bool) -> tuple[bytes, bytes]:
    document: dict[str, Any] = copy.deepcopy(dict(contract.document))
    if differs:
        # A live API a patch release ahead of its published document, with an operation nobody documented.
        document["info"]["version"] = "1.0.1"
        document["paths"]["/persons/{personId}/photo"] = {
            "parameters": [{"$ref": "#/components/parameters/PersonId"}],
            **copy.deepcopy(_EXTRA_OPERATION),
        }
    if untagged:
        for schema in document["components"]["schemas"].values():
            schema.pop("x-pole-entity", None)
            schema.pop("x-pole-catalogue-entity", None)
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=110)
    return orjson.dumps(document), text.encode("utf-8")


@functools.lru_cache(maxsize=1)
def get_contract() -> Contract:
    """The reference document's contract, parsed once per process (it is read-only once built)."""
    return Contract(load_reference_document(), REFERENCE_SPEC.read_bytes())
