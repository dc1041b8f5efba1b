"""``--format text``: for people. Grouped by severity; the resource, the reason, the fix.

Colour only when writing to a terminal (``ReportOptions.color``).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable

from policyengine.findings.model import SEVERITIES, Finding, Result
from policyengine.report import ReportOptions
from policyengine.report._terminal import safe

_COLOURS = {
    "critical": "\033[1;31m",
    "high": "\033[31m",
    "medium": "\033[33m",
    "low": "\033[36m",
    "info": "\033[2m",
}
_RESET = "\033[0m"

#: the file this format is written to in a scan's run folder
FILE_NAME = "report.txt"


def render(result: Result, options: ReportOptions) -> str:
    """Every string from the data goes through ``safe``: no terminal escapes, no line breaks."""

    def paint(text: str, colour: str) -> str:
        return f"{colour}{text}{_RESET}" if options.color else text

    lines: list[str] = []
    incomplete = [s for s in result.sources if not s.complete]
    for source in incomplete:
        lines.append(
            paint(
                safe(f"INCOMPLETE DATA from {source.instance} ({source.connector}):"),
                _COLOURS["critical"],
            )
        )
        for error in source.errors or ("the snapshot says complete: false",):
            lines.append(f"  {safe(error)}")
        lines.append("  Findings below may be missing; the gate cannot pass (exit 3).")
        lines.append("")
    active = [f for f in result.findings if not f.waived and f.change != "resolved"]
    if options.diff:
        active = [f for f in active if f.change == "new"]
    for severity in SEVERITIES:
        group = [f for f in active if f.severity == severity]
        if not group:
            continue
        header = f"{severity.upper()} ({len(group)})"
        lines.append(paint(header, _COLOURS[severity]))
        lines.append("")
        lines.extend(_findings(group))
    waived = [f for f in result.findings if f.waived and f.change != "resolved"]
    if waived:
        lines.append(paint(f"WAIVED ({len(waived)})", _COLOURS["info"]))
        for f in waived:
            w = f.waiver
            until = f" until {w.expires}" if w else ""
            why = f": {w.reason} ({w.owner})" if w else ""
            lines.append(f"  {safe(f.policy_id)} {_resource(f)}{safe(until)}{safe(why)}")
        lines.append("")
    if options.diff:
        resolved = [f for f in result.findings if f.change == "resolved"]
        unchanged = [f for f in result.findings if f.change == "unchanged" and not f.waived]
        if resolved:
            lines.append(paint(f"RESOLVED ({len(resolved)})", "\033[32m"))
            for f in resolved:
                lines.append(f"  {safe(f.policy_id)} {_resource(f)}")
            lines.append("")
        lines.append(f"{len(unchanged)} finding(s) unchanged from the base (not shown).")
    for warning in result.warnings:
        lines.append(paint(f"warning: {safe(warning)}", _COLOURS["medium"]))
    lines.append(_summary_line(result, active, options))
    return "\n".join(lines) + "\n"


def _resource(f: Finding) -> str:
    r = f.resource
    where = f" ({r.file}:{r.line})" if r.file else ""
    return safe(f"{r.kind} {r.name} [{r.source}/{r.id}]{where}")


def _findings(group: Iterable[Finding]) -> list[str]:
    out: list[str] = []
    for f in group:
        new = "NEW " if f.change == "new" else ""
        out.append(f"  {new}{safe(f.policy_id)} {safe(f.title)}")
        out.append(f"    resource: {_resource(f)}")
        if f.message and f.message != f.title:
            out.append(f"    {safe(f.message)}")
        for e in f.evidence:
            out.append(safe(f"    why: {e.path} is {_show(e.actual)}, expected {e.expected}"))
        if f.supersedes:
            out.append(
                f"    also fixes: {safe(', '.join(f.supersedes))} (same resource, folded into this finding)"
            )
        fix = textwrap.fill(
            safe(" ".join(f.remediation.split())),
            width=96,
            initial_indent="    fix: ",
            subsequent_indent="         ",
        )
        out.append(fix)
        if f.waiver is not None and f.waiver.expired:
            out.append(safe(f"    note: waiver expired on {f.waiver.expires} ({f.waiver.reason})"))
        out.append("")
    return out


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


def _summary_line(result: Result, active: list[Finding], options: ReportOptions) -> str:
    counts = {s: 0 for s in SEVERITIES}
    for f in active:
        counts[f.severity] += 1
    parts = [f"{n} {s}" for s, n in counts.items() if n]
    total = len(active)
    label = "new finding" if options.diff else "finding"
    text = f"{total} {label}{'s' if total != 1 else ''}"
    if parts:
        text += " (" + ", ".join(parts) + ")"
    waived = sum(1 for f in result.findings if f.waived and f.change != "resolved")
    if waived:
        text += f", {waived} waived"
    text += f"; {len(result.policies)} policies over {len(result.sources)} source(s) at " + safe(
        result.now
    )
    if not result.complete:
        text += "; DATA INCOMPLETE"
    return text
