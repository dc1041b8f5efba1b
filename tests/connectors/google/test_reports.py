"""Reports API audit events: grants per OAuth client, challenge methods per user, faults."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx

from connectors.google._options import REPORTS_SCOPE, SCOPES
from policyengine import connector as registry
from tests.connectors.google.conftest import Google, by_id, options
from tests.connectors.google.test_emulator import assertion, grant
from tests.emulators.google import grant_activity, login_activity
from tests.emulators.kit import DATA, DiscoverySpec, server_error

REPORTS = DiscoverySpec.load(DATA / "google" / "admin.reports_v1.json", forbid_unknown=True)
NOW = "2026-11-01T06:00:00Z"
ANA, DAN, ERIN = "100000000000000000001", "100000000000000000004", "100000000000000000005"
DOCSYNC = "555000111-docsync.apps.googleusercontent.com"
ADMINTOOL = "1234567890-admintool.apps.googleusercontent.com"
SCOPE = ["https://mail.google.com/", "https://www.googleapis.com/auth/drive"]


def days_before(days: float) -> str:
    moment = dt.datetime(2026, 11, 1, 6, tzinfo=dt.UTC) - dt.timedelta(days=days)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def with_events(google: Google) -> None:
    users = {u["id"]: u for u in google.emulator.tenant.users}
    google.emulator.tenant.activities = {
        "token": [
            grant_activity(1, days_before(3), users[DAN], DOCSYNC, "Docs Sync Helper", SCOPE),
            grant_activity(2, days_before(1), users[ERIN], DOCSYNC, "Docs Sync Helper", SCOPE),
            # before the 30-day window: not counted
            grant_activity(3, days_before(90), users[ANA], ADMINTOOL, "GAM", ["x"]),
        ],
        "login": [
            login_activity(4, days_before(5), users[ANA], ["idv_preregistered_phone"]),
            login_activity(5, days_before(1), users[ANA], ["none"]),
            login_activity(6, days_before(1), users[DAN], ["security_key"]),
        ],
    }


def run(google: Google, out: Path, **extra: Any) -> tuple[Any, dict[str, Any]]:
    import json

    result = registry.run(
        "google", options(google, **extra), instance="google", output=out, collected_at=NOW
    )
    return result, json.loads(out.read_text())


def test_grants_summarised_per_client_and_challenge_methods_per_user(
    google: Google, tmp_path: Path
) -> None:
    with_events(google)
    result, snap = run(google, tmp_path / "g.json")
    assert result.complete, result.errors
    apps = by_id(snap, "integrations")
    assert apps[DOCSYNC]["activity"] == {
        "window_days": 30,
        "grants": 2,
        "first_seen_at": days_before(3).replace(".000", ""),
        "last_seen_at": days_before(1).replace(".000", ""),
    }
    assert apps[ADMINTOOL]["activity"] == {"window_days": 30, "grants": 0}  # granted long ago
    accounts = by_id(snap, "accounts")
    assert accounts[ANA]["activity"]["challenge_methods"] == ["idv_preregistered_phone", "none"]
    assert accounts[ANA]["activity"]["logins"] == 2
    assert accounts[DAN]["activity"]["challenge_methods"] == ["security_key"]
    assert accounts["100000000000000000003"]["activity"] == {
        "window_days": 30,
        "logins": 0,
        "challenge_methods": [],
    }


def test_activity_days_bounds_the_window(google: Google, tmp_path: Path) -> None:
    with_events(google)
    _, snap = run(google, tmp_path / "g.json", activity_days=2)
    assert by_id(snap, "integrations")[DOCSYNC]["activity"]["grants"] == 1
    assert by_id(snap, "accounts")[ANA]["activity"]["logins"] == 1


def test_activity_days_0_reads_no_events(google: Google, tmp_path: Path) -> None:
    with_events(google)
    result, snap = run(google, tmp_path / "g.json", activity_days=0)
    assert result.complete
    assert all("activity" not in a for a in snap["accounts"] + snap["integrations"])
    assert not any("/reports/" in r.path for r in google.server.requests)


def test_events_are_paged_at_1000(google: Google, tmp_path: Path) -> None:
    dan = next(u for u in google.emulator.tenant.users if u["id"] == DAN)
    google.emulator.tenant.activities = {
        "token": [
            grant_activity(n, days_before(n / 1000), dan, DOCSYNC, "Docs Sync Helper", SCOPE)
            for n in range(2500)
        ]
    }
    result, snap = run(google, tmp_path / "g.json")
    assert result.complete, result.errors
    assert by_id(snap, "integrations")[DOCSYNC]["activity"]["grants"] == 2500
    pages = [r for r in google.server.requests if r.path.endswith("/applications/token")]
    assert len(pages) == 3 and all(r.param("maxResults") == "1000" for r in pages)


def test_reports_scope_not_delegated_leaves_only_activity_missing(
    make_google: Any, tmp_path: Path
) -> None:
    google = make_google(delegated_scopes=frozenset(SCOPES))
    with_events(google)
    result, snap = run(google, tmp_path / "g.json")
    assert not result.complete
    assert any(
        "OAuth grant audit events (Reports API) not collected" in e and "unauthorized_client" in e
        for e in result.errors
    ), result.errors
    assert len(snap["accounts"]) == 8 and snap["integrations"]  # the rest is there
    assert all("activity" not in a for a in snap["accounts"] + snap["integrations"])


def test_reports_forbidden_is_missing_with_the_reason(google: Google, tmp_path: Path) -> None:
    with_events(google)
    google.emulator.forbidden_reports = {"login"}
    result, snap = run(google, tmp_path / "g.json")
    assert not result.complete
    assert any(
        "login audit events" in e and "insufficientPermissions" in e for e in result.errors
    ), result.errors
    assert all("activity" not in a for a in snap["accounts"])  # missing, never "no logins"
    assert by_id(snap, "integrations")[DOCSYNC]["activity"]["grants"] == 2


def test_reports_503_twice_is_retried(google: Google, tmp_path: Path) -> None:
    with_events(google)
    google.server.add_fault(
        server_error(503), match=lambda r: r.path.endswith("/applications/login"), times=2
    )
    result, snap = run(google, tmp_path / "g.json")
    assert result.complete, result.errors
    assert by_id(snap, "accounts")[DAN]["activity"]["logins"] == 1


def test_activities_bodies_match_googles_discovery_schema(google: Google, private_pem: str) -> None:
    with_events(google)
    signed = assertion(google, private_pem, scope=REPORTS_SCOPE)
    token = grant(google, signed).json()["access_token"]
    for app, event in (("token", "authorize"), ("login", "login_success")):
        for size in (1, 1000):
            answer = httpx.get(
                f"{google.url}/admin/reports/v1/activity/users/all/applications/{app}",
                params={"eventName": event, "maxResults": size, "startTime": days_before(30)},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert answer.status_code == 200, answer.text
            body = answer.json()
            REPORTS.validate_response(body, "activities.list")
            times = [a["id"]["time"] for a in body["items"]]
            assert times == sorted(times, reverse=True)  # the API lists newest first
            assert len(times) == 1 and body["nextPageToken"] if size == 1 else len(times) >= 2


def test_activity_days_beyond_180_is_a_usage_error(tmp_path: Path) -> None:
    import pytest

    from connectors.google._options import parse_options
    from policyengine.errors import UsageError

    base = {"service_account_file": str(tmp_path / "k.json"), "subject": "a@x.example"}
    assert parse_options(base).activity_days == 30
    with pytest.raises(UsageError, match="activity_days"):
        parse_options({**base, "activity_days": 181})
