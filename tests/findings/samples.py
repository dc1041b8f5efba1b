"""Hand-built findings and results for the findings and report tests."""

from __future__ import annotations

from policyengine.findings.model import (
    Evidence,
    Finding,
    PolicyInfo,
    ResourceRef,
    Result,
    SourceStatus,
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
