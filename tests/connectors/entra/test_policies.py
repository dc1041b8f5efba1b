"""The Entra policies against a snapshot collected from the emulator: each one finds something."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policyengine.cli.main import main
from tests.connectors.entra.conftest import Entra, collect, options

POLICIES = Path(__file__).resolve().parents[3] / "policies"


def test_every_entra_policy_finds_its_case_in_the_fixture_tenant(
    entra: Entra, secret_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = tmp_path / "entra.json"
    collect(options(entra, secret_env), snapshot)
    report = tmp_path / "findings.json"
    args = ["evaluate", "-s", str(snapshot), "--policies", str(POLICIES / "entra")]
    args += ["--format", "json", "--output", str(report), "--now", "2026-12-01T00:00:00Z"]
    main(args)
    capsys.readouterr()
    findings = json.loads(report.read_text())["findings"]
    fired = {f["policy_id"] for f in findings}
    expected = {f"PE-ENTRA-{n:03d}" for n in range(1, 13)}
    assert expected <= fired, sorted(expected - fired)


def test_library_policies_see_entra_accounts(
    entra: Entra, secret_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Phishable MFA on a Global Administrator, dormant admins, never-expiring secrets."""
    snapshot = tmp_path / "entra.json"
    collect(options(entra, secret_env), snapshot)
    report = tmp_path / "findings.json"
    args = ["evaluate", "-s", str(snapshot), "--format", "json", "--output", str(report)]
    main([*args, "--now", "2026-12-01T00:00:00Z"])
    capsys.readouterr()
    by_policy: dict[str, set[str]] = {}
    for f in json.loads(report.read_text())["findings"]:
        by_policy.setdefault(f["policy_id"], set()).add(f["resource"]["name"])
    assert "bob.ops@northwind-retail.example" in by_policy["PE-MFA-002"]
    assert "frank.dormant@northwind-retail.example" in by_policy["PE-PRIV-003"]
    assert "alice.admin@northwind-retail.example" not in by_policy.get("PE-MFA-002", set())
