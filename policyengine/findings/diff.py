"""Baseline diff: which findings a change introduces, resolves or leaves alone.

Findings are matched by fingerprint (policy id + resource identity), so
re-ordering and re-collection do not make a finding look new.

- on both sides: the head's data, ``change="unchanged"``;
- only in the head: ``change="new"``;
- only in the base: the base's data, ``change="resolved"``.

Order: new, then unchanged, then resolved; within each, ``Finding.sort_key()``.

Both sides are compared unfolded (``policyengine.findings.fold``): a finding folded
into a broader one is still there, so it is never "resolved" while its condition
fails; the diff is folded again afterwards, only where the change kinds agree. A
saved base that lists folded policies only by id (``supersedes``) counts them too.

Waivers are not applied here: the caller applies them to the diff (with the
head's clock), so a waiver carried by a saved base result is re-judged.

>>> from policyengine.findings.model import Finding, ResourceRef, Result, fingerprint
>>> def f(rid):
...     r = ResourceRef("account", "ad", rid, rid)
...     return Finding("PE-X-001", "high", "t", r, "m", (), "", {},
...                    fingerprint("PE-X-001", "account", "ad", rid))
>>> base = Result((f("a"), f("b")), (), (), "2026-01-01T00:00:00Z")
>>> head = Result((f("b"), f("c")), (), (), "2026-01-02T00:00:00Z")
>>> [(x.resource.id, x.change) for x in diff_results(base, head).findings]
[('c', 'new'), ('b', 'unchanged'), ('a', 'resolved')]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policyengine.findings.fold import covered_fingerprints, fold_result, unfold
from policyengine.findings.model import CHANGE_ORDER, Finding, PolicyInfo, Result, sort_findings


def is_result_document(data: Any) -> bool:
    """True when ``data`` is a saved ``--format json`` result (not a snapshot)."""
    return (
        isinstance(data, Mapping)
        and "schema_version" in data
        and isinstance(data.get("findings"), list)
    )


def diff_results(base: Result, head: Result) -> Result:
    """Compare two results by fingerprint; see the module docstring."""
    # a saved diff result as the base: its resolved findings are not open any more
    base_open = [f for f in base.findings if f.change != "resolved"]
    base_fps = {fp for f in base_open for fp in covered_fingerprints(f)}
    head_fps = set()
    out: list[Finding] = []
    for f in unfold(head.findings):
        head_fps.add(f.fingerprint)
        change = "unchanged" if f.fingerprint in base_fps else "new"
        out.append(_fresh(f, change))
    for f in unfold(base_open):
        if f.fingerprint not in head_fps:
            out.append(_fresh(f, "resolved"))
    # grouped new, unchanged, resolved; within a group, Finding.sort_key()
    sort_findings(out, by_change=True)
    diffed = Result(
        findings=tuple(out),
        policies=_merge_policies(base.policies, head.policies),
        # the head's sources, plus any incomplete base source: a gate must not
        # pass on a base with missing data either (fail closed)
        sources=(*head.sources, *(s for s in base.sources if not s.complete)),
        now=head.now,
        warnings=head.warnings,
    )
    return fold_result(diffed, presorted=True)  # unfolded above: nothing lifted again


def _fresh(f: Finding, change: str) -> Finding:
    # waivers are re-applied by the caller against the head's clock; built
    # positionally because dataclasses.replace costs ~3x more per finding
    return Finding(
        f.policy_id,
        f.severity,
        f.title,
        f.resource,
        f.message,
        f.evidence,
        f.remediation,
        f.frameworks,
        f.fingerprint,
        False,
        None,
        change,
        f.supersedes,
    )


def _merge_policies(
    base: tuple[PolicyInfo, ...], head: tuple[PolicyInfo, ...]
) -> tuple[PolicyInfo, ...]:
    """The head's policies, plus any base-only policy (its resolved findings need a rule)."""
    seen = {p.id for p in head}
    extra = [p for p in base if p.id not in seen]
    return tuple(sorted((*head, *extra), key=lambda p: p.id))


def gate_findings(result: Result, fail_on: str) -> list[Finding]:
    """Findings that fail a diff gate: new, not waived, at or above ``fail_on``."""
    return [f for f in result.failing(fail_on) if f.change == "new"]


def counts(result: Result) -> dict[str, int]:
    """Number of findings per change kind (new, unchanged, resolved), waived apart."""
    out = dict.fromkeys(CHANGE_ORDER, 0)
    out["waived"] = 0
    for f in result.findings:
        if f.waived and f.change != "resolved":
            out["waived"] += 1
        out[f.change or "new"] += 1
    return out
