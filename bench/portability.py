"""Benchmark: the C10 portability checks against 1k and 100k records — harness time and peak RSS.

For each size, the reference supplier runs in a process of its own (``python -m conformance.reference.server
--seed-records N``), so its memory is not counted, with N = total / 4 bulk records of each POLE type in force A
(1,000 and 100,000 records in all, plus the small sample; force B, the import target, keeps its sample only).
The harness is a second process that runs, through the library (``run_requirement`` on a ``LiveTarget``, as
``conformance run`` does), the three checks the benchmark is about, in a run's order:

* ``live.export.complete``   seed 5 per type, export, walk the list (pages of 500), export again, reconcile;
* ``live.export.open-formats`` stream every format (JSON, NDJSON, CSV) of every type and parse it;
* ``live.export.round-trip`` export everything from force A, import it into force B, re-export, compare,
  delete everything imported.

Its wall time and peak RSS are read with ``wait4`` through a small wrapper process (as in
``static_vs_spectral.py``: a child forked straight from this process would inherit its high-water mark). The
harness runs unpaced (``--rate 0``): the figures are the harness's own cost, not the politeness pace.

Usage::

    python bench/portability.py [--sizes 1000,100000] [--repeat 1] [--no-write]

Targets (issue 5): for 100x the records, the harness's peak RSS ≤ 1.5x and its time ≤ 110x. The figures are
written into this benchmark's section of ``bench/README.md`` unless ``--no-write`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
README = HERE / "README.md"
START, END = "<!-- portability:start -->", "<!-- portability:end -->"
CHECKS = ("live.export.complete", "live.export.open-formats", "live.export.round-trip")
TARGET_RSS, TARGET_TIME = 1.5, 110.0

# Peak RSS is read with wait4 by a small wrapper process (see static_vs_spectral.py).
_WRAPPER = """
import json, os, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
print(json.dumps([time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status)]))
"""


# -- the harness process -------------------------------------------------------------------------------------
def harness(where_file: Path, out: Path) -> int:
    """Run the checks against the server described in ``where_file``; write the outcomes to ``out``."""
    sys.path.insert(0, str(ROOT))
    import conformance.checks  # noqa: F401 - registers the checks
    from conformance.live import AuthConfig, AuthKind, LiveTarget, Secret, TargetConfig
    from conformance.outcome import Level
    from conformance.profiles import Requirement
    from conformance.reference import REFERENCE_SPEC
    from conformance.registry import CHECKS as REGISTRY
    from conformance.registry import CheckContext
    from conformance.runner import Scope, run_requirement
    from conformance.spec import load_spec

    where = json.loads(where_file.read_text(encoding="utf-8"))

    def client(key: str) -> AuthConfig:
        entry = where["clients"][key]
        secret = Path(entry["secret_file"]).read_text(encoding="utf-8").strip()
        return AuthConfig(
            kind=AuthKind.CLIENT_CREDENTIALS,
            token_url=where["token_url"],
            client_id=entry["client_id"],
            client_secret=Secret(secret, source=f"file:{entry['secret_file']}"),
            scopes=tuple(entry["scopes"]),
        )

    config = TargetConfig(
        base_url=where["base_url"],
        auth=client("force-a"),
        other_tenant=client("force-b"),
        ca_bundle=Path(where["ca_bundle"]),
        rate_per_second=0.0,
        allow_writes=True,
        sandbox=True,
    )
    spec = load_spec(str(REFERENCE_SPEC))
    results: dict[str, Any] = {}
    with LiveTarget.open(config, out / "evidence") as target:
        for check_id in CHECKS:
            check = REGISTRY.get(check_id)
            requirement = Requirement(
                id=f"BENCH-{check_id}",
                commitment="C10",
                level=Level.MUST,
                title=check.title,
                check=check_id,
                params=dict(check.params),
                overrides={},
                references=check.references,
                reconstructed=False,
                rationale=None,
                defined_in="bench",
            )
            target.set_requirement(requirement.id)
            ctx = CheckContext(spec=spec, target=target, requirement_id=requirement.id)
            outcome = run_requirement(requirement, ctx, scope=Scope.FULL)
            results[check_id] = {
                "status": outcome.status.value,
                "reason": outcome.reason,
                "findings": [f.title for f in outcome.findings],
                "seconds": round(outcome.duration_ms / 1000, 2),
                "tables": [[list(row) for row in table.rows] for table in outcome.tables],
            }
    (out / "outcomes.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0 if all(r["status"] == "passed" for r in results.values()) else 1


# -- the driver ------------------------------------------------------------------------------------------------
def start_server(per_type: int, folder: Path) -> tuple[subprocess.Popen[str], Path, float]:
    argv = [
        sys.executable,
        "-m",
        "conformance.reference.server",
        "--seed-records",
        str(per_type),
        "--rate-limit",
        "100000000",
        "--credentials-out",
        str(folder / "credentials.env"),
        "--json",
    ]
    started = time.perf_counter()
    server = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    line = server.stdout.readline()
    if not line:
        server.wait(10)
        raise SystemExit(f"the reference server did not start (exit {server.returncode})")
    where = folder / "where.json"
    where.write_text(line, encoding="utf-8")
    return server, where, time.perf_counter() - started


def stop_server(server: subprocess.Popen[str]) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(10)


def measure(where: Path, out: Path) -> tuple[float, float, int]:
    argv = [sys.executable, str(Path(__file__).resolve()), "--harness", str(where), "--out", str(out)]
    done = subprocess.run([sys.executable, "-c", _WRAPPER, *argv], capture_output=True, text=True, check=True)
    seconds, max_rss_kib, code = json.loads(done.stdout)
    return seconds, max_rss_kib / 1024, code


def run_size(total: int, repeat: int) -> dict[str, Any]:
    per_type = total // 4
    runs: list[tuple[float, float, int]] = []
    outcomes: dict[str, Any] = {}
    server_start = 0.0
    for _ in range(repeat):
        folder = Path(tempfile.mkdtemp(prefix=f"bench-portability-{total}-"))
        server, where, server_start = start_server(per_type, folder)
        try:
            runs.append(measure(where, folder / "out"))
            outcomes = json.loads((folder / "out" / "outcomes.json").read_text(encoding="utf-8"))
            evidence = folder / "out" / "evidence" / "exchanges.ndjson"
            exchanges = evidence.read_bytes().count(b"\n") if evidence.exists() else 0
        finally:
            stop_server(server)
    return {
        "records": total,
        "per_type": per_type,
        "seconds": round(statistics.median(r[0] for r in runs), 2),
        "peak_rss_mib": round(statistics.median(r[1] for r in runs), 1),
        "exit": runs[-1][2],
        "exchanges": exchanges,
        "server_start_s": round(server_start, 1),
        "checks": {
            k: {"status": v["status"], "seconds": v["seconds"], "findings": v["findings"]}
            for k, v in outcomes.items()
        },
    }


def write_readme(rows: list[dict[str, Any]], ratios: dict[str, float]) -> None:
    import requests

    small, large = rows[0], rows[-1]
    lines = [
        START,
        f"Last run: {datetime.now(timezone.utc):%Y-%m-%d}; CPython {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{platform.machine()}; requests {requests.__version__}.",
        "",
        "| records in force A | per type | harness wall time | harness peak RSS | exchanges | "
        + " | ".join(c.split(".", 1)[1] for c in CHECKS)
        + " |",
        "|---:|---:|---:|---:|---:|" + "---|" * len(CHECKS),
    ]
    for row in rows:
        cells = [f"{row['checks'][c]['status']} {row['checks'][c]['seconds']} s" for c in CHECKS]
        lines.append(
            f"| {row['records']:,} | {row['per_type']:,} | {row['seconds']} s | {row['peak_rss_mib']} MiB | "
            f"{row['exchanges']:,} | " + " | ".join(cells) + " |"
        )
    meets_rss = "meets" if ratios["rss"] <= TARGET_RSS else "misses"
    meets_time = "meets" if ratios["time"] <= TARGET_TIME else "misses"
    lines += [
        f"| **ratio** {large['records'] // small['records']}× records | | **{ratios['time']}×** "
        f"(target ≤ {TARGET_TIME:g}×, {meets_time}) | **{ratios['rss']}×** (target ≤ {TARGET_RSS:g}×, {meets_rss}) | | "
        + " | " * (len(CHECKS) - 1)
        + " |",
        END,
    ]
    text = README.read_text(encoding="utf-8")
    block = "\n".join(lines)
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    README.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,100000", help="total records in force A, comma-separated")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="do not update bench/README.md")
    parser.add_argument("--harness", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.harness is not None:
        return harness(args.harness, args.out)
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    print(f"{'records':>9}{'per type':>10}{'wall s':>9}{'peak MiB':>10}{'exchanges':>11}  checks")
    for total in sizes:
        row = run_size(total, args.repeat)
        rows.append(row)
        checks = ", ".join(
            f"{c.split('.', 1)[1]} {v['status']} {v['seconds']}s" for c, v in row["checks"].items()
        )
        print(
            f"{total:>9,}{row['per_type']:>10,}{row['seconds']:>9}{row['peak_rss_mib']:>10}{row['exchanges']:>11,}  {checks}"
        )
    result: dict[str, Any] = {"sizes": rows, "python": sys.version.split()[0], "cpus": os.cpu_count()}
    if len(rows) >= 2:
        small, large = rows[0], rows[-1]
        ratios = {
            "time": round(large["seconds"] / small["seconds"], 1),
            "rss": round(large["peak_rss_mib"] / small["peak_rss_mib"], 2),
        }
        result["ratios"] = ratios
        factor = large["records"] / small["records"]
        print(
            f"\n{factor:g}x records: time {ratios['time']}x (target <= {TARGET_TIME:g}x), "
            f"peak RSS {ratios['rss']}x (target <= {TARGET_RSS:g}x)"
        )
        if not args.no_write:
            write_readme(rows, ratios)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"portability-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
