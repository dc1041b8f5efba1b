"""Value objects for findings and evaluation results.

The dictionary forms (``to_dict``) are the public JSON interface
(``--format json``, ``RESULT_SCHEMA_VERSION``): fields are only ever added.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

# Re-exported: these moved to the model; imports from here keep working.
from policyengine.model.evidence import Evidence as Evidence
from policyengine.model.evidence import PolicyInfo as PolicyInfo
from policyengine.model.severity import SEVERITIES as SEVERITIES
from policyengine.model.severity import severity_at_least as severity_at_least
from policyengine.model.severity import severity_rank as severity_rank

#: severity -> rank, as ``severity_rank`` (unknown ones: ``len(SEVERITIES)``)
_SEVERITY_RANK = {name: severity_rank(name) for name in SEVERITIES}

#: output order of a diff's change kinds (a plain evaluation has none: it sorts as "new")
CHANGE_ORDER: dict[str, int] = {"new": 0, "unchanged": 1, "resolved": 2}


def fingerprint(policy_id: str, kind: str, source: str, resource_id: str) -> str:
    """Stable identity of a finding: survives re-ordering and re-collection.

    >>> fingerprint("PE-MFA-001", "account", "corp-ad", "u1")[:12]
    '73301bf26568'
    """
    # an f-string, not a join of a tuple: this runs once per finding
    key = f"{policy_id}\x1f{kind}\x1f{source}\x1f{resource_id}".encode()
    return hashlib.sha256(key).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class ResourceRef:
    kind: str
    source: str
    id: str
    name: str
    #: file and line that declared the resource (access-as-code), when known
    file: str | None = None
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "source": self.source,
            "id": self.id,
            "name": self.name,
        }
        if self.file:
            out["location"] = {"file": self.file, "line": self.line}
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ResourceRef:
        loc = data.get("location") or {}
        return cls(
            kind=data["kind"],
            source=data["source"],
            id=data["id"],
            name=data.get("name") or data["id"],
            file=loc.get("file"),
            line=loc.get("line"),
        )


@dataclass(frozen=True, slots=True)
class WaiverStatus:
    """The waiver that matched a finding (active or expired)."""

    reason: str
    owner: str
    expires: str
    ticket: str | None = None
    expired: bool = False
    expiring_soon: bool = False
    file: str | None = None
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {
            "reason": self.reason,
            "owner": self.owner,
            "expires": self.expires,
            "expired": self.expired,
            "expiring_soon": self.expiring_soon,
        }
        if self.ticket:
            out["ticket"] = self.ticket
        return out


@dataclass(frozen=True, slots=True)
class Finding:
    policy_id: str
    severity: str
    title: str
    resource: ResourceRef
    message: str
    evidence: tuple[Evidence, ...]
    remediation: str
    frameworks: Mapping[str, tuple[str, ...]]
    fingerprint: str
    waived: bool = False
    waiver: WaiverStatus | None = None
    #: set by ``diff``: new, resolved or unchanged
    change: str | None = None
    #: narrower policies that also failed on this resource and are folded into this finding
    supersedes: tuple[str, ...] = ()
    #: the folded findings themselves (``policyengine.findings.fold``): still tracked
    folded: tuple[Finding, ...] = ()

    def sort_key(self) -> tuple[Any, ...]:
        r = self.resource
        return (severity_rank(self.severity), self.policy_id, r.source, r.kind, r.id)

    def output_key(self) -> tuple[Any, ...]:
        """Order in a result: by change (new, unchanged, resolved), then ``sort_key``."""
        return (CHANGE_ORDER[self.change or "new"], *self.sort_key())

    def with_changes(self, **changes: Any) -> Finding:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "policy_id": self.policy_id,
            "severity": self.severity,
            "title": self.title,
            "resource": self.resource.to_dict(),
            "message": self.message,
            "evidence": [e.to_dict() for e in self.evidence],
            "remediation": self.remediation,
            "frameworks": {k: list(v) for k, v in self.frameworks.items()},
            "fingerprint": self.fingerprint,
            "waived": self.waived,
        }
        if self.waiver is not None:
            out["waiver"] = self.waiver.to_dict()
        if self.change is not None:
            out["change"] = self.change
        if self.supersedes:
            out["supersedes"] = list(self.supersedes)
        if self.folded:
            out["folded"] = [f.to_dict() for f in self.folded]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        w = data.get("waiver")
        return cls(
            policy_id=data["policy_id"],
            severity=data["severity"],
            title=data.get("title", ""),
            resource=ResourceRef.from_dict(data["resource"]),
            message=data.get("message", ""),
            evidence=tuple(
                Evidence(e.get("path", ""), e.get("actual"), e.get("expected", ""))
                for e in data.get("evidence", [])
            ),
            remediation=data.get("remediation", ""),
            frameworks={k: tuple(v) for k, v in (data.get("frameworks") or {}).items()},
            fingerprint=data["fingerprint"],
            waived=bool(data.get("waived", False)),
            waiver=WaiverStatus(**{k: w[k] for k in w if k in WaiverStatus.__slots__})
            if w
            else None,
            change=data.get("change"),
            supersedes=tuple(data.get("supersedes") or ()),
            folded=tuple(Finding.from_dict(f) for f in data.get("folded") or ()),
        )


def sort_findings(findings: list[Finding], *, by_change: bool = False) -> None:
    """Sort ``findings`` in place by ``Finding.sort_key`` (``output_key`` with ``by_change``).

    The same order; the key is one function without method calls per finding.
    """
    rank = _SEVERITY_RANK.get
    unknown = len(SEVERITIES)
    if by_change:
        change_order = CHANGE_ORDER

        def key(f: Finding) -> tuple[Any, ...]:
            r = f.resource
            return (
                change_order[f.change or "new"],
                rank(f.severity, unknown),
                f.policy_id,
                r.source,
                r.kind,
                r.id,
            )
    else:

        def key(f: Finding) -> tuple[Any, ...]:
            r = f.resource
            return (rank(f.severity, unknown), f.policy_id, r.source, r.kind, r.id)

    findings.sort(key=key)


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """One snapshot that went into a result."""

    connector: str
    instance: str
    collected_at: str
    complete: bool
    errors: tuple[str, ...] = ()
    file: str | None = None
    counts: Mapping[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "connector": self.connector,
            "instance": self.instance,
            "collected_at": self.collected_at,
            "complete": self.complete,
            "errors": list(self.errors),
            "file": self.file,
            "counts": dict(self.counts),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SourceStatus:
        return cls(
            connector=d.get("connector", ""),
            instance=d.get("instance", ""),
            collected_at=d.get("collected_at", ""),
            complete=bool(d.get("complete", False)),
            errors=tuple(d.get("errors") or ()),
            file=d.get("file"),
            counts=dict(d.get("counts") or {}),
        )


@dataclass(frozen=True, slots=True)
class Result:
    """Everything one evaluation produced, sorted deterministically."""

    findings: tuple[Finding, ...]
    policies: tuple[PolicyInfo, ...]
    sources: tuple[SourceStatus, ...]
    now: str
    warnings: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return all(s.complete for s in self.sources)

    def active(self) -> tuple[Finding, ...]:
        """Findings that count: not waived and not resolved."""
        return tuple(f for f in self.findings if not f.waived and f.change != "resolved")

    def fails(self, fail_on: str | None) -> bool:
        """Whether a finding fails a gate at ``fail_on`` (:meth:`failing`, stopping at the first)."""
        if not fail_on or fail_on == "none":
            return False
        return any(
            not f.waived and f.change in (None, "new") and severity_at_least(f.severity, fail_on)
            for f in self.findings
        )

    def failing(self, fail_on: str | None) -> list[Finding]:
        """Findings that fail a gate at ``fail_on``: not waived, not resolved, not unchanged
        from a diff's base, at or above the threshold (``none`` fails nothing)."""
        if not fail_on or fail_on == "none":
            return []
        return [
            f
            for f in self.findings
            if not f.waived and f.change in (None, "new") and severity_at_least(f.severity, fail_on)
        ]

    def summary(self) -> dict[str, Any]:
        by_sev = dict.fromkeys(SEVERITIES, 0)
        by_source: dict[str, int] = {}
        by_change: dict[str, int] = {}
        waived = 0
        packed_counts = getattr(self.findings, "summary_counts", None)
        # the stream's packed findings: fresh (no waiver, no change), counted as packed
        findings = () if packed_counts is not None else self.findings
        if packed_counts is not None:
            by_sev, by_source = packed_counts()
        for f in findings:
            if f.change is not None:
                by_change[f.change] = by_change.get(f.change, 0) + 1
            if f.change == "resolved":
                continue
            if f.waived:
                waived += 1
                continue
            by_sev[f.severity] += 1
            by_source[f.resource.source] = by_source.get(f.resource.source, 0) + 1
        out: dict[str, Any] = {
            "total": sum(by_sev.values()),
            "by_severity": by_sev,
            "by_source": dict(sorted(by_source.items())),
            "waived": waived,
            "policies_evaluated": len(self.policies),
            "complete": self.complete,
            "now": self.now,
        }
        if by_change:
            out["by_change"] = by_change
        return out

    def to_dict(self, *, findings: bool = True) -> dict[str, Any]:
        """The public JSON shape; ``findings=False`` leaves the list empty (streamed writers)."""
        from policyengine import RESULT_SCHEMA_VERSION, __version__

        return {
            "schema_version": RESULT_SCHEMA_VERSION,
            "tool": {"name": "policyengine", "version": __version__},
            "summary": self.summary(),
            "sources": [s.to_dict() for s in self.sources],
            "findings": [f.to_dict() for f in self.findings] if findings else [],
            "policies": [p.to_dict() for p in self.policies],
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Result:
        return cls(
            findings=tuple(Finding.from_dict(f) for f in d.get("findings", [])),
            policies=tuple(PolicyInfo.from_dict(p) for p in d.get("policies", [])),
            sources=tuple(SourceStatus.from_dict(s) for s in d.get("sources", [])),
            now=(d.get("summary") or {}).get("now", ""),
            warnings=tuple(d.get("warnings") or ()),
        )
