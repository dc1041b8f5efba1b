"""Users' OAuth refresh tokens as credentials (metadata only: Okta never returns values).

For each user: ``GET /api/v1/users/{id}/clients`` names the OAuth clients the user
holds grants or tokens for; ``GET /api/v1/users/{id}/clients/{clientId}/tokens``
(Link paging, ``limit`` at most 200) lists the refresh tokens issued to that client
for that user (``id``, ``status``, ``created``, ``expiresAt``, ``scopes``,
``issuer``). Okta reports no last-use time for a refresh token, so
``last_used_at`` stays missing. Two calls or more per user: opt-in.

A user whose listing fails (a 5xx after retries, a 404 for a user deleted since the
listing) is counted and named in one ``writer.fail`` line; the other users' tokens
are still written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.http import HttpClient, link_pages, map_bounded
from connectors.okta._mapping import timestamp
from policyengine.connector.contract import SnapshotSink
from policyengine.errors import AuthenticationError, ConnectorError
from policyengine.log import get_logger

log = get_logger("policyengine.okta")

#: refresh tokens per page (Okta's documented maximum)
PAGE = 200


def collect_refresh_tokens(
    client: HttpClient,
    writer: SnapshotSink,
    users: list[str],
    apps_by_client_id: Mapping[str, str],
    *,
    workers: int,
) -> None:
    """Write one ``oauth_token`` credential per refresh token of each user in ``users``."""

    def tokens_of(uid: str) -> list[dict[str, Any]] | str:
        try:
            clients = client.get_json(f"/api/v1/users/{uid}/clients")
            if not isinstance(clients, list):
                raise ConnectorError(f"GET /api/v1/users/{uid}/clients: expected a JSON array")
            out: list[dict[str, Any]] = []
            for oauth_client in clients:
                cid = oauth_client.get("client_id") if isinstance(oauth_client, dict) else None
                if not cid:
                    continue
                path = f"/api/v1/users/{uid}/clients/{cid}/tokens"
                for page in link_pages(client, path, params={"limit": PAGE}):
                    out.extend(
                        dict(t, client_name=oauth_client.get("client_name"))
                        for t in page
                        if isinstance(t, dict) and "id" in t
                    )
            return out
        except AuthenticationError:
            raise
        except ConnectorError as exc:
            return exc.message

    failed: list[str] = []
    first_error = ""
    written = 0
    for uid, result in map_bounded(tokens_of, users, workers=workers, ordered=True):
        if isinstance(result, str):
            failed.append(uid)
            first_error = first_error or result
            continue
        for token in result:
            writer.add(refresh_token(uid, token, apps_by_client_id))
            written += 1
    log.info("okta.refresh_tokens", users=len(users), tokens=written, failed=len(failed))
    if failed:
        writer.fail(
            f"okta: refresh tokens of {len(failed)} users not collected "
            f"(e.g. {', '.join(failed[:5])}): {first_error}"
        )


def refresh_token(
    uid: str, token: Mapping[str, Any], apps_by_client_id: Mapping[str, str]
) -> dict[str, Any]:
    """One refresh token: whose (``owner``), for which app (``integration``), what scopes."""
    client_id = str(token.get("clientId") or "")
    app = apps_by_client_id.get(client_id)
    label = token.get("client_name") or client_id
    out: dict[str, Any] = {
        "kind": "credential",
        "id": f"okta_refresh_token:{token['id']}",
        "name": f"{label} refresh token of {uid}",
        "type": "oauth_token",
        "owner": str(token.get("userId") or uid),
        "integration": app,
        "enabled": token.get("status") == "ACTIVE",
        "scopes": sorted(str(s) for s in token.get("scopes") or ()),
        "created_at": timestamp(token.get("created")),
        "expires_at": timestamp(token.get("expiresAt")),
        "raw": {
            "id": token.get("id"),
            "status": token.get("status"),
            "clientId": client_id,
            "issuer": token.get("issuer"),
            "lastUpdated": token.get("lastUpdated"),
        },
    }
    return {k: v for k, v in out.items() if v is not None}
