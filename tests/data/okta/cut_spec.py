"""Cut Okta's Management API OpenAPI description to the operations the connector reads.

Usage (from the repository root, with a copy of the vendor file)::

    python tests/data/okta/cut_spec.py management-minimal.yaml tests/data/okta/okta-management-subset.json

Keeps the operations in ``OPERATIONS`` (the reads, and the remediation writes) (every response, errors included) and every
``#/components/...`` object they reach through ``$ref``, transitively; nothing else is
changed. See README.md for the source commit and checksums.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

#: path -> methods kept: every call connectors/okta makes (plus the app-user listing it may)
OPERATIONS: dict[str, tuple[str, ...]] = {
    "/api/v1/users": ("get",),
    "/api/v1/users/{userId}/factors": ("get",),
    "/api/v1/users/{userId}/roles": ("get",),
    "/api/v1/users/{userId}/grants": ("get",),
    "/api/v1/users/{userId}/clients": ("get",),
    "/api/v1/users/{userId}/clients/{clientId}/tokens": ("get",),
    "/api/v1/iam/assignees/users": ("get",),
    "/api/v1/groups": ("get",),
    "/api/v1/groups/{groupId}/roles": ("get",),
    "/api/v1/groups/{groupId}/users": ("get",),
    "/api/v1/api-tokens": ("get",),
    "/api/v1/policies": ("get",),
    "/api/v1/policies/{policyId}/rules": ("get",),
    "/api/v1/apps": ("get",),
    "/api/v1/apps/{appId}/grants": ("get",),
    "/api/v1/apps/{appId}/credentials/secrets": ("get",),
    "/api/v1/apps/{appId}/users": ("get",),
    "/api/v1/logs": ("get",),
    # what the remediation actions read and write (connectors/okta/_actions.py)
    "/api/v1/users/{id}": ("get",),
    "/api/v1/users/{userId}/sessions": ("delete",),
    "/api/v1/users/{id}/lifecycle/suspend": ("post",),
    "/api/v1/api-tokens/{apiTokenId}": ("get", "delete"),
    "/api/v1/apps/{appId}/grants/{grantId}": ("get", "delete"),
}


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/"):
            found.add(ref)
        mapping = (node.get("discriminator") or {}).get("mapping") or {}
        # a discriminator names its subtypes by reference string, not by $ref
        found |= {v for v in mapping.values() if str(v).startswith("#/components/")}
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def cut(document: dict[str, Any]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for path, methods in OPERATIONS.items():
        item = document["paths"][path]  # KeyError: the vendor renamed a path we read
        kept = {m: item[m] for m in methods}
        if "parameters" in item:
            kept["parameters"] = item["parameters"]
        paths[path] = kept
    components: dict[str, dict[str, Any]] = {}
    todo = _refs(paths)
    seen: set[str] = set()
    while todo:
        ref = todo.pop()
        if ref in seen:
            continue
        seen.add(ref)
        _, _, section, name = ref.split("/", 3)
        value = document["components"][section][name]
        components.setdefault(section, {})[name] = value
        todo |= _refs(value) - seen
    tags = {
        t
        for op in paths.values()
        for m, o in op.items()
        if m != "parameters"
        for t in o.get("tags", ())
    }
    out = {
        "openapi": document["openapi"],
        "info": document["info"],
        "servers": document.get("servers", []),
        "tags": [t for t in document.get("tags", []) if t.get("name") in tags],
        "paths": paths,
        "components": {s: dict(sorted(v.items())) for s, v in sorted(components.items())},
    }
    if "security" in document:
        out["security"] = document["security"]
    if "securitySchemes" in document.get("components", {}):
        out["components"]["securitySchemes"] = document["components"]["securitySchemes"]
    return out


def main(argv: list[str]) -> int:
    source, target = Path(argv[1]), Path(argv[2])
    document = yaml.load(source.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    subset = cut(document)
    target.write_text(json.dumps(subset, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    schemas = len(subset["components"].get("schemas", {}))
    print(f"{target}: {len(subset['paths'])} paths, {schemas} schemas")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
