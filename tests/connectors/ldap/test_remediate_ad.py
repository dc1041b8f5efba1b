"""Issue 16's done-when on a real Samba AD DC: scan -> ``remediate plan`` -> ``apply``
takes a dormant Domain Admin out of Domain Admins and disables it (ACCOUNTDISABLE set,
its other userAccountControl bits kept), with the remediation bind only; the bind
identity itself is refused; a second apply changes nothing; a new scan shows the
finding resolved; ``history --actions`` lists the steps."""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from policyengine.cli.main import main
from tests.connectors.ldap import servers
from tests.connectors.ldap.conftest import needs_samba

pytestmark = needs_samba

USERS = f"CN=Users,{servers.SAMBA_DOMAIN_DN}"
DOMAIN_ADMINS = f"CN=Domain Admins,{USERS}"
DORMANT = f"CN=dormantadm,{USERS}"
WRITER = f"CN=pe-remediator,{USERS}"
WRITER_PW = "Wr1te!Remediate-77"
#: NORMAL_ACCOUNT | DONT_EXPIRE_PASSWORD: the second bit must survive the disable
DORMANT_UAC = 0x200 | 0x10000
#: a year on: every account created by the fixture is past the 14-day grace and dormant
LATER = (dt.datetime.now(dt.UTC) + dt.timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pw(value: str) -> bytes:
    return f'"{value}"'.encode("utf-16-le")


def _uac(conn: Any, dn: str) -> int:
    import ldap3

    conn.search(dn, "(objectClass=*)", ldap3.BASE, attributes=["userAccountControl"])
    return int(conn.entries[0].userAccountControl.value)


def _in_group(conn: Any, group: str, member: str) -> bool:
    import ldap3
    from ldap3.utils.conv import escape_filter_chars

    conn.search(group, f"(member={escape_filter_chars(member)})", ldap3.BASE, attributes=["1.1"])
    return bool(conn.entries)


@pytest.fixture
def accounts(samba: tuple[servers.SambaDC, dict[str, str]]) -> Iterator[servers.SambaDC]:
    """A dormant Domain Admin and the remediation identity (also a Domain Admin), removed
    afterwards so the shared DC is as the other AD tests expect it."""
    import ldap3

    dc, _ = samba
    conn = dc.admin()
    for dn, name, uac, pw in [
        (DORMANT, "dormantadm", DORMANT_UAC, "Dormant!Admin-55"),
        (WRITER, "pe-remediator", 0x200, WRITER_PW),
    ]:
        conn.add(
            dn,
            ["top", "person", "organizationalPerson", "user"],
            {
                "sAMAccountName": name,
                "userPrincipalName": f"{name}@example.test",
                "unicodePwd": _pw(pw),
                "userAccountControl": str(uac),
            },
        )
        assert conn.result["result"] == 0, conn.result
        conn.modify(DOMAIN_ADMINS, {"member": [(ldap3.MODIFY_ADD, [dn])]})
        assert conn.result["result"] == 0, conn.result
    try:
        yield dc
    finally:
        for dn in (DORMANT, WRITER):
            conn.delete(dn)
        conn.unbind()


@dataclass
class Env:
    tmp: Path
    dc: servers.SambaDC
    config: Path

    def run(self, *args: str) -> int:
        return main(list(args))

    def scan(self) -> Path:
        before = set(glob.glob(str(self.tmp / "runs" / "*" / "result.json")))
        args = ["scan", "--config", str(self.config), "--fail-on", "none", "--now", LATER]
        assert self.run(*args) == 0
        (new,) = set(glob.glob(str(self.tmp / "runs" / "*" / "result.json"))) - before
        return Path(new)

    def plan(self, result: Path, *fingerprints: str) -> tuple[Path, str]:
        out = self.tmp / "plan.json"
        args = ["remediate", "plan", "--result", str(result), "--config", str(self.config)]
        args += ["--policy", "PE-PRIV-003"]
        args += [a for fp in fingerprints for a in ("--fingerprint", fp)]
        assert self.run(*args, "-o", str(out)) == 0
        return out, hashlib.sha256(out.read_bytes()).hexdigest()

    def apply(self, plan: Path, digest: str) -> int:
        return self.run(
            "remediate", "apply", str(plan), "--config", str(self.config), "--approve", digest
        )


@pytest.fixture
def env(
    accounts: servers.SambaDC, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Env]:
    monkeypatch.setenv("PE_AD_READ_PW", servers.SAMBA_ADMIN_PW)
    monkeypatch.setenv("PE_AD_WRITE_PW", WRITER_PW)
    monkeypatch.setenv("POLICYENGINE_ACTOR", "soc@example.test")
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "policyengine.yaml"
    config.write_text(
        f"""connectors:
  - instance: ad
    type: ldap
    url: {accounts.url}
    base_dn: "{servers.SAMBA_DOMAIN_DN}"
    bind_dn: Administrator@example.test
    password_env: PE_AD_READ_PW
    remediation:
      bind_dn: "{WRITER}"
      password_env: PE_AD_WRITE_PW
output_dir: {tmp_path / "runs"}
history: {tmp_path / "history.db"}
""",
        encoding="utf-8",
    )
    yield Env(tmp_path, accounts, config)


def _dormant_findings(result: Path) -> dict[str, str]:
    """account name -> fingerprint of its PE-PRIV-003 finding (folded under PE-DIR-001,
    "never signed in", for accounts with no logon at all)."""
    findings = json.loads(result.read_text())["findings"]
    every = findings + [g for f in findings for g in f.get("folded") or ()]
    return {
        f["resource"]["name"]: f["fingerprint"] for f in every if f["policy_id"] == "PE-PRIV-003"
    }


def test_dormant_admin_disabled_in_samba_ad(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    first = env.scan()
    dormant = _dormant_findings(first)
    assert {"dormantadm", "pe-remediator", "Administrator"} <= set(dormant), sorted(dormant)

    plan, digest = env.plan(
        first, dormant["dormantadm"], dormant["pe-remediator"], dormant["Administrator"]
    )
    entries = json.loads(plan.read_text())["entries"]
    actions = {(e["action"], t["name"]) for e in entries for t in e["targets"]}
    assert ("disable_account", "dormantadm") in actions
    assert ("remove_group_member", "Domain Admins: dormantadm") in actions
    # the collecting identity (bind_dn Administrator@example.test = its upn) is excluded
    excluded = {(e["action"], t["name"], t["reason"]) for e in entries for t in e["excluded"]}
    assert (
        "disable_account",
        "Administrator",
        "the source's own identity (Administrator)",
    ) in excluded
    assert ("disable_account", "Administrator") not in actions
    assert servers.SAMBA_ADMIN_PW not in plan.read_text() and WRITER_PW not in plan.read_text()

    capsys.readouterr()
    # the remediation identity is a dormant admin too: excluded in the plan, as above
    assert ("disable_account", "pe-remediator") not in actions
    assert env.apply(plan, digest) == 0
    out = capsys.readouterr().out
    assert "2 applied" in out and "failed" not in out

    conn = env.dc.admin()
    try:
        assert _uac(conn, DORMANT) == DORMANT_UAC | 0x2  # disabled, DONT_EXPIRE kept
        assert not _in_group(conn, DOMAIN_ADMINS, DORMANT)
        assert _uac(conn, WRITER) == 0x200 and _in_group(conn, DOMAIN_ADMINS, WRITER)
    finally:
        conn.unbind()

    # the same plan again: nothing done twice
    assert env.apply(plan, digest) == 0
    second = capsys.readouterr().out
    assert "nothing to do (2 steps, all done before)" in second

    after = _dormant_findings(env.scan())
    assert "dormantadm" not in after  # disabled and no longer privileged
    assert "pe-remediator" in after

    capsys.readouterr()
    assert env.run("history", "--config", str(env.config), "--actions", "--format", "json") == 0
    rows = json.loads(capsys.readouterr().out)["actions"]
    results = sorted((r["action"], r["result"]) for r in rows)
    assert results == [("disable_account", "applied"), ("remove_group_member", "applied")]
    disable = next(r for r in rows if r["action"] == "disable_account" and r["result"] == "applied")
    assert disable["before"]["enabled"] is True
    assert disable["after"] == {"enabled": False, "userAccountControl": DORMANT_UAC | 0x2}
    assert {r["actor"] for r in rows} == {"soc@example.test"}
    capsys.readouterr()
    assert env.run("history", "--config", str(env.config), "--actions") == 0
    assert "disable_account" in capsys.readouterr().out


def test_actions_twice_on_samba_change_nothing_the_second_time(env: Env) -> None:
    from connectors.ldap._actions import DisableAccount, RemoveGroupMember
    from connectors.ldap._remediate import LdapSession
    from policyengine.errors import ConnectorError
    from policyengine.remediate.contract import Target

    session = LdapSession.open(
        {
            "url": env.dc.url,
            "base_dn": servers.SAMBA_DOMAIN_DN,
            "bind_dn": WRITER,
            "password_env": "PE_AD_WRITE_PW",
        },
        instance="ad",
    )
    try:
        assert session.active_directory
        assert WRITER in session.protected_identities()
        assert "pe-remediator" in session.protected_identities()
        disable = Target("account", "x", "dormantadm", {"dn": DORMANT, "enabled": True}, "x")
        member = Target("group", "g", "DA", {"group_dn": DOMAIN_ADMINS, "member_dn": DORMANT}, "x")
        for action, target in [(RemoveGroupMember(), member), (DisableAccount(), disable)]:
            facts = action.read_target(session, target, {})
            assert action.preconditions_hold(facts, target)
            assert action.apply(session, target, {}).changed
            again = action.apply(session, target, {})
            assert not again.changed and "already" in again.detail
        # the bind identity's own entry is refused whatever a plan says
        own = Target("account", "w", "pe-remediator", {"dn": WRITER.lower()}, "w")
        with pytest.raises(ConnectorError, match="remediation bind identity"):
            DisableAccount().apply(session, own, {})
    finally:
        session.close()
    conn = env.dc.admin()
    try:
        assert _uac(conn, DORMANT) == DORMANT_UAC | 0x2
        assert _uac(conn, WRITER) == 0x200
    finally:
        conn.unbind()


def test_a_concurrent_change_of_user_account_control_is_not_overwritten(env: Env) -> None:
    """The disable deletes the value it read: if an admin changed the attribute since,
    the modify fails rather than writing back stale bits."""
    import ldap3

    from connectors.ldap._remediate import LdapSession

    session = LdapSession.open(
        {
            "url": env.dc.url,
            "base_dn": servers.SAMBA_DOMAIN_DN,
            "bind_dn": WRITER,
            "password_env": "PE_AD_WRITE_PW",
        },
        instance="ad",
    )
    try:
        code = session.modify(
            DORMANT,
            {
                "userAccountControl": [
                    (ldap3.MODIFY_DELETE, ["512"]),  # stale: the value is 0x10200
                    (ldap3.MODIFY_ADD, ["514"]),
                ]
            },
        )
        assert code != 0
    finally:
        session.close()
    conn = env.dc.admin()
    try:
        assert _uac(conn, DORMANT) == DORMANT_UAC
    finally:
        conn.unbind()
