"""Operators whose traits live in the operator table: eq_or_missing, expires_within, count."""

from __future__ import annotations

import pytest

from policyengine.api import evaluate_resources, load_policy_set
from policyengine.errors import PolicyError
from policyengine.policy.operators import OPERATORS

NOW = "2026-11-01T00:00:00Z"
HEADER = """\
id: PE-T-001
title: test policy
severity: high
resource: credential
remediation: Fix {name}.
"""
CREDS = [
    {"kind": "credential", "id": "on", "enabled": True, "expires_at": "2026-11-05T00:00:00Z"},
    {"kind": "credential", "id": "off", "enabled": False, "expires_at": "2026-11-05T00:00:00Z"},
    {"kind": "credential", "id": "unknown", "expires_at": "2026-11-05T00:00:00Z"},
    {"kind": "credential", "id": "later", "enabled": True, "expires_at": "2027-06-01T00:00:00Z"},
    {"kind": "credential", "id": "past", "enabled": True, "expires_at": "2026-10-01T00:00:00Z"},
    {"kind": "credential", "id": "no-expiry", "enabled": True},
]


def flagged(write_policy, body: str) -> list[str]:
    policy_set = load_policy_set([write_policy(HEADER + body)])
    records = [{"source": "s", **r} for r in CREDS]
    return sorted(f.resource.id for f in evaluate_resources(records, policy_set, now=NOW).findings)


def test_eq_or_missing_matches_what_the_three_line_any_block_matched(write_policy):
    old = "match:\n  any:\n    - enabled: true\n    - enabled: {exists: false}\nrequire: {id: x}\n"
    new = "match: {enabled: {eq_or_missing: true}}\nrequire: {id: x}\n"
    assert flagged(write_policy, new) == flagged(write_policy, old)
    assert "off" not in flagged(write_policy, new) and "unknown" in flagged(write_policy, new)


def test_eq_or_missing_under_not_and_require_is_never_missing(write_policy):
    # sees missing values: the field absent is a definite True, on_missing plays no part
    body = "require: {not: {enabled: {eq_or_missing: true}}}\non_missing: pass\n"
    assert flagged(write_policy, body) == ["later", "no-expiry", "on", "past", "unknown"]


@pytest.mark.parametrize("window", ["7d", "-7d"])
def test_expires_within_is_older_than_a_negative_duration(write_policy, window):
    old = "require: {not: {expires_at: {older_than: '-7d'}}}\n"
    new = f"require: {{not: {{expires_at: {{expires_within: '{window}'}}}}}}\n"
    assert (
        flagged(write_policy, new)
        == flagged(write_policy, old)
        == ["no-expiry", "off", "on", "past", "unknown"]
    )


def test_expires_within_evidence_reads_forward(write_policy):
    policy_set = load_policy_set(
        [write_policy(HEADER + "require: {expires_at: {expires_within: 7d}}\n")]
    )
    records = [{"source": "s", **CREDS[3]}]
    (finding,) = evaluate_resources(records, policy_set, now=NOW).findings
    assert finding.evidence[0].expected == "before now + 7d"


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ("require: {name: {expires_within: 7d}}\n", "expires_within needs a timestamp field"),
        ("require: {expires_at: {expires_within: soon}}\n", "duration"),
        ("require: {owner: {count: {gte: 1}, exists: true}}\n", None),
    ],
)
def test_trait_checks_are_located_errors(write_policy, body, text):
    path = write_policy(HEADER + body)
    if text is None:
        load_policy_set([path])  # count and a plain operator side by side compile
        return
    with pytest.raises(PolicyError) as err:
        load_policy_set([path])
    assert text in str(err.value) and str(err.value).startswith(str(path) + ":")


def test_every_operator_documents_itself_and_count_is_in_the_table():
    assert "count" in OPERATORS and OPERATORS["count"].nested
    assert {n for n, op in OPERATORS.items() if op.sees_missing} == {"exists", "eq_or_missing"}
    assert {n for n, op in OPERATORS.items() if op.timestamps} == {
        "older_than",
        "newer_than",
        "expires_within",
    }


def test_the_readme_operator_table_names_every_operator():
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| operator | holds when") :].split("\n\n", 1)[0]
    documented = set(re.findall(r"`(\w+)`", "\n".join(r.split("|")[1] for r in table.splitlines())))
    assert set(OPERATORS) <= documented, set(OPERATORS) - documented
