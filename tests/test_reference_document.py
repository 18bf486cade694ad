"""The bundled reference supplier's OpenAPI document: conformant as published, and every flaw bites.

* the document loads cleanly and passes every static requirement of ``interop-pol-core``;
* its own examples are valid against its own schemas (a model document must not contradict itself);
* each flaw of ``flaws.yaml``, applied alone, fails its requirement and no other;
* all flaws together (the demo's ``openapi-flawed.yaml``) make the document NOT CONFORMANT.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

import conformance.checks  # noqa: F401 - registers the built-in checks
from conformance.outcome import Level, Outcome, Status
from conformance.pointer import escape
from conformance.profiles import Profile, Requirement, load_profile
from conformance.reference import (
    FLAWED_FILE_NAME,
    REFERENCE_DICTIONARY,
    REFERENCE_SPEC,
    Flaw,
    apply_flaws,
    load_flaws,
    load_reference_document,
    write_flawed_copy,
)
from conformance.registry import CHECKS, CheckContext
from conformance.runner import run_requirement
from conformance.spec import Spec, load_spec
from conformance.verdict import Verdict, compute_verdict

FLAWS = load_flaws()


@functools.cache
def _profile() -> Profile:
    return load_profile("interop-pol-core")


def _static_requirements() -> list[Requirement]:
    return [r for r in _profile().requirements if CHECKS.get(r.check).mode.value == "static"]


# A flaw that, with the data dictionary given, is rightly also a dictionary mismatch: the C4-10 flaw drops
# `format: date` from dateOfBirth, which the dictionary types as a date (IOP-C6-02).
ALSO_BREAKS: dict[str, tuple[str, ...]] = {"IOP-C4-10": ("IOP-C6-02",)}


def _run_all(spec: Spec) -> dict[str, Outcome]:
    # The reference supplier's synthetic data dictionary is the demo's --data-dictionary (IOP-C6-02).
    options = {"data_dictionary": REFERENCE_DICTIONARY}
    return {
        req.id: run_requirement(
            req, CheckContext(spec=spec, requirement_id=req.id, options=options), scope="static"
        )
        for req in _static_requirements()
    }


def _explain(outcomes: dict[str, Outcome], ids: set[str]) -> str:
    lines: list[str] = []
    for rid in sorted(ids):
        outcome = outcomes[rid]
        lines.append(f"{rid}: {outcome.status.value}{f' ({outcome.reason})' if outcome.reason else ''}")
        for f in outcome.findings[:10]:
            where = f.pointer or f.operation or ""
            lines.append(f"    - {f.title}: {f.message} [{where}]")
        if len(outcome.findings) > 10:
            lines.append(f"    … and {len(outcome.findings) - 10} more")
    return "\n".join(lines)


def _load_doc(folder: Path, doc: dict[str, Any], name: str = "openapi.yaml") -> Spec:
    path = folder / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return load_spec(str(path))


@functools.cache
def _reference_outcomes() -> dict[str, Outcome]:
    return _run_all(load_spec(str(REFERENCE_SPEC)))


# -- the document as published --------------------------------------------------------------------------
def test_reference_spec_is_package_data() -> None:
    """The document is found inside the installed package (so `pip install .` ships it)."""
    assert REFERENCE_SPEC.is_file()
    assert REFERENCE_SPEC.parent.name == "reference"
    assert REFERENCE_SPEC.parent.parent.name == "conformance"


def test_reference_document_loads_without_issues() -> None:
    spec = load_spec(str(REFERENCE_SPEC))
    assert spec.version_string == "3.1.0"
    assert spec.issues == (), [f"{i.kind}: {i.message} at {i.loc}" for i in spec.issues]


def test_every_static_requirement_passes() -> None:
    outcomes = _reference_outcomes()
    assert outcomes, "the profile has no static requirements"
    not_passed = {rid for rid, o in outcomes.items() if o.status is not Status.PASSED}
    assert not not_passed, "the reference document should pass every requirement:\n" + _explain(
        outcomes, not_passed
    )


def test_reference_document_is_conformant() -> None:
    result = compute_verdict(_profile(), _reference_outcomes(), scope="static")
    assert result.verdict is Verdict.CONFORMANT, result.reason
    assert result.warnings == ()


def _schema_examples(node: Any, pointer: str = "") -> Iterator[tuple[str, str, Any]]:
    """(schema pointer, example pointer, example) for every example in the document.

    Schemas use the JSON Schema ``examples`` list; media types use ``example`` next to their ``schema``.
    """
    if isinstance(node, dict):
        examples = node.get("examples")
        if isinstance(examples, list) and "type" in node:
            for i, value in enumerate(examples):
                yield pointer, f"{pointer}/examples/{i}", value
        if "example" in node and isinstance(node.get("schema"), dict):
            yield f"{pointer}/schema", f"{pointer}/example", node["example"]
        for key, value in node.items():
            yield from _schema_examples(value, f"{pointer}/{escape(str(key))}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _schema_examples(value, f"{pointer}/{i}")


def test_examples_are_valid_against_their_schemas() -> None:
    """A model document's examples must be valid instances of the schemas they illustrate."""
    doc = load_reference_document()
    registry: Registry[Any] = Registry().with_resource(
        "urn:reference", Resource.from_contents(doc, default_specification=DRAFT202012)
    )
    checked, invalid = 0, []
    for schema_pointer, example_pointer, example in _schema_examples(doc):
        validator = Draft202012Validator(
            {"$ref": f"urn:reference#{schema_pointer}"},
            registry=registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
        checked += 1
        for error in validator.iter_errors(example):
            invalid.append(f"{example_pointer}: {error.message}")
    assert checked > 100
    assert not invalid, "\n".join(invalid)


# -- the flaws --------------------------------------------------------------------------------------------
def test_flaws_name_profile_requirements() -> None:
    known = {r.id: r for r in _profile().requirements}
    assert 6 <= len(FLAWS) <= 12
    for flaw in FLAWS:
        assert flaw.requirement in known, f"{flaw.requirement} is not in interop-pol-core"
    levels = {known[f.requirement].level for f in FLAWS}
    assert {Level.MUST, Level.SHOULD} <= levels, "the demo should show both failures and warnings"
    assert len({f.requirement for f in FLAWS}) == len(FLAWS), "one flaw per requirement"


def test_flaws_touch_separate_parts_of_the_document() -> None:
    """Applied in either order the patches give the same document (none depends on another)."""
    doc = load_reference_document()
    assert apply_flaws(doc, FLAWS) == apply_flaws(doc, reversed(FLAWS))
    assert doc == load_reference_document(), "apply_flaws must not change its input"


@pytest.mark.parametrize("flaw", FLAWS, ids=[f.requirement for f in FLAWS])
def test_each_flaw_fails_its_requirement_and_only_it(flaw: Flaw, tmp_path: Path) -> None:
    spec = _load_doc(tmp_path, apply_flaws(load_reference_document(), [flaw]))
    outcomes = _run_all(spec)
    target = outcomes[flaw.requirement]
    assert target.status is Status.FAILED, f"{flaw.requirement} should fail:\n" + _explain(
        outcomes, {flaw.requirement}
    )
    expected = {flaw.requirement, *ALSO_BREAKS.get(flaw.requirement, ())}
    others = {rid for rid, o in outcomes.items() if o.status is not Status.PASSED and rid not in expected}
    assert not others, f"the {flaw.requirement} flaw also breaks other requirements:\n" + _explain(
        outcomes, others
    )


def test_flawed_copy_is_not_conformant(tmp_path: Path) -> None:
    path = write_flawed_copy(tmp_path / "demo")
    assert path == tmp_path / "demo" / FLAWED_FILE_NAME
    spec = load_spec(str(path))
    outcomes = _run_all(spec)
    result = compute_verdict(_profile(), outcomes, scope="static")
    assert result.verdict is Verdict.NOT_CONFORMANT
    levels = {r.id: r.level for r in _profile().requirements}
    expected_failures = {f.requirement for f in FLAWS if levels[f.requirement] is Level.MUST}
    expected_warnings = {f.requirement for f in FLAWS if levels[f.requirement] is not Level.MUST}
    expected_warnings |= {
        r for f in FLAWS for r in ALSO_BREAKS.get(f.requirement, ()) if levels[r] is not Level.MUST
    }
    assert set(result.failed_musts) == expected_failures, _explain(outcomes, set(result.failed_musts))
    assert set(result.warnings) == expected_warnings, _explain(outcomes, set(result.warnings))


def test_flawed_copy_is_readable_yaml_in_document_order(tmp_path: Path) -> None:
    text = write_flawed_copy(tmp_path).read_text(encoding="utf-8")
    assert "Siân" in text, "non-ASCII text should be written as is (allow_unicode)"
    data = yaml.safe_load(text)
    original = load_reference_document()
    assert list(data) == list(original)
    assert list(data["paths"]) == list(original["paths"])
    assert list(data["components"]["schemas"]) == list(original["components"]["schemas"])
    assert data["info"]["description"] == original["info"]["description"]


def test_load_flaws_gives_frozen_flaws() -> None:
    flaw = FLAWS[0]
    assert flaw.description
    assert "\n" not in flaw.description
    assert all("op" in op and "path" in op for op in flaw.patch)
    with pytest.raises(AttributeError):
        flaw.requirement = "IOP-C0-00"  # type: ignore[misc]
