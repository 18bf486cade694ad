"""Packaging: the wheel carries every data file, and an installed (non-editable) copy finds them."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import conformance
from tests.conftest import ROOT

DATA_FILES = [
    "conformance/_bundled/profiles/interop-pol-core.yaml",
    "conformance/_bundled/profiles/profile.schema.json",
    "conformance/report/templates/report.html.j2",
    "conformance/report/schema/report.schema.json",
    "conformance/reference/openapi.yaml",
    "conformance/reference/flaws.yaml",
    "conformance/attest/verify-with-openssl.sh",
    "conformance/py.typed",
]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"could not build the wheel here: {done.stderr.strip().splitlines()[-1:]}")
    return next(out.glob("interop_conformance-*.whl"))


def test_wheel_contains_the_data_files(wheel: Path) -> None:
    """Profiles, templates, schemas, the reference document and the openssl script ship in the wheel."""
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [f for f in DATA_FILES if f not in names]
    assert not missing
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "conformance = conformance.cli:main" in text
    assert "[pytest11]" in text


def test_installed_copy_finds_its_data(wheel: Path, tmp_path: Path) -> None:
    """Installed from the wheel (not editable), the profile, the reference document and the HTML template load."""
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
    )
    script = (
        "import conformance, conformance.profiles as p, conformance.reference as r\n"
        f"assert conformance.__file__.startswith({str(target)!r}), conformance.__file__\n"
        "prof = p.load_profile('interop-pol-core')\n"
        "spec = conformance.load_spec(str(r.REFERENCE_SPEC))\n"
        "from conformance.report.html import render\n"
        "print(prof.id, len(prof.requirements), spec.title, p.bundled_profiles_dir())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("interop-pol-core ")
    assert str(target) in done.stdout


def test_public_surface() -> None:
    """The package exports a small, stable surface, and its version matches the installed metadata."""
    assert conformance.__version__ == importlib.metadata.version("interop-conformance")
    assert set(conformance.__all__) == {
        "__version__",
        "CheckContext",
        "ConformanceError",
        "ExitCode",
        "Finding",
        "Level",
        "Outcome",
        "Profile",
        "RunSettings",
        "Spec",
        "Status",
        "Verdict",
        "build_report",
        "check",
        "load_profile",
        "load_spec",
        "run_profile",
    }
    for name in conformance.__all__:
        assert getattr(conformance, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = conformance.nope  # type: ignore[attr-defined]
