"""``actions:`` in the policy language: the loader checks the shape, lint checks
names, resource kinds and parameters against the installed connectors' actions."""

from __future__ import annotations

from pathlib import Path

import pytest

from policyengine.lint import lint_paths
from policyengine.policy.loader import load_definitions

BASE = """\
id: T-ACT-001
title: Apps are approved
severity: high
resource: {resource}
require: {{enabled: true}}
remediation: Approve or remove {{name}}.
actions:
{actions}
"""


def _lint(tmp_path: Path, actions: str, resource: str = "integration") -> list[str]:
    policy = tmp_path / "p.yaml"
    policy.write_text(BASE.format(actions=actions, resource=resource))
    return [f"{m.code} {m.message}" for m in lint_paths([policy], require_tests=False)]


def _codes(messages: list[str], *codes: str) -> list[str]:
    return [m for m in messages if m.split()[0] in codes]


def test_known_actions_with_good_parameters_are_clean(tmp_path: Path) -> None:
    messages = _lint(
        tmp_path,
        "  salesforce:\n    - revoke_oauth_tokens\n    - end_sessions: {session_types: [Oauth2]}",
    )
    assert _codes(messages, "E110", "W210", "E101") == []


def test_the_loader_keeps_actions_in_order_with_their_parameters(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(
        BASE.format(
            resource="integration",
            actions="  salesforce: [revoke_oauth_tokens, {freeze_user: {}}]",
        )
    )
    (definition,), errors = load_definitions([policy])
    assert errors == []
    assert definition.actions == {"salesforce": (("revoke_oauth_tokens", {}), ("freeze_user", {}))}


@pytest.mark.parametrize(
    ("actions", "resource", "wanted"),
    [
        ("  salesforce: [revoke_oauth_token]", "integration", "no action 'revoke_oauth_token'"),
        ("  salesforce: [remove_permission_set_assignment]", "account", "'permission_set' is required"),
        (
            "  salesforce:\n    - end_sessions: {session_types: Oauth2}",
            "integration",
            "'session_types' must be a strings",
        ),
        ("  salesforce:\n    - freeze_user: {reason: x}", "integration", "unknown parameter 'reason'"),
        ("  salesforce: [remove_permission_set_assignment: {permission_set: X}]", "integration",
         "applies to account, not integration"),
    ],
)  # fmt: skip
def test_lint_reports_bad_action_names_kinds_and_parameters(
    tmp_path: Path, actions: str, resource: str, wanted: str
) -> None:
    messages = _codes(_lint(tmp_path, actions, resource), "E110")
    assert messages and wanted in messages[0], messages


def test_actions_for_a_connector_that_is_not_installed_warn(tmp_path: Path) -> None:
    messages = _codes(_lint(tmp_path, "  acme: [lock_user]"), "W210")
    assert messages and "is not installed" in messages[0]


def test_actions_for_a_connector_without_actions_warn(tmp_path: Path) -> None:
    messages = _codes(_lint(tmp_path, "  file: [anything]"), "W210")
    assert messages and "offers no actions" in messages[0]


@pytest.mark.parametrize(
    ("actions", "wanted"),
    [
        ("  salesforce: 3", "a list of action names"),
        ("  salesforce: [Freeze-User]", "lowercase letters"),
        ("  salesforce: [{a: {}, b: {}}]", "one-key"),
        ("  salesforce: [{freeze_user: [1]}]", "must be a mapping"),
        ("  salesforce: [freeze_user, freeze_user]", "listed twice"),
    ],
)
def test_the_loader_refuses_a_malformed_actions_block(
    tmp_path: Path, actions: str, wanted: str
) -> None:
    messages = _codes(_lint(tmp_path, actions), "E101")
    assert messages and wanted in messages[0], messages
