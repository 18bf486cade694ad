"""The reference supplier server: a real HTTPS API implementing the bundled OpenAPI document.

``ReferenceServer`` runs it on loopback (uvicorn + Starlette) with a throw-away CA, an OAuth 2.0
client-credentials token endpoint, two police forces (tenants) with synthetic data, and **fault
switches** (``FAULTS``) that each break one behaviour, so that every live check of the harness can be
shown to fail when it should. ``conformance reference serve`` runs it from the command line.

Modules, one job each: ``app`` (the request pipeline), ``handlers`` (one function per operation),
``contract`` (the document as routing table and validator), ``store`` (per-force data, paging, change
tracking, audit), ``auth`` (clients, scopes, tokens), ``ratelimit``, ``formats`` (negotiation, JSON,
NDJSON, CSV), ``problems`` (RFC 9457), ``wellknown`` (security.txt, OIDC), ``tls``, ``seed``,
``faults`` and ``runner``.
"""

from __future__ import annotations

from .auth import Client
from .faults import FAULTS, OIDC_FAULTS, TLS_FAULTS, Fault
from .runner import ReferenceServer

__all__ = ["FAULTS", "OIDC_FAULTS", "TLS_FAULTS", "Client", "Fault", "ReferenceServer"]
