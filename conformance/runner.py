"""Running one requirement: applicability, the check body, and turning what happened into an Outcome.

Pure functions, so the decision logic is tested without pytest; the pytest plugin only wires them in.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .outcome import Finding, Mode, Outcome, Status
from .profiles import Requirement
from .registry import CHECKS, CantTell, CheckContext, Inapplicable, NotTested

__all__ = ["Scope", "dedupe_findings", "run_requirement", "scope_includes"]


class Scope:
    """What a run covers. Requirements outside the scope are ``untested`` and do not count."""

    STATIC = "static"
    LIVE = "live"
    FULL = "full"
    ALL = (STATIC, LIVE, FULL)


def scope_includes(scope: str, mode: Mode) -> bool:
    return scope == Scope.FULL or scope == mode.value


@dataclass(frozen=True, slots=True)
class _Untested:
    reason: str


def _precondition(requirement: Requirement, ctx: CheckContext, scope: str) -> _Untested | None:
    spec = CHECKS.get(requirement.check)
    if not scope_includes(scope, spec.mode):
        if spec.mode is Mode.LIVE:
            return _Untested("needs a live API: this run's scope is static (no --base-url given)")
        return _Untested("needs the OpenAPI document: this run's scope is live only")
    if spec.mode is Mode.STATIC and ctx.spec is None:
        return _Untested("no OpenAPI document was given")
    if spec.mode is Mode.LIVE and ctx.target is None:
        return _Untested("no live target was given")
    return None


def run_requirement(requirement: Requirement, ctx: CheckContext, *, scope: str = Scope.STATIC) -> Outcome:
    """Run the requirement's check and classify the result; never raises for a check's own failure."""
    untested = _precondition(requirement, ctx, scope)
    if untested is not None:
        return Outcome(requirement_id=requirement.id, status=Status.UNTESTED, reason=untested.reason)
    spec = CHECKS.get(requirement.check)
    started = time.perf_counter_ns()

    def done(status: Status, findings: tuple[Finding, ...] = (), reason: str | None = None) -> Outcome:
        elapsed = (time.perf_counter_ns() - started) // 1_000_000
        return Outcome(
            requirement_id=requirement.id,
            status=status,
            findings=findings,
            reason=reason,
            duration_ms=int(elapsed),
            notes=tuple(ctx.notes),
            tables=tuple(ctx.tables),
        )

    for predicate in spec.requires:
        reason = predicate(ctx)
        if reason:
            return done(Status.INAPPLICABLE, reason=reason)
    collected: list[Finding] = []
    try:
        for found in spec.func(ctx, **requirement.params):
            collected.append(found)
    except Inapplicable as signal:
        if not collected:
            return done(Status.INAPPLICABLE, reason=signal.reason)
        stopped = f"the check declared itself inapplicable after reporting findings: {signal.reason}"
        return done(Status.CANT_TELL, dedupe_findings(collected), reason=stopped)
    except NotTested as signal:
        if collected:
            return _stopped_early(done, collected, signal.reason)
        return done(Status.UNTESTED, reason=signal.reason)
    except CantTell as signal:
        return _stopped_early(done, collected, signal.reason)
    except Exception as exc:  # a broken check must not stop the run
        return _stopped_early(done, collected, f"the check raised {type(exc).__name__}: {_short(str(exc))}")
    findings = dedupe_findings(collected)
    return done(Status.FAILED if findings else Status.PASSED, findings)


def _stopped_early(done: Callable[..., Outcome], collected: list[Finding], reason: str) -> Outcome:
    """A check that stops part-way: findings it already made are real failures, so they are kept."""
    if collected:
        return done(
            Status.FAILED, dedupe_findings(collected), reason=f"{reason} (after {len(collected)} finding(s))"
        )
    return done(Status.CANT_TELL, reason=reason)


def dedupe_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Drop exact repeats, keep first-seen order (checks yield in document order)."""
    return tuple(dict.fromkeys(findings))


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
