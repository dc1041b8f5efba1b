"""Fixtures: the Okta emulator on loopback, credentials, and a collect helper."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from policyengine import connector as registry
from tests.emulators.kit import EmulatorServer
from tests.emulators.okta import OktaEmulator, OktaOrg

SSWS_TOKEN = "00SSWS-test-token-Zq9xW3vB7nM2kL5pR8tY"
CLIENT_ID = "0oa1policyengine0001"
#: the SSWS token's owner (api.reporting@example.com): ``source.collected_as``
TOKEN_OWNER = "00umallor00000000013"


@dataclass
class Okta:
    server: EmulatorServer
    emulator: OktaEmulator

    @property
    def url(self) -> str:
        return self.server.base_url


@pytest.fixture(scope="session")
def rsa_private_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="session")
def rsa_public_pem(rsa_private_pem: str) -> str:
    key = serialization.load_pem_private_key(rsa_private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def start(org: OktaOrg, public_pem: str, **kwargs: Any) -> Iterator[Okta]:
    emulator = OktaEmulator(
        org,
        ssws_tokens={SSWS_TOKEN},
        ssws_owners={SSWS_TOKEN: TOKEN_OWNER},
        oauth_clients={CLIENT_ID: public_pem},
        **kwargs,
    )
    with EmulatorServer(emulator) as server:  # start() sets emulator.base_url
        yield Okta(server, emulator)


@pytest.fixture
def okta(rsa_public_pem: str) -> Iterator[Okta]:
    yield from start(OktaOrg.load(), rsa_public_pem)


@pytest.fixture
def ssws_env(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OKTA_TEST_TOKEN", SSWS_TOKEN)
    return "OKTA_TEST_TOKEN"


@pytest.fixture
def oauth_env(monkeypatch: pytest.MonkeyPatch, rsa_private_pem: str) -> str:
    monkeypatch.setenv("OKTA_TEST_KEY", rsa_private_pem)
    return "OKTA_TEST_KEY"


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    yield
    structlog.reset_defaults()


def ssws_options(okta: Okta, env: str, **extra: Any) -> dict[str, Any]:
    return {"org_url": okta.url, "token_env": env, "retry_backoff": 0.001, **extra}


def oauth_options(okta: Okta, env: str, **extra: Any) -> dict[str, Any]:
    return {
        "org_url": okta.url,
        "client_id": CLIENT_ID,
        "private_key_env": env,
        "retry_backoff": 0.001,
        **extra,
    }


def collect(options: dict[str, Any], out: Path) -> tuple[registry.CollectResult, dict[str, Any]]:
    result = registry.run("okta", options, instance="okta", output=out)
    return result, json.loads(out.read_text())


def by_id(snapshot: dict[str, Any], key: str) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in snapshot[key]}


def by_name(snapshot: dict[str, Any], key: str = "accounts") -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in snapshot[key]}


def users_page_matcher(okta: Okta, n: int, limit: int):
    """Matches the request for the n-th page (1-based) of /api/v1/users with ``limit``."""
    # the default listing leaves DEPROVISIONED users out (they come from a search)
    ids = sorted(u["id"] for u in okta.emulator.org.users if u["status"] != "DEPROVISIONED")

    def match(request: Any) -> bool:
        if request.path != "/api/v1/users" or request.param("search"):
            return False
        return request.param("after") == (ids[(n - 1) * limit - 1] if n > 1 else None)

    return match
