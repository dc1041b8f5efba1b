"""``owner`` of Okta service accounts from the profile's ``managerId`` (when it is a user id).

PE-PRIV-001 ("service and shared accounts have an owner") reported every
Okta service account: the connector never filled ``owner``.
"""

from __future__ import annotations

import pytest

from connectors.okta import _mapping as m
from connectors.okta._options import parse_type_rules

RULES = parse_type_rules([], defaults=True)
OWNER_ID = "00ubrunol00000000002"


def _user(login: str, **profile: object) -> dict:
    return {
        "id": "00usvc00000000000001",
        "status": "ACTIVE",
        "profile": {"login": login, **profile},
    }


def _account(user: dict) -> dict:
    return m.account(user, type_rules=RULES, factors=[], direct_roles=[], admin_groups=[])


def test_service_account_owner_is_the_manager_user_id() -> None:
    account = _account(_user("svc-sync@example.com", managerId=OWNER_ID))
    assert account["type"] == "service"
    assert account["owner"] == OWNER_ID


def test_a_humans_manager_is_not_an_owner() -> None:
    account = _account(_user("ann@example.com", managerId=OWNER_ID))
    assert account["type"] == "human"
    assert "owner" not in account
    assert account["raw"]["profile"]["managerId"] == OWNER_ID  # still in raw


@pytest.mark.parametrize("manager", ["E1002", "bruno@example.com", "", None, 42])
def test_a_manager_id_that_is_not_an_okta_user_id_leaves_owner_missing(manager) -> None:
    account = _account(_user("svc-sync@example.com", managerId=manager))
    assert "owner" not in account
