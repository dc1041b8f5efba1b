"""OAuth/OIDC and federated (SAML, WS-Fed) apps, their grants, secrets and assignees.

``GET /api/v1/apps`` (Link paging) lists every app. ``OPENID_CONNECT`` apps
become ``integration`` type ``oauth_client``; ``SAML_2_0``, ``SAML_1_1`` and
``WS_FEDERATION`` apps become type ``sso_app`` with the users assigned to them
(``/api/v1/apps/{id}/users``, Link paging, ``scope`` USER or GROUP) as
``authorized_users``. Password-vault and bookmark modes (SWA, BASIC_AUTH,
BOOKMARK, ...) hold no federation trust or OAuth grant and are counted in the
log. For each
OIDC app, ``/api/v1/apps/{id}/grants`` gives the Okta API scopes an admin
granted it (``scopeId``, ``source``) and, when it authenticates with a client
secret, ``/api/v1/apps/{id}/credentials/secrets`` gives the secrets'
metadata (``id``, ``status``, ``created``). Secret values are never kept:
neither the listing's masked ``client_secret`` nor ``secret_hash``, nor the
app's ``credentials.oauthClient.client_secret``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.http import HttpClient, link_pages, map_bounded
from connectors.okta._mapping import timestamp
from connectors.okta._syslog import LogFacts
from connectors.okta._tokens import collect_refresh_tokens
from policyengine.connector.contract import SnapshotSink
from policyengine.errors import ConnectorError
from policyengine.log import get_logger

log = get_logger("policyengine.okta")

#: token_endpoint_auth_method values that mean a shared secret
SECRET_METHODS = frozenset({"client_secret_basic", "client_secret_post", "client_secret_jwt"})
#: sign-on modes whose apps trust Okta's assertions (Okta ApplicationSignOnMode)
FEDERATED_MODES = frozenset({"SAML_2_0", "SAML_1_1", "WS_FEDERATION"})
#: app-user statuses that cannot use the app (Okta AppUserStatus)
_NOT_ASSIGNED = frozenset({"DEPROVISIONED", "INACTIVE", "REVOKED", "UNASSIGNED", "SUSPENDED"})
#: never copied into ``raw``
_SECRET_KEYS = frozenset({"client_secret", "secret_hash"})


def collect_apps(
    client: HttpClient,
    writer: SnapshotSink,
    *,
    workers: int,
    user_grants: bool = False,
    refresh_tokens: bool = False,
    log_facts: LogFacts | None = None,
) -> None:
    """Write one integration per OIDC app and one credential per client secret.

    With ``user_grants``, each active user's consents (``/api/v1/users/{id}/grants``,
    ``source`` END_USER) name the app's ``authorized_users``; without, they stay
    missing (not "nobody"). With ``refresh_tokens``, each active user's refresh
    tokens become ``oauth_token`` credentials (see ``_tokens``).
    """
    oidc: list[dict[str, Any]] = []
    federated: list[dict[str, Any]] = []
    skipped = 0
    for page in link_pages(client, "/api/v1/apps", params={"limit": 200}):
        for app in page:
            if not isinstance(app, dict) or "id" not in app:
                continue
            if app.get("signOnMode") == "OPENID_CONNECT":
                oidc.append(app)
            elif app.get("signOnMode") in FEDERATED_MODES:
                federated.append(app)
            else:
                skipped += 1
    log.info("okta.apps", oidc=len(oidc), federated=len(federated), other_sign_on_modes=skipped)

    def assignees(app: dict[str, Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for page in link_pages(client, f"/api/v1/apps/{app['id']}/users", params={"limit": 500}):
            out.extend(u for u in page if isinstance(u, dict) and "id" in u)
        return out

    def with_log(resource: dict[str, Any]) -> dict[str, Any]:
        if log_facts is not None:
            resource.update(log_facts.app_facts(resource["id"]))
        return resource

    for app, app_users in map_bounded(assignees, federated, workers=workers, ordered=True):
        writer.add(with_log(sso_integration(app, app_users)))

    def details(app: dict[str, Any]) -> tuple[Any, Any]:
        grants = client.get_json(f"/api/v1/apps/{app['id']}/grants")
        secrets = None
        if auth_method(app) in SECRET_METHODS:
            secrets = client.get_json(f"/api/v1/apps/{app['id']}/credentials/secrets")
        return grants, secrets

    users = _active_users(client) if user_grants or refresh_tokens else []
    consents = _user_consents(client, users, workers) if user_grants else None
    for app, (grants, secrets) in map_bounded(details, oidc, workers=workers, ordered=True):
        if not isinstance(grants, list) or (secrets is not None and not isinstance(secrets, list)):
            raise ConnectorError(f"GET /api/v1/apps/{app['id']}/...: expected JSON arrays")
        resource = integration(app, grants)
        if consents is not None:
            mine = consents.get(_client_id(app), {})
            resource["authorized_users"] = sorted(mine)
            resource["raw"]["user_consented_scopes"] = sorted(set().union(*mine.values()))
        writer.add(with_log(resource))
        for secret in secrets or []:
            if isinstance(secret, dict) and "id" in secret:
                writer.add(client_secret(app, secret))
    if refresh_tokens:
        by_client_id = {_client_id(app): str(app["id"]) for app in oidc}
        collect_refresh_tokens(client, writer, users, by_client_id, workers=workers)


def _active_users(client: HttpClient) -> list[str]:
    """Ids of ACTIVE users: only they hold usable consents and refresh tokens."""
    return [
        str(u["id"])
        for page in link_pages(client, "/api/v1/users", params={"limit": 200})
        for u in page
        if isinstance(u, dict) and u.get("status") == "ACTIVE" and "id" in u
    ]


def _user_consents(
    client: HttpClient, users: list[str], workers: int
) -> dict[str, dict[str, set[str]]]:
    """client id -> user id -> scopes the user consented to (ACTIVE END_USER grants)."""

    def grants_of(uid: str) -> Any:
        return client.get_json(f"/api/v1/users/{uid}/grants")

    out: dict[str, dict[str, set[str]]] = {}
    for uid, grants in map_bounded(grants_of, users, workers=workers):
        if not isinstance(grants, list):
            raise ConnectorError(f"GET /api/v1/users/{uid}/grants: expected a JSON array")
        for grant in grants:
            if (
                isinstance(grant, dict)
                and grant.get("status") == "ACTIVE"
                and grant.get("source") == "END_USER"
                and grant.get("clientId")
            ):
                scopes = out.setdefault(str(grant["clientId"]), {}).setdefault(uid, set())
                scopes.add(str(grant.get("scopeId") or ""))
    log.info("okta.user_grants", users=len(users), clients=len(out))
    return out


def _client_id(app: Mapping[str, Any]) -> str:
    oauth = ((app.get("credentials") or {}).get("oauthClient")) or {}
    return str(oauth.get("client_id") or app["id"])


def auth_method(app: Mapping[str, Any]) -> str | None:
    oauth = ((app.get("credentials") or {}).get("oauthClient")) or {}
    method = oauth.get("token_endpoint_auth_method")
    return method if isinstance(method, str) else None


def integration(app: Mapping[str, Any], grants: list[Any]) -> dict[str, Any]:
    """An OIDC app; ``scopes`` are the Okta API scopes granted to it (ACTIVE grants)."""
    settings = ((app.get("settings") or {}).get("oauthClient")) or {}
    active = [g for g in grants if isinstance(g, dict) and g.get("status") == "ACTIVE"]
    out: dict[str, Any] = {
        "kind": "integration",
        "id": str(app["id"]),
        "name": str(app.get("label") or app.get("name") or app["id"]),
        "type": "oauth_client",
        "enabled": app.get("status") == "ACTIVE",
        "scopes": sorted({str(g["scopeId"]) for g in active if g.get("scopeId")}),
        # An Okta-scope grant is an admin's act: a grant by an end user is not.
        "admin_approved": all(g.get("source") == "ADMIN" for g in active) if active else None,
        "auth_method": auth_method(app),
        "app_type": settings.get("application_type"),
        "created_at": timestamp(app.get("created")),
        "raw": {
            "signOnMode": app.get("signOnMode"),
            "name": app.get("name"),
            "status": app.get("status"),
            "grant_types": settings.get("grant_types"),
            "consent_method": settings.get("consent_method"),
            "grants": [_without_secrets(g) for g in active],
        },
    }
    return {k: v for k, v in out.items() if v is not None}


def sso_integration(app: Mapping[str, Any], app_users: list[dict[str, Any]]) -> dict[str, Any]:
    """A SAML / WS-Fed app; ``authorized_users`` are the users assigned to it (directly or
    through a group) whose app-user status still lets them sign in."""
    assigned = [u for u in app_users if u.get("status") not in _NOT_ASSIGNED]
    out: dict[str, Any] = {
        "kind": "integration",
        "id": str(app["id"]),
        "name": str(app.get("label") or app.get("name") or app["id"]),
        "type": "sso_app",
        "enabled": app.get("status") == "ACTIVE",
        "authorized_users": sorted({str(u["id"]) for u in assigned}),
        "created_at": timestamp(app.get("created")),
        "raw": {
            "signOnMode": app.get("signOnMode"),
            "name": app.get("name"),
            "status": app.get("status"),
            "lastUpdated": app.get("lastUpdated"),
            "assigned_directly": sum(1 for u in assigned if u.get("scope") == "USER"),
            "assigned_by_group": sum(1 for u in assigned if u.get("scope") == "GROUP"),
        },
    }
    return {k: v for k, v in out.items() if v is not None}


def client_secret(app: Mapping[str, Any], secret: Mapping[str, Any]) -> dict[str, Any]:
    """A client secret's metadata; an Okta secret never changes, so created is its rotation."""
    created = timestamp(secret.get("created"))
    out: dict[str, Any] = {
        "kind": "credential",
        "id": f"okta_client_secret:{app['id']}:{secret['id']}",
        "name": f"{app.get('label') or app['id']} client secret {secret['id']}",
        "type": "client_secret",
        "integration": str(app["id"]),
        "enabled": secret.get("status") == "ACTIVE",
        "created_at": created,
        "last_rotated_at": created,
        "raw": _without_secrets(secret),
    }
    return {k: v for k, v in out.items() if v is not None}


def _without_secrets(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in _SECRET_KEYS and k != "_links"}
