"""Reporters: one module per output format, each a function from a result to text.

``render(fmt, result)`` looks the module up in :data:`FORMATS` and calls its
``render(result, options)``; each module also declares ``FILE_NAME``, the file
a scan writes it to. Adding a format is one new module and one line here.
A module may also define ``write(result, options, handle)`` to stream to a
binary handle (``write(fmt, ...)`` uses it). Modules load lazily (``lint`` and
``--help`` never import a reporter).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import IO, Any

from policyengine.errors import PolicyEngineError, UsageError

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


def _module(fmt: str) -> ModuleType:
    """The reporter module of ``fmt``, checked to declare what the registry promises."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    module = importlib.import_module(f"policyengine.report.{FORMATS[fmt]}")
    file_name = getattr(module, "FILE_NAME", None)
    if (
        not isinstance(file_name, str)
        or not file_name
        or not callable(getattr(module, "render", None))
    ):
        # a programming error in a reporter: refuse it rather than skip its file
        raise PolicyEngineError(
            f"internal error: report module {module.__name__} must define FILE_NAME and render()"
        )
    return module


def file_name(fmt: str) -> str:
    """The file a scan writes format ``fmt`` to in its run folder."""
    return str(_module(fmt).FILE_NAME)


def render(fmt: str, result: Any, options: ReportOptions | None = None) -> str:
    """Render ``result`` (a :class:`~policyengine.findings.Result`) as ``fmt``."""
    module = _module(fmt)
    return module.render(result, options or ReportOptions())  # type: ignore[no-any-return]


def write(fmt: str, result: Any, options: ReportOptions | None, handle: IO[bytes]) -> None:
    """Write ``result`` as ``fmt`` to a binary ``handle``: streamed when the module can
    (its ``write(result, options, handle)``), else its rendered text as UTF-8."""
    module = _module(fmt)
    options = options or ReportOptions()
    stream = getattr(module, "write", None)
    if callable(stream):
        stream(result, options, handle)
    else:
        handle.write(module.render(result, options).encode("utf-8"))
