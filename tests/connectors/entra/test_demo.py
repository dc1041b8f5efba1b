"""The bundled Entra demo snapshot is what the connector collects from the emulator, and it
has a finding for every Entra policy."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from policyengine.demo import DEMO_FILES, demo_snapshot_paths
from tests.connectors.entra.conftest import Entra, options, start
from tests.emulators.entra import EntraTenant
from tests.emulators.kit import fixture_path

DEMO = next(p for p in demo_snapshot_paths() if p.name == "entra.json")
COLLECTED_AT = "2026-11-01T06:00:00Z"


@pytest.fixture
def demo_tenant(certificate: tuple[str, bytes]) -> Iterator[Entra]:
    yield from start(EntraTenant.load(fixture_path("entra", "demo-tenant.json")), certificate[1])


def test_demo_snapshot_is_the_connectors_output(
    demo_tenant: Entra, secret_env: str, tmp_path: Path
) -> None:
    from policyengine import connector as registry

    out = tmp_path / "entra.json"
    result = registry.run(
        "entra",
        options(demo_tenant, secret_env),
        instance="entra",
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


def test_every_entra_policy_has_a_demo_finding() -> None:
    from policyengine.api import evaluate_snapshots, load_policy_set
    from policyengine.policy.loader import builtin_policy_dir

    assert "entra.json" in DEMO_FILES
    result = evaluate_snapshots(demo_snapshot_paths(), load_policy_set([builtin_policy_dir()]))
    hits = {(f.policy_id, f.resource.name) for f in result.findings}
    entra_hits = {
        (f.policy_id, f.resource.name) for f in result.findings if f.resource.source == "entra"
    }
    assert {pid for pid, _ in hits} >= {f"PE-ENTRA-{n:03d}" for n in range(1, 13)}
    # the cross-source chain: Julien is a Global Administrator with SMS only
    assert ("PE-MFA-002", "julien.moreau@maisonverlaine.example") in entra_hits
    # Claire (FIDO2) is clean on MFA in Entra
    assert ("PE-MFA-002", "claire.dubois@maisonverlaine.example") not in entra_hits
