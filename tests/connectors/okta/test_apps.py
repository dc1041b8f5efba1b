"""OIDC apps, their Okta-scope grants and client secrets (metadata only)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.connectors.okta.conftest import Okta, collect, ssws_options

PROVISIONING = "0oaprov0000000000001"
WORKDAY = "0oawday0000000000004"


def _by_id(snap: dict, key: str) -> dict[str, dict]:
    return {r["id"]: r for r in snap[key]}


def test_oidc_apps_are_integrations_with_granted_scopes(
    okta: Okta, ssws_env: str, tmp_path: Path
) -> None:
    result, snap = collect(ssws_options(okta, ssws_env), tmp_path / "okta.json")
    assert result.complete, result.errors
    apps = {i: a for i, a in _by_id(snap, "integrations").items() if a["type"] == "oauth_client"}
    assert set(apps) == {
        PROVISIONING,
        "0oasiem0000000000002",
        "0oaport0000000000003",
        "0oaold00000000000005",
    }
    prov = apps[PROVISIONING]
    assert prov["type"] == "oauth_client" and prov["app_type"] == "service"
    assert prov["auth_method"] == "client_secret_basic"
    assert prov["scopes"] == ["okta.groups.manage", "okta.users.manage"]
    assert prov["admin_approved"] is True and prov["enabled"] is True
    assert prov["created_at"] == "2024-01-10T09:00:00Z"
    assert apps["0oasiem0000000000002"]["auth_method"] == "private_key_jwt"
    assert apps["0oaold00000000000005"]["enabled"] is False
    assert "scopes" in apps["0oaport0000000000003"]  # no grants: an empty list, not missing
    assert apps["0oaport0000000000003"]["scopes"] == []


def test_saml_and_ws_fed_apps_are_sso_integrations_with_their_assignees(
    okta: Okta, ssws_env: str, tmp_path: Path
) -> None:
    result, snap = collect(ssws_options(okta, ssws_env, page_size=3), tmp_path / "okta.json")
    assert result.complete, result.errors
    sso = {i: a for i, a in _by_id(snap, "integrations").items() if a["type"] == "sso_app"}
    assert set(sso) == {WORKDAY, "0oalegacywsfed000006"}  # the bookmark app is neither
    workday = sso[WORKDAY]
    assert workday["name"] == "Workday" and workday["enabled"] is True
    assert workday["created_at"] == "2022-05-01T09:00:00Z"
    # erin's assignment is DEPROVISIONED; carol's PROVISIONED one still signs in
    assert workday["authorized_users"] == [
        "00ualicex00000000000",
        "00ubobxxx00000000001",
        "00ucarolx00000000002",
        "00ukatexx00000000011",
    ]
    assert workday["raw"]["signOnMode"] == "SAML_2_0"
    assert (workday["raw"]["assigned_directly"], workday["raw"]["assigned_by_group"]) == (1, 3)
    assert "scopes" not in workday and "auth_method" not in workday  # no OAuth client
    wsfed = sso["0oalegacywsfed000006"]
    assert wsfed["enabled"] is False and wsfed["raw"]["signOnMode"] == "WS_FEDERATION"
    asked = [r for r in okta.server.requests if r.path == f"/api/v1/apps/{WORKDAY}/users"]
    assert [r.param("limit") for r in asked] == ["500"]
    assert not [r for r in okta.server.requests if "0oabookmark" in r.path]


def test_app_users_paging_and_failure(okta: Okta, ssws_env: str, tmp_path: Path) -> None:
    from tests.emulators._server import Response

    okta.emulator.org.app_users[WORKDAY] += [
        {"id": f"00uextra{i:012d}", "scope": "USER", "status": "ACTIVE"} for i in range(600)
    ]
    _, snap = collect(ssws_options(okta, ssws_env), tmp_path / "a.json")
    workday = _by_id(snap, "integrations")[WORKDAY]
    assert len(workday["authorized_users"]) == 604  # two pages of 500
    assert len([r for r in okta.server.requests if r.path.endswith(f"{WORKDAY}/users")]) == 2
    okta.server.add_fault(
        Response.json({"errorCode": "E0000009", "errorSummary": "Internal Server Error"}, 500),
        match=f"/api/v1/apps/{WORKDAY}/users",
        times=None,
    )
    result, _ = collect(ssws_options(okta, ssws_env), tmp_path / "b.json")
    assert not result.complete
    assert any("apps not collected" in e for e in result.errors)


def test_client_secrets_are_metadata_only(okta: Okta, ssws_env: str, tmp_path: Path) -> None:
    out = tmp_path / "okta.json"
    _, snap = collect(ssws_options(okta, ssws_env), out)
    secrets = [c for c in snap["credentials"] if c["type"] == "client_secret"]
    assert len(secrets) == 4
    active = _by_id(snap, "credentials")[f"okta_client_secret:{PROVISIONING}:ocs1prov00000000000a"]
    assert active["integration"] == PROVISIONING and active["enabled"] is True
    assert active["created_at"] == active["last_rotated_at"] == "2024-01-10T09:00:00Z"
    text = out.read_text()
    assert "NEVER-BE-COPIED" not in text  # the app's credentials.oauthClient.client_secret
    assert "a1b2" not in text and "secret_hash" not in text and "yk4SVx4s" not in text
    # the private-key-JWT app has no secrets to list: never asked
    asked = {r.path for r in okta.server.requests}
    assert "/api/v1/apps/0oasiem0000000000002/credentials/secrets" not in asked
    assert json.loads(text)["source"]["complete"] is True


def test_apps_listing_failure_marks_the_snapshot_incomplete(
    okta: Okta, ssws_env: str, tmp_path: Path
) -> None:
    from tests.emulators._server import Response

    okta.server.add_fault(
        Response.json({"errorCode": "E0000009", "errorSummary": "Internal Server Error"}, 500),
        match="/api/v1/apps",
        times=None,
    )
    result, snap = collect(ssws_options(okta, ssws_env), tmp_path / "okta.json")
    assert not result.complete
    assert any("apps not collected" in e for e in result.errors)
    assert "integrations" not in snap or not snap["integrations"]
    assert len(snap["accounts"]) == 15  # the rest is still collected


def test_library_flags_the_secret_authenticated_admin_app_and_old_secrets(
    okta: Okta, ssws_env: str, tmp_path: Path
) -> None:
    from policyengine.cli.main import main

    out = tmp_path / "okta.json"
    collect(ssws_options(okta, ssws_env), out)
    report = tmp_path / "findings.json"
    argv = ["evaluate", "-s", str(out), "--now", "2026-11-01T00:00:00Z", "--format", "json"]
    assert main([*argv, "--output", str(report)]) == 1
    findings = json.loads(report.read_text())["findings"]
    admin = {f["resource"]["id"] for f in findings if f["policy_id"] == "PE-INT-014"}
    assert admin == {PROVISIONING}  # SIEM Reader uses private_key_jwt; Old Sync is inactive
    old = {f["resource"]["id"] for f in findings if f["policy_id"] == "PE-CRED-001"}
    assert f"okta_client_secret:{PROVISIONING}:ocs1prov00000000000a" in old
    assert f"okta_client_secret:{PROVISIONING}:ocs2prov00000000000b" not in old  # inactive
    assert "okta_client_secret:0oaport0000000000003:ocs1port00000000000c" not in old  # 47 days
    fix = next(f for f in findings if f["policy_id"] == "PE-INT-014")["remediation"]
    assert "Public key / Private key" in fix


def test_user_consents_name_the_apps_authorized_users_when_asked(
    okta: Okta, ssws_env: str, tmp_path: Path
) -> None:
    _, without = collect(ssws_options(okta, ssws_env), tmp_path / "a.json")
    portal = "0oaport0000000000003"
    assert "authorized_users" not in _by_id(without, "integrations")[portal]  # not read: missing
    assert not [
        r for r in okta.server.requests if r.path.endswith("/grants") and "/users/" in r.path
    ]
    result, snap = collect(ssws_options(okta, ssws_env, user_grants=True), tmp_path / "b.json")
    assert result.complete, result.errors
    apps = _by_id(snap, "integrations")
    # bob's consent is revoked; dave is suspended (not asked)
    assert apps[portal]["authorized_users"] == ["00ualicex00000000000"]
    assert apps[portal]["raw"]["user_consented_scopes"] == ["offline_access", "profile"]
    assert apps[PROVISIONING]["authorized_users"] == []
    asked = {r.path for r in okta.server.requests}
    assert "/api/v1/users/00udavexx00000000003/grants" not in asked


def test_library_flags_consented_apps_off_the_allow_list(
    okta: Okta, ssws_env: str, tmp_path: Path
) -> None:
    from policyengine.cli.main import main

    out = tmp_path / "okta.json"
    collect(ssws_options(okta, ssws_env, user_grants=True), out)
    report = tmp_path / "findings.json"
    argv = ["evaluate", "-s", str(out), "--now", "2026-11-01T00:00:00Z", "--format", "json"]
    main([*argv, "--output", str(report)])
    findings = json.loads(report.read_text())["findings"]
    consented = [f["resource"]["id"] for f in findings if f["policy_id"] == "PE-INT-015"]
    assert consented == ["0oaport0000000000003"]
