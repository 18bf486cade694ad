"""Profiles: schema validation with file/line/field errors, extends/override/remove, digests, lookup."""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import pytest

from conformance.errors import ProfileError
from conformance.outcome import Level
from conformance.profiles import bundled_profiles, load_profile, resolve_profile_path

BASE = textwrap.dedent(
    """\
    profile: test-base
    version: 1.0.0
    title: Test base
    commitments:
      C1: {title: Publish, maturity: structural}
    requirements:
      - id: T-C1-03
        commitment: C1
        level: MUST
        title: Unique operation ids
        check: openapi.operation-id
        references: [CDDO operation-id]
      - id: T-C1-07
        commitment: C1
        level: SHOULD
        title: Documented properties
        check: openapi.property-docs
        with: {example_coverage_min: 80}
        references: [GDS docs]
    """
)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_loads_with_defaults_and_digest(tmp_path: Path) -> None:
    """Parameters merge over the check's defaults; the digest is of the file's bytes."""
    path = write(tmp_path, "base.yaml", BASE)
    profile = load_profile(path)
    assert [r.id for r in profile.requirements] == ["T-C1-03", "T-C1-07"]
    docs = profile.requirement("T-C1-07")
    assert docs.params == {"require_descriptions": True, "example_coverage_min": 80}
    assert docs.level is Level.SHOULD
    assert profile.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert docs.defined_in == "base.yaml:13"


def test_extends_overrides_and_removes(tmp_path: Path) -> None:
    """A child profile overrides inherited requirements field by field and can remove them."""
    write(tmp_path, "base.yaml", BASE)
    child = write(
        tmp_path,
        "child.yaml",
        """\
        profile: test-child
        version: 0.2.0
        title: Stricter
        extends: [base.yaml]
        remove: [T-C1-03]
        requirements:
          - id: T-C1-07
            level: MUST
            with: {example_coverage_min: 95}
        """,
    )
    profile = load_profile(child)
    assert [r.id for r in profile.requirements] == ["T-C1-07"]
    req = profile.requirement("T-C1-07")
    assert req.level is Level.MUST
    assert req.params["example_coverage_min"] == 95
    assert req.title == "Documented properties"
    assert [p["id"] for p in profile.parents] == ["test-base"]
    assert profile.resolved_sha256 != load_profile(tmp_path / "base.yaml").resolved_sha256


BAD_PROFILES = {
    "unknown-check": (
        "check: openapi.operation-id",
        "check: openapi.operation-ids",
        r"base\.yaml:11: requirement 'T-C1-03': unknown check 'openapi\.operation-ids' \(did you mean 'openapi\.operation-id'",
    ),
    "bad-level": (
        "level: MUST",
        "level: MUSTT",
        r"base\.yaml:9: 'requirements\[T-C1-03\]\.level' must be one of MUST, SHOULD, MAY \(got 'MUSTT'\) \(did you mean 'MUST'\?\)",
    ),
    "bad-version": ("version: 1.0.0", "version: one", r"base\.yaml:2: 'version' must be a semantic version"),
    "unknown-parameter": (
        "with: {example_coverage_min: 80}",
        "with: {example_coverage: 80}",
        r"base\.yaml:18: requirement 'T-C1-07': unknown parameter 'example_coverage' .*did you mean 'example_coverage_min'",
    ),
    "wrong-parameter-type": (
        "with: {example_coverage_min: 80}",
        "with: {example_coverage_min: '80'}",
        r"parameter 'example_coverage_min' must be a whole number \(got '80'\)",
    ),
    "duplicate-id": (
        "id: T-C1-07",
        "id: T-C1-03",
        r"base\.yaml:13: duplicate requirement id 'T-C1-03' \(first defined on line 7\)",
    ),
    "unknown-field": (
        "    title: Documented properties",
        "    titel: Documented properties",
        r"base\.yaml:16: unknown field 'titel' in 'requirements\[T-C1-07\]' \(did you mean 'title'\?\)",
    ),
    "malformed-yaml": ("title: Test base", "title: [Test base", r"base\.yaml:\d+: malformed YAML"),
    "duplicate-key": (
        "title: Test base",
        "title: Test base\ntitle: Again",
        r"base\.yaml:4: duplicate key 'title'",
    ),
    "unknown-commitment": (
        "commitment: C1\n    level: MUST",
        "commitment: C9\n    level: MUST",
        r"names commitment 'C9', which the profile does not define",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_PROFILES))
def test_bad_profiles_name_file_line_and_field(tmp_path: Path, case: str) -> None:
    """Each kind of bad profile is one ProfileError line with file, line, field and a suggestion."""
    old, new, pattern = BAD_PROFILES[case]
    assert old in BASE
    path = write(tmp_path, "base.yaml", BASE.replace(old, new, 1))
    with pytest.raises(ProfileError, match=pattern) as info:
        load_profile(path)
    assert "\n" not in str(info.value)


def test_extends_cycle_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "profile: a\nversion: 1.0.0\ntitle: A\nextends: [b.yaml]\nrequirements: []\n")
    write(tmp_path, "b.yaml", "profile: b\nversion: 1.0.0\ntitle: B\nextends: [a.yaml]\nrequirements: []\n")
    with pytest.raises(ProfileError, match=r"'extends' forms a cycle: a\.yaml -> b\.yaml -> a\.yaml"):
        load_profile(tmp_path / "a.yaml")


def test_extends_unknown_parent(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        "profile: a\nversion: 1.0.0\ntitle: A\nextends: [interop-pol-kore]\nrequirements: []\n",
    )
    with pytest.raises(
        ProfileError,
        match=r"a\.yaml:4: 'extends' entry 'interop-pol-kore': unknown profile .*did you mean 'interop-pol-core'",
    ):
        load_profile(tmp_path / "a.yaml")


def test_remove_of_unknown_id_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", BASE)
    write(
        tmp_path,
        "c.yaml",
        "profile: c\nversion: 1.0.0\ntitle: C\nextends: [base.yaml]\nremove: [T-C1-99]\nrequirements: []\n",
    )
    with pytest.raises(ProfileError, match=r"'remove' names 'T-C1-99'"):
        load_profile(tmp_path / "c.yaml")


def test_bundled_profiles_are_found_by_id_and_version() -> None:
    """The core profile is found by id, by id@version, and an unknown version lists the available ones."""
    ids = {(pid, ver) for pid, ver, _ in bundled_profiles()}
    assert {
        ("interop-pol-core", "0.1.0"),
        ("interop-pol-core", "0.2.0"),
        ("interop-pol-core", "0.3.0"),
    } <= ids
    assert resolve_profile_path("interop-pol-core").name == "interop-pol-core.yaml"  # the newest version
    assert resolve_profile_path("interop-pol-core@0.1.0").name == "interop-pol-core@0.1.0.yaml"
    with pytest.raises(
        ProfileError, match=r"has no version 9\.9\.9 \(available: 0\.1\.0, 0\.2\.0, 0\.3\.0\)"
    ):
        resolve_profile_path("interop-pol-core@9.9.9")
