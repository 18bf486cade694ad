"""Live portability checks (C10: complete export, open formats, RFC 4180 / NDJSON, round trip) against the
reference supplier: each passes on the clean server and leaves no record behind, fails under exactly its
fault switches with findings linked to recorded exchanges, says why when it cannot run (no writes, no second
tenant, a hostile export), and keeps the evidence of a bulk export bounded."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.checks._export import json_items
from conformance.live import AuthConfig, AuthKind, LiveTarget, TargetConfig
from conformance.live._defaults import DEFAULT_EVIDENCE_BODY_LIMIT
from conformance.outcome import Outcome, Status
from conformance.reference import REFERENCE_SPEC
from conformance.reference.server import ReferenceServer
from conformance.reference.target import target_config_for
from conformance.spec import load_spec
from tests.live.servers import AppServer, Reply, Request

from .conftest import holdings, live_outcome, run_live

COMPLETE = "live.export.complete"
FORMATS = "live.export.open-formats"
STRICT = "live.export.csv-rfc4180"
ROUND_TRIP = "live.export.round-trip"
CHECK_IDS = [COMPLETE, FORMATS, STRICT, ROUND_TRIP]
ENTITIES = ("persons", "objects", "locations", "events")
TYPES = ["Person", "Object", "Location", "Event"]
BULK_PER_TYPE = 128  # enough for every NDJSON export of force A to be larger than the 64 KiB evidence limit

# What each fault switch makes each check find (exactly this set; an empty set: the check passes). The
# soft-delete fault belongs to live.mopi.deletion: none of these checks may trip over it.
EXPECTED: dict[str, dict[str, set[str]]] = {
    "export-drops-records": {
        COMPLETE: {"Seeded record missing from the export"},
        ROUND_TRIP: {"Imported record missing from the re-export"},
    },
    "unstable-paging": {
        # (with the bulk records, the pages that skip a record end before the seeded ones)
        COMPLETE: {"Record listed twice", "List walk skipped a record"},
    },
    "csv-not-rfc4180": {
        FORMATS: {"Export does not parse"},
        STRICT: {
            "CSV line ends are not CRLF",
            "CSV field not quoted",
            "CSV quoting is malformed",
            "CSV records have different field counts",
        },
    },
    "lossy-import": {ROUND_TRIP: {"Field lost on the round trip"}},
    "soft-delete-still-exported": {},
}
MATRIX = [
    (check_id, fault, EXPECTED[fault].get(check_id, set())) for fault in EXPECTED for check_id in CHECK_IDS
]
# Under soft-delete-still-exported the records earlier tests seeded and deleted are exported but not listed:
# the complete check reads each by id to tell them from paging gaps (see test_deleted_but_exported_records).
PARAMS = {(COMPLETE, "soft-delete-still-exported"): {"max_checked": 10_000}}


@pytest.fixture(scope="module")
def reference() -> Iterator[ReferenceServer]:
    """One reference supplier for the module, with bulk records in force A so that exports are larger than
    the evidence limit (overrides the clean, small server of ``conftest``)."""
    with ReferenceServer(rate_limit_per_minute=100_000, seed_records=BULK_PER_TYPE) as server:
        yield server


def _exchanges(evidence: Path) -> list[dict[str, Any]]:
    lines = evidence.read_text(encoding="utf-8").splitlines() if evidence.exists() else []
    return [json.loads(line) for line in lines if line.strip()]


def _assert_linked(outcome: Outcome, evidence: Path) -> None:
    """Every finding names an exchange, and that exchange is in the evidence file."""
    ids = {record["id"] for record in _exchanges(evidence)}
    assert outcome.findings
    for finding in outcome.findings:
        assert finding.exchange in ids, finding


def _writes(evidence: Path) -> list[str]:
    """The requests of a run that are not reads (the token request aside)."""
    return [
        f"{r['method']} {r['url']}"
        for r in _exchanges(evidence)
        if r.get("kind") == "http" and r["method"] != "GET" and not r["url"].endswith("/oauth2/token")
    ]


def _table(outcome: Outcome, starts: str) -> Any:
    return next(t for t in outcome.tables if t.title.startswith(starts))


# -- both ways ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_passes_on_the_clean_server_and_cleans_up(
    reference: ReferenceServer, check_id: str, tmp_path: Path
) -> None:
    """On the clean reference supplier the check passes, writes something (it seeds), and both forces hold
    exactly what they held before."""
    before = holdings(reference)
    outcome, evidence = live_outcome(check_id, reference, tmp_path)
    assert outcome.status is Status.PASSED, (outcome.reason, outcome.findings)
    assert not outcome.findings
    assert _writes(evidence), "the check seeded synthetic records"
    assert holdings(reference) == before
    assert not any("clean-up failed" in note or "not seeded" in note for note in outcome.notes), outcome.notes
    assert outcome.tables, "a reviewer sees what was counted"


@pytest.mark.parametrize(("check_id", "fault", "titles"), MATRIX)
def test_fails_under_exactly_its_faults(
    faulty: Any, check_id: str, fault: str, titles: set[str], tmp_path: Path
) -> None:
    """Under its fault the check fails with exactly the expected findings, each linked to an exchange in
    the evidence; under the other portability faults it passes. Either way nothing is left behind."""
    server = faulty(fault)
    before = holdings(server)
    outcome, evidence = live_outcome(check_id, server, tmp_path, **PARAMS.get((check_id, fault), {}))
    if titles:
        assert outcome.status is Status.FAILED, (outcome.reason, outcome.findings)
        assert {f.title for f in outcome.findings} == titles
        _assert_linked(outcome, evidence)
    else:
        assert outcome.status is Status.PASSED, (outcome.reason, outcome.findings)
    assert holdings(server) == before
    assert not any("clean-up failed" in note for note in outcome.notes), outcome.notes


# -- what the tables say ----------------------------------------------------------------------------------
def test_reconciliation_table_counts_every_record(reference: ReferenceServer, tmp_path: Path) -> None:
    """Clean: per type, 5 seeded, the list and the export hold the whole force (bulk, sample and seeded)."""
    outcome, _ = live_outcome(COMPLETE, reference, tmp_path)
    table = _table(outcome, "Export reconciliation")
    assert table.columns[:4] == ("Entity type", "Seeded", "Listed", "Exported")
    assert [row[0] for row in table.rows] == TYPES
    for row in table.rows:
        assert row[1] == 5
        assert row[2] == row[3] > BULK_PER_TYPE + 5
        assert row[4:] == ("none", "none")


def test_reconciliation_table_names_the_missing_record(faulty: Any, tmp_path: Path) -> None:
    """export-drops-records: the newest record (a seeded one) is missing from each export, and the table and
    the finding name the same id."""
    outcome, _ = live_outcome(COMPLETE, faulty("export-drops-records"), tmp_path)
    table = _table(outcome, "Export reconciliation")
    for row in table.rows:
        assert row[2] == row[3] + 1  # listed, but one short in the export
        assert str(row[4]).startswith("export: ")
    missing = {str(row[4]).removeprefix("export: ") for row in table.rows}
    assert all(any(ident in f.message for f in outcome.findings) for ident in missing)


def test_unstable_paging_table_names_repeats(faulty: Any, tmp_path: Path) -> None:
    """unstable-paging: the walk with small pages repeats and skips records; the table names them."""
    outcome, _ = live_outcome(COMPLETE, faulty("unstable-paging"), tmp_path)
    table = _table(outcome, "Export reconciliation")
    assert any(str(row[5]).startswith("list: ") for row in table.rows)
    assert any("list: " in str(row[4]) for row in table.rows)
    assert all(note.count(" page(s) of ") == 2 for note in outcome.notes if "seeded;" in note)  # two walks


def test_deleted_but_exported_records_are_not_paging_gaps(faulty: Any, tmp_path: Path) -> None:
    """soft-delete-still-exported: records deleted earlier are in both exports but on no page. Read by id
    they answer 404, so they are noted (live.mopi.deletion's business), not reported as skipped by the walk;
    when more of them exist than the check may read, it cannot tell, and says so."""
    (tmp_path / "seed").mkdir()
    (tmp_path / "all").mkdir()
    seeded, _ = live_outcome(FORMATS, faulty(), tmp_path / "seed", per_entity=12)  # 12 deleted per type
    assert seeded.status is Status.PASSED
    server = faulty("soft-delete-still-exported")
    outcome, _ = live_outcome(COMPLETE, server, tmp_path / "all", max_checked=10_000)
    assert outcome.status is Status.PASSED, (outcome.reason, outcome.findings)
    gone = [n for n in outcome.notes if "deleted records still exported" in n]
    assert list(dict.fromkeys(n.split(":")[0] for n in gone)) == TYPES  # a note per type and walk
    outcome, _ = live_outcome(COMPLETE, server, tmp_path, max_checked=5)
    assert outcome.status is Status.CANT_TELL
    assert "the 5 read by id are gone (404/410)" in (outcome.reason or "")
    assert "cannot be told" in (outcome.reason or "")
    assert outcome.tables, "the reconciliation table is kept"


def test_formats_tables_list_every_export(reference: ReferenceServer, tmp_path: Path) -> None:
    """Every type's JSON, NDJSON and CSV export is read and parses; the strict table lists CSV and NDJSON."""
    (tmp_path / "formats").mkdir()
    (tmp_path / "strict").mkdir()
    formats, _ = live_outcome(FORMATS, reference, tmp_path / "formats")
    (table,) = formats.tables
    assert {(row[0], row[1]) for row in table.rows} == {
        (t, m) for t in TYPES for m in ("application/json", "application/x-ndjson", "text/csv")
    }
    assert all(row[2] > BULK_PER_TYPE and row[3] > 0 and row[4] == "parses" for row in table.rows)
    strict, _ = live_outcome(STRICT, reference, tmp_path / "strict")
    (table,) = strict.tables
    assert {row[1] for row in table.rows} == {"application/x-ndjson", "text/csv"}
    assert all(row[3] == "conforms" for row in table.rows)


def test_csv_findings_say_where(faulty: Any, tmp_path: Path) -> None:
    """csv-not-rfc4180: each finding counts the deviation and names the first line; the table says which."""
    outcome, _ = live_outcome(STRICT, faulty("csv-not-rfc4180"), tmp_path)
    line_ends = [f for f in outcome.findings if f.title == "CSV line ends are not CRLF"]
    assert len(line_ends) == 4  # one per type
    assert all("first at line 1" in f.message and "time(s)" in f.message for f in line_ends)
    (table,) = outcome.tables
    assert {row[3] for row in table.rows if row[1] == "application/x-ndjson"} == {"conforms"}
    assert all("line end is LF" in str(row[3]) for row in table.rows if row[1] == "text/csv")


def test_round_trip_table_counts_every_record(reference: ReferenceServer, tmp_path: Path) -> None:
    """Clean: every record of force A is exported, imported into B and re-exported identical."""
    outcome, _ = live_outcome(ROUND_TRIP, reference, tmp_path)
    (table,) = outcome.tables  # no differences table when nothing differs
    assert [row[0] for row in table.rows] == TYPES
    for _, exported, imported, again, identical, differing in table.rows:
        assert exported == imported == again == identical > BULK_PER_TYPE
        assert differing == 0


def test_round_trip_names_each_lost_field(faulty: Any, tmp_path: Path) -> None:
    """lossy-import: one finding per type naming the field the import drops, and a field-by-field table
    whose rows show the exported value and '(absent)'."""
    outcome, _ = live_outcome(ROUND_TRIP, faulty("lossy-import"), tmp_path)
    lost = {f.message.split(" is missing")[0] for f in outcome.findings}
    assert lost == {"Person 'aliases'", "Object 'serialNumber'", "Location 'address'", "Event 'personLinks'"}
    differences = _table(outcome, "Round-trip differences")
    assert differences.columns == ("Entity type", "Record id", "Field", "Exported", "Re-exported")
    assert {(row[0], row[2]) for row in differences.rows} == {
        ("Person", "aliases"),
        ("Object", "serialNumber"),
        ("Location", "address"),
        ("Event", "personLinks"),
    }
    assert all(row[4] == "(absent)" and row[3] != "(absent)" for row in differences.rows)
    summary = _table(outcome, "Round trip per entity type")
    assert all(row[5] > 0 and row[4] + row[5] == row[3] for row in summary.rows)


# -- non-ASCII text --------------------------------------------------------------------------------------
SCRIPTS = ("Siân Ŵyn", "李", "فاطمة")


def test_round_trip_keeps_non_ascii_text(reference: ReferenceServer, tmp_path: Path) -> None:
    """Welsh diacritics, Chinese and Arabic script go out in the import and come back in the re-export
    unchanged (the round trip compares every documented field and finds nothing)."""
    outcome, evidence = live_outcome(ROUND_TRIP, reference, tmp_path)
    assert outcome.status is Status.PASSED, (outcome.reason, outcome.findings)
    records = _exchanges(evidence)
    imports = [r for r in records if r["method"] == "POST" and "/imports/persons" in r["url"]]
    sent = "".join(r["request"]["body"]["content"] for r in imports)
    assert all(text in sent for text in SCRIPTS)
    exports = [r for r in records if r["method"] == "GET" and r["url"].endswith("/exports/persons")]
    again = exports[-1]["response"]["body"]["content"]  # force B's re-export
    assert all(text in again for text in SCRIPTS)


def test_round_trip_reports_text_folded_to_ascii(faulty: Any, tmp_path: Path) -> None:
    """ascii-folding (the import folds text): the round trip reports the changed text fields, with the
    original and the folded value side by side."""
    outcome, _ = live_outcome(ROUND_TRIP, faulty("ascii-folding"), tmp_path, diff_records=10_000)
    assert outcome.status is Status.FAILED
    assert {f.title for f in outcome.findings} == {"Field changed on the round trip"}
    changed = {(row[2], row[3], row[4]) for row in _table(outcome, "Round-trip differences").rows}
    assert ("givenNames", '["Siân","Ŵyn"]', '["Sian","Wyn"]') in changed
    assert ("fullName", "李秀英", "???") in changed
    assert ("fullName", "فاطمة الزهراء", "????? ???????") in changed


# -- when a check cannot run -----------------------------------------------------------------------------
@pytest.mark.parametrize("check_id", [COMPLETE, ROUND_TRIP])
def test_writing_checks_are_untested_without_writes(
    reference: ReferenceServer, check_id: str, tmp_path: Path
) -> None:
    """Without --allow-writes nothing is written and the check is untested, saying why."""
    outcome, evidence = live_outcome(check_id, reference, tmp_path, allow_writes=False)
    assert outcome.status is Status.UNTESTED
    assert "--allow-writes" in (outcome.reason or "")
    assert _writes(evidence) == []


@pytest.mark.parametrize(
    ("check_id", "faults"), [(FORMATS, ()), (STRICT, ()), (STRICT, ("csv-not-rfc4180",))]
)
def test_reading_checks_judge_the_tenants_data_without_writes(
    faulty: Any, check_id: str, faults: tuple[str, ...], tmp_path: Path
) -> None:
    """Without --allow-writes the format checks read the tenant's own records, write nothing, and still
    judge them (a broken CSV still fails)."""
    outcome, evidence = live_outcome(check_id, faulty(*faults), tmp_path, allow_writes=False)
    assert outcome.status is (Status.FAILED if faults else Status.PASSED), (outcome.reason, outcome.findings)
    assert _writes(evidence) == []
    assert all(row[2] > 0 for row in outcome.tables[0].rows)


def test_round_trip_needs_a_second_tenant(reference: ReferenceServer, tmp_path: Path) -> None:
    """Without the other tenant's credentials the round trip is untested, never passed, and writes nothing."""
    outcome, evidence = live_outcome(ROUND_TRIP, reference, tmp_path, other_tenant=False)
    assert outcome.status is Status.UNTESTED
    assert "second test tenant" in (outcome.reason or "")
    assert "other_tenant" in (outcome.reason or "")
    assert _writes(evidence) == []


# -- bounded evidence -------------------------------------------------------------------------------------
def test_bulk_export_evidence_is_bounded(reference: ReferenceServer, tmp_path: Path) -> None:
    """An export larger than the evidence limit is recorded as its first 64 KiB (whole lines, parseable),
    its full size and the SHA-256 of every byte received — the same bytes the check read."""
    config = target_config_for(reference, allow_writes=False)
    folder = tmp_path / "evidence"
    with (
        LiveTarget.open(config, folder) as target,
        target.stream("GET", "/exports/persons", accept="application/x-ndjson") as stream,
    ):
        received = b"".join(stream.iter_bytes())
        exchange = stream.id
    assert len(received) > DEFAULT_EVIDENCE_BODY_LIMIT
    (record,) = [r for r in _exchanges(folder / "exchanges.ndjson") if r["id"] == exchange]
    body = record["response"]["body"]
    assert body["truncated"] is True
    assert body["streamed"] is True
    assert body["size"] == len(received)
    assert (body["sha256"], body["sha256_of"]) == (hashlib.sha256(received).hexdigest(), "received")
    kept = body["content"].encode("utf-8")
    assert len(kept) <= DEFAULT_EVIDENCE_BODY_LIMIT
    assert received.startswith(kept)
    for line in kept.split(b"\n")[:-1]:  # every whole line kept is a record
        assert isinstance(json.loads(line), dict)


def test_checks_keep_export_evidence_bounded(reference: ReferenceServer, tmp_path: Path) -> None:
    """Through a whole check run, every bulk export larger than the limit is kept bounded in the evidence."""
    outcome, evidence = live_outcome(FORMATS, reference, tmp_path, allow_writes=False)
    assert outcome.status is Status.PASSED
    bodies = [r["response"]["body"] for r in _exchanges(evidence) if "/exports/" in r["url"]]
    assert len(bodies) == 12
    large = [b for b in bodies if b["size"] > DEFAULT_EVIDENCE_BODY_LIMIT]
    assert large, "the bulk records make some exports larger than the limit"
    for body in large:
        assert body["truncated"]
        assert len(body["content"].encode("utf-8")) <= DEFAULT_EVIDENCE_BODY_LIMIT
        assert len(body["sha256"]) == 64
    (table,) = outcome.tables
    assert {row[3] for row in table.rows} >= {b["size"] for b in large}  # the table gives the full size


# -- a hostile export --------------------------------------------------------------------------------------
_RECORD = {"id": "9b1f3c1e-0000-4000-8000-000000000001", "createdAt": "2026-01-02T10:00:00Z"}
_NDJSON = json.dumps(_RECORD).encode() + b"\n"
_GOOD = {
    "application/json": json.dumps({"items": [_RECORD], "count": 1}).encode(),
    "application/x-ndjson": _NDJSON,
    "text/csv": b"id,createdAt\r\n" + f"{_RECORD['id']},{_RECORD['createdAt']}\r\n".encode(),
}


def _export_stub(persons: Callable[[str], Reply]) -> Callable[[Request], Reply]:
    """Bulk exports of one small, good record per type and format; the persons export is ``persons(media)``."""

    def route(request: Request) -> Reply:
        path = request.path.split("?", 1)[0]
        if not path.startswith("/v1/exports/"):
            return Reply(404)
        media = request.headers.get("Accept", "application/json").split(",")[0].strip()
        if media not in _GOOD:
            return Reply(406)
        if path == "/v1/exports/persons":
            return persons(media)
        return Reply(200, [("Content-Type", media)], _GOOD[media])

    return route


def _run_on_stub(check_id: str, server: AppServer, folder: Path) -> tuple[Outcome, Path]:
    config = TargetConfig(
        base_url=server.origin + "/v1",
        auth=AuthConfig(kind=AuthKind.NONE),
        rate_per_second=0.0,
        read_timeout=5.0,
    )
    outcome, evidence, _ = run_live(
        check_id, config, folder, load_spec(str(REFERENCE_SPEC)), commitment="C10"
    )
    return outcome, evidence


@pytest.fixture
def stub() -> Iterator[Callable[[Callable[[str], Reply]], AppServer]]:
    started: list[AppServer] = []

    def start(persons: Callable[[str], Reply]) -> AppServer:
        server = AppServer(_export_stub(persons))
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


def _malformed(media: str) -> Reply:
    body = (
        _NDJSON + b'{"id": "9b1f3c1e-0000-4000-8000-000000000002", "fullName": "cut\n'
        if "ndjson" in media
        else _GOOD[media]
    )
    return Reply(200, [("Content-Type", media)], body)


def test_malformed_ndjson_fails_with_the_line(stub: Any, tmp_path: Path) -> None:
    """An NDJSON export with a line that is not JSON: the format checks fail naming the line, no crash."""
    server = stub(_malformed)
    formats, evidence = _run_on_stub(FORMATS, server, tmp_path / "formats")
    assert formats.status is Status.FAILED, formats.reason
    (finding,) = formats.findings  # the other types' and formats' exports parse
    assert finding.title == "Export does not parse"
    assert "GET /exports/persons (application/x-ndjson)" in finding.message
    assert "line 2 is not JSON" in finding.message
    _assert_linked(formats, evidence)
    strict, evidence = _run_on_stub(STRICT, server, tmp_path / "strict")
    assert strict.status is Status.FAILED, strict.reason
    assert {f.title for f in strict.findings} == {"NDJSON line is not JSON"}
    _assert_linked(strict, evidence)


def _truncated_json(media: str) -> Reply:
    if media != "application/json":
        return Reply(200, [("Content-Type", media)], _GOOD[media])
    return Reply(200, [("Content-Type", media)], b'{"items": [' + json.dumps(_RECORD).encode() + b", {")


def test_json_body_ending_mid_array_does_not_parse(stub: Any, tmp_path: Path) -> None:
    """A JSON export whose (complete) body stops inside the array: 'does not parse', with why."""
    outcome, evidence = _run_on_stub(FORMATS, stub(_truncated_json), tmp_path)
    assert outcome.status is Status.FAILED, outcome.reason
    assert [f.title for f in outcome.findings] == ["Export does not parse"]
    assert "GET /exports/persons (application/json)" in outcome.findings[0].message
    _assert_linked(outcome, evidence)


def _cut_off(media: str) -> Reply:
    # Content-Length promises far more than is sent, then the connection closes.
    body = _NDJSON * 3
    return Reply(
        200,
        [("Content-Type", media), ("Content-Length", str(len(body) + 5000)), ("Connection", "close")],
        body,
    )


@pytest.mark.parametrize("check_id", [FORMATS, STRICT])
def test_export_cut_off_is_cant_tell(stub: Any, check_id: str, tmp_path: Path) -> None:
    """A body cut off before its end cannot be judged: cantTell naming the export, never passed, no crash."""
    outcome, evidence = _run_on_stub(check_id, stub(_cut_off), tmp_path)
    assert outcome.status is Status.CANT_TELL, (outcome.status, outcome.reason, outcome.findings)
    assert "GET /exports/persons" in (outcome.reason or "")
    assert "cut off" in (outcome.reason or "")
    exchange = (outcome.reason or "").rsplit("(exchange ", 1)[1].rstrip(")")
    assert exchange in {r["id"] for r in _exchanges(evidence)}


@pytest.mark.parametrize("chunk", [1, 7, 1 << 16])
def test_json_export_with_whitespace_parses(chunk: int) -> None:
    """Regression: JSON with spaces after ':' and ',' (or pretty-printed) is valid and streams, in chunks
    of any size; members after the records still reach ``meta``."""
    records = [{"id": str(n), "name": "Siân 李 فاطمة", "n": [1, 2.5, None]} for n in range(3)]
    for text in (
        json.dumps({"count": 3, "items": records}),
        json.dumps({"items": records, "count": 3}, indent=2, ensure_ascii=False),
        json.dumps(records, indent=1),
    ):
        body = text.encode("utf-8")
        meta: dict[str, Any] = {}
        parsed = list(json_items(iter(body[i : i + chunk] for i in range(0, len(body), chunk)), meta=meta))
        assert [p.value for p in parsed] == records
        assert meta == ({"count": 3} if text.startswith("{") else {})
