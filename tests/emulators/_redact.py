"""Auth values out of the request log: what an emulator prints or writes must not hold them.

Tests still read the raw :class:`~tests.emulators._server.Request` (to check what a
client sent), but its ``repr``, :meth:`EmulatorServer.log` and
:meth:`EmulatorServer.dump_log` go through :func:`redact_request`, so an assertion
message, a ``-vv`` diff or a log file attached to a CI run shows ``[redacted]``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

REDACTED = "[redacted]"

#: Header names (lower-case) whose value is a credential, whatever the vendor.
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "x-goog-api-key",
        "x-sfdc-session",
        "x-csrf-token",
    }
)

#: Form, query and JSON field names whose value is a credential (OAuth, SAML, SOAP login).
SECRET_FIELDS = frozenset(
    {
        "access_token",
        "assertion",
        "client_assertion",
        "client_secret",
        "code",
        "code_verifier",
        "id_token",
        "password",
        "refresh_token",
        "samlresponse",
        "session_id",
        "sessionid",
        "token",
    }
)


def is_secret_field(name: str) -> bool:
    return name.lower() in SECRET_FIELDS


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Credential headers replaced; the scheme of ``Authorization`` kept (``Bearer [redacted]``)."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower in ("authorization", "proxy-authorization") and " " in value:
            out[name] = f"{value.split(' ', 1)[0]} {REDACTED}"
        elif lower in SECRET_HEADERS:
            out[name] = REDACTED
        else:
            out[name] = value
    return out


def redact_query(query: str) -> str:
    """A query string (or form body) with secret fields' values replaced."""
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, REDACTED if is_secret_field(k) else v) for k, v in pairs], safe="[]")


def redact_json(value: Any) -> Any:
    """A JSON value with every secret field's value replaced, at any depth."""
    if isinstance(value, Mapping):
        return {
            k: REDACTED if is_secret_field(str(k)) else redact_json(v) for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact_json(v) for v in value]
    return value


def redact_body(body: bytes, content_type: str) -> str:
    """The body as text with credentials removed; a body we cannot parse is not shown."""
    if not body:
        return ""
    kind = content_type.split(";", 1)[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return f"<{len(body)} bytes>"
    if kind == "application/x-www-form-urlencoded":
        return redact_query(text)
    if kind.endswith("json"):
        try:
            return json.dumps(redact_json(json.loads(text)), separators=(",", ":"))
        except ValueError:
            return f"<{len(body)} bytes, not JSON>"
    if kind.endswith("xml"):
        # SOAP login and SessionHeader carry the session id; the size is enough for a log
        return f"<{len(body)} bytes of XML>"
    return f"<{len(body)} bytes>"


def redact_request(
    method: str, target: str, headers: Mapping[str, str], body: bytes
) -> dict[str, Any]:
    """One log entry: method, target, headers and body with every auth value replaced."""
    path, sep, query = target.partition("?")
    return {
        "method": method,
        "target": path + (sep + redact_query(query) if sep else ""),
        "headers": redact_headers(headers),
        "body": redact_body(body, headers.get("content-type", "")),
    }
