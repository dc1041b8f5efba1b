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


def token_options(github: GitHub, env: str, **extra: Any) -> dict[str, Any]:
    return {
        "org": "acme-retail",
        "api_url": github.url,
        "token_env": env,
        "retry_backoff": 0.001,
        **extra,
    }


def app_options(github: GitHub, key_file: str, **extra: Any) -> dict[str, Any]:
    return {
        "org": "acme-retail",
        "api_url": github.url,
        "app_id": str(APP_ID),
        "private_key_file": key_file,
        "installation_id": INSTALLATION_ID,
        "retry_backoff": 0.001,
        **extra,
    }


def collect(options: dict[str, Any], out: Path) -> tuple[Any, dict[str, Any]]:
    from policyengine import connector as registry

    result = registry.run("github", options, instance="github", output=out)
    return result, read_snapshot(out)


def by_name(snapshot: dict[str, Any], key: str) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in snapshot.get(key, [])}


def only_app_parts_missing(result: Any) -> bool:
    """With a token alone, the fine-grained PAT listings are the only gap."""
    return all("fine-grained personal access token" in e for e in result.errors)
