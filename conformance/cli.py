"""The ``conformance`` command line: thin wrappers that parse, call the library and set exit codes.

Errors a user can fix (bad document, profile, flags) print one line and exit 2; ``-v`` adds the
traceback. Summaries go to stderr; ``--json`` output goes to stdout.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from . import __version__
from .errors import ConformanceError, UsageError
from .verdict import ExitCode

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class _State:
    verbose: int = 0


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", prog_name="conformance")
@click.option("-v", "--verbose", count=True, help="Show tracebacks for errors.")
def cli(verbose: int) -> None:
    """Conformance checks for the techUK InterOp-Pol charter.

    Checks a supplier's OpenAPI document (and, with a live target, its API) against a profile of
    charter requirements and writes a report (JSON, HTML, JUnit, SARIF).

    \b
    Example:
        conformance demo
        conformance run --profile interop-pol-core --spec openapi.yaml
    """
    _State.verbose = verbose


# -- run ----------------------------------------------------------------------------------------------
@cli.command()
@click.option(
    "--profile",
    "profile_ref",
    required=True,
    metavar="ID|PATH",
    help="Profile id (e.g. interop-pol-core), id@version, or a file.",
)
@click.option(
    "--spec",
    "spec_source",
    metavar="PATH|URL",
    help="The OpenAPI document (file or https URL). With --base-url and no --spec, the document the "
    "target serves is used.",
)
@click.option("--base-url", metavar="URL", help="The live API to test (adds the live checks: full scope).")
@click.option(
    "--auth",
    "auth_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Credentials file (YAML/TOML): OAuth2 client credentials, bearer or mTLS; secrets by env var or file.",
)
@click.option(
    "--ca-bundle",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="PEM",
    help="CA certificates that verify the target's TLS certificate.",
)
@click.option("--rate", metavar="N/s", help="Request rate limit (default 10/s; 0 = unlimited).")
@click.option("--timeout", type=click.FloatRange(min=0.1), metavar="S", help="Wall-clock limit per request.")
@click.option(
    "--allow-writes",
    is_flag=True,
    help="The target is a test tenant: checks may create and delete (synthetic) data.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE",
    help="conformance.toml (or pyproject.toml [tool.conformance]) with the target; default: ./conformance.toml.",
)
@click.option(
    "--out",
    "out_dir",
    default="reports",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder that receives the report folder.",
)
@click.option(
    "--format",
    "formats",
    default="all",
    show_default=True,
    metavar="LIST",
    help="Comma-separated: json, html, junit, sarif, or all. JSON is always written.",
)
@click.option(
    "--name",
    "product",
    metavar="NAME",
    help="Product name for the report (default: the document's info.title).",
)
@click.option(
    "-k",
    "selection",
    metavar="EXPR",
    help="Only run requirements matching this pytest -k expression (e.g. 'C4 and not C4-09').",
)
@click.option(
    "--allow-remote-refs",
    is_flag=True,
    help="Fetch remote $refs (by default they are reported, not fetched).",
)
@click.option(
    "--max-spec-size",
    type=click.IntRange(1, 1024),
    default=32,
    show_default=True,
    metavar="MIB",
    help="Largest document accepted, in MiB.",
)
@click.option(
    "--sign-key",
    "sign_key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="KEY",
    help="Sign the report with this private key (see `conformance keygen`); passphrase from "
    "$CONFORMANCE_KEY_PASSPHRASE or a prompt.",
)
@click.option(
    "--cert",
    "cert",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="CHAIN.pem",
    help="Certificate chain (leaf first) issued for --sign-key, e.g. by a standards body's CA.",
)
@click.option(
    "--data-dictionary",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE",
    help="A POLE data dictionary (CSV or JSON, see docs/pole.md): attribute names, types and lengths are "
    "checked against it (untested without one).",
)
@click.option(
    "--peer-base-url",
    metavar="URL",
    help="A second supplier's API (a test tenant) for the cross-supplier transfer check (IOP-C7-01).",
)
@click.option(
    "--peer-auth",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Credentials file for --peer-base-url (same format as --auth).",
)
@click.option(
    "--peer-ca-bundle",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="PEM",
    help="CA certificates that verify the peer's TLS certificate.",
)
@click.option(
    "--peer-spec",
    metavar="PATH|URL",
    help="The peer's OpenAPI document (default: the one it serves at <peer-base-url>/openapi.json).",
)
@click.option(
    "--peer-allow-writes",
    is_flag=True,
    help="The peer is a test tenant too: records may be imported into it and deleted again.",
)
@click.option("--json", "as_json", is_flag=True, help="Print report.json to stdout.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the verdict line.")
def run(
    profile_ref: str,
    spec_source: str | None,
    out_dir: Path,
    formats: str,
    product: str | None,
    selection: str | None,
    allow_remote_refs: bool,
    max_spec_size: int,
    sign_key: Path | None,
    cert: Path | None,
    as_json: bool,
    quiet: bool,
    base_url: str | None,
    auth_file: Path | None,
    ca_bundle: Path | None,
    rate: str | None,
    timeout: float | None,
    allow_writes: bool,
    config_file: Path | None,
    data_dictionary: Path | None,
    peer_base_url: str | None,
    peer_auth: Path | None,
    peer_ca_bundle: Path | None,
    peer_spec: str | None,
    peer_allow_writes: bool,
) -> int:
    """Check an OpenAPI document against a profile and write a report.

    \b
    Example:
        conformance run --profile interop-pol-core --spec openapi.yaml
        conformance run --profile interop-pol-core --spec https://api.example/openapi.json -k "C9"
        conformance run --profile interop-pol-core --spec openapi.yaml --sign-key supplier.key
        conformance run --profile interop-pol-core --spec openapi.yaml \\
            --base-url https://sandbox.example/v1 --auth client.yaml --ca-bundle ca.pem
        conformance run --profile interop-pol-core --base-url https://sandbox.example/v1 --auth a.yaml \\
            --allow-writes --data-dictionary pole-catalogue.csv \\
            --peer-base-url https://other.example/v1 --peer-auth b.yaml --peer-allow-writes
    """
    from .harness import run_profile, sign_run
    from .plugin import RunSettings, load_document, peer_config_from, served_spec_url, target_config_from
    from .profiles import load_profile
    from .report import parse_formats

    parse_formats(formats)  # flag errors before any work
    if cert is not None and sign_key is None:
        raise UsageError("--cert needs --sign-key")
    passphrase = _signing_passphrase(sign_key) if sign_key is not None else None
    peer_flags = (peer_auth, peer_ca_bundle, peer_spec, peer_allow_writes or None)
    if peer_base_url is None and any(flag is not None for flag in peer_flags):
        raise UsageError(
            "--peer-auth, --peer-ca-bundle, --peer-spec and --peer-allow-writes need --peer-base-url"
        )
    profile = load_profile(profile_ref)
    settings = RunSettings(
        profile=profile_ref,
        spec=spec_source,
        out_dir=out_dir,
        formats=formats,
        product=product,
        allow_remote_refs=allow_remote_refs,
        max_spec_bytes=max_spec_size * 1024 * 1024,
        base_url=base_url,
        auth_file=auth_file,
        ca_bundle=ca_bundle,
        rate=rate,
        timeout=timeout,
        allow_writes=allow_writes,
        config_file=config_file,
        data_dictionary=data_dictionary,
        peer=peer_config_from(
            base_url=peer_base_url,
            auth_file=peer_auth,
            ca_bundle=peer_ca_bundle,
            rate=rate,
            timeout=timeout,
            allow_writes=peer_allow_writes,
        ),
        peer_spec=peer_spec,
    )
    target = target_config_from(settings)
    if spec_source is None and target is None:
        raise UsageError("give --spec (a document), --base-url (a live API), or both")
    source = spec_source or served_spec_url(target)
    assert source is not None
    spec = load_document(source, settings, target)
    for issue in spec.issues:
        if issue.kind == "remote-ref":
            click.echo(f"warning: {source}:{issue.loc.partition('#')[2] or '/'}: {issue.message}", err=True)
    settings = replace(settings, spec=source, target=target)
    with _progress(profile, quiet=quiet or as_json) as progress:
        state = run_profile(settings, profile=profile, spec=spec, selection=selection, progress=progress)
    signature = None
    if sign_key is not None:
        info = sign_run(state, sign_key, cert=cert, passphrase=passphrase)
        for warning in info.warnings:
            click.echo(f"warning: {warning}", err=True)
        signature = info.to_dict()
    _show(state, as_json=as_json, quiet=quiet, signature=signature)
    return state.exit_code


@contextmanager
def _progress(profile: Any, *, quiet: bool) -> Iterator[Any]:
    """A rich progress bar on stderr while requirements run (live checks can take a while)."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=_stderr_console(), transient=True) as bar:
        task = bar.add_task("checking", total=len(profile.requirements))

        def advance(requirement: Any, outcome: Any) -> None:
            bar.update(task, advance=1, description=f"{requirement.id} {outcome.status.value}")

        yield advance


def _signing_passphrase(key: Path) -> bytes | None:
    """Ask for (and check) the key's passphrase before the run, so an unattended run never waits at the end."""
    from .attest.keys import load_signing_key
    from .cli_attest import obtain_passphrase

    passphrase = obtain_passphrase(key)
    load_signing_key(key, passphrase)  # a wrong passphrase fails now, not after the run
    return passphrase


def _show(state: Any, *, as_json: bool, quiet: bool, signature: dict[str, Any] | None = None) -> None:
    from .report.json_render import canonical_bytes
    from .report.terminal import print_summary

    report = state.report
    written = state.written
    if as_json:
        sys.stdout.buffer.write(canonical_bytes(report))
        sys.stdout.flush()
    if quiet:
        click.echo(f"{report['verdict']['status']}: {report['verdict']['reason']}", err=True)
    else:
        paths = list(written.files.values()) if written is not None else []
        print_summary(report, _stderr_console(), paths=paths, signature=signature)
    if written is not None:
        for problem in written.errors:
            click.echo(f"error: could not write {problem} (report.json is complete)", err=True)


# -- demo ---------------------------------------------------------------------------------------------
@cli.command()
@click.option(
    "--out",
    "out_dir",
    default="reports",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder that receives the report folders.",
)
@click.option(
    "--format", "formats", default="all", show_default=True, metavar="LIST", help="Report formats to write."
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="NAME",
    help="Start the reference supplier with this fault switch (repeatable); see `conformance reference "
    "serve --list-faults`.",
)
@click.option(
    "--flawed-document",
    is_flag=True,
    help="Also run the static checks on a deliberately flawed copy of the reference document.",
)
def demo(out_dir: Path, formats: str, faults: tuple[str, ...], flawed_document: bool) -> int:
    """Run everything against the bundled reference supplier: static and live, signed and verified.

    Starts the reference supplier (a model POLE / mutual-aid API) on a free loopback port with TLS from a
    throw-away CA, runs the core profile against its document and the running server, signs the report
    with a clearly labelled demo key, verifies it, prints the verdict and the report's path, and stops the
    server. Exits with the run's verdict code. `--fault` breaks one behaviour to show a failing run.

    \b
    Example:
        conformance demo
        conformance demo --fault ignore-auth      # breaks a MUST: NOT CONFORMANT, exit 1
        conformance demo --flawed-document --out /tmp/demo-reports
    """
    from .demo import run_demo
    from .reference.server import FAULTS

    unknown = [f for f in faults if f not in FAULTS]
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], list(FAULTS), n=1)
        hint = f"did you mean '{close[0]}'?" if close else "see `conformance reference serve --list-faults`"
        raise UsageError(f"unknown fault '{unknown[0]}'", hint=hint)
    with _progress_for_demo() as progress:
        return run_demo(
            out_dir=out_dir,
            formats=formats,
            console=_stderr_console(),
            faults=faults,
            flawed_document=flawed_document,
            progress=progress,
        )


@contextmanager
def _progress_for_demo() -> Iterator[Any]:
    from .profiles import load_profile

    with _progress(load_profile("interop-pol-core"), quiet=False) as progress:
        yield progress


# -- profiles -----------------------------------------------------------------------------------------
@cli.group()
def profiles() -> None:
    """List, show and lint profiles.

    \b
    Example:
        conformance profiles list
        conformance profiles show interop-pol-core
    """


@profiles.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def profiles_list(as_json: bool) -> int:
    """List the profiles that can be named by id.

    \b
    Example:
        conformance profiles list
    """
    import json

    from .profiles import bundled_profiles, load_profile

    rows = []
    for profile_id, version, path in bundled_profiles():
        profile = load_profile(path)
        rows.append(
            {
                "id": profile_id,
                "version": version,
                "title": profile.title,
                "requirements": len(profile.requirements),
                "path": str(path),
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        click.echo(f"{row['id']}@{row['version']}  {row['title']}  ({row['requirements']} requirements)")
    return 0


@profiles.command("show")
@click.argument("ref", metavar="ID|PATH")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def profiles_show(ref: str, as_json: bool) -> int:
    """Show a profile's requirements, levels and checks.

    \b
    Example:
        conformance profiles show interop-pol-core
        conformance profiles show interop-pol-core@0.1.0 --json
    """
    import json

    from .profiles import load_profile

    profile = load_profile(ref)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "id": profile.id,
                    "version": profile.version,
                    "title": profile.title,
                    "sha256": profile.sha256,
                    "requirements": [
                        {
                            "id": r.id,
                            "commitment": r.commitment,
                            "level": r.level.value,
                            "title": r.title,
                            "check": r.check,
                            "params": dict(r.params),
                            "references": list(r.references),
                            "reconstructed": r.reconstructed,
                        }
                        for r in profile.requirements
                    ],
                },
                indent=2,
            )
        )
        return 0
    click.echo(f"{profile.id} {profile.version} — {profile.title}")
    click.echo(f"file {profile.path}  sha256 {profile.sha256}")
    for req in profile.requirements:
        mark = " [R]" if req.reconstructed else ""
        click.echo(
            f"  {req.id:<12} {req.level.value:<6} {req.commitment:<4} {req.title}{mark}  ({req.check})"
        )
    return 0


@profiles.command("lint")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def profiles_lint(paths: Sequence[Path]) -> int:
    """Validate profile files (schema, checks, parameters, extends). Exit 2 on the first error.

    \b
    Example:
        conformance profiles lint profiles/
    """
    from .profiles import load_profile

    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.rglob("*.y*ml")) if path.is_dir() else [path])
    for file in files:
        profile = load_profile(file)
        click.echo(f"OK: {file} ({profile.id} {profile.version}, {len(profile.requirements)} requirements)")
    return 0


# -- checks -------------------------------------------------------------------------------------------
@cli.group()
def checks() -> None:
    """Inspect the check catalogue.

    \b
    Example:
        conformance checks list
    """


@checks.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--mode", type=click.Choice(["static", "live"]), help="Only checks of this mode.")
def checks_list(as_json: bool, mode: str | None) -> int:
    """List every registered check with its mode, parameters and references.

    \b
    Example:
        conformance checks list --mode static
    """
    import json

    from . import checks as _builtins  # noqa: F401 - registers the built-in checks
    from .registry import CHECKS

    specs = [c for c in CHECKS.all() if mode is None or c.mode.value == mode]
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "id": c.id,
                        "mode": c.mode.value,
                        "title": c.title,
                        "params": dict(c.params),
                        "references": list(c.references),
                    }
                    for c in specs
                ],
                indent=2,
            )
        )
        return 0
    for spec in specs:
        params = ", ".join(f"{k}={v!r}" for k, v in spec.params.items())
        click.echo(f"{spec.id:<44} {spec.mode.value:<6} {spec.title}" + (f"  [{params}]" if params else ""))
    return 0


# -- signed reports -----------------------------------------------------------------------------------
def _register_attest_commands() -> None:
    from .cli_attest import COMMANDS

    for command in COMMANDS:
        cli.add_command(command)


_register_attest_commands()


def _register_reference_commands() -> None:
    from .reference.cli import reference_group

    cli.add_command(reference_group)


_register_reference_commands()


# -- entry point --------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point; returns the process exit code."""
    try:
        result = cli.main(
            args=list(argv) if argv is not None else None, prog_name="conformance", standalone_mode=False
        )
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return int(ExitCode.USAGE)
    except click.ClickException as exc:
        exc.show()
        return int(ExitCode.USAGE)
    except ConformanceError as exc:
        if _State.verbose:
            traceback.print_exc()
        kind = "error" if not isinstance(exc, UsageError) else "usage error"
        click.echo(f"{kind}: {exc}", err=True)
        return int(getattr(exc, "exit_code", ExitCode.USAGE))
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    except Exception as exc:
        if _State.verbose:
            traceback.print_exc()
        click.echo(
            f"internal error: {type(exc).__name__}: {exc} (this is a bug; rerun with -v for details)",
            err=True,
        )
        return int(ExitCode.INTERNAL)
    if isinstance(result, int):
        return result
    return int(ExitCode.OK)
