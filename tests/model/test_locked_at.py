"""`locked_at`, which the LDAP connector writes, is a model field a policy can name."""

from __future__ import annotations

from policyengine.cli.main import main

POLICY = """\
id: PE-T-LOCK
title: Accounts locked for long are reviewed
severity: high
resource: account
description: A lockout older than 30 days is a dormant account.
rationale: Stale lockouts hide abandoned accounts.
match: {locked: true}
require: {locked_at: {newer_than: 30d}}
remediation: Review {name}.
frameworks: {nist-800-53: ["AC-2(3)"]}
references: [https://example.org]
"""
TESTS = """\
policy: PE-T-LOCK
cases:
  - name: old lockout
    now: "2026-11-01T00:00:00Z"
    resources:
      - {kind: account, id: a1, name: alice, locked: true, locked_at: "2026-01-01T00:00:00Z"}
    expect: [a1]
"""


def test_a_policy_naming_locked_at_lints_clean(write_policy, capsys):
    policy = write_policy(POLICY)
    policy.with_name("policy.test.yaml").write_text(TESTS)
    code = main(["lint", "--strict", str(policy.parent)])
    assert (code, capsys.readouterr().out) == (0, "All checks passed.\n")


def test_a_policy_naming_locked_at_evaluates(write_policy, write_snapshot, capsys):
    old = {
        "kind": "account",
        "id": "a1",
        "name": "alice",
        "locked": True,
        "locked_at": "2026-01-01T00:00:00Z",
    }
    recent = {
        "kind": "account",
        "id": "a2",
        "name": "bob",
        "locked": True,
        "locked_at": "2026-10-30T00:00:00Z",
    }
    snap = write_snapshot([old, recent], connector="ldap")
    code = main(["evaluate", "-s", str(snap), "--policies", str(write_policy(POLICY))])
    out = capsys.readouterr().out
    assert code == 1
    assert "account alice" in out and "account bob" not in out
