"""report.html: self-contained, complete for a reviewer, escaped, capped, fast, and it really renders."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import tempfile
import time
import zlib
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape

from conformance.report import html

from .conftest import CORPUS_DOCS, edge_reports, hostile_report, load_golden_report, many_findings_report

CHROMIUM = Path("/usr/bin/chromium")
# The shapes conformance.attest produces: SignatureInfo.to_dict() for the supplier's signature, and
# verify's Countersignature.to_dict() for a standards body's countersignature.
SIGNATURE = {
    "keyid": "sha256:9f2c4e1d0b7a",
    "algorithm": "ecdsa-p256-sha256",
    "subject": "CN=Acme Policing Systems Ltd <certification@acme.example>",
    "signed_at": "2026-01-02T03:05:00Z",
    "time_source": "self-asserted (the signer's own clock; no trusted timestamp)",
    "envelope_path": "/home/someone/reports/acme/report.intoto.jsonl",
    "envelope_name": "report.intoto.jsonl",
    "proves": "who signed this report and that report.json has not changed since it was signed.",
    "does_not_prove": "that the run was honest.",
    "spot_check": "re-run selected checks yourself and compare the outcomes.",
    "countersignatures": [
        {
            "signer": {
                "keyid": "sha256:77aa01bb",
                "algorithm": "ed25519",
                "subject": "CN=techUK InterOp-Pol certification panel",
                "certificate_checked": True,
                "signed_at": "2026-01-09T12:00:00Z",
                "time_source": "self-asserted",
            },
            "verifier_id": "https://interop-pol.uk/certification",
            "properties": ["IOP-C1-01", "IOP-C1-03"],
        }
    ],
}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Structure(HTMLParser):
    """Checks tags balance and collects headings and external references."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.headings: list[int] = []
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.text: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.styles: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.append((tag, values))
        if values.get("id"):
            self.ids.append(str(values["id"]))
        if tag == "a" and values.get("href"):
            self.hrefs.append(str(values["href"]))
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else 'nothing'}>")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] == "style":
            self.styles.append(data)
        else:
            self.text.append(data)


def _page(report: dict[str, Any], **kwargs: Any) -> tuple[str, _Structure]:
    text = html.render(report, **kwargs).decode("utf-8")
    parser = _Structure()
    parser.feed(text)
    parser.close()
    assert parser.problems == []
    assert parser.stack == []
    return text, parser


def _assert_self_contained(text: str) -> None:
    """Nothing on the page can make the browser fetch anything."""
    parser = _Structure()
    parser.feed(text)
    tags = {tag for tag, _ in parser.tags}
    assert not tags & {
        "script",
        "link",
        "img",
        "iframe",
        "object",
        "embed",
        "video",
        "audio",
        "source",
        "base",
    }
    for tag, attrs in parser.tags:
        assert "src" not in attrs, f"<{tag} src=...>"
        assert not {"srcset", "style", "background"} & set(attrs), tag
        for name in ("href", "action", "formaction", "poster", "data"):
            value = (attrs.get(name) or "").strip()
            assert not value or value.startswith("#"), f"<{tag} {name}={value!r}>"
    css = "".join(parser.styles)
    assert not re.search(r"url\s*\(|@import|@font-face", css, re.I), "no CSS that fetches"
    # The same, on the raw text, for anything the parser might read differently from a browser.
    assert not re.search(r"<\s*(script|link|img|iframe)\b", text, re.I)


@pytest.mark.parametrize("name", CORPUS_DOCS)
def test_corpus_reports(name: str, corpus_report: Callable[[str], dict[str, Any]]) -> None:
    """The page is self-contained and shows the verdict and every failed requirement."""
    report = corpus_report(name)
    text, parser = _page(report)
    _assert_self_contained(text)
    assert text.startswith('<!DOCTYPE html>\n<html lang="en-GB">')
    assert report["verdict"]["status"] in text
    for outcome in report["outcomes"]:
        assert outcome["id"] in text
        if outcome["status"] == "failed":
            assert f'id="req-{outcome["id"]}"' in text
    assert report["profile"]["sha256"] in text
    assert report["spec"]["sha256"] in text
    assert report["run_id"] in text
    assert "This report is not signed" in text
    assert all(href.startswith("#") and href[1:] in parser.ids for href in parser.hrefs)


def test_headings_are_semantic() -> None:
    """One h1, and no heading level is skipped on the way down."""
    _, parser = _page(load_golden_report())
    assert parser.headings.count(1) == 1
    assert parser.headings[0] == 1
    for before, after in zip(parser.headings, parser.headings[1:], strict=False):
        assert after <= before + 1, parser.headings


@pytest.mark.parametrize("case", sorted(edge_reports()))
def test_edge_cases_render(case: str) -> None:
    """Deselected, cantTell, no-document and full-scope reports all render, self-contained."""
    report = edge_reports()[case]()
    text, _ = _page(report)
    _assert_self_contained(text)
    for outcome in report["outcomes"]:
        if outcome["status"] == "cantTell":
            assert str(escape(outcome["reason"])) in text
    if report["selection"]["deselected"]:
        assert "were left out of this run" in text
    if report["spec"] is None:
        assert "No OpenAPI document was given for this run." in text
    if report["verdict"]["claimable"]:
        assert "This report can back a conformance claim." in text
    else:
        assert "This report cannot back a conformance claim" in text


def test_failures_are_ordered_must_first() -> None:
    """MUST failures come before SHOULD failures, which come before MAY ones."""
    text, _ = _page(load_golden_report())
    assert text.index('id="req-TINY-C1-01"') < text.index('id="req-TINY-C1-02"')
    assert text.index("MUST failures (1)") < text.index("SHOULD failures (1)")


def test_finding_details_are_shown() -> None:
    """Each finding shows where (operation, pointer, line and column), the message, expected, found and fix."""
    text, _ = _page(load_golden_report())
    assert "GET /persons" in text
    assert "openapi.yaml#/paths/~1persons/get" in text
    assert "line 12, column 7" in text
    assert "common/address.yaml#/Address" in text
    assert "Add operationId: listPersons." in text
    assert "MAJOR.MINOR.PATCH" in text
    assert "the check raised KeyError: &#39;securitySchemes&#39;" in text


def test_reconstructed_requirements_are_marked() -> None:
    """[R] marks reconstructed requirements and commitments, and About explains it."""
    text, _ = _page(load_golden_report())
    assert text.count(">[R]</abbr>") >= 3
    assert "marks a reconstructed clause" in text


def test_unsigned_notice() -> None:
    """Without a signature the page says, prominently, that it is not signed and what that means."""
    text, _ = _page(load_golden_report())
    assert "This report is not signed" in text
    assert "anyone could have edited" in text
    assert "conformance verify" in text
    assert "Signed report" not in text


def test_signature_and_what_it_proves() -> None:
    """With a signature: who signed, countersigners, and what a signature proves and does not."""
    text, _ = _page(load_golden_report(), signature=SIGNATURE)
    assert "This report is not signed" not in text
    assert "CN=Acme Policing Systems Ltd &lt;certification@acme.example&gt;" in text
    assert "sha256:9f2c4e1d0b7a" in text
    assert "ecdsa-p256-sha256" in text
    assert "2 January 2026, 03:05:00 UTC" in text
    assert "(self-asserted (the signer&#39;s own clock; no trusted timestamp))" in text
    assert "report.intoto.jsonl" in text
    assert "/home/someone" not in text  # a local path says nothing to a reader
    assert "CN=techUK InterOp-Pol certification panel" in text
    assert "https://interop-pol.uk/certification" in text
    assert "IOP-C1-01, IOP-C1-03" in text
    assert "What a signature proves — and what it does not" in text
    assert "<strong>It proves</strong> who signed this report" in text
    assert "<strong>It does not prove</strong> that the run was honest." in text
    assert "conformance run --profile tiny@1.0.0 --spec specs/openapi.yaml -k &#34;TINY-C1-01&#34;" in text


def test_signature_defaults_and_bare_keys() -> None:
    """A minimal signature dict still gets the honesty notes; a key without a certificate says so."""
    text, _ = _page(
        load_golden_report(), signature={"keyid": "sha256:00ff", "algorithm": "ed25519", "subject": None}
    )
    assert "a key without a certificate (no name was verified)" in text
    assert "<strong>It does not prove</strong> that the run was honest" in text
    assert "<strong>To spot-check</strong>, re-run selected checks yourself" in text


def test_signature_info_from_attest_renders() -> None:
    """The dict conformance.attest hands over (SignatureInfo.to_dict()) renders."""
    sign = pytest.importorskip("conformance.attest.sign", reason="conformance.attest is not available")
    info = sign.SignatureInfo(
        keyid="sha256:abcd",
        algorithm="ecdsa-p256-sha256",
        subject=None,
        signed_at="2026-01-02T03:05:00Z",
        envelope_path=Path("/tmp/x/report.intoto.jsonl"),
    )
    text, _ = _page(load_golden_report(), signature=info.to_dict())
    assert "sha256:abcd" in text
    assert "Signed report" in text


def test_hostile_text_is_escaped() -> None:
    """Markup from documents and findings is shown as text, never interpreted."""
    text, parser = _page(hostile_report())
    _assert_self_contained(text)
    assert "<script>" not in text
    assert "<img" not in text
    assert "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;" in text
    assert "&lt;b&gt;Evil&lt;/b&gt; &amp; Co" in text
    assert "<script>alert('owned')</script>" in "".join(parser.text)


def test_findings_are_capped() -> None:
    """At most MAX_FINDINGS_SHOWN findings per requirement, then 'and N more — see report.json'."""
    text, _ = _page(many_findings_report(10_000))
    assert text.count('<li class="finding">') == 3 * html.MAX_FINDINGS_SHOWN
    assert f"and {3334 - html.MAX_FINDINGS_SHOWN} more — see report.json" in text
    assert f"and {3333 - html.MAX_FINDINGS_SHOWN} more — see report.json" in text


def test_common_facts_are_said_once() -> None:
    """When every finding shares expected/found/fix, they are shown once above the list."""
    text, _ = _page(many_findings_report(300))
    assert text.count("How to fix</dt>") == 3
    assert "Common to every finding below:" in text


def test_ten_thousand_findings_render_fast() -> None:
    """A report with 10,000 findings renders in well under a second."""
    report = many_findings_report(10_000)
    html.render(report)  # template compiled once, as in a real run
    started = time.perf_counter()
    html.render(report)
    assert time.perf_counter() - started < 0.5


def test_deterministic() -> None:
    """The same report gives the same bytes, and the page carries no time but the report's own."""
    first = html.render(load_golden_report(), signature=SIGNATURE)
    assert html.render(load_golden_report(), signature=SIGNATURE) == first
    years = set(re.findall(rb"\b20\d\d\b", first))
    assert years == {b"2026"}


def _png_facts(data: bytes) -> tuple[int, int, int]:
    """(width, height, distinct byte values in the decompressed image data) of a PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    idat, pos = b"", 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return width, height, len(set(zlib.decompress(idat)))


def test_chromium_renders_the_page(tmp_path: Path) -> None:
    """Headless Chromium renders report.html (desktop and phone widths) into a picture with real content."""
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        pytest.skip(f"{CHROMIUM} is not installed: cannot check the page in a browser")
    page = tmp_path / "report.html"
    page.write_bytes(html.render(load_golden_report(), signature=SIGNATURE))
    for width, height in ((1280, 1600), (390, 1600)):
        shot = tmp_path / f"shot-{width}.png"
        with tempfile.TemporaryDirectory() as profile_dir:
            subprocess.run(
                [
                    str(CHROMIUM),
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    f"--user-data-dir={profile_dir}",
                    f"--window-size={width},{height}",
                    f"--screenshot={shot}",
                    page.as_uri(),
                ],
                check=True,
                capture_output=True,
                timeout=120,
            )
        png_width, png_height, distinct = _png_facts(shot.read_bytes())
        assert (png_width, png_height) == (width, height)
        assert distinct > 40, "the screenshot is (nearly) blank"
        assert shot.stat().st_size > 20_000


@pytest.mark.parametrize(
    "snippet",
    [
        '<img src="https://example.org/x.png">',
        '<link rel="stylesheet" href="https://example.org/x.css">',
        '<script src="https://example.org/x.js"></script>',
        "<style>body { background: url(https://example.org/x.png) }</style>",
        '<a href="https://example.org/">x</a>',
    ],
)
def test_self_containment_check_catches_fetches(snippet: str) -> None:
    """The self-containment check itself fails on each kind of external resource."""
    text = html.render(load_golden_report()).decode("utf-8").replace("</main>", snippet + "</main>")
    with pytest.raises(AssertionError):
        _assert_self_contained(text)
