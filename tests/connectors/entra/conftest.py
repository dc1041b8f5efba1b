"""Fixtures: the Entra / Graph emulator on loopback, an app with a secret and a certificate."""

from __future__ import annotations

import datetime as dt
import json
import ssl
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import structlog
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from policyengine import connector as registry
from tests.emulators.entra import Client, EntraEmulator, EntraTenant
from tests.emulators.kit import EmulatorServer

CLIENT_ID = "9a8b7c6d-1111-2222-3333-444455556666"
CLIENT_SECRET = "Zq9~xW3vB7nM2kL5pR8tY-entra-test-secret"
TENANT_ID = EntraTenant().tenant_id


@dataclass
class Entra:
    server: EmulatorServer
    emulator: EntraEmulator

    @property
    def url(self) -> str:
        return self.server.base_url

    @property
    def ca_file(self) -> str:
        """The throwaway CA the https loopback server's certificate chains to."""
        assert self.server.ca_file is not None
        return str(self.server.ca_file)

    @property
    def verify(self) -> ssl.SSLContext:
        """For httpx calls a test makes to the emulator itself."""
        return ssl.create_default_context(cafile=self.ca_file)


@pytest.fixture(scope="session")
def certificate() -> tuple[str, bytes]:
    """(private key + certificate PEM, certificate DER): what --certificate-file holds."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "policyengine-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ) + cert.public_bytes(serialization.Encoding.PEM)
    return pem.decode(), cert.public_bytes(serialization.Encoding.DER)


def start(tenant: EntraTenant, cert_der: bytes, **kwargs: Any) -> Iterator[Entra]:
    roles = kwargs.pop("roles", None)
    client = Client(secret=CLIENT_SECRET, certificate_der=cert_der)
    if roles is not None:
        client.roles = frozenset(roles)
    emulator = EntraEmulator(tenant, {CLIENT_ID: client}, **kwargs)
    # https: MSAL accepts no other authority scheme
    with (
        tempfile.TemporaryDirectory() as tls_dir,
        EmulatorServer(emulator, tls_dir=tls_dir) as server,
    ):
        yield Entra(server, emulator)


@pytest.fixture
def entra(certificate: tuple[str, bytes]) -> Iterator[Entra]:
    yield from start(EntraTenant.load(), certificate[1])


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ENTRA_TEST_SECRET", CLIENT_SECRET)
    return "ENTRA_TEST_SECRET"


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    yield
    structlog.reset_defaults()


def options(entra: Entra, env: str, **extra: Any) -> dict[str, Any]:
    return {
        "tenant_id": TENANT_ID,
        "client_id": CLIENT_ID,
        "client_secret_env": env,
        "authority_url": entra.url,
        "graph_url": entra.url,
        "ca_file": entra.ca_file,
        "retry_backoff": 0.001,
        **extra,
    }


def collect(opts: dict[str, Any], out: Path) -> tuple[registry.CollectResult, dict[str, Any]]:
    result = registry.run("entra", opts, instance="entra", output=out)
    return result, json.loads(out.read_text())


def by_name(snapshot: dict[str, Any], key: str = "accounts") -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in snapshot[key]}
