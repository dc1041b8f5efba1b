#!/usr/bin/env python3
"""Cut the Google Workspace discovery documents down to what a posture connector reads.

    python3 cut.py SRC_DIR [OUT_DIR]

SRC_DIR holds Google's discovery documents admin.directory_v1.json, admin.reports_v1.json
and cloudidentity.v1.json (for example googleapiclient/discovery_cache/documents/ from the
google-api-python-client wheel; see README.md). OUT_DIR defaults to this script's folder.
Each output keeps the discovery format: every top-level key of the original, the kept
resources/methods verbatim, the schemas they reach through "$ref" (transitively), and only
the OAuth scopes those methods name. Nothing is added or reworded.
"""

import hashlib
import json
import os
import sys

KEEP = {
    "admin.directory_v1.json": {
        "users": ["list", "get"],
        "tokens": ["list", "get", "delete"],
        "asps": ["list", "get"],
        "roleAssignments": ["list", "get"],
        "roles": ["list", "get"],
        "privileges": ["list"],
        "groups": ["list", "get"],
        "members": ["list", "hasMember"],
        "orgunits": ["list", "get"],
        "customers": ["get"],
    },
    "admin.reports_v1.json": {
        "activities": ["list"],
    },
    "cloudidentity.v1.json": {
        "policies": ["list", "get"],
    },
}


def refs(node, out):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            out.add(node["$ref"])
        for v in node.values():
            refs(v, out)
    elif isinstance(node, list):
        for v in node:
            refs(v, out)


def cut(doc, keep):
    resources, used_scopes, roots = {}, set(), set()
    for res, methods in keep.items():
        src = doc["resources"][res]
        kept = {}
        for m in methods:
            meth = src["methods"][m]
            kept[m] = meth
            used_scopes.update(meth.get("scopes", []))
            refs(meth, roots)
        resources[res] = {"methods": kept}  # sub-resources (aliases, photos, chrome...) are dropped
    schemas, todo = {}, sorted(roots)
    while todo:
        name = todo.pop()
        if name in schemas:
            continue
        schemas[name] = doc["schemas"][name]
        more = set()
        refs(schemas[name], more)
        todo.extend(sorted(more - set(schemas)))
    out = {}
    for k, v in doc.items():
        if k == "resources":
            out[k] = resources
        elif k == "schemas":
            out[k] = {n: schemas[n] for n in sorted(schemas)}
        elif k == "auth":
            sc = v["oauth2"]["scopes"]
            out[k] = {"oauth2": {"scopes": {s: sc[s] for s in sorted(sc) if s in used_scopes}}}
        else:
            out[k] = v
    return out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    src = sys.argv[1]
    dst = sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(os.path.abspath(__file__))
    for fn, keep in KEEP.items():
        with open(os.path.join(src, fn), "rb") as source:
            raw = source.read()
        doc = json.loads(raw)
        sub = cut(doc, keep)
        with open(os.path.join(dst, fn), "w", encoding="utf-8") as f:
            json.dump(sub, f, indent=2, ensure_ascii=False)
            f.write("\n")
        print(
            f"{fn}: source sha256 {hashlib.sha256(raw).hexdigest()} revision {doc.get('revision')} "
            f"-> {sum(len(r['methods']) for r in sub['resources'].values())} methods, {len(sub['schemas'])} schemas"
        )


if __name__ == "__main__":
    main()
