"""Running a profile through pytest in-process: the library entry point behind ``conformance run``.

pytest is isolated from the caller's environment: no plugin autoloading, no ini file, addopts or cache
from the working directory, and no pytest terminal output (the CLI prints its own summary).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from .errors import ConformanceError, UsageError
from .plugin import ConformanceSession, RunSettings, RunState
from .profiles import Profile
from .verdict import ExitCode

__all__ = ["run_profile", "sign_run"]

# pytest's own plugins that a conformance run does not use. Blocking them also skips importing them,
# which is most of pytest's start-up time; the plugin supplies the items, so `python` is not needed.
_DISABLED_PLUGINS = (
    "cacheprovider",
    "terminal",
    "junitxml",
    "pastebin",
    "doctest",
    "stepwise",
    "logging",
    "python",
    "unittest",
    "legacypath",
    "tmpdir",
    "monkeypatch",
    "recwarn",
    "setuponly",
    "setupplan",
    "debugging",
    "faulthandler",
    "threadexception",
    "unraisableexception",
    "python_path",
    "capture",
    "assertion",
)


@contextmanager
def _isolated_environment() -> Iterator[None]:
    saved = {
        k: os.environ.get(k) for k in ("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")
    }
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    os.environ.pop("PYTEST_ADDOPTS", None)
    os.environ.pop("PYTEST_PLUGINS", None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _check_selection(selection: str) -> None:
    """Reject a bad ``-k`` expression with our own one-line error (pytest would print its usage text)."""
    try:
        from _pytest.mark.expression import Expression
    except ImportError:  # private API; without it pytest itself reports the problem
        return
    try:
        Expression.compile(selection)
    except SyntaxError as exc:
        raise UsageError(f"invalid -k expression {selection!r}: {exc.msg}") from None


def run_profile(
    settings: RunSettings,
    *,
    profile: Profile,
    spec: Any,
    selection: str | None = None,
    progress: Callable[[Any, Any], None] | None = None,
) -> RunState:
    """Run ``profile`` against ``spec`` and write the report; return what the session recorded."""
    if selection:
        _check_selection(selection)
    session = ConformanceSession(settings, profile=profile, spec=spec, terminal=False, progress=progress)
    with tempfile.TemporaryDirectory(prefix="conformance-") as scratch:
        ini = Path(scratch) / "pytest.ini"
        ini.write_text("[pytest]\n", encoding="utf-8")
        args = ["-c", str(ini), "--rootdir", scratch]
        for name in _DISABLED_PLUGINS:
            args += ["-p", f"no:{name}"]
        if selection:
            args += ["-k", selection]
        with _isolated_environment():
            code = pytest.main(args, plugins=[session])
    state = session.state
    if state.error is not None:
        raise state.error
    if state.report is None and int(code) == int(pytest.ExitCode.USAGE_ERROR):
        raise UsageError(
            f"pytest rejected the selection {selection!r}" if selection else "pytest rejected its arguments"
        )
    if state.report is None:
        raise ConformanceError(f"the pytest session ended without a report (pytest exit code {int(code)})")
    if int(code) not in {int(c) for c in ExitCode}:
        state.exit_code = int(ExitCode.INTERNAL)
    return state


def sign_run(state: RunState, key: Path, *, cert: Path | None = None, passphrase: bytes | None = None) -> Any:
    """Sign a finished run's report folder, then re-render its HTML so it shows who signed.

    Returns the ``conformance.attest.SignatureInfo``. The signature covers report.json and the
    evidence folder; the HTML is a rendering of report.json and is not itself signed.
    """
    from .attest import sign_report_folder
    from .report.writer import Format

    written = state.written
    if written is None or state.report is None:
        raise ConformanceError("there is no report folder to sign (the run wrote no files)")
    info = sign_report_folder(written.folder, key, cert_path=cert, passphrase=passphrase)
    if Format.HTML in written.files:
        from .report.exchanges import exchanges_for
        from .report.html import render

        exchanges = exchanges_for(state.report, written.folder)
        written.files[Format.HTML].write_bytes(
            render(state.report, signature=info.to_dict(), exchanges=exchanges)
        )
    return info
