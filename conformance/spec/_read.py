"""Reading one document (file or https URL) and parsing it into JSON-compatible data.

YAML is parsed as YAML 1.2 (``yaml-rs``): ``2024-05-29T00:00:00Z`` and ``on``/``yes`` stay strings, as
OpenAPI expects; alias expansion is capped so an alias bomb fails fast. Mapping keys that YAML reads as
numbers or booleans (``200:`` in ``responses``) become strings, so the data is what a JSON parser gives.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from ..errors import SpecError

DEFAULT_MAX_BYTES = 32 * 1024 * 1024
"""Largest document accepted (32 MiB): the GitHub REST description is 13 MB; larger is almost surely a mistake."""

FETCH_TIMEOUT_SECONDS = 20.0
MAX_ALIAS_EVENTS = 1_000_000
"""YAML alias replays allowed before the document is treated as an alias bomb."""


@dataclass(frozen=True, slots=True)
class RawDocument:
    uri: str
    data: Any
    text: str
    sha256: str
    format: str


def is_url(source: str) -> bool:
    return source.startswith(("https://", "http://"))


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def read_bytes(
    source: str, *, display: str, max_bytes: int = DEFAULT_MAX_BYTES, ca_bundle: str | None = None
) -> tuple[bytes, str]:
    """Return ``(content, absolute uri)``; every failure is a one-line ``SpecError``."""
    if is_url(source):
        return _fetch(source, display=display, max_bytes=max_bytes, ca_bundle=ca_bundle), source
    path = Path(source)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise SpecError("file not found", source=display, hint="check the path") from None
    except OSError as exc:
        raise SpecError(f"cannot read file: {exc.strerror}", source=display) from None
    if path.is_dir():
        raise SpecError("is a folder, not a file", source=display, hint="give the OpenAPI document itself")
    if size > max_bytes:
        raise SpecError(
            f"document is {size / 1048576:.1f} MiB, over the {max_bytes // 1048576} MiB limit",
            source=display,
            hint="raise it with --max-spec-size if this is really an OpenAPI document",
        )
    try:
        data = _read_file(path)
    except PermissionError:
        raise SpecError("permission denied: the file is not readable", source=display) from None
    except OSError as exc:
        raise SpecError(f"cannot read file: {exc.strerror or exc}", source=display) from None
    return data, str(path.resolve())


def _read_file(path: Path) -> bytes:
    return path.read_bytes()


def _fetch(url: str, *, display: str, max_bytes: int, ca_bundle: str | None = None) -> bytes:
    parts = urlsplit(url)
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise SpecError(
            "refusing to fetch a document over plain http",
            source=display,
            hint="use an https:// URL (plain http is accepted only for 127.0.0.1/localhost)",
        )
    import requests  # deferred: the static path from a file never needs it

    ca_bundle = ca_bundle or os.environ.get("CONFORMANCE_CA_BUNDLE")
    try:
        with requests.get(
            url,
            timeout=(5.0, FETCH_TIMEOUT_SECONDS),
            stream=True,
            allow_redirects=False,
            verify=ca_bundle or True,
            headers={"Accept": "application/json, application/yaml;q=0.9, */*;q=0.1"},
        ) as resp:
            if resp.status_code != 200:
                raise SpecError(f"fetching the document returned HTTP {resp.status_code}", source=display)
            chunks: list[bytes] = []
            total = 0
            for chunk in resp.iter_content(65536):
                total += len(chunk)
                if total > max_bytes:
                    raise SpecError(f"document is over the {max_bytes // 1048576} MiB limit", source=display)
                chunks.append(chunk)
            return b"".join(chunks)
    except requests.RequestException as exc:
        reason = type(exc).__name__
        raise SpecError(f"cannot fetch the document ({reason})", source=display) from None


def parse(raw: bytes, *, uri: str, display: str) -> RawDocument:
    """Decode and parse JSON or YAML into JSON-compatible data."""
    if not raw.strip():
        raise SpecError("the file is empty", source=display, hint="expected an OpenAPI document")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"not UTF-8 text (invalid byte at offset {exc.start})",
            source=display,
            hint="OpenAPI documents must be UTF-8 encoded",
        ) from None
    digest = hashlib.sha256(raw).hexdigest()
    lowered = uri.lower().split("?")[0]
    looks_json = lowered.endswith(".json") or text.lstrip().startswith(("{", "["))
    if looks_json:
        try:
            return RawDocument(uri=uri, data=orjson.loads(raw), text=text, sha256=digest, format="json")
        except orjson.JSONDecodeError as exc:
            if lowered.endswith(".json"):
                raise SpecError(
                    f"malformed JSON: {exc.msg}", source=display, location=f"{exc.lineno}:{exc.colno}"
                ) from None
    data = _parse_yaml(text, display=display)
    return RawDocument(uri=uri, data=data, text=text, sha256=digest, format="yaml")


def _parse_yaml(text: str, *, display: str) -> Any:
    import yaml_rs

    try:
        data = yaml_rs.loads(
            text,
            parse_datetime=False,
            alias_limits=yaml_rs.AliasLimits(max_total_replayed_events=MAX_ALIAS_EVENTS),
        )
    except yaml_rs.YAMLDecodeError as exc:
        raise _yaml_error(str(exc), display) from None
    except RecursionError:
        raise SpecError("malformed YAML: nested too deeply", source=display) from None
    return json_compatible(data, display=display)


def _yaml_error(detail: str, display: str) -> SpecError:
    first = detail.strip().splitlines()[0] if detail.strip() else "unknown error"
    reason = detail.strip().splitlines()[-1].strip() if detail.strip() else ""
    if "alias" in first and "limit" in first:
        return SpecError(
            "YAML alias expansion exceeds the safety limit (an alias bomb?)",
            source=display,
            hint=f"more than {MAX_ALIAS_EVENTS:,} events replayed through aliases",
        )
    location = None
    marker = " at line "
    if marker in first:
        tail = first.split(marker, 1)[1]
        line, _, col = tail.partition(", column ")
        if line.strip().isdigit():
            location = line.strip() + (":" + col.strip() if col.strip().isdigit() else "")
        first = first.split(marker, 1)[0]
    message = f"malformed YAML: {reason}" if reason and reason != first else f"malformed YAML: {first}"
    return SpecError(message, source=display, location=location)


_SCALAR_KEY_TEXT = {True: "true", False: "false", None: "null"}


def json_compatible(data: Any, *, display: str) -> Any:
    """Turn non-string mapping keys into strings, in place where possible; reject complex keys."""
    stack = [data]
    while stack:
        node = stack.pop()
        if type(node) is dict:
            if not all(type(k) is str for k in node):
                fixed: dict[str, Any] = {}
                for key, value in node.items():
                    fixed[_key_text(key, display)] = value
                node.clear()
                node.update(fixed)
            stack.extend(v for v in node.values() if type(v) in (dict, list))
        elif type(node) is list:
            stack.extend(v for v in node if type(v) in (dict, list))
    return data


def _key_text(key: Any, display: str) -> str:
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, bool):
        return _SCALAR_KEY_TEXT[key]
    if isinstance(key, (int, float)):
        return str(key)
    raise SpecError(
        f"a mapping key is a {type(key).__name__}, not text",
        source=display,
        hint="JSON allows only string keys",
    )
