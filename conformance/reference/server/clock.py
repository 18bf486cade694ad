"""Time for the reference supplier: RFC 3339 parsing and formatting, and a clock that never repeats.

Every date-time the server writes is UTC with ``Z`` (RFC 3339 §5.6). The clock hands out strictly
increasing instants (at least a microsecond apart), so "changed after T" and the (createdAt, id) order
are never ambiguous between two writes, even within one clock tick.
"""

from __future__ import annotations

import datetime
import re
import threading

__all__ = ["Clock", "format_datetime", "parse_date", "parse_datetime"]

UTC = datetime.timezone.utc
_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$"
)
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def parse_datetime(text: str) -> datetime.datetime | None:
    """An RFC 3339 date-time as an aware UTC datetime, or None if it is not one (an offset is required)."""
    match = _DATETIME.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    try:
        offset = datetime.timedelta(0)
        if not zulu:
            if int(off_h) > 23 or int(off_m) > 59:
                return None
            offset = datetime.timedelta(hours=int(off_h), minutes=int(off_m))
            if sign == "-":
                offset = -offset
        # RFC 3339 allows a leap second (:60); Python cannot hold one, so it becomes :59.
        value = datetime.datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            min(int(second), 59),
            int((fraction or "0")[:6].ljust(6, "0")),
            tzinfo=datetime.timezone(offset),
        )
    except ValueError:
        return None
    if int(second) > 60:
        return None
    return value.astimezone(UTC)


def parse_date(text: str) -> datetime.date | None:
    """A full-date (``YYYY-MM-DD``), or None."""
    match = _DATE.match(text)
    if match is None:
        return None
    try:
        return datetime.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def format_datetime(value: datetime.datetime) -> str:
    """UTC, ``Z``, microseconds only when there are any: ``2025-03-14T09:26:53Z``."""
    utc = value.astimezone(UTC)
    # Not strftime: its %Y does not zero-pad years before 1000 on every platform (RFC 3339 needs 4 digits).
    text = f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}"
    if utc.microsecond:
        text += f".{utc.microsecond:06d}"
    return text + "Z"


class Clock:
    """Strictly increasing UTC instants (thread-safe: the token endpoint and the tests share it)."""

    def __init__(self) -> None:
        self._last = datetime.datetime.min.replace(tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime.datetime:
        with self._lock:
            current = datetime.datetime.now(UTC)
            if current <= self._last:
                current = self._last + datetime.timedelta(microseconds=1)
            self._last = current
            return current
