"""``$ref`` resolution across the main document and the files it references.

Rules (each enforced here, once):

* ``#/...`` resolves inside the same document;
* ``other.yaml#/...`` loads a sibling file, which must stay inside the main document's folder
  (or, for a document fetched by URL, under the same URL folder);
* ``https://...`` is remote: not fetched unless the caller allows it; otherwise it is recorded and
  becomes a finding;
* a chain of references that only points at other references (``A -> B -> A``) is an error, while a
  schema that refers to itself through properties (a recursive data structure) is fine.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from ..errors import SpecError
from ._read import RawDocument, is_url
from .model import Loc, SourceDocument, unescape_token

MISSING = object()


class DocumentSet:
    """The main document plus every file loaded through a relative ``$ref``."""

    def __init__(
        self,
        root: RawDocument,
        *,
        display: str,
        loader: Callable[[str, str], RawDocument],
        allow_remote: bool,
    ) -> None:
        self.display = display
        self._loader = loader
        self._allow_remote = allow_remote
        self.root = SourceDocument(
            name="", uri=root.uri, data=root.data, text=root.text, sha256=root.sha256, format=root.format
        )
        self._by_uri: dict[str, SourceDocument] = {root.uri: self.root}
        self._by_name: dict[str, SourceDocument] = {"": self.root}
        if is_url(root.uri):
            self._base = root.uri.rsplit("/", 1)[0] + "/"
        else:
            self._base = str(Path(root.uri).parent)
        self.remote_refs: list[tuple[Loc, str]] = []  # (where, ref) left unresolved
        # Real documents repeat the same few hundred $refs thousands of times (k8s: ObjectMeta).
        self._resolved: dict[tuple[str, str], Loc] = {}
        self._values: dict[Loc, Any] = {}
        self._locator: Callable[[SourceDocument, str], str | None] | None = None

    @property
    def documents(self) -> tuple[SourceDocument, ...]:
        return tuple(self._by_uri.values())

    def set_locator(self, locator: Callable[[SourceDocument, str], str | None]) -> None:
        self._locator = locator

    def document(self, name: str) -> SourceDocument:
        return self._by_name[name]

    def value_at(self, loc: Loc) -> Any:
        try:
            return self._values[loc]
        except KeyError:
            doc_name, _, pointer = loc.partition("#")
            value = self._values[loc] = lookup(self._by_name[doc_name].data, pointer)
            return value

    # -- errors ---------------------------------------------------------------------------------------
    def error(self, message: str, at: Loc, hint: str | None = None) -> SpecError:
        doc_name, _, pointer = at.partition("#")
        doc = self._by_name.get(doc_name, self.root)
        source = self.display if doc is self.root else doc_name
        line = self._locator(doc, pointer) if self._locator else None
        location = line or (pointer or "/")
        if line:
            message = f"{pointer or '/'}: {message}"
        return SpecError(message, source=source, location=location, hint=hint)

    # -- resolution -----------------------------------------------------------------------------------
    def resolve(self, ref: str, at: Loc) -> Loc | None:
        """Return the location a ``$ref`` written at ``at`` points to (following ref chains).

        ``None`` means a remote reference that was not fetched (it is recorded in ``remote_refs``).
        """
        key = (at.partition("#")[0], ref)
        cached = self._resolved.get(key)
        if cached is not None:
            return cached
        seen: list[Loc] = []
        target = self._resolve_once(ref, at)
        while target is not None:
            if target in seen:
                chain = " -> ".join([*seen, target])
                raise self.error(f"$ref cycle with no schema in it: {chain}", at)
            seen.append(target)
            value = self.value_at(target)
            if isinstance(value, dict) and isinstance(value.get("$ref"), str) and len(value) == 1:
                target = self._resolve_once(value["$ref"], target)
                continue
            self._resolved[key] = target
            return target
        return None

    def _resolve_once(self, ref: str, at: Loc) -> Loc | None:
        doc_name, _, _ = at.partition("#")
        doc = self._by_name[doc_name]
        file_part, _, fragment = ref.partition("#")
        pointer = unquote(fragment)
        if pointer and not pointer.startswith("/"):
            raise self.error(f"$ref '{ref}' uses a plain-name fragment, which is not supported", at)
        if file_part:
            target_doc = self._load_referenced(file_part, doc, at, ref)
            if target_doc is None:
                return None
        else:
            target_doc = doc
        if self.value_at(f"{target_doc.name}#{pointer}") is MISSING:
            raise self.error(
                f"$ref '{ref}' does not resolve",
                at,
                hint=f"nothing at '{pointer or '/'}' in {target_doc.name or self.display}",
            )
        return f"{target_doc.name}#{pointer}"

    def _load_referenced(
        self, file_part: str, doc: SourceDocument, at: Loc, ref: str
    ) -> SourceDocument | None:
        if is_url(file_part) or "://" in file_part:
            if not self._allow_remote:
                self.remote_refs.append((at, ref))
                return None
            uri = file_part
        elif is_url(doc.uri):
            uri = urljoin(doc.uri, file_part)
            if not uri.startswith(self._base) or urlsplit(uri).netloc != urlsplit(doc.uri).netloc:
                raise self.error(
                    f"$ref '{ref}' leaves the document's folder",
                    at,
                    hint="refs may only reach files beside or below the main document",
                )
        else:
            if file_part.startswith("file:"):
                raise self.error(f"$ref '{ref}' uses a file: URI", at, hint="use a relative path")
            candidate = (Path(doc.uri).parent / unquote(file_part)).resolve()
            base = Path(self._base).resolve()
            if candidate != base and base not in candidate.parents:
                raise self.error(
                    f"$ref '{ref}' leaves the document's folder",
                    at,
                    hint="refs may only reach files beside or below the main document",
                )
            uri = str(candidate)
        known = self._by_uri.get(uri)
        if known is not None:
            return known
        name = self._name_for(uri)
        try:
            raw = self._loader(uri, name)
        except SpecError as exc:
            raise self.error(f"$ref '{ref}' cannot be loaded: {exc.message}", at) from None
        loaded = SourceDocument(
            name=name, uri=uri, data=raw.data, text=raw.text, sha256=raw.sha256, format=raw.format
        )
        self._by_uri[uri] = loaded
        self._by_name[name] = loaded
        return loaded

    def _name_for(self, uri: str) -> str:
        if is_url(uri):
            return uri[len(self._base) :] if uri.startswith(self._base) else uri
        rel = Path(uri).relative_to(Path(self._base).resolve())
        return posixpath.join(*rel.parts)


def lookup(data: Any, pointer: str) -> Any:
    """Follow an RFC 6901 pointer; ``MISSING`` when any step is absent."""
    if not pointer:
        return data
    node = data
    for raw_token in pointer[1:].split("/"):
        token = unescape_token(raw_token)
        if isinstance(node, dict):
            if token not in node:
                return MISSING
            node = node[token]
        elif isinstance(node, list):
            if not token.isdigit() or int(token) >= len(node):
                return MISSING
            node = node[int(token)]
        else:
            return MISSING
    return node
