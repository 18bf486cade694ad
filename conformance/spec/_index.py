"""One pass over the document that builds everything the static checks read.

Checks never walk the raw document themselves: they read operations, security schemes, servers and
schema nodes from here, and ask graph questions (what a response schema reaches, the properties of an
object including ``allOf`` parts) through the helpers below, which reuse the edges recorded in the pass.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from functools import cached_property
from typing import Any

from ._refs import DocumentSet
from .model import (
    HTTP_METHODS,
    Header,
    LoadIssue,
    Loc,
    MediaType,
    OAuthFlow,
    Operation,
    Parameter,
    RequestBody,
    Response,
    SchemaNode,
    SecurityRequirement,
    SecurityScheme,
    Server,
    SpecVersion,
    child,
    unescape_token,
)
from .model import (
    escape_token as _escape,
)

_MAP_KEYWORDS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_ONE_KEYWORDS = (
    "additionalProperties",
    "items",
    "not",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
    "unevaluatedItems",
    "unevaluatedProperties",
    "additionalItems",
)
_LIST_KEYWORDS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SWAGGER_FLOW_NAMES = {
    "application": "clientCredentials",
    "accessCode": "authorizationCode",
    "implicit": "implicit",
    "password": "password",
}
_PATH_TEMPLATE = re.compile(r"\{([^{}]+)\}")


def _as_map(value: Any) -> Mapping[str, Any]:
    return value if type(value) is dict else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


class SpecIndex:
    """Operations, security schemes, servers and every schema node, each with its location."""

    def __init__(self, docs: DocumentSet, version: SpecVersion) -> None:
        self.version = version
        self.schemas: dict[Loc, SchemaNode] = {}
        self.edges: dict[Loc, list[Loc]] = {}
        self.component_schemas: dict[str, Loc] = {}
        self.security_schemes: dict[str, SecurityScheme] = {}
        self.servers: tuple[Server, ...] = ()
        self.operations: tuple[Operation, ...] = ()
        self.issues: list[LoadIssue] = []
        self._docs = docs
        _Builder(self, docs).build()

    # -- lookups --------------------------------------------------------------------------------------
    def node(self, loc: Loc) -> SchemaNode:
        return self.schemas[loc]

    def value(self, loc: Loc) -> Any:
        return self._docs.value_at(loc)

    def deref(self, loc: Loc | None) -> SchemaNode | None:
        """The schema a location stands for, following ``$ref`` nodes."""
        seen = 0
        while loc is not None and seen < 64:
            node = self.schemas.get(loc)
            if node is None:
                return None
            if node.ref is None:
                return node
            loc = node.ref
            seen += 1
        return None

    def schema_type(self, loc: Loc | None) -> str | None:
        """The declared JSON type (first non-null one), looking through refs and ``allOf``."""
        for node in self._self_and_all_of(loc):
            declared = node.mapping.get("type")
            if isinstance(declared, str):
                return declared
            if isinstance(declared, list):
                named = [t for t in declared if t != "null"]
                if named and isinstance(named[0], str):
                    return named[0]
        return None

    def properties(self, loc: Loc | None) -> dict[str, Loc]:
        """Property name -> property schema location, merged over refs and ``allOf`` parts."""
        merged: dict[str, Loc] = {}
        for node in self._self_and_all_of(loc):
            props = node.mapping.get("properties")
            if isinstance(props, Mapping):
                for name in props:
                    merged.setdefault(name, child(node.loc, "properties", name))
        return merged

    def required(self, loc: Loc | None) -> set[str]:
        names: set[str] = set()
        for node in self._self_and_all_of(loc):
            req = node.mapping.get("required")
            if isinstance(req, list):
                names.update(r for r in req if isinstance(r, str))
        return names

    def _self_and_all_of(self, loc: Loc | None) -> Iterator[SchemaNode]:
        seen: set[Loc] = set()
        queue = [loc]
        while queue:
            current = self.deref(queue.pop(0))
            if current is None or current.loc in seen:
                continue
            seen.add(current.loc)
            yield current
            parts = current.mapping.get("allOf")
            if isinstance(parts, list):
                queue.extend(child(current.loc, "allOf", i) for i in range(len(parts)))

    def reachable(self, starts: Iterable[Loc | None]) -> set[Loc]:
        """Every schema node reachable from ``starts`` (through children and refs)."""
        seen: set[Loc] = set()
        stack = [s for s in starts if s is not None]
        while stack:
            loc = stack.pop()
            if loc in seen:
                continue
            seen.add(loc)
            stack.extend(self.edges.get(loc, ()))
        return seen

    def reaching(self, targets: Iterable[Loc]) -> set[Loc]:
        """Every schema node from which one of ``targets`` can be reached."""
        seen: set[Loc] = set()
        queue = deque(targets)
        reverse = self._reverse_edges
        while queue:
            loc = queue.popleft()
            if loc in seen:
                continue
            seen.add(loc)
            queue.extend(reverse.get(loc, ()))
        return seen

    @cached_property
    def _reverse_edges(self) -> dict[Loc, list[Loc]]:
        reverse: dict[Loc, list[Loc]] = {}
        for source, targets in self.edges.items():
            for target in targets:
                reverse.setdefault(target, []).append(source)
        return reverse

    @cached_property
    def property_nodes(self) -> tuple[SchemaNode, ...]:
        return tuple(n for n in self.schemas.values() if n.keyword == "properties")

    @cached_property
    def response_schema_roots(self) -> tuple[Loc, ...]:
        return tuple(
            m.schema
            for op in self.operations
            for r in op.responses
            for m in r.content
            if m.schema is not None
        )

    @cached_property
    def request_schema_roots(self) -> tuple[Loc, ...]:
        roots: list[Loc] = []
        for op in self.operations:
            if op.request_body is not None:
                roots.extend(m.schema for m in op.request_body.content if m.schema is not None)
        return tuple(roots)

    @cached_property
    def response_nodes(self) -> frozenset[Loc]:
        return frozenset(self.reachable(self.response_schema_roots))

    @cached_property
    def request_nodes(self) -> frozenset[Loc]:
        return frozenset(self.reachable(self.request_schema_roots))

    @cached_property
    def paths(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(op.path for op in self.operations))


class _Builder:
    """The single pass; fills a ``SpecIndex``."""

    def __init__(self, index: SpecIndex, docs: DocumentSet) -> None:
        self.index = index
        self.docs = docs
        self.root: Mapping[str, Any] = _as_map(docs.root.data)
        self.oas3 = index.version.is_oas3

    def build(self) -> None:
        self._servers()
        self._security_schemes()
        self._components()
        self._operations()

    # -- resolution helpers ---------------------------------------------------------------------------
    def _deref_object(self, loc: Loc, value: Any) -> tuple[Loc, Any] | None:
        """Resolve a (non-schema) object that may be a ``$ref``; ``None`` if remote and unfetched."""
        if isinstance(value, Mapping) and isinstance(value.get("$ref"), str):
            target = self.docs.resolve(value["$ref"], loc)
            if target is None:
                return None
            return target, self.docs.value_at(target)
        return loc, value

    # -- schema walk ----------------------------------------------------------------------------------
    def schema(
        self,
        loc: Loc,
        value: Any,
        *,
        parent: Loc | None = None,
        keyword: str | None = None,
        name: str | None = None,
        component: str | None = None,
    ) -> Loc:
        """Record the schema at ``loc`` and everything below it (once)."""
        # The hot loop of loading: parsed data is plain dicts/lists, so exact type checks stand in
        # for isinstance(Mapping) (an ABC check, several times slower).
        schemas = self.index.schemas
        edges = self.index.edges
        resolve = self.docs.resolve
        value_at = self.docs.value_at
        stack: list[tuple[Loc, Any, Loc | None, str | None, str | None, str | None]] = [
            (loc, value, parent, keyword, name, component)
        ]
        pop = stack.pop
        push = stack.append
        while stack:
            cur, val, par, kw, nm, comp = pop()
            if cur in schemas:
                continue
            kind = type(val)
            if kind is not dict and kind is not bool:
                continue
            ref_target: Loc | None = None
            out: list[Loc] = []
            if kind is dict:
                ref = val.get("$ref")
                if type(ref) is str:
                    ref_target = resolve(ref, cur + "/$ref")
                    if ref_target is not None:
                        out.append(ref_target)
                        if ref_target not in schemas:
                            push(
                                (
                                    ref_target,
                                    value_at(ref_target),
                                    None,
                                    None,
                                    None,
                                    _component_name(ref_target),
                                )
                            )
                for key in _MAP_KEYWORDS:
                    sub = val.get(key)
                    if type(sub) is dict:
                        base = f"{cur}/{key}/"
                        for sub_name, sub_schema in sub.items():
                            sub_loc = base + _escape(sub_name)
                            out.append(sub_loc)
                            push(
                                (
                                    sub_loc,
                                    sub_schema,
                                    cur,
                                    key,
                                    sub_name if key == "properties" else None,
                                    comp,
                                )
                            )
                for key in _ONE_KEYWORDS:
                    sub = val.get(key)
                    if sub is None:
                        continue
                    sub_kind = type(sub)
                    if sub_kind is dict or (sub_kind is bool and key != "additionalProperties"):
                        sub_loc = f"{cur}/{key}"
                        out.append(sub_loc)
                        push((sub_loc, sub, cur, key, None, comp))
                    elif key == "items" and sub_kind is list:
                        for i, item in enumerate(sub):
                            sub_loc = f"{cur}/{key}/{i}"
                            out.append(sub_loc)
                            push((sub_loc, item, cur, key, None, comp))
                for key in _LIST_KEYWORDS:
                    sub = val.get(key)
                    if type(sub) is list:
                        for i, item in enumerate(sub):
                            sub_loc = f"{cur}/{key}/{i}"
                            out.append(sub_loc)
                            push((sub_loc, item, cur, key, None, comp))
            schemas[cur] = SchemaNode(
                loc=cur, schema=val, parent=par, keyword=kw, name=nm, ref=ref_target, component=comp
            )
            if out:
                edges[cur] = out
        return loc

    # -- top-level sections ---------------------------------------------------------------------------
    def _servers(self) -> None:
        servers: list[Server] = []
        if self.oas3:
            servers.extend(self._server_list(self.root.get("servers"), "#/servers", "root"))
            for path, item in _as_map(self.root.get("paths")).items():
                item = _as_map(item)
                item_loc = child("#/paths", path)
                servers.extend(self._server_list(item.get("servers"), child(item_loc, "servers"), "path"))
                for method in HTTP_METHODS:
                    op = _as_map(item.get(method))
                    servers.extend(
                        self._server_list(op.get("servers"), child(item_loc, method, "servers"), "operation")
                    )
        else:
            host = self.root.get("host")
            base_path = self.root.get("basePath") if isinstance(self.root.get("basePath"), str) else ""
            if isinstance(host, str) and host:
                raw_schemes = self.root.get("schemes")
                schemes: list[Any] = raw_schemes if isinstance(raw_schemes, list) else []
                declared = bool(schemes)
                # Without `schemes` the API is served with the scheme the document came from: https assumed.
                for i, scheme in enumerate(schemes if declared else ["https"]):
                    servers.append(
                        Server(
                            url=f"{scheme}://{host}{base_path}",
                            loc=f"#/schemes/{i}" if declared else "#/host",
                            description=None,
                            variables={},
                            scheme_declared=declared,
                        )
                    )
            elif base_path:
                servers.append(Server(url=base_path, loc="#/basePath", description=None, variables={}))
        self.index.servers = tuple(servers)

    @staticmethod
    def _server_list(raw: Any, base: Loc, scope: str) -> list[Server]:
        if not isinstance(raw, list):
            return []
        return [
            Server(
                url=entry["url"],
                loc=f"{base}/{i}",
                description=_text(entry.get("description")),
                variables=_as_map(entry.get("variables")),
                scope=scope,
            )
            for i, entry in enumerate(raw)
            if isinstance(entry, Mapping) and isinstance(entry.get("url"), str)
        ]

    def _security_schemes(self) -> None:
        if self.oas3:
            base = "#/components/securitySchemes"
            raw = _as_map(_as_map(self.root.get("components")).get("securitySchemes"))
        else:
            base = "#/securityDefinitions"
            raw = _as_map(self.root.get("securityDefinitions"))
        for name, value in raw.items():
            resolved = self._deref_object(child(base, name), value)
            if resolved is None:
                continue
            loc, scheme = resolved
            scheme = _as_map(scheme)
            flows: list[OAuthFlow] = []
            kind = scheme.get("type") if isinstance(scheme.get("type"), str) else "unknown"
            if kind == "oauth2":
                if self.oas3:
                    for flow_name, flow in _as_map(scheme.get("flows")).items():
                        flows.append(
                            OAuthFlow(
                                kind=flow_name,
                                scopes={str(k): v for k, v in _as_map(_as_map(flow).get("scopes")).items()},
                                loc=child(loc, "flows", flow_name),
                            )
                        )
                else:
                    swagger_flow = str(scheme.get("flow"))
                    flows.append(
                        OAuthFlow(
                            kind=_SWAGGER_FLOW_NAMES.get(swagger_flow, swagger_flow),
                            scopes={str(k): v for k, v in _as_map(scheme.get("scopes")).items()},
                            loc=loc,
                        )
                    )
            self.index.security_schemes[name] = SecurityScheme(
                name=name,
                type=str(kind),
                loc=loc,
                http_scheme=(
                    str(scheme.get("scheme")).lower()
                    if kind == "http"
                    else ("basic" if kind == "basic" else None)
                ),
                api_key_in=_text(scheme.get("in")) if kind == "apiKey" else None,
                api_key_name=_text(scheme.get("name")) if kind == "apiKey" else None,
                flows=tuple(flows),
                raw=scheme,
            )

    def _components(self) -> None:
        if self.oas3:
            components = _as_map(self.root.get("components"))
            for name, value in _as_map(components.get("schemas")).items():
                loc = child("#/components/schemas", name)
                self.index.component_schemas[name] = loc
                self.schema(loc, value, component=name)
            for section in ("parameters", "headers"):
                for name, value in _as_map(components.get(section)).items():
                    loc = child(f"#/components/{section}", name)
                    self._schema_holder(loc, value)
            for name, value in _as_map(components.get("requestBodies")).items():
                self._content(child("#/components/requestBodies", name), value)
            for name, value in _as_map(components.get("responses")).items():
                self._response(child("#/components/responses", name), value, status=None)
        else:
            for name, value in _as_map(self.root.get("definitions")).items():
                loc = child("#/definitions", name)
                self.index.component_schemas[name] = loc
                self.schema(loc, value, component=name)
            for name, value in _as_map(self.root.get("parameters")).items():
                self._swagger_param_schema(child("#/parameters", name), value)
            for name, value in _as_map(self.root.get("responses")).items():
                self._response(child("#/responses", name), value, status=None)

    def _schema_holder(self, loc: Loc, value: Any) -> Loc | None:
        """A parameter or header (3.x): record its schema (or its content's schema)."""
        resolved = self._deref_object(loc, value)
        if resolved is None:
            return None
        loc, value = resolved
        value = _as_map(value)
        if "schema" in value:
            return self.schema(child(loc, "schema"), value["schema"])
        for media_name, media in _as_map(value.get("content")).items():
            if isinstance(media, Mapping) and "schema" in media:
                return self.schema(child(loc, "content", media_name, "schema"), media["schema"])
        return None

    def _swagger_param_schema(self, loc: Loc, value: Any) -> Loc | None:
        resolved = self._deref_object(loc, value)
        if resolved is None:
            return None
        loc, value = resolved
        value = _as_map(value)
        if value.get("in") == "body":
            return self.schema(child(loc, "schema"), value.get("schema", {})) if "schema" in value else None
        # A Swagger 2.0 non-body parameter is itself schema-like (type, format, items, enum).
        return self.schema(loc, value, keyword="parameter")

    def _content(self, loc: Loc, value: Any) -> tuple[Loc, Mapping[str, Any], tuple[MediaType, ...]] | None:
        resolved = self._deref_object(loc, value)
        if resolved is None:
            return None
        loc, body = resolved
        body = _as_map(body)
        media: list[MediaType] = []
        for media_name, media_obj in _as_map(body.get("content")).items():
            media_obj = _as_map(media_obj)
            media_loc = child(loc, "content", media_name)
            schema_loc = (
                self.schema(child(media_loc, "schema"), media_obj["schema"])
                if "schema" in media_obj
                else None
            )
            media.append(
                MediaType(
                    media_type=media_name,
                    loc=media_loc,
                    schema=schema_loc,
                    has_example="example" in media_obj or "examples" in media_obj,
                )
            )
        return loc, body, tuple(media)

    def _response(
        self, loc: Loc, value: Any, *, status: str | None, produces: tuple[str, ...] = ()
    ) -> Response | None:
        if self.oas3:
            content = self._content(loc, value)
            if content is None:
                return None
            loc, body, media = content
        else:
            resolved = self._deref_object(loc, value)
            if resolved is None:
                return None
            loc, body = resolved
            body = _as_map(body)
            media = ()
            if "schema" in body:
                schema_loc = self.schema(child(loc, "schema"), body["schema"])
                has_example = "examples" in body
                media = tuple(
                    MediaType(media_type=m, loc=loc, schema=schema_loc, has_example=has_example)
                    for m in (produces or ("application/json",))
                )
        headers: list[Header] = []
        for header_name, header in _as_map(body.get("headers")).items():
            header_loc = child(loc, "headers", header_name)
            header_schema: Loc | None
            if self.oas3:
                header_schema = self._schema_holder(header_loc, header)
            elif isinstance(header, Mapping):
                header_schema = self.schema(header_loc, header, keyword="header")
            else:
                header_schema = None
            headers.append(Header(name=header_name, loc=header_loc, schema=header_schema))
        return Response(
            status=status or "",
            loc=loc,
            description=_text(body.get("description")),
            content=media,
            headers=tuple(headers),
        )

    # -- operations -----------------------------------------------------------------------------------
    def _operations(self) -> None:
        root_security = self.root.get("security")
        operations: list[Operation] = []
        for path, item in _as_map(self.root.get("paths")).items():
            if not isinstance(path, str) or not path.startswith("/"):
                continue
            item_loc = child("#/paths", path)
            resolved = self._deref_object(item_loc, item)
            if resolved is None:
                continue
            item_loc, item = resolved
            item = _as_map(item)
            shared_raw = item.get("parameters")
            shared: list[Any] = shared_raw if isinstance(shared_raw, list) else []
            for method in HTTP_METHODS:
                op = item.get(method)
                if not isinstance(op, Mapping):
                    continue
                op_loc = child(item_loc, method)
                operations.append(self._operation(path, method, op_loc, op, item_loc, shared, root_security))
        self.index.operations = tuple(operations)

    def _operation(
        self,
        path: str,
        method: str,
        loc: Loc,
        op: Mapping[str, Any],
        item_loc: Loc,
        shared: list[Any],
        root_security: Any,
    ) -> Operation:
        params: dict[tuple[str, str], Parameter] = {}
        body: RequestBody | None = None
        form_params: list[Parameter] = []
        for base, raw_list in (
            (child(item_loc, "parameters"), shared),
            (child(loc, "parameters"), op.get("parameters")),
        ):
            if not isinstance(raw_list, list):
                continue
            for i, raw in enumerate(raw_list):
                resolved = self._deref_object(child(base, i), raw)
                if resolved is None:
                    continue
                p_loc, p = resolved
                p = _as_map(p)
                where = str(p.get("in", ""))
                if not self.oas3 and where == "body":
                    schema_loc = self._swagger_param_schema(p_loc, p)
                    consumes = self._media_list(op, "consumes")
                    body = RequestBody(
                        loc=p_loc,
                        required=bool(p.get("required")),
                        content=tuple(
                            MediaType(media_type=m, loc=p_loc, schema=schema_loc, has_example=False)
                            for m in consumes
                        ),
                    )
                    continue
                schema_loc = (
                    self._schema_holder(p_loc, p) if self.oas3 else self._swagger_param_schema(p_loc, p)
                )
                param = Parameter(
                    name=str(p.get("name", "")),
                    location=where,
                    loc=p_loc,
                    required=bool(p.get("required")),
                    schema=schema_loc,
                    raw=p,
                )
                params[(param.name, where)] = param  # operation-level wins over path-level
                if where == "formData":
                    form_params.append(param)
        if self.oas3 and "requestBody" in op:
            content = self._content(child(loc, "requestBody"), op["requestBody"])
            if content is not None:
                b_loc, b, media = content
                body = RequestBody(loc=b_loc, required=bool(b.get("required")), content=media)
        elif form_params and body is None:
            consumes = self._media_list(op, "consumes", default=("application/x-www-form-urlencoded",))
            body = RequestBody(
                loc=form_params[0].loc,
                required=any(p.required for p in form_params),
                content=tuple(
                    MediaType(media_type=m, loc=loc, schema=None, has_example=False) for m in consumes
                ),
            )
        responses: list[Response] = []
        produces = () if self.oas3 else self._media_list(op, "produces")
        for status, raw in _as_map(op.get("responses")).items():
            status_text = str(status)
            response = self._response(
                child(loc, "responses", status_text), raw, status=status_text, produces=produces
            )
            if response is not None:
                responses.append(response)
        if "security" in op:
            security, security_loc = self._security(op.get("security")), child(loc, "security")
        elif root_security is not None:
            security, security_loc = self._security(root_security), "#/security"
        else:
            security, security_loc = None, None
        operation = Operation(
            method=method,
            path=path,
            loc=loc,
            operation_id=_text(op.get("operationId")),
            summary=_text(op.get("summary")),
            description=_text(op.get("description")),
            tags=tuple(t for t in op.get("tags", ()) if isinstance(t, str))
            if isinstance(op.get("tags"), list)
            else (),
            deprecated=op.get("deprecated") is True,
            parameters=tuple(params.values()),
            request_body=body,
            responses=tuple(responses),
            security=security,
            security_loc=security_loc,
            raw=op,
        )
        self._check_path_template(operation)
        return operation

    def _media_list(
        self, op: Mapping[str, Any], key: str, default: tuple[str, ...] = ("application/json",)
    ) -> tuple[str, ...]:
        value = op.get(key, self.root.get(key))
        if isinstance(value, list) and value:
            return tuple(str(v) for v in value)
        return default

    @staticmethod
    def _security(value: Any) -> tuple[SecurityRequirement, ...]:
        if not isinstance(value, list):
            return ()
        result: list[SecurityRequirement] = []
        for alternative in value:
            alternative = _as_map(alternative)
            result.append(
                SecurityRequirement(
                    schemes=tuple(
                        (str(name), tuple(str(s) for s in scopes) if isinstance(scopes, list) else ())
                        for name, scopes in alternative.items()
                    )
                )
            )
        return tuple(result)

    def _check_path_template(self, op: Operation) -> None:
        declared = {p.name for p in op.parameters if p.location == "path"}
        for name in _PATH_TEMPLATE.findall(op.path):
            if name not in declared:
                self.index.issues.append(
                    LoadIssue(
                        kind="semantic",
                        message=f"{op.label}: path template variable '{{{name}}}' has no path parameter",
                        loc=op.loc,
                        expected=f"a parameter with in: path and name: {name}",
                        found="none declared",
                    )
                )


def _component_name(loc: Loc) -> str | None:
    _, _, pointer = loc.partition("#")
    tokens = [unescape_token(t) for t in pointer.split("/")[1:]]
    if len(tokens) >= 3 and tokens[0] == "components" and tokens[1] == "schemas":
        return tokens[2]
    if len(tokens) >= 2 and tokens[0] == "definitions":
        return tokens[1]
    doc = loc.partition("#")[0]
    if not doc:
        return None  # an inline schema of the main document, not a named one
    if tokens:
        return tokens[-1]
    stem = doc.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return stem or None
