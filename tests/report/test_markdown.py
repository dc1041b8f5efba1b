"""Markdown PR comment: verdict, counts, new findings, fixes, the rest collapsed."""

from __future__ import annotations

from policyengine.report import ReportOptions, render
from policyengine.report.markdown import MAX_ROWS
from tests.findings.samples import diffed_result, finding, plain_result, result


def test_diff_summary_leads_with_the_verdict_and_new_findings() -> None:
    md = render("markdown", diffed_result(), ReportOptions(diff=True, fail_on="high"))
    lines = md.splitlines()
    assert lines[0] == "### policyengine diff: FAILED: 2 new finding(s) at or above high"
    assert "| 2 | 1 | 1 | 1 |" in md  # new, unchanged, resolved, waived
    new_section = md.split("#### New findings (2)")[1].split("#### How to fix")[0]
    assert (
        "| critical | PE-MFA-002 | `corp-ad/u9` alice-admin (access/admins.yaml:12) "
        "| alice-admin uses sms only |"
    ) in new_section
    assert "| high | PE-INT-001 | `sf/app1` | app1 uses sms only (waiver expired 2026-01-01) |" in (
        new_section
    )
    fixes = md.split("#### How to fix")[1].split("<details>")[0]
    assert "Register a FIDO2 key for alice" in fixes
    assert "<details><summary>Unchanged findings (1)</summary>" in md
    assert "<details><summary>Resolved findings (1)</summary>" in md
    assert "<details><summary>Waived findings (1)</summary>" in md
    # "@" gets a zero-width space: GitHub would autolink the address (see test_markdown_gfm)
    assert (
        "hardware key on order (secops@\u200bexample.com, SEC-123)"
        in (md.split("Waived findings")[1])
    )


def test_passing_diff_says_so() -> None:
    same = result(finding("a"))
    from policyengine.findings.diff import diff_results

    md = render("markdown", diff_results(same, same), ReportOptions(diff=True))
    assert md.startswith("### policyengine diff: passed: no new finding at or above high")
    assert "#### New findings" not in md


def test_evaluate_summary_counts_by_severity() -> None:
    md = render("markdown", plain_result(), ReportOptions(fail_on="critical"))
    assert md.startswith("### policyengine evaluate: FAILED: 2 finding(s) at or above critical")
    assert "| 2 | 0 | 1 | 0 | 0 | 0 |" in md


def test_incomplete_data_fails_closed() -> None:
    md = render("markdown", result(complete=False), ReportOptions())
    assert "FAILED: data incomplete" in md.splitlines()[0]
    assert "timeLimitExceeded" in md


def test_data_cannot_inject_markup() -> None:
    evil = finding("u1", name="x | <img src=x onerror=alert(1)> [link](http://e)")
    md = render("markdown", result(evil), ReportOptions())
    row = next(line for line in md.splitlines() if "corp-ad/u1" in line and line.startswith("|"))
    assert "<img" not in row and "&lt;img" in row
    assert row.count(" | ") == 3  # the pipe in the name did not add a column
    assert "\\[link\\]" in row


def test_mentions_and_email_autolinks_are_defused() -> None:
    # was: e-mail addresses left as they were, which GitHub turns into mailto: links
    md = render("markdown", result(finding("u1", name="@admins of a@b.example")), ReportOptions())
    assert "@\u200badmins of a@\u200bb.example" in md


def test_long_tables_are_capped() -> None:
    many = result(*(finding(f"u{i:03}") for i in range(MAX_ROWS + 7)))
    md = render("markdown", many, ReportOptions())
    assert "... and 7 more" in md
