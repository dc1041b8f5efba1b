"""Why one resource passes or fails one policy, condition by condition.

``explain`` walks the condition tree (three-valued, with evidence) where
``evaluate`` runs the generated code; tests/engine/test_explain_agrees.py
checks that the two agree on every case of the policy library's tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from policyengine.findings.model import Evidence
from policyengine.policy.compiled import CompiledPolicy

Verdict = Literal["pass", "fail", "missing"]


@dataclass(frozen=True, slots=True)
class Explanation:
    """One resource against one policy."""

    resource: Mapping[str, Any]
    #: the policy applies (its ``match`` holds, or it has none)
    applies: bool
    #: what ``require`` says: holds, fails, or cannot tell (missing data); None when not applying
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
    return Explanation(resource, True, verdict, finding, why)


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
