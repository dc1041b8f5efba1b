"""One root cause, one finding: fold findings that a broader one on the same resource covers.

A policy may declare ``supersedes: [PE-MFA-003]``. When both fail on one resource,
the narrower finding is folded into the broader one: it is kept whole in the broader
finding's ``folded`` (and its id in ``supersedes``), so it is still tracked by
fingerprint, and it is unfolded again before anything could change its disposition
(waivers, a diff).

A finding is folded only when it ends up exactly as the broader one would: both not
waived, the same ``change`` (from a diff; resolved findings never fold), and the
narrower one's severity the same or lower. Otherwise both are reported, so a waiver
or a severity override on one policy can never hide another policy's finding.
Folding is transitive (A supersedes B supersedes C), order-independent, and policies
that supersede each other in a cycle are all kept.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from operator import attrgetter

from policyengine.findings.model import (
    Finding,
    Result,
    fingerprint,
    severity_rank,
    sort_findings,
)

Supersedes = Mapping[str, tuple[str, ...]]
_ResourceKey = tuple[str, str, str]

_fingerprint_of = attrgetter("fingerprint")
_folded_of = attrgetter("folded")
_supersedes_of = attrgetter("supersedes")


def supersedes_of(result: Result) -> dict[str, tuple[str, ...]]:
    """Which policy supersedes which, from the policies a result was evaluated with."""
    return {p.id: p.supersedes for p in result.policies if p.supersedes}


def fold_result(result: Result, *, presorted: bool = False) -> Result:
    """``result`` with its findings (unfolded first) folded again; see the module docstring.

    ``presorted``: the findings are in output order (``Finding.output_key``) already;
    when none was folded, folding keeps that order and it is not sorted again.
    """
    supersedes = supersedes_of(result)
    lifted = any(map(_folded_of, result.findings))
    flat = unfold(result.findings)
    folded = fold(flat, supersedes) if supersedes else flat
    if folded == list(result.findings):
        return result
    if lifted or not presorted:
        sort_findings(folded, by_change=True)
    return dataclasses.replace(result, findings=tuple(folded))


def unfold_result(result: Result) -> Result:
    """``result`` with every folded finding back at the top level."""
    if not any(map(_folded_of, result.findings)):
        return result
    return dataclasses.replace(result, findings=tuple(unfold(result.findings)))


def unfold(findings: Iterable[Finding]) -> list[Finding]:
    """Every finding, folded ones lifted out beside their broader finding (once each)."""
    findings = list(findings)
    if (
        not any(map(_folded_of, findings))
        and not any(map(_supersedes_of, findings))
        and len(set(map(_fingerprint_of, findings))) == len(findings)
    ):
        return findings  # nothing folded, no fingerprint twice: as they are
    out: list[Finding] = []
    seen: set[str] = set()
    add = seen.add
    for f in findings:
        if not f.folded and not f.supersedes:  # most findings: nothing to lift or strip
            if f.fingerprint not in seen:
                add(f.fingerprint)
                out.append(f)
            continue
        for g in (f, *f.folded):
            if g.fingerprint in seen:
                continue
            seen.add(g.fingerprint)
            out.append(g.with_changes(folded=(), supersedes=()) if g.folded or g.supersedes else g)
    return out


def covered_fingerprints(f: Finding) -> set[str]:
    """The fingerprints a finding stands for: its own and those folded into it.

    Also from a result saved before ``folded`` existed, which has only the ids.
    """
    r = f.resource
    out = {f.fingerprint, *(g.fingerprint for g in f.folded)}
    out.update(fingerprint(pid, r.kind, r.source, r.id) for pid in f.supersedes)
    return out


def fold(findings: list[Finding], supersedes: Supersedes) -> list[Finding]:
    """Fold findings of the same disposition; see the module docstring. Keeps input order."""
    if not supersedes:
        return findings
    # only policies on either side of a ``supersedes`` can fold or be folded
    involved = {pid for pid, narrower in supersedes.items() if narrower}
    involved.update(n for narrower in supersedes.values() for n in narrower)
    fired: dict[_ResourceKey, dict[str, Finding]] = {}
    for f in findings:
        if f.policy_id in involved and f.change != "resolved":
            r = f.resource
            fired.setdefault((r.kind, r.source, r.id), {})[f.policy_id] = f
    plans: dict[_ResourceKey, tuple[set[str], dict[str, tuple[Finding, ...]]]] = {}
    # resources with the same fired policies of the same dispositions have the same plan
    known: dict[tuple[tuple[str, bool, str | None, int], ...], _IdPlan] = {}
    for key, by_id in fired.items():
        if len(by_id) > 1:
            fates = tuple(
                sorted(
                    (pid, f.waived, f.change, severity_rank(f.severity)) for pid, f in by_id.items()
                )
            )
            id_plan = known.get(fates)
            if id_plan is None:
                id_plan = known[fates] = _plan_ids(by_id, supersedes)
            if id_plan[0]:
                plans[key] = (
                    set(id_plan[0]),
                    {k: tuple(by_id[n] for n in ns) for k, ns in id_plan[1].items()},
                )
    if not plans:
        return findings
    out: list[Finding] = []
    for f in findings:
        if f.policy_id not in involved:
            out.append(f)
            continue
        r = f.resource
        plan = plans.get((r.kind, r.source, r.id))
        if plan is None or f.change == "resolved":
            out.append(f)
        elif f.policy_id not in plan[0]:
            folded = plan[1].get(f.policy_id, ())
            if folded:
                f = f.with_changes(folded=folded, supersedes=tuple(g.policy_id for g in folded))
            out.append(f)
    return out


#: a plan in policy ids: the dropped ones, and the ids each kept one folds (in order)
_IdPlan = tuple[frozenset[str], dict[str, tuple[str, ...]]]


def _plan_ids(by_id: Mapping[str, Finding], supersedes: Supersedes) -> _IdPlan:
    dropped, folded = _plan(by_id, supersedes)
    return frozenset(dropped), {k: tuple(g.policy_id for g in v) for k, v in folded.items()}


def _plan(
    by_id: Mapping[str, Finding], supersedes: Supersedes
) -> tuple[set[str], dict[str, tuple[Finding, ...]]]:
    """Which findings on one resource are dropped, and which each kept finding folds."""
    ids = set(by_id)
    reach = {pid: _reachable(pid, ids, supersedes) for pid in ids}

    def covers(p: str, n: str) -> bool:
        return n in reach[p] and p not in reach[n] and _same_fate(by_id[p], by_id[n])

    # covers() is transitive (A covers B covers C: A covers C), so one pass suffices
    dropped = {n for n in ids for p in ids if p != n and covers(p, n)}
    folded = {k: tuple(by_id[n] for n in sorted(dropped) if covers(k, n)) for k in ids - dropped}
    return dropped, {k: v for k, v in folded.items() if v}


def _same_fate(broader: Finding, narrower: Finding) -> bool:
    """The narrower finding ends exactly as the broader one: folding hides nothing."""
    return (
        not broader.waived
        and not narrower.waived
        and broader.change == narrower.change
        and severity_rank(narrower.severity) >= severity_rank(broader.severity)
    )


def _reachable(start: str, fired: set[str], supersedes: Supersedes) -> set[str]:
    """Fired policies that ``start`` supersedes, directly or through other fired ones."""
    seen: set[str] = set()
    stack = [n for n in supersedes.get(start, ()) if n in fired]
    while stack:
        node = stack.pop()
        if node in seen or node == start:
            continue
        seen.add(node)
        stack.extend(n for n in supersedes.get(node, ()) if n in fired)
    return seen
