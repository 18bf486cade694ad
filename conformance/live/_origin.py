"""Origins (RFC 6454: scheme, host, effective port) and loopback detection."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import urlsplit

__all__ = ["Origin", "is_loopback_host", "origin_of"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


class Origin(NamedTuple):
    """Scheme, host and effective port: two URLs share an origin only when all three are equal."""

    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if _DEFAULT_PORTS[self.scheme] == self.port:
            return f"{self.scheme}://{host}"
        return f"{self.scheme}://{host}:{self.port}"


# Every request checks its origin, so parsing is cached: the same few URLs prefixes recur all run long.
@lru_cache(maxsize=4096)
def origin_of(url: str) -> Origin:
    """The origin of an absolute http(s) URL; ``ValueError`` (with a short reason) for anything else."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"not an http(s) URL: {url[:80]!r}")
    host = parts.hostname
    if not host:
        raise ValueError(f"the URL has no host: {url[:80]!r}")
    port = parts.port  # raises ValueError for a non-numeric or out-of-range port
    return Origin(scheme, host.rstrip(".").lower(), port if port is not None else _DEFAULT_PORTS[scheme])


@lru_cache(maxsize=1024)
def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1): traffic that never leaves the machine."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
