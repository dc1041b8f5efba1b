"""``explain`` (the condition tree) and ``evaluate`` (generated code) agree on every library case.

For each case of each ``<policy>.test.yaml`` under policies/, every resource of the policy's
kind gets the same answer from both: applies or not, and pass / fail / missing. ``evaluate``
only says finding or not, so the policy is compiled twice, with ``on_missing: pass`` and
``on_missing: fail``: a failure is a finding under both, missing data only under ``fail``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from policyengine.api import load_policy_set, parse_now
from policyengine.engine.evaluate import evaluate
from policyengine.engine.explain import correlated_records, explain_resource, find_resources
from policyengine.engine.index import ResourceIndex
from policyengine.model.provided import NotProvided
from policyengine.policy.compiled import BoundPolicies, compile_policy
from policyengine.policy.loader import PolicyDefinition
from policyengine.policy.policyset import Override, PolicySet
from policyengine.policy.yamlload import load_yaml_file
from policyengine.snapshot.validate import check_record
from policyengine.testing import DEFAULT_NOW, discover_tests

POLICIES = Path(__file__).resolve().parents[2] / "policies"
TEST_FILES = discover_tests([POLICIES])
DEFINITIONS = {d.id: d for d in load_policy_set([POLICIES]).definitions}
#: the connector names a case's ``source`` stands for (as ``policyengine test`` reads them)
CONNECTOR_SOURCES = ("ldap", "salesforce", "okta", "file")


def _records(case: Mapping[str, Any]) -> list[dict[str, Any]]:
    records = []
    for resource in case["resources"]:
        record = dict(resource)
        record.setdefault("source", "test")
        source = record["source"]
        record.setdefault("source_type", source if source in CONNECTOR_SOURCES else "test")
        assert check_record(record) is None, check_record(record)
        records.append(record)
    return records


def _variant(definition: PolicyDefinition, on_missing: str, now: Any, params: Any) -> Any:
    return compile_policy(
        dataclasses.replace(definition, on_missing=on_missing), now=now, params=params
    )


def _evaluated(bound: BoundPolicies, resource: Mapping[str, Any], index: Any) -> tuple[bool, bool]:
    """(applies, finding) for one resource through the generated checker."""
    bound.reset_counts()
    findings = evaluate(bound, [resource], index)
    return bound.matched[0] == 1, bool(findings)


def disagreements(file: Path) -> list[str]:
    data, _ = load_yaml_file(file)
    definition = DEFINITIONS[data["policy"]]
    out: list[str] = []
    for case in data["cases"]:
        policy_set = PolicySet([definition])
        params = {**(data.get("params") or {}), **(case.get("params") or {})}
        policy_set.overrides[definition.id] = [
            Override(params=params, file=str(file), line=None, enabled=True)
        ]
        params, severity, _ = policy_set.effective(definition)
        now = parse_now(str(case.get("now") or data.get("now") or DEFAULT_NOW))
        records = correlated_records(_records(case))
        index = ResourceIndex(records)
        compiled = compile_policy(definition, now=now, params=params, severity=severity)
        as_written = BoundPolicies.build([compiled])
        lenient = BoundPolicies.build([_variant(definition, "pass", now, params)])
        strict = BoundPolicies.build([_variant(definition, "fail", now, params)])
        if case.get("not_provided"):
            index.not_provided = NotProvided(case["not_provided"])
            for bound in (as_written, lenient, strict):
                bound.use_not_provided(index.not_provided.names())
        for resource in records:
            if resource["kind"] != definition.resource:
                continue
            where = f"{file.name} case {case['name']!r} {resource['source']}/{resource['id']}"
            ref = f"{resource['source']}/{resource['id']}"
            if resource not in find_resources(records, definition.resource, ref):
                out.append(f"{where}: explain cannot find the resource by {ref}")
            told = explain_resource(compiled, resource, index)
            applies, finding = _evaluated(as_written, resource, index)
            _, fails_leniently = _evaluated(lenient, resource, index)
            _, fails_strictly = _evaluated(strict, resource, index)
            if not applies:
                verdict = None
            elif fails_leniently and fails_strictly:
                verdict = "fail"
            elif fails_strictly:
                verdict = "missing"
            elif not fails_leniently:
                verdict = "pass"
            else:
                verdict = "impossible: a finding only when missing data passes"
            if told.verdict == "not_applicable":
                # evaluate has no such answer: no finding under either on_missing
                verdict = "not_applicable" if verdict == "pass" else verdict
            got = (told.applies, told.verdict, told.finding)
            want = (applies, verdict, finding)
            if got != want:
                out.append(f"{where}: explain (applies, verdict, finding)={got}, evaluate={want}")
    return out


def test_the_library_has_policy_tests_to_compare() -> None:
    assert len(TEST_FILES) >= 50
    assert all(load_yaml_file(f)[0]["policy"] in DEFINITIONS for f in TEST_FILES)


@pytest.mark.parametrize("file", TEST_FILES, ids=lambda f: f.stem)
def test_explain_and_evaluate_agree(file: Path) -> None:
    assert disagreements(file) == []


def test_the_library_compares_fields_sources_do_not_provide() -> None:
    cases = [c for f in TEST_FILES for c in load_yaml_file(f)[0]["cases"] if c.get("not_provided")]
    assert len(cases) >= 8  # the not-applicable path of the tree and the code is compared too
