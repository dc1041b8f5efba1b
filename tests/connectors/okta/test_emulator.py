"""The Okta emulator itself speaks the documented wire format (so the other tests mean something)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import jwt
import pytest

from tests.connectors.okta.conftest import CLIENT_ID, SSWS_TOKEN, Okta, start
from tests.emulators.okta import OktaOrg

AUTH = {"Authorization": f"SSWS {SSWS_TOKEN}"}
ERROR_KEYS = {"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"}


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as client:
        yield client


def test_bad_token_is_401_e0000011(okta: Okta, http: httpx.Client) -> None:
    r = http.get(okta.url + "/api/v1/users", headers={"Authorization": "SSWS nope"})
    assert r.status_code == 401
    assert set(r.json()) == ERROR_KEYS
    assert r.json()["errorCode"] == "E0000011"
    assert r.json()["errorSummary"] == "Invalid token provided"


def test_every_response_carries_rate_limit_headers(okta: Okta, http: httpx.Client) -> None:
    r = http.get(okta.url + "/api/v1/users", headers=AUTH)
    assert int(r.headers["X-Rate-Limit-Limit"]) == 600
    assert int(r.headers["X-Rate-Limit-Remaining"]) == 599
    reset = int(r.headers["X-Rate-Limit-Reset"])
    assert time.time() < reset <= time.time() + 60


def test_rate_limit_is_enforced_with_e0000047(rsa_public_pem: str, http: httpx.Client) -> None:
    if 60 - time.time() % 60 < 2:  # do not straddle a window boundary
        time.sleep(60 - time.time() % 60 + 0.1)
    for okta in start(OktaOrg.load(), rsa_public_pem, rate_limit=3, window=60):
        codes = [http.get(okta.url + "/api/v1/users", headers=AUTH).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = http.get(okta.url + "/api/v1/users", headers=AUTH)
        assert r.json()["errorCode"] == "E0000047"
        assert r.headers["X-Rate-Limit-Remaining"] == "0"
        # another endpoint family has its own bucket
        assert http.get(okta.url + "/api/v1/api-tokens", headers=AUTH).status_code == 200


def test_users_pagination_links(okta: Okta, http: httpx.Client) -> None:
    r = http.get(okta.url + "/api/v1/users?limit=10", headers=AUTH)
    assert len(r.json()) == 10
    assert r.json()[0]["lastLogin"].endswith(".123Z")
    nxt = r.links["next"]["url"]
    assert nxt.startswith(okta.url + "/api/v1/users?after=")
    last = http.get(nxt, headers=AUTH)
    assert len(last.json()) == 4  # 15 users, one of them DEPROVISIONED: not listed by default
    assert "next" not in last.links and "self" in last.links


def test_deprovisioned_users_come_from_a_search(okta: Okta, http: httpx.Client) -> None:
    r = http.get(
        okta.url + "/api/v1/users",
        params={"search": 'status eq "DEPROVISIONED"', "limit": 200},
        headers=AUTH,
    )
    assert [u["profile"]["login"] for u in r.json()] == ["erin@example.com"]
    bad = http.get(okta.url + "/api/v1/users", params={"search": "nonsense"}, headers=AUTH)
    assert bad.status_code == 400 and bad.json()["errorCode"] == "E0000031"


def test_unknown_user_is_404_e0000007(okta: Okta, http: httpx.Client) -> None:
    r = http.get(okta.url + "/api/v1/users/00unknown/factors", headers=AUTH)
    assert r.status_code == 404
    assert r.json()["errorCode"] == "E0000007"


def assertion(okta: Okta, key_pem: str, **claims) -> str:
    now = int(time.time())
    body = {
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": okta.url + "/oauth2/v1/token",
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
        **claims,
    }
    return jwt.encode(body, key_pem, algorithm="RS256")


def token(http: httpx.Client, okta: Okta, client_assertion: str, scope: str = "okta.users.read"):
    return http.post(
        okta.url + "/oauth2/v1/token",
        data={
            "grant_type": "client_credentials",
            "scope": scope,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": client_assertion,
        },
    )


def test_oauth_token_and_scopes(okta: Okta, http: httpx.Client, rsa_private_pem: str) -> None:
    r = token(http, okta, assertion(okta, rsa_private_pem))
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "okta.users.read"
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    assert http.get(okta.url + "/api/v1/users", headers=bearer).status_code == 200
    denied = http.get(okta.url + "/api/v1/api-tokens", headers=bearer)
    assert denied.status_code == 403
    assert denied.json()["errorCode"] == "E0000006"
    assert "insufficient_scope" in denied.headers["WWW-Authenticate"]


def test_oauth_rejects_bad_assertions(okta: Okta, http: httpx.Client, rsa_private_pem: str) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    replayed = assertion(okta, rsa_private_pem)
    assert token(http, okta, replayed).status_code == 200
    cases = {
        "wrong key": assertion(okta, other),
        "wrong audience": assertion(okta, rsa_private_pem, aud="https://elsewhere/token"),
        "expired": assertion(okta, rsa_private_pem, exp=int(time.time()) - 10),
        "sub differs": assertion(okta, rsa_private_pem, sub="someone-else"),
        "replayed jti": replayed,
    }
    for why, value in cases.items():
        r = token(http, okta, value)
        assert (r.status_code, r.json()["error"]) == (401, "invalid_client"), why
    r = token(http, okta, assertion(okta, rsa_private_pem), scope="okta.users.manage")
    assert (r.status_code, r.json()["error"]) == (400, "invalid_scope")
