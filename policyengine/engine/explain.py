"""Why one resource passes or fails one policy, condition by condition.

``explain`` walks the condition tree (three-valued, with evidence) where
``evaluate`` runs the generated code; tests/engine/test_explain_agrees.py
checks that the two agree on every case of the policy library's tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from policyengine.findings.model import Evidence
from policyengine.model.provided import not_provided_of
from policyengine.policy.compiled import CompiledPolicy

_T = TypeVar("_T")

Verdict = Literal["pass", "fail", "missing", "not_applicable"]


@dataclass(frozen=True, slots=True)
class Explanation:
    """One resource against one policy."""

    resource: Mapping[str, Any]
    #: the policy applies (its ``match`` holds, or it has none)
    applies: bool
    #: what ``require`` says: holds, fails, cannot tell (missing data), or not applicable
    #: (it holds only because a field the source does not provide counts as no finding);
    #: None when ``match`` does not hold
    verdict: Verdict | None
    #: the resource gets a finding (a failure, or missing data under ``on_missing: fail``)
    finding: bool
    #: why ``match`` did not hold, or why ``require`` did not
    evidence: tuple[Evidence, ...]


def explain_resource(
    policy: CompiledPolicy, resource: Mapping[str, Any], index: Any
) -> Explanation:
    """Evaluate ``policy`` on ``resource`` by walking its condition tree."""
    if policy.match is not None and policy.match.eval(resource, index) is not True:
        # a missing value in match means "does not apply", as in the generated code
        why = tuple(policy.match.evidence(resource, index, True))
        return Explanation(resource, False, None, False, why)
    got = policy.require.eval(resource, index)
    verdict: Verdict = "pass" if got is True else "fail" if got is False else "missing"
    finding = verdict == "fail" or (verdict == "missing" and policy.definition.on_missing != "pass")
    why = () if got is True else tuple(policy.require.evidence(resource, index, True))
    if got is True and not_provided_of(index) is not None:
        plain = _without_not_provided(index, lambda: policy.require.eval(resource, index))
        if plain is not True:
            verdict = "not_applicable"
            plain_why = _without_not_provided(
                index, lambda: tuple(policy.require.evidence(resource, index, True))
            )
            why = tuple(_not_provided_evidence(plain_why, resource, index))
    return Explanation(resource, True, verdict, finding, why)


def _not_provided_evidence(
    evidence: Sequence[Evidence], resource: Mapping[str, Any], index: Any
) -> list[Evidence]:
    """The conditions that could not be judged, each with the source's reason."""
    table = not_provided_of(index)
    out = []
    for e in evidence:
        reason = table.reason(resource, e.path) if table is not None else None
        if reason is not None:
            out.append(Evidence(e.path, e.actual, f"not provided by the source: {reason}"))
    return out or list(evidence)


def _without_not_provided(index: Any, run: Callable[[], _T]) -> _T:
    """``run()`` as if no source declared a field not provided (what it would say)."""
    saved = index.not_provided
    index.not_provided = None
    try:
        return run()
    finally:
        index.not_provided = saved


def find_resources(
    records: Sequence[Mapping[str, Any]], kind: str, wanted: str
) -> list[Mapping[str, Any]]:
    """Resources of ``kind`` named by ``wanted``: an exact id, else ``[source/]id``."""
    exact = [r for r in records if r["id"] == wanted and r["kind"] == kind]
    if exact:
        return exact
    source, _, rid = wanted.rpartition("/")
    return [
        r
        for r in records
        if r["id"] == rid and r["kind"] == kind and (not source or r["source"] == source)
    ]


def correlated_records(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``records`` plus the persons that correlation derives, as ``evaluate`` sees them.

    Dicts, not mappings: correlation sets ``person`` on the accounts it links.
    """
    from policyengine.engine.correlate import correlate

    out = list(records)
    out.extend(correlate([r for r in records if r["kind"] == "account"]))
    return out
