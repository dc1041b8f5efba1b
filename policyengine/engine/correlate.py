"""Correlate accounts across sources into ``person`` resources.

Accounts of humans (``type`` human or unset) that share a lower-cased
``email`` or an ``employee_id`` belong to one person. The person lists its
accounts as cross-source references, and each account gets a ``person``
reference (``(source, id)`` tuples), so that policies can ask "a person disabled in the directory must
have no enabled SaaS account".

Runs over every account of every snapshot (a million in a large directory), so
the common case — an account with one key — costs a few dictionary operations;
union-find is only needed for accounts that carry both an email and an id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from policyengine.model.reserved import CORRELATION_INSTANCE

#: kept for existing imports; the name itself lives in the model
PERSON_SOURCE = CORRELATION_INSTANCE
_HUMAN_TYPES = (None, "human")


def _keys(account: dict[str, Any]) -> list[str]:
    keys = []
    email = account.get("email")
    if isinstance(email, str) and "@" in email:
        keys.append("email:" + email.strip().lower())
    employee = account.get("employee_id")
    if isinstance(employee, str) and employee.strip():
        keys.append("employee:" + employee.strip())
    return keys


class KeyUnion:
    """Union-find over correlation keys, only for accounts with several.

    The root of a set is its smallest key, which is the id of its person
    (``email:`` sorts before ``employee:``).
    """

    __slots__ = ("parent",)

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, key: str) -> str:
        parent = self.parent
        root = key
        while (up := parent.get(root, root)) != root:
            root = up
        while key != root:  # path compression
            parent[key], key = root, parent.get(key, key)
        return root

    def union(self, keys: Sequence[str]) -> None:
        first = self.find(keys[0])
        for key in keys[1:]:
            other = self.find(key)
            if other != first:
                low, high = sorted((first, other))
                self.parent[high] = low
                first = low


def correlate(accounts: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return person resources (sorted by id); sets ``person`` on every correlated account."""
    union = KeyUnion()
    parent, find = union.parent, union.find

    members: list[tuple[dict[str, Any], list[str]]] = []
    for account in accounts:
        if account.get("type") not in _HUMAN_TYPES:
            continue
        keys = _keys(account)
        if not keys:
            continue
        if len(keys) > 1:
            union.union(keys)
        members.append((account, keys))

    groups: dict[str, list[tuple[dict[str, Any], list[str]]]] = {}
    if parent:
        for entry in members:
            groups.setdefault(find(entry[1][0]), []).append(entry)
    else:
        for entry in members:
            groups.setdefault(entry[1][0], []).append(entry)

    persons = [_person(group) for group in groups.values()]
    persons.sort(key=lambda p: p["id"])
    return persons


def _person(group: list[tuple[dict[str, Any], list[str]]]) -> dict[str, Any]:
    if len(group) > 1:
        group.sort(key=lambda entry: (entry[0]["source"], entry[0]["id"]))
        keys = sorted({k for _, ks in group for k in ks})
    else:  # most people have one account: its keys are distinct already
        keys = group[0][1]
        if len(keys) > 1:
            keys = sorted(keys)
    emails = [k[6:] for k in keys if k.startswith("email:")]
    employee_ids = [k[9:] for k in keys if k.startswith("employee:")]
    pid = f"email:{emails[0]}" if emails else f"employee:{employee_ids[0]}"
    name = emails[0] if emails else next((a.get("name") for a, _ in group if a.get("name")), pid)
    # cross-source references as (source, id) tuples: a million persons, a few
    # hundred bytes less each than {"source": ..., "id": ...} mappings
    reference = (PERSON_SOURCE, pid)
    for account, _ in group:
        account["person"] = reference
    return person_resource(
        pid,
        name,
        emails,
        employee_ids[0] if employee_ids else None,
        [(a["source"], a["id"]) for a, _ in group],
    )


def person_resource(
    pid: str, name: Any, emails: list[str], employee_id: str | None, accounts: list[Any]
) -> dict[str, Any]:
    """The person resource policies see (also built by ``engine.projections``)."""
    return {
        "kind": "person",
        "id": pid,
        "name": name,
        "source": PERSON_SOURCE,
        "source_type": PERSON_SOURCE,
        "emails": emails,
        "employee_id": employee_id,
        "accounts": accounts,
    }
