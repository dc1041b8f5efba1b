"""`supersedes` folding never hides a finding whose waiver, severity or change differs.

The issue's repros, run through the CLI: one privileged account with SMS as its only
MFA method fails both PE-MFA-002 (critical, supersedes PE-MFA-003) and PE-MFA-003
(high). A waiver or a severity override on PE-MFA-002 must not take PE-MFA-003 with it,
and a finding folded into another is never reported or recorded as resolved.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from policyengine.cli.main import main
from policyengine.snapshot.writer import SnapshotWriter

LIBRARY = Path(__file__).parent.parent.parent / "policies" / "mfa"
POLICIES = [
    "--policies",
    str(LIBRARY / "privileged-phishing-resistant.yaml"),
    "--policies",
    str(LIBRARY / "privileged-no-weak-methods.yaml"),
]


def admin(methods: list[str]) -> dict[str, Any]:
    return {
        "kind": "account",
        "id": "u1",
        "name": "alice",
        "type": "human",
        "enabled": True,
        "privileged": True,
        "mfa": {"enrolled": True, "methods": methods},
    }


def snapshot(path: Path, methods: list[str], collected_at: str = "2026-11-01T00:00:00Z") -> Path:
    with SnapshotWriter(path, connector="okta", instance="okta", collected_at=collected_at) as w:
        w.add(admin(methods))
    return path


def waive_mfa_002(tmp_path: Path) -> Path:
    path = tmp_path / "w.yaml"
    path.write_text(
        "waivers:\n"
        "  - policy: PE-MFA-002\n"
        "    resource: {source: okta, id: u1}\n"
        "    reason: hardware key on order\n"
        "    owner: secops@example.com\n"
        "    expires: 2026-12-01\n",
        encoding="utf-8",
    )
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = main([*argv, *POLICIES, "--format", "json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def shown(doc: dict[str, Any]) -> dict[str, tuple[bool, str | None]]:
    return {f["policy_id"]: (f["waived"], f.get("change")) for f in doc["findings"]}


def test_sms_only_admin_gives_one_finding_that_folds_the_narrower_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snap = snapshot(tmp_path / "s.jsonl", ["sms"])
    code, doc = run(capsys, "evaluate", "-s", str(snap), "--fail-on", "high")
    assert code == 1
    (finding,) = doc["findings"]
    assert finding["policy_id"] == "PE-MFA-002" and finding["supersedes"] == ["PE-MFA-003"]
    assert [f["policy_id"] for f in finding["folded"]] == ["PE-MFA-003"]


def test_waiver_on_the_broader_policy_does_not_hide_the_narrower_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snap = snapshot(tmp_path / "s.jsonl", ["sms"])
    waivers = waive_mfa_002(tmp_path)
    code, doc = run(
        capsys, "evaluate", "-s", str(snap), "--waivers", str(waivers), "--fail-on", "high"
    )
    assert code == 1, "PE-MFA-003 (high, not waived) fails"
    assert shown(doc) == {"PE-MFA-002": (True, None), "PE-MFA-003": (False, None)}
    assert all(not f.get("supersedes") for f in doc["findings"])


def test_severity_override_on_the_broader_policy_does_not_hide_the_narrower_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snap = snapshot(tmp_path / "s.jsonl", ["sms"])
    config = tmp_path / "policyengine.yaml"
    config.write_text("policies: {PE-MFA-002: {severity: low}}\n", encoding="utf-8")
    code, doc = run(
        capsys, "evaluate", "-s", str(snap), "--config", str(config), "--fail-on", "high"
    )
    assert code == 1
    severities = {f["policy_id"]: f["severity"] for f in doc["findings"]}
    assert severities == {"PE-MFA-002": "low", "PE-MFA-003": "high"}


def test_diff_never_calls_a_folded_finding_resolved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = snapshot(tmp_path / "base.jsonl", ["fido2", "sms"])
    head = snapshot(tmp_path / "head.jsonl", ["sms"])
    code, doc = run(capsys, "diff", "--base", str(base), "--head", str(head))
    assert code == 1  # PE-MFA-002 is new and critical
    assert shown(doc) == {"PE-MFA-002": (False, "new"), "PE-MFA-003": (False, "unchanged")}
    assert doc["summary"]["by_change"].get("resolved", 0) == 0


def test_diff_against_a_saved_folded_base_keeps_the_narrower_finding_unchanged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Base SMS only (PE-MFA-003 folded into PE-MFA-002), head FIDO2+SMS."""
    base_snap = snapshot(tmp_path / "base.jsonl", ["sms"])
    code, saved = run(capsys, "evaluate", "-s", str(base_snap), "--fail-on", "none")
    assert code == 0 and len(saved["findings"]) == 1
    for legacy in (False, True):  # also a result saved before `folded` existed
        if legacy:
            saved["findings"][0].pop("folded")
        base = tmp_path / f"base-{legacy}.json"
        base.write_text(json.dumps(saved), encoding="utf-8")
        head = snapshot(tmp_path / "head.jsonl", ["fido2", "sms"])
        code, doc = run(capsys, "diff", "--base", str(base), "--head", str(head))
        assert code == 0, doc
        assert shown(doc) == {"PE-MFA-003": (False, "unchanged"), "PE-MFA-002": (False, "resolved")}


def test_scan_history_keeps_a_folded_finding_open(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    history = tmp_path / "h.db"
    (tmp_path / "v1").mkdir()
    (tmp_path / "v2").mkdir()
    first = snapshot(tmp_path / "v1" / "okta.jsonl", ["fido2", "sms"])
    second = snapshot(tmp_path / "v2" / "okta.jsonl", ["sms"], "2026-11-02T00:00:00Z")
    for snap in (first, second):
        code = main(
            ["--log-level", "error", "scan", "-s", str(snap), "--history", str(history), *POLICIES]
        )
        capsys.readouterr()
        assert code == 0
    assert (
        main(["history", "--history", str(history), "--format", "json", "--findings", "all"]) == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert [r["resolved"] for r in doc["runs"]] == [0, 0]
    state = {f["policy_id"]: f["resolved_at"] for f in doc["findings"]}
    assert state["PE-MFA-003"] is None, "PE-MFA-003 still fails: it must stay open"
