"""RFC 9457 Problem Details: every error the reference supplier sends, in one shape.

Handlers raise ``ApiProblem``; the app turns it into an ``application/problem+json`` body with the
request's correlation id. Problem types are URIs under the supplier's developer site, as in the
document's examples. Nothing here ever includes exception text from Python: a problem's ``detail`` is
written for the API's user.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["PROBLEM_BASE", "ApiProblem", "FaultCrash", "FieldError", "problem_document"]

PROBLEM_BASE = "https://developer.reference-supplier.example/problems/"

# status -> (type slug, title); a raise may override both.
_DEFAULTS: Mapping[int, tuple[str, str]] = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    402: ("licence-required", "Licence required"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    413: ("content-too-large", "Content too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation", "The record is not valid"),
    429: ("rate-limited", "Too many requests"),
    500: ("internal-error", "Internal server error"),
}


@dataclass(frozen=True, slots=True)
class FieldError:
    """One invalid field of a request body: a JSON Pointer into the body and what is wrong."""

    pointer: str
    detail: str


class ApiProblem(Exception):
    """An error response. ``headers`` are added to the response (Allow, Retry-After, WWW-Authenticate).

    A plain exception class, not a frozen dataclass: the interpreter and ``contextlib`` assign
    ``__traceback__`` and ``__context__`` on exceptions, which a frozen dataclass would refuse.
    """

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        slug: str | None = None,
        title: str | None = None,
        headers: Mapping[str, str] | None = None,
        errors: Sequence[FieldError] = (),
        soft: bool = False,
    ) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.slug = slug
        self.title = title
        self.headers: Mapping[str, str] = dict(headers or {})
        self.errors = tuple(errors)
        # A 404 for something no force holds (an unknown path or id): the soft-404 fault turns these
        # into 200, while 404s that hide another force's record stay 404 (that is C9-12's business).
        self.soft = soft


class FaultCrash(Exception):
    """A 500 that a fault switch asks for. The app answers it like any unexpected error but does not log
    it: it is the behaviour under test, not a bug."""


def problem_document(
    problem: ApiProblem, *, instance: str | None, correlation_id: str | None
) -> dict[str, Any]:
    """The problem+json body (type, title, status, detail, instance, correlationId, errors)."""
    slug, title = _DEFAULTS.get(problem.status, ("error", "Error"))
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + (problem.slug or slug),
        "title": problem.title or title,
        "status": problem.status,
        "detail": problem.detail,
    }
    if instance:
        body["instance"] = instance
    if correlation_id:
        body["correlationId"] = correlation_id
    if problem.errors:
        body["errors"] = [{"pointer": e.pointer, "detail": e.detail} for e in problem.errors]
    return body
