"""Activity over the window: OAuth logins, live sessions and Bulk API exports per app and token."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.connectors.salesforce.conftest import by_id, jwt_options, run_collect
from tests.emulators._server import Response

pytestmark = pytest.mark.usefixtures("fast_retries")

LOOKALIKE = "0H45g000000DlITAAA"  # "Data Loader IT Support", authorised by dan
DAN = "0055g00000ADanAAAA"


def _token_of(snap: dict[str, Any], app: str) -> dict[str, Any]:
    (token,) = [c for c in snap["credentials"] if c["name"].startswith(f"{app} token")]
    return token


def test_lookalike_app_shows_its_logins_sessions_and_exports(
    emulated: Any, key_pair: Any, tmp_path: Path
) -> None:
    server, _ = emulated
    result, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert result.complete, result.errors
    app = by_id(snap, "integrations")[LOOKALIKE]
    assert app["activity"] == {
        "window_days": 30,
        "logins": 3,
        "failed_logins": 1,
        "distinct_ips": 2,
        "source_ips": ["185.220.101.47", "185.220.101.52"],
        "users": [DAN],
        "first_seen_at": app["activity"]["first_seen_at"],
        "last_seen_at": app["activity"]["last_seen_at"],
        "bulk_jobs": 3,
        "records_exported": 118402 + 254311 + 40194,
        "objects_exported": ["Account", "Contact", "Opportunity"],
    }
    assert app["activity"]["first_seen_at"] < app["activity"]["last_seen_at"]
    assert app["live_sessions"]["count"] == 1
    assert app["live_sessions"]["oauth"] == 1
    assert app["live_sessions"]["source_ips"] == ["185.220.101.47"]
    token = _token_of(snap, "Data Loader IT Support")
    assert token["activity"]["records_exported"] == 412907
    assert token["activity"]["logins"] == 3
    # MuleSoft's job and session are its own; the admin's browser login is no app's.
    mule = by_id(snap, "integrations")["0H45g000000MulEAAA"]
    assert mule["activity"]["bulk_jobs"] == 1 and mule["activity"]["records_exported"] == 1200
    assert mule["live_sessions"]["source_ips"] == ["52.14.10.20"]
    outlook = by_id(snap, "integrations")["0H45g000000OutlAAA"]
    assert outlook["activity"]["logins"] == 0 and outlook["activity"]["bulk_jobs"] == 0
    assert outlook["live_sessions"]["count"] == 0


def test_bulk_job_list_is_paged_and_each_v2_job_info_read(
    emulated: Any, key_pair: Any, tmp_path: Path
) -> None:
    server, _ = emulated  # 5 jobs, 2 per page: 3 list pages, then one info call per job
    run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert len(server.requests_to("/services/data/v62.0/jobs/query")) == 3
    assert len(server.requests_to("/services/data/v62.0/jobs/query/*")) == 5


def test_emulated_job_list_speaks_the_bulk_api_wire_format(emulated: Any) -> None:
    server, org = emulated
    token = json.loads(org._issue().body)["access_token"]  # the emulator's own token desk
    headers = {"Authorization": f"Bearer {token}"}
    first = httpx.get(f"{server.base_url}/services/data/v62.0/jobs/query", headers=headers).json()
    assert first["done"] is False and len(first["records"]) == 2
    assert first["nextRecordsUrl"].startswith("/services/data/v62.0/jobs/query?queryLocator=")
    assert "numberRecordsProcessed" not in first["records"][0]  # only in the job's own info
    job = first["records"][0]
    info = httpx.get(
        f"{server.base_url}/services/data/v62.0/jobs/query/{job['id']}", headers=headers
    ).json()
    assert info["numberRecordsProcessed"] == 118402 and info["jobType"] == "V2Query"


def test_job_list_failure_leaves_bulk_counts_missing_not_zero(
    emulated: Any, key_pair: Any, tmp_path: Path
) -> None:
    server, _ = emulated
    broken = Response(200, b"<html>proxy error</html>", {"Content-Type": "text/html"})
    server.add_fault(broken, match=lambda r: r.path.endswith("/jobs/query"), times=10)
    result, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert result.complete, result.errors  # activity is auxiliary
    activity = by_id(snap, "integrations")[LOOKALIKE]["activity"]
    assert activity["logins"] == 3
    assert "bulk_jobs" not in activity and "records_exported" not in activity


def test_login_history_refused_leaves_activity_missing(
    emulated: Any, key_pair: Any, tmp_path: Path
) -> None:
    server, _ = emulated
    refused = Response.json(
        [{"message": "insufficient access rights", "errorCode": "INSUFFICIENT_ACCESS"}],
        status=403,
    )
    server.add_fault(refused, match=lambda r: "FROM LoginHistory" in (r.param("q") or ""), times=10)
    result, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert result.complete, result.errors
    app = by_id(snap, "integrations")[LOOKALIKE]
    assert "activity" not in app and "live_sessions" not in app


def test_activity_days_zero_reads_no_activity(emulated: Any, key_pair: Any, tmp_path: Path) -> None:
    server, _ = emulated
    _, snap = run_collect(jwt_options(server, key_pair[0], activity_days=0), tmp_path / "sf.json")
    assert "activity" not in by_id(snap, "integrations")[LOOKALIKE]
    assert not server.requests_to("/services/data/v62.0/jobs/query")


def test_window_filters_logins_server_side(emulated: Any, key_pair: Any, tmp_path: Path) -> None:
    server, _ = emulated
    _, snap = run_collect(jwt_options(server, key_pair[0], activity_days=1), tmp_path / "sf.json")
    # Every planted login is one to two days old: a one-day window sees fewer.
    activity = by_id(snap, "integrations")[LOOKALIKE]["activity"]
    assert activity["window_days"] == 1
    assert activity["logins"] < 3


def test_library_flags_the_lookalike_apps_exports_on_collected_data(
    emulated: Any, key_pair: Any, tmp_path: Path
) -> None:
    from policyengine.cli.main import main

    server, _ = emulated
    out = tmp_path / "sf.json"
    result, _ = run_collect(jwt_options(server, key_pair[0]), out)
    assert result.complete
    report = tmp_path / "findings.json"
    code = main(["evaluate", "-s", str(out), "--format", "json", "--output", str(report)])
    assert code == 1  # findings at or above the fail-on level
    findings = json.loads(report.read_text())
    hits = [f for f in findings["findings"] if f["policy_id"] == "PE-INT-011"]
    assert len(hits) == 1, hits
    assert hits[0]["resource"]["id"] == LOOKALIKE
    assert "412907 records" in hits[0]["message"]
    assert "185.220.101.47" in hits[0]["remediation"]
    sessions = [f for f in findings["findings"] if f["policy_id"] == "PE-INT-012"]
    assert [f["resource"]["id"] for f in sessions] == [LOOKALIKE]


def test_setup_audit_trail_names_who_changed_the_app(
    emulated: Any, key_pair: Any, tmp_path: Path
) -> None:
    server, _ = emulated
    _, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    apps = by_id(snap, "integrations")
    assert apps[LOOKALIKE]["changed_by"] == ["0055g00000ABobAAAA"]
    # relaxed shortly before the first export
    assert apps[LOOKALIKE]["last_changed_at"] < apps[LOOKALIKE]["activity"]["first_seen_at"]
    mule = apps["0H45g000000MulEAAA"]
    assert mule["changed_by"] == [] and "last_changed_at" not in mule
    queries = [r.param("q") or "" for r in server.requests if r.path.endswith("/query")]
    (audit,) = [q for q in queries if "FROM SetupAuditTrail" in q]
    assert " WHERE CreatedDate >= " in audit
