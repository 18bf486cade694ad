"""Every default of the live client layer, in one place, so the documentation can quote them and tests pin them.

Values are deliberately conservative: a supplier's API is a real system, and a conformance run must never look
like a load test or hang a CI job.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_EVIDENCE_BODY_LIMIT",
    "DEFAULT_EXPORT_TIMEOUT",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_CONSECUTIVE_FAILURES",
    "DEFAULT_MAX_REDIRECTS",
    "DEFAULT_MAX_STREAM_BYTES",
    "DEFAULT_RATE",
    "DEFAULT_READ_TIMEOUT",
    "DEFAULT_TLS_TIMEOUT",
    "DEFAULT_TOTAL_TIMEOUT",
    "TOKEN_DEFAULT_LIFETIME",
    "TOKEN_REFRESH_MARGIN",
]

DEFAULT_CONNECT_TIMEOUT = 5.0  # seconds to open the TCP connection (per address tried)
DEFAULT_READ_TIMEOUT = 15.0  # seconds of silence tolerated between two reads
DEFAULT_TOTAL_TIMEOUT = 30.0  # wall-clock cap per request: connect + TLS + send + the whole body
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024  # a response body is read up to this size (after decompression)
DEFAULT_EXPORT_TIMEOUT = 600.0  # wall-clock cap on one streamed body (a bulk export), start to last byte
DEFAULT_MAX_STREAM_BYTES = 8 * 1024 * 1024 * 1024  # a streamed body is read up to this size (decompressed)
DEFAULT_RATE = 10.0  # requests per second for the whole run (0 = unlimited)
DEFAULT_MAX_REDIRECTS = 3  # hops followed when a caller asks for redirects to be followed
DEFAULT_EVIDENCE_BODY_LIMIT = 64 * 1024  # bytes of each (redacted) body kept in exchanges.ndjson
DEFAULT_MAX_CONSECUTIVE_FAILURES = 5  # network failures in a row before the circuit breaker opens
DEFAULT_TLS_TIMEOUT = 5.0  # seconds per TLS probe handshake (connect + handshake, wall clock)
TOKEN_REFRESH_MARGIN = 30.0  # an access token is renewed this many seconds before it expires
TOKEN_DEFAULT_LIFETIME = 300.0  # lifetime assumed when a token response has no expires_in
