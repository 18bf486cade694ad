"""Target configuration: flags, auth files (YAML/TOML), conformance.toml and [tool.conformance]; bad input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance.errors import TargetError, UsageError
from conformance.live import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_RATE,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_TOTAL_TIMEOUT,
    AuthKind,
    Secret,
    SecretFileWarning,
    TargetConfig,
    TokenAuthMethod,
    has_live_target,
    load_target_config,
    origin_of,
    parse_rate,
    secret_from_env,
    secret_from_file,
)

BASE = "https://api.example.police.uk/v1"


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOP_SECRET", "s3cret-from-env-value")
    monkeypatch.setenv("IOP_OTHER_SECRET", "other-tenant-secret-value")
    monkeypatch.setenv("IOP_BEARER", "static-bearer-value-123")


def write(folder: Path, name: str, text: str, mode: int = 0o600) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def load(tmp_path: Path, **kwargs: object) -> TargetConfig:
    arguments: dict[str, object] = {"base_url": BASE, "auth_file": None, "cwd": tmp_path}
    arguments.update(kwargs)
    return load_target_config(**arguments)  # type: ignore[arg-type]


# -- secrets ------------------------------------------------------------------------------------------
def test_secret_is_masked_everywhere() -> None:
    secret = Secret("hunter2-long-value", source="env:X")
    for text in (repr(secret), str(secret), f"{secret}", f"{secret!r}", repr([secret])):
        assert "hunter2" not in text
    assert repr(secret) == "Secret('***', source='env:X')"
    assert secret.reveal() == "hunter2-long-value"
    with pytest.raises(AttributeError):
        secret.source = "x"  # type: ignore[misc]
    import pickle

    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(secret)


def test_secret_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    assert secret_from_env("IOP_SECRET").source == "env:IOP_SECRET"
    monkeypatch.delenv("IOP_MISSING", raising=False)
    with pytest.raises(TargetError, match=r"^environment variable IOP_MISSING is not set or empty \(export"):
        secret_from_env("IOP_MISSING")


def test_secret_file_permissions_warn(tmp_path: Path) -> None:
    private = write(tmp_path, "private", "value-one\n")
    assert secret_from_file(private).reveal() == "value-one"
    shared = write(tmp_path, "shared", "value-two", mode=0o644)
    with pytest.warns(SecretFileWarning, match=r"readable by other users \(mode 644\): chmod 600"):
        assert secret_from_file(shared).reveal() == "value-two"
    with pytest.raises(TargetError, match="secret file not found"):
        secret_from_file(tmp_path / "absent")
    with pytest.raises(TargetError, match="secret file is empty"):
        secret_from_file(write(tmp_path, "empty", "\n"))


def test_config_repr_never_shows_secrets(tmp_path: Path) -> None:
    auth = write(
        tmp_path,
        "auth.yaml",
        "type: client_credentials\ntoken_url: https://idp.example.com/token\nclient_id: c\n"
        "client_secret_env: IOP_SECRET\n",
    )
    config = load(tmp_path, auth_file=auth)
    assert "s3cret" not in repr(config)
    assert "Secret('***', source='env:IOP_SECRET')" in repr(config)


# -- flags and defaults -------------------------------------------------------------------------------
def test_defaults(tmp_path: Path) -> None:
    config = load(tmp_path)
    assert config.base_url == BASE
    assert config.auth.kind is AuthKind.NONE
    assert config.rate_per_second == DEFAULT_RATE
    assert (config.connect_timeout, config.read_timeout, config.total_timeout) == (
        DEFAULT_CONNECT_TIMEOUT,
        DEFAULT_READ_TIMEOUT,
        DEFAULT_TOTAL_TIMEOUT,
    )
    assert config.verify_tls is True
    assert config.allow_writes is False
    assert config.effective_plain_http_url == "http://api.example.police.uk/v1"
    assert origin_of("http://api.example.police.uk") in config.allowed_origins


def test_flags(tmp_path: Path) -> None:
    ca = write(tmp_path, "ca.pem", "pem")
    config = load(
        tmp_path,
        spec_url="https://api.example.police.uk/openapi.json",
        ca_bundle=Path("ca.pem"),
        rate="120/m",
        timeout=3,
        allow_writes=True,
    )
    assert config.spec_url == "https://api.example.police.uk/openapi.json"
    assert config.ca_bundle == ca
    assert config.rate_per_second == 2.0
    assert (config.connect_timeout, config.read_timeout, config.total_timeout) == (3.0, 3.0, 3.0)
    assert config.allow_writes


def test_spec_path_is_not_a_spec_url(tmp_path: Path) -> None:
    assert load(tmp_path, spec_url="openapi.yaml").spec_url is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("5", 5.0), ("5/s", 5.0), ("30/m", 0.5), ("2.5/sec", 2.5), ("0", 0.0), (7, 7.0), (" 60 / min ", 1.0)],
)
def test_parse_rate(text: str | float, expected: float) -> None:
    assert parse_rate(text) == expected


@pytest.mark.parametrize("text", ["fast", "-1", "5/h", "", "1e3", "/s"])
def test_parse_rate_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="must be N/s, N/m or a number per second"):
        parse_rate(text)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rate": "fast"}, "--rate: must be N/s, N/m or a number per second (got 'fast')"),
        ({"timeout": 0}, "--timeout: must be a positive number of seconds (got 0)"),
        ({"base_url": "ftp://x"}, "--base-url: must be an http(s) URL like https://api.example.com/v1"),
        (
            {"base_url": None},
            "no live target: pass --base-url URL or set target.base_url in conformance.toml",
        ),
        ({"ca_bundle": Path("missing.pem")}, "--ca-bundle: file not found: missing.pem"),
        ({"auth_file": Path("missing.yaml")}, "--auth: file not found:"),
        ({"config_file": Path("missing.toml")}, "--config: file not found:"),
    ],
)
def test_bad_flags(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError) as caught:
        load(tmp_path, **kwargs)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_credentials_never_over_plain_http(tmp_path: Path) -> None:
    auth = write(tmp_path, "auth.yaml", "type: bearer\nbearer_env: IOP_BEARER\n")
    with pytest.raises(UsageError, match=r"--base-url: plain http:// cannot be used with credentials"):
        load(tmp_path, base_url="http://api.example.com", auth_file=auth)
    # Loopback test servers are the exception.
    assert load(tmp_path, base_url="http://127.0.0.1:8080", auth_file=auth).auth.kind is AuthKind.BEARER


# -- auth files ---------------------------------------------------------------------------------------
CLIENT_CREDENTIALS_YAML = """\
type: client_credentials
token_url: https://idp.example.com/oauth2/token
client_id: harness
client_secret_env: IOP_SECRET
scopes: [read, write]
token_auth_method: client_secret_post
client_cert: client.pem
client_key: client.key
other_tenant:
  type: client_credentials
  token_url: https://idp.example.com/oauth2/token
  client_id: tenant-b
  client_secret_file: other.secret
  scopes: read
"""


def test_auth_yaml_client_credentials(tmp_path: Path) -> None:
    write(tmp_path, "client.pem", "cert")
    write(tmp_path, "client.key", "key")
    write(tmp_path, "other.secret", "file-secret-value\n")
    auth_file = write(tmp_path, "auth.yaml", CLIENT_CREDENTIALS_YAML)
    config = load(tmp_path, auth_file=auth_file)
    auth = config.auth
    assert auth.kind is AuthKind.CLIENT_CREDENTIALS
    assert auth.token_url == "https://idp.example.com/oauth2/token"
    assert auth.client_id == "harness"
    assert auth.client_secret is not None
    assert auth.client_secret.reveal() == "s3cret-from-env-value"
    assert auth.scopes == ("read", "write")
    assert auth.token_auth_method is TokenAuthMethod.CLIENT_SECRET_POST
    assert auth.client_cert == tmp_path / "client.pem"
    assert auth.client_key == tmp_path / "client.key"
    other = config.other_tenant
    assert other is not None
    assert other.client_id == "tenant-b"
    assert other.scopes == ("read",)
    assert other.client_secret is not None
    assert other.client_secret.reveal() == "file-secret-value"
    # The token URL's origin is allowed automatically.
    assert origin_of("https://idp.example.com") in config.allowed_origins


def test_auth_toml_bearer(tmp_path: Path) -> None:
    auth_file = write(tmp_path, "auth.toml", 'type = "bearer"\nbearer_env = "IOP_BEARER"\n')
    config = load(tmp_path, auth_file=auth_file)
    assert config.auth.kind is AuthKind.BEARER
    assert config.auth.bearer is not None
    assert config.auth.bearer.reveal() == "static-bearer-value-123"


def test_auth_none_with_mtls(tmp_path: Path) -> None:
    write(tmp_path, "both.pem", "cert and key")
    auth_file = write(tmp_path, "auth.yaml", "type: none\nclient_cert: both.pem\n")
    config = load(tmp_path, auth_file=auth_file)
    assert config.auth.kind is AuthKind.NONE
    assert config.auth.client_cert == tmp_path / "both.pem"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "type: client_credentials\nclient_secret: abc\n",
            "auth.yaml:2: 'client_secret' must not be written in the file: use client_secret_env or client_secret_file",
        ),
        (
            "type: bearer\ntoken: abc\n",
            "auth.yaml:2: 'token' must not be written in the file: use bearer_env or bearer_file",
        ),
        (
            "type: bearer\nbearer: abc\n",
            "auth.yaml:2: 'bearer' must not be written in the file: use bearer_env",
        ),
        ("client_id: x\n", "auth.yaml: 'type' is required: one of client_credentials, bearer, none"),
        ("type: saml\n", "auth.yaml:1: 'type' must be one of client_credentials, bearer, none (got 'saml')"),
        (
            "type: client_credentials\nclient_id: x\nclient_secret_env: IOP_SECRET\n",
            "auth.yaml: 'token_url' is required for type: client_credentials",
        ),
        (
            "type: client_credentials\ntoken_url: https://i/t\nclient_secret_env: IOP_SECRET\n",
            "auth.yaml: 'client_id' is required for type: client_credentials",
        ),
        (
            "type: client_credentials\ntoken_url: https://i/t\nclient_id: x\n",
            "auth.yaml: 'client_secret_env' or 'client_secret_file' is required for type: client_credentials",
        ),
        (
            "type: client_credentials\ntoken_url: http://idp.example.com/t\nclient_id: x\nclient_secret_env: IOP_SECRET\n",
            "auth.yaml:2: 'token_url' must use https:// (got 'http://idp.example.com/t')",
        ),
        (
            "type: client_credentials\ntoken_url: https://i/t\nclient_id: x\nclient_secret_env: IOP_NOPE\n",
            "auth.yaml:4: 'client_secret_env': environment variable IOP_NOPE is not set or empty",
        ),
        (
            "type: client_credentials\ntoken_url: https://i/t\nclient_id: x\nclient_secret_env: IOP_SECRET\n"
            "client_secret_file: s\n",
            "auth.yaml:5: 'client_secret_env' and 'client_secret_file' are mutually exclusive",
        ),
        (
            "type: client_credentials\ntoken_url: https://i/t\nclient_id: x\nclient_secret_env: IOP_SECRET\n"
            "token_auth_method: jwt\n",
            "auth.yaml:5: 'token_auth_method' must be client_secret_basic or client_secret_post (got 'jwt')",
        ),
        (
            "type: client_credentials\ntoken_url: https://i/t\nclient_id: x\nclient_secret_env: IOP_SECRET\n"
            "scopes: [1]\n",
            "auth.yaml:5: 'scopes' must be a list of scope names (got [1])",
        ),
        ("type: bearer\n", "auth.yaml: 'bearer_env' or 'bearer_file' is required for type: bearer"),
        (
            "type: none\ntoken_url: https://i/t\n",
            "auth.yaml:2: 'token_url' is only used with type: client_credentials",
        ),
        ("type: none\nbearer_env: IOP_BEARER\n", "auth.yaml:2: 'bearer_env' is not used with type: none"),
        ("type: none\nclient_cert: nope.pem\n", "auth.yaml:2: 'client_cert' file not found:"),
        (
            "type: bearer\nbearer_env: IOP_BEARER\nscope: [a]\n",
            "auth.yaml:3: unknown field 'scope' (did you mean 'scopes'?)",
        ),
        (
            "type: bearer\nbearer_env: IOP_BEARER\nother_tenant:\n  type: bearer\n  token: x\n",
            "auth.yaml:5: 'other_tenant.token' must not be written in the file: use bearer_env or bearer_file",
        ),
        (
            "type: bearer\nbearer_env: IOP_BEARER\nother_tenant:\n  type: bearer\n  bearer_env: IOP_BEARER\n"
            "  other_tenant: {}\n",
            "auth.yaml:6: unknown field 'other_tenant.other_tenant'",
        ),
        ("- a list\n", "auth.yaml: an auth file must be a mapping with a 'type' field"),
        ("type: [unclosed\n", "auth.yaml:2: malformed YAML"),
    ],
)
def test_bad_auth_yaml(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, "s", "file-secret")
    write(tmp_path, "auth.yaml", text)
    with pytest.raises(TargetError) as caught:
        load(tmp_path, auth_file=Path("auth.yaml"))
    assert str(caught.value).startswith(message), str(caught.value)
    assert "\n" not in str(caught.value)
    assert "abc" not in str(caught.value)  # a mistyped secret is never echoed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'type = "client_credentials"\nclient_secret = "abc"\n',
            "auth.toml: 'client_secret' must not be written",
        ),
        ('type = "bearer"\nbearer_env = 5\n', "auth.toml: 'bearer_env' must be a non-empty string (got 5)"),
        ("type = \n", "auth.toml: malformed TOML"),
    ],
)
def test_bad_auth_toml(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, "auth.toml", text)
    with pytest.raises(TargetError) as caught:
        load(tmp_path, auth_file=Path("auth.toml"))
    assert str(caught.value).startswith(message), str(caught.value)


# -- configuration files ------------------------------------------------------------------------------
CONFORMANCE_TOML = """\
[target]
base_url = "https://file.example.com/api"
spec_url = "https://file.example.com/openapi.json"
rate = "30/m"
timeout = 4
read_timeout = 2
ca_bundle = "certs/ca.pem"
allow_writes = true
sandbox = true
extra_origins = ["https://cdn.example.com"]
plain_http_url = "http://file.example.com:8080/api"
max_body_bytes = 1024
max_consecutive_failures = 2
max_redirects = 1

[target.auth]
type = "client_credentials"
token_url = "https://idp.example.com/token"
client_id = "from-file"
client_secret_env = "IOP_SECRET"
scopes = ["read"]

[redaction]
keys = ["dateOfBirth"]
pointers = ["/items/*/name"]

[report]
ignored = "tables other than target and redaction belong to other parts of the tool"
"""


def test_conformance_toml(tmp_path: Path) -> None:
    (tmp_path / "certs").mkdir()
    write(tmp_path / "certs", "ca.pem", "pem")
    write(tmp_path, "conformance.toml", CONFORMANCE_TOML)
    assert has_live_target(base_url=None, cwd=tmp_path)
    config = load(tmp_path, base_url=None)
    assert config.base_url == "https://file.example.com/api"
    assert config.spec_url == "https://file.example.com/openapi.json"
    assert config.rate_per_second == 0.5
    assert (config.connect_timeout, config.read_timeout, config.total_timeout) == (4.0, 2.0, 4.0)
    assert config.ca_bundle == tmp_path / "certs" / "ca.pem"
    assert config.allow_writes
    assert config.sandbox is True
    assert config.max_body_bytes == 1024
    assert config.max_consecutive_failures == 2
    assert config.max_redirects == 1
    assert config.auth.client_id == "from-file"
    assert config.redact_keys == ("dateOfBirth",)
    assert config.redact_pointers == ("/items/*/name",)
    allowed = {str(o) for o in config.allowed_origins}
    assert allowed == {
        "https://file.example.com",
        "http://file.example.com:8080",
        "https://cdn.example.com",
        "https://idp.example.com",
    }


def test_flags_win_over_files(tmp_path: Path) -> None:
    (tmp_path / "certs").mkdir()
    write(tmp_path / "certs", "ca.pem", "pem")
    write(tmp_path, "conformance.toml", CONFORMANCE_TOML)
    auth = write(tmp_path, "auth.yaml", "type: bearer\nbearer_env: IOP_BEARER\n")
    config = load(tmp_path, base_url="https://flag.example.com", rate=1, timeout=9, auth_file=auth)
    assert config.base_url == "https://flag.example.com"
    assert config.rate_per_second == 1.0
    assert config.total_timeout == 9.0
    assert config.read_timeout == 2.0  # the file's shorter read timeout still applies
    assert config.auth.kind is AuthKind.BEARER  # the auth file replaces [target.auth] as a whole


def test_pyproject_table(tmp_path: Path) -> None:
    write(
        tmp_path,
        "pyproject.toml",
        '[project]\nname = "x"\n\n[tool.conformance.target]\nbase_url = "https://py.example.com"\nrate = 3\n'
        '\n[tool.conformance.redaction]\nkeys = ["nino"]\n',
    )
    config = load(tmp_path, base_url=None)
    assert config.base_url == "https://py.example.com"
    assert config.rate_per_second == 3.0
    assert config.redact_keys == ("nino",)


def test_pyproject_without_our_table_is_ignored(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[project]\nname = "x"\n')
    assert not has_live_target(base_url=None, cwd=tmp_path)
    assert load(tmp_path).base_url == BASE


def test_config_file_is_only_looked_for_in_cwd(tmp_path: Path) -> None:
    write(tmp_path, "conformance.toml", '[target]\nbase_url = "https://parent.example.com"\n')
    child = tmp_path / "child"
    child.mkdir()
    assert not has_live_target(base_url=None, cwd=child)


def test_explicit_config_file_and_auth_file_reference(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    write(tmp_path / "conf", "auth.yaml", "type: bearer\nbearer_env: IOP_BEARER\n")
    write(
        tmp_path / "conf",
        "live.toml",
        '[target]\nbase_url = "https://x.example.com"\nauth_file = "auth.yaml"\n',
    )
    config = load(tmp_path, base_url=None, config_file=Path("conf/live.toml"))
    assert config.auth.kind is AuthKind.BEARER


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[target]\nbase_url = "https://x"\nrate = "fast"\n',
            "conformance.toml: 'target.rate' must be N/s, N/m",
        ),
        (
            '[target]\nbase_url = "https://x"\ntimeout = -1\n',
            "conformance.toml: 'target.timeout' must be a positive number of seconds (got -1)",
        ),
        (
            '[target]\nbase_url = "https://x"\nverify_tls = "no"\n',
            "conformance.toml: 'target.verify_tls' must be true or false (got 'no')",
        ),
        (
            '[target]\nbase_url = "https://x"\nmax_body_bytes = true\n',
            "conformance.toml: 'target.max_body_bytes' must be a whole number of bytes (got True)",
        ),
        (
            '[target]\nbase_url = "https://x"\nbase_ulr = "y"\n',
            "conformance.toml: unknown field 'target.base_ulr' (did you mean 'base_url'?)",
        ),
        (
            '[target]\nbase_url = "https://x"\ntoken = "y"\n',
            "conformance.toml: 'target.token' must not be written in the file: use bearer_env or bearer_file",
        ),
        ('[target]\nbase_url = "nope"\n', "conformance.toml: 'target.base_url' must be an http(s) URL"),
        (
            '[target]\nbase_url = "https://x"\nca_bundle = "none.pem"\n',
            "conformance.toml: 'target.ca_bundle' file not found:",
        ),
        (
            '[target]\nbase_url = "https://x"\nextra_origins = "https://y"\n',
            "conformance.toml: 'target.extra_origins' must be a list of origins",
        ),
        (
            '[target]\nbase_url = "https://x"\nextra_origins = ["mailto:a"]\n',
            "conformance.toml: 'extra_origins' must be an http(s) URL",
        ),
        (
            '[target]\nbase_url = "https://x"\nmax_consecutive_failures = 0\n',
            "conformance.toml: 'max_consecutive_failures' must be at least 1 (got 0)",
        ),
        (
            '[target]\nbase_url = "https://u:p@x"\n',
            "conformance.toml: 'base_url' must not carry credentials in the URL (use an auth file)",
        ),
        ("target = 3\n", "conformance.toml: 'target' must be a table (got 3)"),
        (
            '[target]\nbase_url = "https://x"\n[target.auth]\ntype = "bearer"\nbearer = "abc"\n',
            "conformance.toml: 'target.auth.bearer' must not be written in the file: use bearer_env",
        ),
        (
            '[target]\nbase_url = "https://x"\n[redaction]\npointers = ["items/name"]\n',
            "conformance.toml: 'redaction.pointers' entries must be JSON pointers starting with '/' (got 'items/name') (e.g. '/items/*/dateOfBirth')",
        ),
        (
            '[target]\nbase_url = "https://x"\n[redaction]\nkeys = "nino"\n',
            "conformance.toml: 'redaction.keys' must be a list of non-empty strings (got 'nino')",
        ),
        (
            '[target]\nbase_url = "https://x"\n[redaction]\nfields = []\n',
            "conformance.toml: unknown field 'redaction.fields' (known fields: keys, pointers)",
        ),
        (
            '[target]\nbase_url = "http://x.example.com"\n[target.auth]\ntype = "bearer"\nbearer_env = "IOP_BEARER"\n',
            "conformance.toml: 'target.base_url' uses plain http:// but credentials are configured",
        ),
        ("[target\n", "conformance.toml: malformed TOML"),
    ],
)
def test_bad_conformance_toml(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, "conformance.toml", text)
    with pytest.raises(TargetError) as caught:
        load(tmp_path, base_url=None)
    assert str(caught.value).startswith(message), str(caught.value)
    assert "\n" not in str(caught.value)


def test_bad_pyproject_names_the_table(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[tool.conformance.target]\nbase_url = "https://x"\nrate = "often"\n')
    with pytest.raises(
        TargetError, match=re.escape("pyproject.toml: 'tool.conformance.target.rate' must be")
    ):
        load(tmp_path, base_url=None)
