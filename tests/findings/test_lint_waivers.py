"""Waiver lint: invalid entries, no expiry, horizon, orphans, expired, expiring soon."""

from __future__ import annotations

from pathlib import Path

from policyengine.lint import LintMessage
from policyengine.lint_waivers import lint_waivers
from tests.findings.samples import finding, result

NOW = "2026-06-20T00:00:00Z"

TEXT = """\
waivers:
  - policy: PE-MFA-002
    resource: {source: corp-ad, id: u9}
    reason: hardware key on order
    owner: secops@example.com
    expires: 2026-07-20
  - policy: PE-MFA-002
    resource: {source: corp-ad, id: u1}
    reason: no expiry given
    owner: secops@example.com
  - policy: PE-SES-001
    resource: {name: "svc-*"}
    reason: far future
    owner: iam@example.com
    expires: 2027-01-01
  - policy: PE-SES-001
    resource: {id: old}
    reason: long gone
    owner: iam@example.com
    expires: 2026-01-01
  - policy: PE-INT-001
    resource: {id: app1}
    reason: soon
    owner: iam@example.com
    expires: 2026-06-25
  - policy: PE-INT-001
    resource: {id: app2}
    owner: iam@example.com
    expires: 2026-07-25
"""


def lint(tmp_path: Path, text: str = TEXT, **kw: object) -> list[LintMessage]:
    p = tmp_path / "waivers.yaml"
    p.write_text(text, encoding="utf-8")
    return lint_waivers(p, max_days=90, now=NOW, **kw)  # type: ignore[arg-type]


def test_each_problem_has_its_code_and_position(tmp_path: Path) -> None:
    got = [(m.line, m.col, m.code, m.severity) for m in lint(tmp_path)]
    assert got == [
        (7, 5, "E302", "error"),
        (11, 5, "E303", "error"),
        (16, 5, "W305", "warning"),
        (21, 5, "W306", "warning"),
        (26, 5, "E301", "error"),
    ]


def test_messages_are_ruff_like(tmp_path: Path) -> None:
    msgs = {m.code: str(m) for m in lint(tmp_path)}
    path = str(tmp_path / "waivers.yaml")
    assert msgs["E302"].startswith(f"{path}:7:5: E302 field 'expires': waiver has no expiry")
    assert "more than 90 days" in msgs["E303"]
    assert "field 'reason': 'reason' is required" in msgs["E301"]


def test_orphans_against_a_result(tmp_path: Path) -> None:
    res = result(finding("u9"), finding("app1", policy="PE-INT-001", kind="integration"))
    orphans = [m for m in lint(tmp_path, resources_or_result=res) if m.code == "W304"]
    # u9 and app1 match; svc-* and old do not
    assert [m.line for m in orphans] == [11, 16]
    assert "matches no finding" in orphans[0].message


def test_orphans_against_resources(tmp_path: Path) -> None:
    resources = [{"kind": "account", "source": "corp-ad", "id": "s1", "name": "svc-backup"}]
    orphans = [m.line for m in lint(tmp_path, resources_or_result=resources) if m.code == "W304"]
    assert orphans == [2, 16, 21]


def test_clean_file_is_clean(tmp_path: Path) -> None:
    ok = TEXT.split("  - policy: PE-MFA-002\n    resource: {source: corp-ad, id: u1}")[0]
    assert lint(tmp_path, ok) == []


def test_broken_yaml_is_one_message(tmp_path: Path) -> None:
    (m,) = lint(tmp_path, "waivers:\n  - policy: [unclosed\n")
    assert m.code == "E001" and m.severity == "error" and m.line >= 2
