"""Helpers every connector's actions use to turn a finding's resource into account targets."""

from __future__ import annotations

from collections.abc import Iterable

from policyengine.remediate.contract import Facts, Record, ResourceLookup, Target


def accounts_by_id(ids: Iterable[object], lookup: ResourceLookup) -> list[Record]:
    """The snapshot accounts with these ids, once each, in id order (plans are deterministic);
    ids that are not strings or not in the snapshot are left out."""
    unique = dict.fromkeys(i for i in ids if isinstance(i, str))
    found = [lookup.get("account", i) for i in unique]
    return sorted((a for a in found if a is not None), key=lambda a: str(a.get("id")))


def account_target(account: Record, facts: Facts) -> Target:
    """A target on an account; its type goes into the facts so apply can refuse break-glass."""
    return Target(
        kind="account",
        id=str(account["id"]),
        name=str(account.get("name") or account["id"]),
        facts={**facts, "account_type": account.get("type")},
        account=str(account["id"]),
    )
