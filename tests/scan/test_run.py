"""run_scan: run folders, fail-closed history, reports, waivers, connector failures."""

from __future__ import annotations

import json
import re

import pytest

from policyengine.api import load_policy_set
from policyengine.scan import InstanceSpec, ScanPlan, run_scan, scan_exit_code, text_summary

from .conftest import account, write_snapshot


def _clock(*stamps: str):
    it = iter(stamps)
    return lambda: next(it)


def _plan(tmp_path, policies, **kw) -> ScanPlan:
    return ScanPlan(
        policy_set=load_policy_set([policies]),
        output_dir=tmp_path / "runs",
        history_path=tmp_path / "h.db",
        **kw,
    )


def test_run_folder_holds_snapshots_result_report_and_summary(tmp_path, policies):
    snap = write_snapshot(tmp_path / "corp.jsonl", "corp", [account("u1"), account("u2", mfa=True)])
    outcome = run_scan(
        _plan(tmp_path, policies, snapshots=(snap,)),
        clock=_clock("2026-11-01T06:00:00Z", "2026-11-01T06:00:05Z"),
    )
    run_dir = tmp_path / "runs" / "2026-11-01T060000Z"
    assert outcome.run_dir == run_dir
    assert (run_dir / "snapshots" / "corp.jsonl").is_file()
    result = json.loads((run_dir / "result.json").read_text())
    assert [f["resource"]["id"] for f in result["findings"]] == ["u1"]
    assert "<!DOCTYPE html>" in (run_dir / "report.html").read_text()
    assert "| open | new |" in (run_dir / "summary.md").read_text()
    assert outcome.changes.run.new == 1
    assert scan_exit_code(outcome, None) == 0
    assert scan_exit_code(outcome, "high") == 1
    assert scan_exit_code(outcome, "critical") == 0


def test_two_runs_in_one_second_get_separate_folders(tmp_path, policies):
    snap = write_snapshot(tmp_path / "corp.jsonl", "corp", [account("u1")])
    plan = _plan(tmp_path, policies, snapshots=(snap,))
    first = run_scan(plan, clock=_clock("2026-11-01T06:00:00Z", "2026-11-01T06:00:00Z"))
    second = run_scan(plan, clock=_clock("2026-11-01T06:00:00Z", "2026-11-01T06:00:00Z"))
    assert first.run_dir != second.run_dir and second.run_dir.name.endswith("-2")


def test_fixed_finding_is_resolved_and_summary_says_so(tmp_path, policies):
    bad = write_snapshot(tmp_path / "a" / "corp.jsonl", "corp", [account("u1"), account("u2")])
    run_scan(_plan(tmp_path, policies, snapshots=(bad,)), clock=_clock("2026-11-01T06:00:00Z", "x"))
    fixed = write_snapshot(
        tmp_path / "b" / "corp.jsonl", "corp", [account("u1", mfa=True), account("u2")]
    )
    outcome = run_scan(
        _plan(tmp_path, policies, snapshots=(fixed,)), clock=_clock("2026-11-02T06:00:00Z", "y")
    )
    run = outcome.changes.run
    assert (run.new, run.resolved, run.still_open, run.open) == (0, 1, 1, 1)
    text = text_summary(outcome, outcome.reports)
    assert "resolved 1" in text and "still open 1" in text and "INCOMPLETE" not in text
    html = outcome.reports["html"].read_text()
    assert 'data-run="2" data-open="1" data-new="0" data-resolved="1" data-still-open="1"' in html


def test_incomplete_snapshot_keeps_its_findings_open_and_exits_3(tmp_path, policies):
    corp = write_snapshot(tmp_path / "a" / "corp.jsonl", "corp", [account("u1")])
    sf = write_snapshot(tmp_path / "a" / "sf.jsonl", "sf", [account("s1")])
    run_scan(
        _plan(tmp_path, policies, snapshots=(corp, sf)), clock=_clock("2026-11-01T06:00:00Z", "x")
    )
    # corp failed half-way: u1 is missing from its data; sf fixed s1.
    corp2 = write_snapshot(tmp_path / "b" / "corp.jsonl", "corp", [], complete=False)
    sf2 = write_snapshot(tmp_path / "b" / "sf.jsonl", "sf", [account("s1", mfa=True)])
    outcome = run_scan(
        _plan(tmp_path, policies, snapshots=(corp2, sf2)), clock=_clock("2026-11-02T06:00:00Z", "y")
    )
    run = outcome.changes.run
    assert run.resolved == 1 and run.carried == 1 and run.open == 1
    assert [c.resource_id for c in outcome.changes.carried] == ["u1"]
    assert scan_exit_code(outcome, None) == 3
    text = text_summary(outcome, outcome.reports)
    assert "INCOMPLETE: data missing from corp" in text and "HTTP 503" in text
    html = outcome.reports["html"].read_text()
    assert 'id="missing-data"' in html and 'id="carried"' in html
    # The cards agree with the trend: u1 (not re-checked) still counts as open.
    card = re.search(r'id="card-open">.*?card-value">(\d+)<.*?card-sub">([^<]*)<', html, re.S)
    assert card.groups() == ("1", "1 not re-checked · 0 waived")


def test_connector_that_fails_marks_its_source_incomplete(tmp_path, policies):
    good = tmp_path / "access.yaml"
    good.write_text("accounts:\n  - {id: u1, name: u1, enabled: true, type: human}\n")
    instances = (
        InstanceSpec("access", "file", {"path": [str(good)]}),
        InstanceSpec("broken", "file", {"path": [str(tmp_path / "does-not-exist.yaml")]}),
    )
    outcome = run_scan(
        _plan(tmp_path, policies, instances=instances, retries=1),
        clock=_clock("2026-11-01T06:00:00Z", "x"),
    )
    by_name = {s.instance: s for s in outcome.result.sources}
    assert by_name["broken"].complete is False and by_name["broken"].errors
    assert scan_exit_code(outcome, None) == 3
    assert (outcome.run_dir / "snapshots").is_dir()


def test_unknown_connector_type_is_a_usage_error_before_anything_runs(tmp_path, policies):
    from policyengine.errors import UsageError

    plan = _plan(tmp_path, policies, instances=(InstanceSpec("x", "no-such-connector", {}),))
    with pytest.raises(UsageError, match="no-such-connector"):
        run_scan(plan)
    assert not (tmp_path / "runs").exists()


def test_waivers_hide_a_finding_and_history_counts_it_waived(tmp_path, policies):
    snap = write_snapshot(tmp_path / "corp.jsonl", "corp", [account("u1"), account("u2")])
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "waivers:\n"
        "  - policy: T-MFA-001\n"
        "    resource: {source: corp, id: u2}\n"
        "    reason: hardware key on order\n"
        "    owner: secops@example.com\n"
        "    expires: 2026-12-01\n"
    )
    outcome = run_scan(
        _plan(tmp_path, policies, snapshots=(snap,), waivers_path=waivers),
        clock=_clock("2026-11-01T06:00:00Z", "x"),
    )
    assert outcome.changes.run.waived == 1 and outcome.changes.run.open == 1
    html = outcome.reports["html"].read_text()
    assert "hardware key on order" in html[html.index('id="waived"') :]


def test_a_waiver_module_that_cannot_be_imported_fails_the_scan_loudly(
    tmp_path, policies, monkeypatch
):
    # was: the scan reported every finding as active with a warning; an import bug must not
    # degrade quietly
    import sys

    from policyengine.history import HistoryStore

    monkeypatch.setitem(sys.modules, "policyengine.findings.waivers", None)  # import fails
    snap = write_snapshot(tmp_path / "corp.jsonl", "corp", [account("u1")])
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("waivers: []\n")
    with pytest.raises(ImportError, match=r"policyengine\.findings\.waivers"):
        run_scan(
            _plan(tmp_path, policies, snapshots=(snap,), waivers_path=waivers),
            clock=_clock("2026-11-01T06:00:00Z", "x"),
        )
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["2026-11-01T060000Z.failed"]
    with HistoryStore.open(tmp_path / "h.db") as store:
        assert store.runs() == []


def test_a_scan_that_fails_leaves_a_failed_folder_and_no_history(tmp_path, policies):
    from policyengine.errors import UsageError
    from policyengine.history import HistoryStore

    plan = _plan(tmp_path, policies, snapshots=(tmp_path / "nope.jsonl",))
    with pytest.raises(UsageError, match="not found"):
        run_scan(plan, clock=_clock("2026-11-01T06:00:00Z"))
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["2026-11-01T060000Z.failed"]
    with HistoryStore.open(tmp_path / "h.db") as store:
        assert store.runs() == []


def test_a_failed_run_of_the_same_second_keeps_its_folder(tmp_path):
    from policyengine.scan import make_run_dir

    first = make_run_dir(tmp_path, "2026-11-01T06:00:00Z")
    first.rename(first.with_name(first.name + ".failed"))
    # reusing the bare name would make the next failure's rename collide with it
    assert make_run_dir(tmp_path, "2026-11-01T06:00:00Z").name == "2026-11-01T060000Z-2"


def test_unknown_connector_option_is_a_config_error_naming_the_config_line(tmp_path, policies):
    from policyengine.errors import ConfigError, Location

    where = Location("policyengine.yaml", 7)
    spec = InstanceSpec("access", "file", {"path": ["a.yaml"], "pathz": 1}, where)
    with pytest.raises(ConfigError, match=r"^policyengine.yaml:7: connector 'access': .*'pathz'"):
        run_scan(_plan(tmp_path, policies, instances=(spec,)))
    assert not (tmp_path / "runs").exists()


def test_every_registered_format_is_written_to_the_file_its_module_names(tmp_path, policies):
    from policyengine.report import FORMATS, file_name

    snap = write_snapshot(tmp_path / "corp.jsonl", "corp", [account("u1")])
    outcome = run_scan(
        _plan(tmp_path, policies, snapshots=(snap,), reports=tuple(FORMATS)),
        clock=_clock("2026-11-01T06:00:00Z", "2026-11-01T06:00:05Z"),
    )
    for fmt in FORMATS:
        assert outcome.reports[fmt] == outcome.run_dir / file_name(fmt)
        assert outcome.reports[fmt].stat().st_size > 0, fmt
