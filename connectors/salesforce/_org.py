"""What was collected from one org, and the small helpers every mapper shares.

The rule throughout the mappers: a value the org did not give us is
*missing* (the key is left out), never ``False``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Org:
    """Everything collected from one org, keyed for the mappers."""

    users: list[dict[str, Any]] = field(default_factory=list)
    permission_sets: dict[str, dict[str, Any]] = field(default_factory=dict)
    assignments: list[dict[str, Any]] = field(default_factory=list)
    permission_set_groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    mfa: dict[str, dict[str, Any]] = field(default_factory=dict)
    logins: dict[str, dict[str, Any]] = field(default_factory=dict)
    apps: list[dict[str, Any]] = field(default_factory=list)
    menu_items: list[dict[str, Any]] = field(default_factory=list)
    tokens: list[dict[str, Any]] = field(default_factory=list)
    security_settings: dict[str, Any] | None = None
    connected_app_settings: dict[str, Any] | None = None
    app_metadata: list[dict[str, Any]] = field(default_factory=list)
    profile_metadata: list[dict[str, Any]] = field(default_factory=list)
    profile_sessions: list[dict[str, Any]] = field(default_factory=list)
    #: External Client Apps (Metadata): the apps, their admin policies, their OAuth settings
    ecas: list[dict[str, Any]] = field(default_factory=list)
    eca_policies: list[dict[str, Any]] = field(default_factory=list)
    eca_settings: list[dict[str, Any]] = field(default_factory=list)
    #: activity window rows (LoginHistory, AuthSession, Bulk API query jobs)
    login_history: list[dict[str, Any]] = field(default_factory=list)
    auth_sessions: list[dict[str, Any]] = field(default_factory=list)
    bulk_jobs: list[dict[str, Any]] = field(default_factory=list)
    setup_audit: list[dict[str, Any]] = field(default_factory=list)
    activity_days: int = 0
    #: objects read completely (SOQL object or ``md:<MetadataType>``)
    complete: set[str] = field(default_factory=set)
    #: gated PermissionSet fields this org does not have (INVALID_FIELD)
    unavailable_permissions: set[str] = field(default_factory=set)


def clean(value: Any) -> Any:
    """A record without the ``attributes`` envelopes, for ``raw``."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items() if k != "attributes"}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


def drop_none(resource: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if v is not None}


def bool_field(record: Mapping[str, Any], key: str) -> bool | None:
    value = record.get(key)
    return value if isinstance(value, bool) else None


def int_field(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def norm_name(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip().casefold()


def id15(value: Any) -> str:
    """Salesforce ids compare on their first 15 characters (18 adds a checksum)."""
    return str(value or "")[:15]
