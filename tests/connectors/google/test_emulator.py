"""The Google emulator: its token endpoint, and every body it serves against Google's spec."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import pytest

from tests.connectors.google.conftest import CLIENT_EMAIL, SUBJECT, Google
from tests.emulators.google import JWT_BEARER
from tests.emulators.kit import DATA, DiscoverySpec

DIRECTORY = DiscoverySpec.load(DATA / "google" / "admin.directory_v1.json", forbid_unknown=True)
IDENTITY = DiscoverySpec.load(DATA / "google" / "cloudidentity.v1.json", forbid_unknown=True)
USER_ID = "100000000000000000004"


def assertion(google: Google, private_pem: str, **claims: Any) -> str:
    now = int(time.time())
    payload = {
        "iss": CLIENT_EMAIL,
        "sub": SUBJECT,
        "aud": google.url + "/token",
        "scope": "https://www.googleapis.com/auth/admin.directory.user.readonly",
        "iat": now,
        "exp": now + 3600,
        **claims,
    }
    return jwt.encode(payload, private_pem, algorithm="RS256")


def grant(google: Google, signed: str) -> httpx.Response:
    return httpx.post(google.url + "/token", data={"grant_type": JWT_BEARER, "assertion": signed})


def get(google: Google, private_pem: str, path: str, **params: Any) -> Any:
    token = grant(google, assertion(google, private_pem)).json()["access_token"]
    answer = httpx.get(
        google.url + path, params=params, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


CASES = [
    ("users.list", DIRECTORY, "/admin/directory/v1/users", {"customer": "my_customer"}),
    (
        "users.list",
        DIRECTORY,
        "/admin/directory/v1/users",
        {"customer": "my_customer", "showDeleted": "true"},
    ),
    ("tokens.list", DIRECTORY, f"/admin/directory/v1/users/{USER_ID}/tokens", {}),
    ("asps.list", DIRECTORY, f"/admin/directory/v1/users/{USER_ID}/asps", {}),
    ("roles.list", DIRECTORY, "/admin/directory/v1/customer/my_customer/roles", {}),
    (
        "roleAssignments.list",
        DIRECTORY,
        "/admin/directory/v1/customer/my_customer/roleassignments",
        {},
    ),
    ("groups.list", DIRECTORY, "/admin/directory/v1/groups", {"customer": "my_customer"}),
    ("members.list", DIRECTORY, "/admin/directory/v1/groups/0abc11111/members", {}),
    ("policies.list", IDENTITY, "/v1/policies", {}),
]


@pytest.mark.parametrize(("method", "spec", "path", "params"), CASES)
def test_every_body_matches_googles_discovery_schema(
    google: Google, private_pem: str, method: str, spec: DiscoverySpec, path: str, params: Any
) -> None:
    body = get(google, private_pem, path, **params)
    spec.validate_response(body, method)
    assert any(isinstance(v, list) and v for v in body.values()), body


def test_users_page_with_next_page_token_up_to_500(google: Google, private_pem: str) -> None:
    first = get(
        google, private_pem, "/admin/directory/v1/users", customer="my_customer", maxResults=3
    )
    assert len(first["users"]) == 3 and first["nextPageToken"]
    ids = [u["id"] for u in first["users"]]
    token = first["nextPageToken"]
    while token:
        page = get(
            google,
            private_pem,
            "/admin/directory/v1/users",
            customer="my_customer",
            maxResults=3,
            pageToken=token,
        )
        ids += [u["id"] for u in page["users"]]
        token = page.get("nextPageToken")
    assert len(ids) == len(set(ids)) == 7
    signed = grant(google, assertion(google, private_pem)).json()["access_token"]
    too_many = httpx.get(
        google.url + "/admin/directory/v1/users",
        params={"customer": "my_customer", "maxResults": 501},
        headers={"Authorization": f"Bearer {signed}"},
    )
    assert too_many.status_code == 400


def test_token_endpoint_refuses_a_bad_assertion_with_invalid_grant(
    google: Google, private_pem: str
) -> None:
    answer = grant(google, assertion(google, private_pem, aud="https://elsewhere.example/token"))
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_token_endpoint_says_unauthorized_client_without_delegation(
    make_google: Any, private_pem: str
) -> None:
    google = make_google(delegated_scopes=frozenset())
    answer = grant(google, assertion(google, private_pem))
    assert answer.status_code == 401 and answer.json()["error"] == "unauthorized_client"


def test_expired_token_gets_googles_401(google: Google, private_pem: str) -> None:
    token = grant(google, assertion(google, private_pem)).json()["access_token"]
    google.emulator.expire_tokens()
    answer = httpx.get(
        google.url + "/admin/directory/v1/users",
        params={"customer": "my_customer"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 401
    assert answer.json()["error"]["status"] == "UNAUTHENTICATED"
