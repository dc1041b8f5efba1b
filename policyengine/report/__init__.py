"""Reporters: one module per output format, each a function from a result to text.

``render(fmt, result)`` looks the module up in :data:`FORMATS` and calls its
``render(result, options)``. Adding a format is one new module and one line
here.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from policyengine.errors import UsageError

#: format name -> module in policyengine.report
FORMATS: dict[str, str] = {
    "text": "text",
    "json": "json",
    "sarif": "sarif",
    "junit": "junit",
    "markdown": "markdown",
    "csv": "csv",
    "html": "html",
    "ocsf": "ocsf",
}


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """Presentation choices that are not part of the result."""

    color: bool = False
    fail_on: str | None = None
    #: for diff: the reporters show new / resolved / unchanged
    diff: bool = False
    #: scan history (trend data) for the HTML report
    history: tuple[Mapping[str, Any], ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


def command_of(options: ReportOptions) -> str:
    """The command a report comes from (``evaluate``, ``diff`` or ``scan``), for run ids."""
    if "scan" in options.extra:
        return "scan"
    return "diff" if options.diff else "evaluate"


def available_formats() -> list[str]:
    out = []
    for name, module in FORMATS.items():
        if importlib.util.find_spec(f"policyengine.report.{module}") is not None:
            out.append(name)
    return out


def render(fmt: str, result: Any, options: ReportOptions | None = None) -> str:
    """Render ``result`` (a :class:`~policyengine.findings.Result`) as ``fmt``."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    module = importlib.import_module(f"policyengine.report.{FORMATS[fmt]}")
    return module.render(result, options or ReportOptions())  # type: ignore[no-any-return]
