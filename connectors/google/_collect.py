"""Walk the Directory and Cloud Identity APIs and hand normalised resources to the writer.

Order: admin roles and their assignments, groups and members (so each user is written
with its roles and groups), the Reports API's OAuth grant and login events over the
activity window (summarised per client and per user, with a token of their own), then
users page by page (``maxResults`` 500) with their
OAuth grants and application-specific passwords fetched concurrently, then deleted
users, the integrations (one per OAuth client id) and the tenant's Cloud Identity
policies. A part that cannot be read is recorded with ``writer.fail`` (``complete:
false``, naming it and Google's reason) and the rest is still collected.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

from connectors.google import _mapping as mapping
from connectors.google import _reports as reports
from connectors.google._options import GoogleOptions
from connectors.http import HttpClient, ServerUnreachable, map_bounded
from policyengine.connector.contract import SnapshotSink
from policyengine.errors import AuthenticationError, ConnectorError
from policyengine.log import get_logger

log = get_logger("policyengine.google")
DIRECTORY = "/admin/directory/v1"


class GoogleCollector:
    """One collection run against one Workspace customer."""

    def __init__(
        self,
        client: HttpClient,
        options: GoogleOptions,
        writer: SnapshotSink,
        reports_client: HttpClient | None = None,
        *,
        pace: Callable[[], None] = lambda: None,
    ) -> None:
        self.client = client
        #: called before every API call: keeps the run within the per-user quota
        self.pace = pace
        #: a client whose token carries only the Reports scope (None: events not read)
        self.reports_client = reports_client
        self.options = options
        self.writer = writer
        self.customer = options.customer
        self.directory = options.directory_url + DIRECTORY
        self.user_roles: dict[str, list[str]] = defaultdict(list)
        self.user_groups: dict[str, list[str]] = defaultdict(list)
        self.grants: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.activity = reports.Activity(options.activity_days)

    def run(self) -> None:
        try:
            self._guard("admin roles", self._roles)
            self._guard("groups", self._groups)
            if self.reports_client is not None and self.options.activity_days:
                self._guard(
                    "OAuth grant audit events (Reports API)", self._grant_events, own_token=True
                )
                self._guard("login audit events (Reports API)", self._login_events, own_token=True)
            self._guard("users", self._users)
            self._guard("deleted users", self._deleted_users)
            for client_id, grants in sorted(self.grants.items()):
                self.writer.add(
                    mapping.integration(
                        client_id, grants, activity=self.activity.for_client(client_id)
                    )
                )
            self._guard("Cloud Identity policies", self._policies)
        except ServerUnreachable as exc:
            self.writer.fail(f"google: API unreachable, collection stopped: {exc.message}")
        log.info(
            "google.collected", requests=self.client.request_count, retries=self.client.retry_count
        )

    def _guard(self, what: str, func: Callable[[], None], *, own_token: bool = False) -> bool:
        try:
            func()
            return True
        except AuthenticationError as exc:
            if not own_token:
                raise
            # the Reports token alone was refused (scope not delegated): only that part is missing
            self.writer.fail(f"google: {what} not collected: {exc.message}")
            log.error("google.part_failed", part=what, error=exc.message)
            return False
        except ServerUnreachable:
            raise
        except ConnectorError as exc:
            self.writer.fail(f"google: {what} not collected: {exc.message}")
            log.error("google.part_failed", part=what, error=exc.message)
            return False

    def _pages(
        self, url: str, key: str, params: dict[str, Any], client: HttpClient | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """``pageToken`` / ``nextPageToken`` paging; a repeated token stops with an error."""
        seen: set[str] = set()
        while True:
            self.pace()
            body = (client or self.client).get_json(url, params=params)
            if not isinstance(body, dict):
                raise ConnectorError(f"GET {url}: expected a JSON object")
            items = body.get(key) or []
            yield [i for i in items if isinstance(i, dict)]
            token = body.get("nextPageToken")
            if not token:
                return
            if token in seen:
                raise ConnectorError(f"GET {url}: the same nextPageToken twice")
            seen.add(token)
            params = {**params, "pageToken": token}

    # -- roles and groups ------------------------------------------------------------------
    def _roles(self) -> None:
        base = f"{self.directory}/customer/{self.customer}"
        roles = [r for p in self._pages(f"{base}/roles", "items", {"maxResults": 100}) for r in p]
        assignments: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for page in self._pages(f"{base}/roleassignments", "items", {"maxResults": 200}):
            for item in page:
                assignments[str(item.get("roleId"))].append(item)
        for item in roles:
            record = mapping.role(item, assignments.get(str(item.get("roleId")), []))
            self.writer.add(record)
            for member in record["members"]:
                self.user_roles[member].append(record["name"])

    def _groups(self) -> None:
        params = {"customer": self.customer, "maxResults": 200}
        for page in self._pages(f"{self.directory}/groups", "groups", params):
            for item in page:
                members = [
                    str(m["id"])
                    for p in self._pages(
                        f"{self.directory}/groups/{item['id']}/members",
                        "members",
                        {"maxResults": 200},
                    )
                    for m in p
                    if m.get("id")
                ]
                self.writer.add(mapping.group(item, members))
                for member in members:
                    self.user_groups[member].append(str(item["id"]))

    # -- Reports API audit events -----------------------------------------------------------
    def _audit_events(self, application: str, event: str) -> Iterator[dict[str, Any]]:
        start, end = reports.window(self.writer.collected_at, self.options.activity_days)
        url = f"{self.options.directory_url}{reports.REPORTS}/{application}"
        params = {"eventName": event, "startTime": start, "endTime": end, "maxResults": 1000}
        for page in self._pages(url, "items", params, client=self.reports_client):
            yield from page

    def _grant_events(self) -> None:
        self.activity.add_grants(self._audit_events(*reports.GRANTS))

    def _login_events(self) -> None:
        self.activity.add_logins(self._audit_events(*reports.LOGINS))

    # -- users -----------------------------------------------------------------------------
    def _users(self) -> None:
        params = {"customer": self.customer, "maxResults": 500, "orderBy": "email"}
        workers = self.options.transport.max_concurrency
        for page in self._pages(f"{self.directory}/users", "users", params):
            for user, extras in map_bounded(self._user_extras, page, workers=workers, ordered=True):
                self._write_user(user, extras)

    def _user_extras(self, user: dict[str, Any]) -> dict[str, list[dict[str, Any]] | str]:
        """The user's OAuth grants and ASPs, or the reason each could not be read."""
        found: dict[str, list[dict[str, Any]] | str] = {}
        for what in ("tokens", "asps"):
            try:
                self.pace()
                body = self.client.get_json(f"{self.directory}/users/{user['id']}/{what}")
                items = body.get("items") if isinstance(body, dict) else None
                found[what] = [i for i in items or [] if isinstance(i, dict)]
            except (AuthenticationError, ServerUnreachable):
                raise
            except ConnectorError as exc:
                found[what] = exc.message
        return found

    def _write_user(
        self, user: dict[str, Any], extras: dict[str, list[dict[str, Any]] | str]
    ) -> None:
        uid = str(user["id"])
        self.writer.add(
            mapping.account(
                user,
                types=self.options.type_rules,
                roles=sorted(self.user_roles.get(uid, [])),
                groups=sorted(self.user_groups.get(uid, [])),
                activity=self.activity.for_user(uid),
            )
        )
        email = user.get("primaryEmail", uid)
        labels = {"tokens": "OAuth tokens", "asps": "application-specific passwords"}
        for what, value in extras.items():
            if isinstance(value, str):
                self.writer.fail(f"google: {labels[what]} of {email} not collected: {value}")
                continue
            for item in value:
                if what == "tokens" and item.get("clientId"):
                    record = mapping.oauth_token(uid, item)
                    self.grants[record["integration"]].append(record)
                elif what == "asps" and "codeId" in item:
                    record = mapping.app_password(uid, item)
                else:
                    continue
                self.writer.add(record)

    def _deleted_users(self) -> None:
        params = {"customer": self.customer, "maxResults": 500, "showDeleted": "true"}
        for page in self._pages(f"{self.directory}/users", "users", params):
            for user in page:
                record = mapping.account(
                    user, types=self.options.type_rules, roles=[], groups=[], deleted=True
                )
                self.writer.add(record)

    def _policies(self) -> None:
        url = f"{self.options.cloud_identity_url}/v1/policies"
        for page in self._pages(url, "policies", {"pageSize": 100}):
            for policy in page:
                self.writer.add(mapping.setting(policy))
