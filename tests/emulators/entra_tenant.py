"""Entra tenants for the emulator: the small fixture (``tests/data/entra/tenant.json``, written
by ``python -m tests.emulators.entra_tenant``) and large generated ones for the bench."""

from __future__ import annotations

import json
import sys
import uuid
from typing import Any

from tests.emulators.entra import GRAPH_APP_ID, EntraTenant

GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
PRIVILEGED_ROLE_ADMIN = "e8611ab8-c189-46e8-94e1-60213ab1f814"
USER_ADMIN = "fe930be7-5e62-47db-91af-98c3a49a38b1"
DIRECTORY_READWRITE_ALL = "19dbc75e-c2e2-444c-a770-ec69d8559fc7"
MAIL_READWRITE = "e2a3a72e-5f79-4c64-b1b1-878b674786c9"
USER_READ_ALL = "df021288-bdef-4463-88db-98f22de89214"
DOMAIN = "northwind-retail.example"


def _id(n: int, kind: int = 0) -> str:
    return str(uuid.UUID(int=(kind << 64) | n))


def _user(n: int, name: str, **extra: Any) -> dict[str, Any]:
    user = {
        "id": _id(n, 1),
        "userPrincipalName": f"{name}@{DOMAIN}",
        "displayName": name.replace(".", " ").title(),
        "mail": f"{name}@{DOMAIN}",
        "accountEnabled": True,
        "userType": "Member",
        "onPremisesSyncEnabled": None,
        "employeeId": None,
        "createdDateTime": "2024-01-10T09:00:00Z",
        "passwordPolicies": None,
        "signInActivity": {
            "lastSignInDateTime": "2026-11-28T08:00:00Z",
            "lastNonInteractiveSignInDateTime": "2026-11-30T08:00:00Z",
            "lastSuccessfulSignInDateTime": "2026-11-28T08:00:00Z",
        },
    }
    user.update(extra)
    return user


def _registration(user: dict[str, Any], methods: list[str], admin: bool) -> dict[str, Any]:
    return {
        "id": user["id"],
        "userPrincipalName": user["userPrincipalName"],
        "userDisplayName": user["displayName"],
        "userType": "member" if user["userType"] == "Member" else "guest",
        "isAdmin": admin,
        "isMfaRegistered": bool(set(methods) - {"email"}),
        "isMfaCapable": bool(set(methods) - {"email"}),
        "isPasswordlessCapable": "fido2" in methods,
        "methodsRegistered": methods,
        "lastUpdatedDateTime": "2026-11-01T00:00:00Z",
    }


def _secret(n: int, start: str, end: str | None, name: str = "ci") -> dict[str, Any]:
    return {
        "keyId": _id(n, 7),
        "displayName": name,
        "hint": "abc",
        "startDateTime": start,
        "endDateTime": end,
    }


def sample() -> EntraTenant:
    """A small tenant for the same fictional retailer as the demo, with one finding per policy."""
    t = EntraTenant()
    people = [
        ("alice.admin", {"employeeId": "E1001", "onPremisesSyncEnabled": True}),
        ("bob.ops", {"employeeId": "E1002", "passwordPolicies": "DisablePasswordExpiration"}),
        ("carol.helpdesk", {"employeeId": "E1003"}),
        ("dave.contractor_partner.example#EXT#", {"userType": "Guest"}),
        ("erin.leaver", {"employeeId": "E1005", "accountEnabled": False}),
        ("bg-emergency", {}),
        (
            "frank.dormant",
            {
                "employeeId": "E1007",
                "signInActivity": {
                    "lastSignInDateTime": "2026-03-01T08:00:00Z",
                    "lastNonInteractiveSignInDateTime": None,
                    "lastSuccessfulSignInDateTime": "2026-03-01T08:00:00Z",
                },
            },
        ),
    ]
    t.users = [_user(i + 1, name, **extra) for i, (name, extra) in enumerate(people)]
    methods = {
        "alice.admin": (["fido2", "microsoftAuthenticatorPush"], True),
        "bob.ops": (["mobilePhone"], True),
        "carol.helpdesk": (["microsoftAuthenticatorPush", "softwareOneTimePasscode"], False),
        "dave.contractor_partner.example#EXT#": (["email"], True),
        "erin.leaver": ([], False),
        "bg-emergency": (["fido2"], True),
        "frank.dormant": (["windowsHelloForBusiness"], True),
    }
    t.registration = [
        _registration(u, *methods[u["userPrincipalName"].split("@")[0]]) for u in t.users
    ]
    t.role_definitions = [
        {
            "id": GLOBAL_ADMIN,
            "templateId": GLOBAL_ADMIN,
            "displayName": "Global Administrator",
            "isBuiltIn": True,
            "isEnabled": True,
        },
        {
            "id": PRIVILEGED_ROLE_ADMIN,
            "templateId": PRIVILEGED_ROLE_ADMIN,
            "displayName": "Privileged Role Administrator",
            "isBuiltIn": True,
            "isEnabled": True,
        },
        {
            "id": USER_ADMIN,
            "templateId": USER_ADMIN,
            "displayName": "User Administrator",
            "isBuiltIn": True,
            "isEnabled": True,
        },
    ]
    admins_group = _id(1, 3)
    t.groups = [
        {
            "id": admins_group,
            "displayName": "Tier0 Admins",
            "isAssignableToRole": True,
            "securityEnabled": True,
        }
    ]
    t.group_members = {
        admins_group: [{"@odata.type": "#microsoft.graph.user", "id": t.users[2]["id"]}]
    }

    def active(
        n: int, principal: str, role: str, end: str | None = None, member_type: str = "Direct"
    ) -> dict[str, Any]:
        return {
            "id": _id(n, 4),
            "principalId": principal,
            "roleDefinitionId": role,
            "directoryScopeId": "/",
            "assignmentType": "Assigned",
            "memberType": member_type,
            "startDateTime": "2025-01-01T00:00:00Z",
            "endDateTime": end,
        }

    users = t.users
    t.active_assignments = [
        active(1, users[0]["id"], GLOBAL_ADMIN),  # permanent GA
        active(2, users[1]["id"], GLOBAL_ADMIN),  # permanent GA, SMS MFA
        active(3, users[5]["id"], GLOBAL_ADMIN),  # break glass
        active(4, users[3]["id"], USER_ADMIN),  # guest admin
        active(5, admins_group, PRIVILEGED_ROLE_ADMIN, "2027-01-31T00:00:00Z", "Group"),
        active(6, users[6]["id"], USER_ADMIN),  # dormant admin
    ]
    t.eligible_assignments = [
        {
            "id": _id(1, 5),
            "principalId": users[2]["id"],
            "roleDefinitionId": GLOBAL_ADMIN,
            "directoryScopeId": "/",
            "memberType": "Direct",
            "startDateTime": "2025-01-01T00:00:00Z",
            "endDateTime": "2027-06-30T00:00:00Z",
        },
    ]
    graph_sp = _id(1, 6)
    payroll_sp, mailer_sp, lookalike_sp = _id(2, 6), _id(3, 6), _id(4, 6)
    t.applications = [
        {
            "id": _id(1, 2),
            "appId": _id(11, 2),
            "displayName": "Payroll Sync",
            "signInAudience": "AzureADMyOrg",
            "createdDateTime": "2024-02-01T00:00:00Z",
            "publisherDomain": DOMAIN,
            "verifiedPublisher": {},
            "passwordCredentials": [_secret(1, "2024-02-01T00:00:00Z", "2299-12-31T00:00:00Z")],
            "keyCredentials": [],
        },
        {
            "id": _id(2, 2),
            "appId": _id(12, 2),
            "displayName": "Store Mailer",
            "signInAudience": "AzureADMultipleOrgs",
            "createdDateTime": "2024-05-01T00:00:00Z",
            "publisherDomain": DOMAIN,
            "verifiedPublisher": {},
            "passwordCredentials": [_secret(2, "2026-06-01T00:00:00Z", "2026-12-10T00:00:00Z")],
            "keyCredentials": [
                {
                    "keyId": _id(3, 7),
                    "displayName": "CN=mailer",
                    "type": "AsymmetricX509Cert",
                    "usage": "Verify",
                    "startDateTime": "2025-01-01T00:00:00Z",
                    "endDateTime": "2026-01-01T00:00:00Z",
                }
            ],
        },
    ]
    t.app_owners = {
        _id(1, 2): [{"@odata.type": "#microsoft.graph.user", "id": users[4]["id"]}],
        _id(2, 2): [],
    }
    t.service_principals = [
        {
            "id": graph_sp,
            "appId": GRAPH_APP_ID,
            "displayName": "Microsoft Graph",
            "appOwnerOrganizationId": "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
            "servicePrincipalType": "Application",
            "accountEnabled": True,
            "verifiedPublisher": {},
            "passwordCredentials": [],
            "keyCredentials": [],
            "appRoles": [
                {
                    "id": DIRECTORY_READWRITE_ALL,
                    "value": "Directory.ReadWrite.All",
                    "displayName": "Read and write directory data",
                    "isEnabled": True,
                    "allowedMemberTypes": ["Application"],
                },
                {
                    "id": MAIL_READWRITE,
                    "value": "Mail.ReadWrite",
                    "displayName": "Read and write mail in all mailboxes",
                    "isEnabled": True,
                    "allowedMemberTypes": ["Application"],
                },
                {
                    "id": USER_READ_ALL,
                    "value": "User.Read.All",
                    "displayName": "Read all users' full profiles",
                    "isEnabled": True,
                    "allowedMemberTypes": ["Application"],
                },
            ],
        },
        {
            "id": payroll_sp,
            "appId": _id(11, 2),
            "displayName": "Payroll Sync",
            "appOwnerOrganizationId": t.tenant_id,
            "servicePrincipalType": "Application",
            "accountEnabled": True,
            "verifiedPublisher": {},
            "passwordCredentials": [],
            "keyCredentials": [],
            "appRoles": [],
        },
        {
            "id": mailer_sp,
            "appId": _id(12, 2),
            "displayName": "Store Mailer",
            "appOwnerOrganizationId": t.tenant_id,
            "servicePrincipalType": "Application",
            "accountEnabled": True,
            "verifiedPublisher": {},
            "passwordCredentials": [],
            "keyCredentials": [],
            "appRoles": [],
        },
        {
            "id": lookalike_sp,
            "appId": _id(13, 2),
            "displayName": "Micros0ft Docs Viewer",
            "appOwnerOrganizationId": "99999999-9999-9999-9999-999999999999",
            "servicePrincipalType": "Application",
            "accountEnabled": True,
            "verifiedPublisher": {
                "displayName": None,
                "verifiedPublisherId": None,
                "addedDateTime": None,
            },
            "passwordCredentials": [],
            "keyCredentials": [],
            "appRoles": [],
        },
    ]

    def grant(n: int, principal: str, role: str) -> dict[str, Any]:
        return {
            "id": _id(n, 8),
            "appRoleId": role,
            "principalId": principal,
            "principalType": "ServicePrincipal",
            "resourceId": graph_sp,
            "resourceDisplayName": "Microsoft Graph",
            "createdDateTime": "2024-02-02T00:00:00Z",
        }

    t.app_role_assigned_to = {
        graph_sp: [
            grant(1, payroll_sp, DIRECTORY_READWRITE_ALL),
            grant(2, mailer_sp, MAIL_READWRITE),
            grant(3, mailer_sp, USER_READ_ALL),
            grant(4, lookalike_sp, MAIL_READWRITE),  # the consent phish's end state
        ],
        payroll_sp: [],
        mailer_sp: [],
        lookalike_sp: [],
    }
    t.grants = [
        {
            "id": "grant-lookalike-all",
            "clientId": lookalike_sp,
            "consentType": "AllPrincipals",
            "principalId": None,
            "resourceId": graph_sp,
            "scope": "openid profile Mail.Read Files.Read.All offline_access",
        },
        {
            "id": "grant-lookalike-carol",
            "clientId": lookalike_sp,
            "consentType": "Principal",
            "principalId": users[2]["id"],
            "resourceId": graph_sp,
            "scope": "User.Read Mail.Read",
        },
    ]
    t.authorization_policy = {
        "id": "authorizationPolicy",
        "displayName": "Authorization Policy",
        "allowUserConsentForRiskyApps": False,
        "guestUserRoleId": "10dae51f-b6af-4016-8d66-8c2a99b929b3",
        "defaultUserRolePermissions": {
            "allowedToCreateApps": True,
            "permissionGrantPoliciesAssigned": [
                "ManagePermissionGrantsForSelf.microsoft-user-default-legacy"
            ],
        },
    }
    t.security_defaults = {
        "id": "00000000-0000-0000-0000-000000000005",
        "displayName": "Security Defaults",
        "isEnabled": False,
    }
    t.admin_consent_policy = {
        "id": "policy",
        "isEnabled": False,
        "notifyReviewers": False,
        "remindersEnabled": False,
        "requestDurationInDays": 0,
        "reviewers": [],
        "version": 0,
    }
    t.ca_policies = [
        {
            "id": _id(1, 9),
            "displayName": "Require MFA for admins",
            "state": "enabledForReportingButNotEnforced",
            "createdDateTime": "2025-03-01T00:00:00Z",
            "conditions": {
                "users": {
                    "includeRoles": [GLOBAL_ADMIN, PRIVILEGED_ROLE_ADMIN],
                    "excludeUsers": [users[5]["id"]],
                    "includeUsers": [],
                    "excludeGroups": [],
                    "includeGroups": [],
                    "excludeRoles": [],
                },
                "applications": {"includeApplications": ["All"]},
                "clientAppTypes": ["all"],
            },
            "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
            "sessionControls": {
                "signInFrequency": {
                    "isEnabled": True,
                    "type": "days",
                    "value": 7,
                    "frequencyInterval": "timeBased",
                    "authenticationType": "primaryAndSecondaryAuthentication",
                },
                "persistentBrowser": {"isEnabled": True, "mode": "always"},
            },
        },
        {
            "id": _id(2, 9),
            "displayName": "Baseline MFA for all users",
            "state": "enabled",
            "createdDateTime": "2025-03-01T00:00:00Z",
            "conditions": {
                "users": {
                    "includeUsers": ["All"],
                    "excludeUsers": [users[5]["id"]],
                    "excludeGroups": [],
                    "includeGroups": [],
                    "includeRoles": [],
                    "excludeRoles": [],
                },
                "applications": {"includeApplications": ["All"]},
                "clientAppTypes": ["all"],
            },
            "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
            "sessionControls": None,
        },
        {
            "id": _id(3, 9),
            "displayName": "Admin sessions",
            "state": "enabled",
            "createdDateTime": "2025-03-01T00:00:00Z",
            "conditions": {
                "users": {
                    "includeRoles": [GLOBAL_ADMIN, USER_ADMIN],
                    "includeUsers": [],
                    "excludeUsers": [],
                    "excludeGroups": [],
                    "includeGroups": [],
                    "excludeRoles": [],
                },
                "applications": {"includeApplications": ["All"]},
                "clientAppTypes": ["all"],
            },
            "grantControls": None,
            "sessionControls": {
                "signInFrequency": {
                    "isEnabled": True,
                    "type": "hours",
                    "value": 24,
                    "frequencyInterval": "timeBased",
                    "authenticationType": "primaryAndSecondaryAuthentication",
                },
            },
        },
    ]
    return t


def generate(n_users: int, n_apps: int, n_sps: int) -> EntraTenant:
    """A large tenant: every user has a registration record; 50 admins."""
    t = sample()
    methods = [["microsoftAuthenticatorPush"], ["fido2"], ["mobilePhone"], []]
    for i in range(n_users):
        user = _user(1000 + i, f"user{i}", employeeId=str(200000 + i))
        t.users.append(user)
        t.registration.append(_registration(user, methods[i % 4], i < 50))
        if i < 50:
            t.active_assignments.append(
                {
                    "id": _id(1000 + i, 4),
                    "principalId": user["id"],
                    "roleDefinitionId": USER_ADMIN,
                    "directoryScopeId": "/",
                    "assignmentType": "Assigned",
                    "memberType": "Direct",
                    "startDateTime": "2025-01-01T00:00:00Z",
                    "endDateTime": None,
                }
            )
    for i in range(n_apps):
        t.applications.append(
            {
                "id": _id(1000 + i, 2),
                "appId": _id(100000 + i, 2),
                "displayName": f"app {i}",
                "signInAudience": "AzureADMyOrg",
                "createdDateTime": "2024-02-01T00:00:00Z",
                "verifiedPublisher": {},
                "passwordCredentials": [
                    _secret(1000 + i, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z")
                ],
                "keyCredentials": [],
            }
        )
    for i in range(n_sps):
        t.service_principals.append(
            {
                "id": _id(1000 + i, 6),
                "appId": _id(200000 + i, 2),
                "displayName": f"sp {i}",
                "appOwnerOrganizationId": t.tenant_id,
                "servicePrincipalType": "Application",
                "accountEnabled": True,
                "verifiedPublisher": {},
                "passwordCredentials": [],
                "keyCredentials": [],
                "appRoles": [],
            }
        )
    return t


#: the sample's people as the demo retailer's (policyengine/demo): same emails and employee
#: ids as its AD and Okta, so correlation joins them
DEMO_NAMES = {
    "northwind-retail.example": "maisonverlaine.example",
    "alice.admin": "claire.dubois",
    "Alice Admin": "Claire Dubois",
    "bob.ops": "julien.moreau",
    "Bob Ops": "Julien Moreau",
    "carol.helpdesk": "sophie.laurent",
    "Carol Helpdesk": "Sophie Laurent",
    "dave.contractor_partner.example#EXT#": "lea.martin_lumiere-agency.example#EXT#",
    "Dave Contractor_Partner Example#Ext#": "Lea Martin (Lumiere Agency)",
    "erin.leaver": "marc.petit",
    "Erin Leaver": "Marc Petit",
    "bg-emergency": "breakglass",
    "Bg-Emergency": "Break Glass",
    "frank.dormant": "nadia.robert",
    "Frank Dormant": "Nadia Robert",
    '"E1001"': '"MV-1001"',
    '"E1002"': '"MV-1002"',
    '"E1003"': '"MV-1003"',
    '"E1005"': '"MV-0987"',
    '"E1007"': '"MV-1005"',
}


def as_json(tenant: EntraTenant) -> str:
    data = {name: getattr(tenant, name) for name in EntraTenant.__slots__}  # type: ignore[attr-defined]
    return json.dumps(data, indent=1) + "\n"


def demo_json() -> str:
    """The sample tenant as Maison Verlaine's (tests/data/entra/demo-tenant.json)."""
    text = as_json(sample())
    for old, new in DEMO_NAMES.items():
        text = text.replace(old, new)
    return text


if __name__ == "__main__":  # python -m tests.emulators.entra_tenant [demo]
    sys.stdout.write(demo_json() if sys.argv[1:] == ["demo"] else as_json(sample()))
