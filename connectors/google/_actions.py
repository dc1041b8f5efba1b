"""Google Workspace remediation: revoke a user's OAuth grant to an app.

``revoke_oauth_token``: ``DELETE /admin/directory/v1/users/{userKey}/tokens/{clientId}``
(Directory ``tokens.delete``: every token the user issued to that client), re-read live
with ``tokens.get`` first (404: already gone). On a finding about an ``oauth_client``
integration it revokes the grant of every user holding one; on an ``oauth_token``
credential, that grant. The write session (:class:`GoogleSession`) is a service account
with domain-wide delegation of ``admin.directory.user.security`` acting as the
``remediation:`` mapping's ``subject``; the collecting delegation is not used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from connectors.google._options import GoogleOptions, parse_options
from policyengine.errors import ConnectorError
from policyengine.remediate.contract import (
    Action,
    ActionSpec,
    Facts,
    Outcome,
    Record,
    ResourceLookup,
    Target,
    facts_match,
)

if TYPE_CHECKING:
    from connectors.http import HttpClient  # typing only: the client is imported lazily

#: tokens.get / tokens.delete accept only this scope (Directory API discovery document)
SECURITY_SCOPE = "https://www.googleapis.com/auth/admin.directory.user.security"


class GoogleSession:
    """A delegated Directory API client with the remediation service account."""

    def __init__(self, options: GoogleOptions, *, instance: str) -> None:
        from connectors.google._auth import delegated_auth, load_key_file
        from connectors.google._connector import GoogleConnector

        self.options = options
        self.instance = instance
        info = load_key_file(options.service_account_file)
        self._client_email = str(info.get("client_email") or "")
        connector = GoogleConnector(options, instance=instance)
        self._token_http = connector._client(info["token_uri"], None)
        auth = delegated_auth(info, options.subject, (SECURITY_SCOPE,), self._token_http)
        self.http: HttpClient = connector._client(options.directory_url, auth)
        auth.header()  # a refused delegation fails here, before any step

    @classmethod
    def open(cls, options: Mapping[str, Any], *, instance: str) -> GoogleSession:
        return cls(parse_options(options), instance=instance)

    def protected_identities(self) -> frozenset[str]:
        return frozenset(n for n in (self.options.subject, self._client_email) if n)

    def close(self) -> None:
        self.http.close()
        self._token_http.close()

    def token_path(self, user: str, client_id: str) -> str:
        return (
            f"{self.options.directory_url}/admin/directory/v1/users/{quote(user, safe='@')}"
            f"/tokens/{quote(client_id, safe='')}"
        )

    def get_token(self, user: str, client_id: str) -> dict[str, Any] | None:
        body = self.http.get_json_or_none(self.token_path(user, client_id))
        return body if isinstance(body, dict) else None

    def delete_token(self, user: str, client_id: str) -> bool:
        """False when Google answers 404 (nothing to revoke)."""
        return self.http.send("DELETE", self.token_path(user, client_id), missing_ok=True)


def _session(session: Any) -> GoogleSession:
    if not isinstance(session, GoogleSession):
        raise ConnectorError("a Google action needs a Google session")
    return session


class RevokeOAuthToken:
    spec = ActionSpec(
        name="revoke_oauth_token",
        summary="revoke the user's OAuth grant to the app (every token issued to that client)",
        kinds=frozenset({"integration", "credential"}),
        target_kind="credential",
        reversible=False,
        undo="not reversible: the user grants the app again if it is still wanted (and allowed)",
        permissions=(
            "a service account with domain-wide delegation of "
            "https://www.googleapis.com/auth/admin.directory.user.security, acting as an admin "
            "with the Users > Security settings privilege (Manage user security)"
        ),
    )

    def targets(
        self, resource: Record, lookup: ResourceLookup, params: Mapping[str, Any]
    ) -> Sequence[Target]:
        if resource.get("kind") == "credential":
            tokens = [resource] if resource.get("type") == "oauth_token" else []
        else:
            tokens = [
                c
                for c in lookup.all("credential")
                if c.get("type") == "oauth_token" and c.get("integration") == resource.get("id")
            ]
        out = []
        for token in sorted(tokens, key=lambda t: str(t.get("id"))):
            owner, client = token.get("owner"), token.get("integration")
            if not isinstance(owner, str) or not isinstance(client, str):
                continue
            out.append(
                Target(
                    kind="credential",
                    id=str(token["id"]),
                    name=str(token.get("name") or token["id"]),
                    facts={"user": owner, "client_id": client},
                    account=owner,
                )
            )
        return out

    def read_target(self, session: Any, target: Target, params: Mapping[str, Any]) -> Facts | None:
        user, client = str(target.facts.get("user")), str(target.facts.get("client_id"))
        token = _session(session).get_token(user, client)
        return None if token is None else {"user": user, "client_id": token.get("clientId")}

    def preconditions_hold(self, facts: Facts | None, planned: Target) -> bool:
        return facts_match(facts, planned, ("user", "client_id"))

    def apply(self, session: Any, target: Target, params: Mapping[str, Any]) -> Outcome:
        google = _session(session)
        user, client = str(target.facts.get("user")), str(target.facts.get("client_id"))
        if not google.delete_token(user, client):
            return Outcome(changed=False, after={"revoked": True}, detail="already revoked")
        if google.get_token(user, client) is not None:
            raise ConnectorError(f"the grant of {client} by {user} is still listed")
        return Outcome(changed=True, after={"revoked": True}, detail="revoked")


ACTIONS: tuple[Action, ...] = (RevokeOAuthToken(),)
