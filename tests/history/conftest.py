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
