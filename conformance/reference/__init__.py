"""The bundled reference supplier: a model InterOp-Pol OpenAPI document and a deliberately flawed copy.

``openapi.yaml`` (``REFERENCE_SPEC``) is the reference supplier's hand-written OpenAPI 3.1 document:
a POLE and mutual-aid API that passes every static requirement of the ``interop-pol-core`` profile.
``flaws.yaml`` lists deliberate flaws, each an RFC 6902 JSON Patch that breaks one requirement; applied
together (``write_flawed_copy``) they give the NOT CONFORMANT document that ``conformance demo`` shows.

Both files live inside the ``conformance`` package, so they ship in the wheel and are found through
``importlib.resources`` after a plain ``pip install``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jsonpatch
import yaml

from .._yaml import YamlProblem, load_with_lines

__all__ = [
    "FLAWED_FILE_NAME",
    "FLAWS_FILE",
    "REFERENCE_DICTIONARY",
    "REFERENCE_SPEC",
    "Flaw",
    "apply_flaws",
    "load_flaws",
    "load_reference_document",
    "write_flawed_copy",
]

_PACKAGE_FILES = resources.files(__name__)

REFERENCE_SPEC: Path = Path(str(_PACKAGE_FILES.joinpath("openapi.yaml")))
"""The reference supplier's OpenAPI 3.1 document."""

REFERENCE_DICTIONARY: Path = Path(str(_PACKAGE_FILES.joinpath("pole-dictionary.csv")))
"""A small synthetic POLE data dictionary (CSV, ``docs/pole.md``) matching the reference document: the demo's
``--data-dictionary``. It is not the access-controlled PDS POLE data dictionary."""

FLAWS_FILE: Path = Path(str(_PACKAGE_FILES.joinpath("flaws.yaml")))
"""The list of deliberate flaws (requirement, description, JSON Patch)."""

FLAWED_FILE_NAME = "openapi-flawed.yaml"


@dataclass(frozen=True, slots=True)
class Flaw:
    """One deliberate flaw: the requirement it breaks, what it does in plain English, and the patch."""

    requirement: str
    description: str
    patch: tuple[Mapping[str, Any], ...]


def _read_yaml(path: Path) -> Any:
    """Parse with YAML 1.2 scalars (dates and ``on``/``yes`` stay strings), like the spec loader does."""
    try:
        data, _ = load_with_lines(path.read_text(encoding="utf-8"))
    except YamlProblem as exc:
        where = f"{path}:{exc.line}" if exc.line else str(path)
        raise ValueError(f"{where}: {exc.message}") from None
    return data


def load_reference_document() -> dict[str, Any]:
    """The reference document as JSON-compatible data, keys in document order (a fresh copy each call)."""
    data = _read_yaml(REFERENCE_SPEC)
    if not isinstance(data, dict):
        raise ValueError(f"{REFERENCE_SPEC}: the top level is not a mapping")
    return data


def load_flaws() -> list[Flaw]:
    """The flaws of ``flaws.yaml``, in file order; a malformed entry raises ``ValueError``."""
    data = _read_yaml(FLAWS_FILE)
    entries = data.get("flaws") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{FLAWS_FILE}: expected a non-empty list under 'flaws'")
    flaws: list[Flaw] = []
    for i, entry in enumerate(entries):
        where = f"{FLAWS_FILE}: flaws[{i}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{where} is not a mapping")
        requirement, description, patch = (
            entry.get("requirement"),
            entry.get("description"),
            entry.get("patch"),
        )
        if not isinstance(requirement, str) or not requirement.startswith("IOP-"):
            raise ValueError(f"{where}: 'requirement' must be a requirement id such as IOP-C4-01")
        if not isinstance(description, str) or not description.strip():
            raise ValueError(f"{where}: 'description' must be a non-empty string")
        if (
            not isinstance(patch, list)
            or not patch
            or not all(isinstance(op, dict) and "op" in op for op in patch)
        ):
            raise ValueError(f"{where}: 'patch' must be a non-empty list of JSON Patch operations")
        flaws.append(
            Flaw(requirement=requirement, description=" ".join(description.split()), patch=tuple(patch))
        )
    return flaws


def apply_flaws(document: Mapping[str, Any], flaws: Iterable[Flaw]) -> dict[str, Any]:
    """A copy of ``document`` with every flaw's patch applied, in order (``document`` is not changed)."""
    result: Any = copy.deepcopy(dict(document))
    for flaw in flaws:
        operations = [dict(op) for op in flaw.patch]
        try:
            result = jsonpatch.apply_patch(result, operations, in_place=True)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
            raise ValueError(f"the patch of flaw {flaw.requirement} does not apply: {exc}") from None
    if not isinstance(result, dict):
        raise ValueError("the flaws replaced the whole document with something that is not a mapping")
    return result


class _Dumper(yaml.SafeDumper):
    """Safe YAML in the reference document's style: lists indented under their key, and multi-line
    strings (descriptions) written as literal blocks."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def write_flawed_copy(dest_folder: Path) -> Path:
    """Write the reference document with every flaw applied to ``dest_folder/openapi-flawed.yaml``."""
    flawed = apply_flaws(load_reference_document(), load_flaws())
    dest_folder.mkdir(parents=True, exist_ok=True)
    path = dest_folder / FLAWED_FILE_NAME
    text = yaml.dump(flawed, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)
    path.write_text(text, encoding="utf-8")
    return path
