"""C9 — secure interfaces: schemes defined and required, no Basic or query-string keys, OAuth 2.0, scopes.

Everything is read from the index: ``SecurityScheme`` (Swagger 2 flows normalised to the OpenAPI 3 names)
and each operation's effective ``security`` (``None`` when nothing is declared anywhere, ``()`` for an
explicit ``security: []``). Findings about a requirement written once at the document root are reported
once, for all the operations that inherit it. See NCSC "Securing HTTP-based APIs", RFC 9700, and GOV.UK API
technical and data standards, "When to authenticate".
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..outcome import Finding
from ..registry import CheckContext, Inapplicable, check
from ..spec.model import Loc, Operation, SecurityRequirement, SecurityScheme, child
from ._common import JUSTIFICATION_EXTENSION, finding, justified, labels, words

_NCSC = "NCSC, Securing HTTP-based APIs (authentication and authorisation)"
_READ = frozenset({"get", "head"})
_WRITE = frozenset({"post", "put", "patch", "delete"})
_STRONG_FLOWS = frozenset({"clientCredentials", "authorizationCode"})
_DEPRECATED_FLOWS = frozenset({"implicit", "password"})
_ROOT = "#/security"

DEFAULT_WRITE_MARKERS = ["write", "create", "update", "delete", "admin", "manage"]


def _schemes(ctx: CheckContext) -> dict[str, SecurityScheme]:
    schemes: dict[str, SecurityScheme] = ctx.spec.index.security_schemes
    return schemes


def _schemes_loc(ctx: CheckContext) -> Loc:
    return "#/components/securitySchemes" if ctx.spec.version.is_oas3 else "#/securityDefinitions"


def _secured(op: Operation) -> bool:
    return bool(op.security) and any(not r.is_anonymous for r in op.security or ())


def _describe_requirement(req: SecurityRequirement, schemes: dict[str, SecurityScheme]) -> str:
    parts = []
    for name, _ in req.schemes:
        scheme = schemes.get(name)
        kind = scheme.type if scheme is not None else "undefined"
        if scheme is not None and scheme.type == "apiKey":
            kind = f"apiKey in {scheme.api_key_in}"
        elif scheme is not None and scheme.type == "http":
            kind = f"http {scheme.http_scheme}"
        parts.append(f"{name} ({kind})")
    return " + ".join(parts) or "{} (anonymous)"


_GroupKey = tuple[bool, tuple[SecurityRequirement, ...] | None]


def _group_key(op: Operation) -> _GroupKey:
    return (op.security_loc == _ROOT, op.security)


def _groups(ops: Iterable[Operation]) -> list[tuple[Loc | None, list[Operation]]]:
    """Operations grouped by their effective security: all that inherit the root's form one group, and
    operations that each write the same requirement form another (one finding per cause, not per copy)."""
    grouped: dict[_GroupKey, list[Operation]] = {}
    for op in ops:
        grouped.setdefault(_group_key(op), []).append(op)
    return [(group[0].security_loc, group) for group in grouped.values()]


def _subject(loc: Loc | None, group: list[Operation]) -> tuple[str, Operation | None]:
    """How a message names a group of operations, and the operation to attach (if there is just one)."""
    count = len(group)
    if loc == _ROOT:
        return (
            f"The root `security` (inherited by {count} operation{'s' if count != 1 else ''}: "
            f"{labels(group)})",
            None,
        )
    if count == 1:
        return group[0].label, group[0]
    return f"The `security` written on each of {count} operations ({labels(group)})", None


# -- openapi.security.defined -----------------------------------------------------------------------------
@check(
    id="openapi.security.defined",
    mode="static",
    title="Security schemes are defined and every operation requires one (exceptions justified)",
    references=('GOV.UK API technical and data standards, "When to authenticate"', _NCSC),
    params={"allow_unauthenticated": []},
)
def security_defined(ctx: CheckContext, *, allow_unauthenticated: list[str]) -> Iterator[Finding]:
    """Security schemes are defined (``components.securitySchemes`` / ``securityDefinitions``); every
    security requirement names a defined scheme; and every operation's effective security is non-empty with
    no anonymous alternative (``{}``), unless the operation carries ``x-interop-pol-justification`` (for this
    requirement, or a plain string) or its operationId or "METHOD /path" is in ``allow_unauthenticated``.
    Justified and allowed operations are listed in the notes. Inapplicable when there are no operations."""
    index = ctx.spec.index
    operations: tuple[Operation, ...] = index.operations
    if not operations:
        raise Inapplicable("The document has no operations.")
    schemes = _schemes(ctx)
    if not schemes:
        yield finding(
            "No security schemes",
            "The document defines no security scheme, so no operation can require authentication.",
            loc=_schemes_loc(ctx),
            expected="at least one security scheme (OAuth 2.0 or OpenID Connect)",
            found="none",
            fix="Define the scheme under components.securitySchemes (e.g. oauth2 with a clientCredentials "
            "flow) and require it with a root `security` list.",
        )
    undefined: set[tuple[Loc | None, str]] = set()
    for loc, group in _groups(operations):
        for req in group[0].security or ():
            for name, _ in req.schemes:
                if name in schemes or (loc, name) in undefined:
                    continue
                undefined.add((loc, name))
                subject, op = _subject(loc, group)
                yield finding(
                    "Undefined security scheme",
                    f"{subject} requires scheme '{name}', which is not defined.",
                    loc=loc,
                    op=op,
                    expected=f"a scheme named '{name}' under {_schemes_loc(ctx)[2:].replace('/', '.')}",
                    found=", ".join(sorted(schemes)) or "no schemes",
                    fix=f"Define '{name}', or correct the name in the security requirement.",
                )
    allowed = {a.strip() for a in allow_unauthenticated}
    allowed_labels = {a.upper() for a in allowed}
    unsecured: dict[tuple[Loc | None, str], list[Operation]] = {}
    for op in operations:
        if op.security is None or not op.security:
            kind = "none"
        elif any(r.is_anonymous for r in op.security):
            kind = "anonymous"
        else:
            continue
        reason = justified(ctx, op.raw)
        if reason is None and (op.operation_id in allowed or op.label.upper() in allowed_labels):
            reason = "listed in the profile's allow_unauthenticated"
        if reason is not None:
            ctx.note(f"{op.label} may be called without authentication: {reason}")
            continue
        key = (op.security_loc, kind)
        unsecured.setdefault(key, []).append(op)
    if unsecured and all(op.security is None for op in operations):  # one cause: no requirement anywhere
        group = [op for ops in unsecured.values() for op in ops]
        yield finding(
            "Operation not secured",
            f"No security requirement is declared anywhere: {len(group)} "
            f"operation{'' if len(group) == 1 else 's'} ({labels(group)}) can be called without "
            "authentication.",
            loc="#/paths",
            expected="a root `security` requirement (or one on every operation)",
            found="no security requirement",
            fix=_FIX_UNSECURED,
        )
        return
    for (loc, kind), group in unsecured.items():
        if loc == _ROOT:
            subject, op = _subject(loc, group)
            yield finding(
                "Anonymous access allowed" if kind == "anonymous" else "Operation not secured",
                f"{subject} {'includes an anonymous alternative {}' if kind == 'anonymous' else 'is empty'}.",
                loc=loc,
                op=op,
                expected="every alternative names at least one scheme",
                found="{} among the alternatives" if kind == "anonymous" else "security: []",
                fix=_FIX_UNSECURED,
            )
            continue
        for op in group:
            if kind == "anonymous":
                title, found = "Anonymous access allowed", "{} among the alternatives"
                message = f"{op.label} can also be called anonymously (its security includes {{}})."
            elif op.security is None:
                title, found = "Operation not secured", "no security requirement"
                message = f"{op.label} has no security requirement (none on the operation, none at the root)."
            else:
                title, found = "Operation not secured", "security: []"
                message = f"{op.label} turns security off (security: [])."
            yield finding(
                title,
                message,
                loc=loc or op.loc,
                op=op,
                expected="a security requirement naming a scheme, or a written justification",
                found=found,
                fix=_FIX_UNSECURED,
            )


_FIX_UNSECURED = (
    "Require a scheme (e.g. `security: [{oauth2: [persons.read]}]`); if the operation must be public (e.g. a "
    f'health check), say why with `{JUSTIFICATION_EXTENSION}: {{IOP-C9-01: "…"}}` on the operation.'
)


# -- openapi.security.no-basic-or-query-key ---------------------------------------------------------------
@check(
    id="openapi.security.no-basic-or-query-key",
    mode="static",
    title="No HTTP Basic authentication and no API keys in query strings",
    references=(_NCSC + " (advises against basic authentication)", "OWASP API Security Top 10 2023, API2"),
)
def no_basic_or_query_key(ctx: CheckContext) -> Iterator[Finding]:
    """No defined security scheme is HTTP Basic (OpenAPI 3 ``type: http, scheme: basic``, any case;
    Swagger 2 ``type: basic``) or an ``apiKey`` sent ``in: query``. Defined schemes count even if unused.
    Inapplicable when no security scheme is defined (``openapi.security.defined`` reports that)."""
    schemes = _schemes(ctx)
    if not schemes:
        raise Inapplicable("No security scheme is defined (reported by openapi.security.defined).")
    for scheme in schemes.values():
        if scheme.type == "basic" or (
            scheme.type == "http" and (scheme.http_scheme or "").lower() == "basic"
        ):
            yield finding(
                "HTTP Basic authentication",
                f"Security scheme '{scheme.name}' is HTTP Basic: a reusable password goes with every "
                "request.",
                loc=child(scheme.loc, "type" if scheme.type == "basic" else "scheme"),
                expected="OAuth 2.0 (client credentials / authorization code) or OpenID Connect",
                found="type: basic"
                if scheme.type == "basic"
                else f"type: http, scheme: {scheme.http_scheme}",
                fix="Replace Basic authentication with OAuth 2.0 bearer tokens (client credentials for "
                "system-to-system calls).",
            )
        elif scheme.type == "apiKey" and scheme.api_key_in == "query":
            yield finding(
                "API key in query string",
                f"Security scheme '{scheme.name}' sends the key '{scheme.api_key_name}' in the query "
                "string, where it is written to logs, histories and Referer headers.",
                loc=child(scheme.loc, "in"),
                expected="credentials in a header (Authorization: Bearer …)",
                found="in: query",
                fix="Use OAuth 2.0 bearer tokens in the Authorization header (at the least, move the key "
                "to a header).",
            )


# -- openapi.security.no-api-key --------------------------------------------------------------------------
@check(
    id="openapi.security.no-api-key",
    mode="static",
    title="No static API keys (in headers or cookies) as the means of authentication",
    references=(_NCSC + " (advises against simple API keys)",),
)
def no_api_key(ctx: CheckContext) -> Iterator[Finding]:
    """No ``apiKey`` scheme in a header or cookie is, on its own or with other API keys only, an alternative
    of some operation's security: then a static key is the credential. A key required together with an
    OAuth 2.0, OpenID Connect, HTTP bearer or mutual-TLS scheme in the same requirement (e.g. a gateway
    subscription key beside a token) is accepted and noted; a defined but unused key is noted. One finding
    per scheme, naming the operations. (Query keys are ``openapi.security.no-basic-or-query-key``.)
    Inapplicable when no security scheme is defined."""
    index = ctx.spec.index
    schemes = _schemes(ctx)
    if not schemes:
        raise Inapplicable("No security scheme is defined (reported by openapi.security.defined).")
    keys = {n: s for n, s in schemes.items() if s.type == "apiKey" and s.api_key_in in ("header", "cookie")}
    alone: dict[str, dict[Loc, Operation]] = {}
    beside: dict[str, set[str]] = {}
    for op in index.operations:
        for req in op.security or ():
            names = [n for n, _ in req.schemes]
            used_keys = [n for n in names if n in keys]
            if not used_keys:
                continue
            others = [n for n in names if n not in keys and n in schemes and schemes[n].type != "apiKey"]
            for name in used_keys:
                if others:
                    beside.setdefault(name, set()).update(others)
                else:
                    alone.setdefault(name, {})[op.loc] = op
    for name, scheme in keys.items():
        if name in beside and name not in alone:
            ctx.note(f"API key '{name}' is only used together with {', '.join(sorted(beside[name]))}.")
        if name not in beside and name not in alone:
            ctx.note(f"API key scheme '{name}' is defined but no operation uses it.")
        if name not in alone:
            continue
        ops = list(alone[name].values())
        bearer_hint = (
            " If this header carries an OAuth 2.0 bearer token (Swagger 2 has no bearer type), declare it "
            "as oauth2 (or `type: http, scheme: bearer` in OpenAPI 3)."
            if (scheme.api_key_name or "").lower() == "authorization"
            else ""
        )
        yield finding(
            "API key authentication",
            f"Security scheme '{name}' (a static key in the {scheme.api_key_in} '{scheme.api_key_name}') is "
            f"the only credential for {len(ops)} operation{'s' if len(ops) != 1 else ''}: {labels(ops)}.",
            loc=scheme.loc,
            expected="OAuth 2.0 or OpenID Connect tokens (a key only in addition)",
            found=f"apiKey in {scheme.api_key_in}",
            fix="Authenticate with OAuth 2.0 (client credentials for system-to-system calls) and keep any "
            "key "
            "only as an additional identifier." + bearer_hint,
        )


# -- openapi.security.oauth2 ------------------------------------------------------------------------------
def _strong(req: SecurityRequirement, schemes: dict[str, SecurityScheme]) -> bool:
    for name, _ in req.schemes:
        scheme = schemes.get(name)
        if scheme is None:
            continue
        if scheme.type == "openIdConnect":
            return True
        if scheme.type == "oauth2" and any(f.kind in _STRONG_FLOWS for f in scheme.flows):
            return True
    return False


@check(
    id="openapi.security.oauth2",
    mode="static",
    title="Authentication uses OAuth 2.0 (client credentials / authorization code) or OpenID Connect",
    references=(
        "GOV.UK API technical and data standards, "
        '"Application-level authorisation", "User-level authorisation"',
        "RFC 9700 OAuth 2.0 Security Best Current Practice",
    ),
)
def security_oauth2(ctx: CheckContext) -> Iterator[Finding]:
    """Every secured operation has at least one security alternative that includes an ``oauth2`` scheme
    with a ``clientCredentials`` or ``authorizationCode`` flow (Swagger 2 ``application`` / ``accessCode``)
    or an ``openIdConnect`` scheme; ``mutualTLS`` and other schemes count only in addition. Defined OAuth 2.0
    flows ``implicit`` and ``password`` are findings (RFC 9700 deprecates them). Inapplicable when no
    operation is secured (``openapi.security.defined`` reports that)."""
    index = ctx.spec.index
    schemes = _schemes(ctx)
    secured = [op for op in index.operations if _secured(op)]
    if not secured:
        raise Inapplicable("No operation requires authentication (reported by openapi.security.defined).")
    for loc, group in _groups(secured):
        alternatives = group[0].security or ()
        if any(_strong(req, schemes) for req in alternatives):
            continue
        subject, op = _subject(loc, group)
        offered = "; ".join(_describe_requirement(r, schemes) for r in alternatives if not r.is_anonymous)
        yield finding(
            "No OAuth 2.0 or OpenID Connect",
            f"{subject} offers no OAuth 2.0 (client credentials / authorization code) or OpenID Connect "
            f"alternative: {offered}.",
            loc=loc or group[0].loc,
            op=op,
            expected="an oauth2 (clientCredentials or authorizationCode) or openIdConnect scheme",
            found=offered,
            fix="Add an oauth2 scheme with a clientCredentials flow (system-to-system) or "
            "authorizationCode flow (user context), or openIdConnect, and require it; keep mutualTLS or "
            "keys only in addition.",
        )
    for scheme in schemes.values():
        for flow in scheme.flows:
            if flow.kind not in _DEPRECATED_FLOWS:
                continue
            yield finding(
                "Deprecated OAuth flow",
                f"Security scheme '{scheme.name}' defines the OAuth 2.0 {flow.kind} flow, which RFC 9700 "
                "deprecates.",
                loc=child(flow.loc, "flow") if flow.loc == scheme.loc else flow.loc,
                expected="clientCredentials or authorizationCode (with PKCE)",
                found=flow.kind,
                fix="Remove the flow; use authorizationCode with PKCE for users and clientCredentials for "
                "systems.",
            )


# -- openapi.security.scopes ------------------------------------------------------------------------------
def _oauth_scopes(req: SecurityRequirement, oauth: dict[str, SecurityScheme]) -> set[tuple[str, str]]:
    return {(name, scope) for name, scopes in req.schemes if name in oauth for scope in scopes}


@check(
    id="openapi.security.scopes",
    mode="static",
    title="OAuth scopes are defined, listed per operation, and separate read from write",
    references=(
        'GOV.UK API technical and data standards, "Follow good practice for tokens and permissions"',
        _NCSC,
    ),
    params={"write_markers": DEFAULT_WRITE_MARKERS},
)
def security_scopes(ctx: CheckContext, *, write_markers: list[str]) -> Iterator[Finding]:
    """For the ``oauth2`` schemes: every flow defines at least one scope; every requirement naming an oauth2
    scheme lists at least one scope, and only scopes the scheme defines. Read and write are separated: a
    write operation (POST/PUT/PATCH/DELETE) must not be callable with an alternative whose scopes are all
    also accepted by read operations (GET/HEAD) ("Read and write share a scope"; scopes named with
    ``write_markers`` do not count as read scopes), and a read operation must not need, in every
    alternative, a scope whose name has a word from ``write_markers`` (``persons.write``, ``admin``).
    Operations with ``x-interop-pol-justification`` are exempt from the read/write rules. Inapplicable when
    no operation uses an oauth2 scheme."""
    index = ctx.spec.index
    schemes = _schemes(ctx)
    oauth = {n: s for n, s in schemes.items() if s.type == "oauth2"}
    users = [
        op for op in index.operations if any(n in oauth for r in op.security or () for n, _ in r.schemes)
    ]
    if not users:
        reason = "defined but no operation uses one" if oauth else "not defined"
        raise Inapplicable(f"OAuth 2.0 schemes are {reason}.")
    defined = {name: {str(s) for f in scheme.flows for s in f.scopes} for name, scheme in oauth.items()}
    for scheme in oauth.values():
        for flow in scheme.flows:
            if not flow.scopes:
                yield finding(
                    "No scopes defined",
                    f"The {flow.kind} flow of '{scheme.name}' defines no scopes, so every token grants "
                    "everything.",
                    loc=child(flow.loc, "scopes"),
                    expected="scopes such as persons.read and persons.write",
                    found="no scopes",
                    fix="Define narrow scopes per resource and access (read vs write) and require them per "
                    "operation.",
                )
    for loc, group in _groups(users):
        subject, op = _subject(loc, group)
        for req in group[0].security or ():
            for name, scopes in req.schemes:
                if name not in oauth:
                    continue
                if not scopes:
                    yield finding(
                        "No scopes required",
                        f"{subject} requires '{name}' without listing any scope.",
                        loc=loc or group[0].loc,
                        op=op,
                        expected=f"the scopes needed, e.g. {{{name}: [persons.read]}}",
                        found=f"{name}: []",
                        fix="List the narrowest scopes the operation needs in its security requirement.",
                    )
                for scope in scopes:
                    if scope not in defined[name]:
                        yield finding(
                            "Undefined scope",
                            f"{subject} requires scope '{scope}', which '{name}' does not define.",
                            loc=loc or group[0].loc,
                            op=op,
                            expected=f"one of: {', '.join(sorted(defined[name])) or 'no scopes defined'}",
                            found=scope,
                            fix=f"Define '{scope}' in the flows of '{name}', or correct the scope name.",
                        )
    yield from _read_write(ctx, users, oauth, write_markers)


def _read_write(
    ctx: CheckContext, users: list[Operation], oauth: dict[str, SecurityScheme], write_markers: list[str]
) -> Iterator[Finding]:
    markers = {m.lower() for m in write_markers}
    readers = [op for op in users if op.method in _READ]
    # Scopes named for writing are left out: a read that needs one is reported as such, not as sharing.
    read_scopes = {
        s
        for op in readers
        for req in op.security or ()
        for s in _oauth_scopes(req, oauth)
        if not markers & set(words(s[1]))
    }
    shared: dict[_GroupKey, tuple[list[Operation], list[str]]] = {}
    writes: dict[_GroupKey, tuple[list[Operation], list[str]]] = {}
    for op in users:
        if justified(ctx, op.raw):
            continue
        key = _group_key(op)
        scoped = [s for s in (_oauth_scopes(r, oauth) for r in op.security or ()) if s]
        if op.method in _WRITE:
            common = next((s for s in scoped if s <= read_scopes), None)
            if common is not None:
                shared.setdefault(key, ([], sorted(scope for _, scope in common)))[0].append(op)
        elif op.method in _READ and scoped:
            marked = [s for s in scoped if any(markers & set(words(scope)) for _, scope in s)]
            if len(marked) == len(scoped):
                names = sorted({scope for s in marked for _, scope in s if markers & set(words(scope))})
                writes.setdefault(key, ([], names))[0].append(op)
    for ops, names in shared.values():
        loc = ops[0].security_loc
        subject, single = _subject(loc, ops)
        yield finding(
            "Read and write share a scope",
            f"{subject}: a write can be made with scope(s) {', '.join(names)}, which read operations also "
            "accept, so a token for reading can change data.",
            loc=loc or ops[0].loc,
            op=single,
            expected="a write scope that no read operation accepts (e.g. persons.write)",
            found=", ".join(names),
            fix="Give writes their own scope and require it here; keep the read scope on GET operations.",
        )
    for ops, names in writes.values():
        loc = ops[0].security_loc
        subject, single = _subject(loc, ops)
        yield finding(
            "Read requires a write scope",
            f"{subject}: a read needs scope(s) {', '.join(names)}, named for writing or administration.",
            loc=loc or ops[0].loc,
            op=single,
            expected="a read scope (e.g. persons.read)",
            found=", ".join(names),
            fix="Accept a read-only scope for reads, so readers need no write permission.",
        )
