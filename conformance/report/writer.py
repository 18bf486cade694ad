"""Writing a report folder: ``reports/<product>-<UTC timestamp>/`` with the requested formats.

``report.json`` is written first and on its own: it is the signed artefact, and if a later renderer
fails the run's results are still on disk (the failure is reported, not swallowed).
"""

from __future__ import annotations

import enum
import importlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import ReportError

__all__ = ["ALL_FORMATS", "Format", "WrittenReport", "parse_formats", "report_folder", "write_report"]


class Format(str, enum.Enum):
    JSON = "json"
    HTML = "html"
    JUNIT = "junit"
    SARIF = "sarif"

    @property
    def filename(self) -> str:
        return {
            Format.JSON: "report.json",
            Format.HTML: "report.html",
            Format.JUNIT: "junit.xml",
            Format.SARIF: "report.sarif",
        }[self]


ALL_FORMATS = (Format.JSON, Format.HTML, Format.JUNIT, Format.SARIF)


def parse_formats(text: str | Iterable[str]) -> tuple[Format, ...]:
    """``"json,html"`` -> formats; JSON is always included (it is the signed artefact)."""
    items = [t.strip().lower() for t in (text.split(",") if isinstance(text, str) else text) if t.strip()]
    if not items or items == ["all"]:
        return ALL_FORMATS
    chosen: list[Format] = [Format.JSON]
    for item in items:
        try:
            fmt = Format(item)
        except ValueError:
            valid = ", ".join(f.value for f in Format)
            raise ReportError(f"unknown report format '{item}'", hint=f"choose from: {valid}, all") from None
        if fmt not in chosen:
            chosen.append(fmt)
    return tuple(chosen)


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:48].strip("-") or "report"


def report_folder(out_dir: Path, product: str, moment: datetime | None = None) -> Path:
    """A fresh folder under ``out_dir`` named after the product and the UTC time."""
    stamp = (moment or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    base = out_dir / f"{_slug(product)}-{stamp}"
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    try:
        candidate.mkdir(parents=True)
    except OSError as exc:
        raise ReportError(f"cannot create the report folder: {exc.strerror}", source=str(candidate)) from None
    return candidate


@dataclass(frozen=True, slots=True)
class WrittenReport:
    folder: Path
    files: Mapping[Format, Path]
    errors: tuple[str, ...]  # renderers that failed (report.json is still there)


_MODULES = {Format.JSON: "json_render", Format.HTML: "html", Format.JUNIT: "junit", Format.SARIF: "sarif"}


def _renderer(fmt: Format) -> Callable[..., bytes]:
    # Imported on demand: a JSON-only run (a CI gate) never loads Jinja2 or the XML writer.
    module = importlib.import_module(f"{__package__}.{_MODULES[fmt]}")
    render: Callable[..., bytes] = module.render
    return render


def write_report(report: Mapping[str, Any], folder: Path, formats: Iterable[Format]) -> WrittenReport:
    files: dict[Format, Path] = {}
    errors: list[str] = []
    ordered = sorted(set(formats) | {Format.JSON}, key=lambda f: ALL_FORMATS.index(f))
    for fmt in ordered:
        path = folder / fmt.filename
        try:
            if fmt is Format.HTML:
                from .exchanges import exchanges_for

                content = _renderer(fmt)(report, exchanges=exchanges_for(report, folder))
            else:
                content = _renderer(fmt)(report)
        except Exception as exc:
            if fmt is Format.JSON:
                raise ReportError(f"cannot serialise the report: {exc}", source=str(path)) from exc
            errors.append(f"{fmt.filename}: {type(exc).__name__}: {exc}")
            continue
        try:
            path.write_bytes(content)
        except OSError as exc:
            raise ReportError(f"cannot write: {exc.strerror}", source=str(path)) from None
        files[fmt] = path
    return WrittenReport(folder=folder, files=files, errors=tuple(errors))
