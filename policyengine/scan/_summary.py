"""What a scan prints and the exit code it chooses."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from policyengine.findings.model import SEVERITIES

if TYPE_CHECKING:
    from policyengine.scan._run import ScanOutcome


def printable(text: str) -> str:
    """Data shown on a terminal: control characters (escape sequences) made visible."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(text))


def scan_exit_code(outcome: ScanOutcome, fail_on: str | None) -> int:
    """3 when any source is incomplete; else 1 for an active finding at/above ``fail_on``.

    With no ``fail_on`` (or ``none``) findings alone never fail a scan: a
    scheduled scan is a report, a gate is opt-in.
    """
    if outcome.missing:
        return 3
    return 1 if outcome.result.fails(fail_on) else 0


def _join(counts: Mapping[str, int]) -> str:
    return " · ".join(f"{k} {v}" for k, v in counts.items()) or "none"


def text_summary(outcome: ScanOutcome, reports: Mapping[str, Path]) -> str:
    """The lines ``policyengine scan`` prints on stdout."""
    run = outcome.changes.run
    result = outcome.result
    lines = [
        f"policyengine scan: run #{run.id} at {run.started_at} — "
        f"{len(result.sources)} source(s), {len(result.policies)} policies",
        f"  open {run.open}: new {run.new} · still open {run.still_open}"
        + (f" · not re-checked {run.carried}" if run.carried else "")
        + f" | resolved {run.resolved} | waived {run.waived}",
        f"  by severity: {_join({s: run.by_severity.get(s, 0) for s in SEVERITIES})}",
        f"  by source:   {_join(run.by_source)}",
    ]
    for status in outcome.missing:
        why = "; ".join(status.errors) or "no reason given"
        carried = sum(1 for c in outcome.changes.carried if c.source == status.instance)
        lines.append(
            f"INCOMPLETE: data missing from {status.instance} ({status.connector}): {why}"
            + (f" — {carried} open finding(s) kept open, not re-checked" if carried else "")
        )
    for warning in outcome.warnings:
        lines.append(f"warning: {warning}")
    where = reports.get("html") or reports.get("json")
    lines.append(f"  report: {where if where else outcome.run_dir}")
    return "\n".join(printable(line) for line in lines) + "\n"


def markdown_summary(outcome: ScanOutcome, reports: Mapping[str, Path]) -> str:
    """``summary.md``: the scan in a few lines of Markdown (CI step summary, chat)."""

    run = outcome.changes.run
    out = ["# policyengine scan", ""]
    if outcome.missing:
        names = ", ".join(f"`{_code(s.instance)}`" for s in outcome.missing)
        out += [
            f"> **INCOMPLETE** — data missing from {names}. Their findings were not re-checked.",
            "",
        ]
    out += [
        f"Run #{run.id} at {run.started_at}, data as of {outcome.result.now}.",
        "",
        "| open | new | resolved | still open | not re-checked | waived |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {run.open} | {run.new} | {run.resolved} | {run.still_open} | {run.carried} "
        f"| {run.waived} |",
        "",
        "| severity | open |",
        "|---|---:|",
        *(f"| {s} | {run.by_severity.get(s, 0)} |" for s in SEVERITIES),
        "",
        "| source | open |",
        "|---|---:|",
        *(f"| {_md(k)} | {v} |" for k, v in run.by_source.items()),
        "",
    ]
    for status in outcome.missing:
        for error in status.errors:
            out.append(f"- `{_code(status.instance)}`: {_md(error)}")
    if "html" in reports:
        out += ["", f"Full report: `{reports['html'].name}` in `{outcome.run_dir}`."]
    return "\n".join(out).rstrip() + "\n"


def _md(text: str) -> str:
    """A value as Markdown text: no markup, no links (GFM autolinks too), no mentions."""
    from policyengine.report._markdown_escape import markdown_text

    return markdown_text(text)


def _code(text: str) -> str:
    """A value inside a code span (`...`)."""
    from policyengine.report._markdown_escape import code_span_text

    return code_span_text(text)
