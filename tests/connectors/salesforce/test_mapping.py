"""Mapping rules that are easy to get subtly wrong: missing vs false, scopes, IP policy."""

from __future__ import annotations

import pytest

from connectors.salesforce._mapping import (
    Org,
    ip_restricted,
    map_integrations_and_credentials,
    map_mfa,
    normalise_scopes,
)
from connectors.salesforce._time import sf_time


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-05T10:00:00.000+0000", "2026-01-05T10:00:00Z"),
        ("2026-01-05T10:00:00.000-0500", "2026-01-05T15:00:00Z"),
        ("2026-01-05T10:00:00Z", "2026-01-05T10:00:00Z"),
        ("2026-12-31", "2026-12-31T00:00:00Z"),
        ("yesterday", None),
        (None, None),
        (17, None),
    ],
)
def test_sf_time(value: object, expected: str | None) -> None:
    assert sf_time(value) == expected


ALL_FALSE = {
    "HasSecurityKey": False,
    "HasU2F": False,
    "HasBuiltInAuthenticator": False,
    "HasSalesforceAuthenticator": False,
    "HasTotp": False,
    "HasUserVerifiedMobileNumber": False,
    "HasUserVerifiedEmailAddress": False,
}


def test_mfa_methods_map_to_model_words() -> None:
    row = {**ALL_FALSE, "HasBuiltInAuthenticator": True, "HasU2F": True, "HasTotp": True}
    assert map_mfa(row, known=True) == {
        "enrolled": True,
        "methods": ["fido2", "platform", "totp"],
        "phishing_resistant": True,
    }


def test_no_row_means_nothing_registered_but_unknown_object_means_missing() -> None:
    assert map_mfa(None, known=True) == {
        "enrolled": False,
        "methods": [],
        "phishing_resistant": False,
    }
    assert map_mfa(None, known=False) is None


def test_missing_field_is_unknown_unless_already_proven() -> None:
    row = dict(ALL_FALSE)
    del row["HasSecurityKey"]  # e.g. an API version before the field existed
    assert map_mfa(row, known=True) == {"methods": []}  # a key might be registered
    row["HasBuiltInAuthenticator"] = True
    assert map_mfa(row, known=True)["phishing_resistant"] is True


def test_sms_and_email_are_not_mfa_enrolment() -> None:
    row = {**ALL_FALSE, "HasUserVerifiedMobileNumber": True, "HasUserVerifiedEmailAddress": True}
    assert map_mfa(row, known=True) == {
        "enrolled": False,
        "methods": ["sms"],
        "phishing_resistant": False,
    }


def test_sms_is_listed_only_while_sms_identity_confirmation_is_allowed() -> None:
    row = {**ALL_FALSE, "HasUserVerifiedMobileNumber": True, "HasTotp": True}
    assert map_mfa(row, known=True, sms_identity=None)["methods"] == ["sms", "totp"]
    assert map_mfa(row, known=True, sms_identity=False)["methods"] == ["totp"]


def test_scopes() -> None:
    assert normalise_scopes(["Full", "RefreshToken", "Api"]) == [
        "api",
        "full",
        "full_access",
        "refresh_token",
    ]
    assert normalise_scopes(["OfflineAccess", "OpenID", "CustomPermissions"]) == [
        "custom_permissions",
        "offline_access",
        "openid",
        "refresh_token",
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ENFORCE", True),
        ("Enforce", True),
        ("BYPASS", False),
        ("Bypass_2factor", False),
        ("Enforce_RelaxRefresh", False),
        ("ENFORCE_ACTIVATED_DEVICES", False),
        ("SOMETHING_NEW", None),
        (None, None),
    ],
)
def test_ip_relaxation(value: object, expected: bool | None) -> None:
    assert ip_restricted(value) is expected


def test_tokens_with_identical_keys_get_distinct_ids() -> None:
    token = {"AppName": "X", "UserId": "005A", "CreatedDate": "2026-01-01T00:00:00.000+0000"}
    org = Org(tokens=[dict(token), dict(token)], complete={"OauthToken"})
    creds = [r for r in map_integrations_and_credentials(org) if r["kind"] == "credential"]
    assert len({c["id"] for c in creds}) == 2
    (app,) = [r for r in map_integrations_and_credentials(org) if r["kind"] == "integration"]
    assert app["id"] == "uninstalled:X" and app["authorized_users"] == ["005A"]


def test_incomplete_token_list_leaves_authorized_users_missing() -> None:
    org = Org(
        apps=[{"Id": "0H4A", "Name": "App", "OptionsAllowAdminApprovedUsersOnly": True}],
        complete=set(),
    )
    (app,) = list(map_integrations_and_credentials(org))
    assert "authorized_users" not in app
    assert app["admin_approved"] is True


def test_portal_and_guest_users_are_flagged() -> None:
    from connectors.salesforce._mapping import map_accounts
    from connectors.salesforce._options import parse_options

    options = parse_options(
        {"login_url": "https://login.salesforce.com", "client_id": "c", "client_secret_env": "X"}
    )
    org = Org(
        users=[
            {"Id": "005P", "Username": "p@partner", "UserType": "PowerPartner"},
            {"Id": "005G", "Username": "site guest", "UserType": "Guest"},
            {"Id": "005S", "Username": "s@corp", "UserType": "Standard"},
        ],
        complete={"User"},
    )
    flags = {a["id"]: a.get("flags", []) for a in map_accounts(org, options)}
    assert flags == {"005P": ["external"], "005G": ["guest"], "005S": []}
    accounts = {a["id"]: a for a in map_accounts(org, options)}
    # permission objects were not read: privilege and permissions are missing, not false
    assert "privileged" not in accounts["005S"] and "permissions" not in accounts["005S"]
    assert "mfa" not in accounts["005S"]


def test_token_follows_its_app_menu_item_even_when_names_differ() -> None:
    org = Org(
        apps=[{"Id": "0H4A00000000001AAA", "Name": "Api_Name"}],
        menu_items=[
            {"Id": "0PpA00000000001", "ApplicationId": "0H4A00000000001", "Label": "Pretty"}
        ],
        tokens=[
            {"AppName": "Renamed Since", "AppMenuItemId": "0PpA00000000001XYZ", "UserId": "005A"}
        ],
        complete={"OauthToken", "ConnectedApplication"},
    )
    resources = list(map_integrations_and_credentials(org))
    (app,) = [r for r in resources if r["kind"] == "integration"]
    (token,) = [r for r in resources if r["kind"] == "credential"]
    assert app["id"] == "0H4A00000000001AAA" and app["name"] == "Pretty"
    assert app["authorized_users"] == ["005A"]
    assert token["integration"] == "0H4A00000000001AAA"
