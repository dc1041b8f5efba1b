"""Admin roles as ``role`` resources, so that role-level policies see Okta.

PE-PRIV-004 (two to four super admins) and PE-PRIV-002 (two break-glass
super admins) count a role's enabled ``members``; before these resources
existed, neither policy could ever fire on an Okta org.
"""

from __future__ import annotations

from pathlib import Path

from connectors.okta import _mapping as m
from tests.connectors.okta.conftest import Okta, by_id, by_name, collect, ssws_options
from tests.emulators._server import Response
from tests.emulators.okta import error_body


def test_role_resources_list_holders() -> None:
    roles = m.role_resources({"SUPER_ADMIN": ["u2", "u1", "u1"]}, members_known=True)
    assert roles == [
        {
            "kind": "role",
            "id": "role:SUPER_ADMIN",
            "name": "SUPER_ADMIN",
            "type": "okta_admin_role",
            "privileged": True,
            "raw": {"role": "SUPER_ADMIN"},
            "members": ["u1", "u2"],
        }
    ]


def test_role_members_left_out_when_some_roles_are_unknown() -> None:
    (role,) = m.role_resources({"ORG_ADMIN": ["u1"]}, members_known=False)
    assert role["name"] == "ORG_ADMIN" and "members" not in role


def test_roles_from_the_org_hold_direct_and_group_holders(
    okta: Okta, ssws_env: str, tmp_path: Path
) -> None:
    result, snap = collect(ssws_options(okta, ssws_env), tmp_path / "okta.json")
    assert result.complete, result.errors
    ids = {name: a["id"] for name, a in by_name(snap).items()}
    roles = by_id(snap, "roles")
    assert set(roles) == {
        "role:SUPER_ADMIN",
        "role:ORG_ADMIN",
        "role:HELP_DESK_ADMIN",
        "role:APP_ADMIN",
        "role:CUSTOM:Factor Reset Operators",
    }
    assert roles["role:SUPER_ADMIN"]["members"] == [ids["alice@example.com"]]
    # ORG_ADMIN only through the "Okta Admins" group
    assert roles["role:ORG_ADMIN"]["members"] == [ids["bob@example.com"]]
    # every member is an account of the snapshot, and holds the role in `roles`
    accounts = by_id(snap, "accounts")
    for role in roles.values():
        assert role["privileged"] is True
        for member in role["members"]:
            assert role["name"] in accounts[member]["roles"]


def test_unreadable_roles_leave_members_missing(okta: Okta, ssws_env: str, tmp_path: Path) -> None:
    gone = Response.json(error_body("E0000022", "not supported"), 404)
    okta.server.add_fault(gone, match="/api/v1/iam/assignees/users", times=None)
    down = Response.json(error_body("E0000009", "x"), 503)
    okta.server.add_fault(down, match="/api/v1/users/00ualicex00000000000/roles", times=None)
    result, snap = collect(ssws_options(okta, ssws_env, max_attempts=2), tmp_path / "o.json")
    assert not result.complete
    roles = by_id(snap, "roles")
    assert roles  # still listed: the holders that were read
    assert all("members" not in r for r in roles.values())  # a short count would pass PRIV-004
