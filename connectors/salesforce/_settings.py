"""Session settings and tenant switches -> ``session_policy`` and ``setting`` resources."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import unquote

from connectors.salesforce._org import Org, bool_field, drop_none, int_field

#: Org SessionTimeout literals (Metadata API enum) -> minutes.
SESSION_TIMEOUTS: dict[str, int] = {
    "FifteenMinutes": 15,
    "ThirtyMinutes": 30,
    "SixtyMinutes": 60,
    "NinetyMinutes": 90,
    "TwoHours": 120,
    "FourHours": 240,
    "EightHours": 480,
    "TwelveHours": 720,
    "TwentyFourHours": 1440,
}


#: Metadata API full names of standard profiles -> the label users see (User.Profile.Name).
#: Custom profiles use their URL-encoded label as full name ("Custom%3A Admin").
STANDARD_PROFILE_LABELS: dict[str, str] = {
    "Admin": "System Administrator",
    "Standard": "Standard User",
    "ReadOnly": "Read Only",
    "SolutionManager": "Solution Manager",
    "MarketingProfile": "Marketing User",
    "ContractManager": "Contract Manager",
    "StandardAul": "Standard Platform User",
}


def profile_label(full_name: str) -> str:
    """``Admin`` -> ``System Administrator``; ``Custom%3A Sales`` -> ``Custom: Sales``."""
    return STANDARD_PROFILE_LABELS.get(full_name, unquote(full_name))


def _org_session(org: Org) -> dict[str, Any]:
    return dict((org.security_settings or {}).get("sessionSettings") or {})


def _org_session_fields(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The org-wide session switches; profile settings inherit them."""
    return {
        "ip_locked": bool_field(settings, "lockSessionsToIp"),
        "http_only": bool_field(settings, "requireHttpOnly"),
        "force_logout_on_timeout": bool_field(settings, "forceLogoutOnSessionTimeout"),
        "enforce_ip_ranges_every_request": bool_field(settings, "enforceIpRangesEveryRequest"),
        "lock_sessions_to_domain": bool_field(settings, "lockSessionsToDomain"),
    }


def map_session_policies(org: Org) -> Iterator[dict[str, Any]]:
    """The org's session settings as one ``session_policy`` applying to everyone."""
    if org.security_settings is None:
        return
    settings = _org_session(org)
    yield drop_none(
        {
            "kind": "session_policy",
            "id": "org:session_settings",
            "name": "Org session settings",
            "type": "org",
            "applies_to": ["everyone"],
            "idle_timeout_minutes": SESSION_TIMEOUTS.get(str(settings.get("sessionTimeout"))),
            **_org_session_fields(settings),
            "raw": {"sessionSettings": settings},
        }
    )


def map_profile_session_policies(org: Org) -> Iterator[dict[str, Any]]:
    """One effective ``session_policy`` per ProfileSessionSetting.

    The profile's timeout, session level and forced logout override the org's;
    everything else (HttpOnly, IP lock, ...) is inherited from the org
    settings, so each policy describes what that profile's users really get.
    """
    inherited = _org_session_fields(_org_session(org))
    for setting in org.profile_sessions:
        profile = profile_label(str(setting.get("profile") or setting.get("fullName") or ""))
        if not profile:
            continue
        level = setting.get("requiredSessionLevel")
        force_logout = bool_field(setting, "forceLogout")
        yield drop_none(
            {
                "kind": "session_policy",
                "id": f"profile:{profile}",
                "name": f"Profile session settings: {profile}",
                "type": "profile",
                "applies_to": [profile],
                "idle_timeout_minutes": int_field(setting.get("sessionTimeout")),
                # A High Assurance session needs MFA at login; STANDARD says nothing
                # either way (org-wide MFA may still apply), so it stays missing.
                "mfa_required": True if level == "HIGH_ASSURANCE" else None,
                "required_session_level": level if isinstance(level, str) else None,
                **inherited,
                "force_logout_on_timeout": (
                    force_logout
                    if force_logout is not None
                    else inherited["force_logout_on_timeout"]
                ),
                "raw": setting,
            }
        )


def _setting(setting_id: str, category: str, value: Any, raw: Mapping[str, Any]) -> dict[str, Any]:
    """A ``setting``; a None value is left out (missing: inconclusive, never a pass)."""
    return drop_none(
        {
            "kind": "setting",
            "id": setting_id,
            "name": setting_id.split(":", 1)[0],
            "category": category,
            "value": value,
            "raw": dict(raw),
        }
    )


def map_settings(org: Org) -> Iterator[dict[str, Any]]:
    """Tenant switches: API Access Control, org-wide MFA, Login-As, MFA registration,
    trusted IP ranges and each profile's login IP ranges."""
    cas = org.connected_app_settings
    yield _setting(
        "api_access_control",
        "connected_apps",
        bool_field(cas, "enableAdminApprovedAppsOnly") if cas else None,
        cas or {"note": "ConnectedAppSettings could not be read"},
    )
    # No documented API exposes the org-wide "Require MFA for all direct UI
    # logins" switch (catalogue D.3): the setting is reported as missing so a
    # policy on it is inconclusive, never a pass.
    yield _setting(
        "mfa_for_all_users",
        "mfa",
        None,
        {"note": "not exposed by a documented Salesforce API; check Setup manually"},
    )
    security = org.security_settings
    session = _org_session(org)
    unread = {"note": "SecuritySettings could not be read"}
    yield _setting(
        "mfa_registration_verified",
        "mfa",
        bool_field(session, "identityConfirmationOnTwoFactorRegistrationEnabled"),
        {
            "sessionSettings.identityConfirmationOnTwoFactorRegistrationEnabled": session.get(
                "identityConfirmationOnTwoFactorRegistrationEnabled"
            )
        }
        if security is not None
        else unread,
    )
    yield _setting(
        "admin_login_as_any_user",
        "privileged",
        bool_field(security, "enableAdminLoginAsAnyUser") if security is not None else None,
        {"enableAdminLoginAsAnyUser": security.get("enableAdminLoginAsAnyUser")}
        if security is not None
        else unread,
    )
    if security is not None:
        network = security.get("networkAccess") or {}
        yield _setting(
            "trusted_ip_ranges",
            "network",
            network.get("ipRanges") or [],
            {"networkAccess": security.get("networkAccess")},
        )
    for profile in org.profile_metadata:
        # Metadata full names are URL-encoded ("Custom%3A Admin Clone").
        full_name = str(profile.get("fullName") or "")
        ranges = profile.get("loginIpRanges") or []
        yield _setting(
            f"login_ip_ranges:{unquote(full_name)}",
            "profile",
            ranges,
            {"profile": profile_label(full_name), "full_name": full_name, "loginIpRanges": ranges},
        )
