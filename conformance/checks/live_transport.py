"""C9 — transport security, live: TLS versions and certificate, HSTS, and what plain HTTP serves.

TLS facts come from real handshakes with the ``ssl`` module (:mod:`conformance.live.tls`) against the base
URL's host and port; each probe is one ``"tls"`` record in the evidence, and findings cite it. HTTP probes
go through the guarded session like every other live request. No real credential is ever sent over plain
HTTP: the "with credentials" probes carry a dummy bearer token the server has never issued.

References: NCSC "Using TLS to protect data"; GOV.UK "Using HTTPS" and API technical and data standards;
RFC 6797 (HSTS); RFC 9110; draft-ietf-httpapi-privacy (API calls over plain HTTP).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any, cast

from ..live import (
    DEFAULT_TLS_TIMEOUT,
    AuthMode,
    CertificateInfo,
    EvidenceRecorder,
    ProbeOutcome,
    TlsProbe,
    probe_versions,
)
from ..live import certificate as read_certificate
from ..outcome import Finding
from ..registry import CantTell, CheckContext, check
from ..spec.model import Operation
from ._live import first_collection_read, first_item_id, live_finding, require_response, target_of

_NCSC_TLS = "NCSC, Using TLS to protect data (TLS 1.2 minimum, TLS 1.3 preferred)"
_GDS_HTTPS = 'GOV.UK API technical and data standards, "Use HTTPS"'
_LEGACY = ("SSLv3", "TLSv1", "TLSv1.1")
_CURRENT = ("TLSv1.2", "TLSv1.3")
_LABEL = {
    "SSLv3": "SSL 3.0",
    "TLSv1": "TLS 1.0",
    "TLSv1.1": "TLS 1.1",
    "TLSv1.2": "TLS 1.2",
    "TLSv1.3": "TLS 1.3",
}
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Exchange errors that mean nothing reached the network (the guard refused, or no token could be had).
_NOT_SENT = ("refused:", "not sent", "target unreachable")

DEFAULT_MIN_DAYS_LEFT = 14
DEFAULT_MIN_MAX_AGE = 31_536_000  # one year, as GOV.UK and the HSTS preload list ask


# -- shared helpers ---------------------------------------------------------------------------------------
class _TlsEvidence:
    """Passes TLS probe records on to the run's recorder and keeps the id of the last one.

    ``LiveTarget.tls_versions()`` and ``tls_certificate()`` record their probe but do not return its
    evidence id, which a finding must cite; the probe functions are therefore called here with this
    stand-in recorder (same host, port, SNI and CA bundle as the ``LiveTarget`` methods use).
    """

    def __init__(self, recorder: Any) -> None:
        self._recorder = recorder
        self.last_id: str | None = None

    def record_tls(self, **fields: Any) -> str:
        self.last_id = str(self._recorder.record_tls(**fields))
        return self.last_id


def _where(target: Any) -> str:
    origin = target.origin
    host = f"[{origin.host}]" if ":" in origin.host else origin.host
    return f"{host}:{origin.port}"


def _tls_timeout(target: Any) -> float:
    """Handshakes wait no longer than the run allows a request (``--timeout``), and never over the default."""
    return float(min(DEFAULT_TLS_TIMEOUT, target.config.total_timeout))


def _versions(target: Any) -> tuple[dict[str, TlsProbe], str | None]:
    memo = getattr(target, "memo", None)
    if isinstance(memo, dict) and "tls-versions" in memo:
        cached: tuple[dict[str, TlsProbe], str | None] = memo["tls-versions"]
        return cached  # one probe per run serves both C9-05 and C9-06
    origin = target.origin
    evidence = _TlsEvidence(target.recorder)
    probes = probe_versions(
        origin.host,
        origin.port,
        ca_bundle=target.config.ca_bundle,
        server_name=origin.host,
        timeout=_tls_timeout(target),
        recorder=cast(EvidenceRecorder, evidence),
    )
    if isinstance(memo, dict):
        memo["tls-versions"] = (probes, evidence.last_id)
    return probes, evidence.last_id


def _certificate(target: Any) -> tuple[CertificateInfo, str | None]:
    origin = target.origin
    evidence = _TlsEvidence(target.recorder)
    info = read_certificate(
        origin.host,
        origin.port,
        ca_bundle=target.config.ca_bundle,
        server_name=origin.host,
        timeout=_tls_timeout(target),
        recorder=cast(EvidenceRecorder, evidence),
    )
    return info, evidence.last_id


def _no_tls(target: Any) -> Finding:
    return live_finding(
        "No TLS",
        f"The base URL {target.base_url} uses plain http://: nothing the API sends or receives is encrypted.",
        expected="an https:// base URL (TLS 1.2 or 1.3)",
        found=target.base_url,
        fix="Serve the API over HTTPS only and give the harness the https:// base URL.",
    )


def _never_sent(exchange: Any) -> bool:
    return exchange.status is None and (exchange.error or "").startswith(_NOT_SENT)


def _plain_url(ctx: CheckContext, op: Operation) -> str:
    url: str = target_of(ctx).plain_http_url(op.path)
    return url


def _utc(text: str | None) -> datetime.datetime | None:
    if not text:
        return None
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


# -- live.tls.versions ------------------------------------------------------------------------------------
@check(
    id="live.tls.versions",
    mode="live",
    title="TLS 1.2 or 1.3 is accepted; SSL 3.0, TLS 1.0 and TLS 1.1 are refused",
    references=(_GDS_HTTPS, _NCSC_TLS, "NCSC Cloud Security Principle 1 (data in transit protection)"),
)
def tls_versions(ctx: CheckContext) -> Iterator[Finding]:
    """One real handshake per protocol version (SSL 3.0, TLS 1.0, 1.1, 1.2, 1.3) with the base URL's host
    and port, each pinned to exactly that version: TLS 1.2 or 1.3 must complete, and SSL 3.0, TLS 1.0 and
    TLS 1.1 must not. A legacy version this machine's OpenSSL cannot even offer is noted and counts as
    neither refused nor accepted; when none of the three could be tried the check cannot tell. A plain
    ``http://`` base URL is a finding (no TLS at all); no handshake at all (refused, timed out) is cantTell.
    """
    target = target_of(ctx)
    if target.origin.scheme != "https":
        yield _no_tls(target)
        return
    probes, evidence = _versions(target)
    where = _where(target)
    concluded = [p for p in probes.values() if p.outcome in (ProbeOutcome.ACCEPTED, ProbeOutcome.REFUSED)]
    if not concluded:
        errors = sorted({p.error or p.outcome.value for p in probes.values()})
        raise CantTell(f"no TLS handshake with {where} reached a conclusion: {'; '.join(errors)}")
    for version in _LEGACY:
        probe = probes[version]
        label = _LABEL[version]
        if probe.accepted:
            yield live_finding(
                "Legacy TLS version accepted",
                f"{where} completed a {label} handshake (cipher {probe.cipher or 'unknown'}). {label} has known "
                "weaknesses and is retired (RFC 8996).",
                exchange=evidence,
                expected=f"{label} refused",
                found=f"{label} accepted",
                fix="Set the minimum protocol version to TLS 1.2 on every listener and load balancer "
                "in front of the API (e.g. nginx `ssl_protocols TLSv1.2 TLSv1.3;`).",
            )
        elif probe.outcome is ProbeOutcome.UNSUPPORTED_BY_CLIENT:
            ctx.note(
                f"{label} was not tried: this machine's OpenSSL cannot offer it ({probe.error}); "
                "it counts as neither refused nor accepted."
            )
        elif probe.outcome is ProbeOutcome.ERROR:
            ctx.note(f"{label}: no conclusion ({probe.error}).")
    current = [_LABEL[v] for v in _CURRENT if probes[v].accepted]
    if not current:
        if not any(probes[v].outcome is ProbeOutcome.REFUSED for v in _CURRENT):
            problems = "; ".join(f"{_LABEL[v]}: {probes[v].error}" for v in _CURRENT)
            raise CantTell(f"neither TLS 1.2 nor TLS 1.3 could be tried with {where}: {problems}")
        yield live_finding(
            "No current TLS version accepted",
            f"{where} completed neither a TLS 1.2 nor a TLS 1.3 handshake "
            f"({'; '.join(f'{_LABEL[v]}: {probes[v].error}' for v in _CURRENT)}).",
            exchange=evidence,
            expected="TLS 1.2 and/or TLS 1.3 accepted",
            found="both refused",
            fix="Enable TLS 1.2 and TLS 1.3 with the NCSC-recommended cipher suites.",
        )
    accepted = [_LABEL[v] for v in probes if probes[v].accepted]
    refused = [_LABEL[v] for v in probes if probes[v].outcome is ProbeOutcome.REFUSED]
    ctx.note(
        f"{where} accepted {', '.join(accepted) or 'no version'}; refused {', '.join(refused) or 'none'}."
    )
    if not any(probes[v].outcome in (ProbeOutcome.ACCEPTED, ProbeOutcome.REFUSED) for v in _LEGACY):
        raise CantTell(
            "none of SSL 3.0, TLS 1.0 and TLS 1.1 could be tried from this machine (its OpenSSL cannot "
            "offer them, or the handshakes got no answer), so their refusal is not shown"
        )


# -- live.tls.tls13 ---------------------------------------------------------------------------------------
@check(
    id="live.tls.tls13",
    mode="live",
    title="TLS 1.3 is offered",
    references=(_NCSC_TLS, "RFC 8446 (TLS 1.3)"),
)
def tls_13(ctx: CheckContext) -> Iterator[Finding]:
    """A handshake pinned to TLS 1.3 with the base URL's host and port completes. A plain ``http://``
    base URL is a finding; a TLS 1.3 probe that gets no answer, or that this machine's OpenSSL cannot make,
    is cantTell."""
    target = target_of(ctx)
    if target.origin.scheme != "https":
        yield _no_tls(target)
        return
    probes, evidence = _versions(target)
    probe = probes["TLSv1.3"]
    where = _where(target)
    if probe.accepted:
        ctx.note(f"{where} accepted TLS 1.3 (cipher {probe.cipher or 'unknown'}).")
        return
    if probe.outcome is ProbeOutcome.UNSUPPORTED_BY_CLIENT:
        raise CantTell(f"this machine's OpenSSL cannot offer TLS 1.3 ({probe.error})")
    if probe.outcome is ProbeOutcome.ERROR:
        raise CantTell(f"TLS 1.3 handshake with {where}: {probe.error}")
    best = next((_LABEL[v] for v in ("TLSv1.2", "TLSv1.1", "TLSv1") if probes[v].accepted), None)
    yield live_finding(
        "TLS 1.3 not offered",
        f"{where} refused a TLS 1.3 handshake ({probe.error}); "
        f"{f'the newest version it accepts is {best}' if best else 'it accepted no other version either'}.",
        exchange=evidence,
        expected="TLS 1.3 accepted",
        found=f"TLS 1.3 refused{f' (newest accepted: {best})' if best else ''}",
        fix="Enable TLS 1.3 next to TLS 1.2 (OpenSSL 1.1.1 or later; e.g. nginx `ssl_protocols TLSv1.2 "
        "TLSv1.3;`).",
    )


# -- live.tls.certificate ---------------------------------------------------------------------------------
@check(
    id="live.tls.certificate",
    mode="live",
    title="The TLS certificate is trusted, names the host and is not close to expiry",
    references=(
        'GOV.UK API technical and data standards, "establish trust in your certificates … timely renewal"',
        "RFC 6125 §6 (service identity)",
        "RFC 5280 §6 (path validation)",
    ),
    params={"min_days_left": DEFAULT_MIN_DAYS_LEFT},
)
def tls_certificate(ctx: CheckContext, *, min_days_left: int) -> Iterator[Finding]:
    """The certificate the base URL's host presents: its chain verifies against the configured CA bundle
    (``--ca-bundle``) or else the system trust store; a subjectAltName matches the host (RFC 6125: exact,
    or a ``*`` as the whole left-most label); it is valid now; and it expires more than ``min_days_left``
    days from now. A plain ``http://`` base URL is a finding; no certificate readable (no handshake) is
    cantTell."""
    target = target_of(ctx)
    if target.origin.scheme != "https":
        yield _no_tls(target)
        return
    info, evidence = _certificate(target)
    where = _where(target)
    host = target.origin.host
    not_after, not_before = _utc(info.not_after), _utc(info.not_before)
    if not_after is None or not_before is None:
        if (info.error or "").startswith("no certificate:"):
            raise CantTell(f"{where}: {info.error}")
        yield live_finding(
            "No certificate",
            f"{where} completed a TLS handshake without presenting a certificate ({info.error}).",
            exchange=evidence,
            expected="an X.509 server certificate",
            found=info.error or "none",
            fix="Configure the server certificate and its chain on the TLS listener.",
        )
        return
    bundle = target.config.ca_bundle
    trust = f"the configured CA bundle ({bundle.name})" if bundle else "the system trust store"
    now = datetime.datetime.now(datetime.timezone.utc)
    error = info.error or ""
    expired, early = not_after <= now, not_before > now
    # An expired (or not yet valid) certificate also fails path validation; that is one finding, not two.
    if not info.chain_trusted and not (expired and "expired" in error) and not (early and "not yet" in error):
        yield live_finding(
            "Certificate not trusted",
            f"The certificate of {where} (subject {info.subject}, issuer {info.issuer}) does not verify "
            f"against {trust}: {error or 'unknown reason'}.",
            exchange=evidence,
            expected=f"a chain to a CA in {trust}",
            found=error or "verification failed",
            fix="Serve the whole chain (server certificate and intermediates) issued by a public CA, or give "
            "the harness the customer's CA with --ca-bundle.",
        )
    if not info.hostname_matches:
        names = ", ".join(info.sans) or "no subjectAltName"
        yield live_finding(
            "Certificate name mismatch",
            f"The certificate of {where} does not name {host} (it names {names}).",
            exchange=evidence,
            expected=f"a subjectAltName matching {host}",
            found=names,
            fix=f"Issue the certificate with {host} (or a wildcard covering it) among its subjectAltNames.",
        )
    if early:
        yield live_finding(
            "Certificate not yet valid",
            f"The certificate of {where} is valid only from {info.not_before}.",
            exchange=evidence,
            expected=f"notBefore in the past (now {now.isoformat(timespec='seconds')})",
            found=f"notBefore {info.not_before}",
            fix="Check the issuing system's clock, or wait for the certificate's start before deploying it.",
        )
    left = not_after - now
    if expired:
        yield live_finding(
            "Certificate expired",
            f"The certificate of {where} expired on {info.not_after}.",
            exchange=evidence,
            expected=f"notAfter more than {min_days_left} days ahead",
            found=f"expired {info.not_after}",
            fix="Renew the certificate now, and automate renewal (e.g. ACME) well before expiry.",
        )
    elif left <= datetime.timedelta(days=min_days_left):
        yield live_finding(
            "Certificate expires soon",
            f"The certificate of {where} expires on {info.not_after}, in {left.days} days "
            f"({left.total_seconds() / 86400:.1f}).",
            exchange=evidence,
            expected=f"more than {min_days_left} days left",
            found=f"{left.days} days left (notAfter {info.not_after})",
            fix="Renew the certificate, and automate renewal so at least a month's margin is always left.",
        )
    else:
        ctx.note(f"The certificate of {where} expires on {info.not_after} ({left.days} days left).")
    ctx.note(f"Trust was judged with {trust}; issuer {info.issuer}.")


# -- live.hsts --------------------------------------------------------------------------------------------
def _hsts(value: str) -> tuple[int | None, str | None, list[str]]:
    """``(max-age, problem, directive names as sent)`` of a Strict-Transport-Security value (RFC 6797 §6.1)."""
    directives: dict[str, str | None] = {}
    names: list[str] = []
    for part in value.split(";"):
        part = part.strip()
        if not part:
            continue
        name, sep, raw = part.partition("=")
        key = name.strip().lower()
        if key in directives:
            return None, f"the directive '{key}' appears twice (RFC 6797 §6.1: the header is then void)", []
        directives[key] = raw.strip().strip('"') if sep else None
        names.append(name.strip())
    if "max-age" not in directives:
        return None, "no max-age directive", names
    age = directives["max-age"]
    if age is None or not age.isdigit():
        return None, f"max-age is not a whole number of seconds ({age!r})", names
    return int(age), None, names


@check(
    id="live.hsts",
    mode="live",
    title="HTTPS responses carry Strict-Transport-Security with a max-age of at least a year",
    references=(
        "GOV.UK Service Manual, Using HTTPS (HSTS)",
        "RFC 6797 §6.1 (Strict-Transport-Security)",
    ),
    params={"min_max_age": DEFAULT_MIN_MAX_AGE},
)
def hsts(ctx: CheckContext, *, min_max_age: int) -> Iterator[Finding]:
    """One GET of the document's first collection read (with the configured credentials) over HTTPS: its
    response carries ``Strict-Transport-Security`` (the first field, as browsers read it) with a valid
    ``max-age`` of at least ``min_max_age`` seconds. A plain ``http://`` base URL is a finding (HSTS is only
    honoured over HTTPS); no response is cantTell."""
    target = target_of(ctx)
    if target.origin.scheme != "https":
        yield _no_tls(target)
        return
    op = first_collection_read(ctx)
    exchange = require_response(target.request("GET", op.path), op.label)
    values = exchange.headers.get_all("Strict-Transport-Security")
    if not values:
        yield live_finding(
            "No HSTS header",
            f"The HTTPS response to {op.label} ({exchange.status}) has no Strict-Transport-Security header.",
            exchange=exchange,
            operation=op.label,
            expected=f"Strict-Transport-Security: max-age={min_max_age}",
            found="no header",
            fix=f"Send `Strict-Transport-Security: max-age={min_max_age}; includeSubDomains` on every HTTPS "
            "response.",
        )
        return
    age, problem, directives = _hsts(values[0])
    if age is None:
        yield live_finding(
            "Invalid HSTS header",
            f"The Strict-Transport-Security header of {op.label} cannot be used: {problem}.",
            exchange=exchange,
            operation=op.label,
            expected=f"max-age={min_max_age} (or more)",
            found=values[0],
            fix=f"Send `Strict-Transport-Security: max-age={min_max_age}; includeSubDomains`.",
        )
        return
    if age < min_max_age:
        yield live_finding(
            "HSTS max-age too short",
            f"Strict-Transport-Security on {op.label} asks browsers to remember HTTPS for {age} seconds "
            f"({age / 86400:.1f} days).",
            exchange=exchange,
            operation=op.label,
            expected=f"max-age ≥ {min_max_age}",
            found=f"max-age={age}",
            fix=f"Raise max-age to at least {min_max_age} seconds once HTTPS works everywhere on the host.",
        )
    others = [d for d in directives if d.lower() != "max-age"]
    ctx.note(f"Strict-Transport-Security: max-age={age}{'; ' + '; '.join(others) if others else ''}.")
    if len(values) > 1:
        ctx.note(f"{len(values)} Strict-Transport-Security fields were sent; only the first counts.")


# -- live.plain-http.no-data ------------------------------------------------------------------------------
def _documented_shape(ctx: CheckContext, op: Operation, body: Any) -> bool:
    """Whether a JSON body looks like the operation's documented success response: it has every required
    top-level property of the 2xx JSON schema, or it is a list of records with ids."""
    if first_item_id(body) is not None:
        return True
    if not isinstance(body, dict):
        return False
    index = ctx.spec.index
    for response in op.responses:
        if response.status_class != "2":
            continue
        for media in response.content:
            if media.schema is None or "json" not in media.media_type:
                continue
            required = index.required(media.schema)
            if required and required <= set(body):
                return True
    return False


def _json_body(exchange: Any) -> Any:
    if not exchange.body.strip():
        return None
    try:
        return exchange.json()
    except ValueError:
        return None


def _bearer_challenge(exchange: Any) -> bool:
    return any(v.strip().lower().startswith("bearer") for v in exchange.headers.get_all("WWW-Authenticate"))


def _plain_findings(ctx: CheckContext, op: Operation, exchange: Any, probe: str) -> Iterator[Finding]:
    status: int = exchange.status
    body = _json_body(exchange)
    url = exchange.url
    shaped = body is not None and _documented_shape(ctx, op, body)
    if shaped or (200 <= status < 300 and body is not None):
        yield live_finding(
            "API data served over plain HTTP",
            f"A plain-HTTP GET of {url} {probe} was answered {status} with a JSON body"
            f"{' shaped like the documented response' if shaped else ''}: API data travels unencrypted.",
            exchange=exchange,
            operation=op.label,
            expected="no API data over http:// (connection refused, or an error without data)",
            found=f"{status} {exchange.media_type or 'no Content-Type'}, {len(exchange.body)} bytes",
            fix="Do not serve the API on plain HTTP: close port 80 for the API host, or answer every request "
            "there with an error and no body.",
        )
    elif status == 401 and _bearer_challenge(exchange):
        yield live_finding(
            "API served over plain HTTP",
            f"A plain-HTTP GET of {url} {probe} was answered by the API itself (401 with a Bearer challenge): "
            "the API processes requests on plain HTTP and asks for a token there, so a client holding a real "
            "token would send it, and receive data, unencrypted. (The check never sends a real token over "
            "plain HTTP, so the data itself is not shown.)",
            exchange=exchange,
            operation=op.label,
            expected="no API on http:// (connection refused, or an error that invites no credentials)",
            found=f"401 WWW-Authenticate: {exchange.header('WWW-Authenticate')}",
            fix="Do not route plain-HTTP requests to the API: close port 80 for the API host, or answer "
            "there with an error and no body.",
        )
    else:
        ctx.note(f"Plain HTTP {probe}: {status} {exchange.reason}".rstrip() + ", no API data.")


@check(
    id="live.plain-http.no-data",
    mode="live",
    title="Plain http:// requests do not return API data",
    references=(
        'GOV.UK API technical and data standards, "only accessible through secure connections"',
        "draft-ietf-httpapi-privacy (API clients and servers on unencrypted HTTP)",
    ),
)
def plain_http_no_data(ctx: CheckContext) -> Iterator[Finding]:
    """Two GETs of the document's first collection read on the plain-HTTP URL (the base URL with
    ``http://``, or the configured ``plain_http_url``): without credentials, and with a dummy bearer token
    the server never issued (a real token is never sent over plain HTTP). Neither may return API data: a
    2xx with a JSON body, or a JSON body shaped like the documented response (its required properties, or
    records with ids). A 401 with a Bearer challenge is also a finding: the API itself answers on plain
    HTTP, so a real token would get data there. Connection refused (nothing listens) passes, as do
    redirects and errors without data; when the first probe finds nothing listening the second is not
    sent."""
    target = target_of(ctx)
    op = first_collection_read(ctx)
    url = _plain_url(ctx, op)
    for auth, probe in ((AuthMode.NONE, "without credentials"), (AuthMode.INVALID, "with a dummy token")):
        exchange = target.request("GET", url, auth=auth)
        if exchange.status is None:
            if _never_sent(exchange):
                raise CantTell(f"plain-HTTP probe of {url}: {exchange.error}")
            ctx.note(f"Plain HTTP {probe}: no HTTP answer from {url} ({exchange.error}): nothing is served.")
            return
        yield from _plain_findings(ctx, op, exchange, probe)


# -- live.plain-http.no-redirect --------------------------------------------------------------------------
@check(
    id="live.plain-http.no-redirect",
    mode="live",
    title="Authenticated plain-HTTP API requests are refused, not redirected",
    references=(
        "draft-ietf-httpapi-privacy (API servers should not redirect unencrypted requests)",
        "RFC 6750 §5.3 (bearer tokens over TLS only)",
    ),
)
def plain_http_no_redirect(ctx: CheckContext) -> Iterator[Finding]:
    """One GET of the document's first collection read on the plain-HTTP URL, carrying a dummy bearer
    token (never a real one), redirects not followed: the answer must not be a redirect (3xx). By the time
    a client sees a redirect its token has already crossed the network in clear text, and following the
    redirect hides the mistake instead of failing loudly; the request should be refused (e.g. 403 or 426)
    or nothing should listen. Connection refused passes; a probe the harness did not send is cantTell."""
    target = target_of(ctx)
    op = first_collection_read(ctx)
    url = _plain_url(ctx, op)
    exchange = target.request("GET", url, auth=AuthMode.INVALID)
    if exchange.status is None:
        if _never_sent(exchange):
            raise CantTell(f"plain-HTTP probe of {url}: {exchange.error}")
        ctx.note(f"No HTTP answer from {url} ({exchange.error}): nothing to redirect.")
        return
    status: int = exchange.status
    if status in _REDIRECTS or (300 <= status < 400 and exchange.header("Location")):
        location = exchange.header("Location") or "no Location"
        yield live_finding(
            "Authenticated request redirected",
            f"A plain-HTTP GET of {url} carrying an Authorization header was answered {status} "
            f"(Location: {location}). The token had already crossed the network unencrypted on this first "
            "hop, and a client that follows the redirect never learns that it is misconfigured.",
            exchange=exchange,
            operation=op.label,
            expected="a refusal without redirect (e.g. 403, or 426 Upgrade Required), or no plain-HTTP listener",
            found=f"{status} to {location}",
            fix="Answer plain-HTTP requests that carry credentials with an error (426 or 403) and no body; "
            "keep redirects for browsers, or close port 80 for the API host.",
        )
        return
    ctx.note(f"A plain-HTTP request with a token was answered {status} {exchange.reason}".rstrip() + ".")
