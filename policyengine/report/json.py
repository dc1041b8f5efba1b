"""``--format json``: the public result shape (see ``docs/output.md``).

:func:`write` streams the document to a binary handle, the findings a batch at a
time, so a million findings never exist as one dictionary list, one bytes
object and one string at once; the bytes are exactly those of
``orjson.dumps(result.to_dict(), option=OPT_INDENT_2)`` plus a newline.
"""

from __future__ import annotations

import io
from typing import IO

import orjson

from policyengine.findings.model import Result
from policyengine.report import ReportOptions

#: the file this format is written to in a scan's run folder
FILE_NAME = "result.json"

#: findings serialised per orjson call: big enough to amortise the call, small in memory
BATCH = 2048
_FINDINGS_KEY = b'\n  "findings": []'


def render(result: Result, options: ReportOptions) -> str:
    buffer = io.BytesIO()
    write(result, options, buffer)
    return buffer.getvalue().decode()


def write(result: Result, options: ReportOptions, handle: IO[bytes]) -> None:
    """Write the JSON document of ``result`` to ``handle``."""
    indent = orjson.OPT_INDENT_2
    head = orjson.dumps(result.to_dict(findings=False), option=indent)
    before, found, after = head.partition(_FINDINGS_KEY)
    assert found, "the result document has a top-level findings list"
    handle.write(before)
    findings = result.findings
    if not findings:
        handle.write(_FINDINGS_KEY)
    else:
        handle.write(b'\n  "findings": [\n')
        for start in range(0, len(findings), BATCH):
            if start:
                handle.write(b",\n")
            batch = [f.to_dict() for f in findings[start : start + BATCH]]
            # "[\n  {...},\n  {...}\n]": items one level deeper inside the document
            text = orjson.dumps(batch, option=indent)
            handle.write(b"  " + text[2:-2].replace(b"\n", b"\n  "))
        handle.write(b"\n  ]")
    handle.write(after)
    handle.write(b"\n")
