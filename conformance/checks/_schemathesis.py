"""Schemathesis 4.x inside our checks: explicit configuration, bounded deterministic generation, every
request through the guarded session, and check results collected as data (never raised).

Used by ``live.contract.conformance`` (IOP-C1-11, positive data) and ``live.contract.negative``
(IOP-C9-18, negative data). What it guarantees:

1. **Explicit configuration.** :func:`configuration` builds the whole Schemathesis configuration as a
   dict; :func:`load_schema` turns it into a ``schemathesis.Config`` (``Config.from_dict``, validated
   against Schemathesis' own JSON Schema) and loads the document with
   ``schemathesis.openapi.from_dict(document, config=...)``. With a config given, the loader never calls
   ``SchemathesisConfig.discover()`` (``openapi/loaders.py::_from_dict``), and the project config's parent
   is that config, so ``ProjectConfig._get_parent`` never discovers either: no ``schemathesis.toml`` on
   disk can change a run. ``ProjectConfig`` also imports the module named by ``$SCHEMATHESIS_HOOKS`` when
   it is built, so that variable is hidden while the configuration and the schema are built.
2. **Bounded, deterministic generation.** Per operation: the document's own examples (positive runs,
   at most ``max_examples``, each drawn once) and up to ``max_examples`` cases from Schemathesis' own
   strategy (``APIOperation.as_strategy`` in the configured generation mode), drawn by Hypothesis under
   the configuration's settings (``derandomize``, no example database, no shrinking, every health check
   suppressed, no deadline) and an explicit seed derived from the run's seed, the mode and the operation.
   All cases are drawn before the first request, so timing cannot change what is generated; Hypothesis'
   "local constants" (literals of whatever local modules the process imported) are kept out
   (:func:`_no_local_constants`); identical requests are sent once; case ids (sent as
   ``X-Schemathesis-TestCaseId``) are counters, not random.
   The coverage phase (not bounded by ``max_examples``) and the stateful phase are off.
3. **Guarded traffic.** Every case is sent with ``case.call(session=target.session, headers=<auth>)``:
   the guarded session decides origins, pace, timeouts, body size and redirects, and records the
   exchange (``session.last_exchange`` is the evidence id).
4. **Only the checks we map.** Responses are validated one Schemathesis check at a time
   (``case.validate_response(response, checks=[check])``), with exactly the checks the configuration
   enables, so a check registered elsewhere in the process can never join in, and every failure is
   known by the check that raised it.

Writes (POST/PUT/PATCH/DELETE) run only when the caller asks; whatever a 2xx write created is deleted
again where the document offers a way (:func:`_cleanup`).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import hypothesis
import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis.core.result import Ok
from schemathesis.errors import FailureGroup, SchemathesisError

from ..registry import CantTell
from ._contract_statuses import NEGATIVE_EXPECTED_STATUSES
from ._live import first_item_id

__all__ = [
    "NEGATIVE_CHECKS",
    "NEGATIVE_EXPECTED_STATUSES",
    "POSITIVE_CHECKS",
    "CheckFailure",
    "Observation",
    "Plan",
    "RunResult",
    "configuration",
    "load_schema",
    "run",
]

Mode = Literal["positive", "negative"]

POSITIVE_CHECKS: tuple[str, ...] = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
)
"""What "published details are true" means for valid inputs (IOP-C1-11)."""

NEGATIVE_CHECKS: tuple[str, ...] = ("not_a_server_error", "negative_data_rejection")
"""What "invalid inputs are refused with a 4xx" means (IOP-C9-18)."""


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
HOOKS_ENV_VAR = "SCHEMATHESIS_HOOKS"
PHASE_EXAMPLES = "examples"
PHASE_FUZZING = "fuzzing"
_MAX_CLEANUP_PER_CASE = 20
_MAX_REQUEST_LINE = 160
_TEMPLATE = re.compile(r"\{([^{}]+)\}")


# -- what to run --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """One Schemathesis run: the mode, its bounds and the checks it applies."""

    mode: Mode
    seed: int
    max_examples: int
    max_operations: int
    include_writes: bool
    expected_statuses: tuple[str, ...] = NEGATIVE_EXPECTED_STATUSES  # negative_data_rejection only

    @property
    def checks(self) -> tuple[str, ...]:
        return POSITIVE_CHECKS if self.mode == "positive" else NEGATIVE_CHECKS


def configuration(plan: Plan, *, base_url: str, request_timeout: float) -> dict[str, Any]:
    """The complete Schemathesis configuration of a run, as ``schemathesis.toml`` would spell it.

    Nothing is left to defaults that could change a result: the seed, the generation mode and bounds,
    the phases and the checks (all off except ours) are explicit; reports, the on-disk cache, constant
    extraction from Python code and response-driven feedback are off. ``request-timeout`` and
    ``max-redirects`` only restate what the guarded session enforces anyway.
    """
    checks: dict[str, Any] = {"enabled": False}
    for name in plan.checks:
        checks[name] = {"enabled": True}
    if plan.mode == "positive":
        checks["response_schema_conformance"]["validate-formats"] = True
    else:
        checks["negative_data_rejection"]["expected-statuses"] = list(plan.expected_statuses)
    return {
        "seed": plan.seed,
        "suppress-health-check": ["all"],
        "cache": {"enabled": False},
        "reports": {kind: {"enabled": False} for kind in ("junit", "har", "vcr", "ndjson", "json", "allure")},
        "output": {"sanitization": {"enabled": True}},
        "base-url": base_url,
        "workers": 1,
        "request-timeout": request_timeout,
        "max-redirects": 0,
        "continue-on-failure": True,
        "warnings": False,
        "analysis": {"constants": {"enabled": False}},
        "generation": {
            "mode": plan.mode,
            "max-examples": plan.max_examples,
            "deterministic": True,
            "database": "none",
            "no-shrink": True,
            "unique-inputs": True,
            "with-security-parameters": False,
        },
        "phases": {
            "examples": {"enabled": plan.mode == "positive", "fill-missing": False},
            "coverage": {"enabled": False},
            "fuzzing": {
                "enabled": True,
                "extra-data-sources": {"responses": False},
                "error-feedback": {"enabled": False},
            },
            "stateful": {"enabled": False},
        },
        "checks": checks,
    }


@contextlib.contextmanager
def _hooks_variable_hidden() -> Iterator[None]:
    saved = os.environ.pop(HOOKS_ENV_VAR, None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ[HOOKS_ENV_VAR] = saved


def load_schema(document: Mapping[str, Any], config: Mapping[str, Any]) -> Any:
    """The document as a Schemathesis ``OpenApiSchema`` under ``config`` (never a discovered one).

    Both are deep-copied: ``from_dict`` rewrites keys in place, and the document is shared with other
    checks. A document Schemathesis cannot load raises ``CantTell``.
    """
    with _hooks_variable_hidden():
        try:
            explicit = schemathesis.Config.from_dict(copy.deepcopy(dict(config)))
            schema = schemathesis.openapi.from_dict(copy.deepcopy(dict(document)), config=explicit)
        except SchemathesisError as exc:
            raise CantTell(f"Schemathesis cannot load the document: {_one_line(str(exc))}") from None
    if schema.config.seed != config["seed"] or not schema.config.has_explicit_seed:
        raise CantTell("Schemathesis did not take the explicit configuration (seed differs)")
    return schema


# -- what comes back ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class CheckFailure:
    """One Schemathesis failure, with the check that raised it and its structured facts."""

    check: str
    code: str  # Schemathesis' stable failure code, e.g. ST108
    title: str
    message: str  # Schemathesis' message (response values elided for schema failures)
    key: str  # what makes two failures "the same" (list indices folded)
    expected: str | None = None
    found: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    """One case sent: which operation, what went out, what came back and what the checks said."""

    operation: str  # "GET /persons"
    phase: str  # "examples" or "fuzzing"
    case_id: str
    request: str  # "GET /v1/persons?limit=5" (path and query, as sent)
    exchange: str | None
    status: int | None
    error: str | None = None  # network error: no usable response
    error_kind: str | None = None  # "timeout", "connection" or "other"
    failures: tuple[CheckFailure, ...] = ()


@dataclass(slots=True, kw_only=True)
class RunResult:
    """Everything one run observed, in the order it happened."""

    config: dict[str, Any]
    operations_in_document: int = 0
    operations_run: list[str] = field(default_factory=list)
    sampled_out: int = 0  # eligible operations left out by max_operations
    writes_skipped: int = 0  # write operations not exercised
    observations: list[Observation] = field(default_factory=list)
    generation_problems: list[str] = field(default_factory=list)
    cleanup_notes: list[str] = field(default_factory=list)
    cleaned: int = 0
    stopped: str | None = None  # why the run stopped early (target unreachable)
    global_hooks: list[str] = field(default_factory=list)

    @property
    def answered(self) -> list[Observation]:
        return [o for o in self.observations if o.status is not None]


# -- the run ------------------------------------------------------------------------------------------------
def run(document: Mapping[str, Any], target: Any, plan: Plan) -> RunResult:
    """Run ``plan`` against ``target`` (a ``LiveTarget``) for ``document`` (the parsed OpenAPI root)."""
    if plan.max_examples < 1:
        raise CantTell(f"'max_examples' must be at least 1 (got {plan.max_examples})")
    if plan.max_operations < 1:
        raise CantTell(f"'max_operations' must be at least 1 (got {plan.max_operations})")
    config = configuration(plan, base_url=target.base_url, request_timeout=target.config.read_timeout)
    schema = load_schema(document, config)
    result = RunResult(config=config, global_hooks=_global_hooks())
    _ensure_ndjson_serializer()
    operations: list[Any] = []
    for index, loaded in enumerate(schema.get_all_operations()):
        if isinstance(loaded, Ok):
            operations.append(loaded.ok())
        else:
            error = loaded.err()
            where = getattr(error, "path", None) or f"operation #{index + 1}"
            result.generation_problems.append(f"{where}: {_one_line(str(error))}")
    result.operations_in_document = len(operations) + len(result.generation_problems)
    reads = [op for op in operations if op.method.upper() in SAFE_METHODS]
    writes = [op for op in operations if op.method.upper() not in SAFE_METHODS]
    with_writes = plan.include_writes and bool(target.writes_allowed)
    if not with_writes:
        result.writes_skipped = len(writes)
        writes = []
    chosen = _sample(reads, writes, plan.max_operations, order=operations)
    result.sampled_out = len(reads) + len(writes) - len(chosen)
    # Lists first, so reads of one record can use an id a list returned.
    chosen.sort(key=lambda op: (bool(_TEMPLATE.search(op.path)), operations.index(op)))
    checks = _check_functions(schema, plan)
    known_ids: dict[str, str] = {}
    counter = 0
    for op in chosen:
        if target.unreachable:
            result.stopped = target.unreachable
            break
        result.operations_run.append(op.label)
        fixed = _known_path_parameters(op, known_ids) if plan.mode == "positive" else None
        cases, problem = _generate(schema, op, plan, fixed)
        if problem:
            result.generation_problems.append(f"{op.label}: {problem}")
        for phase, case in cases:
            if target.unreachable:
                break
            counter += 1
            case.id = f"{plan.mode[0].upper()}{plan.seed}-{counter:04d}"
            observation, response, problems = _send(target, case, phase, checks)
            result.generation_problems += problems
            if observation is None:
                continue
            result.observations.append(observation)
            if response is None:
                continue
            if (
                op.method.upper() == "GET"
                and not _TEMPLATE.search(op.path)
                and 200 <= response.status_code < 300
            ):
                _remember_id(known_ids, op.path, response)
            if op.method.upper() not in SAFE_METHODS and 200 <= response.status_code < 300:
                _cleanup(target, operations, case, response, result)
    if target.unreachable and result.stopped is None:
        result.stopped = target.unreachable
    return result


def _sample(reads: list[Any], writes: list[Any], limit: int, *, order: list[Any]) -> list[Any]:
    """At most ``limit`` operations: reads first, then writes, each spread evenly over the document."""
    chosen = _spread(reads, limit)
    chosen += _spread(writes, limit - len(chosen))
    return sorted(chosen, key=order.index)


def _spread(items: list[Any], limit: int) -> list[Any]:
    if limit <= 0:
        return []
    if len(items) <= limit:
        return list(items)
    return [items[(i * len(items)) // limit] for i in range(limit)]


def _check_functions(schema: Any, plan: Plan) -> list[tuple[str, Callable[..., Any]]]:
    """The check functions the configuration enables, in the plan's order."""
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        negative_data_rejection,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    known: dict[str, Callable[..., Any]] = {
        "not_a_server_error": not_a_server_error,
        "status_code_conformance": status_code_conformance,
        "content_type_conformance": content_type_conformance,
        "response_schema_conformance": response_schema_conformance,
        "response_headers_conformance": response_headers_conformance,
        "negative_data_rejection": negative_data_rejection,
    }
    configured = schema.config.checks_config_for()
    return [(name, known[name]) for name in plan.checks if configured.get_by_name(name=name).enabled]


def _derived_seed(*parts: object) -> int:
    """A stable 64-bit seed (unlike ``hash``, the same in every process)."""
    text = ":".join(str(p) for p in parts)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def _draw(strategy: Any, settings: hypothesis.settings, seed: int) -> list[Any]:
    """Every case Hypothesis draws from ``strategy`` under ``settings`` and ``seed``, in order."""
    drawn: list[Any] = []

    @hypothesis.seed(seed)
    @settings
    @hypothesis.given(case=strategy)
    def collect(case: Any) -> None:
        drawn.append(case)

    with _no_local_constants(), _hypothesis_storage():
        collect()
    return drawn


@contextlib.contextmanager
def _hypothesis_storage() -> Iterator[None]:
    """Keep Hypothesis' caches (e.g. its Unicode tables) out of the user's working folder.

    Hypothesis writes them under ``./.hypothesis`` unless ``$HYPOTHESIS_STORAGE_DIRECTORY`` says otherwise;
    a conformance run must not leave a folder in the supplier's repository. While we draw, they go to a
    folder in the system's temporary directory (unless that variable is set). No example database is
    used either way (``database: none``).
    """
    from hypothesis.configuration import set_hypothesis_home_dir

    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        yield
        return
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "interop-conformance-hypothesis")
    try:
        yield
    finally:
        set_hypothesis_home_dir(None)


@contextlib.contextmanager
def _no_local_constants() -> Iterator[None]:
    """Draw without Hypothesis' *local constants*.

    Hypothesis (6.131 and later) mixes the string and number literals of every "local" module imported in
    the process (for an editable install: this harness itself; in general, whatever else happens to be
    loaded) into about one draw in twenty. The same seed would then give different requests depending on
    what else the process imported, or on any literal edited anywhere in the harness: the opposite of a
    reproducible conformance run. While we draw, the local pool is empty (and Hypothesis' per-choice cache
    of it is cleared before and after). If the internals ever move, drawing goes on unchanged.
    """
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - a Hypothesis without the feature
        yield
        return
    original = getattr(providers, "_get_local_constants", None)
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    constants = getattr(providers, "Constants", None)
    if original is None or cache is None or constants is None:  # pragma: no cover
        yield
        return
    empty = constants()
    cache.cache.clear()
    providers._get_local_constants = lambda: empty
    try:
        yield
    finally:
        providers._get_local_constants = original
        cache.cache.clear()


def _generate(
    schema: Any, op: Any, plan: Plan, fixed_path: dict[str, str] | None
) -> tuple[list[tuple[str, Any]], str | None]:
    """The cases for one operation (examples first), without duplicates; a generation problem as text."""
    phases = schema.config.phases_for(operation=op)
    settings = schema.config.get_hypothesis_settings(operation=op, phase=PHASE_FUZZING)
    cases: list[tuple[str, Any]] = []
    problems: list[str] = []
    if phases.examples.enabled:
        one = hypothesis.settings(settings, max_examples=1)
        try:
            strategies = op.get_strategies_from_examples()[: plan.max_examples]
        except Exception as exc:  # Schemathesis could not read the examples
            strategies = []
            problems.append(f"examples: {type(exc).__name__}: {_one_line(str(exc))}")
        for i, strategy in enumerate(strategies):
            seed = _derived_seed(plan.seed, plan.mode, PHASE_EXAMPLES, op.label, i)
            try:
                cases += [(PHASE_EXAMPLES, case) for case in _draw(strategy, one, seed)[:1]]
            except Exception as exc:  # e.g. an example that violates its own schema
                problems.append(f"example {i + 1}: {type(exc).__name__}: {_one_line(str(exc))}")
    if phases.fuzzing.enabled:
        generation = schema.config.generation_for(operation=op, phase=PHASE_FUZZING)
        try:
            strategy = st.one_of(
                [
                    op.as_strategy(generation_mode=mode, path_parameters=fixed_path)
                    for mode in generation.modes
                ]
            )
            seed = _derived_seed(plan.seed, plan.mode, PHASE_FUZZING, op.label)
            cases += [(PHASE_FUZZING, case) for case in _draw(strategy, settings, seed)]
        except Exception as exc:  # e.g. no negative value exists for any parameter
            problems.append(f"fuzzing: {type(exc).__name__}: {_one_line(str(exc))}")
    unique: list[tuple[str, Any]] = []
    seen: set[Any] = set()
    for phase, case in cases:
        try:
            identity = hash(case)
        except Exception:  # a case that cannot even be prepared is sent, and fails there
            identity = id(case)
        if identity in seen:
            continue
        seen.add(identity)
        unique.append((phase, case))
    return unique, "; ".join(problems) or None


def _send(
    target: Any, case: Any, phase: str, checks: Sequence[tuple[str, Callable[..., Any]]]
) -> tuple[Observation | None, Any, list[str]]:
    """Send one case through the guarded session and validate the response with each check.

    Returns the observation (None when nothing was sent), the Schemathesis response (None without one)
    and problems of our tooling (a case that cannot be serialized, a check that crashed), for the notes.
    """
    session = target.session
    before = session.last_exchange
    try:
        headers = target.tokens.headers()
    except Exception as exc:  # TargetError: no token could be had
        raise CantTell(f"no access token: {_one_line(str(exc))}") from None
    label = case.operation.label

    def sent() -> Any:
        last = session.last_exchange
        return last if last is not before else None

    try:
        response = case.call(base_url=target.base_url, session=session, headers=headers)
    except requests.RequestException as exc:
        exchange = sent()
        if exchange is None:  # refused while being prepared: nothing reached the network
            return None, None, [f"{label}: not sent: {_one_line(str(exc))}"]
        observation = Observation(
            operation=label,
            phase=phase,
            case_id=case.id,
            request=_request_line(case, exchange),
            exchange=exchange.id,
            status=None,
            error=exchange.error or _one_line(str(exc)),
            error_kind=_error_kind(exc),
        )
        return observation, None, []
    except (SchemathesisError, ValueError, TypeError) as exc:  # e.g. a body nothing can serialize
        return None, None, [f"{label}: not sent: {type(exc).__name__}: {_one_line(str(exc))}"]
    exchange = sent()
    failures: list[CheckFailure] = []
    problems: list[str] = []
    for name, function in checks:
        try:
            case.validate_response(response, checks=[function])
        except FailureGroup as group:
            failures += [_failure(name, failure) for failure in group.exceptions]
        except AssertionError as exc:  # a single failure raised as is
            failures.append(_failure(name, exc))
        except Exception as exc:  # a check that crashed on this response: say so, go on with the others
            where = getattr(exchange, "id", "no exchange")
            problems.append(f"{label}: {name} raised {type(exc).__name__} ({where}): {_one_line(str(exc))}")
    observation = Observation(
        operation=label,
        phase=phase,
        case_id=case.id,
        request=_request_line(case, exchange),
        exchange=getattr(exchange, "id", None),
        status=response.status_code,
        failures=tuple(failures),
    )
    return observation, response, problems


def _request_line(case: Any, exchange: Any) -> str:
    """``GET /v1/persons?limit=5`` as sent (the redacted URL), cut to a readable length."""
    if exchange is not None:
        parts = urlsplit(exchange.url)
        line = f"{exchange.method} {parts.path}" + (f"?{parts.query}" if parts.query else "")
    else:
        line = f"{case.method.upper()} {case.formatted_path}"
    return line if len(line) <= _MAX_REQUEST_LINE else line[: _MAX_REQUEST_LINE - 1] + "…"


def _error_kind(exc: BaseException) -> str:
    if isinstance(exc, requests.Timeout):
        return "timeout"
    if isinstance(exc, requests.ConnectionError):
        return "connection"
    return "other"


def _failure(check: str, failure: BaseException) -> CheckFailure:
    """Our record of a Schemathesis failure; schema failures keep the place and rule, not the value."""
    code = str(getattr(failure, "code", "ST901"))
    title = str(getattr(failure, "title", None) or type(failure).__name__)
    message = str(getattr(failure, "message", "") or "")
    expected = found = None
    instance_path = getattr(failure, "instance_path", None)
    if instance_path is not None:  # JsonSchemaError: response body or header breaks its schema
        pointer = "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in instance_path) or "/"
        schema_path = list(getattr(failure, "schema_path", []) or [])
        keyword = str(schema_path[-1]) if schema_path else "schema"
        raw = str(getattr(failure, "_raw_message", "") or "")
        instance = getattr(failure, "instance", None)
        rule = _elide_value(raw, instance)
        message = f"the value at {pointer} fails '{keyword}': {rule}"
        expected = f"a value the documented schema allows (its '{keyword}' rule)"
        found = f"the value at {pointer} fails '{keyword}'"
        key = f"{code}|{_fold_indices(pointer)}|{keyword}"
        return CheckFailure(
            check=check, code=code, title=title, message=message, key=key, expected=expected, found=found
        )
    status = getattr(failure, "status_code", None)
    if status is not None:
        found = f"HTTP {status}"
    if hasattr(failure, "defined_status_codes"):
        expected = "a documented status: " + ", ".join(map(str, failure.defined_status_codes))
    elif hasattr(failure, "expected_statuses"):
        expected = "one of " + ", ".join(map(str, failure.expected_statuses))
    elif hasattr(failure, "defined_content_types"):
        expected = "a documented media type: " + ", ".join(map(str, failure.defined_content_types))
        found = str(getattr(failure, "content_type", None) or "")
    elif hasattr(failure, "missing_headers"):
        expected = "the documented required headers"
        found = "missing: " + ", ".join(map(str, failure.missing_headers))
    elif check == "not_a_server_error":
        expected = "not a 5xx status"
    message = _squash(message) or (f"the server answered HTTP {status}" if status is not None else title)
    return CheckFailure(
        check=check,
        code=code,
        title=title,
        message=message,
        key=f"{code}|{title}|{message}",
        expected=expected,
        found=found,
    )


def _elide_value(raw: str, instance: Any) -> str:
    """The validator's message without the offending value itself (it may be personal data)."""
    import orjson

    text = _squash(raw)
    try:
        spelled = orjson.dumps(instance).decode()
    except TypeError:
        spelled = ""
    if spelled and spelled in text:
        text = text.replace(spelled, "the value")
    elif isinstance(instance, str) and instance and instance in text:
        text = text.replace(instance, "the value")
    return text[:300]


def _fold_indices(pointer: str) -> str:
    return re.sub(r"/\d+(?=/|$)", "/*", pointer)


def _squash(text: str) -> str:
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return " / ".join(line for line in lines if line)[:600]


def _one_line(text: str) -> str:
    first = " ".join(text.split())
    return first[:240]


# -- ids of real records, for reads of one record ----------------------------------------------------------
def _remember_id(known: dict[str, str], path: str, response: Any) -> None:
    if path in known:
        return
    try:
        ident = first_item_id(response.json())
    except Exception:  # not JSON, or not a list: nothing to remember
        return
    if ident:
        known[path] = ident


def _known_path_parameters(op: Any, known: Mapping[str, str]) -> dict[str, str] | None:
    """For a read of one record: every path parameter filled with an id a list returned, else None."""
    if op.method.upper() not in SAFE_METHODS or not _TEMPLATE.search(op.path):
        return None
    values: dict[str, str] = {}
    for match in _TEMPLATE.finditer(op.path):
        collection = op.path[: match.start()].rstrip("/")
        if collection not in known or _TEMPLATE.search(collection):
            return None
        values[match.group(1)] = known[collection]
    return values


# -- cleaning up after writes -------------------------------------------------------------------------------
def _cleanup(target: Any, operations: list[Any], case: Any, response: Any, result: RunResult) -> None:
    """Delete what a 2xx write created, where the document has a DELETE for it.

    Found by, in turn: the ``Location`` of a 201; the ``id`` in a POST's JSON reply (``<path>/{id}``);
    a 201 to PUT (the same URL); the ``id`` of each record in a POST's body whose path names a collection
    (bulk import). Anything else that may have been created is noted, not guessed at.
    """
    deletes = [op for op in operations if op.method.upper() == "DELETE"]
    base_path = urlsplit(target.base_url).path.rstrip("/")
    method = case.method.upper()
    urls: list[str] = []
    location = response.headers.get("location")
    if isinstance(location, list):
        location = location[0] if location else None
    if response.status_code == 201 and location:
        absolute = urljoin(target.base_url.rstrip("/") + "/", str(location))
        parts = urlsplit(absolute)
        if f"{parts.scheme}://{parts.netloc}" == _origin(target.base_url):
            urls.append(parts.path[len(base_path) :] if parts.path.startswith(base_path) else parts.path)
    if not urls and method == "POST":
        body = _json(response)
        if isinstance(body, Mapping) and isinstance(body.get("id"), (str, int)):
            urls.append(f"{case.formatted_path.rstrip('/')}/{body['id']}")
    if not urls and method == "PUT" and response.status_code == 201:
        urls.append(case.formatted_path)
    if not urls and method == "POST":
        for collection in (str(v) for v in case.path_parameters.values()):
            for ident in _record_ids(case.body)[:_MAX_CLEANUP_PER_CASE]:
                urls.append(f"/{collection.strip('/')}/{ident}")
    deletable = [u for u in urls if any(_matches(op.path, u) for op in deletes)]
    if not deletable:
        if method in ("POST", "PUT"):
            result.cleanup_notes.append(
                f"{case.operation.label} answered {response.status_code}; the document offers no DELETE "
                "for what it may have created, so it was left in place"
            )
        return
    for path in deletable:
        exchange = target.request("DELETE", path)
        if exchange.status is not None and (200 <= exchange.status < 300 or exchange.status in (404, 410)):
            result.cleaned += 1 if exchange.status not in (404, 410) else 0
        else:
            outcome = exchange.error or f"HTTP {exchange.status}"
            result.cleanup_notes.append(
                f"DELETE {path} after {case.operation.label}: {outcome} ({exchange.id})"
            )


def _record_ids(body: Any) -> list[str]:
    records: Any = body
    if isinstance(body, Mapping):
        records = next((body[k] for k in ("items", "records", "data") if isinstance(body.get(k), list)), [])
    if isinstance(body, str):  # NDJSON: one record per line
        records = [_json_text(line) for line in body.splitlines() if line.strip()]
    if not isinstance(records, list):
        return []
    return [str(r["id"]) for r in records if isinstance(r, Mapping) and isinstance(r.get("id"), str)]


def _json(response: Any) -> Any:
    try:
        return response.json()
    except Exception:  # not JSON
        return None


def _json_text(text: str) -> Any:
    import orjson

    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def _matches(template: str, path: str) -> bool:
    pattern = "".join(
        "[^/]+" if part.startswith("{") else re.escape(part) for part in re.split(r"(\{[^{}]+\})", template)
    )
    return re.fullmatch(pattern, path.split("?", 1)[0]) is not None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# -- process-wide Schemathesis state ------------------------------------------------------------------------
def _ensure_ndjson_serializer() -> None:
    """Schemathesis has no serializer for ``application/x-ndjson`` request bodies; register one (once).

    A string is sent as it is (already NDJSON); a list becomes one JSON document per line; anything
    else one line. A serializer someone else registered first is left alone.
    """
    from schemathesis.transport.requests import REQUESTS_TRANSPORT

    if REQUESTS_TRANSPORT.get_first_matching_media_type("application/x-ndjson") is not None:
        return

    def ndjson(context: Any, value: Any) -> bytes:
        import orjson

        if isinstance(value, bytes):
            return value
        if isinstance(value, str):
            return value.encode("utf-8")
        items = value if isinstance(value, list) else [value]
        return b"".join(orjson.dumps(item) + b"\n" for item in items)

    schemathesis.serializer("application/x-ndjson")(ndjson)


def _global_hooks() -> list[str]:
    """Names of Schemathesis hooks registered process-wide by other code (they would apply to us too)."""
    from schemathesis.hooks import GLOBAL_HOOK_DISPATCHER

    registered = getattr(GLOBAL_HOOK_DISPATCHER, "_hooks", {})
    return sorted(name for name, functions in registered.items() if functions)
