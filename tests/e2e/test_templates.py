"""The CI templates, hooks and docs call the CLI as it really is.

Every ``policyengine ...`` command line in ci/*.yml, .pre-commit-hooks.yaml
and the fenced shell blocks of docs/ci.md and docs/access-as-code.md is
parsed with the real argument parser (nothing is run), so renaming a flag
or a command breaks this test instead of a user's pipeline.
"""

from __future__ import annotations

import re
import shlex

import pytest
import yaml

from tests.e2e.conftest import PROJECT

OPERATORS = {"&&", "||", ";", "|", ">", ">>", "(", ")", "<"}


def command_lines(text: str) -> list[str]:
    """Shell lines that run policyengine (backslash continuations joined)."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [line for line in joined.splitlines() if re.search(r"(^|[\s(])policyengine\s", line)]


def invocations(line: str) -> list[list[str]]:
    """The argv of every ``policyengine`` call in one shell line."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    tokens = list(lexer)
    out: list[list[str]] = []
    for i, token in enumerate(tokens):
        if token != "policyengine" or (i and tokens[i - 1] not in OPERATORS):
            continue
        argv: list[str] = []
        for t in tokens[i + 1 :]:
            if t in OPERATORS or t.startswith("#"):
                break
            argv.append(t)
        out.append(argv)
    return out


def workflow_scripts() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    gha = yaml.safe_load((PROJECT / "ci" / "github-actions-gate.yml").read_text())
    for job in gha["jobs"].values():
        for step in job["steps"]:
            if "run" in step:
                found.append(("ci/github-actions-gate.yml", step["run"]))
    gitlab = yaml.safe_load((PROJECT / "ci" / "gitlab-ci.yml").read_text())
    for job in gitlab.values():
        if isinstance(job, dict) and "script" in job:
            found.append(("ci/gitlab-ci.yml", "\n".join(job["script"])))
    hooks = yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text())
    for hook in hooks:
        found.append((".pre-commit-hooks.yaml", hook["entry"]))
    for doc in ("docs/ci.md", "docs/access-as-code.md", "examples/access-as-code/README.md"):
        text = (PROJECT / doc).read_text()
        for lang, block in re.findall(r"```(\w*)\n(.*?)```", text, flags=re.S):
            if lang in ("", "sh", "bash") and "policyengine " in block:
                found.append((doc, block))
    return found


CASES = [
    (where, argv)
    for where, script in workflow_scripts()
    for line in command_lines(script)
    for argv in invocations(line)
    if not any(a.startswith("[") for a in argv)  # a usage synopsis, not a command
]


def test_the_templates_call_policyengine_at_all():
    places = {where for where, _ in CASES}
    assert {"ci/github-actions-gate.yml", "ci/gitlab-ci.yml", ".pre-commit-hooks.yaml"} <= places
    commands = {argv[0] for _, argv in CASES if argv and not argv[0].startswith("-")}
    assert {"collect", "diff", "check-access", "lint"} <= commands | {
        a[2] for _, a in CASES if a[:1] == ["--log-format"]
    }


@pytest.mark.parametrize(("where", "argv"), CASES, ids=[f"{w}: {' '.join(a)}" for w, a in CASES])
def test_every_command_line_parses(where, argv):
    from policyengine.cli.main import build_parser

    try:
        build_parser(argv).parse_args(argv)
    except SystemExit as exc:  # argparse reports and exits 2
        pytest.fail(f"{where}: `policyengine {' '.join(argv)}` does not parse (exit {exc.code})")
