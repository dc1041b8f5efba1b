"""The Salesforce connector: authenticate, query, read metadata, map, write."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from connectors.http import HttpClient, ServerUnreachable, TokenAuth, map_bounded
from connectors.salesforce import _mapping
from connectors.salesforce._activity import activity_queries, read_bulk_jobs, window_start
from connectors.salesforce._auth import make_fetch
from connectors.salesforce._describe import read_permission_fields
from connectors.salesforce._http import (
    ApiLimitExceeded,
    ApiUsage,
    Rest,
    auth_failure,
    classify,
    token_error,
)
from connectors.salesforce._metadata import MetadataClient, SoapFault, soap_fatal
from connectors.salesforce._options import SalesforceOptions, add_arguments, parse_options
from connectors.salesforce._queries import (
    QUERIES,
    Fetched,
    ObjectQuery,
    fetch_object,
    fetch_per_user,
    needs_per_user_retry,
    permission_set_query,
    store,
)
from connectors.salesforce._remediate import CREDENTIAL_OPTIONS, SalesforceSession
from policyengine.connector.contract import SnapshotSink
from policyengine.errors import AuthenticationError, ConnectorError
from policyengine.log import get_logger
from policyengine.remediate.contract import Action, Containment, Record, ResourceLookup

log = get_logger("policyengine.salesforce")


class SalesforceConnector:
    """Users, permissions, MFA, connected apps, OAuth tokens and session settings of one org."""

    name: ClassVar[str] = "salesforce"
    summary: ClassVar[str] = (
        "Salesforce org: users, profiles/permission sets, MFA methods, connected apps, "
        "OAuth tokens, session settings (REST + Metadata API)"
    )

    def __init__(self, options: SalesforceOptions, *, instance: str) -> None:
        self.options = options
        self.instance = instance
        #: who collects: the token's user id (its ``id`` URL), username, client id
        self.collected_as: set[str] = set()

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        add_arguments(parser)

    @classmethod
    def from_options(cls, options: Mapping[str, Any], *, instance: str) -> SalesforceConnector:
        return cls(parse_options(options), instance=instance)

    # -- remediation (policyengine.remediate.contract) -------------------------------
    credential_options: ClassVar[frozenset[str]] = CREDENTIAL_OPTIONS

    @classmethod
    def remediation_actions(cls) -> Sequence[Action]:
        from connectors.salesforce._actions import ACTIONS

        return ACTIONS

    @classmethod
    def open_remediation(cls, options: Mapping[str, Any], *, instance: str) -> SalesforceSession:
        return SalesforceSession.open(options, instance=instance)

    @classmethod
    def containment(cls, app: Record, lookup: ResourceLookup) -> Containment:
        from connectors.salesforce._actions import containment

        return containment(app, lookup)

    # -- collection --------------------------------------------------------------
    def _clients(self, usage: ApiUsage) -> tuple[HttpClient, HttpClient]:
        o = self.options
        token_http = HttpClient.for_transport(
            o.login_url, o.transport, auth=None, fatal_error=token_error, auth_failure=auth_failure
        )
        self.collected_as.update(v for v in (o.username, o.client_id) if v)
        auth = TokenAuth(make_fetch(o, token_http, self.collected_as.add))
        api = HttpClient.for_transport(
            o.login_url,
            o.transport,
            auth=auth,
            on_response=usage.observe,
            fatal_error=_combined_fatal,
            auth_failure=auth_failure,
            max_connections=max(4, o.transport.max_concurrency * 2),
        )
        return token_http, api

    def collect(self, writer: SnapshotSink) -> None:
        usage = ApiUsage()
        token_http, api = self._clients(usage)
        try:
            assert api.auth is not None
            api.auth.header()  # authenticate first: refused credentials write nothing
            writer.extra_source.update(
                {
                    "instance_url": api.auth.base_url,
                    "api_version": self.options.api_version,
                    # remediation never acts on who collected (user id, username, client id)
                    "collected_as": sorted(self.collected_as),
                }
            )
            org = _mapping.Org(activity_days=self.options.activity_days)
            rest = Rest(api, self.options.api_version)
            stopped = self._query_all(rest, org, writer)
            if self.options.activity_days and not stopped:
                stopped = self._read_bulk_jobs(rest, org, writer)
            if self.options.metadata and not stopped:
                self._read_metadata(MetadataClient(api, self.options.api_version), org, writer)
            self._write(org, writer)
            writer.extra_source["api_usage"] = str(usage)
            log.info("salesforce.done", api_usage=str(usage), requests=api.request_count)
        finally:
            api.close()
            token_http.close()

    def _read_bulk_jobs(self, rest: Rest, org: _mapping.Org, writer: SnapshotSink) -> bool:
        """Bulk API query jobs of the window; a failure leaves bulk counts missing."""
        since = window_start(self.options.activity_days)
        try:
            org.bulk_jobs = read_bulk_jobs(rest, since)
        except AuthenticationError:
            raise
        except (ApiLimitExceeded, ServerUnreachable) as exc:
            writer.fail(f"Bulk API query jobs: {exc}")
            return True
        except ConnectorError as exc:
            log.warning("salesforce.bulk_jobs_unavailable", error=str(exc))
            return False
        org.complete.add("BulkJobs")
        log.info("salesforce.bulk_jobs", jobs=len(org.bulk_jobs))
        return False

    def _query_all(self, rest: Rest, org: _mapping.Org, writer: SnapshotSink) -> bool:
        """Run the SOQL queries concurrently; True if the run must stop (API limit, no server)."""
        stopped = False
        # The describe names the fields of the permissions added in 2025 (one call).
        permission_sets = permission_set_query(read_permission_fields(rest))
        queries = tuple(permission_sets if q.sobject == "PermissionSet" else q for q in QUERIES)
        if self.options.activity_days:
            queries += activity_queries(window_start(self.options.activity_days))

        def fetch(query: ObjectQuery) -> Fetched:
            return fetch_object(rest, query)

        results = dict(map_bounded(fetch, queries, workers=self.options.transport.max_concurrency))
        for query in queries:
            result = results[query]
            if needs_per_user_retry(query, result) and "User" in org.complete:
                log.info("salesforce.per_user_query", object=query.sobject, error=str(result.error))
                user_ids = [u["Id"] for u in org.users if u.get("Id")]
                result = fetch_per_user(rest, query, user_ids, result.dropped)
            log.info(
                "salesforce.object",
                object=query.sobject,
                records=len(result.records),
                complete=result.error is None,
            )
            if result.error is None:
                org.complete.add(query.sobject)
            elif query.auxiliary and not isinstance(
                result.error, AuthenticationError | ApiLimitExceeded | ServerUnreachable
            ):
                log.warning(
                    "salesforce.auxiliary_unavailable",
                    object=query.sobject,
                    error=str(result.error),
                )
            else:
                if isinstance(result.error, AuthenticationError):
                    raise result.error
                # A spent API allowance or a vanished server fails every later call too.
                stopped = stopped or isinstance(result.error, ApiLimitExceeded | ServerUnreachable)
                writer.fail(
                    f"{query.sobject}: {result.error} ({len(result.records)} records read "
                    "before the error; the rest are missing)"
                )
            store(org, query.sobject, result)
            if result.dropped:
                # Said in the header: these values are missing, not false.
                unavailable = writer.extra_source.setdefault("unavailable_fields", {})
                unavailable[query.sobject] = sorted(result.dropped)
        return stopped

    def _read_metadata(self, md: MetadataClient, org: _mapping.Org, writer: SnapshotSink) -> None:
        steps: list[tuple[str, Callable[[], None]]] = [
            ("SecuritySettings", lambda: _read_one(md, org, "SecuritySettings", "Security")),
            (
                "ConnectedAppSettings",
                lambda: _read_one(md, org, "ConnectedAppSettings", "ConnectedApp"),
            ),
            ("ConnectedApp", lambda: _read_all(md, org, "ConnectedApp")),
            ("Profile", lambda: _read_all(md, org, "Profile")),
            ("ProfileSessionSetting", lambda: _read_all(md, org, "ProfileSessionSetting")),
            ("ExternalClientApplication", lambda: _read_external_client_apps(md, org)),
        ]
        for what, step in steps:
            try:
                step()
            except AuthenticationError:
                raise
            except (ApiLimitExceeded, ServerUnreachable) as exc:
                writer.fail(f"Metadata API {what}: {exc}")
                return
            except ConnectorError as exc:
                writer.fail(f"Metadata API {what}: {exc}")
            else:
                org.complete.add(f"md:{what}")

    def _write(self, org: _mapping.Org, writer: SnapshotSink) -> None:
        for resource in _mapping.map_accounts(org, self.options):
            writer.add(resource)
        for resource in _mapping.map_integrations_and_credentials(org):
            writer.add(resource)
        for resource in _mapping.map_session_policies(org):
            writer.add(resource)
        for resource in _mapping.map_profile_session_policies(org):
            writer.add(resource)
        for resource in _mapping.map_settings(org):
            writer.add(resource)


def _combined_fatal(response: Any) -> str | None:
    """REST error bodies are JSON; Metadata API faults are SOAP XML."""
    content_type = response.headers.get("Content-Type", "")
    if "xml" in content_type:
        return soap_fatal(response)
    return classify(response)


def _read_one(md: MetadataClient, org: _mapping.Org, metadata_type: str, full_name: str) -> None:
    records = md.read_metadata(metadata_type, [full_name])
    value = records[0] if records else {}
    if metadata_type == "SecuritySettings":
        org.security_settings = value
    else:
        org.connected_app_settings = value


def _read_all(md: MetadataClient, org: _mapping.Org, metadata_type: str) -> None:
    names = md.list_metadata(metadata_type)
    records = md.read_metadata(metadata_type, names) if names else []
    if metadata_type == "ConnectedApp":
        org.app_metadata = records
    elif metadata_type == "ProfileSessionSetting":
        org.profile_sessions = records
    else:
        org.profile_metadata = records


def _list_and_read(md: MetadataClient, metadata_type: str) -> list[dict[str, Any]]:
    names = md.list_metadata(metadata_type)
    return md.read_metadata(metadata_type, names) if names else []


def _read_external_client_apps(md: MetadataClient, org: _mapping.Org) -> None:
    """External Client Apps (API 59.0+), their admin OAuth policies and OAuth settings.

    An org or API version without the feature answers INVALID_TYPE: there are
    none to report. The OAuth settings (scopes) need "Allow Access to OAuth
    Consumer Secrets via Metadata API"; without it the scopes stay missing.
    """
    try:
        org.ecas = _list_and_read(md, "ExternalClientApplication")
    except SoapFault as exc:
        if exc.fault_code == "INVALID_TYPE":
            log.info("salesforce.no_external_client_apps", reason=str(exc))
            return
        raise
    if not org.ecas:
        return
    org.eca_policies = _list_and_read(md, "ExtlClntAppOauthConfigurablePolicies")
    try:
        org.eca_settings = _list_and_read(md, "ExtlClntAppOauthSettings")
    except SoapFault as exc:
        log.warning("salesforce.eca_oauth_settings_unreadable", error=str(exc))
