"""Markdown reports rendered by GitHub's own renderer (cmark-gfm): data never becomes a link.

A resource name, a source error or a waiver reason comes from a third party.
GitHub turns bare URLs, ``www.`` hosts and e-mail addresses into links (the
GFM autolink extension) on top of ``[]()`` syntax and raw HTML; none of them
may yield an ``<a>`` or an ``<img>`` in ``report.md`` or ``summary.md``.
"""

from __future__ import annotations

import re
from pathlib import Path

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options

from policyengine.api import load_policy_set
from policyengine.findings.model import Result, SourceStatus
from policyengine.report import ReportOptions, render
from policyengine.scan import ScanPlan, run_scan
from policyengine.snapshot.writer import SnapshotWriter
from tests.findings.samples import diffed_result, finding, result, waived_status
from tests.scan.conftest import COLLECTED, POLICY, account

HOSTILE = (
    "https://evil.example/login",
    "HTTP://EVIL.EXAMPLE",
    "ftp://evil.example/x",
    "www.evil.example",
    "WWW.EVIL.EXAMPLE/path",
    "mail admin@evil.example now",
    "mailto:admin@evil.example",
    "xmpp:admin@evil.example",
    "<https://evil.example>",
    "<admin@evil.example>",
    '<a href="https://evil.example">x</a>',
    "<img src=x onerror=alert(1)>",
    "![x](https://evil.example/p.png)",
    "[click](https://evil.example)",
    "[x][1]\n\n[1]: https://evil.example",
    "[x]\n\n[x]: https://evil.example",
    "&lt;a href=https://evil.example&gt;",
    "&#104;ttps://evil.example",
    "`code` ``x`` https://evil.example",
    "a | b | [c](https://evil.example)",
    "line1\n\n[x]: https://evil.example\n\n[x]",
    "\n# heading\n- item\n> quote\n    indented https://evil.example",
    "javascript:alert(1)",
    "@admins please look",
    "[^1]\n\n[^1]: https://evil.example",
    "~~struck~~ **bold** _em_ <!-- c --> <details>",
)

UNSAFE = Options.CMARK_OPT_UNSAFE  # render raw HTML too: a sanitiser must not be what saves us


def to_html(markdown: str) -> str:
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=UNSAFE)


def assert_no_link(markdown: str) -> None:
    html = to_html(markdown)
    bad = re.findall(r"<(?:a|img)\b[^>]*>", html)
    assert not bad, f"{bad} in:\n{html}"


def test_the_renderer_does_autolink_raw_strings() -> None:
    """The check can fail: unescaped, each kind of string becomes a link."""
    for raw in ("https://evil.example/login", "www.evil.example", "a@evil.example"):
        assert "<a " in to_html(raw)


def hostile_result(text: str) -> Result:
    f = finding("u1", name=text, message=f"message {text}").with_changes(remediation=f"fix {text}")
    w = waived_status()
    waived = finding("u2", name=text).with_changes(
        waived=True,
        waiver=type(w)(reason=text, owner=text, expires=w.expires, ticket=text),
    )
    bad_source = SourceStatus(
        connector=text, instance=text, collected_at=w.expires, complete=False, errors=(text,)
    )
    base = result(f, waived, warnings=(text,))
    return Result(base.findings, base.policies, (*base.sources, bad_source), base.now, (text,))


@pytest.mark.parametrize("text", HOSTILE)
def test_report_md_never_links_third_party_text(text: str) -> None:
    assert_no_link(render("markdown", hostile_result(text), ReportOptions()))


@pytest.mark.parametrize("text", HOSTILE)
def test_report_md_diff_never_links_third_party_text(text: str) -> None:
    res = diffed_result()
    evil = finding("u3", name=text, message=text, source="corp-ad").with_changes(change="new")
    res = Result((*res.findings, evil), res.policies, res.sources, res.now, (text,))
    assert_no_link(render("markdown", res, ReportOptions(diff=True)))


def test_text_stays_readable() -> None:
    html = to_html(render("markdown", hostile_result("see https://evil.example"), ReportOptions()))
    assert "see https://evil.example" in html  # shown, just not clickable
    html = to_html(render("markdown", hostile_result("admin@evil.example"), ReportOptions()))
    assert "admin@\u200bevil.example" in html  # a zero-width space stops the mailto link


@pytest.mark.parametrize("text", HOSTILE)
def test_summary_md_never_links_third_party_text(text: str, tmp_path: Path) -> None:
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "mfa.yaml").write_text(POLICY)
    snap = tmp_path / "corp.jsonl"
    with SnapshotWriter(snap, connector="file", instance="corp", collected_at=COLLECTED) as w:
        w.add({"kind": "account", **account("u1"), "name": text})
        w.fail(text)  # the failing connector's error is third-party text too
    plan = ScanPlan(
        policy_set=load_policy_set([folder]),
        output_dir=tmp_path / "runs",
        history_path=tmp_path / "h.db",
        snapshots=(snap,),
        reports=("markdown",),
    )
    outcome = run_scan(plan, clock=iter(["2026-11-01T06:00:00Z", "2026-11-01T06:00:05Z"]).__next__)
    summary = (outcome.run_dir / "summary.md").read_text()
    assert "INCOMPLETE" in summary
    assert_no_link(summary)
    assert_no_link((outcome.run_dir / "report.md").read_text())
