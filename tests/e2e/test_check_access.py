"""``policyengine check-access``: the command behind the pre-commit hook."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import policyengine

POLICIES = Path(__file__).parent / "data" / "policies"
NOW = "2026-11-27T09:00:00Z"

ACCESS = """
privileged_roles: [admin]
accounts:
  - id: ok-admin
    roles: [admin]
    mfa: {methods: [fido2]}
  - id: sms-admin
    roles: [admin]
    mfa: {methods: [sms]}
  - id: sms-user
    mfa: {methods: [sms]}
"""


def layout(root: Path, access: str = ACCESS, config: str | None = None) -> Path:
    (root / ".git").mkdir(parents=True)  # the repository root for locations
    (root / "teams" / "access").mkdir(parents=True)
    (root / "teams" / "access" / "people.yaml").write_text(access.lstrip("\n"))
    if config is not None:
        (root / "policyengine.yaml").write_text(config)
    return root


def test_findings_are_printed_at_their_line_and_fail_the_check(tmp_path):
    repo = layout(tmp_path)
    done = policyengine(
        "check-access", "teams/access", "--policies", POLICIES, "--now", NOW, cwd=repo
    )
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "teams/access/people.yaml:6: PE-MFA-002 "
        "sms-admin is privileged but has no phishing-resistant MFA [critical]"
    ]
    assert "1 finding(s), 1 at or above high" in done.stderr


def test_fail_on_none_reports_without_failing(tmp_path):
    repo = layout(tmp_path)
    done = policyengine(
        "check-access",
        "teams/access",
        "--policies",
        POLICIES,
        "--now",
        NOW,
        "--fail-on",
        "none",
        cwd=repo,
    )
    assert done.returncode == 0
    assert "PE-MFA-002" in done.stdout


def test_config_instance_and_waivers_apply(tmp_path):
    repo = layout(
        tmp_path,
        config=(
            "waivers: waivers.yaml\n"
            "connectors:\n"
            "  - {instance: corp-git, type: file, path: [teams/access]}\n"
        ),
    )
    (repo / "waivers.yaml").write_text(
        "waivers:\n"
        "  - policy: PE-MFA-002\n"
        "    resource: {source: corp-git, id: sms-admin}\n"
        "    reason: key on order\n"
        "    owner: secops@example.com\n"
        "    expires: 2026-12-01\n"
    )
    done = policyengine("check-access", "--policies", POLICIES, "--now", NOW, cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == ""
    assert "1 waived" in done.stderr
    expired = policyengine(
        "check-access", "--policies", POLICIES, "--now", "2026-12-01T00:00:00Z", cwd=repo
    )
    assert expired.returncode == 1
    assert "teams/access/people.yaml:6: PE-MFA-002" in expired.stdout
    assert "expired" in expired.stderr


def test_invalid_files_exit_2_with_every_problem(tmp_path):
    repo = layout(
        tmp_path,
        access="accounts:\n  - id: a\n    emial: a@example.com\n  - id: b\n    enabled: maybe\n",
    )
    done = policyengine("check-access", "teams/access", "--policies", POLICIES, cwd=repo)
    assert done.returncode == 2
    assert "teams/access/people.yaml:3:5: AC100 field 'accounts[0].emial'" in done.stderr
    assert "teams/access/people.yaml:5:14: AC101 field 'accounts[1].enabled'" in done.stderr
    assert "Traceback" not in done.stderr
    # references are checked once every file is well-formed
    (repo / "teams" / "access" / "people.yaml").write_text("accounts: [{id: b, groups: [nope]}]\n")
    done = policyengine("check-access", "teams/access", "--policies", POLICIES, cwd=repo)
    assert done.returncode == 2
    assert "teams/access/people.yaml:1:29: AC201 field 'accounts[0].groups[0]'" in done.stderr


def test_nothing_to_check_is_a_usage_error(tmp_path):
    done = policyengine("check-access", "--policies", POLICIES, cwd=tmp_path)
    assert done.returncode == 2
    assert "give the access-as-code files" in done.stderr
