"""``report.json``: canonical bytes of the report (sorted keys, 2-space indent, integers only)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

__all__ = ["canonical_bytes", "render"]


def _reject_floats(value: Any, path: str = "") -> None:
    # Floats serialise differently across languages; a signed artefact must not depend on that.
    if isinstance(value, float):
        raise TypeError(f"float at {path or '/'} in report (use integers)")
    if isinstance(value, Mapping):
        for key, item in value.items():
            _reject_floats(item, f"{path}/{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _reject_floats(item, f"{path}/{i}")


def canonical_bytes(report: Mapping[str, Any]) -> bytes:
    _reject_floats(report)
    return orjson.dumps(report, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"


def render(report: Mapping[str, Any]) -> bytes:
    return canonical_bytes(report)
