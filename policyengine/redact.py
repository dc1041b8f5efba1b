"""Secret redaction, without structlog (so that any module may use it cheaply).

Secret values that the tool reads (passwords, tokens, private keys) are
registered with :func:`register_secret`; :func:`redact_text` replaces them,
and secret-shaped substrings (bearer tokens, JWTs, PEM keys, otpauth URIs,
``secret=`` query parameters, the ``user:password@`` part of a URL), in any
text: log lines, error messages, snapshot errors.

>>> register_secret("hunter2-hunter2")
>>> redact_text("bind failed with password hunter2-hunter2")
'bind failed with password [REDACTED]'
>>> redact_text("cannot reach 'http://admin:pw@host.example:8080/'")
"cannot reach 'http://[REDACTED]@host.example:8080/'"
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "[REDACTED]"
_secrets: set[str] = set()
_SECRET_KEY = re.compile(
    r"(pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key|authorization|assertion|"
    r"client[_-]?secret|credentials?|cookie|otpauth|seed)$",
    re.IGNORECASE,
)
# Bearer tokens, SSWS tokens, JWTs, PEM blocks, otpauth URIs, URL userinfo and
# secret= parameters, wherever they appear: (pattern, replacement).
_SECRET_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?i)\b(bearer|ssws)\s+[A-Za-z0-9._~+/=!-]{8,}"), REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), REDACTED),
    (
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S
        ),
        REDACTED,
    ),
    (re.compile(r"otpauth://[^\s\"']+"), REDACTED),
    # everything between a URL's scheme and the first '@' (user:password)
    (re.compile(r"(?i)(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*://)[^\s@\"'<>]*@"), rf"\1{REDACTED}@"),
    (re.compile(r"(?i)(secret|password|token)=([^&\s\"']+)"), rf"\1={REDACTED}"),
]

# Every pattern above needs one of these; text without them is left as it is.
_MAY_HOLD_SECRET = re.compile(r"(?i)bearer|ssws|eyJ|-----BEGIN|://|=")


def register_secret(value: str | None) -> None:
    """Remember a secret so that it is replaced in every log line and error text."""
    if value and len(value) >= 4:
        _secrets.add(value)


def redact_text(text: str) -> str:
    """Replace registered secrets and secret-shaped substrings in ``text``."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    if not _MAY_HOLD_SECRET.search(text):  # one scan instead of six for ordinary text
        return text
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_value(key: str, value: Any) -> Any:
    """``value`` (JSON-like) with secrets redacted, as log fields are.

    A string under a secret-named key (``client_secret``, ``token`` ...) is
    replaced whole; every other string goes through :func:`redact_text`.
    Non-string scalars are kept (``persistent_cookie: true`` is not a secret).

    >>> redact_value("labels", {"client_secret": "abc", "team": "crm", "on": True})
    {'client_secret': '[REDACTED]', 'team': 'crm', 'on': True}
    """
    if isinstance(value, str):
        return REDACTED if value and _SECRET_KEY.search(key) else redact_text(value)
    if isinstance(value, dict):
        return {k: redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_value(key, v) for v in value]
    return value
