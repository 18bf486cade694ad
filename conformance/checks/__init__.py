"""The built-in check catalogue, one module per topic; importing this package registers them all.

Static checks (on the OpenAPI document), by charter commitment:

* ``document``      C1  publish full, machine-readable import and export interfaces
* ``access``        C3  free or fairly costed access (licence-gating heuristic)
* ``servers``       C4/C5/C8  HTTPS servers, a sandbox, a visible major version
* ``payloads``      C4  JSON, object roots, naming, predictable keys, ISO 8601 dates, locations
* ``resources``     C4  resource paths, nesting, GET bodies and query strings, X- headers
* ``responses``     C4/C5  error responses, 406/415, problem+json, 429
* ``documentation`` C5  human documentation topics
* ``pole``          C6  POLE tagging, code lists, name structures
* ``pole_dictionary`` C6 POLE schemas against a customer-supplied POLE data dictionary (and its loader)
* ``security``      C9  security schemes, no basic/query keys, OAuth 2.0, scopes
* ``portability``   C10 list/export operations, incremental export, MoPI metadata

Live checks (against a running API, through ``conformance.live``):

* ``live_transport`` C9  TLS versions and certificate, HSTS, plain HTTP
* ``live_auth``      C5/C9 authentication, scopes, rate limits, OIDC discovery, the sandbox's auth flow
* ``live_http``      C4/C8/C9 dates, UTF-8, Unicode round trip, negotiation, errors, deprecation, headers
* ``live_contract``  C1/C9 the served document, contract conformance and negative testing (Schemathesis)
* ``live_inventory`` C3/C11 the document is freely available; no undocumented endpoints
* ``live_portability`` C10 complete exports (seeded, paged, reconciled), open formats, RFC 4180, round trip
* ``live_data``      C6/C7/C9/C10 incremental export, audit metadata, MoPI deletion, tenant isolation, POLE
  payloads against the data dictionary, a cross-supplier transfer
"""

from __future__ import annotations

from . import (  # noqa: F401 - imported for registration
    access,
    document,
    documentation,
    live_auth,
    live_contract,
    live_data,
    live_http,
    live_inventory,
    live_portability,
    live_transport,
    payloads,
    pole,
    pole_dictionary,
    portability,
    resources,
    responses,
    security,
    servers,
)
