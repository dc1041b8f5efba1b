"""What the engine says about a policy and a failing condition, shared by policies and reports.

Policies produce :class:`Evidence`; a policy set describes itself as
:class:`PolicyInfo`. Both live in the model so that ``policy`` does not depend
on ``findings`` (which builds on ``policy``). The dictionary forms are part of
the public JSON interface: fields are only ever added.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Evidence:
    """One failing condition: where we looked, what we found, what was required."""

    path: str
    actual: Any
    expected: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "actual": self.actual, "expected": self.expected}


@dataclass(frozen=True, slots=True)
class PolicyInfo:
    """What a reporter needs to know about a policy (SARIF rules, JUnit suites, HTML)."""

    id: str
    title: str
    severity: str
    resource: str
    description: str = ""
    rationale: str = ""
    remediation: str = ""
    frameworks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    references: tuple[str, ...] = ()
    file: str | None = None
    line: int | None = None
    evaluated: int = 0  # resources matched (evaluated) in this run
    #: narrower policies whose findings this one's fold (``policyengine.findings.fold``)
    supersedes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "severity": self.severity,
            "resource": self.resource,
            "description": self.description,
            "rationale": self.rationale,
            "remediation": self.remediation,
            "frameworks": {k: list(v) for k, v in self.frameworks.items()},
            "references": list(self.references),
            "file": self.file,
            "line": self.line,
            "evaluated": self.evaluated,
        }
        if self.supersedes:
            out["supersedes"] = list(self.supersedes)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PolicyInfo:
        return cls(
            id=d["id"],
            title=d.get("title", ""),
            severity=d.get("severity", "medium"),
            resource=d.get("resource", ""),
            description=d.get("description", ""),
            rationale=d.get("rationale", ""),
            remediation=d.get("remediation", ""),
            frameworks={k: tuple(v) for k, v in (d.get("frameworks") or {}).items()},
            references=tuple(d.get("references") or ()),
            file=d.get("file"),
            line=d.get("line"),
            evaluated=int(d.get("evaluated", 0)),
            supersedes=tuple(d.get("supersedes") or ()),
        )
