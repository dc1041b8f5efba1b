"""Run the generated checkers over resources and build findings with evidence."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from policyengine.findings.model import Evidence, Finding, ResourceRef, fingerprint
from policyengine.model._construct import positional_maker
from policyengine.policy.compiled import BoundPolicies, CompiledPolicy


def evaluate(
    bound: BoundPolicies, resources: Iterable[Mapping[str, Any]], index: Any
) -> list[Finding]:
    """Findings for every resource that matches a policy and fails its requirement."""
    checkers = bound.checkers
    policies = bound.policies
    out: list[Finding] = []
    for resource in resources:
        checker = checkers.get(resource["kind"])
        if checker is None:
            continue
        for i in checker(resource, index):
            out.append(make_finding(policies[i], resource, index))
    return out


def make_finding(policy: CompiledPolicy, resource: Mapping[str, Any], index: Any) -> Finding:
    """A finding with evidence: every condition of ``require`` that did not hold."""
    return build_finding(policy, finding_parts(policy, resource, index))


#: what a worker process sends back for one finding: plain tuples pickle ~20x
#: faster than frozen dataclasses (the fingerprint is hashed where the resource is)
FindingParts = tuple[str, str, str, str, Any, Any, str, tuple[tuple[str, Any, str], ...], str, str]


def finding_parts(policy: CompiledPolicy, resource: Mapping[str, Any], index: Any) -> FindingParts:
    """Everything about a finding that needs the resource (evaluated where the resource is)."""
    evidence = policy.require.evidence(resource, index, True)
    if not evidence:  # only on a mismatch between fast path and tree: keep the finding honest
        evidence = [Evidence("require", "failed", "all conditions")]
    location = resource.get("location")
    if not isinstance(location, dict):
        location = {}
    kind, source, rid = resource["kind"], resource["source"], resource["id"]
    params = policy.params
    remediation = policy.remediation_for(resource.get("source_type") or "")
    return (
        kind,
        source,
        rid,
        str(resource.get("name") or rid),
        location.get("file"),
        location.get("line"),
        policy.message.render(resource, index, params),
        tuple(
            [
                (e.path, a if type(a := e.actual) in _PLAIN else _jsonable(a), e.expected)
                for e in evidence
            ]
        ),
        remediation.render(resource, index, params),
        fingerprint(policy.definition.id, kind, source, rid),
    )


#: evidence values _jsonable returns as they are (most of them: no isinstance checks)
_PLAIN = frozenset({str, int, float, bool, type(None)})


# a finding per failing resource, a million at scale: set the slots directly
_new_finding = positional_maker(Finding)
_new_ref = positional_maker(ResourceRef)
_new_evidence = positional_maker(Evidence)


def build_finding(policy: CompiledPolicy, parts: FindingParts) -> Finding:
    kind, source, rid, name, file, line, message, evidence, remediation, print_ = parts
    definition = policy.definition
    return _new_finding(
        definition.id,
        policy.severity,
        definition.title,
        _new_ref(kind, source, rid, name, file, line),
        message,
        tuple([_new_evidence(*e) for e in evidence]),
        remediation,
        definition.frameworks,
        print_,
    )


def _jsonable(actual: Any) -> Any:
    """Evidence values go into JSON reports: referenced resources become their names."""
    if isinstance(actual, Mapping):
        if "kind" in actual and "id" in actual:
            return f"{actual['kind']} {actual.get('name') or actual['id']}"
        return {k: v for k, v in actual.items() if k != "raw"}
    if isinstance(actual, list):
        return [
            (
                f"{a['kind']} {a.get('name') or a['id']}"
                if isinstance(a, Mapping) and "kind" in a
                else a
            )
            for a in actual
        ]
    return actual


def fold_superseded(
    findings: list[Finding], supersedes: Mapping[str, tuple[str, ...]]
) -> list[Finding]:
    """Fold findings a broader one on the same resource covers (``policyengine.findings.fold``)."""
    from policyengine.findings.fold import fold

    return fold(findings, supersedes)
