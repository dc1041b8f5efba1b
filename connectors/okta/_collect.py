"""Walk the Okta Management API and hand normalised resources to the writer.

Order: admin groups (their roles and members), direct admin assignees and
global session policies (with the members of the groups they name) first,
so that each user can be written as soon as its factors arrive; then users
page by page with their factors fetched concurrently (DEPROVISIONED users
last, from their own listing: a user deactivated mid-run appears in both, and
the later, deprovisioned state replaces the earlier one); then API tokens. A part that cannot be read
is recorded with ``writer.fail`` (the snapshot says ``complete: false`` and
names it) and the rest is still collected; refused credentials stop
everything, and an unreachable org stops with one error.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from connectors.http import (
    HttpClient,
    Progress,
    ServerUnreachable,
    link_pages,
    map_bounded,
    same_origin,
)
from connectors.okta import _mapping as mapping
from connectors.okta import _sessions as sessions
from connectors.okta._apps import collect_apps
from connectors.okta._options import OktaOptions
from connectors.okta._syslog import LogFacts, read_system_log
from policyengine.connector.contract import SnapshotSink
from policyengine.errors import AuthenticationError, ConnectorError
from policyengine.log import get_logger

log = get_logger("policyengine.okta")


@dataclass(slots=True)
class _Privilege:
    """What we know about admin roles before reading users."""

    #: group id -> (group name, role names) for groups that carry an admin role
    admin_groups: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    #: user id -> admin group ids the user is a member of
    membership: dict[str, list[str]] = field(default_factory=dict)
    #: user id -> role assignments from /api/v1/users/{id}/roles
    direct: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    groups_ok: bool = True
    #: False: the assignee list could not be read; fetch roles per user instead
    assignees_ok: bool = True
    everyone_group: str | None = None


@dataclass(slots=True)
class _Sessions:
    """Global session policies and the memberships needed to apply them to users."""

    policies: list[sessions.Policy]
    #: user id -> the groups among those the policies name
    groups: dict[str, set[str]] = field(default_factory=dict)


@dataclass(slots=True)
class _UserResult:
    user: dict[str, Any]
    factors: list[dict[str, Any]] | None
    roles: list[dict[str, Any]] | None
    error: str | None = None
    #: from the DEPROVISIONED search, which runs after the plain listing: this state
    #: is the later one and replaces the same user's earlier record
    later: bool = False


class OktaCollector:
    """One collection run against one org."""

    def __init__(self, client: HttpClient, options: OktaOptions, writer: SnapshotSink) -> None:
        self.client = client
        self.options = options
        self.writer = writer
        self.workers = options.transport.max_concurrency
        #: System Log summaries (``--log-days``), read first: records are written once
        self.log_facts: LogFacts | None = None

    def run(self) -> None:
        try:
            if self.options.log_days:
                self._guard("system log", self._system_log)
            privilege = self._privilege()
            policies: list[sessions.Policy] = []
            known = self._guard(
                "global session policies", lambda: self._session_policies(privilege, policies)
            )
            session_data = self._session_groups(privilege, policies) if known else None
            self._users(privilege, session_data)
            self._guard("API tokens", self._api_tokens)
            self._guard(
                "apps",
                lambda: collect_apps(
                    self.client,
                    self.writer,
                    workers=self.workers,
                    user_grants=self.options.user_grants,
                    refresh_tokens=self.options.refresh_tokens,
                    log_facts=self.log_facts,
                ),
            )
        except ServerUnreachable as exc:
            # every other part would fail the same way: say it once and stop
            self.writer.fail(
                f"okta: {self.options.org_url} unreachable, collection stopped: {exc.message}"
            )
        log.info(
            "okta.collected",
            requests=self.client.request_count,
            retries=self.client.retry_count,
        )

    def _system_log(self) -> None:
        import datetime as dt

        now = dt.datetime.fromisoformat(self.writer.collected_at.replace("Z", "+00:00"))
        facts = read_system_log(
            self.client, days=self.options.log_days, now=now, max_pages=self.options.log_max_pages
        )
        if facts.truncated:
            # a partial count would read as a quiet account or app: say so, keep nothing
            raise ConnectorError(
                f"more than {facts.pages} pages of {facts.events} events in "
                f"{facts.days} days (--log-max-pages); shorten --log-days or raise the bound"
            )
        self.log_facts = facts

    def _guard(self, what: str, func: Any) -> bool:
        """Run one part; a ConnectorError marks the snapshot incomplete, naming the part."""
        try:
            func()
            return True
        except (AuthenticationError, ServerUnreachable):
            raise
        except ConnectorError as exc:
            self.writer.fail(f"okta: {what} not collected: {exc.message}")
            log.error("okta.part_failed", part=what, error=exc.message)
            return False

    def _array(self, path: str) -> list[dict[str, Any]]:
        """GET a JSON array of objects; anything else is a ConnectorError naming the path."""
        body = self.client.get_json(path)
        if not isinstance(body, list):
            raise ConnectorError(f"GET {path}: expected a JSON array, got {type(body).__name__}")
        return [item for item in body if isinstance(item, dict)]

    # -- admin roles ---------------------------------------------------------------
    def _privilege(self) -> _Privilege:
        privilege = _Privilege()
        privilege.groups_ok = self._guard("admin groups", lambda: self._admin_groups(privilege))
        try:
            self._assignees(privilege)
        except (AuthenticationError, ServerUnreachable):
            raise
        except ConnectorError as exc:
            # Orgs without the IAM assignee API: read /users/{id}/roles for every user.
            log.warning("okta.assignees_unavailable", error=exc.message)
            privilege.assignees_ok = False
            privilege.direct.clear()
        return privilege

    def _admin_groups(self, privilege: _Privilege) -> None:
        groups: list[dict[str, Any]] = []
        for page in link_pages(self.client, "/api/v1/groups", params={"limit": 200}):
            groups.extend(page)
        for g in groups:
            profile = g.get("profile") or {}
            if g.get("type") == "BUILT_IN" and profile.get("name") == "Everyone":
                privilege.everyone_group = g.get("id")

        def roles_of(g: dict[str, Any]) -> list[dict[str, Any]]:
            return self._array(f"/api/v1/groups/{g['id']}/roles")

        admin: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
        for g, roles in map_bounded(roles_of, groups, workers=self.workers):
            if roles:
                admin.append((g, roles))
        for g, roles in sorted(admin, key=lambda x: x[0]["id"]):
            members: list[str] = []
            for page in link_pages(
                self.client, f"/api/v1/groups/{g['id']}/users", params={"limit": 1000}
            ):
                members.extend(str(u["id"]) for u in page if isinstance(u, dict) and "id" in u)
            resource = mapping.group(g, roles, members)
            self.writer.add(resource)
            privilege.admin_groups[resource["id"]] = (resource["name"], resource["roles"])
            for uid in members:
                privilege.membership.setdefault(uid, []).append(resource["id"])

    def _assignees(self, privilege: _Privilege) -> None:
        """Users with admin roles, from one paged list instead of one call per user."""
        ids: list[str] = []
        url: str | None = "/api/v1/iam/assignees/users"
        params: dict[str, Any] | None = {"limit": 100}
        while url:
            body = self.client.get_json(url, params=params)
            if not isinstance(body, dict) or not isinstance(body.get("value"), list):
                raise ConnectorError("GET /api/v1/iam/assignees/users: unexpected body")
            ids.extend(str(v["id"]) for v in body["value"] if isinstance(v, dict) and "id" in v)
            url = ((body.get("_links") or {}).get("next") or {}).get("href")
            if url and not same_origin(url, self.options.org_url):
                raise ConnectorError(
                    "GET /api/v1/iam/assignees/users: next link points at another server; "
                    "not followed"
                )
            params = None

        def roles_of(uid: str) -> list[dict[str, Any]]:
            return self._array(f"/api/v1/users/{uid}/roles")

        for uid, roles in map_bounded(roles_of, ids, workers=self.workers):
            privilege.direct[uid] = roles

    # -- users ------------------------------------------------------------------------
    def _session_groups(
        self, privilege: _Privilege, policies: list[sessions.Policy]
    ) -> _Sessions | None:
        """Members of the groups the session policies name (admin groups are known already)."""
        data = _Sessions(policies)
        wanted = sessions.referenced_groups(policies) - {privilege.everyone_group}

        def add(gid: str, members: list[str]) -> None:
            for uid in members:
                data.groups.setdefault(uid, set()).add(gid)

        try:
            for gid in sorted(wanted):
                if privilege.groups_ok and gid in privilege.admin_groups:
                    add(gid, [u for u, gs in privilege.membership.items() if gid in gs])
                    continue
                members: list[str] = []
                for page in link_pages(
                    self.client, f"/api/v1/groups/{gid}/users", params={"limit": 1000}
                ):
                    members.extend(str(u["id"]) for u in page if isinstance(u, dict) and "id" in u)
                add(gid, members)
        except (AuthenticationError, ServerUnreachable):
            raise
        except ConnectorError as exc:
            self.writer.fail(
                f"okta: account sessions not computed (members of a group named by a "
                f"session policy not read): {exc.message}"
            )
            return None
        return data

    def _users(self, privilege: _Privilege, session_data: _Sessions | None = None) -> None:
        stopped: list[str] = []

        def users() -> Iterator[tuple[dict[str, Any], bool]]:
            # Okta lists every user but DEPROVISIONED ones unless asked for them by search
            listings: tuple[tuple[str, dict[str, str]], ...] = (
                ("users", {}),
                ("deprovisioned users", {"search": 'status eq "DEPROVISIONED"'}),
            )
            for later, (label, extra) in enumerate(listings):
                listed = pages = 0
                try:
                    for page in link_pages(
                        self.client,
                        "/api/v1/users",
                        params={**extra, "limit": self.options.page_size},
                    ):
                        pages += 1
                        for user in page:
                            if isinstance(user, dict) and "id" in user:
                                listed += 1
                                yield user, bool(later)
                except (AuthenticationError, ServerUnreachable):
                    raise
                except ConnectorError as exc:
                    stopped.append(
                        f"okta: {label} not collected after {listed} users "
                        f"({pages} pages read): {exc.message}"
                    )

        def enrich(item: tuple[dict[str, Any], bool]) -> _UserResult:
            user, later = item
            uid = str(user["id"])
            errors: list[str] = []

            def fetch(path: str) -> list[dict[str, Any]] | None:
                try:
                    return self._array(path)
                except (AuthenticationError, ServerUnreachable):
                    raise
                except ConnectorError as exc:
                    errors.append(exc.message)
                    return None

            # a deactivated user has no usable factors: save the call (mfa stays missing)
            deprovisioned = user.get("status") == "DEPROVISIONED"
            factors = None if deprovisioned else fetch(f"/api/v1/users/{uid}/factors")
            if privilege.assignees_ok:
                roles: list[dict[str, Any]] | None = privilege.direct.get(uid, [])
            else:
                roles = fetch(f"/api/v1/users/{uid}/roles")
            return _UserResult(user, factors, roles, errors[0] if errors else None, later)

        failed: list[str] = []
        first_error = ""
        in_a_row = 0
        # role name -> holders, for the ``role`` resources written after the users
        holders: dict[str, list[str]] = {}
        roles_known = True
        # a server failing every per-user call would cost retries x users: stop early
        give_up_after = max(25, 3 * self.workers)
        with Progress("okta users") as progress:
            for _, result in map_bounded(enrich, users(), workers=self.workers, ordered=True):
                uid = str(result.user["id"])
                groups = None
                if privilege.groups_ok:
                    groups = [privilege.admin_groups[g] for g in privilege.membership.get(uid, [])]
                session = None
                if session_data is not None:
                    session = sessions.effective_session(
                        uid,
                        session_data.groups.get(uid, set()),
                        session_data.policies,
                        everyone_group=privilege.everyone_group,
                    )
                record = mapping.account(
                    result.user,
                    type_rules=self.options.type_rules,
                    factors=result.factors,
                    direct_roles=result.roles,
                    admin_groups=groups,
                    session=session,
                )
                if self.log_facts is not None:
                    record["activity"] = self.log_facts.account_activity(uid)
                if self.writer.add(record, replace=result.later):
                    # deactivated mid-run: forget what the earlier state contributed
                    log.info("okta.user_replaced", user=uid, status=record.get("status"))
                    for members in holders.values():
                        if uid in members:
                            members.remove(uid)
                    if uid in failed:
                        failed.remove(uid)
                if "roles" not in record:
                    roles_known = False
                for role in record.get("roles", ()):
                    holders.setdefault(role, []).append(record["id"])
                progress.advance()
                if not result.error:
                    in_a_row = 0
                    continue
                failed.append(uid)
                first_error = first_error or result.error
                in_a_row += 1
                if in_a_row >= give_up_after:
                    stopped.append(
                        f"okta: users after {uid} not collected: the factors or roles of "
                        f"{in_a_row} users in a row could not be read ({result.error})"
                    )
                    break
        for resource in mapping.role_resources(holders, members_known=roles_known and not stopped):
            self.writer.add(resource)
        for message in stopped:
            self.writer.fail(message)
        if failed:
            self.writer.fail(
                f"okta: factors or roles of {len(failed)} users not collected "
                f"(e.g. {', '.join(failed[:5])}): {first_error}"
            )

    # -- tokens and policies -----------------------------------------------------------
    def _api_tokens(self) -> None:
        for page in link_pages(self.client, "/api/v1/api-tokens"):
            for token in page:
                if isinstance(token, dict) and "id" in token:
                    self.writer.add(mapping.credential(token))

    def _session_policies(self, privilege: _Privilege, out: list[sessions.Policy]) -> None:
        policies = self.client.get_json("/api/v1/policies", params={"type": "OKTA_SIGN_ON"})
        if not isinstance(policies, list):
            raise ConnectorError("GET /api/v1/policies: expected a JSON array")
        for policy in policies:
            if not isinstance(policy, dict) or "id" not in policy:
                continue
            rules = self._array(f"/api/v1/policies/{policy['id']}/rules")
            out.append((policy, rules))
            for rule in rules:
                if isinstance(rule, dict) and "id" in rule:
                    self.writer.add(
                        mapping.session_policy(
                            policy, rule, everyone_group=privilege.everyone_group
                        )
                    )
