"""interop-conformance: checks the techUK InterOp-Pol charter against OpenAPI documents and live APIs.

The public API, importable from here (loaded on first use, so ``import conformance`` stays cheap)::

    from conformance import load_profile, load_spec, run_profile, RunSettings, ExitCode

Errors are in ``conformance.errors``; checks are registered with ``conformance.check``.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "CheckContext": "conformance.registry",
    "ConformanceError": "conformance.errors",
    "ExitCode": "conformance.verdict",
    "Finding": "conformance.outcome",
    "Level": "conformance.outcome",
    "Outcome": "conformance.outcome",
    "Profile": "conformance.profiles",
    "RunSettings": "conformance.plugin",
    "Spec": "conformance.spec",
    "Status": "conformance.outcome",
    "Verdict": "conformance.verdict",
    "build_report": "conformance.report",
    "check": "conformance.registry",
    "load_profile": "conformance.profiles",
    "load_spec": "conformance.spec",
    "run_profile": "conformance.harness",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'conformance' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return list(__all__)
