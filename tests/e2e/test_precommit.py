"""The pre-commit hooks, installed by pre-commit itself from a copy of this project.

``pre-commit try-repo`` needs the hook repository to be a git repository
with the hooks committed, so the test copies the project's working tree
(tracked and untracked files, minus what .gitignore excludes) into a
temporary repository and commits it. pre-commit then builds and installs
the project into its own virtualenv (from PyPI: this is the slow part, once
per session, under a temporary PRE_COMMIT_HOME) and runs the hooks in a
second temporary repository built from examples/access-as-code/:

- a staged change adding an SMS-only admin is refused with file:line;
- the same change with a phishing-resistant key passes;
- installed as a real git hook, the bad commit is blocked and the good one
  is committed;
- the lint hook refuses a waiver without an expiry.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import PROJECT, git, make_repo, run

pytestmark = pytest.mark.slow

PRE_COMMIT = Path(sys.executable).with_name("pre-commit")

SMS_ADMIN = """
  - id: mlefevre
    name: Marc Lefevre
    groups: [salesforce-admins]
    mfa: {methods: [sms]}
"""
KEY_ADMIN = SMS_ADMIN.replace("[sms]", "[fido2]")


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A committed copy of this project's working tree (what pre-commit installs)."""
    if not PRE_COMMIT.exists():
        pytest.skip("pre-commit is not installed next to this Python")
    dest = tmp_path_factory.mktemp("hook-repo") / "policyengine"
    listed = run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=PROJECT)
    assert listed.returncode == 0, listed.stderr
    for name in filter(None, listed.stdout.split("\0")):
        source = PROJECT / name
        if source.is_file():  # deleted-but-tracked files are skipped
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    git("init", "-q", cwd=dest)
    git("add", "-A", cwd=dest)
    git("commit", "-q", "-m", "policyengine under test", cwd=dest)
    return dest


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # one environment for the whole session: every try-repo below reuses it
    return tmp_path_factory.mktemp("pre-commit-home")


def pre_commit(*args: str, cwd: Path, home: Path):
    return run(PRE_COMMIT, *args, cwd=cwd, env={"PRE_COMMIT_HOME": str(home)})


@pytest.fixture
def target(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "access-repo")


def add_account(repo: Path, text: str) -> int:
    """Append an account to access/people.yaml and stage it; return its line."""
    people = repo / "access" / "people.yaml"
    before = people.read_text().rstrip("\n")
    people.write_text(before + "\n" + text)
    git("add", "access/people.yaml", cwd=repo)
    return before.count("\n") + 3


def test_try_repo_blocks_a_bad_change_and_passes_a_good_one(target, hook_repo, pre_commit_home):
    line = add_account(target, SMS_ADMIN)
    bad = pre_commit(
        "try-repo", str(hook_repo), "policyengine-access-check", cwd=target, home=pre_commit_home
    )
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert f"access/people.yaml:{line}: PE-MFA-002 " in bad.stdout, bad.stdout

    git("checkout", "-q", "HEAD", "--", "access/people.yaml", cwd=target)
    add_account(target, KEY_ADMIN)
    good = pre_commit(
        "try-repo", str(hook_repo), "policyengine-access-check", cwd=target, home=pre_commit_home
    )
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Passed" in good.stdout


def test_installed_hook_blocks_the_commit(target, hook_repo, pre_commit_home):
    rev = git("rev-parse", "HEAD", cwd=hook_repo)
    (target / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        f"  - repo: {hook_repo}\n"
        f"    rev: {rev}\n"
        "    hooks:\n"
        "      - id: policyengine-lint\n"
        "      - id: policyengine-access-check\n"
    )
    git("add", ".pre-commit-config.yaml", cwd=target)
    git("commit", "-q", "-m", "pre-commit config", cwd=target)
    installed = pre_commit("install", cwd=target, home=pre_commit_home)
    assert installed.returncode == 0, installed.stderr
    head = git("rev-parse", "HEAD", cwd=target)

    line = add_account(target, SMS_ADMIN)
    blocked = run(
        "git", "commit", "-m", "add Marc", cwd=target, env={"PRE_COMMIT_HOME": str(pre_commit_home)}
    )
    assert blocked.returncode != 0
    assert f"access/people.yaml:{line}: PE-MFA-002 " in blocked.stdout + blocked.stderr
    assert git("rev-parse", "HEAD", cwd=target) == head  # nothing was committed

    git("checkout", "-q", "HEAD", "--", "access/people.yaml", cwd=target)
    add_account(target, KEY_ADMIN)
    passed = run(
        "git", "commit", "-m", "add Marc", cwd=target, env={"PRE_COMMIT_HOME": str(pre_commit_home)}
    )
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert git("rev-parse", "HEAD", cwd=target) != head


def test_lint_hook_refuses_a_waiver_without_expiry(target, hook_repo, pre_commit_home):
    (target / "waivers.yaml").write_text(
        "waivers:\n"
        "  - policy: PE-MFA-002\n"
        "    resource: {source: access, id: mlefevre}\n"
        "    reason: key on order\n"
        "    owner: secops@maison.example\n"
    )
    git("add", "waivers.yaml", cwd=target)
    bad = pre_commit(
        "try-repo", str(hook_repo), "policyengine-lint", cwd=target, home=pre_commit_home
    )
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "waivers.yaml:2:" in bad.stdout
    assert "expir" in bad.stdout
