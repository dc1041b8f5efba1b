"""``policyengine diff``: the CI gate, end to end on real snapshot files.

The scenario of issue 6: a change adds a privileged account with SMS-only MFA.
``diff`` exits 1 with exactly that one new finding, at the declaring file and
line in SARIF; a waiver with a future expiry makes it exit 0 and report the
finding as waived; moving the clock past the expiry makes it exit 1 again.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from policyengine.cli.main import main
from policyengine.snapshot.writer import SnapshotWriter

DATA = Path(__file__).parent.parent / "data"
POLICIES = DATA / "ci-gate" / "policies"
SARIF_SCHEMA = json.loads((DATA / "sarif-schema-2.1.0.json").read_text("utf-8"))


def account(rid: str, *, privileged: bool, methods: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "kind": "account",
        "id": rid,
        "name": rid,
        "type": "human",
        "enabled": True,
        "email": f"{rid}@example.com",
        "privileged": privileged,
        "mfa": {"enrolled": bool(methods), "methods": methods},
        **extra,
    }


BASE = [
    account("alice", privileged=True, methods=["fido2"]),
    account("bob", privileged=False, methods=["sms"]),
    account("carol", privileged=True, methods=["sms"]),  # pre-existing finding
    {**account("dave", privileged=False, methods=["totp"]), "email": None},  # fixed by the change
]
EVE = account(
    "eve",
    privileged=True,
    methods=["sms"],
    location={"file": "access/admins.yaml", "line": 14},
)
HEAD = [*BASE[:3], account("dave", privileged=False, methods=["totp"]), EVE]


def snapshot(
    path: Path,
    resources: list[dict[str, Any]],
    collected_at: str,
    *,
    fail: str | None = None,
) -> Path:
    with SnapshotWriter(
        path, connector="file", instance="access-repo", collected_at=collected_at
    ) as w:
        for r in resources:
            w.add(r)
        if fail:
            w.fail(fail)
    return path


@pytest.fixture(autouse=True)
def only_needed_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process runs load just diff and evaluate: other commands are not under test here."""
    import policyengine.cli.main as cli_main

    monkeypatch.setattr(cli_main, "COMMANDS", {"diff": "diff", "evaluate": "evaluate"})


@pytest.fixture
def sides(tmp_path: Path) -> tuple[Path, Path]:
    base = snapshot(tmp_path / "base.json", BASE, "2026-06-01T00:00:00Z")
    head = snapshot(tmp_path / "head.jsonl", HEAD, "2026-06-20T00:00:00Z")
    return base, head


def run(
    capsys: pytest.CaptureFixture[str], base: Path | list[Path], head: Path, *args: str
) -> tuple[int, str, str]:
    bases = base if isinstance(base, list) else [base]
    argv = ["diff", *(a for b in bases for a in ("--base", str(b))), "--head", str(head)]
    argv += ["--policies", str(POLICIES), *args]
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def by_change(doc: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in doc["findings"]:
        out.setdefault(f["change"], []).append(f"{f['policy_id']}:{f['resource']['id']}")
    return out


def write_waivers(tmp_path: Path, expires: str) -> Path:
    p = tmp_path / "waivers.yaml"
    p.write_text(
        "waivers:\n"
        "  - policy: PE-GATE-001\n"
        "    resource: {source: access-repo, id: eve}\n"
        "    reason: hardware key on order\n"
        "    owner: secops@example.com\n"
        "    ticket: SEC-123\n"
        f"    expires: {expires}\n",
        encoding="utf-8",
    )
    return p


def test_new_privileged_sms_account_fails_the_gate_with_one_new_finding(
    capsys: pytest.CaptureFixture[str], sides: tuple[Path, Path]
) -> None:
    code, out, _ = run(capsys, *sides, "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert by_change(doc) == {
        "new": ["PE-GATE-001:eve"],
        "unchanged": ["PE-GATE-001:carol"],
        "resolved": ["PE-GATE-002:dave"],
    }
    new = next(f for f in doc["findings"] if f["change"] == "new")
    assert new["resource"]["location"] == {"file": "access/admins.yaml", "line": 14}
    assert new["waived"] is False
    assert doc["summary"]["by_change"] == {"new": 1, "unchanged": 1, "resolved": 1}


def test_sarif_points_at_the_declaring_file_and_line(
    capsys: pytest.CaptureFixture[str], sides: tuple[Path, Path]
) -> None:
    code, out, _ = run(capsys, *sides, "--format", "sarif")
    assert code == 1
    log = json.loads(out)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    new = [r for r in log["runs"][0]["results"] if r["baselineState"] == "new"]
    assert len(new) == 1
    (loc,) = new[0]["locations"]
    assert loc["physicalLocation"] == {
        "artifactLocation": {"uri": "access/admins.yaml"},
        "region": {"startLine": 14},
    }
    assert new[0]["ruleId"] == "PE-GATE-001" and new[0]["level"] == "error"
    assert "policyengine/v1" in new[0]["partialFingerprints"]


def test_waiver_passes_the_gate_until_it_expires(
    capsys: pytest.CaptureFixture[str], sides: tuple[Path, Path], tmp_path: Path
) -> None:
    waivers = write_waivers(tmp_path, "2026-08-01")
    code, out, _ = run(capsys, *sides, "--waivers", str(waivers), "--format", "json")
    assert code == 0
    doc = json.loads(out)
    (eve,) = [f for f in doc["findings"] if f["resource"]["id"] == "eve"]
    assert eve["change"] == "new" and eve["waived"] is True
    assert eve["waiver"]["reason"] == "hardware key on order"
    assert eve["waiver"]["ticket"] == "SEC-123" and eve["waiver"]["expired"] is False

    code, out, _ = run(
        capsys, *sides, "--waivers", str(waivers), "--format", "json", "--now",
        "2026-08-01T00:00:00Z",
    )  # fmt: skip
    assert code == 1
    doc = json.loads(out)
    (eve,) = [f for f in doc["findings"] if f["resource"]["id"] == "eve"]
    assert eve["waived"] is False and eve["waiver"]["expired"] is True
    assert any("expired 2026-08-01" in w for w in doc["warnings"])


def test_waived_finding_shows_as_suppressed_in_sarif_and_waived_in_text(
    capsys: pytest.CaptureFixture[str], sides: tuple[Path, Path], tmp_path: Path
) -> None:
    waivers = write_waivers(tmp_path, "2026-08-01")
    code, out, _ = run(capsys, *sides, "--waivers", str(waivers), "--format", "sarif")
    assert code == 0
    log = json.loads(out)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    (eve,) = [r for r in log["runs"][0]["results"] if r["baselineState"] == "new"]
    assert eve["suppressions"][0]["status"] == "accepted"


def test_waivers_path_from_the_config_file(
    capsys: pytest.CaptureFixture[str], sides: tuple[Path, Path], tmp_path: Path
) -> None:
    write_waivers(tmp_path, "2026-08-01")
    config = tmp_path / "policyengine.yaml"
    config.write_text("waivers: waivers.yaml\n", encoding="utf-8")
    code, _, _ = run(capsys, *sides, "--config", str(config), "--format", "json")
    assert code == 0


def test_waiver_beyond_the_configured_horizon_is_warned_about(
    capsys: pytest.CaptureFixture[str], sides: tuple[Path, Path], tmp_path: Path
) -> None:
    write_waivers(tmp_path, "2026-08-01")
    config = tmp_path / "policyengine.yaml"
    config.write_text("waivers: waivers.yaml\nwaiver_max_days: 30\n", encoding="utf-8")
    code, out, _ = run(capsys, *sides, "--config", str(config), "--format", "json")
    assert code == 0
    assert any("maximum horizon" in w for w in json.loads(out)["warnings"])


def test_saved_json_result_as_base(
    capsys: pytest.CaptureFixture[str], sides: tuple[Path, Path], tmp_path: Path
) -> None:
    base, head = sides
    saved = tmp_path / "base-result.json"
    code = main(
        ["evaluate", "--snapshot", str(base), "--policies", str(POLICIES), "--format", "json",
         "-o", str(saved), "--now", "2026-06-20T00:00:00Z"]
    )  # fmt: skip
    capsys.readouterr()
    assert code == 1 and saved.exists()
    code, out, _ = run(capsys, saved, head, "--format", "json")
    assert code == 1
    assert by_change(json.loads(out)) == {
        "new": ["PE-GATE-001:eve"],
        "unchanged": ["PE-GATE-001:carol"],
        "resolved": ["PE-GATE-002:dave"],
    }


def test_saved_result_must_be_the_only_base(
    capsys: pytest.CaptureFixture[str], sides: tuple[Path, Path], tmp_path: Path
) -> None:
    base, head = sides
    saved = tmp_path / "r.json"
    saved.write_text(json.dumps({"schema_version": 1, "findings": []}), encoding="utf-8")
    code, _, err = run(capsys, [saved, base], head)
    assert code == 2 and "must be the only --base" in err


@pytest.mark.parametrize("side", ["head", "base"])
def test_incomplete_side_exits_3(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, side: str
) -> None:
    broken = {"base": side == "base", "head": side == "head"}
    base = snapshot(
        tmp_path / "b.json", BASE, "2026-06-01T00:00:00Z",
        fail="connector timed out" if broken["base"] else None,
    )  # fmt: skip
    head = snapshot(
        tmp_path / "h.json", BASE, "2026-06-20T00:00:00Z",
        fail="connector timed out" if broken["head"] else None,
    )  # fmt: skip
    code, out, _ = run(capsys, base, head, "--format", "json")
    assert code == 3
    assert json.loads(out)["summary"]["complete"] is False


def test_no_change_passes_and_fail_on_controls_the_threshold(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    base = snapshot(tmp_path / "b.json", BASE[:3], "2026-06-01T00:00:00Z")
    head_same = snapshot(tmp_path / "h.json", BASE[:3], "2026-06-20T00:00:00Z")
    assert run(capsys, base, head_same)[0] == 0
    # a new low finding: passes at the default threshold (high), fails at low
    head_low = snapshot(tmp_path / "h2.json", BASE, "2026-06-20T00:00:00Z")
    assert run(capsys, base, head_low)[0] == 0
    assert run(capsys, base, head_low, "--fail-on", "low")[0] == 1
    # fail_on from the config file
    config = tmp_path / "policyengine.yaml"
    config.write_text("fail_on: low\n", encoding="utf-8")
    assert run(capsys, base, head_low, "--config", str(config))[0] == 1
    head_eve = snapshot(tmp_path / "h3.json", [*BASE, EVE], "2026-06-20T00:00:00Z")
    assert run(capsys, base, head_eve, "--fail-on", "none")[0] == 0
    assert run(capsys, base, head_eve, "--fail-on", "critical")[0] == 1


@pytest.mark.parametrize("fmt", ["text", "junit", "markdown", "csv"])
def test_every_format_renders_the_diff(
    capsys: pytest.CaptureFixture[str], sides: tuple[Path, Path], tmp_path: Path, fmt: str
) -> None:
    out_file = tmp_path / f"report.{fmt}"
    code, stdout, _ = run(capsys, *sides, "--format", fmt, "--output", str(out_file))
    assert code == 1 and stdout == ""
    text = out_file.read_text("utf-8")
    assert "eve" in text
    if fmt == "markdown":
        assert text.startswith("### policyengine diff: FAILED: 1 new finding(s) at or above high")
    if fmt == "csv":
        assert "new,critical,PE-GATE-001" in text


def test_bad_waivers_file_is_a_config_error_with_position(
    capsys: pytest.CaptureFixture[str], sides: tuple[Path, Path], tmp_path: Path
) -> None:
    bad = tmp_path / "waivers.yaml"
    bad.write_text("waivers:\n  - policy: PE-GATE-001\n    fingerprint: nope\n", encoding="utf-8")
    code, _, err = run(capsys, *sides, "--waivers", str(bad))
    assert code == 2
    assert f"{bad}:2:5" in err or f"{bad}:3:" in err


def test_console_entry_point(sides: tuple[Path, Path]) -> None:
    base, head = sides
    proc = subprocess.run(
        [sys.executable, "-m", "policyengine", "diff", "--base", str(base), "--head", str(head),
         "--policies", str(POLICIES), "--format", "markdown"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "New findings (1)" in proc.stdout


def test_gzip_saved_result_is_detected_by_content(
    capsys: pytest.CaptureFixture[str], sides: tuple[Path, Path], tmp_path: Path
) -> None:
    import gzip

    base, head = sides
    code, out, _ = run(capsys, base, base, "--format", "json")
    assert code == 0  # nothing new: carol is unchanged
    saved = tmp_path / "previous-run.data"  # the name says nothing
    saved.write_bytes(gzip.compress(out.encode()))
    code, out, _ = run(capsys, saved, head, "--format", "json")
    assert code == 1
    assert by_change(json.loads(out))["new"] == ["PE-GATE-001:eve"]


def test_malformed_saved_result_is_an_error_not_a_traceback(
    capsys: pytest.CaptureFixture[str], sides: tuple[Path, Path], tmp_path: Path
) -> None:
    _, head = sides
    saved = tmp_path / "r.json"
    saved.write_text(json.dumps({"schema_version": 1, "findings": [{"policy_id": "X"}]}))
    code, _, err = run(capsys, saved, head)
    assert code == 2
    assert str(saved) in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("spoil", "fld"),
    [
        (lambda d: d.update(schema_version=99), "schema_version"),
        (lambda d: d.update(schema_version="1"), "schema_version"),
        (lambda d: d["findings"][0].update(severity="urgent"), "findings[0].severity"),
        (lambda d: d["findings"][0].update(fingerprint=None), "findings[0].fingerprint"),
        (lambda d: d["findings"][0].update(fingerprint=""), "findings[0].fingerprint"),
        (lambda d: d["policies"][0].update(severity="urgent"), "policies[0].severity"),
        (lambda d: d["sources"][0].update(complete="false"), "sources[0].complete"),
    ],
)
def test_a_saved_base_with_a_field_we_cannot_judge_is_refused(
    capsys: pytest.CaptureFixture[str], sides: tuple[Path, Path], tmp_path: Path, spoil, fld
) -> None:
    """Section 7: unknown schema_version, unknown severity, null fingerprint -> exit 2."""
    base, head = sides
    assert (
        main(
            [
                "evaluate",
                "-s",
                str(base),
                "--policies",
                str(POLICIES),
                "--format",
                "json",
                "--fail-on",
                "none",
            ]
        )
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc["findings"], "the base needs a finding to spoil"
    spoil(doc)
    saved = tmp_path / "spoiled.json"
    saved.write_text(json.dumps(doc), encoding="utf-8")
    code, _, err = run(capsys, saved, head)
    assert code == 2
    (line,) = err.strip().splitlines()
    assert f"{saved}: field '{fld}'" in line
