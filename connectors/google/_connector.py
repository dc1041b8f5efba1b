"""The Google Workspace connector plug-in (``policyengine collect google``)."""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import httpx

from connectors.google._options import (
    REPORTS_SCOPE,
    SCOPES,
    GoogleOptions,
    add_arguments,
    parse_options,
)
from policyengine.connector.contract import SnapshotSink

#: 403 reasons that mean "slow down" (Admin SDK limits page), retried with backoff
RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"})


def google_reason(response: httpx.Response) -> str:
    """The first ``errors[].reason`` of Google's error body, or ``status``, or ''."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return ""
    if not isinstance(error, dict):
        return ""
    for item in error.get("errors") or []:
        if isinstance(item, dict) and item.get("reason"):
            return str(item["reason"])
    return str(error.get("status", ""))


def _rate_limited(response: httpx.Response) -> bool:
    return response.status_code == 403 and google_reason(response) in RATE_REASONS


class QuotaPause:
    """Google counts quotas per window (a minute) and sends no Retry-After: on a rate-limit 403
    every thread pauses, ``first`` seconds, doubling while answers stay rate-limited (up
    to one window), back to ``first`` after a success. Backoff per request still applies."""

    def __init__(self, first: float = 5.0, window: float = 60.0) -> None:
        self.first = first
        self.window = window
        self._next = first
        self._until = 0.0
        self._lock = threading.Lock()
        self.pauses = 0

    def __call__(self, response: httpx.Response) -> float | None:
        with self._lock:
            if not _rate_limited(response):
                if response.status_code < 300:
                    self._next = self.first
                return None
            now = time.monotonic()
            if now < self._until:  # the other threads hitting the same spent quota
                return self._until - now
            pause, self._next = self._next, min(self.window, self._next * 2)
            self._until = now + pause
            self.pauses += 1
            return pause


class QuotaPacer:
    """Spaces calls so ``quota`` per ``window`` seconds is never exceeded (0: no pacing).

    Google's 403 arrives only after the quota is spent and then every thread waits out
    the window's rest, each retry costing an attempt; spacing the calls at the quota's
    rate keeps the same throughput without the 403s. Thread-safe: each caller takes
    the next free slot and sleeps until it.
    """

    def __init__(self, quota: int, window: float) -> None:
        self.interval = window / quota if quota else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


def _auth_failure(response: httpx.Response) -> bool:
    """A 401 (after one new token) is refused credentials; a 403 is a missing permission."""
    return response.status_code == 401


class GoogleConnector:
    """Users with 2SV, admin roles, groups, third-party OAuth grants, app passwords."""

    name: ClassVar[str] = "google"
    summary: ClassVar[str] = (
        "Google Workspace: users and 2SV, admin roles, groups, OAuth grants, app passwords"
    )

    def __init__(self, options: GoogleOptions, *, instance: str) -> None:
        self.options = options
        self.instance = instance
        #: after collect(): requests sent (token calls included), retries, quota pauses
        self.request_count = 0
        self.retry_count = 0
        self.quota = QuotaPause(
            first=options.transport.retry_backoff * 10, window=options.quota_window
        )

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        add_arguments(parser)

    # -- remediation (policyengine.remediate.contract) -------------------------------
    credential_options: ClassVar[frozenset[str]] = frozenset({"service_account_file", "subject"})

    @classmethod
    def remediation_actions(cls) -> Sequence[Any]:
        from connectors.google._actions import ACTIONS

        return ACTIONS

    @classmethod
    def open_remediation(cls, options: Mapping[str, Any], *, instance: str) -> Any:
        from connectors.google._actions import GoogleSession

        return GoogleSession.open(options, instance=instance)

    @classmethod
    def from_options(cls, options: Mapping[str, Any], *, instance: str) -> GoogleConnector:
        from connectors.google._auth import load_key_file

        parsed = parse_options(options)
        load_key_file(parsed.service_account_file)  # a bad key file is exit 2 before any I/O
        return cls(parsed, instance=instance)

    def _client(self, base: str, auth: Any, *, attempts: int | None = None) -> Any:
        from connectors.http import HttpClient

        o = self.options
        return HttpClient.for_transport(
            base,
            o.transport,
            auth=auth,
            max_attempts=attempts,
            auth_failure=_auth_failure,
            retryable=_rate_limited,
            on_response=self.quota,
            max_connections=o.transport.max_concurrency + 2,
        )

    def collect(self, writer: SnapshotSink) -> None:
        from connectors.google._auth import delegated_auth, load_key_file
        from connectors.google._collect import GoogleCollector
        from connectors.google._not_provided import NOT_PROVIDED

        writer.extra_source["not_provided"] = NOT_PROVIDED  # fields the API never gives
        info = load_key_file(self.options.service_account_file)
        # remediation never acts on the delegated admin nor the service account
        own = (self.options.subject, info.get("client_email"), info.get("client_id"))
        writer.extra_source["collected_as"] = sorted({str(v) for v in own if v})
        token_client = self._client(info["token_uri"], None)
        auth = delegated_auth(info, self.options.subject, SCOPES, token_client)
        client = self._client(self.options.directory_url, auth)
        clients = [client, token_client]
        reports_client = None
        if self.options.activity_days:
            # a token of its own: a delegation lacking the Reports scope loses only the events
            reports_auth = delegated_auth(
                info, self.options.subject, (REPORTS_SCOPE,), token_client
            )
            reports_client = self._client(self.options.directory_url, reports_auth)
            clients.append(reports_client)
        try:
            auth.header()  # refused delegation stops here, before anything is written
            pace = QuotaPacer(self.options.quota, self.options.quota_window)
            GoogleCollector(client, self.options, writer, reports_client, pace=pace).run()
        finally:
            self.request_count = sum(c.request_count for c in clients)
            self.retry_count = sum(c.retry_count for c in clients)
            for each in clients:
                each.close()
