"""Cut GitHub's GraphQL schema (SDL) to the types and fields the connector queries.

    python3 cut_graphql.py schema.graphql -o github-graphql-subset.graphql

Needs graphql-core. Keeps the vendor's descriptions and types; drops every other type,
every other field, and interfaces other than ``Node`` (so the kept types stay valid).
Exits non-zero naming any type or field missing from the source.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

#: type -> fields kept (the connector's queries and the emulator's answers)
KEEP: dict[str, tuple[str, ...]] = {
    "Query": ("id", "organization", "rateLimit"),
    "Node": ("id",),
    "Organization": ("id", "login", "membersWithRole", "samlIdentityProvider"),
    "OrganizationMemberConnection": ("edges", "nodes", "pageInfo", "totalCount"),
    "OrganizationMemberEdge": ("cursor", "node", "role"),
    "OrganizationMemberRole": (),
    "User": ("id", "login", "organizationVerifiedDomainEmails"),
    "OrganizationIdentityProvider": ("id", "externalIdentities"),
    "ExternalIdentityConnection": ("edges", "nodes", "pageInfo", "totalCount"),
    "ExternalIdentityEdge": ("cursor", "node"),
    "ExternalIdentity": ("id", "guid", "samlIdentity", "user"),
    "ExternalIdentitySamlAttributes": ("emails", "nameId", "username"),
    "UserEmailMetadata": ("primary", "type", "value"),
    "PageInfo": ("endCursor", "hasNextPage", "hasPreviousPage", "startCursor"),
    "RateLimit": ("cost", "limit", "nodeCount", "remaining", "resetAt", "used"),
    "DateTime": (),
}


def _replace(node: Any, **changes: Any) -> Any:
    """A copy of an AST node with some attributes changed (graphql-core nodes are frozen)."""
    values = {key: getattr(node, key) for key in node.keys if key != "loc"}
    return type(node)(**{**values, **changes})


def cut(sdl: str) -> str:
    from graphql import parse, print_ast
    from graphql.language import DocumentNode

    doc = parse(sdl)
    out = []
    found: set[str] = set()
    for node in doc.definitions:
        name = getattr(getattr(node, "name", None), "value", None)
        if name not in KEEP:
            continue
        found.add(name)
        fields = KEEP[name]
        if fields and getattr(node, "fields", None) is not None:
            kept = tuple(f for f in node.fields if f.name.value in fields)
            missing = set(fields) - {f.name.value for f in kept}
            if missing:
                raise SystemExit(f"{name}: no field(s) {sorted(missing)} in the source")
            node = _replace(node, fields=kept)
        if getattr(node, "interfaces", None):
            node = _replace(
                node, interfaces=tuple(i for i in node.interfaces if i.name.value == "Node")
            )
        out.append(node)
    missing_types = set(KEEP) - found
    if missing_types:
        raise SystemExit(f"no type(s) {sorted(missing_types)} in the source")
    return print_ast(DocumentNode(definitions=tuple(out))) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("source")
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args()
    with open(args.source, encoding="utf-8") as f:
        text = cut(f.read())
    from graphql import build_schema, validate_schema

    problems = validate_schema(build_schema(text))  # the cut must be a valid schema alone
    if problems:
        raise SystemExit(f"the cut is not a valid schema: {problems[0].message}")
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
