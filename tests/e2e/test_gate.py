"""The CI gate, end to end, on a git repository built from examples/access-as-code/.

The story a reviewer should be able to follow:

1. the repository (access/*.yaml, policyengine.yaml, waivers.yaml) is
   committed: that is the base;
2. a pull request adds a privileged account (a member of salesforce-admins)
   whose only MFA method is SMS: ``policyengine diff`` exits 1 with exactly
   that one new finding, located in SARIF at the file and line that added it;
3. a waiver for it with a future expiry makes the gate exit 0 and report the
   finding as waived (a SARIF suppression);
4. with the clock moved past the waiver's expiry (``--now``) the gate exits
   1 again.

Base and head are separate checkouts (``git worktree``), collected with
``policyengine collect file`` exactly as ci/github-actions-gate.yml does.
The policy set is fixed (tests/e2e/data/policies) so the test keeps its
meaning when the built-in library grows; a second test runs the built-in
library when it has PE-MFA-002.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import PROJECT, git, make_repo, policyengine

POLICIES = Path(__file__).parent / "data" / "policies"
SARIF_SCHEMA = PROJECT / "tests" / "data" / "sarif-schema-2.1.0.json"
NOW = "2026-11-27T09:00:00Z"
WAIVER_EXPIRES = "2026-12-15"
AFTER_EXPIRY = "2026-12-15T00:00:00Z"  # the expiry day itself: no longer waived

NEW_ADMIN = """
  - id: mlefevre
    name: Marc Lefevre
    email: marc.lefevre@maison.example
    employee_id: "E1188"
    groups: [salesforce-admins]
    mfa: {methods: [sms]}
"""

WAIVER = f"""waivers:
  - policy: PE-MFA-002
    resource: {{source: access, kind: account, id: mlefevre}}
    reason: FIDO2 key shipped; enrolment booked for his first office day
    owner: claire.bernard@maison.example
    ticket: SEC-1203
    expires: {WAIVER_EXPIRES}
"""


class Gate:
    """A repository with a base commit, a head commit and their snapshots."""

    def __init__(self, root: Path) -> None:
        self.tmp = root
        self.repo = make_repo(root / "repo")
        self.base_sha = git("rev-parse", "HEAD", cwd=self.repo)
        people = self.repo / "access" / "people.yaml"
        text = people.read_text()
        people.write_text(text.rstrip("\n") + "\n" + NEW_ADMIN)
        # the line that declares the new account, counted in the head's file
        self.line = text.rstrip("\n").count("\n") + 3
        assert people.read_text().splitlines()[self.line - 1].strip() == "- id: mlefevre"
        git("commit", "-q", "-am", "onboard Marc to Salesforce admins", cwd=self.repo)
        # the base, checked out beside the head as CI does
        self.base_tree = root / "base"
        git("worktree", "add", "-q", "--detach", str(self.base_tree), self.base_sha, cwd=self.repo)
        self.base = self.collect(self.base_tree, root / "base.json")
        self.head = self.collect(self.repo, root / "head.json")

    def collect(self, tree: Path, out: Path) -> Path:
        done = policyengine(
            "collect",
            "file",
            "--instance",
            "access",
            "--path",
            "access",
            "--repo-root",
            ".",
            "-o",
            out,
            cwd=tree,
        )
        assert done.returncode == 0, done.stderr
        return out

    def diff(self, *extra: str, base: Path | None = None, fmt: str = "sarif") -> tuple[int, Any]:
        out = self.tmp / f"diff.{fmt}"
        done = policyengine(
            "diff",
            "--base",
            base or self.base,
            "--head",
            self.head,
            "--policies",
            POLICIES,
            "--format",
            fmt,
            "-o",
            out,
            *extra,
            cwd=self.repo,  # the head's policyengine.yaml and waivers.yaml
        )
        assert done.returncode in (0, 1), done.stderr
        return done.returncode, json.loads(out.read_text())


@pytest.fixture(scope="module")
def gate(tmp_path_factory: pytest.TempPathFactory) -> Gate:
    return Gate(tmp_path_factory.mktemp("gate"))


def new_results(sarif: dict[str, Any]) -> list[dict[str, Any]]:
    (run,) = sarif["runs"]
    return [r for r in run["results"] if r.get("baselineState") == "new"]


def validate_sarif(sarif: dict[str, Any]) -> None:
    import jsonschema

    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.validate(sarif, schema)


def test_the_base_itself_is_clean(gate):
    done = policyengine("check-access", "--policies", POLICIES, "--now", NOW, cwd=gate.base_tree)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == ""


def test_adding_an_sms_only_admin_fails_with_exactly_that_finding(gate):
    code, sarif = gate.diff("--now", NOW)
    assert code == 1
    validate_sarif(sarif)
    (result,) = new_results(sarif)
    assert result["ruleId"] == "PE-MFA-002"
    assert result["level"] == "error"
    assert "suppressions" not in result
    (location,) = result["locations"]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "access/people.yaml"
    assert location["physicalLocation"]["region"]["startLine"] == gate.line
    # nothing else in the diff: no unchanged or resolved findings either
    assert len(sarif["runs"][0]["results"]) == 1


def test_the_same_finding_in_the_json_report(gate):
    code, report = gate.diff("--now", NOW, fmt="json")
    assert code == 1
    (finding,) = report["findings"]
    assert finding["change"] == "new"
    assert finding["waived"] is False
    assert finding["resource"] == {
        "kind": "account",
        "source": "access",
        "id": "mlefevre",
        "name": "Marc Lefevre",
        "location": {"file": "access/people.yaml", "line": gate.line},
    }
    assert {e["path"] for e in finding["evidence"]} == {"mfa.phishing_resistant"}


def test_a_saved_result_works_as_the_baseline(gate):
    saved = gate.tmp / "baseline-result.json"
    done = policyengine(
        "evaluate",
        "--snapshot",
        gate.base,
        "--policies",
        POLICIES,
        "--now",
        NOW,
        "--format",
        "json",
        "-o",
        saved,
        cwd=gate.base_tree,
    )
    assert done.returncode == 0, done.stderr
    code, sarif = gate.diff("--now", NOW, base=saved)
    assert code == 1
    (result,) = new_results(sarif)
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == gate.line


def test_the_pre_commit_check_points_at_the_same_line(gate):
    done = policyengine("check-access", "--policies", POLICIES, "--now", NOW, cwd=gate.repo)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"access/people.yaml:{gate.line}: PE-MFA-002 "
        "Marc Lefevre is privileged but has no phishing-resistant MFA [critical]"
    ]


@pytest.fixture(scope="module")
def waived(gate: Gate) -> Gate:
    (gate.repo / "waivers.yaml").write_text(WAIVER)
    git("commit", "-q", "-am", "waive PE-MFA-002 for mlefevre until his key arrives", cwd=gate.repo)
    return gate


def test_a_waiver_with_a_future_expiry_passes_and_reports_it_waived(waived):
    code, sarif = waived.diff("--now", NOW)
    assert code == 0
    validate_sarif(sarif)
    (result,) = new_results(sarif)
    assert result["ruleId"] == "PE-MFA-002"
    (suppression,) = result["suppressions"]
    assert suppression["kind"] == "external"
    assert suppression["status"] == "accepted"
    assert "expires 2026-12-15" in suppression["justification"]
    code, report = waived.diff("--now", NOW, fmt="json")
    assert code == 0
    (finding,) = report["findings"]
    assert finding["waived"] is True
    assert finding["waiver"]["expired"] is False
    assert report["summary"]["waived"] == 1


def test_moving_the_clock_past_the_expiry_fails_again(waived):
    code, sarif = waived.diff("--now", AFTER_EXPIRY)
    assert code == 1
    (result,) = new_results(sarif)
    assert "suppressions" not in result
    assert result["properties"]["waiver"]["expired"] is True
    code, report = waived.diff("--now", AFTER_EXPIRY, fmt="json")
    assert code == 1
    (finding,) = report["findings"]
    assert finding["waived"] is False
    assert any("expired" in w for w in report["warnings"])


def test_the_built_in_library_flags_the_same_line(gate):
    from policyengine.api import load_policy_set

    library = {p.id for p in load_policy_set().infos()}
    assert "PE-MFA-002" in library
    out = gate.tmp / "library.json"
    (gate.tmp / "no-waivers.yaml").write_text("waivers: []\n")
    done = policyengine(
        "diff",
        "--base",
        gate.base,
        "--head",
        gate.head,
        "--waivers",
        gate.tmp / "no-waivers.yaml",
        "--now",
        NOW,
        "--format",
        "json",
        "-o",
        out,
        cwd=gate.base_tree,  # the example's policyengine.yaml, without the waiver
    )
    assert done.returncode in (0, 1), done.stderr
    report = json.loads(out.read_text())
    new = [f for f in report["findings"] if f["change"] == "new"]
    assert done.returncode == 1, done.stderr
    assert "PE-MFA-002" in {f["policy_id"] for f in new}
    # whatever else the library says about the change is about the added lines
    for f in new:
        assert f["resource"]["location"]["file"] in ("access/people.yaml", "access/groups.yaml")


FULL_SCOPE_APP = """
  - id: dataloader-team
    name: Data Loader (team copy)
    type: connected_app
    publisher: Unknown
    scopes: [full, refresh_token]
"""


def test_a_full_scope_app_without_owner_is_flagged_at_its_line(tmp_path):
    """The other half of the issue's example, with the built-in library and the example config."""
    repo = make_repo(tmp_path / "repo")
    base_sha = git("rev-parse", "HEAD", cwd=repo)
    apps = repo / "access" / "integrations.yaml"
    text = apps.read_text()
    # integrations: is the first list in the file; insert the app at its top
    marker = "integrations:\n"
    apps.write_text(text.replace(marker, marker + FULL_SCOPE_APP.lstrip("\n") + "\n", 1))
    line = text[: text.index(marker)].count("\n") + 2
    assert apps.read_text().splitlines()[line - 1].strip() == "- id: dataloader-team"
    git("commit", "-q", "-am", "connect the team's Data Loader", cwd=repo)
    gate = Gate.__new__(Gate)  # reuse collect() without building the MFA scenario
    gate.tmp, gate.repo = tmp_path, repo
    base_tree = tmp_path / "base"
    git("worktree", "add", "-q", "--detach", str(base_tree), base_sha, cwd=repo)
    base = gate.collect(base_tree, tmp_path / "base.json")
    head = gate.collect(repo, tmp_path / "head.json")
    out = tmp_path / "apps.sarif"
    done = policyengine(
        "diff",
        "--base",
        base,
        "--head",
        head,
        "--now",
        NOW,
        "--format",
        "sarif",
        "-o",
        out,
        cwd=repo,
    )
    assert done.returncode == 1, done.stderr
    sarif = json.loads(out.read_text())
    validate_sarif(sarif)
    new = new_results(sarif)
    rules = {r["ruleId"] for r in new}
    assert "PE-INT-003" in rules  # no owner
    # full scope without admin approval: PE-INT-002, or the narrower/broader
    # policies that fold it (the library declares `supersedes:`)
    assert rules & {"PE-INT-001", "PE-INT-002", "PE-INT-009"}, rules
    for result in new:  # every new finding points at the line that added the app
        physical = result["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uri"] == "access/integrations.yaml"
        assert physical["region"]["startLine"] == line
