"""A Salesforce instance in policyengine.yaml, run by ``policyengine scan``.

The YAML keys are the command-line ``dest`` names; the secret is named, never
written in the file.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.connectors.salesforce.conftest import CLIENT_ID, CLIENT_SECRET

EXE = Path(sys.executable).with_name("policyengine")


def test_scan_runs_a_configured_salesforce_instance(emulated: Any, tmp_path: Path) -> None:
    server, _ = emulated
    config = tmp_path / "policyengine.yaml"
    config.write_text(
        f"""
connectors:
  - instance: crm
    type: salesforce
    login_url: {server.base_url}
    client_id: {CLIENT_ID}
    client_secret_env: SF_SCAN_SECRET
    api_version: "62.0"
    max_concurrency: 2
    privileged_permissions: [ModifyAllData, ViewAllData, ManageUsers, ModifyMetadata]
    integration_profiles: [Minimum Access - API Only Integrations]
    service_account_pattern: "^etl\\\\."
output_dir: {tmp_path / "runs"}
history: {tmp_path / "history.db"}
""",
        encoding="utf-8",
    )
    proc = subprocess.run(
        [str(EXE), "--log-format=json", "scan", "--config", str(config), "--fail-on", "none"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "CI": "1", "SF_SCAN_SECRET": CLIENT_SECRET},
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    snapshots = list((tmp_path / "runs").rglob("crm*.json*"))
    assert snapshots, list((tmp_path / "runs").rglob("*"))
    path = snapshots[0]
    raw = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
    text = raw.decode("utf-8")
    assert CLIENT_SECRET not in text and CLIENT_SECRET not in proc.stderr
    if ".jsonl" in path.name:
        lines = [json.loads(line) for line in text.splitlines()]
        snap = {
            "source": lines[0]["source"],
            "accounts": [r for r in lines[1:] if r["kind"] == "account"],
        }
    else:
        snap = json.loads(text)
    assert snap["source"]["complete"] is True
    accounts = {a["name"]: a for a in snap["accounts"]}
    assert accounts["etl.integration@kering.example"]["type"] == "service"
    assert any(
        "ModifyMetadata" in v for v in accounts["alice.admin@kering.example"]["privileged_via"]
    )


def test_unknown_key_in_the_config_is_a_usage_error(emulated: Any, tmp_path: Path) -> None:
    server, _ = emulated
    config = tmp_path / "policyengine.yaml"
    config.write_text(
        f"""
connectors:
  - instance: crm
    type: salesforce
    login_url: {server.base_url}
    client_id: {CLIENT_ID}
    client_secret: do-not-put-secrets-here
output_dir: {tmp_path / "runs"}
history: {tmp_path / "history.db"}
""",
        encoding="utf-8",
    )
    proc = subprocess.run(
        [str(EXE), "--log-format=json", "scan", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "CI": "1"},
    )
    assert proc.returncode in (2, 3), proc.stderr
    assert "unknown option 'client_secret'" in proc.stderr + proc.stdout
    assert "do-not-put-secrets-here" not in proc.stderr + proc.stdout
