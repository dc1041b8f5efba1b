"""The OpenLDAP profile against a real slapd (memberof + ppolicy overlays)."""

from __future__ import annotations

import re

import pytest

from tests.connectors.ldap import servers
from tests.connectors.ldap.conftest import DATA, by_name, collect, needs_slapd, read_snapshot

pytestmark = needs_slapd

PEOPLE = "ou=people,dc=example,dc=com"
GROUPS = "ou=groups,dc=example,dc=com"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def _options(slapd: servers.Slapd, env: str, **extra):
    return {
        "url": slapd.url,
        "base_dn": servers.BASE_DN,
        "bind_dn": servers.ROOT_DN,
        "password_env": env,
        "privileged_group": [f"cn=admins,{GROUPS}"],
        "ppolicy_default": "cn=default,ou=policies,dc=example,dc=com",
        **extra,
    }


@pytest.fixture
def snapshot(slapd, password_env, tmp_path):
    out = tmp_path / "corp.jsonl"
    result = collect(_options(slapd, password_env(servers.ROOT_PW)), out)
    assert result.complete, result.errors
    header, records = read_snapshot(out)
    return header, by_name(records, "account"), by_name(records, "group")


def test_accounts_carry_entryuuid_ids_and_normalised_fields(snapshot, slapd):
    header, accounts, _ = snapshot
    assert header["source"]["profile"] == "openldap"
    assert header["source"]["complete"] is True
    assert header["source"]["collected_as"] == [servers.ROOT_DN]  # the bind DN: never acted on
    alice = accounts["alice"]
    conn = slapd.admin()
    conn.search(f"uid=alice,{PEOPLE}", "(objectClass=*)", "BASE", attributes=["entryUUID"])
    assert alice["id"] == conn.response[0]["attributes"]["entryUUID"][0]
    assert alice["email"] == "alice@example.com"
    assert alice["employee_id"] == "E1001"
    assert alice["display_name"] == "Alice Admin"
    assert alice["dn"] == f"uid=alice,{PEOPLE}"
    assert alice["enabled"] is True and alice["locked"] is False
    assert ISO.match(alice["created_at"])
    assert "source" in alice and alice["source"] == "corp"


def test_directory_cannot_see_mfa_so_the_key_is_absent(snapshot):
    _, accounts, _ = snapshot
    assert all("mfa" not in a for a in accounts.values())


def test_nested_groups_resolved_and_privilege_follows_nesting(snapshot):
    _, accounts, groups = snapshot
    ids = {name: g["id"] for name, g in groups.items()}
    # alice -> ops -> admins; backup -> oncall -> ops -> admins
    assert set(accounts["alice"]["groups"]) == {ids["ops"], ids["admins"]}
    assert set(accounts["backup"]["groups"]) == {ids["oncall"], ids["ops"], ids["admins"]}
    assert accounts["backup"]["privileged"] is True
    assert accounts["backup"]["privileged_via"] == ["admins"]
    assert accounts["bg-admin"]["privileged_via"] == ["admins"]
    assert accounts["carol"]["privileged"] is False
    assert groups["oncall"]["privileged"] is True
    assert groups["cyc-a"]["privileged"] is False


def test_group_records_list_direct_members_and_nested_groups(snapshot):
    _, accounts, groups = snapshot
    admins = groups["admins"]
    assert admins["members"] == [accounts["bg-admin"]["id"]]
    assert admins["nested_groups"] == [groups["ops"]["id"]]
    assert admins["raw"]["dn"] == f"cn=admins,{GROUPS}"
    # groupOfUniqueNames with the optional "#'0101'B" uid suffix
    assert groups["legacy"]["members"] == [accounts["dave"]["id"]]
    assert groups["legacy"]["id"] in accounts["dave"]["groups"]


def test_group_cycle_is_cut_and_reported(snapshot):
    _, accounts, groups = snapshot
    assert set(accounts["bob"]["groups"]) == {groups["cyc-a"]["id"], groups["cyc-b"]["id"]}
    assert groups["cyc-a"]["nested_groups"] == [groups["cyc-b"]["id"]]
    assert groups["cyc-b"]["nested_groups"] == [groups["cyc-a"]["id"]]


def test_account_types_follow_the_default_rules(snapshot):
    _, accounts, _ = snapshot
    assert accounts["bg-admin"]["type"] == "break_glass"
    assert accounts["shared-frontdesk"]["type"] == "shared"
    assert accounts["backup"]["type"] == "service"  # under ou=services
    assert accounts["alice"]["type"] == "human"


def test_configured_type_rules_come_first(slapd, password_env, tmp_path):
    out = tmp_path / "t.jsonl"
    opts = _options(
        slapd,
        password_env(servers.ROOT_PW),
        type_rule=["shared:name=^alice$", f"service:ou={PEOPLE}"],
    )
    collect(opts, out)
    accounts = by_name(read_snapshot(out)[1], "account")
    assert accounts["alice"]["type"] == "shared"
    assert accounts["bob"]["type"] == "service"
    assert accounts["bg-admin"]["type"] == "service"  # configured rules beat the defaults


def test_ppolicy_attributes_are_mapped(snapshot):
    _, accounts, _ = snapshot
    bob = accounts["bob"]
    assert bob["password_policy"] == "cn=strict,ou=policies,dc=example,dc=com"
    assert bob["password_never_expires"] is False  # strict: pwdMaxAge 90 days
    assert ISO.match(bob["password_last_set_at"])  # pwdChangedTime
    assert accounts["alice"]["password_never_expires"] is True  # default policy: pwdMaxAge 0
    # pwdAccountLockedTime 000001010000Z: locked by an administrator until reset
    assert accounts["eve"]["locked"] is True
    assert accounts["eve"]["enabled"] is False
    assert accounts["eve"]["raw"]["pwdAccountLockedTime"] == "000001010000Z"


def test_without_a_known_policy_password_expiry_is_missing_not_false(slapd, password_env, tmp_path):
    out = tmp_path / "p.jsonl"
    opts = _options(slapd, password_env(servers.ROOT_PW))
    del opts["ppolicy_default"]
    collect(opts, out)
    accounts = by_name(read_snapshot(out)[1], "account")
    assert "password_never_expires" not in accounts["alice"]
    assert accounts["bob"]["password_never_expires"] is False  # its own pwdPolicySubentry


def test_failed_binds_lock_an_account_via_ppolicy(slapd, password_env, tmp_path):
    import ldap3

    for _ in range(3):  # pwdMaxFailure 3 in the default policy
        c = ldap3.Connection(ldap3.Server(slapd.url), f"uid=dave,{PEOPLE}", "wrong-password")
        assert c.bind() is False
    out = tmp_path / "lock.jsonl"
    collect(_options(slapd, password_env(servers.ROOT_PW)), out)
    dave = by_name(read_snapshot(out)[1], "account")["dave"]
    assert dave["locked"] is True
    assert ISO.match(dave["locked_at"])
    assert dave["enabled"] is True  # locked by failures, not disabled


def test_attribute_mapping_for_custom_schemas(slapd, password_env, tmp_path):
    out = tmp_path / "m.jsonl"
    opts = _options(
        slapd,
        password_env(servers.ROOT_PW),
        attribute_map={"employee_id": "departmentNumber", "disabled": "employeeType", "name": "cn"},
    )
    result = collect(opts, out)
    assert result.complete
    accounts = by_name(read_snapshot(out)[1], "account")
    eve = accounts["Eve Custom"]
    assert eve["employee_id"] == "D-77"
    assert eve["enabled"] is False
    assert "employee_id" not in accounts["Alice Admin"]  # mapped away from employeeNumber


def test_cli_map_flags_parse_like_the_yaml_mapping():
    from connectors.ldap._options import parse_options
    from policyengine.errors import UsageError

    base = {"url": "ldap://127.0.0.1", "base_dn": "dc=x", "bind_dn": "cn=a", "password_env": "X"}
    parsed = parse_options({**base, "attribute_map": ["employee_id=departmentNumber"]})
    assert parsed.attribute_map == {"employee_id": "departmentNumber"}
    with pytest.raises(UsageError, match="unknown field 'colour'"):
        parse_options({**base, "attribute_map": {"colour": "x"}})
    with pytest.raises(UsageError, match="needs an attribute name"):
        parse_options({**base, "attribute_map": {"email": "mail)(uid=*"}})


def test_memberof_overlay_absent_gives_the_same_memberships(password_env, tmp_path, snapshot):
    """Without the overlay, membership comes from the groups' member lists."""
    directory = servers.tempdir("pe-slapd-nomo-")
    server = servers.Slapd(directory, memberof=False)
    try:
        server.setup()
        server.start()
        server.add_ldif(DATA / "openldap.ldif")
        out = tmp_path / "nomo.jsonl"
        collect(_options(server, password_env(servers.ROOT_PW)), out)
        accounts = by_name(read_snapshot(out)[1], "account")
        groups = by_name(read_snapshot(out)[1], "group")
    finally:
        server.stop()
        servers.rmtree(directory)
    _, with_overlay, with_groups = snapshot
    assert "memberOf" not in accounts["alice"]["raw"]

    def names(accs, grps):
        by_id = {g["id"]: n for n, g in grps.items()}
        return {n: sorted(by_id[i] for i in a["groups"]) for n, a in accs.items()}

    assert names(accounts, groups) == names(with_overlay, with_groups)
    assert accounts["backup"]["privileged_via"] == ["admins"]


def test_small_pages_collect_every_entry(slapd, password_env, tmp_path, snapshot):
    out = tmp_path / "paged.jsonl"
    result = collect({**_options(slapd, password_env(servers.ROOT_PW)), "page_size": 2}, out)
    assert result.complete
    _, accounts, groups = snapshot
    paged = read_snapshot(out)[1]
    assert set(by_name(paged, "account")) == set(accounts)
    assert set(by_name(paged, "group")) == set(groups)


def test_server_size_limit_marks_the_snapshot_incomplete(slapd, password_env, tmp_path):
    out = tmp_path / "limited.jsonl"
    opts = {
        **_options(slapd, password_env("Passw0rd!")),
        "bind_dn": f"uid=reader,{PEOPLE}",
        "page_size": 2,
    }
    result = collect(opts, out)
    assert result.complete is False
    header, _ = read_snapshot(out)
    assert header["source"]["complete"] is False
    assert any("size limit" in e for e in header["source"]["errors"])


def test_raw_attributes_are_json_safe_and_hold_no_password(snapshot):
    _, accounts, _ = snapshot
    for account in accounts.values():
        raw_keys = {k.lower() for k in account["raw"]}
        assert "userpassword" not in raw_keys and "pwdhistory" not in raw_keys
    assert accounts["alice"]["raw"]["memberOf"] == [f"cn=ops,{GROUPS}"]
    assert ISO.match(accounts["alice"]["raw"]["createTimestamp"])


def test_snapshot_json_encoding_and_gzip(slapd, password_env, tmp_path):
    import gzip

    import orjson

    out = tmp_path / "corp.json.gz"
    collect(_options(slapd, password_env(servers.ROOT_PW)), out)
    doc = orjson.loads(gzip.decompress(out.read_bytes()))
    assert {a["name"] for a in doc["accounts"]} >= {"alice", "bob"}
    assert doc["source"]["complete"] is True


def test_referrals_are_not_followed(slapd, password_env, tmp_path):
    from tests.connectors.ldap.proxy import RecordingListener

    listener = RecordingListener()
    conn = slapd.admin()
    ref_dn = "ou=elsewhere,dc=example,dc=com"
    conn.add(
        ref_dn,
        ["referral", "extensibleObject"],
        {"ou": "elsewhere", "ref": f"ldap://127.0.0.1:{listener.port}/ou=elsewhere,dc=other"},
        controls=[("2.16.840.1.113730.3.4.2", False, None)],  # ManageDsaIT
    )
    assert conn.result["result"] == 0, conn.result
    try:
        out = tmp_path / "ref.jsonl"
        result = collect(_options(slapd, password_env(servers.ROOT_PW)), out)
        assert result.complete
        header, _ = read_snapshot(out)
        refs = header["source"]["referrals_not_followed"]
        assert any(str(listener.port) in r for r in refs)
        assert listener.connections == 0
    finally:
        conn.delete(ref_dn, controls=[("2.16.840.1.113730.3.4.2", False, None)])
        conn.unbind()
        listener.close()


def test_configured_privileged_group_that_does_not_exist_fails_closed(
    slapd, password_env, tmp_path
):
    out = tmp_path / "missing.jsonl"
    opts = _options(slapd, password_env(servers.ROOT_PW))
    opts["privileged_group"] = [f"cn=no-such-group,{GROUPS}"]
    result = collect(opts, out)
    assert result.complete is False
    assert "no-such-group" in result.errors[0]


def test_a_mapped_id_that_is_not_unique_skips_the_entry_and_says_so(slapd, password_env, tmp_path):
    out = tmp_path / "dup.jsonl"
    opts = _options(slapd, password_env(servers.ROOT_PW), attribute_map={"id": "sn"})
    result = collect(opts, out)
    header, records = read_snapshot(out)
    assert result.complete  # sn is unique in the test data
    assert len(by_name(records, "account")) == 9
    # objectClass is inetOrgPerson for everyone: every account after the first collides
    opts["attribute_map"] = {"id": "objectClass"}
    result = collect(opts, out)
    header, records = read_snapshot(out)
    assert result.complete is False
    assert "duplicate account id" in header["source"]["errors"][0]
    assert len(by_name(records, "account")) == 1
