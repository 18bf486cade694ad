"""The signed claims: an in-toto Statement v1 with the test-result v0.1 predicate (supplier), or the SVR
v0.1 predicate (a standards body's countersignature).

Specs: https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md ,
``spec/predicates/test-result.md`` (v0.1.0) and ``spec/predicates/svr.md`` (v0.1).

Supplier statement (line 1 of ``report.intoto.jsonl``)
    subjects   ``report.json`` (``sha256`` of its exact bytes) and ``evidence/`` (``dirHash``, see
               ``evidence.py``; present even when the folder is empty). A remote API has no immutable
               artefact to name, so the report and its evidence are the subjects and the target is
               described in the extension field below.
    result     from the report's verdict, never more favourable than it:
               CONFORMANT and no SHOULD/MAY requirement failed or undetermined -> ``PASSED``;
               CONFORMANT with such warnings -> ``WARNED``; NOT CONFORMANT -> ``FAILED``;
               INCOMPLETE -> ``FAILED`` (a MUST could not be determined or a required declaration is
               missing, so conformance is not shown; a missing test must never read as a pass).
    tests      ``<profile id>@<version>#<requirement id>``, qualified so a name can never be read against
               another profile. ``passedTests``: outcome ``passed``; ``failedTests``: a MUST ``failed`` or
               ``cantTell``; ``warnedTests``: a SHOULD/MAY ``failed`` or ``cantTell``. Inapplicable and
               untested requirements are in no list (they did not pass) and are counted in the extension.
    configuration  resource descriptors: ``profile`` (id@version, sha256 of the exact file bytes),
               ``openapi`` (sha256 of the exact document bytes, plus one ``openapi:<name>`` per referenced
               file) and ``harness`` (name, version).
    extension  ``interopConformance`` (one prefixed field, as the in-toto parsing rules allow; no ``.`` or
               ``$`` in the name): run id, product, scope, target, start/end times, verdict, counts, and
               ``signedAt`` + ``signer`` (key id, algorithm, certificate digests) so the signature also covers
               which key and which certificates the signer meant, not only the report.

Countersignature (later lines)
    subjects   ``report.json`` (sha256) and ``supplier-statement`` (sha256 of line 1's decoded payload
               bytes, which are stable, unlike re-formatted envelope JSON).
    predicate  SVR: ``verifier.id`` (versioned URI), ``verifier.policy`` = the profile descriptor's uri and
               digest, ``timeCreated``, ``properties`` (e.g. ``TECHUK_INTEROP_POL_CORE_1_CONFORMANT``), and
               the same ``interopConformance.signer`` binding.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from .errors import BadStatement

__all__ = [
    "EVIDENCE_SUBJECT",
    "EXTENSION",
    "REPORT_SUBJECT",
    "RESULTS",
    "STATEMENT_TYPE",
    "SUPPLIER_SUBJECT",
    "SVR_TYPE",
    "TEST_RESULT_TYPE",
    "check_svr_statement",
    "check_test_result_statement",
    "parse_time",
    "profile_descriptor",
    "report_predicate",
    "result_of",
    "supplier_statement",
    "svr_statement",
    "time_text",
]

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
TEST_RESULT_TYPE = "https://in-toto.io/attestation/test-result/v0.1"
SVR_TYPE = "https://in-toto.io/attestation/svr/v0.1"
EXTENSION = "interopConformance"
EXTENSION_VERSION = 1
REPORT_SUBJECT = "report.json"
EVIDENCE_SUBJECT = "evidence/"
SUPPLIER_SUBJECT = "supplier-statement"
RESULTS = ("PASSED", "WARNED", "FAILED")
PROPERTY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_NOT_PASSED = ("failed", "cantTell")


def time_text(moment: datetime) -> str:
    """RFC 3339 UTC with a ``Z``, whole seconds (the in-toto timestamp form)."""
    return moment.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: object, field: str) -> datetime:
    if not isinstance(text, str) or not _TIME.fullmatch(text):
        raise BadStatement(
            f"'{field}' must be an RFC 3339 UTC time like 2026-01-31T12:00:00Z (got {text!r:.40})"
        )
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise BadStatement(f"'{field}' is not a valid time (got {text!r})") from None


# -- from report.json to the predicate -----------------------------------------------------------------
def _test_name(report: Mapping[str, Any], requirement_id: str) -> str:
    profile = report["profile"]
    return f"{profile['id']}@{profile['version']}#{requirement_id}"


def _test_lists(report: Mapping[str, Any]) -> tuple[list[str], list[str], list[str]]:
    passed: list[str] = []
    warned: list[str] = []
    failed: list[str] = []
    for outcome in report["outcomes"]:
        name = _test_name(report, outcome["id"])
        if outcome["status"] == "passed":
            passed.append(name)
        elif outcome["status"] in _NOT_PASSED:
            (failed if outcome["level"] == "MUST" else warned).append(name)
    return sorted(passed), sorted(warned), sorted(failed)


def result_of(report: Mapping[str, Any]) -> str:
    """PASSED / WARNED / FAILED from the report's verdict (see the module docstring for the mapping)."""
    if report["verdict"]["status"] != "CONFORMANT":
        return "FAILED"  # NOT CONFORMANT, and INCOMPLETE: conformance was not shown
    _, warned, _ = _test_lists(report)
    return "WARNED" if warned or report["verdict"].get("warnings") else "PASSED"


def profile_descriptor(report: Mapping[str, Any]) -> dict[str, Any]:
    profile = report["profile"]
    return {
        "name": "profile",
        "uri": f"urn:interop-conformance:profile:{profile['id']}@{profile['version']}",
        "digest": {"sha256": profile["sha256"]},
        "mediaType": "application/yaml",
        "annotations": {
            "id": profile["id"],
            "version": profile["version"],
            "file": profile.get("file"),
            "resolvedSha256": profile.get("resolved_sha256"),
        },
    }


def _configuration(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    configuration = [profile_descriptor(report)]
    spec = report.get("spec")
    if spec:
        source = spec.get("source")
        document: dict[str, Any] = {
            "name": "openapi",
            "digest": {"sha256": spec["sha256"]},
            "annotations": {
                "source": source,
                "title": spec.get("title"),
                "apiVersion": spec.get("api_version"),
                "openapiVersion": spec.get("openapi_version"),
            },
        }
        if isinstance(source, str) and source.startswith(("https://", "http://")):
            document["downloadLocation"] = source
        configuration.append(document)
        for referenced in spec.get("documents") or ():
            configuration.append(
                {"name": f"openapi:{referenced['name']}", "digest": {"sha256": referenced["sha256"]}}
            )
    harness = report["harness"]
    configuration.append(
        {
            "name": "harness",
            "uri": f"pkg:pypi/{harness['name']}@{harness['version']}",
            "annotations": {"name": harness["name"], "version": harness["version"]},
        }
    )
    return configuration


def report_predicate(report: Mapping[str, Any]) -> dict[str, Any]:
    """Everything in the test-result predicate that follows from report.json alone (no signer fields).

    Signing writes it; verification recomputes it from report.json and requires equality (step 8), so
    the two can never drift apart.
    """
    try:
        passed, warned, failed = _test_lists(report)
        verdict = report["verdict"]
        return {
            "result": result_of(report),
            "configuration": _configuration(report),
            "passedTests": passed,
            "warnedTests": warned,
            "failedTests": failed,
            EXTENSION: {
                "version": EXTENSION_VERSION,
                "runId": report["run_id"],
                "product": report.get("product"),
                "scope": report["scope"],
                "target": report.get("target"),
                "startedOn": report["started_at"],
                "finishedOn": report["finished_at"],
                "reportSchemaVersion": report["schema_version"],
                "verdict": {
                    "status": verdict["status"],
                    "reason": verdict.get("reason"),
                    "claimable": verdict.get("claimable"),
                    "tier": (verdict.get("tier") or {}).get("reached"),
                    "failedMusts": list(verdict.get("failed_musts") or ()),
                    "undeterminedMusts": list(verdict.get("undetermined_musts") or ()),
                    "warnings": list(verdict.get("warnings") or ()),
                },
                "counts": dict(verdict["counts"]),
            },
        }
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(
            f"report.json lacks a field the signature needs ({type(exc).__name__}: {exc})"
        ) from None


def supplier_statement(
    report: Mapping[str, Any],
    *,
    report_sha256: str,
    evidence_dir_hash: str,
    signer: Mapping[str, Any],
    signed_at: str,
) -> dict[str, Any]:
    predicate = report_predicate(report)
    predicate[EXTENSION]["signedAt"] = signed_at
    predicate[EXTENSION]["signer"] = dict(signer)
    return {
        "_type": STATEMENT_TYPE,
        "subject": [
            {"name": REPORT_SUBJECT, "digest": {"sha256": report_sha256}},
            {"name": EVIDENCE_SUBJECT, "digest": {"dirHash": evidence_dir_hash}},
        ],
        "predicateType": TEST_RESULT_TYPE,
        "predicate": predicate,
    }


def svr_statement(
    *,
    report_sha256: str,
    supplier_payload_sha256: str,
    policy: Mapping[str, Any],
    verifier_id: str,
    properties: list[str],
    signer: Mapping[str, Any],
    time_created: str,
) -> dict[str, Any]:
    return {
        "_type": STATEMENT_TYPE,
        "subject": [
            {"name": REPORT_SUBJECT, "digest": {"sha256": report_sha256}},
            {"name": SUPPLIER_SUBJECT, "digest": {"sha256": supplier_payload_sha256}},
        ],
        "predicateType": SVR_TYPE,
        "predicate": {
            "verifier": {"id": verifier_id, "policy": dict(policy)},
            "timeCreated": time_created,
            "properties": list(properties),
            EXTENSION: {"version": EXTENSION_VERSION, "signer": dict(signer)},
        },
    }


# -- shape checks on a verified, parsed statement ------------------------------------------------------
def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _object(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadStatement(f"{what} must be a JSON object")
    return value


def _subjects(statement: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    subjects = statement.get("subject")
    if not isinstance(subjects, list) or not subjects:
        raise BadStatement("'subject' must be a non-empty list")
    named: dict[str, dict[str, str]] = {}
    for entry in subjects:
        entry = _object(entry, "every subject")
        name = entry.get("name")
        if not isinstance(name, str):
            raise BadStatement("every subject needs a 'name'")
        digest = entry.get("digest")
        if not isinstance(digest, dict) or not digest or not all(isinstance(v, str) for v in digest.values()):
            raise BadStatement(f"subject {name!r:.80} needs a 'digest' of strings")
        if name in named:
            raise BadStatement(f"subject {name!r:.80} appears twice")
        named[name] = digest
    return named


def _signer(extension: object) -> dict[str, Any]:
    extension = _object(extension, f"predicate field '{EXTENSION}'")
    if extension.get("version") != EXTENSION_VERSION:
        raise BadStatement(
            f"'{EXTENSION}.version' must be {EXTENSION_VERSION} (got {extension.get('version')!r:.40})"
        )
    signer = _object(extension.get("signer"), f"'{EXTENSION}.signer'")
    if not (
        isinstance(signer.get("keyid"), str)
        and isinstance(signer.get("algorithm"), str)
        and _strings(signer.get("certificates"))
    ):
        raise BadStatement(f"'{EXTENSION}.signer' must name keyid, algorithm and certificates")
    return signer


def _header(statement: object, predicate_type: str, who: str) -> tuple[dict[str, Any], dict[str, Any]]:
    statement = _object(statement, f"the {who}payload")
    if statement.get("_type") != STATEMENT_TYPE:
        raise BadStatement(f"{who}'_type' must be {STATEMENT_TYPE} (got {statement.get('_type')!r:.80})")
    if statement.get("predicateType") != predicate_type:
        raise BadStatement(
            f"{who}'predicateType' must be {predicate_type} (got {statement.get('predicateType')!r:.80})"
        )
    return statement, _object(statement.get("predicate"), f"{who}'predicate'")


def check_test_result_statement(statement: object) -> dict[str, dict[str, str]]:
    """Step 5: the shape of a supplier statement; returns its subjects by name."""
    statement, predicate = _header(statement, TEST_RESULT_TYPE, "")
    subjects = _subjects(statement)
    # The older test-results draft used "pass"/"fail" under the same type URI: accept only the enum.
    if predicate.get("result") not in RESULTS:
        raise BadStatement(
            f"'predicate.result' must be one of {', '.join(RESULTS)} (got {predicate.get('result')!r:.40})"
        )
    configuration = predicate.get("configuration")
    if not isinstance(configuration, list) or not configuration:
        raise BadStatement("'predicate.configuration' must be a non-empty list")
    for name in ("passedTests", "warnedTests", "failedTests"):
        if not _strings(predicate.get(name)):
            raise BadStatement(f"'predicate.{name}' must be a list of strings")
    _signer(predicate.get(EXTENSION))
    parse_time(predicate[EXTENSION].get("signedAt"), f"{EXTENSION}.signedAt")
    return subjects


def check_svr_statement(statement: object) -> dict[str, dict[str, str]]:
    """Step 9: the shape of a countersignature statement; returns its subjects by name."""
    statement, predicate = _header(statement, SVR_TYPE, "countersignature ")
    subjects = _subjects(statement)
    verifier = _object(predicate.get("verifier"), "countersignature 'predicate.verifier'")
    if not isinstance(verifier.get("id"), str) or not verifier["id"]:
        raise BadStatement("countersignature 'predicate.verifier.id' must be a URI")
    parse_time(predicate.get("timeCreated"), "predicate.timeCreated")
    properties = predicate.get("properties")
    if not _strings(properties) or not properties:
        raise BadStatement("countersignature 'predicate.properties' must list strings")
    _signer(predicate.get(EXTENSION))
    return subjects


def signer_of(predicate: Mapping[str, Any]) -> dict[str, Any]:
    """The ``interopConformance.signer`` object of a checked predicate."""
    return _signer(predicate.get(EXTENSION))
