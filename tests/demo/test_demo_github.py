"""The demo's GitHub org (Maison Verlaine): a finding for every GitHub policy."""

from __future__ import annotations

from pathlib import Path

from policyengine.demo import DEMO_FILES, demo_snapshot_paths

GITHUB_POLICIES = {f"PE-GH-{n:03d}" for n in range(1, 14)}


def test_github_demo_is_listed() -> None:
    assert "github.json" in DEMO_FILES


def test_every_github_policy_has_a_demo_finding() -> None:
    from policyengine.api import evaluate_snapshots, load_policy_set
    from policyengine.policy.loader import builtin_policy_dir

    result = evaluate_snapshots(demo_snapshot_paths(), load_policy_set([builtin_policy_dir()]))
    hits = {(f.policy_id, f.resource.name) for f in result.findings}
    assert {pid for pid, _ in hits} >= GITHUB_POLICIES
    # the cross-source chain: the directory leaver's classic token is still live on GitHub
    assert ("PE-XSRC-002", "marc build laptop") in hits
    assert ("PE-GH-010", "boutique-web/SALESFORCE_REFRESH_TOKEN") in hits
    assert ("PE-GH-013", "deps-autopilot") in hits  # publisher autopilot-labs, not allowed
    # clean resources stay clean
    names = {name for pid, name in hits if pid.startswith("PE-GH-")}
    assert not names & {"emma-readonly", "posture-reader", "boutique-web: docs-mirror"}


def test_github_demo_holds_no_token() -> None:
    text = (Path(demo_snapshot_paths()[0]).parent / "github.json").read_text()
    assert "ghp_" not in text and "ghs_" not in text and "9f8e7d6c" not in text
