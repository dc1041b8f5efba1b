"""The issue's faults, each against the emulator: retried, or recorded as missing data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policyengine.errors import ConnectorError
from tests.connectors.google.conftest import Google, by_id, collect
from tests.emulators.kit import DROP, malformed_body, rate_limited, server_error

DAN = "100000000000000000004"


def users_page(n: int):
    """Matches the n-th request for the (not deleted) users listing."""
    seen = {"count": 0}

    def match(request) -> bool:
        if not request.path.endswith("/users") or request.param("showDeleted"):
            return False
        seen["count"] += 1
        return seen["count"] == n

    return match


def _complete(google: Google, tmp_path: Path) -> dict:
    result, snap = collect(google, tmp_path / "g.json")
    assert result.complete, result.errors
    assert len(snap["accounts"]) == 8
    return snap


def test_user_rate_limit_403_then_success(google: Google, tmp_path: Path) -> None:
    google.server.add_fault(
        rate_limited.google(403, "userRateLimitExceeded"), match=lambda r: "/tokens" in r.path
    )
    _complete(google, tmp_path)


def test_429_is_retried(google: Google, tmp_path: Path) -> None:
    google.server.add_fault(rate_limited.google(429), match=lambda r: r.path.endswith("/roles"))
    _complete(google, tmp_path)


def test_503_backend_error_twice(google: Google, tmp_path: Path) -> None:
    body = {
        "error": {
            "code": 503,
            "message": "Backend Error",
            "errors": [{"reason": "backendError", "domain": "global", "message": "Backend Error"}],
        }
    }
    google.server.add_fault(
        server_error(503, body), match=lambda r: r.path.endswith("/users"), times=2
    )
    _complete(google, tmp_path)


def test_dropped_connection_on_page_3(google: Google, tmp_path: Path) -> None:
    google.emulator.tenant.users = [
        dict(u, id=f"3{n:020d}", primaryEmail=f"p{n}@x.example")
        for n, u in enumerate(google.emulator.tenant.users * 200)
    ]
    google.server.add_fault(DROP, match=users_page(3))
    result, snap = collect(google, tmp_path / "g.json")
    assert result.complete, result.errors
    assert len([a for a in snap["accounts"] if a["status"] != "deleted"]) == 1400


def test_token_expired_mid_run(google: Google, tmp_path: Path) -> None:
    done: list[bool] = []

    def expire_once(request) -> bool:
        if "/asps" in request.path and not done:
            done.append(True)
            google.emulator.expire_tokens()  # every access token minted so far is dead
        return False

    google.server.add_fault(DROP, match=expire_once)
    _complete(google, tmp_path)
    # the Directory token and the Reports token, then one new Directory token after expiry
    assert google.emulator.token_requests == 3


def test_one_users_token_listing_forbidden(google: Google, tmp_path: Path) -> None:
    google.emulator.forbidden_tokens.add(DAN)
    result, snap = collect(google, tmp_path / "g.json")
    assert not result.complete
    assert snap["source"]["complete"] is False
    [error] = result.errors
    assert "OAuth tokens of dan.store@northwind-retail.example not collected" in error
    assert "forbidden" in error
    creds = by_id(snap, "credentials")
    assert not [c for c in creds.values() if c["owner"] == DAN and c["type"] == "oauth_token"]
    assert f"{DAN}:asp:11" in creds  # the rest of that user is still there
    assert len(snap["accounts"]) == 8


def test_malformed_json_is_fetched_again(google: Google, tmp_path: Path) -> None:
    google.server.add_fault(malformed_body(), match=lambda r: r.path.endswith("/users"))
    _complete(google, tmp_path)


def test_insufficient_permissions_is_missing_data_not_a_retry(
    google: Google, tmp_path: Path
) -> None:
    body = {
        "error": {
            "code": 403,
            "message": "Request had insufficient authentication scopes.",
            "errors": [
                {
                    "reason": "insufficientPermissions",
                    "domain": "global",
                    "message": "Insufficient Permission",
                }
            ],
        }
    }
    google.server.add_fault(
        server_error(403, body), match=lambda r: r.path.endswith("/groups"), times=None
    )
    result, _ = collect(google, tmp_path / "g.json")
    assert not result.complete
    assert any(
        "groups not collected" in e and "insufficientPermissions" in e for e in result.errors
    )
    assert len([r for r in google.server.requests if r.path.endswith("/groups")]) == 1


def test_no_key_material_assertion_or_token_in_any_output(
    google: Google, tmp_path: Path, private_pem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from policyengine.cli.main import main

    google.emulator.forbidden_tokens.add(DAN)
    google.server.add_fault(rate_limited.google(403, "userRateLimitExceeded"))
    code = main(
        [
            "--log-level",
            "debug",
            "collect",
            "google",
            "--service-account-file",
            str(google.key_file),
            "--subject",
            "ana.admin@northwind-retail.example",
            "--api-url",
            google.url,
            "--retry-backoff",
            "0.001",
            "-o",
            str(tmp_path / "g.json"),
        ]
    )
    assert code == 3
    out = capsys.readouterr()
    text = out.out + out.err + (tmp_path / "g.json").read_text()
    secrets = [line for line in private_pem.splitlines()[1:-1]]
    tokens = [
        r.header("authorization", "")[7:]
        for r in google.server.requests
        if r.header("authorization")
    ]
    assertions = [r.form()["assertion"] for r in google.server.requests if r.path == "/token"]
    for secret in [*secrets[:3], *tokens[:3], *assertions]:
        assert secret and secret not in text
    assert "BEGIN PRIVATE KEY" not in text
    json.loads((tmp_path / "g.json").read_text())


def test_gives_up_on_endless_503_with_an_error(google: Google, tmp_path: Path) -> None:
    google.server.add_fault(server_error(503), match=lambda r: "/roles" in r.path, times=None)
    result, _ = collect(google, tmp_path / "g.json", max_attempts=2)
    assert any("admin roles not collected" in e and "gave up after 2" in e for e in result.errors)
    assert ConnectorError  # the type the client raises inside; the run records it


def test_stays_complete_under_a_per_user_quota(make_google, tmp_path: Path) -> None:
    """A spent "queries per 100 seconds per user" quota pauses every thread, then resumes."""
    from policyengine import connector as registry
    from tests.connectors.google.conftest import options

    google = make_google(user_quota=12, quota_window=2)
    out = tmp_path / "g.json"
    result = registry.run(
        "google", options(google, retry_backoff=0.05, max_attempts=8), instance="g", output=out
    )
    assert result.complete, result.errors
    assert google.emulator.limiter.rejected > 0  # the quota was really hit
    assert len(json.loads(out.read_text())["accounts"]) == 8
