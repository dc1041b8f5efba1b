"""Correlate accounts across sources into ``person`` resources.

Accounts of humans (``type`` human or unset) that share a lower-cased
``email`` or an ``employee_id`` belong to one person. The person lists its
accounts as cross-source references, and each account gets a ``person``
reference, so that policies can ask "a person disabled in the directory must
have no enabled SaaS account".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

PERSON_SOURCE = "correlation"
_HUMAN_TYPES = (None, "human")


def correlate(accounts: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return person resources; sets ``person`` on every correlated account."""
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        root = key
        while parent[root] != root:
            root = parent[root]
        while parent[key] != root:  # path compression
            parent[key], key = root, parent[key]
        return root

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    members: list[tuple[dict[str, Any], list[str]]] = []
    for account in accounts:
        if account.get("type") not in _HUMAN_TYPES:
            continue
        keys = []
        email = account.get("email")
        if isinstance(email, str) and "@" in email:
            keys.append("email:" + email.strip().lower())
        employee = account.get("employee_id")
        if isinstance(employee, str) and employee.strip():
            keys.append("employee:" + employee.strip())
        if not keys:
            continue
        for key in keys:
            parent.setdefault(key, key)
        for key in keys[1:]:
            union(keys[0], key)
        members.append((account, keys))

    groups: dict[str, list[dict[str, Any]]] = {}
    for account, keys in members:
        groups.setdefault(find(keys[0]), []).append(account)

    persons = []
    for accounts_of_person in groups.values():
        accounts_of_person.sort(key=lambda a: (a["source"], a["id"]))
        emails = sorted(
            {
                a["email"].strip().lower()
                for a in accounts_of_person
                if isinstance(a.get("email"), str)
            }
        )
        employee_ids = sorted(
            {a["employee_id"] for a in accounts_of_person if isinstance(a.get("employee_id"), str)}
        )
        pid = f"email:{emails[0]}" if emails else f"employee:{employee_ids[0]}"
        name = next((a.get("name") for a in accounts_of_person if a.get("name")), pid)
        person = {
            "kind": "person",
            "id": pid,
            "name": emails[0] if emails else name,
            "source": PERSON_SOURCE,
            "source_type": PERSON_SOURCE,
            "emails": emails,
            "employee_id": employee_ids[0] if employee_ids else None,
            "accounts": [{"source": a["source"], "id": a["id"]} for a in accounts_of_person],
        }
        for account in accounts_of_person:
            account["person"] = {"source": PERSON_SOURCE, "id": pid}
        persons.append(person)
    persons.sort(key=lambda p: p["id"])
    return persons
