"""``--format markdown``: a short summary to post as a pull-request comment.

Verdict and counts first, then the findings that matter (in a diff: the new
ones) as a table, then how to fix them, and the rest (unchanged, resolved,
waived) collapsed in ``<details>``. Tables are capped at :data:`MAX_ROWS`
rows so a comment stays under the forge's size limit. Every value from the
data is escaped: a resource name cannot inject markup, links (GFM autolinks
included) or mentions into the comment.
"""

from __future__ import annotations

from collections.abc import Sequence

from policyengine.findings.model import SEVERITIES, Finding, Result, severity_at_least
from policyengine.report import ReportOptions
from policyengine.report._markdown_escape import code_span_text, markdown_text

MAX_ROWS = 50

#: the file this format is written to in a scan's run folder
FILE_NAME = "report.md"


def render(result: Result, options: ReportOptions) -> str:
    """Render ``result`` as GitHub-flavoured Markdown."""
    diff = options.diff or any(f.change for f in result.findings)
    fail_on = options.fail_on or "high"
    live = [f for f in result.findings if f.change != "resolved"]
    waived = [f for f in live if f.waived]
    active = [f for f in live if not f.waived]
    if diff:
        headline = [f for f in active if f.change == "new"]
        unchanged = [f for f in active if f.change == "unchanged"]
        resolved = [f for f in result.findings if f.change == "resolved"]
    else:
        headline, unchanged, resolved = active, [], []
    gating = [f for f in headline if fail_on != "none" and severity_at_least(f.severity, fail_on)]
    out: list[str] = []
    if not result.complete:
        verdict = "FAILED: data incomplete"
    elif gating:
        noun = "new finding" if diff else "finding"
        verdict = f"FAILED: {len(gating)} {noun}(s) at or above {fail_on}"
    else:
        verdict = f"passed: no {'new ' if diff else ''}finding at or above {fail_on}"
    out.append(f"### policyengine {'diff' if diff else 'evaluate'}: {verdict}")
    out.append("")
    if diff:
        out.append("| new | unchanged | resolved | waived |")
        out.append("|---:|---:|---:|---:|")
        out.append(f"| {len(headline)} | {len(unchanged)} | {len(resolved)} | {len(waived)} |")
    else:
        counts = {s: 0 for s in SEVERITIES}
        for f in active:
            counts[f.severity] = counts.get(f.severity, 0) + 1
        out.append("| " + " | ".join(SEVERITIES) + " | waived |")
        out.append("|" + "---:|" * (len(SEVERITIES) + 1))
        out.append("| " + " | ".join(str(counts[s]) for s in SEVERITIES) + f" | {len(waived)} |")
    out.append("")
    out.append(f"Evaluated at `{_code(result.now)}` against {len(result.policies)} policies.")
    for s in result.sources:
        if not s.complete:
            errors = "; ".join(s.errors) or "no detail"
            out.append(
                f"\n> **Data incomplete** for `{_code(s.instance)}` ({_esc(s.connector)}): "
                f"{_esc(errors)}. The gate fails closed."
            )
    if headline:
        out.append("")
        out.append(f"#### {'New findings' if diff else 'Findings'} ({len(headline)})")
        out.append("")
        out.extend(_table(headline))
        out.append("")
        out.append("#### How to fix")
        out.append("")
        out.extend(_fixes(headline))
    for title, group in (
        ("Unchanged findings", unchanged),
        ("Resolved findings", resolved),
        ("Waived findings", waived),
    ):
        if group:
            out.append("")
            out.append(f"<details><summary>{title} ({len(group)})</summary>")
            out.append("")
            out.extend(_table(group, waiver=(title == "Waived findings")))
            out.append("")
            out.append("</details>")
    if result.warnings:
        out.append("")
        out.append("<details><summary>Warnings</summary>")
        out.append("")
        for w in result.warnings:
            out.append(f"- {_esc(w)}")
        out.append("")
        out.append("</details>")
    return "\n".join(out).rstrip() + "\n"


def _table(findings: Sequence[Finding], *, waiver: bool = False) -> list[str]:
    head = "| Severity | Policy | Resource | Finding |"
    rule = "|---|---|---|---|"
    if waiver:
        head += " Waiver |"
        rule += "---|"
    rows = [head, rule]
    for f in findings[:MAX_ROWS]:
        r = f.resource
        where = f"`{_code(r.source)}/{_code(r.id)}`"
        if r.name and r.name != r.id:
            where += f" {_esc(r.name)}"
        if r.file:
            where += f" ({_esc(r.file)}{':' + str(r.line) if r.line else ''})"
        msg = _esc(f.message or f.title)
        if f.waiver is not None and f.waiver.expired and not f.waived:
            msg += f" (waiver expired {_esc(f.waiver.expires[:10])})"
        row = f"| {f.severity} | {_esc(f.policy_id)} | {where} | {msg} |"
        if waiver and f.waiver is not None:
            w = f.waiver
            ticket = f", {_esc(w.ticket)}" if w.ticket else ""
            row += f" until {_esc(w.expires[:10])}: {_esc(w.reason)} ({_esc(w.owner)}{ticket}) |"
        rows.append(row)
    if len(findings) > MAX_ROWS:
        rows.append(f"\n... and {len(findings) - MAX_ROWS} more (see the full report).")
    return rows


def _fixes(findings: Sequence[Finding]) -> list[str]:
    out = []
    for f in findings[:MAX_ROWS]:
        r = f.resource
        fix = f.remediation.strip() or "see the policy's remediation"
        out.append(f"- **{_esc(f.policy_id)}** `{_code(r.source)}/{_code(r.id)}`: {_esc(fix)}")
    if len(findings) > MAX_ROWS:
        out.append(f"- ... and {len(findings) - MAX_ROWS} more")
    return out


def _esc(text: object) -> str:
    """Escape for a Markdown table cell that GitHub also reads as HTML (no links, no mentions)."""
    return markdown_text(text)


def _code(text: object) -> str:
    """Content for an inline code span: no backticks, no pipes, one line."""
    return code_span_text(text)
