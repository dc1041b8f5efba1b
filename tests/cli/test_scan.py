"""``policyengine scan`` and ``policyengine history`` end to end (the issue's Done-when)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import structlog

from policyengine.cli.main import main
from policyengine.snapshot import SnapshotWriter, open_snapshot

NOW = "2026-11-01T00:00:00Z"
POLICIES = {
    "mfa.yaml": """\
        id: T-MFA-001
        title: Enabled accounts enrol MFA
        severity: high
        resource: account
        match: {enabled: true}
        require: {mfa.enrolled: true}
        message: "{name} has no MFA"
        remediation: Enrol MFA for {name} in {source}.
        """,
    "owner.yaml": """\
        id: T-SVC-001
        title: Service accounts have an owner
        severity: medium
        resource: account
        match: {type: service}
        require: {owner: {exists: true}}
        remediation: Name an owner for {name}.
        """,
}


@pytest.fixture(autouse=True)
def _reset_logging():
    """main() points structlog at this test's captured stderr; do not leak it."""
    yield
    structlog.reset_defaults()


def _policies(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    for name, text in POLICIES.items():
        (folder / name).write_text(textwrap.dedent(text))
    return folder


def _snapshot(path: Path, instance: str, accounts: list[dict[str, Any]], *, complete=True) -> Path:
    with SnapshotWriter(path, connector="okta", instance=instance, collected_at=NOW) as w:
        for a in accounts:
            w.add({"kind": "account", "name": a["id"], "enabled": True, "type": "human", **a})
        if not complete:
            w.fail("HTTP 503 from /api/v1/users after 5 retries")
    return path


def _scan(capsys, *args: str) -> tuple[int, str]:
    code = main(["--log-level", "error", "scan", *args])
    return code, capsys.readouterr().out


def _history(capsys, *args: str) -> dict[str, Any]:
    assert main(["history", "--format", "json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def _report_for(out: str) -> Path:
    return Path(re.search(r"report: (\S+report\.html)", out).group(1))


def _trend_rows(html: str) -> dict[int, dict[str, str]]:
    rows = re.findall(r"<tr (data-run=[^>]+)>", html)
    return {
        int(d["run"]): d for d in (dict(re.findall(r'data-([\w-]+)="([^"]*)"', r)) for r in rows)
    }


def test_done_when_fix_one_finding_then_a_source_fails(tmp_path, monkeypatch, capsys):
    """Two scans with one finding fixed between them, then a third with a failed source."""
    monkeypatch.chdir(tmp_path)
    pol = str(_policies(tmp_path))
    people = [{"id": "u1", "mfa": {"enrolled": False}}, {"id": "u2"}, {"id": "u3"}]
    corp = _snapshot(tmp_path / "s1" / "corp.jsonl", "corp", people)
    sf = _snapshot(tmp_path / "s1" / "sf.jsonl.gz", "sf", [{"id": "s1", "type": "service"}])

    code, out = _scan(capsys, "--policies", pol, "-s", str(corp), "-s", str(sf))
    assert code == 0, out
    assert "open 5: new 5" in out  # u1 u2 u3 s1 (MFA) + s1 (owner)

    fixed = [{"id": "u1", "mfa": {"enrolled": True}}, {"id": "u2"}, {"id": "u3"}]
    corp2 = _snapshot(tmp_path / "s2" / "corp.jsonl", "corp", fixed)
    code, out = _scan(capsys, "--policies", pol, "-s", str(corp2), "-s", str(sf))
    assert code == 0
    assert "open 4: new 0 · still open 4 | resolved 1" in out
    rows = _trend_rows(_report_for(out).read_text())
    assert rows[2]["resolved"] == "1" and rows[2]["still-open"] == "4" and rows[2]["new"] == "0"
    assert rows[1]["new"] == "5"

    # Third scan: corp fails half-way (complete: false, u2 missing from its data).
    corp3 = _snapshot(tmp_path / "s3" / "corp.jsonl", "corp", [{"id": "u3"}], complete=False)
    code, out = _scan(capsys, "--policies", pol, "-s", str(corp3), "-s", str(sf))
    assert code == 3
    assert "INCOMPLETE: data missing from corp" in out and "HTTP 503" in out
    html = _report_for(out).read_text()
    assert 'id="missing-data"' in html
    assert _trend_rows(html)[3]["resolved"] == "0" and _trend_rows(html)[3]["complete"] == "false"

    doc = _history(capsys)
    runs = doc["runs"]
    assert [(r["open"], r["new"], r["resolved"], r["still_open"]) for r in runs[:2]] == [
        (5, 5, 0, 0),
        (4, 0, 1, 4),
    ]
    assert runs[2]["resolved"] == 0 and runs[2]["complete"] is False
    assert runs[2]["missing"] == ["corp"] and runs[2]["carried"] == 1  # u2 kept open
    assert main(["history", "--findings", "open", "--format", "json"]) == 0
    open_ids = {f["resource"]["id"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert open_ids == {"u2", "u3", "s1"}  # corp's u2 was not resolved by missing data

    assert main(["history"]) == 0
    text = capsys.readouterr().out
    assert re.search(r"#2 .* 4 +0 +1 +4 ", text)
    assert "INCOMPLETE: corp" in text and "Mean time to remediate" in text


def test_history_filters_by_policy_and_since(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    pol = str(_policies(tmp_path))
    snap = _snapshot(tmp_path / "corp.jsonl", "corp", [{"id": "u1", "type": "service"}])
    assert _scan(capsys, "--policies", pol, "-s", str(snap))[0] == 0
    doc = _history(capsys, "--policy", "T-SVC-001")
    assert doc["runs"][0]["open"] == 1 and doc["runs"][0]["by_severity"]["medium"] == 1
    assert _history(capsys, "--since", "2999-01-01")["runs"] == []
    assert main(["history", "--since", "not-a-date"]) == 2
    assert "--since" in capsys.readouterr().err


def test_fail_on_and_exit_codes(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    pol = str(_policies(tmp_path))
    snap = _snapshot(tmp_path / "corp.jsonl", "corp", [{"id": "u1"}])
    assert _scan(capsys, "--policies", pol, "-s", str(snap))[0] == 0  # no --fail-on: report only
    assert _scan(capsys, "--policies", pol, "-s", str(snap), "--fail-on", "high")[0] == 1
    assert _scan(capsys, "--policies", pol, "-s", str(snap), "--fail-on", "critical")[0] == 0


def test_config_with_a_failing_connector_instance_exits_3(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _policies(tmp_path)
    access = tmp_path / "access.yaml"
    access.write_text("accounts:\n  - {id: u1, name: u1, enabled: true, type: human}\n")
    (tmp_path / "policyengine.yaml").write_text(
        textwrap.dedent(
            f"""\
            policy_paths: [policies/]
            history: state/history.db
            output_dir: out/
            connectors:
              - instance: access
                type: file
                path: ["{access}"]
              - instance: gone
                type: file
                path: ["{tmp_path / "missing.yaml"}"]
            """
        )
    )
    code, out = _scan(capsys, "--config", "policyengine.yaml")
    assert code == 3
    assert "INCOMPLETE: data missing from gone" in out
    assert (tmp_path / "state" / "history.db").is_file()
    (run_dir,) = (tmp_path / "out").iterdir()
    assert (run_dir / "snapshots" / "access.jsonl.gz").is_file()
    assert {"result.json", "report.html", "summary.md"} <= {p.name for p in run_dir.iterdir()}


def test_no_connectors_and_no_snapshot_is_a_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["scan"]) == 2
    assert "no connectors configured" in capsys.readouterr().err


def test_second_scan_fails_cleanly_while_one_holds_the_history(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    pol = str(_policies(tmp_path))
    snap = _snapshot(tmp_path / "corp.jsonl", "corp", [{"id": "u1"}])
    hold = (
        "import sys, time\nfrom pathlib import Path\nfrom policyengine.history import ScanLock\n"
        "with ScanLock(Path(sys.argv[1])):\n    print('held', flush=True)\n    time.sleep(30)\n"
    )
    lock = tmp_path / ".policyengine" / "history.db.lock"
    holder = subprocess.Popen([sys.executable, "-c", hold, str(lock)], stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"held"
        code = main(["scan", "--policies", pol, "-s", str(snap)])
        err = capsys.readouterr().err
    finally:
        holder.kill()
        holder.wait()
    assert code == 2 and "another scan is using this history" in err
    assert not (tmp_path / "runs").exists()  # nothing half-done
    assert _scan(capsys, "--policies", pol, "-s", str(snap))[0] == 0


# -- the bundled demo ------------------------------------------------------------


def _demo_paths() -> list[Path]:
    from policyengine.demo import demo_snapshot_paths

    return [Path(p) for p in demo_snapshot_paths()]


def _rewrite(
    src: Path, dst: Path, *, drop: set[str] = frozenset(), fail: str | None = None
) -> None:
    reader = open_snapshot(src)
    s = reader.source
    with SnapshotWriter(
        dst, connector=s.connector, instance=s.instance, collected_at=s.collected_at
    ) as w:
        for record in reader.records():
            if record["id"] in drop:
                continue
            record.pop("source_type", None)
            w.add(record)
        for error in s.errors:
            w.fail(error)
        if fail:
            w.fail(fail)


def test_demo_smoke(tmp_path, monkeypatch, capsys):
    _demo_paths()
    monkeypatch.chdir(tmp_path)
    code, out = _scan(capsys, "--demo")
    assert code in (0, 3), out
    assert (tmp_path / ".policyengine" / "demo-history.db").is_file()
    assert _report_for(out).is_file()
    assert main(["history", "--demo"]) == 0
    assert "#1" in capsys.readouterr().out


def test_done_when_over_the_demo_snapshots(tmp_path, monkeypatch, capsys):
    """The issue's Done-when, over copies of the bundled demo data."""
    from policyengine.api import evaluate_snapshots, load_policy_set

    demo = _demo_paths()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "v1").mkdir()
    copies = [Path(shutil.copy(p, tmp_path / "v1" / p.name)) for p in demo]
    policy_set = load_policy_set()
    before = evaluate_snapshots(copies, policy_set)
    assert before.complete, "the bundled demo data must be complete"
    fps = {f.fingerprint for f in before.findings}
    # Find a resource whose removal makes exactly one finding disappear.
    per_resource: dict[tuple[str, str], list[Any]] = {}
    for f in before.findings:
        per_resource.setdefault((f.resource.source, f.resource.id), []).append(f)
    (tmp_path / "v2").mkdir()
    chosen = None
    for (source, rid), found in list(per_resource.items())[:40]:
        if len(found) != 1:
            continue
        v2 = []
        for p in copies:
            target = tmp_path / "v2" / p.name
            if open_snapshot(p).source.instance == source:
                _rewrite(p, target, drop={rid})
            else:
                shutil.copy(p, target)
            v2.append(target)
        after = {f.fingerprint for f in evaluate_snapshots(v2, policy_set).findings}
        if after == fps - {found[0].fingerprint}:
            chosen = (source, found[0], v2)
            break
    assert chosen, "no demo resource whose removal fixes exactly one finding"
    source, fixed, v2 = chosen
    total = len(before.active())

    args = [a for p in copies for a in ("-s", str(p))]
    assert _scan(capsys, *args)[0] == 0
    code, out = _scan(capsys, *[a for p in v2 for a in ("-s", str(p))])
    assert code == 0
    rows = _trend_rows(_report_for(out).read_text())
    assert rows[2]["resolved"] == "1" and int(rows[2]["still-open"]) == total - 1
    runs = _history(capsys)["runs"]
    assert runs[1]["resolved"] == 1 and runs[1]["still_open"] == total - 1

    # Third scan: the fixed finding's source fails (complete: false, data missing).
    (tmp_path / "v3").mkdir()
    v3 = []
    for p in v2:
        target = tmp_path / "v3" / p.name
        if open_snapshot(p).source.instance == source:
            _rewrite(p, target, drop=set(), fail="connector failed: HTTP 503")
        else:
            shutil.copy(p, target)
        v3.append(target)
    code, out = _scan(capsys, *[a for p in v3 for a in ("-s", str(p))])
    assert code == 3 and f"INCOMPLETE: data missing from {source}" in out
    runs = _history(capsys)["runs"]
    assert runs[2]["resolved"] == 0 and runs[2]["missing"] == [source]
    assert main(["history", "--findings", "open", "--format", "json"]) == 0
    still = json.loads(capsys.readouterr().out)["findings"]
    # folded (superseded) findings stay open in history too: they still fail
    assert sum(1 for f in still if f["resource"]["source"] == source) == sum(
        1 + len(f.folded) for f in before.active() if f.resource.source == source and f is not fixed
    )


def test_terminal_output_neutralises_escape_sequences(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    pol = str(_policies(tmp_path))
    snap = _snapshot(tmp_path / "corp.jsonl", "corp", [{"id": "evil\x1b[2J"}])
    assert _scan(capsys, "--policies", pol, "-s", str(snap))[0] == 0
    assert main(["history", "--findings", "all"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "corp/evil\\x1b[2J" in out


def test_two_scan_processes_at_once_take_turns(tmp_path):
    """Real processes: with --lock-timeout the second waits; both runs are recorded."""
    pol = _policies(tmp_path)
    snap = _snapshot(tmp_path / "corp.jsonl", "corp", [{"id": "u1"}])
    cmd = [sys.executable, "-m", "policyengine", "--log-format", "json", "scan",
           "--policies", str(pol), "-s", str(snap), "--lock-timeout", "60"]  # fmt: skip
    procs = [
        subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    import sqlite3

    db = sqlite3.connect(tmp_path / ".policyengine" / "history.db")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    rows = db.execute("SELECT id, new, still_open FROM runs ORDER BY id").fetchall()
    assert rows == [(1, 1, 0), (2, 0, 1)]
    assert len(list((tmp_path / "runs").iterdir())) == 2


def test_ci_examples_parse_and_use_real_options():
    """The CronJob and the scheduled workflow call options that exist (no docs rot)."""
    import shlex

    import yaml

    from policyengine.cli.main import build_parser

    root = Path(__file__).resolve().parents[2]
    docs = list(yaml.safe_load_all((root / "ci" / "kubernetes-cronjob.yaml").read_text()))
    (job,) = [d for d in docs if d["kind"] == "CronJob"]
    assert job["spec"]["concurrencyPolicy"] == "Forbid"
    args = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]
    config = yaml.safe_load(
        next(d for d in docs if d["kind"] == "ConfigMap")["data"]["policyengine.yaml"]
    )
    assert {c["type"] for c in config["connectors"]} <= {"ldap", "okta", "salesforce", "file"}
    build_parser(args).parse_args(args)  # exits (SystemExit) on an unknown option

    workflow = yaml.safe_load((root / "ci" / "github-actions-scheduled-scan.yml").read_text())
    steps = workflow["jobs"]["scan"]["steps"]
    (scan,) = [s for s in steps if s.get("id") == "scan"]
    line = " ".join(scan["run"].replace("\\\n", " ").split())
    argv = shlex.split(line[line.index("policyengine ") :].split(";")[0])[1:]
    argv = [a for a in argv if not a.startswith("echo")][: argv.index("--retries") + 2]
    build_parser(argv).parse_args(argv)
