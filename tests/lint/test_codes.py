"""The lint-code registry is the one list: modules name codes from it, docs/lint.md is generated."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from policyengine import lintcodes
from policyengine.docsgen import render_lint
from policyengine.lint import lint_paths
from tests.generated_docs import assert_check_reports_a_stale_page

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "lint.md"
CODE = re.compile(r"^[EWT]\d{3}$")


def test_docs_lint_md_is_generated_from_the_registry() -> None:
    current = DOC.read_text(encoding="utf-8")
    assert render_lint(current) == current, (
        "docs/lint.md is stale: run `policyengine docs lint --output docs/lint.md`"
    )


def test_docs_check_reports_a_stale_lint_page(tmp_path: Path, capsys) -> None:
    assert_check_reports_a_stale_page("lint", DOC, tmp_path, capsys, "| W208 |", "| W999 |")


def test_no_module_writes_a_lint_code_as_a_literal() -> None:
    found = []
    for folder in ("policyengine", "connectors"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.name == "lintcodes.py":
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
                if is_text and CODE.match(node.value):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value}")
    assert found == [], "use the constant from policyengine.lintcodes"


def test_every_registered_code_has_its_own_name_a_meaning_and_a_fix() -> None:
    for code, entry in lintcodes.CODES.items():
        assert getattr(lintcodes, code) == code
        assert entry.what and entry.fix
        assert entry.severity == ("warning" if code.startswith("W") else "error")


HEADER = """\
id: PE-T-001
title: t
severity: low
resource: credential
description: d
rationale: r
references: [https://example.org]
frameworks: {cis-v8: ["5.2"]}
remediation: Fix {name}.
"""


def test_a_negative_older_than_is_w208_with_the_rewrite(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(
        HEADER
        + "params: {soon: '-14d'}\n"
        + "require:\n  not:\n    any:\n"
        + "      - expires_at: {older_than: '-7d'}\n"
        + "      - last_used_at: {older_than: $soon}\n"
    )
    messages = [m for m in lint_paths([policy], require_tests=False) if m.code == "W208"]
    assert [(m.line, m.severity) for m in messages] == [(14, "warning"), (15, "warning")]
    assert "write {expires_within: 7d}" in messages[0].message
    assert "write {expires_within: 14d}" in messages[1].message


def test_expires_within_and_positive_older_than_are_not_w208(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(
        HEADER + "require:\n  expires_at: {expires_within: 7d}\n  created_at: {older_than: 7d}\n"
    )
    assert [m for m in lint_paths([policy], require_tests=False) if m.code == "W208"] == []
