"""RFC 6901 JSON pointer tokens (https://www.rfc-editor.org/rfc/rfc6901)."""

from __future__ import annotations


def escape(token: str) -> str:
    """Escape one reference token (§3): ``~`` -> ``~0``, ``/`` -> ``~1``."""
    return token.replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")
