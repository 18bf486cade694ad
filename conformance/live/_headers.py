"""A read-only, case-insensitive view of HTTP header fields that keeps repeated fields (``Set-Cookie``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

__all__ = ["Headers"]


class Headers(Mapping[str, str]):
    """Header fields in received order. ``headers["x"]`` joins repeated fields with ``", "`` (RFC 9110
    §5.3); :meth:`get_all` returns them one by one (needed for ``Set-Cookie``, which cannot be joined)."""

    __slots__ = ("_index", "_pairs")

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._pairs: tuple[tuple[str, str], ...] = tuple(pairs)
        self._index: dict[str, str] | None = None  # built on first lookup: most exchanges are never queried

    def _lookup(self) -> dict[str, str]:
        index = self._index
        if index is None:
            index = {}
            for name, value in self._pairs:
                key = name.lower()
                index[key] = f"{index[key]}, {value}" if key in index else value
            self._index = index
        return index

    def __getitem__(self, name: str) -> str:
        return self._lookup()[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._lookup()

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for name, _ in self._pairs:
            if name.lower() not in seen:
                seen.add(name.lower())
                yield name

    def __len__(self) -> int:
        return len(self._lookup())

    def get_all(self, name: str) -> list[str]:
        key = name.lower()
        return [value for field_name, value in self._pairs if field_name.lower() == key]

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        return self._pairs

    def __repr__(self) -> str:
        # Only names: values may be credentials (request headers are redacted, response headers are not).
        return f"Headers({', '.join(name for name, _ in self._pairs)})"
