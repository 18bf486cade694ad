"""Shared test helpers: build a Spec from a dict, run one check, find the corpus."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

import conformance.checks  # noqa: F401 - registers the built-in checks
from conformance.outcome import Level, Outcome
from conformance.profiles import Requirement
from conformance.registry import CHECKS, CheckContext
from conformance.runner import run_requirement
from conformance.spec import Spec, load_spec

ROOT = Path(__file__).resolve().parent.parent
# The shared corpus of real OpenAPI documents sits beside the checkout; CONFORMANCE_CORPUS overrides it.
CORPUS = Path(os.environ.get("CONFORMANCE_CORPUS") or ROOT.parent / "shared" / "corpus")
REFERENCE_SPEC = ROOT / "conformance" / "reference" / "openapi.yaml"


def corpus_names() -> list[str]:
    """The file names of the shared corpus's OpenAPI documents (none when the corpus is not there)."""
    if not CORPUS.is_dir():
        return []
    return sorted(p.name for p in CORPUS.iterdir() if p.suffix in (".json", ".yaml", ".yml"))


@cache
def corpus_spec(name: str) -> Spec:
    """One corpus document, loaded once per session."""
    return load_spec(str(CORPUS / name))


def write_spec(folder: Path, doc: dict[str, Any] | str, name: str = "openapi.yaml") -> Path:
    path = folder / name
    text = doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


def requirement_for(
    check_id: str,
    *,
    requirement_id: str | None = None,
    commitment: str = "C1",
    level: Level = Level.MUST,
    **params: Any,
) -> Requirement:
    """A test Requirement (``TEST-<check id>`` unless ``requirement_id``) that runs one registered check with
    its defaults overlaid by ``params``."""
    check = CHECKS.get(check_id)
    return Requirement(
        id=requirement_id or f"TEST-{check_id}",
        commitment=commitment,
        level=level,
        title=check.title,
        check=check_id,
        params={**check.params, **params},
        overrides=params,
        references=check.references,
        reconstructed=False,
        rationale=None,
        defined_in="test",
    )


def check_outcome(
    check_id: str,
    spec: Spec,
    requirement_id: str | None = None,
    *,
    options: dict[str, Any] | None = None,
    **params: Any,
) -> Outcome:
    """Run one registered check on ``spec`` with its defaults overlaid by ``params`` (``options``: the run's
    ``ctx.options``, e.g. ``data_dictionary``)."""
    unknown = set(params) - set(CHECKS.get(check_id).params)
    assert not unknown, f"unknown params for {check_id}: {unknown}"
    req = requirement_for(check_id, requirement_id=requirement_id, **params)
    return run_requirement(req, CheckContext(spec=spec, requirement_id=req.id, options=options or {}))


def minimal_doc() -> dict[str, Any]:
    """A small, valid OpenAPI 3.1 document for check tests to modify."""
    return copy.deepcopy(
        {
            "openapi": "3.1.0",
            "info": {"title": "Test API", "version": "1.0.0", "description": "A test API."},
            "servers": [{"url": "https://api.example.police.uk/v1"}],
            "paths": {},
            "components": {"schemas": {}},
        }
    )


@pytest.fixture
def spec_from(tmp_path: Path) -> Callable[..., Spec]:
    """``spec_from(doc_dict_or_yaml_text)`` -> a loaded Spec."""

    def build(doc: dict[str, Any] | str, name: str = "openapi.yaml") -> Spec:
        return load_spec(str(write_spec(tmp_path, doc, name)))

    return build
