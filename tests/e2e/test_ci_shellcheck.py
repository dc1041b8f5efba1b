"""shellcheck over every shell script the CI templates run.

GitHub Actions ``run:`` steps (bash, as the runner calls it: ``bash -e {0}``
with ``${{ ... }}`` expressions substituted first), GitLab ``before_script`` /
``script`` / ``after_script`` (each job's lines as one ``sh`` script, as the
runner does on ``python:*-slim``) and Kubernetes containers that run ``sh -c``
/ ``bash -c``. Needs the Debian package ``shellcheck``: without it the test is
skipped on a workstation and FAILS when ``CI`` is set.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import PROJECT

CI = PROJECT / "ci"
# a GitHub expression becomes a plain word shellcheck can reason about
_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")


def _github(path: Path, doc: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    for job_name, job in (doc.get("jobs") or {}).items():
        for i, step in enumerate(job.get("steps") or []):
            if "run" in step:
                shell = step.get("shell") or job.get("defaults", {}).get("run", {}).get("shell")
                label = f"{path.name}: jobs.{job_name}.steps[{i}] ({step.get('name', '')})"
                yield label, shell or "bash", _EXPRESSION.sub("GITHUB_EXPRESSION", step["run"])


def _gitlab(path: Path, doc: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    for job_name, job in doc.items():
        if not isinstance(job, dict):
            continue
        for key in ("before_script", "script", "after_script"):
            lines = job.get(key)
            if lines:
                lines = [lines] if isinstance(lines, str) else lines
                yield f"{path.name}: {job_name}.{key}", "sh", "\n".join(lines)


def _kubernetes(path: Path, docs: list[Any]) -> Iterator[tuple[str, str, str]]:
    def containers(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("containers", "initContainers") and isinstance(value, list):
                    yield from (c for c in value if isinstance(c, dict))
                else:
                    yield from containers(value)
        elif isinstance(node, list):
            for item in node:
                yield from containers(item)

    for doc in docs:
        for container in containers(doc):
            argv = [*(container.get("command") or []), *(container.get("args") or [])]
            for i, word in enumerate(argv[:-1]):
                if Path(str(word)).name in ("sh", "bash") and argv[i + 1] == "-c":
                    shell = Path(str(word)).name
                    yield f"{path.name}: container {container.get('name')}", shell, argv[i + 2]


def scripts() -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = []
    for path in sorted(CI.glob("*.y*ml")):
        docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        if path.name.startswith("github-actions"):
            found.extend(_github(path, docs[0]))
        elif path.name.startswith("gitlab"):
            found.extend(_gitlab(path, docs[0]))
        elif path.name.startswith("kubernetes"):
            found.extend(_kubernetes(path, docs))
    return found


def _shellcheck() -> str:
    found = shutil.which("shellcheck")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("shellcheck is not installed (Debian package 'shellcheck')")
        pytest.skip("shellcheck is not installed (Debian package 'shellcheck')")
    return found


def test_every_template_has_scripts_to_check() -> None:
    labels = [label for label, _, _ in scripts()]
    for name in ("github-actions-gate.yml", "github-actions-scheduled-scan.yml", "gitlab-ci.yml"):
        assert any(label.startswith(name) for label in labels), (name, labels)


@pytest.mark.parametrize(("label", "shell", "script"), scripts(), ids=lambda v: str(v)[:60])
def test_shellcheck_is_clean(label: str, shell: str, script: str) -> None:
    done = subprocess.run(
        [_shellcheck(), f"--shell={shell}", "--severity=style", "--format=gcc", "-"],
        input=script,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"{label}:\n{done.stdout}{done.stderr}"


def test_shellcheck_catches_the_sc2010_pattern() -> None:
    """The check is real: the summary step's old `ls | grep` is reported."""
    old = "latest=$(ls -1d runs/*/ 2>/dev/null | grep -v '\\.failed/$' | sort | tail -n 1)\n"
    done = subprocess.run(
        [_shellcheck(), "--shell=bash", "--format=gcc", "-"],
        input=old,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "SC2010" in done.stdout
