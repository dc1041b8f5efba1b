"""What Okta never gives is declared in the snapshot the connector writes, and the policies
over those fields are then not applicable (not a finding) on what the emulator serves."""

from __future__ import annotations

from pathlib import Path

from connectors.okta._not_provided import NOT_PROVIDED
from policyengine.model.provided import parse_declaration
from tests.connectors.okta.conftest import Okta, collect, ssws_options


def test_the_snapshot_declares_what_okta_never_gives(
    okta: Okta, ssws_env: str, tmp_path: Path
) -> None:
    result, snap = collect(ssws_options(okta, ssws_env), tmp_path / "okta.json")
    assert result.complete, result.errors
    assert snap["source"]["not_provided"] == NOT_PROVIDED
    assert parse_declaration(NOT_PROVIDED) == NOT_PROVIDED


def test_no_finding_over_a_field_okta_never_gives(
    okta: Okta, ssws_env: str, tmp_path: Path
) -> None:
    from policyengine.api import evaluate_snapshots, load_policy_set

    out = tmp_path / "okta.json"
    result, snap = collect(ssws_options(okta, ssws_env, refresh_tokens=True), out)
    assert result.complete, result.errors
    findings = evaluate_snapshots([out], load_policy_set(), now=snap["source"]["collected_at"])
    kinds = {c["id"]: c["type"] for c in snap["credentials"]}
    apps = {i["id"] for i in snap["integrations"]}
    assert {"oauth_token", "client_secret"} <= set(kinds.values())
    judged = {(f.policy_id, f.resource.id) for f in findings.findings}
    # refresh tokens and client secrets: no last use, no owner, no expiry from Okta
    for policy in ("PE-CRED-002", "PE-CRED-006", "PE-CRED-011", "PE-CRED-014"):
        wrongly = [r for p, r in judged if p == policy and kinds.get(r) in ("client_secret",)]
        assert wrongly == [], policy
    assert [r for p, r in judged if p == "PE-CRED-014"] == []
    # apps: no owner, no last use, no app-level refresh-token policy
    for policy in ("PE-INT-003", "PE-INT-006", "PE-INT-007"):
        assert [r for p, r in judged if p == policy and r in apps] == [], policy
