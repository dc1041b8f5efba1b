"""Validation: every problem, in every file, at file:line:col with the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.file import AccessValidationError, FileConnector


def problems(tmp_path: Path, *paths: str) -> list[str]:
    targets = [tmp_path / p for p in (paths or ("access",))]
    with pytest.raises(AccessValidationError) as info:
        FileConnector(targets, repo_root=tmp_path).resources()
    assert info.value.exit_code == 2
    return str(info.value).splitlines()


def test_unknown_field_is_pointed_at_with_a_suggestion(write, tmp_path):
    write(
        "access/a.yaml",
        """
        accounts:
          - id: alice
            emial: alice@example.com
        """,
    )
    (line,) = problems(tmp_path)
    assert line.startswith("access/a.yaml:3:5: AC100 field 'accounts[0].emial': unknown field")
    assert "did you mean 'email'" in line


def test_unknown_top_level_key(write, tmp_path):
    write("access/a.yaml", "version: 1\nusers: []\n")
    (line,) = problems(tmp_path)
    assert line.startswith("access/a.yaml:2:1: AC100 field 'users': unknown field")
    assert "accounts" in line


def test_bad_values_name_the_nested_field(write, tmp_path):
    write(
        "access/a.yaml",
        """
        accounts:
          - id: a
            mfa: {methods: [fido2, carrier-pigeon]}
          - id: b
            type: robot
        session_policies:
          - {id: s, applies_to: everyone, idle_timeout: soon}
        integrations:
          - {id: i, type: connected_app, expires: next tuesday}
        """,
    )
    lines = problems(tmp_path)
    assert any(
        ln.startswith(
            "access/a.yaml:3:28: AC101 field 'accounts[0].mfa.methods[1]': unallowed value"
        )
        for ln in lines
    ), lines
    assert any(ln.startswith("access/a.yaml:5:11: AC101 field 'accounts[1].type'") for ln in lines)
    assert any("session_policies[0].idle_timeout" in ln and "15m" in ln for ln in lines)
    assert any("integrations[0].expires" in ln and "ISO 8601" in ln for ln in lines)
    assert len(lines) == 4


def test_required_fields(write, tmp_path):
    write("access/a.yaml", "integrations:\n  - name: Nameless\n")
    lines = problems(tmp_path)
    assert any("integrations[0].id': required field" in ln for ln in lines)
    assert any("integrations[0].type': required field" in ln for ln in lines)


def test_unquoted_off_as_an_id_gets_a_hint(write, tmp_path):
    write("access/a.yaml", "groups:\n  - id: off\n")
    (line,) = problems(tmp_path)
    assert "quote it" in line


def test_errors_from_every_file_are_reported_together(write, tmp_path):
    write("access/a.yaml", "accounts: [{id: a, enabled: maybe}]\n")
    write("access/b.yaml", "groups: [{id: g, privileged: sometimes}]\n")
    lines = problems(tmp_path)
    assert [ln.split(":")[0] for ln in lines] == ["access/a.yaml", "access/b.yaml"]


def test_duplicate_ids_across_files_name_the_first(write, tmp_path):
    write("access/a.yaml", "accounts:\n  - id: alice\n")
    write("access/b.yaml", "version: 1\nbreak_glass:\n  - id: alice\n")
    (line,) = problems(tmp_path)
    assert line.startswith("access/b.yaml:3:5: AC200 field 'break_glass[0].id': duplicate account")
    assert "first declared at access/a.yaml:2" in line


def test_unknown_references_point_at_the_reference(write, tmp_path):
    write(
        "access/a.yaml",
        """
        accounts:
          - id: a
            groups: [admins, admnis]
        groups:
          - {id: admins, members: [a, zed], nested_groups: [nope]}
        role_grants:
          - {role: admin, accounts: [ghost]}
          - {role: admin}
        session_policies:
          - {id: s, applies_to: contractors}
        """,
    )
    lines = problems(tmp_path)
    assert (
        "access/a.yaml:3:22: AC201 field 'accounts[0].groups[1]': unknown group 'admnis'"
        in (lines[0])
    )
    text = "\n".join(lines)
    assert "unknown account 'zed'" in text
    assert "unknown group 'nope'" in text
    assert "unknown account 'ghost'" in text
    assert "a role grant needs accounts: or groups:" in text
    assert "field 'session_policies[0].applies_to': unknown group 'contractors'" in text
    assert len(lines) == 6


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("accounts:\n  - &a {id: a}\n  - *a\n", "access/a.yaml:2:5: E002 anchors and aliases"),
        ("accounts:\n  - !!python/object:os.system {id: a}\n", "access/a.yaml:2:5: E002 YAML tag"),
        ("accounts: []\naccounts: []\n", "access/a.yaml:2:1: E002 duplicate key 'accounts'"),
        ("accounts: [\n", "access/a.yaml:2:1: E001 invalid YAML"),
        ("- id: a\n", "access/a.yaml:1:1: AC100 an access file must be a mapping"),
    ],
)
def test_unsafe_or_malformed_yaml_is_refused(write, tmp_path, text, expected):
    write("access/a.yaml", text)
    (line,) = problems(tmp_path)
    assert line.startswith(expected), line


def test_oversized_file_is_refused(write, tmp_path):
    write("access/a.yaml", "accounts:\n" + "  - {id: x}\n" * 100_000)
    (line,) = problems(tmp_path)
    assert "larger than" in line


def test_empty_files_and_other_suffixes(write, collect):
    write("access/empty.yaml", "# nothing yet\n")
    write("access/README.md", "not yaml: [\n")
    write("access/.hidden/x.yaml", "not: [valid\n")
    write("access/b.yml", "accounts: [{id: b}]\n")
    assert list(collect()) == [("account", "b")]


def test_missing_path(tmp_path):
    with pytest.raises(Exception) as info:
        FileConnector([tmp_path / "nope"], repo_root=tmp_path).resources()
    assert "no such file or directory" in str(info.value)
