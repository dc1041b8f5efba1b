"""Walk Microsoft Graph v1.0 and hand model records to the writer.

Bulk listings only (no call per user): role definitions and PIM schedule instances, the
role-assignable groups with their transitive members, the authentication-methods
registration report, users (``$select`` of the mapped properties), applications with their
owners (``$expand``), service principals, the application permissions granted on each API
that defines app roles (``appRoleAssignedTo``), delegated grants, tenant policies and
Conditional Access. A part Graph refuses (403: a permission is missing) is named with
``writer.fail`` and the rest is collected.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from connectors.entra import _mapping as mapping
from connectors.entra._options import EntraOptions
from connectors.http import HttpClient, ServerUnreachable, same_origin
from policyengine.connector.contract import SnapshotSink
from policyengine.errors import AuthenticationError, ConnectorError
from policyengine.log import get_logger

log = get_logger("policyengine.entra")

USER_SELECT = (
    "id",
    "userPrincipalName",
    "displayName",
    "mail",
    "accountEnabled",
    "userType",
    "onPremisesSyncEnabled",
    "employeeId",
    "employeeType",
    "createdDateTime",
    "passwordPolicies",
    "signInSessionsValidFromDateTime",
    "signInActivity",
)
APP_SELECT = (
    "id,appId,displayName,signInAudience,createdDateTime,publisherDomain,verifiedPublisher,"
    "passwordCredentials,keyCredentials"
)
SP_SELECT = (
    "id,appId,displayName,appOwnerOrganizationId,servicePrincipalType,accountEnabled,"
    "verifiedPublisher,passwordCredentials,keyCredentials,appRoles"
)
#: the permission each part needs (Graph permissions reference), for the failure message
PERMISSION = {
    "directory roles": "RoleManagement.Read.Directory",
    "role-assignable groups": "GroupMember.Read.All",
    "MFA registration": "AuditLog.Read.All (and an Entra ID P1/P2 licence)",
    "users": "User.Read.All",
    "signInActivity": "AuditLog.Read.All (and an Entra ID P1/P2 licence)",
    "applications": "Application.Read.All",
    "delegated grants": "DelegatedPermissionGrant.Read.All",
    "tenant settings": "Policy.Read.All",
    "Conditional Access policies": "Policy.Read.All",
}


class SignInActivityDenied(ConnectorError):
    """Graph refused ``signInActivity`` (permission or licence); users are read without it."""


class EntraCollector:
    """One collection run against one tenant."""

    def __init__(self, client: HttpClient, options: EntraOptions, writer: SnapshotSink) -> None:
        self.client = client
        self.options = options
        self.writer = writer
        self.directory = mapping.Directory()
        self.role_names: dict[str, str] = {}
        self.pages = 0
        #: the tenant's GUID (the option may be a domain): the owner org of its own apps
        self.tenant_guid: str | None = None
        self.definitions: list[dict[str, Any]] = []
        self.user_ids: set[str] = set()

    def run(self) -> None:
        try:
            roles_known = self._guard("directory roles", self._roles)
            self._guard("role-assignable groups", self._groups)
            self._guard("MFA registration", self._registration)
            self._guard("users", self._users)
            if roles_known:
                self._write_roles()
            self._guard("applications", self._applications)
            self._guard("tenant settings", self._settings)
            self._guard("Conditional Access policies", self._conditional_access)
        except ServerUnreachable as exc:
            self.writer.fail(
                f"entra: {self.options.graph_url} unreachable, collection stopped: {exc.message}"
            )
        self.writer.extra_source["api_usage"] = {
            "requests": self.client.request_count,
            "retries": self.client.retry_count,
            "pages": self.pages,
        }
        log.info("entra.collected", requests=self.client.request_count, pages=self.pages)

    def _guard(self, what: str, func: Callable[[], None]) -> bool:
        try:
            func()
            return True
        except (AuthenticationError, ServerUnreachable):
            raise
        except ConnectorError as exc:
            hint = ""
            if "Authorization_RequestDenied" in exc.message or "HTTP 403" in exc.message:
                hint = f" (the app needs {PERMISSION.get(what, 'a Graph permission')})"
            self.writer.fail(f"entra: {what} not collected{hint}: {exc.message}")
            log.error("entra.part_failed", part=what, error=exc.message)
            return False

    # -- paging -------------------------------------------------------------------------
    def pages_of(self, path: str, params: dict[str, Any] | None = None) -> Iterator[list[Any]]:
        """Each page's ``value``; ``@odata.nextLink`` is followed as given, on Graph's host only."""
        url: str | None = path
        query: dict[str, Any] | None = params
        seen: set[str] = set()
        while url is not None:
            body = self.client.get_json(url, params=query)
            self.pages += 1
            if not isinstance(body, dict) or not isinstance(body.get("value"), list):
                raise ConnectorError(f"GET {self.client.url(path)}: expected a Graph collection")
            yield [v for v in body["value"] if isinstance(v, dict)]
            following = body.get("@odata.nextLink")
            if following is None:
                return
            if not isinstance(following, str) or not same_origin(following, self.client.base_url):
                host = urlsplit(str(following)).hostname
                raise ConnectorError(
                    f"GET {self.client.url(path)}: @odata.nextLink points to another host "
                    f"({host}); refused"
                )
            if following in seen:
                raise ConnectorError(f"GET {self.client.url(path)}: @odata.nextLink repeats")
            seen.add(following)
            url, query = following, None

    def listing(self, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return [item for page in self.pages_of(path, params) for item in page]

    def _top(self, cap: int = 999) -> dict[str, Any]:
        return {"$top": min(self.options.page_size, cap)}

    # -- roles and groups ---------------------------------------------------------------
    def _roles(self) -> None:
        base = "/v1.0/roleManagement/directory"
        definitions = self.listing(f"{base}/roleDefinitions")
        by_id = {str(d["id"]): d for d in definitions}
        for d in definitions:
            self.role_names[str(d.get("templateId") or d["id"])] = str(d.get("displayName"))
        for state, path in (
            ("active", "roleAssignmentScheduleInstances"),
            ("eligible", "roleEligibilityScheduleInstances"),
        ):
            for item in self.listing(f"{base}/{path}", self._top()):
                if item.get("directoryScopeId", "/") != "/":
                    continue  # scoped to an administrative unit or an app: not tenant-wide
                definition = by_id.get(str(item.get("roleDefinitionId")), {})
                template = str(definition.get("templateId") or item.get("roleDefinitionId"))
                self.directory.assignments.setdefault(str(item.get("principalId")), []).append(
                    mapping.Assignment(
                        role_id=template,
                        role=self.role_names.get(template, template),
                        state=state,
                        end=mapping.ts(item.get("endDateTime")),
                    )
                )
        self.definitions = definitions

    def _write_roles(self) -> None:
        """After users: a role's members are the accounts written (and group members)."""
        for record in mapping.roles(self.definitions, self.directory, self.user_ids):
            self.writer.add(record)

    def _groups(self) -> None:
        params = {
            "$filter": "isAssignableToRole eq true",
            "$select": "id,displayName,securityEnabled",
        }
        for g in self.listing("/v1.0/groups", params):
            members = self.listing(
                f"/v1.0/groups/{g['id']}/transitiveMembers", {"$select": "id", **self._top()}
            )
            user_ids = [
                str(m["id"]) for m in members if m.get("@odata.type") == "#microsoft.graph.user"
            ]
            for user_id in user_ids:
                self.directory.groups_of.setdefault(user_id, []).append(
                    (str(g["id"]), str(g.get("displayName")))
                )
            self.writer.add(mapping.group(g, user_ids, self.directory))

    def _registration(self) -> None:
        self.directory.registration_known = False
        path = "/v1.0/reports/authenticationMethods/userRegistrationDetails"
        # the report documents $filter only (no $select): it is read whole, in big pages
        for page in self.pages_of(path, self._top()):
            for item in page:
                self.directory.registration[str(item["id"])] = item
        self.directory.registration_known = True

    # -- users --------------------------------------------------------------------------
    def _users(self) -> None:
        sign_in = self.options.sign_in_activity
        if not sign_in:
            self.writer.extra_source.setdefault("missing_fields", {})["account.last_login_at"] = (
                "not requested (sign_in_activity: false)"
            )
        try:
            self._user_pages(sign_in)
        except SignInActivityDenied as exc:
            reason = f"Graph refused signInActivity: {exc.message}"
            self.writer.extra_source.setdefault("missing_fields", {})["account.last_login_at"] = (
                reason
            )
            # fail closed: dormant-account policies cannot be judged without it
            self.writer.fail(
                f"entra: signInActivity not collected (the app needs "
                f"{PERMISSION['signInActivity']}); users collected without last sign-in"
            )
            self._user_pages(False)

    def _user_pages(self, sign_in: bool) -> None:
        fields = USER_SELECT if sign_in else USER_SELECT[:-1]
        params = {"$select": ",".join(fields), **self._top(500 if sign_in else 999)}
        pages = self.pages_of("/v1.0/users", params)
        first = True
        while True:
            try:
                page = next(pages)
            except StopIteration:
                return
            except ConnectorError as exc:
                if first and sign_in and "HTTP 403" in exc.message:
                    raise SignInActivityDenied(exc.message) from None
                raise
            first = False
            for user in page:
                self.user_ids.add(str(user["id"]))
                self.writer.add(
                    mapping.account(
                        user, self.directory, self.options.type_rules, sign_in_known=sign_in
                    ),
                    replace=True,  # a retry without signInActivity rewrites the same users
                )

    # -- applications -------------------------------------------------------------------
    def _applications(self) -> None:
        apps = self.listing(
            "/v1.0/applications",
            {"$select": APP_SELECT, "$expand": "owners($select=id)", **self._top()},
        )
        sps = self.listing("/v1.0/servicePrincipals", {"$select": SP_SELECT, **self._top()})
        app_by_appid = {str(a.get("appId")): a for a in apps}
        own = {str(sp["id"]) for sp in sps if str(sp.get("appId")) == self.options.client_id}
        if own:  # the collecting app's service principal: never acted on either
            self.writer.extra_source["collected_as"] = sorted({self.options.client_id, *own})
        granted: dict[str, list[str]] = {}
        for sp in sps:
            roles = {
                str(r.get("id")): str(r.get("value"))
                for r in sp.get("appRoles") or ()
                if "Application" in (r.get("allowedMemberTypes") or ())
            }
            if not roles:
                continue
            for assignment in self.listing(
                f"/v1.0/servicePrincipals/{sp['id']}/appRoleAssignedTo", self._top()
            ):
                if assignment.get("principalType") != "ServicePrincipal":
                    continue
                value = roles.get(
                    str(assignment.get("appRoleId")), str(assignment.get("appRoleId"))
                )
                granted.setdefault(str(assignment.get("principalId")), []).append(value)
        delegated: dict[str, list[dict[str, Any]]] = {}
        try:
            for grant in self.listing("/v1.0/oauth2PermissionGrants", self._top()):
                delegated.setdefault(str(grant.get("clientId")), []).append(grant)
        except (AuthenticationError, ServerUnreachable):
            raise
        except ConnectorError as exc:
            self.writer.fail(
                f"entra: delegated grants not collected (the app needs "
                f"{PERMISSION['delegated grants']}): {exc.message}"
            )
        for sp in sps:
            if str(sp.get("appId")) in app_by_appid and sp.get("appOwnerOrganizationId"):
                self.tenant_guid = str(sp["appOwnerOrganizationId"])
                break
        tenant_sp_appids = set()
        for sp in sps:
            app = app_by_appid.get(str(sp.get("appId")))
            tenant_sp_appids.add(str(sp.get("appId")))
            self._integration(
                sp, app, granted.get(str(sp["id"]), []), delegated.get(str(sp["id"]), [])
            )
        for app in apps:
            if str(app.get("appId")) not in tenant_sp_appids:
                self._integration(None, app, [], [])

    def _integration(
        self,
        sp: dict[str, Any] | None,
        app: dict[str, Any] | None,
        app_permissions: list[str],
        grants: list[dict[str, Any]],
    ) -> None:
        main = sp or app
        assert main is not None
        integration_id = str(main["id"])
        owners = [str(o["id"]) for o in (app or {}).get("owners") or () if o.get("id")]
        publisher = (main.get("verifiedPublisher") or {}).get("displayName") or (
            (app or {}).get("verifiedPublisher") or {}
        ).get("displayName")
        tenant_wide = [g for g in grants if g.get("consentType") == "AllPrincipals"]
        delegated_scopes = sorted({s for g in grants for s in str(g.get("scope") or "").split()})
        tenant = self.tenant_guid or self.options.tenant_id
        foreign = sp is not None and str(sp.get("appOwnerOrganizationId")) != tenant
        audience = str((app or {}).get("signInAudience") or "")
        high = sorted(set(app_permissions) & mapping.HIGH_PRIVILEGE_APP_PERMISSIONS)
        record: dict[str, object] = {
            "kind": "integration",
            "id": integration_id,
            "name": str(main.get("displayName") or integration_id),
            "type": "service_principal" if sp else "oauth_client",
            "publisher": publisher or None,
            "enabled": bool(sp.get("accountEnabled", True)) if sp else True,
            "scopes": sorted(set(app_permissions) | set(delegated_scopes)),
            "authorized_users": sorted(
                {str(g["principalId"]) for g in grants if g.get("principalId")}
            ),
            "admin_approved": bool(tenant_wide) or bool(app_permissions) or None,
            "owner": owners[0] if owners else None,
            "created_at": mapping.ts((app or {}).get("createdDateTime")),
            "raw": {
                "appId": main.get("appId"),
                "verified_publisher": bool(publisher),
                "multi_tenant": audience.startswith("AzureADMultiple")
                or audience.startswith("AzureADandPersonal"),
                "signInAudience": audience or None,
                "registered_elsewhere": foreign,
                "owners": owners,
                "application_permissions": sorted(set(app_permissions)),
                "high_privilege_permissions": high,
                "tenant_wide_delegated_scopes": sorted(
                    {s for g in tenant_wide for s in str(g.get("scope") or "").split()}
                ),
                "delegated_grants": [
                    {
                        "id": g.get("id"),
                        "consent_type": g.get("consentType"),
                        "principal": g.get("principalId"),
                        "resource": g.get("resourceId"),
                        "scopes": str(g.get("scope") or "").split(),
                    }
                    for g in grants
                ],
            },
        }
        self.writer.add({k: v for k, v in record.items() if v is not None})
        for holder in (app, sp):
            if holder:
                for credential in mapping.credentials(holder, integration_id, str(holder["id"])):
                    self.writer.add(credential)

    # -- tenant settings and Conditional Access -----------------------------------------
    def _settings(self) -> None:
        auth = self.client.get_json("/v1.0/policies/authorizationPolicy")
        defaults = self.client.get_json("/v1.0/policies/identitySecurityDefaultsEnforcementPolicy")
        consent = self.client.get_json("/v1.0/policies/adminConsentRequestPolicy")
        permissions = auth.get("defaultUserRolePermissions") or {}
        add = self.writer.add
        add(mapping.setting("user_consent", mapping.user_consent(auth), "consent", auth))
        add(
            mapping.setting(
                "users_can_register_apps",
                bool(permissions.get("allowedToCreateApps")),
                "consent",
                {"allowedToCreateApps": permissions.get("allowedToCreateApps")},
            )
        )
        add(
            mapping.setting(
                "security_defaults", bool(defaults.get("isEnabled")), "authentication", defaults
            )
        )
        add(
            mapping.setting(
                "admin_consent_workflow", bool(consent.get("isEnabled")), "consent", consent
            )
        )

    def _conditional_access(self) -> None:
        for policy in self.listing("/v1.0/identity/conditionalAccess/policies"):
            self.writer.add(mapping.session_policy(policy, self.role_names))
