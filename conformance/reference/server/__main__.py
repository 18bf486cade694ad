"""``python -m conformance.reference.server``: the reference supplier in a process of its own.

The same command as ``conformance reference serve`` (with ``--seed-records N`` and ``--json`` for a program
that starts the server, e.g. ``bench/portability.py``); running it as its own process lets a benchmark
measure the harness's memory without the server's. Stops on Ctrl-C or SIGTERM.

Example::

    python -m conformance.reference.server --seed-records 25000 --rate-limit 1000000 --json
"""

from __future__ import annotations

from ..cli import serve

if __name__ == "__main__":
    serve(prog_name="python -m conformance.reference.server")
