"""Fixtures: the Google Workspace emulator on loopback and a service-account key file."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.emulators.google import GoogleEmulator, GoogleTenant
from tests.emulators.kit import EmulatorServer

CLIENT_EMAIL = "policyengine@northwind-posture.iam.gserviceaccount.com"
SUBJECT = "ana.admin@northwind-retail.example"
KEY_ID = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class Google:
    server: EmulatorServer
    emulator: GoogleEmulator
    key_file: Path

    @property
    def url(self) -> str:
        return self.server.base_url


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def private_pem(rsa_key: rsa.RSAPrivateKey) -> str:
    return rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="session")
def public_pem(rsa_key: rsa.RSAPrivateKey) -> str:
    return (
        rsa_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def write_key_file(path: Path, private_pem: str, token_uri: str) -> Path:
    """A service-account key file in Google's JSON format."""
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "northwind-posture",
                "private_key_id": KEY_ID,
                "private_key": private_pem,
                "client_email": CLIENT_EMAIL,
                "client_id": "112233445566778899000",
                "token_uri": token_uri,
            }
        ),
        encoding="utf-8",
    )
    path.chmod(0o600)
    return path


@pytest.fixture
def make_google(
    tmp_path: Path, private_pem: str, public_pem: str
) -> Iterator[Callable[..., Google]]:
    servers: list[EmulatorServer] = []

    def start(tenant: GoogleTenant | None = None, **kwargs: Any) -> Google:
        emulator = GoogleEmulator(
            tenant or GoogleTenant.load(),
            client_email=CLIENT_EMAIL,
            public_key_pem=public_pem,
            **kwargs,
        )
        server = EmulatorServer(emulator).start()
        servers.append(server)
        key = write_key_file(tmp_path / "key.json", private_pem, server.base_url + "/token")
        return Google(server, emulator, key)

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def google(make_google: Callable[..., Google]) -> Google:
    return make_google()


def options(google: Google, **extra: Any) -> dict[str, Any]:
    return {
        "service_account_file": str(google.key_file),
        "subject": SUBJECT,
        "api_url": google.url,
        "retry_backoff": 0.001,
        "quota": 0,  # no pacing: tests that need the quota set it
        **extra,
    }


def collect(google: Google, out: Path, **extra: Any) -> tuple[Any, dict[str, Any]]:
    from policyengine import connector as registry

    result = registry.run("google", options(google, **extra), instance="google", output=out)
    return result, json.loads(out.read_text())


def by_id(snapshot: dict[str, Any], key: str) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in snapshot[key]}
