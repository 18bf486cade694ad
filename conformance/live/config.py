"""Live target configuration: where the API is, how to authenticate, and the limits every request obeys.

Sources, highest precedence first:

1. explicit arguments (the ``conformance run`` flags: ``--base-url``, ``--spec``, ``--ca-bundle``, ``--rate``,
   ``--timeout``, ``--allow-writes``);
2. the ``--auth FILE`` (YAML or TOML), which replaces any ``[target.auth]`` table as a whole;
3. a configuration file: ``conformance.toml`` (tables ``[target]``, ``[target.auth]``, ``[redaction]``) or
   ``pyproject.toml`` (the same tables under ``[tool.conformance]``), looked for in the working directory only
   (never in parent folders, so a run cannot be changed by a file it did not ask for).

Secrets are read from an environment variable or a file, never from a command-line value or a configuration
file (both end up in shell history, CI logs and repositories). Every mistake raises a one-line ``TargetError``
(configuration files) or ``UsageError`` (flags) naming the file, the field and the fix.
"""

from __future__ import annotations

import difflib
import enum
import hmac
import math
import os
import re
import stat
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from ..errors import TargetError, UsageError
from ._defaults import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_EXPORT_TIMEOUT,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_CONSECUTIVE_FAILURES,
    DEFAULT_MAX_REDIRECTS,
    DEFAULT_MAX_STREAM_BYTES,
    DEFAULT_RATE,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_TOTAL_TIMEOUT,
)
from ._origin import Origin, is_loopback_host, origin_of

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

__all__ = [
    "AuthConfig",
    "AuthKind",
    "Secret",
    "SecretFileWarning",
    "TargetConfig",
    "TokenAuthMethod",
    "has_live_target",
    "load_target_config",
    "parse_rate",
    "secret_from_env",
    "secret_from_file",
]

CONFIG_FILE_NAME = "conformance.toml"
PYPROJECT_FILE_NAME = "pyproject.toml"


# -- secrets ------------------------------------------------------------------------------------------
class Secret:
    """A secret value that never prints: ``repr``/``str``/f-strings show ``Secret('***', source='env:NAME')``.

    Call :meth:`reveal` at the single point where the value is put on the wire.
    """

    __slots__ = ("_value", "source")
    _value: str
    source: str

    def __init__(self, value: str, *, source: str) -> None:
        object.__setattr__(self, "_value", value)
        object.__setattr__(self, "source", source)

    def reveal(self) -> str:
        return self._value

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Secret is immutable")

    def __repr__(self) -> str:
        return f"Secret('***', source={self.source!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return (
            hmac.compare_digest(self._value.encode(), other._value.encode()) and self.source == other.source
        )

    def __hash__(self) -> int:
        return hash(("Secret", self.source))

    def __reduce__(self) -> NoReturn:
        # Pickling would write the value to wherever the pickle goes (a cache, a worker pipe's log).
        raise TypeError("a Secret cannot be pickled")


class SecretFileWarning(UserWarning):
    """A secret file is readable by other users of the machine."""


def secret_from_env(name: str) -> Secret:
    """The secret held by environment variable ``name``; ``TargetError`` when it is unset or empty."""
    value = os.environ.get(name)
    if not value:
        msg = f"environment variable {name} is not set or empty"
        raise TargetError(msg, hint=f"export {name}=... before the run, or use a secret file")
    return Secret(value.strip(), source=f"env:{name}")


def secret_from_file(path: Path) -> Secret:
    """The secret in ``path`` (surrounding whitespace removed); warns when the file is group/world-readable."""
    try:
        info = path.stat()
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TargetError("secret file not found", source=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TargetError(f"cannot read the secret file: {exc}", source=str(path)) from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        warnings.warn(
            f"{path}: secret file is readable by other users (mode {stat.S_IMODE(info.st_mode):o}): "
            f"chmod 600 {path}",
            SecretFileWarning,
            stacklevel=2,
        )
    value = text.strip()
    if not value:
        raise TargetError("secret file is empty", source=str(path))
    return Secret(value, source=f"file:{path}")


# -- configuration objects ----------------------------------------------------------------------------
@enum.unique
class AuthKind(str, enum.Enum):
    NONE = "none"  # no Authorization header (mTLS may still identify the client)
    CLIENT_CREDENTIALS = "client_credentials"  # OAuth 2.0 client credentials grant (RFC 6749 §4.4)
    BEARER = "bearer"  # a static bearer token supplied by the user


@enum.unique
class TokenAuthMethod(str, enum.Enum):
    CLIENT_SECRET_BASIC = "client_secret_basic"  # HTTP Basic with the client id and secret (RFC 6749 §2.3.1)
    CLIENT_SECRET_POST = "client_secret_post"  # client_id and client_secret in the form body


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthConfig:
    """How requests authenticate. A client certificate (mTLS) can be combined with any kind."""

    kind: AuthKind = AuthKind.NONE
    token_url: str | None = None
    client_id: str | None = None
    client_secret: Secret | None = None
    scopes: tuple[str, ...] = ()
    token_auth_method: TokenAuthMethod = TokenAuthMethod.CLIENT_SECRET_BASIC
    bearer: Secret | None = None
    client_cert: Path | None = None
    client_key: Path | None = None

    def __post_init__(self) -> None:
        if self.kind is AuthKind.CLIENT_CREDENTIALS and not (
            self.token_url and self.client_id and self.client_secret
        ):
            raise TargetError("client_credentials needs token_url, client_id and a client secret")
        if self.kind is AuthKind.BEARER and self.bearer is None:
            raise TargetError("bearer authentication needs a token (bearer_env or bearer_file)")
        if self.client_key is not None and self.client_cert is None:
            raise TargetError("client_key needs client_cert")

    def secrets(self) -> tuple[Secret, ...]:
        return tuple(s for s in (self.client_secret, self.bearer) if s is not None)


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetConfig:
    """Everything the live client layer needs to talk to one supplier API safely."""

    base_url: str
    spec_url: str | None = None  # where the supplier serves its OpenAPI document
    auth: AuthConfig = field(default_factory=AuthConfig)
    other_tenant: AuthConfig | None = None  # a second tenant's credentials (tenant-isolation checks)
    ca_bundle: Path | None = None
    verify_tls: bool = True
    rate_per_second: float = DEFAULT_RATE  # 0 = unlimited
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    total_timeout: float = DEFAULT_TOTAL_TIMEOUT  # wall-clock cap per request
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    export_timeout: float = DEFAULT_EXPORT_TIMEOUT  # wall-clock cap per streamed body (LiveTarget.stream)
    max_stream_bytes: int = DEFAULT_MAX_STREAM_BYTES  # a streamed body is read up to this size
    allow_writes: bool = False  # the target is a test tenant: checks may create and delete data
    plain_http_url: str | None = None  # for the plain-HTTP probe; derived from base_url when None
    extra_origins: tuple[str, ...] = ()  # origins besides the base URL's (token URL origins are added)
    redact_keys: tuple[str, ...] = ()
    redact_pointers: tuple[str, ...] = ()  # RFC 6901 pointers into JSON bodies ('*' matches any member)
    sandbox: bool | None = None  # the user's statement that the target is a sandbox
    max_consecutive_failures: int = DEFAULT_MAX_CONSECUTIVE_FAILURES  # circuit breaker
    max_redirects: int = DEFAULT_MAX_REDIRECTS

    def __post_init__(self) -> None:
        for name in ("base_url", "spec_url", "plain_http_url"):
            value = getattr(self, name)
            if value is not None:
                _check_url(value, name)
        for origin in self.extra_origins:
            _check_url(origin, "extra_origins")
        for name in ("connect_timeout", "read_timeout", "total_timeout", "export_timeout"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise TargetError(f"'{name}' must be a positive number of seconds (got {value!r})")
        if not (math.isfinite(self.rate_per_second) and self.rate_per_second >= 0):
            raise TargetError(f"'rate' must be 0 (unlimited) or more (got {self.rate_per_second!r})")
        if self.max_body_bytes < 1:
            raise TargetError(f"'max_body_bytes' must be at least 1 (got {self.max_body_bytes!r})")
        if self.max_stream_bytes < 1:
            raise TargetError(f"'max_stream_bytes' must be at least 1 (got {self.max_stream_bytes!r})")
        if self.max_consecutive_failures < 1:
            msg = f"'max_consecutive_failures' must be at least 1 (got {self.max_consecutive_failures!r})"
            raise TargetError(msg)
        if self.max_redirects < 0:
            raise TargetError(f"'max_redirects' must be 0 or more (got {self.max_redirects!r})")
        for pointer in self.redact_pointers:
            if not pointer.startswith("/"):
                raise TargetError(f"redaction pointer must start with '/' (got {pointer!r})")

    @property
    def origin(self) -> Origin:
        return origin_of(self.base_url)

    @property
    def effective_plain_http_url(self) -> str:
        """``plain_http_url``, or the base URL with ``http://`` on the default port (80)."""
        if self.plain_http_url:
            return self.plain_http_url
        if self.origin.scheme == "http":
            return self.base_url
        host = self.origin.host
        host = f"[{host}]" if ":" in host else host
        path = self.base_url.split("://", 1)[1].partition("/")[2]
        return f"http://{host}/{path}"

    @property
    def allowed_origins(self) -> frozenset[Origin]:
        """The base URL's origin, the plain-HTTP probe's, the spec URL's, every token URL's and the extras."""
        urls = [self.base_url, self.effective_plain_http_url, *self.extra_origins]
        if self.spec_url and "://" in self.spec_url:
            urls.append(self.spec_url)
        for auth in (self.auth, self.other_tenant):
            if auth is not None and auth.token_url:
                urls.append(auth.token_url)
        return frozenset(origin_of(url) for url in urls)

    def secrets(self) -> tuple[Secret, ...]:
        other = self.other_tenant.secrets() if self.other_tenant else ()
        return (*self.auth.secrets(), *other)


def _check_url(url: str, name: str) -> None:
    try:
        origin_of(url)
    except ValueError as exc:
        raise TargetError(f"'{name}' must be an http(s) URL ({exc})") from None
    if "@" in url.split("://", 1)[1].split("/", 1)[0]:
        raise TargetError(f"'{name}' must not carry credentials in the URL", hint="use an auth file")


# -- rate ---------------------------------------------------------------------------------------------
_RATE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(?:/\s*(s|sec|second|m|min|minute))?\s*$")


def parse_rate(value: str | float) -> float:
    """Requests per second from ``N/s``, ``N/m`` or a plain number (per second); 0 means unlimited."""
    if isinstance(value, bool):
        raise ValueError(f"must be N/s, N/m or a number per second (got {value!r})")
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"must be 0 (unlimited) or a positive number (got {value!r})")
        return float(value)
    match = _RATE.match(value)
    if not match:
        raise ValueError(f"must be N/s, N/m or a number per second (got {value!r})")
    number = float(match.group(1))
    unit = match.group(2) or "s"
    return number / 60.0 if unit.startswith("m") else number


# -- loading ------------------------------------------------------------------------------------------
_TARGET_KEYS = (
    "base_url",
    "spec_url",
    "auth_file",
    "auth",
    "ca_bundle",
    "verify_tls",
    "rate",
    "timeout",
    "connect_timeout",
    "read_timeout",
    "total_timeout",
    "export_timeout",
    "max_body_bytes",
    "max_stream_bytes",
    "allow_writes",
    "plain_http_url",
    "extra_origins",
    "sandbox",
    "max_consecutive_failures",
    "max_redirects",
)
_REDACTION_KEYS = ("keys", "pointers")
_AUTH_KEYS = (
    "type",
    "token_url",
    "client_id",
    "client_secret_env",
    "client_secret_file",
    "scopes",
    "token_auth_method",
    "bearer_env",
    "bearer_file",
    "client_cert",
    "client_key",
    "other_tenant",
)
# Literal secrets people try to write into files, and where the value should come from instead.
_FORBIDDEN_SECRETS = {
    "client_secret": "use client_secret_env or client_secret_file",
    "secret": "use client_secret_env or client_secret_file",
    "password": "use client_secret_env or client_secret_file",
    "bearer": "use bearer_env or bearer_file",
    "token": "use bearer_env or bearer_file",
    "access_token": "use bearer_env or bearer_file",
}


class _Source:
    """A parsed configuration file: its data, how to name it in messages and (YAML) line numbers."""

    def __init__(
        self, path: Path, name: str, data: Mapping[str, Any], lines: Mapping[str, int] | None = None
    ) -> None:
        self.path = path
        self.name = name
        self.data = data
        self.lines = lines or {}

    def fail(self, message: str, pointer: str = "", hint: str | None = None) -> NoReturn:
        line = self.lines.get(pointer) if pointer else None  # the root's line (1) would tell nothing
        raise TargetError(message, source=self.name, location=str(line) if line else None, hint=hint)


def _display(path: Path, cwd: Path) -> str:
    """How messages name a file: relative to the working directory when it lies below it."""
    try:
        return str(path.relative_to(cwd))
    except ValueError:
        return str(path)


def _read_text(path: Path, name: str, flag: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{flag}: file not found: {name}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TargetError(f"cannot read the file: {exc}", source=name) from None


def _read_toml(path: Path, name: str, *, flag: str) -> dict[str, Any]:
    text = _read_text(path, name, flag)
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TargetError(f"malformed TOML: {exc}", source=name) from None
    return data


def _read_auth_file(path: Path, name: str, flag: str) -> _Source:
    if path.suffix.lower() == ".toml":
        return _Source(path, name, _read_toml(path, name, flag=flag))
    from .._yaml import YamlProblem, load_with_lines

    text = _read_text(path, name, flag)
    try:
        data, lines = load_with_lines(text)
    except YamlProblem as exc:
        raise TargetError(exc.message, source=name, location=str(exc.line) if exc.line else None) from None
    if not isinstance(data, dict):
        raise TargetError("an auth file must be a mapping with a 'type' field", source=name)
    return _Source(path, name, data, lines)


def _find_config_file(cwd: Path, config_file: Path | None) -> _Source | None:
    """The configuration file and its ``conformance`` table (the whole file, or ``[tool.conformance]``)."""
    if config_file is not None:
        path = config_file if config_file.is_absolute() else cwd / config_file
        data = _read_toml(path, str(config_file), flag="--config")
        if path.name == PYPROJECT_FILE_NAME:
            return _Source(path, str(config_file), data.get("tool", {}).get("conformance", {}))
        return _Source(path, str(config_file), data)
    own = cwd / CONFIG_FILE_NAME
    if own.is_file():
        return _Source(own, CONFIG_FILE_NAME, _read_toml(own, CONFIG_FILE_NAME, flag="--config"))
    pyproject = cwd / PYPROJECT_FILE_NAME
    if pyproject.is_file():
        table = _read_toml(pyproject, PYPROJECT_FILE_NAME, flag="--config").get("tool", {}).get("conformance")
        if isinstance(table, dict):
            return _Source(pyproject, PYPROJECT_FILE_NAME, table)
    return None


def has_live_target(*, base_url: str | None, config_file: Path | None = None, cwd: Path) -> bool:
    """True when a run has a live target: ``--base-url`` given, or ``target.base_url`` in the config file."""
    if base_url:
        return True
    found = _find_config_file(cwd, config_file)
    if found is None:
        return False
    target = found.data.get("target")
    return isinstance(target, dict) and bool(target.get("base_url"))


def load_target_config(
    *,
    base_url: str | None,
    spec_url: str | None = None,
    auth_file: Path | None = None,
    ca_bundle: Path | None = None,
    rate: str | float | None = None,
    timeout: float | None = None,
    config_file: Path | None = None,
    allow_writes: bool = False,
    export_timeout: float | None = None,
    cwd: Path,
    search_cwd: bool = True,
) -> TargetConfig:
    """Merge flags, the auth file and the configuration file into a validated :class:`TargetConfig`.

    ``timeout`` caps each ordinary request; ``export_timeout`` caps each streamed body (a bulk export) and
    is not shortened by ``timeout``. ``search_cwd=False`` ignores a ``conformance.toml`` in ``cwd`` (a second,
    peer target is described by its flags alone)."""
    source = _find_config_file(cwd, config_file) if (search_cwd or config_file is not None) else None
    prefix = ""
    target: Mapping[str, Any] = {}
    redaction: Mapping[str, Any] = {}
    if source is not None:
        prefix = "tool.conformance." if source.path.name == PYPROJECT_FILE_NAME else ""
        target = _table(source, source.data, "target", prefix)
        redaction = _table(source, source.data, "redaction", prefix)
        _known_keys(source, target, _TARGET_KEYS, f"{prefix}target.", "")
        _known_keys(source, redaction, _REDACTION_KEYS, f"{prefix}redaction.", "")

    def file_value(key: str, kind: type | tuple[type, ...], expectation: str) -> Any:
        if key not in target:
            return None
        value = target[key]
        # TOML booleans are ints to Python: a bool is accepted only where a bool is expected.
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            assert source is not None
            source.fail(f"'{prefix}target.{key}' must be {expectation} (got {value!r})")
        return value

    # Relative paths in a file are relative to that file, not to wherever the command was started.
    base_dir = source.path.parent if source else cwd

    # -- where ----------------------------------------------------------------------------------------
    url = base_url or file_value("base_url", str, "an https URL")
    if not url:
        raise UsageError("no live target: pass --base-url URL or set target.base_url in conformance.toml")
    url = _flag_or_file_url(url, "--base-url" if base_url else f"{prefix}target.base_url", source)
    spec = spec_url or file_value("spec_url", str, "a URL")
    plain = file_value("plain_http_url", str, "an http URL")
    extra = file_value("extra_origins", list, "a list of origins like 'https://idp.example.com'") or []
    for item in extra:
        if not isinstance(item, str):
            assert source is not None
            source.fail(f"'{prefix}target.extra_origins' must list URLs as strings (got {item!r})")

    # -- auth -----------------------------------------------------------------------------------------
    if auth_file is not None:
        auth_path = auth_file if auth_file.is_absolute() else cwd / auth_file
        auth_source = _read_auth_file(auth_path, str(auth_file), "--auth")
        auth, other = _parse_auth_block(auth_source, auth_source.data, "", "", auth_path.parent, top=True)
    elif "auth" in target or "auth_file" in target:
        assert source is not None
        if "auth" in target and "auth_file" in target:
            source.fail(f"'{prefix}target.auth' and '{prefix}target.auth_file' are mutually exclusive")
        if "auth_file" in target:
            auth_path = base_dir / str(file_value("auth_file", str, "a path to a YAML or TOML auth file"))
            flag = f"{source.name}: '{prefix}target.auth_file'"
            auth_source = _read_auth_file(auth_path, _display(auth_path, cwd), flag)
            auth, other = _parse_auth_block(auth_source, auth_source.data, "", "", auth_path.parent, top=True)
        else:
            block = _table(source, target, "auth", f"{prefix}target.")
            auth, other = _parse_auth_block(source, block, f"{prefix}target.auth.", "", base_dir, top=True)
    else:
        auth, other = AuthConfig(), None

    # -- TLS ------------------------------------------------------------------------------------------
    if ca_bundle is not None:
        bundle: Path | None = ca_bundle if ca_bundle.is_absolute() else cwd / ca_bundle
        assert bundle is not None
        if not bundle.is_file():
            raise UsageError(f"--ca-bundle: file not found: {ca_bundle}")
    elif "ca_bundle" in target:
        bundle = base_dir / str(file_value("ca_bundle", str, "a path to a PEM file"))
        if not bundle.is_file():
            assert source is not None
            source.fail(f"'{prefix}target.ca_bundle' file not found: {_display(bundle, cwd)}")
    else:
        bundle = None
    verify = file_value("verify_tls", bool, "true or false")

    # -- pacing and limits ----------------------------------------------------------------------------
    if rate is not None:
        try:
            per_second = parse_rate(rate)
        except ValueError as exc:
            raise UsageError(f"--rate: {exc}") from None
    elif "rate" in target:
        try:
            per_second = parse_rate(target["rate"])
        except ValueError as exc:
            assert source is not None
            source.fail(f"'{prefix}target.rate' {exc}")
    else:
        per_second = DEFAULT_RATE

    connect = _seconds(target, "connect_timeout", source, prefix) or DEFAULT_CONNECT_TIMEOUT
    read = _seconds(target, "read_timeout", source, prefix) or DEFAULT_READ_TIMEOUT
    total = _seconds(target, "total_timeout", source, prefix) or DEFAULT_TOTAL_TIMEOUT
    # A single timeout is the wall-clock cap per request; connect and read can only be shorter.
    single = _seconds(target, "timeout", source, prefix)
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout < math.inf:
            raise UsageError(f"--timeout: must be a positive number of seconds (got {timeout!r})")
        single = float(timeout)
    if single is not None:
        total = single
        connect = min(connect, single)
        read = min(read, single)

    export = _seconds(target, "export_timeout", source, prefix) or DEFAULT_EXPORT_TIMEOUT
    if export_timeout is not None:
        if (
            isinstance(export_timeout, bool)
            or not isinstance(export_timeout, (int, float))
            or not 0 < export_timeout < math.inf
        ):
            raise UsageError(
                f"--export-timeout: must be a positive number of seconds (got {export_timeout!r})"
            )
        export = float(export_timeout)
    body_limit = file_value("max_body_bytes", int, "a whole number of bytes")
    stream_limit = file_value("max_stream_bytes", int, "a whole number of bytes")
    failures = file_value("max_consecutive_failures", int, "a whole number (at least 1)")
    redirects = file_value("max_redirects", int, "a whole number (0 or more)")
    writes = bool(allow_writes or file_value("allow_writes", bool, "true or false"))
    sandbox = file_value("sandbox", bool, "true or false")

    # -- redaction ------------------------------------------------------------------------------------
    keys = _string_list(redaction, "keys", source, f"{prefix}redaction.")
    pointers = _string_list(redaction, "pointers", source, f"{prefix}redaction.")
    for pointer in pointers:
        if not pointer.startswith("/"):
            assert source is not None
            source.fail(
                f"'{prefix}redaction.pointers' entries must be JSON pointers starting with '/' (got {pointer!r})",
                hint="e.g. '/items/*/dateOfBirth'",
            )

    # Credentials never cross the network in clear text, except to this machine (loopback test servers).
    target_origin = origin_of(url)
    if (
        auth.kind is not AuthKind.NONE
        and target_origin.scheme == "http"
        and not is_loopback_host(target_origin.host)
    ):
        hint = "use https:// (credentials are only sent in clear text to loopback addresses)"
        if base_url:
            raise UsageError(f"--base-url: plain http:// cannot be used with credentials ({hint})")
        assert source is not None
        source.fail(f"'{prefix}target.base_url' uses plain http:// but credentials are configured", hint=hint)

    try:
        return TargetConfig(
            base_url=url,
            spec_url=spec if spec and "://" in spec else None,
            auth=auth,
            other_tenant=other,
            ca_bundle=bundle,
            verify_tls=True if verify is None else verify,
            rate_per_second=per_second,
            connect_timeout=connect,
            read_timeout=read,
            total_timeout=total,
            max_body_bytes=DEFAULT_MAX_BODY_BYTES if body_limit is None else body_limit,
            export_timeout=export,
            max_stream_bytes=DEFAULT_MAX_STREAM_BYTES if stream_limit is None else stream_limit,
            allow_writes=writes,
            plain_http_url=plain,
            extra_origins=tuple(extra),
            redact_keys=tuple(keys),
            redact_pointers=tuple(pointers),
            sandbox=sandbox,
            max_consecutive_failures=DEFAULT_MAX_CONSECUTIVE_FAILURES if failures is None else failures,
            max_redirects=DEFAULT_MAX_REDIRECTS if redirects is None else redirects,
        )
    except TargetError as exc:
        if source is None:
            raise
        raise TargetError(exc.message, source=source.name, hint=exc.hint) from None


def _flag_or_file_url(url: str, where: str, source: _Source | None) -> str:
    try:
        origin_of(url)
    except ValueError as exc:
        if where.startswith("--"):
            raise UsageError(
                f"{where}: must be an http(s) URL like https://api.example.com/v1 ({exc})"
            ) from None
        assert source is not None
        source.fail(f"'{where}' must be an http(s) URL like https://api.example.com/v1 ({exc})")
    return url


def _table(source: _Source, data: Mapping[str, Any], key: str, prefix: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        source.fail(f"'{prefix}{key}' must be a table (got {value!r})")
    return value


def _known_keys(
    source: _Source, data: Mapping[str, Any], allowed: tuple[str, ...], prefix: str, pointer: str
) -> None:
    """Refuse unknown fields (naming the closest known one) and literal secrets (naming where they belong)."""
    for key in data:
        if key in allowed:
            continue
        if key in _FORBIDDEN_SECRETS:
            source.fail(
                f"'{prefix}{key}' must not be written in the file: {_FORBIDDEN_SECRETS[key]}",
                f"{pointer}/{key}",
            )
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else f"known fields: {', '.join(allowed)}"
        source.fail(f"unknown field '{prefix}{key}'", f"{pointer}/{key}", hint)


def _seconds(target: Mapping[str, Any], key: str, source: _Source | None, prefix: str) -> float | None:
    if key not in target:
        return None
    value = target[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        assert source is not None
        source.fail(f"'{prefix}target.{key}' must be a positive number of seconds (got {value!r})")
    return float(value)


def _string_list(data: Mapping[str, Any], key: str, source: _Source | None, prefix: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        assert source is not None
        source.fail(f"'{prefix}{key}' must be a list of non-empty strings (got {value!r})")
    return list(value)


def _parse_auth_block(
    source: _Source, block: Mapping[str, Any], prefix: str, pointer: str, base_dir: Path, *, top: bool
) -> tuple[AuthConfig, AuthConfig | None]:
    """One auth mapping (and, at the top level, its ``other_tenant`` block).

    ``prefix`` spells fields in messages (``target.auth.``); ``pointer`` finds YAML line numbers.
    """

    def where(key: str) -> str:
        return f"{pointer}/{key}"

    allowed = _AUTH_KEYS if top else tuple(k for k in _AUTH_KEYS if k != "other_tenant")
    _known_keys(source, block, allowed, prefix, pointer)

    def text(key: str) -> str | None:
        if key not in block:
            return None
        value = block[key]
        if not isinstance(value, str) or not value.strip():
            source.fail(f"'{prefix}{key}' must be a non-empty string (got {value!r})", where(key))
        return value.strip()

    kind_text = text("type")
    if kind_text is None:
        source.fail(f"'{prefix}type' is required: one of client_credentials, bearer, none", where("type"))
    try:
        kind = AuthKind(kind_text.lower())
    except ValueError:
        source.fail(
            f"'{prefix}type' must be one of client_credentials, bearer, none (got {kind_text!r})",
            where("type"),
        )

    def path(key: str) -> Path | None:
        value = text(key)
        if value is None:
            return None
        resolved = Path(value).expanduser()
        resolved = resolved if resolved.is_absolute() else base_dir / resolved
        if not resolved.is_file():
            source.fail(f"'{prefix}{key}' file not found: {resolved}", where(key))
        return resolved

    def secret(env_key: str, file_key: str, needed: bool) -> Secret | None:
        env_name, file_name = text(env_key), text(file_key)
        if not needed:
            for key in (env_key, file_key):
                if key in block:
                    source.fail(f"'{prefix}{key}' is not used with type: {kind.value}", where(key))
            return None
        if env_name and file_name:
            source.fail(
                f"'{prefix}{env_key}' and '{prefix}{file_key}' are mutually exclusive", where(file_key)
            )
        if not env_name and not file_name:
            source.fail(f"'{prefix}{env_key}' or '{prefix}{file_key}' is required for type: {kind.value}")
        try:
            if env_name:
                return secret_from_env(env_name)
            secret_path = path(file_key)
            assert secret_path is not None
            return secret_from_file(secret_path)
        except TargetError as exc:
            key = env_key if env_name else file_key
            source.fail(f"'{prefix}{key}': {exc.one_line()}", where(key))

    cc = kind is AuthKind.CLIENT_CREDENTIALS
    for key in ("token_url", "client_id", "scopes", "token_auth_method"):
        if key in block and not cc:
            source.fail(f"'{prefix}{key}' is only used with type: client_credentials", where(key))
    token_url = text("token_url")
    client_id = text("client_id")
    if cc and not token_url:
        source.fail(f"'{prefix}token_url' is required for type: client_credentials", where("token_url"))
    if cc and not client_id:
        source.fail(f"'{prefix}client_id' is required for type: client_credentials", where("client_id"))
    if token_url:
        try:
            token_origin = origin_of(token_url)
        except ValueError as exc:
            source.fail(f"'{prefix}token_url' must be an https URL ({exc})", where("token_url"))
        if token_origin.scheme == "http" and not is_loopback_host(token_origin.host):
            source.fail(
                f"'{prefix}token_url' must use https:// (got {token_url!r})",
                where("token_url"),
                hint="the client secret is only sent in clear text to loopback addresses",
            )
    scopes_value = block.get("scopes", [])
    if isinstance(scopes_value, str):
        scopes_value = scopes_value.split()
    if not isinstance(scopes_value, list) or not all(isinstance(s, str) and s for s in scopes_value):
        source.fail(f"'{prefix}scopes' must be a list of scope names (got {scopes_value!r})", where("scopes"))
    method_text = text("token_auth_method") or TokenAuthMethod.CLIENT_SECRET_BASIC.value
    try:
        method = TokenAuthMethod(method_text)
    except ValueError:
        source.fail(
            f"'{prefix}token_auth_method' must be client_secret_basic or client_secret_post (got {method_text!r})",
            where("token_auth_method"),
        )
    client_secret = secret("client_secret_env", "client_secret_file", cc)
    bearer = secret("bearer_env", "bearer_file", kind is AuthKind.BEARER)
    cert = path("client_cert")
    key_path = path("client_key")
    if key_path is not None and cert is None:
        source.fail(f"'{prefix}client_key' needs '{prefix}client_cert'", where("client_key"))

    config = AuthConfig(
        kind=kind,
        token_url=token_url,
        client_id=client_id,
        client_secret=client_secret,
        scopes=tuple(scopes_value),
        token_auth_method=method,
        bearer=bearer,
        client_cert=cert,
        client_key=key_path,
    )
    other: AuthConfig | None = None
    if top and "other_tenant" in block:
        nested = block["other_tenant"]
        if not isinstance(nested, dict):
            source.fail(f"'{prefix}other_tenant' must be a mapping like the top level", where("other_tenant"))
        other, _ = _parse_auth_block(
            source, nested, f"{prefix}other_tenant.", f"{pointer}/other_tenant", base_dir, top=False
        )
    return config, other
