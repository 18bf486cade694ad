"""Loading OpenAPI documents: read, parse, resolve, validate and index, in that order.

``load_spec(source)`` accepts a path or an https URL to an OpenAPI 3.0.x / 3.1.x or Swagger 2.0
document in JSON or YAML. Anything that makes the document unusable raises ``SpecError`` with one line
naming the file and the place; anything merely wrong with it (schema violations, remote references left
unfetched, undeclared path parameters) is kept in ``Spec.issues`` for the checks to report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ..errors import SpecError
from . import _read
from ._index import SpecIndex
from ._locate import Position, locate
from ._read import DEFAULT_MAX_BYTES
from ._refs import DocumentSet
from ._validate import validate
from .model import (
    LoadIssue,
    Loc,
    Operation,
    SchemaNode,
    SecurityScheme,
    SourceDocument,
    Spec,
    SpecVersion,
    child,
    split_loc,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "LoadIssue",
    "Loc",
    "Operation",
    "Position",
    "SchemaNode",
    "SecurityScheme",
    "Spec",
    "SpecIndex",
    "SpecVersion",
    "child",
    "load_spec",
    "locate_in",
    "split_loc",
]

_OAS3 = re.compile(r"^3\.([01])\.\d+$")


def load_spec(
    source: str,
    *,
    allow_remote_refs: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    ca_bundle: str | None = None,
) -> Spec:
    """Load, validate and index an OpenAPI document (see the module docstring).

    ``ca_bundle`` is the PEM file that verifies an https server's certificate (default: the system's, or
    ``$CONFORMANCE_CA_BUNDLE``)."""
    display = source

    def load(uri: str, name: str) -> _read.RawDocument:
        raw, absolute = _read.read_bytes(
            uri, display=name or display, max_bytes=max_bytes, ca_bundle=ca_bundle
        )
        return _read.parse(raw, uri=absolute, display=name or display)

    root = load(source, "")
    version, version_string = _detect_version(root.data, display)
    docs = DocumentSet(root, display=display, loader=load, allow_remote=allow_remote_refs)
    docs.set_locator(_line_of)
    issues: list[LoadIssue] = []
    if not _OAS3.match(version_string):
        issues.append(
            LoadIssue(
                kind="version",
                message=f"the document is {'Swagger' if version is SpecVersion.SWAGGER_2 else 'OpenAPI'} "
                f"{version_string}, not OpenAPI 3.0.x/3.1.x",
                loc="#/swagger" if version is SpecVersion.SWAGGER_2 else "#/openapi",
                expected="openapi: 3.0.x or 3.1.x",
                found=f"{'swagger' if version is SpecVersion.SWAGGER_2 else 'openapi'}: {version_string}",
            )
        )
    issues.extend(validate(root.data, version))
    index = SpecIndex(docs, version)
    issues.extend(index.issues)
    for where, ref in docs.remote_refs:
        issues.append(
            LoadIssue(
                kind="remote-ref",
                message=f"remote $ref '{ref}' was not fetched",
                loc=where,
                expected="a self-contained document (or run with --allow-remote-refs)",
                found=ref,
            )
        )
    return Spec(
        source=display,
        version=version,
        version_string=version_string,
        root=docs.root,
        documents=docs.documents,
        issues=tuple(issues),
        index=index,
    )


def _detect_version(data: Any, display: str) -> tuple[SpecVersion, str]:
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a single {type(data).__name__} value"
        raise SpecError(f"not an OpenAPI document: the top level is {kind}, not a mapping", source=display)
    if "openapi" in data:
        value = data["openapi"]
        if not isinstance(value, str):
            raise SpecError(
                f"'openapi' must be a version string such as \"3.1.0\" (got {value!r})",
                source=display,
                location="/openapi",
                hint="quote the version in YAML",
            )
        match = re.match(r"^3\.([01])\.\d+", value)
        if match is None:
            raise SpecError(
                f"unsupported OpenAPI version {value!r}",
                source=display,
                location="/openapi",
                hint="supported: Swagger 2.0, OpenAPI 3.0.x and 3.1.x",
            )
        return (SpecVersion.OAS_3_0 if match.group(1) == "0" else SpecVersion.OAS_3_1), value
    if "swagger" in data:
        value = data["swagger"]
        if str(value) not in ("2.0", "2"):
            raise SpecError(
                f"unsupported Swagger version {value!r}",
                source=display,
                location="/swagger",
                hint="supported: Swagger 2.0, OpenAPI 3.0.x and 3.1.x",
            )
        return SpecVersion.SWAGGER_2, "2.0"
    raise SpecError(
        "not an OpenAPI document: no 'openapi' or 'swagger' field at the top level", source=display
    )


def _line_of(doc: SourceDocument, pointer: str) -> str | None:
    found = locate(doc, [pointer]).get(pointer)
    return f"{found[0]}" if found else None


def locate_in(spec: Spec, locs: Iterable[Loc]) -> dict[Loc, Position]:
    """Line/column for each location (grouped per document, one scan each)."""
    by_doc: dict[str, list[str]] = {}
    for loc in locs:
        doc_name, _, pointer = loc.partition("#")
        by_doc.setdefault(doc_name, []).append(pointer)
    docs = {d.name: d for d in spec.documents}
    result: dict[Loc, Position] = {}
    for doc_name, pointers in by_doc.items():
        doc = docs.get(doc_name)
        if doc is None:
            continue
        for pointer, position in locate(doc, pointers).items():
            result[f"{doc_name}#{pointer}"] = position
    return result
