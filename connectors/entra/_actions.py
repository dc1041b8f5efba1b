"""Entra ID remediation actions: revoke a user's sign-in sessions, delete a delegated
permission grant, disable an account.

Each plans its targets offline from the snapshot, re-reads them live and acts through
Microsoft Graph v1.0 (:class:`~connectors.entra._remediate.EntraSession`):

- ``revoke_sign_in_sessions``: ``POST /users/{id}/revokeSignInSessions`` (a bound
  action returning ``Edm.Boolean``): every refresh token and browser session cookie
  issued to the user stops working; Graph resets ``signInSessionsValidFromDateTime`` to
  now. No session list is readable, so "already done" is that property being newer
  than the snapshot's value.
- ``delete_oauth2_permission_grant``: ``DELETE /oauth2PermissionGrants/{id}`` for an
  app's delegated grants (optionally only tenant-wide or only per-user ones); a 404 on
  the re-read is "already gone".
- ``disable_account``: ``PATCH /users/{id}`` ``{"accountEnabled": false}``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from connectors.entra._remediate import EntraSession, graph_id
from policyengine.errors import ConnectorError
from policyengine.remediate.contract import (
    Action,
    ActionSpec,
    Facts,
    Outcome,
    ParamSpec,
    Record,
    ResourceLookup,
    Target,
    facts_match,
)
from policyengine.remediate.targets import account_target, accounts_by_id

_USER_SELECT = "$select=id,accountEnabled,signInSessionsValidFromDateTime"


def _session(session: Any) -> EntraSession:
    if not isinstance(session, EntraSession):
        raise ConnectorError("an Entra action needs an Entra session")
    return session


def _accounts_of(resource: Record, lookup: ResourceLookup) -> list[Record]:
    """The accounts a finding is about: the account itself, or the users who consented to
    an app (its per-user delegated grants' principals)."""
    kind = resource.get("kind")
    if kind == "account":
        return [resource]
    ids = list(resource.get("authorized_users") or []) if kind == "integration" else []
    return accounts_by_id(ids, lookup)


def _live_user(graph: EntraSession, user_id: str) -> dict[str, Any] | None:
    user = graph.get_or_none(f"/v1.0/users/{graph_id(user_id, 'user id')}?{_USER_SELECT}")
    return user if isinstance(user, dict) else None


def _instant(value: object) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


# -- revoke_sign_in_sessions -----------------------------------------------------------------
class RevokeSignInSessions:
    spec = ActionSpec(
        name="revoke_sign_in_sessions",
        summary=(
            "revoke the user's refresh tokens and browser sessions (they sign in again "
            "everywhere; issued access tokens live until they expire, about an hour)"
        ),
        kinds=frozenset({"account", "integration"}),
        target_kind="account",
        reversible=False,
        undo="not reversible: the user signs in again",
        permissions=(
            "User.RevokeSessions.All (application) to revoke, plus User.Read.All for the "
            "live re-read"
        ),
    )

    def targets(
        self, resource: Record, lookup: ResourceLookup, params: Mapping[str, Any]
    ) -> Sequence[Target]:
        out = []
        for account in _accounts_of(resource, lookup):
            raw = account.get("raw") or {}
            # Graph does not revoke guests' sessions: they sign in at their home tenant
            if "guest" in (account.get("flags") or ()):
                continue
            valid_from = raw.get("signInSessionsValidFromDateTime")
            out.append(account_target(account, {"sessions_valid_from": valid_from}))
        return out

    def read_target(self, session: Any, target: Target, params: Mapping[str, Any]) -> Facts | None:
        user = _live_user(_session(session), target.id)
        if user is None:
            return None
        return {"sessions_valid_from": user.get("signInSessionsValidFromDateTime")}

    def preconditions_hold(self, facts: Facts | None, planned: Target) -> bool:
        # a newer valid-from is no drift: apply says "already revoked"
        return facts is not None

    def apply(self, session: Any, target: Target, params: Mapping[str, Any]) -> Outcome:
        graph = _session(session)
        user = _live_user(graph, target.id)
        if user is None:
            raise ConnectorError(f"user {target.id} no longer exists")
        planned = _instant(target.facts.get("sessions_valid_from"))
        live = _instant(user.get("signInSessionsValidFromDateTime"))
        if planned is not None and live is not None and live > planned:
            # revoked after the snapshot (by an earlier apply or an admin): nothing to do
            after = {"sessions_valid_from": user.get("signInSessionsValidFromDateTime")}
            return Outcome(changed=False, after=after, detail="already revoked since the scan")
        path = f"/v1.0/users/{graph_id(target.id, 'user id')}/revokeSignInSessions"
        answer = graph.http.fetch_json("POST", path)[1]  # {"value": true} (Edm.Boolean)
        if not isinstance(answer, dict) or answer.get("value") is not True:
            raise ConnectorError(f"revokeSignInSessions for user {target.id} did not return true")
        now = _live_user(graph, target.id) or {}
        after = {"sessions_valid_from": now.get("signInSessionsValidFromDateTime")}
        return Outcome(changed=True, after=after, detail="sign-in sessions revoked")


# -- delete_oauth2_permission_grant ------------------------------------------------------------
class DeleteOAuth2PermissionGrant:
    spec = ActionSpec(
        name="delete_oauth2_permission_grant",
        summary=(
            "delete the app's delegated permission grants (oAuth2PermissionGrant): no new "
            "access tokens for those scopes"
        ),
        kinds=frozenset({"integration", "credential"}),
        target_kind="integration",
        params=(
            ParamSpec(
                "consent_type",
                "string",
                "only grants of this consent type (AllPrincipals: tenant-wide admin consent; "
                "Principal: one user's consent; any: both)",
                default="any",
                choices=("any", "AllPrincipals", "Principal"),
            ),
        ),
        reversible=True,
        undo=(
            "consent again (Enterprise applications > <app> > Permissions > Grant admin "
            "consent; API: POST /oauth2PermissionGrants {clientId, consentType, principalId, "
            "resourceId, scope} with the values recorded in the plan)"
        ),
        permissions="DelegatedPermissionGrant.ReadWrite.All (application)",
    )

    def targets(
        self, resource: Record, lookup: ResourceLookup, params: Mapping[str, Any]
    ) -> Sequence[Target]:
        if resource.get("kind") == "credential":
            app = lookup.get("integration", str(resource.get("integration")))
            if app is None:
                return []
            resource = app
        if resource.get("kind") != "integration":
            return []
        wanted = params.get("consent_type") or "any"
        raw = resource.get("raw") or {}
        out = []
        for grant in raw.get("delegated_grants") or ():
            if not isinstance(grant, dict) or not grant.get("id"):
                continue
            if wanted != "any" and grant.get("consent_type") != wanted:
                continue
            user = (
                lookup.get("account", str(grant["principal"])) if grant.get("principal") else None
            )
            who = (user or {}).get("name") or grant.get("principal") or "all users"
            out.append(
                Target(
                    kind="integration",
                    id=str(grant["id"]),
                    name=f"{resource.get('name') or resource['id']}: {who}",
                    facts={
                        "client_id": str(resource["id"]),
                        "consent_type": grant.get("consent_type"),
                        "principal": grant.get("principal"),
                        "resource": grant.get("resource"),
                        "scopes": sorted(grant.get("scopes") or []),
                    },
                    # the app's client (application) id: the source's own apps are never cut off
                    account=str(raw.get("appId") or resource["id"]),
                )
            )
        return sorted(out, key=lambda t: t.id)

    @staticmethod
    def _path(target: Target) -> str:
        return f"/v1.0/oauth2PermissionGrants/{graph_id(target.id, 'grant id')}"

    def read_target(self, session: Any, target: Target, params: Mapping[str, Any]) -> Facts | None:
        grant = _session(session).get_or_none(self._path(target))
        if not isinstance(grant, dict):
            return None
        return {
            "client_id": grant.get("clientId"),
            "consent_type": grant.get("consentType"),
            "principal": grant.get("principalId"),
            "resource": grant.get("resourceId"),
            "scopes": sorted(str(grant.get("scope") or "").split()),
        }

    def preconditions_hold(self, facts: Facts | None, planned: Target) -> bool:
        # scopes may have grown since the scan: still the same grant to remove
        return facts_match(facts, planned, ("client_id", "consent_type", "principal", "resource"))

    def apply(self, session: Any, target: Target, params: Mapping[str, Any]) -> Outcome:
        graph = _session(session)
        path = self._path(target)
        if not graph.send("DELETE", path, missing_ok=True):
            return Outcome(changed=False, after={"deleted": True}, detail="already deleted")
        if graph.get_or_none(path) is not None:
            raise ConnectorError(f"grant {target.id} is still readable after the delete")
        return Outcome(changed=True, after={"deleted": True}, detail="grant deleted")


# -- disable_account ------------------------------------------------------------------------------
class DisableAccount:
    spec = ActionSpec(
        name="disable_account",
        summary="block the user's sign-in (accountEnabled false); groups, roles and data kept",
        kinds=frozenset({"account", "integration"}),
        target_kind="account",
        reversible=True,
        undo=(
            "Entra admin center > Users > <user> > Edit properties > Account enabled "
            '(API: PATCH /users/{id} {"accountEnabled": true})'
        ),
        permissions=(
            "User.EnableDisableAccount.All and User.Read.All (application); disabling an "
            "administrator also needs the write app to hold a role that may manage that admin "
            "(Privileged Authentication Administrator for Global Administrators)"
        ),
    )

    def targets(
        self, resource: Record, lookup: ResourceLookup, params: Mapping[str, Any]
    ) -> Sequence[Target]:
        return [
            account_target(a, {"enabled": True})
            for a in _accounts_of(resource, lookup)
            if a.get("enabled") is True
        ]

    def read_target(self, session: Any, target: Target, params: Mapping[str, Any]) -> Facts | None:
        user = _live_user(_session(session), target.id)
        return None if user is None else {"enabled": user.get("accountEnabled")}

    def preconditions_hold(self, facts: Facts | None, planned: Target) -> bool:
        # disabled already is no drift: apply says "already disabled"
        return facts is not None and facts.get("enabled") in (True, False)

    def apply(self, session: Any, target: Target, params: Mapping[str, Any]) -> Outcome:
        graph = _session(session)
        user = _live_user(graph, target.id)
        if user is None:
            raise ConnectorError(f"user {target.id} no longer exists")
        if user.get("accountEnabled") is False:
            return Outcome(changed=False, after={"enabled": False}, detail="already disabled")
        path = f"/v1.0/users/{graph_id(target.id, 'user id')}"
        graph.send("PATCH", path, json={"accountEnabled": False})
        after = _live_user(graph, target.id)
        if after is None or after.get("accountEnabled") is not False:
            raise ConnectorError(f"user {target.id} is still enabled after the update")
        return Outcome(changed=True, after={"enabled": False}, detail="disabled")


ACTIONS: tuple[Action, ...] = (
    RevokeSignInSessions(),
    DeleteOAuth2PermissionGrant(),
    DisableAccount(),
)
