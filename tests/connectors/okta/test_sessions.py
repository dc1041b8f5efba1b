"""Which session rule governs a user (pure functions)."""

from __future__ import annotations

from connectors.okta._sessions import effective_session, referenced_groups


def policy(pid: str, priority: int, include=(), exclude=(), status="ACTIVE") -> dict:
    groups = {"include": list(include), "exclude": list(exclude)}
    return {
        "id": pid,
        "priority": priority,
        "status": status,
        "conditions": {"people": {"groups": groups}},
    }


def rule(rid: str, priority: int, lifetime=0, idle=0, network=None, exclude_users=()) -> dict:
    conditions: dict = {"people": {"users": {"exclude": list(exclude_users)}}}
    if network:
        conditions["network"] = {"connection": network}
    return {
        "id": rid,
        "priority": priority,
        "status": "ACTIVE",
        "conditions": conditions,
        "actions": {
            "signon": {
                "session": {"maxSessionLifetimeMinutes": lifetime, "maxSessionIdleMinutes": idle}
            }
        },
    }


ADMINS = (policy("admins", 1, include=["g-admins"]), [rule("r-admin", 1, 720, 15)])
DEFAULT = (policy("default", 2, include=["g-everyone"]), [rule("r-default", 1, 1440, 120)])


def session(user: str, groups: set[str], policies) -> tuple | None:
    return effective_session(user, groups, policies, everyone_group="g-everyone")


def test_first_matching_policy_by_priority() -> None:
    policies = [DEFAULT, ADMINS]
    assert session("u1", {"g-admins"}, policies)[1] == ["r-admin"]
    assert session("u2", set(), policies)[1] == ["r-default"]


def test_group_exclusion_and_inactive_policies() -> None:
    excluded = (policy("admins", 1, include=["g-admins"], exclude=["g-bg"]), ADMINS[1])
    assert session("u1", {"g-admins", "g-bg"}, [excluded, DEFAULT])[1] == ["r-default"]
    inactive = (policy("admins", 1, include=["g-admins"], status="INACTIVE"), ADMINS[1])
    assert session("u1", {"g-admins"}, [inactive, DEFAULT])[1] == ["r-default"]


def test_network_conditioned_rule_may_apply_worst_case_wins() -> None:
    p = (
        policy("p", 1),
        [rule("office", 1, 1440, 60, network="ZONE"), rule("any", 2, 720, 15, network="ANYWHERE")],
    )
    limits, rules = session("u1", set(), [p])
    assert rules == ["office", "any"]
    assert limits == {"max_lifetime_minutes": 1440, "idle_timeout_minutes": 60}


def test_no_limit_anywhere_leaves_the_field_missing() -> None:
    p = (policy("p", 1), [rule("office", 1, 600, 10, network="ZONE"), rule("any", 2, 0, 10)])
    limits, _ = session("u1", set(), [p])
    assert limits == {"idle_timeout_minutes": 10}


def test_user_excluded_from_every_rule_falls_through_to_the_next_policy() -> None:
    p = (policy("p", 1), [rule("only", 1, 60, 5, exclude_users=["u1"])])
    assert session("u1", set(), [p, DEFAULT])[1] == ["r-default"]
    assert session("u1", set(), [p]) is None


def test_referenced_groups() -> None:
    assert referenced_groups([ADMINS, DEFAULT]) == {"g-admins", "g-everyone"}
