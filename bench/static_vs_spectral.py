"""Benchmark: the static run of the core profile against Spectral (`spectral:oas`), in the same run.

For each document it runs, as separate processes and measured the same way (wall time and peak RSS
from ``wait4``):

* ``conformance run --profile interop-pol-core --spec DOC --format all`` (every report format), and
* ``spectral lint -r <extends: [spectral:oas]> -f json DOC``,

then prints both and the ratios. It also measures YAML loading (our loader against PyYAML's C
SafeLoader, in-process) and how the static run scales with the number of operations (synthetic
documents with 1k and 10k operations).

Usage (see bench/README.md for setting up the peers)::

    python bench/static_vs_spectral.py [--spectral PATH] [--github-json PATH] [--repeat 3] [--quick]

Targets (issue 2): static run ≤ 0.2× Spectral's wall time and ≤ 0.5× its peak RSS per document;
YAML loading ≥ 5× faster than PyYAML's C loader; 10k operations ≤ 12× the time of 1k.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = ROOT.parent / "shared" / "corpus"
RESULTS = HERE / "results"


@dataclass(frozen=True)
class Measure:
    seconds: float
    peak_rss_mib: float
    exit_code: int


# Peak RSS is read with wait4 by a small wrapper process: a child forked straight from this (large)
# benchmark process would inherit its high-water mark, and ru_maxrss would report ours, not its own.
_WRAPPER = """
import json, os, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
print(json.dumps([time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status)]))
"""


def measure(argv: list[str]) -> Measure:
    """Run a command; return its wall time, its own peak RSS (ru_maxrss is KiB on Linux) and exit code."""
    done = subprocess.run([sys.executable, "-c", _WRAPPER, *argv], capture_output=True, text=True, check=True)
    seconds, max_rss_kib, code = json.loads(done.stdout)
    return Measure(seconds, max_rss_kib / 1024, code)


def best_of(argv: list[str], repeat: int) -> Measure:
    """The median of ``repeat`` runs (time and RSS each), which a single slow run on a busy machine cannot move."""
    return median_of([measure(argv) for _ in range(repeat)])


def median_of(runs: list[Measure]) -> Measure:
    return Measure(
        statistics.median(r.seconds for r in runs),
        statistics.median(r.peak_rss_mib for r in runs),
        runs[-1].exit_code,
    )


def conformance_argv(doc: Path, out: Path) -> list[str]:
    exe = shutil.which("conformance") or str(Path(sys.executable).with_name("conformance"))
    return [
        exe,
        "run",
        "--profile",
        "interop-pol-core",
        "--spec",
        str(doc),
        "--out",
        str(out),
        "--format",
        "all",
        "-q",
    ]


def spectral_argv(spectral: str, doc: Path, ruleset: Path) -> list[str]:
    return [spectral, "lint", "-r", str(ruleset), "-f", "json", "-q", str(doc)]


def yaml_loading(docs: list[Path], repeat: int) -> list[dict[str, Any]]:
    import yaml

    from conformance.spec import _read

    rows = []
    for doc in docs:
        raw = doc.read_bytes()
        text = raw.decode("utf-8")
        ours = min(_timed(_read.parse, raw, uri=str(doc), display=doc.name) for _ in range(repeat))
        pyyaml = min(_timed(yaml.load, text, Loader=yaml.CSafeLoader) for _ in range(repeat))
        rows.append(
            {
                "document": doc.name,
                "mib": round(len(raw) / 1048576, 2),
                "ours_s": round(ours, 3),
                "pyyaml_c_s": round(pyyaml, 3),
                "speedup": round(pyyaml / ours, 1),
            }
        )
    return rows


def _timed(fn: Any, *args: Any, **kwargs: Any) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


def synthetic(operations: int, folder: Path) -> Path:
    """A document with ``operations`` operations (half list/create pairs) and one schema per resource."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for i in range(operations // 2):
        name = f"Resource{i}"
        schemas[name] = {
            "type": "object",
            "description": f"Resource {i}.",
            "properties": {
                "id": {"type": "string", "format": "uuid", "description": "Identifier.", "example": "0d3f"},
                "title": {"type": "string", "description": "Title.", "example": "A title"},
                "createdAt": {
                    "type": "string",
                    "format": "date-time",
                    "description": "Created.",
                    "example": "2026-01-01T00:00:00Z",
                },
            },
        }
        ref = {"$ref": f"#/components/schemas/{name}"}
        paths[f"/resources-{i}"] = {
            "get": {
                "operationId": f"list{i}",
                "summary": "List",
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": ref}}}},
            },
            "post": {
                "operationId": f"create{i}",
                "summary": "Create",
                "requestBody": {"content": {"application/json": {"schema": ref}}},
                "responses": {"201": {"description": "ok", "content": {"application/json": {"schema": ref}}}},
            },
        }
    doc = {
        "openapi": "3.1.0",
        "info": {"title": f"Synthetic {operations}", "version": "1.0.0"},
        "servers": [{"url": "https://api.example.org/v1"}],
        "paths": paths,
        "components": {"schemas": schemas},
    }
    path = folder / f"synthetic-{operations}.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--spectral",
        default=os.environ.get("SPECTRAL") or str(HERE / ".npm" / "node_modules" / ".bin" / "spectral"),
    )
    parser.add_argument(
        "--github-json",
        default=str(
            HERE / ".npm" / "node_modules" / "@octokit" / "openapi" / "generated" / "api.github.com.json"
        ),
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--quick", action="store_true", help="skip the GitHub documents (Spectral takes minutes on them)"
    )
    args = parser.parse_args()

    RESULTS.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    ruleset = work / "spectral.yaml"
    ruleset.write_text('extends: ["spectral:oas"]\n', encoding="utf-8")
    docs = [CORPUS / "kubernetes-swagger-2025-12.json", CORPUS / "twilio_api_v2010.json"]
    github_json = Path(args.github_json)
    if not args.quick and github_json.is_file():
        import yaml

        github_yaml = work / "api.github.com.yaml"
        github_yaml.write_text(
            yaml.dump(
                json.loads(github_json.read_text(encoding="utf-8")),
                Dumper=yaml.CSafeDumper,
                sort_keys=False,
                allow_unicode=True,
            ),
            encoding="utf-8",
        )
        docs += [github_json, github_yaml]
    elif not args.quick:
        print(f"note: {github_json} not found; install @octokit/openapi (bench/README.md) to include GitHub")

    have_spectral = Path(args.spectral).is_file() or shutil.which(args.spectral) is not None
    rows = []
    print(
        f"{'document':<34}{'MiB':>6}{'ours s':>9}{'ours MiB':>10}{'spectral s':>12}{'spectral MiB':>14}{'time x':>8}{'rss x':>7}"
    )
    for doc in docs:
        # Runs alternate (ours, Spectral, ours, …) so that both meet the same machine; Spectral takes minutes
        # on the GitHub documents, so those it runs once.
        spectral_runs = (args.repeat if doc.stat().st_size < 5 * 1048576 else 1) if have_spectral else 0
        ours_runs: list[Measure] = []
        their_runs: list[Measure] = []
        for i in range(args.repeat):
            ours_runs.append(measure(conformance_argv(doc, work / "out")))
            if i < spectral_runs:
                their_runs.append(measure(spectral_argv(args.spectral, doc, ruleset)))
        ours = median_of(ours_runs)
        theirs = median_of(their_runs) if their_runs else None
        row = {
            "document": doc.name,
            "mib": round(doc.stat().st_size / 1048576, 2),
            "ours_s": round(ours.seconds, 2),
            "ours_rss_mib": round(ours.peak_rss_mib, 1),
            "ours_exit": ours.exit_code,
            "spectral_s": round(theirs.seconds, 2) if theirs else None,
            "spectral_rss_mib": round(theirs.peak_rss_mib, 1) if theirs else None,
            "time_ratio": round(ours.seconds / theirs.seconds, 3) if theirs else None,
            "rss_ratio": round(ours.peak_rss_mib / theirs.peak_rss_mib, 3) if theirs else None,
        }
        rows.append(row)
        print(
            f"{doc.name[:33]:<34}{row['mib']:>6}{row['ours_s']:>9}{row['ours_rss_mib']:>10}{row['ours_exit']:>6}"
            f"{row['spectral_s'] or '-':>12}{row['spectral_rss_mib'] or '-':>14}{row['time_ratio'] or '-':>8}{row['rss_ratio'] or '-':>7}"
        )
    if not have_spectral:
        print(f"note: Spectral not found at {args.spectral}; ratios not computed (see bench/README.md)")

    yaml_docs = [d for d in docs if d.suffix in (".yaml", ".yml")] + sorted(CORPUS.glob("*.y*ml"))
    if not any(d.stat().st_size > 2 * 1048576 for d in yaml_docs):
        import yaml

        k8s_yaml = work / "kubernetes.yaml"
        k8s_yaml.write_text(
            yaml.dump(
                json.loads(docs[0].read_text(encoding="utf-8")), Dumper=yaml.CSafeDumper, sort_keys=False
            ),
            encoding="utf-8",
        )
        yaml_docs.insert(0, k8s_yaml)
    print("\nYAML loading (best of", args.repeat, ")")
    yaml_rows = yaml_loading(yaml_docs, args.repeat)
    for r in yaml_rows:
        print(
            f"  {r['document'][:40]:<42}{r['mib']:>6} MiB  ours {r['ours_s']:>6}s  PyYAML C {r['pyyaml_c_s']:>6}s  {r['speedup']}x"
        )

    print("\nScaling with operations")
    small = best_of(conformance_argv(synthetic(1000, work), work / "out"), args.repeat)
    large = best_of(conformance_argv(synthetic(10000, work), work / "out"), args.repeat)
    scaling = {
        "ops_1k_s": round(small.seconds, 2),
        "ops_10k_s": round(large.seconds, 2),
        "ratio": round(large.seconds / small.seconds, 2),
    }
    print(
        f"  1k ops {scaling['ops_1k_s']}s, 10k ops {scaling['ops_10k_s']}s: {scaling['ratio']}x (target <= 12x)"
    )

    result = {
        "static": rows,
        "yaml_loading": yaml_rows,
        "scaling": scaling,
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
    }
    out = RESULTS / f"static-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"\nwritten {out}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
