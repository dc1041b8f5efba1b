"""The history's transition rules, without a database: new, reopened, still open, resolved,
carried; fail closed on incomplete sources and unevaluated policies; folded findings stay open."""

from __future__ import annotations

import dataclasses

from policyengine.findings.model import Finding
from policyengine.history._store import FindingRecord
from policyengine.history._transitions import Coverage, coverage_of, seen_in, transitions
from policyengine.model.reserved import CORRELATION_INSTANCE
from tests.history.conftest import make_finding, make_result

T0 = "2026-10-01T00:00:00Z"
EVERYTHING = Coverage(frozenset({"corp", "sf"}), None)


def stored(f: Finding, *, resolved_at: str | None = None, waived: bool = False) -> FindingRecord:
    r = f.resource
    return FindingRecord(
        f.fingerprint, f.policy_id, f.severity, f.title, r.kind, r.source, r.id, r.name,
        T0, T0, T0, resolved_at, 0, waived, None,
    )  # fmt: skip


def run(findings: list[Finding], before: list[FindingRecord], coverage: Coverage = EVERYTHING):
    seen = seen_in(make_result(findings))
    rows = {r.fingerprint: r for r in before}
    open_before = {fp: r for fp, r in rows.items() if r.resolved_at is None}
    return transitions(seen, rows, open_before, coverage)


def test_first_seen_reopened_and_still_open() -> None:
    a, b, c = (make_finding("P-1", "corp", u) for u in ("u1", "u2", "u3"))
    t = run([a, b, c], [stored(b, resolved_at=T0), stored(c)])
    assert [f.fingerprint for f in t.first_seen] == [a.fingerprint]
    assert [f.fingerprint for f in t.reopened] == [b.fingerprint]
    assert [f.fingerprint for f in t.still_open] == [c.fingerprint]
    assert t.new == [a.fingerprint, b.fingerprint]  # a reopened finding counts as new
    assert t.events == [(a.fingerprint, "new"), (b.fingerprint, "reopened")]
    assert t.counts[("P-1", "high", "corp")] == {
        "open": 3, "new": 2, "resolved": 0, "still_open": 1, "carried": 0, "waived": 0,
    }  # fmt: skip


def test_absent_and_rechecked_is_resolved_else_carried() -> None:
    corp, sf, off = (
        make_finding("P-1", "corp", "u1"),
        make_finding("P-1", "sf", "u2"),
        make_finding("P-2", "corp", "u3"),
    )
    # sf incomplete, P-2 did not run: only the corp P-1 finding is re-checked
    coverage = Coverage(frozenset({"corp"}), frozenset({"P-1"}))
    t = run([], [stored(corp), stored(sf), stored(off)], coverage)
    assert [r.fingerprint for r in t.resolved] == [corp.fingerprint]
    assert [r.fingerprint for r in t.carried] == [sf.fingerprint, off.fingerprint]
    assert t.events == [(corp.fingerprint, "resolved")]
    assert t.counts[("P-1", "high", "sf")]["carried"] == 1
    assert t.counts[("P-1", "high", "sf")]["open"] == 1


def test_a_waived_finding_not_rechecked_is_counted_waived_not_carried() -> None:
    f = make_finding("P-1", "sf", "u1", waived=True)
    t = run([], [stored(f, waived=True)], Coverage(frozenset({"corp"}), None))
    assert t.carried == [] and t.resolved == []
    assert t.counts[("P-1", "high", "sf")]["waived"] == 1
    assert t.counts[("P-1", "high", "sf")]["open"] == 0


def test_waiving_and_unwaiving_an_open_finding_are_events() -> None:
    a = make_finding("P-1", "corp", "u1", waived=True)
    b = make_finding("P-1", "corp", "u2")
    t = run([a, b], [stored(a), stored(b, waived=True)])
    assert t.events == [(a.fingerprint, "waived"), (b.fingerprint, "unwaived")]
    assert t.counts[("P-1", "high", "corp")]["waived"] == 1
    assert t.new == []


def test_folded_findings_stay_open_and_are_not_counted_apart() -> None:
    narrow = make_finding("P-2", "corp", "u1")
    broad = dataclasses.replace(
        make_finding("P-1", "corp", "u1"), supersedes=("P-2",), folded=(narrow,)
    )
    # first run: both are tracked, only the broad one is counted
    t = run([broad], [])
    assert {f.fingerprint for f in t.first_seen} == {broad.fingerprint, narrow.fingerprint}
    assert t.new == [broad.fingerprint]
    assert ("P-2", "high", "corp") not in t.counts
    # next run, still folded: the narrow one is neither resolved nor carried
    t = run([broad], [stored(broad), stored(narrow)])
    assert t.resolved == [] and t.carried == []
    assert {f.fingerprint for f in t.still_open} == {broad.fingerprint, narrow.fingerprint}


def test_coverage_of_a_result() -> None:
    whole = coverage_of(make_result([]), None)
    assert whole.complete_sources == {"corp", "sf", CORRELATION_INSTANCE}
    assert whole.policies == {"P-1", "P-2"}
    # an incomplete source: correlated persons are not re-checked either
    partial = coverage_of(make_result([], incomplete=["sf"]), ["P-1"])
    assert partial.complete_sources == {"corp"} and partial.policies == {"P-1"}
    assert coverage_of(make_result([], policies=()), None).policies is None
