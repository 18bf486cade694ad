"""``junit.xml``: the report as JUnit XML, for CI dashboards.

Conforms to the Jenkins xunit-plugin JUnit schema ``junit-10.xsd`` (the one pytest validates its own
``--junitxml`` output against): https://github.com/jenkinsci/xunit-plugin/blob/master/src/main/resources/org/jenkinsci/plugins/xunit/types/model/xsd/junit-10.xsd

One ``<testsuite>`` named after the profile, one ``<testcase>`` per requirement (``classname`` =
``<profile>.<commitment>``, ``name`` = ``<requirement id> <title>``):

* failed -> ``<failure type="MUST|SHOULD|MAY">`` with the findings as text (at most ``MAX_FINDINGS``);
* cantTell -> ``<error>`` (the check could not decide);
* inapplicable / untested -> ``<skipped>`` with the reason.

A failed SHOULD or MAY is a ``<failure>`` too: the level is in ``type``, and the verdict (a suite
property) is what decides conformance. The tree is built with ElementTree, so every text and attribute
is escaped exactly once; characters XML 1.0 cannot carry are replaced by ``\\xNN``-style text first.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["MAX_FINDINGS", "render"]

MAX_FINDINGS = 50

# Characters outside the XML 1.0 Char production (https://www.w3.org/TR/xml/#charsets).
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render(report: Mapping[str, Any]) -> bytes:
    """JUnit XML for ``report`` (UTF-8, with an XML declaration, indented)."""
    outcomes: Sequence[Mapping[str, Any]] = report["outcomes"]
    profile_id = str(report["profile"]["id"])
    counts = {
        "tests": len(outcomes),
        "failures": sum(1 for o in outcomes if o["status"] == "failed"),
        "errors": sum(1 for o in outcomes if o["status"] == "cantTell"),
        "skipped": sum(1 for o in outcomes if o["status"] in ("inapplicable", "untested")),
    }
    total_time = _seconds(int(report["duration_ms"]))  # the run's wall time, as the report states it
    root = ET.Element(
        "testsuites",
        _attrs(
            name=report["harness"]["name"],
            tests=counts["tests"],
            failures=counts["failures"],
            errors=counts["errors"],
            time=total_time,
        ),
    )
    suite = ET.SubElement(
        root,
        "testsuite",
        _attrs(
            name=profile_id,
            tests=counts["tests"],
            failures=counts["failures"],
            errors=counts["errors"],
            skipped=counts["skipped"],
            time=total_time,
            timestamp=report["started_at"],
            id=report["run_id"],
        ),
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in _properties(report):
        ET.SubElement(properties, "property", _attrs(name=name, value=value))
    spec = report["spec"]
    main_document = spec["source"].rstrip("/").rsplit("/", 1)[-1] if spec is not None else ""
    for outcome in outcomes:
        _testcase(suite, profile_id, outcome, main_document)
    ET.indent(root, space="  ")
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"


def _testcase(suite: ET.Element, profile_id: str, outcome: Mapping[str, Any], main_document: str) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        _attrs(
            classname=f"{profile_id}.{outcome['commitment']}",
            name=f"{outcome['id']} {outcome['title']}",
            time=_seconds(int(outcome["duration_ms"])),
        ),
    )
    status = outcome["status"]
    if status == "failed":
        findings: Sequence[Mapping[str, Any]] = outcome["findings"]
        first = findings[0]["message"] if findings else ""
        summary = f"{outcome['level']} requirement failed with {len(findings)} finding(s)"
        failure = ET.SubElement(
            case,
            "failure",
            _attrs(type=outcome["level"], message=f"{summary}: {first}" if first else summary),
        )
        failure.text = _clean(_findings_text(outcome, main_document))
    elif status == "cantTell":
        reason = outcome.get("reason") or "the check could not decide"
        error = ET.SubElement(case, "error", _attrs(type="cantTell", message=reason))
        error.text = _clean(f"{outcome['level']} requirement could not be determined: {reason}")
    elif status in ("inapplicable", "untested"):
        reason = outcome.get("reason") or status
        ET.SubElement(case, "skipped", _attrs(type=status, message=f"{status}: {reason}"))
    notes = outcome.get("notes") or []
    if notes:
        out = ET.SubElement(case, "system-out")
        out.text = _clean("\n".join(notes))


def _findings_text(outcome: Mapping[str, Any], main_document: str) -> str:
    findings: Sequence[Mapping[str, Any]] = outcome["findings"]
    blocks = []
    for number, finding in enumerate(findings[:MAX_FINDINGS], start=1):
        lines = [f"[{number}] {finding['title']}: {finding['message']}"]
        where = _where(finding, main_document)
        if where:
            lines.append(f"    at {where}")
        for key, label in (("expected", "Expected"), ("found", "Found"), ("fix", "How to fix")):
            if finding.get(key) is not None:
                lines.append(f"    {label}: {finding[key]}")
        blocks.append("\n".join(lines))
    if len(findings) > MAX_FINDINGS:
        blocks.append(f"… and {len(findings) - MAX_FINDINGS} more — see report.json")
    references = outcome.get("references") or []
    if references:
        blocks.append("References:\n" + "\n".join(f"  - {ref}" for ref in references))
    return "\n".join(blocks)


def _where(finding: Mapping[str, Any], main_document: str) -> str:
    parts = []
    if finding.get("operation"):
        parts.append(str(finding["operation"]))
    if finding.get("pointer") is not None:
        location = f"{finding.get('document') or main_document}#{finding['pointer']}"
        if "line" in finding:
            location += f" (line {finding['line']}, column {finding.get('column', 1)})"
        parts.append(location)
    elif finding.get("document"):
        parts.append(str(finding["document"]))
    if finding.get("exchange"):
        parts.append(f"exchange {finding['exchange']}")
    return " — ".join(parts)


def _properties(report: Mapping[str, Any]) -> list[tuple[str, Any]]:
    verdict = report["verdict"]
    profile = report["profile"]
    spec = report["spec"]
    props: list[tuple[str, Any]] = [
        ("verdict", verdict["status"]),
        ("verdict.reason", verdict["reason"]),
        ("verdict.exit_code", verdict["exit_code"]),
        ("verdict.claimable", "true" if verdict["claimable"] else "false"),
        ("scope", report["scope"]),
        ("tier", verdict["tier"]["reached"] or "none"),
        ("product", report["product"]),
        ("profile.id", profile["id"]),
        ("profile.version", profile["version"]),
        ("profile.sha256", profile["sha256"]),
        ("profile.resolved_sha256", profile["resolved_sha256"]),
    ]
    if spec is not None:
        props += [
            ("spec.source", spec["source"]),
            ("spec.sha256", spec["sha256"]),
            ("spec.title", spec["title"]),
            ("spec.openapi_version", spec["openapi_version"]),
        ]
    if report["evidence"]:
        props.append(("evidence.sha256", report["evidence"]["sha256"]))
    props += [
        ("run_id", report["run_id"]),
        ("harness.version", report["harness"]["version"]),
        ("report.schema_version", report["schema_version"]),
        ("started_at", report["started_at"]),
        ("finished_at", report["finished_at"]),
    ]
    return props


def _seconds(ms: int) -> str:
    """Milliseconds as seconds with three decimals, by integer arithmetic (no float rounding)."""
    return f"{ms // 1000}.{ms % 1000:03d}"


def _clean(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _attrs(**values: Any) -> dict[str, str]:
    return {key: _clean(str(value)) for key, value in values.items()}
