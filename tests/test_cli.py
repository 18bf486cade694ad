"""The command line end to end: exit codes, output streams, one-line errors, help with examples."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml

from conformance import __version__
from conformance.cli import cli, main
from tests.conftest import ROOT, minimal_doc

PROFILE = str(ROOT / "tests" / "fixtures" / "c1-only.yaml")


def _doc(tmp_path: Path, *, contact: bool = True) -> str:
    doc = minimal_doc()
    if contact:
        doc["info"]["contact"] = {"url": "https://example.police.uk/support"}
    doc["paths"] = {
        "/a": {"get": {"operationId": "a", "summary": "A", "responses": {"200": {"description": "ok"}}}}
    }
    path = tmp_path / "openapi.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return str(path)


def test_run_conformant(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`run` exits 0 on a conformant document, prints the verdict to stderr and writes report.json."""
    code = main(
        [
            "run",
            "--profile",
            PROFILE,
            "--spec",
            _doc(tmp_path),
            "--out",
            str(tmp_path / "out"),
            "--format",
            "json",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert out == ""
    assert "CONFORMANT" in err
    assert "exit code 0" in err
    reports = list((tmp_path / "out").glob("test-api-*/report.json"))
    assert len(reports) == 1


def test_run_not_conformant_json_to_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A failed MUST exits 1; --json prints the canonical report on stdout."""
    code = main(
        [
            "run",
            "--profile",
            PROFILE,
            "--spec",
            _doc(tmp_path, contact=False),
            "--out",
            str(tmp_path / "o"),
            "--format",
            "json",
            "--json",
            "-q",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 1
    report = json.loads(out)
    assert report["verdict"]["status"] == "NOT CONFORMANT"
    assert report["verdict"]["failed_musts"] == ["T-C1-08"]
    assert err.startswith("NOT CONFORMANT: 1 MUST requirement(s) failed: T-C1-08")


@pytest.mark.parametrize(
    ("args", "pattern"),
    [
        (["--spec", "{missing}"], "error: {missing}: file not found"),
        (["--spec", "{bad}"], "error: {bad}:1:"),
        (["--profile", "nope-profile"], "error: unknown profile 'nope-profile'"),
        (["--format", "pdf"], "error: unknown report format 'pdf'"),
        (["-k", "T-C1 and ("], "usage error: invalid -k expression 'T-C1 and ('"),
    ],
)
def test_run_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], pattern: str
) -> None:
    """Bad documents, profiles and flags give one line on stderr and exit 2, never a traceback."""
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    values = {"missing": str(tmp_path / "missing.yaml"), "bad": str(bad)}
    base = {"--profile": PROFILE, "--spec": _doc(tmp_path), "--out": str(tmp_path / "out")}
    argv = ["run"]
    given = dict(zip(args[::2], args[1::2], strict=True))
    for flag, value in {**base, **given}.items():
        argv += [flag, value.format(**values)]
    code = main(argv)
    _, err = capsys.readouterr()
    assert code == 2
    assert err.strip().count("\n") == 0, err
    assert err.startswith(pattern.format(**values)), err
    assert "Traceback" not in err


def test_missing_required_flag_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--spec", "x.yaml"]) == 2
    assert "Missing option '--profile'" in capsys.readouterr().err


def test_profiles_and_checks_commands(capsys: pytest.CaptureFixture[str]) -> None:
    """`profiles show` and `checks list` describe what is available."""
    assert main(["profiles", "show", PROFILE]) == 0
    out = capsys.readouterr().out
    assert "test-c1-only 1.0.0" in out
    assert "T-C1-08" in out
    assert main(["checks", "list", "--json"]) == 0
    listed = {c["id"] for c in json.loads(capsys.readouterr().out)}
    assert {"openapi.document.valid", "openapi.info.contact"} <= listed
    assert main(["profiles", "lint", PROFILE]) == 0
    assert capsys.readouterr().out.startswith("OK: ")


def test_profiles_lint_reports_the_first_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text(
        Path(PROFILE).read_text(encoding="utf-8").replace("level: SHOULD", "level: SHOUD", 1),
        encoding="utf-8",
    )
    assert main(["profiles", "lint", str(bad)]) == 2
    assert "did you mean 'SHOULD'?" in capsys.readouterr().err


def _all_commands(
    group: click.Group, prefix: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], click.Command]]:
    found: list[tuple[tuple[str, ...], click.Command]] = []
    for name, command in group.commands.items():
        found.append(((*prefix, name), command))
        if isinstance(command, click.Group):
            found.extend(_all_commands(command, (*prefix, name)))
    return found


@pytest.mark.parametrize(
    ("path", "command"), _all_commands(cli), ids=lambda v: " ".join(v) if isinstance(v, tuple) else ""
)
def test_every_command_has_help_with_an_example(
    path: tuple[str, ...], command: click.Command, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every command documents itself, with an Example block."""
    assert main([*path, "--help"]) == 0
    out = capsys.readouterr().out
    assert "Example:" in out, path
    assert "conformance " + " ".join(path) in out.split("Example:")[1] or command.name in out


def test_version_and_module_entry_point() -> None:
    """`python -m conformance --version` works and reports the package version."""
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert done.stdout.strip() == f"conformance, version {__version__}"
