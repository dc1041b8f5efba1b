"""Folding by `supersedes`: only findings that end up with the same disposition fold."""

from __future__ import annotations

import dataclasses
import itertools

from policyengine.findings.fold import covered_fingerprints, fold, fold_result, unfold
from policyengine.findings.model import Finding, PolicyInfo, Result
from tests.findings.samples import finding, result

#: A supersedes B supersedes C (the MFA chain: PE-MFA-002 > PE-MFA-003 > PE-MFA-004)
CHAIN = {"P-A": ("P-B",), "P-B": ("P-C",)}


def three(**severities: str) -> list[Finding]:
    sev = {"a": "critical", "b": "high", "c": "medium", **severities}
    return [finding("u1", policy=f"P-{k.upper()}", severity=v) for k, v in sorted(sev.items())]


def shape(out: list[Finding]) -> list[tuple[str, tuple[str, ...]]]:
    return sorted((f.policy_id, f.supersedes) for f in out)


def test_same_disposition_folds_transitively_in_any_order() -> None:
    for order in itertools.permutations(three()):
        out = fold(list(order), CHAIN)
        assert shape(out) == [("P-A", ("P-B", "P-C"))]
        assert [g.policy_id for g in out[0].folded] == ["P-B", "P-C"]


def test_a_narrower_finding_more_severe_than_the_broader_one_is_reported() -> None:
    out = fold(three(a="low"), CHAIN)
    assert shape(out) == [("P-A", ()), ("P-B", ("P-C",))]


def test_a_waived_finding_neither_folds_nor_is_folded() -> None:
    a, b, c = three()
    out = fold([a.with_changes(waived=True), b, c], CHAIN)
    assert shape(out) == [("P-A", ()), ("P-B", ("P-C",))]
    out = fold([a, b.with_changes(waived=True), c], CHAIN)
    # A still covers C (A supersedes B supersedes C, both active); B keeps its waiver
    assert shape(out) == [("P-A", ("P-C",)), ("P-B", ())]


def test_different_diff_changes_do_not_fold_and_resolved_never_folds() -> None:
    a, b, c = three()
    out = fold([a.with_changes(change="new"), b.with_changes(change="unchanged"), c], CHAIN)
    assert shape(out) == [("P-A", ()), ("P-B", ()), ("P-C", ())]
    out = fold([a.with_changes(change="resolved"), b.with_changes(change="resolved")], CHAIN)
    assert shape(out) == [("P-A", ()), ("P-B", ())]


def test_unfold_gives_back_every_finding_once() -> None:
    original = three()
    folded = fold(list(original), CHAIN)
    assert sorted(unfold(folded), key=Finding.sort_key) == sorted(original, key=Finding.sort_key)
    assert covered_fingerprints(folded[0]) == {f.fingerprint for f in original}


def test_folded_findings_survive_the_json_round_trip() -> None:
    policies = tuple(
        PolicyInfo(id=p, title=p, severity="high", resource="account", supersedes=s)
        for p, s in (("P-A", ("P-B",)), ("P-B", ("P-C",)), ("P-C", ()))
    )
    folded = fold_result(dataclasses.replace(result(*three()), policies=policies))
    assert [f.policy_id for f in folded.findings] == ["P-A"]
    back = Result.from_dict(folded.to_dict())
    assert back.findings == folded.findings
    assert [p.supersedes for p in back.policies] == [("P-B",), ("P-C",), ()]


def test_a_waiver_for_a_folded_finding_is_not_an_orphan(tmp_path) -> None:
    from policyengine.findings.waivers import load_waivers, orphans

    path = tmp_path / "w.yaml"
    path.write_text(
        "waivers:\n  - policy: P-C\n    resource: {source: corp-ad, id: u1}\n"
        "    reason: r\n    owner: o@example.com\n    expires: 2026-07-01\n",
        encoding="utf-8",
    )
    folded = Result(tuple(fold(three(), CHAIN)), (), (), "2026-06-01T00:00:00Z")
    assert [f.policy_id for f in folded.findings] == ["P-A"]
    assert orphans(load_waivers(path), folded) == []
