"""The pytest plugin: one test item per profile requirement, EARL outcomes, the report at the end.

Used two ways:

* directly: ``pytest --conformance-profile interop-pol-core --conformance-spec openapi.yaml [-k C4]``
  (the plugin is registered through the ``pytest11`` entry point and stays inert without
  ``--conformance-profile``); the process exits with the verdict code (see ``ExitCode``);
* by the CLI, which loads the profile and document itself and hands a ``ConformanceSession`` to
  ``pytest.main`` with pytest's own terminal output switched off.

When active, the plugin replaces collection: the items are the profile's requirements, not test files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from .errors import ConformanceError, UsageError
from .outcome import Level, Outcome, Status
from .profiles import Profile, Requirement
from .registry import CheckContext
from .runner import Scope, run_requirement
from .verdict import ExitCode

__all__ = ["ConformanceSession", "RequirementItem", "RunSettings"]

MAX_FINDINGS_SHOWN = 20

_STATUS_KEY = "conformance_status"
_LEVEL_KEY = "conformance_level"


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSettings:
    """What to run and where to write; built from CLI flags or pytest options."""

    profile: str
    spec: str | None = None
    out_dir: Path = Path("reports")
    formats: str = "all"
    product: str | None = None
    allow_remote_refs: bool = False
    max_spec_bytes: int | None = None
    write_files: bool = True
    # The live target: a ready TargetConfig (the CLI builds one), or the pieces to build it from.
    target: Any = None  # conformance.live.TargetConfig
    base_url: str | None = None
    auth_file: Path | None = None
    ca_bundle: Path | None = None
    rate: str | None = None
    timeout: float | None = None
    config_file: Path | None = None
    allow_writes: bool = False
    # Optional inputs some checks need (untested without them).
    data_dictionary: Path | None = None  # a customer-supplied POLE data dictionary (CSV/JSON)
    peer: Any = None  # conformance.live.TargetConfig of a second supplier's API (cross-supplier checks)
    peer_spec: str | None = None  # the peer's OpenAPI document (default: the one it serves)


@dataclass(slots=True)
class RunState:
    """What the session learned; read by the CLI after ``pytest.main`` returns."""

    profile: Profile | None = None
    spec: Any = None
    scope: str = Scope.STATIC
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    error: ConformanceError | None = None
    report: dict[str, Any] | None = None
    written: Any = None  # conformance.report.WrittenReport
    folder: Path | None = None  # the report folder, created when the session starts
    target_config: Any = None  # conformance.live.TargetConfig
    target: Any = None  # conformance.live.LiveTarget, open for the session
    options: dict[str, Any] = field(default_factory=dict)  # optional inputs for checks (CheckContext.options)
    selection: str | None = None
    exit_code: int = int(ExitCode.INTERNAL)


# -- options ------------------------------------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "InterOp-Pol conformance (interop-conformance)")
    group.addoption(
        "--conformance-profile",
        dest="conformance_profile",
        metavar="ID|PATH",
        help="run this profile's requirements (e.g. interop-pol-core) instead of collecting test files",
    )
    group.addoption(
        "--conformance-spec",
        dest="conformance_spec",
        metavar="PATH|URL",
        help="the OpenAPI document to check",
    )
    group.addoption(
        "--conformance-out",
        dest="conformance_out",
        metavar="DIR",
        help="folder for report folders (default: reports)",
    )
    group.addoption(
        "--conformance-format",
        dest="conformance_format",
        metavar="LIST",
        help="comma-separated: json, html, junit, sarif or all (default: all)",
    )
    group.addoption(
        "--conformance-name", dest="conformance_name", metavar="NAME", help="product name for the report"
    )
    group.addoption(
        "--conformance-allow-remote-refs",
        dest="conformance_allow_remote_refs",
        action="store_true",
        default=False,
        help="fetch remote $refs (default: report them as findings)",
    )
    group.addoption(
        "--conformance-base-url", dest="conformance_base_url", metavar="URL", help="the live API to test"
    )
    group.addoption(
        "--conformance-auth",
        dest="conformance_auth",
        metavar="FILE",
        help="credentials file (secrets by reference)",
    )
    group.addoption(
        "--conformance-ca-bundle", dest="conformance_ca_bundle", metavar="PEM", help="CA for the target"
    )
    group.addoption("--conformance-rate", dest="conformance_rate", metavar="N/s", help="request rate limit")
    group.addoption(
        "--conformance-data-dictionary",
        dest="conformance_data_dictionary",
        metavar="FILE",
        help="a POLE data dictionary (CSV or JSON) for the POLE dictionary checks",
    )
    group.addoption(
        "--conformance-allow-writes",
        dest="conformance_allow_writes",
        action="store_true",
        default=False,
        help="the target is a test tenant: checks may create and delete data",
    )
    parser.addini("conformance_profile", "default profile for --conformance-profile", default="")
    parser.addini("conformance_spec", "default OpenAPI document for --conformance-spec", default="")
    parser.addini("conformance_out", "default report folder", default="reports")


def pytest_configure(config: pytest.Config) -> None:
    for level in Level:
        config.addinivalue_line("markers", f"{level.value.lower()}: a {level.value} conformance requirement")
    if config.pluginmanager.has_plugin("conformance-session"):
        return
    if hasattr(config, "workerinput"):  # an xdist worker: the controller owns the session
        return
    profile = config.getoption("conformance_profile") or config.getini("conformance_profile")
    if not profile:
        return
    settings = RunSettings(
        profile=profile,
        spec=config.getoption("conformance_spec") or config.getini("conformance_spec") or None,
        out_dir=Path(config.getoption("conformance_out") or config.getini("conformance_out") or "reports"),
        formats=config.getoption("conformance_format") or "all",
        product=config.getoption("conformance_name"),
        allow_remote_refs=bool(config.getoption("conformance_allow_remote_refs")),
        base_url=config.getoption("conformance_base_url"),
        auth_file=_path(config.getoption("conformance_auth")),
        ca_bundle=_path(config.getoption("conformance_ca_bundle")),
        rate=config.getoption("conformance_rate"),
        allow_writes=bool(config.getoption("conformance_allow_writes")),
        data_dictionary=_path(config.getoption("conformance_data_dictionary")),
    )
    config.pluginmanager.register(ConformanceSession(settings), "conformance-session")


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


# -- items --------------------------------------------------------------------------------------------
class RequirementFailed(AssertionError):
    """Raised by a requirement item whose check produced findings."""


class RequirementUndetermined(Exception):
    """Raised by a requirement item whose check could not decide (cantTell)."""


class ProfileCollector(pytest.Collector):
    def __init__(self, *, conformance: ConformanceSession, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.conformance = conformance

    def collect(self) -> Iterator[RequirementItem]:
        profile = self.conformance.state.profile
        assert profile is not None
        for req in profile.requirements:
            yield RequirementItem.from_parent(
                self, name=req.id, requirement=req, conformance=self.conformance
            )


class RequirementItem(pytest.Item):
    """One profile requirement, run as one test."""

    def __init__(self, *, requirement: Requirement, conformance: ConformanceSession, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.requirement = requirement
        self.conformance = conformance
        self.outcome: Outcome | None = None
        self.extra_keyword_matches.update(
            {requirement.commitment, requirement.level.value, requirement.check, requirement.title}
        )
        self.add_marker(requirement.level.value.lower())

    def runtest(self) -> None:
        state = self.conformance.state
        ctx = CheckContext(
            spec=state.spec, target=state.target, requirement_id=self.requirement.id, options=state.options
        )
        if state.target is not None:
            state.target.set_requirement(self.requirement.id)  # labels the evidence this check produces
        try:
            outcome = run_requirement(self.requirement, ctx, scope=state.scope)
        finally:
            if state.target is not None:
                state.target.set_requirement(None)
        if self.conformance.progress is not None:
            self.conformance.progress(self.requirement, outcome)
        self.outcome = outcome
        state.outcomes[self.requirement.id] = outcome
        self.user_properties.append((_STATUS_KEY, outcome.status.value))
        self.user_properties.append((_LEVEL_KEY, self.requirement.level.value))
        if outcome.status is Status.FAILED:
            raise RequirementFailed(outcome.requirement_id)
        if outcome.status is Status.CANT_TELL:
            raise RequirementUndetermined(outcome.reason or "could not be determined")
        if outcome.status in (Status.INAPPLICABLE, Status.UNTESTED):
            pytest.skip(f"{outcome.status.value}: {outcome.reason or ''}".strip())

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if (
            isinstance(excinfo.value, (RequirementFailed, RequirementUndetermined))
            and self.outcome is not None
        ):
            return describe_outcome(self.requirement, self.outcome)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[str, int | None, str]:
        return (
            self.requirement.defined_in,
            None,
            f"{self.requirement.id} [{self.requirement.level.value}] {self.requirement.title}",
        )


def describe_outcome(req: Requirement, outcome: Outcome) -> str:
    """A short text block: what the requirement is and what was found (used by pytest and the CLI)."""
    lines = [f"{req.id} [{req.level.value}] {req.title} -> {outcome.status.value}"]
    if outcome.reason:
        lines.append(f"  {outcome.reason}")
    for finding in outcome.findings[:MAX_FINDINGS_SHOWN]:
        where = finding.pointer or ""
        if finding.operation:
            where = f"{finding.operation} ({where})" if where else finding.operation
        lines.append(f"  - {where}: {finding.message}" if where else f"  - {finding.message}")
    hidden = len(outcome.findings) - MAX_FINDINGS_SHOWN
    if hidden > 0:
        lines.append(f"  … and {hidden} more finding(s) in report.json")
    return "\n".join(lines)


# -- the session --------------------------------------------------------------------------------------
class ConformanceSession:
    """Registered once per run; owns loading, collection, outcome capture and the report."""

    def __init__(
        self,
        settings: RunSettings,
        *,
        profile: Profile | None = None,
        spec: Any = None,
        terminal: bool = True,
        progress: Callable[[Requirement, Outcome], None] | None = None,
    ) -> None:
        self.settings = settings
        self.state = RunState(profile=profile, spec=spec, target_config=settings.target)
        self._preloaded = profile is not None
        self._terminal = terminal
        self.progress: Callable[[Requirement, Outcome], None] | None = progress

    def _load(self) -> None:
        from .profiles import load_profile

        if self.state.profile is None:
            self.state.profile = load_profile(self.settings.profile)
        if self.state.target_config is None:
            self.state.target_config = target_config_from(self.settings)
        if self.state.spec is None:
            source = self.settings.spec or served_spec_url(self.state.target_config)
            if source:
                self.state.spec = load_document(source, self.settings, self.state.target_config)
        self.state.scope = run_scope(self.state.spec, self.state.target_config)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.state.started_at = datetime.now(timezone.utc)
        self.state.selection = session.config.getoption("keyword") or None
        try:
            if not self._preloaded:
                self._load()
            else:
                self.state.scope = run_scope(self.state.spec, self.state.target_config)
            if self.settings.write_files and self.state.profile is not None:
                self.state.folder = self._create_folder()
            if self.state.target_config is not None:
                from .live import LiveTarget

                evidence = self.state.folder / "evidence" if self.state.folder else self._scratch_evidence()
                self.state.target = LiveTarget.open(self.state.target_config, evidence)
            self._open_options()
        except ConformanceError as error:
            self.state.error = error

    def _open_options(self) -> None:
        """Inputs only some checks use: the data dictionary, and a peer supplier's API and document."""
        options = self.state.options
        options["data_dictionary"] = None
        options["peer"] = None
        options["peer_spec"] = None
        if self.settings.data_dictionary is not None:
            from .checks.pole_dictionary import load_dictionary

            # Read once, before any check runs: a bad file is a one-line input error, and the report
            # records the digest of exactly what the checks used.
            options["data_dictionary"] = load_dictionary(self.settings.data_dictionary)
        if self.settings.peer is not None:
            from .live import LiveTarget

            evidence = (
                (self.state.folder / "evidence" / "peer") if self.state.folder else self._scratch_evidence()
            )
            options["peer"] = LiveTarget.open(self.settings.peer, evidence, exchange_prefix="peer-ex")
            source = self.settings.peer_spec or served_spec_url(self.settings.peer)
            if source:
                options["peer_spec"] = load_document(source, self.settings, self.settings.peer)

    def _scratch_evidence(self) -> Path:
        import tempfile

        return Path(tempfile.mkdtemp(prefix="conformance-evidence-"))

    def _create_folder(self) -> Path:
        """The run's report folder, with its (possibly empty) evidence folder, created up front."""
        from .report import product_name, report_folder

        assert self.state.profile is not None
        product = product_name(self.settings.product, self.state.spec, self.state.profile)
        folder = report_folder(self.settings.out_dir, product, self.state.started_at)
        (folder / "evidence").mkdir()
        return folder

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self, session: pytest.Session) -> bool:
        items: list[pytest.Item] = []
        hook = session.config.hook
        if self.state.error is None and self.state.profile is not None:
            collector = ProfileCollector.from_parent(session, name=self.state.profile.id, conformance=self)
            items = list(collector.collect())
            # Tell reporters what was collected, as pytest's own collection would.
            hook.pytest_collectreport(
                report=pytest.CollectReport(collector.nodeid, "passed", None, list(items))
            )
        hook.pytest_collection_modifyitems(session=session, config=session.config, items=items)
        session.items = items
        session.testscollected = len(items)
        hook.pytest_collection_finish(session=session)
        return True

    def pytest_report_teststatus(
        self, report: pytest.TestReport, config: pytest.Config
    ) -> tuple[str, str, str] | None:
        props = dict(getattr(report, "user_properties", ()))
        status = props.get(_STATUS_KEY)
        if status is None or report.when != "call":
            return None
        level = props.get(_LEVEL_KEY, "MUST")
        if status == Status.PASSED.value:
            return "passed", ".", "PASSED"
        if status == Status.FAILED.value:
            if level == Level.MUST.value:
                return "failed", "F", "FAILED"
            return "warned", "W", f"FAILED ({level})"
        if status == Status.CANT_TELL.value:
            return "cantTell", "?", "CANTTELL"
        if status == Status.INAPPLICABLE.value:
            return "inapplicable", "-", "INAPPLICABLE"
        return "untested", "u", "UNTESTED"

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.state.error is not None:
            self.state.exit_code = int(ExitCode.USAGE)
            session.exitstatus = self.state.exit_code
            return
        profile = self.state.profile
        if profile is None:
            return
        from .attest.evidence import dir_hash
        from .report import RunResult, build_report, parse_formats, write_report

        folder = self.state.folder
        if self.state.target is not None:
            self.state.target.close()  # flushes the evidence before it is hashed
        peer = self.state.options.get("peer")
        if peer is not None:
            peer.close()
        run = RunResult(
            profile=profile,
            spec=self.state.spec,
            scope=self.state.scope,
            started_at=self.state.started_at,
            finished_at=datetime.now(timezone.utc),
            outcomes=dict(self.state.outcomes),
            deselected=tuple(r.id for r in profile.requirements if r.id not in self.state.outcomes),
            selection=self.state.selection,
            product=self.settings.product,
            evidence_sha256=dir_hash(folder / "evidence") if folder is not None else None,
            target=describe_target(self.state.target_config),
            inputs=describe_inputs(self.state.options),
        )
        report = build_report(run)
        self.state.report = report
        self.state.exit_code = int(report["verdict"]["exit_code"])
        if folder is not None:
            try:
                self.state.written = write_report(report, folder, parse_formats(self.settings.formats))
            except ConformanceError as error:
                self.state.error = error
                self.state.exit_code = int(ExitCode.USAGE)
        session.exitstatus = self.state.exit_code

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self._terminal:
            return
        write = terminalreporter.write_line
        if self.state.error is not None:
            write(f"conformance: error: {self.state.error}", red=True, bold=True)
            return
        report = self.state.report
        if report is None:
            return
        verdict = report["verdict"]
        terminalreporter.section("InterOp-Pol conformance")
        colour = {"CONFORMANT": {"green": True}, "NOT CONFORMANT": {"red": True}}.get(
            verdict["status"], {"yellow": True}
        )
        write(f"{verdict['status']} ({verdict['scope']} scope): {verdict['reason']}", bold=True, **colour)
        if self.state.written is not None:
            for path in self.state.written.files.values():
                write(f"  {path}")
            for problem in self.state.written.errors:
                write(f"  could not write {problem}", red=True)
        write(f"exit code {verdict['exit_code']}")


# -- live targets -------------------------------------------------------------------------------------
def target_config_from(settings: RunSettings) -> Any:
    """The TargetConfig for a run: given, or built from flags and a conformance.toml; None if no target."""
    if settings.target is not None:
        return settings.target
    from .live import has_live_target, load_target_config

    cwd = Path.cwd()
    if not settings.base_url and not has_live_target(
        base_url=None, config_file=settings.config_file, cwd=cwd
    ):
        return None
    return load_target_config(
        base_url=settings.base_url,
        auth_file=settings.auth_file,
        ca_bundle=settings.ca_bundle,
        rate=settings.rate,
        timeout=settings.timeout,
        config_file=settings.config_file,
        allow_writes=settings.allow_writes,
        cwd=cwd,
    )


def peer_config_from(
    *,
    base_url: str | None,
    auth_file: Path | None,
    ca_bundle: Path | None,
    rate: str | None,
    timeout: float | None,
    allow_writes: bool,
) -> Any:
    """The TargetConfig of a second supplier's API, from its flags alone (never the cwd's conformance.toml,
    which describes the first target); None without a base URL."""
    if not base_url:
        return None
    from .live import load_target_config

    try:
        return load_target_config(
            base_url=base_url,
            auth_file=auth_file,
            ca_bundle=ca_bundle,
            rate=rate,
            timeout=timeout,
            allow_writes=allow_writes,
            cwd=Path.cwd(),
            search_cwd=False,
        )
    except UsageError as error:  # its messages name --base-url/--auth; say they are about the peer
        raise UsageError(f"the peer (--peer-base-url): {error.one_line()}") from None


def describe_inputs(options: dict[str, Any]) -> dict[str, Any]:
    """The optional inputs of a run as the report records them: which dictionary (by digest), which peer."""
    inputs: dict[str, Any] = {}
    dictionary = options.get("data_dictionary")
    if dictionary is not None:
        inputs["data_dictionary"] = {"file": Path(dictionary.source).name, "sha256": dictionary.sha256}
    peer = options.get("peer")
    if peer is not None:
        inputs["peer"] = describe_target(peer.config)
    return inputs


def served_spec_url(target: Any) -> str | None:
    """Where the target serves its document when none is given: spec_url, else ``<base>/openapi.json``."""
    if target is None:
        return None
    return str(target.spec_url or target.base_url.rstrip("/") + "/openapi.json")


def load_document(source: str, settings: RunSettings, target: Any) -> Any:
    from .spec import DEFAULT_MAX_BYTES, load_spec

    ca = str(target.ca_bundle) if target is not None and target.ca_bundle else None
    return load_spec(
        source,
        allow_remote_refs=settings.allow_remote_refs,
        max_bytes=settings.max_spec_bytes or DEFAULT_MAX_BYTES,
        ca_bundle=ca,
    )


def run_scope(spec: Any, target: Any) -> str:
    if target is None:
        return Scope.STATIC
    return Scope.FULL if spec is not None else Scope.LIVE


def describe_target(target: Any) -> dict[str, Any] | None:
    """What the report records about the target: where, how, under which limits — never a secret."""
    if target is None:
        return None
    auth = target.auth
    return {
        "base_url": target.base_url,
        "spec_url": served_spec_url(target),
        "origins": sorted(str(o) for o in target.allowed_origins),
        "auth": {
            "type": auth.kind.value,
            "token_url": auth.token_url,
            "client_id": auth.client_id,
            "scopes": list(auth.scopes),
            "mtls": auth.client_cert is not None,
        },
        "other_tenant": target.other_tenant is not None,
        "ca_bundle_given": target.ca_bundle is not None,
        "tls_verified": bool(target.verify_tls),
        "rate_limit": "unlimited" if not target.rate_per_second else f"{target.rate_per_second:g}/s",
        "timeouts_ms": {
            "connect": int(target.connect_timeout * 1000),
            "read": int(target.read_timeout * 1000),
            "total": int(target.total_timeout * 1000),
        },
        "max_body_bytes": int(target.max_body_bytes),
        "allow_writes": bool(target.allow_writes),
        "sandbox": target.sandbox,
    }
