"""Deeply nested policies are refused by lint with file:line, never a crash in code generation."""

from __future__ import annotations

import pytest

from policyengine.api import evaluate_resources, load_policy_set
from policyengine.cli.main import main
from policyengine.errors import PolicyError
from policyengine.policy.conditions import MAX_NESTING

HEADER = """\
id: PE-T-001
title: nested
severity: high
resource: account
remediation: Fix {name}.
"""


def _nested_not(levels: int) -> str:
    return "require: " + "{not: " * levels + "{enabled: true}" + "}" * levels + "\n"


def _nested_all_any(levels: int) -> str:
    # all: [any: [all: [... {enabled: true} ...]]], one combinator per level
    text = "{enabled: true}"
    for i in range(levels):
        text = f"{{{'all' if i % 2 else 'any'}: [{text}]}}"
    return f"require: {text}\n"


@pytest.mark.parametrize(
    ("levels", "message"),
    [
        (100, f"E109 conditions nest deeper than {MAX_NESTING} levels"),
        (200, "E001 values nest deeper than 128 levels"),  # the YAML bound comes first
    ],
)
def test_deeply_nested_not_is_a_located_lint_error(write_policy, capsys, levels, message):
    # before: lint clean, then `evaluate` failed generating code (too many nested parentheses)
    path = write_policy(HEADER + _nested_not(levels))
    code = main(["lint", "--no-cache", "--no-warnings", str(path)])
    out = capsys.readouterr().out
    assert code == 1
    assert out.startswith(f"{path}:6:")
    assert message in out


def test_evaluate_refuses_the_same_policy_with_exit_2(write_policy, capsys):
    path = write_policy(HEADER + _nested_not(100))
    code = main(["evaluate", "--policies", str(path), "--demo"])
    err = capsys.readouterr().err
    assert code == 2
    assert "E109" in err and "internal error" not in err


@pytest.mark.parametrize("build", [_nested_not, _nested_all_any])
def test_nesting_up_to_the_limit_compiles_and_evaluates(write_policy, build):
    path = write_policy(HEADER + build(MAX_NESTING))
    policy_set = load_policy_set([path])
    accounts = [
        {"kind": "account", "id": "on", "source": "s", "enabled": True},
        {"kind": "account", "id": "off", "source": "s", "enabled": False},
    ]
    result = evaluate_resources(accounts, policy_set, now="2026-11-01T00:00:00Z")
    # an even number of `not`s, or only all/any: the requirement is `enabled: true`
    assert [f.resource.id for f in result.findings] == ["off"]


@pytest.mark.parametrize("build", [_nested_not, _nested_all_any])
def test_one_level_past_the_limit_is_refused(write_policy, build):
    path = write_policy(HEADER + build(MAX_NESTING + 1))
    with pytest.raises(PolicyError, match="E109"):
        load_policy_set([path])


def test_count_where_counts_as_a_level(write_policy):
    inner = "{x: 1}"
    for _ in range(MAX_NESTING):
        inner = f"{{items: {{count: {{where: {inner}, gte: 1}}}}}}"
    path = write_policy(HEADER + f"require: {{raw.items: {{count: {{where: {inner}, gte: 1}}}}}}\n")
    with pytest.raises(PolicyError, match="E109"):
        load_policy_set([path])


@pytest.mark.parametrize("levels", [200, 990])
def test_deeply_nested_yaml_values_are_refused_not_a_recursion_error(write_policy, levels):
    # before: RecursionError (an internal error) while building the YAML values
    path = write_policy(
        HEADER + "require: {enabled: true}\nparams: {x: " + "[" * levels + "]" * levels + "}\n"
    )
    with pytest.raises(PolicyError) as err:
        load_policy_set([path])
    assert str(err.value).startswith(f"{path}:7:")
    assert "E001 values nest deeper than 128 levels" in str(err.value)
