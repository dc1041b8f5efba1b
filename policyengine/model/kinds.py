"""Resource kinds, their normalised fields and their references.

Every resource has ``kind``, ``id`` (unique within its source), ``source``
(connector instance), ``name`` and ``raw`` (the source's own attributes).
Timestamps are ISO 8601 UTC strings ending in ``Z``.
"""

from __future__ import annotations

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
)
INTEGRATION_TYPES = ("connected_app", "oauth_client", "service_principal", "github_app")
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

TIMESTAMP_FIELDS = frozenset(
    {
        "created_at",
        "last_login_at",
        "last_used_at",
        "last_rotated_at",
        "password_last_set_at",
        "expires_at",
        "updated_at",
        "locked_at",
    }
)

# Type names used in FIELD_TYPES: str, bool, int, number, timestamp, list, object, ref, refs.
_COMMON = {
    "kind": "str",
    "source_type": "str",  # the connector that produced the resource (ldap, okta, ...)
    "id": "str",
    "source": "str",
    "name": "str",
    "raw": "object",
    "type": "str",
    "location": "object",
    "created_at": "timestamp",
}

FIELD_TYPES: dict[str, dict[str, str]] = {
    "account": {
        **_COMMON,
        "enabled": "bool",
        "email": "str",
        "employee_id": "str",
        "privileged": "bool",
        "privileged_via": "list",
        "roles": "list",
        "groups": "refs",
        "mfa": "object",
        "last_login_at": "timestamp",
        "password_last_set_at": "timestamp",
        "password_never_expires": "bool",
        "owner": "ref",
        "session": "object",
        "flags": "list",
        "person": "ref",
        "permissions": "list",
        "mfa_waived": "bool",
        "locked": "bool",
        # directory extras (LDAP / Active Directory connector)
        "dn": "str",
        "spns": "list",
        "admin_count": "int",
        "delegation": "object",
        "supported_encryption_types": "list",
        "kerberos_preauth_required": "bool",
        "password_not_required": "bool",
        "status": "str",
    },
    "group": {
        **_COMMON,
        "members": "refs",
        "privileged": "bool",
        "privileged_via": "list",
        "nested_groups": "refs",
        "roles": "list",
        "sid": "str",
        "dn": "str",
    },
    "role": {**_COMMON, "members": "refs", "privileged": "bool", "permissions": "list"},
    "integration": {
        **_COMMON,
        "publisher": "str",
        "admin_approved": "bool",
        "scopes": "list",
        "authorized_users": "refs",
        "ip_restricted": "bool",
        "last_used_at": "timestamp",
        "owner": "ref",
        "enabled": "bool",
        "installed": "bool",
        "expires_at": "timestamp",
        "refresh_token_policy": "str",
        "high_assurance_required": "bool",
    },
    "credential": {
        **_COMMON,
        "owner": "ref",
        "integration": "ref",
        "scopes": "list",
        "last_used_at": "timestamp",
        "last_rotated_at": "timestamp",
        "expires_at": "timestamp",
        "strength": "object",
        "fingerprint": "str",
        "enabled": "bool",
        "use_count": "int",
        "shared_with_count": "int",
    },
    "session_policy": {
        **_COMMON,
        "applies_to": "refs",  # group ids, or "everyone"
        "max_lifetime_minutes": "number",
        "idle_timeout_minutes": "number",
        "mfa_required": "bool",
        "ip_locked": "bool",
        "persistent_cookie": "bool",
        "http_only": "bool",
        "priority": "int",
        "enabled": "bool",
    },
    "setting": {**_COMMON, "value": "any", "category": "str"},
    "person": {**_COMMON, "accounts": "refs", "emails": "list", "employee_id": "str"},
}

#: Known keys of object-valued fields and their types (``list[str]``: a list of
#: strings); snapshots are checked against them, other keys pass unchecked.
OBJECT_FIELD_TYPES: dict[str, dict[str, str]] = {
    "mfa": {"enrolled": "bool", "methods": "list[str]", "phishing_resistant": "bool"},
    "session": {"max_lifetime_minutes": "number", "idle_timeout_minutes": "number"},
    "strength": {"bits": "int", "algorithm": "str", "digits": "int", "period": "int"},
    "delegation": {
        "unconstrained": "bool",
        "constrained_to": "list[str]",
        "protocol_transition": "bool",
    },
    "location": {"file": "str", "line": "int"},
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
    ("credential", "owner"): "account",
    ("credential", "integration"): "integration",
    ("person", "accounts"): "account",
    ("session_policy", "applies_to"): "group",
}
