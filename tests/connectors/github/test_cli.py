"""``policyengine collect github`` and ``type: github`` end to end: exit codes, secrecy."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from policyengine.cli.main import main
from tests.connectors.github.conftest import OWNER_TOKEN, GitHub


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["--log-format=json", "--log-level=debug", "collect", "github", *args])
    captured = capsys.readouterr()
    return code, captured.err + captured.out


def test_token_and_app_exit_0(
    github: GitHub,
    token_env: str,
    key_file: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    app_key: tuple[str, str],
) -> None:
    out = tmp_path / "github.json"
    code, log = run(
        capsys,
        *("--org", "acme-retail", "--api-url", github.url, "--token-env", token_env),
        *("--app-id", "2002", "--private-key-file", key_file, "--installation-id", "50002"),
        *("-o", str(out)),
    )
    assert code == 0, log
    assert json.loads(out.read_text())["source"]["complete"] is True
    assert OWNER_TOKEN not in log and "ghs_" not in log and "PRIVATE KEY" not in log
    assert "eyJ" not in log  # no JWT


def test_token_alone_exits_3_naming_what_is_missing(
    github: GitHub, token_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "github.json"
    args = ["--org", "acme-retail", "--api-url", github.url, "--token-env", token_env]
    code, log = run(capsys, *args, "-o", str(out))
    assert code == 3
    assert "fine-grained personal access tokens not collected" in log


def test_bad_credentials_exit_2(
    github: GitHub,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GH_BAD", "ghp_not_a_real_token_000")
    args = ["--org", "acme-retail", "--api-url", github.url, "--token-env", "GH_BAD"]
    code, log = run(capsys, *args, "-o", str(tmp_path / "g.json"))
    assert code == 2
    assert "Bad credentials" in log and "ghp_not_a_real_token_000" not in log


def test_type_github_in_policyengine_yaml(
    github: GitHub,
    token_env: str,
    key_file: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "policyengine.yaml").write_text(
        textwrap.dedent(
            f"""\
            history: state/history.db
            output_dir: out/
            connectors:
              - instance: acme-github
                type: github
                org: acme-retail
                api_url: {github.url}
                token_env: {token_env}
                app_id: "2002"
                private_key_file: {key_file}
                installation_id: 50002
            """
        )
    )
    policies = Path(__file__).resolve().parents[3] / "policies"
    code = main(["scan", "--config", "policyengine.yaml", "--policies", str(policies)])
    output = capsys.readouterr().out
    assert code in (0, 1), output
    (run_dir,) = (tmp_path / "out").iterdir()
    assert (run_dir / "snapshots" / "acme-github.jsonl.gz").is_file()
    assert "INCOMPLETE" not in output
