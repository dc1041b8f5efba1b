"""Faults against the emulated org: retries, re-authentication, partial data, refusals."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from policyengine.errors import AuthenticationError
from tests.connectors.salesforce.conftest import (
    CLIENT_ID,
    by_id,
    jwt_options,
    run_collect,
)
from tests.emulators._server import DROP, Response
from tests.emulators.salesforce import load_fixture

pytestmark = pytest.mark.usefixtures("fast_retries")


def first_query(sobject: str) -> Any:
    """Matcher: the first page (``/query?q=...FROM <sobject>``) of one object."""

    def match(request: Any) -> bool:
        q = request.param("q") or ""
        return request.path.endswith("/query") and q.rstrip().endswith(f"FROM {sobject}")

    return match


def ten_users() -> dict[str, Any]:
    fixture = load_fixture()
    users = fixture["objects"]["User"]
    for n in (1, 2):
        extra = copy.deepcopy(users[4])
        extra["Id"] = f"0055g00000AExtr{n}AA"
        extra["Username"] = f"extra{n}@kering.example"
        users.append(extra)
    return fixture


def test_429_with_retry_after_then_success(
    emulated: Any, key_pair: Any, tmp_path: Path, fast_retries: list[float]
) -> None:
    server, _ = emulated
    busy = Response.json(
        [{"message": "too many requests", "errorCode": "REQUEST_LIMIT_EXCEEDED_RATE"}],
        status=429,
        headers={"Retry-After": "7"},
    )
    server.add_fault(busy, match=first_query("User"), times=1)
    result, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert result.complete, result.errors
    assert len(snap["accounts"]) == 8
    assert any(6.0 < d <= 7.0 for d in fast_retries), fast_retries  # honoured Retry-After


def test_503_with_retry_after_then_success(
    emulated: Any, key_pair: Any, tmp_path: Path, fast_retries: list[float]
) -> None:
    server, _ = emulated
    unavailable = Response(503, b"<html>Service Unavailable</html>", {"Retry-After": "3"})
    server.add_fault(unavailable, match=first_query("OauthToken"), times=1)
    result, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert result.complete
    assert len(snap["credentials"]) == 6
    assert any(2.0 < d <= 3.0 for d in fast_retries)


def test_500_twice_then_success(emulated: Any, key_pair: Any, tmp_path: Path) -> None:
    server, _ = emulated
    error = Response.json(
        [{"message": "An unexpected error occurred", "errorCode": "UNKNOWN_EXCEPTION"}], status=500
    )
    fault = server.add_fault(error, match=first_query("PermissionSetAssignment"), times=2)
    result, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert result.complete
    assert fault.hits == 2
    assert by_id(snap, "accounts")["0055g00000AliceAAA"]["privileged"] is True


def test_token_endpoint_503_then_success(emulated: Any, key_pair: Any, tmp_path: Path) -> None:
    server, org = emulated
    server.add_fault(Response(503, b"upstream busy"), match="/services/oauth2/token", times=1)
    result, _ = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert result.complete and org.tokens_issued == 1


def test_connection_dropped_on_page_3_of_5_is_retried(
    org_factory: Any, key_pair: Any, tmp_path: Path
) -> None:
    server, org = org_factory(ten_users(), batch_size=2)
    fault = server.add_fault(DROP, match=lambda r: org.page_of(r.path) == ("User", 3), times=1)
    result, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert fault.hits == 1
    assert result.complete
    assert len(snap["accounts"]) == 10


def test_connection_dropped_until_retries_run_out_marks_snapshot_incomplete(
    org_factory: Any, key_pair: Any, tmp_path: Path
) -> None:
    server, org = org_factory(ten_users(), batch_size=2)
    server.add_fault(DROP, match=lambda r: org.page_of(r.path) == ("User", 3), times=None)
    result, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert result.complete is False
    assert snap["source"]["complete"] is False
    (error,) = snap["source"]["errors"]
    assert error.startswith("User: ")
    assert "4 records read before the error" in error
    assert len(snap["accounts"]) == 4  # pages 1 and 2; the rest is named as missing
    assert len(snap["credentials"]) == 6  # other objects are unaffected


def test_expired_session_mid_run_reauthenticates_once(
    emulated: Any, key_pair: Any, tmp_path: Path
) -> None:
    server, org = emulated

    def expire(request: Any) -> None:
        org.expire_sessions()  # then the org answers 401 INVALID_SESSION_ID

    server.add_fault(
        expire, match=lambda r: org.page_of(r.path) == ("PermissionSetAssignment", 2), times=1
    )
    result, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert result.complete, result.errors
    assert org.tokens_issued == 2
    assert len(snap["accounts"]) == 8


def test_expired_metadata_session_reauthenticates(
    emulated: Any, key_pair: Any, tmp_path: Path
) -> None:
    server, org = emulated

    def expire(request: Any) -> None:
        org.expire_sessions()

    server.add_fault(expire, match="/services/Soap/m/62.0", times=1)
    result, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert result.complete, result.errors
    assert org.tokens_issued == 2
    assert snap["session_policies"][0]["idle_timeout_minutes"] == 720


def test_malformed_json_page_is_fetched_again(emulated: Any, key_pair: Any, tmp_path: Path) -> None:
    server, org = emulated
    broken = Response(200, b'{"totalSize": 8, "done": fal', {"Content-Type": "application/json"})
    fault = server.add_fault(broken, match=lambda r: org.page_of(r.path) == ("User", 2), times=1)
    result, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert fault.hits == 1
    assert result.complete and len(snap["accounts"]) == 8


def test_malformed_json_every_time_names_the_missing_object(
    emulated: Any, key_pair: Any, tmp_path: Path
) -> None:
    server, _ = emulated
    broken = Response(200, b"<html>proxy error", {"Content-Type": "application/json"})
    server.add_fault(broken, match=first_query("ConnectedApplication"), times=None)
    result, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert not result.complete
    (error,) = snap["source"]["errors"]
    assert error.startswith("ConnectedApplication: malformed JSON")
    # Tokens still name their apps; whether those apps are installed is now unknown.
    assert len(snap["credentials"]) == 6
    outlook = by_id(snap, "integrations")["uninstalled:Salesforce for Outlook"]
    assert "installed" not in outlook


def test_request_limit_exceeded_stops_the_run(
    org_factory: Any, key_pair: Any, tmp_path: Path
) -> None:
    server, _org = org_factory(api_limit=15000, api_used=15000)
    result, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert not result.complete
    assert all("REQUEST_LIMIT_EXCEEDED" in e for e in snap["source"]["errors"])
    assert not server.requests_to("/services/Soap/m/62.0")  # stopped before the Metadata API
    # no retries of a spent allowance: one request per object at most
    from connectors.salesforce._activity import activity_queries
    from connectors.salesforce._queries import QUERIES

    expected = len(QUERIES) + len(activity_queries("2026-01-01T00:00:00Z"))
    assert len(server.requests_to("/services/data/v62.0/query")) <= expected
    assert not server.requests_to("/services/data/v62.0/jobs/query")  # stopped before Bulk
    assert snap["source"]["api_usage"].endswith("/15000")


def test_insufficient_access_to_mfa_methods_leaves_mfa_missing(
    emulated: Any, key_pair: Any, tmp_path: Path
) -> None:
    server, _ = emulated
    denied = Response.json(
        [
            {
                "message": "insufficient access rights on object id",
                "errorCode": "INSUFFICIENT_ACCESS",
            }
        ],
        status=403,
    )
    server.add_fault(denied, match=first_query("TwoFactorMethodsInfo"), times=None)
    result, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert not result.complete
    assert snap["source"]["errors"][0].startswith(
        "TwoFactorMethodsInfo: HTTP 403 INSUFFICIENT_ACCESS"
    )
    accounts = by_id(snap, "accounts")
    assert len(accounts) == 8
    assert all("mfa" not in a for a in accounts.values())


def test_missing_assignments_keep_known_privilege_and_drop_the_rest(
    emulated: Any, key_pair: Any, tmp_path: Path
) -> None:
    server, _ = emulated
    server.add_fault(DROP, match=first_query("PermissionSetAssignment"), times=None)
    result, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert not result.complete
    accounts = by_id(snap, "accounts")
    assert accounts["0055g00000AliceAAA"]["privileged"] is True  # via the profile
    erin = accounts["0055g00000ErinAAAA"]
    assert "privileged" not in erin and "permissions" not in erin  # unknown, not false


def test_metadata_type_missing_is_reported(org_factory: Any, key_pair: Any, tmp_path: Path) -> None:
    fixture = load_fixture()
    del fixture["metadata"]["ConnectedAppSettings"]
    server, _ = org_factory(fixture)
    result, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert not result.complete
    (error,) = snap["source"]["errors"]
    assert error.startswith("Metadata API ConnectedAppSettings: Metadata API fault INVALID_TYPE")
    assert "value" not in by_id(snap, "settings")["api_access_control"]


def test_no_metadata_option_skips_the_metadata_api(
    emulated: Any, key_pair: Any, tmp_path: Path
) -> None:
    server, _ = emulated
    result, snap = run_collect(
        jwt_options(server, key_pair[0], metadata=False), tmp_path / "sf.json"
    )
    assert result.complete
    assert not server.requests_to("/services/Soap/m/62.0")
    assert "session_policies" not in snap or not snap["session_policies"]


def test_wrong_client_secret_is_refused_and_nothing_written(
    org_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _org = org_factory()
    monkeypatch.setenv("SF_WRONG", "not-the-secret")
    out = tmp_path / "sf.json"
    options = {
        "login_url": server.base_url,
        "client_id": CLIENT_ID,
        "client_secret_env": "SF_WRONG",
    }
    with pytest.raises(AuthenticationError, match="invalid_client"):
        run_collect(options, out)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no spool or temp file left behind
    assert not server.requests_to("/services/data/v62.0/query")


def test_invalid_grant_is_refused_and_nothing_written(
    emulated: Any, key_pair: Any, tmp_path: Path
) -> None:
    server, _ = emulated
    out = tmp_path / "sf.json"
    options = jwt_options(server, key_pair[0], username="nobody@kering.example")
    with pytest.raises(AuthenticationError, match="invalid_grant: user hasn't approved"):
        run_collect(options, out)
    assert not out.exists()


def test_refused_reauthentication_mid_run_writes_nothing(
    emulated: Any, key_pair: Any, tmp_path: Path
) -> None:
    server, org = emulated

    def revoke(request: Any) -> None:
        org.expire_sessions()
        org.usernames.clear()  # the integration user was deactivated meanwhile

    server.add_fault(revoke, match=lambda r: org.page_of(r.path) == ("User", 2), times=1)
    out = tmp_path / "sf.json"
    with pytest.raises(AuthenticationError):
        run_collect(jwt_options(server, key_pair[0]), out)
    assert not out.exists()


def test_wrong_api_version_is_missing_data_not_a_crash(
    emulated: Any, key_pair: Any, tmp_path: Path
) -> None:
    server, _ = emulated
    result, snap = run_collect(
        jwt_options(server, key_pair[0], api_version="20.0", metadata=False), tmp_path / "sf.json"
    )
    assert not result.complete
    assert any("NOT_FOUND" in e for e in snap["source"]["errors"])


def test_expired_query_locator_marks_the_object_incomplete(
    emulated: Any, key_pair: Any, tmp_path: Path
) -> None:
    server, org = emulated
    gone = Response.json(
        [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}], status=400
    )
    server.add_fault(gone, match=lambda r: org.page_of(r.path) == ("OauthToken", 2), times=None)
    result, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert not result.complete
    (error,) = snap["source"]["errors"]
    assert error.startswith("OauthToken: INVALID_QUERY_LOCATOR")
    assert len(snap["credentials"]) == 3  # the first batch only
    # without every token, no app may claim to know all its authorised users
    assert all("authorized_users" not in i for i in snap["integrations"])


def test_org_without_external_client_apps_is_complete(
    org_factory: Any, key_pair: Any, tmp_path: Path
) -> None:
    fixture = load_fixture()
    for metadata_type in (
        "ExternalClientApplication",
        "ExtlClntAppOauthConfigurablePolicies",
        "ExtlClntAppOauthSettings",
    ):
        del fixture["metadata"][metadata_type]  # the org answers INVALID_TYPE
    server, _ = org_factory(fixture)
    result, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert result.complete, result.errors
    integrations = by_id(snap, "integrations")
    assert not any(i.startswith("eca:") for i in integrations)
    # its token now points at an app we cannot see as installed
    assert integrations["uninstalled:Quick Export Tool"]["installed"] is False


def test_unreadable_eca_oauth_settings_leave_scopes_missing(
    org_factory: Any, key_pair: Any, tmp_path: Path
) -> None:
    fixture = load_fixture()
    del fixture["metadata"]["ExtlClntAppOauthSettings"]
    server, _ = org_factory(fixture)
    result, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert result.complete
    export = by_id(snap, "integrations")["eca:Quick_Export_Tool"]
    assert "scopes" not in export
    assert export["admin_approved"] is False


def test_unreachable_login_url_is_missing_data(key_pair: Any, tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = type("S", (), {"base_url": f"http://127.0.0.1:{port}"})()
    result, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert not result.complete
    (error,) = snap["source"]["errors"]
    assert "connection failed" in error and "/services/oauth2/token" in error
    assert snap["source"]["counts"] == {}


def test_token_response_with_plain_http_instance_url_is_refused(
    emulated: Any, key_pair: Any, tmp_path: Path
) -> None:
    server, _ = emulated
    downgrade = Response.json(
        {"access_token": "00Dx!abcdefghijklmnop", "instance_url": "http://evil.example.com"}
    )
    server.add_fault(downgrade, match="/services/oauth2/token", times=1)
    out = tmp_path / "sf.json"
    with pytest.raises(AuthenticationError, match="plain http"):
        run_collect(jwt_options(server, key_pair[0]), out)
    assert not out.exists()
    assert not server.requests_to("/services/data/v62.0/query")


def test_object_that_requires_a_filter_is_read_per_user_batch(
    org_factory: Any, key_pair: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import connectors.salesforce._queries as queries

    monkeypatch.setattr(queries, "USER_BATCH", 3)  # 8 users -> 3 filtered queries
    server, _ = org_factory(require_filter={"TwoFactorMethodsInfo": "UserId"})
    result, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert result.complete, result.errors
    mfa_queries = [
        r.param("q") or ""
        for r in server.requests
        if "FROM TwoFactorMethodsInfo" in (r.param("q") or "")
    ]
    assert len(mfa_queries) == 1 + 3, [q[-60:] for q in mfa_queries]  # refused, then per batch
    assert all("WHERE UserId IN ('005" in q for q in mfa_queries[1:])
    alice = by_id(snap, "accounts")["0055g00000AliceAAA"]
    assert alice["mfa"]["phishing_resistant"] is True
    carol = by_id(snap, "accounts")["0055g00000CarolAAA"]
    assert carol["mfa"] == {"enrolled": False, "methods": [], "phishing_resistant": False}


def test_unknown_relationship_drops_the_optional_field_it_names(
    emulated: Any, key_pair: Any, tmp_path: Path
) -> None:
    server, _ = emulated
    bad = Response.json(
        [
            {
                "message": "Didn't understand relationship 'UserLicense' in field path.",
                "errorCode": "INVALID_FIELD",
            }
        ],
        status=400,
    )
    server.add_fault(bad, match=first_query("User"), times=1)
    result, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert result.complete
    assert snap["source"]["unavailable_fields"]["User"] == ["Profile.UserLicense.Name"]
