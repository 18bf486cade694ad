"""Loading OpenAPI documents: formats, JSON-compatible YAML, $ref rules, validation, bad input."""

from __future__ import annotations

import hashlib
import http.server
import json
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.errors import SpecError
from conformance.spec import SpecVersion, load_spec, locate_in
from conformance.spec import _read as spec_read
from conformance.spec._locate import locate
from conformance.spec.model import SourceDocument
from tests.conftest import CORPUS, minimal_doc, write_spec
from tests.tls import make_tls

# -- good input -----------------------------------------------------------------------------------------


def test_yaml_scalars_stay_json_compatible(tmp_path: Path) -> None:
    """Timestamps, dates and on/yes/no stay strings; numeric response codes become string keys."""
    text = """openapi: 3.1.0
info:
  title: t
  version: "1"
  x-released: 2024-05-29T00:00:00Z
  x-date: 2024-05-29
  x-flags: {on: yes, off: no}
paths:
  /a:
    get:
      responses:
        200:
          description: ok
"""
    spec = load_spec(str(write_spec(tmp_path, text)))
    info = spec.data["info"]
    assert info["x-released"] == "2024-05-29T00:00:00Z"
    assert info["x-date"] == "2024-05-29"
    assert info["x-flags"] == {"on": "yes", "off": "no"}
    assert spec.index.operations[0].responses[0].status == "200"
    assert spec.issues == ()


def test_json_and_yaml_give_the_same_index(tmp_path: Path) -> None:
    """The same document as JSON and as YAML indexes identically."""
    doc = minimal_doc()
    doc["paths"] = {"/a": {"get": {"responses": {"200": {"description": "ok"}}}}}
    (tmp_path / "a.json").write_text(json.dumps(doc), encoding="utf-8")
    from_json = load_spec(str(tmp_path / "a.json"))
    from_yaml = load_spec(str(write_spec(tmp_path, doc)))
    assert from_json.root.format == "json"
    assert from_yaml.root.format == "yaml"
    assert [o.label for o in from_json.index.operations] == [o.label for o in from_yaml.index.operations]


def test_sha256_is_of_the_bytes_as_read(tmp_path: Path) -> None:
    path = write_spec(tmp_path, minimal_doc())
    assert load_spec(str(path)).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_recursive_schemas_are_allowed(tmp_path: Path) -> None:
    """A schema that refers to itself through a property is a normal recursive structure."""
    doc = minimal_doc()
    doc["components"]["schemas"]["Person"] = {
        "type": "object",
        "properties": {"parent": {"$ref": "#/components/schemas/Person"}},
    }
    spec = load_spec(str(write_spec(tmp_path, doc)))
    node = spec.index.schemas["#/components/schemas/Person/properties/parent"]
    assert node.ref == "#/components/schemas/Person"


def test_multi_file_document_resolves_relative_refs(tmp_path: Path) -> None:
    """A $ref to a sibling file inside the folder is loaded and indexed at its own location."""
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "person.yaml").write_text(
        "Person:\n  type: object\n  properties:\n    name: {type: string}\n", encoding="utf-8"
    )
    doc = minimal_doc()
    doc["paths"] = {
        "/persons": {
            "get": {
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"application/json": {"schema": {"$ref": "schemas/person.yaml#/Person"}}},
                    }
                }
            }
        }
    }
    spec = load_spec(str(write_spec(tmp_path, doc)))
    assert "schemas/person.yaml#/Person/properties/name" in spec.index.schemas
    assert [d.name for d in spec.documents] == ["", "schemas/person.yaml"]


def test_swagger_2_is_normalised(tmp_path: Path) -> None:
    """A Swagger 2.0 body parameter becomes a request body; host/schemes become servers."""
    doc = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1.0.0"},
        "host": "api.example.org",
        "basePath": "/v1",
        "schemes": ["https"],
        "paths": {
            "/things": {
                "post": {
                    "consumes": ["application/json"],
                    "parameters": [{"name": "body", "in": "body", "schema": {"type": "object"}}],
                    "responses": {"201": {"description": "ok", "schema": {"type": "object"}}},
                }
            }
        },
    }
    spec = load_spec(str(write_spec(tmp_path, doc)))
    assert spec.version is SpecVersion.SWAGGER_2
    op = spec.index.operations[0]
    assert op.request_body is not None
    assert op.request_body.content[0].media_type == "application/json"
    assert spec.index.servers[0].url == "https://api.example.org/v1"
    assert [i.kind for i in spec.issues] == ["version"]


def test_schema_violations_are_issues_not_errors(tmp_path: Path) -> None:
    """An invalid document still loads; each schema violation is kept with its pointer."""
    doc = minimal_doc()
    doc["paths"] = {"/a": {"get": {"responses": {"200": {}}}}}
    spec = load_spec(str(write_spec(tmp_path, doc)))
    assert [(i.kind, i.loc) for i in spec.issues] == [("schema", "#/paths/~1a/get/responses/200")]


def test_line_numbers_are_found_for_pointers(tmp_path: Path) -> None:
    text = 'openapi: 3.1.0\ninfo:\n  title: t\n  version: "1"\npaths:\n  /a:\n    get:\n      responses: {}\n'
    spec = load_spec(str(write_spec(tmp_path, text)))
    assert locate_in(spec, ["#/paths/~1a/get", "#/info/missing"]) == {
        "#/paths/~1a/get": (7, 5),
        "#/info/missing": (2, 1),
    }
    (tmp_path / "a.json").write_text(
        '{\n  "openapi": "3.1.0",\n  "paths": {\n    "/a": {"get": {}}\n  }\n}', encoding="utf-8"
    )
    text_json = (tmp_path / "a.json").read_text(encoding="utf-8")
    doc = SourceDocument(
        name="", uri="a.json", data=json.loads(text_json), text=text_json, sha256="", format="json"
    )
    assert locate(doc, ["/paths/~1a/get"]) == {"/paths/~1a/get": (4, 12)}


# -- documents over HTTP ---------------------------------------------------------------------------------


@pytest.fixture
def http_folder(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Serve ``tmp_path`` on 127.0.0.1 over plain HTTP (allowed only for loopback)."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    finally:
        server.shutdown()
        server.server_close()


def test_load_from_url_and_relative_refs(http_folder: tuple[str, Path]) -> None:
    """A document fetched by URL resolves relative refs against its URL folder."""
    base, folder = http_folder
    (folder / "common.yaml").write_text("Thing: {type: object}\n", encoding="utf-8")
    doc = minimal_doc()
    doc["components"]["schemas"]["T"] = {"$ref": "common.yaml#/Thing"}
    write_spec(folder, doc)
    spec = load_spec(f"{base}/openapi.yaml")
    assert spec.source.endswith("/openapi.yaml")
    assert "common.yaml#/Thing" in spec.index.schemas


def test_remote_refs_are_fetched_only_when_allowed(http_folder: tuple[str, Path], tmp_path: Path) -> None:
    base, folder = http_folder
    (folder / "remote.yaml").write_text("Thing: {type: object}\n", encoding="utf-8")
    doc = minimal_doc()
    doc["components"]["schemas"]["T"] = {"$ref": f"{base}/remote.yaml#/Thing"}
    local = tmp_path / "local"
    local.mkdir()
    path = str(write_spec(local, doc))
    spec = load_spec(path)
    assert [i.kind for i in spec.issues] == ["remote-ref"]
    assert spec.issues[0].loc == "#/components/schemas/T/$ref"
    allowed = load_spec(path, allow_remote_refs=True)
    assert allowed.issues == ()


def test_load_over_https_with_a_private_ca(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An https URL is fetched with TLS verification against the given CA bundle, and refused without it."""
    tls = make_tls(tmp_path)
    site = tmp_path / "site"
    site.mkdir()
    write_spec(site, minimal_doc())

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(site), **kwargs)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls.server_cert, tls.server_key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"https://127.0.0.1:{server.server_address[1]}/openapi.yaml"
    try:
        with pytest.raises(SpecError, match="cannot fetch the document"):
            load_spec(url)
        monkeypatch.setenv("CONFORMANCE_CA_BUNDLE", str(tls.ca_cert))
        spec = load_spec(url)
        assert spec.title == "Test API"
    finally:
        server.shutdown()
        server.server_close()


def test_plain_http_is_refused_for_other_hosts() -> None:
    with pytest.raises(SpecError, match="plain http"):
        load_spec("http://api.example.org/openapi.json")


# -- bad input: one clear error each ---------------------------------------------------------------------

BAD_DOCUMENTS: dict[str, tuple[str, str]] = {
    "malformed-json": ('{"openapi": "3.1.0", "info": {', r"bad\.json:1:31: malformed JSON"),
    "malformed-yaml": ("openapi: 3.1.0\ninfo: [a, b\n", r"bad\.yaml:2:7: malformed YAML: unclosed bracket"),
    "empty": ("", r"bad\.yaml: the file is empty"),
    "not-openapi": ("- a\n- b\n", r"not an OpenAPI document: the top level is a list"),
    "no-version-field": ("info: {title: t}\n", r"no 'openapi' or 'swagger' field"),
    "unsupported-version": ("openapi: 4.0.0\ninfo: {}\n", r"unsupported OpenAPI version '4\.0\.0'"),
    "unsupported-swagger": ("swagger: '1.2'\n", r"unsupported Swagger version"),
    "broken-ref": (
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n"
        "    A: {$ref: '#/components/schemas/Nope'}\n",
        r"bad\.yaml:6: /components/schemas/A/\$ref: \$ref '#/components/schemas/Nope' does not resolve",
    ),
    "ref-cycle": (
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n"
        "    A: {$ref: '#/components/schemas/B'}\n    B: {$ref: '#/components/schemas/A'}\n",
        r"\$ref cycle with no schema in it",
    ),
    "ref-escapes-folder": (
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n"
        "    A: {$ref: '../outside.yaml#/X'}\n",
        r"leaves the document's folder",
    ),
    "alias-bomb": (
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
        ),
        r"alias expansion exceeds the safety limit",
    ),
    "not-utf8": ("openapi: 3.1.0\ninfo: {title: caf\xe9}\n", r"not UTF-8 text"),
}


@pytest.mark.parametrize("case", sorted(BAD_DOCUMENTS))
def test_bad_documents_raise_one_line_errors(tmp_path: Path, case: str) -> None:
    """Each kind of unusable document raises a SpecError whose message is one line naming the file."""
    text, pattern = BAD_DOCUMENTS[case]
    name = "bad.json" if case == "malformed-json" else "bad.yaml"
    path = tmp_path / name
    if case == "not-utf8":
        path.write_bytes(text.encode("latin-1"))
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError, match=pattern) as info:
        load_spec(str(path))
    assert "\n" not in str(info.value)
    assert name in str(info.value)


def test_oversized_document_is_refused_before_reading(tmp_path: Path) -> None:
    """A 50 MB document is refused by size, quickly, with the limit in the message."""
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    with pytest.raises(SpecError, match=r"huge\.json: document is 50\.0 MiB, over the 32 MiB limit"):
        load_spec(str(path))


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file that cannot be read (permission denied) is a one-line error, also when running as root."""
    path = write_spec(tmp_path, minimal_doc())

    def deny(_: Path) -> bytes:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(spec_read, "_read_file", deny)
    with pytest.raises(SpecError, match=r"openapi\.yaml: permission denied"):
        load_spec(str(path))


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="file not found"):
        load_spec(str(tmp_path / "nope.yaml"))
    with pytest.raises(SpecError, match="is a folder"):
        load_spec(str(tmp_path))


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not available")
@pytest.mark.parametrize(
    "name",
    sorted(p.name for p in CORPUS.glob("*") if p.suffix in (".json", ".yaml", ".yml"))
    if CORPUS.is_dir()
    else [],
)
def test_every_corpus_document_loads(name: str) -> None:
    """Real third-party documents load and index without errors."""
    spec = load_spec(str(CORPUS / name))
    assert spec.index.operations
    assert all(i.kind in ("version", "schema", "semantic") for i in spec.issues)
