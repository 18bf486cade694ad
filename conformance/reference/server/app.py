"""The reference supplier's ASGI applications: the HTTPS API and the plain-HTTP redirector.

Every request to the API goes through one pipeline, in this order, each step answering with an RFC 9457
problem when it refuses:

1. route from the OpenAPI document: unknown path 404; known path, undocumented method 405 with ``Allow``
   (``OPTIONS`` answers 204 with the same ``Allow``);
2. resolve the bearer token, then the rate limit per client (429 with ``Retry-After``);
3. authenticate (401 with ``WWW-Authenticate``, RFC 6750 §3) and authorise the operation's scopes
   (403, ``insufficient_scope``);
4. negotiate ``Accept`` (406) and check ``Content-Type`` (415);
5. validate parameters (400; 404 for a path parameter that cannot name a resource) and the body
   (400 unparsable, 422 schema, with a JSON Pointer per error); drop undeclared properties;
6. run the operation's handler;
7. finish: HSTS, ``Server``, ``Correlation-Id``, deprecation headers, encoding.

Unexpected exceptions become a 500 problem with no exception text (it is logged on the server only).
Faults are read once per request from ``ServerState.faults``, which ``set_faults`` swaps atomically.
"""

from __future__ import annotations

import html
import importlib.metadata
import logging
import platform
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from .auth import REALM, Client, Grant, TokenStore, token_reply
from .contract import Contract, Operation, prune, served_variant
from .formats import json_bytes, media_type, negotiate, strip_offsets
from .handlers import HANDLERS, Call, Reply
from .problems import ApiProblem, FaultCrash, problem_document
from .ratelimit import RateLimiter
from .store import ENTITY_TYPES, Store
from .wellknown import oidc_configuration, security_txt

__all__ = ["ApiApp", "PlainHttpApp", "ServerState"]

logger = logging.getLogger(__name__)

API_PREFIX = "/v1"
MAX_BODY = 1024 * 1024
MAX_IMPORT_BODY = 50 * 1024 * 1024
HSTS = "max-age=31536000; includeSubDomains"
SERVER_NAME = "reference-supplier"
LICENCE_HEADER = "Licence-Key"
# The deprecated status operation (RFC 9745 Deprecation as a Structured Field Date, RFC 8594 Sunset).
DEPRECATION = "@1767225600"  # 2026-01-01T00:00:00Z, as the document says
SUNSET = "Wed, 31 Mar 2027 23:59:59 GMT"
DEPRECATION_NOTICE = "https://developer.reference-supplier.example/docs/deprecations"

_FAKE_TRACE = (
    "Traceback (most recent call last):\n"
    '  File "/srv/reference-supplier/app/repository.py", line 212, in fetch_record\n'
    '    cursor.execute("SELECT id, full_name, date_of_birth, pnc_id FROM pole_person WHERE force_code = '
    "'E23900001' AND id = %s\", (record_id,))\n"
    '  File "/usr/lib/python3/dist-packages/psycopg2/extras.py", line 146, in execute\n'
    "    return super().execute(query, vars)\n"
    "psycopg2.errors.InvalidTextRepresentation: invalid input syntax for type uuid at db-primary.internal:5432\n"
)


@dataclass(slots=True)
class ServerState:
    """Everything the apps share. Mutable on purpose: ``faults`` is swapped at run time by ``set_faults``."""

    contract: Contract
    store: Store
    clients: Mapping[str, Client]
    tokens: TokenStore
    limiter: RateLimiter
    origin: str
    faults: frozenset[str] = frozenset()
    oidc: bool = False
    jwks: Mapping[str, Any] | None = None

    def default_grant(self) -> Grant:
        """Who an unauthenticated request acts as under the ignore-auth fault: force A, every scope."""
        client = self.clients["force-a"]
        return Grant(client, frozenset(client.scopes), float("inf"))


@dataclass(slots=True)
class _Out:
    """A response being built: status, headers and one of body bytes or a stream."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    stream: AsyncIterator[bytes] | None = None
    content_type: str | None = None


@dataclass(slots=True)
class _Exchange:
    """Per-request facts the finishing step needs."""

    correlation_id: str
    operation: Operation | None = None
    api: bool = False
    path_params: dict[str, str] = field(default_factory=dict)


def _versions() -> tuple[str, str]:
    def version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "0"

    return (
        f"uvicorn/{version('uvicorn')} Python/{platform.python_version()}",
        f"Starlette/{version('starlette')}",
    )


_LEAKY_SERVER, _LEAKY_POWERED_BY = _versions()


def _server_headers(faults: frozenset[str]) -> dict[str, str]:
    if "leaky-server-header" in faults:
        return {"Server": _LEAKY_SERVER, "X-Powered-By": _LEAKY_POWERED_BY}
    return {"Server": SERVER_NAME}


def _is_uuid(text: str | None) -> bool:
    if not text:
        return False
    try:
        return str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False


def _json_out(status: int, value: Any, faults: frozenset[str], *, kind: str = "application/json") -> _Out:
    if "naive-datetimes" in faults:
        value = strip_offsets(value)
    body, charset = json_bytes(value, latin1="latin1-json" in faults)
    content_type = kind if charset == "utf-8" else f"{kind}; charset={charset}"
    return _Out(status, body=body, content_type=content_type)


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiProblem(413, f"The body is larger than {limit:,} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiProblem(413, f"The body is larger than {limit:,} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


class ApiApp:
    """The HTTPS application: the API under ``/v1``, the token endpoint and the public documents."""

    def __init__(self, state: ServerState) -> None:
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        response = await self.respond(request)
        await response(scope, receive, send)

    async def respond(self, request: Request) -> Response:
        faults = self.state.faults
        given = request.headers.get("correlation-id")
        exchange = _Exchange(correlation_id=given if _is_uuid(given) and given else str(uuid.uuid4()))
        try:
            out = await self._route(request, faults, exchange)
        except ApiProblem as problem:
            out = self._problem(problem, request, faults, exchange)
        except FaultCrash:
            out = self._problem(ApiProblem(500, _INTERNAL), request, faults, exchange)
        except Exception:
            # The traceback goes to the server's log only; the client gets the correlation id to quote.
            logger.exception("unexpected error (correlation id %s)", exchange.correlation_id)
            out = self._problem(ApiProblem(500, _INTERNAL), request, faults, exchange)
        return self._finish(out, request, faults, exchange)

    # -- routing ------------------------------------------------------------------------------------
    async def _route(self, request: Request, faults: frozenset[str], exchange: _Exchange) -> _Out:
        path = request.url.path
        state = self.state
        if path == "/oauth2/token":
            return await self._token(request, faults)
        if path == "/.well-known/security.txt" and "no-security-txt" not in faults:
            _only_get(request, faults)
            text = security_txt(state.origin, state.store.now())
            return _Out(200, body=text.encode("utf-8"), content_type="text/plain; charset=utf-8")
        if state.oidc and path == "/.well-known/openid-configuration":
            _only_get(request, faults)
            document = oidc_configuration(
                state.origin,
                state.contract.scopes,
                alg_none="oidc-alg-none" in faults,
                issuer_mismatch="oidc-issuer-mismatch" in faults,
            )
            return _json_out(200, document, faults)
        if state.oidc and path == "/oauth2/jwks" and state.jwks is not None:
            _only_get(request, faults)
            return _json_out(200, state.jwks, faults, kind="application/jwk-set+json")
        if path in (f"{API_PREFIX}/openapi.json", f"{API_PREFIX}/openapi.yaml"):
            return self._spec(request, faults, yaml=path.endswith(".yaml"))
        if path == f"{API_PREFIX}/internal/debug" and "shadow-endpoint" in faults:
            _only_get(request, faults)
            return _json_out(200, self._debug(), faults)
        if path.startswith(f"{API_PREFIX}/"):
            exchange.api = True
            return await self._api(request, path[len(API_PREFIX) :], faults, exchange)
        raise ApiProblem(404, f"Nothing is published at {path}.", soft=True)

    def _spec(self, request: Request, faults: frozenset[str], *, yaml: bool) -> _Out:
        _only_get(request, faults)
        if "spec-not-public" in faults and not request.headers.get(LICENCE_HEADER):
            raise ApiProblem(
                402,
                f"The API description is available to licensed integrators only: send your {LICENCE_HEADER}.",
            )
        json_body, yaml_body = served_variant(
            self.state.contract,
            differs="served-spec-differs" in faults,
            untagged="untagged-pole-schemas" in faults,
        )
        kind = "application/yaml" if yaml else "application/json"
        if (
            negotiate(request.headers.get("accept"), [kind]) is None
            and "no-content-negotiation" not in faults
        ):
            raise ApiProblem(406, f"This document is served as {kind}.")
        return _Out(200, body=yaml_body if yaml else json_body, content_type=kind)

    def _debug(self) -> dict[str, Any]:
        store = self.state.store
        counts = {
            c.tenant: {entity: store.count(c.tenant, entity) for entity in ENTITY_TYPES}
            for c in self.state.clients.values()
        }
        return {
            "service": SERVER_NAME,
            "clients": [c.client_id for c in self.state.clients.values()],
            "records": counts,
        }

    async def _token(self, request: Request, faults: frozenset[str]) -> _Out:
        if request.method != "POST":
            raise ApiProblem(405, "The token endpoint takes POST.", headers=_allow("POST", faults))
        kind, _ = media_type(request.headers.get("content-type"))
        state = self.state
        if kind != "application/x-www-form-urlencoded":
            body = {
                "error": "invalid_request",
                "error_description": "Send the form as application/x-www-form-urlencoded.",
            }
            out = _json_out(400, body, faults)
            out.headers["Cache-Control"] = "no-store"
            return out
        raw = await _read_body(request, 64 * 1024)
        try:
            form = urllib.parse.parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            form = {}
        reply = token_reply(
            form,
            request.headers.get("authorization"),
            state.clients.values(),
            state.tokens,
            downgrade="scope-downgrade" in faults,
        )
        out = _json_out(reply.status, dict(reply.body), faults)
        out.headers.update(reply.headers)
        return out

    # -- the API pipeline ---------------------------------------------------------------------------
    async def _api(self, request: Request, path: str, faults: frozenset[str], exchange: _Exchange) -> _Out:
        state = self.state
        found = state.contract.match(path)
        if found is None:
            raise ApiProblem(404, f"Nothing is published at {request.url.path}.", soft=True)
        entry, raw_params = found
        allow = entry.allow
        if request.method == "OPTIONS":
            if "shadow-endpoint" in faults:
                # Advertise a method the document does not list (as a forgotten route would).
                allow += ", " + next(m for m in ("PATCH", "PUT", "POST") if m not in entry.operations)
            return _Out(204, headers={"Allow": allow})
        method = "GET" if request.method == "HEAD" else request.method
        operation = entry.operations.get(method)
        if operation is None:
            headers = {} if "no-allow-header" in faults else {"Allow": allow}
            raise ApiProblem(405, f"{request.method} is not supported here; use {allow}.", headers=headers)
        exchange.operation = operation
        exchange.path_params = raw_params
        grant = self._authorise(request, operation, faults)
        produced = operation.response_media_types
        chosen = negotiate(request.headers.get("accept"), produced) if produced else "application/json"
        if chosen is None:
            if "no-content-negotiation" not in faults:
                raise ApiProblem(406, f"This operation produces {' or '.join(produced)}.")
            chosen = produced[0]
        query = self._parameters(request, operation, raw_params, faults)
        content_type, body, raw = await self._body(request, operation, faults)
        call = Call(
            operation=operation,
            force=grant.client.tenant,
            actor=grant.client.client_id,
            path_params=raw_params,
            query=query,
            body=body,
            raw_body=raw,
            content_type=content_type,
            media_type=chosen,
            correlation_id=exchange.correlation_id,
            faults=faults,
            origin=state.origin,
            path=urllib.parse.quote(request.url.path, safe=_PATH_SAFE),
            # Re-quoted so that links built from it are always valid URIs (existing escapes are kept).
            query_string=urllib.parse.quote(request.url.query, safe=_PATH_SAFE + "?%"),
        )
        reply = HANDLERS[operation.operation_id](state.store, state.contract, call)
        return self._reply(reply, faults)

    def _authorise(self, request: Request, operation: Operation, faults: frozenset[str]) -> Grant:
        state = self.state
        grant: Grant | None = None
        why = "missing"
        scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
        if scheme.lower() == "bearer":
            grant, why = state.tokens.resolve(token.strip()) if token.strip() else (None, "unknown")
        peer = request.client.host if request.client is not None else "unknown"
        key = grant.client.client_id if grant is not None else f"peer:{peer}"
        if "no-rate-limit" not in faults:
            wait = state.limiter.take(key)
            if wait is not None:
                headers = {} if "no-retry-after" in faults else {"Retry-After": str(wait)}
                detail = f"{state.limiter.per_minute} requests a minute are allowed; retry in {wait} seconds."
                raise ApiProblem(429, detail, headers=headers)
        if grant is None:
            if "ignore-auth" in faults:
                return state.default_grant()
            # RFC 6750 §3.1: no error code when the request carried no bearer token at all.
            challenge = f'Bearer realm="{REALM}"'
            if why == "expired":
                challenge += ', error="invalid_token", error_description="The access token expired"'
                detail = "The access token expired. Request a new one from the token endpoint."
            elif why == "unknown":
                challenge += ', error="invalid_token", error_description="The access token is not valid"'
                detail = "The access token is not valid. Request a new one from the token endpoint."
            else:
                detail = "This operation needs a bearer access token (OAuth 2.0 client credentials)."
            headers = {} if "no-www-authenticate" in faults else {"WWW-Authenticate": challenge}
            raise ApiProblem(401, detail, headers=headers)
        missing = [scope for scope in operation.scopes if scope not in grant.scopes]
        if missing and "ignore-scopes" not in faults:
            needed = " ".join(operation.scopes)
            challenge = f'Bearer realm="{REALM}", error="insufficient_scope", scope="{needed}"'
            raise ApiProblem(
                403,
                f"This operation needs the scope '{missing[0]}'.",
                slug="insufficient-scope",
                title="Insufficient scope",
                headers={"WWW-Authenticate": challenge},
            )
        return grant

    def _parameters(
        self, request: Request, operation: Operation, raw_params: Mapping[str, str], faults: frozenset[str]
    ) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for parameter in operation.parameters:
            raw: str | None
            if parameter.location == "path":
                raw = raw_params.get(parameter.name)
            elif parameter.location == "query":
                given = request.query_params.getlist(parameter.name)
                if len(given) > 1:
                    raise ApiProblem(400, f"The query parameter '{parameter.name}' is given more than once.")
                raw = given[0] if given else None
            else:
                raw = request.headers.get(parameter.name)
            if raw is None:
                if parameter.required:
                    raise ApiProblem(
                        400, f"The {parameter.location} parameter '{parameter.name}' is required."
                    )
                continue
            value = parameter.coerce(raw)
            if not parameter.validator.is_valid(value):
                if "fuzz-crash" in faults and parameter.location == "query":
                    raise FaultCrash(parameter.name)
                if parameter.location == "path":
                    # An id that cannot be valid names no resource, for this force or any other.
                    raise ApiProblem(404, f"Nothing is published at {request.url.path}.", soft=True)
                message = next(iter(parameter.validator.iter_errors(value))).message
                raise ApiProblem(
                    400,
                    f"The {parameter.location} parameter '{parameter.name}' is not valid: {message[:200]}",
                )
            values[parameter.name] = value
        return values

    async def _body(
        self, request: Request, operation: Operation, faults: frozenset[str]
    ) -> tuple[str, Any, bytes]:
        accepted = operation.request_media_types
        if not accepted:
            return "", None, b""
        kind, params = media_type(request.headers.get("content-type"))
        charset = params.get("charset", "utf-8").lower()
        if kind not in accepted or charset not in ("utf-8", "utf8"):
            if "no-content-negotiation" not in faults:
                raise ApiProblem(415, f"Send the body as {' or '.join(accepted)} (UTF-8).")
            kind = accepted[0]
        is_import = operation.operation_id == "importRecords"
        raw = await _read_body(request, MAX_IMPORT_BODY if is_import else MAX_BODY)
        if kind == "application/x-ndjson":
            return kind, None, raw
        if not raw.strip():
            raise ApiProblem(400, "The request body is missing.")
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise ApiProblem(400, "The body is not valid JSON (RFC 8259, UTF-8).") from None
        schema = operation.request_schema
        if schema is None or is_import:
            # Import validates each record on its own and reports the invalid ones (see the handler).
            return kind, body, raw
        found = self.state.contract.errors(schema, body)
        if found:
            if "fuzz-crash" in faults and any(is_type for _, is_type in found):
                raise FaultCrash(schema)
            errors = [error for error, _ in found]
            noun = "field is" if len(errors) == 1 else "fields are"
            raise ApiProblem(422, f"{len(errors)} {noun} not valid.", errors=errors)
        body, dropped = prune(body, self.state.contract.shape(schema))
        if dropped and "strict-unknown-fields" in faults:
            raise FaultCrash(schema)
        return kind, body, raw

    def _reply(self, reply: Reply, faults: frozenset[str]) -> _Out:
        if reply.stream is not None:
            out = _Out(reply.status, stream=reply.stream, content_type=reply.media_type)
        elif reply.raw is not None:
            out = _Out(reply.status, body=reply.raw, content_type=reply.media_type)
        elif reply.body is not None:
            out = _json_out(reply.status, reply.body, faults)
        else:
            out = _Out(reply.status)
        out.headers.update(reply.headers)
        return out

    # -- errors and finishing -----------------------------------------------------------------------
    def _problem(
        self, problem: ApiProblem, request: Request, faults: frozenset[str], exchange: _Exchange
    ) -> _Out:
        if problem.status == 404 and problem.soft and "soft-404" in faults:
            return _Out(200)
        cid = None if "no-correlation-id" in faults else exchange.correlation_id
        # `instance` is a URI reference, so the decoded path is percent-encoded again.
        instance = urllib.parse.quote(request.url.path, safe=_PATH_SAFE)
        document = problem_document(problem, instance=instance, correlation_id=cid)
        if "stack-trace-errors" in faults:
            document["detail"] = f"{document['detail']}\n\n{_FAKE_TRACE}"
            document["trace"] = _FAKE_TRACE
        if "html-errors" in faults:
            title = f"{problem.status} {document['title']}"
            page = (
                f"<!DOCTYPE html>\n<html><head><title>{html.escape(title)}</title></head><body>"
                f"<h1>{html.escape(title)}</h1><pre>{html.escape(document['detail'])}</pre></body></html>\n"
            )
            out = _Out(problem.status, body=page.encode("utf-8"), content_type="text/html; charset=utf-8")
        else:
            out = _json_out(problem.status, document, faults, kind="application/problem+json")
        out.headers.update(problem.headers)
        return out

    def _finish(self, out: _Out, request: Request, faults: frozenset[str], exchange: _Exchange) -> Response:
        headers = dict(out.headers)
        headers.update(_server_headers(faults))
        if request.url.scheme == "https" and "no-hsts" not in faults:
            headers["Strict-Transport-Security"] = HSTS
        if "no-correlation-id" not in faults:
            headers["Correlation-Id"] = exchange.correlation_id
        if exchange.api:
            # Policing data must not sit in shared caches.
            headers.setdefault("Cache-Control", "no-store")
        operation = exchange.operation
        if operation is not None and operation.deprecated and "no-deprecation-headers" not in faults:
            ident = urllib.parse.quote(exchange.path_params.get("requestId", ""), safe="")
            successor = f"{API_PREFIX}/mutual-aid-requests/{ident}"
            headers["Deprecation"] = DEPRECATION
            headers["Sunset"] = SUNSET
            headers["Link"] = (
                f'<{successor}>; rel="successor-version", <{DEPRECATION_NOTICE}>; rel="deprecation"'
            )
        if out.content_type is not None:
            headers["Content-Type"] = out.content_type
        if out.stream is not None and request.method != "HEAD":
            return StreamingResponse(out.stream, status_code=out.status, headers=headers)
        if request.method == "HEAD":
            # HEAD: the GET's headers (Content-Length included) and no body (RFC 9110 §9.3.2).
            if out.stream is None and out.status not in (204, 304):
                headers["Content-Length"] = str(len(out.body))
            return Response(b"", status_code=out.status, headers=headers)
        return Response(out.body, status_code=out.status, headers=headers)


_INTERNAL = "The request could not be completed. Quote the correlation id to support."
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def _allow(methods: str, faults: frozenset[str]) -> dict[str, str]:
    return {} if "no-allow-header" in faults else {"Allow": methods}


def _only_get(request: Request, faults: frozenset[str]) -> None:
    if request.method not in ("GET", "HEAD"):
        raise ApiProblem(
            405, f"{request.method} is not supported here; use GET.", headers=_allow("GET", faults)
        )


class PlainHttpApp:
    """The plain-HTTP listener: never API data (C9-09), and never a body.

    A request that carries credentials gets ``426 Upgrade Required`` rather than a redirect: following a
    redirect would send the credentials over the network in the clear a second time, and an API client
    should fail loudly instead (C9-09's "no redirect" for authenticated calls). Anything else gets a
    ``301`` to the same path on HTTPS. Under the ``http-serves-data`` fault it hands every request to
    the API app instead.
    """

    def __init__(self, state: ServerState, api: ApiApp) -> None:
        self.state = state
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        faults = self.state.faults
        if "http-serves-data" in faults:
            await self.api(scope, receive, send)
            return
        headers = {"Content-Length": "0", **_server_headers(faults)}
        if any(name == b"authorization" for name, _ in scope.get("headers", [])):
            headers |= {"Upgrade": "TLS/1.3, TLS/1.2, HTTP/1.1", "Connection": "Upgrade"}
            await Response(b"", status_code=426, headers=headers)(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        target = self.state.origin + urllib.parse.quote(scope["path"]) + (f"?{query}" if query else "")
        headers["Location"] = target
        await Response(b"", status_code=301, headers=headers)(scope, receive, send)
