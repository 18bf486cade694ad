"""``conformance reference serve``: lists faults, refuses unknown ones, and runs a real server until
interrupted, writing the client secrets to a 0600 file and never to the terminal."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
from pathlib import Path

import requests
from click.testing import CliRunner

from conformance.reference.cli import reference_group
from conformance.reference.server import FAULTS


def test_list_faults_names_every_fault() -> None:
    """--list-faults prints one line per fault with its requirement, and exits 0 without serving."""
    result = CliRunner().invoke(reference_group, ["serve", "--list-faults"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == list(FAULTS)
    assert "IOP-C9-08" in next(line for line in lines if line.startswith("no-hsts "))


def test_unknown_fault_is_a_usage_error() -> None:
    """A misspelt fault exits 2 and suggests the closest name."""
    result = CliRunner().invoke(reference_group, ["serve", "--fault", "no-hst"])
    assert result.exit_code == 2
    assert "did you mean 'no-hsts'" in result.output


def test_help_has_an_example() -> None:
    """The command's help ends with an Example block."""
    result = CliRunner().invoke(reference_group, ["serve", "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output
    assert "conformance reference serve --fault" in result.output


def test_serve_runs_until_interrupted(tmp_path: Path) -> None:
    """serve prints the URLs and the secrets file (not the secrets); the file is 0600 and works; Ctrl-C stops it."""
    credentials = tmp_path / "reference.env"
    code = "import sys; from conformance.reference.cli import reference_group; reference_group.main(sys.argv[1:])"
    process = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--credentials-out", str(credentials), "--fault", "no-hsts"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        shown = "".join(lines)
        base_url = re.search(r"API base URL\s+(\S+)", shown)
        ca = re.search(r"CA bundle\s+(\S+)", shown)
        assert base_url, shown
        assert ca, shown
        assert "faults: no-hsts" in shown
        assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
        values = dict(line.split("=", 1) for line in credentials.read_text().splitlines() if "=" in line)
        secret = values["CONFORMANCE_FORCE_A_CLIENT_SECRET"]
        secret_file = tmp_path / "reference.force-a.secret"
        assert secret_file.read_text().strip() == secret
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
        assert str(secret_file) in shown
        assert secret not in shown
        session = requests.Session()
        session.trust_env = False
        token = session.post(
            values["CONFORMANCE_TOKEN_URL"],
            data={"grant_type": "client_credentials"},
            auth=(values["CONFORMANCE_FORCE_A_CLIENT_ID"], secret),
            verify=ca[1],
            timeout=10,
        ).json()["access_token"]
        response = session.get(
            f"{base_url[1]}/persons", headers={"Authorization": f"Bearer {token}"}, verify=ca[1], timeout=10
        )
        assert response.status_code == 200
        assert "Strict-Transport-Security" not in response.headers
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=15)
        assert process.returncode == 0, err
        assert secret not in out + err
        assert not Path(ca[1]).exists()  # the throw-away CA goes with the server
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


def test_docs_list_every_fault() -> None:
    """docs/reference-supplier.md has one table row per fault, with its requirement and description."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "reference-supplier.md").read_text(
        encoding="utf-8"
    )
    rows = {
        m[1]: (m[2], m[3])
        for m in re.finditer(r"^\| `([^`]+)` \| (IOP-[^ ]+) \| (.+?)(?: \*\(start only\)\*)? \|$", text, re.M)
    }
    assert rows == {f.name: (f.requirement, f.description) for f in FAULTS.values()}


def test_module_entry_point_prints_where_everything_is_as_json(tmp_path: Path) -> None:
    """``python -m conformance.reference.server --json`` is the serve command: one JSON line with the URLs,
    the CA and the secret files (the secrets stay in the 0600 files), bulk records seeded, SIGTERM stops it."""
    credentials = tmp_path / "reference.env"
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "conformance.reference.server"),
            *("--json", "--seed-records", "3", "--credentials-out", str(credentials)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        where = json.loads(line)
        assert where["seed_records"] == 3
        assert where["base_url"].startswith("https://127.0.0.1:")
        secret = Path(where["clients"]["force-a"]["secret_file"]).read_text(encoding="utf-8").strip()
        assert secret
        assert secret not in line
        session = requests.Session()
        session.trust_env = False
        token = session.post(
            where["token_url"],
            data={"grant_type": "client_credentials"},
            auth=(where["clients"]["force-a"]["client_id"], secret),
            verify=where["ca_bundle"],
            timeout=10,
        ).json()["access_token"]
        persons = session.get(
            where["base_url"] + "/persons",
            params={"limit": 100},
            headers={"Authorization": f"Bearer {token}"},
            verify=where["ca_bundle"],
            timeout=10,
        )
        assert persons.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    assert process.returncode == 0
