"""Findings and results: what the engine concluded, in a stable public shape."""

from policyengine.findings.model import (
    SEVERITIES,
    Evidence,
    Finding,
    PolicyInfo,
    ResourceRef,
    Result,
    SourceStatus,
    WaiverStatus,
    fingerprint,
    severity_at_least,
)

__all__ = [
    "SEVERITIES",
    "Evidence",
    "Finding",
    "PolicyInfo",
    "ResourceRef",
    "Result",
    "SourceStatus",
    "WaiverStatus",
    "fingerprint",
    "severity_at_least",
]
