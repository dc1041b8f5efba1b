"""The snapshots this connector writes are read by `policyengine evaluate`:
a complete one evaluates (exit 0/1), an incomplete one fails closed (exit 3)."""

from __future__ import annotations

import orjson

from tests.connectors.ldap import servers
from tests.connectors.ldap.conftest import cli, needs_slapd

pytestmark = needs_slapd


def _collect(url: str, out, env) -> int:
    proc = cli(
        "collect", "ldap", "--url", url, "--base-dn", servers.BASE_DN,
        "--bind-dn", servers.ROOT_DN, "--password-env", "PE_TEST_LDAP_PW",
        "--privileged-group", "cn=admins,ou=groups,dc=example,dc=com",
        "--timeout", "3", "-o", str(out),
        env=env,
    )  # fmt: skip
    return proc.returncode


def test_complete_snapshot_evaluates_with_the_builtin_library(slapd, tmp_path):
    env = servers.env_with(PE_TEST_LDAP_PW=servers.ROOT_PW)
    snap = tmp_path / "corp.jsonl"
    assert _collect(slapd.url, snap, env) == 0
    report = tmp_path / "report.json"
    proc = cli("evaluate", "-s", str(snap), "--format", "json", "-o", str(report), env=env)
    assert proc.returncode in (0, 1), proc.stderr
    findings = orjson.loads(report.read_bytes())["findings"]
    assert all(f["resource"]["source"] == "ldap" for f in findings)
    # bg-admin, alice and backup are privileged; the library has something to say about them
    assert {f["resource"]["name"] for f in findings} & {"alice", "bg-admin", "backup"}


def test_incomplete_snapshot_makes_evaluate_exit_3(tmp_path):
    env = servers.env_with(PE_TEST_LDAP_PW="whatever-pass")
    snap = tmp_path / "down.jsonl"
    assert _collect(f"ldap://127.0.0.1:{servers.free_port()}", snap, env) == 3
    proc = cli("evaluate", "-s", str(snap), "--fail-on", "none", env=env)
    assert proc.returncode == 3, proc.stdout + proc.stderr
