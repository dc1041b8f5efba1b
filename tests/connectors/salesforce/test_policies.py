"""The attack-chain fixture, collected and evaluated with the built-in policy library.

This pins the contract between the connector's normalised output and the
policies written for it: if either side renames a field, a finding that
should fire goes silent, and this test says which.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.connectors.salesforce.conftest import jwt_options, run_collect
from tests.emulators.salesforce import load_fixture, start_org

EXE = Path(sys.executable).with_name("policyengine")


@pytest.fixture(scope="module")
def findings(
    key_pair: tuple[Path, bytes], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[set[tuple[str, str]]]:
    """Collect once and evaluate once for the whole module (the CLI costs ~1.5 s)."""
    server, _ = start_org(load_fixture(), public_key_pem=key_pair[1], batch_size=3)
    try:
        snapshot = tmp_path_factory.mktemp("policies") / "sf.json"
        result, _ = run_collect(jwt_options(server, key_pair[0]), snapshot)
    finally:
        server.stop()
    assert result.complete
    proc = subprocess.run(
        [str(EXE), "evaluate", "-s", str(snapshot), "--format", "json", "--fail-on", "none"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["summary"]["complete"] is True
    yield {(f["policy_id"], f["resource"]["name"]) for f in report["findings"]}


@pytest.mark.parametrize(
    ("policy", "resource"),
    [
        # the look-alike Data Loader a help-desk user authorised
        ("PE-INT-009", "Data Loader IT Support"),
        ("PE-INT-004", "Data Loader IT Support"),
        ("PE-INT-006", "Data Loader IT Support"),
        # a token of an app that was never installed, held by a disabled user
        ("PE-INT-005", "Zapier token of frank.former@kering.example"),
        ("PE-CRED-005", "Zapier token of frank.former@kering.example"),
        # the 3-year-old token
        ("PE-CRED-011", "Salesforce for Outlook token of erin.sales@kering.example"),
        # admins with SMS only, and with no MFA plus a waiver
        ("PE-MFA-002", "bob.admin@kering.example"),
        ("PE-MFA-005", "carol.admin@kering.example"),
        # org switches
        ("PE-INT-008", "api_access_control"),
        ("PE-MFA-009", "mfa_registration_verified"),
        ("PE-PRIV-012", "admin_login_as_any_user"),
    ],
)
def test_attack_chain_findings(findings: set[tuple[str, str]], policy: str, resource: str) -> None:
    assert (policy, resource) in findings


def test_compliant_resources_pass(findings: set[tuple[str, str]]) -> None:
    # the admin with a security key and the genuine, admin-approved Data Loader
    assert ("PE-MFA-002", "alice.admin@kering.example") not in findings
    assert ("PE-MFA-003", "alice.admin@kering.example") not in findings
    assert not any(name == "Dataloader Partner" for _, name in findings)
