#!/usr/bin/env python3
"""Cut the GitHub REST API description down to what a posture connector needs.

    python3 cut.py SRC.json [-o github-posture-subset.json]

SRC is GitHub's bundled OpenAPI 3.0 description for GitHub Enterprise Cloud
(github/rest-api-description: descriptions/ghec/ghec.2022-11-28.json, or the
unversioned descriptions/ghec/ghec.json, whose content is API version 2022-11-28),
or the verbatim republication of that file in the npm package @octokit/openapi
(generated/ghec.json). For the latter, the Octokit additions are undone: every
"x-octokit" key is removed and the "info" block is put back to GitHub's own text.
Nothing else is changed: the selected operations and every component they reach
through "$ref" (schemas, parameters, responses, headers, examples) are copied as
they are, in the source's order. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import sys

# (method, path) pairs a privileged-access / credential-hygiene connector reads.
OPERATIONS = [
    # GitHub App authentication (JWT) and installation tokens
    ("get", "/app"),
    ("get", "/app/installations/{installation_id}"),
    ("get", "/apps/{app_slug}"),  # an installed App's owner (publisher)
    ("post", "/app/installations/{installation_id}/access_tokens"),
    ("get", "/orgs/{org}/installation"),
    ("get", "/installation/repositories"),
    # who am I / rate limit
    ("get", "/user"),
    ("get", "/rate_limit"),
    # organization settings and people
    ("get", "/orgs/{org}"),
    ("get", "/orgs/{org}/members"),
    ("get", "/orgs/{org}/memberships/{username}"),
    ("get", "/orgs/{org}/outside_collaborators"),
    ("get", "/orgs/{org}/invitations"),
    ("get", "/users/{username}"),
    ("get", "/orgs/{org}/teams"),
    ("get", "/orgs/{org}/teams/{team_slug}/members"),
    ("get", "/orgs/{org}/organization-roles"),
    ("get", "/orgs/{org}/organization-roles/{role_id}/users"),
    ("get", "/orgs/{org}/organization-roles/{role_id}/teams"),
    # credentials
    ("get", "/orgs/{org}/personal-access-tokens"),
    ("get", "/orgs/{org}/personal-access-tokens/{pat_id}/repositories"),
    # remediation (connectors/github/_actions.py): revoke a fine-grained token's access
    ("post", "/orgs/{org}/personal-access-tokens/{pat_id}"),
    ("get", "/orgs/{org}/personal-access-token-requests"),
    ("get", "/orgs/{org}/personal-access-token-requests/{pat_request_id}/repositories"),
    ("get", "/orgs/{org}/credential-authorizations"),
    ("get", "/orgs/{org}/actions/secrets"),
    ("get", "/orgs/{org}/actions/secrets/{secret_name}/repositories"),
    ("get", "/orgs/{org}/repos"),
    ("get", "/repos/{owner}/{repo}/keys"),
    ("get", "/repos/{owner}/{repo}/collaborators"),
    ("get", "/repos/{owner}/{repo}/actions/secrets"),
    # integrations and audit
    ("get", "/orgs/{org}/installations"),
    ("get", "/orgs/{org}/audit-log"),
]

OFFICIAL_INFO = {
    "version": "1.1.4",
    "title": "GitHub v3 REST API",
    "description": "GitHub's v3 REST API.",
    "license": {"name": "MIT", "url": "https://spdx.org/licenses/MIT"},
    "termsOfService": "https://docs.github.com/articles/github-terms-of-service",
    "contact": {
        "name": "Support",
        "url": "https://support.github.com/contact?tags=dotcom-rest-api",
    },
    "x-github-plan": "ghec",
}


def strip_octokit(o):
    if isinstance(o, dict):
        return {k: strip_octokit(v) for k, v in o.items() if k != "x-octokit"}
    if isinstance(o, list):
        return [strip_octokit(v) for v in o]
    return o


def refs_in(o, out: set[str]):
    if isinstance(o, dict):
        r = o.get("$ref")
        if isinstance(r, str) and r.startswith("#/components/"):
            out.add(r)
        for v in o.values():
            refs_in(v, out)
    elif isinstance(o, list):
        for v in o:
            refs_in(v, out)


def resolve(doc, ref: str):
    cur = doc
    for part in ref[2:].split("/"):
        cur = cur[part.replace("~1", "/").replace("~0", "~")]
    return cur


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src")
    ap.add_argument("-o", "--out", default="github-posture-subset.json")
    a = ap.parse_args()
    with open(a.src, encoding="utf-8") as f:
        doc = json.load(f)
    republished = "octokit" in json.dumps(doc.get("info", {})).lower()
    doc = strip_octokit(doc)
    if republished:
        doc["info"] = dict(OFFICIAL_INFO)

    paths: dict = {}
    missing = []
    for method, path in OPERATIONS:
        op = doc["paths"].get(path, {}).get(method)
        if op is None:
            missing.append(f"{method.upper()} {path}")
            continue
        paths.setdefault(path, {})[method] = op
    # keep path-level keys (parameters shared by all methods), if any
    for path in paths:
        for k, v in doc["paths"][path].items():
            if k not in ("get", "put", "post", "delete", "patch", "head", "options", "trace"):
                paths[path][k] = v
    # keep the source's path order
    paths = {p: paths[p] for p in doc["paths"] if p in paths}

    seen: set[str] = set()
    todo: set[str] = set()
    refs_in(paths, todo)
    while todo:
        r = todo.pop()
        if r in seen:
            continue
        seen.add(r)
        refs_in(resolve(doc, r), todo)
    components: dict = {}
    for section, items in doc.get("components", {}).items():
        keep = {
            name: body for name, body in items.items() if f"#/components/{section}/{name}" in seen
        }
        if keep:
            components[section] = keep

    used_tags = {
        t
        for p in paths.values()
        for op in p.values()
        if isinstance(op, dict)
        for t in op.get("tags", [])
    }
    out = {"openapi": doc["openapi"], "info": doc["info"]}
    out["tags"] = [t for t in doc.get("tags", []) if t.get("name") in used_tags]
    for k in ("servers", "externalDocs"):
        if k in doc:
            out[k] = doc[k]
    out["paths"] = paths
    out["components"] = components
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=2, ensure_ascii=False)
        f.write("\n")
    n_ops = sum(1 for p in paths.values() for m in p if m in ("get", "post"))
    print(
        f"{a.out}: {n_ops} operations, {sum(len(v) for v in components.values())} components"
        f"{' (x-octokit stripped, info restored)' if republished else ''}"
    )
    if missing:
        print("missing in source: " + ", ".join(missing), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
