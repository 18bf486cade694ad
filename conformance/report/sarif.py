"""``report.sarif``: the findings as SARIF 2.1.0, for code-scanning tools and editors.

Conforms to the OASIS SARIF 2.1.0 schema (https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json).
One run; ``tool.driver.rules`` holds every requirement of the profile (``id`` = requirement id, ``name`` =
check id), and ``results`` one entry per finding of each failed requirement, with the document as the
physical location (line and column when known) and the JSON pointer and the operation as logical
locations. Requirements that could not be determined (cantTell) are tool execution notifications.

Levels: MUST -> ``error``, SHOULD -> ``warning``, MAY -> ``note``. ``partialFingerprints`` hash the
requirement id, the document, the JSON pointer (or operation) and the finding's title, so the same
problem keeps its identity across runs. The output depends on the report alone (deterministic).
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import orjson

__all__ = ["FINGERPRINT_KEY", "INFORMATION_URI", "SARIF_SCHEMA", "render"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# Where people learn what the tool checks: the charter its profiles trace to (the project has no
# other public page yet).
INFORMATION_URI = "https://interop-pol.uk/charter/"
FINGERPRINT_KEY = "interopConformance/v1"

_LEVEL = {"MUST": "error", "SHOULD": "warning", "MAY": "note"}
_LEVEL_TEXT = {
    "MUST": "MUST: a failure makes the product NOT CONFORMANT with the profile.",
    "SHOULD": "SHOULD: a failure is a warning; it does not change the verdict.",
    "MAY": "MAY: informational; it does not change the verdict.",
}
_MIME = {"json": "application/json", "yaml": "application/yaml"}
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def render(report: Mapping[str, Any]) -> bytes:
    """The SARIF log for ``report`` (UTF-8 JSON, 2-space indent)."""
    return orjson.dumps(sarif_log(report), option=orjson.OPT_INDENT_2) + b"\n"


def sarif_log(report: Mapping[str, Any]) -> dict[str, Any]:
    outcomes: Sequence[Mapping[str, Any]] = report["outcomes"]
    rule_index = {o["id"]: i for i, o in enumerate(outcomes)}
    artifacts, artifact_index = _artifacts(report["spec"])
    results = [
        _result(outcome, finding, rule_index[outcome["id"]], report["spec"], artifact_index)
        for outcome in outcomes
        if outcome["status"] == "failed"
        for finding in outcome["findings"]
    ]
    invocation: dict[str, Any] = {
        "executionSuccessful": True,
        "startTimeUtc": report["started_at"],
        "endTimeUtc": report["finished_at"],
        "exitCode": report["verdict"]["exit_code"],
        "exitCodeDescription": report["verdict"]["status"],
    }
    notifications = [
        {
            "level": _LEVEL[o["level"]],
            "message": {
                "text": f"{o['id']} could not be determined: {o.get('reason') or 'no reason recorded'}"
            },
            "associatedRule": {"id": o["id"], "index": rule_index[o["id"]]},
        }
        for o in outcomes
        if o["status"] == "cantTell"
    ]
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": report["harness"]["name"],
                "version": report["harness"]["version"],
                "semanticVersion": report["harness"]["version"],
                "informationUri": INFORMATION_URI,
                "rules": [_rule(o) for o in outcomes],
            }
        },
        "automationDetails": {
            "id": f"{report['harness']['name']}/{report['profile']['id']}/{report['run_id']}"
        },
        "invocations": [invocation],
        "columnKind": "unicodeCodePoints",
        "results": results,
        "properties": _run_properties(report),
    }
    if artifacts:
        run["artifacts"] = artifacts
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def _rule(outcome: Mapping[str, Any]) -> dict[str, Any]:
    level = outcome["level"]
    references = list(outcome["references"])
    full = f"{outcome['title']}. {_LEVEL_TEXT[level]}"
    if outcome.get("rationale"):
        full += f" {outcome['rationale']}"
    help_lines = [
        f"{outcome['id']} ({level}, charter commitment {outcome['commitment']}): {outcome['title']}."
    ]
    if outcome["reconstructed"]:
        help_lines.append(
            "[R] Reconstructed clause: the charter text was not available; this requirement is a reconstruction."
        )
    if references:
        help_lines.append("References:")
        help_lines += [f"- {ref}" for ref in references]
    tags = ["interop-pol", level, outcome["commitment"], outcome["mode"]]
    if outcome["reconstructed"]:
        tags.append("reconstructed")
    return {
        "id": outcome["id"],
        "name": outcome["check"],
        "shortDescription": {"text": outcome["title"]},
        "fullDescription": {"text": full},
        "help": {"text": "\n".join(help_lines)},
        "defaultConfiguration": {"level": _LEVEL[level]},
        "properties": {
            "level": level,
            "commitment": outcome["commitment"],
            "reconstructed": bool(outcome["reconstructed"]),
            "check": outcome["check"],
            "mode": outcome["mode"],
            "tags": tags,
        },
    }


def _result(
    outcome: Mapping[str, Any],
    finding: Mapping[str, Any],
    rule_index: int,
    spec: Mapping[str, Any] | None,
    artifact_index: Mapping[str | None, int],
) -> dict[str, Any]:
    text = finding["message"]
    for key, label in (("expected", "Expected"), ("found", "Found"), ("fix", "How to fix")):
        if finding.get(key) is not None:
            text += f"\n{label}: {finding[key]}"
    location: dict[str, Any] = {}
    document = finding.get("document")
    if spec is not None and (finding.get("pointer") is not None or outcome["mode"] == "static"):
        physical: dict[str, Any] = {"artifactLocation": _artifact_location(spec["source"], document)}
        index = artifact_index.get(document)
        if index is not None:
            physical["artifactLocation"]["index"] = index
        if "line" in finding:
            region = {"startLine": finding["line"]}
            if "column" in finding:
                region["startColumn"] = finding["column"]
            physical["region"] = region
        location["physicalLocation"] = physical
    logical = []
    if finding.get("pointer") is not None:
        logical.append(
            {
                "name": _last_token(finding["pointer"]),
                "fullyQualifiedName": finding["pointer"],
                "kind": "member",
            }
        )
    if finding.get("operation"):
        logical.append(
            {"name": finding["operation"], "fullyQualifiedName": finding["operation"], "kind": "function"}
        )
    if logical:
        location["logicalLocations"] = logical
    result: dict[str, Any] = {
        "ruleId": outcome["id"],
        "ruleIndex": rule_index,
        "kind": "fail",
        "level": _LEVEL[outcome["level"]],
        "message": {"text": text},
        "partialFingerprints": {FINGERPRINT_KEY: _fingerprint(outcome["id"], finding)},
        "properties": _finding_properties(outcome, finding),
    }
    if location:
        result["locations"] = [location]
    return result


def _finding_properties(outcome: Mapping[str, Any], finding: Mapping[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = {
        "title": finding["title"],
        "level": outcome["level"],
        "commitment": outcome["commitment"],
    }
    for key in ("pointer", "operation", "exchange", "document"):
        if finding.get(key) is not None:
            props[key] = finding[key]
    return props


def _fingerprint(rule_id: str, finding: Mapping[str, Any]) -> str:
    where = finding.get("pointer")
    if where is None:
        where = finding.get("operation") or ""
    seed = "\x1f".join((rule_id, finding.get("document") or "", where, finding["title"]))
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()[:32]


def _last_token(pointer: str) -> str:
    token = pointer.rsplit("/", 1)[-1]
    return token.replace("~1", "/").replace("~0", "~") or "/"


# -- document URIs -------------------------------------------------------------------------------------------
def _artifacts(spec: Mapping[str, Any] | None) -> tuple[list[dict[str, Any]], dict[str | None, int]]:
    if spec is None:
        return [], {}
    artifacts: list[dict[str, Any]] = [
        {
            "location": _artifact_location(spec["source"], None),
            "mimeType": _MIME.get(spec["format"], "application/octet-stream"),
            "roles": ["analysisTarget"],
            "hashes": {"sha-256": spec["sha256"]},
        }
    ]
    index: dict[str | None, int] = {None: 0}
    for doc in spec["documents"]:
        index[doc["name"]] = len(artifacts)
        artifacts.append(
            {
                "location": _artifact_location(spec["source"], doc["name"]),
                "roles": ["analysisTarget"],
                "hashes": {"sha-256": doc["sha256"]},
            }
        )
    return artifacts, index


def _artifact_location(source: str, document: str | None) -> dict[str, Any]:
    # Called once per result: the answer depends only on the two strings, so work it out once each.
    return dict(_artifact_location_cached(source, document))


@lru_cache(maxsize=256)
def _artifact_location_cached(source: str, document: str | None) -> dict[str, Any]:
    """The main document as given (a URL stays a URL, an absolute path becomes a file URI, a relative path
    stays relative to the source root) or a referenced ``document``, which is relative to the main one."""
    if _SCHEME.match(source):
        return {"uri": urljoin(source, document) if document else source}
    windows = bool(re.match(r"^[A-Za-z]:[\\/]", source)) or "\\" in source
    path = PureWindowsPath(source).as_posix() if windows else source
    if document:
        path = posixpath.normpath(posixpath.join(posixpath.dirname(path) or ".", document))
    if windows and PureWindowsPath(source).is_absolute():
        return {"uri": PureWindowsPath(path).as_uri()}
    if PurePosixPath(path).is_absolute():
        return {"uri": PurePosixPath(path).as_uri()}
    if urlsplit(path).scheme:  # "c:foo" and the like: never let a relative path read as a URI scheme
        path = "./" + path
    return {"uri": quote(path, safe="/._-~"), "uriBaseId": "%SRCROOT%"}


def _run_properties(report: Mapping[str, Any]) -> dict[str, Any]:
    verdict = report["verdict"]
    profile = report["profile"]
    spec = report["spec"]
    props: dict[str, Any] = {
        "verdict": verdict["status"],
        "verdictReason": verdict["reason"],
        "scope": report["scope"],
        "claimable": verdict["claimable"],
        "claimBlockers": list(verdict["claim_blockers"]),
        "tier": verdict["tier"]["reached"],
        "counts": dict(verdict["counts"]),
        "product": report["product"],
        "profile": {
            "id": profile["id"],
            "version": profile["version"],
            "sha256": profile["sha256"],
            "resolvedSha256": profile["resolved_sha256"],
        },
        "document": None if spec is None else {"source": spec["source"], "sha256": spec["sha256"]},
        "runId": report["run_id"],
        "reportSchemaVersion": report["schema_version"],
    }
    if report["evidence"]:
        props["evidenceSha256"] = report["evidence"]["sha256"]
    return props
