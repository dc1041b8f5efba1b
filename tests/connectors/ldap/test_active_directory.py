"""The Active Directory profile against a real Samba AD DC on loopback."""

from __future__ import annotations

import os
import re

import pytest

from policyengine.errors import AuthenticationError
from tests.connectors.ldap import servers
from tests.connectors.ldap.conftest import by_name, collect, needs_samba, read_snapshot

pytestmark = needs_samba

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
USERS = f"CN=Users,{servers.SAMBA_DOMAIN_DN}"


def _options(dc: servers.SambaDC, env: str, **extra):
    return {
        "url": dc.url,
        "base_dn": servers.SAMBA_DOMAIN_DN,
        "bind_dn": "Administrator@example.test",
        "password_env": env,
        **extra,
    }


@pytest.fixture(scope="module")
def ad_snapshot(samba, tmp_path_factory):
    dc, _ = samba

    os.environ["PE_TEST_AD_PW"] = servers.SAMBA_ADMIN_PW
    try:
        out = tmp_path_factory.mktemp("ad") / "ad.jsonl"
        result = collect(
            _options(dc, "PE_TEST_AD_PW", privileged_group=[f"CN=Ops (Tier*0),{USERS}"]),
            out,
            instance="ad",
        )
    finally:
        del os.environ["PE_TEST_AD_PW"]
    assert result.complete, result.errors
    header, records = read_snapshot(out)
    return header, by_name(records, "account"), by_name(records, "group")


def test_profile_is_detected_from_the_root_dse(ad_snapshot):
    header, _, _ = ad_snapshot
    assert header["source"]["profile"] == "active_directory"
    assert header["source"]["last_login_lag_days"] == 14


def test_ids_are_object_guids_and_sids_are_text(ad_snapshot):
    _, accounts, groups = ad_snapshot
    guid = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
    assert all(guid.match(a["id"]) for a in accounts.values())
    admin = accounts["Administrator"]
    assert admin["sid"].startswith("S-1-5-21-") and admin["sid"].endswith("-500")
    assert admin["raw"]["objectSid"] == admin["sid"]
    assert admin["raw"]["objectGUID"] == admin["id"]
    assert groups["Domain Admins"]["sid"].endswith("-512")
    assert groups["Administrators"]["sid"] == "S-1-5-32-544"


def test_nested_domain_admin_is_privileged_by_sid(ad_snapshot):
    _, accounts, groups = ad_snapshot
    nested = accounts["nestedadmin"]
    # nestedadmin -> HelpdeskL2 -> TierZeroAdmins -> Domain Admins (-> Administrators)
    assert nested["privileged"] is True
    assert "Domain Admins" in nested["privileged_via"]
    ids = {groups[n]["id"] for n in ("HelpdeskL2", "TierZeroAdmins", "Domain Admins")}
    assert ids <= set(nested["groups"])
    assert groups["TierZeroAdmins"]["privileged"] is True
    assert groups["TierZeroAdmins"]["nested_groups"] == [groups["HelpdeskL2"]["id"]]
    assert accounts["plainuser"]["privileged"] is False


def test_server_side_in_chain_agrees_with_client_side_resolution(samba, ad_snapshot):
    """The 1.2.840.113556.1.4.1941 answer and our own nesting give the same admins."""
    dc, _ = samba
    conn = dc.admin()
    conn.search(
        servers.SAMBA_DOMAIN_DN,
        f"(&(objectCategory=person)(memberOf:1.2.840.113556.1.4.1941:=CN=Domain Admins,{USERS}))",
        attributes=["sAMAccountName"],
    )
    in_chain = {
        str(e["attributes"]["sAMAccountName"][0])
        for e in conn.response
        if e["type"] == "searchResEntry"
    }
    conn.unbind()
    _, accounts, _ = ad_snapshot
    ours = {n for n, a in accounts.items() if "Domain Admins" in a["privileged_via"]}
    # the primary-group member is invisible to IN_CHAIN; everything else must agree
    assert ours - in_chain == {"pgadmin"}
    assert in_chain <= ours


def test_primary_group_counts_although_memberof_omits_it(ad_snapshot):
    _, accounts, groups = ad_snapshot
    pg = accounts["pgadmin"]
    assert pg["primary_group_id"] == 512
    assert f"CN=Domain Admins,{USERS}" not in pg["raw"].get("memberOf", [])
    assert pg["privileged"] is True and "Domain Admins" in pg["privileged_via"]
    assert groups["Domain Admins"]["id"] in pg["groups"]
    assert pg["id"] in groups["Domain Admins"]["members"]
    # and everyone's primary group, Domain Users, is in their groups
    assert groups["Domain Users"]["id"] in accounts["plainuser"]["groups"]


def test_builtin_backup_operators_is_privileged(ad_snapshot):
    _, accounts, groups = ad_snapshot
    assert accounts["backupop"]["privileged_via"] == ["Backup Operators"]
    assert groups["Backup Operators"]["privileged"] is True


def test_user_account_control_is_decoded(ad_snapshot):
    _, accounts, _ = ad_snapshot
    assert accounts["neverexp"]["flags"] == ["NORMAL_ACCOUNT", "DONT_EXPIRE_PASSWORD"]
    assert accounts["neverexp"]["password_never_expires"] is True
    assert accounts["plainuser"]["password_never_expires"] is False
    assert accounts["asrep"]["kerberos_preauth_required"] is False
    assert "DONT_REQ_PREAUTH" in accounts["asrep"]["flags"]
    assert accounts["plainuser"]["kerberos_preauth_required"] is True
    assert accounts["disabled1"]["enabled"] is False
    assert accounts["Guest"]["password_not_required"] is True
    unconstrained = accounts["unconstrained"]["delegation"]
    assert unconstrained["unconstrained"] is True
    deleg = accounts["deleg"]["delegation"]
    assert deleg["protocol_transition"] is True
    assert sorted(deleg["constrained_to"]) == ["cifs/fs01", "cifs/fs01.example.test"]
    assert deleg["unconstrained"] is False


def test_smartcard_required_is_phishing_resistant_mfa_and_nothing_else_claims_mfa(ad_snapshot):
    _, accounts, _ = ad_snapshot
    assert accounts["smart"]["mfa"] == {
        "enrolled": True,
        "methods": ["smartcard"],
        "phishing_resistant": True,
    }
    assert "mfa" not in accounts["plainuser"]


def test_service_account_spn_encryption_types_and_type(ad_snapshot):
    _, accounts, _ = ad_snapshot
    svc = accounts["svc_sql"]
    assert svc["spns"] == ["MSSQLSvc/sql01.example.test:1433"]
    assert svc["supported_encryption_types"] == ["RC4_HMAC"]
    assert svc["type"] == "service"
    assert accounts["plainuser"]["type"] == "human"


def test_times_are_iso_utc_and_admin_count_is_read(ad_snapshot):
    _, accounts, _ = ad_snapshot
    admin = accounts["Administrator"]
    assert ISO.match(admin["created_at"])
    assert ISO.match(admin["password_last_set_at"])
    assert ISO.match(admin["last_login_at"])  # the fixture bound as Administrator
    assert admin["admin_count"] == 1
    assert accounts["nestedadmin"]["admin_count"] == 1
    assert "last_login_at" not in accounts["plainuser"]  # never logged on: missing
    assert "expires_at" not in accounts["plainuser"]  # accountExpires "never"
    assert accounts["nestedadmin"]["email"] == "nested.admin@example.test"
    assert accounts["nestedadmin"]["employee_id"] == "E2001"


def test_raw_holds_no_password_material(ad_snapshot):
    _, accounts, _ = ad_snapshot
    forbidden = {"unicodepwd", "userpassword", "dbcspwd", "ntpwdhistory", "supplementalcredentials"}
    for account in accounts.values():
        assert not forbidden & {k.lower() for k in account["raw"]}


def test_configured_group_dn_with_filter_metacharacters_is_escaped(ad_snapshot):
    """CN=Ops (Tier*0) holds ( ) *: unescaped in the IN_CHAIN filter it would break."""
    _, accounts, _ = ad_snapshot
    assert accounts["carol"]["privileged"] is True
    assert accounts["carol"]["privileged_via"] == ["OpsTier0"]


def test_a_dn_that_is_an_injection_payload_matches_only_its_own_members(
    samba, tmp_path, monkeypatch
):
    dc, dns = samba
    monkeypatch.setenv("PE_TEST_AD_PW", servers.SAMBA_ADMIN_PW)
    evil = dns["evil)(objectClass=*"]  # CN=evil\)\(objectClass\=*  - a real group
    out = tmp_path / "evil.jsonl"
    result = collect(
        _options(dc, "PE_TEST_AD_PW", privileged_group=[evil], default_privileged_groups=False),
        out,
    )
    assert result.complete, result.errors
    accounts = by_name(read_snapshot(out)[1], "account")
    assert {n for n, a in accounts.items() if a["privileged"]} == {"mallory"}


def test_in_chain_filter_escapes_the_dn():
    from ldap3.utils.conv import escape_filter_chars

    dn = "CN=evil)(objectClass=*,CN=Users,DC=example,DC=test"
    escaped = escape_filter_chars(dn)
    assert "(" not in escaped and ")" not in escaped and "*" not in escaped
    assert escaped == "CN=evil\\29\\28objectClass=\\2a,CN=Users,DC=example,DC=test"


def test_continuation_references_are_not_followed(ad_snapshot):
    header, _, _ = ad_snapshot
    refs = header["source"]["referrals_not_followed"]
    assert any("example.test" in r for r in refs)  # a name that does not even resolve
    assert header["source"]["complete"] is True


def test_wrong_password_against_ad(samba, tmp_path, monkeypatch):
    dc, _ = samba
    monkeypatch.setenv("PE_TEST_AD_PW", "Not-The-Password-1")
    with pytest.raises(AuthenticationError, match="invalid credentials"):
        collect(_options(dc, "PE_TEST_AD_PW"), tmp_path / "x.jsonl")
    assert not (tmp_path / "x.jsonl").exists()


def test_ldaps_to_samba_refuses_a_certificate_naming_another_host(samba, tmp_path, monkeypatch):
    """Samba's cert says CN=DC1.example.test; connecting by IP must be refused."""
    dc, _ = samba
    monkeypatch.setenv("PE_TEST_AD_PW", servers.SAMBA_ADMIN_PW)
    out = tmp_path / "tls.jsonl"
    result = collect(_options(dc, "PE_TEST_AD_PW", url=dc.ldaps_url, ca_file=str(dc.ca)), out)
    assert result.complete is False
    assert "TLS certificate" in result.errors[0]
    assert read_snapshot(out)[1] == []


def test_cli_end_to_end_against_samba(samba, tmp_path):
    from tests.connectors.ldap.conftest import cli

    dc, _ = samba
    out = tmp_path / "ad.jsonl"
    env = servers.env_with(PE_TEST_AD_PW=servers.SAMBA_ADMIN_PW)
    proc = cli(
        "collect", "ldap", "--url", dc.url, "--base-dn", servers.SAMBA_DOMAIN_DN,
        "--bind-dn", "Administrator@example.test", "--password-env", "PE_TEST_AD_PW",
        "--profile", "active_directory", "--page-size", "3", "-o", str(out),
        env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    header, records = read_snapshot(out)
    assert header["source"]["complete"] is True
    accounts = by_name(records, "account")
    assert accounts["nestedadmin"]["privileged"] is True
    assert servers.SAMBA_ADMIN_PW not in proc.stderr


def test_failed_binds_lock_an_ad_account(samba, tmp_path, monkeypatch):
    import ldap3

    dc, dns = samba
    admin = dc.admin()
    admin.modify(servers.SAMBA_DOMAIN_DN, {"lockoutThreshold": [(ldap3.MODIFY_REPLACE, ["3"])]})
    assert admin.result["result"] == 0, admin.result
    try:
        for _ in range(4):
            c = ldap3.Connection(
                ldap3.Server(dc.url, get_info=ldap3.NONE), dns["lockme"], "nope-x1"
            )
            assert c.bind() is False
        monkeypatch.setenv("PE_TEST_AD_PW", servers.SAMBA_ADMIN_PW)
        out = tmp_path / "lock.jsonl"
        assert collect(_options(dc, "PE_TEST_AD_PW"), out).complete
        accounts = by_name(read_snapshot(out)[1], "account")
    finally:
        admin.modify(servers.SAMBA_DOMAIN_DN, {"lockoutThreshold": [(ldap3.MODIFY_REPLACE, ["0"])]})
        admin.unbind()
    lockme = accounts["lockme"]
    assert lockme["locked"] is True
    assert "LOCKOUT" in lockme["flags"]
    assert lockme["enabled"] is True  # locked out is not disabled
    assert accounts["plainuser"]["locked"] is False


def test_ldaps_to_samba_with_its_ca_and_the_name_on_its_certificate(samba, tmp_path, monkeypatch):
    """Connect by IP, verify against the CA and the name the certificate carries."""
    dc, _ = samba
    monkeypatch.setenv("PE_TEST_AD_PW", servers.SAMBA_ADMIN_PW)
    out = tmp_path / "tls.jsonl"
    opts = _options(
        dc,
        "PE_TEST_AD_PW",
        url=dc.ldaps_url,
        ca_file=str(dc.ca),
        tls_server_name="DC1.example.test",
    )
    result = collect(opts, out)
    assert result.complete, result.errors
    assert by_name(read_snapshot(out)[1], "account")["nestedadmin"]["privileged"] is True


def test_ldaps_to_samba_with_the_right_name_but_another_ca_is_refused(
    samba, slapd, tmp_path, monkeypatch
):
    dc, _ = samba
    monkeypatch.setenv("PE_TEST_AD_PW", servers.SAMBA_ADMIN_PW)
    opts = _options(
        dc,
        "PE_TEST_AD_PW",
        url=dc.ldaps_url,
        ca_file=str(slapd.ca),
        tls_server_name="DC1.example.test",
    )
    result = collect(opts, tmp_path / "tls.jsonl")
    assert result.complete is False
    assert "TLS certificate" in result.errors[0]


def test_unknown_options_are_refused():
    from connectors.ldap._options import parse_options
    from policyengine.errors import UsageError

    base = {"url": "ldap://h", "base_dn": "dc=x", "bind_dn": "cn=a", "password_env": "X"}
    with pytest.raises(UsageError, match="unknown option 'pasword_env'"):
        parse_options({**base, "pasword_env": "Y"})
