"""GitHub GraphQL: login -> email for correlation (verified-domain emails, SAML NameID).

The connector's queries are validated against GitHub's published schema (cut in
``tests/data/github/github-graphql-subset.graphql``), and so is every answer the emulator
gives them: each value is checked against the schema type of the field it answers.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.github import _graphql as gql
from tests.connectors.github.conftest import (
    MEMBER_TOKEN,
    OWNER_TOKEN,
    GitHub,
    app_options,
    by_name,
    collect,
    token_options,
)
from tests.emulators.github_graphql import SCHEMA

ORG = "acme-retail"
QUERIES = {"verified": gql.VERIFIED_EMAILS, "saml": gql.SAML_IDENTITIES}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture(scope="module")
def schema() -> Any:
    from graphql import build_schema

    return build_schema(SCHEMA.read_text(encoding="utf-8"))


def check_value(value: Any, type_: Any, selection: Any, where: str) -> None:
    """``value`` is what GitHub's schema says a field of ``type_`` answers for ``selection``."""
    from graphql import (
        GraphQLEnumType,
        GraphQLList,
        GraphQLNonNull,
        GraphQLObjectType,
        GraphQLScalarType,
    )

    if isinstance(type_, GraphQLNonNull):
        assert value is not None, f"{where}: null for non-null {type_}"
        check_value(value, type_.of_type, selection, where)
        return
    if value is None:
        return
    if isinstance(type_, GraphQLList):
        assert isinstance(value, list), f"{where}: not a list"
        for i, item in enumerate(value):
            check_value(item, type_.of_type, selection, f"{where}[{i}]")
        return
    if isinstance(type_, GraphQLEnumType):
        assert value in type_.values, f"{where}: {value!r} is not a {type_.name}"
        return
    if isinstance(type_, GraphQLScalarType):
        expected = {"String": str, "ID": str, "Int": int, "Boolean": bool, "DateTime": str}
        assert isinstance(value, expected[type_.name]), f"{where}: not {type_.name}"
        assert type_.name != "Int" or not isinstance(value, bool), where
        assert type_.name != "DateTime" or TIMESTAMP.match(value), f"{where}: not ISO 8601"
        return
    assert isinstance(type_, GraphQLObjectType), f"{where}: unexpected type {type_}"
    assert isinstance(value, dict), f"{where}: not an object"
    wanted = {}
    for field in selection.selections:
        key = field.alias.value if field.alias else field.name.value
        wanted[key] = field
        assert key in value, f"{where}.{key}: missing"
        definition = type_.fields[field.name.value]
        check_value(value[key], definition.type, field.selection_set, f"{where}.{key}")
    assert set(value) == set(wanted), f"{where}: keys {sorted(set(value) - set(wanted))} not asked"


def check_answer(schema: Any, query: str, body: dict[str, Any]) -> None:
    from graphql import parse

    operation = parse(query).definitions[0]
    check_value(body["data"], schema.query_type, operation.selection_set, "data")


def post(github: GitHub, token: str, query: str, **variables: Any) -> httpx.Response:
    return httpx.post(
        f"{github.url}/graphql",
        json={"query": query, "variables": {"org": ORG, **variables}},
        headers={"Authorization": f"Bearer {token}"},
    )


def test_the_schema_cut_is_a_valid_schema(schema: Any) -> None:
    from graphql import validate_schema

    assert validate_schema(schema) == []
    readme = (SCHEMA.parent / "README.md").read_text(encoding="utf-8")
    assert SCHEMA.name in readme and "octokit/graphql-schema" in readme


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_the_connectors_queries_are_valid_for_githubs_schema(schema: Any, name: str) -> None:
    from graphql import parse, validate

    assert validate(schema, parse(QUERIES[name])) == []


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_emulator_answers_match_githubs_schema(github: GitHub, schema: Any, name: str) -> None:
    answer = post(github, OWNER_TOKEN, QUERIES[name], cursor=None)
    assert answer.status_code == 200
    assert answer.headers["x-ratelimit-resource"] == "graphql"
    body = answer.json()
    assert "errors" not in body, body
    check_answer(schema, QUERIES[name], body)


def test_emulator_error_bodies_have_githubs_shape(github: GitHub) -> None:
    body = post(github, MEMBER_TOKEN, gql.SAML_IDENTITIES, cursor=None).json()
    (error,) = body["errors"]
    assert error["type"] == "FORBIDDEN" and error["path"] == [
        "organization",
        "samlIdentityProvider",
    ]
    assert body["data"]["organization"]["samlIdentityProvider"] is None
    no_page = post(github, OWNER_TOKEN, "query { organization(login: \"acme-retail\") { "
                   "membersWithRole { totalCount } } }").json()  # fmt: skip
    assert no_page["errors"][0]["type"] == "MISSING_PAGINATION_BOUNDARIES"
    invalid = post(github, OWNER_TOKEN, 'query { organization(login: "x") { nope } }').json()
    assert "data" not in invalid and "nope" in invalid["errors"][0]["message"]


def test_emails_come_from_saml_then_verified_domain_then_profile(
    github: GitHub, token_env: str, key_file: str, tmp_path: Path
) -> None:
    options = token_options(github, token_env) | app_options(github, key_file)
    result, snap = collect(options, tmp_path / "github.json")
    assert result.complete, result.errors
    accounts = by_name(snap, "accounts")
    jo = accounts["jo-leaver"]  # no public email; SAML NameID beats the verified address
    assert jo["email"] == "jo.leaver@acme-retail.example"
    assert jo["raw"]["email_source"] == "saml_name_id"
    assert jo["raw"]["verified_domain_emails"] == ["jo@acme-retail.example"]
    kim = accounts["kim-dev"]  # no public email, no SAML identity
    assert kim["email"] == "kim.dev@acme-retail.example"
    assert kim["raw"]["email_source"] == "verified_domain"
    assert accounts["lee-dev"]["raw"]["email_source"] == "public_profile"
    assert "email" not in accounts["svc-release-bot"]


def test_cursor_paging_over_many_members(github: GitHub, token_env: str, tmp_path: Path) -> None:
    for n in range(250):
        github.emulator.org["members"].append(
            {"login": f"bulk-{n}", "id": 90000 + n, "role": "member", "two_factor": True,
             "verified_emails": [f"bulk.{n}@acme-retail.example"]}
        )  # fmt: skip
    _, snap = collect(token_options(github, token_env), tmp_path / "github.json")
    accounts = by_name(snap, "accounts")
    assert accounts["bulk-249"]["email"] == "bulk.249@acme-retail.example"
    bodies = [r.json() for r in github.server.requests if r.path == "/graphql"]
    verified = [b for b in bodies if "organizationVerifiedDomainEmails" in b["query"]]
    assert len(verified) == 3  # 256 members at 100 a page
    assert [b["variables"]["cursor"] is None for b in verified] == [True, False, False]


def test_rate_limited_graphql_waits_for_the_reset_then_succeeds(
    github: GitHub, token_env: str, tmp_path: Path
) -> None:
    github.emulator.graphql_rate_limited = 1  # HTTP 200, errors[].type RATE_LIMITED
    result, snap = collect(token_options(github, token_env), tmp_path / "github.json")
    assert by_name(snap, "accounts")["kim-dev"]["email"] == "kim.dev@acme-retail.example"
    assert not any("verified-domain" in e for e in result.errors)
    assert sum(1 for r in github.server.requests if r.path == "/graphql") == 3  # 1 retried + 1


def test_graphql_errors_are_missing_data_with_the_reason(
    github: GitHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GH_MEMBER", MEMBER_TOKEN)  # a member's token: no external identities
    result, snap = collect(token_options(github, "GH_MEMBER"), tmp_path / "github.json")
    assert not result.complete
    (saml,) = [e for e in result.errors if "SAML identities" in e]
    assert "FORBIDDEN" in saml and "samlIdentityProvider" in saml
    assert MEMBER_TOKEN not in json.dumps(snap) and MEMBER_TOKEN not in saml


@pytest.mark.parametrize(
    ("api_url", "endpoint"),
    [
        ("https://api.github.com", "https://api.github.com/graphql"),
        ("https://ghe.example.com/api/v3", "https://ghe.example.com/api/graphql"),
        ("https://ghe.example.com/api/v3/", "https://ghe.example.com/api/graphql"),
    ],
)
def test_graphql_endpoint_of_github_and_ghes(api_url: str, endpoint: str) -> None:
    assert gql.graphql_url(api_url) == endpoint


def test_disabled_directory_person_still_a_github_member_is_found(
    github: GitHub, token_env: str, key_file: str, tmp_path: Path
) -> None:
    """kim-dev shows no public email: only the verified-domain email links her to the
    directory, where she has left (account disabled)."""
    from policyengine.api import evaluate_snapshots, load_policy_set
    from policyengine.policy.loader import builtin_policy_dir

    out = tmp_path / "github.json"
    result, _ = collect(token_options(github, token_env) | app_options(github, key_file), out)
    assert result.complete, result.errors
    directory = tmp_path / "corp-ad.json"
    leaver = {
        "kind": "account", "id": "CN=Kim Dev", "name": "kdev", "type": "human",
        "enabled": False, "email": "Kim.Dev@acme-retail.example",
    }  # fmt: skip
    directory.write_text(
        json.dumps(
            {
                "snapshot_version": 1,
                "source": {"connector": "ldap", "instance": "corp-ad", "complete": True,
                           "collected_at": "2026-11-01T06:00:00Z", "errors": [],
                           "counts": {"account": 1}},
                "accounts": [leaver],
            }
        )
    )  # fmt: skip
    found = evaluate_snapshots([directory, out], load_policy_set([builtin_policy_dir()]))
    hits = {(f.policy_id, f.resource.name) for f in found.findings}
    assert ("PE-XSRC-001", "kim.dev@acme-retail.example") in hits
