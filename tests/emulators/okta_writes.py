"""The Okta emulator's write routes (remediation) and the single-object reads they need.

A subclass of :class:`~tests.emulators.okta.OktaEmulator`: the read routes are
unchanged, these are added (each as Okta's Management OpenAPI describes it; the
bodies are validated against ``tests/data/okta/okta-management-subset.json`` in
``tests/connectors/okta/test_actions.py``):

- ``GET /api/v1/users/{id}`` (``me``: the SSWS token's owner) -> the user;
- ``DELETE /api/v1/users/{userId}/sessions[?oauthTokens=true]`` -> 204; ends the
  user's sessions (``sessions``) and with ``oauthTokens`` their refresh tokens;
- ``POST /api/v1/users/{id}/lifecycle/suspend`` -> 200 no body (ACTIVE users only,
  else ``400 E0000001``);
- ``GET`` / ``DELETE /api/v1/api-tokens/{apiTokenId}`` -> the token / 204 (a revoked
  token that authenticated requests stops working);
- ``GET`` / ``DELETE /api/v1/apps/{appId}/grants/{grantId}`` -> the grant / 204.

Every write is kept in ``writes`` (method, path) so tests can assert what was done.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

from tests.emulators.kit import Request, Response
from tests.emulators.okta import OktaEmulator, OktaOrg, _error, _json

#: (pattern, method) -> handler name, and the scope it needs (Okta "OAuth 2.0 scopes")
_WRITE_ROUTES: list[tuple[re.Pattern[str], str, str, str]] = [
    (re.compile(r"^/api/v1/users/(?P<id>[^/]+)$"), "GET", "user", "okta.users.read"),
    (
        re.compile(r"^/api/v1/users/(?P<id>[^/]+)/sessions$"),
        "DELETE",
        "clear_sessions",
        "okta.users.manage",
    ),
    (
        re.compile(r"^/api/v1/users/(?P<id>[^/]+)/lifecycle/suspend$"),
        "POST",
        "suspend",
        "okta.users.manage",
    ),
    (re.compile(r"^/api/v1/api-tokens/(?P<id>[^/]+)$"), "GET", "api_token", "okta.apiTokens.read"),
    (
        re.compile(r"^/api/v1/api-tokens/(?P<id>[^/]+)$"),
        "DELETE",
        "revoke_api_token",
        "okta.apiTokens.manage",
    ),
    (
        re.compile(r"^/api/v1/apps/(?P<app>[^/]+)/grants/(?P<id>[^/]+)$"),
        "GET",
        "app_grant",
        "okta.appGrants.read",
    ),
    (
        re.compile(r"^/api/v1/apps/(?P<app>[^/]+)/grants/(?P<id>[^/]+)$"),
        "DELETE",
        "revoke_app_grant",
        "okta.appGrants.manage",
    ),
]

WRITE_SCOPES = frozenset(scope for *_, scope in _WRITE_ROUTES)


class OktaWriteEmulator(OktaEmulator):
    """:class:`OktaEmulator` plus the remediation routes.

    ``ssws_owners`` maps an SSWS token to its owner's user id (``/users/me``) and
    ``ssws_token_ids`` to its API token id (revoking that id revokes the token).
    """

    def __init__(
        self,
        org: OktaOrg,
        *,
        ssws_owners: Mapping[str, str] | None = None,
        ssws_token_ids: Mapping[str, str] | None = None,
        sessions: Mapping[str, int] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(org, **kwargs)
        self.ssws_owners = dict(ssws_owners or {})
        self.ssws_token_ids = dict(ssws_token_ids or {})
        #: open IdP sessions per user id (Okta lists none to admins; tests look here)
        self.sessions: dict[str, int] = dict(sessions or {})
        self.writes: list[tuple[str, str]] = []
        #: (path, oauthTokens value) of every sessions DELETE
        self.session_revocations: list[tuple[str, str | None]] = []
        self._write_lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        for pattern, method, name, scope in _WRITE_ROUTES:
            match = pattern.match(request.path)
            if match is None or (method != request.method):
                continue
            allowed, limit_headers = self.limiter.take(f"{method} {pattern.pattern}")
            if not allowed:
                response = _error(
                    429, "E0000047", "API call exceeded rate limit due to too many requests."
                )
            else:
                response = self._authorize(request, scope) or getattr(self, "_w_" + name)(
                    request, **match.groupdict()
                )
                if method != "GET" and response.status < 300:
                    with self._write_lock:
                        self.writes.append((method, request.path))
            response.headers.update(limit_headers)
            return response
        return super().__call__(request)

    # -- helpers ------------------------------------------------------------------------
    def _user_by_id(self, uid: str) -> dict[str, Any] | None:
        pos = self.user_pos.get(uid)
        return None if pos is None else self.users_sorted[pos]

    def _caller(self, request: Request) -> str | None:
        scheme, _, value = (request.header("authorization") or "").partition(" ")
        return self.ssws_owners.get(value) if scheme == "SSWS" else None

    # -- routes -------------------------------------------------------------------------
    def _w_user(self, request: Request, id: str) -> Response:
        uid = self._caller(request) if id == "me" else id
        user = self._user_by_id(uid or "")
        if user is None:
            return self._no_user(id)
        return _json(self._render_user(user))

    def _w_clear_sessions(self, request: Request, id: str) -> Response:
        if self._user_by_id(id) is None:
            return self._no_user(id)
        with self._write_lock:
            self.sessions[id] = 0
            self.session_revocations.append((request.path, request.param("oauthTokens")))
            if request.param("oauthTokens") == "true":
                refresh = getattr(self.org, "refresh_tokens", None)
                if isinstance(refresh, dict):
                    refresh.pop(id, None)
                self.org.user_grants.pop(id, None)
        return Response(204, b"", {})

    def _w_suspend(self, request: Request, id: str) -> Response:
        user = self._user_by_id(id)
        if user is None:
            return self._no_user(id)
        if user.get("status") != "ACTIVE":
            return _error(
                400, "E0000001", "Api validation failed: Cannot suspend a user that is not active"
            )
        self.set_user_status(id, "SUSPENDED")
        return Response(200, b"", {})

    def _token(self, id: str) -> dict[str, Any] | None:
        return next((t for t in self.org.api_tokens if t["id"] == id), None)

    def _no_token(self, id: str) -> Response:
        return _error(404, "E0000007", f"Not found: Resource not found: {id} (ApiToken)")

    def _w_api_token(self, request: Request, id: str) -> Response:
        token = self._token(id)
        if token is None:
            return self._no_token(id)
        out = dict(token)
        out["_links"] = {"self": {"href": f"{self.base_url}/api/v1/api-tokens/{id}"}}
        return _json(out)

    def _w_revoke_api_token(self, request: Request, id: str) -> Response:
        with self._write_lock:
            token = self._token(id)
            if token is None:
                return self._no_token(id)
            self.org.api_tokens.remove(token)
            for value in [v for v, tid in self.ssws_token_ids.items() if tid == id]:
                self.ssws_tokens.discard(value)
        return Response(204, b"", {})

    def _grant(self, app: str, id: str) -> dict[str, Any] | None:
        return next((g for g in self.org.app_grants.get(app, []) if g["id"] == id), None)

    def _no_grant(self, app: str, id: str) -> Response:
        if self._app(app) is None:
            return _error(404, "E0000007", f"Not found: Resource not found: {app} (AppInstance)")
        return _error(
            404, "E0000007", f"Not found: Resource not found: {id} (OAuth2ScopeConsentGrant)"
        )

    def _w_app_grant(self, request: Request, app: str, id: str) -> Response:
        grant = self._grant(app, id)
        return self._no_grant(app, id) if grant is None else _json(grant)

    def _w_revoke_app_grant(self, request: Request, app: str, id: str) -> Response:
        with self._write_lock:
            grant = self._grant(app, id)
            if grant is None:
                return self._no_grant(app, id)
            self.org.app_grants[app].remove(grant)
        return Response(204, b"", {})


__all__ = ["WRITE_SCOPES", "OktaWriteEmulator"]
