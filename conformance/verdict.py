"""From outcomes to a verdict, a tier, per-maturity-level results, and the process exit code."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from .outcome import Level, Outcome, Status
from .profiles import Profile, Requirement, parse_selector
from .registry import CHECKS
from .runner import scope_includes

__all__ = ["ExitCode", "TierResult", "Verdict", "VerdictResult", "compute_verdict"]


class ExitCode(enum.IntEnum):
    """Process exit codes of ``conformance`` (and of ``pytest`` with the plugin active)."""

    OK = 0  # conformant (within the run's scope) / report verified
    NOT_CONFORMANT = 1  # a MUST failed / verification failed
    USAGE = 2  # bad flags or unusable input (document, profile, key, report)
    INCOMPLETE = 3  # no MUST failed, but at least one in scope could not be determined
    INTERNAL = 4  # a bug in the harness


class Verdict(str, enum.Enum):
    CONFORMANT = "CONFORMANT"
    NOT_CONFORMANT = "NOT CONFORMANT"
    INCOMPLETE = "INCOMPLETE"

    @property
    def exit_code(self) -> ExitCode:
        return {
            Verdict.CONFORMANT: ExitCode.OK,
            Verdict.NOT_CONFORMANT: ExitCode.NOT_CONFORMANT,
            Verdict.INCOMPLETE: ExitCode.INCOMPLETE,
        }[self]


MATURITY_LEVELS = ("foundational", "structural", "semantic", "organisational")
_SETTLED = (Status.PASSED, Status.INAPPLICABLE)


@dataclass(frozen=True, slots=True, kw_only=True)
class TierResult:
    tier: str
    description: str
    met: bool
    missing: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class LevelResult:
    level: str
    commitments: tuple[str, ...]
    verdict: Verdict | None  # None when nothing in that level was run
    counts: Mapping[str, int]


@dataclass(frozen=True, slots=True, kw_only=True)
class VerdictResult:
    verdict: Verdict
    reason: str
    scope: str
    claimable: bool  # can back a conformance claim (full scope, nothing deselected, declarations present)
    claim_blockers: tuple[str, ...]
    failed_musts: tuple[str, ...]
    undetermined_musts: tuple[str, ...]
    warnings: tuple[str, ...]  # failed SHOULD/MAY
    counts: Mapping[str, int]
    tiers: tuple[TierResult, ...]
    tier_reached: str | None
    maturity: tuple[LevelResult, ...]

    @property
    def exit_code(self) -> ExitCode:
        return self.verdict.exit_code


def _in_scope(req: Requirement, scope: str) -> bool:
    return scope_includes(scope, CHECKS.get(req.check).mode)


def _decide(
    reqs: list[Requirement], outcomes: Mapping[str, Outcome], scope: str
) -> tuple[Verdict, list[str], list[str]]:
    failed, undetermined = [], []
    for req in reqs:
        if req.level is not Level.MUST or not _in_scope(req, scope):
            continue
        outcome = outcomes.get(req.id)
        if outcome is None:
            continue  # deselected: not part of this run
        if outcome.status is Status.FAILED:
            failed.append(req.id)
        elif outcome.status in (Status.CANT_TELL, Status.UNTESTED):
            undetermined.append(req.id)
    if failed:
        return Verdict.NOT_CONFORMANT, failed, undetermined
    if undetermined:
        return Verdict.INCOMPLETE, failed, undetermined
    return Verdict.CONFORMANT, failed, undetermined


def compute_verdict(
    profile: Profile,
    outcomes: Mapping[str, Outcome],
    *,
    scope: str,
    deselected: tuple[str, ...] = (),
    declarations_present: tuple[str, ...] = (),
) -> VerdictResult:
    """Apply DESIGN.md's verdict rules within ``scope``; ``outcomes`` lacks deselected requirements."""
    reqs = list(profile.requirements)
    verdict, failed, undetermined = _decide(reqs, outcomes, scope)
    blockers: list[str] = []
    missing_declarations = [
        d.id for d in profile.declarations if d.required and d.id not in declarations_present
    ]
    if scope != "full":
        blockers.append(
            f"the run's scope is {scope}: only a full (static + live) run backs a conformance claim"
        )
    if deselected:
        blockers.append(f"{len(deselected)} requirement(s) were deselected")
    if missing_declarations and scope == "full":
        blockers.append(f"required declarations missing: {', '.join(missing_declarations)}")
        if verdict is Verdict.CONFORMANT:
            verdict = Verdict.INCOMPLETE
    if verdict is Verdict.NOT_CONFORMANT:
        reason = f"{len(failed)} MUST requirement(s) failed: {', '.join(failed)}"
    elif verdict is Verdict.INCOMPLETE:
        if undetermined:
            reason = (
                f"{len(undetermined)} MUST requirement(s) could not be determined: {', '.join(undetermined)}"
            )
        else:
            reason = f"required declarations missing: {', '.join(missing_declarations)}"
    else:
        reason = f"every applicable MUST requirement in the {scope} scope passed"
    warnings = tuple(
        r.id
        for r in reqs
        if r.level is not Level.MUST and (o := outcomes.get(r.id)) and o.status is Status.FAILED
    )
    counts = {status.value: 0 for status in Status}
    for req in reqs:
        outcome = outcomes.get(req.id)
        counts[(outcome.status if outcome else Status.UNTESTED).value] += 1
    tiers = tuple(_tier(t.tier, t, reqs, outcomes, declarations_present) for t in profile.tiers)
    reached = next((t.tier for t in reversed(tiers) if t.met), None)
    return VerdictResult(
        verdict=verdict,
        reason=reason,
        scope=scope,
        claimable=not blockers,
        claim_blockers=tuple(blockers),
        failed_musts=tuple(failed),
        undetermined_musts=tuple(undetermined),
        warnings=warnings,
        counts=counts,
        tiers=tiers,
        tier_reached=reached,
        maturity=_maturity(profile, reqs, outcomes, scope),
    )


def _select(selector: str, reqs: list[Requirement]) -> list[Requirement]:
    rid, commitment, level = parse_selector(selector)
    return [
        r
        for r in reqs
        if r.id == rid
        or (rid is None and r.commitment == commitment and (level is None or r.level.value == level))
    ]


def _tier(
    name: str,
    tier: object,
    reqs: list[Requirement],
    outcomes: Mapping[str, Outcome],
    declarations_present: tuple[str, ...],
) -> TierResult:
    missing: list[str] = []
    for selector in (*getattr(tier, "requires_passed", ()), *getattr(tier, "requires_reported", ())):
        if not _select(selector, reqs):
            missing.append(f"{selector} is not in this profile")
    for selector in getattr(tier, "requires_passed", ()):
        for req in _select(selector, reqs):
            outcome = outcomes.get(req.id)
            if outcome is None or outcome.status not in _SETTLED:
                missing.append(f"{req.id} {outcome.status.value if outcome else 'not run'}")
    for selector in getattr(tier, "requires_reported", ()):
        for req in _select(selector, reqs):
            outcome = outcomes.get(req.id)
            if outcome is None or outcome.status is Status.UNTESTED:
                missing.append(f"{req.id} not run")
    for declaration in getattr(tier, "requires_declarations", ()):
        if declaration not in declarations_present:
            missing.append(f"declaration {declaration} not supplied")
    return TierResult(
        tier=name, description=str(getattr(tier, "description", "")), met=not missing, missing=tuple(missing)
    )


def _maturity(
    profile: Profile, reqs: list[Requirement], outcomes: Mapping[str, Outcome], scope: str
) -> tuple[LevelResult, ...]:
    results = []
    for level in MATURITY_LEVELS:
        commitments = tuple(c for c, info in profile.commitments.items() if info.get("maturity") == level)
        members = [r for r in reqs if r.commitment in commitments]
        counts = {status.value: 0 for status in Status}
        for req in members:
            outcome = outcomes.get(req.id)
            counts[(outcome.status if outcome else Status.UNTESTED).value] += 1
        # A level is only judged when a MUST or SHOULD of it ran: a lone MAY heuristic (or nothing but
        # missing declarations) is no basis for calling a level conformant.
        ran = [
            r
            for r in members
            if r.level is not Level.MAY
            and (o := outcomes.get(r.id)) is not None
            and o.status is not Status.UNTESTED
        ]
        verdict = _decide(members, outcomes, scope)[0] if ran else None
        results.append(LevelResult(level=level, commitments=commitments, verdict=verdict, counts=counts))
    return tuple(results)
