"""The cerberus schema of an access-as-code file (``access/*.yaml``).

One file may hold any of the top-level lists; a repository usually splits
them (people, service accounts, groups, integrations, ...). Unknown keys are
errors, so a typo cannot silently drop a grant, and there is deliberately no
place to put a secret value: credentials are described by metadata only.
"""

from __future__ import annotations

from typing import Any

from cerberus import Validator

from policyengine.model.kinds import (
    ACCOUNT_TYPES,
    CREDENTIAL_TYPES,
    INTEGRATION_TYPES,
    MFA_METHODS,
    TIMESTAMP_FIELDS_BY_KIND,
)

#: Format version written as ``version: 1`` (optional).
FORMAT_VERSION = 1

_ID = {"type": "string", "required": True, "empty": False, "regex": r"^\S+$"}
_REF = {"type": "string", "empty": False, "regex": r"^\S+$"}
_REFS = {"type": "list", "schema": _REF}
_STR = {"type": "string"}
_STRS = {"type": "list", "schema": {"type": "string", "empty": False}}
_BOOL = {"type": "boolean"}
_TIMESTAMP = {"type": ["string", "date", "datetime"], "check_with": "timestamp"}
# minutes as a number, or a duration string: 15m, 12h, 1d
_DURATION = {"type": ["integer", "string"], "check_with": "duration"}
_LABELS = {"type": "dict", "keysrules": {"type": "string"}, "valuesrules": {"type": "string"}}


def _timestamps(kind: str) -> dict[str, Any]:
    """The model's timestamp fields of ``kind`` (the file spells ``expires_at`` ``expires``)."""
    return {name: _TIMESTAMP for name in TIMESTAMP_FIELDS_BY_KIND[kind] if name != "expires_at"}


_SESSION = {
    "type": "dict",
    "schema": {"max_lifetime": _DURATION, "idle_timeout": _DURATION},
}

_MFA = {
    "type": "dict",
    "schema": {
        "methods": {"type": "list", "schema": {"type": "string", "allowed": list(MFA_METHODS)}},
        "enrolled": _BOOL,
    },
}

_ACCOUNT_FIELDS: dict[str, Any] = {
    "id": _ID,
    "name": _STR,
    "email": _STR,
    "employee_id": _STR,
    "enabled": _BOOL,
    "mfa": _MFA,
    "roles": _STRS,
    "groups": _REFS,
    "owner": _REF,
    "session": _SESSION,
    **_timestamps("account"),
    "password_never_expires": _BOOL,
    "description": _STR,
    "ticket": _STR,
    "labels": _LABELS,
}

ACCOUNT: dict[str, Any] = {
    **_ACCOUNT_FIELDS,
    "type": {"type": "string", "allowed": list(ACCOUNT_TYPES)},
}

#: Break-glass accounts are accounts whose type is fixed.
BREAK_GLASS: dict[str, Any] = dict(_ACCOUNT_FIELDS)

GROUP: dict[str, Any] = {
    "id": _ID,
    "name": _STR,
    "members": _REFS,
    "nested_groups": _REFS,
    "privileged": _BOOL,
    "roles": _STRS,
    "description": _STR,
    "labels": _LABELS,
}

ROLE_GRANT: dict[str, Any] = {
    "role": {"type": "string", "required": True, "empty": False},
    "accounts": _REFS,
    "groups": _REFS,
    "description": _STR,
    "ticket": _STR,
}

SESSION_POLICY: dict[str, Any] = {
    "id": _ID,
    "name": _STR,
    # group ids, or "everyone"
    "applies_to": {"type": ["list", "string"], "required": True, "schema": _REF},
    "max_lifetime": _DURATION,
    "idle_timeout": _DURATION,
    "mfa_required": _BOOL,
    "ip_locked": _BOOL,
    "persistent_cookie": _BOOL,
    "http_only": _BOOL,
    "priority": {"type": "integer", "min": 0},
    "enabled": _BOOL,
    "description": _STR,
}

INTEGRATION: dict[str, Any] = {
    "id": _ID,
    "name": _STR,
    "type": {"type": "string", "required": True, "allowed": list(INTEGRATION_TYPES)},
    "publisher": _STR,
    "scopes": _STRS,
    "owner": _REF,
    "admin_approved": _BOOL,
    "ip_restricted": _BOOL,
    "expires": _TIMESTAMP,
    "authorized_users": _REFS,
    **_timestamps("integration"),
    "refresh_token_policy": _STR,
    "high_assurance_required": _BOOL,
    "enabled": _BOOL,
    "installed": _BOOL,
    "description": _STR,
    "ticket": _STR,
    "labels": _LABELS,
}

CREDENTIAL: dict[str, Any] = {
    "id": _ID,
    "name": _STR,
    "type": {"type": "string", "required": True, "allowed": list(CREDENTIAL_TYPES)},
    "owner": _REF,
    "integration": _REF,
    "scopes": _STRS,
    **_timestamps("credential"),
    "expires": _TIMESTAMP,
    "enabled": _BOOL,
    "strength": {
        "type": "dict",
        "schema": {
            "bits": {"type": "integer", "min": 0},
            "algorithm": _STR,
            "digits": {"type": "integer", "min": 1},
            "period": {"type": "integer", "min": 1},
        },
    },
    "description": _STR,
    "ticket": _STR,
    "labels": _LABELS,
}


def _list_of(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "list", "schema": {"type": "dict", "schema": item}}


#: top-level key -> schema of one item
SECTIONS: dict[str, dict[str, Any]] = {
    "accounts": ACCOUNT,
    "break_glass": BREAK_GLASS,
    "groups": GROUP,
    "role_grants": ROLE_GRANT,
    "session_policies": SESSION_POLICY,
    "integrations": INTEGRATION,
    "credentials": CREDENTIAL,
}

#: the top level with lists unchecked inside (items are validated one by one)
TOP_LEVEL: dict[str, Any] = {
    "version": {"type": "integer", "allowed": [FORMAT_VERSION]},
    "privileged_roles": _STRS,
    **{key: {"type": "list", "nullable": True} for key in SECTIONS},
}

#: the whole document (for the schema walk behind "did you mean" hints)
DOCUMENT: dict[str, Any] = {
    "version": {"type": "integer", "allowed": [FORMAT_VERSION]},
    "privileged_roles": _STRS,
    **{key: _list_of(item) for key, item in SECTIONS.items()},
}


class AccessValidator(Validator):  # type: ignore[misc]
    """Cerberus validator with the two value checks the format needs."""

    def _check_with_timestamp(self, field: str, value: Any) -> None:
        from connectors.file._values import to_timestamp

        try:
            to_timestamp(value)
        except ValueError as exc:
            self._error(field, str(exc))

    def _check_with_duration(self, field: str, value: Any) -> None:
        from connectors.file._values import to_minutes

        try:
            to_minutes(value)
        except ValueError as exc:
            self._error(field, str(exc))
