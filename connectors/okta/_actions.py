"""Okta remediation actions: clear sessions, suspend a user, revoke an API token or an
app grant.

Each plans its targets offline from the snapshot, re-reads them live and acts
through the Management API (:class:`~connectors.okta._remediate.OktaSession`):

- ``clear_sessions``: ``DELETE /api/v1/users/{id}/sessions?oauthTokens=true``
  (every IdP session; with ``oauth_tokens`` also the OIDC/OAuth refresh and access
  tokens issued to the user);
- ``suspend_user``: ``POST /api/v1/users/{id}/lifecycle/suspend`` (ACTIVE users
  only; undo: ``.../lifecycle/unsuspend``);
- ``revoke_api_token``: ``DELETE /api/v1/api-tokens/{id}``;
- ``revoke_app_grant``: ``DELETE /api/v1/apps/{appId}/grants/{grantId}`` for the
  app's ACTIVE Okta-scope grants (optionally only some scopes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.okta._remediate import OktaSession, okta_id
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

#: Statuses a user is in before Okta deletes it for good (``DEPROVISIONED`` is a leaver).
_GONE = frozenset({"DEPROVISIONED"})


def _session(session: Any) -> OktaSession:
    if not isinstance(session, OktaSession):
        raise ConnectorError("an Okta action needs an Okta session")
    return session


def _accounts_of(resource: Record, lookup: ResourceLookup) -> list[Record]:
    """The accounts a finding is about: the account itself, a credential's owner, an app's
    assigned / consenting users."""
    kind = resource.get("kind")
    if kind == "account":
        return [resource]
    if kind == "credential":
        ids = [resource.get("owner")]
    elif kind == "integration":
        ids = list(resource.get("authorized_users") or [])
    else:
        ids = []
    return accounts_by_id(ids, lookup)


def _status_of(account: Record) -> str | None:
    status = (account.get("raw") or {}).get("status")
    return str(status) if status else None


def _live_user(okta: OktaSession, user_id: str) -> dict[str, Any] | None:
    user = okta.get_or_none(f"/api/v1/users/{okta_id(user_id, 'user id')}")
    return user if isinstance(user, dict) else None


# -- clear_sessions ------------------------------------------------------------------------
class ClearSessions:
    spec = ActionSpec(
        name="clear_sessions",
        summary="end the user's Okta sessions and revoke the OAuth tokens issued to them",
        kinds=frozenset({"account", "integration", "credential"}),
        target_kind="account",
        params=(
            ParamSpec(
                "oauth_tokens",
                "boolean",
                "also revoke the OIDC/OAuth refresh and access tokens (oauthTokens=true)",
                default=True,
            ),
        ),
        reversible=False,
        undo="not reversible: the user signs in again (and re-consents to apps)",
        permissions=(
            "okta.users.manage (OAuth service app), or an SSWS token of an admin who may "
            "manage the user (Help Desk Administrator for non-admin users; Org or Super "
            "Administrator for admins)"
        ),
    )

    def targets(
        self, resource: Record, lookup: ResourceLookup, params: Mapping[str, Any]
    ) -> Sequence[Target]:
        return [
            account_target(a, {})
            for a in _accounts_of(resource, lookup)
            if _status_of(a) not in _GONE
        ]

    def read_target(self, session: Any, target: Target, params: Mapping[str, Any]) -> Facts | None:
        user = _live_user(_session(session), target.id)
        if user is None or user.get("status") in _GONE:
            return None
        return {}

    def preconditions_hold(self, facts: Facts | None, planned: Target) -> bool:
        return facts is not None

    def apply(self, session: Any, target: Target, params: Mapping[str, Any]) -> Outcome:
        okta = _session(session)
        tokens = bool(params.get("oauth_tokens", True))
        path = f"/api/v1/users/{okta_id(target.id, 'user id')}/sessions"
        if tokens:
            path += "?oauthTokens=true"
        # Okta lists no user's sessions to an admin, so there is no "already done" to
        # observe; revoking again is harmless (204 either way).
        okta.send("DELETE", path)
        detail = "sessions cleared" + (" and OAuth tokens revoked" if tokens else "")
        return Outcome(
            changed=True, after={"sessions": 0, "oauth_tokens_revoked": tokens}, detail=detail
        )


# -- suspend_user ----------------------------------------------------------------------------
class SuspendUser:
    spec = ActionSpec(
        name="suspend_user",
        summary="suspend the user (status SUSPENDED): no sign-in, assignments and data kept",
        kinds=frozenset({"account", "integration", "credential"}),
        target_kind="account",
        reversible=True,
        undo=(
            "Admin Console > Directory > People > <user> > More actions > Unsuspend "
            "(API: POST /api/v1/users/{id}/lifecycle/unsuspend)"
        ),
        permissions=(
            "okta.users.manage (OAuth service app), or an SSWS token of an admin who may "
            "manage the user (Org or Super Administrator to suspend an admin)"
        ),
    )

    def targets(
        self, resource: Record, lookup: ResourceLookup, params: Mapping[str, Any]
    ) -> Sequence[Target]:
        # Okta suspends ACTIVE users only; any other status is not this action's business
        return [
            account_target(a, {"status": "ACTIVE"})
            for a in _accounts_of(resource, lookup)
            if _status_of(a) == "ACTIVE"
        ]

    def read_target(self, session: Any, target: Target, params: Mapping[str, Any]) -> Facts | None:
        user = _live_user(_session(session), target.id)
        return None if user is None else {"status": user.get("status")}

    def preconditions_hold(self, facts: Facts | None, planned: Target) -> bool:
        # SUSPENDED already is no drift: apply says "already suspended"
        return facts is not None and facts.get("status") in ("ACTIVE", "SUSPENDED")

    def apply(self, session: Any, target: Target, params: Mapping[str, Any]) -> Outcome:
        okta = _session(session)
        user = _live_user(okta, target.id)
        if user is None:
            raise ConnectorError(f"user {target.id} no longer exists")
        if user.get("status") == "SUSPENDED":
            return Outcome(changed=False, after={"status": "SUSPENDED"}, detail="already suspended")
        okta.send("POST", f"/api/v1/users/{okta_id(target.id, 'user id')}/lifecycle/suspend")
        after = _live_user(okta, target.id)
        if after is None or after.get("status") != "SUSPENDED":
            status = after.get("status") if after else "gone"
            raise ConnectorError(f"user {target.id} is {status} after the suspend, not SUSPENDED")
        return Outcome(changed=True, after={"status": "SUSPENDED"}, detail="suspended")


# -- revoke_api_token --------------------------------------------------------------------------
class RevokeApiToken:
    spec = ActionSpec(
        name="revoke_api_token",
        summary="revoke the Okta API token (it stops working at once)",
        kinds=frozenset({"credential"}),
        target_kind="credential",
        reversible=False,
        undo="not reversible: its owner creates a new token (Security > API > Tokens)",
        permissions=(
            "okta.apiTokens.manage (OAuth service app), or an SSWS token of a Super "
            "Administrator (only super admins may revoke other admins' tokens)"
        ),
    )

    def targets(
        self, resource: Record, lookup: ResourceLookup, params: Mapping[str, Any]
    ) -> Sequence[Target]:
        if resource.get("kind") != "credential" or resource.get("type") != "api_token":
            return []
        raw = resource.get("raw") or {}
        return [
            Target(
                kind="credential",
                id=str(resource["id"]),
                name=str(resource.get("name") or resource["id"]),
                facts={"owner": raw.get("userId"), "created": raw.get("created")},
                account=str(raw["userId"]) if raw.get("userId") else None,
            )
        ]

    def read_target(self, session: Any, target: Target, params: Mapping[str, Any]) -> Facts | None:
        token = _session(session).get_or_none(
            f"/api/v1/api-tokens/{okta_id(target.id, 'API token id')}"
        )
        if not isinstance(token, dict):
            return None
        return {"owner": token.get("userId"), "created": token.get("created")}

    def preconditions_hold(self, facts: Facts | None, planned: Target) -> bool:
        return facts_match(facts, planned, ("owner", "created"))

    def apply(self, session: Any, target: Target, params: Mapping[str, Any]) -> Outcome:
        okta = _session(session)
        path = f"/api/v1/api-tokens/{okta_id(target.id, 'API token id')}"
        if not okta.send("DELETE", path, missing_ok=True):
            return Outcome(changed=False, after={"revoked": True}, detail="already revoked")
        if okta.get_or_none(path) is not None:
            raise ConnectorError(f"API token {target.id} is still listed after revocation")
        return Outcome(changed=True, after={"revoked": True}, detail="revoked")


# -- revoke_app_grant ------------------------------------------------------------------------------
class RevokeAppGrant:
    spec = ActionSpec(
        name="revoke_app_grant",
        summary="revoke the app's grants of Okta API scopes (okta.*): it loses that access",
        kinds=frozenset({"integration"}),
        target_kind="integration",
        params=(
            ParamSpec(
                "scopes",
                "strings",
                "only grants of these scopes (e.g. okta.users.manage; default: every grant)",
            ),
        ),
        reversible=True,
        undo=(
            "grant the scope again: Applications > <app> > Okta API Scopes > Grant "
            "(API: POST /api/v1/apps/{appId}/grants {issuer, scopeId})"
        ),
        permissions=(
            "okta.appGrants.manage (OAuth service app), or an SSWS token of a Super Administrator"
        ),
    )

    def targets(
        self, resource: Record, lookup: ResourceLookup, params: Mapping[str, Any]
    ) -> Sequence[Target]:
        if resource.get("kind") != "integration":
            return []
        wanted = set(params.get("scopes") or ())
        grants = (resource.get("raw") or {}).get("grants") or []
        out = []
        for grant in grants:
            if not isinstance(grant, dict) or not grant.get("id"):
                continue
            if grant.get("status") != "ACTIVE" or (wanted and grant.get("scopeId") not in wanted):
                continue
            out.append(
                Target(
                    kind="integration",
                    id=str(grant["id"]),
                    name=f"{resource.get('name') or resource['id']}: {grant.get('scopeId')}",
                    facts={
                        "app_id": str(resource["id"]),
                        "scope": grant.get("scopeId"),
                        "status": "ACTIVE",
                    },
                    # the app's client id: the source's own service app is never cut off
                    account=str(grant.get("clientId") or resource["id"]),
                )
            )
        return sorted(out, key=lambda t: t.id)

    @staticmethod
    def _path(target: Target) -> str:
        app = okta_id(target.facts.get("app_id"), "app id")
        return f"/api/v1/apps/{app}/grants/{okta_id(target.id, 'grant id')}"

    def read_target(self, session: Any, target: Target, params: Mapping[str, Any]) -> Facts | None:
        grant = _session(session).get_or_none(self._path(target))
        if not isinstance(grant, dict):
            return None
        return {
            "app_id": target.facts.get("app_id"),
            "scope": grant.get("scopeId"),
            "status": grant.get("status"),
        }

    def preconditions_hold(self, facts: Facts | None, planned: Target) -> bool:
        return facts_match(facts, planned, ("app_id", "scope", "status"))

    def apply(self, session: Any, target: Target, params: Mapping[str, Any]) -> Outcome:
        okta = _session(session)
        path = self._path(target)
        if not okta.send("DELETE", path, missing_ok=True):
            return Outcome(changed=False, after={"revoked": True}, detail="already revoked")
        left = okta.get_or_none(path)
        if isinstance(left, dict) and left.get("status") == "ACTIVE":
            raise ConnectorError(f"grant {target.id} is still ACTIVE after revocation")
        return Outcome(changed=True, after={"revoked": True}, detail="revoked")


ACTIONS: tuple[Action, ...] = (ClearSessions(), SuspendUser(), RevokeApiToken(), RevokeAppGrant())
