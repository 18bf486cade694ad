"""interop-conformance: checks the techUK InterOp-Pol charter against OpenAPI documents and live APIs."""

from __future__ import annotations

__version__ = "0.1.0"
