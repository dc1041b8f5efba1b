"""Faults against the GitHub emulator: rate limits, 5xx, drops, expiry, bad bodies, links."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from policyengine.errors import AuthenticationError
from tests.connectors.github.conftest import (
    OWNER_TOKEN,
    GitHub,
    app_options,
    by_name,
    collect,
    only_app_parts_missing,
    start,
    token_options,
)
from tests.emulators.kit import DROP, Response, malformed_body, rate_limited, server_error

MEMBERS = "/orgs/acme-retail/members"


def _members_page(n: int):
    def match(request) -> bool:  # type: ignore[no-untyped-def]
        return (
            request.path == MEMBERS
            and not request.param("filter")
            and not request.param("role")
            and request.param("page", "1") == str(n)
        )

    return match


def test_secondary_rate_limit_retry_after_then_success(
    github: GitHub, token_env: str, tmp_path: Path
) -> None:
    github.server.add_fault(
        rate_limited.github(403, retry_after=1), match="/orgs/acme-retail/teams"
    )
    started = time.monotonic()
    result, snap = collect(token_options(github, token_env), tmp_path / "g.json")
    assert "platform" in by_name(snap, "groups")
    assert not any("teams not collected" in e for e in result.errors)
    assert len(github.server.requests_to("/orgs/acme-retail/teams")) == 2
    assert time.monotonic() - started >= 0.9  # it honoured Retry-After


def test_primary_limit_spent_waits_for_the_reset(
    github: GitHub, token_env: str, tmp_path: Path
) -> None:
    github.server.add_fault(rate_limited.github(403, reset_in=2), match="/orgs/acme-retail/teams")
    started = time.monotonic()
    result, snap = collect(token_options(github, token_env), tmp_path / "g.json")
    assert "platform" in by_name(snap, "groups")
    assert time.monotonic() - started >= 1.0
    assert only_app_parts_missing(result), result.errors


def test_primary_limit_beyond_max_wait_fails_closed(
    github: GitHub, token_env: str, tmp_path: Path
) -> None:
    github.server.add_fault(
        rate_limited.github(403, reset_in=3600), match="/orgs/acme-retail/teams", times=None
    )
    started = time.monotonic()
    result, snap = collect(token_options(github, token_env, max_rate_wait=5), tmp_path / "g.json")
    assert time.monotonic() - started < 5
    assert not result.complete
    assert any("max_rate_wait" in e for e in result.errors)
    assert "platform" not in by_name(snap, "groups")


def test_502_twice_then_success(github: GitHub, token_env: str, tmp_path: Path) -> None:
    github.server.add_fault(server_error(502), match="/orgs/acme-retail/repos", times=2)
    result, snap = collect(token_options(github, token_env), tmp_path / "g.json")
    assert "storefront: ci-deploy-write" in by_name(snap, "credentials")
    assert only_app_parts_missing(result), result.errors
    assert len(github.server.requests_to("/orgs/acme-retail/repos")) == 3


def test_connection_dropped_mid_paging_is_retried(
    github: GitHub, token_env: str, key_file: str, tmp_path: Path
) -> None:
    options = token_options(github, token_env) | app_options(github, key_file)
    github.server.add_fault(DROP, match=_members_page(1), skip=0)
    result, snap = collect(options, tmp_path / "g.json")
    assert result.complete, result.errors
    assert len([a for a in snap["accounts"] if a["roles"] != ["outside_collaborator"]]) == 6


def test_paging_follows_every_link(
    app_key: tuple[str, str], token_env: str, tmp_path: Path
) -> None:
    for github in start(app_key):
        members = github.emulator.org["members"]
        for n in range(250):  # three pages of 100
            members.append(
                {"login": f"dev-{n}", "id": 90000 + n, "role": "member", "two_factor": True}
            )
        github.server.add_fault(DROP, match=lambda r: r.path == MEMBERS and r.param("page") == "2")
        result, snap = collect(token_options(github, token_env), tmp_path / "g.json")
        assert len(snap["accounts"]) == 256 + 2
        assert only_app_parts_missing(result), result.errors
        pages = {
            r.param("page") for r in github.server.requests_to(MEMBERS) if not r.param("filter")
        }
        assert {"2", "3"} <= pages


def test_installation_token_expiring_mid_run_is_renewed(
    app_key: tuple[str, str], key_file: str, tmp_path: Path
) -> None:
    # tokens last 2 s: the connector renews before expires_at, and once more after a 401
    for github in start(app_key, token_lifetime=2):
        github.server.add_fault(
            lambda r: (time.sleep(2.1), None)[1], match="/orgs/acme-retail/teams"
        )
        result, snap = collect(app_options(github, key_file), tmp_path / "g.json")
        assert 2 <= github.emulator.minted <= 4  # renewed, not re-minted per request
        assert "release-automation" in by_name(snap, "credentials")
        assert not any("Bad credentials" in e for e in result.errors)


def test_installation_token_revoked_mid_run_is_fetched_again(
    github: GitHub, key_file: str, tmp_path: Path
) -> None:
    from tests.emulators.kit import token_expired

    github.server.add_fault(token_expired.github(), match="/orgs/acme-retail/teams")
    result, snap = collect(app_options(github, key_file), tmp_path / "g.json")
    assert github.emulator.minted == 2
    assert "platform" in by_name(snap, "groups")
    assert any("2FA" in e for e in result.errors)  # an App cannot see 2FA; teams were read
    assert not any("teams" in e for e in result.errors)


def test_bad_credentials_is_an_authentication_error(
    github: GitHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GH_BAD", "ghp_wrong")
    with pytest.raises(AuthenticationError, match="Bad credentials") as caught:
        collect(token_options(github, "GH_BAD"), tmp_path / "g.json")
    assert "ghp_wrong" not in str(caught.value)


def test_malformed_json_once_is_fetched_again(
    github: GitHub, token_env: str, tmp_path: Path
) -> None:
    github.server.add_fault(malformed_body(), match="/orgs/acme-retail/outside_collaborators")
    result, snap = collect(token_options(github, token_env), tmp_path / "g.json")
    assert "contractor-ann" in by_name(snap, "accounts")
    assert only_app_parts_missing(result), result.errors


def test_link_to_another_host_is_refused(github: GitHub, token_env: str, tmp_path: Path) -> None:
    evil = Response.json(
        [], headers={"Link": '<https://evil.example/orgs/acme-retail/teams?page=2>; rel="next"'}
    )
    github.server.add_fault(evil, match="/orgs/acme-retail/teams")
    result, _ = collect(token_options(github, token_env), tmp_path / "g.json")
    assert not result.complete
    assert any("another server" in e for e in result.errors)
    assert OWNER_TOKEN not in " ".join(result.errors)
    assert not any(r.header("host", "").startswith("evil") for r in github.server.requests)
