"""``conformance demo``: the whole product in one command, against the bundled reference supplier.

1. makes a clearly labelled throw-away signing key (once per output folder);
2. starts the reference supplier (``conformance.reference.server``) on a free loopback port, with TLS from a
   throw-away CA, optionally with fault switches that break one behaviour each;
3. runs the core profile in full scope: the static checks on its OpenAPI document and the live checks
   against the running server (the reference supplier is a test tenant, so writes are allowed: the data
   portability checks seed, export, import and delete synthetic records). A second reference supplier
   plays "another supplier" for the cross-supplier transfer (IOP-C7-01), and the bundled synthetic POLE
   data dictionary (``REFERENCE_DICTIONARY``) stands in for a force's;
4. signs the report, verifies it as a reviewer would, prints the verdict and the report's path;
5. stops the server and exits with the run's verdict code.

``--flawed-document`` adds a static run on a deliberately flawed copy of the document
(``conformance/reference/flaws.yaml``), to show a failing static report as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .harness import run_profile, sign_run
from .plugin import RunSettings, RunState
from .profiles import load_profile
from .reference import REFERENCE_DICTIONARY, REFERENCE_SPEC, load_flaws, write_flawed_copy
from .report.terminal import print_summary
from .spec import load_spec

__all__ = ["DEMO_KEY_NAME", "DEMO_PROFILE", "run_demo"]

DEMO_PROFILE = "interop-pol-core"
DEMO_KEY_NAME = "DEMO-ONLY-throwaway-signing-key"
# The reference supplier enforces a quota (bursts of 60 requests, refilled at 30 a second) and the harness
# paces itself below the refill rate, so only the rate-limit check's deliberate burst meets a 429 — and
# the demo stays well under a minute.
DEMO_RATE_LIMIT_PER_MINUTE = 1800
DEMO_RATE_LIMIT_BURST = 60
DEMO_HARNESS_RATE = 25.0  # requests a second


def run_demo(
    *,
    out_dir: Path,
    formats: str,
    console: Any,
    faults: Sequence[str] = (),
    flawed_document: bool = False,
    progress: Any = None,
) -> int:
    """Run the demo (see the module docstring); return the live run's exit code."""
    from .reference.server import ReferenceServer
    from .reference.target import target_config_for

    profile = load_profile(DEMO_PROFILE)
    key, public = _demo_key(out_dir)
    console.print(
        f"[bold]interop-conformance demo[/bold]: profile {profile.id} {profile.version} "
        f"({len(profile.requirements)} requirements), static and live, against the bundled reference supplier.\n"
        f"Reports are signed with a throw-away DEMO key ({key}); real reports use your own key.",
        highlight=False,
    )
    per_minute, burst = DEMO_RATE_LIMIT_PER_MINUTE, DEMO_RATE_LIMIT_BURST
    # The faults break the supplier under test only; the peer ("another supplier") is clean, and starts
    # empty so that every exported record really crosses over.
    with (
        ReferenceServer(faults=faults, rate_limit_per_minute=per_minute, rate_limit_burst=burst) as server,
        ReferenceServer(
            seed_data=False, rate_limit_per_minute=per_minute, rate_limit_burst=burst
        ) as peer_server,
    ):
        broken = f" with fault(s) {', '.join(faults)}" if faults else ""
        console.print(
            f"Reference supplier running at {server.base_url}{broken} (TLS from a throw-away CA: {server.ca_bundle});\n"
            f"a second one at {peer_server.base_url} plays another supplier for the cross-supplier transfer.",
            highlight=False,
        )
        target = target_config_for(server, allow_writes=True, rate_per_second=DEMO_HARNESS_RATE)
        peer = target_config_for(peer_server, allow_writes=True, rate_per_second=DEMO_HARNESS_RATE)
        spec = load_spec(str(REFERENCE_SPEC))
        settings = RunSettings(
            profile=profile.id,
            spec=str(REFERENCE_SPEC),
            out_dir=out_dir,
            formats=formats,
            product="Reference supplier (demo)" + (f", faults: {', '.join(faults)}" if faults else ""),
            target=target,
            data_dictionary=REFERENCE_DICTIONARY,
            peer=peer,
        )
        live = run_profile(settings, profile=profile, spec=spec, progress=progress)
    _sign_and_show(live, key, public, console)
    if flawed_document:
        _flawed_static_run(profile, out_dir, formats, key, public, console)
    assert live.report is not None
    verdict = live.report["verdict"]
    html = live.written.files.get(_html_format()) if live.written is not None else None
    console.print(
        f"Verdict: [bold]{verdict['status']}[/bold] ({verdict['scope']} scope). "
        + (f"Open {html} in a browser to see what a reviewer sees." if html else ""),
        highlight=False,
        soft_wrap=True,
    )
    return int(live.exit_code)


def _html_format() -> Any:
    from .report.writer import Format

    return Format.HTML


def _flawed_static_run(
    profile: Any, out_dir: Path, formats: str, key: Path, public: Path, console: Any
) -> None:
    flaws = load_flaws()
    console.print(
        f"[bold]A deliberately flawed copy of the document[/bold] ({len(flaws)} flaws, static run):"
    )
    for flaw in flaws:
        console.print(f"   - {flaw.requirement}: {flaw.description}", highlight=False)
    # The flawed copy is kept beside the reports so the commands a report suggests keep working.
    inputs = out_dir / "demo-inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    flawed_path = write_flawed_copy(inputs)
    settings = RunSettings(
        profile=profile.id,
        spec=str(flawed_path),
        out_dir=out_dir,
        formats=formats,
        product="Reference supplier, flawed copy (demo)",
    )
    state = run_profile(settings, profile=profile, spec=load_spec(str(flawed_path)))
    _sign_and_show(state, key, public, console)


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


def _sign_and_show(state: RunState, key: Path, public: Path, console: Any) -> None:
    from .attest import TrustAnchors, verify_report
    from .attest.keys import load_public_key

    if state.written is not None:
        for problem in state.written.errors:
            console.print(
                f"  [red]could not write {problem}[/red] (report.json is complete)", highlight=False
            )
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
