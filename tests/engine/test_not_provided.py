"""Fields a source declares it cannot provide (``source.not_provided``) are not applicable.

On the bundled demo: the findings that fired only because Okta, GitHub, Google or Entra
never give a field are gone; the true findings stay; a snapshot without the declaration
gives today's findings; a field missing without a declaration is still a finding.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from policyengine.api import evaluate_snapshots, load_policy_set
from policyengine.demo import demo_snapshot_paths
from policyengine.engine.explain import explain_resource
from policyengine.engine.index import ResourceIndex
from policyengine.model.provided import NotProvided, parse_declaration

Key = tuple[str, str, str]  # policy, source, resource name

#: findings of the demo that judged a field the source never gives (before: present)
NOT_PROVIDED_FINDINGS: set[Key] = {
    ("PE-CRED-014", "okta", "Verlaine Partner Hub refresh token of 00u1ebernard0M"),
    ("PE-CRED-002", "okta", "Workday Provisioning client secret ocs1wkday000000MV"),
    ("PE-CRED-006", "okta", "Workday Provisioning client secret ocs1wkday000000MV"),
    ("PE-CRED-011", "okta", "Workday Provisioning client secret ocs1wkday000000MV"),
    ("PE-INT-003", "okta", "Verlaine Partner Hub"),
    ("PE-INT-003", "okta", "Salesforce"),
    ("PE-INT-003", "okta", "Workday Provisioning"),
    ("PE-INT-006", "okta", "Verlaine Partner Hub"),
    ("PE-INT-006", "okta", "Workday Provisioning"),
    ("PE-INT-007", "okta", "Workday Provisioning"),
    ("PE-XSRC-003", "correlation", "julien.moreau@maisonverlaine.example"),
    ("PE-XSRC-003", "correlation", "sophie.laurent@maisonverlaine.example"),
    ("PE-PRIV-003", "github", "cdubois-mv"),
    ("PE-INT-007", "github", "posture-reader"),
    ("PE-MFA-002", "google-workspace", "claire.dubois@maisonverlaine.example"),
    ("PE-MFA-004", "google-workspace", "nadia.robert@maisonverlaine.example"),
    ("PE-MFA-007", "google-workspace", "breakglass@maisonverlaine.example"),
    ("PE-INT-003", "google-workspace", "GAM Admin Tool"),
    ("PE-INT-006", "google-workspace", "Shift Calendar"),
    ("PE-INT-007", "google-workspace", "Docs Sync Helper"),
    ("PE-CRED-011", "google-workspace", "GAM Admin Tool"),
    ("PE-CRED-012", "google-workspace", "Shift Calendar"),
    ("PE-CRED-006", "entra", "ci"),
    ("PE-CRED-011", "entra", "ci"),
    ("PE-INT-007", "entra", "Payroll Sync"),
}

#: true findings on the same resources or fields, which must stay
TRUE_FINDINGS: set[Key] = {
    # an Okta client secret really older than 90 days
    ("PE-CRED-001", "okta", "Workday Provisioning client secret ocs1wkday000000MV"),
    # an Entra secret that never expires (Graph gives the end date: provided)
    ("PE-CRED-002", "entra", "ci"),
    # a live Google grant of a person disabled in the directory (a grant has no expiry)
    ("PE-XSRC-002", "google-workspace", "Docs Sync Helper"),
    # GitHub 2FA off is known: still a finding
    ("PE-MFA-001", "github", "lfontaine-mv"),
    # Okta app approval state is computed from its grants, not declared: still fail-closed
    ("PE-INT-001", "okta", "Verlaine Partner Hub"),
    # Entra service principals have owners: a missing one is a finding
    ("PE-INT-003", "entra", "Store Mailer"),
}


def _keys(paths: list[Path]) -> set[Key]:
    result = evaluate_snapshots(paths, load_policy_set())
    return {(f.policy_id, f.resource.source, f.resource.name) for f in result.findings}


@pytest.fixture(scope="module")
def demo_findings() -> set[Key]:
    return _keys(list(demo_snapshot_paths()))


def _without_declarations(tmp: Path) -> list[Path]:
    out = []
    for path in demo_snapshot_paths():
        data = json.loads(Path(path).read_text())
        data["source"].pop("not_provided", None)
        target = tmp / Path(path).name
        target.write_text(json.dumps(data))
        out.append(target)
    return out


def test_findings_over_fields_the_source_never_gives_are_gone(demo_findings: set[Key]) -> None:
    assert NOT_PROVIDED_FINDINGS & demo_findings == set()


def test_true_findings_stay(demo_findings: set[Key]) -> None:
    assert TRUE_FINDINGS - demo_findings == set()


def test_without_the_declaration_a_snapshot_behaves_as_before(tmp_path: Path) -> None:
    before = _keys(_without_declarations(tmp_path))
    assert before >= NOT_PROVIDED_FINDINGS
    assert before >= TRUE_FINDINGS


def test_the_demo_loses_only_not_provided_findings(tmp_path: Path, demo_findings: set[Key]) -> None:
    before = _keys(_without_declarations(tmp_path))
    assert demo_findings <= before  # nothing new appears


def _okta_secret(**fields: Any) -> dict[str, Any]:
    return {
        "kind": "credential",
        "id": "s1",
        "source": "okta",
        "source_type": "okta",
        "name": "secret",
        "type": "client_secret",
        "enabled": True,
        "created_at": "2020-01-01T00:00:00Z",
        **fields,
    }


OKTA = {"okta": {"credential:client_secret": {"last_used_at": "Okta reports no last use"}}}


def _findings(resources: list[dict[str, Any]], not_provided: Any, policy: str) -> list[str]:
    from policyengine.api import evaluate_resources

    policy_set = load_policy_set()
    result = evaluate_resources(
        resources, policy_set, now="2026-11-01T00:00:00Z", not_provided=not_provided
    )
    return sorted(f.resource.id for f in result.findings if f.policy_id == policy)


def test_a_declared_field_that_is_present_is_still_judged() -> None:
    old = _okta_secret(last_used_at="2025-01-01T00:00:00Z")
    assert _findings([old], OKTA, "PE-CRED-011") == ["s1"]
    assert _findings([_okta_secret()], OKTA, "PE-CRED-011") == []


def test_a_declaration_is_per_source_and_type() -> None:
    other_source = _okta_secret(source="okta-eu", id="s2")
    other_type = _okta_secret(type="api_token", id="s3")
    assert _findings([other_source, other_type], OKTA, "PE-CRED-011") == ["s2", "s3"]


def test_explain_says_not_applicable_and_why() -> None:
    policy_set = load_policy_set()
    bound = policy_set.bind(dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    compiled = next(p for p in bound.policies if p.id == "PE-CRED-011")
    resource = _okta_secret()
    index = ResourceIndex([resource])
    assert explain_resource(compiled, resource, index).verdict == "missing"
    index.not_provided = NotProvided(OKTA)
    told = explain_resource(compiled, resource, index)
    assert (told.applies, told.verdict, told.finding) == (True, "not_applicable", False)
    assert any("Okta reports no last use" in e.expected for e in told.evidence)


@pytest.mark.parametrize(
    "declaration",
    [
        [],
        {"widget": {"x": "y"}},
        {"credential": {"nonsense_field": "why"}},
        {"credential": {"last_used_at": ""}},
        {"credential": {"id": "ids are always given"}},
    ],
)
def test_a_malformed_declaration_is_refused(declaration: Any) -> None:
    with pytest.raises(ValueError):
        parse_declaration(declaration)


def test_a_snapshot_with_a_malformed_declaration_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "okta.json"
    data = json.loads(Path(next(p for p in demo_snapshot_paths() if "okta" in str(p))).read_text())
    data["source"]["not_provided"] = {"credential": {"nonsense_field": "why"}}
    path.write_text(json.dumps(data))
    run = subprocess.run(
        [sys.executable, "-m", "policyengine", "evaluate", "--snapshot", str(path)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2
    assert "source.not_provided" in run.stderr and "nonsense_field" in run.stderr
