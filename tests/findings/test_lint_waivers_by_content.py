"""Lint tells a waivers file by what it holds (a top-level ``waivers:`` list), not its name."""

from __future__ import annotations

import shutil
from pathlib import Path

from policyengine.api import load_policy_set
from policyengine.lint import lint_paths

LIBRARY_POLICY = Path(__file__).parents[2] / "policies" / "mfa" / "privileged-no-weak-methods.yaml"

WAIVERS = """\
# accepted risk, reviewed monthly
waivers:
  - policy: PE-MFA-003
    resource: {source: corp-ad, id: u9}
    reason: "  "
    owner: secops@example.com
    expires: 2026-07-20
"""


def _codes(messages: list) -> set[str]:
    return {m.code for m in messages if m.severity == "error"}


def test_a_waivers_file_with_another_name_is_linted_as_waivers(tmp_path: Path) -> None:
    path = tmp_path / "accepted-risk.yaml"
    path.write_text(WAIVERS, encoding="utf-8")
    messages = lint_paths([path])
    assert _codes(messages) == {"E301"}, messages
    assert any("'reason' must not be blank" in m.message for m in messages)
    assert all(m.path == str(path) and m.line == 5 for m in messages if m.code == "E301")


def test_a_waivers_file_inside_a_policy_folder_is_not_read_as_a_policy(tmp_path: Path) -> None:
    folder = tmp_path / "policies"
    folder.mkdir()
    shutil.copy(LIBRARY_POLICY, folder / "weak.yaml")
    (folder / "exceptions.yml").write_text(WAIVERS.replace('"  "', "on order"), encoding="utf-8")
    messages = lint_paths([folder], require_tests=False)
    assert _codes(messages) == set(), messages
    # and evaluate/load of the folder does not try to load it as a policy either
    assert [d.id for d in load_policy_set([folder]).definitions] == ["PE-MFA-003"]


def test_a_policy_is_still_a_policy(tmp_path: Path) -> None:
    path = tmp_path / "waivers-policy.yaml"
    shutil.copy(LIBRARY_POLICY, path)
    text = path.read_text()
    path.write_text(text.replace("severity: high", "severity: catastrophic"), encoding="utf-8")
    assert _codes(lint_paths([path], require_tests=False)) == {"E101"}
