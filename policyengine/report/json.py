"""``--format json``: the public result shape (see ``docs/output.md``)."""

from __future__ import annotations

import orjson

from policyengine.findings.model import Result
from policyengine.report import ReportOptions

#: the file this format is written to in a scan's run folder
FILE_NAME = "result.json"


def render(result: Result, options: ReportOptions) -> str:
    return orjson.dumps(result.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n"
