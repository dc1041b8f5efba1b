"""The UNC6040 attack chain, end to end, through the real connectors and the built-in library.

A fictional retailer (Maison Lumiere, ``tests/e2e/data/attack-chain/``) has
the same people in its directory (a real slapd), its Okta org (the Okta
emulator) and its Salesforce org (the Salesforce emulator). The test runs
the command line as a user would: ``policyengine collect ldap|okta|salesforce
... -o FILE`` (three child processes), then ``policyengine evaluate
--snapshot ... --format json`` with the built-in policy library, and checks
that every link of the chain is reported on the resource it is about, and
that the clean resources get nothing. A ``policyengine scan`` with the three
connector instances in a ``policyengine.yaml`` runs once too.

What this proves that the per-connector tests do not: the field names and
values the connectors emit are the ones the library's policies read.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.connectors.ldap import servers
from tests.e2e.conftest import run
from tests.emulators.kit import EmulatorServer
from tests.emulators.okta import OktaEmulator, OktaOrg
from tests.emulators.salesforce import start_org

DATA = Path(__file__).resolve().parent / "data" / "attack-chain"
#: The evaluation clock: the fixtures' timestamps are written against it.
NOW = "2026-11-01T00:00:00Z"
DOMAIN = "maison-lumiere.example"
OKTA_TOKEN = "00SSWS-attack-chain-token-Hq4vN8xP2mL7"
SF_CLIENT_ID = "3MVG9maisonlumiere.consumer.key"
SF_USERNAME = "policyengine@maison-lumiere.crm.example"
PRIVILEGED_GROUP = "cn=it-admins,ou=groups,dc=example,dc=com"

pytestmark = pytest.mark.skipif(
    not (servers.SLAPD and servers.SLAPADD and servers.OPENSSL),
    reason="slapd/slapadd/openssl not installed (apt-get install slapd ldap-utils openssl)",
)


@dataclass
class Sources:
    """The three running sources and how to reach them."""

    ldap_url: str
    okta_url: str
    salesforce_url: str
    key_file: Path
    env: dict[str, str]


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sources]:
    work = tmp_path_factory.mktemp("chain-sources")
    # slapd, with the directory loaded by slapadd (keeps createTimestamp & co.)
    directory = servers.tempdir("pe-chain-slapd-")
    slapd = servers.Slapd(directory, preload=[DATA / "directory.ldif"])
    # the Salesforce org trusts this key for the JWT bearer flow
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = work / "sf-key.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    okta = OktaEmulator(OktaOrg.load(DATA / "okta.json"), ssws_tokens={OKTA_TOKEN})
    sf_server = None
    try:
        slapd.setup()
        slapd.start()
        sf_server, _ = start_org(
            json.loads((DATA / "salesforce.json").read_text(encoding="utf-8")),
            client_id=SF_CLIENT_ID,
            public_key_pem=public,
        )
        with EmulatorServer(okta) as okta_server:  # start() sets okta.base_url
            yield Sources(
                ldap_url=slapd.url,
                okta_url=okta_server.base_url,
                salesforce_url=sf_server.base_url,
                key_file=key_file,
                env={"CHAIN_LDAP_PW": servers.ROOT_PW, "CHAIN_OKTA_TOKEN": OKTA_TOKEN},
            )
    finally:
        if sf_server is not None:
            sf_server.stop()
        slapd.stop()
        servers.rmtree(directory)


def _cli(*args: str | os.PathLike[str], cwd: Path, env: dict[str, str]):
    return run(sys.executable, "-m", "policyengine", *args, cwd=cwd, env=env)


def _collect_args(sources: Sources) -> dict[str, list[str]]:
    """``policyengine collect`` arguments per connector instance."""
    return {
        "corp-ldap": [
            "ldap", "--url", sources.ldap_url, "--base-dn", servers.BASE_DN,
            "--bind-dn", servers.ROOT_DN, "--password-env", "CHAIN_LDAP_PW",
            "--privileged-group", PRIVILEGED_GROUP, "--timeout", "10",
        ],
        "okta": [
            "okta", "--org-url", sources.okta_url, "--token-env", "CHAIN_OKTA_TOKEN",
            "--retry-backoff", "0.01",
        ],
        "salesforce": [
            "salesforce", "--login-url", sources.salesforce_url, "--client-id", SF_CLIENT_ID,
            "--username", SF_USERNAME, "--private-key-file", str(sources.key_file),
        ],
    }  # fmt: skip


@dataclass
class Chain:
    """What `collect` and `evaluate` produced."""

    snapshots: dict[str, Path]
    findings: list[dict[str, Any]]
    summary: dict[str, Any]
    exit_code: int

    def on(self, source: str, name: str) -> set[str]:
        """Policy ids reported on the resource ``name`` of ``source``."""
        return {
            f["policy_id"]
            for f in self.findings
            if f["resource"]["source"] == source and f["resource"]["name"] == name
        }

    def on_id(self, resource_id: str) -> set[str]:
        return {f["policy_id"] for f in self.findings if f["resource"]["id"] == resource_id}

    def resources(self, policy_id: str) -> set[tuple[str, str]]:
        return {
            (f["resource"]["source"], f["resource"]["name"])
            for f in self.findings
            if f["policy_id"] == policy_id
        }


@pytest.fixture(scope="module")
def chain(sources: Sources, tmp_path_factory: pytest.TempPathFactory) -> Chain:
    work = tmp_path_factory.mktemp("chain")
    snapshots: dict[str, Path] = {}
    for instance, args in _collect_args(sources).items():
        out = work / f"{instance}.jsonl"
        proc = _cli("collect", *args, "--instance", instance, "-o", out, cwd=work, env=sources.env)
        assert proc.returncode == 0, f"collect {instance}: {proc.stdout}\n{proc.stderr}"
        snapshots[instance] = out
    return _evaluate(snapshots, work, sources.env)


def _evaluate(snapshots: dict[str, Path], work: Path, env: dict[str, str]) -> Chain:
    """``policyengine evaluate`` over the snapshots with the built-in library, as JSON.

    ``PE_CHAIN_DUMP=/some/dir/findings.json`` keeps the findings by resource
    and the snapshots there, for looking at what the connectors emitted.
    """
    report = work / "findings.json"
    snaps = [a for path in snapshots.values() for a in ("--snapshot", str(path))]
    proc = _cli(
        "evaluate", *snaps, "--format", "json", "--now", NOW, "-o", report, cwd=work, env=env
    )
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    result = json.loads(report.read_text(encoding="utf-8"))
    if os.environ.get("PE_CHAIN_DUMP"):
        by_resource: dict[str, list[str]] = defaultdict(list)
        for f in result["findings"]:
            r = f["resource"]
            by_resource[f"{r['source']}:{r['kind']}:{r['name']}"].append(f["policy_id"])
        dump = Path(os.environ["PE_CHAIN_DUMP"])
        dump = dump.with_name(f"{'-'.join(snapshots)}-{dump.name}")
        dump.write_text(json.dumps(dict(sorted(by_resource.items())), indent=1))
        for instance, path in snapshots.items():
            shutil.copy(path, dump.parent / f"{instance}.jsonl")
    return Chain(snapshots, result["findings"], result["summary"], proc.returncode)


def email(local: str) -> str:
    return f"{local}@{DOMAIN}"


# -- the chain ---------------------------------------------------------------------------
def test_gate_fails_on_the_chain(chain: Chain) -> None:
    assert chain.exit_code == 1  # critical findings, default --fail-on high


def test_lookalike_data_loader_is_flagged(chain: Chain) -> None:
    app = chain.on("salesforce", "Data Loader IT Support")
    # the look-alike: not its genuine publisher, not admin-approved (folds INT-001/002)
    assert "PE-INT-009" in app
    assert {"PE-INT-004", "PE-INT-006", "PE-INT-010"} <= app  # no IP limit, endless tokens


def test_genuine_data_loader_is_clean(chain: Chain) -> None:
    assert chain.on("salesforce", "Dataloader Partner") == set()


def test_sms_only_admins_in_okta_and_salesforce(chain: Chain) -> None:
    assert "PE-MFA-002" in chain.on("okta", email("alice.martin"))
    assert "PE-MFA-002" in chain.on("salesforce", "alice.martin@maison-lumiere.crm.example")
    # the admin with a FIDO2 key is not
    assert "PE-MFA-002" not in chain.on("okta", email("bruno.leroy"))
    assert "PE-MFA-002" not in chain.on("salesforce", "bruno.leroy@maison-lumiere.crm.example")


def test_admin_in_several_systems_without_phishing_resistant_mfa(chain: Chain) -> None:
    assert "PE-XSRC-003" in chain.on_id(f"email:{email('alice.martin')}")
    assert "PE-XSRC-003" not in chain.on_id(f"email:{email('bruno.leroy')}")


def test_leaver_disabled_in_directory_still_in_salesforce(chain: Chain) -> None:
    assert "PE-XSRC-001" in chain.on_id(f"email:{email('frank.girard')}")
    frank_tokens = {
        f["resource"]["id"]
        for f in chain.findings
        if f["policy_id"] == "PE-XSRC-002" and f["resource"]["source"] == "salesforce"
    }
    assert len(frank_tokens) == 1  # his live OAuth token of the Data Loader


def test_okta_api_token_of_a_super_admin_reachable_from_anywhere(chain: Chain) -> None:
    assert {"PE-CRED-007", "PE-CRED-008"} <= chain.on("okta", "SIEM export")
    assert chain.on("okta", "Provisioning") == set()  # zone-bound, service-owned, fresh


def test_long_admin_sessions(chain: Chain) -> None:
    for admin in ("alice.martin", "bruno.leroy"):
        assert {"PE-SES-001", "PE-SES-002"} <= chain.on("okta", email(admin)), admin
        # Salesforce has no lifetime (exempt): the 12 h idle timeout is the finding
        assert "PE-SES-002" in chain.on("salesforce", f"{admin}@maison-lumiere.crm.example")


def test_clean_people_have_no_findings(chain: Chain) -> None:
    assert chain.on("corp-ldap", "claire.dubois") == set()
    assert chain.on("okta", email("claire.dubois")) == set()
    assert chain.on("salesforce", "claire.dubois@maison-lumiere.crm.example") == set()
    assert chain.on_id(f"email:{email('claire.dubois')}") == set()


def test_every_snapshot_is_complete(chain: Chain) -> None:
    for instance, path in chain.snapshots.items():
        header = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
        assert header["source"]["complete"] is True, (instance, header["source"]["errors"])
        assert header["source"]["instance"] == instance


def test_one_person_per_human_across_the_three_sources(chain: Chain) -> None:
    # the people are joined by email: a finding on a person names its accounts
    (frank,) = [
        f for f in chain.findings if f["resource"]["id"] == f"email:{email('frank.girard')}"
    ]
    assert frank["policy_id"] == "PE-XSRC-001"
    assert frank["resource"]["kind"] == "person"


def test_okta_super_admin_role_is_held_by_one_person(chain: Chain) -> None:
    # one super admin (PE-PRIV-004 wants 2-4) and no break-glass holder (PE-PRIV-002)
    assert chain.on("okta", "SUPER_ADMIN") == {"PE-PRIV-004", "PE-PRIV-002"}
    assert chain.on("okta", "ORG_ADMIN") == set()  # not a top-tier role


def test_service_accounts_need_an_owner(chain: Chain) -> None:
    assert chain.on("corp-ldap", "svc-backup") == set()  # manager: bruno.leroy
    assert "PE-PRIV-001" in chain.on("corp-ldap", "svc-legacy-sync")
    assert chain.on("okta", email("svc-provisioning")) == set()  # managerId: bruno's user id
    assert chain.on("okta", email("svc-scim-bridge")) == {"PE-PRIV-001"}  # managerId: "E1002"


def test_leaver_token_is_the_one_flagged(chain: Chain) -> None:
    assert chain.resources("PE-XSRC-002") == {
        ("salesforce", "Dataloader Partner token of frank.girard@maison-lumiere.crm.example")
    }
    # the help-desk agent's token of the look-alike app belongs to an active person
    dan_token = "Data Loader IT Support token of dan.moreau@maison-lumiere.crm.example"
    assert "PE-XSRC-002" not in chain.on("salesforce", dan_token)


def test_salesforce_org_settings_of_the_chain(chain: Chain) -> None:
    assert chain.on("salesforce", "api_access_control") == {"PE-INT-008"}  # anyone may authorise
    assert chain.on("salesforce", "mfa_registration_verified") == {"PE-MFA-009"}
    assert chain.on("salesforce", "admin_login_as_any_user") == {"PE-PRIV-012"}


# -- the nightly scan ----------------------------------------------------------------------
def _config(sources: Sources, path: Path) -> Path:
    """policyengine.yaml with the three connector instances (secrets by variable name)."""
    lines = ["connectors:"]
    options = {
        "corp-ldap": {
            "type": "ldap", "url": sources.ldap_url, "base_dn": servers.BASE_DN,
            "bind_dn": servers.ROOT_DN, "password_env": "CHAIN_LDAP_PW",
            "privileged_group": [PRIVILEGED_GROUP],
        },
        "okta": {
            "type": "okta", "org_url": sources.okta_url, "token_env": "CHAIN_OKTA_TOKEN",
            "retry_backoff": 0.01,
        },
        "salesforce": {
            "type": "salesforce", "login_url": sources.salesforce_url, "client_id": SF_CLIENT_ID,
            "username": SF_USERNAME, "private_key_file": str(sources.key_file),
        },
    }  # fmt: skip
    for instance, values in options.items():
        lines.append(f"  - instance: {instance}")
        lines += [f"    {key}: {json.dumps(value)}" for key, value in values.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_scan_collects_the_three_sources_and_reports_the_chain(
    sources: Sources, chain: Chain, tmp_path: Path
) -> None:
    config = _config(sources, tmp_path / "policyengine.yaml")
    runs, history = tmp_path / "runs", tmp_path / "history.db"
    proc = _cli(
        "scan", "--config", config, "--output-dir", runs, "--history", history, "--now", NOW,
        cwd=tmp_path, env=sources.env,
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out  # a scan is a report: findings alone do not fail it
    assert "3 source(s)" in proc.stdout
    total = len(chain.findings)
    assert f"open {total}: new {total} · still open 0 | resolved 0" in proc.stdout
    assert "INCOMPLETE" not in out
    assert history.is_file()
    (run_dir,) = runs.iterdir()
    assert (run_dir / "report.html").is_file()
    assert sorted(p.name for p in (run_dir / "snapshots").iterdir()) == [
        "corp-ldap.jsonl.gz",
        "okta.jsonl.gz",
        "salesforce.jsonl.gz",
    ]
    result = json.loads((run_dir / "result.json").read_text(encoding="utf-8"))
    # the scan's connectors saw what `collect` saw: the same findings as `evaluate`
    key = lambda f: (f["policy_id"], f["resource"]["source"], f["resource"]["name"])  # noqa: E731
    assert sorted(map(key, result["findings"])) == sorted(map(key, chain.findings))


# -- the same chain with Active Directory (Samba AD DC) as the directory ------------------
AD_PASSWORD = "Passw0rd!Chain1"
_UAC_NORMAL, _UAC_DISABLED, _UAC_SMARTCARD = 0x200, 0x2, 0x40000


def _populate_ad(conn: Any) -> None:
    """The same people in AD: admins in Domain Admins, the leaver disabled (ACCOUNTDISABLE)."""
    import ldap3

    domain = servers.SAMBA_DOMAIN_DN

    def ok(what: str) -> None:
        assert conn.result["result"] == 0, (what, conn.result)

    for ou in ("Staff", "Service Accounts"):
        conn.add(f"OU={ou},{domain}", ["top", "organizationalUnit"], {"ou": ou})
        ok(ou)
    people = {
        "alice.martin": ("E1001", _UAC_NORMAL),
        "bruno.leroy": ("E1002", _UAC_NORMAL | _UAC_SMARTCARD),
        "dan.moreau": ("E2040", _UAC_NORMAL),
        "claire.dubois": ("E3100", _UAC_NORMAL),
        "frank.girard": ("E0999", _UAC_NORMAL | _UAC_DISABLED),
    }
    dns: dict[str, str] = {}
    password = f'"{AD_PASSWORD}"'.encode("utf-16-le")
    for name, (employee_id, uac) in people.items():
        dn = dns[name] = f"CN={name},OU=Staff,{domain}"
        attrs = {"sAMAccountName": name, "mail": email(name), "employeeID": employee_id}
        conn.add(dn, ["top", "person", "organizationalPerson", "user"], attrs)
        ok(dn)
        conn.modify(
            dn,
            {
                "unicodePwd": [(ldap3.MODIFY_REPLACE, [password])],
                "userAccountControl": [(ldap3.MODIFY_REPLACE, [str(uac)])],
            },
        )
        ok(f"enable {dn}")
    services = {
        "svc-backup": {"manager": dns["bruno.leroy"]},
        "svc-legacy-sync": {},
    }
    for name, extra in services.items():
        dn = f"CN={name},OU=Service Accounts,{domain}"
        conn.add(
            dn,
            ["top", "person", "organizationalPerson", "user"],
            {
                "sAMAccountName": name,
                "unicodePwd": password,
                "userAccountControl": str(_UAC_NORMAL),
                **extra,
            },
        )
        ok(dn)
    admins = f"CN=Domain Admins,CN=Users,{domain}"
    conn.modify(admins, {"member": [(ldap3.MODIFY_ADD, [dns["alice.martin"], dns["bruno.leroy"]])]})
    ok("Domain Admins")


@pytest.fixture(scope="module")
def ad_chain(chain: Chain, sources: Sources, tmp_path_factory: pytest.TempPathFactory) -> Chain:
    """The Okta and Salesforce snapshots of ``chain`` with an AD snapshot instead of slapd's."""
    if not (servers.SAMBA and servers.SAMBA_TOOL):
        pytest.skip("samba/samba-tool not installed (apt-get install samba samba-ad-dc winbind)")
    work = tmp_path_factory.mktemp("ad-chain")
    directory = servers.tempdir("pe-chain-samba-")
    dc = servers.SambaDC(directory)
    try:
        dc.provision()
        dc.start()
        conn = dc.admin()
        try:
            _populate_ad(conn)
        finally:
            conn.unbind()
        env = {**sources.env, "CHAIN_AD_PW": servers.SAMBA_ADMIN_PW}
        out = work / "corp-ad.jsonl"
        proc = _cli(
            "collect", "ldap", "--url", dc.url, "--base-dn", servers.SAMBA_DOMAIN_DN,
            "--bind-dn", f"Administrator@{servers.SAMBA_REALM.lower()}",
            "--password-env", "CHAIN_AD_PW", "--instance", "corp-ad", "-o", out,
            cwd=work, env=env,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stdout + proc.stderr
    finally:
        dc.stop()
        servers.rmtree(directory)
    snapshots = {"corp-ad": out, "okta": chain.snapshots["okta"]}
    snapshots["salesforce"] = chain.snapshots["salesforce"]
    return _evaluate(snapshots, work, sources.env)


@pytest.mark.slow
def test_ad_leaver_disabled_in_the_directory_still_in_salesforce(ad_chain: Chain) -> None:
    assert "PE-XSRC-001" in ad_chain.on_id(f"email:{email('frank.girard')}")
    assert ad_chain.resources("PE-XSRC-002") == {
        ("salesforce", "Dataloader Partner token of frank.girard@maison-lumiere.crm.example")
    }


@pytest.mark.slow
def test_ad_admins(ad_chain: Chain) -> None:
    # Domain Admins by SID: smart card logon required of the one without it
    assert "PE-MFA-010" in ad_chain.on("corp-ad", "alice.martin")
    assert "PE-MFA-010" not in ad_chain.on("corp-ad", "bruno.leroy")
    assert "PE-XSRC-003" in ad_chain.on_id(f"email:{email('alice.martin')}")
    # bruno's smart card (AD) and WebAuthn (Okta) are phishing-resistant
    assert "PE-XSRC-003" not in ad_chain.on_id(f"email:{email('bruno.leroy')}")


@pytest.mark.slow
def test_ad_service_account_owner_from_manager(ad_chain: Chain) -> None:
    assert "PE-PRIV-001" not in ad_chain.on("corp-ad", "svc-backup")
    assert "PE-PRIV-001" in ad_chain.on("corp-ad", "svc-legacy-sync")


@pytest.mark.slow
def test_ad_clean_person(ad_chain: Chain) -> None:
    assert ad_chain.on("corp-ad", "claire.dubois") == set()
    assert ad_chain.on_id(f"email:{email('claire.dubois')}") == set()
