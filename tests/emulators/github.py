"""A GitHub REST API emulator (organisation posture endpoints), built on the emulator kit.

Wire format as GitHub's OpenAPI description (``tests/data/github/github-posture-subset.json``)
and the REST docs describe it:

- auth: ``Authorization: Bearer <token>`` (or ``token <token>``). A token is a personal
  access token (``tokens``: token -> login; an org owner is a member with role ``admin``)
  or an installation token minted by ``POST /app/installations/{id}/access_tokens`` with an
  RS256 app JWT (``iss`` = app id, ``exp - iat`` at most 10 minutes). Installation tokens
  carry ``expires_at`` (``token_lifetime`` seconds, an hour by default). An unknown or
  expired token gets 401 ``Bad credentials``;
- ``Link`` paging with ``page``/``per_page`` (default 30, at most 100), ``rel="next"`` and
  ``rel="last"``;
- a primary limit per token (``x-ratelimit-*`` on every answer, 403 once spent) and, with
  ``secondary_every``, a 403 secondary limit with ``Retry-After``;
- what a credential cannot see: the fine-grained PAT listings answer only to an
  installation token (403 for a PAT), ``filter=2fa_disabled`` and the SAML credential
  authorizations only to an owner (422 / 403), and an org without SAML SSO has no
  credential authorizations (404).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.emulators.kit import (
    FixedWindowLimiter,
    Request,
    Response,
    fixture_path,
    link_header,
    numbered_page,
    rate_limited,
    read_fixture,
    token_expired,
    url,
)

FIXTURE = fixture_path("github", "org.json")
SPEC = fixture_path("github", "github-posture-subset.json")
API_VERSION = "2022-11-28"
JWT_MAX_SECONDS = 600  # GitHub: an app JWT may be valid for at most 10 minutes


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    body = {
        "message": message,
        "documentation_url": "https://docs.github.com/rest",
        "status": str(status),
    }
    return Response.json(body, status, headers)


@dataclass
class Installation:
    """A minted installation token's facts."""

    installation_id: int
    expires: float


@dataclass
class GitHubEmulator:
    """The emulator app. ``org`` is the fixture (see ``tests/data/github/org.json``)."""

    org: dict[str, Any]
    tokens: dict[str, str] = field(default_factory=dict)  # PAT -> login
    app_id: int = 2002
    app_public_pem: str | None = None
    installation_id: int = 50002
    token_lifetime: float = 3600.0
    rate_limit: int = 5000
    rate_window: int = 3600
    secondary_every: int | None = None  # every Nth request answers the secondary limit
    graphql_rate_limited: int = 0  # the next N GraphQL queries answer RATE_LIMITED
    base_url: str = "http://127.0.0.1"
    minted: int = 0  # installation tokens handed out
    _installations: dict[str, Installation] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _limiter: FixedWindowLimiter | None = None
    _served: int = 0
    _repo_index: dict[str, dict[str, Any]] = field(default_factory=dict)
    _people_cache: tuple[tuple[int, int], dict[str, dict[str, Any]]] | None = None

    @classmethod
    def load(cls, **kwargs: Any) -> GitHubEmulator:
        return cls(read_fixture(FIXTURE), **kwargs)

    def __post_init__(self) -> None:
        self._limiter = FixedWindowLimiter({}, self.rate_limit, self.rate_window)
        self._routes: list[tuple[str, Callable[..., Response], str]] = [
            # (path pattern, handler, who may call: any / owner / app)
            ("/orgs/{org}", self._org, "any"),
            ("/orgs/{org}/members", self._members, "any"),
            ("/orgs/{org}/outside_collaborators", self._outside, "any"),
            ("/orgs/{org}/teams", self._teams, "any"),
            ("/orgs/{org}/teams/{team}/members", self._team_members, "any"),
            ("/orgs/{org}/personal-access-tokens", self._pats, "app"),
            ("/orgs/{org}/personal-access-token-requests", self._pat_requests, "app"),
            ("/orgs/{org}/credential-authorizations", self._credential_auths, "owner"),
            ("/orgs/{org}/repos", self._repos, "any"),
            ("/repos/{org}/{repo}/keys", self._deploy_keys, "any"),
            ("/repos/{org}/{repo}/collaborators", self._collaborators, "any"),
            ("/repos/{org}/{repo}/actions/secrets", self._repo_secrets, "any"),
            ("/orgs/{org}/installations", self._installations_list, "any"),
            ("/orgs/{org}/actions/secrets", self._org_secrets, "any"),
            ("/apps/{app_slug}", self._app, "any"),
            ("/user", self._authenticated_user, "any"),
        ]

    # -- data helpers ---------------------------------------------------------
    @property
    def login(self) -> str:
        return str(self.org["org"]["login"])

    def user(self, login: str, user_id: int) -> dict[str, Any]:
        """A ``simple-user`` with every URL the schema requires."""
        api = f"https://api.github.com/users/{login}"
        return {
            "login": login,
            "id": user_id,
            "node_id": f"U_{user_id}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}",
            "gravatar_id": "",
            "url": api,
            "html_url": f"https://github.com/{login}",
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": "User",
            "site_admin": False,
        }

    def _people(self) -> dict[str, dict[str, Any]]:
        """login -> fixture entry, rebuilt when a test adds people (large orgs in the bench)."""
        size = (len(self.org["members"]), len(self.org["outside_collaborators"]))
        if self._people_cache is None or self._people_cache[0] != size:
            people = {m["login"]: m for m in self.org["members"]}
            people.update({c["login"]: c for c in self.org["outside_collaborators"]})
            self._people_cache = (size, people)
        return self._people_cache[1]

    def _user_of(self, login: str) -> dict[str, Any]:
        """A member as listings show it: with the public profile email when there is one."""
        person = self._people()[login]
        user = self.user(login, int(person["id"]))
        if person.get("email"):
            user["email"] = person["email"]
        return user

    def repository(self, repo: Mapping[str, Any]) -> dict[str, Any]:
        """A ``minimal-repository``."""
        full = f"{self.login}/{repo['name']}"
        api = f"https://api.github.com/repos/{full}"
        out: dict[str, Any] = {
            "id": repo["id"],
            "node_id": f"R_{repo['id']}",
            "name": repo["name"],
            "full_name": full,
            "owner": self.user(self.login, int(self.org["org"]["id"])),
            "private": repo["private"],
            "html_url": f"https://github.com/{full}",
            "description": None,
            "fork": False,
            "url": api,
        }
        for name in (
            "archive", "assignees", "blobs", "branches", "collaborators", "comments", "commits",
            "compare", "contents", "contributors", "deployments", "downloads", "events", "forks",
            "git_commits", "git_refs", "git_tags", "hooks", "issue_comment", "issue_events",
            "issues", "keys", "labels", "languages", "merges", "milestones", "notifications",
            "pulls", "releases", "stargazers", "statuses", "subscribers", "subscription", "tags",
            "teams", "trees",
        ):  # fmt: skip
            out[f"{name}_url"] = f"{api}/{name.replace('_', '/')}"
        return out

    def _repo(self, name: str) -> dict[str, Any] | None:
        if len(self._repo_index) != len(self.org["repos"]):
            self._repo_index = {r["name"]: r for r in self.org["repos"]}
        return self._repo_index.get(name)

    # -- auth ------------------------------------------------------------------
    def _caller(self, request: Request) -> tuple[str, str] | Response:
        """('pat', login) or ('app', installation id) for a valid token, else the 401."""
        value = request.header("authorization") or ""
        scheme, _, token = value.partition(" ")
        if scheme.lower() not in ("bearer", "token") or not token:
            return _error(401, "Requires authentication")
        if token in self.tokens:
            return ("pat", self.tokens[token])
        with self._lock:
            minted = self._installations.get(token)
        if minted is not None and minted.expires > time.time():
            return ("app", str(minted.installation_id))
        return token_expired.github()

    def _is_owner(self, login: str) -> bool:
        return any(m["login"] == login and m["role"] == "admin" for m in self.org["members"])

    def _mint(self, request: Request, installation_id: str) -> Response:
        import jwt  # PyJWT

        value = request.header("authorization") or ""
        scheme, _, assertion = value.partition(" ")
        if scheme.lower() != "bearer" or self.app_public_pem is None:
            return _error(401, "A JSON web token could not be decoded")
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(
                assertion,
                self.app_public_pem,
                algorithms=["RS256"],
                options={"require": ["iat", "exp", "iss"]},
                leeway=60,
            )
        except jwt.PyJWTError as exc:
            return _error(401, f"A JSON web token could not be decoded ({type(exc).__name__})")
        if header.get("alg") != "RS256":
            return _error(401, "'alg' must be RS256")
        if int(claims["exp"]) - int(claims["iat"]) > JWT_MAX_SECONDS:
            return _error(401, "'Expiration time' claim ('exp') is too far in the future")
        if str(claims["iss"]) != str(self.app_id):
            return _error(401, "'Issuer' claim ('iss') must be an Integer")
        if int(installation_id) != self.installation_id:
            return _error(404, "Not Found")
        token = "ghs_" + secrets.token_urlsafe(27)
        expires = time.time() + self.token_lifetime
        with self._lock:
            self._installations[token] = Installation(self.installation_id, expires)
            self.minted += 1
        body = {
            "token": token,
            "expires_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires)),
            "permissions": {"members": "read", "organization_personal_access_tokens": "read"},
            "repository_selection": "all",
        }
        return Response.json(body, 201)

    # -- dispatch ----------------------------------------------------------------
    def __call__(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        if request.method == "POST" and parts[:2] == ["app", "installations"] and len(parts) == 4:
            return self._mint(request, parts[2])
        caller = self._caller(request)
        if isinstance(caller, Response):
            return caller
        assert self._limiter is not None
        window = self._limiter.count(f"{caller[0]}:{caller[1]}")
        if not window.allowed:
            return rate_limited.github(403, limit=window.limit, reset_in=window.reset - time.time())
        if request.method == "POST" and parts == ["graphql"]:
            return self._graphql(request, caller)
        with self._lock:
            self._served += 1
            served = self._served
        if self.secondary_every and served % self.secondary_every == 0:
            return rate_limited.github(403, retry_after=1)
        headers = {
            "x-ratelimit-limit": str(window.limit),
            "x-ratelimit-remaining": str(window.remaining),
            "x-ratelimit-used": str(window.limit - window.remaining),
            "x-ratelimit-reset": str(window.reset),
            "x-ratelimit-resource": "core",
            "x-github-api-version-selected": API_VERSION,
        }
        response = self._route(request, parts, caller)
        response.headers.update(headers)
        return response

    def _graphql(self, request: Request, caller: tuple[str, str]) -> Response:
        """``POST /graphql``: its own points budget (``x-ratelimit-resource: graphql``)."""
        from tests.emulators import github_graphql

        assert self._limiter is not None
        window = self._limiter.count(f"graphql:{caller[0]}:{caller[1]}")
        headers = {
            "x-ratelimit-limit": str(window.limit),
            "x-ratelimit-remaining": str(window.remaining),
            "x-ratelimit-used": str(window.limit - window.remaining),
            "x-ratelimit-reset": str(window.reset),
            "x-ratelimit-resource": "graphql",
        }
        with self._lock:
            limited = self.graphql_rate_limited > 0
            self.graphql_rate_limited -= 1 if limited else 0
        if limited or not window.allowed:
            reset = int(time.time()) + 1 if limited else window.reset
            headers |= {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)}
            return Response.json(github_graphql.rate_limited_body(), 200, headers)
        try:
            payload = request.json()
        except ValueError:
            return _error(400, "Problems parsing JSON")
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return _error(400, "A query attribute must be specified and must be a string.")
        may_see = caller[0] == "app" or self._is_owner(caller[1])
        rate = {"cost": 1, "limit": window.limit, "nodeCount": 100, "used": window.limit - window.remaining,
                "remaining": window.remaining, "resetAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(window.reset))}  # fmt: skip
        body = github_graphql.execute(
            self.org,
            payload["query"],
            payload.get("variables"),
            may_see_identities=may_see,
            rate=rate,
        )
        return Response.json(body, 200, headers)

    def _route(self, request: Request, parts: list[str], caller: tuple[str, str]) -> Response:
        for pattern, handler, who in self._routes:
            names = pattern.strip("/").split("/")
            if len(names) != len(parts):
                continue
            args = {}
            for name, part in zip(names, parts, strict=True):
                if name.startswith("{"):
                    args[name[1:-1]] = part
                elif name != part:
                    break
            else:
                if "org" in args and args["org"] != self.login:
                    return _error(404, "Not Found")
                if who == "app" and caller[0] != "app":
                    return _error(403, "Resource not accessible by personal access token")
                if who == "owner" and not (caller[0] == "pat" and self._is_owner(caller[1])):
                    return _error(403, "Resource not accessible by integration")
                args.pop("org", None)
                return handler(request, caller, **args)
        return _error(404, "Not Found")

    def _page(self, request: Request, items: list[Any]) -> Response:
        per_page = min(100, int(request.param("per_page") or 30))
        page_no = max(1, int(request.param("page") or 1))
        page = numbered_page(items, page_no, per_page)
        query = {k: v[0] for k, v in request.query.items() if k not in ("page", "per_page")}
        links: dict[str, str] = {}
        if page.next is not None:
            links["next"] = url(
                self.base_url, request.path, {**query, "per_page": per_page, "page": page.next}
            )
            links["last"] = url(
                self.base_url, request.path, {**query, "per_page": per_page, "page": page.last}
            )
        headers = {"Link": link_header(links)} if links else {}
        return Response.json(page.items, headers=headers)

    def _wrapped(self, request: Request, key: str, items: list[Any]) -> Response:
        """``{total_count, KEY: [...]}`` listings page the same way."""
        inner = self._page(request, items)
        import json

        body = {"total_count": len(items), key: json.loads(inner.body)}
        return Response.json(body, headers={k: v for k, v in inner.headers.items() if k == "Link"})

    # -- handlers ------------------------------------------------------------------
    def _org(self, request: Request, caller: tuple[str, str]) -> Response:
        o = self.org["org"]
        api = f"https://api.github.com/orgs/{self.login}"
        owner_view = caller[0] == "pat" and self._is_owner(caller[1])
        body: dict[str, Any] = {
            "login": self.login, "id": o["id"], "node_id": f"O_{o['id']}", "url": api,
            "repos_url": f"{api}/repos", "events_url": f"{api}/events", "hooks_url": f"{api}/hooks",
            "issues_url": f"{api}/issues", "members_url": f"{api}/members{{/member}}",
            "public_members_url": f"{api}/public_members{{/member}}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{o['id']}",
            "description": None, "name": o.get("name"), "html_url": f"https://github.com/{self.login}",
            "has_organization_projects": True, "has_repository_projects": True,
            "public_repos": sum(1 for r in self.org["repos"] if not r["private"]),
            "public_gists": 0, "followers": 0, "following": 0, "type": "Organization",
            "created_at": o["created_at"], "updated_at": o["updated_at"], "archived_at": None,
        }  # fmt: skip
        if owner_view:  # GitHub shows the settings to owners only
            for key in (
                "two_factor_requirement_enabled",
                "default_repository_permission",
                "members_can_create_public_repositories",
                "web_commit_signoff_required",
            ):
                body[key] = o[key]
        return Response.json(body)

    def _members(self, request: Request, caller: tuple[str, str]) -> Response:
        members = self.org["members"]
        role = request.param("role", "all")
        if role != "all":
            members = [m for m in members if m["role"] == role]
        if request.param("filter") == "2fa_disabled":
            if not (caller[0] == "pat" and self._is_owner(caller[1])):
                return _error(422, "Only owners can use this filter.")
            members = [m for m in members if not m["two_factor"]]
        if request.param("filter") == "2fa_insecure":  # SMS configured; owners only
            if not (caller[0] == "pat" and self._is_owner(caller[1])):
                return _error(422, "Only owners can use this filter.")
            members = [m for m in members if m["two_factor"] and m.get("two_factor_insecure")]
        return self._page(request, [self._user_of(m["login"]) for m in members])

    def _outside(self, request: Request, caller: tuple[str, str]) -> Response:
        people = self.org["outside_collaborators"]
        if request.param("filter") == "2fa_disabled":
            if not (caller[0] == "pat" and self._is_owner(caller[1])):
                return _error(422, "Only owners can use this filter.")
            people = [p for p in people if not p["two_factor"]]
        if request.param("filter") == "2fa_insecure":
            if not (caller[0] == "pat" and self._is_owner(caller[1])):
                return _error(422, "Only owners can use this filter.")
            people = [p for p in people if p["two_factor"] and p.get("two_factor_insecure")]
        return self._page(request, [self.user(p["login"], p["id"]) for p in people])

    def _team(self, team: Mapping[str, Any]) -> dict[str, Any]:
        api = f"https://api.github.com/orgs/{self.login}/teams/{team['slug']}"
        return {
            "id": team["id"], "node_id": f"T_{team['id']}", "url": api,
            "members_url": f"{api}/members{{/member}}", "name": team["name"], "description": None,
            "permission": "pull", "html_url": f"https://github.com/orgs/{self.login}/teams/{team['slug']}",
            "repositories_url": f"{api}/repos", "slug": team["slug"], "parent": None,
            "type": "organization",
        }  # fmt: skip

    def _teams(self, request: Request, caller: tuple[str, str]) -> Response:
        return self._page(request, [self._team(t) for t in self.org["teams"]])

    def _team_members(self, request: Request, caller: tuple[str, str], team: str) -> Response:
        found = next((t for t in self.org["teams"] if t["slug"] == team), None)
        if found is None:
            return _error(404, "Not Found")
        return self._page(request, [self._user_of(login) for login in found["members"]])

    def _grant(self, grant: Mapping[str, Any], *, request: bool) -> dict[str, Any]:
        out = {k: v for k, v in grant.items() if k != "owner"}
        out["owner"] = self._user_of(grant["owner"])
        kind = "personal-access-token-requests" if request else "personal-access-tokens"
        out["repositories_url"] = (
            f"https://api.github.com/orgs/{self.login}/{kind}/{grant['id']}/repositories"
        )
        return out

    def _pats(self, request: Request, caller: tuple[str, str]) -> Response:
        grants = [self._grant(g, request=False) for g in self.org["fine_grained_tokens"]]
        return self._page(request, grants)

    def _pat_requests(self, request: Request, caller: tuple[str, str]) -> Response:
        grants = [self._grant(g, request=True) for g in self.org["token_requests"]]
        return self._page(request, grants)

    def _credential_auths(self, request: Request, caller: tuple[str, str]) -> Response:
        if not self.org["org"].get("saml_sso"):
            return _error(404, "Not Found")
        return self._page(request, list(self.org["credential_authorizations"]))

    def _repos(self, request: Request, caller: tuple[str, str]) -> Response:
        return self._page(request, [self.repository(r) for r in self.org["repos"]])

    def _deploy_keys(self, request: Request, caller: tuple[str, str], repo: str) -> Response:
        found = self._repo(repo)
        if found is None:
            return _error(404, "Not Found")
        keys = [
            {
                **key,
                "key": f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{key['id']:08d}",
                "url": f"https://api.github.com/repos/{self.login}/{repo}/keys/{key['id']}",
                "verified": True,
                "enabled": True,
            }
            for key in found["deploy_keys"]
        ]
        return self._page(request, keys)

    def _collaborators(self, request: Request, caller: tuple[str, str], repo: str) -> Response:
        found = self._repo(repo)
        if found is None:
            return _error(404, "Not Found")
        wanted = request.param("affiliation", "all")
        people = found["collaborators"] if wanted in ("all", "outside") else []
        out = []
        for person in people:
            user = self._user_of(person["login"])
            role = person["role_name"]
            user["role_name"] = role
            user["permissions"] = {
                "admin": role == "admin", "maintain": role in ("admin", "maintain"),
                "push": role in ("admin", "maintain", "write"), "triage": role != "read", "pull": True,
            }  # fmt: skip
            out.append(user)
        return self._page(request, out)

    def _repo_secrets(self, request: Request, caller: tuple[str, str], repo: str) -> Response:
        found = self._repo(repo)
        if found is None:
            return _error(404, "Not Found")
        return self._wrapped(request, "secrets", list(found["secrets"]))

    def _org_secrets(self, request: Request, caller: tuple[str, str]) -> Response:
        return self._wrapped(request, "secrets", list(self.org["org_secrets"]))

    def _installation(self, inst: Mapping[str, Any]) -> dict[str, Any]:
        o = self.org["org"]
        return {
            **inst,
            "account": self.user(self.login, int(o["id"])) | {"type": "Organization"},
            "access_tokens_url": f"https://api.github.com/app/installations/{inst['id']}/access_tokens",
            "repositories_url": "https://api.github.com/installation/repositories",
            "html_url": f"https://github.com/organizations/{self.login}/settings/installations/{inst['id']}",
            "target_id": o["id"], "target_type": "Organization", "single_file_name": None,
            "events": [], "suspended_by": None,
        }  # fmt: skip

    def _installations_list(self, request: Request, caller: tuple[str, str]) -> Response:
        items = [self._installation(i) for i in self.org["installations"]]
        return self._wrapped(request, "installations", items)

    def _authenticated_user(self, request: Request, caller: tuple[str, str]) -> Response:
        """``GET /user``: the token's user as a ``public-user`` (an App token: 403)."""
        if caller[0] != "pat":
            return _error(403, "Resource not accessible by integration")
        person = self._people().get(caller[1])
        user = self._user_of(caller[1]) if person else self.user(caller[1], 1)
        profile = {"name": None, "company": None, "blog": "", "location": None, "bio": None}
        profile |= {"hireable": None, "public_repos": 0, "public_gists": 0, "followers": 0}
        profile |= {"following": 0, "user_view_type": "public"}
        stamp = {"created_at": "2020-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}
        return Response.json({"email": None, **user, **profile, **stamp})

    def _app(self, request: Request, caller: tuple[str, str], app_slug: str) -> Response:
        """``GET /apps/{app_slug}``: an ``integration``, with its ``owner`` (the publisher)."""
        found = (self.org.get("apps") or {}).get(app_slug)
        if found is None:
            return _error(404, "Not Found")
        inst = next((i for i in self.org["installations"] if i["app_slug"] == app_slug), {})
        owner = self.user(found["owner"], int(found["owner_id"])) | {"type": found["owner_type"]}
        body = {
            "id": inst.get("app_id", 1), "slug": app_slug, "node_id": f"A_{app_slug}",
            "client_id": f"Iv1.{app_slug[:8]}", "owner": owner, "name": found["name"],
            "description": None, "external_url": f"https://{found['owner']}.example",
            "html_url": f"https://github.com/apps/{app_slug}",
            "created_at": inst.get("created_at", "2020-01-01T00:00:00Z"),
            "updated_at": inst.get("updated_at", "2020-01-01T00:00:00Z"),
            "permissions": dict(inst.get("permissions") or {}), "events": [],
        }  # fmt: skip
        return Response.json(body)
