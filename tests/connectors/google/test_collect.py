"""`collect google` against the emulator: a complete snapshot, mapped as documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from policyengine.errors import AuthenticationError, UsageError
from tests.connectors.google.conftest import (
    CLIENT_EMAIL,
    SUBJECT,
    Google,
    by_id,
    collect,
    options,
)

ANA, BOB, CAROL, DAN, ERIN, SVC, FAY = (f"10000000000000000000{n}" for n in range(1, 8))


def test_a_complete_snapshot(google: Google, tmp_path: Path) -> None:
    result, snap = collect(google, tmp_path / "g.json")
    assert result.complete, result.errors
    # the delegated admin and the service account: remediation never acts on them
    assert snap["source"]["collected_as"] == sorted(
        {SUBJECT, CLIENT_EMAIL, "112233445566778899000"}
    )
    accounts = by_id(snap, "accounts")
    assert len(accounts) == 8  # 7 users and 1 deleted user
    ana = accounts[ANA]
    assert ana["privileged_via"] == ["super_admin", "role:Super Admin"]
    assert ana["mfa"] == {"enrolled": True, "enforced": True}
    assert ana["employee_id"] == "E1001" and ana["groups"] == ["0abc11111"]
    assert ana["last_login_at"] == "2026-11-30T08:12:00Z"
    assert accounts[CAROL]["privileged_via"] == ["delegated_admin", "role:Help Desk Admin"]
    assert "last_login_at" not in accounts[SVC]  # 1970-01-01 means never
    assert accounts[SVC]["type"] == "service"
    assert (accounts[ERIN]["enabled"], accounts[ERIN]["status"]) == (False, "suspended")
    assert (accounts[FAY]["enabled"], accounts[FAY]["status"]) == (False, "archived")
    assert accounts["100000000000000000099"]["status"] == "deleted"
    roles = by_id(snap, "roles")
    assert roles["9170516996784129"]["members"] == [ANA, BOB]
    assert roles["9170516996784129"]["type"] == "super_admin"
    assert roles["9170516996784129"]["name"] == "Super Admin"  # not _SEED_ADMIN_ROLE
    creds = by_id(snap, "credentials")
    grant = creds[f"{DAN}:oauth:555000111-docsync.apps.googleusercontent.com"]
    assert grant["type"] == "oauth_token" and grant["owner"] == DAN
    assert "https://mail.google.com/" in grant["scopes"]
    apps = by_id(snap, "integrations")
    assert apps["555000111-docsync.apps.googleusercontent.com"]["authorized_users"] == [DAN, ERIN]
    asp = creds[f"{DAN}:asp:11"]
    assert asp["type"] == "app_password" and asp["created_at"] == "2022-01-01T00:00:00Z"
    assert "last_used_at" not in asp  # lastTimeUsed 0: never used
    assert creds[f"{BOB}:asp:12"]["last_used_at"].startswith("2025-11-29")
    settings = {s["name"]: s for s in snap["settings"]}
    assert "security.two_step_verification_enforcement" in settings


def test_pages_with_the_documented_maximum(google: Google, tmp_path: Path) -> None:
    collect(google, tmp_path / "g.json")
    users = [r for r in google.server.requests if r.path.endswith("/users")]
    assert users and all(r.param("maxResults") == "500" for r in users)
    roles = [r for r in google.server.requests if r.path.endswith("/roleassignments")]
    assert roles[0].param("maxResults") == "200"


def test_follows_next_page_token(google: Google, tmp_path: Path) -> None:
    big = [
        dict(u, id=f"3{n:020d}", primaryEmail=f"p{n}@x.example")
        for n, u in enumerate(google.emulator.tenant.users * 150)
    ]
    google.emulator.tenant.users = big
    result, snap = collect(google, tmp_path / "g.json")
    assert result.complete, result.errors
    assert len([a for a in snap["accounts"] if a["status"] != "deleted"]) == 1050
    pages = [
        r
        for r in google.server.requests
        if r.path.endswith("/users") and r.param("showDeleted") is None
    ]
    assert len(pages) == 3 and pages[1].param("pageToken")


def test_missing_delegation_is_an_authentication_error(make_google, tmp_path: Path) -> None:
    google = make_google(delegated_scopes=frozenset())
    with pytest.raises(AuthenticationError, match="unauthorized_client") as caught:
        collect(google, tmp_path / "g.json")
    assert caught.value.exit_code == 2
    assert not (tmp_path / "g.json").exists()


def test_unknown_admin_is_invalid_grant(google: Google, tmp_path: Path) -> None:
    with pytest.raises(AuthenticationError, match="invalid_grant"):
        collect(google, tmp_path / "g.json", subject="nobody@northwind-retail.example")


def test_plain_http_only_for_loopback(google: Google, tmp_path: Path) -> None:
    from policyengine import connector as registry

    with pytest.raises(UsageError, match="plain http is refused"):
        registry.run(
            "google",
            options(google, api_url="http://admin.example"),
            instance="google",
            output=tmp_path / "g.json",
        )
