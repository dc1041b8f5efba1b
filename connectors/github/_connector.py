"""The GitHub connector plug-in (``policyengine collect github``)."""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import httpx

from connectors.github._options import API_VERSION, GitHubOptions, add_arguments, parse_options
from policyengine.connector.contract import SnapshotSink
from policyengine.errors import ConnectorError


class RateLimits:
    """``on_response`` hook: pause on GitHub's ``x-ratelimit-*``; a reset too far off fails.

    A primary limit spent (``x-ratelimit-remaining`` at ``reserve`` or below) pauses every
    thread until ``x-ratelimit-reset``; a secondary limit's ``Retry-After`` is honoured by
    the client's retry. Either wait beyond ``max_wait`` raises: the run stops, incomplete,
    rather than sleeping for an hour or hammering the API.
    """

    def __init__(self, max_wait: float, reserve: int, clock: Any = time.time) -> None:
        self.max_wait = max_wait
        self.reserve = reserve
        self.clock = clock
        self.pauses = 0
        self.limited = 0  # 403/429 rate-limit answers seen
        #: the REST (``core``) budget left, from the latest answer; None until one is seen
        self.remaining: int | None = None

    def __call__(self, response: httpx.Response) -> float | None:
        from connectors.github._collect import is_rate_limited

        headers = response.headers
        if is_rate_limited(response):
            self.limited += 1
        retry_after = headers.get("retry-after")
        if retry_after and retry_after.strip().isdigit() and is_rate_limited(response):
            if float(retry_after) > self.max_wait:
                raise ConnectorError(
                    f"github: secondary rate limit asks to wait {retry_after} s, more than "
                    f"max_rate_wait ({self.max_wait:g} s); stopped"
                )
            return None
        remaining, reset = headers.get("x-ratelimit-remaining"), headers.get("x-ratelimit-reset")
        if remaining is None or reset is None or not remaining.isdigit() or not reset.isdigit():
            return None
        if headers.get("x-ratelimit-resource", "core") == "core":
            self.remaining = int(remaining)
        if int(remaining) > self.reserve:
            return None
        wait = float(int(reset) - self.clock())
        if wait <= 0:
            return None
        if wait > self.max_wait:
            raise ConnectorError(
                f"github: rate limit spent ({headers.get('x-ratelimit-limit')} an hour); it "
                f"resets in {wait:.0f} s, more than max_rate_wait ({self.max_wait:g} s); stopped"
            )
        self.pauses += 1
        return wait + 0.05


def _auth_failure(response: httpx.Response) -> bool:
    """Only a 401 is refused credentials; a 403 is a permission or a rate limit."""
    return response.status_code == 401


class GitHubConnector:
    """Organisation members, owners, 2FA, tokens, deploy keys, Apps and Actions secrets."""

    name: ClassVar[str] = "github"
    summary: ClassVar[str] = (
        "GitHub organisation: members, 2FA, owners, PATs, deploy keys, Apps, Actions secrets"
    )

    def __init__(
        self, options: GitHubOptions, *, instance: str, transport: Any = None, clock: Any = None
    ) -> None:
        self.options = options
        self.instance = instance
        self._transport = transport
        self._clock = clock or time.time
        #: after collect(): requests sent, retries, rate-limit pauses and answers
        self.request_count = 0
        self.retry_count = 0
        self.rate_limit_pauses = 0
        self.rate_limited = 0
        self.installation_tokens = 0
        self.requests_by_credential: dict[str, int] = {}

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        add_arguments(parser)

    # -- remediation (policyengine.remediate.contract) -------------------------------
    credential_options: ClassVar[frozenset[str]] = frozenset(
        {
            "token_env",
            "token_file",
            "app_id",
            "private_key_env",
            "private_key_file",
            "installation_id",
        }
    )

    @classmethod
    def remediation_actions(cls) -> Sequence[Any]:
        from connectors.github._actions import ACTIONS

        return ACTIONS

    @classmethod
    def open_remediation(cls, options: Mapping[str, Any], *, instance: str) -> Any:
        from connectors.github._actions import GitHubSession

        return GitHubSession.open(options, instance=instance)

    @classmethod
    def from_options(cls, options: Mapping[str, Any], *, instance: str) -> GitHubConnector:
        connector = cls(parse_options(options), instance=instance)
        connector._check_secrets()
        return connector

    def _check_secrets(self) -> None:
        """Read the secrets now, so a missing one is a usage error before any I/O."""
        from connectors.github._auth import load_app_key

        if self.options.token is not None:
            self.options.token.read("GitHub personal access token")
        if self.options.app:
            load_app_key(self.options)

    def _client(self, auth: Any, hook: RateLimits | None, *, attempts: int | None = None) -> Any:
        from connectors.github._collect import is_rate_limited, refusal
        from connectors.http import HttpClient

        o = self.options
        client = HttpClient.for_transport(
            o.api_url,
            o.transport,
            auth=auth,
            max_attempts=attempts,
            on_response=hook,
            fatal_error=refusal,
            auth_failure=_auth_failure,
            retryable=is_rate_limited,
            max_connections=o.transport.max_concurrency + 2,
            transport=self._transport,
        )
        client.retry = dataclasses.replace(client.retry, max_wait=o.max_rate_wait)
        client._client.headers["X-GitHub-Api-Version"] = API_VERSION
        client._client.headers["Accept"] = "application/vnd.github+json"
        return client

    def _record_identity(self, token: Any, writer: SnapshotSink) -> None:
        """``source.collected_as``: the token's user (``GET /user``) and the App's id; the
        collector adds the App's slug from the installation listing. Never remediated."""
        from policyengine.errors import AuthenticationError, ConnectorError
        from policyengine.log import get_logger

        o = self.options
        found = {o.app_id} if o.app_id else set()
        if token is not None:
            try:
                me = token.get_json("/user")
                if isinstance(me, dict):
                    found |= {str(me.get("login") or ""), str(me.get("id") or "")}
            except AuthenticationError:
                raise
            except ConnectorError as exc:  # not a collection failure; the plan knows less
                get_logger("policyengine.github").warning(
                    "github.collected_as_unknown", error=exc.message
                )
        writer.extra_source["collected_as"] = sorted(found - {""})

    def collect(self, writer: SnapshotSink) -> None:
        from connectors.github._auth import InstallationAuth, token_auth
        from connectors.github._collect import GitHubCollector
        from connectors.github._not_provided import NOT_PROVIDED

        writer.extra_source["not_provided"] = NOT_PROVIDED  # fields the API never gives
        o = self.options
        reserve = o.transport.max_concurrency + 1
        hooks = [RateLimits(o.max_rate_wait, reserve, self._clock) for _ in range(2)]
        clients = []
        token = app = minting = None
        auth = None
        try:
            if o.token is not None:
                token = self._client(token_auth(o), hooks[0])
                clients.append(token)
            if o.app:
                minting = self._client(None, None)
                clients.append(minting)
                auth = InstallationAuth(o, minting, clock=self._clock)
                app = self._client(auth, hooks[1])
                clients.append(app)
            writer.extra_source["api_url"] = o.api_url
            writer.extra_source["org"] = o.org
            self._record_identity(token, writer)
            budgets = {id(token): hooks[0], id(app): hooks[1]}
            GitHubCollector(o, writer, token, app, budgets=budgets).run()
        finally:
            self.request_count = sum(c.request_count for c in clients)
            self.requests_by_credential = {
                name: c.request_count for name, c in (("token", token), ("app", app)) if c
            }
            self.retry_count = sum(c.retry_count for c in clients)
            self.rate_limit_pauses = sum(h.pauses for h in hooks)
            self.rate_limited = sum(h.limited for h in hooks)
            self.installation_tokens = auth.minted if auth else 0
            for client in clients:
                client.close()
