"""C5 documentation check: a link to human documentation covering the required topics."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.outcome import Status
from tests.conftest import CORPUS, check_outcome, corpus_names, corpus_spec, minimal_doc

_DESCRIPTION = (
    "Case API for police forces. Authentication uses OAuth 2.0 client credentials. Requests are rate "
    "limited (HTTP 429 with Retry-After). The major version is in the path; deprecated operations carry "
    "a Sunset header."
)


def _documented() -> dict[str, Any]:
    doc = minimal_doc()
    doc["info"]["description"] = _DESCRIPTION
    doc["externalDocs"] = {"description": "Developer guide", "url": "https://developer.example.police.uk/"}
    return doc


def test_docs_topics_pass(spec_from: Any) -> None:
    """A linked guide and a description covering every topic pass; the link is noted."""
    outcome = check_outcome("openapi.docs.topics", spec_from(_documented()))
    assert outcome.status is Status.PASSED
    assert outcome.notes == ("Documentation link: https://developer.example.police.uk/",)


def test_docs_topics_link_in_description_and_text_elsewhere(spec_from: Any) -> None:
    """A URL in info.description is a link; tag and security scheme descriptions count as text."""
    doc = minimal_doc()
    doc["info"]["description"] = (
        "See https://developer.example.police.uk/guide for versioning and deprecation."
    )
    doc["tags"] = [{"name": "cases", "description": "Quota: 100 requests per minute."}]
    doc["components"]["securitySchemes"] = {
        "oauth": {
            "type": "oauth2",
            "description": "Client credentials token.",
            "flows": {
                "clientCredentials": {"tokenUrl": "https://auth.example.police.uk/token", "scopes": {}}
            },
        }
    }
    assert check_outcome("openapi.docs.topics", spec_from(doc)).status is Status.PASSED


def test_docs_topics_missing_link_and_topics(spec_from: Any) -> None:
    """No link and uncovered topics are each reported, naming the topic."""
    doc = minimal_doc()
    doc["info"]["description"] = "Authentication uses OAuth 2.0."
    outcome = check_outcome("openapi.docs.topics", spec_from(doc))
    assert [(f.title, f.pointer) for f in outcome.findings] == [
        ("No link to documentation", "/info"),
        ("Documentation topic not covered", "/info/description"),
        ("Documentation topic not covered", "/info/description"),
        ("Documentation topic not covered", "/info/description"),
    ]
    assert [f.message for f in outcome.findings[1:]] == [
        "The document's documentation text does not mention rate limits.",
        "The document's documentation text does not mention versioning.",
        "The document's documentation text does not mention deprecation.",
    ]


def test_docs_topics_custom_topics(spec_from: Any) -> None:
    """The topics and their keywords are a parameter."""
    doc = _documented()
    outcome = check_outcome(
        "openapi.docs.topics", spec_from(doc), topics={"data_retention": ["retention", "MoPI"]}
    )
    assert [f.message for f in outcome.findings] == [
        "The document's documentation text does not mention data retention."
    ]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not available")
@pytest.mark.parametrize("name", corpus_names())
def test_docs_topics_decides_on_every_corpus_document(name: str) -> None:
    """On real documents the documentation check decides, never crashes."""
    outcome = check_outcome("openapi.docs.topics", corpus_spec(name))
    assert outcome.status in (Status.PASSED, Status.FAILED), outcome.reason
