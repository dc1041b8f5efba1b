"""Fixtures for the Salesforce connector tests: an RSA key pair and an emulated org."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from connectors.http import RetryPolicy
from tests.emulators.salesforce import SalesforceOrg, load_fixture, start_org

CLIENT_ID = "3MVG9test.consumer.key"
CLIENT_SECRET = "s3cr3t-client-secret-value"
USERNAME = "alice.admin@kering.example"
COLLECTED_AT = "2026-11-27T00:00:00Z"


@pytest.fixture(scope="session")
def key_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """(path of a PEM private key file, PEM public key)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path = tmp_path_factory.mktemp("keys") / "sf-key.pem"
    path.write_bytes(pem)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return path, public


@pytest.fixture()
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retries without real sleeping; returns the delays that would have been slept."""
    slept: list[float] = []
    import connectors.http.client as client

    original = client.HttpClient.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        kwargs["sleep"] = slept.append
        kwargs.setdefault(
            "retry", RetryPolicy(max_attempts=4, backoff_base=0.001, backoff_max=0.01)
        )
        original(self, *args, **kwargs)

    monkeypatch.setattr(client.HttpClient, "__init__", init)
    return slept


@pytest.fixture()
def org_factory(key_pair: tuple[Path, bytes]) -> Iterator[Callable[..., tuple[Any, SalesforceOrg]]]:
    servers: list[Any] = []

    def make(fixture: dict[str, Any] | None = None, **kwargs: Any) -> tuple[Any, SalesforceOrg]:
        kwargs.setdefault("public_key_pem", key_pair[1])
        kwargs.setdefault("client_id", CLIENT_ID)
        kwargs.setdefault("client_secret", CLIENT_SECRET)
        server, org = start_org(fixture if fixture is not None else load_fixture(), **kwargs)
        servers.append(server)
        return server, org

    yield make
    for server in servers:
        server.stop()


@pytest.fixture()
def emulated(org_factory: Callable[..., tuple[Any, SalesforceOrg]]) -> tuple[Any, SalesforceOrg]:
    """The default org with small batches, so every object pages."""
    return org_factory(batch_size=3)


def jwt_options(server: Any, key_path: Path, **extra: Any) -> dict[str, Any]:
    return {
        "login_url": server.base_url,
        "client_id": CLIENT_ID,
        "username": USERNAME,
        "private_key_file": str(key_path),
        "max_concurrency": 2,
        **extra,
    }


def run_collect(options: dict[str, Any], out: Path) -> tuple[Any, dict[str, Any]]:
    """Run the connector in-process; return (CollectResult, snapshot dict)."""
    from policyengine import connector as registry

    result = registry.run(
        "salesforce", options, instance="sf", output=out, collected_at=COLLECTED_AT
    )
    return result, json.loads(out.read_text())


def by_id(snapshot: dict[str, Any], key: str) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in snapshot.get(key, [])}
