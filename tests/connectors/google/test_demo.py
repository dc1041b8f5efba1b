"""The bundled Workspace demo snapshot is what the connector collects from the emulator."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from policyengine.demo import demo_snapshot_paths
from tests.connectors.google.conftest import options
from tests.emulators.google import GoogleTenant
from tests.emulators.kit import fixture_path

DEMO = next(p for p in demo_snapshot_paths() if p.name == "google-workspace.json")
COLLECTED_AT = "2026-11-01T06:00:00Z"


def test_demo_snapshot_is_the_connectors_output(make_google: Any, tmp_path: Path) -> None:
    from policyengine import connector as registry

    google = make_google(GoogleTenant.load(fixture_path("google", "demo-tenant.json")))
    out = tmp_path / "google-workspace.json"
    result = registry.run(
        "google",
        options(google, subject="claire.dubois@maisonverlaine.example"),
        instance="google-workspace",
        output=out,
        collected_at=COLLECTED_AT,
        strict=True,
    )
    assert result.complete, result.errors
    collected = json.loads(out.read_text())
    del collected["record_count"]  # the demo files carry only what the reader needs
    if os.environ.get("POLICYENGINE_REGENERATE_DEMO") == "1":  # after a mapping change
        DEMO.write_text(json.dumps(collected, indent=1) + "\n", encoding="utf-8")
    assert json.loads(DEMO.read_text()) == collected


def test_every_workspace_policy_has_a_demo_finding() -> None:
    from policyengine.api import evaluate_snapshots, load_policy_set
    from policyengine.policy.loader import builtin_policy_dir

    result = evaluate_snapshots(demo_snapshot_paths(), load_policy_set([builtin_policy_dir()]))
    hits = {(f.policy_id, f.resource.name) for f in result.findings}
    assert {pid for pid, _ in hits} >= {f"PE-GWS-{n:03d}" for n in range(1, 11)}
    # Reports API facts: the look-alike's grants in October, Julien's phone-prompt sign-ins
    assert ("PE-GWS-009", "Docs Sync Helper") in hits
    assert ("PE-GWS-010", "julien.moreau@maisonverlaine.example") in hits
    # granted in April (outside the 30-day window); Claire signs in with a security key
    assert ("PE-GWS-009", "GAM Admin Tool") not in hits
    assert ("PE-GWS-010", "claire.dubois@maisonverlaine.example") not in hits
