"""The built-in library is the product: it must lint clean, test green and be documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from policyengine.cli.main import main
from policyengine.docsgen import render_reference
from policyengine.policy.loader import builtin_policy_dir, load_definitions
from policyengine.testing import discover_tests, run_tests

ROOT = builtin_policy_dir()
FAMILIES = ("mfa", "privileged", "integrations", "credentials", "directory", "totp", "cross-source")


@pytest.fixture(scope="module")
def definitions():
    found, errors = load_definitions([ROOT])
    assert not errors, "\n".join(map(str, errors))
    return found


def test_policy_tests_pass_with_at_least_90_cases(definitions):
    run = run_tests(discover_tests([ROOT]), definitions)
    failures = [
        f"{r.file}:{r.line}: {r.policy} {r.name}: {r.detail}" for r in run.results if not r.passed
    ]
    assert not failures and not run.errors, "\n".join(failures + [str(e) for e in run.errors])
    assert len(run.results) >= 90


def test_lint_is_clean_without_warnings(capsys):
    assert main(["lint", "--strict", str(ROOT)]) == 0, capsys.readouterr().out


def test_at_least_45_policies_in_the_families(definitions):
    assert len(definitions) >= 45
    by_family: dict[str, int] = {}
    for d in definitions:
        family = Path(d.file).resolve().relative_to(ROOT.resolve()).parts[0]
        by_family[family] = by_family.get(family, 0) + 1
    for family in ("mfa", "privileged", "directory", "totp", "cross-source"):
        assert by_family.get(family, 0) >= 3, by_family
    assert by_family.get("integrations", 0) + by_family.get("credentials", 0) >= 10, by_family


def test_every_policy_is_complete(definitions):
    problems = []
    for d in definitions:
        if not d.description or not d.rationale:
            problems.append(f"{d.id}: description and rationale")
        if "nist-800-53" not in d.frameworks or "cis-v8" not in d.frameworks:
            problems.append(f"{d.id}: nist-800-53 and cis-v8 mappings")
        if not d.references:
            problems.append(f"{d.id}: references")
        if not Path(d.file).with_name(Path(d.file).stem + ".test.yaml").exists():
            problems.append(f"{d.id}: tests")
    assert not problems, "\n".join(problems)


def test_profiles_load_and_strict_tightens_sessions(definitions):
    from policyengine.api import load_policy_set

    default = load_policy_set(profile="default")
    strict = load_policy_set(profile="strict")
    changed = [
        d.id for d in strict.definitions if strict.effective(d)[0] != default.effective(d)[0]
    ]
    assert changed, "the strict profile changes no parameter"


def test_generated_reference_is_current(definitions):
    doc = Path(__file__).resolve().parents[2] / "docs" / "policies.md"
    assert doc.exists(), "run: policyengine docs policies --output docs/policies.md"
    assert doc.read_text(encoding="utf-8") == render_reference(definitions, ROOT), (
        "docs/policies.md is stale: run `policyengine docs policies --output docs/policies.md`"
    )
