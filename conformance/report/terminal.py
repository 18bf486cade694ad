"""A short terminal summary of a report (rich): verdict, per-commitment picture, the worst failures."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = ["print_summary"]

_STYLE = {"CONFORMANT": "bold green", "NOT CONFORMANT": "bold red", "INCOMPLETE": "bold yellow"}
_MAX_FAILURES = 8
_MAX_FINDINGS = 3


def print_summary(
    report: Mapping[str, Any],
    console: Console,
    *,
    paths: Iterable[Path] = (),
    signature: Mapping[str, Any] | None = None,
) -> None:
    verdict = report["verdict"]
    scope = verdict["scope"]
    console.print()
    headline = Text(f" {verdict['status']} ", style=_STYLE.get(verdict["status"], "bold") + " reverse")
    headline.append(
        f"  {report['product']} against {report['profile']['id']} {report['profile']['version']}",
        style="bold",
    )
    console.print(headline)
    console.print(f"  {verdict['reason']}")
    if not verdict["claimable"]:
        console.print(f"  [dim]Not a conformance claim: {'; '.join(verdict['claim_blockers'])}.[/dim]")
    counts = verdict["counts"]
    console.print(
        f"  [green]{counts['passed']} passed[/]  [red]{counts['failed']} failed[/]  "
        f"[yellow]{counts['cantTell']} can't tell[/]  [dim]{counts['inapplicable']} inapplicable  "
        f"{counts['untested']} untested[/]   ({scope} scope)"
    )
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False, padding=(0, 2))
    table.add_column("Commitment")
    table.add_column("Passed", justify="right")
    table.add_column("Failed", justify="right")
    table.add_column("Other", justify="right")
    for commitment in report["commitments"]:
        c = commitment["counts"]
        if commitment["requirements"] == 0:
            continue
        failed = Text(
            str(c["failed"]),
            style="bold red" if commitment["failed_must"] else ("yellow" if c["failed"] else ""),
        )
        other = c["cantTell"] + c["inapplicable"] + c["untested"]
        table.add_row(f"{commitment['id']} {commitment['title']}", str(c["passed"]), failed, str(other))
    console.print(table)
    failures = [o for o in report["outcomes"] if o["status"] == "failed"]
    failures.sort(key=lambda o: ({"MUST": 0, "SHOULD": 1, "MAY": 2}[o["level"]], o["id"]))
    if failures:
        console.print("\n  [bold]Failures[/bold] (MUST first):")
    for outcome in failures[:_MAX_FAILURES]:
        style = "red" if outcome["level"] == "MUST" else "yellow"
        console.print(
            f"  [{style}]{outcome['level']:<6}[/] {outcome['id']}  {outcome['title']}  "
            f"[dim]({len(outcome['findings'])} finding(s))[/dim]",
            highlight=False,
        )
        for finding in outcome["findings"][:_MAX_FINDINGS]:
            where = finding.get("operation") or finding.get("pointer") or ""
            line = f" (line {finding['line']})" if "line" in finding else ""
            console.print(
                f"           [dim]{where}{line}:[/dim] {finding['message']}", highlight=False, soft_wrap=True
            )
    if len(failures) > _MAX_FAILURES:
        console.print(f"  … {len(failures) - _MAX_FAILURES} more failed requirement(s) in the report")
    cant = [o for o in report["outcomes"] if o["status"] == "cantTell"]
    for outcome in cant[:_MAX_FAILURES]:
        console.print(
            f"  [yellow]?[/] {outcome['id']} could not be determined: {outcome.get('reason', '')}",
            highlight=False,
        )
    if signature is None:
        console.print(
            "\n  [yellow]This report is not signed[/yellow]: anyone could have edited it "
            "(sign with --sign-key; see `conformance keygen`)."
        )
    else:
        who = signature.get("subject") or signature.get("keyid")
        console.print(
            f"\n  [green]Signed[/green] by {who} at {signature.get('signed_at')} "
            f"({signature.get('envelope_name', 'report.intoto.jsonl')}); the signing time is self-asserted.",
            highlight=False,
        )
    paths = list(paths)
    if paths:
        console.print("\n  Reports:")
        for path in paths:
            console.print(f"    {path}", highlight=False, soft_wrap=True)
    console.print(f"  exit code {verdict['exit_code']}\n")
