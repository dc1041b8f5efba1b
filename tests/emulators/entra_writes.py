"""The Entra / Graph emulator's write routes (remediation) and the single-object reads
they need.

A subclass of :class:`~tests.emulators.entra.EntraEmulator`: the read routes are
unchanged, these are added (each as the Graph v1.0 reference describes it; the bodies
are validated against the CSDL subset in ``tests/connectors/entra/test_actions.py``):

- ``GET /v1.0/users/{id}`` (``$select`` honoured) -> the user; unknown ->
  ``404 Request_ResourceNotFound``;
- ``POST /v1.0/users/{id}/revokeSignInSessions`` (User.RevokeSessions.All) -> 200
  ``{"@odata.context": ".../$metadata#Edm.Boolean", "value": true}``; sets the user's
  ``signInSessionsValidFromDateTime`` to now;
- ``PATCH /v1.0/users/{id}`` ``{"accountEnabled": bool}`` (User.EnableDisableAccount.All)
  -> 204 no body; any other property -> ``400 Request_BadRequest``;
- ``GET`` / ``DELETE /v1.0/oauth2PermissionGrants/{id}`` -> the grant / 204
  (DelegatedPermissionGrant.ReadWrite.All to delete).

A write needs its permission in the calling app's roles (``403
Authorization_RequestDenied`` otherwise). Every write is kept in ``writes`` (method,
path) so tests can assert what was done.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable
from typing import Any

from tests.emulators.entra import (
    Client,
    EntraEmulator,
    EntraTenant,
    _denied,
    _select,
    graph_error,
)
from tests.emulators.kit import Request, Response

#: the application permissions a write app holds (Graph permissions reference)
WRITE_ROLES = frozenset(
    {
        "User.Read.All",
        "User.RevokeSessions.All",
        "User.EnableDisableAccount.All",
        "DelegatedPermissionGrant.ReadWrite.All",
    }
)
_USER = re.compile(r"^/v1\.0/users/(?P<id>[^/]+)$")
_REVOKE = re.compile(r"^/v1\.0/users/(?P<id>[^/]+)/revokeSignInSessions$")
_GRANT = re.compile(r"^/v1\.0/oauth2PermissionGrants/(?P<id>[^/]+)$")
#: permissions that read one grant (oauth2permissiongrant-get)
_GRANT_READ = frozenset(
    {"DelegatedPermissionGrant.Read.All", "DelegatedPermissionGrant.ReadWrite.All"}
)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class EntraWriteEmulator(EntraEmulator):
    """:class:`EntraEmulator` plus the remediation routes. ``clock`` gives "now"."""

    def __init__(
        self,
        tenant: EntraTenant,
        clients: dict[str, Client],
        *,
        clock: Callable[[], dt.datetime] = _utc_now,
        **kwargs: Any,
    ) -> None:
        super().__init__(tenant, clients, **kwargs)
        self.clock = clock
        self.writes: list[tuple[str, str]] = []
        self._write_lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        route = self._route(request.method, path)
        if route is None:
            return super().__call__(request)
        client_id = self._authorised(request)
        if isinstance(client_id, Response):
            return client_id
        handler, object_id = route
        with self._write_lock:
            return handler(request, object_id, self.clients[client_id].roles)

    def _route(
        self, method: str, path: str
    ) -> tuple[Callable[[Request, str, frozenset[str]], Response], str] | None:
        for pattern, wanted, handler in (
            (_USER, "GET", self._get_user),
            (_USER, "PATCH", self._patch_user),
            (_REVOKE, "POST", self._revoke),
            (_GRANT, "GET", self._get_grant),
            (_GRANT, "DELETE", self._delete_grant),
        ):
            match = pattern.match(path)
            if match and method == wanted:
                return handler, match.group("id")
        return None

    # -- users ---------------------------------------------------------------------
    def user(self, user_id: str) -> dict[str, Any] | None:
        return next((u for u in self.tenant.users if u["id"] == user_id), None)

    def _get_user(self, request: Request, user_id: str, roles: frozenset[str]) -> Response:
        if "User.Read.All" not in roles:
            return _denied()
        user = self.user(user_id)
        if user is None:
            return _not_found(user_id)
        select = [s for s in (request.param("$select") or "").split(",") if s]
        body = _select(user, select)
        context = f"{self.base_url}/v1.0/$metadata#users/$entity"
        return Response.json({"@odata.context": context, **body})

    def _patch_user(self, request: Request, user_id: str, roles: frozenset[str]) -> Response:
        if "User.EnableDisableAccount.All" not in roles:
            return _denied()
        user = self.user(user_id)
        if user is None:
            return _not_found(user_id)
        body = request.json()
        if not isinstance(body, dict) or set(body) != {"accountEnabled"}:
            return graph_error(400, "Request_BadRequest", "Invalid property in the request.")
        if not isinstance(body["accountEnabled"], bool):
            return graph_error(
                400,
                "Request_BadRequest",
                "Cannot convert the literal to the expected type 'Edm.Boolean'.",
            )
        user["accountEnabled"] = body["accountEnabled"]
        self.writes.append(("PATCH", request.path))
        return Response(204)

    def _revoke(self, request: Request, user_id: str, roles: frozenset[str]) -> Response:
        if "User.RevokeSessions.All" not in roles:
            return _denied()
        user = self.user(user_id)
        if user is None:
            return _not_found(user_id)
        user["signInSessionsValidFromDateTime"] = self.clock().strftime("%Y-%m-%dT%H:%M:%SZ")
        self.writes.append(("POST", request.path))
        context = f"{self.base_url}/v1.0/$metadata#Edm.Boolean"
        return Response.json({"@odata.context": context, "value": True})

    # -- delegated permission grants -------------------------------------------------
    def _grant(self, grant_id: str) -> dict[str, Any] | None:
        return next((g for g in self.tenant.grants if g["id"] == grant_id), None)

    def _get_grant(self, request: Request, grant_id: str, roles: frozenset[str]) -> Response:
        if not roles & _GRANT_READ:
            return _denied()
        grant = self._grant(grant_id)
        if grant is None:
            return _not_found(grant_id)
        context = f"{self.base_url}/v1.0/$metadata#oauth2PermissionGrants/$entity"
        return Response.json({"@odata.context": context, **grant})

    def _delete_grant(self, request: Request, grant_id: str, roles: frozenset[str]) -> Response:
        if "DelegatedPermissionGrant.ReadWrite.All" not in roles:
            return _denied()
        grant = self._grant(grant_id)
        if grant is None:
            return _not_found(grant_id)
        self.tenant.grants.remove(grant)
        self.writes.append(("DELETE", request.path))
        return Response(204)


def _not_found(object_id: str) -> Response:
    return graph_error(
        404,
        "Request_ResourceNotFound",
        f"Resource '{object_id}' does not exist or one of its queried reference-property "
        "objects are not present.",
    )
