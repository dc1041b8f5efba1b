"""Structured logging with structlog, and the processor that redacts secrets.

Console output on a terminal, JSON lines under ``--log-format json`` (the
default when stderr is not a terminal or ``CI`` is set). Secret values that
the tool reads (passwords, tokens, private keys) are registered with
:func:`register_secret`; the :func:`redact_secrets` processor replaces them,
and any value under a secret-sounding key, in every event.

>>> register_secret("hunter2-hunter2")
>>> redact_text("bind failed with password hunter2-hunter2")
'bind failed with password [REDACTED]'
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from policyengine.redact import _SECRET_KEY, REDACTED

# re-exported ("x as x" says so to the type checker): the historical home of these names
from policyengine.redact import redact_text as redact_text
from policyengine.redact import register_secret as register_secret


def _redact_value(key: str, value: Any) -> Any:
    if isinstance(value, str):
        return REDACTED if _SECRET_KEY.search(key) and value else redact_text(value)
    if isinstance(value, dict):
        return {k: _redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(key, v) for v in value]
    if isinstance(value, BaseException):
        return redact_text(f"{type(value).__name__}: {value}")
    return value


def redact_secrets(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: no secret leaves the process through a log line."""
    for key in list(event_dict):
        event_dict[key] = _redact_value(key, event_dict[key])
    return event_dict


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at write time (tests swap it; a captured
    stream must not be remembered after it is closed)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return hasattr(sys.stderr, "isatty") and sys.stderr.isatty()


def configure(log_format: str | None = None, level: str = "info", stream: Any = None) -> None:
    """Set up structlog once for the CLI. ``log_format`` is ``console`` or ``json``."""
    stream = stream or _CurrentStderr()
    if log_format is None:
        is_tty = hasattr(stream, "isatty") and stream.isatty()
        log_format = "console" if is_tty and not os.environ.get("CI") else "json"
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=stream.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_secrets,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str = "policyengine") -> Any:
    return structlog.get_logger(name)
