"""The HTML report: self-contained, escaped, readable without JS, checked in real Chromium."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
import structlog

from policyengine.findings.model import (
    Evidence,
    Finding,
    PolicyInfo,
    ResourceRef,
    Result,
    SourceStatus,
    WaiverStatus,
    fingerprint,
)
from policyengine.report import ReportOptions, render

XSS = "<script>alert(1)</script>"
NOW = "2026-11-01T06:00:00Z"


def _finding(policy: str, severity: str, name: str, source: str = "corp", **kw) -> Finding:
    return Finding(
        policy_id=policy,
        severity=severity,
        title=f"Title of {policy}",
        resource=ResourceRef("account", source, f"id-{name}", name),
        message=f"{name} has no phishing-resistant MFA",
        evidence=(Evidence("mfa.methods", ["sms", XSS], "contains any of fido2"),),
        remediation=f"Register a FIDO2 key for {name}.",
        frameworks={"nist-800-53": ("IA-2(1)",)},
        fingerprint=fingerprint(policy, "account", source, name),
        **kw,
    )


def _result(*, complete: bool = True) -> Result:
    findings = (
        _finding("PE-MFA-002", "critical", XSS),
        _finding("PE-MFA-002", "critical", "bob"),
        _finding("PE-SES-001", "high", "carol", "sf"),
        _finding(
            "PE-MFA-001",
            "medium",
            "dave",
            waived=True,
            waiver=WaiverStatus("vendor migration", "alice", "2026-12-31", "SEC-42"),
        ),
    )
    sources = (
        SourceStatus("ldap", "corp", NOW, True, counts={"account": 3}),
        SourceStatus(
            "okta", "okta", NOW, complete, () if complete else ("HTTP 503 after retries",)
        ),
    )
    policies = (PolicyInfo("PE-MFA-002", "t", "critical", "account"),)
    return Result(findings, policies, sources, NOW)


HISTORY = (
    {"id": 1, "started_at": "2026-10-31T06:00:00Z", "open": 4, "new": 4, "resolved": 0,
     "still_open": 0, "carried": 0, "waived": 1, "complete": True, "missing": [],
     "by_severity": {"critical": 2, "high": 2}},
    {"id": 2, "started_at": NOW, "open": 3, "new": 0, "resolved": 1, "still_open": 3,
     "carried": 0, "waived": 1, "complete": True, "missing": [],
     "by_severity": {"critical": 2, "high": 1}},
)  # fmt: skip


def _page(**kw) -> str:
    return render("html", _result(**kw), ReportOptions(history=HISTORY))


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


def test_every_value_is_escaped():
    page = _page()
    assert XSS not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert [t for t, _ in _tags(page)].count("script") == 1  # ours only


def test_self_contained_no_external_assets():
    page = _page()
    for tag, attrs in _tags(page):
        assert tag not in ("link", "img", "iframe", "object", "embed")
        for name in ("src", "href"):
            assert not attrs.get(name), (tag, attrs)
    assert "@import" not in page and "url(" not in page


def test_content_security_policy_pins_our_script_by_hash():
    page = _page()
    script = re.search(r"<script>(.*?)</script>", page, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in page
    assert "default-src 'none'" in page


def test_findings_grouped_by_severity_then_policy_waived_apart():
    page = _page()
    sev_order = re.findall(r'class="sev-group" data-severity="(\w+)"', page)
    assert sev_order == ["critical", "high"]
    assert page.index('data-policy="PE-MFA-002"') < page.index('data-policy="PE-SES-001"')
    waived = page[page.index('id="waived"') :]
    assert "dave" in waived and "2026-12-31" in waived and "SEC-42" in waived
    assert 'data-fingerprint="' + fingerprint("PE-MFA-001", "account", "corp", "dave") in waived
    assert "Register a FIDO2 key for bob." in page  # remediation shown


def test_missing_data_banner_only_when_incomplete():
    assert 'id="missing-data"' not in _page()
    page = _page(complete=False)
    banner = page[page.index('id="missing-data"') : page.index("</section>")]
    assert "INCOMPLETE" in banner and "okta" in banner and "HTTP 503 after retries" in banner


def test_trend_chart_and_table_from_history():
    page = _page()
    assert page.count('<g class="bar"') == 2
    assert re.search(r'<tr data-run="2" data-open="3" data-new="0" data-resolved="1"', page)
    assert ">\u22121</text>" in page  # resolved marker (minus sign) under run 2


def test_no_history_no_trend_and_no_findings_message():
    page = render("html", Result((), (), (), NOW), ReportOptions())
    assert 'id="trend"' not in page and "No findings" in page


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM
    cmd = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=False)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")
def test_rendered_in_headless_chromium(tmp_path):
    report = tmp_path / "report.html"
    report.write_text(_page(complete=False), encoding="utf-8")
    dom = _chromium(tmp_path, "--dump-dom", report.as_uri()).stdout
    assert "<html" in dom, "chromium produced no DOM"
    # JS ran (CSP allowed our hashed script): the filter form is shown.
    assert re.search(r'<form class="filters" id="filters"(?! hidden)', dom)
    assert 'class="js"' in dom
    # The hostile resource name is text in the DOM, and no script was injected.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert dom.count("<script") == 1
    assert 'id="missing-data"' in dom and 'id="trend"' in dom
    shot = tmp_path / "report.png"
    _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", report.as_uri())
    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank canvas


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")
def test_search_and_filters_run_in_chromium(tmp_path):
    report = tmp_path / "report.html"
    report.write_text(_page(), encoding="utf-8")

    def visible(fragment: str) -> tuple[set[str], str]:
        dom = _chromium(tmp_path, "--dump-dom", report.as_uri() + fragment).stdout
        tags = re.findall(r'<details class="finding"[^>]*>', dom)
        shown = {
            re.search(r'data-fingerprint="(\w+)"', t).group(1) for t in tags if " hidden" not in t
        }
        return shown, re.search(r'id="shown-count">(\d+)<', dom).group(1)

    bob = fingerprint("PE-MFA-002", "account", "corp", "bob")
    carol = fingerprint("PE-SES-001", "account", "sf", "carol")
    assert visible("#q=bob") == ({bob}, "1")
    assert visible("#sev=high") == ({carol}, "1")


def test_evaluate_format_html(tmp_path, capsys):
    from policyengine.cli.main import main
    from policyengine.snapshot import SnapshotWriter

    (tmp_path / "p.yaml").write_text(
        "id: T-1\ntitle: MFA\nseverity: high\nresource: account\n"
        "require: {mfa.enrolled: true}\nremediation: Enrol {name}.\n"
    )
    snap = tmp_path / "corp.jsonl"
    with SnapshotWriter(snap, connector="okta", instance="corp", collected_at=NOW) as w:
        w.add({"kind": "account", "id": "u1", "name": XSS, "mfa": {"enrolled": False}})
    out = tmp_path / "r.html"
    code = main(["evaluate", "--policies", str(tmp_path / "p.yaml"), "-s", str(snap),
                 "--format", "html", "-o", str(out), "--fail-on", "none"])  # fmt: skip
    structlog.reset_defaults()  # main() pointed structlog at this test's captured stderr
    assert code == 0
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "Enrol &lt;script&gt;" in page
    assert 'id="trend"' not in page


def test_long_policy_lists_are_capped_with_a_pointer_to_the_rest():
    many = tuple(_finding("PE-MFA-002", "critical", f"user{i}") for i in range(12))
    result = Result(many, (), (SourceStatus("ldap", "corp", NOW, True),), NOW)
    page = render("html", result, ReportOptions(extra={"max_per_policy": 5}))
    assert page.count('<details class="finding"') == 5
    assert "and 7 more PE-MFA-002 findings" in page
    assert 'id="card-open">' in page and ">12</div>" in page  # counts stay whole
