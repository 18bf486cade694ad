"""Fault switches: each one breaks exactly one behaviour of the reference supplier.

A live check is only trustworthy if it can be seen to fail. Every fault here names the requirement of
the ``interop-pol-core`` profile (or of issue 5's portability checks) whose check it is meant to trip;
``tests/reference_server/test_faults.py`` shows each one visibly changing the server's behaviour.

Faults are chosen when the server starts. Those in ``TLS_FAULTS`` shape the TLS context and the
certificate, so they are fixed for the life of the server; every other fault can also be switched at
run time with ``ReferenceServer.set_faults`` (the tests do, to share one server per module).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["FAULTS", "OIDC_FAULTS", "TLS_FAULTS", "Fault", "validate_fault_names"]


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault switch: its name, what it breaks (one line) and the requirement whose check it trips."""

    name: str
    description: str
    requirement: str


_ALL: tuple[Fault, ...] = (
    # -- transport (TLS and plain HTTP) --------------------------------------------------------------
    Fault(
        "tls1.0", "The server also accepts TLS 1.0 and 1.1 handshakes (legacy ciphers allowed).", "IOP-C9-05"
    ),
    Fault("no-tls1.3", "The server offers at most TLS 1.2.", "IOP-C9-06"),
    Fault("expiring-certificate", "The server certificate expires 7 days after start.", "IOP-C9-07"),
    Fault("no-hsts", "Responses carry no Strict-Transport-Security header.", "IOP-C9-08"),
    Fault(
        "http-serves-data",
        "The plain-HTTP listener serves the API (with data) instead of refusing or redirecting.",
        "IOP-C9-09a",
    ),
    # -- authentication and authorisation -------------------------------------------------------------
    Fault(
        "ignore-auth",
        "API requests without a token, or with an invalid or expired one, succeed (as force A).",
        "IOP-C9-10",
    ),
    Fault("no-www-authenticate", "401 responses carry no WWW-Authenticate challenge.", "IOP-C9-10"),
    Fault("ignore-scopes", "A valid token without the operation's scope is accepted.", "IOP-C9-11"),
    Fault(
        "cross-tenant-read",
        "Reading a record by id also finds another force's record (GET answers 200).",
        "IOP-C9-12",
    ),
    Fault(
        "cross-tenant-write",
        "Replacing or deleting a record by id also finds another force's record (PUT answers 200, DELETE 204).",
        "IOP-C9-12",
    ),
    Fault(
        "scope-downgrade",
        "The token endpoint silently grants only read scopes: requested write scopes are dropped.",
        "IOP-C5-02",
    ),
    # -- contract -------------------------------------------------------------------------------------
    Fault(
        "wrong-status",
        "Reading one object, location or event answers 203, a status the document does not list.",
        "IOP-C1-11",
    ),
    Fault(
        "schema-drift",
        "Person records in person responses carry a retentionCategory outside the documented enum.",
        "IOP-C1-11",
    ),
    Fault(
        "served-spec-differs",
        "The served OpenAPI document differs from the bundled one (version 1.0.1, an extra operation).",
        "IOP-C1-10",
    ),
    Fault(
        "spec-not-public",
        "The served OpenAPI document answers 402 unless a commercial Licence-Key header is sent.",
        "IOP-C3-01",
    ),
    Fault(
        "shadow-endpoint",
        "GET /v1/internal/debug serves data without auth, and OPTIONS/Allow advertise an undocumented method.",
        "IOP-C11-01",
    ),
    Fault(
        "untagged-pole-schemas",
        "The served OpenAPI document has no x-pole-entity / x-pole-catalogue-entity tags.",
        "IOP-C6-01",
    ),
    # -- HTTP semantics and payloads ------------------------------------------------------------------
    Fault("naive-datetimes", "Date-times in JSON bodies have no offset (2026-01-02T10:00:00).", "IOP-C4-11"),
    Fault("latin1-json", "JSON bodies are encoded ISO-8859-1 and labelled charset=iso-8859-1.", "IOP-C4-12"),
    Fault("ascii-folding", "Text is stored folded to ASCII: Siân reads back as Sian, 李 as ?.", "IOP-C4-13"),
    Fault(
        "no-content-negotiation",
        "Accept and Content-Type are ignored: 2xx where 406 or 415 is due.",
        "IOP-C4-16",
    ),
    Fault("html-errors", "Error responses are text/html pages instead of problem+json.", "IOP-C4-18b"),
    Fault("no-allow-header", "405 responses carry no Allow header.", "IOP-C4-19"),
    Fault(
        "soft-404",
        "Unknown paths and ids no force holds answer 200 with an empty body instead of 404.",
        "IOP-C4-19",
    ),
    Fault(
        "no-deprecation-headers",
        "The deprecated operation sends no Deprecation, Sunset or successor Link header.",
        "IOP-C8-04",
    ),
    Fault(
        "strict-unknown-fields",
        "A request body with an undeclared property answers 500 instead of ignoring it.",
        "IOP-C8-05",
    ),
    # -- security hygiene -----------------------------------------------------------------------------
    Fault("no-rate-limit", "No rate limit: a burst never gets 429.", "IOP-C9-13"),
    Fault("no-retry-after", "429 responses carry no Retry-After header.", "IOP-C9-13"),
    Fault(
        "stack-trace-errors",
        "Error bodies carry a Python traceback and the SQL that failed.",
        "IOP-C9-14",
    ),
    Fault(
        "leaky-server-header",
        "Server names uvicorn and Python with versions, and X-Powered-By names Starlette.",
        "IOP-C9-14",
    ),
    Fault(
        "oidc-alg-none",
        "OIDC discovery lists 'none' among the ID token signing algorithms (needs oidc=True).",
        "IOP-C9-15",
    ),
    Fault(
        "oidc-issuer-mismatch",
        "OIDC discovery names an issuer that is not the server's origin (needs oidc=True).",
        "IOP-C9-15",
    ),
    Fault("no-security-txt", "/.well-known/security.txt answers 404.", "IOP-C9-16"),
    Fault("no-correlation-id", "No Correlation-Id is echoed or generated on responses.", "IOP-C9-17"),
    Fault(
        "fuzz-crash",
        "Some schema-invalid inputs (limit=-1, a wrongly typed body field) answer 500 instead of 4xx.",
        "IOP-C9-18",
    ),
    # -- data portability (issue 5) -------------------------------------------------------------------
    Fault("export-drops-records", "Bulk exports leave out the most recently created record.", "IOP-C10-02"),
    Fault(
        "unstable-paging",
        "Cursor paging skips a record on every other page and repeats one on the others.",
        "IOP-C10-02",
    ),
    Fault("no-since-filter", "updatedAfter is ignored by lists and exports.", "IOP-C10-03b"),
    Fault(
        "csv-not-rfc4180", "CSV exports use LF line ends and leave commas and quotes unquoted.", "IOP-C10-04b"
    ),
    Fault(
        "lossy-import",
        "Imports drop a field per type: person aliases, object serialNumber, location address, event personLinks.",
        "IOP-C10-05",
    ),
    Fault(
        "no-audit-metadata",
        "Records carry no createdBy/updatedBy, and the audit trail leaves out replacements and updates.",
        "IOP-C10-06",
    ),
    Fault(
        "soft-delete-still-exported",
        "Deleted records answer 404 but still appear in bulk exports.",
        "IOP-C10-07b",
    ),
)

FAULTS: Mapping[str, Fault] = MappingProxyType({fault.name: fault for fault in _ALL})
"""Every fault switch by name, in a stable order (transport, auth, contract, HTTP, security, portability)."""

TLS_FAULTS: frozenset[str] = frozenset({"tls1.0", "no-tls1.3", "expiring-certificate"})
"""Faults that shape the TLS context or the certificate: fixed when the server starts."""

OIDC_FAULTS: frozenset[str] = frozenset({"oidc-alg-none", "oidc-issuer-mismatch"})
"""Faults of the OIDC discovery document, which only exists in OIDC mode."""


def validate_fault_names(names: Iterable[str]) -> frozenset[str]:
    """The names as a set; an unknown name raises ``ValueError`` naming the closest match and all valid names."""
    if isinstance(names, str):
        # A single string would otherwise be read as a set of one-letter names.
        names = (names,)
    chosen = frozenset(names)
    for name in sorted(chosen):
        if name not in FAULTS:
            close = difflib.get_close_matches(name, list(FAULTS), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            msg = f"unknown fault {name!r}: {hint}valid faults are {', '.join(FAULTS)}"
            raise ValueError(msg)
    return chosen
