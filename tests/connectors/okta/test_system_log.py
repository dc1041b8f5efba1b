"""System Log (--log-days): bounded, summarised onto accounts and apps, never stored raw."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from policyengine import connector as registry
from policyengine.errors import UsageError
from tests.connectors.okta.conftest import Okta, by_id, ssws_options

COLLECTED_AT = "2026-11-01T06:00:00Z"
ALICE = "00ualicex00000000000"
PORTAL = "0oaport0000000000003"
PROVISIONING = "0oaprov0000000000001"


def run(options: dict[str, Any], out: Path) -> tuple[registry.CollectResult, dict[str, Any]]:
    result = registry.run("okta", options, instance="okta", output=out, collected_at=COLLECTED_AT)
    return result, json.loads(out.read_text())


def test_the_log_is_not_read_by_default(okta: Okta, ssws_env: str, tmp_path: Path) -> None:
    _, snap = run(ssws_options(okta, ssws_env), tmp_path / "o.json")
    assert not okta.server.requests_to("/api/v1/logs")
    assert "activity" not in by_id(snap, "accounts")[ALICE]


def test_one_bounded_query_summarised_on_accounts_and_apps(
    okta: Okta, ssws_env: str, tmp_path: Path
) -> None:
    out = tmp_path / "o.json"
    result, snap = run(ssws_options(okta, ssws_env, log_days=30), out)
    assert result.complete, result.errors
    (query,) = okta.server.requests_to("/api/v1/logs")
    assert query.param("since") == "2026-10-02T06:00:00Z"
    assert query.param("until") == COLLECTED_AT  # bounded: Okta ends the walk
    assert query.param("limit") == "1000" and query.param("sortOrder") == "ASCENDING"
    accounts = by_id(snap, "accounts")
    assert accounts[ALICE]["activity"] == {
        "window_days": 30,
        "logins": 3,
        "failed_logins": 1,
        "distinct_ips": 2,
        "source_ips": ["198.51.100.77", "203.0.113.10"],
        "new_ips": ["198.51.100.77"],  # first seen in the last 7 days, after other IPs
        "first_seen_at": "2026-10-05T08:00:00Z",
        "last_seen_at": "2026-10-29T22:12:00Z",
    }
    bob = accounts["00ubobxxx00000000001"]["activity"]
    assert (bob["logins"], bob["new_ips"]) == (1, [])  # one IP only: nothing to compare
    carol = accounts["00ucarolx00000000002"]["activity"]
    assert carol["logins"] == 0 and "last_seen_at" not in carol  # August is outside
    apps = by_id(snap, "integrations")
    assert apps[PORTAL]["activity"] == {
        "window_days": 30,
        "grants": 1,
        "users": [ALICE],
        "first_seen_at": "2026-10-20T10:00:00Z",
        "last_seen_at": "2026-10-20T10:00:00Z",
    }
    assert "last_changed_at" not in apps[PORTAL]  # created in September: outside
    assert apps[PROVISIONING]["last_changed_at"] == "2026-10-25T16:00:00Z"
    assert apps[PROVISIONING]["changed_by"] == [ALICE]
    text = out.read_text()
    assert "a1b2c3d4-" not in text and "User login to Okta" not in text  # no raw events


def test_pages_are_followed_and_the_bound_reports_a_cut_window(
    okta: Okta, ssws_env: str, tmp_path: Path
) -> None:
    logs = okta.emulator.org.logs
    template = next(e for e in logs if e["eventType"] == "user.session.start")
    for i in range(2500):
        logs.append(dict(template, uuid=f"bulk-{i:06d}", published="2026-10-30T00:00:00.000Z"))
    result, snap = run(ssws_options(okta, ssws_env, log_days=30), tmp_path / "a.json")
    assert result.complete, result.errors
    assert len(okta.server.requests_to("/api/v1/logs")) == 3
    okta.server.clear_log()
    result, snap = run(ssws_options(okta, ssws_env, log_days=30, log_max_pages=2), tmp_path / "b")
    assert not result.complete
    assert any("system log not collected: more than 2 pages" in e for e in result.errors)
    assert "activity" not in by_id(snap, "accounts")[ALICE]  # a partial count is not kept
    assert len(snap["accounts"]) == 15  # the rest is still collected


def test_a_missing_logs_scope_loses_only_the_log(okta: Okta, ssws_env: str, tmp_path: Path) -> None:
    from tests.emulators._server import Response

    okta.server.add_fault(
        Response.json({"errorCode": "E0000006", "errorSummary": "You do not have permission"}, 403),
        match="/api/v1/logs",
        times=None,
    )
    result, snap = run(ssws_options(okta, ssws_env, log_days=7), tmp_path / "o.json")
    assert not result.complete
    assert any(e.startswith("okta: system log not collected") for e in result.errors)
    assert len(snap["accounts"]) == 15 and snap["integrations"]


def test_a_rate_limited_page_is_retried(okta: Okta, ssws_env: str, tmp_path: Path) -> None:
    from tests.emulators.kit import rate_limited

    okta.server.add_fault(rate_limited.okta(reset_in=0.2), match="/api/v1/logs", times=1)
    result, _ = run(ssws_options(okta, ssws_env, log_days=30), tmp_path / "o.json")
    assert result.complete, result.errors
    assert len(okta.server.requests_to("/api/v1/logs")) == 2


@pytest.mark.parametrize("days", [-1, 91])
def test_log_days_is_bounded_by_okta_s_retention(days: int) -> None:
    from connectors.okta._options import parse_options

    with pytest.raises(UsageError, match="log_days"):
        parse_options({"org_url": "https://x.okta.com", "token_env": "T", "log_days": days})


def test_the_logs_scope_is_asked_for_only_with_log_days() -> None:
    from connectors.okta._options import parse_options

    base = {"org_url": "https://x.okta.com", "client_id": "c", "private_key_env": "K"}
    assert "okta.logs.read" not in parse_options(base).scopes
    assert "okta.logs.read" in parse_options({**base, "log_days": 30}).scopes


def test_polling_without_until_never_ends_in_the_emulator(okta: Okta) -> None:
    """Why the connector always sends ``until``: Okta's polling queries keep a next link."""
    import httpx

    from tests.connectors.okta.conftest import SSWS_TOKEN

    auth = {"Authorization": f"SSWS {SSWS_TOKEN}"}
    r = httpx.get(okta.url + "/api/v1/logs?since=2026-10-01T00:00:00Z&limit=1000", headers=auth)
    assert "next" in r.links
    bounded = "/api/v1/logs?since=2026-10-01T00:00:00Z&until=2026-11-01T00:00:00Z&limit=1000"
    assert "next" not in httpx.get(okta.url + bounded, headers=auth).links
