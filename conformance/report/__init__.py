"""Reports: the canonical report.json and its renderers (HTML, JUnit XML, SARIF, terminal)."""

from __future__ import annotations

from .model import HARNESS_NAME, SCHEMA_VERSION, RunResult, build_report, product_name
from .writer import ALL_FORMATS, Format, WrittenReport, parse_formats, report_folder, write_report

__all__ = [
    "ALL_FORMATS",
    "HARNESS_NAME",
    "SCHEMA_VERSION",
    "Format",
    "RunResult",
    "WrittenReport",
    "build_report",
    "parse_formats",
    "product_name",
    "report_folder",
    "write_report",
]
