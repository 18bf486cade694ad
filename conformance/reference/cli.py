"""``conformance reference``: run the bundled reference supplier from the command line.

``reference_group`` is a click group; ``conformance.cli`` registers it. ``serve`` starts the server on
loopback, prints where everything is (URLs, the CA bundle, the client ids) and where the client
secrets were written (a 0600 file), and runs until Ctrl-C. Secrets are never printed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import click

__all__ = ["reference_group"]

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group("reference", context_settings=CONTEXT_SETTINGS)
def reference_group() -> None:
    """Run the bundled reference supplier (a real HTTPS API with fault switches).

    \b
    Example:
        conformance reference serve
        conformance reference serve --fault ignore-auth --fault no-hsts
        conformance reference serve --list-faults
    """


def _check_faults(ctx: click.Context, param: click.Parameter, value: Sequence[str]) -> tuple[str, ...]:
    from .server.faults import validate_fault_names

    try:
        validate_fault_names(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    return tuple(value)


def _list_faults() -> None:
    from .server.faults import FAULTS, TLS_FAULTS

    width = max(len(name) for name in FAULTS)
    for fault in FAULTS.values():
        when = "  (start only)" if fault.name in TLS_FAULTS else ""
        click.echo(f"{fault.name:<{width}}  {fault.requirement:<11} {fault.description}{when}")


def _env_name(key: str) -> str:
    return key.upper().replace("-", "_")


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to a file that is 0600 before any secret is in it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        os.fchmod(out.fileno(), 0o600)  # an existing file keeps its old mode otherwise
        out.write(text)


def _secret_file(path: Path, key: str) -> Path:
    return path.with_name(f"{path.stem}.{key}.secret")


def _write_credentials(path: Path, server: object) -> None:
    """Write an env-var file with the client ids and secrets, and one file per client holding just its
    secret (for a harness configured with a secret file rather than an environment variable)."""
    from .server import ReferenceServer

    assert isinstance(server, ReferenceServer)
    lines = [
        "# Reference supplier client credentials (synthetic test forces). Valid until the server stops.",
        f"CONFORMANCE_TOKEN_URL={server.token_url}",
        f"CONFORMANCE_BASE_URL={server.base_url}",
        f"CONFORMANCE_CA_BUNDLE={server.ca_bundle}",
    ]
    for key, client in server.clients.items():
        prefix = f"CONFORMANCE_{_env_name(key)}"
        lines += [f"{prefix}_CLIENT_ID={client.client_id}", f"{prefix}_CLIENT_SECRET={client.client_secret}"]
    _write_private(path, "\n".join(lines) + "\n")
    for key, client in server.clients.items():
        _write_private(_secret_file(path, key), client.client_secret + "\n")


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@reference_group.command("serve")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="HTTPS port (0: any free port).",
)
@click.option(
    "--http-port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Plain-HTTP port (0: any free port).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (loopback: 127.0.0.1 or ::1).",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="NAME",
    callback=_check_faults,
    help="Break one behaviour (repeatable); see --list-faults.",
)
@click.option("--list-faults", is_flag=True, help="List the fault switches and exit.")
@click.option("--oidc", is_flag=True, help="Also publish OpenID Connect discovery and a JWKS.")
@click.option("--no-seed", is_flag=True, help="Start with no records (default: synthetic sample data).")
@click.option(
    "--seed-records",
    type=click.IntRange(0, None),
    default=0,
    show_default=True,
    metavar="N",
    help="Add N synthetic records of each POLE type to force A (for benchmarks).",
)
@click.option(
    "--rate-limit",
    type=click.IntRange(1, None),
    default=600,
    show_default=True,
    metavar="N",
    help="Requests a minute per client before 429.",
)
@click.option(
    "--credentials-out",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="PATH",
    help="Write the client secrets here (mode 0600). Default: a new temporary folder, removed on exit.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON line with the URLs, CA and credential files (for a program that started the server).",
)
def serve(
    port: int,
    http_port: int,
    host: str,
    faults: tuple[str, ...],
    list_faults: bool,
    oidc: bool,
    no_seed: bool,
    seed_records: int,
    rate_limit: int,
    credentials_out: Path | None,
    as_json: bool,
) -> int:
    """Start the reference supplier on loopback with TLS and run until Ctrl-C.

    Prints the API base URL, token URL, OpenAPI URL, plain-HTTP URL, the throw-away CA to trust, the
    client ids and the file holding the client secrets (never the secrets themselves).

    \b
    Example:
        conformance reference serve
        conformance reference serve --port 8443 --credentials-out ./reference.env
        conformance reference serve --fault ignore-auth --fault no-hsts
        conformance reference serve --oidc --fault oidc-alg-none
    """
    from .server import ReferenceServer

    if list_faults:
        _list_faults()
        return 0
    try:
        server = ReferenceServer(
            port=port,
            http_port=http_port,
            host=host,
            faults=faults,
            oidc=oidc,
            seed_data=not no_seed,
            seed_records=seed_records,
            rate_limit_per_minute=rate_limit,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    temp_folder = None
    if credentials_out is None:
        temp_folder = Path(tempfile.mkdtemp(prefix="reference-supplier-credentials-"))
        credentials_out = temp_folder / "credentials.env"
    try:
        server.start()
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}: {exc.strerror or exc}") from None
    try:
        _write_credentials(credentials_out, server)
        if as_json:
            click.echo(json.dumps(_where(server, credentials_out, seed_records)))
        else:
            _describe(server, credentials_out, seed_records, oidc=oidc)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _raise_interrupt)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            click.echo("Stopping.", err=True)
    finally:
        server.stop()
        if temp_folder is not None:
            shutil.rmtree(temp_folder, ignore_errors=True)
    return 0


def _where(server: Any, credentials_out: Path, seed_records: int) -> dict[str, Any]:
    """Where everything is, for a program that started the server (never a secret: secret files only)."""
    return {
        "base_url": server.base_url,
        "token_url": server.token_url,
        "spec_url": server.spec_url,
        "plain_http_url": server.plain_http_url,
        "ca_bundle": str(server.ca_bundle),
        "credentials": str(credentials_out),
        "clients": {
            key: {
                "client_id": client.client_id,
                "tenant": client.tenant,
                "scopes": list(client.scopes),
                "secret_file": str(_secret_file(credentials_out, key)),
            }
            for key, client in server.clients.items()
        },
        "seed_records": seed_records,
        "faults": sorted(server.faults),
    }


def _describe(server: Any, credentials_out: Path, seed_records: int, *, oidc: bool) -> None:
    active = ", ".join(sorted(server.faults)) or "none"
    click.echo(f"Reference supplier running (faults: {active})")
    click.echo(f"  API base URL    {server.base_url}")
    click.echo(f"  token URL       {server.token_url}")
    click.echo(f"  OpenAPI         {server.spec_url}  (also {server.base_url}/openapi.yaml)")
    click.echo(f"  plain HTTP      {server.plain_http_url}")
    click.echo(f"  CA bundle       {server.ca_bundle}")
    if seed_records:
        click.echo(f"  seed records    {seed_records} per POLE type in force A")
    if oidc:
        click.echo(f"  OIDC discovery  {server.origin}/.well-known/openid-configuration")
    for key, client in server.clients.items():
        click.echo(f"  {key:<15} client id {client.client_id}  (force {client.tenant})")
        click.echo(f"  {'':<15} secret in {_secret_file(credentials_out, key)}  (mode 0600)")
    click.echo(f"  all credentials {credentials_out}  (mode 0600; environment variables)")
    click.echo(f"  use them with:  set -a; . {credentials_out}; set +a")
    click.echo("Press Ctrl-C to stop.")
