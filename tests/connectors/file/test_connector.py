"""The plug-in surface: registration, options, and the snapshot it writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors.file import FileConnector
from policyengine import connector as registry
from policyengine.errors import UsageError
from tests.connectors.file.conftest import EXAMPLE


def test_registered_under_the_name_file():
    assert registry.load("file") is FileConnector


def test_options_from_config_accept_a_path_or_a_list():
    one = FileConnector.from_options({"path": "access"}, instance="git")
    assert one.paths == (Path("access"),)
    many = FileConnector.from_options(
        {"path": ["a", "b"], "repo_root": "/repo", "privileged_roles": ["owner"]}, instance="git"
    )
    assert many.paths == (Path("a"), Path("b"))
    assert many.repo_root == Path("/repo")
    assert many.privileged_roles == ("owner",)


@pytest.mark.parametrize("options", [{}, {"path": []}, {"path": 3}, {"path": ["a", 3]}])
def test_bad_options_are_usage_errors(options):
    with pytest.raises(UsageError, match="path"):
        FileConnector.from_options(options, instance="git")


def test_snapshot_written_through_the_registry(tmp_path):
    out = tmp_path / "access.json"
    result = registry.run(
        "file",
        {"path": [str(EXAMPLE / "access")], "repo_root": str(EXAMPLE)},
        instance="access",
        output=out,
        collected_at="2026-11-27T00:00:00Z",
    )
    assert result.complete
    data = json.loads(out.read_text())
    assert data["source"]["connector"] == "file"
    assert data["source"]["instance"] == "access"
    assert data["source"]["complete"] is True
    alice = next(a for a in data["accounts"] if a["id"] == "aperrin")
    assert alice["source"] == "access"
    assert alice["location"] == {"file": "access/people.yaml", "line": 37}
    assert len(data["integrations"]) == 3


def test_invalid_files_write_nothing_and_exit_2(tmp_path, write):
    write("access/a.yaml", "accounts: [{id: a, groups: [missing]}]\n")
    out = tmp_path / "snap.json"
    with pytest.raises(Exception) as info:
        registry.run(
            "file",
            {"path": [str(tmp_path / "access")], "repo_root": str(tmp_path)},
            instance="access",
            output=out,
        )
    assert info.value.exit_code == 2  # type: ignore[attr-defined]
    assert "access/a.yaml:1:29" in str(info.value)
    assert not out.exists()
    assert not list(tmp_path.glob(".spool-*"))


def test_repo_root_defaults_to_the_enclosing_git_repository(tmp_path, write, monkeypatch):
    (tmp_path / ".git").mkdir()
    write("team/access/a.yaml", "accounts: [{id: a}]\n")
    monkeypatch.chdir(tmp_path / "team")
    (res,) = FileConnector([Path("access")]).resources()
    assert res["location"]["file"] == "team/access/a.yaml"
