"""The bundled Okta demo snapshot shows the Okta half of the attack chain as findings."""

from __future__ import annotations

import json
from pathlib import Path

from policyengine.cli.main import main
from policyengine.demo import demo_snapshot_paths

NOW = "2026-11-01T06:00:00Z"


def test_okta_policies_fire_on_the_demo(tmp_path: Path) -> None:
    okta = next(p for p in demo_snapshot_paths() if Path(p).name == "okta.json")
    report = tmp_path / "f.json"
    argv = ["evaluate", "-s", str(okta), "--now", NOW, "--format", "json", "--output", str(report)]
    assert main(argv) == 1
    found = {
        (f["policy_id"], f["resource"]["id"]) for f in json.loads(report.read_text())["findings"]
    }
    assert {
        ("PE-INT-014", "0oa1wkdayprov0MV"),  # *.manage scopes, client_secret_basic
        ("PE-CRED-001", "okta_client_secret:0oa1wkdayprov0MV:ocs1wkday000000MV"),  # 2024 secret
        ("PE-INT-015", "0oa1partnerhub0M"),  # users consented, not on the allow-list
        ("PE-INT-019", "0oa1wkdayprov0MV"),  # changed by claire.dubois 4 days before
        ("PE-CRED-015", "okta_refresh_token:oar1ebernard00MV"),  # lives a year
    } <= found
    assert ("PE-INT-015", "0oa1wkdayprov0MV") not in found  # nobody consented to it
