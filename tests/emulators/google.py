"""A Google Workspace emulator: OAuth token endpoint, Admin SDK Directory, Cloud Identity.

The wire format follows Google's discovery documents (``tests/data/google/``) and the
Admin SDK pages on limits and errors:

- ``POST /token``: the JWT bearer grant (RFC 7523) a service account with domain-wide
  delegation uses. The assertion is checked (RS256 with the registered key, ``iss`` the
  client email, ``aud`` the token URL, ``sub`` the admin, ``scope``, ``exp``); a client
  without delegation for a scope gets ``unauthorized_client``, a bad assertion
  ``invalid_grant``;
- Directory ``users`` (``customer``, ``maxResults`` up to 500, ``showDeleted``),
  ``roles`` (100), ``roleassignments`` (200), ``groups`` and ``members`` (200), paged with
  ``pageToken`` / ``nextPageToken``; per-user ``tokens`` and ``asps`` (no paging);
  Cloud Identity ``v1/policies`` (``pageSize`` up to 100); Reports
  ``activity/users/{userKey}/applications/{applicationName}`` (``eventName``,
  ``startTime`` / ``endTime``, ``maxResults`` up to 1000, newest first);
- the error model ``{"error": {"code", "message", "errors": [{"domain", "reason"}],
  "status"}}``; an optional per-user quota (Google's default: 2,400 queries per minute
  per user) answered with 403 ``userRateLimitExceeded``.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tests.emulators.kit import (
    FixedWindowLimiter,
    PageTokens,
    Request,
    Response,
    fixture_path,
    rate_limited,
    read_fixture,
    token_expired,
)

FIXTURE = fixture_path("google", "tenant.json")
DIRECTORY = "/admin/directory/v1"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
MAX_RESULTS = {"users": 500, "roles": 100, "roleassignments": 200, "groups": 200, "members": 200}

_ROUTES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"^{DIRECTORY}/users$"), "users"),
    (re.compile(rf"^{DIRECTORY}/users/(?P<key>[^/]+)/tokens$"), "tokens"),
    (re.compile(rf"^{DIRECTORY}/users/(?P<key>[^/]+)/asps$"), "asps"),
    (re.compile(rf"^{DIRECTORY}/customer/(?P<customer>[^/]+)/roles$"), "roles"),
    (re.compile(rf"^{DIRECTORY}/customer/(?P<customer>[^/]+)/roleassignments$"), "roleassignments"),
    (re.compile(rf"^{DIRECTORY}/groups$"), "groups"),
    (re.compile(rf"^{DIRECTORY}/groups/(?P<key>[^/]+)/members$"), "members"),
    (re.compile(r"^/v1/policies$"), "policies"),
    (
        re.compile(
            r"^/admin/reports/v1/activity/users/(?P<key>[^/]+)/applications/(?P<app>[^/]+)$"
        ),
        "activities",
    ),
]


def google_error(status: int, reason: str, message: str, domain: str = "global") -> Response:
    """Google's JSON error body (https://cloud.google.com/apis/design/errors)."""
    statuses = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}
    error = {
        "code": status,
        "message": message,
        "errors": [{"message": message, "domain": domain, "reason": reason}],
        "status": statuses.get(status, "UNKNOWN"),
    }
    return Response.json({"error": error}, status)


def forbidden() -> Response:
    return google_error(403, "forbidden", "Not Authorized to access this resource/api")


@dataclass
class GoogleTenant:
    """The tenant's data in the API's own shapes (tokens and asps keyed by user id)."""

    customer_id: str
    domain: str
    users: list[dict[str, Any]]
    deleted_users: list[dict[str, Any]] = field(default_factory=list)
    tokens: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    asps: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    roles: list[dict[str, Any]] = field(default_factory=list)
    role_assignments: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    policies: list[dict[str, Any]] = field(default_factory=list)
    #: Reports API activities by applicationName (``token``, ``login``), in the API's shape
    activities: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Any = FIXTURE) -> GoogleTenant:
        return cls(**read_fixture(path))

    @classmethod
    def generated(cls, users: int) -> GoogleTenant:
        """A large tenant for the benchmark: every user has one token and one ASP."""
        base = cls.load()
        people = []
        tokens: dict[str, list[dict[str, Any]]] = {}
        asps: dict[str, list[dict[str, Any]]] = {}
        template = base.users[3]
        for n in range(users):
            uid = f"2{n:020d}"
            user = copy.deepcopy(template)
            user.update(id=uid, primaryEmail=f"user{n}@{base.domain}")
            people.append(user)
            tokens[uid] = copy.deepcopy(base.tokens["100000000000000000004"])
            asps[uid] = copy.deepcopy(base.asps["100000000000000000004"])
        return cls(base.customer_id, base.domain, people, [], tokens, asps, base.roles, [], [], [])


class GoogleEmulator:
    """Routes for one tenant; ``base_url`` is filled in by the server."""

    def __init__(
        self,
        tenant: GoogleTenant,
        *,
        client_email: str,
        public_key_pem: str,
        delegated_scopes: frozenset[str] | None = None,
        admins: frozenset[str] = frozenset(),
        token_lifetime: int = 3600,
        user_quota: int | None = None,
        quota_window: int = 60,
    ) -> None:
        self.tenant = tenant
        self.client_email = client_email
        self.public_key_pem = public_key_pem
        #: scopes the domain-wide delegation grants (None: every scope asked for)
        self.delegated_scopes = delegated_scopes
        self.admins = admins or frozenset(
            u["primaryEmail"] for u in tenant.users if u.get("isAdmin")
        )
        self.token_lifetime = token_lifetime
        self.base_url = ""
        self._access: dict[str, float] = {}  # access token -> expiry (monotonic)
        self._lock = threading.Lock()
        self._pages: PageTokens[int] = PageTokens("pt")
        self.limiter = (
            FixedWindowLimiter({}, user_quota, quota_window) if user_quota is not None else None
        )
        #: user ids whose token listing answers 403 forbidden
        self.forbidden_tokens: set[str] = set()
        #: Reports applicationNames the subject may not read (403 insufficientPermissions)
        self.forbidden_reports: set[str] = set()
        self._user_index: tuple[int, int, frozenset[str]] = (0, -1, frozenset())
        self.token_requests = 0

    # -- tokens ---------------------------------------------------------------------------
    def expire_tokens(self) -> None:
        """Every access token handed out so far expires now (a long run outliving one)."""
        with self._lock:
            self._access.clear()

    def _token(self, request: Request) -> Response:
        import jwt

        self.token_requests += 1
        form = request.form()
        if form.get("grant_type") != JWT_BEARER:
            return _oauth_error("unsupported_grant_type", "Invalid grant_type.")
        try:
            claims = jwt.decode(
                form.get("assertion", ""),
                self.public_key_pem,
                algorithms=["RS256"],
                audience=self.base_url + "/token",
                issuer=self.client_email,
                options={"require": ["iss", "aud", "exp", "iat", "scope"]},
            )
        except jwt.PyJWTError:
            return _oauth_error("invalid_grant", "Invalid JWT Signature.")
        if claims.get("sub") not in self.admins:
            return _oauth_error("invalid_grant", "Invalid email or User ID")
        asked = set(str(claims["scope"]).split())
        if self.delegated_scopes is not None and not asked <= self.delegated_scopes:
            return _oauth_error(
                "unauthorized_client",
                "Client is unauthorized to retrieve access tokens using this method, "
                "or client not authorized for any of the scopes requested.",
                status=401,
            )
        token = "ya29." + secrets.token_urlsafe(24)
        with self._lock:
            self._access[token] = time.monotonic() + self.token_lifetime
        return Response.json(
            {"access_token": token, "expires_in": self.token_lifetime, "token_type": "Bearer"}
        )

    def _authorised(self, request: Request) -> bool:
        header = request.header("authorization") or ""
        token = header.removeprefix("Bearer ")
        with self._lock:
            expiry = self._access.get(token)
        return expiry is not None and expiry > time.monotonic()

    # -- routing --------------------------------------------------------------------------
    def __call__(self, request: Request) -> Response:
        if request.method == "POST" and request.path == "/token":
            return self._token(request)
        if request.method != "GET":
            return google_error(405, "methodNotAllowed", "Method not allowed")
        routed = next(((n, m) for p, n in _ROUTES if (m := p.match(request.path))), None)
        if routed is None:
            return google_error(404, "notFound", "Not Found")
        name, match = routed
        if not self._authorised(request):
            return token_expired.google()
        # one "queries per minute per user" quota over every call (the subject is the user)
        if self.limiter is not None and not self.limiter.count("per-user").allowed:
            return rate_limited.google(403, "userRateLimitExceeded")
        return getattr(self, "_" + name)(request, **match.groupdict())

    def _customer_ok(self, customer: str | None) -> bool:
        return customer in ("my_customer", self.tenant.customer_id)

    def _paged(
        self, request: Request, name: str, items: list[dict[str, Any]], key: str, kind: str
    ) -> Response:
        size_param = "pageSize" if name == "policies" else "maxResults"
        top = 100 if name == "policies" else MAX_RESULTS[name]
        try:
            size = int(request.param(size_param) or (50 if name == "policies" else 100))
        except ValueError:
            return google_error(400, "invalid", f"Invalid value for {size_param}")
        if not 1 <= size <= top:
            return google_error(400, "invalid", f"Invalid value for {size_param}")
        start = 0
        token = request.param("pageToken")
        if token:
            found = self._pages.get(token)
            if found is None:
                return google_error(400, "invalid", "Invalid page token")
            start = found
        body: dict[str, Any] = {key: items[start : start + size]}
        if kind:
            body = {"kind": kind, "etag": '"etag"', **body}
        if start + size < len(items):
            body["nextPageToken"] = self._pages.issue(start + size)
        return Response.json(body)

    def _users(self, request: Request) -> Response:
        if not self._customer_ok(request.param("customer")) and not request.param("domain"):
            return google_error(400, "invalid", "Bad Request")
        deleted = request.param("showDeleted") == "true"
        users = self.tenant.deleted_users if deleted else self.tenant.users
        items = [{"kind": "admin#directory#user", **u} for u in users]
        return self._paged(request, "users", items, "users", "admin#directory#users")

    def _user_known(self, key: str) -> bool:
        # an index, rebuilt when a test swaps or grows the list: a scan per call made
        # the 50,000-user bench quadratic (12 ms a lookup, two lookups per user)
        users = self.tenant.users
        ident, size, keys = self._user_index
        if ident != id(users) or size != len(users):
            keys = frozenset(k for u in users for k in (u["id"], u["primaryEmail"]))
            self._user_index = (id(users), len(users), keys)
        return key in keys

    def _tokens(self, request: Request, key: str) -> Response:
        if not self._user_known(key):
            return google_error(404, "notFound", "Resource Not Found: userKey")
        if key in self.forbidden_tokens:
            return forbidden()
        items = [
            {"kind": "admin#directory#token", "etag": '"t"', "userKey": key, **t}
            for t in self.tenant.tokens.get(key, [])
        ]
        return Response.json({"kind": "admin#directory#tokenList", "etag": '"l"', "items": items})

    def _asps(self, request: Request, key: str) -> Response:
        if not self._user_known(key):
            return google_error(404, "notFound", "Resource Not Found: userKey")
        items = [
            {"kind": "admin#directory#asp", "etag": '"a"', "userKey": key, **a}
            for a in self.tenant.asps.get(key, [])
        ]
        return Response.json({"kind": "admin#directory#aspList", "etag": '"l"', "items": items})

    def _roles(self, request: Request, customer: str) -> Response:
        if not self._customer_ok(customer):
            return forbidden()
        items = [{"kind": "admin#directory#role", **r} for r in self.tenant.roles]
        return self._paged(request, "roles", items, "items", "admin#directory#roles")

    def _roleassignments(self, request: Request, customer: str) -> Response:
        if not self._customer_ok(customer):
            return forbidden()
        items = [
            {"kind": "admin#directory#roleAssignment", **a} for a in self.tenant.role_assignments
        ]
        return self._paged(
            request, "roleassignments", items, "items", "admin#directory#roleAssignments"
        )

    def _groups(self, request: Request) -> Response:
        if not self._customer_ok(request.param("customer")):
            return google_error(400, "invalid", "Bad Request")
        items = [
            {"kind": "admin#directory#group", **{k: v for k, v in g.items() if k != "members"}}
            for g in self.tenant.groups
        ]
        return self._paged(request, "groups", items, "groups", "admin#directory#groups")

    def _members(self, request: Request, key: str) -> Response:
        group = next((g for g in self.tenant.groups if key in (g["id"], g["email"])), None)
        if group is None:
            return google_error(404, "notFound", "Resource Not Found: groupKey")
        items = [{"kind": "admin#directory#member", **m} for m in group.get("members", [])]
        return self._paged(request, "members", items, "members", "admin#directory#members")

    def _activities(self, request: Request, key: str, app: str) -> Response:
        if app not in ("token", "login", "admin", "drive", "saml", "user_accounts"):
            return google_error(400, "invalid", "Bad Request")
        if app in self.forbidden_reports:
            return google_error(403, "insufficientPermissions", "Insufficient Permission")
        try:
            size = int(request.param("maxResults") or 1000)
        except ValueError:
            return google_error(400, "invalid", "Invalid value for maxResults")
        if not 1 <= size <= 1000:
            return google_error(400, "invalid", "Invalid value for maxResults")
        event = request.param("eventName")
        try:
            start, end = (_instant(request.param(p)) for p in ("startTime", "endTime"))
        except ValueError:
            return google_error(400, "invalid", "Invalid value for startTime/endTime")
        items = []
        for activity in self.tenant.activities.get(app, []):
            when = _instant(activity["id"]["time"])
            if (start and when and when < start) or (end and when and when > end):
                continue
            if key != "all" and key not in (
                activity["actor"].get("email"),
                activity["actor"].get("profileId"),
            ):
                continue
            if event and not any(e.get("name") == event for e in activity["events"]):
                continue
            items.append({"kind": "admin#reports#activity", "etag": '"e"', **activity})
        items.sort(key=lambda a: a["id"]["time"], reverse=True)  # the API lists newest first
        start_at = 0
        token = request.param("pageToken")
        if token:
            found = self._pages.get(token)
            if found is None:
                return google_error(400, "invalid", "Invalid page token")
            start_at = found
        body: dict[str, Any] = {
            "kind": "admin#reports#activities",
            "etag": '"l"',
            "items": items[start_at : start_at + size],
        }
        if start_at + size < len(items):
            body["nextPageToken"] = self._pages.issue(start_at + size)
        return Response.json(body)

    def _policies(self, request: Request) -> Response:
        return self._paged(request, "policies", list(self.tenant.policies), "policies", "")


def _instant(value: str | None) -> dt.datetime | None:
    """An RFC 3339 time (``2026-10-20T09:15:00.000Z``); ValueError when it is not one."""
    return dt.datetime.fromisoformat(value) if value else None


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    """Google's token endpoint errors (RFC 6749 s. 5.2 shape)."""
    return Response.json({"error": error, "error_description": description}, status)


def grant_activity(
    n: int, when: str, user: dict[str, Any], client_id: str, app: str, scopes: list[str]
) -> dict[str, Any]:
    """One OAuth token audit ``authorize`` activity (applicationName ``token``)."""
    return {
        "id": {
            "time": when,
            "uniqueQualifier": str(n),
            "applicationName": "token",
            "customerId": "C03az79cb",
        },
        "actor": {"email": user["primaryEmail"], "profileId": user["id"], "callerType": "USER"},
        "ipAddress": "203.0.113.7",
        "events": [
            {
                "type": "auth",
                "name": "authorize",
                "parameters": [
                    {"name": "client_id", "value": client_id},
                    {"name": "app_name", "value": app},
                    {"name": "client_type", "value": "WEB"},
                    {"name": "scope", "multiValue": scopes},
                ],
            }
        ],
    }


def login_activity(n: int, when: str, user: dict[str, Any], methods: list[str]) -> dict[str, Any]:
    """One login audit ``login_success`` activity (applicationName ``login``)."""
    return {
        "id": {
            "time": when,
            "uniqueQualifier": str(n),
            "applicationName": "login",
            "customerId": "C03az79cb",
        },
        "actor": {"email": user["primaryEmail"], "profileId": user["id"], "callerType": "USER"},
        "ipAddress": "198.51.100.20",
        "events": [
            {
                "type": "login",
                "name": "login_success",
                "parameters": [
                    {"name": "login_type", "value": "google_password"},
                    {"name": "login_challenge_method", "multiValue": methods},
                    {"name": "is_suspicious", "boolValue": False},
                ],
            }
        ],
    }
