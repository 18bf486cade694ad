"""What a check produces: findings, and the EARL outcome of one requirement.

Statuses follow W3C EARL 1.0 (https://www.w3.org/TR/EARL10-Schema/#OutcomeValue); the requirement
level (MUST/SHOULD/MAY) is a separate axis, so "a SHOULD failed" stays a *failed* outcome and only the
verdict treats it as a warning.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Status(str, enum.Enum):
    """EARL outcome of one requirement in one run."""

    PASSED = "passed"  # the check ran and found nothing wrong
    FAILED = "failed"  # the check ran and produced at least one finding
    CANT_TELL = "cantTell"  # the check could not decide (it raised, or its input was unusable)
    INAPPLICABLE = "inapplicable"  # the requirement does not apply to this API (e.g. Swagger-only construct)
    UNTESTED = "untested"  # not run: outside the run's scope, deselected, or needs input not given


class Level(str, enum.Enum):
    """RFC 2119 requirement level, as written in the profile."""

    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"


class Mode(str, enum.Enum):
    """What a check needs: an OpenAPI document, or a live API."""

    STATIC = "static"
    LIVE = "live"


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One thing wrong, with where it is and how to fix it.

    ``pointer`` is an RFC 6901 JSON pointer into ``document`` (``None`` = the main document);
    ``operation`` names the API operation (``GET /persons``) when the finding is about one.
    """

    title: str
    message: str
    expected: str | None = None
    found: str | None = None
    pointer: str | None = None
    document: str | None = None
    operation: str | None = None
    fix: str | None = None
    exchange: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Table:
    """A small table a check attaches to its outcome: cells are text or whole numbers (reports hold no floats)."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str | int, ...], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """The result of running one requirement's check."""

    requirement_id: str
    status: Status
    findings: tuple[Finding, ...] = ()
    reason: str | None = None  # why cantTell / inapplicable / untested
    duration_ms: int = 0
    notes: tuple[str, ...] = field(default=())  # facts worth showing even on a pass (e.g. coverage figures)
    tables: tuple[Table, ...] = field(default=())
