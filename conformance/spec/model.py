"""The loaded OpenAPI document and the index every static check shares.

A *location* (``Loc``) is a URI reference into the loaded set of documents: ``#/components/schemas/Person``
for the main document, ``common/address.yaml#/Address`` for a file it references. Findings carry the
fragment as their JSON pointer and the file part as their document.

Swagger 2.0 is normalised into the same shape as OpenAPI 3 (a body parameter becomes a request body, a
response ``schema`` becomes content for each ``produces`` media type), so most checks apply to both.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..pointer import escape, unescape

Loc = str
"""A location: ``<document>#<json-pointer>``; the main document's name is empty."""

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
READ_METHODS = frozenset({"get", "head"})
WRITE_METHODS = frozenset({"post", "put", "patch"})


class SpecVersion(str, enum.Enum):
    """The OpenAPI family a document belongs to."""

    SWAGGER_2 = "2.0"
    OAS_3_0 = "3.0"
    OAS_3_1 = "3.1"

    @property
    def is_oas3(self) -> bool:
        return self is not SpecVersion.SWAGGER_2


escape_token = escape
unescape_token = unescape


def child(loc: Loc, *tokens: str | int) -> Loc:
    """The location of a descendant of ``loc``."""
    return loc + "".join("/" + escape_token(str(t)) for t in tokens)


def split_loc(loc: Loc) -> tuple[str | None, str]:
    """``(document or None for the main one, json pointer)``."""
    doc, _, pointer = loc.partition("#")
    return (doc or None), pointer


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceDocument:
    """One file (or URL) of the loaded document set, kept as read."""

    name: str  # relative to the main document's folder; "" for the main document
    uri: str  # absolute path or URL
    data: Any
    text: str
    sha256: str
    format: str  # "json" | "yaml"


@dataclass(frozen=True, slots=True, kw_only=True)
class SchemaNode:
    """One schema object at its own location (a ``$ref`` node is recorded, not inlined)."""

    loc: Loc
    schema: Mapping[str, Any] | bool
    parent: Loc | None
    keyword: str | None  # how the parent holds it: "properties", "items", "allOf", ...
    name: str | None  # property name when keyword == "properties"
    ref: Loc | None  # resolved target when the node is a $ref
    component: str | None  # component schema name when the node is (inside) a named component

    @property
    def mapping(self) -> Mapping[str, Any]:
        return self.schema if isinstance(self.schema, Mapping) else {}


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaType:
    media_type: str
    loc: Loc
    schema: Loc | None  # location of the schema node
    has_example: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Header:
    name: str
    loc: Loc
    schema: Loc | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Parameter:
    name: str
    location: str  # "query" | "path" | "header" | "cookie" | "formData" (2.0)
    loc: Loc
    required: bool
    schema: Loc | None
    raw: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestBody:
    loc: Loc
    required: bool
    content: tuple[MediaType, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Response:
    status: str  # "200", "4XX", "default"
    loc: Loc
    description: str | None
    content: tuple[MediaType, ...]
    headers: tuple[Header, ...]

    @property
    def status_class(self) -> str:
        """ "2", "4", "5", … or "default"."""
        return "default" if self.status == "default" else self.status[:1]


@dataclass(frozen=True, slots=True, kw_only=True)
class SecurityRequirement:
    """One alternative of a ``security`` list: every named scheme is needed together."""

    schemes: tuple[tuple[str, tuple[str, ...]], ...]  # (scheme name, scopes)

    @property
    def is_anonymous(self) -> bool:
        return not self.schemes


@dataclass(frozen=True, slots=True, kw_only=True)
class Operation:
    method: str  # lower case
    path: str
    loc: Loc
    operation_id: str | None
    summary: str | None
    description: str | None
    tags: tuple[str, ...]
    deprecated: bool
    parameters: tuple[Parameter, ...]
    request_body: RequestBody | None
    responses: tuple[Response, ...]
    security: tuple[SecurityRequirement, ...] | None  # None: no security declared anywhere
    security_loc: Loc | None  # where the effective security list is written
    raw: Mapping[str, Any]

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path}"

    def response(self, status: str) -> Response | None:
        for r in self.responses:
            if r.status == status:
                return r
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class OAuthFlow:
    kind: str  # clientCredentials | authorizationCode | implicit | password (2.0 names normalised)
    scopes: Mapping[str, str]
    loc: Loc


@dataclass(frozen=True, slots=True, kw_only=True)
class SecurityScheme:
    name: str
    type: str  # apiKey | http | oauth2 | openIdConnect | mutualTLS | basic (2.0)
    loc: Loc
    http_scheme: str | None  # for type http: basic | bearer | ...
    api_key_in: str | None  # for type apiKey: query | header | cookie
    api_key_name: str | None
    flows: tuple[OAuthFlow, ...]
    raw: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Server:
    url: str
    loc: Loc
    description: str | None
    variables: Mapping[str, Any]
    scope: str = "root"  # "root", or "path"/"operation" for servers overridden there (OpenAPI 3)
    scheme_declared: bool = True  # False when Swagger 2 gives no `schemes` (https is assumed)


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadIssue:
    """Something wrong with the document that is a finding, not a reason to stop.

    ``kind`` is ``schema`` (invalid against the OpenAPI schema), ``remote-ref`` (not fetched),
    or ``semantic`` (e.g. a path parameter that is never declared).
    """

    kind: str
    message: str
    loc: Loc
    expected: str | None = None
    found: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Spec:
    """A loaded, validated and indexed OpenAPI document (plus the files it references)."""

    source: str  # path or URL as given
    version: SpecVersion
    version_string: str  # the document's own `openapi`/`swagger` value
    root: SourceDocument
    documents: tuple[SourceDocument, ...]  # root first
    issues: tuple[LoadIssue, ...]
    index: Any  # conformance.spec._index.SpecIndex (kept Any to avoid an import cycle)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def data(self) -> Mapping[str, Any]:
        root: Mapping[str, Any] = self.root.data
        return root

    @property
    def sha256(self) -> str:
        return self.root.sha256

    @property
    def title(self) -> str:
        info = self.data.get("info")
        title = info.get("title") if isinstance(info, Mapping) else None
        return title if isinstance(title, str) and title.strip() else "untitled API"
