"""Faults every vendor emulator needs, as actions for :meth:`EmulatorServer.add_fault`.

``add_fault`` fires once by default (``times=1``), so each of these is a one-shot fault
unless a test says otherwise::

    server.add_fault(server_error(503), match="/api/v1/users")
    server.add_fault(DROP, match="/api/v1/users")            # connection closed, no response
    server.add_fault(malformed_body(), match="/api/v1/users")  # 200 with a cut-off JSON body
    server.add_fault(rate_limited.okta(reset_in=1), match="/api/v1/users")
    server.add_fault(token_expired.graph(), match="/v1.0/users")

The rate-limit and token-expiry bodies and headers are the ones each vendor documents
(links in each function); a new vendor adds its pair here, next to the others.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
import uuid
from collections.abc import Iterable, Mapping
from types import SimpleNamespace
from typing import Any

from tests.emulators._server import DROP, RESET, TRUNCATE, Response

__all__ = [
    "DROP",
    "RESET",
    "TRUNCATE",
    "malformed_body",
    "okta_error_body",
    "rate_limited",
    "server_error",
    "token_expired",
]


def server_error(
    status: int = 500, body: Any = None, headers: Mapping[str, str] | None = None
) -> Response:
    """A 5xx (any status, really) with a JSON body, ``{}`` by default."""
    return Response.json({} if body is None else body, status, headers)


def malformed_body(
    status: int = 200, body: bytes = b'[{"id": "00T', content_type: str = "application/json"
) -> Response:
    """A response that claims JSON but does not parse (cut off mid-object by default)."""
    return Response(status, body, {"Content-Type": content_type})


def okta_error_body(code: str, summary: str, causes: Iterable[str] = ()) -> dict[str, Any]:
    """Okta's error object (``errorCode``, ``errorSummary``, ...), shared with ``okta.py``."""
    return {
        "errorCode": code,
        "errorSummary": summary,
        "errorLink": code,
        "errorId": "oae" + secrets.token_hex(10),
        "errorCauses": [{"errorSummary": c} for c in causes],
    }


def _reset_epoch(reset_in: float) -> int:
    return int(time.time() + reset_in)


# ---------------------------------------------------------------- rate limits
def _okta_rate_limited(limit: int = 600, reset_in: float = 1, remaining: int = 0) -> Response:
    """Okta 429 E0000047 with ``X-Rate-Limit-Limit/-Remaining/-Reset`` (epoch seconds).

    https://developer.okta.com/docs/reference/rl-best-practices/
    """
    body = okta_error_body("E0000047", "API call exceeded rate limit due to too many requests.")
    headers = {
        "X-Rate-Limit-Limit": str(limit),
        "X-Rate-Limit-Remaining": str(remaining),
        "X-Rate-Limit-Reset": str(_reset_epoch(reset_in)),
    }
    return Response.json(body, 429, headers)


def _salesforce_rate_limited(used: int = 15001, limit: int = 15000) -> Response:
    """Salesforce's daily API allowance spent: 403 REQUEST_LIMIT_EXCEEDED, ``Sforce-Limit-Info``.

    https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm
    """
    return Response.json(
        [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
        403,
        {"Sforce-Limit-Info": f"api-usage={used}/{limit}"},
    )


def _github_rate_limited(
    status: int = 403,
    *,
    limit: int = 5000,
    reset_in: float = 1,
    resource: str = "core",
    retry_after: int | None = None,
) -> Response:
    """GitHub's primary limit (``x-ratelimit-*``, remaining 0) or, with ``retry_after``,
    the secondary limit (``Retry-After``). Status 403 or 429, both documented.

    https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api
    """
    headers = {
        "x-ratelimit-limit": str(limit),
        "x-ratelimit-remaining": "0",
        "x-ratelimit-used": str(limit),
        "x-ratelimit-reset": str(_reset_epoch(reset_in)),
        "x-ratelimit-resource": resource,
    }
    message = "API rate limit exceeded for installation."
    if retry_after is not None:
        headers = {"Retry-After": str(retry_after)}
        message = "You have exceeded a secondary rate limit. Please wait a few minutes."
    body = {
        "message": message,
        "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
        "status": str(status),
    }
    return Response.json(body, status, headers)


def _google_rate_limited(
    status: int = 403, reason: str = "rateLimitExceeded", retry_after: int | None = None
) -> Response:
    """Google 403 ``usageLimits`` (``rateLimitExceeded``, ``userRateLimitExceeded``,
    ``quotaExceeded``) or 429 ``RESOURCE_EXHAUSTED``.

    https://developers.google.com/admin-sdk/directory/v1/limits
    https://cloud.google.com/apis/design/errors
    """
    if status == 429:
        message = "Quota exceeded for quota metric 'Queries' of service 'admin.googleapis.com'."
        error: dict[str, Any] = {
            "code": 429,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": "rateLimitExceeded"}],
            "status": "RESOURCE_EXHAUSTED",
        }
    else:
        message = {
            "rateLimitExceeded": "Rate Limit Exceeded",
            "userRateLimitExceeded": "User Rate Limit Exceeded",
            "quotaExceeded": "Quota Exceeded",
        }.get(reason, reason)
        error = {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": "usageLimits", "reason": reason}],
            "status": "PERMISSION_DENIED",
        }
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return Response.json({"error": error}, status, headers)


def _graph_error(code: str, message: str) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "")
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": now,
                "request-id": str(uuid.uuid4()),
                "client-request-id": str(uuid.uuid4()),
            },
        }
    }


def _graph_rate_limited(retry_after: int = 1) -> Response:
    """Microsoft Graph 429 ``TooManyRequests`` with ``Retry-After`` (seconds).

    https://learn.microsoft.com/graph/throttling
    """
    body = _graph_error("TooManyRequests", "Too many requests, retry after some time.")
    return Response.json(body, 429, {"Retry-After": str(retry_after)})


#: ``rate_limited.<vendor>(...)``: the vendor's "slow down" response.
rate_limited = SimpleNamespace(
    okta=_okta_rate_limited,
    salesforce=_salesforce_rate_limited,
    github=_github_rate_limited,
    google=_google_rate_limited,
    graph=_graph_rate_limited,
)


# ---------------------------------------------------------------- token expiry
def _okta_token_expired() -> Response:
    """Okta 401 E0000011 (a revoked or expired API token or access token)."""
    return Response.json(okta_error_body("E0000011", "Invalid token provided"), 401)


def _salesforce_token_expired() -> Response:
    """Salesforce REST 401 INVALID_SESSION_ID (the SOAP form is ``salesforce.soap_fault``)."""
    return Response.json(
        [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}], 401
    )


def _github_token_expired() -> Response:
    """GitHub 401 ``Bad credentials`` (an installation token lasts an hour)."""
    return Response.json(
        {
            "message": "Bad credentials",
            "documentation_url": "https://docs.github.com/rest",
            "status": "401",
        },
        401,
    )


def _google_token_expired() -> Response:
    """Google 401 ``authError`` / ``UNAUTHENTICATED`` with ``WWW-Authenticate``."""
    message = (
        "Request had invalid authentication credentials. Expected OAuth 2 access token, "
        "login cookie or other valid authentication credential."
    )
    error = {
        "code": 401,
        "message": message,
        "errors": [
            {
                "message": "Invalid Credentials",
                "domain": "global",
                "reason": "authError",
                "location": "Authorization",
                "locationType": "header",
            }
        ],
        "status": "UNAUTHENTICATED",
    }
    return Response.json(
        {"error": error}, 401, {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'}
    )


def _graph_token_expired() -> Response:
    """Microsoft Graph 401 ``InvalidAuthenticationToken`` (token lifetime over)."""
    body = _graph_error(
        "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired."
    )
    header = 'Bearer realm="", error="invalid_token", error_description="Token expired"'
    return Response.json(body, 401, {"WWW-Authenticate": header})


#: ``token_expired.<vendor>()``: what the vendor answers a token that stopped working.
token_expired = SimpleNamespace(
    okta=_okta_token_expired,
    salesforce=_salesforce_token_expired,
    github=_github_token_expired,
    google=_google_token_expired,
    graph=_graph_token_expired,
)
