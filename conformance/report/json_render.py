"""``report.json``: canonical bytes of the report (sorted keys, 2-space indent, integers only)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

__all__ = ["canonical_bytes", "render"]

_CONTAINERS = (dict, list)


def _has_float(value: Any) -> bool:
    stack = [value]
    while stack:
        node = stack.pop()
        items = node.values() if type(node) is dict else node
        for item in items:
            kind = type(item)
            if kind is float:
                return True
            if kind in _CONTAINERS:
                stack.append(item)
    return False


def _float_path(value: Any, path: str = "") -> str | None:
    """Where the first float is (only computed once one is known to exist)."""
    if type(value) is float:
        return path or "/"
    pairs = value.items() if type(value) is dict else enumerate(value) if type(value) is list else ()
    for key, item in pairs:
        found = _float_path(item, f"{path}/{key}")
        if found:
            return found
    return None


_last: tuple[Mapping[str, Any], bytes] | None = None


def canonical_bytes(report: Mapping[str, Any]) -> bytes:
    """The exact bytes of report.json. Renderers that show its digest ask again, so the last answer is
    kept (with the report object itself, so a new report can never be mistaken for the old one)."""
    global _last
    if _last is not None and _last[0] is report:
        return _last[1]
    # Floats serialise differently across languages; a signed artefact must not depend on that.
    if _has_float(dict(report)):
        raise TypeError(f"float at {_float_path(dict(report))} in report (use integers)")
    data = orjson.dumps(report, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"
    _last = (report, data)
    return data


def render(report: Mapping[str, Any]) -> bytes:
    return canonical_bytes(report)
