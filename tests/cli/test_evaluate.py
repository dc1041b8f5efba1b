"""`policyengine evaluate` and `lint` as a user runs them: output and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from policyengine.cli.main import main

POLICY = """\
id: PE-T-010
title: Privileged accounts use phishing-resistant MFA
severity: critical
resource: account
description: Privileged accounts need webauthn.
rationale: Phishing.
match: {enabled: true, privileged: true}
require: {mfa.methods: {contains_any: [webauthn]}}
remediation: Register a security key for {name}.
frameworks: {nist-800-53: ["IA-2(6)"]}
references: [https://example.org]
"""
ADMIN_SMS = {
    "kind": "account",
    "id": "a1",
    "name": "alice",
    "enabled": True,
    "privileged": True,
    "mfa": {"methods": ["sms"]},
}
ADMIN_KEY = {
    "kind": "account",
    "id": "a2",
    "name": "bob",
    "enabled": True,
    "privileged": True,
    "mfa": {"methods": ["webauthn"]},
}


HEADER_LINE = (
    '{{"snapshot_version":1,"source":{{"connector":"{connector}","instance":"{instance}",'
    '"collected_at":"2026-11-01T00:00:00Z","complete":true}}}}\n'
)


def evaluate_in_a_process(snapshot: str, policies: str) -> subprocess.CompletedProcess[str]:
    """`python -m policyengine evaluate` as a user runs it: exit code and stderr, no mocks."""
    return subprocess.run(
        [sys.executable, "-m", "policyengine", "evaluate", "-s", snapshot, "--policies", policies],
        capture_output=True,
        text=True,
    )


def raw_snapshot(path, connector: str, instance: str, *records: str):
    """A JSONL snapshot written by hand, so that it can be wrong on purpose."""
    path.write_text(
        HEADER_LINE.format(connector=connector, instance=instance)
        + "".join(r + "\n" for r in records)
    )
    return path


def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_findings_at_or_above_fail_on_exit_1(write_policy, write_snapshot, capsys):
    policy = write_policy(POLICY)
    snap = write_snapshot([ADMIN_SMS, ADMIN_KEY])
    code, out, _ = run(["evaluate", "-s", str(snap), "--policies", str(policy)], capsys)
    assert code == 1
    assert (
        "CRITICAL (1)" in out
        and "account alice" in out
        and "Register a security key for alice" in out
    )
    code, _, _ = run(
        ["evaluate", "-s", str(snap), "--policies", str(policy), "--fail-on", "none"], capsys
    )
    assert code == 0


def test_clean_snapshot_exits_0(write_policy, write_snapshot, capsys):
    code, out, _ = run(
        [
            "evaluate",
            "-s",
            str(write_snapshot([ADMIN_KEY])),
            "--policies",
            str(write_policy(POLICY)),
        ],
        capsys,
    )
    assert code == 0 and "0 findings" in out


def test_incomplete_snapshot_exits_3_even_when_clean(write_policy, write_snapshot, capsys):
    snap = write_snapshot([ADMIN_KEY], error="okta: connection reset on page 3 of 5")
    code, out, _ = run(
        ["evaluate", "-s", str(snap), "--policies", str(write_policy(POLICY))], capsys
    )
    assert code == 3
    assert "INCOMPLETE DATA" in out and "page 3 of 5" in out


def test_json_output_shape(write_policy, write_snapshot, capsys, tmp_path):
    out_file = tmp_path / "result.json"
    code, _, _ = run(
        [
            "evaluate",
            "-s",
            str(write_snapshot([ADMIN_SMS])),
            "--policies",
            str(write_policy(POLICY)),
            "--format",
            "json",
            "-o",
            str(out_file),
        ],
        capsys,
    )
    assert code == 1
    data = json.loads(out_file.read_text())
    assert data["schema_version"] == 1
    (finding,) = data["findings"]
    assert set(finding) >= {
        "policy_id",
        "severity",
        "title",
        "resource",
        "message",
        "evidence",
        "remediation",
        "frameworks",
        "fingerprint",
        "waived",
    }
    assert finding["resource"] == {"kind": "account", "source": "snap", "id": "a1", "name": "alice"}
    assert finding["evidence"] == [
        {"path": "mfa.methods", "actual": ["sms"], "expected": "contains any of [webauthn]"}
    ]
    assert data["summary"]["by_severity"]["critical"] == 1


def test_several_snapshots_are_correlated(write_policy, write_snapshot, capsys):
    policy = write_policy(
        POLICY.replace("PE-T-010", "PE-T-011")
        .replace("resource: account", "resource: person")
        .replace("match: {enabled: true, privileged: true}", "match: {accounts: {count: {gte: 2}}}")
        .replace(
            "require: {mfa.methods: {contains_any: [webauthn]}}",
            "require: {accounts: {count: {where: {enabled: false}, eq: 0}}}",
        )
    )
    ad = write_snapshot(
        [{"kind": "account", "id": "x", "email": "a@x.example", "enabled": False}],
        "ad.jsonl",
        connector="ldap",
    )
    sf = write_snapshot(
        [{"kind": "account", "id": "y", "email": "A@x.example", "enabled": True}],
        "sf.json",
        connector="salesforce",
    )
    code, out, _ = run(
        ["evaluate", "-s", str(ad), "-s", str(sf), "--policies", str(policy), "--format", "json"],
        capsys,
    )
    assert code == 1
    assert json.loads(out)["findings"][0]["resource"]["id"] == "email:a@x.example"


def test_now_overrides_the_clock(write_policy, write_snapshot, capsys):
    policy = write_policy(
        POLICY.replace("resource: account", "resource: credential")
        .replace("match: {enabled: true, privileged: true}", "")
        .replace(
            "require: {mfa.methods: {contains_any: [webauthn]}}",
            "require: {created_at: {newer_than: 90d}}",
        )
    )
    snap = write_snapshot([{"kind": "credential", "id": "c", "created_at": "2026-10-01T00:00:00Z"}])
    assert run(["evaluate", "-s", str(snap), "--policies", str(policy)], capsys)[0] == 0
    assert (
        run(
            [
                "evaluate",
                "-s",
                str(snap),
                "--policies",
                str(policy),
                "--now",
                "2027-06-01T00:00:00Z",
            ],
            capsys,
        )[0]
        == 1
    )


@pytest.mark.parametrize(
    ("policy_text", "expected"),
    [
        ("id: [unclosed\n", "E001 invalid YAML"),
        ("!!python/object/apply:os.system ['echo pwned']\n", "E002 YAML tag"),
        (POLICY.replace("contains_any", "contains_anyy"), "did you mean 'contains_any'"),
    ],
)
def test_bad_policy_exit_2_with_one_line_and_no_traceback(
    write_policy, write_snapshot, policy_text, expected
):
    policy = write_policy(policy_text)
    snap = write_snapshot([ADMIN_KEY])
    proc = evaluate_in_a_process(str(snap), str(policy))
    assert proc.returncode == 2
    assert expected in proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"{policy}:" in proc.stderr


def test_malformed_snapshot_exit_2_naming_line_and_field(write_policy, tmp_path):
    snap = raw_snapshot(
        tmp_path / "bad.jsonl", "ldap", "ad", '{"kind":"account","id":"u1","privileged":"yes"}'
    )
    proc = evaluate_in_a_process(str(snap), str(write_policy(POLICY)))
    assert proc.returncode == 2
    assert (
        f"{snap}:2" in proc.stderr
        and "field 'privileged'" in proc.stderr
        and "Traceback" not in proc.stderr
    )


def test_lint_reports_path_line_col_code(write_policy, capsys):
    good = write_policy(POLICY, "good.yaml")
    bad = write_policy(
        POLICY.replace("PE-T-010", "PE-T-012").replace(
            "severity: critical", "severity: catastrophic"
        ),
        "bad.yaml",
    )
    code, out, _ = run(["lint", str(good.parent)], capsys)
    assert code == 1
    assert f"{bad}:3:1: E101 field 'severity': unallowed value catastrophic" in out
    assert f"{good}:1:1: W201 PE-T-010 has no tests" in out
    assert out.strip().endswith("Found 1 error and 1 warning.")


def test_lint_clean_exits_0(write_policy, capsys, tmp_path):
    policy = write_policy(POLICY)
    policy.with_name("policy.test.yaml").write_text(
        "policy: PE-T-010\ncases:\n  - name: x\n    resources: []\n    expect: []\n"
    )
    code, out, _ = run(["lint", str(policy.parent)], capsys)
    assert (code, out) == (0, "All checks passed.\n")


def test_global_options_before_the_command(write_policy, capsys):
    policy = write_policy(POLICY)
    code = main(
        ["--log-format", "json", "--log-level", "info", "lint", "--no-warnings", str(policy)]
    )
    assert code == 0 and "All checks passed" not in capsys.readouterr().err


def test_output_never_follows_a_planted_symlink(write_policy, write_snapshot, capsys, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "out" / "r.txt"
    out.parent.mkdir()
    (out.parent / ".r.txt.tmp").symlink_to(victim)
    args = [
        "evaluate",
        "-s",
        str(write_snapshot([ADMIN_KEY])),
        "--policies",
        str(write_policy(POLICY)),
    ]
    assert run([*args, "-o", str(out)], capsys)[0] == 0
    assert victim.read_text() == "keep me" and "0 findings" in out.read_text()
    code, _, err = run([*args, "-o", str(out.parent)], capsys)
    assert code == 2 and "is a directory" in err


def test_secrets_in_bad_input_are_redacted_in_errors(tmp_path, write_policy):
    snap = raw_snapshot(
        tmp_path / "bad.jsonl",
        "okta",
        "o",
        '{"kind":"credential","id":"c1","strength":"otpauth://totp/acme:bob?secret=JBSWY3DPEHPK3PXP"}',
    )
    proc = evaluate_in_a_process(str(snap), str(write_policy(POLICY)))
    assert proc.returncode == 2 and "JBSWY3DPEHPK3PXP" not in proc.stderr and "field" in proc.stderr


def test_text_output_shows_terminal_escapes_as_text(write_policy, write_snapshot, capsys):
    hostile = {**ADMIN_SMS, "name": "evil\x1b[2J\x1b]0;pwn\x07"}
    code, out, _ = run(
        ["evaluate", "-s", str(write_snapshot([hostile])), "--policies", str(write_policy(POLICY))],
        capsys,
    )
    assert code == 1 and "\x1b" not in out and "\\x1b[2J" in out


@pytest.mark.parametrize(
    ("override", "text"),
    [
        ("{max_age: abc}", "must be a string like its default"),
        ("{max_age: [1]}", "must be a string"),
        ("{max_age: ninety days}", "does not compile"),
    ],
)
def test_config_overrides_are_checked_at_the_config_line(
    write_policy, write_snapshot, tmp_path, capsys, override, text
):
    policy = write_policy(
        POLICY.replace("resource: account", "resource: credential")
        .replace("match: {enabled: true, privileged: true}", "params: {max_age: 90d}")
        .replace(
            "require: {mfa.methods: {contains_any: [webauthn]}}",
            "require: {created_at: {newer_than: $max_age}}",
        )
    )
    config = tmp_path / "policyengine.yaml"
    config.write_text(f"policies:\n  PE-T-010:\n    params: {override}\n")
    code, _, err = run(
        [
            "evaluate",
            "-s",
            str(write_snapshot([])),
            "--policies",
            str(policy),
            "--config",
            str(config),
        ],
        capsys,
    )
    if "abc" in override:
        text = "does not compile"  # a string is the right shape, but not a duration
    assert code == 2 and f"{config}:2" in err and text in err


def test_lint_cache_sees_every_edit(write_policy, capsys):
    policy = write_policy(POLICY)
    assert run(["lint", "--no-warnings", str(policy.parent)], capsys)[0] == 0
    assert run(["lint", "--no-warnings", str(policy.parent)], capsys)[0] == 0  # from the cache
    policy.write_text(POLICY.replace("severity: critical", "severity: catastrophic"))
    code, out, _ = run(["lint", "--no-warnings", str(policy.parent)], capsys)
    assert code == 1 and "catastrophic" in out
