"""``owner`` of service accounts from ``manager`` (or a mapped attribute), resolved to an id.

PE-PRIV-001 ("service and shared accounts have an owner") and PE-PRIV-010
("... owned by an enabled account") read ``owner`` as a reference: the
owner's id in the same snapshot, not a DN.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.ldap._owner import OwnerResolver
from tests.connectors.ldap import servers
from tests.connectors.ldap.conftest import (
    by_name,
    collect,
    needs_samba,
    needs_slapd,
    read_snapshot,
)

LDIF = """\
dn: dc=example,dc=com
objectClass: top
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=people,dc=example,dc=com
objectClass: organizationalUnit
ou: people

dn: uid=olga,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: olga
cn: Olga Owner
sn: Owner

dn: uid=hugo,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: hugo
cn: Hugo Human
sn: Human
manager: uid=olga,ou=people,dc=example,dc=com

dn: uid=svc-owned,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: svc-owned
cn: svc-owned
sn: Owned
manager: uid=olga,ou=people,dc=example,dc=com

dn: uid=svc-orphan,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: svc-orphan
cn: svc-orphan
sn: Orphan
manager: uid=gone,ou=people,dc=example,dc=com

dn: uid=svc-seealso,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: svc-seealso
cn: svc-seealso
sn: SeeAlso
seeAlso: uid=olga,ou=people,dc=example,dc=com
"""


def _reader(table: dict[str, str | None], calls: list[str]):
    def read(dn: str) -> str | None:
        calls.append(dn)
        return table.get(dn)

    return read


def test_only_non_human_accounts_get_an_owner() -> None:
    calls: list[str] = []
    resolver = OwnerResolver(_reader({"uid=o,dc=x": "id-o"}, calls))
    attrs = {"manager": [b"uid=o,dc=x"]}
    assert resolver.owner_of("human", attrs, "manager") is None
    assert calls == []  # a human's manager is not even looked up
    for kind in ("service", "shared", "break_glass"):
        assert resolver.owner_of(kind, attrs, "manager") == "id-o"


def test_lookups_are_cached_by_normalised_dn() -> None:
    calls: list[str] = []
    resolver = OwnerResolver(_reader({"uid=o,dc=x": "id-o"}, calls))
    assert resolver.owner_of("service", {"manager": [b"uid=o,dc=x"]}, "manager") == "id-o"
    assert resolver.owner_of("service", {"manager": [b"UID=O, DC=X"]}, "manager") == "id-o"
    assert calls == ["uid=o,dc=x"]
    assert resolver.lookups == 1


def test_no_attribute_or_unknown_owner_is_missing() -> None:
    calls: list[str] = []
    resolver = OwnerResolver(_reader({}, calls))
    assert resolver.owner_of("service", {}, "manager") is None
    assert resolver.owner_of("service", {"manager": [b"uid=o,dc=x"]}, None) is None
    assert resolver.owner_of("service", {"manager": [b"uid=gone,dc=x"]}, "manager") is None
    # a missing owner is remembered too: one read per distinct DN
    assert resolver.owner_of("service", {"manager": [b"uid=gone,dc=x"]}, "manager") is None
    assert calls == ["uid=gone,dc=x"]


@pytest.fixture(scope="module")
def owned_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.Slapd]:
    if not (servers.SLAPD and servers.SLAPADD and servers.OPENSSL):
        pytest.skip("slapd/slapadd/openssl not installed")
    ldif = tmp_path_factory.mktemp("owner") / "owner.ldif"
    ldif.write_text(LDIF, encoding="utf-8")
    directory = servers.tempdir("pe-slapd-owner-")
    server = servers.Slapd(directory, preload=[ldif])
    try:
        server.setup()
        server.start()
        yield server
    finally:
        server.stop()
        servers.rmtree(directory)


def _collect(server: servers.Slapd, out: Path, password_env, **extra) -> dict[str, dict]:
    options = {
        "url": server.url,
        "base_dn": servers.BASE_DN,
        "bind_dn": servers.ROOT_DN,
        "password_env": password_env(servers.ROOT_PW),
        **extra,
    }
    result = collect(options, out)
    assert result.complete, result
    return by_name(read_snapshot(out)[1], "account")


@needs_slapd
def test_manager_of_a_service_account_becomes_its_owner_id(
    owned_directory: servers.Slapd, tmp_path: Path, password_env
) -> None:
    accounts = _collect(owned_directory, tmp_path / "s.jsonl", password_env)
    olga = accounts["olga"]
    assert accounts["svc-owned"]["owner"] == olga["id"]  # the entryUUID, not the DN
    assert accounts["svc-owned"]["raw"]["manager"] == "uid=olga,ou=people,dc=example,dc=com"
    assert "owner" not in accounts["hugo"]  # human: a manager, not an owner
    assert "owner" not in accounts["svc-orphan"]  # the manager was deleted: missing
    assert "owner" not in accounts["svc-seealso"]  # not the configured attribute


@needs_slapd
def test_owner_attribute_can_be_mapped(
    owned_directory: servers.Slapd, tmp_path: Path, password_env
) -> None:
    accounts = _collect(
        owned_directory, tmp_path / "s.jsonl", password_env, attribute_map={"owner": "seeAlso"}
    )
    assert accounts["svc-seealso"]["owner"] == accounts["olga"]["id"]
    assert "owner" not in accounts["svc-owned"]


@needs_samba
def test_active_directory_service_account_owner_is_the_managers_object_guid(
    samba, tmp_path: Path, password_env
) -> None:
    """PE-PRIV-001 flagged every AD service account: AD users carry ``manager``, now read."""
    import ldap3

    dc, dns = samba
    conn = dc.admin()
    try:
        conn.modify(dns["svc_sql"], {"manager": [(ldap3.MODIFY_REPLACE, [dns["nestedadmin"]])]})
        assert conn.result["result"] == 0, conn.result
        out = tmp_path / "ad.jsonl"
        options = {
            "url": dc.url,
            "base_dn": servers.SAMBA_DOMAIN_DN,
            "bind_dn": servers.SAMBA_ADMIN_DN,
            "password_env": password_env(servers.SAMBA_ADMIN_PW),
        }
        result = collect(options, out)
        assert result.complete, result.errors
        accounts = by_name(read_snapshot(out)[1], "account")
        assert accounts["svc_sql"]["type"] == "service"
        assert accounts["svc_sql"]["owner"] == accounts["nestedadmin"]["id"]  # GUID text
        assert "owner" not in accounts["krbtgt"]  # a service account nobody manages
    finally:
        conn.modify(dns["svc_sql"], {"manager": [(ldap3.MODIFY_DELETE, [])]})
        conn.unbind()
