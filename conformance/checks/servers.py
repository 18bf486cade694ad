"""C4/C5/C8 — the servers an API is published on: HTTPS only, a sandbox, a visible major version.

Servers come from the index (OpenAPI 3 ``servers``; Swagger 2 ``host`` + ``schemes`` + ``basePath``).
Server variables are expanded with their ``default`` (and, where a variable decides the scheme, with
every ``enum`` value too). See GOV.UK API technical and data standards, "Using HTTPS", "Provide users
with a test service" and "When iterating your API".
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from ..outcome import Finding
from ..registry import CheckContext, Inapplicable, check
from ..spec.model import Loc, Operation, Server, child
from ._common import finding, param_pattern, words

_VARIABLE = re.compile(r"\{([^{}]+)\}")
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_MAX_LISTED = 10

DEFAULT_SANDBOX_MARKERS = [
    "sandbox", "sbx", "test", "testing", "uat", "staging", "stage", "preprod", "pre-prod", "pre-production",
    "demo", "trial", "non-production", "nonprod", "non-prod", "integration",
]  # fmt: skip
# v1, v2.1, v1beta1, v2alpha1; 1.0 / 0.1.0 (a full version shows the major); 2010-04-01 (date-versioned APIs).
DEFAULT_VERSION_PATTERN = (
    r"^(v[0-9]+(\.[0-9]+){0,2}((alpha|beta|rc)[0-9]*)?|[0-9]+\.[0-9]+(\.[0-9]+)?|[0-9]{4}-[0-9]{2}-[0-9]{2})$"
)
DEFAULT_VERSION_HEADERS = ["api-version", "accept-version", "version", "x-api-version"]
DEFAULT_MEDIA_TYPE_VERSION_PARAMS = ["version", "v", "api-version"]
_VENDOR_VERSION = re.compile(r"\.v[0-9]+(?=[.+]|$)", re.IGNORECASE)


# -- server URL helpers -----------------------------------------------------------------------------------
def _values(variable: Any) -> list[str]:
    """The values a server variable can take: its enum (if any) and its default."""
    if not isinstance(variable, Mapping):
        return []
    enum = variable.get("enum")
    values = [str(v) for v in enum if isinstance(v, (str, int))] if isinstance(enum, list) else []
    default = variable.get("default")
    if isinstance(default, (str, int)) and str(default) not in values:
        values.insert(0, str(default))
    return values


def _expand(url: str, variables: Mapping[str, Any], chosen: Mapping[str, str] | None = None) -> str:
    """``url`` with each ``{variable}`` replaced by the chosen value, else its default (else left as is)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if chosen and name in chosen:
            return chosen[name]
        values = _values(variables.get(name))
        return values[0] if values else match.group(0)

    return _VARIABLE.sub(value, url)


def _scheme_variables(server: Server) -> list[str]:
    """Variables that (may) decide the scheme: those before ``://``, or one the URL starts with."""
    url = server.url
    end = url.find("://")
    names = _VARIABLE.findall(url[:end]) if end >= 0 else []
    lead = _VARIABLE.match(url)
    if lead and lead.group(1) not in names:
        names.append(lead.group(1))
    return [n for n in names if n in server.variables]


def _host(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:  # e.g. an unbalanced IPv6 bracket: not a host we can call local
        return None


def _is_local(host: str | None) -> bool:
    if not host:
        return False
    host = host.lower()
    return host in _LOCAL_HOSTS or host.endswith(".localhost") or host.startswith("127.")


def _url_loc(server: Server, servers: tuple[Server, ...]) -> Loc:
    """Where the URL's scheme is written: ``servers/i/url`` (3.x) or ``schemes/i`` (Swagger 2)."""
    if "/servers/" in server.loc:
        return child(server.loc, "url")
    return server.loc  # Swagger 2: #/schemes/i, #/host or #/basePath


def _inherits_scheme(server: Server) -> bool:
    """Swagger 2 without ``schemes``: the index assumes https, the document does not say."""
    return not server.scheme_declared


def _base_urls(ctx: CheckContext) -> list[str]:
    """Server URLs with variables expanded (a Swagger 2 ``basePath`` without a host is a relative server)."""
    return [_expand(s.url, s.variables) for s in ctx.spec.index.servers]


# -- checks -----------------------------------------------------------------------------------------------
@check(
    id="openapi.servers.https",
    mode="static",
    title="API servers are only reachable over HTTPS",
    references=(
        "CDDO api-standards-linting rule 'oas3-always-use-https'",
        "GOV.UK Service Manual, Using HTTPS",
    ),
    params={"allow_localhost": True},
)
def servers_https(ctx: CheckContext, *, allow_localhost: bool) -> Iterator[Finding]:
    """Every absolute server URL uses ``https://``; with ``allow_localhost``, ``http://`` is accepted
    for localhost, 127.0.0.0/8 and [::1]. A server variable that decides the scheme (``{scheme}://…`` or a
    URL that starts with a variable) must give https for its default and every enum value. Swagger 2
    ``schemes`` must not list ``http`` (or ``ws``). Relative server URLs, and Swagger 2 documents without
    ``schemes``, inherit the scheme the document is served with and are not judged here.
    Inapplicable when no server is declared, or every one is relative."""
    servers: tuple[Server, ...] = ctx.spec.index.servers
    if not servers:
        where = "no `servers`" if ctx.spec.version.is_oas3 else "no `host`"
        raise Inapplicable(
            f"The document declares no server ({where}), so no scheme can be checked statically."
        )
    judged = 0
    for server in servers:
        if _inherits_scheme(server):
            continue
        scheme_vars = _scheme_variables(server)
        cases: list[tuple[str, dict[str, str]]] = []
        if scheme_vars:
            choices = [[(name, v) for v in _values(server.variables[name])] for name in scheme_vars]
            for combo in itertools.islice(itertools.product(*choices), 64):
                chosen = dict(combo)
                cases.append((_expand(server.url, server.variables, chosen), chosen))
        else:
            cases.append((_expand(server.url, server.variables), {}))
        for url, chosen in cases:
            scheme, separator, _ = url.partition("://")
            if not separator or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
                continue  # relative: inherits the document's scheme
            judged += 1
            scheme = scheme.lower()
            if scheme == "https":
                continue
            if scheme == "http" and allow_localhost and _is_local(_host(url)):
                continue
            if chosen:
                name = next(iter(chosen))
                yield finding(
                    "Server variable allows HTTP",
                    f"Server '{server.url}' with {name}={chosen[name]!r} gives '{url}', which is not HTTPS.",
                    loc=child(server.loc, "variables", name),
                    expected="every value of the variable gives an https:// URL",
                    found=url,
                    fix=f"Remove non-https values from the '{name}' variable (or write https:// into the "
                    "URL).",
                )
            else:
                local = " (only localhost may use http)" if allow_localhost else ""
                yield finding(
                    "Server not HTTPS",
                    f"Server '{url}' uses {scheme}://, not https://{local}.",
                    loc=_url_loc(server, servers),
                    expected="https://",
                    found=f"{scheme}://",
                    fix="Serve the API over HTTPS only and list only https:// server URLs"
                    + (" (drop 'http' from `schemes`)." if server.loc == "#/schemes" else "."),
                )
    if not judged:
        raise Inapplicable(
            "Every server URL is relative (or Swagger 2 `schemes` is absent), so the API uses the scheme "
            "the document is served with; that is checked against the live API, not here."
        )


def _marker_pattern(markers: list[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(m.lower()) for m in sorted(markers, key=len, reverse=True) if m)
    return re.compile(rf"(?<![a-z0-9])(?:{alternatives})(?![a-z])")


@check(
    id="openapi.servers.sandbox",
    mode="static",
    title="A sandbox or test server is listed",
    references=('GOV.UK API technical and data standards, "Provide users with a test service"',),
    params={"markers": DEFAULT_SANDBOX_MARKERS},
)
def servers_sandbox(ctx: CheckContext, *, markers: list[str]) -> Iterator[Finding]:
    """Some server's URL or description contains one of ``markers`` as a whole word or host-name label
    (``sandbox.api…``, ``api-uat.…``, "Test environment"; not ``latest``). A marker may be followed by
    digits (``uat2``). No server at all is a finding too: no sandbox is declared."""
    if not any(markers):
        raise Inapplicable("The profile gives no sandbox markers to look for.")
    servers: tuple[Server, ...] = ctx.spec.index.servers
    pattern = _marker_pattern(markers)
    for server in servers:
        text = f"{_expand(server.url, server.variables)} {server.url} {server.description or ''}".lower()
        if pattern.search(text):
            return
        for name, variable in server.variables.items():
            if any(pattern.search(v.lower()) for v in _values(variable)):
                ctx.note(f"Sandbox found through server variable '{name}' of '{server.url}'.")
                return
    oas3 = ctx.spec.version.is_oas3
    listed = ", ".join(s.url for s in servers) if servers else "no servers declared"
    yield finding(
        "No sandbox server",
        f"No server URL or description marks a sandbox or test environment ({listed}).",
        loc="#/servers" if oas3 else "#/host",
        expected=f"a server whose URL or description contains one of: {', '.join(markers)}",
        found=listed,
        fix="Add a servers entry for the sandbox, e.g. `- url: https://sandbox.api.example.police.uk/v1` "
        "with `description: Sandbox (synthetic data)`."
        if oas3
        else "Publish an OpenAPI 3 document whose `servers` list includes the sandbox.",
    )


def _normal(name: str) -> str:
    return "".join(words(name))


def _media_versioned(media_type: str, params: set[str]) -> bool:
    base, _, rest = media_type.partition(";")
    for part in rest.split(";"):
        key, _, value = part.partition("=")
        if key.strip().lower() in params and value.strip():
            return True
    return bool(_VENDOR_VERSION.search(base.strip()))


def _operation_versioned(
    op: Operation, pattern: re.Pattern[str], headers: set[str], media_params: set[str]
) -> bool:
    for segment in op.path.split("/"):
        if pattern.match(segment):
            return True
        if segment.startswith("{") and segment.endswith("}") and "version" in words(segment[1:-1]):
            return True
    for param in op.parameters:
        if param.location in ("header", "query") and _normal(param.name) in headers:
            return True
    media = [m.media_type for r in op.responses for m in r.content]
    if op.request_body is not None:
        media.extend(m.media_type for m in op.request_body.content)
    return any(_media_versioned(m, media_params) for m in media)


@check(
    id="openapi.version.visible",
    mode="static",
    title="The major version is visible in the path, a media-type parameter or a header",
    references=('GOV.UK API technical and data standards, "When iterating your API"',),
    params={
        "path_pattern": DEFAULT_VERSION_PATTERN,
        "header_names": DEFAULT_VERSION_HEADERS,
        "media_type_params": DEFAULT_MEDIA_TYPE_VERSION_PARAMS,
    },
)
def version_visible(
    ctx: CheckContext, *, path_pattern: str, header_names: list[str], media_type_params: list[str]
) -> Iterator[Finding]:
    """Either every server URL (variables expanded to their defaults; Swagger 2 ``basePath``) has a path
    segment matching ``path_pattern`` (case-insensitive; by default v1, v1.2, v1beta1, 1.0.0 or a date such
    as 2010-04-01), or every operation shows its version: a path segment matching ``path_pattern`` (or a
    path parameter named like *version*), a header or query parameter named in ``header_names``, or a
    request/response media type with a version parameter (``;version=2``, names in ``media_type_params``)
    or a vendor version (``application/vnd.acme.v2+json``). One finding lists the operations without one.
    Inapplicable when the document has no operations."""
    index = ctx.spec.index
    operations: tuple[Operation, ...] = index.operations
    if not operations:
        raise Inapplicable("The document has no operations.")
    pattern = param_pattern("path_pattern", path_pattern, re.IGNORECASE)
    bases = _base_urls(ctx)

    def base_versioned(url: str) -> bool:
        path = url.split("://", 1)[1].partition("/")[2] if "://" in url else url
        path = re.split(r"[?#]", path, maxsplit=1)[0]
        return any(pattern.match(segment) for segment in path.split("/"))

    if bases and all(base_versioned(url) for url in bases):
        ctx.note("The major version is in every server URL: " + ", ".join(bases))
        return
    headers = {_normal(h) for h in header_names}
    media_params = {p.lower() for p in media_type_params}
    missing = [op for op in operations if not _operation_versioned(op, pattern, headers, media_params)]
    if not missing:
        return
    shown = ", ".join(op.label for op in missing[:_MAX_LISTED])
    more = f" and {len(missing) - _MAX_LISTED} more" if len(missing) > _MAX_LISTED else ""
    yield finding(
        "Version not visible",
        f"{len(missing)} of {len(operations)} operations show no major version in the server URL, path, a "
        f"header or a media type: {shown}{more}.",
        loc="#/paths",
        expected="a /v{n}/ path segment (server URL or paths), a version header, or ;version= in the media "
        "type",
        found=f"{len(missing)} operations without one",
        fix="Put the major version in the server URL (e.g. https://api.example.police.uk/v1), or document "
        "a version header (e.g. Accept-Version) or media-type parameter on every operation.",
    )
