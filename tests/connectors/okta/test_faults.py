"""Faults against the emulator: rate limits, 5xx, drops, expired tokens, bad bodies."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from policyengine.errors import AuthenticationError
from tests.connectors.okta.conftest import (
    Okta,
    by_name,
    collect,
    oauth_options,
    ssws_options,
    start,
    users_page_matcher,
)
from tests.emulators._server import DROP, Request, Response
from tests.emulators.okta import OktaOrg, error_body


def test_429_with_rate_limit_reset_then_success(okta: Okta, ssws_env: str, tmp_path: Path) -> None:
    reset = int(time.time()) + 1
    headers = {
        "X-Rate-Limit-Limit": "600",
        "X-Rate-Limit-Remaining": "0",
        "X-Rate-Limit-Reset": str(reset),
        "Retry-After": "1",
    }
    body = error_body("E0000047", "API call exceeded rate limit due to too many requests.")
    okta.server.add_fault(Response.json(body, 429, headers), match="/api/v1/api-tokens")
    started = time.monotonic()
    result, snap = collect(ssws_options(okta, ssws_env), tmp_path / "okta.json")
    assert result.complete, result.errors
    assert sum(c["type"] == "api_token" for c in snap["credentials"]) == 3
    assert len(okta.server.requests_to("/api/v1/api-tokens")) == 2
    assert time.monotonic() - started >= 0.5  # it waited for the reset, not just the backoff


def test_connector_paces_itself_under_the_advertised_limit(
    rsa_public_pem: str, ssws_env: str, tmp_path: Path
) -> None:
    # 10 requests a second for /api/v1/users/{id}/*: 15 factor calls need two resets;
    # the connector must slow down on X-Rate-Limit-Remaining instead of hitting 429s
    limits = {"/api/v1/users/{id}": 10}
    for okta in start(OktaOrg.load(), rsa_public_pem, rate_limits=limits, window=1):
        options = ssws_options(okta, ssws_env, max_concurrency=4)
        result, _ = collect(options, tmp_path / "okta.json")
        assert result.complete, result.errors
        assert okta.emulator.limiter.rejected == 0
        # 14 factors (none for the DEPROVISIONED user) + 3 admins' roles + /users/me
        assert len(okta.server.requests_to("/api/v1/users/*")) == 18


def test_500_twice_then_success(okta: Okta, ssws_env: str, tmp_path: Path) -> None:
    body = Response.json(error_body("E0000009", "Internal Server Error"), 500)
    okta.server.add_fault(body, match="/api/v1/policies", times=2)
    result, snap = collect(ssws_options(okta, ssws_env), tmp_path / "okta.json")
    assert result.complete, result.errors
    assert len(snap["session_policies"]) == 3
    assert len(okta.server.requests_to("/api/v1/policies")) == 3


def test_connection_dropped_on_page_3_of_5_is_retried(
    okta: Okta, ssws_env: str, tmp_path: Path
) -> None:
    fault = okta.server.add_fault(DROP, match=users_page_matcher(okta, 3, 3), times=1)
    result, snap = collect(ssws_options(okta, ssws_env, page_size=3), tmp_path / "okta.json")
    assert fault.hits == 1
    assert result.complete, result.errors
    assert len(snap["accounts"]) == 15


def test_connection_dropped_for_good_marks_the_snapshot_incomplete(
    okta: Okta, ssws_env: str, tmp_path: Path
) -> None:
    okta.server.add_fault(DROP, match=users_page_matcher(okta, 3, 3), times=None)
    options = ssws_options(okta, ssws_env, page_size=3, max_attempts=3)
    result, snap = collect(options, tmp_path / "okta.json")
    assert not result.complete
    assert snap["source"]["complete"] is False
    [error] = [e for e in snap["source"]["errors"] if "users" in e]
    assert "after 6 users (2 pages read)" in error
    assert "gave up after 3 attempts" in error
    # what was read is kept, and the deprovisioned listing is a part of its own
    assert len(snap["accounts"]) == 6 + 1
    assert (
        sum(c["type"] == "api_token" for c in snap["credentials"]) == 3
    )  # the other parts are still collected


def test_expired_oauth_token_mid_run_is_replaced_once(
    okta: Okta, oauth_env: str, tmp_path: Path
) -> None:
    def expire(request: Request) -> None:
        okta.emulator.revoke_access_tokens()

    okta.server.add_fault(expire, match="/api/v1/users/*", skip=4, times=1)
    result, snap = collect(oauth_options(okta, oauth_env), tmp_path / "okta.json")
    assert result.complete, result.errors
    assert okta.emulator.token_requests == 2
    assert len(snap["accounts"]) == 15
    assert all("mfa" in a for a in snap["accounts"] if a["status"] != "DEPROVISIONED")


def test_oauth_token_refused_twice_is_an_authentication_error(
    okta: Okta, oauth_env: str, tmp_path: Path
) -> None:
    def expire(request: Request) -> None:
        okta.emulator.revoke_access_tokens()

    okta.server.add_fault(expire, match="/api/v1/users/*", times=None)
    with pytest.raises(AuthenticationError, match="E0000011"):
        collect(oauth_options(okta, oauth_env), tmp_path / "okta.json")


def test_malformed_json_once_is_fetched_again(okta: Okta, ssws_env: str, tmp_path: Path) -> None:
    okta.server.add_fault(Response(200, b'[{"id": "00T', {}), match="/api/v1/api-tokens")
    result, snap = collect(ssws_options(okta, ssws_env), tmp_path / "okta.json")
    assert result.complete, result.errors
    assert sum(c["type"] == "api_token" for c in snap["credentials"]) == 3


def test_malformed_json_for_good_names_the_missing_part(
    okta: Okta, ssws_env: str, tmp_path: Path
) -> None:
    bad = Response(200, b"<html>proxy error</html>", {"Content-Type": "text/html"})
    okta.server.add_fault(bad, match="/api/v1/api-tokens", times=None)
    result, snap = collect(ssws_options(okta, ssws_env, max_attempts=2), tmp_path / "okta.json")
    assert not result.complete
    [error] = snap["source"]["errors"]
    assert error.startswith("okta: API tokens not collected: malformed JSON from http://127.0.0.1")
    # no API token was written; the apps' client secrets are another part
    assert [c for c in snap.get("credentials", []) if c["type"] == "api_token"] == []
    assert len(snap["accounts"]) == 15


def test_factors_unreadable_for_one_user_leave_mfa_missing(
    okta: Okta, ssws_env: str, tmp_path: Path
) -> None:
    alice = "/api/v1/users/00ualicex00000000000/factors"
    okta.server.add_fault(Response.json(error_body("E0000009", "x"), 503), match=alice, times=None)
    result, snap = collect(ssws_options(okta, ssws_env, max_attempts=2), tmp_path / "okta.json")
    assert not result.complete
    alice_account = by_name(snap)["alice@example.com"]
    assert "mfa" not in alice_account  # missing, not "no MFA"
    assert alice_account["privileged"] is True
    assert any("factors or roles of 1 users" in e and "00ualicex" in e for e in result.errors)


def test_missing_scope_is_missing_data_not_bad_credentials(
    okta: Okta, oauth_env: str, tmp_path: Path
) -> None:
    scopes = "okta.users.read okta.groups.read okta.roles.read okta.policies.read"
    result, snap = collect(oauth_options(okta, oauth_env, scopes=scopes), tmp_path / "o.json")
    assert not result.complete
    assert any("API tokens" in e and "E0000006" in e for e in result.errors)
    assert len(snap["accounts"]) == 15


def test_without_the_assignee_api_roles_are_read_per_user(
    okta: Okta, ssws_env: str, tmp_path: Path
) -> None:
    gone = Response.json(error_body("E0000022", "The endpoint does not support it"), 404)
    okta.server.add_fault(gone, match="/api/v1/iam/assignees/users", times=None)
    result, snap = collect(ssws_options(okta, ssws_env), tmp_path / "okta.json")
    assert result.complete, result.errors
    a = by_name(snap)
    assert a["alice@example.com"]["privileged_via"] == ["role:SUPER_ADMIN"]
    # bob's ORG_ADMIN comes through the group; /users/{id}/roles also lists it as GROUP
    assert a["bob@example.com"]["privileged_via"] == ["group:Okta Admins"]
    # roles for every user, factors for all but the DEPROVISIONED one, and /users/me
    assert len(okta.server.requests_to("/api/v1/users/*")) == 30


def test_assignee_next_link_to_another_server_is_not_followed(
    okta: Okta, ssws_env: str, tmp_path: Path
) -> None:
    body = {
        "value": [{"id": "00ualicex00000000000"}],
        "_links": {"next": {"href": "https://attacker.example/api/v1/iam/assignees/users"}},
    }
    okta.server.add_fault(Response.json(body), match="/api/v1/iam/assignees/users")
    result, snap = collect(ssws_options(okta, ssws_env), tmp_path / "okta.json")
    # the credentials never leave for attacker.example: the per-user fallback is used
    assert result.complete, result.errors
    assert by_name(snap)["alice@example.com"]["roles"] == ["SUPER_ADMIN"]
    assert len(okta.server.requests_to("/api/v1/users/*")) == 30  # with /users/me


def test_token_endpoint_500_is_retried_with_a_fresh_assertion(
    okta: Okta, oauth_env: str, tmp_path: Path
) -> None:
    import jwt

    okta.server.add_fault(Response.json({}, 500), match="/oauth2/v1/token", times=2)
    result, _ = collect(oauth_options(okta, oauth_env), tmp_path / "okta.json")
    assert result.complete, result.errors
    assertions = [r.form()["client_assertion"] for r in okta.server.requests_to("/oauth2/v1/token")]
    jtis = [jwt.decode(a, options={"verify_signature": False})["jti"] for a in assertions]
    assert len(jtis) == 3 and len(set(jtis)) == 3  # a replayed jti would be refused


def test_factor_endpoint_down_for_everyone_stops_early(
    rsa_public_pem: str, ssws_env: str, tmp_path: Path
) -> None:
    org = OktaOrg.generate(300)
    for okta in start(org, rsa_public_pem):
        down = Response.json(error_body("E0000009", "Internal Server Error"), 500)
        okta.server.add_fault(down, match=lambda r: r.path.endswith("/factors"), times=None)
        options = ssws_options(okta, ssws_env, max_attempts=2, max_concurrency=4)
        result, snap = collect(options, tmp_path / "okta.json")
        assert not result.complete
        factor_calls = [r for r in okta.server.requests if r.path.endswith("/factors")]
        assert len(factor_calls) < 2 * 60  # not 2 x 300: it gave up after 25 users in a row
        assert any("users in a row could not be read" in e for e in result.errors)
        assert len(snap["accounts"]) < 60


def test_server_going_away_mid_run_is_one_error(okta: Okta, ssws_env: str, tmp_path: Path) -> None:
    import socket

    def shut(request: Request) -> None:
        listener = okta.server._httpd.socket  # nothing accepts new connections any more
        listener.shutdown(socket.SHUT_RDWR)
        listener.close()

    # then every open connection is dropped: the client must reconnect, and cannot
    okta.server.add_fault(shut, match="/api/v1/users/*", skip=2, times=1)
    okta.server.add_fault(DROP, match="/api/v1/users/*", skip=2, times=None)
    result, _ = collect(ssws_options(okta, ssws_env, max_attempts=2), tmp_path / "okta.json")
    assert not result.complete
    assert any("unreachable, collection stopped" in e for e in result.errors), result.errors
