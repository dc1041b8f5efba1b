"""Tiny policies and snapshots in tmp_path: robust to changes in the bundled library."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

from policyengine.snapshot.writer import SnapshotWriter

POLICY = """\
id: T-MFA-001
title: Enabled accounts enrol MFA
severity: high
resource: account
match:
  enabled: true
require:
  mfa.enrolled: true
message: "{name} has no MFA"
remediation: Enrol MFA for {name} in {source}.
"""

POLICY_SVC = """\
id: T-SVC-001
title: Service accounts have an owner
severity: medium
resource: account
match:
  type: service
require:
  owner: {exists: true}
message: "{name} has no owner"
remediation: Name an owner for {name}.
"""

COLLECTED = "2026-11-01T00:00:00Z"


def write_snapshot(
    path: Path,
    instance: str,
    accounts: Iterable[Mapping[str, Any]],
    *,
    complete: bool = True,
    connector: str = "file",
) -> Path:
    with SnapshotWriter(path, connector=connector, instance=instance, collected_at=COLLECTED) as w:
        for a in accounts:
            w.add({"kind": "account", "name": a["id"], **a})
        if not complete:
            w.fail("HTTP 503 from /api/v1/users after 5 retries")
    return path


def account(rid: str, *, mfa: bool = False, **extra: Any) -> dict[str, Any]:
    return {"id": rid, "enabled": True, "type": "human", "mfa": {"enrolled": mfa}, **extra}


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "mfa.yaml").write_text(POLICY)
    (folder / "svc.yaml").write_text(POLICY_SVC)
    return folder
