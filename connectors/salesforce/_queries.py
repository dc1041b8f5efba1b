"""The SOQL objects the connector reads, and reading one of them.

Each :class:`ObjectQuery` names its fields and which of them may be missing
in some org (feature-gated, release-dependent): an ``INVALID_FIELD`` for one
of those drops it and asks again, and the value is then reported as missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from connectors.salesforce._describe import LABELLED_PERMISSIONS, PermissionFields
from connectors.salesforce._http import Rest, SalesforceApiError
from connectors.salesforce._org import Org
from policyengine.errors import ConnectorError
from policyengine.log import get_logger

log = get_logger("policyengine.salesforce")

#: PermissionSet system permissions read for every org.
PERMISSIONS = (
    "ModifyAllData",
    "ViewAllData",
    "ManageUsers",
    "ManageInternalUsers",
    "ApiEnabled",
    "ApiUserOnly",
    "AuthorApex",
    "CustomizeApplication",
    "ModifyMetadata",
    "ManageRemoteAccess",  # "Manage Connected Apps"
    "ManageAuthProviders",
    "AssignPermissionSets",
    "ManageProfilesPermissionsets",
    "ExportReport",
    "ForceTwoFactor",
    "TwoFactorApi",
    "ManageTwoFactor",
    "DelegatedTwoFactor",
    "ViewEventLogFiles",
)


#: Feature- or release-gated permissions: INVALID_FIELD drops them (reported as missing).
GATED_PERMISSIONS = (
    "BypassMFAForUiLogins",
    "ApproveUninstalledConnectedApps",
    "UseAnyApiClient",
)


@dataclass(frozen=True, slots=True)
class ObjectQuery:
    """One SOQL object to read: its fields, and which may be absent in an org."""

    sobject: str
    fields: tuple[str, ...]
    optional: tuple[str, ...] = ()
    #: helps the mapping but is not data a policy judges: a failure is only logged
    auxiliary: bool = False
    #: when the org refuses an unfiltered query ("Implementation restriction:
    #: ... requires a filter"), ask again per batch of user ids on this field
    per_user_field: str | None = None
    #: a fixed filter (the activity window), used when no per-user filter is given
    where: str = ""
    #: fields known absent before asking (a describe said so): reported as dropped
    absent: tuple[str, ...] = ()
    #: (field read, name stored): a permission whose real field differs from our word
    renames: tuple[tuple[str, str], ...] = ()

    def soql(self, dropped: set[str], where: str = "") -> str:
        fields = [f for f in self.fields if f not in dropped]
        return f"SELECT {', '.join(fields)} FROM {self.sobject}{where or self.where}"


#: User ids per ``WHERE UserId IN (...)`` query: 200 x 21 characters keeps the
#: URL far below the REST limit (16,384 characters for a GET).
USER_BATCH = 200
_SF_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")


QUERIES: tuple[ObjectQuery, ...] = (
    ObjectQuery(
        "User",
        (
            "Id",
            "Username",
            "Name",
            "Email",
            "EmployeeNumber",
            "IsActive",
            "UserType",
            "ProfileId",
            "Profile.Name",
            "Profile.UserLicense.Name",
            "LastLoginDate",
            "LastPasswordChangeDate",
            "CreatedDate",
            "FederationIdentifier",
            "ManagerId",
        ),
        optional=(
            "LastPasswordChangeDate",
            "Profile.UserLicense.Name",
            "FederationIdentifier",
            "ManagerId",
        ),
    ),
    ObjectQuery(
        "PermissionSet",
        (
            "Id",
            "Name",
            "Label",
            "IsOwnedByProfile",
            "ProfileId",
            "Profile.Name",
            *tuple(f"Permissions{p}" for p in PERMISSIONS + GATED_PERMISSIONS),
        ),
        # Any permission column may be missing in some edition or release: drop it
        # and carry on (it is then reported as unavailable, never as false).
        optional=tuple(f"Permissions{p}" for p in GATED_PERMISSIONS + PERMISSIONS),
    ),
    ObjectQuery(
        "PermissionSetAssignment",
        (
            "Id",
            "AssigneeId",
            "PermissionSetId",
            "PermissionSetGroupId",
            "IsActive",
            "ExpirationDate",
            "SystemModstamp",
        ),
        optional=("PermissionSetGroupId", "IsActive", "ExpirationDate"),
    ),
    ObjectQuery(
        "PermissionSetGroup",
        ("Id", "DeveloperName", "MasterLabel", "Status"),
        optional=("Status",),
    ),
    ObjectQuery(
        "TwoFactorMethodsInfo",
        (
            "UserId",
            "HasBuiltInAuthenticator",
            "HasSalesforceAuthenticator",
            "HasSecurityKey",
            "HasTotp",
            "HasU2F",
            "HasUserVerifiedMobileNumber",
            "HasUserVerifiedEmailAddress",
            "HasTempCode",
        ),
        optional=(
            "HasBuiltInAuthenticator",
            "HasSecurityKey",
            "HasUserVerifiedMobileNumber",
            "HasUserVerifiedEmailAddress",
        ),
        per_user_field="UserId",
    ),
    ObjectQuery("UserLogin", ("UserId", "IsFrozen", "IsPasswordLocked")),
    ObjectQuery(
        "ConnectedApplication",
        (
            "Id",
            "Name",
            "CreatedDate",
            "CreatedById",
            "LastModifiedDate",
            "OptionsAllowAdminApprovedUsersOnly",
            "OptionsHasSessionLevelPolicy",
            "OptionsRefreshTokenValidityMetric",
            "RefreshTokenValidityPeriod",
            "MobileSessionTimeout",
            "StartUrl",
        ),
        optional=("MobileSessionTimeout", "StartUrl"),
    ),
    # App Launcher items link a token (AppMenuItemId) to its installed app
    # (ApplicationId). Auxiliary: without them tokens are matched by name.
    ObjectQuery(
        "AppMenuItem",
        ("Id", "ApplicationId", "Name", "Label", "Type"),
        optional=("Type",),
        auxiliary=True,
    ),
    # Never DeleteToken / AccessToken / RequestToken: those are secrets.
    ObjectQuery(
        "OauthToken",
        ("AppName", "AppMenuItemId", "UserId", "CreatedDate", "LastUsedDate", "UseCount"),
    ),
)


def permission_set_query(found: PermissionFields) -> ObjectQuery:
    """The PermissionSet query with the describe's fields for the labelled permissions."""
    base = next(q for q in QUERIES if q.sobject == "PermissionSet")
    if not found.known:
        return base  # the guessed names, gated
    labelled = {f"Permissions{word}" for word in LABELLED_PERMISSIONS}
    fields = [f for f in base.fields if f not in labelled]
    renames: list[tuple[str, str]] = []
    absent: list[str] = []
    for word in LABELLED_PERMISSIONS:
        real = found.field_for(word)
        if real is None:
            absent.append(f"Permissions{word}")
            continue
        fields.append(real)
        if real != f"Permissions{word}":
            renames.append((real, f"Permissions{word}"))
    return replace(
        base,
        fields=tuple(fields),
        optional=tuple(f for f in base.optional if f not in labelled),
        absent=tuple(absent),
        renames=tuple(renames),
    )


@dataclass(slots=True)
class Fetched:
    """What one object query produced."""

    query: ObjectQuery
    records: list[dict[str, Any]]
    dropped: set[str]
    error: Exception | None = None


def fetch_object(rest: Rest, query: ObjectQuery) -> Fetched:
    """Read one object; drop optional fields the org lacks (INVALID_FIELD) and ask again."""
    dropped: set[str] = set(query.absent)
    while True:
        records: list[dict[str, Any]] = []
        try:
            for record in rest.query(query.soql(dropped)):
                records.append(record)
        except SalesforceApiError as exc:
            if (
                exc.error_code == "INVALID_FIELD"
                and not records
                and (field := _optional_field(exc, query, dropped))
            ):
                log.info("salesforce.field_unavailable", object=query.sobject, field=field)
                dropped.add(field)
                continue
            return Fetched(query, records, dropped, exc)
        except ConnectorError as exc:
            return Fetched(query, records, dropped, exc)
        return Fetched(query, records, dropped)


def _optional_field(exc: SalesforceApiError, query: ObjectQuery, dropped: set[str]) -> str | None:
    candidates = [f for f in query.optional if f not in dropped]
    if exc.field in candidates:
        return exc.field
    if exc.field is not None:
        return None  # a field we cannot do without: the object fails
    # "Didn't understand relationship 'UserLicense' in field path": find the
    # optional field the message talks about, else drop them in order.
    message = str(exc)
    for candidate in candidates:
        if any(f"'{part}'" in message for part in candidate.split(".")):
            return candidate
    return candidates[0] if candidates else None


def store(org: Org, sobject: str, result: Fetched) -> None:
    records = result.records
    for read, stored in result.query.renames:
        for record in records:
            if read in record:
                record[stored] = record.pop(read)
    if sobject == "User":
        org.users = records
    elif sobject == "PermissionSet":
        org.permission_sets = {r["Id"]: r for r in records if r.get("Id")}
        org.unavailable_permissions = {
            f.removeprefix("Permissions") for f in result.dropped if f.startswith("Permissions")
        }
    elif sobject == "PermissionSetAssignment":
        org.assignments = records
    elif sobject == "PermissionSetGroup":
        org.permission_set_groups = {r["Id"]: r for r in records if r.get("Id")}
    elif sobject == "TwoFactorMethodsInfo":
        org.mfa = {r["UserId"]: r for r in records if r.get("UserId")}
    elif sobject == "UserLogin":
        org.logins = {r["UserId"]: r for r in records if r.get("UserId")}
    elif sobject == "AppMenuItem":
        org.menu_items = records
    elif sobject == "ConnectedApplication":
        org.apps = [r for r in records if r.get("Id")]
    elif sobject == "OauthToken":
        org.tokens = records
    elif sobject == "LoginHistory":
        org.login_history = records
    elif sobject == "AuthSession":
        org.auth_sessions = records
    elif sobject == "SetupAuditTrail":
        org.setup_audit = records


def needs_per_user_retry(query: ObjectQuery, result: Fetched) -> bool:
    """The org refused the unfiltered query; a per-user query may work."""
    error = result.error
    return (
        query.per_user_field is not None
        and not result.records
        and isinstance(error, SalesforceApiError)
        and error.error_code == "MALFORMED_QUERY"
        and "restriction" in str(error).lower()
    )


def fetch_per_user(
    rest: Rest, query: ObjectQuery, user_ids: Iterable[str], dropped: set[str]
) -> Fetched:
    """Read ``query`` in batches of ``WHERE <per_user_field> IN (...)``."""
    assert query.per_user_field is not None
    ids = [i for i in user_ids if isinstance(i, str) and _SF_ID.match(i)]  # no quoting issues
    records: list[dict[str, Any]] = []
    for start in range(0, len(ids), USER_BATCH):
        batch = ", ".join(f"'{i}'" for i in ids[start : start + USER_BATCH])
        soql = query.soql(dropped, f" WHERE {query.per_user_field} IN ({batch})")
        try:
            records.extend(rest.query(soql))
        except ConnectorError as exc:
            return Fetched(query, records, dropped, exc)
    return Fetched(query, records, dropped)
