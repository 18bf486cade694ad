"""Small YAML files (profiles, configuration) loaded as JSON-compatible data *with line numbers*.

PyYAML composes the node tree (so every value keeps its line); scalars are resolved with the YAML 1.2
core schema instead of PyYAML's YAML 1.1 rules, so ``on``/``yes`` stay strings and timestamps stay
text. Duplicate keys are an error, and a node reused through an alias is built once (no alias bomb).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import yaml

from .pointer import escape

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"^[-+]?[0-9]+$")
_OCT = re.compile(r"^0o[0-7]+$")
_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")


class YamlProblem(ValueError):
    """A YAML file cannot be read; carries the 1-based line when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def _plain_scalar(text: str) -> Any:
    if _NULL.match(text):
        return None
    if text in _BOOL:
        return _BOOL[text]
    if _INT.match(text):
        return int(text)
    if _OCT.match(text):
        return int(text[2:], 8)
    if _HEX.match(text):
        return int(text[2:], 16)
    if _FLOAT.match(text):
        return float(text)
    if _INF.match(text):
        return -math.inf if text.startswith("-") else math.inf
    if _NAN.match(text):
        return math.nan
    return text


def load_with_lines(text: str) -> tuple[Any, dict[str, int]]:
    """Parse one YAML document; return ``(data, {json_pointer: line})``."""
    loader_cls: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        node = yaml.compose(text, Loader=loader_cls)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlProblem(f"malformed YAML: {problem}", mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"malformed YAML: {exc}") from None
    lines: dict[str, int] = {}
    built: dict[int, Any] = {}

    def build(node: yaml.Node, pointer: str) -> Any:
        lines.setdefault(pointer, node.start_mark.line + 1)
        if id(node) in built:
            return built[id(node)]
        if isinstance(node, yaml.ScalarNode):
            plain = not node.style  # the C loader reports '' for plain scalars, the Python one None
            return _plain_scalar(node.value) if plain and node.tag in _IMPLICIT else node.value
        if isinstance(node, yaml.SequenceNode):
            items: list[Any] = []
            built[id(node)] = items
            for i, item in enumerate(node.value):
                items.append(build(item, f"{pointer}/{i}"))
            return items
        if isinstance(node, yaml.MappingNode):
            mapping: dict[str, Any] = {}
            built[id(node)] = mapping
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise YamlProblem("a mapping key must be plain text", key_node.start_mark.line + 1)
                key = key_node.value
                if key in mapping:
                    raise YamlProblem(f"duplicate key '{key}'", key_node.start_mark.line + 1)
                child = f"{pointer}/{escape(key)}"
                lines[child] = key_node.start_mark.line + 1
                mapping[key] = build(value_node, child)
            return mapping
        raise YamlProblem("unsupported YAML node", node.start_mark.line + 1)

    if node is None:
        return None, {}
    return build(node, ""), lines


# Tags PyYAML's resolver may assign to plain scalars; we re-resolve those with YAML 1.2 rules.
_IMPLICIT = {
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:value",
    "tag:yaml.org,2002:merge",
}

LineLookup = Callable[[str], "int | None"]
