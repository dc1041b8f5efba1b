"""Walk one GitHub organisation and write what it finds.

Each endpoint names the credential it needs (:data:`ANY`, :data:`OWNER`, :data:`APP`).
With both a token and an App, each request uses the one that can see the answer; with
one, what it cannot see is recorded with ``writer.fail`` (the snapshot is incomplete),
naming the credential that would. A 404 from an endpoint the plan lacks (credential
authorizations without SAML SSO) is "not applicable", not missing data.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from connectors.github import _mapping as mapping
from connectors.github._options import GitHubOptions
from connectors.http import HttpClient, link_pages, map_bounded
from policyengine.connector.contract import SnapshotSink
from policyengine.errors import ConnectorError

ANY, OWNER, APP = "any", "owner", "app"
PER_PAGE = 100  # GitHub's maximum; the default is 30

#: what each kind of credential needs, for the "not collected" messages and the docs
NEEDS = {
    OWNER: "a personal access token of an organisation owner",
    APP: "a GitHub App installation (fine-grained PAT listings answer only to an App)",
}


class Unavailable(ConnectorError):
    """The endpoint refused this credential (403), has no such thing (404) or filter (422)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def refusal(response: httpx.Response) -> str | None:
    """``fatal_error`` hook: raise :class:`Unavailable` for a 403/404/422 that is not a limit."""
    if response.status_code in (403, 404, 422) and not is_rate_limited(response):
        try:
            message = str(response.json().get("message", ""))
        except ValueError:
            message = ""
        url = str(response.request.url).split("?", 1)[0]
        raise Unavailable(response.status_code, f"HTTP {response.status_code} {message}: {url}")
    return None


def is_rate_limited(response: httpx.Response) -> bool:
    """GitHub's primary (remaining 0) or secondary (Retry-After) limit, as 403 or 429."""
    if response.status_code not in (403, 429):
        return False
    headers = response.headers
    return "retry-after" in headers or headers.get("x-ratelimit-remaining") == "0"


@dataclass
class GitHubCollector:
    options: GitHubOptions
    writer: SnapshotSink
    token: HttpClient | None
    app: HttpClient | None
    #: login -> account id, filled by the member listings (owners of tokens and keys)
    ids: dict[str, str] = field(default_factory=dict)
    not_applicable: list[str] = field(default_factory=list)
    #: login -> emails only the org sees (GraphQL: verified domains, SAML NameID)
    org_emails: dict[str, mapping.OrgEmails] = field(default_factory=dict)
    #: logins with an insecure 2FA method (filter=2fa_insecure; empty when not readable)
    _insecure_2fa: set[str] = field(default_factory=set)
    #: members, outside collaborators, owner logins, logins without 2FA (None: unknown) x2
    _people_lists: tuple[list[Any], list[Any], set[str], set[str] | None, set[str] | None] = (
        [],
        [],
        set(),
        None,
        None,
    )

    #: id(client) -> its rate-limit hook (``remaining``: REST budget left), for spreading
    budgets: dict[int, Any] = field(default_factory=dict)

    # -- plumbing ---------------------------------------------------------------
    def _client(self, need: str) -> HttpClient | None:
        if need == APP:
            return self.app
        if need == OWNER:
            return self.token
        if self.token is None or self.app is None:
            return self.token or self.app
        # either may make the call: spend the budget with more requests left (GitHub
        # counts a token's and an installation's hourly limits apart)
        return self.app if self._left(self.app) > self._left(self.token) else self.token

    def _left(self, client: HttpClient) -> float:
        hook = self.budgets.get(id(client))
        remaining = getattr(hook, "remaining", None)
        return float("inf") if remaining is None else float(remaining)

    def _pages(self, path: str, need: str, what: str, **params: Any) -> list[Any] | None:
        """Every item of a Link-paged listing, or None (recorded) when it cannot be read."""
        client = self._client(need)
        if client is None:
            self.writer.fail(f"github: {what} not collected: needs {NEEDS[need]}")
            return None
        items: list[Any] = []
        try:
            for page in link_pages(client, path, params={"per_page": PER_PAGE, **params}):
                items.extend(page)
        except Unavailable as exc:
            if exc.status == 404 and need == OWNER and "credential-authorizations" in path:
                self.not_applicable.append(what)
                return []
            reason = NEEDS.get(need, "read access to it")
            self.writer.fail(f"github: {what} not collected ({exc.message}); needs {reason}")
            return None
        except ConnectorError as exc:
            self.writer.fail(f"github: {what} not collected: {exc.message}")
            return None
        return items

    def _wrapped(self, path: str, key: str, what: str) -> list[Any] | None:
        """A ``{total_count, KEY: [...]}`` listing (secrets, installations), all pages."""
        client = self._client(ANY)
        assert client is not None
        items: list[Any] = []
        url: str | None = path
        params: dict[str, Any] | None = {"per_page": PER_PAGE}
        try:
            while url is not None:
                response, body = client.fetch_json("GET", url, params=params)
                if not isinstance(body, dict) or not isinstance(body.get(key), list):
                    raise ConnectorError(f"GET {path}: no {key!r} list in the answer")
                items.extend(body[key])
                url, params = _next(response, path), None
        except Unavailable as exc:
            self.writer.fail(f"github: {what} not collected ({exc.message})")
            return None
        except ConnectorError as exc:
            self.writer.fail(f"github: {what} not collected: {exc.message}")
            return None
        return items

    # -- the walk -----------------------------------------------------------------
    def run(self) -> None:
        org = self.options.org
        self._settings(org)
        self._people(org)
        self._teams(org)
        self._fine_grained(org)
        self._sso_credentials(org)
        self._installations(org)
        self._org_secrets(org)
        self._repositories(org)
        if self.not_applicable:
            self.writer.extra_source["not_applicable"] = self.not_applicable

    def _settings(self, org: str) -> None:
        client = self.token or self.app  # an owner's token sees the settings
        assert client is not None
        try:
            body = client.get_json(f"/orgs/{org}")
        except Unavailable as exc:
            raise ConnectorError(f"github: organisation {org}: {exc.message}") from None
        records = mapping.settings(body)
        if len(records) < len(mapping.SETTINGS):
            self.writer.fail(
                f"github: organisation settings of {org} not collected: GitHub shows them only "
                f"to {NEEDS[OWNER]}"
            )
        for record in records:
            self.writer.add(record)

    def _people(self, org: str) -> None:
        owners = self._pages(f"/orgs/{org}/members", ANY, "organisation owners", role="admin")
        members = self._pages(f"/orgs/{org}/members", ANY, "organisation members")
        outside = self._pages(f"/orgs/{org}/outside_collaborators", ANY, "outside collaborators")
        no_2fa = self._logins(
            self._pages(f"/orgs/{org}/members", OWNER, "members' 2FA state", filter="2fa_disabled")
        )
        outside_no_2fa = self._logins(
            self._pages(
                f"/orgs/{org}/outside_collaborators",
                OWNER,
                "outside collaborators' 2FA state",
                filter="2fa_disabled",
            )
        )
        if no_2fa is None or outside_no_2fa is None:
            from connectors.github._not_provided import declaration

            self.writer.extra_source["not_provided"] = declaration(two_factor_known=False)
        # members with an insecure 2FA method (SMS): owners only, like 2fa_disabled
        insecure = self._logins(
            self._pages(
                f"/orgs/{org}/members", OWNER, "members' 2FA methods", filter="2fa_insecure"
            )
        )
        outside_insecure = self._logins(
            self._pages(
                f"/orgs/{org}/outside_collaborators",
                OWNER,
                "outside collaborators' 2FA methods",
                filter="2fa_insecure",
            )
        )
        self._insecure_2fa = (insecure or set()) | (outside_insecure or set())
        owner_logins = self._logins(owners) or set()
        if owners is not None:
            self.writer.add(mapping.owner_count(len(owner_logins), self.options.org))
        self._people_lists = (members or [], outside or [], owner_logins, no_2fa, outside_no_2fa)
        for user in (members or []) + (outside or []):
            self.ids[str(user["login"])] = str(user["id"])
        if members:
            self._org_emails(org)

    def _org_emails(self, org: str) -> None:
        """login -> the email the org can see: SAML NameID, else a verified-domain email."""
        from connectors.github import _graphql as graphql

        url = graphql.graphql_url(self.options.api_url)
        verified: dict[str, list[str]] = {}
        client = self._client(ANY)
        assert client is not None
        try:
            verified = graphql.verified_domain_emails(client, url, org)
        except ConnectorError as exc:
            self.writer.fail(f"github: verified-domain emails not collected: {exc.message}")
        # external identities answer to an owner's token or an App with members access
        saml_client = self.app or self.token
        assert saml_client is not None
        saml: dict[str, str] | None = {}
        try:
            saml = graphql.saml_name_ids(saml_client, url, org)
        except ConnectorError as exc:
            self.writer.fail(f"github: SAML identities not collected: {exc.message}")
        if saml is None:
            self.not_applicable.append("SAML identities")
            saml = {}
        self.org_emails = {
            login: mapping.OrgEmails(sorted(verified.get(login, [])), saml.get(login))
            for login in set(verified) | set(saml)
        }

    @staticmethod
    def _logins(users: list[Any] | None) -> set[str] | None:
        return None if users is None else {str(u["login"]) for u in users}

    def _teams(self, org: str) -> None:
        teams = self._pages(f"/orgs/{org}/teams", ANY, "teams") or []
        membership: dict[str, list[str]] = {}
        for team in teams:
            slug = team["slug"]
            users = self._pages(f"/orgs/{org}/teams/{slug}/members", ANY, f"team {slug} members")
            ids = [str(u["id"]) for u in users or []]
            self.writer.add(mapping.team(team, ids))
            for user_id in ids:
                membership.setdefault(user_id, []).append(f"team:{team['id']}")
        members, outside, owners, no_2fa, outside_no_2fa = self._people_lists
        for user in members:
            login = str(user["login"])
            self.writer.add(
                mapping.account(
                    user,
                    role="owner" if login in owners else "member",
                    types=self.options.type_rules,
                    two_factor=None if no_2fa is None else login not in no_2fa,
                    teams=membership.get(str(user["id"]), []),
                    org_emails=self.org_emails.get(login),
                    insecure_2fa=login in self._insecure_2fa,
                )
            )
        for user in outside:
            login = str(user["login"])
            self.writer.add(
                mapping.account(
                    user,
                    role="outside_collaborator",
                    types=self.options.type_rules,
                    two_factor=None if outside_no_2fa is None else login not in outside_no_2fa,
                    teams=[],
                    insecure_2fa=login in self._insecure_2fa,
                )
            )

    def _owner_id(self, login: object) -> str | None:
        return self.ids.get(str(login)) if login else None

    def _fine_grained(self, org: str) -> None:
        for path, pending, what in (
            (f"/orgs/{org}/personal-access-tokens", False, "fine-grained personal access tokens"),
            (
                f"/orgs/{org}/personal-access-token-requests",
                True,
                "fine-grained personal access token requests",
            ),
        ):
            for grant in self._pages(path, APP, what) or []:
                owner = self._owner_id((grant.get("owner") or {}).get("login"))
                self.writer.add(mapping.fine_grained_token(grant, pending=pending, owner_id=owner))

    def _sso_credentials(self, org: str) -> None:
        path = f"/orgs/{org}/credential-authorizations"
        for auth in self._pages(path, OWNER, "SAML SSO credential authorizations") or []:
            self.writer.add(
                mapping.credential_authorization(auth, self._owner_id(auth.get("login")))
            )

    def _installations(self, org: str) -> None:
        path = f"/orgs/{org}/installations"
        for inst in self._wrapped(path, "installations", "GitHub App installations") or []:
            if self.options.installation_id and inst.get("id") == self.options.installation_id:
                # the collecting App (its slug and its bot login): never remediated
                slug = str(inst.get("app_slug") or "")
                own = self.writer.extra_source.setdefault("collected_as", [])
                own[:] = sorted({*own, slug, f"{slug}[bot]"} - {"", "[bot]"})
            self.writer.add(mapping.installation(inst, self._app_owner(inst), org=org))

    def _app_owner(self, inst: dict[str, Any]) -> dict[str, Any] | None:
        """``owner`` of ``GET /apps/{app_slug}``: who publishes the App (not in the installation)."""
        slug = inst.get("app_slug")
        client = self._client(ANY)
        assert client is not None
        try:
            app = client.get_json(f"/apps/{slug}")
        except ConnectorError as exc:
            self.writer.fail(f"github: publisher of GitHub App {slug} not collected: {exc.message}")
            return None
        owner = app.get("owner") if isinstance(app, dict) else None
        return owner if isinstance(owner, dict) else None

    def _org_secrets(self, org: str) -> None:
        path = f"/orgs/{org}/actions/secrets"
        for secret in self._wrapped(path, "secrets", "organisation Actions secrets") or []:
            self.writer.add(mapping.actions_secret(secret, None))

    def _repositories(self, org: str) -> None:
        repos = self._pages(f"/orgs/{org}/repos", ANY, "repositories", type="all")
        if repos is None:
            return
        outside = {str(u["login"]) for u in self._people_lists[1]}
        workers = self.options.transport.max_concurrency

        def details(repo: dict[str, Any]) -> list[dict[str, Any]]:
            return list(self._repository(org, str(repo["name"]), bool(outside)))

        for _, records in map_bounded(details, repos, workers=workers, ordered=True):
            for record in records:
                self.writer.add(record)

    def _repository(self, org: str, name: str, has_outside: bool) -> Iterator[dict[str, Any]]:
        base = f"/repos/{org}/{name}"
        for key in self._pages(f"{base}/keys", ANY, f"deploy keys of {name}") or []:
            yield mapping.deploy_key(key, name, self._owner_id(key.get("added_by")))
        secrets = self._wrapped(f"{base}/actions/secrets", "secrets", f"Actions secrets of {name}")
        for secret in secrets or []:
            yield mapping.actions_secret(secret, name)
        if has_outside:  # only then can a repository have an outside admin: saves a call each
            people = self._pages(
                f"{base}/collaborators", ANY, f"collaborators of {name}", affiliation="outside"
            )
            for person in people or []:
                if person.get("role_name") == "admin" or (person.get("permissions") or {}).get(
                    "admin"
                ):
                    yield _admin_grant(name, person, self._owner_id(person.get("login")))


def _admin_grant(repo: str, person: dict[str, Any], owner: str | None) -> dict[str, Any]:
    """An outside collaborator's admin on a repository, as a ``role`` resource."""
    return {
        "kind": "role",
        "id": f"repo_admin:{repo}:{person['id']}",
        "name": f"{repo}: admin ({person['login']})",
        "members": [owner] if owner else [],
        "privileged": True,
        "permissions": ["admin"],
        "raw": {"repository": repo, "login": person["login"], "affiliation": "outside"},
    }


def _next(response: httpx.Response, path: str) -> str | None:
    from connectors.http import next_link, same_origin

    following = next_link(response)
    if following is None:
        return None
    if not same_origin(following, str(response.request.url)):
        raise ConnectorError(f"GET {path}: next link points at another server; not followed")
    return following
