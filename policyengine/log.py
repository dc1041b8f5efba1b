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
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

REDACTED = "[REDACTED]"
_secrets: set[str] = set()
_SECRET_KEY = re.compile(
    r"(pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key|authorization|assertion|"
    r"client[_-]?secret|credentials?|cookie|otpauth|seed)$",
    re.IGNORECASE,
)
# Bearer tokens, SSWS tokens, JWTs, PEM blocks and otpauth URIs, wherever they appear.
_SECRET_PATTERNS = [
    re.compile(r"(?i)\b(bearer|ssws)\s+[A-Za-z0-9._~+/=!-]{8,}"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S),
    re.compile(r"otpauth://[^\s\"']+"),
    re.compile(r"(?i)(secret|password|token)=([^&\s\"']+)"),
]


def register_secret(value: str | None) -> None:
    """Remember a secret so that it is replaced in every log line and error text."""
    if value and len(value) >= 4:
        _secrets.add(value)


def redact_text(text: str) -> str:
    """Replace registered secrets and secret-shaped substrings in ``text``."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern in _SECRET_PATTERNS:
        if pattern.groups == 2:
            text = pattern.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
        else:
            text = pattern.sub(REDACTED, text)
    return text


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
