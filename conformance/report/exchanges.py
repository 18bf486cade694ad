"""The HTTP exchanges behind a report's findings, read back from ``evidence/exchanges.ndjson`` for display.

The evidence file is already redacted (``conformance.live.evidence``); this only picks the records
that findings point to and trims them to what a reader needs next to a failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

__all__ = ["MAX_BODY_SHOWN", "exchanges_for"]

MAX_BODY_SHOWN = 2000  # characters of a body shown next to a finding; the evidence file has the rest
_RESPONSE_HEADERS_SHOWN = 12


def exchanges_for(report: Mapping[str, Any], folder: Path) -> dict[str, dict[str, Any]]:
    """``exchange id -> display view`` for every exchange a finding of ``report`` refers to."""
    wanted = {f["exchange"] for o in report.get("outcomes", ()) for f in o["findings"] if f.get("exchange")}
    views: dict[str, dict[str, Any]] = {}
    if not wanted:
        return views
    # A cross-supplier check also talks to a second API, recorded under evidence/peer/ ("peer-ex-…" ids).
    for path in (folder / "evidence" / "exchanges.ndjson", folder / "evidence" / "peer" / "exchanges.ndjson"):
        if path.is_file():
            _read_views(path, wanted, views)
    return views


def _read_views(path: Path, wanted: set[str], views: dict[str, dict[str, Any]]) -> None:
    with path.open("rb") as handle:
        for line in handle:
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue  # a torn last line (interrupted run) must not cost the report
            if isinstance(record, dict) and record.get("id") in wanted:
                views[record["id"]] = _view(record)


def _view(record: Mapping[str, Any]) -> dict[str, Any]:
    request = record.get("request") or {}
    response = record.get("response") or {}
    view: dict[str, Any] = {
        "id": record.get("id"),
        "kind": record.get("kind", "http"),
        "method": record.get("method"),
        "url": record.get("url"),
        "error": record.get("error"),
        "elapsed_ms": record.get("elapsed_ms"),
        "request_headers": _pairs(request.get("headers")),
        "request_body": _body(request.get("body")),
    }
    if response:
        view["status"] = response.get("status")
        view["reason"] = response.get("reason")
        view["response_headers"] = _pairs(response.get("headers"))[:_RESPONSE_HEADERS_SHOWN]
        view["response_body"] = _body(response.get("body"))
    if record.get("kind") == "tls":
        view["detail"] = {k: v for k, v in record.items() if k not in ("id", "kind", "requirement", "time")}
    return view


def _pairs(headers: Any) -> list[tuple[str, str]]:
    if isinstance(headers, Mapping):
        return [(str(k), str(v)) for k, v in headers.items()]
    if isinstance(headers, list):
        return [(str(p[0]), str(p[1])) for p in headers if isinstance(p, (list, tuple)) and len(p) == 2]
    return []


def _body(body: Any) -> str | None:
    if not isinstance(body, Mapping):
        return None
    if body.get("encoding") != "utf-8":
        return f"[{body.get('size', '?')} bytes of binary content; see evidence/exchanges.ndjson]"
    text = str(body.get("content", ""))
    if len(text) > MAX_BODY_SHOWN or body.get("truncated"):
        return (
            text[:MAX_BODY_SHOWN]
            + f"\n… [{body.get('size', '?')} bytes in all; see evidence/exchanges.ndjson]"
        )
    return text
