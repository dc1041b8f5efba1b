"""``policyengine test``: run the policy unit tests kept next to each policy.

A test file ``<policy>.test.yaml`` names the policy, an optional clock and
cases; each case lists resources and the ids that must get a finding::

    policy: PE-MFA-002
    now: "2026-11-01T00:00:00Z"
    cases:
      - name: admin with SMS only is flagged
        resources:
          - {kind: account, id: a1, enabled: true, privileged: true, mfa: {methods: [sms]}}
        expect: [a1]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policyengine.errors import Location, PolicyError
from policyengine.lintcodes import T001
from policyengine.policy.loader import TEST_SUFFIXES, PolicyDefinition
from policyengine.policy.yamlload import load_yaml_file, position_of

DEFAULT_NOW = "2026-11-01T00:00:00Z"

TEST_SCHEMA: dict[str, Any] = {
    "policy": {"type": "string", "required": True},
    "now": {"type": "string"},
    "params": {"type": "dict"},
    "cases": {
        "type": "list",
        "required": True,
        "empty": False,
        "schema": {
            "type": "dict",
            "schema": {
                "name": {"type": "string", "required": True},
                "now": {"type": "string"},
                "params": {"type": "dict"},
                "resources": {"type": "list", "required": True, "schema": {"type": "dict"}},
                # per source: fields it declares not provided, as a snapshot header's
                # source.not_provided (policyengine.model.provided)
                "not_provided": {"type": "dict"},
                "expect": {"type": "list", "required": True, "schema": {"type": "string"}},
            },
        },
    },
}


@dataclass(frozen=True, slots=True)
class CaseResult:
    file: str
    line: int | None
    policy: str
    name: str
    passed: bool
    detail: str = ""


@dataclass(slots=True)
class TestRun:
    results: list[CaseResult] = field(default_factory=list)
    errors: list[PolicyError] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def failed(self) -> int:
        return sum(not r.passed for r in self.results) + len(self.errors)


def discover_tests(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(p for p in sorted(path.rglob("*")) if p.name.endswith(TEST_SUFFIXES))
        elif path.name.endswith(TEST_SUFFIXES):
            found.append(path)
        elif path.suffix in (".yaml", ".yml"):
            sibling = path.with_name(path.name[: -len(path.suffix)] + ".test" + path.suffix)
            if sibling.exists():
                found.append(sibling)
    return found


def test_file_for(policy_file: str) -> Path:
    path = Path(policy_file)
    return path.with_name(path.stem + ".test" + path.suffix)


def run_tests(
    test_files: Sequence[Path], definitions: Sequence[PolicyDefinition], *, check_only: bool = False
) -> TestRun:
    """Run every case of every test file against ``definitions`` (looked up by id).

    ``check_only`` validates the files without evaluating (for ``lint``).
    """
    from policyengine.policy.schema import validate

    by_id = {d.id: d for d in definitions}
    run = TestRun()
    for file in test_files:
        try:
            data, positions = load_yaml_file(file)
        except PolicyError as exc:
            run.errors.append(exc)
            continue
        problems = validate(
            data, TEST_SCHEMA, file=str(file), positions=positions, what="policy test file"
        )
        if problems:
            run.errors.extend(problems)
            continue
        definition = by_id.get(data["policy"])
        if definition is None:
            line, col = position_of(positions, ("policy",))
            run.errors.append(
                PolicyError(
                    f"no policy with id {data['policy']} was loaded",
                    Location(str(file), line, col),
                    T001,
                )
            )
            continue
        if check_only:
            continue
        for i, case in enumerate(data["cases"]):
            line, _ = position_of(positions, ("cases", i))
            run.results.append(_run_case(definition, data, case, str(file), line))
    return run


def _run_case(
    definition: PolicyDefinition,
    data: Mapping[str, Any],
    case: Mapping[str, Any],
    file: str,
    line: int | None,
) -> CaseResult:
    from policyengine.api import evaluate_resources
    from policyengine.errors import PolicyEngineError
    from policyengine.model.provided import parse_declaration
    from policyengine.policy.policyset import Override, PolicySet
    from policyengine.snapshot.validate import check_record

    name = case["name"]
    params = {**(data.get("params") or {}), **(case.get("params") or {})}
    policy_set = PolicySet([definition])
    if params:
        policy_set.overrides[definition.id] = [
            Override(params=params, file=file, line=line, enabled=True)
        ]
    else:
        policy_set.overrides[definition.id] = [Override(enabled=True, file=file, line=line)]
    resources = []
    for j, resource in enumerate(case["resources"]):
        record = dict(resource)
        # a case's source names its connector type unless it says otherwise: no
        # closed list, so a third-party connector's policies are tested the same way
        record.setdefault("source", "test")
        record.setdefault("source_type", record["source"])
        problem = check_record(record)
        if problem is not None:
            return CaseResult(file, line, definition.id, name, False, f"resource {j}: {problem}")
        resources.append(record)
    now = case.get("now") or data.get("now") or DEFAULT_NOW
    try:
        from policyengine.api import parse_now

        parse_now(str(now), what=f"{file}: now")
        not_provided = {
            str(source): parse_declaration(declared)
            for source, declared in (case.get("not_provided") or {}).items()
        }
        result = evaluate_resources(resources, policy_set, now=str(now), not_provided=not_provided)
    except PolicyEngineError as exc:
        return CaseResult(file, line, definition.id, name, False, f"error: {exc}")
    except ValueError as exc:  # a malformed not_provided declaration
        return CaseResult(file, line, definition.id, name, False, f"not_provided: {exc}")
    got = sorted({f.resource.id for f in result.findings})
    want = sorted(set(case["expect"]))
    if got == want:
        return CaseResult(file, line, definition.id, name, True)
    detail = f"expected findings for {want or 'nothing'}, got {got or 'nothing'}"
    for f in result.findings:
        if f.resource.id not in want:
            reasons = "; ".join(
                f"{e.path} is {e.actual!r}, expected {e.expected}" for e in f.evidence
            )
            detail += f"\n      unexpected {f.resource.id}: {reasons}"
    return CaseResult(file, line, definition.id, name, False, detail)
