"""Evidence: every exchange with the target, redacted, one JSON line each in ``evidence/exchanges.ndjson``.

Redaction happens here, before anything is written or hashed, in two layers:

1. **By name** (what a field *is*): the header fields ``Authorization``, ``Proxy-Authorization``, ``Cookie``
   and ``Set-Cookie`` (cookie values only; attributes stay as evidence), and any header, query parameter,
   form field or JSON member whose name contains a marker from :data:`SENSITIVE_MARKERS`, or is listed in
   ``redaction.keys``; query and form parameters also by :data:`SENSITIVE_PARAMETERS`; JSON members at the
   configured ``redaction.pointers`` (RFC 6901, with ``*`` matching any member or index).
2. **By value** (what we know is secret): the client secret, static bearer tokens and every access token
   obtained during the run (:meth:`Redactor.register_secret`), in raw, URL-encoded (both kinds, either hex
   case), base64 (standard and URL-safe, with and without padding; and ``id:secret`` for HTTP Basic) and
   JSON-escaped form, anywhere: URLs, header values, bodies (also binary ones, before base64), error texts.
   As a last net, each serialized line is scanned for every known form again.

**Streamed bodies** (``LiveTarget.stream``: bulk exports far larger than ``max_body_bytes``) are never held
whole. While the body streams, :class:`StreamedBody` counts its size, hashes every byte *as received* and
keeps only the first bytes (the evidence limit plus one line's margin). When the stream closes, that prefix
is redacted **line by line** (each line as a body of its own, with the same rules: an NDJSON line is a JSON
document, a CSV line is text; a last, cut line is redacted as truncated JSON/text) and cut at the limit. A
body that fits the limit is recorded exactly like any other; a longer one gets ``"streamed": true`` and a
``sha256`` of the received bytes (``"sha256_of": "received"``), so it can be compared with the supplier's
own copy of the export, whereas an ordinary cut body's ``sha256`` is of its redacted form. Redacting the
whole stream first would mean holding it, and no one could reproduce that hash.

The marker list follows Schemathesis' sanitiser (``core/output/sanitization.py``) plus ``signature``; it
errs towards redacting too much (``author`` contains ``auth``) because evidence with a hole is still
evidence, and evidence with a credential is an incident. Replacement text is :data:`REDACTED`.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote, quote_plus, unquote_plus

import orjson

from ..pointer import unescape
from ._defaults import DEFAULT_EVIDENCE_BODY_LIMIT
from .config import AuthKind, TargetConfig

__all__ = [
    "EXCHANGES_FILE",
    "MIN_SECRET_LENGTH",
    "REDACTED",
    "SENSITIVE_HEADERS",
    "SENSITIVE_MARKERS",
    "SENSITIVE_PARAMETERS",
    "EvidenceRecorder",
    "Recorded",
    "Redactor",
    "StreamedBody",
]

REDACTED = "[redacted]"
EXCHANGES_FILE = "exchanges.ndjson"
SENSITIVE_MARKERS = (
    "token",
    "secret",
    "password",
    "passwd",
    "key",
    "auth",
    "session",
    "credential",
    "signature",
)
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
# Names a marker matches but whose values are protocol facts, not secrets, and are evidence for checks.
PUBLIC_HEADERS = frozenset(
    {
        "www-authenticate",
        "proxy-authenticate",
        "access-control-allow-credentials",
        "access-control-allow-headers",
        "access-control-expose-headers",
        "access-control-request-headers",
    }
)
PUBLIC_KEYS = frozenset({"token_type"})
SENSITIVE_PARAMETERS = frozenset(
    {"code", "access_token", "refresh_token", "id_token", "client_secret", "assertion", "client_assertion"}
)
URL_HEADERS = frozenset({"location", "content-location", "referer"})
MIN_SECRET_LENGTH = 6  # shorter values cannot be replaced everywhere without wrecking the evidence

_REDACTED_BYTES = REDACTED.encode()
_MARKER_BYTES = tuple(m.encode() for m in SENSITIVE_MARKERS)
_NAME_CACHE_LIMIT = 4096
# "key": value pairs in text that is JSON-like but does not parse (truncated, or simply invalid).
_JSON_PAIR = re.compile(rb'"((?:[^"\\]|\\.)*)"\s*:\s*("(?:[^"\\]|\\.)*(?:"|$)|[^,}\]\s]+)')
_PERCENT = re.compile(r"%[0-9A-F]{2}")
# name=value pairs (query strings, forms) inside other text.
_PARAM_PAIR = re.compile(rb"(^|[?&;\s])([A-Za-z0-9_.~%+-]+)=([^&;\s\"'<>]*)")


def _forms(value: str) -> set[str]:
    """Every spelling under which ``value`` may travel or be echoed."""
    forms = {value, quote(value, safe=""), quote(value), quote_plus(value)}
    raw = value.encode()
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = encoded.decode("ascii")
        forms.update((text, text.rstrip("=")))
    forms.add(json.dumps(value)[1:-1])
    forms.add(json.dumps(value, ensure_ascii=False)[1:-1])
    forms.update(_PERCENT.sub(lambda m: m.group(0).lower(), f) for f in list(forms) if "%" in f)
    return {f for f in forms if len(f) >= MIN_SECRET_LENGTH}


def _media_type(content_type: str | None) -> str:
    return content_type.split(";", 1)[0].strip().lower() if content_type else ""


class Redactor:
    """Removes credentials and configured personal data from everything bound for evidence."""

    def __init__(self, config: TargetConfig | None = None) -> None:
        self._keys = frozenset(k.lower() for k in (config.redact_keys if config else ()))
        self._key_bytes = tuple(k.encode() for k in self._keys)
        self._pointers = tuple(
            tuple(unescape(token) for token in pointer.split("/")[1:])
            for pointer in (config.redact_pointers if config else ())
        )
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._forms_text: tuple[str, ...] = ()
        self._forms_bytes: tuple[bytes, ...] = ()
        self._header_cache: dict[str, bool] = {}
        self._key_cache: dict[str, bool] = {}
        if config is not None:
            for auth in (config.auth, config.other_tenant):
                if auth is None:
                    continue
                for secret in auth.secrets():
                    self.register_secret(secret.reveal())
                if auth.kind is AuthKind.CLIENT_CREDENTIALS and auth.client_id and auth.client_secret:
                    self.register_basic(auth.client_id, auth.client_secret.reveal())

    # -- known values ---------------------------------------------------------------------------------
    def register_secret(self, value: str) -> None:
        """Redact ``value`` (in all its spellings) from everything recorded from now on."""
        self._add(_forms(value) if len(value) >= MIN_SECRET_LENGTH else set(), value)

    def register_basic(self, user: str, password: str) -> None:
        """Redact the HTTP Basic credentials for ``user``/``password`` (RFC 7617, and RFC 6749 §2.3.1's
        form-encoded variant)."""
        forms: set[str] = set()
        for pair in (f"{user}:{password}", f"{quote_plus(user)}:{quote_plus(password)}"):
            encoded = base64.b64encode(pair.encode()).decode("ascii")
            forms.update((encoded, encoded.rstrip("=")))
        self._add(forms, f"basic:{user}:{password}")

    def _add(self, forms: set[str], key: str) -> None:
        with self._lock:
            if key in self._values:
                return
            self._values.add(key)
            merged = set(self._forms_text) | forms
            # Longest first: a JSON-escaped or encoded spelling is replaced whole before its raw core.
            ordered = tuple(sorted(merged, key=lambda f: (-len(f), f)))
            self._forms_text = ordered
            self._forms_bytes = tuple(f.encode() for f in ordered)

    def redact_text(self, text: str) -> str:
        for form in self._forms_text:
            if form in text:
                text = text.replace(form, REDACTED)
        return text

    def redact_bytes(self, data: bytes) -> bytes:
        for form in self._forms_bytes:
            if form in data:
                data = data.replace(form, _REDACTED_BYTES)
        return data

    # -- names ----------------------------------------------------------------------------------------
    def is_sensitive_key(self, name: str) -> bool:
        """A JSON member name that holds a secret or configured personal data."""
        cached = self._key_cache.get(name)
        if cached is None:
            lower = name.lower()
            cached = lower not in PUBLIC_KEYS and (
                lower in self._keys or any(m in lower for m in SENSITIVE_MARKERS)
            )
            if len(self._key_cache) > _NAME_CACHE_LIMIT:
                self._key_cache.clear()  # a hostile body can invent names without end
            self._key_cache[name] = cached
        return cached

    def is_sensitive_parameter(self, name: str) -> bool:
        """A query or form parameter name that holds a secret (``code``, ``assertion``, … and the markers)."""
        return name.lower() in SENSITIVE_PARAMETERS or self.is_sensitive_key(name)

    def _sensitive_header(self, lower: str) -> bool:
        cached = self._header_cache.get(lower)
        if cached is None:
            cached = lower in SENSITIVE_HEADERS or (
                lower not in PUBLIC_HEADERS
                and (lower in self._keys or any(m in lower for m in SENSITIVE_MARKERS))
            )
            if len(self._header_cache) > _NAME_CACHE_LIMIT:
                self._header_cache.clear()
            self._header_cache[lower] = cached
        return cached

    # -- headers and URLs -----------------------------------------------------------------------------
    def redact_header(self, name: str, value: str) -> str:
        lower = name.lower()
        if self._sensitive_header(lower):
            if lower in ("authorization", "proxy-authorization"):
                # Keep the scheme ("Bearer", "Basic"): which kind of credential was sent is evidence.
                scheme, _, rest = value.partition(" ")
                return f"{scheme} {REDACTED}" if rest and scheme.isalpha() else REDACTED
            if lower == "set-cookie":
                # Keep the attributes (Secure, HttpOnly, SameSite): they are what cookie checks look at.
                first, sep, attributes = value.partition(";")
                name_part = first.split("=", 1)[0].strip()
                return f"{name_part}={REDACTED}{sep}{self.redact_text(attributes)}"
            if lower == "cookie":
                names = (part.split("=", 1)[0].strip() for part in value.split(";"))
                return "; ".join(f"{n}={REDACTED}" for n in names if n)
            return REDACTED
        if lower in URL_HEADERS:
            return self.redact_url(value)
        return self.redact_text(value) if self._forms_text else value

    def redact_headers(self, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(name, self.redact_header(name, value)) for name, value in pairs]

    def _redact_params(self, query: str) -> str:
        parts = query.split("&")
        for i, part in enumerate(parts):
            name, sep, _ = part.partition("=")
            if sep and self.is_sensitive_parameter(unquote_plus(name)):
                parts[i] = f"{name}={REDACTED}"
        return "&".join(parts)

    def redact_url(self, url: str) -> str:
        """Sensitive query (and fragment) parameters, user info, and known values."""
        if "?" in url or "#" in url or "@" in url:
            base, hash_sign, fragment = url.partition("#")
            base, question, query = base.partition("?")
            scheme, sep, rest = base.partition("://")
            authority, slash, path = rest.partition("/")
            if "@" in authority:
                authority = f"{REDACTED}@{authority.rpartition('@')[2]}"
            base = f"{scheme}{sep}{authority}{slash}{path}"
            if query:
                query = self._redact_params(query)
            if "=" in fragment:
                fragment = self._redact_params(fragment)
            url = f"{base}{question}{query}{hash_sign}{fragment}"
        return self.redact_text(url) if self._forms_text else url

    # -- bodies ---------------------------------------------------------------------------------------
    def redact_body(self, body: bytes, content_type: str | None) -> bytes:
        """The body with known values, sensitive JSON members/pointers and form fields redacted."""
        if not body:
            return body
        if self._forms_bytes:
            body = self.redact_bytes(body)
        media = _media_type(content_type)
        if media == "application/x-www-form-urlencoded":
            text = body.decode("latin-1")  # byte-preserving: only the values we replace change
            return self._redact_params(text).encode("latin-1")
        if media.endswith("json") or body.lstrip()[:1] in (b"{", b"["):
            return self._redact_json_bytes(body)
        if self._may_need_json_work(body):
            # Text, HTML or anything else can still carry JSON or a query string (an echo, an error page).
            return self._redact_params_like(self._redact_json_like(body))
        return body

    def _may_need_json_work(self, body: bytes) -> bool:
        if self._pointers or b"\\" in body:  # escapes can spell a marker or a secret in disguise
            return True
        lower = body.lower()
        return any(m in lower for m in _MARKER_BYTES) or any(k in lower for k in self._key_bytes)

    def _redact_json_bytes(self, body: bytes) -> bytes:
        if not self._may_need_json_work(body):
            return body
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:
            try:
                doc = json.loads(body.decode("utf-8"))  # big integers, which orjson refuses
            except ValueError:
                return self._redact_json_like(body)
        redacted, changed = self._walk(doc)
        for tokens in self._pointers:
            changed |= _redact_pointer(redacted, tokens)
        if not changed:
            return body
        try:
            return orjson.dumps(redacted)
        except TypeError:
            return json.dumps(redacted, ensure_ascii=False, separators=(",", ":")).encode()

    def _walk(self, node: Any) -> tuple[Any, bool]:
        if isinstance(node, dict):
            changed = False
            out: dict[str, Any] = {}
            for key, value in node.items():
                if self.is_sensitive_key(key):
                    out[key] = REDACTED
                    changed = True
                else:
                    out[key], sub = self._walk(value)
                    changed |= sub
            return out, changed
        if isinstance(node, list):
            items = [self._walk(item) for item in node]
            return [item for item, _ in items], any(sub for _, sub in items)
        if isinstance(node, str) and self._forms_text:
            text = self.redact_text(node)
            return text, text != node
        return node, False

    def _redact_json_like(self, body: bytes) -> bytes:
        def replace(match: re.Match[bytes]) -> bytes:
            raw_key = match.group(1)
            try:
                key = json.loads(b'"' + raw_key + b'"')
            except ValueError:
                key = raw_key.decode("utf-8", "replace")
            if isinstance(key, str) and self.is_sensitive_key(key):
                return b'"' + raw_key + b'":"' + _REDACTED_BYTES + b'"'
            return match.group(0)

        return _JSON_PAIR.sub(replace, body)

    def _redact_params_like(self, body: bytes) -> bytes:
        def replace(match: re.Match[bytes]) -> bytes:
            name = unquote_plus(match.group(2).decode("latin-1"))
            if self.is_sensitive_parameter(name):
                return match.group(1) + match.group(2) + b"=" + _REDACTED_BYTES
            return match.group(0)

        return _PARAM_PAIR.sub(replace, body)

    def redact_json(self, doc: Any) -> Any:
        """A redacted copy of a parsed JSON document (the input is not changed)."""
        redacted, _ = self._walk(copy.deepcopy(doc))
        for tokens in self._pointers:
            _redact_pointer(redacted, tokens)
        return redacted

    def scrub_serialized(self, line: bytes) -> bytes:
        """The last net: any known spelling left in an already serialized record."""
        return self.redact_bytes(line) if self._forms_bytes else line


def _redact_pointer(node: Any, tokens: tuple[str, ...]) -> bool:
    if not tokens:
        return False
    head, rest = tokens[0], tokens[1:]
    targets: Iterable[Any]
    if isinstance(node, dict):
        targets = list(node) if head == "*" else ([head] if head in node else [])
    elif isinstance(node, list):
        if head == "*":
            targets = range(len(node))
        else:
            targets = [int(head)] if head.isdigit() and int(head) < len(node) else []
    else:
        return False
    changed = False
    for key in targets:
        if rest:
            changed |= _redact_pointer(node[key], rest)
        elif node[key] != REDACTED:
            node[key] = REDACTED
            changed = True
    return changed


# -- recording ----------------------------------------------------------------------------------------
_LINE_MARGIN = 64 * 1024  # bytes kept beyond the evidence limit, so the line crossing it is usually whole


class StreamedBody:
    """What the evidence keeps of a body read as a stream: the size and SHA-256 of every byte received, and
    only the first ``limit`` + 64 KiB bytes (for the redacted prefix). Memory stays the same however long
    the stream."""

    __slots__ = ("_cap", "_hash", "_prefix", "size")

    def __init__(self, limit: int = DEFAULT_EVIDENCE_BODY_LIMIT) -> None:
        self._cap = limit + _LINE_MARGIN
        self._hash = hashlib.sha256()
        self._prefix = bytearray()
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self._hash.update(chunk)
        room = self._cap - len(self._prefix)
        if room > 0:
            self._prefix += chunk[:room]

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of every byte received so far (as decoded from any Content-Encoding)."""
        return self._hash.hexdigest()

    @property
    def prefix(self) -> bytes:
        """The first bytes received (at most the evidence limit plus 64 KiB), not redacted."""
        return bytes(self._prefix)

    @property
    def whole(self) -> bool:
        """The prefix holds the entire body received so far."""
        return len(self._prefix) == self.size


class Recorded(NamedTuple):
    """What the recorder wrote, for the in-memory exchange: its id and the redacted URL and headers."""

    id: str
    url: str
    request_headers: list[tuple[str, str]]


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class EvidenceRecorder:
    """Appends one redacted JSON line per exchange or TLS probe to ``folder/exchanges.ndjson``.

    The file is created on the first record (a static run leaves no empty file), each line is written with
    one unbuffered ``write`` (a crash loses at most the line being written), and ids (``ex-0001``, …) continue
    after the lines already in the file. Records contain no floats: times are text, durations integers.
    """

    def __init__(
        self,
        folder: Path,
        redactor: Redactor,
        *,
        body_limit: int = DEFAULT_EVIDENCE_BODY_LIMIT,
        id_prefix: str = "ex",
    ) -> None:
        self.folder = folder
        self.id_prefix = id_prefix  # a second target's evidence ("peer-ex-…") never collides with the first's
        self.redactor = redactor
        self.body_limit = body_limit
        self.current_requirement: str | None = None  # labels records with the requirement being checked
        self._lock = threading.Lock()
        self._file: Any = None
        self._count = 0

    @property
    def path(self) -> Path:
        return self.folder / EXCHANGES_FILE

    def reserve_id(self) -> str:
        """An exchange id for a record written later (a stream is recorded when it closes); the caller
        must then pass it to :meth:`record_http` as ``exchange_id``."""
        return self._next_id()

    def _next_id(self) -> str:
        with self._lock:
            if self._file is None:
                self.folder.mkdir(parents=True, exist_ok=True)
                if self.path.exists():
                    self._count = self.path.read_bytes().count(b"\n")
                self._file = open(self.path, "ab", buffering=0)  # noqa: SIM115 - kept open for the run
            self._count += 1
            return f"{self.id_prefix}-{self._count:04d}"

    def _write(self, record: Mapping[str, Any]) -> None:
        line = self.redactor.scrub_serialized(orjson.dumps(record)) + b"\n"
        with self._lock:
            self._file.write(line)

    def body(self, body: bytes | None, content_type: str | None, *, incomplete: bool = False) -> Any:
        """The evidence form of a body: redacted, then cut at the limit (keeping size and SHA-256); ``None``
        for no body at all."""
        if not body:
            return None
        redacted = self.redactor.redact_body(body, content_type)
        record: dict[str, Any] = {"size": len(body)}
        cut = redacted[: self.body_limit]
        try:
            text: str | None = redacted.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None:
            if len(cut) < len(redacted):
                text = cut.decode("utf-8", "ignore")  # only a character split at the cut can be dropped
            record["encoding"] = "utf-8"
            record["content"] = text
        else:
            record["encoding"] = "base64"
            record["content"] = base64.b64encode(cut).decode("ascii")
        if len(cut) < len(redacted):
            record["truncated"] = True
            record["sha256"] = hashlib.sha256(redacted).hexdigest()  # of the whole redacted body
        if incomplete:
            record["incomplete"] = True  # the harness stopped reading: the server sent more
        return record

    def streamed_body(self, body: StreamedBody, content_type: str | None, *, incomplete: bool = False) -> Any:
        """The evidence form of a streamed body (see the module docstring): a body within the limit exactly as
        :meth:`body` records it; a longer one as its first ``body_limit`` bytes redacted line by line, with its
        full size and the SHA-256 of the bytes received."""
        if body.size == 0:
            return None
        if body.whole and body.size <= self.body_limit:
            return self.body(body.prefix, content_type, incomplete=incomplete)
        prefix = body.prefix
        pieces: list[bytes] = []
        kept = 0
        for line in prefix.splitlines(keepends=True):
            redacted = self.redactor.redact_body(line, content_type)
            pieces.append(redacted)
            kept += len(redacted)
            if kept >= self.body_limit:
                break
        cut = b"".join(pieces)[: self.body_limit]
        record: dict[str, Any] = {"size": body.size}
        try:
            prefix.decode("utf-8")
            utf8 = True
        except UnicodeDecodeError as exc:
            # A character split at the end of the prefix is not an encoding problem.
            utf8 = not body.whole and exc.start >= len(prefix) - 3 and exc.reason == "unexpected end of data"
        if utf8:
            record["encoding"] = "utf-8"
            record["content"] = cut.decode("utf-8", "ignore")
        else:
            record["encoding"] = "base64"
            record["content"] = base64.b64encode(
                self.redactor.redact_bytes(prefix)[: self.body_limit]
            ).decode("ascii")
        record["truncated"] = True
        record["streamed"] = True
        record["sha256"] = body.sha256
        record["sha256_of"] = "received"
        if incomplete:
            record["incomplete"] = True
        return record

    def record_http(
        self,
        *,
        method: str,
        url: str,
        request_headers: Iterable[tuple[str, str]],
        request_body: bytes | None,
        status: int | None,
        reason: str | None,
        response_headers: Iterable[tuple[str, str]] | None,
        response_body: bytes | None,
        incomplete: bool,
        elapsed_ms: int,
        error: str | None,
        links: Mapping[str, str] | None = None,
        exchange_id: str | None = None,
        streamed: StreamedBody | None = None,
    ) -> Recorded:
        """Redact and append one HTTP exchange; ``links`` relate it to others (``retry_of``, ``redirect_of``).

        ``exchange_id`` is one from :meth:`reserve_id`; ``streamed`` replaces ``response_body`` for a body read
        as a stream."""
        exchange_id = exchange_id or self._next_id()
        redactor = self.redactor
        safe_url = redactor.redact_url(url)
        safe_request_headers = redactor.redact_headers(request_headers)
        request_type = next((v for n, v in safe_request_headers if n.lower() == "content-type"), None)
        record: dict[str, Any] = {
            "id": exchange_id,
            "kind": "http",
            "requirement": self.current_requirement,
            "time": _utc_now(),
            "method": method,
            "url": safe_url,
            "request": {
                "headers": safe_request_headers,
                "body": self.body(request_body, request_type),
            },
            "response": None,
            "elapsed_ms": elapsed_ms,
            "error": redactor.redact_text(error) if error else None,
        }
        if status is not None:
            pairs = list(response_headers or ())
            response_type = next((v for n, v in pairs if n.lower() == "content-type"), None)
            record["response"] = {
                "status": status,
                "reason": reason or "",
                "headers": redactor.redact_headers(pairs),
                "body": (
                    self.streamed_body(streamed, response_type, incomplete=incomplete)
                    if streamed is not None
                    else self.body(response_body, response_type, incomplete=incomplete)
                ),
            }
        if links:
            record.update(links)
        self._write(record)
        return Recorded(exchange_id, safe_url, safe_request_headers)

    def record_tls(
        self,
        *,
        probe: str,
        host: str,
        port: int,
        server_name: str | None,
        result: Mapping[str, Any],
        elapsed_ms: int,
        error: str | None,
    ) -> str:
        """Append one TLS probe (``probe`` is "versions" or "certificate"); returns its id."""
        exchange_id = self._next_id()
        self._write(
            {
                "id": exchange_id,
                "kind": "tls",
                "requirement": self.current_requirement,
                "time": _utc_now(),
                "probe": probe,
                "host": host,
                "port": port,
                "server_name": server_name,
                "result": result,
                "elapsed_ms": elapsed_ms,
                "error": error,
            }
        )
        return exchange_id

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
