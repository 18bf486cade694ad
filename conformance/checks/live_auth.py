"""C5/C9 — authentication and authorisation, live: 401s and challenges, scopes, rate limits, OIDC discovery,
and the sandbox's auth flow.

Operations to probe come from the document under test (``ctx.spec``): the operations it secures and the
OAuth 2.0 scopes each one needs. Tokens come from the harness's ``TokenProvider`` (``ctx.target.tokens``),
which asks for exactly the scopes a check names; every request goes through the guarded session and is
recorded. Nothing here creates data: a write probe carries a body that cannot be valid.

References: RFC 9110 §15.5.2 (401 and ``WWW-Authenticate``), §10.2.3 (``Retry-After``); RFC 6749 §4.4 and
§5.1 (client credentials, the token response); RFC 6750 §3 (bearer token errors); RFC 6585 §4 (429);
OpenID Connect Discovery 1.0; RFC 9700 (OAuth 2.0 Security BCP); NCSC "Securing HTTP-based APIs".
"""

from __future__ import annotations

import contextlib
import datetime
import email.utils
import re
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple
from urllib.parse import quote, urljoin, urlsplit

from ..errors import TargetError
from ..live import AuthKind, AuthMode
from ..outcome import Finding
from ..registry import CantTell, CheckContext, Inapplicable, NotTested, check
from ..spec.model import Loc, Operation
from ._live import (
    collection_reads,
    create_operations,
    fill_path,
    first_collection_read,
    live_finding,
    operations,
    path_parameters,
    require_response,
    sample_value,
    target_of,
)
from .servers import DEFAULT_SANDBOX_MARKERS

_NCSC = "NCSC, Securing HTTP-based APIs (authenticate and authorise every request)"
_SCOPED_SCHEMES = frozenset({"oauth2", "openIdConnect"})
_READ = frozenset({"get", "head"})
_WRITE = frozenset({"post", "put", "patch", "delete"})
_WELL_KNOWN = "/.well-known/openid-configuration"
_VARIABLE = re.compile(r"\{([^{}]+)\}")
_ALG_FIELDS = ("id_token_signing_alg_values_supported", "token_endpoint_auth_signing_alg_values_supported")
_QUOTA = re.compile(
    r"(\d[\d,]*)\s+requests?\s+(?:a|an|per|each|every)\s+(second|minute|hour|day)", re.IGNORECASE
)
# Exchange errors that mean nothing reached the network (the guard refused, or no token could be had).
_NOT_SENT = ("refused:", "not sent", "target unreachable")

DEFAULT_MAX_BURST = 120
DEFAULT_MAX_RECOVERY_WAIT = 10  # seconds


# -- reading the document ---------------------------------------------------------------------------------
def _scoped_scheme_names(ctx: CheckContext) -> set[str]:
    schemes: dict[str, Any] = ctx.spec.index.security_schemes
    return {name for name, scheme in schemes.items() if scheme.type in _SCOPED_SCHEMES}


def _documented_scopes(ctx: CheckContext, *, flow: str | None = None) -> list[str]:
    """Every OAuth 2.0 scope the document defines (of one flow kind when ``flow`` is given), in order."""
    found: dict[str, None] = {}
    for scheme in ctx.spec.index.security_schemes.values():
        if scheme.type != "oauth2":
            continue
        for oauth_flow in scheme.flows:
            if flow is None or oauth_flow.kind == flow:
                found.update(dict.fromkeys(oauth_flow.scopes))
    return list(found)


def _secured(op: Operation) -> bool:
    return bool(op.security) and not any(r.is_anonymous for r in op.security or ())


def _alternatives(ctx: CheckContext, op: Operation) -> list[frozenset[str]]:
    """The scopes each alternative of the operation's security needs (OAuth 2.0 / OpenID Connect schemes)."""
    names = _scoped_scheme_names(ctx)
    return [
        frozenset(scope for name, scopes in req.schemes if name in names for scope in scopes)
        for req in op.security or ()
    ]


def _scoped(ctx: CheckContext, op: Operation) -> bool:
    """Secured, and every alternative needs at least one scope (else any valid token would do)."""
    return _secured(op) and all(_alternatives(ctx, op))


def _lacks(alternatives: Sequence[frozenset[str]], token: Sequence[str]) -> bool:
    return all(not alternative <= set(token) for alternative in alternatives)


def _probe_path(ctx: CheckContext, op: Operation) -> str:
    """The operation's path with each path parameter filled from its schema (examples first)."""
    values: dict[str, str] = {}
    for name in path_parameters(op.path):
        param = next((p for p in op.parameters if p.location == "path" and p.name == name), None)
        value = sample_value(ctx.spec.index, param.schema) if param is not None else None
        values[name] = quote(str(value), safe="") if value not in (None, "") else "conformance-test"
    return fill_path(op.path, values)


def _never_sent(exchange: Any) -> bool:
    return exchange.status is None and (exchange.error or "").startswith(_NOT_SENT)


def _challenges(exchange: Any) -> str:
    return ", ".join(exchange.headers.get_all("WWW-Authenticate"))


# -- live.auth.required -----------------------------------------------------------------------------------
def _protected_read(ctx: CheckContext) -> Operation:
    reads = [op for op in collection_reads(ctx) if _secured(op)]
    if reads:
        return reads[0]
    others = [op for op in operations(ctx) if op.method == "get" and _secured(op)]
    if others:
        return others[0]
    raise Inapplicable("the document secures no GET operation to probe")


def _auth_findings(op: Operation, exchange: Any, *, anonymous: bool) -> Iterator[Finding]:
    probe = "without credentials" if anonymous else "with an invalid token"
    status: int = exchange.status
    if status == 429:
        raise CantTell(f"{op.label} {probe} was rate-limited (429): the answer says nothing about auth")
    fix_status = (
        "Authenticate before anything else: a request without a valid token gets 401 with "
        '`WWW-Authenticate: Bearer realm="…"` (plus `error="invalid_token"` for a bad token), whatever '
        "else is wrong with it."
    )
    if 200 <= status < 300:
        yield live_finding(
            "Request without credentials accepted" if anonymous else "Invalid token accepted",
            f"{op.label} {probe} was answered {status}: the API serves a secured operation to anyone.",
            exchange=exchange,
            operation=op.label,
            expected="401 Unauthorized with WWW-Authenticate",
            found=f"{status} {exchange.reason}".rstrip(),
            fix=fix_status,
        )
    elif status != 401:
        yield live_finding(
            "No 401 without credentials" if anonymous else "No 401 for an invalid token",
            f"{op.label} {probe} was answered {status}, not 401 Unauthorized.",
            exchange=exchange,
            operation=op.label,
            expected="401 Unauthorized",
            found=f"{status} {exchange.reason}".rstrip(),
            fix=fix_status,
        )
    elif not exchange.headers.get_all("WWW-Authenticate"):
        yield live_finding(
            "No WWW-Authenticate challenge",
            f"The 401 to {op.label} {probe} has no WWW-Authenticate header (RFC 9110 §15.5.2: a 401 MUST "
            "carry at least one challenge), so a client cannot tell how to authenticate.",
            exchange=exchange,
            operation=op.label,
            expected='WWW-Authenticate: Bearer realm="…"',
            found="no WWW-Authenticate header",
            fix='Add `WWW-Authenticate: Bearer realm="<api>"` to every 401 (RFC 6750 §3).',
        )


@check(
    id="live.auth.required",
    mode="live",
    title="Requests without credentials or with an invalid token get 401 with a WWW-Authenticate challenge",
    references=("RFC 9110 §15.5.2 (401 Unauthorized)", "RFC 6750 §3 (the WWW-Authenticate field)", _NCSC),
)
def auth_required(ctx: CheckContext) -> Iterator[Finding]:
    """Two GETs of an operation the document secures (the first secured collection read; else the first
    secured GET, path parameters filled from their schemas): one without credentials, one with a bearer
    token the server never issued (shaped like a real one). Each must be answered 401 with a
    ``WWW-Authenticate`` header. An expired token is not tried: the harness cannot get one without waiting
    for a real token to expire (a note says so). Inapplicable when the document secures no GET operation;
    no response, or a 429, is cantTell."""
    target = target_of(ctx)
    op = _protected_read(ctx)
    path = _probe_path(ctx, op)
    for auth, anonymous in ((AuthMode.NONE, True), (AuthMode.INVALID, False)):
        label = f"{op.label} {'without credentials' if anonymous else 'with an invalid token'}"
        exchange = require_response(target.request("GET", path, auth=auth), label)
        yield from _auth_findings(op, exchange, anonymous=anonymous)
        challenge = _challenges(exchange)
        if exchange.status == 401 and challenge:
            ctx.note(f"{label}: 401, WWW-Authenticate: {challenge}")
            if not anonymous and "invalid_token" not in challenge:
                ctx.note('The challenge for an invalid token has no error="invalid_token" (RFC 6750 §3.1).')
    ctx.note(
        "An expired token was not tried: the harness cannot obtain one without waiting for a real token "
        "to expire; servers treat it like any other invalid token (RFC 6750 §3.1)."
    )


# -- live.auth.scopes -------------------------------------------------------------------------------------
class _ScopeProbe(NamedTuple):
    op: Operation
    path: str
    scopes: tuple[str, ...]
    body: Any  # the JSON body of a write probe (deliberately invalid); None for a read


def _invalid_body(ctx: CheckContext, schema: Loc) -> Any:
    """A JSON body the request schema cannot accept (so even an API that ignores scopes creates nothing):
    ``{}`` when the schema requires properties, ``[]`` for an object schema without any; else None."""
    index = ctx.spec.index
    if index.required(schema):
        return {}
    if index.schema_type(schema) == "object" or index.properties(schema):
        return []
    return None


def _scope_probes(ctx: CheckContext, available: list[str]) -> list[_ScopeProbe]:
    ops = operations(ctx)
    read = {s for op in ops if op.method in _READ for alt in _alternatives(ctx, op) for s in alt}
    written = {s for op in ops if op.method in _WRITE for alt in _alternatives(ctx, op) for s in alt}
    read_only = [s for s in available if s in read and s not in written]

    def token_for(op: Operation) -> tuple[str, ...] | None:
        alternatives = _alternatives(ctx, op)
        needed = set().union(*alternatives)
        for pool in (read_only, available):
            token = tuple(s for s in pool if s not in needed)
            if token and _lacks(alternatives, token):
                return token
        return None

    probes: list[_ScopeProbe] = []
    for op in collection_reads(ctx):
        token = token_for(op) if _scoped(ctx, op) else None
        if token:
            probes.append(_ScopeProbe(op, op.path, token, None))
            break
    for op, schema in create_operations(ctx):
        token = token_for(op) if _scoped(ctx, op) else None
        body = _invalid_body(ctx, schema) if token else None
        if token and body is not None:
            probes.append(_ScopeProbe(op, op.path, token, body))
            break
    return probes


@check(
    id="live.auth.scopes",
    mode="live",
    title="A valid token that lacks the operation's scope gets 403",
    references=(
        "RFC 6750 §3.1 (insufficient_scope)",
        _NCSC,
        "OWASP API5:2023 (function-level authorisation)",
    ),
)
def auth_scopes(ctx: CheckContext) -> Iterator[Finding]:
    """Valid tokens for documented scopes the client holds, chosen to lack what the operation needs
    (read-only scopes where the document has them), on up to two probes: the first scoped collection read
    (GET), and the first scoped collection create (POST) with a body that cannot be valid (``{}`` when the
    schema requires properties, else ``[]``), so nothing can be created even if scopes are ignored. Each
    must be answered 403 (authorisation comes before validation: a 400/422 means the scope was not
    checked first). Inapplicable when the document defines no OAuth 2.0 scopes; untested without
    client-credentials auth (a static token's scopes cannot be chosen); cantTell when no operation needs
    a scope the client can leave out, when a token cannot be had, or on a 429."""
    target = target_of(ctx)
    documented = _documented_scopes(ctx)
    if not documented:
        raise Inapplicable("the document defines no OAuth 2.0 scopes")
    if target.tokens.kind is not AuthKind.CLIENT_CREDENTIALS:
        raise NotTested(
            "needs OAuth 2.0 client credentials (--auth with type: client_credentials) to ask for a token "
            "with chosen scopes"
        )
    configured = tuple(target.config.auth.scopes)
    available = [s for s in documented if s in configured] if configured else documented
    probes = _scope_probes(ctx, available)
    if not probes:
        raise CantTell(
            f"no documented read or create operation needs a scope that the client's other scopes "
            f"({', '.join(available) or 'none'}) leave out"
        )
    for probe in probes:
        op = probe.op
        label = f"{op.label} with a token for {' '.join(probe.scopes)}"
        exchange = target.request(
            op.method.upper(),
            probe.path,
            scopes=list(probe.scopes),
            json=probe.body,
            accept="application/json",
        )
        require_response(exchange, label)
        status: int = exchange.status
        if status == 429:
            raise CantTell(f"{label} was rate-limited (429): the answer says nothing about scopes")
        needed = " or ".join(" ".join(sorted(alt)) for alt in _alternatives(ctx, op))
        body_note = (
            f" The body was deliberately invalid ({'{}' if probe.body == {} else '[]'})."
            if probe.body is not None
            else ""
        )
        if status == 403:
            challenge = _challenges(exchange)
            ctx.note(f"{label}: 403{f', WWW-Authenticate: {challenge}' if challenge else ''}.")
            if "insufficient_scope" not in challenge:
                ctx.note(f'The 403 to {op.label} names no error="insufficient_scope" (RFC 6750 §3.1).')
            continue
        fix = (
            f"Check the token's scopes on every request, before validating it: a token without {needed} "
            f'gets 403 with `WWW-Authenticate: Bearer error="insufficient_scope", scope="{needed}"`.'
        )
        if 200 <= status < 300:
            yield live_finding(
                "Token without the scope accepted",
                f"{label} was answered {status}, although {op.label} needs {needed}.{body_note}"
                + (" Check whether it created a record." if probe.body is not None else ""),
                exchange=exchange,
                operation=op.label,
                expected="403 Forbidden (insufficient_scope)",
                found=f"{status} {exchange.reason}".rstrip(),
                fix=fix,
            )
        else:
            yield live_finding(
                "Token without the scope not refused",
                f"{label} was answered {status}, not 403, although {op.label} needs {needed}.{body_note}"
                + (
                    " The request went on to validation instead of being refused."
                    if status in (400, 422)
                    else ""
                ),
                exchange=exchange,
                operation=op.label,
                expected="403 Forbidden (insufficient_scope)",
                found=f"{status} {exchange.reason}".rstrip(),
                fix=fix,
            )


# -- live.rate-limit --------------------------------------------------------------------------------------
@contextlib.contextmanager
def _unpaced(target: Any) -> Iterator[bool]:
    """Lift the run's politeness pace for one burst, on the same guarded session (so every request is still
    origin-checked, bounded and recorded), and put it back afterwards whatever happens."""
    session = getattr(target, "session", None)
    if session is None or not hasattr(session, "unpaced"):
        yield False
        return
    with session.unpaced():
        yield True


def _retry_after_seconds(value: str, now: datetime.datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (RFC 9110 §10.2.3: delay-seconds or an HTTP-date), or
    None when it is neither."""
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, (when - now).total_seconds())


def _documented_quota(ctx: CheckContext, op: Operation) -> str | None:
    """The quota the document states in words ("600 requests a minute"), if any."""
    info = ctx.spec.data.get("info")
    texts = [info.get("description")] if isinstance(info, dict) else []
    texts += [op.description] + [r.description for r in op.responses if r.status == "429"]
    for text in texts:
        match = _QUOTA.search(text) if isinstance(text, str) else None
        if match:
            return f"{match.group(1)} requests a {match.group(2).lower()}"
    return None


@check(
    id="live.rate-limit",
    mode="live",
    title="A burst beyond the quota gets 429 with Retry-After",
    references=(
        'GOV.UK API technical and data standards, "Enforce the quotas"',
        "NCSC, Securing HTTP-based APIs (denial of service)",
        "RFC 6585 §4 (429 Too Many Requests)",
        "RFC 9110 §10.2.3 (Retry-After)",
    ),
    params={"max_burst": DEFAULT_MAX_BURST, "max_recovery_wait": DEFAULT_MAX_RECOVERY_WAIT},
)
def rate_limit(ctx: CheckContext, *, max_burst: int, max_recovery_wait: int) -> Iterator[Finding]:
    """Up to ``max_burst`` GETs of the document's first collection read with the configured credentials,
    one after another with the run's own pace lifted for the burst only, stopping at the first 429. No 429
    within the burst is a finding; so is a 429 without a ``Retry-After`` that is delay-seconds or an
    HTTP-date. After a 429 the check waits what ``Retry-After`` asks (at most ``max_recovery_wait``
    seconds; 1 s when it gives nothing usable) so that later checks are not throttled. A network error or
    a first answer of 401/403 (no authorised read to burst with) is cantTell. The quota the document
    states in words is noted."""
    target = target_of(ctx)
    op = first_collection_read(ctx)
    quota = _documented_quota(ctx, op)
    statuses: Counter[int] = Counter()
    hit: Any = None
    last: Any = None
    started = time.perf_counter()
    with _unpaced(target) as lifted:
        for sent in range(1, max_burst + 1):
            last = require_response(
                target.request("GET", op.path), f"{op.label} (request {sent} of the burst)"
            )
            statuses[last.status] += 1
            if sent == 1 and last.status in (401, 403):
                raise CantTell(f"{op.label} was answered {last.status}: the burst needs an authorised read")
            if last.status == 429:
                hit = last
                break
    elapsed = time.perf_counter() - started
    if last is None:
        raise CantTell(f"max_burst={max_burst} sends no request")
    sent_count = sum(statuses.values())
    seen = ", ".join(f"{count}× {status}" for status, count in sorted(statuses.items()))
    burst = f"{sent_count} requests in {elapsed:.2f} s ({sent_count / max(elapsed, 1e-3):.0f}/s)"
    ctx.note(f"Burst: {burst}; answers: {seen}.")
    if quota:
        ctx.note(f"The document states a quota of {quota}.")
    if not lifted:
        ctx.note("The run's pace could not be lifted for the burst: it went at the configured --rate.")
    if hit is None:
        yield live_finding(
            "No rate limit",
            f"{burst} to {op.label} got no 429 Too Many Requests"
            f"{f' (the document states a quota of {quota})' if quota else ''}.",
            exchange=last,
            operation=op.label,
            expected=f"429 with Retry-After within {max_burst} requests",
            found=seen,
            fix="Enforce a per-client quota (e.g. a token bucket) and answer requests beyond it with 429 and "
            "Retry-After.",
        )
        return
    value = hit.header("Retry-After")
    delay = _retry_after_seconds(value, datetime.datetime.now(datetime.timezone.utc)) if value else None
    if not value:
        yield live_finding(
            "429 without Retry-After",
            f"The 429 to {op.label} (request {sent_count} of the burst) has no Retry-After header, so a client "
            "cannot tell when to try again.",
            exchange=hit,
            operation=op.label,
            expected="Retry-After: <seconds> or an HTTP-date",
            found="no Retry-After header",
            fix="Send `Retry-After: <seconds>` with every 429 (RFC 6585 §4, RFC 9110 §10.2.3).",
        )
    elif delay is None:
        yield live_finding(
            "Invalid Retry-After",
            f"The 429 to {op.label} has Retry-After {value!r}, which is neither delay-seconds nor an HTTP-date.",
            exchange=hit,
            operation=op.label,
            expected="Retry-After: <seconds> or an HTTP-date (RFC 9110 §10.2.3)",
            found=value,
            fix="Send the delay as a whole number of seconds, e.g. `Retry-After: 30`.",
        )
    else:
        ctx.note(f"429 after {sent_count} requests, Retry-After: {value}.")
    wait = min(delay if delay is not None else 1.0, float(max_recovery_wait))
    if wait > 0:
        time.sleep(wait)
        ctx.note(f"Waited {wait:.0f} s after the 429 so that later checks are not throttled.")


# -- live.oidc.discovery ----------------------------------------------------------------------------------
def _expected_issuer(url: str) -> str | None:
    """The issuer a discovery URL implies (OIDC Discovery 1.0 §4.3; RFC 8414 §5 for a path after the suffix)."""
    parts = urlsplit(url)
    at = parts.path.find(_WELL_KNOWN)
    if at < 0:
        return None
    rest = parts.path[at + len(_WELL_KNOWN) :]
    if rest and not rest.startswith("/"):
        return None
    return f"{parts.scheme}://{parts.netloc}{parts.path[:at]}{rest}"


def _discovery_url(ctx: CheckContext) -> tuple[str | None, str | None]:
    """``(openIdConnectUrl, scheme name)`` of the document's first openIdConnect scheme, if it has one."""
    for name, scheme in ctx.spec.index.security_schemes.items():
        if scheme.type == "openIdConnect":
            url = scheme.raw.get("openIdConnectUrl")
            if not isinstance(url, str) or not url.strip():
                raise CantTell(f"the openIdConnect scheme '{name}' has no openIdConnectUrl")
            return urljoin(target_of(ctx).base_url, url.strip()), name
    return None, None


@check(
    id="live.oidc.discovery",
    mode="live",
    title="OIDC discovery is reachable, names the right issuer, an HTTPS jwks_uri and no 'none' algorithm",
    references=(
        "OpenID Connect Discovery 1.0 §3, §4.3",
        "RFC 9700 (OAuth 2.0 Security BCP)",
        'GOV.UK API technical and data standards, "OpenID Connect and JWT"',
    ),
)
def oidc_discovery(ctx: CheckContext) -> Iterator[Finding]:
    """The discovery document at the ``openIdConnectUrl`` of the document's openIdConnect scheme, or else at
    ``/.well-known/openid-configuration`` on the target's origin (one GET without credentials): it answers
    200 with a JSON object; its ``issuer`` equals the URL the discovery document was fetched from without
    the well-known suffix (a trailing ``/`` aside); ``jwks_uri`` is an https URL; and neither
    ``id_token_signing_alg_values_supported`` nor ``token_endpoint_auth_signing_alg_values_supported``
    lists ``none``. Inapplicable when the document declares no openIdConnect scheme and the target serves
    no discovery document; cantTell when the declared URL cannot be fetched (e.g. its origin is not
    allowed: add it to ``extra_origins``)."""
    target = target_of(ctx)
    declared, scheme = _discovery_url(ctx)
    url = declared or f"{target.origin}{_WELL_KNOWN}"
    exchange = target.request("GET", url, auth=AuthMode.NONE, accept="application/json")
    if exchange.status is None:
        hint = " (add its origin to extra_origins)" if _never_sent(exchange) and declared else ""
        raise CantTell(f"OIDC discovery at {url}: {exchange.error}{hint}")
    try:
        document = exchange.json() if exchange.status == 200 else None
    except ValueError:
        document = None
    if declared is None:
        if not isinstance(document, dict):
            raise Inapplicable(
                f"the document declares no openIdConnect scheme and {url} serves no discovery document "
                f"({exchange.status})"
            )
        ctx.note(f"The document declares no openIdConnect scheme, but the target serves {url}.")
    else:
        ctx.note(f"Discovery URL from the openIdConnect scheme '{scheme}': {url}")
        if exchange.status != 200:
            yield live_finding(
                "Discovery document not reachable",
                f"The openIdConnectUrl {url} was answered {exchange.status}.",
                exchange=exchange,
                expected="200 with the OpenID Provider metadata",
                found=f"{exchange.status} {exchange.reason}".rstrip(),
                fix="Serve the discovery document at the openIdConnectUrl the document declares.",
            )
            return
        if not isinstance(document, dict):
            yield live_finding(
                "Discovery document not JSON",
                f"{url} answered 200, but its body is not a JSON object ({exchange.media_type or 'no type'}).",
                exchange=exchange,
                expected="a JSON object (OIDC Discovery 1.0 §4.2)",
                found=exchange.media_type or "no Content-Type",
                fix="Serve the OpenID Provider metadata as application/json.",
            )
            return
    yield from _discovery_findings(ctx, url, document, exchange)


def _discovery_findings(
    ctx: CheckContext, url: str, document: dict[str, Any], exchange: Any
) -> Iterator[Finding]:
    issuer = document.get("issuer")
    expected = _expected_issuer(url)
    if expected is None:
        ctx.note(f"{url} does not contain {_WELL_KNOWN}, so the expected issuer cannot be derived from it.")
    elif not isinstance(issuer, str) or issuer.rstrip("/") != expected.rstrip("/"):
        yield live_finding(
            "Issuer mismatch",
            f"The discovery document at {url} names the issuer {issuer!r}; fetched from there, it must be "
            f"{expected!r} (OIDC Discovery 1.0 §4.3), or clients must reject it.",
            exchange=exchange,
            expected=expected,
            found=repr(issuer),
            fix="Publish the discovery document under the issuer's own URL, with `issuer` set to exactly "
            "that URL.",
        )
    jwks = document.get("jwks_uri")
    if not isinstance(jwks, str) or urlsplit(jwks).scheme.lower() != "https":
        yield live_finding(
            "JWKS URI not HTTPS",
            f"The discovery document at {url} gives jwks_uri {jwks!r}: signing keys must come over HTTPS.",
            exchange=exchange,
            expected="jwks_uri: an https:// URL",
            found=repr(jwks),
            fix="Publish the JWK Set over HTTPS and point jwks_uri at it.",
        )
    for field in _ALG_FIELDS:
        values = document.get(field)
        if isinstance(values, list) and any(isinstance(v, str) and v.lower() == "none" for v in values):
            yield live_finding(
                "Algorithm none offered",
                f"The discovery document at {url} lists 'none' in {field}: unsigned tokens would be accepted.",
                exchange=exchange,
                expected=f"{field} without 'none'",
                found=", ".join(str(v) for v in values),
                fix="Remove 'none' from the supported algorithms and reject unsigned JWTs (RFC 9700 §2.1).",
            )


# -- live.sandbox.auth-flow -------------------------------------------------------------------------------
def _expand(url: str, variables: Mapping[str, Any]) -> str:
    """A server URL with each ``{variable}`` set to its default (left as is when it has none)."""

    def value(match: re.Match[str]) -> str:
        variable = variables.get(match.group(1))
        default = variable.get("default") if isinstance(variable, Mapping) else None
        return str(default) if default is not None else match.group(0)

    return _VARIABLE.sub(value, url)


def _server_hosts(ctx: CheckContext, markers: list[str]) -> list[tuple[str, bool, str]]:
    """``(host, is a sandbox, URL)`` for every server the document lists, variables set to their defaults."""
    words = [re.escape(m.lower()) for m in markers if m]
    pattern = re.compile(r"(?<![a-z0-9])(?:" + "|".join(words) + r")(?![a-z])") if words else None
    result = []
    for server in ctx.spec.index.servers:
        url = _expand(server.url, server.variables)
        host = (urlsplit(url).hostname or "").lower()
        text = f"{url} {server.description or ''}".lower()
        result.append((host, bool(pattern and pattern.search(text)), server.url))
    return result


def _note_sandbox(ctx: CheckContext, target: Any, markers: list[str]) -> None:
    stated = target.config.sandbox
    host = target.origin.host
    matches = [
        (sandbox, url) for server_host, sandbox, url in _server_hosts(ctx, markers) if server_host == host
    ]
    if stated is True:
        ctx.note("The configuration states that the target is a sandbox (target.sandbox = true).")
    elif stated is False:
        ctx.note(
            "The configuration states that the target is not a sandbox: the result is about this target."
        )
    if matches:
        sandbox, url = matches[0]
        kind = "a sandbox or test server" if sandbox else "a server not marked as sandbox or test"
        ctx.note(f"The base URL's host is the document's server {url}, {kind}.")
    elif stated is None:
        ctx.note(
            f"Whether {host} is a sandbox is unknown: no document server has that host and the configuration "
            "does not say (set target.sandbox in conformance.toml)."
        )
    ctx.note(
        "'Synthetic data only' is the supplier's declaration: the harness cannot tell synthetic records from "
        "real ones."
    )


@check(
    id="live.sandbox.auth-flow",
    mode="live",
    title="The sandbox accepts the documented OAuth 2.0 flow and grants the documented scopes",
    references=(
        'GOV.UK API technical and data standards, "Test your API\'s compliance" (sandbox, no production data)',
        "RFC 6749 §4.4 and §5.1 (client credentials; the token response)",
    ),
    params={"sandbox_markers": DEFAULT_SANDBOX_MARKERS},
)
def sandbox_auth_flow(ctx: CheckContext, *, sandbox_markers: list[str]) -> Iterator[Finding]:
    """The document's OAuth 2.0 client-credentials flow, with the configured client: one fresh token
    request for every documented scope of that flow the client is configured for (all of them when the
    configuration lists none) must answer 200 with ``token_type`` Bearer, a positive ``expires_in``, and —
    when ``scope`` is present (RFC 6749 §5.1: it may be left out only if identical to the request) — every
    requested scope; then one GET of a documented collection read those scopes allow must succeed (2xx)
    with the new token. Whether the target is a sandbox (``target.sandbox``, or the base URL's host being a
    document server whose URL or description contains one of ``sandbox_markers``) is noted; that it serves
    synthetic data only is a declaration the harness cannot verify, and a note says so. Untested when the
    document has no client-credentials flow or the configuration uses another kind of auth."""
    target = target_of(ctx)
    flows = {
        flow.kind for s in ctx.spec.index.security_schemes.values() if s.type == "oauth2" for flow in s.flows
    }
    if "clientCredentials" not in flows:
        raise NotTested(
            "the document documents no OAuth 2.0 client-credentials flow "
            f"({', '.join(sorted(flows)) or 'no OAuth 2.0 flow'}), the only one the harness can exercise"
        )
    tokens = target.tokens
    if tokens.kind is not AuthKind.CLIENT_CREDENTIALS:
        raise NotTested(
            "needs OAuth 2.0 client credentials (--auth with type: client_credentials) to run the flow"
        )
    documented = _documented_scopes(ctx, flow="clientCredentials")
    configured = tuple(target.config.auth.scopes)
    requested = [s for s in documented if s in configured] if configured else documented
    if not configured:
        ctx.note(
            "The configuration lists no scopes: every documented client-credentials scope was requested."
        )
    undocumented = [s for s in configured if s not in documented]
    if undocumented:
        ctx.note(
            f"Configured scopes the document does not define (not requested): {', '.join(undocumented)}."
        )
    _note_sandbox(ctx, target, sandbox_markers)

    session = target.session
    before = session.last_exchange
    tokens.invalidate()  # a fresh token response to inspect, not a cached token
    failure: str | None = None
    try:
        tokens.token(requested)
    except TargetError as exc:
        failure = exc.one_line()
    reply = session.last_exchange
    if reply is None or reply is before or reply.method != "POST":
        raise CantTell(f"no token request was made ({failure or 'the token came from elsewhere'})")
    if reply.status is None:
        raise CantTell(f"token request: {reply.error}")
    try:
        body = reply.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    asked = " ".join(requested) or "(none: the server's default)"
    if reply.status != 200 or (failure is not None and "access_token" not in body):
        code = body.get("error")
        yield live_finding(
            "Token request refused",
            f"The client-credentials token request for {asked} was answered {reply.status}"
            f"{f' ({code})' if isinstance(code, str) else ''}: {failure or 'no token'}.",
            exchange=reply,
            expected="200 with an access token (RFC 6749 §5.1)",
            found=f"{reply.status}{f' {code}' if isinstance(code, str) else ''}",
            fix="Provision the documented flow and scopes for sandbox clients, or correct the documentation.",
        )
        return
    token_type = body.get("token_type")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        yield live_finding(
            "Token type not Bearer",
            f"The token response gives token_type {token_type!r}.",
            exchange=reply,
            expected="token_type: Bearer (RFC 6750)",
            found=repr(token_type),
            fix="Issue bearer tokens, as the document's OAuth 2.0 scheme describes.",
        )
    lifetime = body.get("expires_in")
    if isinstance(lifetime, str) and lifetime.isdigit():
        lifetime = int(lifetime)
    if isinstance(lifetime, bool) or not isinstance(lifetime, (int, float)) or lifetime <= 0:
        yield live_finding(
            "No token lifetime",
            f"The token response has no usable expires_in ({lifetime!r}), so a client cannot tell when to renew.",
            exchange=reply,
            expected="expires_in: seconds (RFC 6749 §5.1)",
            found=repr(lifetime),
            fix="Return expires_in with every access token.",
        )
    granted = body.get("scope")
    if isinstance(granted, str):
        missing = [s for s in requested if s not in granted.split()]
        if missing:
            yield live_finding(
                "Requested scopes not granted",
                f"The token response grants {granted!r} for a request of {asked}: "
                f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} silently missing.",
                exchange=reply,
                expected=asked,
                found=granted or "no scope",
                fix="Grant every documented scope the client is provisioned for, or refuse the request with "
                "invalid_scope (RFC 6749 §5.2) instead of dropping scopes silently.",
            )
        have = set(granted.split())
    else:
        ctx.note("The token response has no scope field: per RFC 6749 §5.1 it grants exactly what was asked.")
        have = set(requested)
    if failure is not None:
        ctx.note(f"The harness could not use the token: {failure}")
        return
    yield from _token_works(ctx, target, requested, have)


def _token_works(ctx: CheckContext, target: Any, requested: list[str], have: set[str]) -> Iterator[Finding]:
    reads = [
        op
        for op in collection_reads(ctx)
        if not _scoped(ctx, op) or not _lacks(_alternatives(ctx, op), list(have))
    ]
    if not reads:
        ctx.note("No documented collection read is allowed by the granted scopes: the token was not used.")
        return
    op = reads[0]
    exchange = require_response(
        target.request("GET", op.path, scopes=requested), f"{op.label} with the new token"
    )
    if 200 <= exchange.status < 300:
        ctx.note(f"{op.label} with the new token: {exchange.status}.")
        return
    if exchange.status == 429:
        raise CantTell(f"{op.label} with the new token was rate-limited (429)")
    yield live_finding(
        "Token refused by the API",
        f"{op.label} with the token just issued for {' '.join(requested) or 'the default scopes'} was "
        f"answered {exchange.status}.",
        exchange=exchange,
        operation=op.label,
        expected="2xx",
        found=f"{exchange.status} {exchange.reason}".rstrip(),
        fix="Make tokens from the documented flow valid on the API they are issued for.",
    )
