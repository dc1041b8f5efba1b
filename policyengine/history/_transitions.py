"""What one run changes in the history, decided without a database.

Given the findings open before the run and this run's findings, each finding
is new (first seen), reopened (seen again after being resolved), still open,
resolved, or carried (open but not re-checked). Fail closed: an absent
finding is resolved only when its source was collected completely and its
policy ran; a finding folded into a broader one is still failing, so it
stays open but is not counted apart (the counts follow the report).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from policyengine.findings.fold import covered_fingerprints
from policyengine.findings.model import Finding, Result
from policyengine.model.reserved import CORRELATION_INSTANCE

if TYPE_CHECKING:  # the store imports this module; records are only read here
    from policyengine.history._store import FindingRecord

#: Sources that are derived from all the others (``person`` resources correlated
#: across sources: ``policyengine.model.reserved.CORRELATION_INSTANCE``). Their
#: findings are re-checked only when every source of the run was complete.
DERIVED_SOURCES = frozenset({CORRELATION_INSTANCE})

COUNT_FIELDS = ("open", "new", "resolved", "still_open", "carried", "waived")

Event = Literal["new", "reopened", "resolved", "waived", "unwaived"]
#: (policy id, severity, source) -> count field -> number
Counts = dict[tuple[str, str, str], dict[str, int]]


@dataclass(frozen=True, slots=True)
class Coverage:
    """What a run re-checked: the sources collected completely and the policies that ran."""

    complete_sources: frozenset[str]
    #: None: every policy ran
    policies: frozenset[str] | None

    def rechecked(self, record: FindingRecord) -> bool:
        return record.source in self.complete_sources and (
            self.policies is None or record.policy_id in self.policies
        )


def coverage_of(result: Result, evaluated_policies: Collection[str] | None) -> Coverage:
    """``evaluated_policies`` None means the ids in ``result.policies`` (or, if none, all)."""
    complete = {s.instance for s in result.sources if s.complete}
    if result.sources and result.complete:
        complete |= DERIVED_SOURCES
    if evaluated_policies is None:
        evaluated_policies = {p.id for p in result.policies} or None
    policies = frozenset(evaluated_policies) if evaluated_policies is not None else None
    return Coverage(frozenset(complete), policies)


@dataclass(frozen=True, slots=True)
class Seen:
    """This run's failing findings by fingerprint, and those folded into a broader one."""

    findings: Mapping[str, Finding]
    folded: frozenset[str]


def seen_in(result: Result) -> Seen:
    current: dict[str, Finding] = {}
    folded: set[str] = set()
    for f in result.findings:
        if f.change != "resolved":
            current.setdefault(f.fingerprint, f)
            for g in f.folded:
                current.setdefault(g.fingerprint, g)
            folded.update(covered_fingerprints(f) - {f.fingerprint})
    folded.difference_update(f.fingerprint for f in result.findings)
    return Seen(current, frozenset(folded))


@dataclass(slots=True)
class Transitions:
    """Everything a run changes; the store turns it into SQL."""

    #: first seen in this run (no row yet)
    first_seen: list[Finding] = field(default_factory=list)
    #: seen again after being resolved, with the previous row
    reopened: list[Finding] = field(default_factory=list)
    #: open before and seen again
    still_open: list[Finding] = field(default_factory=list)
    #: open before, absent now, and re-checked: the previous rows
    resolved: list[FindingRecord] = field(default_factory=list)
    #: open before, absent now, not re-checked, not waived (reported as carried)
    carried: list[FindingRecord] = field(default_factory=list)
    #: fingerprints counted as new (first seen or reopened; not waived, not folded)
    new: list[str] = field(default_factory=list)
    events: list[tuple[str, Event]] = field(default_factory=list)
    counts: Counts = field(default_factory=dict)

    def bump(self, policy: str, severity: str, source: str, what: str) -> None:
        row = self.counts.setdefault((policy, severity, source), dict.fromkeys(COUNT_FIELDS, 0))
        row[what] += 1
        if what in ("new", "still_open", "carried"):
            row["open"] += 1


def transitions(
    seen: Seen,
    known: Mapping[str, FindingRecord],
    open_before: Mapping[str, FindingRecord],
    coverage: Coverage,
) -> Transitions:
    """The run's transitions.

    ``known``: the stored row of every fingerprint in ``seen`` that has one (open or
    resolved); ``open_before``: every row open before this run.
    """
    out = Transitions()
    for fp, f in seen.findings.items():
        prev = known.get(fp)
        if prev is None:
            out.first_seen.append(f)
            out.events.append((fp, "new"))
            state = "new"
        elif prev.resolved_at is not None:
            out.reopened.append(f)
            out.events.append((fp, "reopened"))
            state = "new"
        else:
            out.still_open.append(f)
            state = "still_open"
            if f.waived != prev.waived:
                out.events.append((fp, "waived" if f.waived else "unwaived"))
        if fp in seen.folded:
            continue
        source = f.resource.source
        if f.waived:
            out.bump(f.policy_id, f.severity, source, "waived")
        else:
            out.bump(f.policy_id, f.severity, source, state)
            if state == "new":
                out.new.append(fp)
    for fp, row in open_before.items():
        if fp in seen.findings or fp in seen.folded:
            continue
        if coverage.rechecked(row):
            out.resolved.append(row)
            out.events.append((fp, "resolved"))
            out.bump(row.policy_id, row.severity, row.source, "resolved")
        else:  # not re-checked (source incomplete or absent, policy not run): stays open
            out.bump(row.policy_id, row.severity, row.source, "waived" if row.waived else "carried")
            if not row.waived:
                out.carried.append(row)
    return out
