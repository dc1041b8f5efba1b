"""GitHub objects -> normalised resources. Pure functions, no I/O.

Choices (see docs/connectors/github.md):

- accounts are keyed by the numeric user id (a login can be renamed); ``name`` is the
  login. An org owner (role ``admin``) is ``privileged``. ``roles`` is ``owner``,
  ``member`` or ``outside_collaborator``.
- 2FA is known only to an owner (``filter=2fa_disabled``): ``mfa.enrolled`` is set when
  that listing was read and left out otherwise (missing, never ``false``). GitHub never
  says which 2FA method: ``mfa.methods_reported`` is false, and ``mfa.methods`` is set
  (empty) only for an account whose 2FA is off.
- ``email`` is the SAML NameID, else a verified-domain address (both from GraphQL), else
  the public profile email; ``raw.email_source`` names which.
- fine-grained permissions become scopes ``PERMISSION:LEVEL`` (``contents:write``);
  deploy keys get ``write`` or ``read``; App permissions the same as PATs.
- secrets are never read: the API has no value to give, and ``token_last_eight`` of a
  credential authorization is dropped from ``raw``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from policyengine.connector.account_types import AccountFacts, TypeRules
from policyengine.model.timestamps import to_timestamp

#: org-settings keys of ``GET /orgs/{org}`` kept as ``setting`` resources; 2FA uses the
#: cross-connector name the MFA-enforcement policy matches
SETTINGS: dict[str, tuple[str, str]] = {
    "two_factor_requirement_enabled": ("mfa_for_all_users", "authentication"),
    "default_repository_permission": ("default_repository_permission", "repositories"),
    "members_can_create_public_repositories": (
        "members_can_create_public_repositories",
        "repositories",
    ),
    "web_commit_signoff_required": ("web_commit_signoff_required", "repositories"),
}
WRITE_LEVELS = frozenset({"write", "admin"})


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    if value is not None and value != "":
        out[key] = value


def settings(org: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The org settings the answer carried (GitHub shows them to owners only)."""
    out = []
    for key, (name, category) in SETTINGS.items():
        if org.get(key) is None:
            continue
        out.append(
            {
                "kind": "setting",
                "id": f"org:{key}",
                "name": name,
                "category": category,
                "value": org[key],
                "raw": {"github_key": key, "org": org.get("login")},
            }
        )
    return out


def owner_count(count: int, org: str) -> dict[str, Any]:
    """How many owners the org has, as a setting (a policy bounds it from both sides)."""
    return {
        "kind": "setting",
        "id": "org:owner_count",
        "name": "owner_count",
        "category": "people",
        "value": count,
        "raw": {"org": org},
    }


@dataclass(frozen=True)
class OrgEmails:
    """What the org sees of a member's addresses (GraphQL only)."""

    verified_domain: list[str]
    saml_name_id: str | None


def correlation_email(
    public: object, org_emails: OrgEmails | None
) -> tuple[str | None, str | None]:
    """(email, where it came from): SAML NameID, a verified-domain address, the profile.

    The NameID is what the IdP (the directory) asserted at SSO; a verified-domain address
    is one GitHub proved to be in the org's domain; the public profile email is whatever
    the user typed, shown only when they chose to.
    """
    if org_emails is not None:
        if org_emails.saml_name_id and "@" in org_emails.saml_name_id:
            return org_emails.saml_name_id, "saml_name_id"
        if org_emails.verified_domain:
            return org_emails.verified_domain[0], "verified_domain"
    if isinstance(public, str) and public:
        return public, "public_profile"
    return None, None


def account(
    user: Mapping[str, Any],
    *,
    role: str,
    types: TypeRules,
    two_factor: bool | None,
    teams: list[str],
    org_emails: OrgEmails | None = None,
    insecure_2fa: bool = False,
) -> dict[str, Any]:
    login = str(user["login"])
    out: dict[str, Any] = {
        "kind": "account",
        "id": str(user["id"]),
        "name": login,
        "type": "service" if user.get("type") == "Bot" else types.infer(AccountFacts(login)),
        "enabled": True,  # GitHub lists only current members; a suspended one is not listed
        "roles": [role],
        "privileged": role == "owner",
        "groups": teams,
        "raw": {"login": login, "site_admin": user.get("site_admin"), "affiliation": role},
    }
    if role == "owner":
        out["privileged_via"] = ["organization owner"]
    # GitHub tells whether 2FA is on (to an owner) but never which method: the method
    # policies must read "not reported", not "no strong method"
    out["mfa"] = {"methods_reported": False}
    if two_factor is not None:
        out["mfa"]["enrolled"] = two_factor
        if not two_factor:
            out["mfa"]["methods"] = []  # 2FA off: no method at all, known
        elif insecure_2fa:
            # filter=2fa_insecure: an insecure method is configured; SMS is the one GitHub
            # offers (the others are passkeys, security keys, TOTP apps, GitHub Mobile).
            # Only the weak method is known, so methods_reported stays false
            out["mfa"]["methods"] = ["sms"]
    email, email_source = correlation_email(user.get("email"), org_emails)
    _put(out, "email", email)
    _put(out["raw"], "email_source", email_source)
    if org_emails is not None:
        _put(out["raw"], "verified_domain_emails", org_emails.verified_domain or None)
        _put(out["raw"], "saml_name_id", org_emails.saml_name_id)
    _put(out, "display_name", user.get("name"))
    return out


def team(team: Mapping[str, Any], member_ids: list[str]) -> dict[str, Any]:
    return {
        "kind": "group",
        "id": f"team:{team['id']}",
        "name": str(team["slug"]),
        "members": member_ids,
        "raw": {"name": team.get("name"), "privacy": team.get("privacy")},
    }


def permission_scopes(permissions: Mapping[str, Any] | None) -> list[str]:
    """``{"contents": "write"}`` or ``{"repository": {"contents": "write"}}`` -> scopes."""
    scopes: set[str] = set()
    for key, value in (permissions or {}).items():
        if isinstance(value, Mapping):
            scopes.update(permission_scopes(value))
        elif isinstance(value, str):
            scopes.add(f"{key}:{value}")
    return sorted(scopes)


def has_write(scopes: Iterable[str]) -> bool:
    return any(s.rsplit(":", 1)[-1] in WRITE_LEVELS for s in scopes)


def fine_grained_token(
    grant: Mapping[str, Any], *, pending: bool, owner_id: str | None
) -> dict[str, Any]:
    scopes = permission_scopes(grant.get("permissions"))
    kind = "request" if pending else "grant"
    out: dict[str, Any] = {
        "kind": "credential",
        "id": f"fine_grained_pat:{kind}:{grant['id']}",
        "name": str(grant.get("token_name") or grant.get("token_id")),
        "type": "personal_access_token",
        "scopes": scopes,
        "enabled": not pending and not grant.get("token_expired"),
        "raw": {
            "fine_grained": True,
            "status": "pending" if pending else "approved",
            "repository_selection": grant.get("repository_selection"),
            "token_id": grant.get("token_id"),
            "owner_login": (grant.get("owner") or {}).get("login"),
            "has_write": has_write(scopes),
            "reason": grant.get("reason"),
            "never_expires": grant.get("token_expires_at") is None,
        },
    }
    _put(out, "owner", owner_id)
    _put(out, "created_at", to_timestamp(grant.get("access_granted_at") or grant.get("created_at")))
    _put(out, "expires_at", to_timestamp(grant.get("token_expires_at")))
    _put(out, "last_used_at", to_timestamp(grant.get("token_last_used_at")))
    return out


def credential_authorization(auth: Mapping[str, Any], owner_id: str | None) -> dict[str, Any]:
    """A SAML SSO authorisation: a classic PAT or an SSH key (never the token)."""
    kind = str(auth.get("credential_type"))
    is_key = kind == "SSH key"
    title = auth.get("authorized_credential_title") or auth.get("authorized_credential_note")
    out: dict[str, Any] = {
        "kind": "credential",
        "id": f"sso_credential:{auth['credential_id']}",
        "name": str(title or f"{auth.get('login')} {kind} {auth['credential_id']}"),
        "type": "ssh_key" if is_key else "personal_access_token",
        "enabled": True,
        "raw": {
            "classic": not is_key,
            "credential_type": kind,
            "owner_login": auth.get("login"),
            "never_expires": auth.get("authorized_credential_expires_at") is None,
        },
    }
    if not is_key:
        out["scopes"] = sorted(str(s) for s in auth.get("scopes") or [])
    _put(out, "owner", owner_id)
    _put(out, "fingerprint", auth.get("fingerprint"))
    _put(out, "created_at", to_timestamp(auth.get("credential_authorized_at")))
    _put(out, "last_used_at", to_timestamp(auth.get("credential_accessed_at")))
    _put(out, "expires_at", to_timestamp(auth.get("authorized_credential_expires_at")))
    return out


def deploy_key(key: Mapping[str, Any], repo: str, owner_id: str | None) -> dict[str, Any]:
    read_only = bool(key.get("read_only"))
    out: dict[str, Any] = {
        "kind": "credential",
        "id": f"deploy_key:{key['id']}",
        "name": f"{repo}: {key.get('title')}",
        "type": "deploy_key",
        "scopes": ["read"] if read_only else ["write"],
        "enabled": key.get("enabled", True) is not False,
        "raw": {"repository": repo, "read_only": read_only, "added_by": key.get("added_by")},
    }
    _put(out, "owner", owner_id)
    _put(out, "created_at", to_timestamp(key.get("created_at")))
    _put(out, "last_used_at", to_timestamp(key.get("last_used")))
    return out


def installation(
    inst: Mapping[str, Any], owner: Mapping[str, Any] | None, *, org: str
) -> dict[str, Any]:
    """An App installation; ``owner`` is the App's (``GET /apps/{slug}``): its publisher."""
    scopes = permission_scopes(inst.get("permissions"))
    suspended = inst.get("suspended_at") is not None
    out: dict[str, Any] = {
        "kind": "integration",
        "id": f"installation:{inst['id']}",
        "name": str(inst.get("app_slug") or inst.get("app_id")),
        "type": "github_app",
        "scopes": scopes,
        "installed": True,
        "enabled": not suspended,
        "raw": {
            "app_id": inst.get("app_id"),
            "repository_selection": inst.get("repository_selection"),
            "all_repositories": inst.get("repository_selection") == "all",
            "has_write": has_write(scopes),
            "suspended_at": inst.get("suspended_at"),
        },
    }
    _put(out, "created_at", to_timestamp(inst.get("created_at")))
    if owner is not None and owner.get("login"):
        out["publisher"] = str(owner["login"])
        out["raw"]["publisher_type"] = owner.get("type")
        # an App the org itself owns is its own code, not a third party's
        out["raw"]["publisher_is_org"] = str(owner["login"]).lower() == org.lower()
    return out


def actions_secret(secret: Mapping[str, Any], repo: str | None) -> dict[str, Any]:
    """Metadata only: GitHub never returns a secret's value."""
    scope = f"repo:{repo}" if repo else "org"
    out: dict[str, Any] = {
        "kind": "credential",
        "id": f"actions_secret:{scope}:{secret['name']}",
        "name": f"{repo}/{secret['name']}" if repo else str(secret["name"]),
        "type": "ci_secret",
        "enabled": True,
        "raw": {
            "store": "github_actions",
            "secret_name": secret["name"],
            "repository": repo,
            "visibility": secret.get("visibility"),
        },
    }
    _put(out, "created_at", to_timestamp(secret.get("created_at")))
    _put(out, "last_rotated_at", to_timestamp(secret.get("updated_at")))
    return out
