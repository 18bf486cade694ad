"""C1 and C9, live: the served document is the one under test, live responses keep the contract, and
invalid inputs are refused.

* ``live.spec.served-matches`` (IOP-C1-10) compares the document the supplier serves with the document
  under test: byte-identical, or equal once parsed (formatting and key order ignored), or a concise
  semantic diff.
* ``live.contract.conformance`` (IOP-C1-11) and ``live.contract.negative`` (IOP-C9-18) run Schemathesis
  4.x with an explicit configuration, a fixed seed and bounded examples (``_schemathesis``), through the
  guarded session, and map its check failures onto the requirement:

  ============================  ==============  ===========================================================
  Schemathesis check            requirement     why
  ============================  ==============  ===========================================================
  status_code_conformance       C1-11 (MUST)    the status is one the document lists
  content_type_conformance      C1-11           the media type is one the document lists
  response_schema_conformance   C1-11           the body validates against the documented schema
  response_headers_conformance  C1-11           documented required headers are sent and valid
  not_a_server_error            C1-11 and C9-18 a valid request never causes a 5xx (C1-11); nor an
                                                invalid one (C9-18)
  negative_data_rejection       C9-18 (SHOULD)  schema-violating input is refused with a 4xx
  ============================  ==============  ===========================================================

  Not used: ``positive_data_acceptance`` (a documented-valid input may be refused for reasons no schema
  can state: an opaque cursor this server never issued is a 400, an id the caller's force does not hold a
  404 or 422; anchors.md §5.10 also advises against basing a MUST on it), and the checks that send
  requests of their own (``ignored_auth``, ``unsupported_method``, ``missing_required_header``…), which
  other live checks cover with their own probes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import SpecError
from ..live import AuthKind, AuthMode
from ..outcome import Finding
from ..pointer import escape
from ..registry import CantTell, CheckContext, Inapplicable, NotTested, check
from ..spec import _read
from ..spec.model import HTTP_METHODS
from ._contract_statuses import NEGATIVE_EXPECTED_STATUSES
from ._live import live_finding, operations, target_of

if TYPE_CHECKING:  # Schemathesis and Hypothesis load only when a contract check runs, not on a static run
    from . import _schemathesis as glue

ACCEPT_DOCUMENT = (
    "application/json, application/yaml;q=0.9, application/x-yaml;q=0.8, text/yaml;q=0.7, */*;q=0.1"
)
"""The ``Accept`` header sent for the served OpenAPI document: JSON or YAML."""

_REFERENCES_C1_11 = (
    "charter.md §3 C1-11: contract conformance of live responses (Schemathesis/Dredd-style)",
    "GOV.UK Service Manual: Document your API; NCSC API guidance: negative and fuzz testing",
    "Schemathesis 4.x built-in checks (docs/reference/checks.md)",
)

_NO_RESPONSE_KINDS = ("timeout", "connection")  # network errors that are the server's doing

_FIXES = {
    "status_code_conformance": "Document every status the operation can return, or stop returning this one.",
    "content_type_conformance": "Return a media type the document lists for this response, or document it.",
    "response_schema_conformance": "Make responses match the documented schema, or correct the schema "
    "(and bump info.version).",
    "response_headers_conformance": "Send the documented response headers with values valid against their "
    "schemas, or correct the document.",
    "not_a_server_error": "Fix the fault behind the 5xx; the correlation id in the evidence helps find it. "
    "Invalid input must be refused with a 4xx, never crash the server.",
    "negative_data_rejection": "Validate requests against the published schema and refuse what it does not "
    "allow with 400 or 422.",
}


# -- the served document ------------------------------------------------------------------------------------
def served_spec_url(target: Any) -> str:
    """Where the supplier serves its OpenAPI document: ``spec_url``, else ``<base_url>/openapi.json``."""
    configured = target.config.spec_url
    return str(configured) if configured else target.base_url.rstrip("/") + "/openapi.json"


def fetch_document(target: Any, url: str, *, auth: AuthMode) -> Any:
    """GET the document at ``url`` asking for JSON or YAML (same-origin redirects followed); the exchange."""
    return target.request("GET", url, auth=auth, accept=ACCEPT_DOCUMENT, allow_redirects=True)


def parse_document(exchange: Any) -> _read.RawDocument | None:
    """The served body as an OpenAPI document (JSON or YAML), or None when it is not one."""
    try:
        document = _read.parse(exchange.body, uri=exchange.url, display=exchange.url)
    except SpecError:
        return None
    data = document.data
    if not isinstance(data, Mapping) or not ("openapi" in data or "swagger" in data):
        return None
    return document


def _same_url(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


@check(
    id="live.spec.served-matches",
    mode="live",
    title="The OpenAPI document the API serves is the document under test",
    references=(
        "charter.md §3 C1-10: the served document equals the one under static test (SHA-256) or a "
        "normalised diff is empty",
        "GOV.UK API technical and data standards: communicate when changes are made",
    ),
    params={"max_differences": 10},
)
def served_matches(ctx: CheckContext, *, max_differences: int) -> Iterator[Finding]:
    """Fetches the document the supplier serves (``spec_url``, else ``<base_url>/openapi.json``; Accept
    JSON or YAML; without credentials first, then with the configured ones after a 401/403) and compares it
    with the document under test (its main file, for a document split over several files). Equal SHA-256
    of the bytes passes outright; otherwise both are parsed (JSON or YAML) and compared as data, so
    formatting and key order do not count (numbers compare by value; ``true`` is never ``1``). A difference is one
    finding with a semantic diff: ``info.version`` change, operations only served or only under test,
    operations whose definitions differ, and the first ``max_differences`` differing JSON pointers.
    Passes with a note when the document under test was loaded from the served URL itself. A served body
    that is not an OpenAPI document is a finding; no answer, or a status other than 2xx, is cantTell
    (``live.spec.freely-available`` judges retrievability)."""
    target = target_of(ctx)
    if ctx.spec is None:
        raise Inapplicable("no document under test to compare the served one with")
    url = served_spec_url(target)
    if _same_url(str(ctx.spec.source), url) or _same_url(str(ctx.spec.root.uri), url):
        ctx.note(
            f"The document under test was loaded from the served URL ({url}): it is the served document."
        )
        return
    exchange = fetch_document(target, url, auth=AuthMode.NONE)
    if exchange.ok and exchange.status in (401, 403) and target.tokens.kind is not AuthKind.NONE:
        exchange = fetch_document(target, url, auth=AuthMode.DEFAULT)
    if not exchange.ok:
        raise CantTell(f"the served document at {url} could not be fetched: {exchange.error} ({exchange.id})")
    if exchange.status is None or not 200 <= exchange.status < 300:
        raise CantTell(f"the served document at {url} answered HTTP {exchange.status} ({exchange.id})")
    served = parse_document(exchange)
    if served is None:
        yield live_finding(
            "Served document is not an OpenAPI document",
            f"{url} answered {exchange.status} with {exchange.media_type or 'no media type'}, which does not "
            "parse as an OpenAPI document (JSON or YAML with an 'openapi' or 'swagger' member).",
            exchange=exchange,
            expected="the OpenAPI document under test",
            found=f"{exchange.media_type or 'untyped'} body of {len(exchange.body)} bytes",
            fix="Serve the published OpenAPI document at the declared URL.",
        )
        return
    if served.sha256 == ctx.spec.sha256:
        ctx.note(
            f"The served document ({url}) is byte-identical to the document under test (SHA-256 {served.sha256})."
        )
        return
    if next(_differences(ctx.spec.data, served.data, ""), None) is None:
        ctx.note(
            f"The served document ({url}, {served.format.upper()}) equals the document under test once parsed; "
            f"only formatting differs (SHA-256 {served.sha256[:16]}… served, {ctx.spec.sha256[:16]}… under test)."
        )
        return
    yield _difference_finding(ctx.spec.data, served, url, exchange, max(1, max_differences), ctx.spec.sha256)


def _difference_finding(
    tested: Mapping[str, Any], served: _read.RawDocument, url: str, exchange: Any, limit: int, tested_sha: str
) -> Finding:
    pointers = list(_differences(tested, served.data, ""))
    tested_ops, served_ops = _operation_map(tested), _operation_map(served.data)
    only_served = [k for k in served_ops if k not in tested_ops]
    only_tested = [k for k in tested_ops if k not in served_ops]
    changed = [k for k in tested_ops if k in served_ops and tested_ops[k] != served_ops[k]]
    parts: list[str] = []
    version_tested, version_served = _version(tested), _version(served.data)
    if version_tested != version_served:
        parts.append(f"info.version is {version_served!r} served but {version_tested!r} under test")
    for label, items in (
        ("only in the served document", only_served),
        ("only in the document under test", only_tested),
        ("defined differently", changed),
    ):
        if items:
            shown = ", ".join(items[:limit]) + (
                f" and {len(items) - limit} more" if len(items) > limit else ""
            )
            parts.append(f"{len(items)} operation(s) {label}: {shown}")
    first = ", ".join(f"{p} ({kind})" for p, kind in pointers[:limit])
    parts.append(f"{len(pointers)} differing place(s) in all; first: {first}")
    return live_finding(
        "Served document differs from the document under test",
        f"The document served at {url} is not the document under test. " + "; ".join(parts) + ".",
        exchange=exchange,
        expected=f"the document under test (SHA-256 {tested_sha[:16]}…), or one equal to it once parsed",
        found=f"a served document (SHA-256 {served.sha256[:16]}…) with {len(pointers)} difference(s)",
        fix="Test the document you serve (pass its URL as --spec), or serve exactly the published document; "
        "change info.version with every change.",
    )


def _version(data: Any) -> Any:
    info = data.get("info") if isinstance(data, Mapping) else None
    return info.get("version") if isinstance(info, Mapping) else None


def _operation_map(data: Any) -> dict[str, Any]:
    """``{"GET /persons": <operation object>}`` in document order."""
    found: dict[str, Any] = {}
    paths = data.get("paths") if isinstance(data, Mapping) else None
    if not isinstance(paths, Mapping):
        return found
    for path, item in paths.items():
        if not isinstance(item, Mapping):
            continue
        for method in HTTP_METHODS:
            if isinstance(item.get(method), Mapping):
                found[f"{method.upper()} {path}"] = {
                    "operation": item[method],
                    "shared": item.get("parameters"),
                }
    return found


def _differences(a: Any, b: Any, pointer: str) -> Iterator[tuple[str, str]]:
    """JSON pointers where ``a`` (under test) and ``b`` (served) differ: added, removed or changed."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key in sorted(set(a) | set(b), key=str):
            here = f"{pointer}/{escape(str(key))}"
            if key not in a:
                yield here, "only served"
            elif key not in b:
                yield here, "only under test"
            else:
                yield from _differences(a[key], b[key], here)
    elif isinstance(a, list) and isinstance(b, list):
        for i in range(max(len(a), len(b))):
            here = f"{pointer}/{i}"
            if i >= len(a):
                yield here, "only served"
            elif i >= len(b):
                yield here, "only under test"
            else:
                yield from _differences(a[i], b[i], here)
    elif not _same_scalar(a, b):
        yield pointer or "/", "changed"


def _same_scalar(a: Any, b: Any) -> bool:
    """JSON equality of two leaves: 1 and 1.0 are the same number, but true is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


# -- contract conformance (positive) ------------------------------------------------------------------------
@check(
    id="live.contract.conformance",
    mode="live",
    title="Live responses keep the published contract (status, media type, schema, headers)",
    references=_REFERENCES_C1_11,
    params={"max_examples": 5, "seed": 1, "max_operations": 40, "include_writes": True},
)
def contract_conformance(
    ctx: CheckContext, *, max_examples: int, seed: int, max_operations: int, include_writes: bool
) -> Iterator[Finding]:
    """Runs Schemathesis with POSITIVE (schema-valid) data against a sample of at most ``max_operations``
    operations (reads first, spread over the document; writes only with ``include_writes`` and a target
    that allows writes, otherwise the run is judged on reads and a note says so). Per operation it sends the
    document's examples and up to ``max_examples`` generated cases (seed ``seed``, deterministic), each with
    the configured credentials; a read of one record also gets the id of a record its list returned. Every
    response must pass ``status_code_conformance`` (documented status), ``content_type_conformance``
    (documented media type), ``response_schema_conformance`` (body valid against the schema, formats
    included), ``response_headers_conformance`` (documented required headers, valid) and
    ``not_a_server_error`` (no 5xx for valid input). One finding per distinct (operation, check, failure),
    linked to the first response showing it. What a 2xx write created is deleted again where the document
    has a DELETE for it. Requests without any response are noted; cantTell when none got one."""
    from . import _schemathesis as glue

    yield from _schemathesis_check(
        ctx,
        glue.Plan(
            mode="positive",
            seed=seed,
            max_examples=max_examples,
            max_operations=max_operations,
            include_writes=include_writes,
        ),
    )


@check(
    id="live.contract.negative",
    mode="live",
    title="Schema-violating requests are refused with a 4xx, never a 5xx or no answer",
    references=(
        "charter.md §3 C9-18: fuzz/negative tests (schema-derived invalid inputs) yield 4xx, never 5xx or a "
        "timeout",
        "NCSC API security guidance: negative and fuzz testing",
        "Schemathesis 4.x checks negative_data_rejection and not_a_server_error",
    ),
    params={
        "max_examples": 5,
        "seed": 1,
        "max_operations": 40,
        "include_writes": True,
        "expected_statuses": list(NEGATIVE_EXPECTED_STATUSES),
    },
)
def contract_negative(
    ctx: CheckContext,
    *,
    max_examples: int,
    seed: int,
    max_operations: int,
    include_writes: bool,
    expected_statuses: list[str],
) -> Iterator[Finding]:
    """Runs Schemathesis with NEGATIVE data (inputs that violate the documented schema: wrong types, out of
    range values, missing required fields…) against the same bounded, deterministic sample as
    ``live.contract.conformance`` (writes only with ``include_writes`` and a target that allows writes;
    whatever a lenient server creates from invalid input is deleted again where possible, and noted).
    Each response must be one of ``expected_statuses`` (default: 400, 401, 403, 404, 405, 406, 409, 413,
    414, 415, 422, 428, 429, 431) — Schemathesis' ``negative_data_rejection`` — and never a 5xx
    (``not_a_server_error``; a 5xx is reported once, as a server error). A request that gets no response
    at all (timeout, reset) while the API keeps answering others is a finding too; cantTell when the target
    stops answering altogether."""
    statuses = tuple(str(s) for s in expected_statuses)
    if not statuses:
        raise CantTell("'expected_statuses' must list at least one status (got [])")
    from . import _schemathesis as glue

    yield from _schemathesis_check(
        ctx,
        glue.Plan(
            mode="negative",
            seed=seed,
            max_examples=max_examples,
            max_operations=max_operations,
            include_writes=include_writes,
            expected_statuses=statuses,
        ),
    )


def _schemathesis_check(ctx: CheckContext, plan: glue.Plan) -> Iterator[Finding]:
    target = target_of(ctx)
    if not operations(ctx):
        raise Inapplicable("the document describes no operations")
    if target.unreachable:
        raise CantTell(target.unreachable)
    from . import _schemathesis as glue

    result = glue.run(ctx.spec.data, target, plan)
    for text in _notes(result, plan, target):
        ctx.note(text)
    if not result.operations_run:
        if result.writes_skipped and result.operations_in_document == result.writes_skipped:
            if not target.writes_allowed:
                raise NotTested("needs --allow-writes: every operation of the document writes data")
            raise NotTested("include_writes is off and every operation of the document writes data")
        problems = "; ".join(result.generation_problems[:3]) or "no operation could be run"
        raise CantTell(f"Schemathesis ran no operation: {problems}")
    if not result.answered:
        first = result.observations[0] if result.observations else None
        detail = f"{first.error} ({first.exchange})" if first is not None else "nothing could be generated"
        raise CantTell(f"no request got a response: {detail}")
    yield from _findings(result, plan)
    if result.stopped:
        raise CantTell(f"the run stopped early: {result.stopped}")


def _findings(result: glue.RunResult, plan: glue.Plan) -> Iterator[Finding]:
    """One finding per distinct (operation, check, failure), first occurrence first, with its count."""
    groups: dict[tuple[str, str, str], list[tuple[glue.Observation, glue.CheckFailure]]] = {}
    for observation in result.observations:
        failures = observation.failures
        if any(f.check == "not_a_server_error" for f in failures):
            # A 5xx also fails negative_data_rejection; it is one fact, reported as the server error.
            failures = tuple(f for f in failures if f.check != "negative_data_rejection")
        for failure in failures:
            key = (observation.operation, failure.check, failure.key)
            groups.setdefault(key, []).append((observation, failure))
        kind = observation.error_kind
        # Only while the API goes on answering: an API that stopped answering altogether is cantTell.
        no_answer = observation.status is None and kind in _NO_RESPONSE_KINDS
        if plan.mode == "negative" and no_answer and not result.stopped:
            key = (observation.operation, "no-response", kind or "")
            groups.setdefault(key, []).append((observation, _no_response(observation)))
    for (operation, check_name, _), seen in groups.items():
        observation, failure = seen[0]
        more = f" The same failure came back {len(seen) - 1} more time(s)." if len(seen) > 1 else ""
        where = f"{operation} ({observation.request}, {observation.phase} case {observation.case_id})"
        if check_name == "no-response":
            yield live_finding(
                "No response to invalid input",
                f"{where}: {failure.message}.{more}",
                exchange=observation.exchange,
                operation=operation,
                expected="a 4xx response",
                found=failure.found,
                fix="Refuse invalid input promptly with a 4xx; it must never hang or drop the connection.",
            )
            continue
        yield live_finding(
            failure.title,
            f"{where}: {failure.message} (Schemathesis {check_name}, {failure.code}).{more}",
            exchange=observation.exchange,
            operation=operation,
            expected=failure.expected,
            found=failure.found,
            fix=_FIXES.get(check_name),
        )


def _no_response(observation: glue.Observation) -> glue.CheckFailure:
    from . import _schemathesis as glue

    kind = "timed out" if observation.error_kind == "timeout" else "lost the connection"
    return glue.CheckFailure(
        check="no-response",
        code="-",
        title="No response to invalid input",
        message=f"the request {kind}: {observation.error}",
        key=observation.error_kind or "",
        found=f"no response ({observation.error})",
    )


def _notes(result: glue.RunResult, plan: glue.Plan, target: Any) -> list[str]:
    """Facts for the report: what ran, how, and what was left out."""
    import schemathesis

    answered = result.answered
    statuses = sorted({o.status for o in answered if o.status is not None})
    notes = [
        f"Schemathesis {schemathesis.__version__}, {plan.mode} data: {len(result.observations)} request(s) to "
        f"{len(result.operations_run)} of {result.operations_in_document} operation(s); seed {plan.seed}, "
        f"deterministic, at most {plan.max_examples} generated case(s) per operation"
        + (" plus the document's examples" if plan.mode == "positive" else "")
        + f"; checks: {', '.join(plan.checks)}; statuses seen: {', '.join(map(str, statuses)) or 'none'}.",
    ]
    if result.writes_skipped:
        why = (
            "the target is not marked as a test tenant (--allow-writes)"
            if not target.writes_allowed
            else "include_writes is off"
        )
        notes.append(
            f"Writes were not exercised ({result.writes_skipped} operation(s)): {why}; the requirement is "
            "judged on reads only."
        )
    if result.sampled_out:
        notes.append(
            f"{result.sampled_out} operation(s) were left out to stay within max_operations={plan.max_operations} "
            "(reads first, spread evenly over the document)."
        )
    missing = [o for o in result.observations if o.status is None]
    if missing:
        first = missing[0]
        notes.append(
            f"{len(missing)} request(s) got no response; first: {first.request}: {first.error} ({first.exchange})."
        )
    for problem in result.generation_problems[:5]:
        notes.append(f"Schemathesis could not generate or send cases: {problem}")
    if len(result.generation_problems) > 5:
        notes.append(f"… and {len(result.generation_problems) - 5} more generation problem(s).")
    if result.cleaned:
        notes.append(f"{result.cleaned} record(s) created by accepted writes were deleted again.")
    notes.extend(result.cleanup_notes[:5])
    if result.global_hooks:
        notes.append(
            "Schemathesis hooks registered elsewhere in this process also applied: "
            + ", ".join(result.global_hooks)
        )
    return notes
