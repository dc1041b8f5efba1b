"""Everything a vendor emulator is built from, in one import.

A vendor module (``okta.py``, ``salesforce.py``) holds only its routes and wire format;
the server, faults, paging, limits, fixtures, log redaction and spec checks come from
here. See ``tests/emulators/README.md``.
"""

from __future__ import annotations

from tests.emulators._csdl import CsdlSpec
from tests.emulators._faults import (
    DROP,
    RESET,
    TRUNCATE,
    malformed_body,
    okta_error_body,
    rate_limited,
    server_error,
    token_expired,
)
from tests.emulators._fixtures import DATA, fixture_path, load_fixture, read_fixture
from tests.emulators._paging import (
    Page,
    PageTokens,
    cursor_page,
    link_header,
    numbered_page,
    offset_page,
    parse_link_header,
    url,
)
from tests.emulators._ratelimit import FixedWindowLimiter, Window
from tests.emulators._redact import REDACTED, redact_request
from tests.emulators._server import Delay, EmulatorServer, Fault, Request, Response
from tests.emulators._spec import DiscoverySpec, OpenApiSpec, SpecMismatch

__all__ = [
    "DATA",
    "DROP",
    "REDACTED",
    "RESET",
    "TRUNCATE",
    "CsdlSpec",
    "Delay",
    "DiscoverySpec",
    "EmulatorServer",
    "Fault",
    "FixedWindowLimiter",
    "OpenApiSpec",
    "Page",
    "PageTokens",
    "Request",
    "Response",
    "SpecMismatch",
    "Window",
    "cursor_page",
    "fixture_path",
    "link_header",
    "load_fixture",
    "malformed_body",
    "numbered_page",
    "offset_page",
    "okta_error_body",
    "parse_link_header",
    "rate_limited",
    "read_fixture",
    "redact_request",
    "server_error",
    "token_expired",
    "url",
]
