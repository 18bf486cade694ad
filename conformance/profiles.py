"""Profiles: loading, schema validation, ``extends`` with override, versions and digests.

A profile is a YAML file (``profiles/*.yaml``) validated against ``profiles/profile.schema.json``.
Requirements name a registered check; parameters given under ``with`` are checked against the check's
declared parameters. Every error names the file, the line and the field, and suggests the closest valid
value (``unknown check 'openapi.server.https' (did you mean 'openapi.servers.https'?)``).

``extends`` lists parent profiles (``id``, ``id@version`` or a relative path). Parents are resolved
first; a requirement with an id the child also defines is overridden field by field (``with`` merges),
and ``remove`` drops inherited requirements.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.resources
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from ._yaml import YamlProblem, load_with_lines
from .errors import ProfileError
from .outcome import Level
from .pointer import escape
from .registry import CHECKS

__all__ = [
    "Declaration",
    "Profile",
    "Requirement",
    "Tier",
    "bundled_profiles",
    "bundled_profiles_dir",
    "load_profile",
    "parse_selector",
]

_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")
_MAX_DEPTH = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class Requirement:
    """One profile entry: a charter commitment traced to a check, at a level."""

    id: str
    commitment: str
    level: Level
    title: str
    check: str
    params: Mapping[str, Any]  # the check's defaults overlaid with the profile's `with`
    overrides: Mapping[str, Any]  # just what the profile set under `with`
    references: tuple[str, ...]
    reconstructed: bool
    rationale: str | None
    defined_in: str  # "<file>:<line>"


@dataclass(frozen=True, slots=True, kw_only=True)
class Declaration:
    id: str
    title: str
    commitment: str
    required: bool
    reconstructed: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Tier:
    tier: str
    description: str
    requires_passed: tuple[str, ...]
    requires_reported: tuple[str, ...]
    requires_declarations: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    id: str
    version: str
    title: str
    description: str
    charter: Mapping[str, str]
    extends: tuple[str, ...]
    commitments: Mapping[str, Mapping[str, Any]]
    tiers: tuple[Tier, ...]
    declarations: tuple[Declaration, ...]
    requirements: tuple[Requirement, ...]
    path: str
    sha256: str  # of this file's bytes: what `sha256sum` prints
    resolved_sha256: str  # of the resolved profile (parents included), canonical JSON
    parents: tuple[Mapping[str, str], ...]  # id, version, sha256 of each profile extended (transitively)

    def requirement(self, requirement_id: str) -> Requirement:
        for req in self.requirements:
            if req.id == requirement_id:
                return req
        raise KeyError(requirement_id)


# -- locating profiles ---------------------------------------------------------------------------------
def bundled_profiles_dir() -> Path:
    """Where the bundled profiles are: inside the installed package, or the repository's ``profiles/``."""
    packaged = importlib.resources.files("conformance") / "_bundled" / "profiles"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / "profiles"


def _search_dirs() -> list[Path]:
    dirs = [Path(p) for p in os.environ.get("CONFORMANCE_PROFILE_PATH", "").split(os.pathsep) if p]
    dirs.append(bundled_profiles_dir())
    return dirs


def bundled_profiles() -> list[tuple[str, str, Path]]:
    """``(id, version, path)`` of every profile found on the search path, sorted."""
    found: dict[tuple[str, str], Path] = {}
    for folder in _search_dirs():
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*.y*ml")):
            header = _peek_header(path)
            if header is not None:
                found.setdefault(header, path)
    return sorted(
        ((pid, ver, path) for (pid, ver), path in found.items()), key=lambda t: (t[0], _semver_key(t[1]))
    )


def _peek_header(path: Path) -> tuple[str, str] | None:
    profile_id = version = None
    try:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("profile:"):
                    profile_id = line.split(":", 1)[1].strip().strip("'\"")
                elif line.startswith("version:"):
                    version = line.split(":", 1)[1].strip().strip("'\"")
                if profile_id and version:
                    return profile_id, version
    except (OSError, UnicodeDecodeError):
        return None
    return None


def _semver_key(version: str) -> tuple[int, int, int, int, str]:
    match = _SEMVER.match(version)
    if not match:
        return (0, 0, 0, 0, version)
    major, minor, patch, pre = match.groups()
    return (int(major), int(minor), int(patch), 0 if pre else 1, pre or "")


def resolve_profile_path(ref: str, *, relative_to: Path | None = None) -> Path:
    """A profile reference (path, ``id`` or ``id@version``) -> the file to load."""
    candidate = (relative_to / ref) if relative_to is not None and not Path(ref).is_absolute() else Path(ref)
    if candidate.suffix in (".yaml", ".yml", ".json") or os.sep in ref or "/" in ref:
        if candidate.is_file():
            return candidate
        raise ProfileError("profile file not found", source=str(candidate))
    profile_id, _, version = ref.partition("@")
    known = bundled_profiles()
    matches = [(v, p) for pid, v, p in known if pid == profile_id and (not version or v == version)]
    if matches:
        return max(matches, key=lambda vp: _semver_key(vp[0]))[1]
    if any(pid == profile_id for pid, _, _ in known):
        versions = ", ".join(v for pid, v, _ in known if pid == profile_id)
        raise ProfileError(f"profile '{profile_id}' has no version {version}", hint=f"available: {versions}")
    ids = sorted({pid for pid, _, _ in known})
    close = difflib.get_close_matches(profile_id, ids, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"known profiles: {', '.join(ids) or 'none'}"
    raise ProfileError(f"unknown profile '{ref}'", hint=hint)


# -- loading ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Raw:
    path: Path
    data: dict[str, Any]
    lines: dict[str, int]
    sha256: str

    def where(self, pointer: str) -> str:
        probe = pointer
        while probe and probe not in self.lines:
            probe = probe.rsplit("/", 1)[0]
        return str(self.lines.get(probe, 1))


def load_profile(ref: str | Path) -> Profile:
    """Load a profile by path, ``id`` or ``id@version``; raise ``ProfileError`` on any problem."""
    from . import checks as _builtin_checks  # noqa: F401 - registers the built-in checks

    path = ref if isinstance(ref, Path) else resolve_profile_path(ref)
    chain: list[_Raw] = []
    merged = _resolve(path, chain=chain, stack=())
    return _build(merged, chain)


def _read_raw(path: Path) -> _Raw:
    display = str(path)
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise ProfileError("profile file not found", source=display) from None
    except OSError as exc:
        raise ProfileError(f"cannot read profile: {exc.strerror}", source=display) from None
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise ProfileError("profile is not UTF-8 text", source=display) from None
    try:
        data, lines = load_with_lines(text)
    except YamlProblem as exc:
        raise ProfileError(
            exc.message, source=display, location=str(exc.line) if exc.line else None
        ) from None
    if not isinstance(data, dict):
        raise ProfileError("a profile must be a YAML mapping", source=display, location="1")
    raw = _Raw(path=path, data=data, lines=lines, sha256=hashlib.sha256(content).hexdigest())
    _validate_schema(raw)
    return raw


def _validate_schema(raw: _Raw) -> None:
    validator = _fast_validator()
    if validator.is_valid(raw.data):
        return
    # Only now pay for the reference validator: its error tree gives the clearest message.
    import jsonschema

    schema = orjson.loads((bundled_profiles_dir() / "profile.schema.json").read_bytes())
    errors = sorted(
        jsonschema.Draft202012Validator(schema).iter_errors(raw.data),
        key=lambda e: (-len(e.absolute_path), str(e.message)),
    )
    error = errors[0]
    tokens = [str(t) for t in error.absolute_path]
    pointer = "".join("/" + escape(t) for t in tokens)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extras = sorted(set(error.instance) - allowed)
        if extras:
            pointer += "/" + escape(extras[0])  # point at the unknown key's own line
    field = _field_name(tokens, raw.data)
    message, hint = _explain(error, field)
    raise ProfileError(message, source=str(raw.path), location=raw.where(pointer), hint=hint)


@lru_cache(maxsize=1)
def _fast_validator() -> Any:
    import jsonschema_rs

    return jsonschema_rs.validator_for(
        orjson.loads((bundled_profiles_dir() / "profile.schema.json").read_bytes())
    )


def _field_name(tokens: list[str], data: Any) -> str:
    parts: list[str] = []
    node = data
    for token in tokens:
        if isinstance(node, list) and token.isdigit():
            node = node[int(token)]
            label = node.get("id") if isinstance(node, dict) and isinstance(node.get("id"), str) else token
            parts.append(f"[{label}]")
        else:
            node = node.get(token) if isinstance(node, dict) else None
            parts.append(("." if parts else "") + token)
    return "".join(parts) or "(top level)"


def _explain(error: Any, field: str) -> tuple[str, str | None]:
    kind = error.validator
    if kind == "enum":
        options = ", ".join(str(o) for o in error.validator_value)
        close = difflib.get_close_matches(str(error.instance), [str(o) for o in error.validator_value], n=1)
        return (
            f"'{field}' must be one of {options} (got {error.instance!r})",
            f"did you mean '{close[0]}'?" if close else None,
        )
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extras = sorted(set(error.instance) - set(allowed)) if isinstance(error.instance, dict) else []
        unknown = extras[0] if extras else "?"
        close = difflib.get_close_matches(unknown, allowed, n=1)
        where = f" in '{field}'" if field != "(top level)" else ""
        return (
            f"unknown field '{unknown}'{where}",
            f"did you mean '{close[0]}'?" if close else f"allowed: {', '.join(allowed)}",
        )
    if kind == "required":
        return f"'{field}' is missing a required field: {error.message.split(' is a required')[0]}", None
    if kind == "pattern":
        if field.endswith("version"):
            return f"'{field}' must be a semantic version such as 1.0.0 (got {error.instance!r})", None
        return f"'{field}' has an invalid value {error.instance!r}", f"it must match {error.validator_value}"
    if kind == "type":
        return (
            f"'{field}' must be of type {error.validator_value} (got {type(error.instance).__name__})",
            None,
        )
    return f"'{field}': {error.message}", None


def _resolve(path: Path, *, chain: list[_Raw], stack: tuple[Path, ...]) -> dict[str, Any]:
    """Merge a profile with everything it extends; ``chain`` collects every file involved."""
    resolved_path = path.resolve()
    if resolved_path in stack:
        cycle = " -> ".join(p.name for p in (*stack, resolved_path))
        raise ProfileError(f"'extends' forms a cycle: {cycle}", source=str(path))
    if len(stack) >= _MAX_DEPTH:
        raise ProfileError("'extends' is nested too deeply", source=str(path))
    raw = _read_raw(resolved_path)
    chain.append(raw)
    merged: dict[str, Any] = {
        "requirements": [],
        "commitments": {},
        "declarations": [],
        "tiers": [],
    }
    for i, parent_ref in enumerate(raw.data.get("extends", [])):
        try:
            parent_path = resolve_profile_path(parent_ref, relative_to=path.parent)
        except ProfileError as exc:
            raise ProfileError(
                f"'extends' entry {parent_ref!r}: {exc.message}",
                source=str(path),
                location=raw.where(f"/extends/{i}"),
                hint=exc.hint,
            ) from None
        parent = _resolve(parent_path, chain=chain, stack=(*stack, resolved_path))
        _merge_into(merged, parent)
    own = dict(raw.data)
    own["requirements"] = [dict(r, _origin=(raw, i)) for i, r in enumerate(raw.data.get("requirements", []))]
    _check_duplicates(raw)
    removed = set(raw.data.get("remove", []))
    inherited_ids = {r["id"] for r in merged["requirements"]}
    for i, rid in enumerate(raw.data.get("remove", [])):
        if rid not in inherited_ids:
            raise ProfileError(
                f"'remove' names {rid!r}, which no extended profile defines",
                source=str(path),
                location=raw.where(f"/remove/{i}"),
            )
    merged["requirements"] = [r for r in merged["requirements"] if r["id"] not in removed]
    _merge_into(merged, own)
    for key in ("profile", "version", "title", "description", "charter", "extends"):
        if key in raw.data:
            merged[key] = raw.data[key]
    merged["_raw"] = raw
    return merged


def _merge_into(base: dict[str, Any], layer: Mapping[str, Any]) -> None:
    by_id = {r["id"]: i for i, r in enumerate(base["requirements"])}
    for req in layer.get("requirements", []):
        if req["id"] in by_id:
            previous = base["requirements"][by_id[req["id"]]]
            combined = {**previous, **req}
            combined["with"] = {**previous.get("with", {}), **req.get("with", {})}
            base["requirements"][by_id[req["id"]]] = combined
        else:
            by_id[req["id"]] = len(base["requirements"])
            base["requirements"].append(dict(req))
    base["commitments"] = {**base["commitments"], **layer.get("commitments", {})}
    declarations = {d["id"]: d for d in base["declarations"]}
    declarations.update({d["id"]: d for d in layer.get("declarations", [])})
    base["declarations"] = list(declarations.values())
    tiers = {t["tier"]: t for t in base["tiers"]}
    tiers.update({t["tier"]: t for t in layer.get("tiers", [])})
    base["tiers"] = list(tiers.values())


def _check_duplicates(raw: _Raw) -> None:
    seen: dict[str, int] = {}
    for i, req in enumerate(raw.data.get("requirements", [])):
        rid = req["id"]
        if rid in seen:
            raise ProfileError(
                f"duplicate requirement id {rid!r} (first defined on line {raw.where(f'/requirements/{seen[rid]}')})",
                source=str(raw.path),
                location=raw.where(f"/requirements/{i}/id"),
            )
        seen[rid] = i


_REQUIRED_FIELDS = ("commitment", "level", "title", "check", "references")


def _build(merged: dict[str, Any], chain: list[_Raw]) -> Profile:
    top: _Raw = merged["_raw"]
    requirements: list[Requirement] = []
    for entry in merged["requirements"]:
        raw, index = entry["_origin"]
        pointer = f"/requirements/{index}"
        for field in _REQUIRED_FIELDS:
            if field not in entry:
                raise ProfileError(
                    f"requirement {entry['id']!r} has no '{field}'",
                    source=str(raw.path),
                    location=raw.where(pointer),
                    hint="every requirement needs commitment, level, title, check and references",
                )
        requirements.append(_requirement(entry, raw, pointer))
    commitments = merged["commitments"]
    for req in requirements:
        if commitments and req.commitment not in commitments:
            raw, index = next(e["_origin"] for e in merged["requirements"] if e["id"] == req.id)
            raise ProfileError(
                f"requirement {req.id!r} names commitment {req.commitment!r}, which the profile does not define",
                source=str(raw.path),
                location=raw.where(f"/requirements/{index}/commitment"),
            )
    resolved = {
        "profile": merged.get("profile"),
        "version": merged.get("version"),
        "commitments": commitments,
        "declarations": merged["declarations"],
        "tiers": merged["tiers"],
        "requirements": [
            {k: v for k, v in e.items() if not k.startswith("_")} for e in merged["requirements"]
        ],
    }
    resolved_sha = hashlib.sha256(orjson.dumps(resolved, option=orjson.OPT_SORT_KEYS)).hexdigest()
    parents = tuple(
        {"id": str(r.data.get("profile")), "version": str(r.data.get("version")), "sha256": r.sha256}
        for r in chain[1:]
    )
    return Profile(
        id=str(merged["profile"]),
        version=str(merged["version"]),
        title=str(merged["title"]),
        description=str(merged.get("description", "")).strip(),
        charter=dict(merged.get("charter", {})),
        extends=tuple(merged.get("extends", [])),
        commitments=commitments,
        tiers=tuple(
            Tier(
                tier=t["tier"],
                description=t["description"],
                requires_passed=tuple(t.get("requires_passed", [])),
                requires_reported=tuple(t.get("requires_reported", [])),
                requires_declarations=tuple(t.get("requires_declarations", [])),
            )
            for t in merged["tiers"]
        ),
        declarations=tuple(
            Declaration(
                id=d["id"],
                title=d["title"],
                commitment=d["commitment"],
                required=bool(d.get("required", False)),
                reconstructed=bool(d.get("reconstructed", False)),
            )
            for d in merged["declarations"]
        ),
        requirements=tuple(requirements),
        path=str(top.path),
        sha256=top.sha256,
        resolved_sha256=resolved_sha,
        parents=parents,
    )


def _requirement(entry: Mapping[str, Any], raw: _Raw, pointer: str) -> Requirement:
    check_id = entry["check"]
    if check_id not in CHECKS:
        close = CHECKS.closest(check_id)
        raise ProfileError(
            f"requirement {entry['id']!r}: unknown check {check_id!r}",
            source=str(raw.path),
            location=raw.where(f"{pointer}/check"),
            hint=f"did you mean {' or '.join(repr(c) for c in close)}?"
            if close
            else "see `conformance checks list`",
        )
    spec = CHECKS.get(check_id)
    overrides = dict(entry.get("with", {}))
    for name, value in overrides.items():
        if name not in spec.params:
            close = difflib.get_close_matches(name, list(spec.params), n=1)
            hint = (
                f"did you mean '{close[0]}'?"
                if close
                else (
                    f"parameters of {check_id}: {', '.join(spec.params)}"
                    if spec.params
                    else f"{check_id} takes no parameters"
                )
            )
            raise ProfileError(
                f"requirement {entry['id']!r}: unknown parameter '{name}' for check {check_id!r}",
                source=str(raw.path),
                location=raw.where(f"{pointer}/with/{escape(name)}"),
                hint=hint,
            )
        default = spec.params[name]
        if default is not None and not _same_kind(default, value):
            raise ProfileError(
                f"requirement {entry['id']!r}: parameter '{name}' must be {_kind(default)} (got {value!r})",
                source=str(raw.path),
                location=raw.where(f"{pointer}/with/{escape(name)}"),
            )
    return Requirement(
        id=entry["id"],
        commitment=entry["commitment"],
        level=Level(entry["level"]),
        title=entry["title"],
        check=check_id,
        params={**spec.params, **overrides},
        overrides=overrides,
        references=tuple(entry["references"]),
        reconstructed=bool(entry.get("reconstructed", False)),
        rationale=entry.get("rationale"),
        defined_in=f"{raw.path.name}:{raw.where(pointer)}",
    )


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int)
    return isinstance(value, type(default))


def _kind(value: Any) -> str:
    return {bool: "true or false", int: "a whole number", str: "text", list: "a list", dict: "a mapping"}.get(
        type(value), type(value).__name__
    )


def parse_selector(selector: str) -> tuple[str | None, str | None, str | None]:
    """``IOP-C1-01`` -> (id, None, None); ``C1:MUST`` -> (None, "C1", "MUST"); ``C1`` -> (None, "C1", None)."""
    if re.match(r"^C\d+(:(MUST|SHOULD|MAY))?$", selector):
        commitment, _, level = selector.partition(":")
        return None, commitment, level or None
    return selector, None, None


def iter_selected(profile: Profile, selectors: tuple[str, ...]) -> Iterator[Requirement]:
    for req in profile.requirements:
        for selector in selectors:
            rid, commitment, level = parse_selector(selector)
            if rid == req.id or (
                commitment == req.commitment and (level is None or level == req.level.value)
            ):
                yield req
                break
