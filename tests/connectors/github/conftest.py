"""Fixtures: the GitHub emulator on loopback, a PAT, an App key, and a collect helper."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.emulators.github import GitHubEmulator
from tests.emulators.kit import EmulatorServer

OWNER_TOKEN = "ghp_ownerTokenForTests0000000000000000001"
MEMBER_TOKEN = "ghp_memberTokenForTests000000000000000002"
APP_ID = 2002
INSTALLATION_ID = 50002


@dataclass
class GitHub:
    server: EmulatorServer
    emulator: GitHubEmulator

    @property
    def url(self) -> str:
        return self.server.base_url


@pytest.fixture(scope="session")
def app_key() -> tuple[str, str]:
    """(private PEM, public PEM) of the test GitHub App."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def start(app_key: tuple[str, str], **kwargs: Any) -> Iterator[GitHub]:
    emulator = GitHubEmulator.load(
        tokens={OWNER_TOKEN: "dana-owner", MEMBER_TOKEN: "kim-dev"},
        app_id=APP_ID,
        app_public_pem=app_key[1],
        installation_id=INSTALLATION_ID,
        **kwargs,
    )
    with EmulatorServer(emulator) as server:
        yield GitHub(server, emulator)


@pytest.fixture
def github(app_key: tuple[str, str]) -> Iterator[GitHub]:
    yield from start(app_key)


@pytest.fixture
def token_env(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("GH_TEST_TOKEN", OWNER_TOKEN)
    return "GH_TEST_TOKEN"


@pytest.fixture
def key_file(tmp_path: Path, app_key: tuple[str, str]) -> str:
    path = tmp_path / "app.pem"
    path.write_text(app_key[0], encoding="utf-8")
    return str(path)


def read_snapshot(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))
