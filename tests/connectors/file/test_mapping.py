"""What the connector derives: privileges, membership, MFA strength, sessions, locations."""

from __future__ import annotations

from connectors.file import FileConnector
from tests.connectors.file.conftest import EXAMPLE


def test_every_resource_remembers_the_line_that_declared_it(write, collect):
    write(
        "access/people.yaml",
        """
        # header comment
        accounts:
          - id: alice
            mfa: {methods: [fido2]}

          - name: Bob
            id: bob
        groups:
          - id: admins
            members: [alice]
        """,
    )
    res = collect()
    assert res[("account", "alice")]["location"] == {"file": "access/people.yaml", "line": 3}
    # the item's first line, whatever key comes first
    assert res[("account", "bob")]["location"] == {"file": "access/people.yaml", "line": 6}
    assert res[("group", "admins")]["location"] == {"file": "access/people.yaml", "line": 9}
    assert res[("account", "bob")]["name"] == "Bob"
    assert res[("account", "alice")]["name"] == "alice"


def test_location_outside_the_repo_root_keeps_the_given_path(write, tmp_path):
    path = write("elsewhere/a.yaml", "accounts: [{id: x}]\n")
    other_root = tmp_path / "repo"
    other_root.mkdir()
    (resource,) = FileConnector([path], repo_root=other_root).resources()
    assert resource["location"]["file"] == path.as_posix()


def test_phishing_resistance_follows_the_methods(write, collect):
    write(
        "access/a.yaml",
        """
        accounts:
          - {id: sms-only, mfa: {methods: [sms]}}
          - {id: key-and-sms, mfa: {methods: [sms, fido2]}}
          - {id: hello, mfa: {methods: [platform]}}
          - {id: none}
          - {id: stated, mfa: {methods: [], enrolled: true}}
        """,
    )
    res = collect()
    assert res[("account", "sms-only")]["mfa"] == {
        "enrolled": True,
        "methods": ["sms"],
        "phishing_resistant": False,
    }
    assert res[("account", "key-and-sms")]["mfa"]["phishing_resistant"] is True
    assert res[("account", "hello")]["mfa"]["phishing_resistant"] is True
    assert res[("account", "none")]["mfa"] == {
        "enrolled": False,
        "methods": [],
        "phishing_resistant": False,
    }
    assert res[("account", "stated")]["mfa"]["enrolled"] is True


def test_privilege_comes_from_roles_grants_and_groups(write, collect):
    write(
        "access/roles.yaml",
        """
        privileged_roles: [tenant_admin]
        role_grants:
          - {role: tenant_admin, groups: [ops]}
          - {role: tenant_admin, accounts: [dave]}
          - {role: viewer, accounts: [erin]}
        """,
    )
    write(
        "access/people.yaml",
        """
        accounts:
          - {id: carol, groups: [ops]}
          - {id: dave}
          - {id: erin}
          - {id: frank, roles: [tenant_admin]}
          - {id: gina, roles: [admin]}          # not privileged: the file's list replaces defaults
        groups:
          - {id: ops}
        """,
    )
    res = collect()
    carol = res[("account", "carol")]
    assert carol["privileged"] is True
    assert carol["privileged_via"] == ["group:ops"]
    assert carol["roles"] == ["tenant_admin"]
    assert res[("account", "dave")]["privileged_via"] == ["role:tenant_admin"]
    assert res[("account", "frank")]["privileged_via"] == ["role:tenant_admin"]
    assert res[("account", "erin")]["privileged"] is False
    assert res[("account", "erin")]["roles"] == ["viewer"]
    assert res[("account", "gina")]["privileged"] is False
    role = res[("role", "tenant_admin")]
    assert role["privileged"] is True
    assert sorted(role["members"]) == ["carol", "dave", "frank"]
    assert role["location"] == {"file": "access/roles.yaml", "line": 3}
    assert res[("group", "ops")]["privileged_via"] == ["role:tenant_admin"]


def test_default_privileged_roles_apply_when_no_file_declares_any(write, collect):
    write("access/a.yaml", "accounts: [{id: a, roles: [super_admin]}, {id: b, roles: [x]}]\n")
    res = collect()
    assert res[("account", "a")]["privileged"] is True
    assert res[("account", "b")]["privileged"] is False
    # the command-line list replaces both
    res = collect(privileged_roles=["x"])
    assert res[("account", "a")]["privileged"] is False
    assert res[("account", "b")]["privileged"] is True


def test_nested_groups_pass_members_up_and_privilege_down(write, collect):
    write(
        "access/g.yaml",
        """
        groups:
          - {id: domain-admins, privileged: true, nested_groups: [tier0]}
          - {id: tier0, members: [ivan], nested_groups: [tier0-contractors]}
          - {id: tier0-contractors, members: [judy]}
          - {id: loop-a, nested_groups: [loop-b]}
          - {id: loop-b, nested_groups: [loop-a], members: [kim]}
        accounts:
          - {id: ivan}
          - {id: judy}
          - {id: kim}
        """,
    )
    res = collect()
    assert res[("account", "judy")]["groups"] == ["tier0-contractors", "tier0", "domain-admins"]
    assert res[("account", "judy")]["privileged_via"] == [
        "group:tier0-contractors",
        "group:tier0",
        "group:domain-admins",
    ]
    assert res[("group", "tier0")]["privileged_via"] == ["group:domain-admins"]
    assert res[("group", "domain-admins")]["privileged_via"] == ["declared"]
    # direct members only on the group; nesting is in nested_groups
    assert res[("group", "domain-admins")]["members"] == []
    assert res[("group", "domain-admins")]["nested_groups"] == ["tier0"]
    # a cycle terminates and still resolves membership
    assert sorted(res[("account", "kim")]["groups"]) == ["loop-a", "loop-b"]
    assert res[("account", "kim")]["privileged"] is False


def test_membership_declared_on_either_side(write, collect):
    write(
        "access/a.yaml",
        """
        accounts:
          - {id: a, groups: [g]}
          - {id: b}
        groups:
          - {id: g, members: [b, a]}
        """,
    )
    res = collect()
    assert res[("group", "g")]["members"] == ["b", "a"]
    assert res[("account", "b")]["groups"] == ["g"]


def test_session_limits_first_matching_policy_by_priority(write, collect):
    write(
        "access/s.yaml",
        """
        session_policies:
          - {id: everyone, applies_to: everyone, priority: 50, max_lifetime: 12h, idle_timeout: 60}
          - {id: admins, applies_to: [admins], priority: 1, max_lifetime: 8h, idle_timeout: 15m}
          - {id: "off", applies_to: everyone, priority: 0, max_lifetime: 1d, enabled: false}
        groups:
          - {id: admins, members: [root]}
        accounts:
          - {id: root}
          - {id: user}
          - {id: own, session: {idle_timeout: 5m}}
        """,
    )
    res = collect()
    assert res[("account", "root")]["session"] == {
        "max_lifetime_minutes": 480,
        "idle_timeout_minutes": 15,
    }
    assert res[("account", "user")]["session"] == {
        "max_lifetime_minutes": 720,
        "idle_timeout_minutes": 60,
    }
    assert res[("account", "own")]["session"] == {"idle_timeout_minutes": 5}
    policy = res[("session_policy", "everyone")]
    assert policy["applies_to"] == ["everyone"]
    assert policy["max_lifetime_minutes"] == 720
    assert res[("session_policy", "off")]["enabled"] is False


def test_no_session_policy_means_no_session_field(write, collect):
    write("access/a.yaml", "accounts: [{id: a}]\n")
    assert "session" not in collect()[("account", "a")]


def test_integrations_and_credentials_map_onto_the_model(write, collect):
    write(
        "access/i.yaml",
        """
        integrations:
          - id: loader
            name: Data Loader (custom)
            type: connected_app
            scopes: [full, refresh_token]
            publisher: Unknown
            expires: 2027-01-31
            created_at: 2026-05-01T09:30:00+02:00
        credentials:
          - id: tok
            type: api_token
            owner: svc
            integration: loader
            last_rotated_at: "2026-10-01T00:00:00Z"
            strength: {bits: 160}
        """,
    )
    res = collect()
    app = res[("integration", "loader")]
    assert app["scopes"] == ["full", "refresh_token"]
    assert app["expires_at"] == "2027-01-31T00:00:00Z"
    assert app["created_at"] == "2026-05-01T07:30:00Z"
    assert app["enabled"] is True
    assert "owner" not in app  # absent stays absent: the owner policy sees it missing
    assert "admin_approved" not in app
    assert app["raw"]["expires"] == "2027-01-31T00:00:00Z"
    tok = res[("credential", "tok")]
    assert tok["owner"] == "svc"  # a dangling owner is the policies' business, not an error
    assert tok["last_rotated_at"] == "2026-10-01T00:00:00Z"
    assert tok["strength"] == {"bits": 160}


def test_break_glass_accounts_are_accounts_of_type_break_glass(write, collect):
    write("access/bg.yaml", "break_glass: [{id: bg1, roles: [super_admin]}]\n")
    bg = collect()[("account", "bg1")]
    assert bg["type"] == "break_glass"
    assert bg["privileged"] is True


def test_realistic_example_repository():
    connector = FileConnector([EXAMPLE / "access"], repo_root=EXAMPLE)
    res = {(r["kind"], r["id"]): r for r in connector.resources()}
    kinds = sorted({k for k, _ in res})
    assert kinds == [
        "account",
        "credential",
        "group",
        "integration",
        "role",
        "session_policy",
    ]
    privileged = sorted(i for (k, i), r in res.items() if k == "account" and r["privileged"])
    assert privileged == ["bg-okta-01", "bg-okta-02", "cbernard", "jmartin", "ngarnier"]
    # every privileged account in the example holds a phishing-resistant method
    assert all(res[("account", a)]["mfa"]["phishing_resistant"] for a in privileged)
    for resource in res.values():
        loc = resource["location"]
        assert loc["file"].startswith("access/")
        line = (EXAMPLE / loc["file"]).read_text().splitlines()[loc["line"] - 1]
        # the location points at the line that declares this very resource (roles included)
        assert resource["id"] in line, (resource["kind"], resource["id"], loc, line)


def test_secret_values_have_no_place_in_the_format(write, tmp_path):
    import pytest

    from connectors.file import AccessValidationError

    write("access/c.yaml", "credentials: [{id: t, type: api_token, secret: hunter2-abc}]\n")
    with pytest.raises(AccessValidationError) as info:
        FileConnector([tmp_path / "access"], repo_root=tmp_path).resources()
    assert "hunter2" not in str(info.value)
    assert "access/c.yaml:1" in str(info.value)
    assert "secret" in str(info.value)  # names the refused field, not its value
