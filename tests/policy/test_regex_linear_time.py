"""Policy and connector regexes run on RE2: no pattern can backtrack on a hostile name."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from policyengine.cli.main import main
from policyengine.errors import UsageError
from policyengine.policy.regexsafety import compile_regex

# Each took seconds to forever with Python's backtracking `re` (issue 10, section 3)
HOSTILE = [
    (".*.*.*.*.*.*.*.*.*=$", "a" * 120),
    ("^.*-.*-.*-.*x$", "-" * 600),
    ("(a+)+$", "a" * 40 + "!"),
]

_EVALUATE = """\
import sys
from policyengine.api import evaluate_resources, load_policy_set
from pathlib import Path
policy_set = load_policy_set([Path(sys.argv[1])])
resources = [{"kind": "account", "id": "u1", "source": "s", "name": sys.argv[2]}]
result = evaluate_resources(resources, policy_set, now="2026-11-01T00:00:00Z")
print(len(result.findings))
"""


def _policy(pattern: str) -> str:
    quoted = pattern.replace("'", "''")
    return textwrap.dedent(f"""\
        id: PE-T-001
        title: names follow the pattern
        severity: high
        resource: account
        remediation: Rename {{name}}.
        require: {{name: {{matches: '{quoted}'}}}}
        """)


@pytest.mark.parametrize(("pattern", "name"), HOSTILE)
def test_a_hostile_name_cannot_make_a_policy_regex_backtrack(write_policy, pattern, name):
    path = write_policy(_policy(pattern))
    # a separate process: a backtracking engine cannot be interrupted from inside
    proc = subprocess.run(
        [sys.executable, "-c", _EVALUATE, str(path), name],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "1"  # no match: one finding


def test_evaluating_hostile_names_is_linear_in_their_length():
    import time

    for pattern, name in HOSTILE:
        compiled = compile_regex(pattern)
        started = time.perf_counter()
        assert compiled.search(name * 100) is None
        assert time.perf_counter() - started < 1.0, pattern


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"^(\w+)\1$", "invalid escape sequence"),
        ("svc-(?=prod)", "invalid perl operator"),
        ("a++", "bad repetition operator"),
        ("[unclosed", "missing ]"),
        ("(x{1000}){1000}", "invalid repetition size"),
    ],
)
def test_lint_refuses_what_re2_cannot_compile_with_its_reason(
    write_policy, capsys, pattern, reason
):
    path = write_policy(_policy(pattern))
    code = main(["lint", "--no-cache", "--no-warnings", str(path)])
    out = capsys.readouterr()
    assert code == 1
    assert f"{path}:6:18: E106 matches: regular expression does not compile with RE2" in out.out
    assert reason in out.out
    assert out.err == ""  # RE2's own logging does not leak onto stderr


def test_compile_regex_keeps_the_length_cap_and_case_option():
    with pytest.raises(ValueError, match="longer than 1000"):
        compile_regex("a" * 1001)
    assert compile_regex("^svc-", ignore_case=True).search("SVC-backup")
    assert compile_regex("^svc-").search("SVC-backup") is None


def test_connector_type_rules_use_re2():
    from connectors.ldap._types import parse_type_rule
    from connectors.okta._options import parse_type_rules
    from connectors.salesforce._options import parse_options

    rule = parse_type_rule("service:name=^.*-.*-.*-.*x$")
    started = __import__("time").perf_counter()
    assert not rule.pattern.search("-" * 5000)
    assert __import__("time").perf_counter() - started < 1.0
    with pytest.raises(UsageError, match="RE2"):
        parse_type_rule(r"service:name=^(a)\1")
    with pytest.raises(UsageError, match="RE2"):
        parse_type_rules([r"service:name=(?<=x)svc"], defaults=False)
    with pytest.raises(UsageError, match="RE2"):
        parse_options(
            {
                "login_url": "https://login.salesforce.com",
                "client_id": "x",
                "username": "u@example.com",
                "private_key_env": "SF_KEY",
                "service_account_pattern": r"(a)\1",
            }
        )


def test_a_parameter_override_in_the_config_is_compiled_with_re2_too(tmp_path, capsys):
    config = tmp_path / "policyengine.yaml"
    config.write_text(
        "policies:\n  PE-PRIV-014:\n    params:\n"
        "      standing_grant_pattern: '^permission:\\S+ via permission set (?!.*expires)'\n"
    )
    code = main(["evaluate", "--demo", "--config", str(config)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{config}:2: E106 PE-PRIV-014" in err and "does not compile with RE2" in err
