"""``policyengine collect okta`` end to end: exit codes and secrecy of logs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policyengine.cli.main import main
from tests.connectors.okta.conftest import CLIENT_ID, SSWS_TOKEN, Okta, users_page_matcher
from tests.emulators._server import DROP, Request


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    # "--opt=value" form: main() finds the command as the first argument not starting with "-"
    code = main(["--log-format=json", "--log-level=debug", "collect", "okta", *args])
    return code, capsys.readouterr().err


def test_collect_complete_exits_0(
    okta: Okta, ssws_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "okta.jsonl"
    code, err = run(capsys, "--org-url", okta.url, "--token-env", ssws_env, "-o", str(out))
    assert code == 0, err
    header = json.loads(out.read_text().splitlines()[0])
    assert header["source"]["complete"] is True


def test_collect_with_a_dropped_page_exits_3(
    okta: Okta, ssws_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    okta.server.add_fault(DROP, match=users_page_matcher(okta, 3, 3), times=None)
    out = tmp_path / "okta.json"
    args = ["--org-url", okta.url, "--token-env", ssws_env, "-o", str(out)]
    code, err = run(capsys, *args, "--page-size", "3", "--max-attempts", "2")
    assert code == 3
    assert "missing data: okta: users not collected after 6 users" in err
    snapshot = json.loads(out.read_text())
    assert snapshot["source"]["complete"] is False


def test_invalid_ssws_token_exits_2(
    okta: Okta, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.setenv("WRONG_TOKEN", "00not-the-right-token-123456")
    out = tmp_path / "okta.json"
    code, err = run(capsys, "--org-url", okta.url, "--token-env", "WRONG_TOKEN", "-o", str(out))
    assert code == 2
    assert "E0000011 Invalid token provided" in err
    assert "00not-the-right-token-123456" not in err


def test_ssws_token_revoked_mid_run_exits_2(
    okta: Okta, ssws_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def revoke(request: Request) -> None:
        okta.emulator.ssws_tokens.clear()

    okta.server.add_fault(revoke, match="/api/v1/users/*", skip=3, times=1)
    out = tmp_path / "okta.json"
    code, err = run(capsys, "--org-url", okta.url, "--token-env", ssws_env, "-o", str(out))
    assert code == 2
    assert "refused the credentials: HTTP 401 E0000011" in err


def test_plain_http_to_a_remote_host_is_refused(
    ssws_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "okta.json"
    code, err = run(
        capsys, "--org-url", "http://example.okta.com", "--token-env", ssws_env, "-o", str(out)
    )
    assert code == 2
    assert "plain http is refused" in err
    assert not out.exists()


def test_no_token_or_key_reaches_the_logs(
    okta: Okta,
    ssws_env: str,
    oauth_env: str,
    rsa_private_pem: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # make everything happen that logs: retries, a re-authentication, an incomplete part
    def expire(request: Request) -> None:
        okta.emulator.revoke_access_tokens()

    okta.server.add_fault(expire, match="/api/v1/users/*", skip=2, times=1)
    okta.server.add_fault(DROP, match="/api/v1/api-tokens", times=None)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    base = ["--org-url", okta.url, "--retry-backoff", "0", "--max-attempts", "2"]
    code_a, err_a = run(
        capsys, *base, "--client-id", CLIENT_ID, "--private-key-env", oauth_env, "-o", str(a)
    )
    code_b, err_b = run(capsys, *base, "--token-env", ssws_env, "-o", str(b))
    assert (code_a, code_b) == (3, 3)
    assert "http.reauthenticate" in err_a and "http.retry" in err_b  # debug logs were on
    everything = err_a + err_b + a.read_text() + b.read_text()
    secrets = [SSWS_TOKEN, *okta.emulator.issued]
    secrets += [line for line in rsa_private_pem.splitlines() if "-----" not in line]
    assert len(okta.emulator.issued) == 2
    for secret in secrets:
        assert secret not in everything
    assert "client_assertion" not in everything


def test_secrets_from_files(
    okta: Okta, rsa_private_pem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token_file = tmp_path / "okta.token"
    token_file.write_text(SSWS_TOKEN + "\n")  # a trailing newline, as editors leave it
    key_file = tmp_path / "okta-app.pem"
    key_file.write_text(rsa_private_pem)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    code_a, err_a = run(
        capsys, "--org-url", okta.url, "--token-file", str(token_file), "-o", str(a)
    )
    code_b, err_b = run(
        capsys,
        "--org-url",
        okta.url,
        "--client-id",
        CLIENT_ID,
        "--private-key-file",
        str(key_file),
        "-o",
        str(b),
    )
    assert (code_a, code_b) == (0, 0), err_a + err_b
    assert json.loads(a.read_text())["accounts"] == json.loads(b.read_text())["accounts"]


def test_installed_command_exits_3_on_a_dropped_page(
    okta: Okta, ssws_env: str, tmp_path: Path
) -> None:
    """The real console script, in a child process, with only the base URL changed."""
    import os
    import subprocess
    import sys

    okta.server.add_fault(DROP, match=users_page_matcher(okta, 3, 3), times=None)
    out = tmp_path / "okta.json"
    command = Path(sys.executable).parent / "policyengine"
    proc = subprocess.run(
        [
            str(command),
            "collect",
            "okta",
            "--org-url",
            okta.url,
            "--token-env",
            ssws_env,
            "--page-size",
            "3",
            "--max-attempts",
            "2",
            "--retry-backoff",
            "0",
            "-o",
            str(out),
        ],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 3, proc.stderr
    assert "INCOMPLETE" in proc.stderr
    assert SSWS_TOKEN not in proc.stderr + proc.stdout
    assert json.loads(out.read_text())["source"]["complete"] is False
