"""The pure Okta -> normalised mapping functions."""

from __future__ import annotations

import pytest

from connectors.okta import _mapping as m
from connectors.okta._options import parse_type_rules


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00Z"),
        ("2026-01-01T23:59:59.999Z", "2026-01-01T23:59:59Z"),
        ("2026-01-01T01:00:00+01:00", "2026-01-01T00:00:00Z"),
        ("2026-01-01T00:00:00", "2026-01-01T00:00:00Z"),
        ("yesterday", None),
        (None, None),
        ("", None),
        (12345, None),
    ],
)
def test_timestamp(value, expected) -> None:
    assert m.timestamp(value) == expected


@pytest.mark.parametrize(
    ("factor_type", "method"),
    [
        ("webauthn", "webauthn"),
        ("u2f", "fido2"),
        ("signed_nonce", "platform"),
        ("push", "push"),
        ("token:software:totp", "totp"),
        ("token:hardware", "totp"),
        ("token:hotp", "totp"),
        ("sms", "sms"),
        ("call", "voice"),
        ("email", "email"),
    ],
)
def test_each_factor_type_maps_to_a_method(factor_type: str, method: str) -> None:
    got = m.mfa([{"factorType": factor_type, "status": "ACTIVE"}])
    assert got["methods"] == [method]
    assert got["enrolled"] is True
    assert got["phishing_resistant"] is (method in {"webauthn", "fido2", "platform"})


@pytest.mark.parametrize(
    "status",
    ["PENDING_ACTIVATION", "INACTIVE", "NOT_SETUP", "EXPIRED", "ENROLLED", "DISABLED", None],
)
def test_only_active_factors_count(status: str) -> None:
    assert m.mfa([{"factorType": "webauthn", "status": status}])["enrolled"] is False


def test_security_question_and_unknown_factors_are_not_mfa() -> None:
    factors = [
        {"factorType": "question", "status": "ACTIVE"},
        {"factorType": "some_future_type", "status": "ACTIVE"},
    ]
    assert m.mfa(factors) == {"enrolled": False, "methods": [], "phishing_resistant": False}


def test_account_without_role_data_leaves_privilege_missing() -> None:
    user = {"id": "00u1", "status": "ACTIVE", "profile": {"login": "a@x"}}
    account = m.account(user, type_rules=(), factors=None, direct_roles=None, admin_groups=[])
    assert "privileged" not in account and "roles" not in account and "mfa" not in account
    assert account["enabled"] is True and account["type"] == "human"


def test_account_without_status_has_no_enabled() -> None:
    account = m.account(
        {"id": "00u1", "profile": {"login": "a@x"}},
        type_rules=(),
        factors=[],
        direct_roles=[],
        admin_groups=[],
    )
    assert "enabled" not in account and "status" not in account


def test_default_type_rule() -> None:
    rules = parse_type_rules([], defaults=True)
    assert m.account_type("svc-backup@x.com", rules) == "service"
    assert m.account_type("service.ci@x.com", rules) == "service"
    assert m.account_type("API_sync@x.com", rules) == "service"
    assert m.account_type("svcadmin@x.com", rules) == "human"
    assert m.account_type("steve@x.com", rules) == "human"


def test_group_assigned_role_without_visible_group_still_privileges() -> None:
    roles = [{"type": "ORG_ADMIN", "assignmentType": "GROUP"}]
    account = m.account(
        {"id": "00u1", "profile": {"login": "a@x"}},
        type_rules=(),
        factors=[],
        direct_roles=roles,
        admin_groups=[],
    )
    assert account["privileged"] is True
    assert account["privileged_via"] == ["role:ORG_ADMIN"]


def test_session_policy_without_groups_applies_to_everyone() -> None:
    rule = {"id": "r1", "name": "R", "actions": {"signon": {"session": {}}}}
    policy = {"id": "p1", "name": "P"}
    sp = m.session_policy(policy, rule, everyone_group=None)
    assert sp["applies_to"] == ["everyone"]
    assert sp["name"] == "P / R"
    for key in ("max_lifetime_minutes", "idle_timeout_minutes", "mfa_required", "priority"):
        assert key not in sp
