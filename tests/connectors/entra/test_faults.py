"""Faults against the Graph emulator: throttling, 5xx, drops, token expiry, refused parts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.connectors.entra.conftest import Entra, by_name, collect, options, start
from tests.emulators.entra import page_matcher
from tests.emulators.entra_tenant import generate
from tests.emulators.kit import DROP, Response, malformed_body, rate_limited, server_error

USERS = "/v1.0/users"


@pytest.fixture
def ten_users(certificate: tuple[str, bytes]) -> Iterator[Entra]:
    """Seven fixture users and three generated ones: five pages of two."""
    yield from start(generate(3, 0, 0), certificate[1])


def test_429_with_retry_after_then_success(entra: Entra, secret_env: str, tmp_path: Path) -> None:
    entra.server.add_fault(rate_limited.graph(retry_after=1), match=USERS)
    started = time.monotonic()
    result, snap = collect(options(entra, secret_env), tmp_path / "e.json")
    assert result.complete, result.errors
    assert len(snap["accounts"]) == 7
    assert len(entra.server.requests_to(USERS)) == 2
    assert time.monotonic() - started >= 0.9  # waited for Retry-After, not just the backoff


def test_503_twice_then_success(entra: Entra, secret_env: str, tmp_path: Path) -> None:
    path = "/v1.0/servicePrincipals"
    entra.server.add_fault(server_error(503), match=path, times=2)
    result, snap = collect(options(entra, secret_env), tmp_path / "e.json")
    assert result.complete, result.errors
    assert len(entra.server.requests_to(path)) == 3
    assert "Payroll Sync" in by_name(snap, "integrations")


def test_connection_dropped_on_page_3_of_5_is_retried(
    ten_users: Entra, secret_env: str, tmp_path: Path
) -> None:
    ten_users.server.add_fault(DROP, match=page_matcher(USERS, 3))
    result, snap = collect(options(ten_users, secret_env, page_size=2), tmp_path / "e.json")
    assert result.complete, result.errors
    assert len(snap["accounts"]) == 10
    assert len(ten_users.server.requests_to(USERS)) == 6


def test_connection_dropped_for_good_names_the_part(
    ten_users: Entra, secret_env: str, tmp_path: Path
) -> None:
    ten_users.server.add_fault(DROP, match=page_matcher(USERS, 3), times=None)
    opts = options(ten_users, secret_env, page_size=2, max_attempts=2)
    result, snap = collect(opts, tmp_path / "e.json")
    assert not result.complete
    assert any(e.startswith("entra: users not collected") for e in result.errors)
    assert snap["integrations"], "the parts after users are still collected"


def test_token_expired_mid_run_is_reacquired_once(
    entra: Entra, secret_env: str, tmp_path: Path
) -> None:
    def expire(request: object) -> None:
        entra.emulator.tokens.clear()  # every token issued so far stops working

    entra.server.add_fault(expire, match="/v1.0/applications")
    result, snap = collect(options(entra, secret_env), tmp_path / "e.json")
    assert result.complete, result.errors
    assert entra.emulator.token_requests == 2
    assert "Payroll Sync" in by_name(snap, "integrations")


def test_sign_in_activity_denied_leaves_the_field_missing(
    certificate: tuple[str, bytes], secret_env: str, tmp_path: Path
) -> None:
    from tests.emulators.entra import ALL_PERMISSIONS

    tenant = generate(0, 0, 0)
    roles = ALL_PERMISSIONS - {"AuditLog.Read.All"}
    for entra in start(tenant, certificate[1], roles=roles):
        result, snap = collect(options(entra, secret_env), tmp_path / "e.json")
    accounts = by_name(snap)
    assert len(accounts) == 7 and not any("last_login_at" in a for a in accounts.values())
    assert all("mfa" not in a for a in accounts.values())  # the report needs it too
    reason = snap["source"]["missing_fields"]["account.last_login_at"]
    assert "Authorization_RequestDenied" in reason
    assert not result.complete  # fail closed: dormant-account policies cannot be judged
    assert any(
        "signInActivity not collected" in e and "AuditLog.Read.All" in e for e in result.errors
    )
    assert snap["integrations"] and snap["roles"]


def test_sign_in_activity_turned_off_is_complete_and_says_so(
    entra: Entra, secret_env: str, tmp_path: Path
) -> None:
    result, snap = collect(options(entra, secret_env, sign_in_activity=False), tmp_path / "e.json")
    assert result.complete, result.errors
    assert "signInActivity" not in entra.server.requests_to(USERS)[0].param("$select")
    assert "not requested" in snap["source"]["missing_fields"]["account.last_login_at"]


def test_malformed_json_once_is_fetched_again(
    entra: Entra, secret_env: str, tmp_path: Path
) -> None:
    entra.server.add_fault(malformed_body(), match="/v1.0/oauth2PermissionGrants")
    result, snap = collect(options(entra, secret_env), tmp_path / "e.json")
    assert result.complete, result.errors
    assert by_name(snap, "integrations")["Micros0ft Docs Viewer"]["raw"]["delegated_grants"]


def test_malformed_json_for_good_names_the_part(
    entra: Entra, secret_env: str, tmp_path: Path
) -> None:
    entra.server.add_fault(malformed_body(), match="/v1.0/identity/*", times=None)
    result, _ = collect(options(entra, secret_env, max_attempts=2), tmp_path / "e.json")
    assert not result.complete
    assert any(
        "Conditional Access policies not collected" in e and "malformed JSON" in e
        for e in result.errors
    )


def test_next_link_to_another_host_is_refused(
    entra: Entra, secret_env: str, tmp_path: Path
) -> None:
    body = {"value": [], "@odata.nextLink": "https://graph.attacker.example/v1.0/applications"}
    entra.server.add_fault(Response.json(body), match="/v1.0/applications")
    result, _ = collect(options(entra, secret_env), tmp_path / "e.json")
    assert not result.complete
    assert any("another host (graph.attacker.example); refused" in e for e in result.errors)


def test_missing_permission_is_missing_data_naming_it(
    certificate: tuple[str, bytes], secret_env: str, tmp_path: Path
) -> None:
    from tests.emulators.entra import ALL_PERMISSIONS

    for entra in start(
        generate(0, 0, 0), certificate[1], roles=ALL_PERMISSIONS - {"Policy.Read.All"}
    ):
        result, snap = collect(options(entra, secret_env), tmp_path / "e.json")
    assert not result.complete
    assert any(
        "tenant settings not collected (the app needs Policy.Read.All)" in e for e in result.errors
    )
    assert len(snap["accounts"]) == 7
