"""``conformance demo``: the whole static pipeline on the bundled reference supplier's document.

Runs the core profile twice — on the reference document (a model of a conformant InterOp-Pol API)
and on a deliberately flawed copy (``conformance/reference/flaws.yaml`` lists each flaw and the
requirement it breaks) — and shows both results. The live reference server arrives with the live
checks; until then the demo is static.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .harness import run_profile
from .plugin import RunSettings
from .profiles import load_profile
from .reference import REFERENCE_SPEC, load_flaws, write_flawed_copy
from .report.terminal import print_summary
from .spec import load_spec

__all__ = ["DEMO_PROFILE", "run_demo"]

DEMO_PROFILE = "interop-pol-core"


def run_demo(*, out_dir: Path, formats: str, console: Any) -> int:
    """Run both demo runs; return the reference run's exit code."""
    profile = load_profile(DEMO_PROFILE)
    console.print(
        f"[bold]interop-conformance demo[/bold]: profile {profile.id} {profile.version} "
        f"({len(profile.requirements)} requirements) on the bundled reference supplier's OpenAPI document."
    )
    console.print("[bold]1. The reference document[/bold] (a model of a conformant API)")
    reference = _run(profile, str(REFERENCE_SPEC), out_dir, formats, "Reference supplier (demo)")
    print_summary(reference.report, console, paths=_html_first(reference), signed=False)
    flaws = load_flaws()
    console.print(
        f"[bold]2. A deliberately flawed copy[/bold] ({len(flaws)} flaws, each breaking one requirement):"
    )
    for flaw in flaws:
        console.print(f"   - {flaw.requirement}: {flaw.description}", highlight=False)
    # The flawed copy is kept beside the reports so the commands a report suggests keep working.
    inputs = out_dir / "demo-inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    flawed_path = write_flawed_copy(inputs)
    flawed = _run(profile, str(flawed_path), out_dir, formats, "Reference supplier, flawed copy (demo)")
    print_summary(flawed.report, console, paths=_html_first(flawed), signed=False)
    console.print(
        f"Reference document: [bold]{reference.report['verdict']['status']}[/bold]; "
        f"flawed copy: [bold]{flawed.report['verdict']['status']}[/bold]. "
        "Open the report.html files above in a browser to see what a reviewer sees."
    )
    return int(reference.exit_code)


def _run(profile: Any, spec_path: str, out_dir: Path, formats: str, product: str) -> Any:
    spec = load_spec(spec_path)
    settings = RunSettings(
        profile=profile.id, spec=spec_path, out_dir=out_dir, formats=formats, product=product
    )
    return run_profile(settings, profile=profile, spec=spec)


def _html_first(state: Any) -> list[Path]:
    if state.written is None:
        return []
    files = dict(state.written.files)
    return sorted(files.values(), key=lambda p: (p.suffix != ".html", p.name))
