"""Documentation that cannot drift: generated references are current; every command is documented."""

from __future__ import annotations

import pytest

from conformance._docs import DOCS, GENERATED


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_docs_are_current(name: str) -> None:
    """docs/checks.md and docs/cli.md match what `python -m conformance._docs` generates."""
    current = (DOCS / name).read_text(encoding="utf-8") if (DOCS / name).is_file() else ""
    assert current == GENERATED[name](), f"docs/{name} is stale: run `python -m conformance._docs`"
