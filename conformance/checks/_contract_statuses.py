"""The statuses that count as an API refusing invalid input (IOP-C9-18), apart from the Schemathesis glue so
that a profile can be loaded, and a static run made, without importing Schemathesis and Hypothesis."""

from __future__ import annotations

__all__ = ["NEGATIVE_EXPECTED_STATUSES"]

NEGATIVE_EXPECTED_STATUSES: tuple[str, ...] = (
    "400",
    "401",
    "403",
    "404",
    "405",
    "406",
    "409",
    "413",
    "414",
    "415",
    "422",
    "428",
    "429",
    "431",
)
"""Statuses that count as refusing invalid input: Schemathesis' default list without ``5xx`` (a server
error is never a refusal), plus 413, 414 and 431 (too large: a legitimate refusal of a generated body,
URL or header)."""
