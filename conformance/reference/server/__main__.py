"""``python -m conformance.reference.server``: the reference supplier in a process of its own.

The same server as ``conformance reference serve``, plus ``--seed-records N`` (N synthetic records of each
POLE type in force A, for benchmarks) and ``--json`` (one JSON line on stdout saying where everything is,
for a program that started the process). Running the server in its own process lets a benchmark measure
the harness's memory without the server's. Client secrets are never printed: they are written to 0600
files, as ``serve`` does. Stops on Ctrl-C or SIGTERM.

Example::

    python -m conformance.reference.server --seed-records 25000 --rate-limit 1000000 --json
"""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType

import click

from ..cli import CONTEXT_SETTINGS, _check_faults, _secret_file, _write_credentials
from .runner import ReferenceServer

__all__ = ["main"]


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@click.command(context_settings=CONTEXT_SETTINGS)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="HTTPS port (0: any)."
)
@click.option(
    "--http-port", type=click.IntRange(0, 65535), default=0, show_default=True, help="Plain-HTTP port."
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to listen on.")
@click.option(
    "--fault", "faults", multiple=True, metavar="NAME", callback=_check_faults, help="Break one behaviour."
)
@click.option("--no-seed", is_flag=True, help="Start without the small synthetic sample.")
@click.option(
    "--seed-records",
    type=click.IntRange(0, None),
    default=0,
    show_default=True,
    metavar="N",
    help="Add N synthetic records of each POLE type to force A.",
)
@click.option(
    "--rate-limit", type=click.IntRange(1, None), default=600, show_default=True, metavar="N",
    help="Requests a minute per client before 429.",
)  # fmt: skip
@click.option(
    "--credentials-out",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="PATH",
    help="Write the client secrets here (mode 0600). Default: a temporary folder removed on exit.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON line with the URLs, CA and credential files."
)
def main(
    port: int,
    http_port: int,
    host: str,
    faults: tuple[str, ...],
    no_seed: bool,
    seed_records: int,
    rate_limit: int,
    credentials_out: Path | None,
    as_json: bool,
) -> None:
    """Run the reference supplier until Ctrl-C or SIGTERM.

    \b
    Example:
        python -m conformance.reference.server --seed-records 25000 --rate-limit 1000000 --json
    """
    try:
        server = ReferenceServer(
            port=port,
            http_port=http_port,
            host=host,
            faults=faults,
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
        clients = {
            key: {
                "client_id": client.client_id,
                "tenant": client.tenant,
                "scopes": list(client.scopes),
                "secret_file": str(_secret_file(credentials_out, key)),
            }
            for key, client in server.clients.items()
        }
        if as_json:
            where = {
                "base_url": server.base_url,
                "token_url": server.token_url,
                "spec_url": server.spec_url,
                "plain_http_url": server.plain_http_url,
                "ca_bundle": str(server.ca_bundle),
                "credentials": str(credentials_out),
                "clients": clients,
                "seed_records": seed_records,
                "faults": sorted(server.faults),
            }
            click.echo(json.dumps(where))
        else:
            click.echo(f"Reference supplier running (faults: {', '.join(sorted(server.faults)) or 'none'})")
            click.echo(f"  API base URL    {server.base_url}")
            click.echo(f"  token URL       {server.token_url}")
            click.echo(f"  OpenAPI         {server.spec_url}")
            click.echo(f"  CA bundle       {server.ca_bundle}")
            click.echo(f"  seed records    {seed_records} per POLE type in force A")
            for key, entry in clients.items():
                click.echo(f"  {key:<15} client id {entry['client_id']}  secret in {entry['secret_file']}")
            click.echo("Press Ctrl-C to stop.")
        sys.stdout.flush()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _stop)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    finally:
        server.stop()
        if temp_folder is not None:
            shutil.rmtree(temp_folder, ignore_errors=True)


if __name__ == "__main__":
    main()
