"""Hand-built findings and results for the findings and report tests."""

from __future__ import annotations

from policyengine.findings.diff import diff_results
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

NOW = "2026-06-20T00:00:00Z"

POLICIES = (
    PolicyInfo(
        id="PE-MFA-002",
        title="Privileged accounts use phishing-resistant MFA",
        severity="critical",
        resource="account",
        description="Admins must use FIDO2, smartcard or certificate MFA.",
        rationale="SMS and push can be talked past on the phone (UNC6040).",
        remediation="Register a FIDO2 key for {name} in {source}; remove sms, voice and push.",
        frameworks={"nist-800-53": ("IA-2(1)", "IA-2(6)"), "cis-v8": ("6.5",)},
        references=("https://pages.nist.gov/800-63-4/sp800-63b.html",),
        file="policies/mfa/phishing-resistant.yaml",
        line=1,
        evaluated=3,
    ),
    PolicyInfo(
        id="PE-SES-001",
        title="Admin sessions time out when idle",
        severity="medium",
        resource="account",
        remediation="Set the idle timeout to 15 minutes or less.",
        evaluated=3,
    ),
    PolicyInfo(
        id="PE-INT-001",
        title="Connected apps are admin-approved",
        severity="high",
        resource="integration",
        evaluated=5,
    ),
)


def finding(
    rid: str,
    *,
    policy: str = "PE-MFA-002",
    severity: str = "critical",
    kind: str = "account",
    source: str = "corp-ad",
    name: str | None = None,
    file: str | None = None,
    line: int | None = None,
    message: str | None = None,
) -> Finding:
    """A finding about resource ``rid`` with a correct fingerprint."""
    ref = ResourceRef(kind, source, rid, name or rid, file, line)
    return Finding(
        policy_id=policy,
        severity=severity,
        title=f"title of {policy}",
        resource=ref,
        message=message or f"{name or rid} uses sms only",
        evidence=(Evidence("mfa.methods", ["sms"], "contains any of webauthn, fido2"),),
        remediation=f"Register a FIDO2 key for {name or rid} in {source}.",
        frameworks={"nist-800-53": ("IA-2(1)",)},
        fingerprint=fingerprint(policy, kind, source, rid),
    )


def result(
    *findings: Finding,
    now: str = NOW,
    complete: bool = True,
    warnings: tuple[str, ...] = (),
) -> Result:
    source = SourceStatus(
        connector="ldap",
        instance="corp-ad",
        collected_at=now,
        complete=complete,
        errors=() if complete else ("search of OU=Admins failed: timeLimitExceeded",),
    )
    return Result(
        findings=tuple(sorted(findings, key=lambda f: f.sort_key())),
        policies=POLICIES,
        sources=(source,),
        now=now,
        warnings=warnings,
    )


def plain_result() -> Result:
    """Three findings, one with a declaring file and line."""
    return result(
        finding("u9", name="alice-admin", file="access/admins.yaml", line=12),
        finding(
            "u1",
            name="bob",
            message="bob's idle timeout is 480 minutes",
            policy="PE-SES-001",
            severity="medium",
        ),
        finding("u7", name="svc-sync"),
    )


def waived_status() -> WaiverStatus:
    """An active waiver as apply_waivers attaches it."""
    return WaiverStatus(
        reason="hardware key on order",
        owner="secops@example.com",
        expires="2026-07-01T00:00:00Z",
        ticket="SEC-123",
        file="waivers.yaml",
        line=2,
    )


def diffed_result() -> Result:
    """A diff: new (one waived, one with an expired waiver), unchanged, resolved."""
    base = result(finding("u1", policy="PE-SES-001", severity="medium"), finding("gone"))
    head = result(
        finding("u1", policy="PE-SES-001", severity="medium"),
        finding("u9", name="alice-admin", file="access/admins.yaml", line=12),
        finding("u5", name="carol"),
        finding("app1", policy="PE-INT-001", severity="high", kind="integration", source="sf"),
    )
    out = diff_results(base, head)
    findings = []
    for f in out.findings:
        if f.resource.id == "u5":
            f = f.with_changes(waived=True, waiver=waived_status())
        if f.resource.id == "app1":
            expired = WaiverStatus("old", "o@example.com", "2026-01-01T00:00:00Z", expired=True)
            f = f.with_changes(waiver=expired)
        findings.append(f)
    return Result(
        tuple(findings),
        out.policies,
        out.sources,
        out.now,
        ("waivers.yaml:9:5: waiver PE-INT-001 expired 2026-01-01",),
    )
