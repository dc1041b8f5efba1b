"""Per account: live sessions (AuthSession) and "login as" events (SetupAuditTrail)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.connectors.salesforce.conftest import by_id, jwt_options, run_collect
from tests.emulators._server import Response

pytestmark = pytest.mark.usefixtures("fast_retries")

DAN = "0055g00000ADanAAAA"  # authorised the look-alike app; the admin logged in as him
ALICE = "0055g00000AliceAAA"
ERIN = "0055g00000ErinAAAA"  # no open session


def test_accounts_carry_their_live_sessions_described(
    emulated: Any, key_pair: Any, tmp_path: Path
) -> None:
    server, _ = emulated
    result, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert result.complete, result.errors
    accounts = by_id(snap, "accounts")
    dan = accounts[DAN]["live_sessions"]
    assert dan["count"] == 1 and dan["oauth"] == 1
    assert dan["apps"] == ["Data Loader IT Support"]
    assert dan["sessions"] == [
        {
            "user": DAN,
            "app": "Data Loader IT Support",  # through LoginHistoryId -> LoginHistory.Application
            "type": "Oauth2",
            "login_type": "Remote Access 2.0",
            "source_ip": "185.220.101.47",
            "created_at": dan["last_created_at"],
            "security_level": "STANDARD",
        }
    ]
    alice = accounts[ALICE]["live_sessions"]
    assert alice["types"] == ["UI"] and alice["oauth"] == 0 and alice["apps"] == []
    assert alice["sessions"][0]["security_level"] == "HIGH_ASSURANCE"
    assert "app" not in alice["sessions"][0]  # a browser login is no app's
    assert accounts[ERIN]["live_sessions"] == {
        "count": 0,
        "oauth": 0,
        "source_ips": [],
        "sessions": [],
    }
    # the integration's summary describes the same session, naming the user
    app = by_id(snap, "integrations")["0H45g000000DlITAAA"]["live_sessions"]
    assert [s["user"] for s in app["sessions"]] == [DAN] and "apps" not in app


def test_login_as_is_summarised_on_the_account_logged_in_as(
    emulated: Any, key_pair: Any, tmp_path: Path
) -> None:
    server, _ = emulated
    _, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    accounts = by_id(snap, "accounts")
    activity = accounts[DAN]["activity"]
    assert activity["login_as_events"] == 1
    assert activity["login_as_by"] == [ALICE]
    assert activity["window_days"] == 30 and activity["last_login_as_at"].endswith("Z")
    # the admin did the logging in: nothing is counted on her own account
    assert accounts[ALICE]["activity"]["login_as_events"] == 0


def test_login_as_names_the_admin_from_delegate_user_not_created_by(
    org_factory: Any, key_pair: Any, tmp_path: Path
) -> None:
    from tests.emulators.salesforce import load_fixture

    fixture = load_fixture()
    (row,) = [r for r in fixture["objects"]["SetupAuditTrail"] if r["Action"] == "suOrgAdminLogin"]
    # the trail row made in the user's name, the admin in DelegateUser
    row.update(CreatedById=DAN, DelegateUser="bob.admin@kering.example", Display="Login-As")
    server, _ = org_factory(fixture)
    _, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    activity = by_id(snap, "accounts")[DAN]["activity"]
    assert activity["login_as_events"] == 1 and activity["login_as_by"] == ["0055g00000ABobAAAA"]


def test_unreadable_sessions_and_trail_leave_account_fields_missing(
    emulated: Any, key_pair: Any, tmp_path: Path
) -> None:
    server, _ = emulated
    refused = Response.json(
        [{"message": "insufficient access rights", "errorCode": "INSUFFICIENT_ACCESS"}],
        status=403,
    )
    server.add_fault(
        refused,
        match=lambda r: any(
            f"FROM {o}" in (r.param("q") or "") for o in ("AuthSession", "SetupAuditTrail")
        ),
        times=20,
    )
    result, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert result.complete, result.errors  # auxiliary objects
    dan = by_id(snap, "accounts")[DAN]
    assert "live_sessions" not in dan and "activity" not in dan


def test_activity_days_zero_reads_no_account_sessions(
    emulated: Any, key_pair: Any, tmp_path: Path
) -> None:
    server, _ = emulated
    _, snap = run_collect(jwt_options(server, key_pair[0], activity_days=0), tmp_path / "sf.json")
    dan = by_id(snap, "accounts")[DAN]
    assert "live_sessions" not in dan and "activity" not in dan


def test_demo_helpdesk_account_shows_the_lookalike_apps_live_session() -> None:
    import json

    from policyengine.demo import demo_snapshot_paths

    (path,) = [p for p in demo_snapshot_paths() if p.name == "salesforce-prod.json"]
    snap = json.loads(path.read_text())
    sophie = next(a for a in snap["accounts"] if a["name"].startswith("sophie.laurent"))
    (session,) = sophie["live_sessions"]["sessions"]
    assert session["app"] == "Data Loader" and session["source_ip"] == "185.220.101.47"
    assert session["type"] == "Oauth2" and session["login_type"] == "Remote Access 2.0"
