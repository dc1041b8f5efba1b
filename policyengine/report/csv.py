"""``--format csv``: one row per finding, for spreadsheets and ticket imports.

Stdlib :mod:`csv`, a header row, CRLF line ends (RFC 4180). Cells come from snapshot
data a third party may control (a display name, an app's publisher), so a
cell that a spreadsheet could read as a formula is prefixed with ``'`` (OWASP
"CSV injection"): one that starts with ``=``, ``+``, ``-``, ``@``, their
full-width and small forms (U+FF1D, FF0B, FF0D, FF20, FE66, FE62, FE63,
FE6B), or any whitespace or control character (tab, CR, LF, NUL, spaces:
spreadsheets skip them before ``=``). NUL, which some readers take as the end
of the text, becomes U+FFFD.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from policyengine.findings.model import Finding, Result
from policyengine.report import ReportOptions

COLUMNS: tuple[str, ...] = (
    "change",
    "severity",
    "policy_id",
    "title",
    "kind",
    "source",
    "id",
    "name",
    "file",
    "line",
    "message",
    "evidence",
    "remediation",
    "frameworks",
    "fingerprint",
    "waived",
    "waiver_reason",
    "waiver_owner",
    "waiver_ticket",
    "waiver_expires",
    "waiver_expired",
)

#: first characters a spreadsheet may take as the start of a formula
_FORMULA_START = frozenset("=+-@\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\ufe6b")


def safe_cell(value: Any) -> str:
    """Text for one cell, defused against formula injection.

    >>> safe_cell("=HYPERLINK(\\"http://x\\")"), safe_cell("alice"), safe_cell(None)
    ('\\'=HYPERLINK("http://x")', 'alice', '')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    defused = text.replace("\x00", "\ufffd")
    return "'" + defused if _may_be_formula(text) else defused


def _may_be_formula(text: str) -> bool:
    if not text:
        return False
    first = text[0]
    # whitespace or a control character first: a spreadsheet may skip it and find "=" after
    return first in _FORMULA_START or first.isspace() or not first.isprintable()


#: the file this format is written to in a scan's run folder
FILE_NAME = "findings.csv"


def render(result: Result, options: ReportOptions) -> str:
    """Render ``result`` as CSV text with a header row."""
    buf = io.StringIO()
    writer = csv.writer(buf)  # RFC 4180: CRLF rows; CR or LF in a cell forces quoting
    writer.writerow(COLUMNS)
    # missing data must be visible in the sheet too, not only in the exit code
    for source in result.sources:
        if not source.complete:
            row = dict.fromkeys(COLUMNS, "")
            row.update(
                severity="critical",
                policy_id="DATA-INCOMPLETE",
                title="Data is missing: findings may be absent",
                kind="source",
                source=source.instance,
                name=source.connector,
                message="; ".join(source.errors) or "the snapshot says complete: false",
            )
            writer.writerow([safe_cell(row[c]) for c in COLUMNS])
    for f in result.findings:
        writer.writerow([safe_cell(v) for v in _row(f)])
    return buf.getvalue()


def _row(f: Finding) -> list[Any]:
    r, w = f.resource, f.waiver
    evidence = "; ".join(f"{e.path}: {e.actual!r} (expected {e.expected})" for e in f.evidence)
    frameworks = "; ".join(f"{k}: {', '.join(v)}" for k, v in sorted(f.frameworks.items()))
    return [
        f.change or "",
        f.severity,
        f.policy_id,
        f.title,
        r.kind,
        r.source,
        r.id,
        r.name,
        r.file,
        r.line,
        f.message,
        evidence,
        f.remediation,
        frameworks,
        f.fingerprint,
        f.waived,
        w.reason if w else None,
        w.owner if w else None,
        w.ticket if w else None,
        w.expires if w else None,
        w.expired if w else None,
    ]
