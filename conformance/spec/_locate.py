"""JSON pointer -> line and column in the text of a document, computed only when asked.

Positions are needed for a handful of findings (SARIF regions, error messages), so nothing is tracked
while loading. For JSON we descend only along the requested pointers and let the C JSON scanner jump
over everything else; for YAML we replay PyYAML's C event stream. A position is the line of the key
(for an object member) or of the value (for an array item); a pointer to something absent falls back to
its nearest existing ancestor. If the text cannot be scanned, nothing is located: the pointer alone
still identifies the place.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterable
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any

from .model import SourceDocument, escape_token

Position = tuple[int, int]  # 1-based line, 1-based column

_WS = re.compile(r"[ \t\n\r]*")
_decoder = json.JSONDecoder()


def locate(doc: SourceDocument, pointers: Iterable[str]) -> dict[str, Position]:
    """Best-effort ``pointer -> (line, column)`` for every pointer that exists (or has an ancestor)."""
    wanted = {p for p in pointers if p is not None}
    if not wanted:
        return {}
    prefixes: set[str] = {""}
    for pointer in wanted:
        parts = pointer.split("/")
        for i in range(1, len(parts) + 1):
            prefixes.add("/".join(parts[:i]))
    try:
        offsets = _json_offsets(doc.text, prefixes) if doc.format == "json" else {}
        if doc.format == "json":
            # Only the pointers asked for (or their nearest existing ancestor) are turned into lines.
            needed = {_nearest(p, offsets) for p in wanted}
            found = {p: _to_line_col(doc.text, offsets[p]) for p in needed if p in offsets}
        else:
            found = _yaml_positions(doc.text, prefixes)
    except (ValueError, IndexError, RecursionError):
        return {}
    except Exception:
        return {}
    result: dict[str, Position] = {}
    for pointer in wanted:
        probe = pointer
        while probe not in found and probe:
            probe = probe.rsplit("/", 1)[0]
        if probe in found:
            result[pointer] = found[probe]
    return result


def _nearest(pointer: str, known: dict[str, int]) -> str:
    while pointer not in known and pointer:
        pointer = pointer.rsplit("/", 1)[0]
    return pointer


_line_cache: dict[int, list[int]] = {}


def _to_line_col(text: str, offset: int) -> Position:
    starts = _line_cache.get(id(text))
    if starts is None:
        starts = [0] + [m.end() for m in re.finditer("\n", text)]
        _line_cache.clear()
        _line_cache[id(text)] = starts
    line = bisect.bisect_right(starts, offset)
    return line, offset - starts[line - 1] + 1


def _json_offsets(text: str, prefixes: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    start = 1 if text.startswith("\ufeff") else 0
    _json_value(text, _WS.match(text, start).end(), "", prefixes, found)  # type: ignore[union-attr]
    return found


def _json_value(text: str, idx: int, pointer: str, prefixes: set[str], found: dict[str, int]) -> int:
    found.setdefault(pointer, idx)
    char = text[idx]
    if pointer not in prefixes or char not in "{[":
        _, end = _decoder.raw_decode(text, idx)
        return int(end)
    if char == "{":
        idx = _WS.match(text, idx + 1).end()  # type: ignore[union-attr]
        if text[idx] == "}":
            return idx + 1
        while True:
            key_pos = idx
            key, idx = scanstring(text, idx + 1)
            child = pointer + "/" + escape_token(key)
            if child in prefixes:
                found.setdefault(child, key_pos)
            idx = _WS.match(text, idx).end()  # type: ignore[union-attr]
            idx = _WS.match(text, idx + 1).end()  # type: ignore[union-attr]  # past ':'
            if child in prefixes:
                idx = _json_value(text, idx, child, prefixes, found)
            else:
                _, idx = _decoder.raw_decode(text, idx)
            idx = _WS.match(text, idx).end()  # type: ignore[union-attr]
            if text[idx] == "}":
                return idx + 1
            idx = _WS.match(text, idx + 1).end()  # type: ignore[union-attr]  # past ','
    idx = _WS.match(text, idx + 1).end()  # type: ignore[union-attr]
    if text[idx] == "]":
        return idx + 1
    index = 0
    while True:
        child = f"{pointer}/{index}"
        if child in prefixes:
            idx = _json_value(text, idx, child, prefixes, found)
        else:
            _, idx = _decoder.raw_decode(text, idx)
        idx = _WS.match(text, idx).end()  # type: ignore[union-attr]
        if text[idx] == "]":
            return idx + 1
        idx = _WS.match(text, idx + 1).end()  # type: ignore[union-attr]
        index += 1


def _yaml_positions(text: str, prefixes: set[str]) -> dict[str, Position]:
    import yaml

    loader_cls: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    found: dict[str, Position] = {}
    # Each frame: [kind, pointer, next key or index, expecting_key]
    stack: list[list[Any]] = []
    for event in yaml.parse(text, Loader=loader_cls):
        if isinstance(event, (yaml.StreamStartEvent, yaml.DocumentStartEvent, yaml.StreamEndEvent)):
            continue
        if isinstance(event, yaml.DocumentEndEvent):
            break
        if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            if stack.pop()[0] != "skip":
                _advance(stack)
            continue
        mark = event.start_mark
        position = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
        if stack and stack[-1][0] == "map" and stack[-1][3]:
            # a key: remember it; its value's pointer starts here
            key = event.value if isinstance(event, yaml.ScalarEvent) else "?"
            frame = stack[-1]
            frame[2] = frame[1] + "/" + escape_token(str(key))
            frame[3] = False
            if frame[2] in prefixes:
                found.setdefault(frame[2], position)
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                stack.append(["skip", "", None, False])  # complex key: ignore its contents
            continue
        pointer = _current_pointer(stack)
        if pointer in prefixes:
            found.setdefault(pointer, position)
        if isinstance(event, yaml.MappingStartEvent):
            stack.append(["map", pointer, None, True])
        elif isinstance(event, yaml.SequenceStartEvent):
            stack.append(["seq", pointer, 0, False])
        else:
            _advance(stack)
    return found


def _current_pointer(stack: list[list[Any]]) -> str:
    if not stack:
        return ""
    frame = stack[-1]
    if frame[0] == "map":
        return str(frame[2])
    if frame[0] == "seq":
        return f"{frame[1]}/{frame[2]}"
    return "\0skip"


def _advance(stack: list[list[Any]]) -> None:
    if not stack:
        return
    frame = stack[-1]
    if frame[0] == "map":
        frame[3] = True
    elif frame[0] == "seq":
        frame[2] += 1
