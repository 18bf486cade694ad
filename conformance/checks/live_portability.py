"""C10 — data portability and exit, against a live API: complete exports, open formats, a lossless round trip.

The static C10 checks (``portability``) read the document; these prove it on a test tenant. What to call
comes from the document under test (``_export.plan_entities``: each POLE entity type's list, create, item,
bulk export and bulk import operations, and the links between types); nothing is hard-coded to the
reference supplier's paths. Every export is read as a stream (``LiveTarget.stream``), one record at a time,
and what the checks remember about records (id sets, per-record digests) lives in a temporary SQLite file
(``_export.Ledger``), so memory stays flat from a thousand records to millions; a bulk export's evidence is
its first 64 KiB plus its size and SHA-256.

Writing checks seed clearly synthetic records (free text starts with ``conformance-test`` and carries Welsh
diacritics, Chinese and Arabic script, commas, quotes and, in long texts, a CRLF; Events link the seeded
Persons, Objects and Locations), only after ``--allow-writes``, and delete them again at the end, referrers
first; a record that could not be deleted is named in a note.

Sources: Technology Code of Practice point 10 ("access to all your data … through an API"); GOV.UK API
technical and data standards ("Let users download whole datasets in bulk"); RFC 4180 (CSV); the NDJSON
specification (ndjson.org); the charter's commitment C10 (``charter.md`` §3).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from ..live import AuthMode
from ..outcome import Finding
from ..registry import CantTell, CheckContext, Inapplicable, NotTested, check
from ._common import DEFAULT_POLE_VOCABULARY, DEFAULT_WRAPPER_WORDS
from ._export import (
    ABSENT,
    Export,
    ExportFormatError,
    Ledger,
    ListWalk,
    Parsed,
    Plan,
    Rfc4180,
    Seeder,
    delete_records,
    digest,
    field_differences,
    first_ids,
    format_of,
    plan_entities,
    project,
    records_of,
    shape_of,
    short,
)
from ._live import fill_path, live_finding, path_parameters, target_of
from .portability import DEFAULT_CURSOR_PARAMS, DEFAULT_LIST_ENVELOPES, DEFAULT_NEXT_PROPERTIES

if TYPE_CHECKING:
    from ..live import LiveTarget

_TCOP = 'Technology Code of Practice point 10 ("access to all your data … through an API")'
_BULK = 'GOV.UK API technical and data standards, "Let users download whole datasets in bulk"'
_RFC4180 = "RFC 4180, Common Format and MIME Type for Comma-Separated Values (CSV) Files, §2"
_NDJSON = "NDJSON specification 1.0 (one JSON text per line, UTF-8, each line ended by \\n)"
_PREFERENCE = ("ndjson", "json", "csv")  # which export format the reconciling checks read


def _target(ctx: CheckContext) -> LiveTarget:
    target: LiveTarget = target_of(ctx)
    return target


def _plans(
    ctx: CheckContext, vocabulary: dict[str, list[str]], wrappers: list[str], envelopes: list[str]
) -> list[Plan]:
    return plan_entities(ctx, pole_vocabulary=vocabulary, wrapper_words=wrappers, list_envelopes=envelopes)


def _auth(auth: AuthMode | None) -> dict[str, Any]:
    return {} if auth is None else {"auth": auth}


def _preferred(plan: Plan, kinds: Sequence[str] = _PREFERENCE) -> tuple[Export, str, str] | None:
    """(export, format, media type) of the first export offering the most streamable format."""
    for kind in kinds:
        for export in plan.exports:
            media = export.formats().get(kind)
            if media is not None:
                return export, kind, media
    return None


# -- reading one export ------------------------------------------------------------------------------------------
@dataclass(slots=True)
class ExportRead:
    """What one streamed export held."""

    label: str
    exchange: str
    status: int | None
    kind: str
    media_type: str | None = None
    records: int = 0
    without_id: int = 0
    size: int = 0
    sha256: str = ""
    problem: str | None = None  # the body does not parse in its format
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def answered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _unanswered(label: str, stream: Any) -> CantTell:
    return CantTell(f"{label}: {stream.error or 'no response'} (exchange {stream.id})")


def _cut_off(label: str, stream: Any, exc: Exception) -> CantTell:
    return CantTell(f"{label}: the export was cut off: {exc} (exchange {stream.id})")


def read_export(
    target: LiveTarget,
    export: Export,
    kind: str,
    media: str,
    *,
    auth: AuthMode | None = None,
    on_record: Callable[[Parsed, ExportRead], None] | None = None,
) -> ExportRead:
    """Stream ``export`` in ``media`` and hand each record (with the read so far) to ``on_record``. A body
    that does not parse sets ``problem``; no response, or a body cut off, is ``CantTell``."""
    from ..live.http import StreamError  # the HTTP stack loads only when a live check runs

    label = f"GET {export.path} ({media})"
    with target.stream("GET", export.path, accept=media, **_auth(auth)) as stream:
        result = ExportRead(label=label, exchange=stream.id, status=stream.status, kind=kind)
        if not stream.ok or stream.status is None:
            raise _unanswered(label, stream)
        result.media_type = stream.media_type
        if result.answered:
            returned = format_of(stream.media_type) or kind
            result.kind = returned
            try:
                for parsed in records_of(stream, returned, meta=result.meta):
                    result.records += 1
                    if on_record is not None:
                        on_record(parsed, result)
            except ExportFormatError as exc:
                result.problem = str(exc)
            except StreamError as exc:
                raise _cut_off(label, stream, exc) from None
    result.size, result.sha256 = stream.size, stream.sha256
    return result


def _id_of(value: Any, id_property: str) -> Any:
    """The record's ``id_property`` member (None for a record that is not an object, or has none)."""
    return value.get(id_property) if isinstance(value, dict) else None


def _ids_into(ledger: Ledger, source: str, id_property: str) -> Callable[[Parsed, ExportRead], None]:
    """An ``on_record`` that puts each record's id into ``ledger`` (records without one are counted)."""

    def take(parsed: Parsed, read: ExportRead) -> None:
        ident = _id_of(parsed.value, id_property)
        if ident is None or ident == "":
            read.without_id += 1
            return
        ledger.add(source, str(ident), exchange=read.exchange)

    return take


# -- live.export.complete ----------------------------------------------------------------------------------------
@check(
    id="live.export.complete",
    mode="live",
    title="Every record can be exported: seeded records reconcile exactly with the paged list and the bulk export",
    references=(_TCOP, _BULK),
    params={
        "per_entity": 5,
        "page_size": 0,
        "max_pages": 100_000,
        "max_checked": 10,
        "id_property": "id",
        "pole_vocabulary": DEFAULT_POLE_VOCABULARY,
        "wrapper_words": DEFAULT_WRAPPER_WORDS,
        "list_envelopes": DEFAULT_LIST_ENVELOPES,
        "next_properties": DEFAULT_NEXT_PROPERTIES,
        "cursor_params": DEFAULT_CURSOR_PARAMS,
    },
)
def export_complete(
    ctx: CheckContext,
    *,
    per_entity: int,
    page_size: int,
    max_pages: int,
    max_checked: int,
    id_property: str,
    pole_vocabulary: dict[str, list[str]],
    wrapper_words: list[str],
    list_envelopes: list[str],
    next_properties: list[str],
    cursor_params: list[str],
) -> Iterator[Finding]:
    """Seeds ``per_entity`` synthetic records of each POLE entity type through its create operation (Events
    linking the seeded Persons, Objects and Locations), then, per type: streams the bulk export (NDJSON,
    else JSON, else CSV) — *E1* —, walks the list operation page by page — *L* — and streams the export
    again — *E2* —, and reconciles the id sets (``id_property``) exactly:

    * every seeded id is in L, in E1 and in E2;
    * no id appears twice in L, E1 or E2;
    * every id in both E1 and E2 (a record that existed throughout the walk) is in L: otherwise the walk
      skipped it — unless reading it by id now answers 404/410 (a deleted record still exported: noted, and
      left to ``live.mopi.deletion``); at most ``max_checked`` such ids are read, and when every one read is
      gone while others were not read, the check cannot tell;
    * every id in L is in E1 or E2, unless reading it by id now answers 404/410 (someone else deleted it
      during the run; at most ``max_checked`` such ids are read, the rest count as missing).

    Ids in only one of E1 and E2 are records others created or deleted during the run: tolerated (noted).
    The walk follows a cursor token (``next_properties`` with a ``cursor_params`` query parameter), a next
    link, a ``Link: rel=next`` header, a page number or an offset; it must progress (a repeated cursor, link
    or page ends it with a finding), and no page may hold more than the page size asked for (``page_size``;
    0: the size parameter's documented maximum, else its default). When the whole list fits one page and
    holds 3 records or more, a second walk with pages of a quarter of that size exercises paging. A JSON
    export's ``count`` must equal its records. The table gives seeded, listed and exported counts and the
    first missing and repeated ids per type. Every seeded record is deleted at the end (a failure is
    noted). Needs ``--allow-writes``. Inapplicable without POLE entities; a type with neither a list nor an
    export operation is a finding."""
    target = _target(ctx)
    plans = _plans(ctx, pole_vocabulary, wrapper_words, list_envelopes)
    for plan in plans:
        if plan.list_op is None and not plan.exports:
            yield _no_export(plan)
    usable = [p for p in plans if p.list_op is not None or p.exports]
    if not usable:
        return
    target.require_writes(
        f"seeds {per_entity} synthetic records per POLE type, reconciles the paged list and the bulk export "
        "with them, and deletes them"
    )
    rows: list[list[str | int]] = []
    undecided: list[str] = []
    with Ledger() as ledger:
        seeder = Seeder(ctx, target, plans, id_property=id_property)
        try:
            _seed(ctx, seeder, per_entity)
            if seeder.count == 0:
                raise CantTell("no synthetic record could be created, so there is nothing known to reconcile")
            for plan in usable:
                if plan.entity not in seeder.created:
                    continue
                reconcile = _Reconcile(
                    ctx=ctx,
                    target=target,
                    plan=plan,
                    ledger=ledger,
                    seeded=seeder.created[plan.entity],
                    id_property=id_property,
                    page_size=page_size,
                    max_pages=max_pages,
                    max_checked=max_checked,
                    next_properties=next_properties,
                    cursor_params=cursor_params,
                )
                yield from reconcile.run()
                rows.append(reconcile.row())
                undecided += reconcile.undecided
        finally:
            seeder.cleanup()
    ctx.table(
        "Export reconciliation: records seeded by this check, found in the paged list and in the bulk export",
        ("Entity type", "Seeded", "Listed", "Exported", "Missing (first ids)", "Repeated (first ids)"),
        rows,
    )
    if undecided:
        raise CantTell("; ".join(undecided))


def _seed(ctx: CheckContext, seeder: Seeder, per_entity: int) -> None:
    """Seed ``per_entity`` records per type, noting each type that got none and why."""
    for problem in seeder.seed(per_entity):
        ctx.note(f"not seeded: {problem}")


def _no_export(plan: Plan) -> Finding:
    return live_finding(
        "No way to export the records",
        f"POLE {plan.entity} records can be neither listed nor exported: the document has no list operation "
        "and no bulk export for them.",
        expected="a paginated list operation and/or a bulk export (JSON, NDJSON or CSV)",
        found="neither",
        fix=f"Add GET /{plan.key}s with cursor paging and a bulk export such as GET /exports/{plan.key}s.",
    )


def _size_of(ctx: CheckContext, op: Any, asked: int) -> int | None:
    """The page size to ask for: ``asked``, else the size parameter's documented maximum, else its default."""
    index = ctx.spec.index
    for param in op.parameters:
        if param.location != "query" or param.name.lower().replace("_", "") not in (
            "limit", "pagesize", "perpage", "size", "top", "maxresults", "pagelimit", "first",
        ):  # fmt: skip
            continue
        if asked > 0:
            return asked
        node = index.deref(param.schema)
        schema = node.mapping if node is not None else {}
        for key in ("maximum", "default"):
            value = schema.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value
        return None
    return None


def _sized(walk: ListWalk) -> str:
    return f"pages of {walk.page_size}" if walk.page_size else "the default page size"


@dataclass(slots=True)
class _Reconcile:
    """The reconciliation of one entity type (see ``export_complete``)."""

    ctx: CheckContext
    target: LiveTarget
    plan: Plan
    ledger: Ledger
    seeded: list[str]
    id_property: str
    page_size: int
    max_pages: int
    max_checked: int
    next_properties: list[str]
    cursor_params: list[str]
    listed: int = 0
    exported: int = 0
    missing: list[str] = field(default_factory=list)
    repeated: list[str] = field(default_factory=list)
    undecided: list[str] = field(default_factory=list)  # why a gap could not be judged

    def source(self, name: str) -> str:
        return f"{self.plan.key}:{name}"

    def run(self) -> Iterator[Finding]:
        plan, ledger = self.plan, self.ledger
        for ident in self.seeded:
            ledger.add(self.source("seed"), ident)
        walks: list[ListWalk] = []
        first = self._export("e1")
        if plan.list_op is not None:
            size = _size_of(self.ctx, plan.list_op, self.page_size)
            walk = self._walk("l1", size)
            walks.append(walk)
            count = ledger.count(self.source("l1"))
            if walk.pages == 1 and count >= 3 and size is not None:
                walks.append(self._walk("l2", max(1, count // 4)))
        second = self._export("e2") if first is not None else None
        exports = [e for e in (first, second) if e is not None]
        for walk in walks:
            if walk.without_id:
                raise CantTell(
                    f"{walk.without_id} records listed by {walk.op.label} have no '{self.id_property}' member "
                    "(set the id_property parameter)"
                )
            for problem in walk.problems:
                yield live_finding(
                    problem.title,
                    problem.message,
                    exchange=problem.exchange,
                    operation=walk.op.label,
                    expected="paging that moves forward through every record once",
                    found=problem.title.lower(),
                    fix="Use keyset (cursor) paging on a unique, stable order such as (createdAt, id).",
                )
        for read in exports:
            yield from self._export_problems(read)
        self.listed = ledger.count(self.source("l1")) if walks else 0
        self.exported = ledger.count(self.source("e1")) if first is not None else 0
        yield from self._seeded_findings(walks, exports)
        yield from self._repeat_findings(walks, exports)
        if first is not None and second is not None:
            stable = ledger.both(self.source("e1"), self.source("e2"), self.source("stable"))
            churn = ledger.count(self.source("e1")) + ledger.count(self.source("e2")) - 2 * stable
            if churn:
                self.ctx.note(
                    f"{plan.entity}: {churn} record(s) were in only one of the two exports: created or deleted "
                    "by others during the run (tolerated)"
                )
            for walk in walks:
                yield from self._gap_findings(walk)
                yield from self._unexported_findings(walk, first)
        self.ctx.note(self._summary(walks, exports))

    def _export(self, name: str) -> ExportRead | None:
        chosen = _preferred(self.plan)
        if chosen is None:
            return None
        export, kind, media = chosen
        read = read_export(
            self.target,
            export,
            kind,
            media,
            on_record=_ids_into(self.ledger, self.source(name), self.id_property),
        )
        if read.answered and read.problem is None and read.without_id:
            raise CantTell(
                f"{read.without_id} records of {read.label} have no '{self.id_property}' member "
                f"(exchange {read.exchange}; set the id_property parameter)"
            )
        return read

    def _walk(self, name: str, size: int | None) -> ListWalk:
        assert self.plan.list_op is not None
        walk = ListWalk(
            target=self.target,
            op=self.plan.list_op,
            ledger=self.ledger,
            source=self.source(name),
            page_size=size,
            id_property=self.id_property,
            max_pages=self.max_pages,
            next_properties=self.next_properties,
            cursor_params=self.cursor_params,
        )
        walk.run()
        return walk

    def _export_problems(self, read: ExportRead) -> Iterator[Finding]:
        if not read.answered:
            raise CantTell(f"{read.label} answered {read.status} (exchange {read.exchange})")
        if read.problem is not None:
            raise CantTell(
                f"{read.label} does not parse as {read.kind}: {read.problem} (exchange {read.exchange}; "
                "reported by the open-formats check)"
            )
        count = read.meta.get("count")
        if isinstance(count, int) and not isinstance(count, bool) and count != read.records:
            yield live_finding(
                "Export count does not match its records",
                f"{read.label} says count = {count} but holds {read.records} records.",
                exchange=read.exchange,
                operation=read.label,
                expected=str(read.records),
                found=str(count),
                fix="Compute count from the records actually written to the export.",
            )

    def _first_export_with(
        self, exports: Sequence[ExportRead], query: Callable[[str], tuple[Any, ...]]
    ) -> tuple[ExportRead, int, list[str]] | None:
        """The first of E1, E2 for which ``query`` (a ledger question about its source) counts any ids:
        (the export, how many, the first few); None when neither does (the second would only repeat it)."""
        for read, name in zip(exports, ("e1", "e2"), strict=False):
            count, ids = query(self.source(name))[:2]
            if count:
                return read, count, ids
        return None

    def _seeded_findings(self, walks: Sequence[ListWalk], exports: Sequence[ExportRead]) -> Iterator[Finding]:
        plan, seed = self.plan, self.source("seed")
        total = len(self.seeded)
        for walk in walks:
            count, ids = self.ledger.missing(seed, walk.source)
            if count:
                _add_new(self.missing, "list", ids)
                yield live_finding(
                    "Seeded record missing from the list",
                    f"{count} of the {total} {plan.entity} records created by this check are on no page of "
                    f"{walk.op.label} ({walk.pages} pages, {_sized(walk)}): {first_ids(ids, count)}.",
                    exchange=walk.first_exchange,
                    operation=walk.op.label,
                    expected="every record on exactly one page",
                    found=f"{count} missing",
                    fix="List every record of the force: check filters, paging bounds and the order used.",
                )
        hit = self._first_export_with(exports, lambda source: self.ledger.missing(seed, source))
        if hit is not None:
            read, count, ids = hit
            self.missing += [f"export: {i}" for i in ids]
            yield live_finding(
                "Seeded record missing from the export",
                f"{count} of the {total} {plan.entity} records created by this check are not in "
                f"{read.label} ({read.records} records exported): {first_ids(ids, count)}.",
                exchange=read.exchange,
                operation=read.label,
                expected="every record of the force in the bulk export",
                found=f"{count} missing",
                fix="Export every committed record; take the export from a consistent snapshot.",
            )

    def _repeat_findings(self, walks: Sequence[ListWalk], exports: Sequence[ExportRead]) -> Iterator[Finding]:
        plan = self.plan
        for walk in walks:
            count, ids, exchange = self.ledger.duplicates(walk.source)
            if count:
                _add_new(self.repeated, "list", ids)
                yield live_finding(
                    "Record listed twice",
                    f"{count} {plan.entity} record(s) appeared on more than one page of {walk.op.label} "
                    f"({walk.pages} pages, {_sized(walk)}): {first_ids(ids, count)}.",
                    exchange=exchange or walk.first_exchange,
                    operation=walk.op.label,
                    expected="each record on exactly one page",
                    found=f"{count} repeated",
                    fix="Use keyset (cursor) paging on a unique, stable order such as (createdAt, id), not offsets.",
                )
        hit = self._first_export_with(exports, self.ledger.duplicates)
        if hit is not None:
            read, count, ids = hit
            self.repeated += [f"export: {i}" for i in ids]
            yield live_finding(
                "Record exported twice",
                f"{count} {plan.entity} record(s) appear more than once in {read.label}: {first_ids(ids, count)}.",
                exchange=read.exchange,
                operation=read.label,
                expected="each record once",
                found=f"{count} repeated",
                fix="Write each record once per export.",
            )

    def _gap_findings(self, walk: ListWalk) -> Iterator[Finding]:
        count, ids = self.ledger.missing(
            self.source("stable"), walk.source, self.source("seed"), limit=self.max_checked
        )
        if not count:
            return
        # A record in both exports that reads 404/410 now was deleted, yet exported: the export is at fault
        # (live.mopi.deletion judges that), not the paging. Only records that still exist prove a skip.
        confirmed, gone = self._still_there(ids)
        unread = count - len(ids)
        plan = self.plan
        if gone:
            self.ctx.note(
                f"{plan.entity}: {gone} record(s) in both exports but on no page of {walk.op.label} answer "
                "404/410 when read by id: deleted records still exported (judged by live.mopi.deletion), not "
                "a paging gap"
            )
        if not confirmed and unread:
            self.undecided.append(
                f"{plan.entity}: {count} record(s) in both exports are on no page of {walk.op.label}; the "
                f"{len(ids)} read by id are gone (404/410), the other {unread} were not read (max_checked), "
                "so whether the walk skipped any cannot be told"
            )
            return
        skipped = len(confirmed) + unread if confirmed else 0
        if not skipped:
            return
        _add_new(self.missing, "list", confirmed)
        yield live_finding(
            "List walk skipped a record",
            f"{skipped} {plan.entity} record(s) that were in both exports (so existed throughout) and still exist "
            f"were on no page of {walk.op.label} ({walk.pages} pages, {_sized(walk)}): "
            f"{first_ids(confirmed, skipped)}.",
            exchange=walk.first_exchange,
            operation=walk.op.label,
            expected="every record on exactly one page",
            found=f"{skipped} skipped",
            fix="Use keyset (cursor) paging on a unique, stable order such as (createdAt, id), not offsets.",
        )

    def _still_there(self, ids: Sequence[str]) -> tuple[list[str], int]:
        """(the ids that still exist or cannot be read by id, how many answer 404/410 when read by id)."""
        plan = self.plan
        if plan.item_path is None or not plan.can_read:
            return list(ids), 0
        name = path_parameters(plan.item_path)[0]
        confirmed: list[str] = []
        gone = 0
        for ident in ids:
            answer = self.target.request("GET", fill_path(plan.item_path, {name: ident}))
            if answer.ok and answer.status in (404, 410):
                gone += 1
            else:
                confirmed.append(ident)
        return confirmed, gone

    def _unexported_findings(self, walk: ListWalk, first: ExportRead) -> Iterator[Finding]:
        count, ids = self.ledger.missing(
            walk.source, self.source("e1"), self.source("e2"), self.source("seed"), limit=self.max_checked
        )
        if not count:
            return
        plan = self.plan
        confirmed, gone = self._still_there(ids)
        if gone:
            self.ctx.note(
                f"{plan.entity}: {gone} listed record(s) missing from both exports are gone now (404/410): "
                "deleted by others during the run (tolerated)"
            )
        unread = count - len(ids)
        missing = len(confirmed) + unread
        if not missing:
            return
        self.missing += [f"export: {i}" for i in confirmed]
        yield live_finding(
            "Listed record missing from the export",
            f"{missing} {plan.entity} record(s) listed by {walk.op.label} are in neither bulk export and still "
            f"exist: {first_ids(confirmed, missing)}.",
            exchange=first.exchange,
            operation=first.label,
            expected="the bulk export holds every record the list holds",
            found=f"{missing} missing",
            fix="Export every committed record; take the export from a consistent snapshot.",
        )

    def _summary(self, walks: Sequence[ListWalk], exports: Sequence[ExportRead]) -> str:
        parts = [f"{self.plan.entity}: {len(self.seeded)} seeded"]
        for walk in walks:
            size = walk.page_size or "default"
            parts.append(f"{walk.op.label} {walk.pages} page(s) of {size}, {walk.items} records")
        for read in exports:
            parts.append(
                f"{read.label} {read.records} records, {read.size} bytes, sha256 {read.sha256[:16]}…"
            )
        return "; ".join(parts)

    def row(self) -> list[str | int]:
        return [
            self.plan.entity,
            len(self.seeded),
            self.listed,
            self.exported,
            _first_three(self.missing),
            _first_three(self.repeated),
        ]


def _add_new(into: list[str], where: str, ids: Sequence[str]) -> None:
    """Append ``"<where>: <id>"`` for each id not listed in ``into`` yet."""
    into += [f"{where}: {i}" for i in ids if f"{where}: {i}" not in into]


def _first_three(items: Sequence[str]) -> str:
    """A table cell: the first three items and how many more, or ``none``."""
    if not items:
        return "none"
    return ", ".join(items[:3]) + (f" (+{len(items) - 3})" if len(items) > 3 else "")


# -- live.export.open-formats ------------------------------------------------------------------------------------
@check(
    id="live.export.open-formats",
    mode="live",
    title="Every POLE type has a bulk export in an open format (JSON, NDJSON or CSV) that parses",
    references=(_TCOP, _BULK),
    params={
        "per_entity": 2,
        "seed": True,
        "id_property": "id",
        "pole_vocabulary": DEFAULT_POLE_VOCABULARY,
        "wrapper_words": DEFAULT_WRAPPER_WORDS,
        "list_envelopes": DEFAULT_LIST_ENVELOPES,
    },
)
def export_open_formats(
    ctx: CheckContext,
    *,
    per_entity: int,
    seed: bool,
    id_property: str,
    pole_vocabulary: dict[str, list[str]],
    wrapper_words: list[str],
    list_envelopes: list[str],
) -> Iterator[Finding]:
    """Each POLE entity type has a bulk export operation (``_export.plan_entities``: a GET whose path or
    operationId says export/download/dump/bulk, or that offers NDJSON/CSV without paging; ``{entityType}``
    path parameters filled from their enum) offering JSON, NDJSON or CSV, and every such format it documents
    is served (asked for with ``Accept``, answered 2xx in that media type) and parses, read as a stream:
    JSON strictly (UTF-8, no NaN) with the records in a root array or an ``items``-like member; NDJSON one
    JSON value per non-empty line; CSV by Python's csv reader in the declared charset (else UTF-8) with a
    header row and no record longer than it (strict RFC 4180 is ``live.export.csv-rfc4180``). With
    ``--allow-writes`` (and ``seed``), ``per_entity`` synthetic records per type are created first — with
    commas, quotes, CRLFs and non-ASCII text — and deleted afterwards; without writes the tenant's own data
    is exported. ``untested`` when no export held a single record (an empty export shows nothing about how
    records are written: rerun with ``--allow-writes``). The table lists each export, format, record count
    and size. Inapplicable without POLE entities."""
    target = _target(ctx)
    plans = _plans(ctx, pole_vocabulary, wrapper_words, list_envelopes)
    found = False
    for plan in plans:
        if not plan.exports:
            found = True
            yield live_finding(
                "No bulk export",
                f"POLE {plan.entity} records have no bulk export operation: they can only be paged through"
                + (f" ({plan.list_op.label})." if plan.list_op is not None else "."),
                expected="a bulk export in JSON, NDJSON or CSV (e.g. GET /exports/{entityType})",
                found="none",
                fix="Publish a bulk export of every record of the type, in NDJSON or JSON and in CSV.",
            )
    exporting = [p for p in plans if p.exports]
    if not exporting:
        return
    seeder = _seed_for_formats(ctx, target, plans, seed, per_entity, id_property)
    rows: list[list[str | int]] = []
    with_records = 0
    try:
        for plan in exporting:
            offered = False
            for export in plan.exports:
                formats = export.formats()
                if not formats:
                    ctx.note(f"{export.op.label} offers no open format ({', '.join(export.media_types)})")
                for kind, media in formats.items():
                    offered = True
                    read = read_export(target, export, kind, media)
                    result, problem = _format_verdict(read, export, kind, media)
                    if problem is not None:
                        found = True
                        yield problem
                    elif read.records:
                        with_records += 1
                    rows.append([plan.entity, media, read.records, read.size, result])
            if not offered:
                found = True
                yield live_finding(
                    "No open-format export",
                    f"No bulk export of POLE {plan.entity} records offers JSON, NDJSON or CSV "
                    f"({', '.join(m for e in plan.exports for m in e.media_types)}).",
                    operation=plan.exports[0].op.label,
                    expected="application/json, application/x-ndjson or text/csv",
                    found=", ".join(m for e in plan.exports for m in e.media_types),
                    fix="Offer the bulk export as NDJSON or JSON, and as RFC 4180 CSV.",
                )
    finally:
        if seeder is not None:
            seeder.cleanup()
    ctx.table("Bulk exports read", ("Entity type", "Format", "Records", "Bytes", "Result"), rows)
    if not found and not with_records:
        _nothing_to_judge(target, seeder)


def _format_verdict(read: ExportRead, export: Export, kind: str, media: str) -> tuple[str, Finding | None]:
    """(the table's result, a finding if any) for one format of one export, as read."""
    if not read.answered:
        return f"answered {read.status}", live_finding(
            "Documented export format not served",
            f"{read.label} answered {read.status}, though the document offers {media}.",
            exchange=read.exchange,
            operation=export.op.label,
            expected=f"2xx with Content-Type {media}",
            found=str(read.status),
            fix="Serve every format the document lists for the export, chosen by Accept.",
        )
    if read.kind != kind:
        return f"answered {read.media_type}", live_finding(
            "Export answered in another format",
            f"{read.label} answered with Content-Type {read.media_type}, not the {media} asked for.",
            exchange=read.exchange,
            operation=export.op.label,
            expected=media,
            found=str(read.media_type),
            fix="Honour Accept: answer in the media type asked for, or 406 if it cannot be produced.",
        )
    if read.problem is not None:
        return "does not parse", live_finding(
            "Export does not parse",
            f"{read.label} is not valid {kind.upper()}: {read.problem}.",
            exchange=read.exchange,
            operation=export.op.label,
            expected=f"a well-formed {kind.upper()} body, UTF-8",
            found=read.problem,
            fix="Generate the export with a standard JSON/CSV writer, in UTF-8.",
        )
    return ("parses" if read.records else "parses (no records)"), None


def _seed_for_formats(
    ctx: CheckContext, target: LiveTarget, plans: list[Plan], seed: bool, per_entity: int, id_property: str
) -> Seeder | None:
    """Seed a few records per type when writes are allowed (and asked for); None otherwise."""
    if not (seed and per_entity > 0 and target.writes_allowed):
        return None
    seeder = Seeder(ctx, target, plans, id_property=id_property)
    try:
        _seed(ctx, seeder, per_entity)
    except BaseException:
        seeder.cleanup()
        raise
    return seeder


def _nothing_to_judge(target: LiveTarget, seeder: Seeder | None) -> None:
    """Every export was empty: untested without writes (the fix is the user's), cantTell after seeding."""
    if seeder is None:
        raise NotTested(
            "every export was empty, so how records are written could not be judged; rerun with "
            "--allow-writes to let the check seed synthetic records"
        )
    raise CantTell("every export was empty, even after seeding synthetic records")


# -- live.export.csv-rfc4180 -------------------------------------------------------------------------------------
_CSV_RULES: dict[str, tuple[str, str, str]] = {
    # problem kind -> (title, expected, fix)
    "not UTF-8": ("CSV is not UTF-8", "UTF-8 text", "Write the CSV in UTF-8."),
    "charset is not UTF-8": (
        "CSV charset is not UTF-8",
        "Content-Type: text/csv; charset=utf-8 (or no charset)",
        "Write and label the CSV as UTF-8.",
    ),
    "line end is LF, not CRLF": (
        "CSV line ends are not CRLF",
        "CRLF after every record (RFC 4180 §2.1)",
        "Use CRLF line ends (Python: csv.writer(..., lineterminator='\\r\\n')).",
    ),
    "no header row (the first record does not name the columns)": (
        "CSV has no header row",
        "a first record naming the columns (RFC 4180 §2.3), e.g. id,createdAt,…",
        "Write a header row with the documented field names.",
    ),
    "field count differs from the header's": (
        "CSV records have different field counts",
        "the same number of fields in every record (RFC 4180 §2.4)",
        "Quote fields that contain commas, and write one field per column in every row.",
    ),
    "quote in an unquoted field (not enclosed in quotes, or not doubled)": (
        "CSV field not quoted",
        "fields with commas, quotes or line breaks enclosed in double quotes, inner quotes doubled (§2.6, §2.7)",
        "Use a CSV writer with minimal quoting instead of joining values with commas.",
    ),
    "line break in an unquoted field": (
        "CSV field not quoted",
        "fields with line breaks enclosed in double quotes (RFC 4180 §2.6)",
        "Use a CSV writer with minimal quoting instead of joining values with commas.",
    ),
    "text after a closing quote": (
        "CSV quoting is malformed",
        "a closing quote followed by a comma or the end of the record (RFC 4180 §2.7)",
        "Double every quote inside a quoted field.",
    ),
    "unbalanced quotes": (
        "CSV quoting is malformed",
        "every quoted field closed (RFC 4180 §2.7)",
        "Double every quote inside a quoted field.",
    ),
    "empty line": ("CSV has empty lines", "no empty records", "Write no blank lines between records."),
}
_NDJSON_RULES: dict[str, tuple[str, str, str]] = {
    "not UTF-8": ("NDJSON is not UTF-8", "UTF-8 text", "Write the NDJSON in UTF-8."),
    "line is not JSON": (
        "NDJSON line is not JSON",
        "one JSON text per line",
        "Serialise each record on its own line.",
    ),
    "line is not a JSON object": (
        "NDJSON line is not a JSON object",
        "one JSON object (a record) per line",
        "Write each record as one JSON object on its own line.",
    ),
    "empty line": ("NDJSON has empty lines", "no empty lines", "Write no blank lines between records."),
    "last line not ended by \\n": (
        "NDJSON last line not terminated",
        "every line, the last one included, ended by \\n",
        "End every record, the last one included, with a newline.",
    ),
}


def _ndjson_scan(lines: Iterator[bytes], problems: dict[str, list[int]]) -> int:
    """Check NDJSON line by line; returns the number of records (non-empty lines)."""
    records = 0

    def problem(kind: str, line: int) -> None:
        problems.setdefault(kind, [0, line])[0] += 1

    last = b""
    for number, line in enumerate(lines, start=1):
        last = line
        content = line.rstrip(b"\r\n")
        if not content.strip():
            problem("empty line", number)
            continue
        records += 1
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            problem("not UTF-8", number)
            continue
        try:
            value = orjson.loads(content)
        except orjson.JSONDecodeError:
            problem("line is not JSON", number)
            continue
        if not isinstance(value, dict):
            problem("line is not a JSON object", number)
    if last and not last.endswith(b"\n"):
        problem("last line not ended by \\n", max(records, 1))
    return records


def _csv_scan(
    ctx: CheckContext, stream: Any, label: str, known: frozenset[str]
) -> tuple[int, dict[str, list[int]]]:
    """Read a CSV export strictly (``Rfc4180``); returns (records, problems) and notes a byte-order mark, or
    that no field needed quoting."""
    scan = Rfc4180(known_columns=known)
    for _ in scan.feed(stream.iter_lines()):
        pass
    problems, records = scan.problems, scan.records
    if stream.charset not in (None, "utf-8", "utf8"):
        problems["charset is not UTF-8"] = [1, 1]
    if scan.bom:
        ctx.note(f"{label} starts with a UTF-8 byte-order mark (tolerated; best left out)")
    if records and not scan.quoted_special and not problems:
        ctx.note(f"{label}: no field needed quotes, so quoting was not exercised")
    return records, problems


def _columns(shape: Any, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for name, inner in (shape or {}).items():
        names.add(prefix + name)
        if isinstance(inner, dict):
            names |= _columns(inner, f"{prefix}{name}.")
    return names


@check(
    id="live.export.csv-rfc4180",
    mode="live",
    title="CSV exports follow RFC 4180; NDJSON exports hold one JSON object per line, in UTF-8",
    references=(_RFC4180, _NDJSON, _BULK),
    params={
        "per_entity": 2,
        "seed": True,
        "id_property": "id",
        "pole_vocabulary": DEFAULT_POLE_VOCABULARY,
        "wrapper_words": DEFAULT_WRAPPER_WORDS,
        "list_envelopes": DEFAULT_LIST_ENVELOPES,
    },
)
def export_csv_rfc4180(
    ctx: CheckContext,
    *,
    per_entity: int,
    seed: bool,
    id_property: str,
    pole_vocabulary: dict[str, list[str]],
    wrapper_words: list[str],
    list_envelopes: list[str],
) -> Iterator[Finding]:
    """Every bulk export format the document offers as CSV (``text/csv``) or NDJSON is streamed and read
    strictly, every deviation counted (one finding per kind, with the first line it occurs on). CSV (RFC 4180
    §2): UTF-8 (a ``charset`` parameter, if any, says UTF-8); a header row — the first record's fields are
    non-empty, unique, and at least one is a documented field of the type (``review.nextReviewDate`` for
    nested ones); CRLF after every record (the last may have none); a field holding a comma, quote, CR or
    LF enclosed in double quotes, quotes inside doubled, nothing after a closing quote; every record with
    the header's number of fields; no empty lines. A UTF-8 byte-order mark is noted, not failed. NDJSON:
    UTF-8, each non-empty line one JSON object, no empty lines, the last line ended by ``\\n``. Seeding as
    in ``live.export.open-formats`` (the seeded text has commas, quotes and CRLFs, so quoting is exercised;
    a note says when the data needed no quoting at all). An export that is not served or not in the format
    asked for is left to ``live.export.open-formats`` (noted). Inapplicable when no export offers CSV or
    NDJSON; ``untested`` when none held a record."""
    from ..live.http import StreamError  # the HTTP stack loads only when a live check runs

    target = _target(ctx)
    plans = _plans(ctx, pole_vocabulary, wrapper_words, list_envelopes)
    jobs = [
        (plan, export, kind, media)
        for plan in plans
        for export in plan.exports
        for kind, media in export.formats().items()
        if kind in ("csv", "ndjson")
    ]
    if not jobs:
        raise Inapplicable("no bulk export offers CSV or NDJSON")
    index = ctx.spec.index
    seeder = _seed_for_formats(ctx, target, plans, seed, per_entity, id_property)
    rows: list[list[str | int]] = []
    with_records = 0
    found = False
    try:
        for plan, export, kind, media in jobs:
            label = f"GET {export.path} ({media})"
            problems: dict[str, list[int]] = {}
            with target.stream("GET", export.path, accept=media) as stream:
                if not stream.ok or stream.status is None:
                    raise _unanswered(label, stream)
                if not 200 <= stream.status < 300 or format_of(stream.media_type) != kind:
                    ctx.note(
                        f"{label} answered {stream.status} {stream.media_type}: see live.export.open-formats"
                    )
                    rows.append(
                        [plan.entity, media, 0, f"answered {stream.status} {stream.media_type or ''}".strip()]
                    )
                    continue
                try:
                    if kind == "csv":
                        known = frozenset(_columns(shape_of(index, plan.record)))
                        records, problems = _csv_scan(ctx, stream, label, known)
                    else:
                        records = _ndjson_scan(stream.iter_lines(), problems)
                except StreamError as exc:
                    raise _cut_off(label, stream, exc) from None
            with_records += bool(records)
            rules = _CSV_RULES if kind == "csv" else _NDJSON_RULES
            for problem, (count, line) in problems.items():
                found = True
                title, expected, fix = rules[problem]
                yield live_finding(
                    title,
                    f"{label}: {problem} — {count} time(s), first at line {line} ({records} records).",
                    exchange=stream.id,
                    operation=export.op.label,
                    expected=expected,
                    found=f"{problem} ({count}×, first at line {line})",
                    fix=fix,
                )
            result = "conforms" if not problems else "; ".join(sorted(problems))
            rows.append([plan.entity, media, records, result])
    finally:
        if seeder is not None:
            seeder.cleanup()
    ctx.table("CSV and NDJSON exports read strictly", ("Entity type", "Format", "Records", "Result"), rows)
    if not found and not with_records:
        _nothing_to_judge(target, seeder)


# -- live.export.round-trip --------------------------------------------------------------------------------------
@check(
    id="live.export.round-trip",
    mode="live",
    title="Export, import into a second tenant and re-export lose nothing: every documented field, links, "
    "non-ASCII text",
    references=(_TCOP, "InterOp-Pol tiers, Silver: details for import and export of data"),
    params={
        "per_entity": 3,
        "chunk_bytes": 2 * 1024 * 1024,
        "import_batch": 1000,
        "diff_records": 20,
        "ignore_fields": [],
        "id_property": "id",
        "pole_vocabulary": DEFAULT_POLE_VOCABULARY,
        "wrapper_words": DEFAULT_WRAPPER_WORDS,
        "list_envelopes": DEFAULT_LIST_ENVELOPES,
    },
)
def export_round_trip(
    ctx: CheckContext,
    *,
    per_entity: int,
    chunk_bytes: int,
    import_batch: int,
    diff_records: int,
    ignore_fields: list[str],
    id_property: str,
    pole_vocabulary: dict[str, list[str]],
    wrapper_words: list[str],
    list_envelopes: list[str],
) -> Iterator[Finding]:
    """Needs ``--allow-writes`` and a second test tenant (``other_tenant`` in the auth file; tenant B).
    Seeds ``per_entity`` synthetic records per POLE type in tenant A (Events linking the seeded Persons,
    Objects and Locations; names and texts in Welsh, Chinese and Arabic script), then, for each type with a
    bulk import operation and a JSON or NDJSON export, referenced types first:

    1. streams B's export and keeps its ids: B's own records are never touched (an id A shares with B is
       left out of the import and noted) — so "an empty tenant" means: only the ids this check imports are
       compared, whatever else B holds;
    2. streams A's export (NDJSON if the import takes it, else JSON) to a temporary file, keeping a digest
       of each record's documented fields (the record schema's properties, nested objects included, arrays
       whole; ``ignore_fields`` — dotted names — left out; undocumented members ignored);
    3. imports that file into B in batches of at most the documented ``maxItems`` (else ``import_batch``)
       and ``chunk_bytes`` bytes, in the import's NDJSON or JSON form; a refused batch or refused records
       are findings;
    4. streams B's export again and digests the imported records the same way;
    5. compares: an imported record missing from the re-export is a finding; for records whose digests
       differ, the first ``diff_records`` are read back from the two files and compared field by field
       (one finding per field: lost, added or changed, with an example), and the table lists record id,
       field, exported and re-exported values (shortened).

    Everything imported into B is deleted again (referrers first), then everything seeded in A; a failure
    is noted with the ids. Memory stays flat: records stream through, ids and digests live in a temporary
    SQLite file. ``untested`` without a second tenant or without ``--allow-writes``; a type with a bulk
    export but no import operation is a finding (its data can leave, but not arrive); inapplicable without
    POLE entities."""
    target = _target(ctx)
    plans = _plans(ctx, pole_vocabulary, wrapper_words, list_envelopes)
    if target.config.other_tenant is None:
        raise NotTested(
            "needs a second test tenant to import into: add an 'other_tenant' block to the auth file"
        )
    trip: list[Plan] = []
    for plan in plans:
        readable = _preferred(plan, ("ndjson", "json"))
        if plan.importer is None:
            where = "can be exported, but" if plan.exports else "have no bulk export, and"
            yield live_finding(
                "No bulk import",
                f"POLE {plan.entity} records {where} the document has no bulk import operation for them, so "
                "data from another system cannot be loaded with its ids and links intact.",
                operation=plan.exports[0].op.label if plan.exports else None,
                expected="an import operation taking the export's records (e.g. POST /imports/{entityType})",
                found="none",
                fix="Publish a bulk import that keeps ids, audit stamps and links, taking what the export produces.",
            )
        elif readable is None:
            ctx.note(f"{plan.entity}: not round-tripped: no JSON or NDJSON export to import from")
        else:
            trip.append(plan)
    if not trip:
        return
    target.require_writes(
        f"seeds {per_entity} synthetic records per POLE type in this tenant, imports every record of each "
        "type into the second tenant, re-exports them and deletes everything it created in both"
    )
    summary: list[list[str | int]] = []
    differences: list[list[str | int]] = []
    with Ledger() as ledger:
        seeder = Seeder(ctx, target, plans, id_property=id_property)
        try:
            _seed(ctx, seeder, per_entity)
            for plan in trip:
                run = _RoundTrip(
                    ctx=ctx,
                    target=target,
                    plan=plan,
                    ledger=ledger,
                    id_property=id_property,
                    ignore=frozenset(ignore_fields),
                    chunk_bytes=max(1, chunk_bytes),
                    batch=max(1, (plan.importer and plan.importer.max_items) or import_batch),
                    diff_records=diff_records,
                )
                yield from run.run()
                summary.append(run.row())
                differences += run.differences
        finally:
            failed = delete_records(
                target,
                [(plan, ledger.ids(f"{plan.key}:sent")) for plan in reversed(trip)],
                auth=AuthMode.OTHER_TENANT,
            )
            if failed:
                ctx.note(
                    f"clean-up failed in the second tenant: {len(failed)} imported record(s) could not be "
                    f"deleted: {first_ids(failed, len(failed), 10)}; delete them by hand"
                )
            seeder.cleanup()
    ctx.table(
        "Round trip per entity type (tenant A exported, imported into tenant B, re-exported from B)",
        ("Entity type", "Exported from A", "Imported into B", "Re-exported", "Identical", "Differing"),
        summary,
    )
    if differences:
        ctx.table(
            "Round-trip differences, field by field (first records that differ)",
            ("Entity type", "Record id", "Field", "Exported", "Re-exported"),
            differences,
        )


@dataclass(slots=True)
class _RoundTrip:
    """The round trip of one entity type (see ``export_round_trip``)."""

    ctx: CheckContext
    target: LiveTarget
    plan: Plan
    ledger: Ledger
    id_property: str
    ignore: frozenset[str]
    chunk_bytes: int
    batch: int
    diff_records: int
    exported: int = 0
    imported: int = 0
    reexported: int = 0
    differing: int = 0
    differences: list[list[str | int]] = field(default_factory=list)

    def source(self, name: str) -> str:
        return f"{self.plan.key}:{name}"

    def run(self) -> Iterator[Finding]:
        plan, ledger = self.plan, self.ledger
        importer = plan.importer
        assert importer is not None
        shape = shape_of(self.ctx.spec.index, plan.record)
        ndjson_in = any(format_of(m) == "ndjson" for m in importer.media_types)
        json_in = next((m for m in importer.media_types if format_of(m) == "json"), None)
        chosen = _preferred(plan, ("ndjson", "json") if ndjson_in else ("json", "ndjson"))
        assert chosen is not None
        export, kind, media = chosen
        other = AuthMode.OTHER_TENANT

        # 1. What B holds already.
        before = read_export(
            self.target,
            export,
            kind,
            media,
            auth=other,
            on_record=_ids_into(ledger, self.source("b0"), self.id_property),
        )
        self._require(before, "the second tenant's export")
        ledger.flush()

        # 2. A's export, to a file, with a digest per record.
        spool_a = ledger.folder / f"{plan.key}-a.ndjson"
        shared = [0]
        with spool_a.open("wb") as out:

            def take(parsed: Parsed, read: ExportRead) -> None:
                value = parsed.value
                ident = _id_of(value, self.id_property)
                if ident is None:
                    read.without_id += 1
                    return
                ident = str(ident)
                ledger.add(
                    self.source("a"),
                    ident,
                    exchange=read.exchange,
                    digest=digest(project(value, shape, self.ignore)),
                )
                if ledger.has(self.source("b0"), ident, flush=False):
                    shared[0] += 1
                    return
                raw = parsed.raw
                out.write(raw if raw is not None and raw.endswith(b"\n") else orjson.dumps(value) + b"\n")

            exported = read_export(self.target, export, kind, media, on_record=take)
        self._require(exported, "the export")
        self.exported = exported.records
        if shared[0]:
            self.ctx.note(
                f"{plan.entity}: {shared[0]} record(s) of this tenant have ids the second tenant already holds: "
                "left out of the import, so the second tenant's own records are not overwritten"
            )

        # 3. Import into B.
        refused: list[str] = []
        refused_exchange: str | None = None
        for lines in _batches(spool_a, self.batch, self.chunk_bytes):
            ids = [str(orjson.loads(line).get(self.id_property)) for line in lines]
            for ident in ids:
                ledger.add(self.source("sent"), ident)
            ledger.flush()
            if ndjson_in:
                body, content_type = (
                    b"".join(lines),
                    next(m for m in importer.media_types if format_of(m) == "ndjson"),
                )
            else:
                assert json_in is not None
                items = b",".join(line.rstrip(b"\r\n") for line in lines)
                body = (
                    b"{" + orjson.dumps(importer.envelope) + b":[" + items + b"]}"
                    if importer.envelope
                    else b"[" + items + b"]"
                )
                content_type = json_in
            answer = self.target.request(
                "POST", importer.path, data=body, content_type=content_type, auth=other
            )
            if not answer.ok or answer.status is None:
                raise CantTell(f"{importer.op.label}: {answer.error or 'no response'} (exchange {answer.id})")
            if not 200 <= answer.status < 300:
                yield live_finding(
                    "Import refused",
                    f"{importer.op.label} answered {answer.status} to a batch of {len(lines)} {plan.entity} records "
                    "exactly as exported by this system.",
                    exchange=answer,
                    operation=importer.op.label,
                    expected="2xx: the records are imported",
                    found=f"{answer.status} {answer.reason}".strip(),
                    fix="Accept what your own export produces (same fields, formats and ids).",
                )
                return
            for ident, detail in _refusals(answer, ids):
                ledger.add(self.source("failed"), ident)
                refused.append(f"{ident} ({detail})")
                refused_exchange = refused_exchange or answer.id
        sent = ledger.count(self.source("sent"))
        failed = ledger.count(self.source("failed"))
        self.imported = sent - failed
        if refused:
            yield live_finding(
                "Import refused records",
                f"{importer.op.label} refused {len(refused)} of the {sent} {plan.entity} records exported by this "
                f"system: {first_ids(refused, len(refused))}.",
                exchange=refused_exchange,
                operation=importer.op.label,
                expected="every exported record imported",
                found=f"{len(refused)} refused",
                fix="Accept what your own export produces (same fields, formats and ids).",
            )

        # 4. B's export again: the imported records only.
        spool_b = ledger.folder / f"{plan.key}-b.ndjson"
        with spool_b.open("wb") as out:

            def take_b(parsed: Parsed, read: ExportRead) -> None:
                value = parsed.value
                ident = _id_of(value, self.id_property)
                if ident is None:
                    return
                ident = str(ident)
                if not ledger.has(self.source("sent"), ident, flush=False) or ledger.has(
                    self.source("failed"), ident, flush=False
                ):
                    return
                ledger.add(
                    self.source("b"),
                    ident,
                    exchange=read.exchange,
                    digest=digest(project(value, shape, self.ignore)),
                )
                out.write(orjson.dumps(value) + b"\n")

            again = read_export(self.target, export, kind, media, auth=other, on_record=take_b)
        self._require(again, "the second tenant's re-export")
        ledger.flush()
        self.reexported = ledger.count(self.source("b"))

        # 5. Compare.
        count, ids = ledger.missing(self.source("sent"), self.source("b"), self.source("failed"))
        if count:
            yield live_finding(
                "Imported record missing from the re-export",
                f"{count} of the {self.imported} {plan.entity} records imported into the second tenant are not in "
                f"its export: {first_ids(ids, count)}.",
                exchange=again.exchange,
                operation=again.label,
                expected="every imported record exported again",
                found=f"{count} missing",
                fix="Store every record the import reports as imported, and export it.",
            )
        self.differing, wanted = ledger.differing(self.source("a"), self.source("b"), self.diff_records)
        if self.differing:
            yield from self._field_findings(wanted, spool_a, spool_b, again)

    def _require(self, read: ExportRead, what: str) -> None:
        if not read.answered:
            raise CantTell(f"{what} answered {read.status} (exchange {read.exchange})")
        if read.problem is not None:
            raise CantTell(f"{what} does not parse: {read.problem} (exchange {read.exchange})")

    def _field_findings(
        self, wanted: list[str], spool_a: Any, spool_b: Any, again: ExportRead
    ) -> Iterator[Finding]:
        shape = shape_of(self.ctx.spec.index, self.plan.record)
        before = _pick(spool_a, set(wanted), self.id_property)
        after = _pick(spool_b, set(wanted), self.id_property)
        by_field: dict[str, list[Any]] = {}
        for ident in wanted:
            if ident not in before or ident not in after:
                continue
            rows = field_differences(
                project(before[ident], shape, self.ignore), project(after[ident], shape, self.ignore)
            )
            for name, old, new in rows:
                self.differences.append([self.plan.entity, ident, name, short(old), short(new)])
                entry = by_field.setdefault(name, [0, ident, old, new])
                entry[0] += 1
        compared = len(wanted)
        for name, (count, ident, old, new) in by_field.items():
            if new is ABSENT:
                title, verb = "Field lost on the round trip", "is missing after"
            elif old is ABSENT:
                title, verb = "Field added on the round trip", "appears only after"
            else:
                title, verb = "Field changed on the round trip", "changes in"
            yield live_finding(
                title,
                f"{self.plan.entity} '{name}' {verb} export → import → re-export in {count} of the {compared} "
                f"differing records compared ({self.differing} of {self.imported} imported records differ); "
                f"e.g. record {ident}: exported {short(old)}, re-exported {short(new)}.",
                exchange=again.exchange,
                operation=self.plan.importer.op.label if self.plan.importer else None,
                expected=f"'{name}' as exported: {short(old)}",
                found=short(new),
                fix="Import every documented field exactly as exported (ids, links, text in any script).",
            )

    def row(self) -> list[str | int]:
        identical = self.reexported - self.differing
        return [self.plan.entity, self.exported, self.imported, self.reexported, identical, self.differing]


def _batches(path: Any, max_items: int, max_bytes: int) -> Iterator[list[bytes]]:
    """The spooled records in batches of at most ``max_items`` lines and (unless one line is larger)
    ``max_bytes`` bytes."""
    batch: list[bytes] = []
    size = 0
    with path.open("rb") as spool:
        for line in spool:
            if batch and (len(batch) >= max_items or size + len(line) > max_bytes):
                yield batch
                batch, size = [], 0
            batch.append(line)
            size += len(line)
    if batch:
        yield batch


def _refusals(answer: Any, ids: list[str]) -> Iterator[tuple[str, str]]:
    """(id, why) for each record an import summary lists as refused (``errors``/``failures`` entries with an
    ``id`` or an ``index`` into the batch)."""
    try:
        body = answer.json()
    except ValueError:
        return
    if not isinstance(body, dict):
        return
    entries: list[Any] = next(
        (body[k] for k in ("errors", "failures", "failed", "rejected") if isinstance(body.get(k), list)), []
    )
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        ident = entry.get("id")
        index = entry.get("index")
        if ident is None and isinstance(index, int) and 0 <= index < len(ids):
            ident = ids[index]
        if ident is not None:
            yield str(ident), short(entry.get("detail") or entry.get("message") or entry, 80)


def _pick(path: Any, wanted: set[str], id_property: str) -> dict[str, Any]:
    """The records of a spool file whose ids are in ``wanted`` (a handful)."""
    found: dict[str, Any] = {}
    with path.open("rb") as spool:
        for line in spool:
            value = orjson.loads(line)
            ident = str(value.get(id_property)) if isinstance(value, dict) else None
            if ident in wanted:
                found[ident] = value
    return found
