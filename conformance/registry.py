"""The check registry and the ``@check`` decorator.

A check is a generator function ``(ctx, *, <params>) -> Iterator[Finding]`` registered with an id, a
mode, a title, its parameters (with defaults) and the references it derives from. Yielding nothing
means the check passed. Declared ``requires`` predicates (``ctx -> reason | None``) short-circuit to
``inapplicable`` before the body runs; a body may also raise ``Inapplicable`` or ``CantTell``.

Example::

    @check(id="openapi.info.contact", mode="static", title="Contact details are published",
           references=("CDDO api-standards-linting rule 'contact'",))
    def info_contact(ctx: CheckContext) -> Iterator[Finding]:
        if not ctx.spec.data.get("info", {}).get("contact"):
            yield Finding(title="No contact", message="info.contact is missing", pointer="/info")
"""

from __future__ import annotations

import difflib
import inspect
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .errors import CheckDefinitionError
from .outcome import Finding, Mode, Table

__all__ = [
    "CHECKS",
    "CantTell",
    "CheckContext",
    "CheckSpec",
    "Inapplicable",
    "NotTested",
    "Registry",
    "check",
]

T = TypeVar("T")
_ID = re.compile(r"^[a-z][a-z0-9]*(\.[a-z0-9][a-z0-9-]*)+$")
_PARAM_TYPES = (bool, int, str, list, dict, type(None))


class Inapplicable(Exception):
    """Raised by a check body: the requirement does not apply to this API."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotTested(Exception):
    """Raised by a check body: the check needs something this run does not allow or have (e.g. writes
    on a target not marked as a test tenant); the outcome is ``untested``, never passed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CantTell(Exception):
    """Raised by a check body: the input does not let the check decide."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckContext:
    """What a check can read: the loaded document (static) and/or the live target."""

    spec: Any = None  # conformance.spec.Spec
    target: Any = None  # the live target (live checks)
    requirement_id: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # facts a check reports even when it passes

    tables: list[Table] = field(default_factory=list)  # structured results a reader needs (reconciliations)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str | int]]) -> None:
        """Attach a small table to the outcome (e.g. seeded vs exported counts per entity type)."""
        self.tables.append(Table(title=title, columns=tuple(columns), rows=tuple(tuple(row) for row in rows)))


Predicate = Callable[[CheckContext], "str | None"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckSpec:
    """A registered check."""

    id: str
    mode: Mode
    title: str
    func: Callable[..., Iterator[Finding]]
    params: Mapping[str, Any]
    references: tuple[str, ...]
    requires: tuple[Predicate, ...]
    description: str
    module: str


class Registry(Generic[T]):
    """A small name -> item registry that refuses duplicates."""

    def __init__(self, kind: str) -> None:
        self._kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str, item: T) -> None:
        if name in self._items:
            raise CheckDefinitionError(f"{self._kind} '{name}' is registered twice")
        self._items[name] = item

    def get(self, name: str) -> T:
        return self._items[name]

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def names(self) -> list[str]:
        return sorted(self._items)

    def all(self) -> list[T]:
        return [self._items[n] for n in self.names()]

    def closest(self, name: str, n: int = 3) -> list[str]:
        return difflib.get_close_matches(name, self.names(), n=n, cutoff=0.5)


CHECKS: Registry[CheckSpec] = Registry("check")


def check(
    *,
    id: str,
    mode: Mode | str,
    title: str,
    references: tuple[str, ...] = (),
    params: Mapping[str, Any] | None = None,
    requires: tuple[Predicate, ...] = (),
) -> Callable[[Callable[..., Iterator[Finding]]], Callable[..., Iterator[Finding]]]:
    """Register a check function (see the module docstring)."""
    declared = dict(params or {})

    def decorate(func: Callable[..., Iterator[Finding]]) -> Callable[..., Iterator[Finding]]:
        where = f"{func.__module__}.{func.__qualname__}"
        if not _ID.match(id):
            raise CheckDefinitionError(
                f"check id '{id}' must look like 'area.topic' in lower case", source=where
            )
        try:
            check_mode = Mode(mode)
        except ValueError:
            raise CheckDefinitionError(
                f"'mode' must be 'static' or 'live' (got {mode!r})", source=where
            ) from None
        for name, default in declared.items():
            if not isinstance(default, _PARAM_TYPES):
                raise CheckDefinitionError(
                    f"parameter '{name}' default must be JSON-like, not {type(default).__name__}",
                    source=where,
                )
        _check_signature(func, declared, where)
        if not inspect.isgeneratorfunction(func):
            raise CheckDefinitionError(
                "a check must be a generator function that yields findings", source=where
            )
        CHECKS.register(
            id,
            CheckSpec(
                id=id,
                mode=check_mode,
                title=title,
                func=func,
                params=declared,
                references=tuple(references),
                requires=tuple(requires),
                description=inspect.cleandoc(func.__doc__ or title),
                module=func.__module__,
            ),
        )
        return func

    return decorate


def _check_signature(func: Callable[..., Any], declared: Mapping[str, Any], where: str) -> None:
    parameters = list(inspect.signature(func).parameters.values())
    if not parameters or parameters[0].kind not in (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
    ):
        raise CheckDefinitionError("a check takes the context as its first positional argument", source=where)
    keyword = {p.name for p in parameters[1:] if p.kind is inspect.Parameter.KEYWORD_ONLY}
    others = [p.name for p in parameters[1:] if p.kind is not inspect.Parameter.KEYWORD_ONLY]
    if others:
        raise CheckDefinitionError(
            f"check parameters must be keyword-only: {', '.join(others)}", source=where
        )
    if keyword != set(declared):
        missing = sorted(set(declared) - keyword)
        extra = sorted(keyword - set(declared))
        detail = "; ".join(
            part
            for part in (
                f"declared but not accepted: {', '.join(missing)}" if missing else "",
                f"accepted but not declared: {', '.join(extra)}" if extra else "",
            )
            if part
        )
        raise CheckDefinitionError(f"parameters do not match the declaration ({detail})", source=where)
