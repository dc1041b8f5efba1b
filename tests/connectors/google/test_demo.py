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
