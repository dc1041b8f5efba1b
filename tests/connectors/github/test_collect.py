"""A full collection from the emulator: token + App, and what each alone cannot see."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.connectors.github.conftest import (
    OWNER_TOKEN,
    GitHub,
    app_options,
    by_name,
    collect,
    token_options,
)


def test_token_and_app_give_a_complete_snapshot(
    github: GitHub, token_env: str, key_file: str, tmp_path: Path
) -> None:
    options = token_options(github, token_env) | app_options(github, key_file)
    result, snap = collect(options, tmp_path / "github.json")
    assert result.complete, result.errors
    accounts = by_name(snap, "accounts")
    assert accounts["dana-owner"]["privileged"] is True
    assert accounts["dana-owner"]["roles"] == ["owner"]
    assert accounts["lee-dev"]["mfa"] == {
        "enrolled": False,
        "methods": [],
        "methods_reported": False,
    }
    assert accounts["kim-dev"]["mfa"] == {"enrolled": True, "methods_reported": False}
    assert accounts["contractor-ann"]["roles"] == ["outside_collaborator"]
    assert accounts["contractor-ann"]["mfa"]["enrolled"] is False
    assert accounts["svc-release-bot"]["type"] == "service"
    assert accounts["dana-owner"]["email"] == "dana.owner@acme-retail.example"
    settings = by_name(snap, "settings")
    assert settings["mfa_for_all_users"]["value"] is False
    assert settings["default_repository_permission"]["value"] == "write"
    assert settings["owner_count"]["value"] == 3
    creds = by_name(snap, "credentials")
    fine = creds["release-automation"]
    assert fine["type"] == "personal_access_token" and "expires_at" not in fine
    assert fine["owner"] == "5005" and fine["raw"]["repository_selection"] == "all"
    assert "contents:write" in fine["scopes"]
    assert creds["lee-admin"]["raw"]["status"] == "pending"
    assert creds["lee-admin"]["enabled"] is False
    classic = creds["old laptop"]
    assert classic["scopes"] == ["admin:org", "repo"] and classic["raw"]["classic"] is True
    assert classic["last_used_at"] == "2024-01-01T10:00:00Z"
    assert creds["kim work laptop"]["type"] == "ssh_key"
    assert creds["kim work laptop"]["fingerprint"].startswith("SHA256:")
    key = creds["storefront: ci-deploy-write"]
    assert key["scopes"] == ["write"] and key["owner"] == "5006"
    assert creds["storefront/SALESFORCE_REFRESH_TOKEN"]["last_rotated_at"] == "2023-05-01T10:00:00Z"
    assert creds["NPM_TOKEN"]["raw"]["visibility"] == "all"
    assert creds["NPM_TOKEN"]["type"] == "ci_secret"
    apps = by_name(snap, "integrations")
    assert apps["renovate"]["raw"]["all_repositories"] is True
    assert "contents:write" in apps["renovate"]["scopes"]
    roles = by_name(snap, "roles")
    assert roles["storefront: admin (contractor-ann)"]["members"] == ["6001"]
    groups = by_name(snap, "groups")
    assert sorted(groups["platform"]["members"]) == ["5001", "5004"]
    assert "team:701" in accounts["dana-owner"]["groups"]


def test_no_secret_in_the_snapshot(
    github: GitHub, token_env: str, key_file: str, tmp_path: Path, app_key: tuple[str, str]
) -> None:
    options = token_options(github, token_env) | app_options(github, key_file)
    collect(options, tmp_path / "github.json")
    text = (tmp_path / "github.json").read_text()
    assert OWNER_TOKEN not in text and "ghs_" not in text and "a1b2c3d4" not in text
    assert "PRIVATE KEY" not in text


def test_every_request_sends_the_api_version(
    github: GitHub, token_env: str, tmp_path: Path
) -> None:
    collect(token_options(github, token_env), tmp_path / "github.json")
    assert github.server.requests
    assert {r.header("x-github-api-version") for r in github.server.requests} == {"2022-11-28"}
    rest = [r for r in github.server.requests if r.path != "/graphql"]
    single = ("/orgs/acme-retail", "/apps/renovate", "/apps/acme-posture-reader", "/user")
    listings = [r for r in rest if r.path not in single]  # single objects take no per_page
    assert listings and all(r.param("per_page") == "100" for r in listings)
    queries = [r.json()["query"] for r in github.server.requests if r.path == "/graphql"]
    assert queries and all("first: 100" in q for q in queries)  # GraphQL pages at 100 too


def test_token_alone_misses_fine_grained_tokens_with_the_reason(
    github: GitHub, token_env: str, tmp_path: Path
) -> None:
    result, snap = collect(token_options(github, token_env), tmp_path / "github.json")
    assert not result.complete
    assert any(
        "fine-grained personal access tokens" in e and "GitHub App" in e for e in result.errors
    )
    assert "old laptop" in by_name(snap, "credentials")


def test_app_alone_misses_2fa_and_sso_credentials(
    github: GitHub, key_file: str, tmp_path: Path
) -> None:
    result, snap = collect(app_options(github, key_file), tmp_path / "github.json")
    assert not result.complete
    assert any("2FA" in e for e in result.errors)
    assert any("SAML SSO credential authorizations" in e for e in result.errors)
    accounts = by_name(snap, "accounts")
    assert accounts["lee-dev"]["mfa"] == {"methods_reported": False}  # enrolment unknown
    assert "release-automation" in by_name(snap, "credentials")


def test_org_without_saml_sso_is_not_applicable(
    github: GitHub, token_env: str, key_file: str, tmp_path: Path
) -> None:
    github.emulator.org["org"]["saml_sso"] = False
    options = token_options(github, token_env) | app_options(github, key_file)
    result, snap = collect(options, tmp_path / "github.json")
    assert result.complete, result.errors
    assert snap["source"]["not_applicable"] == [
        "SAML identities",
        "SAML SSO credential authorizations",
    ]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({}, "no credentials"),
        ({"token_env": "X", "app_id": "1"}, "GitHub App needs all"),
        ({"token_env": "X", "api_url": "http://github.example"}, "plain http is refused"),
    ],
)
def test_option_errors(extra: dict[str, object], message: str) -> None:
    from connectors.github._options import parse_options
    from policyengine.errors import UsageError

    with pytest.raises(UsageError, match=message):
        parse_options({"org": "acme-retail", **extra})


def test_app_publisher_comes_from_the_app(
    github: GitHub, token_env: str, key_file: str, tmp_path: Path
) -> None:
    options = token_options(github, token_env) | app_options(github, key_file)
    result, snap = collect(options, tmp_path / "github.json")
    assert result.complete, result.errors
    apps = by_name(snap, "integrations")
    assert apps["renovate"]["publisher"] == "renovatebot"
    assert apps["renovate"]["raw"]["publisher_is_org"] is False
    assert apps["acme-posture-reader"]["raw"]["publisher_is_org"] is True
    assert "/apps/renovate" in {r.path for r in github.server.requests}


def test_unreadable_app_publisher_is_missing_data(
    github: GitHub, token_env: str, key_file: str, tmp_path: Path
) -> None:
    del github.emulator.org["apps"]["renovate"]  # GET /apps/renovate: 404
    options = token_options(github, token_env) | app_options(github, key_file)
    result, snap = collect(options, tmp_path / "github.json")
    assert [e for e in result.errors if "publisher of GitHub App renovate" in e]
    assert "publisher" not in by_name(snap, "integrations")["renovate"]
