"""C3 and C11, live: the document is freely available, and the API exposes nothing it does not document.

* ``live.spec.freely-available`` (IOP-C3-01) fetches the served document as a customer would: without
  credentials, then with the customer's; a licence, partner or payment step is a finding. Documentation
  links in the document on the API's own origin are fetched too; links elsewhere are only listed (the
  live layer contacts no origin outside the target's configuration).
* ``live.inventory.undocumented`` (IOP-C11-01) looks for undocumented operations as far as cheap probes
  can: common shadow and debug paths, ``Allow`` on ``OPTIONS`` of each documented path, and links in
  sampled responses.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

from ..live import AuthKind, AuthMode
from ..outcome import Finding
from ..registry import CantTell, CheckContext, Inapplicable, check
from ..spec.model import Operation
from ._live import (
    collection_reads,
    fill_path,
    first_item_id,
    item_read_for,
    live_finding,
    operations,
    path_parameters,
    sample_value,
    target_of,
)
from .live_contract import fetch_document, parse_document, served_spec_url

DEFAULT_LICENCE_MARKERS = [
    "licence",
    "license",
    "licensed",
    "partner",
    "subscription",
    "commercial",
    "purchase",
    "payment",
]
"""Words in a refusal that ask for a commercial step (matched case-insensitively, as substrings)."""

DEFAULT_PROBE_PATHS = [
    "/internal",
    "/internal/debug",
    "/debug",
    "/debug/vars",
    "/admin",
    "/console",
    "/actuator",
    "/actuator/env",
    "/metrics",
    "/server-status",
    "/v0",
    "/swagger-ui",
    "/graphql",
    "/_status",
    "/.env",
]
"""Paths where forgotten, debug or previous-version endpoints commonly answer."""

_REFUSALS = (401, 402, 403, 407)
_DOC_UI_MARKERS = ("swagger-ui", "redoc", "rapidoc", "stoplight-elements")
_MARKDOWN_LINK = re.compile(r"\]\((https?://[^)\s]+)\)|<(https?://[^>\s]+)>")
_MAX_LINKS_EXAMINED = 500


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


# -- C3-01: the document is freely available ----------------------------------------------------------------
@check(
    id="live.spec.freely-available",
    mode="live",
    title="The API description and its documentation are retrievable without a licence step",
    references=(
        "charter.md §3 C3-01: the spec and developer documentation are retrievable by the customer without "
        "a separate commercial licence step (HTTP 200 with customer credentials, or public)",
        'techUK InterOp-Pol introduction: "APIs freely available"; GOV.UK: publish your APIs by default',
    ),
    params={"licence_markers": DEFAULT_LICENCE_MARKERS, "max_links": 10},
)
def freely_available(ctx: CheckContext, *, licence_markers: list[str], max_links: int) -> Iterator[Finding]:
    """Fetches the served OpenAPI document (``spec_url``, else ``<base_url>/openapi.json``; Accept JSON or
    YAML) without credentials, and after a 401/402/403/407 again with the configured (customer's)
    credentials. Passes when either answer is 2xx with an OpenAPI document (a note says whether it is public
    or customer-only: customer-only access is accepted, e.g. on PSN/NEP). Findings: 402 Payment Required; a
    refusal that asks for a licence or partner step (a ``licence_markers`` word in its headers or body,
    e.g. "send your Licence-Key"); a refusal even with the customer's credentials; a 2xx body that is not an
    OpenAPI document; a 404/410 at a ``spec_url`` the configuration declares. (A plain 401/403 when no
    credentials are configured is cantTell: customer-only access may be fine.) Then the documentation links
    of the document (``externalDocs.url`` at the root and on tags, ``info.termsOfService``,
    ``info.contact.url``, ``info.license.url`` and links in ``info.description``) on the API's or the
    spec's origin are fetched the same way, at most ``max_links``: 404/410 and licence or credential
    refusals are findings. Links on other origins are listed in a note, never fetched. cantTell when the
    document gets no answer, a 5xx, or a redirect the harness may not follow."""
    target = target_of(ctx)
    markers = [m.lower() for m in licence_markers if m]
    url = served_spec_url(target)
    has_credentials = target.tokens.kind is not AuthKind.NONE
    anonymous = fetch_document(target, url, auth=AuthMode.NONE)
    _require_answer(anonymous, url)
    answer = anonymous
    if anonymous.status in _REFUSALS and has_credentials:
        answer = fetch_document(target, url, auth=AuthMode.DEFAULT)
        _require_answer(answer, url)
    document: Any = None
    status = answer.status
    assert status is not None
    if 200 <= status < 300:
        served = parse_document(answer)
        if served is None:
            yield live_finding(
                "Served document is not an OpenAPI document",
                f"{url} answered {status} with {answer.media_type or 'no media type'}, which does not parse "
                "as an OpenAPI document: a customer following the URL does not get the API description.",
                exchange=answer,
                expected="the OpenAPI document (JSON or YAML)",
                found=f"{answer.media_type or 'untyped'} body of {len(answer.body)} bytes",
                fix="Serve the OpenAPI document itself at the published URL.",
            )
        else:
            document = served.data
            if answer is anonymous:
                ctx.note(f"The OpenAPI document is public: {url} answered {status} without credentials.")
            else:
                ctx.note(
                    f"The OpenAPI document is served to the customer's credentials ({url}: {anonymous.status} "
                    f"without, {status} with); customer-only access is accepted."
                )
    elif status in _REFUSALS:
        licence = status == 402 or _asks_for_licence(answer, markers)
        if not has_credentials and not licence:
            raise CantTell(
                f"{url} answered {status} without credentials ({answer.id}) and the target configuration has "
                "none to try (customer-only access is accepted): give the customer's credentials (--auth)"
            )
        yield _refusal_finding(anonymous, answer, url, markers, "The OpenAPI document", has_credentials)
    elif status in (404, 410) and target.config.spec_url:
        yield live_finding(
            "Declared API description not found",
            f"The configured spec URL {url} answered {status}: a customer cannot retrieve the API description "
            "where it is published.",
            exchange=answer,
            expected="HTTP 200 with the OpenAPI document",
            found=f"HTTP {status}",
            fix="Serve the OpenAPI document at its published URL, or correct the URL.",
        )
    elif status in (404, 410):
        raise CantTell(
            f"no spec_url is configured and {url} answered {status} ({answer.id}): give the URL where the "
            "supplier publishes its document (spec_url, or --spec URL)"
        )
    else:
        raise CantTell(f"the served document at {url} answered HTTP {status} ({answer.id})")
    source = document if isinstance(document, Mapping) else (ctx.spec.data if ctx.spec is not None else None)
    if isinstance(source, Mapping):
        yield from _documentation_links(ctx, target, url, source, markers, max(0, max_links), has_credentials)


def _require_answer(exchange: Any, url: str) -> None:
    if not exchange.ok or exchange.status is None:
        raise CantTell(f"{url} could not be fetched: {exchange.error or 'no response'} ({exchange.id})")
    if exchange.status >= 500:
        raise CantTell(f"{url} answered HTTP {exchange.status} ({exchange.id})")
    if 300 <= exchange.status < 400:
        where = exchange.header("location") or "an unstated location"
        raise CantTell(
            f"{url} redirects to {where} ({exchange.id}), which the harness may not follow (add its origin to "
            "extra_origins if it belongs to the supplier)"
        )


def _asks_for_licence(exchange: Any, markers: list[str]) -> str | None:
    """The first licence marker in the refusal's headers (names or values) or body, if any."""
    parts = [f"{name}: {value}" for name, value in exchange.headers.items()]
    parts.append(exchange.text()[:8192])
    text = "\n".join(parts).lower()
    return next((m for m in markers if m in text), None)


def _refusal_finding(
    anonymous: Any, answer: Any, url: str, markers: list[str], what: str, has_credentials: bool
) -> Finding:
    status = answer.status
    marker = _asks_for_licence(answer, markers) or _asks_for_licence(anonymous, markers)
    if answer is not anonymous:
        tried = "even with the customer's credentials"
    else:
        tried = "without credentials" + ("" if has_credentials else " (none are configured)")
    if status == 402 or marker:
        reason = "402 Payment Required" if status == 402 else f"{status} with a refusal mentioning '{marker}'"
        return live_finding(
            "Licence step required",
            f"{what} at {url} answered {reason} {tried}: retrieving it needs a separate commercial licence or "
            "partner step"
            + (f" (the refusal mentions '{marker}')" if marker and status == 402 else "")
            + ".",
            exchange=answer,
            expected="HTTP 200 publicly, or with the customer's credentials",
            found=f"HTTP {status}" + (f", asking for '{marker}'" if marker else ""),
            fix="Publish the API description and documentation to every customer without a licence, "
            "partner agreement or payment (declaration D-02 covers any charges for the API itself).",
        )
    return live_finding(
        "Not retrievable with the customer's credentials",
        f"{what} at {url} answered {status} {tried}: a customer cannot retrieve it.",
        exchange=answer,
        expected="HTTP 200 publicly, or with the customer's credentials",
        found=f"HTTP {status}",
        fix="Let every customer's ordinary credentials (or none) retrieve the API description and documentation.",
    )


def _documentation_links(
    ctx: CheckContext,
    target: Any,
    spec_url: str,
    document: Mapping[str, Any],
    markers: list[str],
    limit: int,
    has_credentials: bool,
) -> Iterator[Finding]:
    links = _collect_documentation_links(document, spec_url)
    own = {_origin(target.base_url), _origin(spec_url)}
    local = [u for u in links if _origin(u) in own]
    elsewhere = [u for u in links if _origin(u) not in own]
    if elsewhere:
        shown = ", ".join(elsewhere[:5]) + (f" and {len(elsewhere) - 5} more" if len(elsewhere) > 5 else "")
        ctx.note(
            f"{len(elsewhere)} documentation link(s) are on other origins and were not fetched (the harness "
            f"contacts only the target's origins): {shown}."
        )
    if len(local) > limit:
        ctx.note(
            f"Only the first {limit} of {len(local)} documentation links on the API's origin were fetched."
        )
    checked = 0
    for link in local[:limit]:
        anonymous = target.request("GET", link, auth=AuthMode.NONE, accept="*/*", allow_redirects=True)
        answer = anonymous
        if anonymous.ok and anonymous.status in _REFUSALS and has_credentials:
            answer = target.request("GET", link, auth=AuthMode.DEFAULT, accept="*/*", allow_redirects=True)
        if not answer.ok or answer.status is None:
            ctx.note(f"Documentation link {link} could not be fetched: {answer.error} ({answer.id}).")
            continue
        checked += 1
        if answer.status in _REFUSALS:
            yield _refusal_finding(
                anonymous, answer, link, markers, "The documentation page", has_credentials
            )
        elif answer.status in (404, 410):
            yield live_finding(
                "Documentation link broken",
                f"The document links to {link}, which answers {answer.status}.",
                exchange=answer,
                expected="HTTP 200",
                found=f"HTTP {answer.status}",
                fix="Publish the linked documentation, or correct the link in the document.",
            )
        elif not 200 <= answer.status < 300:
            ctx.note(f"Documentation link {link} answered {answer.status} ({answer.id}).")
    if checked:
        ctx.note(f"{checked} documentation link(s) on the API's origin were fetched.")


def _collect_documentation_links(document: Mapping[str, Any], base: str) -> list[str]:
    """Absolute http(s) documentation URLs of the document, in a fixed order, without repeats."""
    found: list[str] = []

    def add(value: Any) -> None:
        if isinstance(value, str) and value.strip():
            url = urljoin(base, value.strip())
            if url.startswith(("https://", "http://")) and url not in found:
                found.append(url)

    external = document.get("externalDocs")
    if isinstance(external, Mapping):
        add(external.get("url"))
    info = document.get("info")
    if isinstance(info, Mapping):
        add(info.get("termsOfService"))
        for key in ("contact", "license"):
            part = info.get(key)
            if isinstance(part, Mapping):
                add(part.get("url"))
        description = info.get("description")
        if isinstance(description, str):
            for match in _MARKDOWN_LINK.finditer(description):
                add(match.group(1) or match.group(2))
    tags = document.get("tags")
    if isinstance(tags, list):
        for tag in tags:
            docs = tag.get("externalDocs") if isinstance(tag, Mapping) else None
            if isinstance(docs, Mapping):
                add(docs.get("url"))
    return found


# -- C11-01: no undocumented operations ---------------------------------------------------------------------
@check(
    id="live.inventory.undocumented",
    mode="live",
    title="The API exposes no undocumented operations (shadow paths, advertised methods, links)",
    references=(
        "charter.md §3 C11-01: no undocumented operations observed at runtime; shadow endpoints flagged",
        "NCSC API security guidance: keep an API inventory and limit exposure",
        "OWASP API Security Top 10 2023, API9: improper inventory management",
    ),
    params={"probe_paths": DEFAULT_PROBE_PATHS, "max_paths": 30, "max_samples": 6},
)
def undocumented(
    ctx: CheckContext, *, probe_paths: list[str], max_paths: int, max_samples: int
) -> Iterator[Finding]:
    """Three cheap probes, all with the configured credentials:

    (a) every ``probe_paths`` entry the document does not describe is requested (GET) under the base URL
    and, when the base URL has a path, under the origin: a 2xx with a body is a finding (401, 403, 404,
    an empty 2xx are fine; a documentation UI such as Swagger UI is only noted);
    (b) ``OPTIONS`` on each documented path (at most ``max_paths``, parameters filled from the document's
    examples): an ``Allow`` header listing a method the document does not describe for that path is a
    finding (OPTIONS and HEAD excluded);
    (c) lists without required parameters, and one record of each, are read (at most ``max_samples``
    requests): a link under the base URL (``links``/``_links`` members, ``href`` values, the ``Link``
    header) to a path the document does not describe is a finding. Links elsewhere are counted in a note.

    cantTell when the target does not answer; what probes cannot see (an undocumented path no one links
    to) is out of reach, as the note says."""
    target = target_of(ctx)
    ops = operations(ctx)
    if not ops:
        raise Inapplicable("the document describes no operations to compare the API with")
    templates = _documented_templates(ops)
    base_path = urlsplit(target.base_url).path.rstrip("/")
    spec_path = urlsplit(served_spec_url(target)).path
    answered = 0
    # (a) shadow and debug paths
    probed: list[str] = []
    for raw in probe_paths:
        path = "/" + raw.strip().strip("/") if raw.strip() else ""
        if not path or _described(path, templates):
            continue
        urls = [target.url(path)]
        if base_path:
            urls.append(_origin(target.base_url) + path)
        for url in urls:
            if url in probed or urlsplit(url).path == spec_path:
                continue
            probed.append(url)
            exchange = target.request("GET", url, accept="application/json, */*;q=0.5")
            if not exchange.ok or exchange.status is None:
                continue
            answered += 1
            if 200 <= exchange.status < 300 and exchange.body.strip():
                if _is_documentation_ui(exchange):
                    ctx.note(
                        f"{url} serves an API documentation page ({exchange.id}); not counted as an operation."
                    )
                    continue
                yield live_finding(
                    "Undocumented endpoint serves data",
                    f"GET {url} answered {exchange.status} with {len(exchange.body)} bytes of "
                    f"{exchange.media_type or 'untyped data'}, but the document describes no such path.",
                    exchange=exchange,
                    expected="401, 403 or 404 for a path the document does not describe",
                    found=f"HTTP {exchange.status} with data",
                    fix="Remove or lock away the endpoint, or document it (debug and internal endpoints must not "
                    "be reachable on a production or sandbox API).",
                )
    # (b) methods advertised by OPTIONS
    by_path: dict[str, list[Operation]] = {}
    for op in ops:
        by_path.setdefault(op.path, []).append(op)
    paths = list(by_path)
    if len(paths) > max_paths:
        ctx.note(f"OPTIONS was sent to the first {max_paths} of {len(paths)} documented paths.")
    advertised = 0
    for template in paths[: max(0, max_paths)]:
        try:
            concrete = fill_path(template, _example_values(ctx, by_path[template]))
        except CantTell:
            continue
        exchange = target.request("OPTIONS", concrete)
        if not exchange.ok or exchange.status is None:
            continue
        answered += 1
        allow = exchange.header("allow")
        if allow is None:
            continue
        advertised += 1
        listed = {m.strip().upper() for m in allow.split(",") if m.strip()}
        documented = {op.method.upper() for op in by_path[template]}
        extra = sorted(listed - documented - {"OPTIONS", "HEAD"})
        if extra:
            yield live_finding(
                "Undocumented method advertised",
                f"OPTIONS {template} answers Allow: {allow}, listing {', '.join(extra)}, which the document "
                f"does not describe for this path (documented: {', '.join(sorted(documented))}).",
                exchange=exchange,
                operation=f"OPTIONS {template}",
                expected=f"Allow listing only documented methods ({', '.join(sorted(documented))})",
                found=f"Allow: {allow}",
                fix="Remove the route behind the extra method, or document the operation.",
            )
    # (c) links in sampled responses
    local_links = foreign_links = 0
    reported: set[str] = set()
    samples = 0
    for collection in collection_reads(ctx):
        if samples >= max_samples:
            break
        reads: list[tuple[Operation, str]] = [(collection, collection.path)]
        for op, path in reads:
            if samples >= max_samples:
                break
            exchange = target.request("GET", path, accept="application/json")
            samples += 1
            if not exchange.ok or exchange.status is None:
                continue
            answered += 1
            if not 200 <= exchange.status < 300:
                continue
            for link in _links_of(exchange):
                absolute = urljoin(exchange.url, link)
                if _origin(absolute) != _origin(target.base_url):
                    foreign_links += 1
                    continue
                link_path = urlsplit(absolute).path
                if (
                    not (link_path == base_path or link_path.startswith(base_path + "/"))
                    or link_path == spec_path
                ):
                    foreign_links += 1
                    continue
                local_links += 1
                relative = link_path[len(base_path) :] or "/"
                if _described(relative, templates) or relative in reported:
                    continue
                reported.add(relative)
                yield live_finding(
                    "Response links to an undocumented path",
                    f"The response to {op.label} links to {link}, a path the document does not describe.",
                    exchange=exchange,
                    operation=op.label,
                    expected="links only to documented operations",
                    found=link,
                    fix="Document the linked operation, or stop linking to it.",
                )
            if op is collection:
                item = item_read_for(ctx, collection)
                ident = _first_id(exchange)
                if item is not None and ident is not None and len(path_parameters(item.path)) == 1:
                    reads.append((item, fill_path(item.path, {path_parameters(item.path)[0]: ident})))
    if not answered:
        raise CantTell(target.unreachable or "no probe got a response")
    if target.unreachable:  # some probes were never sent: what they would have shown is unknown
        raise CantTell(f"the target stopped answering part-way: {target.unreachable}")
    ctx.note(
        f"Probed {len(probed)} shadow path(s), sent OPTIONS to {min(len(paths), max(0, max_paths))} documented "
        f"path(s) ({advertised} answered with Allow) and followed {local_links} link(s) under the base URL in "
        f"{samples} sampled response(s) ({foreign_links} link(s) elsewhere not judged). Undocumented paths that "
        "nothing links to cannot be seen this way."
    )


def _documented_templates(ops: tuple[Operation, ...]) -> list[re.Pattern[str]]:
    patterns: list[re.Pattern[str]] = []
    for path in dict.fromkeys(op.path for op in ops):
        parts = re.split(r"(\{[^{}]+\})", path.rstrip("/") or "/")
        regex = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
        patterns.append(re.compile(f"^{regex}/?$"))
    return patterns


def _described(path: str, templates: list[re.Pattern[str]]) -> bool:
    return any(t.match(path) for t in templates)


def _is_documentation_ui(exchange: Any) -> bool:
    if exchange.media_type != "text/html":
        return False
    text = exchange.text()[:65536].lower()
    return any(marker in text for marker in _DOC_UI_MARKERS)


def _example_values(ctx: CheckContext, ops: list[Operation]) -> dict[str, str]:
    """A value for each path parameter, from the document's examples (or a schema-shaped sample)."""
    values: dict[str, str] = {}
    for op in ops:
        for parameter in op.parameters:
            if parameter.location == "path" and parameter.name not in values:
                value = sample_value(ctx.spec.index, parameter.schema)
                values[parameter.name] = str(value) if value not in (None, "") else "1"
    return values


def _first_id(exchange: Any) -> str | None:
    try:
        return first_item_id(exchange.json())
    except ValueError:
        return None


def _links_of(exchange: Any) -> list[str]:
    """Link targets in a response: the ``Link`` header, and in a JSON body every string under a ``links`` or
    ``_links`` member and every ``href`` value (at most a few hundred)."""
    found: list[str] = []
    header = exchange.header("link")
    if header:
        found += re.findall(r"<([^>]*)>", header)
    try:
        body = exchange.json()
    except ValueError:
        return found

    def walk(node: Any, inside_links: bool) -> None:
        if len(found) >= _MAX_LINKS_EXAMINED:
            return
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key == "href" and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value, inside_links or key in ("links", "_links"))
        elif isinstance(node, list):
            for item in node:
                walk(item, inside_links)
        elif inside_links and isinstance(node, str) and node.startswith(("/", "http://", "https://")):
            found.append(node)

    walk(body, False)
    return found
