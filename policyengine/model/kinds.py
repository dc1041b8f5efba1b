"""Resource kinds, their normalised fields and their references.

Every resource has ``kind``, ``id`` (unique within its source), ``source``
(connector instance), ``name`` and ``raw`` (the source's own attributes).
Timestamps are ISO 8601 UTC strings ending in ``Z``.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS: tuple[str, ...] = (
    "account",
    "group",
    "role",
    "integration",
    "credential",
    "session_policy",
    "setting",
    "person",
)

#: JSON snapshot list key for each kind (``accounts``, ``groups``, ...).
LIST_KEYS: dict[str, str] = {
    "account": "accounts",
    "group": "groups",
    "role": "roles",
    "integration": "integrations",
    "credential": "credentials",
    "session_policy": "session_policies",
    "setting": "settings",
    "person": "persons",
}

ACCOUNT_TYPES = ("human", "service", "shared", "break_glass")
CREDENTIAL_TYPES = (
    "api_token",
    "client_secret",
    "certificate",
    "access_key",
    "oauth_token",
    "personal_access_token",
    "deploy_key",
    "ssh_key",
    "totp_seed",
    "app_password",  # Google application-specific passwords: bypass 2-Step Verification
    "ci_secret",  # a secret stored in CI (GitHub Actions): metadata only, no expiry concept
)
INTEGRATION_TYPES = (
    "connected_app",
    "oauth_client",
    "service_principal",
    "github_app",
    "sso_app",  # SAML / WS-Federation app trusting the IdP's assertions (Okta)
)
MFA_METHODS = (
    "webauthn",
    "fido2",
    "smartcard",
    "certificate",
    "platform",
    "push",
    "totp",
    "sms",
    "voice",
    "email",
)
#: Methods that resist real-time phishing (NIST SP 800-63B-4 s. 3.2.5).
PHISHING_RESISTANT_METHODS = frozenset(
    {"webauthn", "fido2", "smartcard", "certificate", "platform"}
)


@dataclass(frozen=True, slots=True)
class Field:
    """One normalised field: its type and a short note for ``docs/model.md``."""

    type: str
    note: str = ""


#: Type names used in :data:`FIELDS`.
FIELD_TYPE_NAMES = (
    "str",
    "bool",
    "int",
    "number",
    "timestamp",
    "list",
    "object",
    "ref",
    "refs",
    "any",
)

_COMMON: dict[str, Field] = {
    "kind": Field("str", "the resource kind"),
    "source_type": Field("str", "the connector (ldap, okta, ...); stamped by the snapshot writer"),
    "id": Field("str", "unique within its source"),
    "source": Field("str", "the connector instance; stamped by the snapshot writer"),
    "name": Field("str"),
    "raw": Field("object", "the source's own attributes (free-form)"),
    "type": Field("str", "sub-kind"),
    "location": Field("object", "`{file, line}` of access-as-code declarations"),
    "created_at": Field("timestamp"),
}

#: THE table: kind -> field -> type and note. Everything else about fields
#: (types for the snapshot check, timestamp fields, the model reference page)
#: is derived from it.
FIELDS: dict[str, dict[str, Field]] = {
    "account": {
        **_COMMON,
        "type": Field("str", ", ".join(ACCOUNT_TYPES)),
        "enabled": Field("bool"),
        "email": Field("str"),
        "employee_id": Field("str"),
        "display_name": Field("str", "the person's display name (LDAP displayName)"),
        "privileged": Field("bool"),
        "privileged_via": Field("list", "why it is privileged"),
        "roles": Field("list"),
        "groups": Field("refs", "effective membership"),
        "mfa": Field("object", "enrolled, enforced, methods, methods_reported, phishing_resistant"),
        "last_login_at": Field("timestamp"),
        "password_last_set_at": Field("timestamp"),
        "password_never_expires": Field("bool"),
        "owner": Field("ref", "for non-human accounts"),
        "session": Field("object", "max_lifetime_minutes, idle_timeout_minutes"),
        "flags": Field("list", "source flags as words, e.g. AD userAccountControl names"),
        "person": Field("ref", "set by correlation"),
        "permissions": Field("list", "e.g. Salesforce system permissions"),
        "mfa_waived": Field("bool"),
        "locked": Field("bool"),
        "locked_at": Field(
            "timestamp", "when a lockout began (OpenLDAP ppolicy pwdAccountLockedTime)"
        ),
        # directory extras (LDAP / Active Directory connector)
        "dn": Field("str", "directory"),
        "spns": Field("list", "directory: service principal names"),
        "admin_count": Field("int", "directory"),
        "delegation": Field(
            "object", "directory: unconstrained, constrained_to, protocol_transition"
        ),
        "supported_encryption_types": Field("list", "directory"),
        "kerberos_preauth_required": Field("bool", "directory"),
        "password_not_required": Field("bool", "directory"),
        "password_must_change": Field(
            "bool", "directory: must change at next logon (pwdReset, pwdLastSet 0)"
        ),
        "password_policy": Field(
            "str", "directory: the password policy entry that applies (OpenLDAP ppolicy)"
        ),
        "sid": Field("str", "directory: Active Directory objectSid"),
        "primary_group_id": Field("int", "directory: Active Directory primaryGroupID"),
        "upn": Field("str", "directory: Active Directory userPrincipalName"),
        "expires_at": Field("timestamp", "when the account expires (AD accountExpires)"),
        "status": Field("str", "the source's own lifecycle status"),
        "activity": Field(
            "object", "summarised sign-ins over a stated window: logins, challenge_methods, ..."
        ),
        "live_sessions": Field("object", "open sessions now (Salesforce AuthSession), by app"),
    },
    "group": {
        **_COMMON,
        "members": Field("refs"),
        "privileged": Field("bool"),
        "privileged_via": Field("list"),
        "nested_groups": Field("refs"),
        "roles": Field("list"),
        "sid": Field("str", "directory: Active Directory objectSid"),
        "dn": Field("str", "directory"),
        "security": Field("bool", "directory: an AD security group (not a distribution list)"),
    },
    "role": {
        **_COMMON,
        "members": Field("refs"),
        "privileged": Field("bool"),
        "permissions": Field("list"),
    },
    "integration": {
        **_COMMON,
        "type": Field("str", ", ".join(INTEGRATION_TYPES)),
        "publisher": Field("str"),
        "admin_approved": Field("bool"),
        "scopes": Field("list"),
        "authorized_users": Field("refs"),
        "ip_restricted": Field("bool"),
        "last_used_at": Field("timestamp"),
        "owner": Field("ref"),
        "enabled": Field("bool"),
        "installed": Field("bool"),
        "expires_at": Field("timestamp"),
        "refresh_token_policy": Field("str"),
        "high_assurance_required": Field("bool"),
        "activity": Field(
            "object", "summarised use over a stated window: logins, distinct IPs, bulk jobs, ..."
        ),
        "live_sessions": Field("object", "open sessions now: count, oauth, source_ips, types"),
        "last_changed_at": Field("timestamp", "latest admin change in the window (audit trail)"),
        "changed_by": Field("refs", "who made those changes"),
        "auth_method": Field(
            "str", "how the client authenticates: client_secret_basic, private_key_jwt, none, ..."
        ),
        "app_type": Field("str", "OAuth client kind: service, web, native, browser"),
    },
    "credential": {
        **_COMMON,
        "type": Field("str", ", ".join(CREDENTIAL_TYPES)),
        "owner": Field("ref"),
        "integration": Field("ref"),
        "scopes": Field("list"),
        "last_used_at": Field("timestamp"),
        "last_rotated_at": Field("timestamp"),
        "expires_at": Field("timestamp"),
        "strength": Field("object", "bits, algorithm, digits, period (TOTP seeds)"),
        "fingerprint": Field("str", "salted hash, never the secret"),
        "enabled": Field("bool"),
        "use_count": Field("int"),
        "shared_with_count": Field("int"),
        "activity": Field("object", "summarised use over a stated window (see integration)"),
    },
    "session_policy": {
        **_COMMON,
        "applies_to": Field("refs", "group ids, or `everyone`"),
        "max_lifetime_minutes": Field("number"),
        "idle_timeout_minutes": Field("number"),
        "mfa_required": Field("bool"),
        "ip_locked": Field("bool"),
        "persistent_cookie": Field("bool"),
        "http_only": Field("bool"),
        "priority": Field("int"),
        "enabled": Field("bool"),
        "force_logout_on_timeout": Field("bool", "Salesforce: log out when the session times out"),
        "enforce_ip_ranges_every_request": Field(
            "bool", "Salesforce: login IP ranges on every request"
        ),
        "lock_sessions_to_domain": Field("bool", "Salesforce: sessions locked to the login domain"),
        "required_session_level": Field("str", "Salesforce: STANDARD or HIGH_ASSURANCE"),
    },
    "setting": {
        **_COMMON,
        "value": Field("any", "tenant-wide switches: Salesforce API Access Control, ..."),
        "category": Field("str"),
    },
    "person": {
        **_COMMON,
        "accounts": Field("refs", "cross-source refs"),
        "emails": Field("list"),
        "employee_id": Field("str"),
    },
}

#: kind -> field -> type name (derived from :data:`FIELDS`).
FIELD_TYPES: dict[str, dict[str, str]] = {
    kind: {name: f.type for name, f in fields.items()} for kind, fields in FIELDS.items()
}

#: kind -> its timestamp fields in table order (derived from :data:`FIELDS`).
TIMESTAMP_FIELDS_BY_KIND: dict[str, tuple[str, ...]] = {
    kind: tuple(name for name, t in types.items() if t == "timestamp")
    for kind, types in FIELD_TYPES.items()
}

#: every timestamp field of any kind (derived from :data:`FIELDS`).
TIMESTAMP_FIELDS: frozenset[str] = frozenset().union(*TIMESTAMP_FIELDS_BY_KIND.values())

#: Known keys of object-valued fields and their types (``list[str]``: a list of
#: strings); snapshots are checked against them, other keys pass unchecked.
OBJECT_FIELD_TYPES: dict[str, dict[str, str]] = {
    "mfa": {
        "enrolled": "bool",
        "enforced": "bool",  # the source requires it at sign-in (Google isEnforcedIn2Sv)
        "methods": "list[str]",
        # false: the source says whether MFA is on but never which methods (GitHub)
        "methods_reported": "bool",
        "phishing_resistant": "bool",
    },
    "session": {"max_lifetime_minutes": "number", "idle_timeout_minutes": "number"},
    "strength": {"bits": "int", "algorithm": "str", "digits": "int", "period": "int"},
    "delegation": {
        "unconstrained": "bool",
        "constrained_to": "list[str]",
        "protocol_transition": "bool",
    },
    "location": {"file": "str", "line": "int"},
    # Bounded summaries, never event streams: counts over ``window_days``
    # (timestamps inside are canonical strings).
    "activity": {
        "window_days": "int",
        "logins": "int",
        "failed_logins": "int",
        "distinct_ips": "int",
        "source_ips": "list[str]",
        "users": "list[str]",
        "first_seen_at": "str",
        "last_seen_at": "str",
        "bulk_jobs": "int",
        "records_exported": "int",
        "objects_exported": "list[str]",
        "grants": "int",  # OAuth consents to the app in the window (Google Reports authorize)
        "challenge_methods": "list[str]",  # second factors seen at sign-in (Google Reports)
        "new_ips": "list[str]",  # sign-in IPs first seen in the window's last 7 days (Okta)
        # admins logging in as this account (Salesforce SetupAuditTrail suOrgAdminLogin, ...)
        "login_as_events": "int",
        "login_as_by": "list[str]",
        "last_login_as_at": "str",
    },
    "live_sessions": {
        "count": "int",
        "oauth": "int",
        "source_ips": "list[str]",
        "types": "list[str]",
        "users": "list[str]",
        "last_created_at": "str",
        "apps": "list[str]",  # on an account: the apps its sessions were opened through
        # at most 20 described: user, app, type, login_type, source_ip, created_at, security_level
        "sessions": "list",
    },
}

#: Known keys of object-valued fields (checked in policy paths; ``raw`` is free-form).
OBJECT_FIELDS: dict[str, tuple[str, ...]] = {
    name: tuple(keys) for name, keys in OBJECT_FIELD_TYPES.items()
}

#: (kind, field) -> kind of the resource the field refers to (by id, same source;
#: ``person`` references cross sources and are filled in by correlation).
REFERENCES: dict[tuple[str, str], str] = {
    ("account", "groups"): "group",
    ("account", "owner"): "account",
    ("account", "person"): "person",
    ("group", "members"): "account",
    ("group", "nested_groups"): "group",
    ("role", "members"): "account",
    ("integration", "authorized_users"): "account",
    ("integration", "owner"): "account",
    ("integration", "changed_by"): "account",
    ("credential", "owner"): "account",
    ("credential", "integration"): "integration",
    ("person", "accounts"): "account",
    ("session_policy", "applies_to"): "group",
}
