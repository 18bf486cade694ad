"""Full live runs through the CLI: scope, writes, the secret canary, and targets that do not behave."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import main
from conformance.reference import REFERENCE_SPEC
from conformance.reference.server import ReferenceServer

SECRET_ENV = "CONFORMANCE_TEST_CLIENT_SECRET"
OTHER_SECRET_ENV = "CONFORMANCE_TEST_OTHER_TENANT_SECRET"
PEER_SECRET_ENV = "CONFORMANCE_TEST_PEER_SECRET"
# `conformance run` of the core profile on the reference document; each test adds its own options.
RUN_REFERENCE = ("run", "--profile", "interop-pol-core", "--spec", str(REFERENCE_SPEC))


@pytest.fixture(scope="module")
def server() -> Iterator[ReferenceServer]:
    with ReferenceServer(rate_limit_per_minute=100_000) as running:
        yield running


def _auth_file(
    folder: Path, server: ReferenceServer, *, secret_env: str = SECRET_ENV, name: str = "auth.yaml"
) -> Path:
    """Force A's client; force B's as the other tenant (its secret in ``OTHER_SECRET_ENV``)."""
    client, other = server.clients["force-a"], server.clients["force-b"]
    path = folder / name
    path.write_text(
        "type: client_credentials\n"
        f"token_url: {server.token_url}\n"
        f"client_id: {client.client_id}\n"
        f"client_secret_env: {secret_env}\n"
        f"scopes: [{', '.join(client.scopes)}]\n"
        "other_tenant:\n"
        "  type: client_credentials\n"
        f"  token_url: {server.token_url}\n"
        f"  client_id: {other.client_id}\n"
        f"  client_secret_env: {OTHER_SECRET_ENV}\n"
        f"  scopes: [{', '.join(other.scopes)}]\n",
        encoding="utf-8",
    )
    return path


def _run(tmp_path: Path, server: ReferenceServer, *extra: str, select: str | None = None) -> tuple[int, Path]:
    out = tmp_path / "out"
    argv = [
        *RUN_REFERENCE,
        "--out",
        str(out),
        "--base-url",
        server.base_url,
        "--auth",
        str(_auth_file(tmp_path, server)),
        "--ca-bundle",
        str(server.ca_bundle),
        "--rate",
        "0",
        "--format",
        "json,html,junit,sarif",
        *extra,
    ]
    if select:
        argv += ["-k", select]
    code = main(argv)
    return code, next(out.iterdir())


def _statuses(folder: Path) -> dict[str, str]:
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    return {o["id"]: o["status"] for o in report["outcomes"]}


def _variants(value: str) -> list[bytes]:
    raw = value.encode()
    return [
        raw,
        urllib.parse.quote(value, safe="").encode(),
        base64.b64encode(raw),
        base64.b64encode(raw).rstrip(b"="),
    ]


def test_full_run_with_writes_and_the_secret_canary(
    tmp_path: Path,
    server: ReferenceServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A full run passes; no client secret or access token appears in any file written or in the terminal."""
    client = server.clients["force-a"]
    monkeypatch.setenv(SECRET_ENV, client.client_secret)
    monkeypatch.setenv(OTHER_SECRET_ENV, server.clients["force-b"].client_secret)
    code, folder = _run(tmp_path, server, "--allow-writes", select="C9 or C4-13 or C1-11 or C4-12")
    captured = capsys.readouterr()
    assert code == 0, captured.err
    statuses = _statuses(folder)
    assert statuses["IOP-C9-10"] == "passed"
    assert statuses["IOP-C4-13"] == "passed"  # a writing check ran
    # The canary: the secret and every token the server issued during the run, in any encoding.
    canaries = [client.client_secret, server.clients["force-b"].client_secret, *server_tokens(server)]
    assert len(canaries) > 1
    written = [p for p in folder.rglob("*") if p.is_file()]
    assert any(p.name == "exchanges.ndjson" for p in written)
    for path in written:
        data = path.read_bytes()
        for canary in canaries:
            for form in _variants(canary):
                assert form not in data, f"{canary[:4]}… leaked into {path.name}"
    for canary in canaries:
        assert canary not in captured.out + captured.err


def test_portability_run_with_a_dictionary_and_a_peer(
    tmp_path: Path,
    server: ReferenceServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The no-lock-in half through the CLI: seeded exports, the round trip into the other tenant, isolation,
    the data dictionary and a transfer to a second supplier — all pass, the report names its inputs, the
    peer's evidence is kept apart, and no secret of either supplier is written anywhere."""
    from conformance.reference import REFERENCE_DICTIONARY

    with ReferenceServer(rate_limit_per_minute=100_000, seed_data=False) as peer:
        monkeypatch.setenv(SECRET_ENV, server.clients["force-a"].client_secret)
        monkeypatch.setenv(OTHER_SECRET_ENV, server.clients["force-b"].client_secret)
        monkeypatch.setenv(PEER_SECRET_ENV, peer.clients["force-a"].client_secret)
        peer_auth = _auth_file(tmp_path, peer, secret_env=PEER_SECRET_ENV, name="peer-auth.yaml")
        code, folder = _run(
            tmp_path,
            server,
            "--allow-writes",
            "--data-dictionary",
            str(REFERENCE_DICTIONARY),
            "--peer-base-url",
            peer.base_url,
            "--peer-auth",
            str(peer_auth),
            "--peer-ca-bundle",
            str(peer.ca_bundle),
            "--peer-allow-writes",
            select="C10 or C9-12 or C6 or C7",
        )
        peer_tokens = server_tokens(peer)
        peer_url = peer.base_url
        peer_secrets = [peer.clients["force-a"].client_secret, peer.clients["force-b"].client_secret]
    captured = capsys.readouterr()
    assert code == 0, captured.err
    statuses = _statuses(folder)
    for requirement in ("IOP-C10-02", "IOP-C10-05", "IOP-C9-12", "IOP-C6-02", "IOP-C6-03", "IOP-C7-01"):
        assert statuses[requirement] == "passed", requirement
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    assert report["inputs"]["peer"]["base_url"] == peer_url
    assert report["inputs"]["data_dictionary"]["file"] == REFERENCE_DICTIONARY.name
    peer_evidence = (folder / "evidence" / "peer" / "exchanges.ndjson").read_text(encoding="utf-8")
    assert all(json.loads(line)["id"].startswith("peer-ex-") for line in peer_evidence.splitlines())
    canaries = [
        server.clients["force-a"].client_secret,
        server.clients["force-b"].client_secret,
        *peer_secrets,
        *server_tokens(server),
        *peer_tokens,
    ]
    for path in (p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        for canary in canaries:
            for form in _variants(canary):
                assert form not in data, f"{canary[:4]}… leaked into {path.name}"
    for canary in canaries:
        assert canary not in captured.out + captured.err


def test_peer_flags_need_a_peer_base_url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    auth = tmp_path / "peer.yaml"
    auth.write_text("type: none\n", encoding="utf-8")
    code = main([*RUN_REFERENCE, "--peer-auth", str(auth)])
    assert code == 2
    assert "need --peer-base-url" in capsys.readouterr().err


def test_a_bad_data_dictionary_is_a_one_line_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "dictionary.csv"
    bad.write_text("entity,attribute,data_type,max_length\nPerson,fullName,text,ten\n", encoding="utf-8")
    code = main([*RUN_REFERENCE, "--data-dictionary", str(bad)])
    err = capsys.readouterr().err
    assert code == 2
    assert "dictionary.csv" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def server_tokens(server: ReferenceServer) -> list[str]:
    """Every access token the reference server issued (read from its token store)."""
    return server._state.tokens.issued()  # test-only peek at the server's own token store


def test_without_allow_writes_writing_checks_are_untested(
    tmp_path: Path, server: ReferenceServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, server.clients["force-a"].client_secret)
    monkeypatch.setenv(OTHER_SECRET_ENV, server.clients["force-b"].client_secret)
    code, folder = _run(tmp_path, server, select="C4-13 or C8-05 or C9-10")
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    # A MUST that could not be exercised leaves the verdict open: INCOMPLETE, never CONFORMANT.
    assert code == 3
    assert report["verdict"]["undetermined_musts"] == ["IOP-C4-13"]
    by_id = {o["id"]: o for o in report["outcomes"]}
    assert by_id["IOP-C4-13"]["status"] == "untested"
    assert "--allow-writes" in by_id["IOP-C4-13"]["reason"]
    assert by_id["IOP-C9-10"]["status"] == "passed"


def test_static_run_reports_live_requirements_untested(tmp_path: Path) -> None:
    """Without --base-url the live requirements are untested (with the reason), never passed."""
    code = main(
        [
            *RUN_REFERENCE,
            "--out",
            str(tmp_path),
            "--format",
            "json",
        ]
    )
    assert code == 0
    report = json.loads(next(tmp_path.glob("*/report.json")).read_text(encoding="utf-8"))
    live = [o for o in report["outcomes"] if o["mode"] == "live"]
    assert live
    assert {o["status"] for o in live} == {"untested"}
    assert all("static" in o["reason"] for o in live)
    assert report["verdict"]["claimable"] is False


# -- targets that do not behave ---------------------------------------------------------------------------


def _silent_server() -> tuple[socket.socket, int]:
    """Accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[Any] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    return listener, listener.getsockname()[1]


@pytest.mark.parametrize("kind", ["unreachable", "silent"])
def test_misbehaving_target_ends_in_bounded_time_with_a_report(
    tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unreachable or silent target: the run ends quickly, live requirements are cantTell, exit 3."""
    if kind == "unreachable":
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()  # nothing listens here now
        listener = None
    else:
        listener, port = _silent_server()
    started = time.monotonic()
    try:
        code = main(
            [
                *RUN_REFERENCE,
                "--out",
                str(tmp_path),
                "--format",
                "json,html",
                "--base-url",
                f"https://127.0.0.1:{port}/v1",
                "--timeout",
                "1",
                "--rate",
                "0",
            ]
        )
    finally:
        if listener is not None:
            listener.close()
    elapsed = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == 3, err
    assert elapsed < 60, elapsed
    report = json.loads(next(tmp_path.glob("*/report.json")).read_text(encoding="utf-8"))
    live = [o for o in report["outcomes"] if o["mode"] == "live"]
    assert {o["status"] for o in live} <= {"cantTell", "inapplicable", "untested"}
    assert any(o["status"] == "cantTell" for o in live)
    assert "INCOMPLETE" in err
    assert next(tmp_path.glob("*/report.html")).is_file()
