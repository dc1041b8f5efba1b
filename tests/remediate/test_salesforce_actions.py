"""The Salesforce actions one by one against the emulated org, through a policy of
their own: remove_permission_set_assignment, and the wire format of the writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policyengine.remediate.registry import actions_for
from tests.remediate.conftest import Env

WAIVER_POLICY = """\
id: T-SF-PSA-001
title: Nobody holds the MFA waiver permission set
severity: high
resource: account
match: {source_type: {in: [salesforce]}, name: {matches: "^carol"}}
require: {enabled: false}
message: "{name} holds the MFA waiver"
remediation: Remove the permission set.
actions:
  salesforce:
    - remove_permission_set_assignment: {permission_set: Waive MFA (exempt users)}
"""


def _assigned(sf: Env, user: str, set_id: str) -> bool:
    return any(
        a["AssigneeId"] == user and a["PermissionSetId"] == set_id
        for a in sf.rows("PermissionSetAssignment")
    )


def test_remove_permission_set_assignment_deletes_only_that_assignment(
    sf: Env, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "psa.yaml"
    policy.write_text(WAIVER_POLICY)
    carol = "0055g00000CarolAAA"
    waiver = next(p["Id"] for p in sf.rows("PermissionSet") if p.get("Name") == "MFA_Waiver")
    assert _assigned(sf, carol, waiver)
    result = sf.tmp / "result.json"
    snapshot = sf.tmp / "sf.json"
    assert sf.run(
        "collect", "salesforce", "--instance", "salesforce-prod", "--login-url",
        sf.server.base_url, "--client-id", "3MVG9read.consumer.key",
        "--client-secret-env", "SF_READ_SECRET", "--no-metadata", "-o", str(snapshot),
    ) == 0  # fmt: skip
    assert sf.run(
        "evaluate", "-s", str(snapshot), "--policies", str(policy), "--format", "json",
        "-o", str(result), "--fail-on", "none",
    ) == 0  # fmt: skip
    plan, digest = sf.plan(result, "--policies", str(policy))
    (entry,) = json.loads(plan.read_text())["entries"]
    assert entry["params"] == {"permission_set": "Waive MFA (exempt users)"}
    assert entry["reversible"] and "PermissionSetAssignment" in entry["undo"]
    profile_sets = [a for a in sf.rows("PermissionSetAssignment") if a["AssigneeId"] == carol]
    assert sf.apply(plan, "--approve", digest) == 0
    assert not _assigned(sf, carol, waiver)
    left = [a for a in sf.rows("PermissionSetAssignment") if a["AssigneeId"] == carol]
    assert len(left) == len(profile_sets) - 1  # the profile's own set stays
    assert [w[:2] for w in sf.org.writes] == [("DELETE", "PermissionSetAssignment")]
    assert sf.apply(plan, "--approve", digest) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_revoke_posts_the_delete_token_as_a_form_and_nothing_leaks(
    sf: Env, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    plan, digest = sf.plan(sf.scan(), "--policy", "PE-INT-005")
    capsys.readouterr()
    assert sf.run("--log-level", "debug", "remediate", "apply", str(plan), "--config",
                  str(sf.config), "--approve", digest) == 0  # fmt: skip
    out = capsys.readouterr()
    revokes = [r for r in sf.server.requests if r.path == "/services/oauth2/revoke"]
    assert revokes
    for request in revokes:
        assert request.header("content-type") == "application/x-www-form-urlencoded"
        assert request.form()["token"].startswith("DELETE-TOKEN-MUST-NEVER-BE-COPIED")
    text = out.out + out.err + caplog.text + plan.read_text()
    assert "DELETE-TOKEN" not in text and "write-secret" not in text


def test_every_action_declares_what_lint_and_the_docs_need() -> None:
    actions = actions_for("salesforce")
    assert set(actions) == {
        "revoke_oauth_tokens",
        "freeze_user",
        "end_sessions",
        "remove_permission_set_assignment",
    }
    for action in actions.values():
        assert action.spec.permissions and action.spec.undo and action.spec.summary
