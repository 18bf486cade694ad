"""The report: one run's inputs, outcomes and verdict, as the canonical JSON document.

``build_report`` turns a ``RunResult`` into the dict that is written as ``report.json`` (and signed);
every renderer (HTML, JUnit, SARIF, terminal) reads that same dict, so what people and CI see is
exactly what was signed. Keys are sorted on output, numbers are integers, times are UTC ISO 8601.
Schema: ``conformance/report/schema/report.schema.json`` (``SCHEMA_VERSION``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .. import __version__
from ..outcome import Finding, Outcome, Status
from ..profiles import Profile
from ..registry import CHECKS
from ..verdict import VerdictResult, compute_verdict

SCHEMA_VERSION = "1.0.0"
HARNESS_NAME = "interop-conformance"

__all__ = ["HARNESS_NAME", "SCHEMA_VERSION", "RunResult", "build_report", "product_name", "utc_text"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResult:
    """Everything a run produced, before it is turned into a report."""

    profile: Profile
    spec: Any  # conformance.spec.Spec | None
    scope: str
    started_at: datetime
    finished_at: datetime
    outcomes: Mapping[str, Outcome]  # requirement id -> outcome (deselected ones absent)
    deselected: tuple[str, ...] = ()
    selection: str | None = None  # the -k expression, if any
    target: Mapping[str, Any] | None = None
    inputs: Mapping[str, Any] | None = None  # optional inputs some checks used (data dictionary, peer API)
    evidence_sha256: str | None = None
    seed: int | None = None
    product: str | None = None
    notes: tuple[str, ...] = field(default=())


def product_name(given: str | None, spec: Any, profile: Profile) -> str:
    """What the report is about: the name given, else the document's title, else the profile's."""
    return given or (spec.title if spec is not None else None) or profile.title


def utc_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _finding(finding: Finding, positions: Mapping[str, tuple[int, int]]) -> dict[str, Any]:
    entry: dict[str, Any] = {"title": finding.title, "message": finding.message}
    for key in ("expected", "found", "pointer", "document", "operation", "fix", "exchange"):
        value = getattr(finding, key)
        if value is not None:
            entry[key] = value
    if finding.pointer is not None:
        position = positions.get(f"{finding.document or ''}#{finding.pointer}")
        if position:
            entry["line"], entry["column"] = position
    return entry


def build_report(run: RunResult) -> dict[str, Any]:
    """The canonical report dict (see the module docstring)."""
    profile = run.profile
    verdict = compute_verdict(profile, run.outcomes, scope=run.scope, deselected=run.deselected)
    positions = _positions(run)
    outcomes = []
    for req in profile.requirements:
        check = CHECKS.get(req.check)
        outcome = run.outcomes.get(req.id) or Outcome(
            requirement_id=req.id, status=Status.UNTESTED, reason="deselected for this run"
        )
        entry: dict[str, Any] = {
            "id": req.id,
            "commitment": req.commitment,
            "level": req.level.value,
            "title": req.title,
            "check": req.check,
            "mode": check.mode.value,
            "params": dict(req.params),
            "references": list(req.references),
            "reconstructed": req.reconstructed,
            "status": outcome.status.value,
            "duration_ms": outcome.duration_ms,
            "findings": [_finding(f, positions) for f in outcome.findings],
        }
        if outcome.reason:
            entry["reason"] = outcome.reason
        if req.rationale:
            entry["rationale"] = req.rationale
        if outcome.notes:
            entry["notes"] = list(outcome.notes)
        if outcome.tables:
            entry["tables"] = [
                {"title": t.title, "columns": list(t.columns), "rows": [list(r) for r in t.rows]}
                for t in outcome.tables
            ]
        outcomes.append(entry)
    report: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "run_id": _run_id(run),
        "harness": {"name": HARNESS_NAME, "version": __version__},
        "product": product_name(run.product, run.spec, profile),
        "scope": run.scope,
        "started_at": utc_text(run.started_at),
        "finished_at": utc_text(run.finished_at),
        "duration_ms": max(0, int((run.finished_at - run.started_at).total_seconds() * 1000)),
        "profile": {
            "id": profile.id,
            "version": profile.version,
            "title": profile.title,
            "sha256": profile.sha256,
            "resolved_sha256": profile.resolved_sha256,
            "file": profile.path.rsplit("/", 1)[-1],
            "description": profile.description,
            "charter": dict(profile.charter),
            "extends": [dict(p) for p in profile.parents],
        },
        "spec": _spec_section(run.spec),
        "target": dict(run.target) if run.target else None,
        "inputs": {k: v for k, v in (run.inputs or {}).items() if v is not None},
        "selection": {
            "expression": run.selection,
            "deselected": list(run.deselected),
        },
        "verdict": _verdict_section(verdict),
        "commitments": _commitments(profile, outcomes),
        "declarations": [
            {
                "id": d.id,
                "title": d.title,
                "commitment": d.commitment,
                "required": d.required,
                "reconstructed": d.reconstructed,
                "status": "not supplied",
            }
            for d in profile.declarations
        ],
        "outcomes": outcomes,
        "evidence": {"sha256": run.evidence_sha256} if run.evidence_sha256 else None,
        "seed": run.seed,
        "notes": list(run.notes),
    }
    return report


def _positions(run: RunResult) -> Mapping[str, tuple[int, int]]:
    if run.spec is None:
        return {}
    from ..spec import locate_in

    locs = {
        f"{f.document or ''}#{f.pointer}"
        for o in run.outcomes.values()
        for f in o.findings
        if f.pointer is not None
    }
    return locate_in(run.spec, locs) if locs else {}


def _run_id(run: RunResult) -> str:
    seed = "|".join(
        (
            run.profile.resolved_sha256,
            run.spec.sha256 if run.spec is not None else "-",
            utc_text(run.started_at),
            run.scope,
        )
    )
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


def _spec_section(spec: Any) -> dict[str, Any] | None:
    if spec is None:
        return None
    info = spec.data.get("info") if isinstance(spec.data.get("info"), Mapping) else {}
    return {
        "source": spec.source,
        "sha256": spec.sha256,
        "format": spec.root.format,
        "openapi_version": spec.version_string,
        "title": spec.title,
        "api_version": str(info.get("version")) if info.get("version") is not None else None,
        "operations": len(spec.index.operations),
        "documents": [{"name": d.name, "sha256": d.sha256} for d in spec.documents[1:]],
    }


def _verdict_section(v: VerdictResult) -> dict[str, Any]:
    return {
        "status": v.verdict.value,
        "exit_code": int(v.exit_code),
        "reason": v.reason,
        "scope": v.scope,
        "claimable": v.claimable,
        "claim_blockers": list(v.claim_blockers),
        "failed_musts": list(v.failed_musts),
        "undetermined_musts": list(v.undetermined_musts),
        "warnings": list(v.warnings),
        "counts": dict(v.counts),
        "tier": {
            "reached": v.tier_reached,
            "indicative": not v.claimable,
            "tiers": [
                {"tier": t.tier, "description": t.description, "met": t.met, "missing": list(t.missing)}
                for t in v.tiers
            ],
        },
        "maturity": [
            {
                "level": m.level,
                "commitments": list(m.commitments),
                "verdict": m.verdict.value if m.verdict else None,
                "counts": dict(m.counts),
            }
            for m in v.maturity
        ],
    }


def _commitments(profile: Profile, outcomes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    result = []
    for commitment, info in profile.commitments.items():
        members = [o for o in outcomes if o["commitment"] == commitment]
        counts = {status.value: 0 for status in Status}
        for member in members:
            counts[member["status"]] += 1
        failed_must = any(o["status"] == "failed" and o["level"] == "MUST" for o in members)
        result.append(
            {
                "id": commitment,
                "title": info.get("title"),
                "maturity": info.get("maturity"),
                "reconstructed": bool(info.get("reconstructed", False)),
                "requirements": len(members),
                "counts": counts,
                "failed_must": failed_must,
            }
        )
    return result
