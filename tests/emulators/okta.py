"""An Okta Management API emulator, fed from fixture files or generated in memory.

It reproduces the parts of the wire format the connector relies on, as the
Okta Management OpenAPI and the developer docs describe them; every body it
serves in a full run is validated against Okta's description
(``tests/data/okta/okta-management-subset.json``, ``tests/connectors/okta/test_spec.py``):

- auth: ``Authorization: SSWS <api token>`` or ``Bearer <access token>``
  minted by ``POST /oauth2/v1/token`` (client credentials with a
  ``private_key_jwt`` client assertion, verified with the registered public
  key: ``iss`` = ``sub`` = client id, ``aud`` = the token URL, ``exp``, a
  fresh ``jti``); a bad or revoked token gets ``401 E0000011 Invalid token
  provided``; a Bearer token without the endpoint's scope gets ``403
  E0000006`` and ``WWW-Authenticate: Bearer error="insufficient_scope"``;
- error bodies ``{"errorCode","errorSummary","errorLink","errorId","errorCauses"}``;
- rate limits per endpoint family and per window (a minute by default), told
  on every response in ``X-Rate-Limit-Limit`` / ``-Remaining`` / ``-Reset``
  (UTC epoch seconds), ``429 E0000047`` once spent;
- pagination with ``limit`` and an opaque ``after`` cursor, announced in
  ``Link: <...>; rel="self"`` and ``<...>; rel="next"`` (absent on the last
  page); ``/api/v1/iam/assignees/users`` pages with ``_links.next.href``;
- timestamps as Okta writes them (``2026-01-01T00:00:00.000Z``).

>>> org = OktaOrg.load(FIXTURE)  # doctest: +SKIP
>>> emulator = OktaEmulator(org, ssws_tokens={"00abc..."})  # doctest: +SKIP
>>> with EmulatorServer(emulator) as server:  # doctest: +SKIP
...     emulator.base_url = server.base_url
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import random
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import orjson

from tests.emulators.kit import (
    FixedWindowLimiter,
    Request,
    Response,
    cursor_page,
    fixture_path,
    link_header,
    okta_error_body,
    read_fixture,
    token_expired,
    url,
)

FIXTURE = fixture_path("okta", "org.json")

#: The OAuth scope each endpoint family needs (Okta "OAuth 2.0 scopes" table).
SCOPES = {
    "users": "okta.users.read",
    "me": "okta.users.read",
    "factors": "okta.users.read",
    "user_roles": "okta.roles.read",
    "iam": "okta.roles.read",
    "groups": "okta.groups.read",
    "group_roles": "okta.roles.read",
    "group_users": "okta.groups.read",
    "api_tokens": "okta.apiTokens.read",
    "policies": "okta.policies.read",
    "apps": "okta.apps.read",
    "app_grants": "okta.apps.read",
    "app_secrets": "okta.apps.read",
    "user_grants": "okta.users.read",
    "app_users": "okta.apps.read",
    "user_clients": "okta.users.read",
    "user_client_tokens": "okta.users.read",
    "logs": "okta.logs.read",
}

MAX_LIMIT = {
    "users": 200,
    "groups": 10000,
    "group_users": 1000,
    "iam": 100,
    "api_tokens": 200,
    "apps": 200,
    "app_users": 500,
    "user_client_tokens": 200,
    "logs": 1000,
}

_ROUTES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^/api/v1/users$"), "users"),
    (re.compile(r"^/api/v1/users/me$"), "me"),
    (re.compile(r"^/api/v1/users/(?P<id>[^/]+)/factors$"), "factors"),
    (re.compile(r"^/api/v1/users/(?P<id>[^/]+)/roles$"), "user_roles"),
    (re.compile(r"^/api/v1/iam/assignees/users$"), "iam"),
    (re.compile(r"^/api/v1/groups$"), "groups"),
    (re.compile(r"^/api/v1/groups/(?P<id>[^/]+)/roles$"), "group_roles"),
    (re.compile(r"^/api/v1/groups/(?P<id>[^/]+)/users$"), "group_users"),
    (re.compile(r"^/api/v1/api-tokens$"), "api_tokens"),
    (re.compile(r"^/api/v1/policies$"), "policies"),
    (re.compile(r"^/api/v1/policies/(?P<id>[^/]+)/rules$"), "rules"),
    (re.compile(r"^/api/v1/users/(?P<id>[^/]+)/grants$"), "user_grants"),
    (re.compile(r"^/api/v1/users/(?P<id>[^/]+)/clients$"), "user_clients"),
    (
        re.compile(r"^/api/v1/users/(?P<id>[^/]+)/clients/(?P<client>[^/]+)/tokens$"),
        "user_client_tokens",
    ),
    (re.compile(r"^/api/v1/apps$"), "apps"),
    (re.compile(r"^/api/v1/apps/(?P<id>[^/]+)/grants$"), "app_grants"),
    (re.compile(r"^/api/v1/apps/(?P<id>[^/]+)/credentials/secrets$"), "app_secrets"),
    (re.compile(r"^/api/v1/apps/(?P<id>[^/]+)/users$"), "app_users"),
    (re.compile(r"^/api/v1/logs$"), "logs"),
    (re.compile(r"^/oauth2/v1/token$"), "token"),
]

#: Okta's rate-limit buckets are per endpoint; these are the families we keep apart.
_BUCKET = {
    "users": "/api/v1/users",
    "me": "/api/v1/users/{id}",
    "factors": "/api/v1/users/{id}",
    "user_roles": "/api/v1/users/{id}",
    "iam": "/api/v1/iam",
    "groups": "/api/v1/groups",
    "group_roles": "/api/v1/groups/{id}",
    "group_users": "/api/v1/groups/{id}",
    "api_tokens": "/api/v1/api-tokens",
    "policies": "/api/v1/policies",
    "rules": "/api/v1/policies",
    "apps": "/api/v1/apps",
    "user_grants": "/api/v1/users/{id}",
    "app_grants": "/api/v1/apps/{id}",
    "app_secrets": "/api/v1/apps/{id}",
    "app_users": "/api/v1/apps/{id}",
    "user_clients": "/api/v1/users/{id}",
    "user_client_tokens": "/api/v1/users/{id}",
    "logs": "/api/v1/logs",
    "token": "/oauth2/v1/token",
}


#: Okta's error object (the kit holds it: its rate-limit and token faults use it too).
error_body = okta_error_body


def _json(obj: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        status, orjson.dumps(obj), {"Content-Type": "application/json", **(headers or {})}
    )


def _error(status: int, code: str, summary: str, **headers: str) -> Response:
    return _json(error_body(code, summary), status, headers)


def _route(path: str) -> tuple[str, re.Match[str]] | None:
    for pattern, name in _ROUTES:
        match = pattern.match(path)
        if match:
            return name, match
    return None


# --------------------------------------------------------------------------- data
@dataclass(slots=True)
class OktaOrg:
    """The org's data, as Okta would return it (minus ``_links``, added when served)."""

    users: list[dict[str, Any]] = field(default_factory=list)
    factors: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    user_roles: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    groups: list[dict[str, Any]] = field(default_factory=list)
    group_members: dict[str, list[str]] = field(default_factory=dict)
    group_roles: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    api_tokens: list[dict[str, Any]] = field(default_factory=list)
    policies: list[dict[str, Any]] = field(default_factory=list)
    rules: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: Applications API: apps, their Okta-scope grants and client secrets (by app id)
    apps: list[dict[str, Any]] = field(default_factory=list)
    app_grants: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    app_secrets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: users assigned to each app (Application Users API, by app id)
    app_users: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: users' consent grants (by user id)
    user_grants: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: System Log events (LogEvent objects, any order)
    logs: list[dict[str, Any]] = field(default_factory=list)
    #: users' OAuth refresh tokens (by user id; each names its ``clientId``)
    refresh_tokens: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path = FIXTURE) -> OktaOrg:
        data = read_fixture(Path(path))
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})

    @classmethod
    def generate(
        cls,
        n_users: int,
        *,
        seed: int = 1,
        admins: int = 50,
        apps: int = 0,
        log_events: int = 0,
        now: dt.datetime | None = None,
    ) -> OktaOrg:
        """A large org in memory: ``n_users`` users with 0-3 factors each; with ``apps``,
        OIDC and SAML apps with grants, secrets, assignments, users' consents and refresh
        tokens; with ``log_events``, System Log events over the 29 days before ``now``."""
        rng = random.Random(seed)
        org = cls()
        kinds = [
            ("push", "OKTA"),
            ("token:software:totp", "GOOGLE"),
            ("sms", "OKTA"),
            ("webauthn", "FIDO"),
            ("signed_nonce", "OKTA"),
            ("email", "OKTA"),
        ]
        for i in range(n_users):
            uid = f"00u{i:017d}"
            org.users.append(
                {
                    "id": uid,
                    "status": "ACTIVE" if rng.random() > 0.05 else "SUSPENDED",
                    "created": "2024-01-02T03:04:05.000Z",
                    "activated": "2024-01-02T03:04:05.000Z",
                    "statusChanged": "2024-01-02T03:04:05.000Z",
                    "lastLogin": "2026-10-01T08:00:00.000Z" if rng.random() > 0.2 else None,
                    "lastUpdated": "2026-10-01T08:00:00.000Z",
                    "passwordChanged": "2026-06-01T08:00:00.000Z",
                    "type": {"id": "oty00000000000000000"},
                    "profile": {
                        "firstName": "User",
                        "lastName": str(i),
                        "login": f"user{i}@example.com",
                        "email": f"user{i}@example.com",
                        "employeeNumber": str(100000 + i),
                    },
                    "credentials": {"provider": {"type": "OKTA", "name": "OKTA"}},
                }
            )
            factors = []
            for j, (ftype, provider) in enumerate(rng.sample(kinds, rng.randint(0, 3))):
                factors.append(
                    {
                        "id": f"f{i:010d}{j}",
                        "factorType": ftype,
                        "provider": provider,
                        "vendorName": provider,
                        "status": "ACTIVE",
                        "created": "2024-02-01T00:00:00.000Z",
                        "lastUpdated": "2024-02-01T00:00:00.000Z",
                        "profile": {},
                    }
                )
            if factors:
                org.factors[uid] = factors
        for i in range(min(admins, n_users)):
            org.user_roles[org.users[i]["id"]] = [_role("ORG_ADMIN", "Organization Administrator")]
        everyone, admin_group = "00gEVERYONE0000000000", "00gADMINS00000000000"
        org.groups = [_group(everyone, "Everyone", "BUILT_IN"), _group(admin_group, "Admins")]
        org.group_members = {
            admin_group: [u["id"] for u in org.users[admins : 2 * admins]],
        }
        org.group_roles = {admin_group: [_role("SUPER_ADMIN", "Super Administrator", "GROUP")]}
        org.policies = [
            _policy("00pADMINS00000000000", "Admins", 1, [admin_group]),
            _policy("00pDEFAULT0000000000", "Default Policy", 2, [everyone], system=True),
        ]
        org.rules = {
            "00pADMINS00000000000": [_rule("0prADMINS0000000000", "Admins", 1, 720, 15, True)],
            "00pDEFAULT0000000000": [
                _rule("0prDEFAULT000000000", "Default Rule", 1, 0, 120, False)
            ],
        }
        if apps:
            org._generate_apps(rng, apps)
        if log_events:
            org._generate_logs(rng, log_events, now or dt.datetime.now(dt.UTC))
        return org

    def _generate_apps(self, rng: random.Random, n_apps: int) -> None:
        stamp = "2025-01-01T00:00:00.000Z"
        web: list[str] = []
        for i in range(n_apps):
            aid = f"0oa{i:017d}"
            if i % 4 == 3:
                self.apps.append(_app(aid, f"SAML app {i}", "SAML_2_0", stamp))
                chosen = rng.sample(self.users, min(100, len(self.users)))
                self.app_users[aid] = [
                    {"id": u["id"], "scope": rng.choice(["USER", "GROUP"]), "status": "ACTIVE"}
                    for u in chosen
                ]
                continue
            service = i % 2 == 0
            method = rng.choice(["client_secret_basic", "private_key_jwt"])
            self.apps.append(_app(aid, f"OIDC app {i}", "OPENID_CONNECT", stamp, service, method))
            if service:
                scope = rng.choice(["okta.users.read", "okta.users.manage"])
                self.app_grants[aid] = [_grant(f"oag{i:017d}", aid, scope, "ADMIN", stamp)]
            else:
                web.append(aid)
            if method != "private_key_jwt":
                self.app_secrets[aid] = [
                    {
                        "id": f"ocs{i:017d}",
                        "status": "ACTIVE",
                        "created": stamp,
                        "lastUpdated": stamp,
                    }
                ]
        for n, user in enumerate(self.users):
            if not web or n % 10:
                continue  # one user in ten consented to a web app, with a refresh token
            uid, cid = user["id"], rng.choice(web)
            self.user_grants[uid] = [
                dict(_grant(f"oag{n:017d}u", cid, "offline_access", "END_USER", stamp), userId=uid)
            ]
            self.refresh_tokens[uid] = [
                {
                    "id": f"oar{n:017d}",
                    "status": "ACTIVE",
                    "created": stamp,
                    "lastUpdated": stamp,
                    "expiresAt": "2027-01-01T00:00:00.000Z",
                    "clientId": cid,
                    "userId": uid,
                    "scopes": ["offline_access", "openid"],
                }
            ]

    def _generate_logs(self, rng: random.Random, n_events: int, now: dt.datetime) -> None:
        kinds = ["user.session.start"] * 8 + [
            "app.oauth2.as.consent.grant",
            "application.lifecycle.update",
        ]
        for i in range(n_events):
            user = self.users[rng.randrange(len(self.users))]
            when = now - dt.timedelta(seconds=rng.randrange(29 * 86400))
            kind = rng.choice(kinds)
            targets = []
            if kind != "user.session.start" and self.apps:
                app = self.apps[rng.randrange(len(self.apps))]
                targets = [{"id": app["id"], "type": "AppInstance", "displayName": app["label"]}]
            self.logs.append(
                {
                    "uuid": f"ev-{i:012d}",
                    "published": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                    "eventType": kind,
                    "actor": {"id": user["id"], "type": "User"},
                    "client": {"ipAddress": f"198.51.100.{rng.randrange(1, 40)}"},
                    "outcome": {"result": "SUCCESS" if rng.random() > 0.1 else "FAILURE"},
                    "target": targets,
                }
            )


def _app(
    aid: str,
    label: str,
    mode: str,
    stamp: str,
    service: bool = False,
    method: str = "client_secret_basic",
) -> dict[str, Any]:
    app: dict[str, Any] = {
        "id": aid,
        "label": label,
        "status": "ACTIVE",
        "created": stamp,
        "lastUpdated": stamp,
        "signOnMode": mode,
        "features": [],
    }
    if mode == "OPENID_CONNECT":
        app["name"] = "oidc_client"
        app["credentials"] = {
            "oauthClient": {"client_id": aid, "token_endpoint_auth_method": method}
        }
        app["settings"] = {
            "oauthClient": {
                "application_type": "service" if service else "web",
                "grant_types": ["client_credentials"] if service else ["authorization_code"],
            }
        }
    else:
        app["name"] = f"saml_{aid}"
        app["credentials"] = {}
        app["settings"] = {}
    return app


def _grant(gid: str, client_id: str, scope: str, source: str, stamp: str) -> dict[str, Any]:
    return {
        "id": gid,
        "status": "ACTIVE",
        "created": stamp,
        "lastUpdated": stamp,
        "issuer": "https://example.okta.com",
        "clientId": client_id,
        "scopeId": scope,
        "source": source,
    }


def _role(rtype: str, label: str, assignment: str = "USER") -> dict[str, Any]:
    return {
        "id": "ra" + rtype.lower().replace("_", "")[:16],
        "label": label,
        "type": rtype,
        "status": "ACTIVE",
        "created": "2024-01-01T00:00:00.000Z",
        "lastUpdated": "2024-01-01T00:00:00.000Z",
        "assignmentType": assignment,
    }


def _policy(
    pid: str, name: str, priority: int, groups: list[str], *, system: bool = False
) -> dict[str, Any]:
    return {
        "id": pid,
        "status": "ACTIVE",
        "name": name,
        "priority": priority,
        "system": system,
        "type": "OKTA_SIGN_ON",
        "conditions": {"people": {"groups": {"include": groups}}},
        "created": "2024-01-01T00:00:00.000Z",
        "lastUpdated": "2024-01-01T00:00:00.000Z",
    }


def _rule(
    rid: str, name: str, priority: int, lifetime: int, idle: int, mfa: bool
) -> dict[str, Any]:
    return {
        "id": rid,
        "status": "ACTIVE",
        "name": name,
        "priority": priority,
        "system": False,
        "type": "SIGN_ON",
        "conditions": {"people": {"users": {"exclude": []}}, "network": {"connection": "ANYWHERE"}},
        "actions": {
            "signon": {
                "access": "ALLOW",
                "requireFactor": mfa,
                "session": {
                    "usePersistentCookie": False,
                    "maxSessionIdleMinutes": idle,
                    "maxSessionLifetimeMinutes": lifetime,
                },
            }
        },
    }


def _group(gid: str, name: str, gtype: str = "OKTA_GROUP") -> dict[str, Any]:
    return {
        "id": gid,
        "created": "2024-01-01T00:00:00.000Z",
        "lastUpdated": "2024-01-01T00:00:00.000Z",
        "lastMembershipUpdated": "2024-01-01T00:00:00.000Z",
        "objectClass": ["okta:user_group"],
        "type": gtype,
        "profile": {"name": name, "description": ""},
    }


# --------------------------------------------------------------------------- limits
class RateLimiter(FixedWindowLimiter):
    """The kit's fixed windows, told in Okta's ``X-Rate-Limit-*`` headers."""

    def take(self, bucket: str) -> tuple[bool, dict[str, str]]:
        window = self.count(bucket)
        headers = {
            "X-Rate-Limit-Limit": str(window.limit),
            "X-Rate-Limit-Remaining": str(window.remaining),
            "X-Rate-Limit-Reset": str(window.reset),
        }
        return window.allowed, headers


# --------------------------------------------------------------------------- emulator
@dataclass(slots=True)
class _Token:
    scopes: frozenset[str]
    expires: float


class OktaEmulator:
    """The request handler. ``base_url`` must be set once the server is up."""

    def __init__(
        self,
        org: OktaOrg,
        *,
        ssws_tokens: Iterable[str] = (),
        ssws_owners: Mapping[str, str] | None = None,
        oauth_clients: Mapping[str, str] | None = None,
        rate_limit: int = 600,
        rate_limits: Mapping[str, int] | None = None,
        window: int = 60,
        access_token_ttl: int = 3600,
        base_url: str = "",
    ) -> None:
        self.org = org
        self.ssws_tokens = set(ssws_tokens)
        #: SSWS token -> its owner's user id (``GET /api/v1/users/me``)
        self.ssws_owners = dict(ssws_owners or {})
        self.oauth_clients = dict(oauth_clients or {})  # client id -> public key PEM
        self.access_tokens: dict[str, _Token] = {}
        self.access_token_ttl = access_token_ttl
        self.limiter = RateLimiter(rate_limits or {}, rate_limit, window)
        self.base_url = base_url
        self._lock = threading.Lock()
        self._jtis: set[str] = set()
        self.token_requests = 0
        #: every access token ever issued (tests check that none leaks)
        self.issued: list[str] = []
        #: requests per route name (the bench reports where the calls go)
        self.route_counts: dict[str, int] = {}
        self._index_org()

    def _index_org(self) -> None:
        self.users_sorted = sorted(self.org.users, key=lambda u: u["id"])
        self.user_pos = {u["id"]: i for i, u in enumerate(self.users_sorted)}
        self._listings: dict[str, tuple[list[dict[str, Any]], dict[str, int]]] = {}
        self.groups_sorted = sorted(self.org.groups, key=lambda g: g["id"])
        self.group_by_id = {g["id"]: g for g in self.org.groups}
        self.user_groups: dict[str, list[str]] = {}
        for gid, members in self.org.group_members.items():
            for uid in members:
                self.user_groups.setdefault(uid, []).append(gid)
        self.policy_by_id = {p["id"]: p for p in self.org.policies}

    # -- test controls ----------------------------------------------------------
    def set_user_status(self, uid: str, status: str) -> None:
        """Change a user's status now (an admin deactivating someone mid-run).

        Search listings are rebuilt from the new state; the plain listing a
        client may be paging through keeps its order, as Okta's cursor does.
        """
        with self._lock:
            self.users_sorted[self.user_pos[uid]]["status"] = status
            for key in [k for k in self._listings if not k.startswith("!")]:
                del self._listings[key]

    def revoke_access_tokens(self) -> None:
        """Expire every OAuth access token (the 'token expired mid-run' fault)."""
        with self._lock:
            self.access_tokens.clear()

    # -- dispatch -----------------------------------------------------------------
    def __call__(self, request: Request) -> Response:
        routed = _route(request.path)
        if routed is None:
            return _error(404, "E0000022", "The endpoint does not support the provided HTTP method")
        name, match = routed
        with self._lock:
            self.route_counts[name] = self.route_counts.get(name, 0) + 1
        allowed, limit_headers = self.limiter.take(_BUCKET[name])
        if not allowed:
            response = _error(
                429, "E0000047", "API call exceeded rate limit due to too many requests."
            )
            response.headers.update(limit_headers)
            return response
        if name == "token":
            response = self._token(request)
        elif request.method != "GET":
            response = _error(
                405, "E0000022", "The endpoint does not support the provided HTTP method"
            )
        else:
            denied = self._authorize(request, SCOPES.get(name, "okta.policies.read"))
            response = denied or getattr(self, "_" + name)(request, **match.groupdict())
        response.headers.update(limit_headers)
        return response

    def _authorize(self, request: Request, scope: str) -> Response | None:
        header = request.header("authorization") or ""
        scheme, _, value = header.partition(" ")
        if scheme == "SSWS" and value in self.ssws_tokens:
            return None
        if scheme == "Bearer":
            with self._lock:
                token = self.access_tokens.get(value)
            if token is not None and token.expires > time.time():
                if scope in token.scopes:
                    return None
                return _error(
                    403,
                    "E0000006",
                    "You do not have permission to perform the requested action",
                    **{"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'},
                )
        return token_expired.okta()

    # -- OAuth ----------------------------------------------------------------------
    def _token(self, request: Request) -> Response:
        import jwt  # PyJWT, as the connector uses

        def oauth_error(status: int, error: str, description: str) -> Response:
            return _json({"error": error, "error_description": description}, status)

        with self._lock:
            self.token_requests += 1
        if request.method != "POST":
            return oauth_error(405, "invalid_request", "POST required")
        form = request.form()
        if form.get("grant_type") != "client_credentials":
            return oauth_error(400, "unsupported_grant_type", "grant_type is not supported")
        if form.get("client_assertion_type") != (
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        ):
            return oauth_error(401, "invalid_client", "client_assertion_type is invalid")
        assertion = form.get("client_assertion", "")
        try:
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            return oauth_error(401, "invalid_client", "The client_assertion is not a JWT")
        client_id = unverified.get("iss", "")
        key = self.oauth_clients.get(client_id)
        if key is None:
            return oauth_error(401, "invalid_client", "The client is not known")
        try:
            claims = jwt.decode(
                assertion,
                key,
                algorithms=["RS256", "RS384", "RS512", "ES256"],
                audience=self.base_url + "/oauth2/v1/token",
                options={"require": ["exp", "iss", "sub", "aud", "jti"]},
            )
        except jwt.PyJWTError as exc:
            return oauth_error(401, "invalid_client", f"The client_assertion is invalid: {exc}")
        if claims["sub"] != client_id:
            return oauth_error(401, "invalid_client", "sub must equal iss")
        with self._lock:
            if claims["jti"] in self._jtis:
                return oauth_error(401, "invalid_client", "The client_assertion token was replayed")
            self._jtis.add(claims["jti"])
        requested = form.get("scope", "").split()
        unknown = [s for s in requested if s not in set(SCOPES.values())]
        if not requested or unknown:
            return oauth_error(400, "invalid_scope", f"The requested scope is invalid: {unknown}")
        access = secrets.token_urlsafe(32)
        with self._lock:
            self.issued.append(access)
            self.access_tokens[access] = _Token(
                frozenset(requested), time.time() + self.access_token_ttl
            )
        return _json(
            {
                "token_type": "Bearer",
                "expires_in": self.access_token_ttl,
                "access_token": access,
                "scope": " ".join(requested),
            }
        )

    # -- pagination -----------------------------------------------------------------
    def _limit(self, request: Request, family: str, default: int) -> int | Response:
        raw = request.param("limit")
        if raw is None:
            return default
        try:
            limit = int(raw)
        except ValueError:
            return _error(400, "E0000001", "Api validation failed: limit")
        if limit < 1:
            return _error(400, "E0000001", "Api validation failed: limit")
        return min(limit, MAX_LIMIT.get(family, 200))

    def _page(
        self,
        request: Request,
        items: list[dict[str, Any]],
        pos: Mapping[str, int] | None,
        family: str,
        default_limit: int,
        render: Callable[[dict[str, Any]], Any] = lambda x: x,
        keep: Mapping[str, str] | None = None,
    ) -> Response:
        """One page; ``keep`` are query parameters the self/next links carry on."""
        limit = self._limit(request, family, default_limit)
        if isinstance(limit, Response):
            return limit
        page = cursor_page(items, request.param("after"), limit, index=pos or {})
        if page is None:
            return _error(400, "E0000031", "Invalid search criteria: after")
        extra = dict(keep or {})
        links = {"self": self._url(request.path, {**extra, "limit": limit})}
        if page.next is not None:
            links["next"] = self._url(request.path, {**extra, "after": page.next, "limit": limit})
        return _json([render(x) for x in page.items], headers={"Link": link_header(links)})

    def _url(self, path: str, query: Mapping[str, Any]) -> str:
        return url(self.base_url, path, query)

    # -- endpoints --------------------------------------------------------------------
    def _users(self, request: Request) -> Response:
        """Without ``search``, every user but DEPROVISIONED ones (as Okta documents);
        ``search=status eq "X"`` is the one search expression emulated."""
        if request.param("q") or request.param("filter"):
            return _error(400, "E0000031", "Invalid search criteria (not emulated)")
        search = request.param("search")
        if search is None:
            key = "!DEPROVISIONED"
        else:
            found = re.fullmatch(r'status eq "([A-Z_]+)"', search.strip())
            if not found:
                return _error(400, "E0000031", f"Invalid search criteria: {search}")
            key = found.group(1)
        with self._lock:
            listing = self._listings.get(key)
            if listing is None:
                if key.startswith("!"):
                    items = [u for u in self.users_sorted if u.get("status") != key[1:]]
                else:
                    items = [u for u in self.users_sorted if u.get("status") == key]
                listing = (items, {u["id"]: i for i, u in enumerate(items)})
                self._listings[key] = listing
        keep = {"search": search} if search is not None else None
        return self._page(
            request, listing[0], listing[1], "users", 200, self._render_user, keep=keep
        )

    def _render_user(self, user: dict[str, Any]) -> dict[str, Any]:
        out = dict(user)
        out["_links"] = {"self": {"href": f"{self.base_url}/api/v1/users/{user['id']}"}}
        return out

    def _me(self, request: Request) -> Response:
        """The SSWS token's owner (Okta: "the user linked to the API token")."""
        scheme, _, value = (request.header("authorization") or "").partition(" ")
        uid = self.ssws_owners.get(value) if scheme == "SSWS" else None
        if uid is None or uid not in self.user_pos:
            return self._no_user("me")
        return _json(self._render_user(self.users_sorted[self.user_pos[uid]]))

    def _no_user(self, uid: str) -> Response:
        return _error(404, "E0000007", f"Not found: Resource not found: {uid} (User)")

    def _factors(self, request: Request, id: str) -> Response:
        if id not in self.user_pos:
            return self._no_user(id)
        return _json(self.org.factors.get(id, []))

    def _user_roles(self, request: Request, id: str) -> Response:
        if id not in self.user_pos:
            return self._no_user(id)
        roles = [dict(r, assignmentType="USER") for r in self.org.user_roles.get(id, [])]
        for gid in self.user_groups.get(id, []):
            roles += [dict(r, assignmentType="GROUP") for r in self.org.group_roles.get(gid, [])]
        return _json(roles)

    def _iam(self, request: Request) -> Response:
        limit = self._limit(request, "iam", 100)
        if isinstance(limit, Response):
            return limit
        assignees = sorted(self.org.user_roles)
        after = request.param("after")
        # an unknown cursor starts over (Okta's iam listing does not refuse it)
        page = cursor_page(assignees, after if after in assignees else None, limit, key=str)
        assert page is not None
        body: dict[str, Any] = {
            "value": [
                {
                    "id": uid,
                    "orn": f"orn:okta:directory:00o1:users:{uid}",
                    "_links": {
                        "roles": {"href": f"{self.base_url}/api/v1/users/{uid}/roles"},
                    },
                }
                for uid in page.items
            ],
            "_links": {},
        }
        if page.next is not None:
            body["_links"]["next"] = {
                "href": self._url(request.path, {"after": page.next, "limit": limit})
            }
        return _json(body)

    def _groups(self, request: Request) -> Response:
        pos = {g["id"]: i for i, g in enumerate(self.groups_sorted)}
        return self._page(request, self.groups_sorted, pos, "groups", 10000)

    def _group_roles(self, request: Request, id: str) -> Response:
        if id not in self.group_by_id:
            return _error(404, "E0000007", f"Not found: Resource not found: {id} (UserGroup)")
        return _json([dict(r, assignmentType="GROUP") for r in self.org.group_roles.get(id, [])])

    def _group_users(self, request: Request, id: str) -> Response:
        if id not in self.group_by_id:
            return _error(404, "E0000007", f"Not found: Resource not found: {id} (UserGroup)")
        members = sorted(self.org.group_members.get(id, []))
        users = [self.users_sorted[self.user_pos[m]] for m in members if m in self.user_pos]
        pos = {u["id"]: i for i, u in enumerate(users)}
        return self._page(request, users, pos, "group_users", 1000, self._render_user)

    def _api_tokens(self, request: Request) -> Response:
        tokens = sorted(self.org.api_tokens, key=lambda t: t["id"])
        pos = {t["id"]: i for i, t in enumerate(tokens)}

        def render(token: dict[str, Any]) -> dict[str, Any]:
            out = copy.deepcopy(token)
            out["_links"] = {
                "self": {"href": f"{self.base_url}/api/v1/api-tokens/{token['id']}"},
                "user": {"href": f"{self.base_url}/api/v1/users/{token.get('userId')}"},
            }
            return out

        return self._page(request, tokens, pos, "api_tokens", 20, render)

    def _policies(self, request: Request) -> Response:
        ptype = request.param("type")
        if not ptype:
            return _error(400, "E0000001", "Api validation failed: type")
        return _json([p for p in self.org.policies if p.get("type") == ptype])

    def _rules(self, request: Request, id: str) -> Response:
        if id not in self.policy_by_id:
            return _error(404, "E0000007", f"Not found: Resource not found: {id} (Policy)")
        return _json(self.org.rules.get(id, []))

    # -- Applications API ---------------------------------------------------------------
    def _app(self, id: str) -> dict[str, Any] | None:
        return next((a for a in self.org.apps if a["id"] == id), None)

    def _apps(self, request: Request) -> Response:
        apps = sorted(self.org.apps, key=lambda a: a["id"])
        pos = {a["id"]: i for i, a in enumerate(apps)}

        def render(app: dict[str, Any]) -> dict[str, Any]:
            out = copy.deepcopy(app)
            out["_links"] = {"self": {"href": f"{self.base_url}/api/v1/apps/{app['id']}"}}
            return out

        return self._page(request, apps, pos, "apps", 20, render)

    def _app_grants(self, request: Request, id: str) -> Response:
        if self._app(id) is None:
            return _error(404, "E0000007", f"Not found: Resource not found: {id} (AppInstance)")
        return _json(self.org.app_grants.get(id, []))

    def _app_users(self, request: Request, id: str) -> Response:
        if self._app(id) is None:
            return _error(404, "E0000007", f"Not found: Resource not found: {id} (AppInstance)")
        users = sorted(self.org.app_users.get(id, []), key=lambda u: u["id"])
        pos = {u["id"]: i for i, u in enumerate(users)}

        def render(app_user: dict[str, Any]) -> dict[str, Any]:
            out = copy.deepcopy(app_user)
            out["_links"] = {
                "app": {"href": f"{self.base_url}/api/v1/apps/{id}"},
                "user": {"href": f"{self.base_url}/api/v1/users/{app_user['id']}"},
            }
            return out

        return self._page(request, users, pos, "app_users", 50, render)

    # -- System Log ------------------------------------------------------------------
    def _logs(self, request: Request) -> Response:
        """Bounded queries (``until`` given) end; polling ones (no ``until``) always
        announce a next page, as Okta does. ``filter`` takes ``eventType eq "X"`` and
        ``eventType sw "X"`` joined by ``or``: the connector's expression."""
        since = _log_time(request.param("since"))
        until_raw = request.param("until")
        until = _log_time(until_raw)
        if since is False or until is False:
            return _error(400, "E0000001", "Api validation failed: since/until")
        tests: list[Callable[[str], bool]] = []
        expression = request.param("filter")
        if expression:
            for part in re.split(r"\s+or\s+", expression.strip()):
                found = re.fullmatch(r'eventType (eq|sw) "([^"]+)"', part.strip())
                if not found:
                    return _error(400, "E0000031", f"Invalid search criteria: {expression}")
                op, value = found.groups()
                tests.append(
                    (lambda v: lambda t: t == v)(value)
                    if op == "eq"
                    else (lambda v: lambda t: t.startswith(v))(value)
                )
        events = sorted(self.org.logs, key=lambda e: (e["published"], e["uuid"]))
        if request.param("sortOrder") == "DESCENDING":
            events.reverse()
        events = [
            e
            for e in events
            if (not since or e["published"] >= since)
            and (not until or e["published"] < until)
            and (not tests or any(t(e["eventType"]) for t in tests))
        ]
        limit = self._limit(request, "logs", 100)
        if isinstance(limit, Response):
            return limit
        page = cursor_page(events, request.param("after"), limit, key=lambda e: e["uuid"])
        if page is None:
            return _error(400, "E0000031", "Invalid search criteria: after")
        keep = {k: request.param(k) for k in ("since", "until", "filter", "sortOrder")}
        keep = {k: v for k, v in keep.items() if v is not None}
        links = {"self": self._url(request.path, {**keep, "limit": limit})}
        cursor = page.next
        if cursor is None and until_raw is None:
            # polling: the next link stays, pointing past the last event seen
            cursor = page.items[-1]["uuid"] if page.items else request.param("after") or "0"
        if cursor is not None:
            links["next"] = self._url(request.path, {**keep, "after": cursor, "limit": limit})
        return _json(page.items, headers={"Link": link_header(links)})

    def _client_app(self, client_id: str) -> dict[str, Any] | None:
        for app in self.org.apps:
            oauth = (app.get("credentials") or {}).get("oauthClient") or {}
            if oauth.get("client_id", app["id"]) == client_id:
                return app
        return None

    def _user_clients(self, request: Request, id: str) -> Response:
        """The clients the user holds grants or tokens for (one array, no paging)."""
        if id not in self.user_pos:
            return self._no_user(id)
        ids = {t["clientId"] for t in self.org.refresh_tokens.get(id, [])}
        ids |= {g["clientId"] for g in self.org.user_grants.get(id, []) if g.get("clientId")}
        out = []
        for cid in sorted(ids):
            app = self._client_app(cid) or {}
            base = f"{self.base_url}/api/v1/users/{id}/clients/{cid}"
            out.append(
                {
                    "client_id": cid,
                    "client_name": app.get("label", cid),
                    "_links": {
                        "self": {"href": f"{self.base_url}/oauth2/v1/clients/{cid}"},
                        "grants": {"href": base + "/grants"},
                        "tokens": {"href": base + "/tokens"},
                    },
                }
            )
        return _json(out)

    def _user_client_tokens(self, request: Request, id: str, client: str) -> Response:
        if id not in self.user_pos:
            return self._no_user(id)
        tokens = sorted(
            (t for t in self.org.refresh_tokens.get(id, []) if t["clientId"] == client),
            key=lambda t: t["id"],
        )
        pos = {t["id"]: i for i, t in enumerate(tokens)}

        def render(token: dict[str, Any]) -> dict[str, Any]:
            out = copy.deepcopy(token)
            out["_links"] = {
                "self": {"href": f"{self.base_url}{request.path}/{token['id']}"},
                "client": {"href": f"{self.base_url}/oauth2/v1/clients/{client}"},
                "user": {"href": f"{self.base_url}/api/v1/users/{id}"},
            }
            return out

        return self._page(request, tokens, pos, "user_client_tokens", 20, render)

    def _user_grants(self, request: Request, id: str) -> Response:
        if id not in self.user_pos:
            return self._no_user(id)
        return _json(self.org.user_grants.get(id, []))

    def _app_secrets(self, request: Request, id: str) -> Response:
        if self._app(id) is None:
            return _error(404, "E0000007", f"Not found: Resource not found: {id} (AppInstance)")
        # Listings carry the secret undisclosed (hashed); only creation returns it.
        return _json(self.org.app_secrets.get(id, []))


def _log_time(value: str | None) -> str | bool:
    """A since/until bound as Okta's canonical ``...000Z`` text ("" when absent)."""
    if not value:
        return ""
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    if parsed.tzinfo is None:
        return False
    return parsed.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{parsed.microsecond // 1000:03d}Z"
    )


def total_pages(n: int, limit: int) -> int:
    return max(1, math.ceil(n / limit))


__all__ = ["FIXTURE", "OktaEmulator", "OktaOrg", "RateLimiter", "error_body", "total_pages"]
