"""``report.html``: the report for people, as one self-contained page.

Written for a police procurement reviewer first, then for the supplier's engineers: the verdict in plain
words, what the run covered and whether it can back a conformance claim, whether the report is signed (and
what a signature does and does not prove), the per-commitment picture, the PDS maturity levels and the
InterOp-Pol tier, then every failure with where it is and how to fix it, and finally every result.

The page is built from the canonical report dict only (``conformance.report.model``), with Jinja2 and
autoescaping on. It loads nothing: CSS is inline, there are no scripts, fonts or images, and a
Content-Security-Policy forbids any fetch. It is deterministic (no current time, no environment), prints
cleanly and reads on a phone. Findings shown per requirement are capped at ``MAX_FINDINGS_SHOWN``;
``report.json`` keeps them all.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

import jinja2

from .json_render import canonical_bytes

__all__ = ["MAX_FINDINGS_SHOWN", "render"]

MAX_FINDINGS_SHOWN = 50
_TEMPLATE = "report.html.j2"

# Status words and signs: colour is never the only signal.
_STATUS = {
    "passed": ("✓", "Passed"),
    "failed": ("✗", "Failed"),
    "cantTell": ("?", "Can't tell"),
    "inapplicable": ("–", "Not applicable"),
    "untested": ("○", "Not tested"),
}
_LEVEL_ORDER = ("MUST", "SHOULD", "MAY")
_LEVEL_MEANING = {
    "MUST": "A MUST requirement: while it fails, the product cannot be CONFORMANT with this profile.",
    "SHOULD": "A SHOULD requirement: a failure is a warning. It does not change the verdict, but a buyer may "
    "reasonably ask the supplier why.",
    "MAY": "A MAY requirement: informational. It does not change the verdict.",
}
_VERDICT = {
    "CONFORMANT": (
        "pass",
        "✓",
        "Every applicable MUST requirement that this run covered passed. Any SHOULD or MAY failures below are "
        "warnings, not reasons to reject.",
    ),
    "NOT CONFORMANT": (
        "fail",
        "✗",
        "At least one MUST requirement failed. The product does not meet this profile until every MUST "
        "failure listed below is fixed.",
    ),
    "INCOMPLETE": (
        "warn",
        "?",
        "No MUST requirement failed, but the result is not settled: at least one MUST requirement could not "
        "be determined, or required written declarations are missing.",
    ),
}
_SCOPE = {
    "static": "Static: the published OpenAPI document only. The live API was not tested.",
    "live": "Live: the running API only. The OpenAPI document was not checked.",
    "full": "Full: both the published OpenAPI document and the running API.",
}
_MATURITY = {
    "foundational": "Security and the basics every integration relies on.",
    "structural": "Published, standard, stable interfaces that let data in and out.",
    "semantic": "A common data model (POLE), code lists and proven interoperation.",
    "organisational": "Commitments, costs and transparency, stated in writing.",
}
# The InterOp-Pol tiers are defined by the charter (profiles may only name these three).
_TIERS = {
    "Bronze": "Intent and a date to publish import/export interfaces, declared in writing.",
    "Silver": "Full details of import and export interfaces published.",
    "Gold": "Interoperating with another supplier's software, certified by the customer.",
}
_HOISTED = ("title", "expected", "found", "fix")
# What the signature dict may hold (conformance.attest: SignatureInfo.to_dict(), and verify's Signer and
# Countersignature dicts). Keys not listed here are shown as they are; these are never shown as rows.
_SIGNATURE_ROWS = (
    ("subject", "Signed by"),
    ("keyid", "Key id"),
    ("algorithm", "Algorithm"),
    ("signed_at", "Signed at"),
    ("certificate_checked", "Certificate checked"),
    ("verifier_id", "Verifier"),
    ("properties", "Attests"),
    ("envelope_name", "Signature file"),
)
_SIGNATURE_HIDDEN = frozenset(
    {"countersignatures", "signer", "time_source", "envelope_path", "proves", "does_not_prove", "spot_check"}
)
_HONESTY = {
    "proves": "who signed this report (the holder of the signing key) and that report.json has not changed "
    "by a single byte since it was signed.",
    "does_not_prove": "that the run was honest: a signer could have tested a different system, or chosen "
    "favourable conditions.",
    "spot_check": "re-run selected checks yourself from the recorded configuration (the profile and document "
    "digests under Inputs of this run) and compare the outcomes.",
}


def render(
    report: Mapping[str, Any],
    *,
    signature: Mapping[str, Any] | None = None,
    exchanges: Mapping[str, Mapping[str, Any]] | None = None,
) -> bytes:
    """The HTML page for ``report``; ``signature`` describes a verified signature over report.json, and
    ``exchanges`` (``conformance.report.exchanges.exchanges_for``) the redacted HTTP exchanges behind
    live findings, shown next to them."""
    context = _context(report, signature)
    context["exchanges"] = dict(exchanges or {})
    page = _environment().get_template(_TEMPLATE).render(context)
    return page.encode("utf-8")


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("conformance.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=_bytecode_cache(),
    )
    env.filters["when"] = _when
    return env


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates are cached per user: compiling the report template costs more than rendering it.

    The cache lives under ``$XDG_CACHE_HOME`` (default ``~/.cache``); Jinja2 keys it by template source, so
    an upgraded template is recompiled. Without a writable cache folder the template is compiled each run.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "interop-conformance", "jinja2")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError:
        return None
    if not os.access(folder, os.W_OK):
        return None
    return jinja2.FileSystemBytecodeCache(folder)


# -- the view model: everything the template shows, already worded and ordered ----------------------------
def _context(report: Mapping[str, Any], signature: Mapping[str, Any] | None) -> dict[str, Any]:
    verdict = report["verdict"]
    outcomes = [_outcome(o) for o in report["outcomes"]]
    commitment_titles = {c["id"]: c["title"] for c in report["commitments"]}
    for view in outcomes:
        view["commitment_title"] = commitment_titles.get(view["commitment"], "")
    failed = [o for o in outcomes if o["status"] == "failed"]
    failure_groups = [
        {"level": level, "reqs": [o for o in failed if o["level"] == level]} for level in _LEVEL_ORDER
    ]
    tone, sign, meaning = _VERDICT.get(verdict["status"], ("warn", "?", ""))
    spec = report["spec"]
    return {
        "r": report,
        "verdict": verdict,
        "verdict_tone": tone,
        "verdict_sign": sign,
        "verdict_meaning": meaning,
        "scope_text": _SCOPE.get(report["scope"], report["scope"]),
        "counts": verdict["counts"],
        "total": sum(verdict["counts"].values()),
        "failed_by_level": {g["level"]: len(g["reqs"]) for g in failure_groups},
        "failure_groups": [g for g in failure_groups if g["reqs"]],
        "failed_total": len(failed),
        "cant_tell": [o for o in outcomes if o["status"] == "cantTell"],
        "outcomes": outcomes,
        "any_reconstructed": any(o["reconstructed"] for o in outcomes)
        or any(c["reconstructed"] for c in report["commitments"])
        or any(d["reconstructed"] for d in report["declarations"]),
        "commitments": [_commitment(c) for c in report["commitments"]],
        "maturity": [_maturity(m, commitment_titles) for m in verdict["maturity"]],
        "tiers": [
            {**t, "description": t.get("description") or _TIERS.get(t["tier"], "")}
            for t in verdict["tier"]["tiers"]
        ],
        "signature": _signature(signature) if signature is not None else None,
        "main_document": _basename(spec["source"]) if spec else None,
        "spot_check": _spot_check(report),
        "report_sha256": hashlib.sha256(canonical_bytes(report)).hexdigest(),
        "duration": _duration(int(report["duration_ms"])),
        "max_findings": MAX_FINDINGS_SHOWN,
        "status_words": {k: {"sign": v[0], "word": v[1]} for k, v in _STATUS.items()},
        "maturity_words": _MATURITY,
        "target_items": sorted((str(k), _text(v)) for k, v in (report["target"] or {}).items()),
        "input_items": _input_items(report.get("inputs") or {}),
    }


def _input_items(inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    dictionary = inputs.get("data_dictionary")
    if dictionary:
        items.append(("POLE data dictionary", f"{dictionary['file']} (SHA-256 {dictionary['sha256']})"))
    peer = inputs.get("peer")
    if peer:
        items.append(("Second supplier's API", str(peer.get("base_url"))))
    return items


def _outcome(outcome: Mapping[str, Any]) -> dict[str, Any]:
    sign, word = _STATUS.get(outcome["status"], ("?", outcome["status"]))
    findings: Sequence[Mapping[str, Any]] = outcome["findings"]
    shown = [_finding(f) for f in findings[:MAX_FINDINGS_SHOWN]]
    common = _hoist_common(shown)
    return {
        "id": outcome["id"],
        "title": outcome["title"],
        "level": outcome["level"],
        "commitment": outcome["commitment"],
        "check": outcome["check"],
        "mode": outcome["mode"],
        "status": outcome["status"],
        "status_sign": sign,
        "status_word": word,
        "reconstructed": bool(outcome["reconstructed"]),
        "references": list(outcome["references"]),
        "rationale": outcome.get("rationale"),
        "reason": outcome.get("reason"),
        "notes": list(outcome.get("notes", ())),
        "tables": list(outcome.get("tables", ())),
        "meaning": _LEVEL_MEANING.get(outcome["level"], ""),
        "findings_total": len(findings),
        "common": common,
        "has_common": any(v is not None for v in common.values()),
        "findings": shown,
        "findings_more": max(0, len(findings) - MAX_FINDINGS_SHOWN),
    }


def _finding(finding: Mapping[str, Any]) -> dict[str, Any]:
    position = None
    if "line" in finding:
        position = f"line {finding['line']}" + (
            f", column {finding['column']}" if "column" in finding else ""
        )
    return {
        "title": finding["title"],
        "message": finding["message"],
        "expected": finding.get("expected"),
        "found": finding.get("found"),
        "fix": finding.get("fix"),
        "operation": finding.get("operation"),
        "pointer": finding.get("pointer"),
        "document": finding.get("document"),
        "exchange": finding.get("exchange"),
        "position": position,
    }


def _hoist_common(findings: list[dict[str, Any]]) -> dict[str, str | None]:
    """Fields every shown finding shares, taken out of each (said once, not fifty times)."""
    common: dict[str, str | None] = dict.fromkeys(_HOISTED)
    if len(findings) < 2:
        return common
    for key in _HOISTED:
        values = {f[key] for f in findings}
        if len(values) == 1:
            (value,) = values
            if value is not None:
                common[key] = value
                for f in findings:
                    f[key] = None
    return common


def _commitment(commitment: Mapping[str, Any]) -> dict[str, Any]:
    counts = commitment["counts"]
    total = int(commitment["requirements"])
    if total == 0:
        tone, sign, word = "none", "—", "Not covered"
    elif commitment["failed_must"]:
        tone, sign, word = "fail", "✗", "MUST failed"
    elif counts["failed"]:
        tone, sign, word = "warn", "!", "Warnings only"
    elif counts["cantTell"]:
        tone, sign, word = "warn", "?", "Undetermined"
    elif counts["passed"] + counts["inapplicable"] == total:
        tone, sign, word = "pass", "✓", "All passed"
    elif counts["untested"] == total:
        tone, sign, word = "none", "○", "Not tested in this run"
    else:
        tone, sign, word = "none", "○", "Partly tested"
    return {**commitment, "tone": tone, "sign": sign, "word": word}


def _maturity(level: Mapping[str, Any], titles: Mapping[str, str]) -> dict[str, Any]:
    verdict = level["verdict"]
    if verdict is None:
        tone, sign, word = "none", "○", "Not assessed in this run"
    else:
        tone, sign, _ = _VERDICT.get(verdict, ("warn", "?", ""))
        word = verdict
        failed = int(level["counts"]["failed"])
        if verdict == "CONFORMANT" and failed:
            word = f"CONFORMANT, with {failed} warning{'' if failed == 1 else 's'}"
    return {
        **level,
        "tone": tone,
        "sign": sign,
        "word": word,
        "meaning": _MATURITY.get(level["level"], ""),
        "commitment_names": [f"{c} {titles.get(c, '')}".strip() for c in level["commitments"]],
    }


def _signature(signature: Mapping[str, Any]) -> dict[str, Any]:
    """Rows to show for the signature and each countersignature, plus the honesty notes."""
    counter = signature.get("countersignatures") or []
    honesty = {key: str(signature.get(key) or default) for key, default in _HONESTY.items()}
    return {
        "rows": _signature_rows(signature),
        "countersignatures": [_signature_rows(c) for c in counter if isinstance(c, Mapping)],
        **honesty,
    }


def _signature_rows(entry: Mapping[str, Any]) -> list[dict[str, str]]:
    signer = entry.get("signer")
    if isinstance(signer, Mapping):  # verify's countersignature dict: {"signer": {...}, "verifier_id": ...}
        entry = {**signer, **{k: v for k, v in entry.items() if k != "signer"}}
    rows: list[dict[str, str]] = []
    for key, label in _SIGNATURE_ROWS:
        if key not in entry:
            continue
        value = entry[key]
        note = ""
        if key == "subject" and value is None:
            text, kind = "a key without a certificate (no name was verified)", "text"
        elif key == "signed_at":
            text, kind = _when(str(value)), "text"
            note = str(entry.get("time_source") or "")
        elif key == "certificate_checked":
            text, kind = ("yes" if value else "no: a pinned key was used instead"), "text"
        elif value is None or value == [] or value == "":
            continue
        else:
            text, kind = _text(value), "code"
        rows.append({"label": label, "value": text, "kind": kind, "note": note})
    known = {key for key, _ in _SIGNATURE_ROWS} | _SIGNATURE_HIDDEN
    for key in sorted(str(k) for k in entry if k not in known and entry[k] is not None):
        rows.append({"label": key, "value": _text(entry[key]), "kind": "code", "note": ""})
    return rows


def _spot_check(report: Mapping[str, Any]) -> str:
    """A command that re-runs a few telling requirements: failed MUSTs, else undetermined, else passed ones."""
    profile = report["profile"]
    spec = report["spec"]
    verdict = report["verdict"]
    chosen = list(verdict["failed_musts"]) or list(verdict["undetermined_musts"])
    if not chosen:
        chosen = [o["id"] for o in report["outcomes"] if o["level"] == "MUST" and o["status"] == "passed"]
    command = f"conformance run --profile {profile['id']}@{profile['version']}"
    if spec is not None:
        command += f" --spec {spec['source']}"
    base_url = (report["target"] or {}).get("base_url")
    if isinstance(base_url, str):
        command += f" --base-url {base_url}"
    if chosen:
        command += f' -k "{" or ".join(chosen[:3])}"'
    return command


# -- small formatting helpers --------------------------------------------------------------------------------
def _when(text: str) -> str:
    """``2026-01-02T03:04:05Z`` -> ``2 January 2026, 03:04:05 UTC`` (the input when it is not that shape)."""
    try:
        moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except (TypeError, ValueError):
        return str(text)
    return f"{moment.day} {moment:%B %Y, %H:%M:%S} UTC"


def _duration(ms: int) -> str:
    seconds, millis = divmod(ms, 1000)
    if seconds < 60:
        return f"{seconds}.{millis // 100} s"
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds} s"


def _basename(source: str) -> str:
    return source.rstrip("/").rsplit("/", 1)[-1] or source


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value)
    return str(value)
