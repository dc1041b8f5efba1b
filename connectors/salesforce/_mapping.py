"""Salesforce records -> normalised resources: the mappers, in one import.

Pure functions over what was collected (:class:`Org`); no I/O. Accounts are
in ``_accounts``, apps and tokens in ``_apps``, session settings and tenant
switches in ``_settings``.
"""

from connectors.salesforce._accounts import (
    MFA_FACTORS,
    MFA_FIELDS,
    PHISHING_RESISTANT,
    Grant,
    account_type,
    granted_permissions,
    map_accounts,
    map_mfa,
    user_grants,
)
from connectors.salesforce._apps import (
    REFRESH_POLICIES,
    ip_restricted,
    map_integrations_and_credentials,
    normalise_scopes,
    refresh_policy,
)
from connectors.salesforce._org import Org, clean
from connectors.salesforce._settings import (
    SESSION_TIMEOUTS,
    STANDARD_PROFILE_LABELS,
    map_profile_session_policies,
    map_session_policies,
    map_settings,
    profile_label,
)

__all__ = [
    "MFA_FACTORS",
    "MFA_FIELDS",
    "PHISHING_RESISTANT",
    "REFRESH_POLICIES",
    "SESSION_TIMEOUTS",
    "STANDARD_PROFILE_LABELS",
    "Grant",
    "Org",
    "account_type",
    "clean",
    "granted_permissions",
    "ip_restricted",
    "map_accounts",
    "map_integrations_and_credentials",
    "map_mfa",
    "map_profile_session_policies",
    "map_session_policies",
    "map_settings",
    "normalise_scopes",
    "profile_label",
    "refresh_policy",
    "user_grants",
]
