"""Media types and encodings: content negotiation, JSON, NDJSON and RFC 4180 CSV.

* ``negotiate`` picks what to send from ``Accept`` (RFC 9110 §12.5.1: q-values, ``type/*``, ``*/*``;
  server preference breaks ties); None means 406.
* JSON is UTF-8 (RFC 8259 §8.1) unless the ``latin1-json`` fault asks for ISO-8859-1.
* CSV follows RFC 4180: a header row, CRLF line ends, fields with commas, quotes or line breaks quoted,
  UTF-8 without a byte-order mark. One row per record: nested objects become dotted columns
  (``review.nextReviewDate``), arrays one cell of JSON text, as the document describes.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

__all__ = [
    "csv_bytes",
    "json_bytes",
    "media_type",
    "ndjson_lines",
    "negotiate",
    "strip_offsets",
]

_DATETIME_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$")


def media_type(header: str | None) -> tuple[str, dict[str, str]]:
    """``type/subtype`` in lower case and its parameters (names lower case, values unquoted)."""
    if not header:
        return "", {}
    main, *rest = header.split(";")
    params: dict[str, str] = {}
    for part in rest:
        name, sep, value = part.partition("=")
        if sep:
            params[name.strip().lower()] = value.strip().strip('"')
    return main.strip().lower(), params


def _ranges(accept: str) -> list[tuple[str, float]]:
    ranges: list[tuple[str, float]] = []
    for item in accept.split(","):
        if not item.strip():
            continue
        kind, params = media_type(item)
        try:
            quality = float(params.get("q", "1"))
        except ValueError:
            quality = 0.0
        ranges.append((kind, quality))
    return ranges


def negotiate(accept: str | None, offered: Sequence[str]) -> str | None:
    """The offered media type the client prefers, or None if it accepts none of them."""
    if not offered:
        return None
    if accept is None or not accept.strip():
        return offered[0]
    ranges = _ranges(accept)
    best: tuple[float, int] | None = None
    chosen: str | None = None
    for position, kind in enumerate(offered):
        main = kind.split("/")[0]
        quality = -1.0
        specificity = -1
        for pattern, q in ranges:
            level = 2 if pattern == kind else 1 if pattern == f"{main}/*" else 0 if pattern == "*/*" else -1
            if level > specificity:
                specificity, quality = level, q
        if specificity < 0 or quality <= 0:
            continue
        rank = (quality, -position)
        if best is None or rank > best:
            best, chosen = rank, kind
    return chosen


def strip_offsets(value: Any) -> Any:
    """The ``naive-datetimes`` fault: every UTC date-time string loses its ``Z``."""
    if isinstance(value, str):
        return value[:-1] if _DATETIME_Z.match(value) else value
    if isinstance(value, dict):
        return {k: strip_offsets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strip_offsets(v) for v in value]
    return value


def _latin1(text: str) -> bytes:
    # Characters outside Latin-1 become JSON \u escapes, so the body is still valid JSON in its charset.
    out: list[str] = []
    for char in text:
        code = ord(char)
        if code < 0x100:
            out.append(char)
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
    return "".join(out).encode("latin-1")


def json_bytes(value: Any, *, latin1: bool = False) -> tuple[bytes, str]:
    """The body and its charset label (``utf-8``, or ``iso-8859-1`` under the latin1-json fault)."""
    data = orjson.dumps(value)
    if latin1:
        return _latin1(data.decode("utf-8")), "iso-8859-1"
    return data, "utf-8"


def ndjson_lines(records: Iterable[Mapping[str, Any]]) -> Iterable[bytes]:
    """One JSON record per line, each exactly as in a JSON export's ``items``."""
    for record in records:
        yield orjson.dumps(record) + b"\n"


def _cell(record: Mapping[str, Any], column: str) -> str:
    value: Any = record
    for part in column.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return ""
        value = value[part]
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode("utf-8")


def csv_bytes(records: Iterable[Mapping[str, Any]], columns: Sequence[str], *, rfc4180: bool = True) -> bytes:
    """The records as CSV with a header row; ``rfc4180=False`` is the csv-not-rfc4180 fault (LF, no quoting)."""
    rows = [list(columns)] + [[_cell(r, c) for c in columns] for r in records]
    if not rfc4180:
        return "".join(",".join(row) + "\n" for row in rows).encode("utf-8")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")
