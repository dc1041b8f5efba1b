"""GitHub's GraphQL API, for the login -> email facts the REST API does not expose.

Two queries, both cursor-paged (``first: 100``, ``pageInfo.endCursor``):

- ``User.organizationVerifiedDomainEmails(login: ORG)`` of every member: addresses
  GitHub verified to be in one of the organisation's verified domains;
- ``Organization.samlIdentityProvider.externalIdentities``: the SAML ``NameID`` each
  linked login signed in with (``samlIdentityProvider`` is null without SAML SSO).

GraphQL answers HTTP 200 with an ``errors`` array for most failures; a spent primary
limit is ``errors[].type == "RATE_LIMITED"`` with ``x-ratelimit-remaining: 0`` (the
shared :class:`~connectors.github._connector.RateLimits` hook pauses until the reset),
after which the page is asked again, a bounded number of times.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from connectors.http import HttpClient
from policyengine.errors import ConnectorError

PAGE = 100  # GitHub's maximum for first/last
RATE_LIMIT_RETRIES = 3

VERIFIED_EMAILS = """
query($org: String!, $cursor: String) {
  organization(login: $org) {
    membersWithRole(first: 100, after: $cursor) {
      pageInfo { hasNextPage endCursor }
      nodes { login organizationVerifiedDomainEmails(login: $org) }
    }
  }
  rateLimit { cost remaining resetAt }
}
"""

SAML_IDENTITIES = """
query($org: String!, $cursor: String) {
  organization(login: $org) {
    samlIdentityProvider {
      externalIdentities(first: 100, after: $cursor) {
        pageInfo { hasNextPage endCursor }
        edges { node { samlIdentity { nameId } user { login } } }
      }
    }
  }
  rateLimit { cost remaining resetAt }
}
"""


class GraphQLError(ConnectorError):
    """The answer carried ``errors`` (or no data where the query needs some)."""


def graphql_url(api_url: str) -> str:
    """``https://api.github.com`` -> ``…/graphql``; GHES ``https://HOST/api/v3`` -> ``/api/graphql``."""
    parts = urlsplit(api_url.rstrip("/"))
    path = parts.path
    if path.endswith("/api/v3"):
        path = path[: -len("/v3")] + "/graphql"
    else:
        path += "/graphql"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _describe(errors: Sequence[Any]) -> str:
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    kind = first.get("type") or "ERROR"
    where = ".".join(str(p) for p in first.get("path") or [])
    text = str(first.get("message", "")).strip()
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{kind}{' at ' + where if where else ''}: {text}{more}"


def run_query(client: HttpClient, url: str, query: str, variables: dict[str, Any]) -> Any:
    """``data`` of one query; GraphQLError for an ``errors`` answer, after rate-limit retries."""
    for attempt in range(RATE_LIMIT_RETRIES + 1):
        _, body = client.fetch_json("POST", url, json={"query": query, "variables": variables})
        if not isinstance(body, dict):
            raise GraphQLError(f"POST {url}: the answer is not a GraphQL response object")
        errors = body.get("errors")
        if not errors:
            if not isinstance(body.get("data"), dict):
                raise GraphQLError(f"POST {url}: the answer has neither data nor errors")
            return body["data"]
        if not isinstance(errors, list):
            raise GraphQLError(f"POST {url}: 'errors' is not a list")
        limited = any(isinstance(e, dict) and e.get("type") == "RATE_LIMITED" for e in errors)
        if not limited or attempt == RATE_LIMIT_RETRIES:
            raise GraphQLError(f"GraphQL {_describe(errors)}")
        # the RateLimits hook has paused the client until x-ratelimit-reset; ask again
    raise AssertionError("unreachable")


def _walk(data: Any, path: Sequence[str]) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def connection_pages(
    client: HttpClient, url: str, query: str, org: str, path: Sequence[str]
) -> Iterator[dict[str, Any] | None]:
    """Each page's connection object at ``path`` (None when an object on the way is null)."""
    cursor: str | None = None
    seen: set[str] = set()
    while True:
        data = run_query(client, url, query, {"org": org, "cursor": cursor})
        connection = _walk(data, path)
        if connection is None:
            yield None
            return
        yield connection
        info = connection.get("pageInfo") or {}
        cursor = info.get("endCursor")
        if not info.get("hasNextPage"):
            return
        if not isinstance(cursor, str) or cursor in seen:  # a server looping on one page
            raise GraphQLError(f"GraphQL {'.'.join(path)}: next page without a new cursor")
        seen.add(cursor)


def verified_domain_emails(client: HttpClient, url: str, org: str) -> dict[str, list[str]]:
    """login -> the member's email addresses in the org's verified domains."""
    out: dict[str, list[str]] = {}
    path = ("organization", "membersWithRole")
    for page in connection_pages(client, url, VERIFIED_EMAILS, org, path):
        if page is None:
            raise GraphQLError(f"GraphQL: no organization {org!r}")
        for node in page.get("nodes") or []:
            if isinstance(node, dict) and node.get("login"):
                emails = node.get("organizationVerifiedDomainEmails") or []
                out[str(node["login"])] = [str(e) for e in emails if e]
    return out


def saml_name_ids(client: HttpClient, url: str, org: str) -> dict[str, str] | None:
    """login -> SAML NameID of the linked identities; None when the org has no SAML SSO."""
    out: dict[str, str] = {}
    path = ("organization", "samlIdentityProvider", "externalIdentities")
    for page in connection_pages(client, url, SAML_IDENTITIES, org, path):
        if page is None:
            return None
        for edge in page.get("edges") or []:
            node = (edge or {}).get("node") or {}
            login = (node.get("user") or {}).get("login")
            name_id = (node.get("samlIdentity") or {}).get("nameId")
            if login and name_id:  # unlinked identities (user null) name nobody here
                out[str(login)] = str(name_id)
    return out
