"""The Salesforce connector against the emulated org: what lands in the snapshot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from policyengine.snapshot.validate import check_record
from tests.connectors.salesforce.conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    USERNAME,
    by_id,
    jwt_options,
    run_collect,
)

ALICE, BOB, CAROL, DAN = (
    "0055g00000AliceAAA",
    "0055g00000ABobAAAA",
    "0055g00000CarolAAA",
    "0055g00000ADanAAAA",
)
ERIN, ETL, FRANK, GINA = (
    "0055g00000ErinAAAA",
    "0055g00000AEtlAAAA",
    "0055g00000FrankAAA",
    "0055g00000AGinaAAA",
)
FAKE_DATA_LOADER = "0H45g000000DlITAAA"


@pytest.fixture()
def snapshot(
    emulated: tuple[Any, Any], key_pair: tuple[Path, bytes], tmp_path: Path
) -> dict[str, Any]:
    server, _ = emulated
    result, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert result.complete, result.errors
    return snap


def test_every_record_matches_the_model(snapshot: dict[str, Any]) -> None:
    counts = snapshot["source"]["counts"]
    assert counts == {
        "account": 8,
        "integration": 7,
        "credential": 6,
        "session_policy": 3,
        "setting": 10,
    }
    for key in ("accounts", "integrations", "credentials", "session_policies", "settings"):
        for record in snapshot[key]:
            assert check_record(dict(record)) is None, record["id"]
            assert record["source"] == "sf"


def test_source_header_carries_api_usage_and_instance(
    snapshot: dict[str, Any], emulated: Any
) -> None:
    server, org = emulated
    source = snapshot["source"]
    assert source["complete"] is True
    assert source["instance_url"] == server.base_url
    used, limit = source["api_usage"].split("/")
    assert int(limit) == org.api_limit and int(used) == org.api_used


def test_objects_are_paged_through_next_records_url(
    snapshot: dict[str, Any], emulated: Any
) -> None:
    server, _ = emulated
    more = [r.path for r in server.requests if "/query/01g" in r.path]
    # batch_size 3: User 8 -> 2 more pages, PermissionSetAssignment 12 -> 3, ...
    assert len(more) >= 8
    assert all(p.startswith("/services/data/v62.0/query/01g") for p in more)
    assert len(snapshot["accounts"]) == 8


def test_timestamps_are_converted_to_utc_z(snapshot: dict[str, Any]) -> None:
    alice = by_id(snapshot, "accounts")[ALICE]
    assert alice["last_login_at"] == "2026-11-26T08:01:12Z"
    assert alice["created_at"] == "2019-03-01T09:00:00Z"


def test_admin_with_security_key_is_phishing_resistant(snapshot: dict[str, Any]) -> None:
    alice = by_id(snapshot, "accounts")[ALICE]
    assert alice["privileged"] is True
    assert "permission:ModifyAllData via profile System Administrator" in alice["privileged_via"]
    assert alice["mfa"] == {
        "enrolled": True,
        "methods": ["fido2", "push"],
        "phishing_resistant": True,
    }
    assert alice["roles"] == ["System Administrator"]
    assert {"ModifyAllData", "ApiEnabled", "ManageRemoteAccess"} <= set(alice["permissions"])


def test_admin_with_sms_only_is_not_enrolled(snapshot: dict[str, Any]) -> None:
    bob = by_id(snapshot, "accounts")[BOB]
    assert bob["privileged"] is True
    assert bob["mfa"]["methods"] == ["sms"]
    assert bob["mfa"]["enrolled"] is False  # SMS is identity verification, not an MFA factor
    assert bob["mfa"]["phishing_resistant"] is False


def test_cloned_admin_without_mfa_and_with_waiver(snapshot: dict[str, Any]) -> None:
    carol = by_id(snapshot, "accounts")[CAROL]
    assert carol["privileged"] is True
    assert "permission:ModifyAllData via profile Custom: Admin Clone" in carol["privileged_via"]
    assert carol["mfa"] == {"enrolled": False, "methods": [], "phishing_resistant": False}
    assert carol["mfa_waived"] is True
    assert "MFA_Waiver" in carol["roles"]


def test_help_desk_user_is_privileged_through_an_expiring_permission_set(
    snapshot: dict[str, Any],
) -> None:
    dan = by_id(snapshot, "accounts")[DAN]
    assert dan["privileged_via"] == [
        "permission:ManageUsers via permission set Help_Desk_User_Management "
        "(expires 2026-12-31T23:59:59Z)"
    ]
    assert dan["mfa"]["methods"] == ["push", "sms"]


def test_inactive_assignment_grants_nothing(snapshot: dict[str, Any]) -> None:
    erin = by_id(snapshot, "accounts")[ERIN]
    assert erin["privileged"] is False
    assert erin["permissions"] == ["ApiEnabled"]
    assert "Data_Export_Temp" not in erin["roles"]


def test_integration_user_is_a_service_account(snapshot: dict[str, Any]) -> None:
    etl = by_id(snapshot, "accounts")[ETL]
    assert etl["type"] == "service"
    assert etl["privileged"] is True  # ViewAllData via Integration_Read_All
    assert "last_login_at" not in etl  # null in the org: missing, not a fake date


def test_inactive_frozen_user(snapshot: dict[str, Any]) -> None:
    frank = by_id(snapshot, "accounts")[FRANK]
    assert frank["enabled"] is False
    assert frank["flags"] == ["frozen"]


def test_a_field_missing_from_a_record_is_missing_not_false(snapshot: dict[str, Any]) -> None:
    gina = by_id(snapshot, "accounts")[GINA]
    assert "enabled" not in gina  # IsActive absent from the record
    assert "enrolled" not in gina["mfa"]  # HasTotp absent: enrolment unknown
    assert gina["mfa"]["methods"] == []  # a verified email address is not a method
    assert gina["raw"]["TwoFactorMethodsInfo"]["HasUserVerifiedEmailAddress"] is True


def test_look_alike_data_loader_is_the_attack_chain(snapshot: dict[str, Any]) -> None:
    app = by_id(snapshot, "integrations")[FAKE_DATA_LOADER]
    assert app["name"] == "Data Loader IT Support"
    assert app["installed"] is True
    assert app["admin_approved"] is False
    assert {"full", "full_access", "api", "refresh_token"} <= set(app["scopes"])
    assert app["ip_restricted"] is False
    assert app["refresh_token_policy"] == "until_revoked"
    assert app["high_assurance_required"] is False
    assert app["authorized_users"] == [DAN]
    assert app["publisher"] == "kering-helpdesk.example"
    assert app["last_used_at"] == "2025-06-03T02:11:00Z"
    assert app["owner"] == DAN


def test_genuine_data_loader_is_admin_approved(snapshot: dict[str, Any]) -> None:
    app = by_id(snapshot, "integrations")["0H45g000000DlPtAAA"]
    assert app["admin_approved"] is True
    assert app["ip_restricted"] is True
    assert app["high_assurance_required"] is True
    assert app["publisher"] == "salesforce.com"


def test_token_of_an_uninstalled_app(snapshot: dict[str, Any]) -> None:
    integrations = by_id(snapshot, "integrations")
    zapier = integrations["uninstalled:Zapier"]
    assert zapier["installed"] is False
    assert zapier["admin_approved"] is False
    assert zapier["authorized_users"] == [FRANK]
    assert "scopes" not in zapier  # unknown for an app that is not installed
    tokens = [c for c in snapshot["credentials"] if c["integration"] == "uninstalled:Zapier"]
    assert len(tokens) == 1 and tokens[0]["owner"] == FRANK


def test_three_year_old_token(snapshot: dict[str, Any]) -> None:
    (token,) = [c for c in snapshot["credentials"] if c["owner"] == ERIN]
    assert token["type"] == "oauth_token"
    assert token["created_at"] == "2023-06-01T09:30:00Z"
    assert token["last_used_at"] == "2023-09-14T17:45:00Z"
    assert token["use_count"] == 311
    assert token["name"] == "Salesforce for Outlook token of erin.sales@kering.example"
    assert token["integration"] == "0H45g000000OutlAAA"


def test_token_secrets_are_never_queried_or_stored(snapshot: dict[str, Any], emulated: Any) -> None:
    server, _ = emulated
    text = json.dumps(snapshot)
    assert "NEVER" not in text and "DeleteToken" not in text and "AccessToken" not in text
    queries = [r.param("q") or "" for r in server.requests if r.path.endswith("/query")]
    oauth = [q for q in queries if "FROM OauthToken" in q]
    assert oauth and all("DeleteToken" not in q and "AccessToken" not in q for q in oauth)


def test_session_settings_and_switches(snapshot: dict[str, Any]) -> None:
    policy = by_id(snapshot, "session_policies")["org:session_settings"]
    assert policy["applies_to"] == ["everyone"]
    assert policy["idle_timeout_minutes"] == 720  # TwelveHours
    assert policy["ip_locked"] is False
    assert policy["http_only"] is True
    assert policy["force_logout_on_timeout"] is False
    settings = by_id(snapshot, "settings")
    assert settings["api_access_control"]["value"] is False
    assert "value" not in settings["mfa_for_all_users"]  # not exposed: missing, never a pass
    assert settings["login_ip_ranges:Admin"]["value"][0]["startAddress"] == "203.0.113.0"
    assert settings["login_ip_ranges:Admin"]["raw"]["profile"] == "System Administrator"
    assert settings["admin_login_as_any_user"]["value"] is True
    assert settings["mfa_registration_verified"]["value"] is False
    assert settings["login_ip_ranges:Custom: Admin Clone"]["value"] == []


def test_profile_session_settings_override_the_org_timeout(snapshot: dict[str, Any]) -> None:
    policies = by_id(snapshot, "session_policies")
    admin = policies["profile:System Administrator"]
    assert admin["applies_to"] == ["System Administrator"]
    assert admin["idle_timeout_minutes"] == 120
    assert admin["mfa_required"] is True  # HIGH_ASSURANCE
    assert admin["force_logout_on_timeout"] is True
    help_desk = policies["profile:Help Desk"]
    assert help_desk["idle_timeout_minutes"] == 1440
    assert "mfa_required" not in help_desk  # STANDARD: unknown, not false
    # org-wide switches are inherited: the policy is what the profile's users get
    assert help_desk["http_only"] is True and help_desk["ip_locked"] is False
    assert help_desk["force_logout_on_timeout"] is False
    accounts = by_id(snapshot, "accounts")
    assert accounts[ALICE]["session"] == {"idle_timeout_minutes": 120}
    assert accounts[DAN]["session"] == {"idle_timeout_minutes": 1440}
    assert accounts[ERIN]["session"] == {"idle_timeout_minutes": 720}  # the org value


def test_gated_permission_fields_are_dropped_not_fatal(
    snapshot: dict[str, Any], emulated: Any
) -> None:
    server, _ = emulated
    queries = [r.param("q") or "" for r in server.requests if r.path.endswith("/query")]
    ps = [q for q in queries if "FROM PermissionSet " in q + " " and "Assignment" not in q]
    # The describe lists neither 2025 permission: they are not asked for at all
    # (before the describe, the guessed names were asked and dropped on INVALID_FIELD).
    assert "PermissionsUseAnyApiClient" not in ps[0]
    assert "PermissionsBypassMFAForUiLogins" in ps[-1]
    assert snapshot["source"]["unavailable_fields"] == {
        "PermissionSet": [
            "PermissionsApproveUninstalledConnectedApps",
            "PermissionsUseAnyApiClient",
        ]
    }
    # the wrong name for "Manage Connected Apps" is never asked for
    assert not any("PermissionsManageConnectedApps" in q for q in queries)


def test_unavailable_waiver_permission_leaves_mfa_waived_missing(
    org_factory: Any, key_pair: tuple[Path, bytes], tmp_path: Path
) -> None:
    server, _ = org_factory(
        unavailable_fields={"PermissionSet": ["PermissionsBypassMFAForUiLogins"]}
    )
    result, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert result.complete
    carol = by_id(snap, "accounts")[CAROL]
    assert "mfa_waived" not in carol
    assert carol["privileged"] is True


def test_client_credentials_flow(
    org_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _org = org_factory()
    monkeypatch.setenv("SF_TEST_SECRET", CLIENT_SECRET)
    options = {
        "login_url": server.base_url,
        "client_id": CLIENT_ID,
        "client_secret_env": "SF_TEST_SECRET",
    }
    result, snap = run_collect(options, tmp_path / "sf.json")
    assert result.complete and len(snap["accounts"]) == 8
    (token_request,) = server.requests_to("/services/oauth2/token")
    assert token_request.form()["grant_type"] == "client_credentials"


def test_jwt_assertion_claims(emulated: Any, key_pair: tuple[Path, bytes], tmp_path: Path) -> None:
    server, org = emulated
    run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    (claims,) = org.assertions
    assert claims["iss"] == CLIENT_ID
    assert claims["sub"] == USERNAME
    assert claims["aud"] == server.base_url
    import time

    assert 0 < claims["exp"] - time.time() <= 180


def test_jsonl_snapshot(emulated: Any, key_pair: tuple[Path, bytes], tmp_path: Path) -> None:
    from policyengine import connector as registry

    server, _ = emulated
    out = tmp_path / "sf.jsonl.gz"
    result = registry.run("salesforce", jwt_options(server, key_pair[0]), instance="sf", output=out)
    assert result.complete and out.stat().st_size > 0


def test_external_client_apps_are_inventoried(snapshot: dict[str, Any]) -> None:
    integrations = by_id(snapshot, "integrations")
    tableau = integrations["eca:Tableau_Sync"]
    assert tableau["installed"] is True
    assert tableau["admin_approved"] is True  # AdminApprovedPreAuthorized
    assert tableau["high_assurance_required"] is True  # RaiseSessionLevel
    assert tableau["ip_restricted"] is True
    assert tableau["refresh_token_policy"] == "expire_after_period"
    assert tableau["scopes"] == ["api", "refresh_token"]
    assert tableau["authorized_users"] == []
    assert tableau["raw"]["kind"] == "external_client_app"
    export = integrations["eca:Quick_Export_Tool"]
    assert export["admin_approved"] is False  # AllSelfAuthorized
    assert export["ip_restricted"] is False
    assert export["refresh_token_policy"] == "until_revoked"
    assert {"full", "full_access"} <= set(export["scopes"])
    assert export["authorized_users"] == [GINA]
    (token,) = [c for c in snapshot["credentials"] if c["owner"] == GINA]
    assert token["integration"] == "eca:Quick_Export_Tool"
    assert "uninstalled:Quick Export Tool" not in integrations


def test_privilege_through_a_permission_set_group_names_the_group(
    snapshot: dict[str, Any],
) -> None:
    gina = by_id(snapshot, "accounts")[GINA]
    assert gina["privileged"] is True
    assert gina["privileged_via"] == [
        "permission:ViewAllData via permission set group Sales_Ops_Admins"
    ]
    assert "Sales_Ops_Admins" in gina["roles"]


def test_tokens_link_to_apps_through_their_app_menu_item(snapshot: dict[str, Any]) -> None:
    # ConnectedApplication.Name is the API name "MuleSoft_ETL"; the token says
    # "MuleSoft ETL". The App Launcher item ties them together.
    mule = by_id(snapshot, "integrations")["0H45g000000MulEAAA"]
    assert mule["name"] == "MuleSoft ETL"
    assert mule["authorized_users"] == [ETL]
    assert "uninstalled:MuleSoft ETL" not in by_id(snapshot, "integrations")
    (token,) = [c for c in snapshot["credentials"] if c["owner"] == ETL]
    assert token["integration"] == "0H45g000000MulEAAA"
    assert token["scopes"] == ["api", "refresh_token"]


def test_non_human_accounts_are_owned_by_their_manager(snapshot: dict[str, Any]) -> None:
    from tests.connectors.salesforce.conftest import by_id

    accounts = by_id(snapshot, "accounts")
    assert accounts["0055g00000AEtlAAAA"]["owner"] == "0055g00000AliceAAA"  # the API-only ETL user
    assert "owner" not in accounts["0055g00000AliceAAA"]  # humans are their own owners


def test_listed_oauth_tokens_are_live(snapshot: dict[str, Any]) -> None:
    assert all(c["enabled"] is True for c in snapshot["credentials"] if c["type"] == "oauth_token")
