"""C5 — publish technical integration information: the document links to human documentation that
covers authentication, rate limits, versioning and deprecation (static check).

Sources: GOV.UK API technical and data standards, "Document your API"
(https://www.gov.uk/guidance/gds-api-technical-and-data-standards); GOV.UK guidance "Documenting APIs".
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from ..outcome import Finding
from ..registry import CheckContext, check
from ..spec import SpecIndex
from ._common import finding

_URL = re.compile(r"https?://[^\s<>()\[\]\"'`]+", re.IGNORECASE)
DEFAULT_TOPICS: dict[str, list[str]] = {
    "authentication": ["authenticat", "authoris", "authoriz", "oauth", "token"],
    "rate_limits": ["rate limit", "rate-limit", "quota", "throttl", "429"],
    "versioning": ["version"],
    "deprecation": ["deprecat", "sunset"],
}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


@check(
    id="openapi.docs.topics",
    mode="static",
    title="Documentation covers authentication, rate limits, versioning and deprecation",
    references=(
        'GOV.UK API technical and data standards, "Document your API"',
        'GOV.UK guidance, "Documenting APIs"',
    ),
    params={"topics": DEFAULT_TOPICS},
)
def docs_topics(ctx: CheckContext, *, topics: dict[str, list[str]]) -> Iterator[Finding]:
    """The document links to human documentation — a top-level ``externalDocs.url``, or an http(s) URL
    in ``info.description`` — and its own documentation text covers every topic in ``topics``.

    The text searched is ``info.description``, ``externalDocs.description``, the descriptions of tags
    (and of their ``externalDocs``) and of security schemes. A topic is covered when the text contains
    one of its keywords (case-insensitive substring: ``authoris`` matches *authorisation*). One finding
    per uncovered topic, and one when there is no link. The linked pages are not fetched."""
    data = ctx.spec.data
    index: SpecIndex = ctx.spec.index
    info = _mapping(data.get("info"))
    external = _mapping(data.get("externalDocs"))
    description = _text(info.get("description"))
    texts = [description, _text(external.get("description"))]
    tags = data.get("tags")
    for tag in tags if isinstance(tags, list) else []:
        tag = _mapping(tag)
        texts += [_text(tag.get("description")), _text(_mapping(tag.get("externalDocs")).get("description"))]
    texts += [_text(scheme.raw.get("description")) for scheme in index.security_schemes.values()]
    corpus = "\n".join(t for t in texts if t).lower()

    link = _text(external.get("url"))
    if link is None and description is not None:
        match = _URL.search(description)
        link = match.group(0) if match else None
    if link is None:
        yield finding(
            "No link to documentation",
            "The document does not link to human-readable documentation.",
            loc="#/externalDocs" if external else "#/info",
            expected="externalDocs.url, or a link in info.description",
            found="no documentation URL",
            fix="Add externalDocs: {description: Developer guide, url: https://…} pointing at the guide "
            "that covers onboarding, authentication, rate limits, versioning and deprecation.",
        )
    else:
        ctx.note(f"Documentation link: {link}")

    where = "#/info/description" if description else "#/info"
    for topic, keywords in topics.items():
        wanted = [k.lower() for k in keywords if k]
        if any(k in corpus for k in wanted):
            continue
        name = topic.replace("_", " ")
        yield finding(
            "Documentation topic not covered",
            f"The document's documentation text does not mention {name}.",
            loc=where,
            expected=f"{name} explained (one of: {', '.join(wanted)})",
            found="not mentioned in info.description, externalDocs, tag or security scheme descriptions",
            fix=f"Explain {name} in info.description (or the linked guide, summarised there): how it works "
            "for this API and where to find the details.",
        )
