"""Hand-made results for history tests (no engine needed)."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from policyengine.findings.model import (
    Evidence,
    Finding,
    PolicyInfo,
    ResourceRef,
    Result,
    SourceStatus,
    WaiverStatus,
    fingerprint,
)


def make_finding(
    policy: str, source: str, rid: str, severity: str = "high", *, waived: bool = False
) -> Finding:
    return Finding(
        policy_id=policy,
        severity=severity,
        title=f"title of {policy}",
        resource=ResourceRef("account", source, rid, rid),
        message="m",
        evidence=(Evidence("mfa.enrolled", False, "true"),),
        remediation="fix it",
        frameworks={},
        fingerprint=fingerprint(policy, "account", source, rid),
        waived=waived,
        waiver=WaiverStatus("accepted", "alice", "2027-01-01") if waived else None,
    )


def make_result(
    findings: Iterable[Finding],
    *,
    sources: Iterable[str] = ("corp", "sf"),
    incomplete: Iterable[str] = (),
    policies: Iterable[str] = ("P-1", "P-2"),
    now: str = "2026-11-01T00:00:00Z",
) -> Result:
    bad = set(incomplete)
    return Result(
        findings=tuple(findings),
        policies=tuple(PolicyInfo(p, p, "high", "account") for p in policies),
        sources=tuple(
            SourceStatus("file", s, now, s not in bad, ("boom",) if s in bad else ())
            for s in sources
        ),
        now=now,
    )


@pytest.fixture
def finding():
    return make_finding


@pytest.fixture
def result():
    return make_result


@pytest.fixture(scope="session")
def pg_server():
    """One real PostgreSQL for the session (tests/history/pg_server.py); each test gets a schema.

    Locally a machine without PostgreSQL skips these tests, saying why; under CI that skip
    is a failure (tests/conftest.py), and a server that will not start fails here too.
    """
    import os

    from tests.history.pg_server import pg_bindir, postgres_server

    if pg_bindir() is None and not os.environ.get("CI"):
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    try:
        with postgres_server() as server:
            yield server
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture
def pg_history(pg_server, tmp_path):
    """A new, empty PostgreSQL history (its own schema); the password comes from a file."""
    import uuid

    from policyengine.history import PostgresHistory

    secret = tmp_path / "pg-password"
    secret.write_text(pg_server.password + "\n")
    return PostgresHistory(
        pg_server.url(), schema=f"t_{uuid.uuid4().hex[:12]}", password_file=secret
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def history_target(request, tmp_path):
    """Each history test runs on a SQLite file and on a PostgreSQL schema."""
    if request.param == "sqlite":
        return tmp_path / "h.db"
    return request.getfixturevalue("pg_history")
