"""``policyengine collect salesforce ...`` end to end: exit codes 0 / 2 / 3 and the snapshot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.connectors.salesforce.conftest import CLIENT_ID, CLIENT_SECRET, USERNAME
from tests.emulators._server import DROP, Response

EXE = Path(sys.executable).with_name("policyengine")


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(EXE), "--log-format=json", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CI": "1", **(env or {})},
    )


def jwt_args(server: Any, key: Path, out: Path) -> list[str]:
    return [
        "collect", "salesforce",
        "--login-url", server.base_url,
        "--client-id", CLIENT_ID,
        "--username", USERNAME,
        "--private-key-file", str(key),
        "--instance", "crm",
        "-o", str(out),
    ]  # fmt: skip


def test_exit_0_and_snapshot(emulated: Any, key_pair: tuple[Path, bytes], tmp_path: Path) -> None:
    server, org = emulated
    out = tmp_path / "sf.json"
    proc = cli("--log-level=debug", *jwt_args(server, key_pair[0], out))
    assert proc.returncode == 0, proc.stderr
    snap = json.loads(out.read_text())
    assert snap["source"]["connector"] == "salesforce"
    assert snap["source"]["instance"] == "crm"
    assert snap["source"]["complete"] is True
    # who collected (the token's user from its id URL): remediation never acts on it
    assert snap["source"]["collected_as"] == sorted({"0055g00000AliceAAA", USERNAME, CLIENT_ID})
    accounts = {a["name"]: a for a in snap["accounts"]}
    assert accounts["bob.admin@kering.example"]["mfa"]["methods"] == ["sms"]
    assert any(i["id"] == "uninstalled:Zapier" for i in snap["integrations"])
    assert "8 account" in proc.stderr and "complete" in proc.stderr
    assert "salesforce.authenticated" in proc.stderr  # the debug log is really there
    for token in org.issued:  # debug logs of a real run carry no token
        assert token.split("!", 1)[1] not in proc.stderr


def test_exit_0_client_credentials_from_a_secret_file(emulated: Any, tmp_path: Path) -> None:
    server, _ = emulated
    secret = tmp_path / "secret"
    secret.write_text(CLIENT_SECRET + "\n")
    out = tmp_path / "sf.jsonl"
    proc = cli(
        "collect", "salesforce",
        "--login-url", server.base_url,
        "--client-id", CLIENT_ID,
        "--client-secret-file", str(secret),
        "--api-version", "62.0",
        "--max-concurrency", "1",
        "-o", str(out),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    header = json.loads(out.read_text().splitlines()[0])
    assert header["source"]["complete"] is True


def test_exit_2_on_wrong_secret_and_nothing_written(emulated: Any, tmp_path: Path) -> None:
    server, _ = emulated
    out = tmp_path / "sf.json"
    wrong = "definitely-not-the-secret-42"
    proc = cli(
        "collect", "salesforce",
        "--login-url", server.base_url,
        "--client-id", CLIENT_ID,
        "--client-secret-env", "SF_CLI_SECRET",
        "-o", str(out),
        env={"SF_CLI_SECRET": wrong},
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "invalid_client" in proc.stderr
    assert wrong not in proc.stderr
    assert not out.exists()


def test_exit_2_on_plain_http_to_a_remote_host(tmp_path: Path) -> None:
    out = tmp_path / "sf.json"
    proc = cli(
        "collect", "salesforce",
        "--login-url", "http://login.salesforce.com",
        "--client-id", CLIENT_ID,
        "--client-secret-env", "X",
        "-o", str(out),
    )  # fmt: skip
    assert proc.returncode == 2
    assert "plain http" in proc.stderr
    assert not out.exists()


def test_exit_3_when_an_object_cannot_be_read(
    emulated: Any, key_pair: tuple[Path, bytes], tmp_path: Path
) -> None:
    server, _ = emulated
    denied = Response.json(
        [{"message": "insufficient access rights", "errorCode": "INSUFFICIENT_ACCESS"}], status=403
    )

    def mfa_query(request: Any) -> bool:
        return "FROM TwoFactorMethodsInfo" in (request.param("q") or "")

    server.add_fault(denied, match=mfa_query, times=None)
    out = tmp_path / "sf.json"
    proc = cli(*jwt_args(server, key_pair[0], out))
    assert proc.returncode == 3, proc.stderr
    assert "missing data: TwoFactorMethodsInfo" in proc.stderr
    snap = json.loads(out.read_text())
    assert snap["source"]["complete"] is False
    assert len(snap["accounts"]) == 8


@pytest.mark.usefixtures("fast_retries")
def test_exit_3_when_retries_run_out_on_page_3_of_5(
    org_factory: Any,
    key_pair: tuple[Path, bytes],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # In-process (same argv, same main()) so that retry back-off need not really sleep.
    from policyengine.cli.main import main
    from tests.connectors.salesforce.test_faults import ten_users

    server, org = org_factory(ten_users(), batch_size=2)
    server.add_fault(DROP, match=lambda r: org.page_of(r.path) == ("User", 3), times=None)
    out = tmp_path / "sf.json"
    try:
        assert main(["--log-format=json", *jwt_args(server, key_pair[0], out)]) == 3
    finally:
        # main() pointed structlog at this test's captured stderr, which closes after it.
        import structlog

        structlog.reset_defaults()
    snap = json.loads(out.read_text())
    assert snap["source"]["complete"] is False
    assert snap["source"]["errors"][0].startswith("User: ")
    assert "missing data: User" in capsys.readouterr().err


def test_exit_2_on_an_activity_window_beyond_login_history(tmp_path: Path) -> None:
    out = tmp_path / "sf.json"
    proc = cli(
        "collect", "salesforce",
        "--login-url", "https://login.salesforce.com",
        "--client-id", CLIENT_ID,
        "--client-secret-env", "X",
        "--activity-days", "365",
        "-o", str(out),
    )  # fmt: skip
    assert proc.returncode == 2
    assert "activity_days" in proc.stderr and "180" in proc.stderr
    assert not out.exists()


def test_activity_reaches_the_snapshot_through_the_cli(
    emulated: Any, key_pair: tuple[Path, bytes], tmp_path: Path
) -> None:
    server, _ = emulated
    out = tmp_path / "sf.json"
    proc = cli(*jwt_args(server, key_pair[0], out), "--activity-days", "7")
    assert proc.returncode == 0, proc.stderr
    snap = json.loads(out.read_text())
    lookalike = next(i for i in snap["integrations"] if i["id"] == "0H45g000000DlITAAA")
    assert lookalike["activity"]["window_days"] == 7
    assert lookalike["activity"]["records_exported"] == 412907
