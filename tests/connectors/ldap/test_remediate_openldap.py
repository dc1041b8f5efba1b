"""The LDAP actions on a real OpenLDAP slapd (ppolicy + memberof overlays): scan ->
``remediate plan`` -> ``apply`` locks a dormant admin with the ppolicy administrative lock
(``pwdAccountLockedTime: 000001010000Z``) and removes it from the admins group; a second
apply does nothing; a new scan shows the account disabled and the finding resolved."""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from policyengine.cli.main import main
from tests.connectors.ldap import servers
from tests.connectors.ldap.conftest import needs_slapd

pytestmark = needs_slapd

ADMINS = f"cn=admins,ou=groups,{servers.BASE_DN}"
DORMANT = f"uid=dormantops,ou=people,{servers.BASE_DN}"
LATER = (dt.datetime.now(dt.UTC) + dt.timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _raw(conn: Any, dn: str, attr: str) -> list[bytes]:
    import ldap3

    conn.search(dn, "(objectClass=*)", ldap3.BASE, attributes=[attr])
    return list(conn.response[0]["raw_attributes"].get(attr) or [])


def _in_group(conn: Any, group: str, member: str) -> bool:
    return member.lower().encode() in [m.lower() for m in _raw(conn, group, "member")]


@pytest.fixture
def dormant(slapd: servers.Slapd) -> Iterator[servers.Slapd]:
    """uid=dormantops, a direct member of cn=admins; deleted afterwards (refint drops
    the membership) so the shared slapd is as the other tests expect it."""
    import ldap3

    conn = slapd.admin()
    conn.add(
        DORMANT,
        ["inetOrgPerson"],
        {"uid": "dormantops", "cn": "Dormant Ops", "sn": "Ops", "userPassword": "x-Dormant-1"},
    )
    assert conn.result["result"] == 0, conn.result
    conn.modify(ADMINS, {"member": [(ldap3.MODIFY_ADD, [DORMANT])]})
    assert conn.result["result"] == 0, conn.result
    try:
        yield slapd
    finally:
        conn.delete(DORMANT)
        conn.unbind()


def _config(tmp: Path, server: servers.Slapd) -> Path:
    config = tmp / "policyengine.yaml"
    config.write_text(
        f"""connectors:
  - instance: corp
    type: ldap
    url: {server.url}
    base_dn: "{servers.BASE_DN}"
    bind_dn: "{servers.ROOT_DN}"
    password_env: PE_LDAP_READ_PW
    privileged_group: ["{ADMINS}"]
    remediation:
      bind_dn: "{servers.ROOT_DN}"
      password_env: PE_LDAP_WRITE_PW
output_dir: {tmp / "runs"}
history: {tmp / "history.db"}
""",
        encoding="utf-8",
    )
    return config


def _scan(tmp: Path, config: Path) -> Path:
    before = set(glob.glob(str(tmp / "runs" / "*" / "result.json")))
    assert main(["scan", "--config", str(config), "--fail-on", "none", "--now", LATER]) == 0
    (new,) = set(glob.glob(str(tmp / "runs" / "*" / "result.json"))) - before
    return Path(new)


def _dormant_fingerprints(result: Path) -> dict[str, str]:
    findings = json.loads(result.read_text())["findings"]
    every = findings + [g for f in findings for g in f.get("folded") or ()]
    return {
        f["resource"]["name"]: f["fingerprint"] for f in every if f["policy_id"] == "PE-PRIV-003"
    }


def test_dormant_admin_locked_in_openldap(
    dormant: servers.Slapd,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PE_LDAP_READ_PW", servers.ROOT_PW)
    monkeypatch.setenv("PE_LDAP_WRITE_PW", servers.ROOT_PW)
    monkeypatch.chdir(tmp_path)
    config = _config(tmp_path, dormant)
    first = _scan(tmp_path, config)
    fingerprints = _dormant_fingerprints(first)
    assert "dormantops" in fingerprints, sorted(fingerprints)

    plan = tmp_path / "plan.json"
    args = ["remediate", "plan", "--result", str(first), "--config", str(config)]
    args += ["--fingerprint", fingerprints["dormantops"], "-o", str(plan)]
    assert main(args) == 0
    entries = json.loads(plan.read_text())["entries"]
    assert {(e["action"], t["name"]) for e in entries for t in e["targets"]} == {
        ("remove_group_member", "admins: dormantops"),
        ("disable_account", "dormantops"),
    }
    digest = hashlib.sha256(plan.read_bytes()).hexdigest()
    apply = ["remediate", "apply", str(plan), "--config", str(config), "--approve", digest]
    capsys.readouterr()
    assert main(apply) == 0
    assert "2 applied" in capsys.readouterr().out

    conn = dormant.admin()
    try:
        # the ppolicy administrative lock: locked until an administrator removes it
        assert _raw(conn, DORMANT, "pwdAccountLockedTime") == [b"000001010000Z"]
        assert not _in_group(conn, ADMINS, DORMANT)
        assert _in_group(conn, ADMINS, f"uid=bg-admin,ou=people,{servers.BASE_DN}")  # untouched
    finally:
        conn.unbind()

    assert main(apply) == 0
    assert "nothing to do (2 steps, all done before)" in capsys.readouterr().out

    after = _dormant_fingerprints(_scan(tmp_path, config))
    assert "dormantops" not in after


def test_lock_twice_and_remove_twice_on_slapd(dormant: servers.Slapd) -> None:
    import os

    from connectors.ldap._actions import DisableAccount, RemoveGroupMember
    from connectors.ldap._remediate import LdapSession
    from policyengine.remediate.contract import Target

    os.environ["PE_LDAP_WRITE_PW"] = servers.ROOT_PW
    try:
        session = LdapSession.open(
            {
                "url": dormant.url,
                "base_dn": servers.BASE_DN,
                "bind_dn": servers.ROOT_DN,
                "password_env": "PE_LDAP_WRITE_PW",
            },
            instance="corp",
        )
    finally:
        del os.environ["PE_LDAP_WRITE_PW"]
    try:
        assert not session.active_directory
        member = Target("group", "g", "admins", {"group_dn": ADMINS, "member_dn": DORMANT}, "d")
        lock = Target("account", "d", "dormantops", {"dn": DORMANT, "enabled": True}, "d")
        for action, target in [(RemoveGroupMember(), member), (DisableAccount(), lock)]:
            assert action.read_target(session, target, {}) is not None
            first = action.apply(session, target, {})
            second = action.apply(session, target, {})
            assert first.changed and not second.changed and "already" in second.detail
        assert DisableAccount().read_target(session, lock, {}) == {"dn": DORMANT, "enabled": False}
    finally:
        session.close()
