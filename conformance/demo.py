"""``conformance demo``: the whole pipeline on the bundled reference supplier's document.

Runs the core profile twice — on the reference document (a model of a conformant InterOp-Pol API)
and on a deliberately flawed copy (``conformance/reference/flaws.yaml`` lists each flaw and the
requirement it breaks) — signs both reports with a clearly labelled throw-away demo key, verifies the
signatures as a reviewer would, and shows the results. The live reference server arrives with the
live checks; until then the demo is static.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .harness import run_profile, sign_run
from .plugin import RunSettings, RunState
from .profiles import load_profile
from .reference import REFERENCE_SPEC, load_flaws, write_flawed_copy
from .report.terminal import print_summary
from .spec import load_spec

__all__ = ["DEMO_KEY_NAME", "DEMO_PROFILE", "run_demo"]

DEMO_PROFILE = "interop-pol-core"
DEMO_KEY_NAME = "DEMO-ONLY-throwaway-signing-key"


def run_demo(*, out_dir: Path, formats: str, console: Any) -> int:
    """Run, sign and verify both demo runs; return the reference run's exit code."""
    profile = load_profile(DEMO_PROFILE)
    key, public = _demo_key(out_dir)
    console.print(
        f"[bold]interop-conformance demo[/bold]: profile {profile.id} {profile.version} "
        f"({len(profile.requirements)} requirements) on the bundled reference supplier's OpenAPI document.\n"
        f"Reports are signed with a throw-away DEMO key ({key}); real reports use your own key."
    )
    console.print("[bold]1. The reference document[/bold] (a model of a conformant API)")
    reference = _run(profile, str(REFERENCE_SPEC), out_dir, formats, "Reference supplier (demo)")
    _sign_and_show(reference, key, public, console)
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
    _sign_and_show(flawed, key, public, console)
    assert reference.report is not None
    assert flawed.report is not None
    console.print(
        f"Reference document: [bold]{reference.report['verdict']['status']}[/bold]; "
        f"flawed copy: [bold]{flawed.report['verdict']['status']}[/bold]. "
        "Open the report.html files above in a browser to see what a reviewer sees."
    )
    return int(reference.exit_code)


def _demo_key(out_dir: Path) -> tuple[Path, Path]:
    """A passphrase-less ECDSA key, made once per output folder and named so nobody mistakes it."""
    from .attest.keys import KeyAlgorithm, generate_key_pair

    folder = out_dir / "demo-keys"
    key = folder / f"{DEMO_KEY_NAME}.key"
    public = folder / f"{DEMO_KEY_NAME}.pub"
    if not key.is_file() or not public.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        for stale in (key, public):
            stale.unlink(missing_ok=True)
        generate_key_pair(folder / DEMO_KEY_NAME, KeyAlgorithm.P256, None)
    return key, public


def _run(profile: Any, spec_path: str, out_dir: Path, formats: str, product: str) -> RunState:
    spec = load_spec(spec_path)
    settings = RunSettings(
        profile=profile.id, spec=spec_path, out_dir=out_dir, formats=formats, product=product
    )
    return run_profile(settings, profile=profile, spec=spec)


def _sign_and_show(state: RunState, key: Path, public: Path, console: Any) -> None:
    from .attest import TrustAnchors, verify_report
    from .attest.keys import load_public_key

    info = sign_run(state, key)
    verified = verify_report(state.written.folder, TrustAnchors(keys=(load_public_key(public),)))
    assert state.report is not None
    print_summary(state.report, console, paths=_html_first(state), signature=info.to_dict())
    console.print(
        f"  Verified as a reviewer would: [green]OK[/green] ({verified.verdict}, signed by {verified.supplier.keyid}).\n"
        f"  Try it: conformance verify {state.written.folder} --key {public}\n",
        highlight=False,
        soft_wrap=True,
    )


def _html_first(state: RunState) -> list[Path]:
    if state.written is None:
        return []
    files = dict(state.written.files)
    envelope = state.written.folder / "report.intoto.jsonl"
    paths = sorted(files.values(), key=lambda p: (p.suffix != ".html", p.name))
    return [*paths, envelope] if envelope.is_file() else paths
