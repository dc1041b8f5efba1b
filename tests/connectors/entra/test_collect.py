"""`policyengine collect entra` against the emulator: a complete, mapped snapshot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.connectors.entra.conftest import CLIENT_ID, Entra, by_name, collect, options, start
from tests.emulators.entra_tenant import EntraTenant

DOMAIN = "northwind-retail.example"


def test_a_complete_snapshot_with_every_kind(entra: Entra, secret_env: str, tmp_path: Path) -> None:
    _, snap = collect(options(entra, secret_env), tmp_path / "entra.json")
    assert snap["source"]["complete"] is True, snap["source"].get("errors")
    assert {
        len(snap[k]) > 0
        for k in (
            "accounts",
            "groups",
            "roles",
            "integrations",
            "credentials",
            "session_policies",
            "settings",
        )
    } == {True}
    accounts = by_name(snap)
    alice = accounts[f"alice.admin@{DOMAIN}"]
    assert alice["privileged"] is True
    assert alice["mfa"] == {
        "enrolled": True,
        "methods": ["fido2", "push"],
        "phishing_resistant": True,
    }
    assert alice["employee_id"] == "E1001" and "on_premises_synced" in alice["flags"]
    assert alice["last_login_at"] == "2026-11-30T08:00:00Z"
    bob = accounts[f"bob.ops@{DOMAIN}"]
    assert bob["password_never_expires"] is True
    assert bob["mfa"]["methods"] == ["sms"] and bob["mfa"]["phishing_resistant"] is False
    assert bob["privileged_via"] == ["Global Administrator (active, permanent)"]
    carol = accounts[f"carol.helpdesk@{DOMAIN}"]  # via a role-assignable group and PIM
    states = {(a["role"], a["state"], a["via_group"]) for a in carol["raw"]["role_assignments"]}
    assert ("Privileged Role Administrator", "active", "Tier0 Admins") in states
    assert ("Global Administrator", "eligible", None) in states
    assert accounts[f"bg-emergency@{DOMAIN}"]["type"] == "break_glass"
    guest = next(a for n, a in accounts.items() if "#EXT#" in n)
    assert guest["status"] == "guest" and guest["privileged"] is True


def test_apps_permissions_grants_and_credentials(
    entra: Entra, secret_env: str, tmp_path: Path
) -> None:
    _, snap = collect(options(entra, secret_env), tmp_path / "entra.json")
    apps = by_name(snap, "integrations")
    payroll = apps["Payroll Sync"]
    assert payroll["raw"]["high_privilege_permissions"] == ["Directory.ReadWrite.All"]
    assert payroll["owner"] and payroll["raw"]["multi_tenant"] is False
    lookalike = apps["Micros0ft Docs Viewer"]
    assert lookalike["raw"]["verified_publisher"] is False
    assert "Mail.Read" in lookalike["raw"]["tenant_wide_delegated_scopes"]
    assert lookalike["raw"]["registered_elsewhere"] is True
    mailer = apps["Store Mailer"]
    assert mailer["raw"]["multi_tenant"] is True and "owner" not in mailer
    creds = {c["id"]: c for c in snap["credentials"]}
    never = [c for c in creds.values() if c["raw"]["never_expires"]]
    assert [c["integration"] for c in never] == [payroll["id"]] and "expires_at" not in never[0]
    assert any(
        c["type"] == "certificate" and c["raw"]["expired_but_present"] for c in creds.values()
    )
    settings = {s["id"]: s["value"] for s in snap["settings"]}
    assert settings == {
        "user_consent": "all",
        "users_can_register_apps": True,
        "security_defaults": False,
        "admin_consent_workflow": False,
    }
    ca = by_name(snap, "session_policies")["Require MFA for admins"]
    assert ca["enabled"] is False and ca["raw"]["report_only"] is True
    assert ca["mfa_required"] is True and ca["max_lifetime_minutes"] == 7 * 1440
    assert ca["raw"]["targets_global_admin"] is True


def test_no_call_per_user(entra: Entra, secret_env: str, tmp_path: Path) -> None:
    collect(options(entra, secret_env, page_size=2), tmp_path / "entra.json")
    paths = [r.path for r in entra.server.requests]
    assert not [p for p in paths if p.startswith("/v1.0/users/")]
    assert paths.count("/v1.0/users") == 4  # 7 users, 2 per page


def test_select_lists_only_mapped_properties(entra: Entra, secret_env: str, tmp_path: Path) -> None:
    from connectors.entra._collect import USER_SELECT

    collect(options(entra, secret_env), tmp_path / "entra.json")
    first = next(r for r in entra.server.requests if r.path == "/v1.0/users")
    assert first.param("$select") == ",".join(USER_SELECT)


def test_registration_methods_map_to_the_model() -> None:
    from connectors.entra._mapping import mfa

    weak = mfa({"isMfaRegistered": True, "methodsRegistered": ["mobilePhone", "email"]})
    assert weak == {"enrolled": True, "methods": ["email", "sms"], "phishing_resistant": False}
    strong = mfa({"isMfaRegistered": True, "methodsRegistered": ["passKeySynced", "password"]})
    assert strong == {"enrolled": True, "methods": ["webauthn"], "phishing_resistant": True}
    hello = mfa({"isMfaRegistered": True, "methodsRegistered": ["windowsHelloForBusiness"]})
    assert hello is not None and hello["methods"] == ["platform"]
    assert mfa(None) is None


def test_collected_as_names_the_app_and_its_service_principal(
    certificate: tuple[str, bytes], secret_env: str, tmp_path: Path
) -> None:
    tenant = EntraTenant.load()
    _, snap = _collect_with(tenant, certificate, secret_env, tmp_path / "a.json")
    assert snap["source"]["collected_as"] == [CLIENT_ID]  # no service principal of it listed
    own = {**tenant.service_principals[-1], "id": "5e1f0000-aaaa-bbbb-cccc-0000000000c1"}
    tenant.service_principals.append({**own, "appId": CLIENT_ID, "displayName": "policyengine"})
    _, snap = _collect_with(tenant, certificate, secret_env, tmp_path / "b.json")
    assert snap["source"]["collected_as"] == sorted([CLIENT_ID, own["id"]])


def _collect_with(
    tenant: EntraTenant, certificate: tuple[str, bytes], secret_env: str, out: Path
) -> tuple[object, dict[str, Any]]:
    running = start(tenant, certificate[1])
    try:
        return collect(options(next(running), secret_env), out)
    finally:
        running.close()  # stops the emulator's server
