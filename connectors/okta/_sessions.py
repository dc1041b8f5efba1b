"""Which global session policy rule governs each user: ``account.session``.

Okta evaluates OKTA_SIGN_ON policies by priority: the first *active* policy
whose people conditions include the user applies, and within it the first
active rule whose conditions match. People conditions (group and user
include / exclude lists) can be decided from the snapshot; network zones,
authentication context and risk cannot, because they depend on where and
how the user signs in. So a rule with such a condition *may* apply and the
search goes on to the next rule; a rule without one ends it. The account's
``session`` is the worst case over the rules that may apply: the longest
lifetime and the longest idle timeout, and a rule without a limit (Okta's
``0``) leaves the field out, which a policy requiring a limit reports as
missing (fail closed).

>>> policy = {"id": "p", "status": "ACTIVE", "priority": 1, "conditions": {}}
>>> rule = {"id": "r", "status": "ACTIVE", "priority": 1,
...         "actions": {"signon": {"session": {"maxSessionLifetimeMinutes": 720,
...                                            "maxSessionIdleMinutes": 15}}}}
>>> effective_session("00u1", set(), [(policy, [rule])], everyone_group=None)
({'max_lifetime_minutes': 720, 'idle_timeout_minutes': 15}, ['r'])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Policy = tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]]

#: rule conditions that only the sign-in itself decides, with their "always" value
_CONTEXT_ANY: dict[str, tuple[str, frozenset[str]]] = {
    "network": ("connection", frozenset({"ANYWHERE"})),
    "authContext": ("authType", frozenset({"ANY"})),
    "riskScore": ("level", frozenset({"ANY"})),
    "risk": ("behaviors", frozenset()),
    "identityProvider": ("provider", frozenset({"ANY"})),
}


def _people(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return ((obj.get("conditions") or {}).get("people")) or {}


def referenced_groups(policies: Iterable[Policy]) -> set[str]:
    """Every group id named in a people condition of a policy or a rule."""
    found: set[str] = set()
    for policy, rules in policies:
        for obj in (policy, *rules):
            groups = _people(obj).get("groups") or {}
            found.update(groups.get("include") or ())
            found.update(groups.get("exclude") or ())
    return found


def _includes(obj: Mapping[str, Any], user_id: str, groups: set[str], everyone: str | None) -> bool:
    people = _people(obj)
    g = people.get("groups") or {}
    u = people.get("users") or {}
    if user_id in (u.get("exclude") or ()) or groups & set(g.get("exclude") or ()):
        return False
    include_groups = set(g.get("include") or ())
    include_users = set(u.get("include") or ())
    if not include_groups and not include_users:
        return True
    if everyone and everyone in include_groups:
        return True
    return user_id in include_users or bool(groups & include_groups)


def _context_free(rule: Mapping[str, Any]) -> bool:
    """True when nothing but people decides whether the rule applies."""
    conditions = rule.get("conditions") or {}
    for key, value in conditions.items():
        if key == "people" or not value:
            continue
        context = _CONTEXT_ANY.get(key)
        if context is None or not isinstance(value, Mapping):
            return False
        field, always = context
        setting = value.get(field)
        if setting in (None, "") or (isinstance(setting, str) and setting in always):
            continue
        if isinstance(setting, list) and not setting:
            continue
        return False
    return True


def _active(obj: Mapping[str, Any]) -> bool:
    return bool(obj.get("status", "ACTIVE") == "ACTIVE")


def _priority(obj: Mapping[str, Any]) -> float:
    value = obj.get("priority")
    return float(value) if isinstance(value, int | float) else float("inf")


def _limit(session: Mapping[str, Any], key: str) -> float | None:
    """A positive limit in minutes, or None for "no limit" (0) or absent."""
    value = session.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return value


def effective_session(
    user_id: str,
    groups: set[str],
    policies: Sequence[Policy],
    *,
    everyone_group: str | None,
) -> tuple[dict[str, Any], list[str]] | None:
    """``(session, rule ids that may apply)`` for one user, None when no rule applies.

    ``groups`` must hold the user's memberships among :func:`referenced_groups`.
    """
    for policy, rules in sorted(policies, key=lambda p: _priority(p[0])):
        if not _active(policy) or not _includes(policy, user_id, groups, everyone_group):
            continue
        candidates = []
        for rule in sorted(rules, key=_priority):
            if not _active(rule) or not _includes(rule, user_id, groups, everyone_group):
                continue
            candidates.append(rule)
            if _context_free(rule):
                break
        if not candidates:
            continue  # no rule of this policy matches: Okta goes on to the next policy
        session: dict[str, Any] = {}
        for key, field in (
            ("maxSessionLifetimeMinutes", "max_lifetime_minutes"),
            ("maxSessionIdleMinutes", "idle_timeout_minutes"),
        ):
            limits = [
                _limit((((r.get("actions") or {}).get("signon") or {}).get("session") or {}), key)
                for r in candidates
            ]
            if all(v is not None for v in limits):
                session[field] = max(v for v in limits if v is not None)
        return session, [str(r.get("id")) for r in candidates]
    return None
