"""Redaction: by name (headers, query, JSON members, form fields, pointers) and by known value."""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import quote, quote_plus

import orjson
import pytest

from conformance.live import REDACTED, AuthConfig, AuthKind, EvidenceRecorder, Redactor, Secret, TargetConfig

SECRET = "cl1ent-s3cret/with+odd=chars"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"


def redactor(**overrides: object) -> Redactor:
    config = TargetConfig(
        base_url="https://api.example.com",
        auth=AuthConfig(
            kind=AuthKind.CLIENT_CREDENTIALS,
            token_url="https://idp.example.com/token",
            client_id="harness id",
            client_secret=Secret(SECRET, source="test"),
        ),
        **overrides,  # type: ignore[arg-type]
    )
    return Redactor(config)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("Authorization", f"Bearer {TOKEN}", f"Bearer {REDACTED}"),
        ("authorization", "Basic dXNlcjpwYXNz", f"Basic {REDACTED}"),
        ("Proxy-Authorization", "opaque", REDACTED),
        ("Cookie", "sid=abc; theme=dark", f"sid={REDACTED}; theme={REDACTED}"),
        ("Set-Cookie", "sid=abc; Path=/; Secure; HttpOnly", f"sid={REDACTED}; Path=/; Secure; HttpOnly"),
        ("X-API-Key", "k-123", REDACTED),
        ("X-Session-Id", "s-1", REDACTED),
        ("X-Amz-Signature", "sig", REDACTED),
        ("X-Client-Credential", "c", REDACTED),
        ("WWW-Authenticate", 'Bearer error="invalid_token"', 'Bearer error="invalid_token"'),
        ("Access-Control-Allow-Credentials", "true", "true"),
        ("Content-Type", "application/json", "application/json"),
        ("Location", "https://x/cb?code=abc&state=1", f"https://x/cb?code={REDACTED}&state=1"),
    ],
)
def test_headers(name: str, value: str, expected: str) -> None:
    assert redactor().redact_header(name, value) == expected


def test_configured_keys_apply_to_headers_and_query() -> None:
    r = redactor(redact_keys=("X-Officer-Number",))
    assert r.redact_header("x-officer-number", "1234") == REDACTED
    assert r.redact_url("https://x/p?x-officer-number=1") == f"https://x/p?x-officer-number={REDACTED}"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x/p?access_token=abc&page=2", f"https://x/p?access_token={REDACTED}&page=2"),
        ("https://x/p?api_key=abc", f"https://x/p?api_key={REDACTED}"),
        ("https://x/p?code=abc&assertion=z", f"https://x/p?code={REDACTED}&assertion={REDACTED}"),
        ("https://x/p?client_secret=abc", f"https://x/p?client_secret={REDACTED}"),
        ("https://x/p?Pass%77ord=abc", f"https://x/p?Pass%77ord={REDACTED}"),
        ("https://x/cb#access_token=abc&x=1", f"https://x/cb#access_token={REDACTED}&x=1"),
        ("https://user:pw@x/p", f"https://{REDACTED}@x/p"),
        ("https://x/p?q=persons&limit=5", "https://x/p?q=persons&limit=5"),
        (f"https://x/p?q={quote(SECRET, safe='')}", f"https://x/p?q={REDACTED}"),
        (f"https://x/p?q={quote_plus(SECRET)}", f"https://x/p?q={REDACTED}"),
        (f"https://x/{SECRET}", f"https://x/{REDACTED}"),
    ],
)
def test_urls(url: str, expected: str) -> None:
    assert redactor().redact_url(url) == expected


def test_json_bodies_by_marker_and_configured_key() -> None:
    body = orjson.dumps(
        {
            "access_token": TOKEN,
            "token_type": "Bearer",
            "expires_in": 300,
            "user": {"password": "pw", "name": "Jo", "dateOfBirth": "1990-01-01", "Passwd": 1},
            "items": [{"apiKey": "k"}, {"note": "fine"}],
        }
    )
    out = orjson.loads(redactor(redact_keys=("dateofbirth",)).redact_body(body, "application/json"))
    assert out == {
        "access_token": REDACTED,
        "token_type": "Bearer",
        "expires_in": 300,
        "user": {"password": REDACTED, "name": "Jo", "dateOfBirth": REDACTED, "Passwd": REDACTED},
        "items": [{"apiKey": REDACTED}, {"note": "fine"}],
    }


def test_json_pointers_with_wildcards() -> None:
    r = redactor(redact_pointers=("/items/*/name", "/meta/officer", "/items/0/id", "/a~1b"))
    body = orjson.dumps(
        {"items": [{"id": 1, "name": "A"}, {"id": 2, "name": "B"}], "meta": {"officer": "x"}, "a/b": 3}
    )
    out = orjson.loads(r.redact_body(body, "application/problem+json"))
    assert out == {
        "items": [{"id": REDACTED, "name": REDACTED}, {"id": 2, "name": REDACTED}],
        "meta": {"officer": REDACTED},
        "a/b": REDACTED,
    }


def test_json_without_sensitive_content_is_kept_byte_for_byte() -> None:
    body = b'{ "items" : [1, 2.50, "x"] }'
    assert redactor().redact_body(body, "application/json") is body


def test_json_escapes_cannot_hide_a_marker_or_a_secret() -> None:
    body = b'{"\\u0074oken": "x", "echo": "' + SECRET.replace("/", "\\/").encode() + b'"}'
    out = orjson.loads(redactor().redact_body(body, "application/json"))
    assert out == {"token": REDACTED, "echo": REDACTED}


def test_invalid_or_truncated_json_is_still_redacted() -> None:
    body = b'{"name": "x", "password": "hunter2", "refresh_token": "abc'
    out = redactor().redact_body(body, "application/json")
    assert b"hunter2" not in out
    assert b"abc" not in out
    assert b'"name": "x"' in out


def test_json_without_json_content_type() -> None:
    out = redactor().redact_body(b'{"secret": "s"}', "text/html")
    assert orjson.loads(out) == {"secret": REDACTED}


def test_form_bodies() -> None:
    body = f"grant_type=client_credentials&client_id=h&client_secret={quote_plus(SECRET)}&scope=read&code=c".encode()
    out = redactor().redact_body(body, "application/x-www-form-urlencoded; charset=utf-8").decode()
    assert (
        out
        == f"grant_type=client_credentials&client_id=h&client_secret={REDACTED}&scope=read&code={REDACTED}"
    )


@pytest.mark.parametrize(
    "spelling",
    [
        SECRET,
        quote(SECRET, safe=""),
        quote(SECRET, safe="").lower(),
        quote_plus(SECRET),
        base64.b64encode(SECRET.encode()).decode(),
        base64.urlsafe_b64encode(SECRET.encode()).decode().rstrip("="),
        orjson.dumps(SECRET).decode()[1:-1],
    ],
)
def test_known_values_in_any_text(spelling: str) -> None:
    r = redactor()
    assert spelling not in r.redact_text(f"before {spelling} after")
    assert spelling.encode() not in r.redact_bytes(b"\x00\xff" + spelling.encode() + b"\x01")


def test_basic_auth_forms_of_the_client_credentials() -> None:
    r = redactor()
    for pair in (f"harness id:{SECRET}", f"{quote_plus('harness id')}:{quote_plus(SECRET)}"):
        encoded = base64.b64encode(pair.encode()).decode()
        assert r.redact_text(f"echo: Basic {encoded}") == f"echo: Basic {REDACTED}"


def test_tokens_registered_at_run_time() -> None:
    r = redactor()
    assert TOKEN in r.redact_text(TOKEN)
    r.register_secret(TOKEN)
    assert r.redact_text(f"x{TOKEN}y") == f"x{REDACTED}y"
    assert r.redact_url(f"https://x/p?t={TOKEN}") == f"https://x/p?t={REDACTED}"


def test_short_values_are_not_replaced_everywhere() -> None:
    r = redactor()
    r.register_secret("abc")
    assert r.redact_text("abc abc") == "abc abc"
    assert r.redact_header("Authorization", "Bearer abc") == f"Bearer {REDACTED}"


def test_recorder_redacts_before_truncating_and_hashing(tmp_path: Path) -> None:
    """The evidence body is redacted first; the SHA-256 kept for a cut body is that of the redacted body."""
    import hashlib

    r = redactor()
    recorder = EvidenceRecorder(tmp_path, r, body_limit=32)
    body = (b"x" * 40) + SECRET.encode()
    record = recorder.body(body, "text/plain")
    redacted = b"x" * 40 + REDACTED.encode()
    assert record == {
        "size": len(body),
        "encoding": "utf-8",
        "content": "x" * 32,
        "truncated": True,
        "sha256": hashlib.sha256(redacted).hexdigest(),
    }


def test_recorder_binary_bodies(tmp_path: Path) -> None:
    r = redactor()
    recorder = EvidenceRecorder(tmp_path, r)
    body = b"\xff\xfe" + SECRET.encode()
    record = recorder.body(body, "application/octet-stream")
    assert record["encoding"] == "base64"
    assert base64.b64decode(record["content"]) == b"\xff\xfe" + REDACTED.encode()


def test_redact_json_returns_a_copy() -> None:
    doc = {"password": "p", "items": [{"name": "A"}]}
    r = redactor(redact_pointers=("/items/*/name",))
    assert r.redact_json(doc) == {"password": REDACTED, "items": [{"name": REDACTED}]}
    assert doc == {"password": "p", "items": [{"name": "A"}]}
