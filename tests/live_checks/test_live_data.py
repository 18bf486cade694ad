"""Live data checks (C6-03, C7-01, C9-12, C10-03/06/07) against the reference supplier: each passes on the clean
server and leaves no record behind, fails under its fault switch with findings linked to recorded exchanges,
and says why when it cannot run (no writes, no second tenant, no dictionary, no peer)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.live import LiveTarget
from conformance.outcome import Level, Outcome, Status
from conformance.reference import REFERENCE_DICTIONARY
from conformance.reference.server import ReferenceServer
from conformance.reference.target import target_config_for
from conformance.registry import CheckContext
from conformance.runner import Scope, run_requirement
from conformance.spec import Spec, load_spec
from tests.conftest import requirement_for

from .conftest import holdings, live_outcome

DICTIONARIES = Path(__file__).resolve().parents[1] / "fixtures" / "pole-dictionary"
GOOD_DICTIONARY = REFERENCE_DICTIONARY
BROKEN_DICTIONARY = DICTIONARIES / "synthetic-violated.json"

WRITING = ["live.export.incremental", "live.audit.metadata", "live.mopi.deletion", "live.tenancy.isolation"]

# check, fault, the finding titles the fault must produce (exactly this set)
FAULTS = [
    ("live.export.incremental", "no-since-filter", {"Unchanged record in the changed-since list"}),
    (
        "live.audit.metadata",
        "no-audit-metadata",
        {"Records lack audit metadata", "Change missing from the audit trail"},
    ),
    ("live.mopi.deletion", "soft-delete-still-exported", {"Deleted record still exported"}),
    ("live.tenancy.isolation", "cross-tenant-read", {"Another tenant's record readable"}),
    (
        "live.tenancy.isolation",
        "cross-tenant-write",
        {"Another tenant's record changed", "Another tenant's record deleted"},
    ),
]


def _exchange_ids(evidence: Path) -> set[str]:
    lines = evidence.read_text(encoding="utf-8").splitlines()
    return {json.loads(line)["id"] for line in lines if line.strip()}


def _assert_linked(outcome: Outcome, evidence: Path) -> None:
    """Every finding names an exchange, and that exchange is in the evidence file."""
    ids = _exchange_ids(evidence)
    for finding in outcome.findings:
        assert finding.exchange in ids, finding


# -- both ways ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("check_id", WRITING)
def test_passes_on_the_clean_server_and_cleans_up(
    reference: ReferenceServer, check_id: str, tmp_path: Path
) -> None:
    """On the clean reference supplier the check passes, and both forces hold exactly what they held."""
    before = holdings(reference)
    outcome, _ = live_outcome(check_id, reference, tmp_path)
    assert outcome.status is Status.PASSED, (outcome.reason, outcome.findings)
    assert holdings(reference) == before
    assert not any("clean-up failed" in note for note in outcome.notes)
    assert outcome.tables, "a reviewer sees what was counted"


@pytest.mark.parametrize(("check_id", "fault", "titles"), FAULTS)
def test_fails_under_its_fault(
    faulty: Any, check_id: str, fault: str, titles: set[str], tmp_path: Path
) -> None:
    """Under the fault the check fails with exactly the expected findings, each linked to evidence."""
    server = faulty(fault)
    before = holdings(server)
    outcome, evidence = live_outcome(check_id, server, tmp_path)
    assert outcome.status is Status.FAILED, outcome.reason
    assert {f.title for f in outcome.findings} == titles
    _assert_linked(outcome, evidence)
    if fault != "cross-tenant-write":  # there, force A's DELETE removed the synthetic record itself
        assert holdings(server) == before


def test_incremental_table_shows_both_records(faulty: Any, tmp_path: Path) -> None:
    """The table names the changed and the unchanged record, and where each was (not) expected."""
    outcome, _ = live_outcome("live.export.incremental", faulty("no-since-filter"), tmp_path)
    (table,) = outcome.tables
    assert [row[-2:] for row in table.rows] == [("yes", "yes"), ("yes", "no")]
    assert table.columns[2].startswith("Listed with updatedAfter=")


def test_incremental_creates_its_own_unchanged_record_when_none_is_older(
    reference: ReferenceServer, tmp_path: Path
) -> None:
    """No listed record changed before T (a far-future name list): the check makes one, waits, and still
    judges."""
    outcome, _ = live_outcome("live.export.incremental", reference, tmp_path, updated_names=["noSuchStamp"])
    assert outcome.status is Status.PASSED, outcome.reason
    assert "created by this check before T" in str(outcome.tables[0].rows[1][1])
    assert "the 2 record(s) this check created were deleted" in " ".join(outcome.notes)


def test_audit_trail_table_names_the_client(reference: ReferenceServer, tmp_path: Path) -> None:
    """The audit trail's entries for the synthetic record name force A's client for each action."""
    outcome, _ = live_outcome("live.audit.metadata", reference, tmp_path)
    trail = next(t for t in outcome.tables if t.title.startswith("Audit trail entries"))
    client = reference.clients["force-a"].client_id
    assert [(row[0], row[1], row[2]) for row in trail.rows] == [
        ("created", "yes", client),
        ("updated", "yes", client),
        ("deleted", "yes", client),
    ]


def test_tenancy_write_fault_is_said_loudly(faulty: Any, tmp_path: Path) -> None:
    """A cross-tenant write that succeeds is in the notes, in capitals, with what was touched."""
    outcome, _ = live_outcome("live.tenancy.isolation", faulty("cross-tenant-write"), tmp_path)
    assert any(note.startswith("TENANT ISOLATION BROKEN") for note in outcome.notes)
    assert not any("clean-up failed" in note for note in outcome.notes)


# -- when a check cannot run ----------------------------------------------------------------------------
@pytest.mark.parametrize("check_id", ["live.export.incremental", "live.mopi.deletion"])
def test_writing_checks_are_untested_without_writes(
    reference: ReferenceServer, check_id: str, tmp_path: Path
) -> None:
    """Without --allow-writes nothing is written and the check is untested, saying why."""
    outcome, evidence = live_outcome(check_id, reference, tmp_path, allow_writes=False)
    assert outcome.status is Status.UNTESTED
    assert "--allow-writes" in (outcome.reason or "")
    lines = evidence.read_text(encoding="utf-8").splitlines() if evidence.exists() else []
    sent = [json.loads(line) for line in lines if line.strip()]
    assert [r for r in sent if r["method"] != "GET" and not r["url"].endswith("/oauth2/token")] == []


def test_audit_without_writes_judges_metadata_only(faulty: Any, tmp_path: Path) -> None:
    """Without writes the records' metadata is still judged (and fails under the fault); a note says the
    trail was not exercised."""
    (tmp_path / "clean").mkdir()
    clean, _ = live_outcome("live.audit.metadata", faulty(), tmp_path / "clean", allow_writes=False)
    assert clean.status is Status.PASSED
    assert any("only the records' metadata was judged" in note for note in clean.notes)
    broken, _ = live_outcome("live.audit.metadata", faulty("no-audit-metadata"), tmp_path, allow_writes=False)
    assert {f.title for f in broken.findings} == {"Records lack audit metadata"}


def test_tenancy_without_writes_reads_only(faulty: Any, tmp_path: Path) -> None:
    """Without writes only reads are probed: a cross-tenant write fault goes unnoticed, and a note says so."""
    outcome, _ = live_outcome(
        "live.tenancy.isolation", faulty("cross-tenant-write"), tmp_path, allow_writes=False
    )
    assert outcome.status is Status.PASSED
    assert any("was not tried" in note for note in outcome.notes)
    assert {row[2] for row in outcome.tables[0].rows} == {"read (GET)"}


def test_tenancy_needs_a_second_tenant(reference: ReferenceServer, tmp_path: Path) -> None:
    """Without the other tenant's credentials the check is untested, never passed."""
    outcome, _ = live_outcome("live.tenancy.isolation", reference, tmp_path, other_tenant=False)
    assert outcome.status is Status.UNTESTED
    assert "other_tenant" in (outcome.reason or "")


# -- C6-03: payloads against the customer's data dictionary ----------------------------------------------
def test_payloads_untested_without_a_dictionary(reference: ReferenceServer, tmp_path: Path) -> None:
    """No dictionary: untested, with the flag to give one."""
    outcome, _ = live_outcome("live.pole.payloads", reference, tmp_path)
    assert outcome.status is Status.UNTESTED
    assert "--data-dictionary" in (outcome.reason or "")


def test_payloads_pass_the_matching_dictionary(reference: ReferenceServer, tmp_path: Path) -> None:
    """The reference's records pass the synthetic dictionary written for it; every type is sampled."""
    outcome, _ = live_outcome(
        "live.pole.payloads", reference, tmp_path, options={"data_dictionary": GOOD_DICTIONARY}
    )
    assert outcome.status is Status.PASSED, (outcome.reason, outcome.findings)
    (table,) = outcome.tables
    assert [row[0] for row in table.rows] == ["Person", "Object", "Location", "Event"]
    assert all(row[-1] == 0 for row in table.rows)


def test_payloads_fail_a_dictionary_they_break(reference: ReferenceServer, tmp_path: Path) -> None:
    """Against a dictionary the reference breaks: one finding per attribute and rule, linked to the list."""
    outcome, evidence = live_outcome(
        "live.pole.payloads", reference, tmp_path, options={"data_dictionary": str(BROKEN_DICTIONARY)}
    )
    assert outcome.status is Status.FAILED
    found = {(f.title, f.message.split(" (dictionary row")[0].split(": ", 1)[1]) for f in outcome.findings}
    assert found == {
        ("Value longer than the dictionary's field size", "Person.fullName"),
        ("Value of the wrong type for the dictionary", "Person.dateOfBirth"),
        ("Mandatory attribute missing from records", "Person.custodyNumber"),
        ("Mandatory attribute missing from records", "Person.familyName"),
        ("Value not in the dictionary's code list", "Person.gender"),
        ("Value longer than the dictionary's field size", "Event.summary"),
    }
    _assert_linked(outcome, evidence)


def test_payloads_cant_tell_with_an_unreadable_dictionary(reference: ReferenceServer, tmp_path: Path) -> None:
    """A dictionary that does not load stops the check with the loader's one-line message (file and row)."""
    bad = tmp_path / "dictionary.csv"
    bad.write_text("entity,attribute,data_type\nPerson,fullName,blob\n", encoding="utf-8")
    outcome, _ = live_outcome("live.pole.payloads", reference, tmp_path, options={"data_dictionary": bad})
    assert outcome.status is Status.CANT_TELL
    assert outcome.reason == (
        f"{bad}:row 2: 'data_type' must be one of text, code, integer, number, boolean, date, date-time, time "
        "(got 'blob')"
    )


# -- C6-01 on the served document -------------------------------------------------------------------------
def _static(check_id: str, spec: Spec) -> Outcome:
    req = requirement_for(check_id, requirement_id="TEST-C6-01", commitment="C6", level=Level.SHOULD)
    return run_requirement(req, CheckContext(spec=spec, requirement_id=req.id), scope=Scope.STATIC)


@pytest.mark.parametrize(
    ("faults", "status"), [((), Status.PASSED), (("untagged-pole-schemas",), Status.FAILED)]
)
def test_served_document_tagging(faulty: Any, faults: tuple[str, ...], status: Status) -> None:
    """openapi.pole.tagged passes on the document the clean server serves and fails on the one it serves
    under untagged-pole-schemas."""
    server = faulty(*faults)
    served = load_spec(server.spec_url, ca_bundle=str(server.ca_bundle))
    outcome = _static("openapi.pole.tagged", served)
    assert outcome.status is status
    if faults:
        assert {f.title for f in outcome.findings} == {"POLE schema not tagged"}
        assert {f.pointer for f in outcome.findings} >= {
            "/components/schemas/Person",
            "/components/schemas/Event",
        }


# -- C7-01: a transfer to a second supplier ---------------------------------------------------------------
@contextlib.contextmanager
def _peer(folder: Path, *faults: str) -> Iterator[tuple[ReferenceServer, LiveTarget]]:
    """A second, empty reference supplier (with ``faults``) and a live target on it, evidence in ``folder``."""
    with (
        ReferenceServer(rate_limit_per_minute=100_000, seed_data=False, faults=faults) as server,
        LiveTarget.open(target_config_for(server), folder) as target,
    ):
        yield server, target


def test_cross_supplier_untested_without_a_peer(reference: ReferenceServer, tmp_path: Path) -> None:
    """No second supplier: untested, naming the flags."""
    outcome, _ = live_outcome("live.interop.cross-supplier", reference, tmp_path)
    assert outcome.status is Status.UNTESTED
    assert "--peer-base-url" in (outcome.reason or "")


def test_cross_supplier_round_trip_is_lossless(
    reference: ReferenceServer, reference_spec: Spec, tmp_path: Path
) -> None:
    """Every record of force A goes to the second supplier and comes back identical; the peer is emptied."""
    with _peer(tmp_path / "peer-evidence") as (server, target):
        options = {"peer": target, "peer_spec": reference_spec}
        outcome, _ = live_outcome("live.interop.cross-supplier", reference, tmp_path, options=options)
        left = holdings(server)
    assert outcome.status is Status.PASSED, (outcome.reason, outcome.findings)
    (counts,) = outcome.tables
    for row in counts.rows:
        exported, sent, refused, found, identical = row[3:]
        assert exported == sent == found == identical > 0
        assert refused == 0
    assert all(not ids for ids in left.values())


def test_cross_supplier_reports_each_lost_field(
    reference: ReferenceServer, reference_spec: Spec, tmp_path: Path
) -> None:
    """A peer whose import drops a field per type: one finding per type and field, a diff table, clean-up."""
    with _peer(tmp_path / "peer-evidence", "lossy-import") as (server, target):
        options = {"peer": target, "peer_spec": reference_spec}
        outcome, _ = live_outcome("live.interop.cross-supplier", reference, tmp_path, options=options)
        left = holdings(server)
    assert outcome.status is Status.FAILED
    lost = {
        f.message.split(" is missing")[0] for f in outcome.findings if f.title == "Field lost in the transfer"
    }
    assert lost == {"Person.aliases", "Object.serialNumber", "Location.address", "Event.personLinks"}
    assert {f.title for f in outcome.findings} == {"Field lost in the transfer"}
    differences = next(t for t in outcome.tables if t.title == "Field differences after the transfer")
    assert {(row[0], row[1]) for row in differences.rows} == {
        ("Person", "aliases"),
        ("Object", "serialNumber"),
        ("Location", "address"),
        ("Event", "personLinks"),
    }
    peer_ids = _exchange_ids(tmp_path / "peer-evidence" / "exchanges.ndjson")
    assert all(f.exchange in peer_ids for f in outcome.findings)  # the evidence is the peer's re-export
    assert all(not ids for ids in left.values())


def test_cross_supplier_cant_tell_when_nothing_crosses_over(
    reference: ReferenceServer, reference_spec: Spec, tmp_path: Path
) -> None:
    """A peer that already holds every exported record (same sample ids): nothing is sent, so nothing is
    shown — can't tell, never passed."""
    with (
        ReferenceServer(rate_limit_per_minute=100_000) as server,
        LiveTarget.open(target_config_for(server), tmp_path / "peer-evidence") as target,
    ):
        options = {"peer": target, "peer_spec": reference_spec}
        outcome, _ = live_outcome("live.interop.cross-supplier", reference, tmp_path, options=options)
    assert outcome.status is Status.CANT_TELL
    assert "no record was transferred" in (outcome.reason or "")
