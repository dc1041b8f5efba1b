"""Session-scoped real servers for the LDAP connector tests.

slapd (OpenLDAP 2.5, memberof + ppolicy overlays) and a Samba AD DC are
started on loopback from temporary directories and always stopped. Tests
skip, saying why, only when the server binaries are not installed.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.connectors.ldap import servers

DATA = Path(__file__).resolve().parents[2] / "data" / "ldap"
PE = Path(__file__).resolve().parents[3] / ".venv" / "bin" / "policyengine"

needs_slapd = pytest.mark.skipif(
    not (servers.SLAPD and servers.SLAPADD and servers.OPENSSL),
    reason="slapd/slapadd/openssl not installed (apt-get install slapd ldap-utils openssl)",
)
needs_samba = pytest.mark.skipif(
    not (servers.SAMBA and servers.SAMBA_TOOL),
    reason="samba/samba-tool not installed (apt-get install samba samba-ad-dc winbind)",
)


@pytest.fixture(scope="session")
def slapd() -> Iterator[servers.Slapd]:
    if not (servers.SLAPD and servers.SLAPADD and servers.OPENSSL):
        pytest.skip("slapd/slapadd/openssl not installed")
    directory = servers.tempdir("pe-slapd-")
    server = servers.Slapd(
        directory,
        # a reader whose paged searches the server stops at 5 entries
        extra_limits='limits dn.exact="uid=reader,ou=people,dc=example,dc=com" '
        "size.soft=5 size.hard=5 size.prtotal=5",
    )
    try:
        server.setup()
        server.start()
        server.add_ldif(DATA / "openldap.ldif")
        _lock_eve_forever(server)
        yield server
    finally:
        server.stop()
        servers.rmtree(directory)


def _lock_eve_forever(server: servers.Slapd) -> None:
    import ldap3

    conn = server.admin()
    conn.modify(
        "uid=eve,ou=people,dc=example,dc=com",
        {"pwdAccountLockedTime": [(ldap3.MODIFY_REPLACE, ["000001010000Z"])]},
    )
    assert conn.result["result"] == 0, conn.result
    conn.unbind()


@pytest.fixture(scope="session")
def samba() -> Iterator[tuple[servers.SambaDC, dict[str, str]]]:
    if not (servers.SAMBA and servers.SAMBA_TOOL):
        pytest.skip("samba/samba-tool not installed")
    directory = servers.tempdir("pe-samba-")
    dc = servers.SambaDC(directory)
    try:
        dc.provision()
        dc.start()
        conn = dc.admin()
        dns = servers.populate_samba(conn)
        conn.unbind()
        yield dc, dns
    finally:
        dc.stop()
        servers.rmtree(directory)


@pytest.fixture
def password_env(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], str]:
    """Put a password in an environment variable; returns the variable name."""

    def set_(value: str) -> str:
        monkeypatch.setenv("PE_TEST_LDAP_PW", value)
        return "PE_TEST_LDAP_PW"

    return set_


def read_snapshot(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    lines = path.read_bytes().splitlines()
    return orjson.loads(lines[0]), [orjson.loads(line) for line in lines[1:]]


def by_name(records: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in records if r["kind"] == kind}


def collect(options: dict[str, Any], out: Path, instance: str = "corp"):
    """Run the connector in-process, as `policyengine collect` does."""
    from policyengine import connector as registry

    return registry.run("ldap", options, instance=instance, output=out)


def cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess:
    """Run the real command line: `.venv/bin/policyengine ...`."""
    started = time.monotonic()
    proc = subprocess.run(
        [str(PE), *args],
        capture_output=True,
        text=True,
        env=env or dict(os.environ),
        timeout=timeout,
    )
    proc.seconds = time.monotonic() - started  # type: ignore[attr-defined]
    return proc
