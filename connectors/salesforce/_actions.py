"""Salesforce remediation actions: revoke OAuth tokens, freeze users, end sessions,
remove a permission set assignment.

Each plans its targets offline from the snapshot, re-reads them live with
SOQL, and acts through REST (:class:`~connectors.salesforce._remediate.SalesforceSession`):

- ``revoke_oauth_tokens``: ``POST /services/oauth2/revoke`` with the token's
  ``DeleteToken`` (OauthToken; queried at apply time, never stored);
- ``freeze_user``: ``PATCH sobjects/UserLogin/<Id>`` ``{"IsFrozen": true}``;
- ``end_sessions``: ``DELETE sobjects/AuthSession/<Id>`` for each of the user's sessions;
- ``remove_permission_set_assignment``: ``DELETE sobjects/PermissionSetAssignment/<Id>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.salesforce._org import norm_name
from connectors.salesforce._remediate import SalesforceSession, record_id
from connectors.salesforce._time import sf_time
from policyengine.errors import ConnectorError
from policyengine.remediate.contract import (
    Action,
    ActionSpec,
    Containment,
    Facts,
    Outcome,
    ParamSpec,
    PlannedStep,
    Record,
    ResourceLookup,
    Target,
    facts_match,
)
from policyengine.remediate.targets import account_target, accounts_by_id


def _session(session: Any) -> SalesforceSession:
    if not isinstance(session, SalesforceSession):
        raise ConnectorError("a Salesforce action needs a Salesforce session")
    return session


def _accounts_of(resource: Record, lookup: ResourceLookup) -> list[Record]:
    """The accounts a finding is about: the account itself, a token's owner, an app's users."""
    kind = resource.get("kind")
    if kind == "account":
        return [resource]
    if kind == "credential":
        ids = [resource.get("owner")]
    elif kind == "integration":
        ids = list(resource.get("authorized_users") or [])
        ids += list((resource.get("live_sessions") or {}).get("users") or [])
    else:
        ids = []
    return accounts_by_id(ids, lookup)


# -- revoke_oauth_tokens ---------------------------------------------------------------
class RevokeOAuthTokens:
    spec = ActionSpec(
        name="revoke_oauth_tokens",
        summary="revoke the OAuth refresh and access tokens (of an app, or one token)",
        kinds=frozenset({"integration", "credential"}),
        target_kind="credential",
        reversible=False,
        undo=(
            "not reversible: the user authorises the app again (a new consent) if it is "
            "still wanted"
        ),
        permissions=(
            "API Enabled and Manage Users (to see every user's OauthToken); the revocation "
            "endpoint itself needs only the token's DeleteToken"
        ),
    )

    def targets(
        self, resource: Record, lookup: ResourceLookup, params: Mapping[str, Any]
    ) -> Sequence[Target]:
        if resource.get("kind") == "credential":
            tokens = [resource] if resource.get("type") == "oauth_token" else []
        else:
            tokens = [
                c
                for c in lookup.all("credential")
                if c.get("type") == "oauth_token" and c.get("integration") == resource.get("id")
            ]
        return [self._target(t) for t in sorted(tokens, key=lambda t: str(t.get("id")))]

    @staticmethod
    def _target(token: Record) -> Target:
        raw = token.get("raw") or {}
        return Target(
            kind="credential",
            id=str(token["id"]),
            name=str(token.get("name") or token["id"]),
            facts={
                "app_name": raw.get("AppName"),
                "user_id": raw.get("UserId") or token.get("owner"),
                "created_at": token.get("created_at"),
            },
            account=str(token.get("owner")) if token.get("owner") else None,
        )

    @staticmethod
    def _live(
        session: SalesforceSession, target: Target, *, with_delete: bool
    ) -> list[dict[str, Any]]:
        user = record_id(target.facts.get("user_id"), "OauthToken.UserId")
        fields = "AppName, UserId, CreatedDate" + (", DeleteToken" if with_delete else "")
        rows = session.query(f"SELECT {fields} FROM OauthToken WHERE UserId IN ('{user}')")
        name = norm_name(str(target.facts.get("app_name") or ""))
        return [
            r
            for r in rows
            if norm_name(str(r.get("AppName") or "")) == name
            and sf_time(r.get("CreatedDate")) == target.facts.get("created_at")
        ]

    def read_target(self, session: Any, target: Target, params: Mapping[str, Any]) -> Facts | None:
        rows = self._live(_session(session), target, with_delete=False)
        return dict(target.facts) if rows else None

    def preconditions_hold(self, facts: Facts | None, planned: Target) -> bool:
        return facts_match(facts, planned)

    def apply(self, session: Any, target: Target, params: Mapping[str, Any]) -> Outcome:
        sf = _session(session)
        rows = self._live(sf, target, with_delete=True)
        if not rows:
            return Outcome(changed=False, after={"revoked": True}, detail="already revoked")
        for row in rows:
            delete_token = row.get("DeleteToken")
            if not isinstance(delete_token, str) or not delete_token:
                raise ConnectorError("OauthToken has no DeleteToken (needs Manage Users)")
            sf.revoke(delete_token)
        if self._live(sf, target, with_delete=False):
            raise ConnectorError("the token is still listed after revocation")
        return Outcome(changed=True, after={"revoked": True}, detail=f"revoked {len(rows)}")


# -- freeze_user ------------------------------------------------------------------------
class FreezeUser:
    spec = ActionSpec(
        name="freeze_user",
        summary="freeze the user (UserLogin.IsFrozen): no login, account kept",
        kinds=frozenset({"account", "integration", "credential"}),
        target_kind="account",
        reversible=True,
        undo="Setup > Users > <user> > Unfreeze (API: PATCH UserLogin IsFrozen=false)",
        permissions="API Enabled and Manage Users (UserLogin needs UserPermissions.ManageUsers)",
    )

    def targets(
        self, resource: Record, lookup: ResourceLookup, params: Mapping[str, Any]
    ) -> Sequence[Target]:
        return [
            account_target(a, {"frozen": False})
            for a in _accounts_of(resource, lookup)
            if "frozen" not in (a.get("flags") or ())
        ]

    @staticmethod
    def _login(session: SalesforceSession, user_id: str) -> dict[str, Any] | None:
        user = record_id(user_id, "user id")
        rows = session.query(
            f"SELECT Id, UserId, IsFrozen FROM UserLogin WHERE UserId IN ('{user}')"
        )
        return next(iter(rows), None)

    def read_target(self, session: Any, target: Target, params: Mapping[str, Any]) -> Facts | None:
        login = self._login(_session(session), target.id)
        return None if login is None else {"frozen": login.get("IsFrozen") is True}

    def preconditions_hold(self, facts: Facts | None, planned: Target) -> bool:
        return facts_match(facts, planned, ("frozen",))

    def apply(self, session: Any, target: Target, params: Mapping[str, Any]) -> Outcome:
        sf = _session(session)
        login = self._login(sf, target.id)
        if login is None:
            raise ConnectorError(f"no UserLogin for user {target.id}")
        if login.get("IsFrozen") is True:
            return Outcome(changed=False, after={"frozen": True}, detail="already frozen")
        sf.update("UserLogin", str(login.get("Id")), {"IsFrozen": True})
        after = self._login(sf, target.id)
        if not after or after.get("IsFrozen") is not True:
            raise ConnectorError("UserLogin.IsFrozen is still false after the update")
        return Outcome(changed=True, after={"frozen": True}, detail="frozen")


# -- end_sessions ------------------------------------------------------------------------
class EndSessions:
    spec = ActionSpec(
        name="end_sessions",
        summary="end the user's open sessions (AuthSession rows deleted)",
        kinds=frozenset({"account", "integration", "credential"}),
        target_kind="account",
        params=(
            ParamSpec(
                "session_types",
                "strings",
                "only sessions of these AuthSession.SessionType values (default: all)",
            ),
        ),
        reversible=False,
        undo="not reversible: the user signs in again",
        permissions="API Enabled and Manage Users (AuthSession of other users)",
    )

    def targets(
        self, resource: Record, lookup: ResourceLookup, params: Mapping[str, Any]
    ) -> Sequence[Target]:
        return [account_target(a, {}) for a in _accounts_of(resource, lookup)]

    @staticmethod
    def _sessions(session: SalesforceSession, user_id: str, params: Mapping[str, Any]) -> list[str]:
        user = record_id(user_id, "user id")
        rows = session.query(f"SELECT Id, SessionType FROM AuthSession WHERE UsersId IN ('{user}')")
        types = set(params.get("session_types") or ())
        return sorted(
            str(r["Id"])
            for r in rows
            if r.get("Id") and (not types or r.get("SessionType") in types)
        )

    def read_target(self, session: Any, target: Target, params: Mapping[str, Any]) -> Facts | None:
        users = list(
            _session(session).query(
                f"SELECT Id FROM User WHERE Id IN ('{record_id(target.id, 'user id')}')"
            )
        )
        return {} if users else None

    def preconditions_hold(self, facts: Facts | None, planned: Target) -> bool:
        return facts is not None

    def apply(self, session: Any, target: Target, params: Mapping[str, Any]) -> Outcome:
        sf = _session(session)
        ended = self._sessions(sf, target.id, params)
        for session_id in ended:
            sf.delete("AuthSession", session_id)
        left = self._sessions(sf, target.id, params)
        if left:
            raise ConnectorError(f"{len(left)} sessions still open after deletion")
        detail = f"ended {len(ended)} sessions" if ended else "no open sessions"
        return Outcome(changed=bool(ended), after={"sessions": 0}, detail=detail)


# -- remove_permission_set_assignment ------------------------------------------------------
class RemovePermissionSetAssignment:
    spec = ActionSpec(
        name="remove_permission_set_assignment",
        summary="remove the user's assignment of a permission set",
        kinds=frozenset({"account"}),
        target_kind="account",
        params=(
            ParamSpec(
                "permission_set", "string", "the permission set's API name or label", required=True
            ),
        ),
        reversible=True,
        undo=(
            "assign it again: Setup > Users > <user> > Permission Set Assignments "
            "(API: POST sobjects/PermissionSetAssignment {AssigneeId, PermissionSetId})"
        ),
        permissions="API Enabled and Assign Permission Sets (or Manage Users)",
    )

    def targets(
        self, resource: Record, lookup: ResourceLookup, params: Mapping[str, Any]
    ) -> Sequence[Target]:
        name = str(params.get("permission_set") or "")
        return [
            account_target(a, {"permission_set": name, "assigned": True})
            for a in _accounts_of(resource, lookup)
        ]

    @staticmethod
    def _assignments(session: SalesforceSession, user_id: str, name: str) -> list[str]:
        user = record_id(user_id, "user id")
        rows = list(
            session.query(
                "SELECT Id, AssigneeId, PermissionSetId FROM PermissionSetAssignment "
                f"WHERE AssigneeId IN ('{user}')"
            )
        )
        set_ids = sorted({record_id(r.get("PermissionSetId"), "PermissionSetId") for r in rows})
        if not set_ids:
            return []
        quoted = ", ".join(f"'{i}'" for i in set_ids)
        sets = session.query(
            f"SELECT Id, Name, Label, IsOwnedByProfile FROM PermissionSet WHERE Id IN ({quoted})"
        )
        wanted = norm_name(name)
        matching = {
            s["Id"]
            for s in sets
            if wanted in (norm_name(str(s.get("Name") or "")), norm_name(str(s.get("Label") or "")))
            and s.get("IsOwnedByProfile") is not True  # a profile's own set cannot be unassigned
        }
        return sorted(str(r["Id"]) for r in rows if r.get("PermissionSetId") in matching)

    def read_target(self, session: Any, target: Target, params: Mapping[str, Any]) -> Facts | None:
        name = str(params.get("permission_set") or "")
        found = self._assignments(_session(session), target.id, name)
        return {"permission_set": name, "assigned": bool(found)}

    def preconditions_hold(self, facts: Facts | None, planned: Target) -> bool:
        return facts_match(facts, planned, ("permission_set", "assigned"))

    def apply(self, session: Any, target: Target, params: Mapping[str, Any]) -> Outcome:
        sf = _session(session)
        name = str(params.get("permission_set") or "")
        found = self._assignments(sf, target.id, name)
        for assignment in found:
            sf.delete("PermissionSetAssignment", assignment)
        if self._assignments(sf, target.id, name):
            raise ConnectorError(f"{name} is still assigned after deletion")
        after = {"permission_set": name, "assigned": False}
        return Outcome(changed=bool(found), after=after, detail=f"removed {len(found)}")


ACTIONS: tuple[Action, ...] = (
    RevokeOAuthTokens(),
    FreezeUser(),
    EndSessions(),
    RemovePermissionSetAssignment(),
)


def containment(app: Record, lookup: ResourceLookup) -> Containment:
    """``respond --app``: revoke every token, end and freeze the authorising users."""
    steps: list[PlannedStep] = []
    why = f"containment of {app.get('name')}"
    for target in RevokeOAuthTokens().targets(app, lookup, {}):
        steps.append(PlannedStep("revoke_oauth_tokens", target, {}, why))
    for target in EndSessions().targets(app, lookup, {}):
        steps.append(PlannedStep("end_sessions", target, {}, why))
    for target in FreezeUser().targets(app, lookup, {}):
        steps.append(PlannedStep("freeze_user", target, {}, why))
    name = app.get("name")
    manual = (
        f"Block the app: Setup > Apps > Connected Apps OAuth Usage > {name} > Block "
        "(no REST API blocks a connected app; blocking also stops new authorisations)",
        "Reset the passwords and MFA registrations of the frozen users before unfreezing them",
        f"Review what {name} exported: EventLogFile (API, BulkApi, RestApi, ReportExport), "
        "Bulk API jobs and the Setup Audit Trail since the app was created",
        "If the app is installed: Manage Connected Apps > Edit Policies > Permitted Users: "
        "Admin approved users are pre-authorized",
    )
    return Containment(steps=tuple(steps), manual=manual)
