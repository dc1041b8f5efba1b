"""``policyengine explain POLICY --snapshot FILE --resource ID`` from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from policyengine.cli.main import main
from policyengine.snapshot import SnapshotWriter

NOW = "2026-11-01T00:00:00Z"


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    path = tmp_path / "okta.jsonl"
    with SnapshotWriter(path, connector="okta", instance="corp", collected_at=NOW) as w:
        base = {"kind": "account", "type": "break_glass", "enabled": True, "privileged": True}
        w.add({**base, "id": "bg1", "name": "bg-totp", "mfa": {"methods": ["totp"]}})
        w.add({**base, "id": "bg2", "name": "bg-key", "mfa": {"methods": ["fido2"]}})
        w.add({**base, "id": "bg3", "name": "bg-old", "enabled": False})
    return path


def _explain(capsys: pytest.CaptureFixture[str], snapshot: Path, rid: str) -> tuple[int, str]:
    code = main(["explain", "PE-MFA-007", "-s", str(snapshot), "--resource", rid])
    return code, capsys.readouterr().out


def test_a_failing_resource_is_a_finding_with_its_evidence(capsys, snapshot) -> None:
    code, out = _explain(capsys, snapshot, "bg1")
    assert code == 0
    # the resource header is its own paragraph: a blank line, not an escaped "\x0a"
    assert "\n\naccount bg-totp [corp/bg1]\n" in out and "\\x0a" not in out
    assert "match: yes" in out and "require: fails -> FINDING" in out
    assert "mfa." in out and "is " in out.split("FINDING", 1)[1]


def test_a_passing_resource_and_one_the_policy_does_not_apply_to(capsys, snapshot) -> None:
    _, out = _explain(capsys, snapshot, "corp/bg2")
    assert "require: holds -> PASS" in out
    _, out = _explain(capsys, snapshot, "bg3")
    assert "match: no (policy does not apply)" in out
    assert "enabled is False" in out


def test_an_unknown_resource_is_a_usage_error(capsys, snapshot) -> None:
    code = main(["explain", "PE-MFA-007", "-s", str(snapshot), "--resource", "other/bg1"])
    assert code == 2
    assert "no account with id other/bg1 in the snapshots" in capsys.readouterr().err
