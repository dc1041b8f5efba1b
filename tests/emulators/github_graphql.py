"""The GitHub emulator's ``POST /graphql``: queries run by graphql-core against GitHub's own
schema cut (``tests/data/github/github-graphql-subset.graphql``), so a query the real API
would refuse for its shape is refused here too.

Served: ``organization(login:)`` with ``membersWithRole`` (each ``User`` with
``organizationVerifiedDomainEmails(login:)``) and ``samlIdentityProvider
.externalIdentities`` (null without SAML SSO), ``rateLimit``; cursor paging with
``first`` required and at most 100 (GitHub: MISSING_PAGINATION_BOUNDARIES otherwise).
Errors come back as GitHub sends them: HTTP 200 with ``errors: [{type, path, locations,
message}]``. External identities are visible to an owner's token or an App installation
(the schema's description); other callers get a FORBIDDEN error and a null provider.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable, Mapping
from typing import Any

from tests.emulators.kit import fixture_path

SCHEMA = fixture_path("github", "github-graphql-subset.graphql")
MAX_PAGE = 100


class GitHubGraphQLError(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@functools.lru_cache(maxsize=1)
def schema() -> Any:
    from graphql import build_schema

    return build_schema(SCHEMA.read_text(encoding="utf-8"))


def _cursor(index: int) -> str:
    return base64.b64encode(f"cursor:v2:{index}".encode()).decode()


def _offset(after: str | None) -> int:
    if after is None:
        return 0
    try:
        return int(base64.b64decode(after).decode().rsplit(":", 1)[1]) + 1
    except (ValueError, IndexError) as exc:
        raise GitHubGraphQLError(
            "INVALID_CURSOR_ARGUMENTS", f"`{after}` does not appear to be a valid cursor."
        ) from exc


def _connection(
    items: list[Any], first: int | None, after: str | None, edge: Callable[[Any], dict[str, Any]]
) -> dict[str, Any]:
    if first is None:
        raise GitHubGraphQLError(
            "MISSING_PAGINATION_BOUNDARIES",
            "You must provide a `first` or `last` value to properly paginate the connection.",
        )
    if not 1 <= first <= MAX_PAGE:
        raise GitHubGraphQLError(
            "ARGUMENT_LIMIT",
            f"Requesting {first} records exceeds the `first` limit of 100 records.",
        )
    start = _offset(after)
    chunk = items[start : start + first]
    edges = [{"cursor": _cursor(start + i), **edge(item)} for i, item in enumerate(chunk)]
    end = start + len(chunk)
    return {
        "edges": edges,
        "nodes": [e["node"] for e in edges],
        "totalCount": len(items),
        "pageInfo": {
            "hasNextPage": end < len(items),
            "hasPreviousPage": start > 0,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def execute(
    org: Mapping[str, Any],
    query: str,
    variables: Mapping[str, Any] | None,
    *,
    may_see_identities: bool,
    rate: Mapping[str, Any],
) -> dict[str, Any]:
    """The JSON body GitHub would answer for ``query`` over the fixture ``org``."""
    from graphql import graphql_sync

    login = str(org["org"]["login"])

    def user(member: Mapping[str, Any]) -> dict[str, Any]:
        emails = list(member.get("verified_emails") or [])
        return {
            "id": f"U_{member['id']}",
            "login": member["login"],
            "organizationVerifiedDomainEmails": lambda _info, login: (
                emails if login == org_login else []
            ),
        }

    org_login = login
    members = list(org["members"])

    def members_with_role(
        _info: Any, first: int | None = None, after: str | None = None, **_: Any
    ) -> dict[str, Any]:
        return _connection(
            members,
            first,
            after,
            lambda m: {"node": user(m), "role": "ADMIN" if m["role"] == "admin" else "MEMBER"},
        )

    people = {m["login"]: m for m in members}

    def identities(
        _info: Any, first: int | None = None, after: str | None = None, **_: Any
    ) -> dict[str, Any]:
        linked = list(org.get("saml_identities") or [])

        def edge(identity: Mapping[str, Any]) -> dict[str, Any]:
            member = people.get(identity.get("login"))
            return {
                "node": {
                    "id": f"EI_{identity['guid']}",
                    "guid": identity["guid"],
                    "samlIdentity": {
                        "nameId": identity.get("name_id"),
                        "username": identity.get("name_id"),
                        "emails": [],
                    },
                    "user": user(member) if member else None,
                }
            }

        return _connection(linked, first, after, edge)

    def provider(_info: Any) -> dict[str, Any] | None:
        if not org["org"].get("saml_sso"):
            return None
        if not may_see_identities:
            raise GitHubGraphQLError(
                "FORBIDDEN", "Resource not accessible by personal access token"
            )
        return {"id": f"OIP_{org['org']['id']}", "externalIdentities": identities}

    def organization(_info: Any, login: str) -> dict[str, Any] | None:
        if login != org_login:
            raise GitHubGraphQLError(
                "NOT_FOUND", f"Could not resolve to an Organization with the login of '{login}'."
            )
        return {
            "id": f"O_{org['org']['id']}",
            "login": org_login,
            "membersWithRole": members_with_role,
            "samlIdentityProvider": provider,
        }

    root = {"id": "Q", "organization": organization, "rateLimit": dict(rate)}
    result = graphql_sync(schema(), query, root_value=root, variable_values=dict(variables or {}))
    body: dict[str, Any] = {}
    if result.data is not None:
        body["data"] = result.data
    if result.errors:
        body["errors"] = [_error(e) for e in result.errors]
    return body


def _error(error: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": getattr(error.original_error, "kind", None) or "INVALID"}
    if error.path:
        out["path"] = list(error.path)
    out["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations or []]
    out["message"] = error.message
    return out


def rate_limited_body() -> dict[str, Any]:
    """GitHub's answer (HTTP 200) once the GraphQL points are spent."""
    return {
        "errors": [
            {"type": "RATE_LIMITED", "message": "API rate limit already exceeded for user ID 1."}
        ]
    }
