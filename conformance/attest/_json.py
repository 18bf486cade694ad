"""Strict JSON in, deterministic JSON out: the only JSON code the signing layer uses.

Strict parsing exists because JSON parsers disagree on edge cases and a signed document must mean one
thing to every reader: ``json.loads('{"result":"FAILED","result":"PASSED"}')`` silently gives PASSED (so
does ``jq``), so duplicate keys are rejected; so are non-UTF-8 bytes, a BOM, NaN/Infinity, floats and
absurd nesting. Output is sorted, compact and ASCII-safe, so the same data always gives the same bytes.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["StrictJSONError", "dumps_canonical", "loads_strict"]

_MAX_DEPTH = 64  # our documents nest < 10 deep; a limit keeps hostile input from exhausting the stack


class StrictJSONError(ValueError):
    """The bytes are not strict JSON; the message says why in one line."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise StrictJSONError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _no_constants(name: str) -> Any:
    raise StrictJSONError(f"{name} is not JSON")


def _no_floats(text: str) -> Any:
    # Our documents carry integers only: floats print differently across languages.
    raise StrictJSONError(f"number {text[:20]} is not an integer")


def _depth(value: Any, level: int = 0) -> None:
    if level > _MAX_DEPTH:
        raise StrictJSONError(f"nested deeper than {_MAX_DEPTH} levels")
    if isinstance(value, dict):
        for item in value.values():
            _depth(item, level + 1)
    elif isinstance(value, list):
        for item in value:
            _depth(item, level + 1)


def loads_strict(data: bytes) -> Any:
    """Parse UTF-8 JSON bytes, rejecting duplicate keys, NaN/Infinity, a BOM and deep nesting."""
    try:
        text = data.decode("utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise StrictJSONError(f"not UTF-8 (byte {exc.start})") from None
    if text.startswith("\ufeff"):
        raise StrictJSONError("starts with a byte-order mark")
    try:
        value = json.loads(
            text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants, parse_float=_no_floats
        )
    except StrictJSONError:
        raise
    except json.JSONDecodeError as exc:
        raise StrictJSONError(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise StrictJSONError(f"nested deeper than {_MAX_DEPTH} levels") from None
    except ValueError as exc:  # e.g. an integer longer than Python's digit limit
        raise StrictJSONError(f"not JSON: {exc}") from None
    _depth(value)
    return value


def dumps_canonical(value: Any) -> bytes:
    """Sorted keys, no whitespace, ASCII only (non-ASCII as \\u escapes), no NaN: one byte form per value."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")
