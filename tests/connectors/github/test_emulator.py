"""Every body the GitHub emulator serves validates against GitHub's OpenAPI description."""

from __future__ import annotations

import httpx
import pytest

from tests.connectors.github.conftest import MEMBER_TOKEN, OWNER_TOKEN, GitHub
from tests.emulators.github import SPEC
from tests.emulators.kit import OpenApiSpec, parse_link_header

ORG = "acme-retail"

#: (served path, spec path) for every GET the connector uses
ENDPOINTS = [
    (f"/orgs/{ORG}", "/orgs/{org}"),
    (f"/orgs/{ORG}/members", "/orgs/{org}/members"),
    (f"/orgs/{ORG}/members?filter=2fa_disabled", "/orgs/{org}/members"),
    (f"/orgs/{ORG}/members?filter=2fa_insecure", "/orgs/{org}/members"),
    (f"/orgs/{ORG}/outside_collaborators?filter=2fa_insecure", "/orgs/{org}/outside_collaborators"),
    (f"/orgs/{ORG}/outside_collaborators", "/orgs/{org}/outside_collaborators"),
    (f"/orgs/{ORG}/teams", "/orgs/{org}/teams"),
    (f"/orgs/{ORG}/teams/platform/members", "/orgs/{org}/teams/{team_slug}/members"),
    (f"/orgs/{ORG}/credential-authorizations", "/orgs/{org}/credential-authorizations"),
    (f"/orgs/{ORG}/repos", "/orgs/{org}/repos"),
    (f"/repos/{ORG}/storefront/keys", "/repos/{owner}/{repo}/keys"),
    (f"/repos/{ORG}/storefront/collaborators", "/repos/{owner}/{repo}/collaborators"),
    (f"/repos/{ORG}/storefront/actions/secrets", "/repos/{owner}/{repo}/actions/secrets"),
    (f"/orgs/{ORG}/installations", "/orgs/{org}/installations"),
    (f"/orgs/{ORG}/actions/secrets", "/orgs/{org}/actions/secrets"),
    ("/apps/renovate", "/apps/{app_slug}"),
    ("/user", "/user"),
]
APP_ENDPOINTS = [
    (f"/orgs/{ORG}/personal-access-tokens", "/orgs/{org}/personal-access-tokens"),
    (f"/orgs/{ORG}/personal-access-token-requests", "/orgs/{org}/personal-access-token-requests"),
]


@pytest.fixture(scope="module")
def spec() -> OpenApiSpec:
    return OpenApiSpec.load(SPEC)


def _installation_token(github: GitHub, private_pem: str) -> str:
    import time

    import jwt

    now = int(time.time())
    assertion = jwt.encode({"iat": now - 30, "exp": now + 540, "iss": "2002"}, private_pem, "RS256")
    answer = httpx.post(
        f"{github.url}/app/installations/50002/access_tokens",
        headers={"Authorization": f"Bearer {assertion}"},
    )
    assert answer.status_code == 201
    return str(answer.json()["token"])


@pytest.mark.parametrize(("served", "schema_path"), ENDPOINTS)
def test_owner_bodies_match_the_spec(
    github: GitHub, spec: OpenApiSpec, served: str, schema_path: str
) -> None:
    answer = httpx.get(github.url + served, headers={"Authorization": f"Bearer {OWNER_TOKEN}"})
    assert answer.status_code == 200, answer.text
    spec.validate_response(answer.json(), schema_path)


@pytest.mark.parametrize(("served", "schema_path"), APP_ENDPOINTS)
def test_app_bodies_match_the_spec(
    github: GitHub, spec: OpenApiSpec, app_key: tuple[str, str], served: str, schema_path: str
) -> None:
    token = _installation_token(github, app_key[0])
    answer = httpx.get(github.url + served, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    spec.validate_response(answer.json(), schema_path)


def test_installation_token_matches_the_spec(
    github: GitHub, spec: OpenApiSpec, app_key: tuple[str, str]
) -> None:
    import time

    import jwt

    now = int(time.time())
    assertion = jwt.encode({"iat": now, "exp": now + 600, "iss": "2002"}, app_key[0], "RS256")
    answer = httpx.post(
        f"{github.url}/app/installations/50002/access_tokens",
        headers={"Authorization": f"Bearer {assertion}"},
    )
    spec.validate_response(
        answer.json(), "/app/installations/{installation_id}/access_tokens", "post", 201
    )


def test_a_jwt_longer_than_ten_minutes_is_refused(github: GitHub, app_key: tuple[str, str]) -> None:
    import time

    import jwt

    now = int(time.time())
    assertion = jwt.encode({"iat": now, "exp": now + 900, "iss": "2002"}, app_key[0], "RS256")
    answer = httpx.post(
        f"{github.url}/app/installations/50002/access_tokens",
        headers={"Authorization": f"Bearer {assertion}"},
    )
    assert answer.status_code == 401


def test_bad_credentials(github: GitHub) -> None:
    answer = httpx.get(f"{github.url}/orgs/{ORG}", headers={"Authorization": "Bearer ghp_nope"})
    assert (answer.status_code, answer.json()["message"]) == (401, "Bad credentials")


def test_link_paging_walks_every_member(github: GitHub) -> None:
    headers = {"Authorization": f"Bearer {OWNER_TOKEN}"}
    answer = httpx.get(f"{github.url}/orgs/{ORG}/members?per_page=4", headers=headers)
    links = parse_link_header(answer.headers.get("link"))
    assert len(answer.json()) == 4 and "next" in links and "last" in links
    rest = httpx.get(links["next"], headers=headers)
    assert len(rest.json()) == 2 and "link" not in rest.headers


def test_what_each_credential_cannot_see(github: GitHub) -> None:
    member = {"Authorization": f"Bearer {MEMBER_TOKEN}"}
    owner = {"Authorization": f"Bearer {OWNER_TOKEN}"}
    assert (
        httpx.get(f"{github.url}/orgs/{ORG}/personal-access-tokens", headers=owner).status_code
        == 403
    )
    assert (
        httpx.get(
            f"{github.url}/orgs/{ORG}/members?filter=2fa_disabled", headers=member
        ).status_code
        == 422
    )
    github.emulator.org["org"]["saml_sso"] = False
    assert (
        httpx.get(f"{github.url}/orgs/{ORG}/credential-authorizations", headers=owner).status_code
        == 404
    )
