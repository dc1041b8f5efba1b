"""Run the shell steps of ci/github-actions-gate.yml and ci/gitlab-ci.yml for real.

The hosted parts (checkout, setup-python, pip install, upload-sarif, the
artifact upload) are GitHub's and GitLab's; everything the templates run in
a shell is run here, in a temporary repository built from
examples/access-as-code/ whose head adds an SMS-only administrator, with the
variables the CI systems set. ``policyengine`` is this checkout's.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml

from tests.e2e.conftest import PROJECT, git, make_repo, run

SMS_ADMIN = """
  - id: mlefevre
    name: Marc Lefevre
    groups: [salesforce-admins]
    mfa: {methods: [sms]}
"""
BIN = str(Path(sys.executable).parent)


def pull_request(repo: Path) -> tuple[str, int]:
    """Commit a change adding an SMS-only admin; return the base sha and the new line."""
    base = git("rev-parse", "HEAD", cwd=repo)
    people = repo / "access" / "people.yaml"
    before = people.read_text().rstrip("\n")
    people.write_text(before + "\n" + SMS_ADMIN)
    git("commit", "-q", "-am", "onboard Marc", cwd=repo)
    return base, before.count("\n") + 3


def bash(script: str, *, cwd: Path, env: dict[str, str]):
    return run("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script, cwd=cwd, env=env)


def test_github_actions_workflow(tmp_path):
    workflow = yaml.safe_load((PROJECT / "ci" / "github-actions-gate.yml").read_text())
    steps = {s.get("name", s.get("uses")): s for s in workflow["jobs"]["gate"]["steps"]}
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    head = make_repo(workspace / "head")  # actions/checkout, path: head
    base_sha, line = pull_request(head)
    git("worktree", "add", "-q", "--detach", str(workspace / "base"), base_sha, cwd=head)
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    output, summary = tmp_path / "github-output", tmp_path / "step-summary"
    env = {
        **{k: str(v) for k, v in workflow["env"].items()},
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "RUNNER_TEMP": str(temp),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
    }

    def step(name: str, **subst: str):
        s = steps[name]
        script = s["run"]
        assert "${{" not in script, f"{name}: expressions go through env:, not into the script"
        step_env = dict(env)
        for key, value in (s.get("env") or {}).items():
            for expr, actual in subst.items():
                value = value.replace("${{ " + expr + " }}", actual)
            step_env[key] = value
        cwd = workspace / s.get("working-directory", ".")
        return bash(script, cwd=cwd, env=step_env)

    for name in ("Collect base and head snapshots", "Diff (SARIF)", "Summary (Markdown)"):
        done = step(name)
        assert done.returncode == 0, f"{name}:\n{done.stdout}\n{done.stderr}"
    outputs = dict(line.split("=", 1) for line in output.read_text().split())
    assert outputs["exit"] == "1"
    sarif = json.loads((temp / "pe" / "access.sarif").read_text())
    new = [r for r in sarif["runs"][0]["results"] if r.get("baselineState") == "new"]
    assert new and all(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "access/people.yaml"
        and r["locations"][0]["physicalLocation"]["region"]["startLine"] == line
        for r in new
    )
    assert "PE-MFA-002" in {r["ruleId"] for r in new}
    assert "PE-MFA-002" in summary.read_text()
    gate = step("Gate", **{"steps.diff.outputs.exit": outputs["exit"]})
    assert gate.returncode == 1
    assert "::error::" in gate.stdout
    # the upload step's condition: a report exists for exit 0 and 1
    condition = steps["Upload SARIF to code scanning"]["if"]
    assert "steps.diff.outputs.exit == '1'" in condition
    assert steps["Upload SARIF to code scanning"]["uses"].startswith(
        "github/codeql-action/upload-sarif@"
    )


def test_gitlab_ci_job(tmp_path):
    config = yaml.safe_load((PROJECT / "ci" / "gitlab-ci.yml").read_text())
    job = config["policyengine-access-gate"]
    repo = make_repo(tmp_path / "project")
    base_sha, line = pull_request(repo)
    env = {
        **{k: str(v) for k, v in config["variables"].items()},
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_DIFF_BASE_SHA": base_sha,
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
    }
    # GitLab runs the script lines in one shell and stops at the first failure
    done = bash("\n".join(job["script"]), cwd=repo, env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    artifacts = job["artifacts"]
    assert artifacts["when"] == "always"
    junit_path = repo / artifacts["reports"]["junit"]
    for path in artifacts["paths"]:
        assert (repo / path).is_file(), path
    suite = ElementTree.parse(junit_path).getroot()
    failures = [
        case
        for case in suite.iter("testcase")
        if case.find("failure") is not None or case.find("error") is not None
    ]
    assert failures, ElementTree.tostring(suite).decode()[:2000]
    text = ElementTree.tostring(suite).decode()
    assert "PE-MFA-002" in text
    assert re.search(rf"access/people\.yaml(:|\D+){line}\b", text), text[:2000]


@pytest.mark.parametrize(
    "template",
    [
        "github-actions-gate.yml",
        "github-actions-scheduled-scan.yml",
        "gitlab-ci.yml",
        "kubernetes-cronjob.yaml",
        "kubernetes-fleet.yaml",
    ],
)
def test_templates_install_this_project_at_its_release_tag(template):
    from policyengine import __version__

    text = (PROJECT / "ci" / template).read_text()
    assert (
        f'POLICYENGINE_REF: "v{__version__}"' in text
        or f"ARG POLICYENGINE_REF=v{__version__}" in text
    )
    assert "git+https://github.com/policyengine/policyengine@${POLICYENGINE_REF}" in text
    # the PyPI name "policyengine" is an unrelated project: never install it by name
    assert not re.search(r"pip install[^\n]*[\s\"']policyengine(==|[\s\"']|$)", text, re.M)


def test_scheduled_scan_summary_takes_the_newest_recorded_run(tmp_path):
    workflow = yaml.safe_load((PROJECT / "ci" / "github-actions-scheduled-scan.yml").read_text())
    steps = {s.get("name"): s for s in workflow["jobs"]["scan"]["steps"]}
    runs = tmp_path / "runs"
    for stamp, text in (("2026-11-01T05-17-00Z", "older"), ("2026-11-02T05-17-00Z", "newest")):
        (runs / stamp).mkdir(parents=True)
        (runs / stamp / "summary.md").write_text(f"summary of the {text} run\n")
    (runs / "2026-11-03T05-17-00Z.failed").mkdir()  # failed before it was recorded
    (runs / "2026-10-31 copy; with spaces").mkdir()  # an odd name must not break it
    summary = tmp_path / "step-summary"
    env = {"PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "GITHUB_STEP_SUMMARY": str(summary)}
    done = bash(steps["Job summary"]["run"], cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "summary of the newest run" in summary.read_text()
    assert "older" not in summary.read_text()
