"""Baseline diff by fingerprint, and the diff gate."""

from __future__ import annotations

from policyengine.findings.diff import counts, diff_results, gate_findings, is_result_document
from policyengine.findings.model import PolicyInfo, Result, WaiverStatus
from tests.findings.samples import finding, result


def test_new_resolved_unchanged_by_fingerprint() -> None:
    base = result(finding("a"), finding("b", message="old text"))
    head = result(finding("b", message="new text"), finding("c"), now="2026-06-21T00:00:00Z")
    out = diff_results(base, head)
    assert [(f.resource.id, f.change) for f in out.findings] == [
        ("c", "new"),
        ("b", "unchanged"),
        ("a", "resolved"),
    ]
    unchanged = out.findings[1]
    assert unchanged.message == "new text"  # the head's data
    assert out.now == "2026-06-21T00:00:00Z"
    assert counts(out) == {"new": 1, "unchanged": 1, "resolved": 1, "waived": 0}


def test_reordering_and_renaming_do_not_make_findings_new() -> None:
    base = result(finding("a", name="Alice"), finding("b"))
    head = result(finding("b"), finding("a", name="Alice Smith"))
    out = diff_results(base, head)
    assert {f.change for f in out.findings} == {"unchanged"}


def test_each_group_is_in_sort_key_order() -> None:
    head = result(
        finding("z", severity="low", policy="PE-SES-001"),
        finding("a", severity="critical"),
        finding("m", severity="high", policy="PE-INT-001", kind="integration"),
    )
    out = diff_results(result(), head)
    assert [f.severity for f in out.findings] == ["critical", "high", "low"]


def test_waivers_from_a_saved_base_are_cleared_for_re_judging() -> None:
    waived = finding("a").with_changes(waived=True, waiver=WaiverStatus("r", "o", "2030-01-01"))
    out = diff_results(result(waived), result(finding("a")))
    assert out.findings[0].waived is False and out.findings[0].waiver is None


def test_incomplete_base_makes_the_diff_incomplete() -> None:
    out = diff_results(result(complete=False), result())
    assert out.complete is False
    assert diff_results(result(), result(complete=False)).complete is False
    ok = diff_results(result(), result())
    assert ok.complete is True and len(ok.sources) == 1  # the head's


def test_policies_of_resolved_findings_are_kept() -> None:
    gone = PolicyInfo(id="PE-OLD-001", title="Retired", severity="low", resource="account")
    base = Result((), (gone,), (), "2026-01-01T00:00:00Z")
    head = result()
    ids = [p.id for p in diff_results(base, head).policies]
    assert "PE-OLD-001" in ids and ids == sorted(ids)


def test_gate_counts_only_new_unwaived_findings_at_or_above_threshold() -> None:
    base = result(finding("old", severity="critical"))
    head = result(
        finding("old", severity="critical"),
        finding("new-crit", severity="critical"),
        finding("new-med", severity="medium", policy="PE-SES-001"),
        finding("new-waived", severity="critical"),
    )
    out = diff_results(base, head)
    out = Result(
        tuple(
            f.with_changes(waived=True, waiver=WaiverStatus("r", "o", "2030-01-01"))
            if f.resource.id == "new-waived"
            else f
            for f in out.findings
        ),
        out.policies,
        out.sources,
        out.now,
    )
    assert [f.resource.id for f in gate_findings(out, "high")] == ["new-crit"]
    assert {f.resource.id for f in gate_findings(out, "medium")} == {"new-crit", "new-med"}
    assert gate_findings(diff_results(head, head), "info") == []


def test_result_document_detection() -> None:
    assert is_result_document(result(finding("a")).to_dict())
    assert not is_result_document({"snapshot_version": 1, "source": {}, "accounts": []})
    assert not is_result_document([{"findings": []}])


def test_json_round_trip_of_a_diff_keeps_change() -> None:
    out = diff_results(result(finding("a")), result(finding("b")))
    again = Result.from_dict(out.to_dict())
    assert [(f.resource.id, f.change) for f in again.findings] == [
        ("b", "new"),
        ("a", "resolved"),
    ]
    assert out.to_dict()["summary"]["by_change"] == {"new": 1, "resolved": 1}


def test_a_saved_diff_as_base_does_not_count_resolved_findings_as_open() -> None:
    first = diff_results(result(finding("a")), result())  # "a" was fixed
    assert [(f.resource.id, f.change) for f in first.findings] == [("a", "resolved")]
    again = diff_results(first, result(finding("a")))  # ... and comes back
    assert [(f.resource.id, f.change) for f in again.findings] == [("a", "new")]
