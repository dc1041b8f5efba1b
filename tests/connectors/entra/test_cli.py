"""``policyengine collect entra`` end to end: exit codes, certificate auth, config, secrecy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policyengine import connector as registry
from policyengine.cli.main import main
from policyengine.config import load_config
from tests.connectors.entra.conftest import CLIENT_ID, CLIENT_SECRET, TENANT_ID, Entra
from tests.emulators.kit import DROP


def run(capsys: pytest.CaptureFixture[str], entra: Entra, *args: str) -> tuple[int, str]:
    base = ["--tenant-id", TENANT_ID, "--client-id", CLIENT_ID]
    base += ["--authority-url", entra.url, "--graph-url", entra.url, "--retry-backoff", "0"]
    base += ["--ca-file", entra.ca_file]
    code = main(["--log-format=json", "--log-level=debug", "collect", "entra", *base, *args])
    return code, capsys.readouterr().err


def test_secret_collect_exits_0(
    entra: Entra, secret_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "entra.json"
    code, err = run(capsys, entra, "--client-secret-env", secret_env, "-o", str(out))
    assert code == 0, err
    assert json.loads(out.read_text())["source"]["complete"] is True


def test_certificate_assertion_collects(
    entra: Entra,
    certificate: tuple[str, bytes],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pem = tmp_path / "app.pem"
    pem.write_text(certificate[0])
    out = tmp_path / "entra.json"
    code, err = run(capsys, entra, "--certificate-file", str(pem), "-o", str(out))
    assert code == 0, err
    (token_call,) = [r for r in entra.server.requests if r.method == "POST"]
    assert token_call.form()["client_assertion_type"].endswith("jwt-bearer")
    assert "client_secret" not in token_call.form()


def test_wrong_secret_exits_2_with_the_aadsts_code(
    entra: Entra, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.setenv("WRONG_SECRET", "not-the-secret-Qx81~zz")
    out = tmp_path / "entra.json"
    code, err = run(capsys, entra, "--client-secret-env", "WRONG_SECRET", "-o", str(out))
    assert code == 2
    assert "AADSTS7000215" in err
    assert "not-the-secret-Qx81~zz" not in err
    assert not out.exists()


def test_plain_http_to_a_remote_authority_is_refused(
    secret_env: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    args = ["collect", "entra", "--tenant-id", TENANT_ID, "--client-id", CLIENT_ID]
    args += ["--client-secret-env", secret_env, "--authority-url", "http://login.example.com"]
    code = main([*args, "-o", str(tmp_path / "e.json")])
    err = capsys.readouterr().err
    assert code == 2 and "entra: option 'authority_url'" in err


def test_plain_http_loopback_authority_is_refused_as_msal_needs_https(
    secret_env: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    args = ["collect", "entra", "--tenant-id", TENANT_ID, "--client-id", CLIENT_ID]
    args += ["--client-secret-env", secret_env, "--authority-url", "http://127.0.0.1:9"]
    code = main([*args, "-o", str(tmp_path / "e.json")])
    err = capsys.readouterr().err
    assert code == 2 and "entra: option 'authority_url'" in err and "https" in err


def test_msal_reads_the_tenant_discovery_document_then_posts_the_token(
    entra: Entra, secret_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run(
        capsys, entra, "--client-secret-env", secret_env, "-o", str(tmp_path / "e.json")
    )
    assert code == 0, err
    first, second = list(entra.server.requests)[:2]
    assert first.method == "GET"
    assert first.path == f"/{TENANT_ID}/v2.0/.well-known/openid-configuration"
    assert second.method == "POST" and second.path == f"/{TENANT_ID}/oauth2/v2.0/token"


def test_unknown_tenant_exits_2_naming_the_authority(
    entra: Entra, secret_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["collect", "entra", "--tenant-id", "other.onmicrosoft.com", "--client-id", CLIENT_ID]
    args += ["--authority-url", entra.url, "--graph-url", entra.url, "--ca-file", entra.ca_file]
    code = main([*args, "--client-secret-env", secret_env, "-o", str(tmp_path / "e.json")])
    err = capsys.readouterr().err
    assert code == 2 and "refused tenant 'other.onmicrosoft.com'" in err, err


def test_two_credentials_are_refused(
    secret_env: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    args = ["collect", "entra", "--tenant-id", TENANT_ID, "--client-id", CLIENT_ID]
    args += ["--client-secret-env", secret_env, "--certificate-file", "x.pem"]
    assert main([*args, "-o", str(tmp_path / "e.json")]) == 2
    assert "give one credential" in capsys.readouterr().err


def test_config_type_entra(entra: Entra, secret_env: str, tmp_path: Path) -> None:
    config = tmp_path / "policyengine.yaml"
    config.write_text(
        "connectors:\n"
        "- instance: corp-entra\n"
        "  type: entra\n"
        f"  tenant_id: {TENANT_ID}\n"
        f"  client_id: {CLIENT_ID}\n"
        f"  client_secret_env: {secret_env}\n"
        f"  authority_url: {entra.url}\n"
        f"  graph_url: {entra.url}\n"
        f"  ca_file: {entra.ca_file}\n"
        "  page_size: 3\n"
        "  sign_in_activity: true\n"
    )
    (instance,) = load_config(config).connectors
    out = tmp_path / "entra.json"
    result = registry.run(instance.type, instance.options, instance=instance.instance, output=out)
    assert result.complete, result.errors
    assert json.loads(out.read_text())["source"]["tenant_id"] == TENANT_ID


def test_no_secret_assertion_or_token_reaches_logs_or_snapshot(
    entra: Entra,
    secret_env: str,
    certificate: tuple[str, bytes],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # make everything happen that logs: a token refresh, retries, a part that fails
    def expire(request: object) -> None:
        entra.emulator.tokens.clear()

    issued: list[str] = []
    entra.server.add_fault(expire, match="/v1.0/applications")
    entra.server.add_fault(DROP, match="/v1.0/oauth2PermissionGrants", times=None)
    pem = tmp_path / "app.pem"
    pem.write_text(certificate[0])
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    entra.emulator.tokens = _Recording(entra.emulator.tokens, issued)
    code_a, err_a = run(
        capsys, entra, "--client-secret-env", secret_env, "--max-attempts", "2", "-o", str(a)
    )
    entra.server.add_fault(expire, match="/v1.0/applications")
    code_b, err_b = run(
        capsys, entra, "--certificate-file", str(pem), "--max-attempts", "2", "-o", str(b)
    )
    assert (code_a, code_b) == (3, 3)
    assert "http.reauthenticate" in err_a and "http.retry" in err_b
    everything = err_a + err_b + a.read_text() + b.read_text()
    assertions = [
        r.form().get("client_assertion") for r in entra.server.requests if r.path.endswith("/token")
    ]
    secrets = [CLIENT_SECRET, *issued, *[x for x in assertions if x]]
    secrets += [line for line in certificate[0].splitlines() if "-----" not in line]
    assert len(issued) >= 4 and len([x for x in assertions if x]) >= 2
    for secret in secrets:
        assert secret not in everything
    assert "client_assertion" not in everything and "client_secret=" not in everything


class _Recording(dict):  # type: ignore[type-arg]
    """The emulator's token table, remembering every token it issued."""

    def __init__(self, tokens: dict, issued: list[str]) -> None:  # type: ignore[type-arg]
        super().__init__(tokens)
        self.issued = issued

    def __setitem__(self, key: str, value: object) -> None:
        self.issued.append(key)
        super().__setitem__(key, value)
