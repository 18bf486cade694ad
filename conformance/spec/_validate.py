"""Validation against the official OpenAPI JSON Schemas, yielding findings rather than exceptions.

The schemas are the ones ``openapi-spec-validator`` ships (OAI's published schemas for 2.0, 3.0 and
3.1); they are read from that package's files without importing it, and compiled with ``jsonschema-rs``
because a pure-Python validator alone takes longer on a multi-MB document than our whole static budget.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from ..errors import SpecError
from .model import LoadIssue, SpecVersion, escape_token

MAX_SCHEMA_ISSUES = 200
"""Past this many schema errors the rest are summarised: one broken construct can cascade."""

_SCHEMA_DIRS = {SpecVersion.SWAGGER_2: "v2.0", SpecVersion.OAS_3_0: "v3.0", SpecVersion.OAS_3_1: "v3.1"}


def _schemas_folder() -> Path:
    spec = importlib.util.find_spec("openapi_spec_validator")
    if spec is None or not spec.submodule_search_locations:
        raise SpecError(
            "the openapi-spec-validator package is not installed", hint="reinstall interop-conformance"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "resources" / "schemas"


@lru_cache(maxsize=4)
def _validator(version: SpecVersion) -> Any:
    import jsonschema_rs

    path = _schemas_folder() / _SCHEMA_DIRS[version] / "schema.json"
    return jsonschema_rs.validator_for(orjson.loads(path.read_bytes()))


def validate(data: Any, version: SpecVersion) -> list[LoadIssue]:
    """Every place where ``data`` breaks the OpenAPI schema of its version."""
    issues: list[LoadIssue] = []
    for error in _validator(version).iter_errors(data):
        if len(issues) >= MAX_SCHEMA_ISSUES:
            issues.append(
                LoadIssue(
                    kind="schema",
                    message=f"more than {MAX_SCHEMA_ISSUES} schema errors; the rest are not listed",
                    loc="#",
                )
            )
            break
        pointer = "".join("/" + escape_token(str(token)) for token in error.instance_path)
        first_line = str(error.message).strip().splitlines()[0] if str(error.message).strip() else "invalid"
        issues.append(
            LoadIssue(
                kind="schema",
                message=f"{pointer or '/'}: {_shorten(first_line)}",
                loc="#" + pointer,
                expected=f"valid against the OpenAPI {version.value} schema",
                found=_shorten(first_line),
            )
        )
    return issues


def _shorten(text: str, limit: int = 240) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
