"""GitHub remediation: revoke a fine-grained personal access token's access to the org.

``revoke_fine_grained_pat``: ``POST /orgs/{org}/personal-access-tokens/{pat_id}`` with
``{"action": "revoke"}`` (operation ``orgs/update-pat-access``, 204), re-read live by
listing the org's approved fine-grained tokens of the token's owner
(``GET /orgs/{org}/personal-access-tokens?owner=<login>``). GitHub serves these
endpoints to GitHub Apps only: the ``remediation:`` mapping must be an App (``app_id``,
``private_key_file`` / ``private_key_env``, ``installation_id``) installed with the
organisation permission "Personal access tokens: write".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.github._options import GitHubOptions, parse_options
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


class GitHubSession:
    """An installation-token client with the remediation App."""

    def __init__(self, options: GitHubOptions, *, instance: str) -> None:
        from connectors.github._auth import InstallationAuth
        from connectors.github._connector import GitHubConnector

        if not options.app:
            raise ConnectorError(
                "github: fine-grained token endpoints answer GitHub Apps only; give the "
                "remediation: mapping app_id, private_key_file and installation_id"
            )
        self.options = options
        self.instance = instance
        connector = GitHubConnector(options, instance=instance)
        self._minting = connector._client(None, None)
        self.auth = InstallationAuth(options, self._minting)
        self.http = connector._client(self.auth, None)
        self.auth.header()  # refused App credentials fail here, before any step

    @classmethod
    def open(cls, options: Mapping[str, Any], *, instance: str) -> GitHubSession:
        return cls(parse_options(options), instance=instance)

    def protected_identities(self) -> frozenset[str]:
        return frozenset({str(self.options.app_id)})

    def close(self) -> None:
        self.http.close()
        self._minting.close()

    def approved_grants(self, owner: str) -> list[dict[str, Any]]:
        """The org's approved fine-grained token grants of ``owner`` (every page)."""
        from connectors.http import link_pages

        path = f"/orgs/{self.options.org}/personal-access-tokens"
        out: list[dict[str, Any]] = []
        for page in link_pages(self.http, path, params={"owner[]": owner, "per_page": 100}):
            if not isinstance(page, list):
                raise ConnectorError(f"GET {path}: expected a JSON array")
            out += [g for g in page if isinstance(g, dict)]
        return out

    def revoke(self, pat_id: int) -> None:
        path = f"/orgs/{self.options.org}/personal-access-tokens/{int(pat_id)}"
        self.http.request("POST", path, json={"action": "revoke"})


def _session(session: Any) -> GitHubSession:
    if not isinstance(session, GitHubSession):
        raise ConnectorError("a GitHub action needs a GitHub session")
    return session


class RevokeFineGrainedPat:
    spec = ActionSpec(
        name="revoke_fine_grained_pat",
        summary="revoke a fine-grained personal access token's access to the organisation",
        kinds=frozenset({"credential"}),
        target_kind="credential",
        reversible=False,
        undo=(
            "not reversible: the owner requests access again with the same or a new token "
            "(and an owner approves it)"
        ),
        permissions=(
            "a GitHub App installed on the org with the organisation permission 'Personal "
            "access tokens: read and write' (fine-grained token endpoints refuse PATs)"
        ),
    )

    def targets(
        self, resource: Record, lookup: ResourceLookup, params: Mapping[str, Any]
    ) -> Sequence[Target]:
        raw = resource.get("raw") or {}
        rid = str(resource.get("id") or "")
        prefix = "fine_grained_pat:grant:"
        if resource.get("kind") != "credential" or not rid.startswith(prefix):
            return []  # a pending request or a classic PAT: nothing this action revokes
        pat_id = rid.removeprefix(prefix)
        if not pat_id.isdigit() or not raw.get("owner_login"):
            return []
        return [
            Target(
                kind="credential",
                id=rid,
                name=str(resource.get("name") or rid),
                facts={
                    "pat_id": int(pat_id),
                    "token_id": raw.get("token_id"),
                    "owner_login": raw.get("owner_login"),
                },
                account=str(resource["owner"]) if resource.get("owner") else None,
            )
        ]

    @staticmethod
    def _live(gh: GitHubSession, target: Target) -> dict[str, Any] | None:
        grants = gh.approved_grants(str(target.facts.get("owner_login")))
        return next((g for g in grants if g.get("id") == target.facts.get("pat_id")), None)

    def read_target(self, session: Any, target: Target, params: Mapping[str, Any]) -> Facts | None:
        grant = self._live(_session(session), target)
        if grant is None:
            return None
        return {
            "pat_id": grant.get("id"),
            "token_id": grant.get("token_id"),
            "owner_login": (grant.get("owner") or {}).get("login"),
        }

    def preconditions_hold(self, facts: Facts | None, planned: Target) -> bool:
        return facts_match(facts, planned, ("pat_id", "token_id", "owner_login"))

    def apply(self, session: Any, target: Target, params: Mapping[str, Any]) -> Outcome:
        gh = _session(session)
        if self._live(gh, target) is None:
            return Outcome(changed=False, after={"revoked": True}, detail="already revoked")
        gh.revoke(int(target.facts["pat_id"]))
        if self._live(gh, target) is not None:
            raise ConnectorError(f"fine-grained token {target.name} still has access")
        return Outcome(changed=True, after={"revoked": True}, detail="revoked")


ACTIONS: tuple[Action, ...] = (RevokeFineGrainedPat(),)
