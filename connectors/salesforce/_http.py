"""Salesforce on top of the shared HTTP layer: its errors, limits and query paging.

The shared :class:`~connectors.http.HttpClient` retries 429/5xx and dropped
connections and re-authenticates once on 401. This module supplies its
hooks (``on_response``, ``fatal_error``, ``auth_failure``) with what only
Salesforce does:

- ``Sforce-Limit-Info: api-usage=25/15000`` on every REST response is parsed
  and kept (it goes into the snapshot header);
- ``403 REQUEST_LIMIT_EXCEEDED`` means the org's daily API allowance is
  spent: retrying cannot help, so it stops the run (``ApiLimitExceeded``);
- a 403 is a refused credential only for ``API_DISABLED_FOR_ORG`` /
  ``API_CURRENTLY_DISABLED``; other 403s (``INSUFFICIENT_ACCESS``...) are
  missing data for one object, not a configuration error;
- ``400 INVALID_FIELD`` / ``INVALID_TYPE`` are raised as
  :class:`SalesforceApiError` with the field, so the caller can drop a
  feature-gated field and ask again;
- SOQL results are paged through ``nextRecordsUrl`` until ``done``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import orjson

from connectors.http import HttpClient
from policyengine.errors import AuthenticationError, ConnectorError
from policyengine.log import get_logger

log = get_logger("policyengine.salesforce")

_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")
_NO_SUCH_COLUMN = re.compile(r"No such column '([A-Za-z0-9_.]+)'")
#: 403 codes that mean "this login may not use the API at all".
_AUTH_403 = frozenset({"API_DISABLED_FOR_ORG", "API_CURRENTLY_DISABLED"})
#: 400 codes the caller can act on (drop a field, skip an object).
_QUERY_ERRORS = frozenset(
    {"INVALID_FIELD", "INVALID_TYPE", "MALFORMED_QUERY", "INVALID_QUERY_LOCATOR"}
)
#: A runaway server must not page us forever: 2,000 pages x 2,000 records.
MAX_PAGES = 2000


class SalesforceApiError(ConnectorError):
    """An error body ``[{"errorCode": ..., "message": ...}]`` the caller may handle."""

    def __init__(self, message: str, *, error_code: str, field: str | None = None) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.field = field


class ApiLimitExceeded(ConnectorError):
    """``REQUEST_LIMIT_EXCEEDED``: the org's API allowance is spent; stop the run."""


def error_body(response: httpx.Response) -> tuple[str, str]:
    """``(errorCode, message)`` of a Salesforce REST error body, or ``("", "")``."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return "", ""
    if isinstance(body, list) and body and isinstance(body[0], dict):
        body = body[0]
    if isinstance(body, dict):
        return str(body.get("errorCode") or body.get("error") or ""), str(
            body.get("message") or body.get("error_description") or ""
        )
    return "", ""


class ApiUsage:
    """The highest ``api-usage=used/limit`` seen, shared by all threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.used: int | None = None
        self.limit: int | None = None
        self._warned = False

    def observe(self, response: httpx.Response) -> float | None:
        """``on_response`` hook: remember the usage; never asks for a pause."""
        match = _LIMIT_INFO.search(response.headers.get("Sforce-Limit-Info", ""))
        if not match:
            return None
        used, limit = int(match.group(1)), int(match.group(2))
        with self._lock:
            # Responses of concurrent requests arrive out of order; usage only grows.
            if self.used is None or used >= self.used:
                self.used, self.limit = used, limit
            warn = limit > 0 and used >= 0.9 * limit and not self._warned
            self._warned = self._warned or warn
        if warn:
            log.warning("salesforce.api_usage_high", used=used, limit=limit)
        return None

    def __str__(self) -> str:
        return f"{self.used}/{self.limit}" if self.used is not None else "unknown"


def classify(response: httpx.Response) -> str | None:
    """``fatal_error`` hook: raise the Salesforce-specific errors; None lets HttpClient decide."""
    code, message = error_body(response)
    if response.status_code == 403 and code == "REQUEST_LIMIT_EXCEEDED":
        raise ApiLimitExceeded(
            "the org's API request limit is exhausted (REQUEST_LIMIT_EXCEEDED: "
            f"{message[:200]}); collect again after the 24-hour window rolls over"
        )
    if response.status_code == 400 and code in _QUERY_ERRORS:
        found = _NO_SUCH_COLUMN.search(message)
        raise SalesforceApiError(
            f"{code}: {message[:300]}",
            error_code=code,
            field=found.group(1) if found else None,
        )
    if response.status_code in (400, 403, 404) and code:
        raise SalesforceApiError(
            f"HTTP {response.status_code} {code}: {message[:300]}", error_code=code
        )
    return None


def auth_failure(response: httpx.Response) -> bool:
    """``auth_failure`` hook: which 401/403 answers are refused credentials (exit 2).

    A 401 that survives one re-authentication is; a 403 only for
    ``API_DISABLED_FOR_ORG`` / ``API_CURRENTLY_DISABLED``. Every other 403
    (``INSUFFICIENT_ACCESS`` on one object, ``REQUEST_LIMIT_EXCEEDED``) is
    missing data, handled by :func:`classify`.
    """
    if response.status_code == 401:
        return True
    code, _ = error_body(response)
    return response.status_code == 403 and code in _AUTH_403


class Rest:
    """SOQL over REST: ``query(soql)`` yields records across ``nextRecordsUrl`` pages."""

    def __init__(self, http: HttpClient, api_version: str) -> None:
        self.http = http
        self.api_version = api_version

    def _page(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        # fetch_json asks again when a body is not JSON (a proxy's error page, a
        # truncated answer): GETs of a query locator are idempotent.
        _, page = self.http.fetch_json("GET", path, params=params)
        if not isinstance(page, dict) or not isinstance(page.get("records"), list):
            raise ConnectorError(
                f"unexpected query response from {path.split('?', 1)[0]}: no 'records' list "
                f"(keys: {sorted(page)[:8] if isinstance(page, dict) else type(page).__name__})"
            )
        return page

    def query(self, soql: str, *, tooling: bool = False) -> Iterator[dict[str, Any]]:
        """Yield every record of ``soql``, following ``nextRecordsUrl`` until ``done``."""
        base = f"/services/data/v{self.api_version}/{'tooling/' if tooling else ''}query"
        page = self._page(base, {"q": soql})
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            yield from page["records"]
            next_url = page.get("nextRecordsUrl")
            if page.get("done", True) or not next_url:
                return
            if not isinstance(next_url, str) or not next_url.startswith("/services/data/"):
                raise ConnectorError(f"unexpected nextRecordsUrl {next_url!r}")
            if next_url in seen:
                raise ConnectorError(f"server repeated nextRecordsUrl {next_url}; stopping")
            seen.add(next_url)
            page = self._page(next_url)
        raise ConnectorError(f"query returned more than {MAX_PAGES} pages; stopping")


def token_error(response: httpx.Response) -> str | None:
    """``fatal_error`` hook for the token endpoint: an OAuth error is a refused credential."""
    if response.status_code in (400, 401, 403):
        code, message = error_body(response)
        raise AuthenticationError(
            f"the Salesforce token endpoint refused the credentials: HTTP "
            f"{response.status_code} {code or 'error'}: {message[:200]}".rstrip(": ")
        )
    return None
