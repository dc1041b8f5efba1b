"""Every YAML example in README.md and docs/ is loaded by the real loader for its kind.

A fenced ``yaml``/``yml`` block is recognised by its content (config, policy,
policy test, profile overrides, waivers, access-as-code, pre-commit config,
GitHub Actions steps) and checked as the tool would check that file; a block
that is none of these fails, so a wrong example (``sources:`` for
``connectors:``) cannot be documented. An intentionally partial block is
preceded by ``<!-- not-checked: reason -->``; keep those rare.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

PROJECT = Path(__file__).resolve().parents[2]
DOCS = [PROJECT / "README.md", *sorted((PROJECT / "docs").rglob("*.md"))]

_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<ticks>`{3,}|~{3,})(?P<info>[^\n`]*)\n(?P<body>.*?)"
    r"^(?P=indent)(?P=ticks)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
_NOT_CHECKED = re.compile(r"<!--\s*not-checked:\s*\S[^>]*-->\s*$")
_MAX_NOT_CHECKED = 3  # partial examples are the exception


@dataclass(frozen=True)
class Example:
    file: Path
    line: int
    info: str
    body: str
    not_checked: bool

    def __str__(self) -> str:
        return f"{self.file.relative_to(PROJECT)}:{self.line}"


def fenced_blocks() -> Iterator[Example]:
    for file in DOCS:
        text = file.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
            yield Example(
                file,
                text.count("\n", 0, match.start()) + 2,  # the first line inside the fence
                match.group("info").strip(),
                match.group("body"),
                bool(_NOT_CHECKED.search(before)),
            )


def yaml_examples() -> list[Example]:
    return [e for e in fenced_blocks() if e.info.split()[:1] in (["yaml"], ["yml"])]


CHECKED = [e for e in yaml_examples() if not e.not_checked]


def kind_of(data: Any) -> str:
    from policyengine.config import CONFIG_SCHEMA

    if isinstance(data, list) and data and all(isinstance(s, dict) for s in data):
        if all("run" in s or "uses" in s for s in data):
            return "github-steps"
        return "unknown"
    if not isinstance(data, dict) or not data:
        return "unknown"
    keys = set(data)
    if "repos" in keys:
        return "pre-commit"
    if keys == {"waivers"} and isinstance(data["waivers"], list):
        return "waivers"
    if {"id", "resource"} <= keys:
        return "policy"
    if {"policy", "cases"} <= keys:
        return "policy-test"
    if keys & {"accounts", "groups", "roles", "privileged_roles", "break_glass", "version"} and (
        keys
        <= {"version", "privileged_roles", "accounts", "break_glass", "groups", "roles"}
        | {"role_grants", "integrations", "credentials", "session_policies"}
    ):
        return "access-as-code"
    if keys <= set(CONFIG_SCHEMA):
        return "config"
    return "unknown"


@pytest.fixture(scope="module")
def private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def test_examples_are_found_and_partial_ones_are_rare() -> None:
    examples = yaml_examples()
    assert len(examples) >= 10
    skipped = [str(e) for e in examples if e.not_checked]
    assert len(skipped) <= _MAX_NOT_CHECKED, skipped


def test_untagged_fences_are_not_yaml_in_disguise() -> None:
    """A YAML example without ``yaml`` on its fence would escape the checks below."""
    disguised = []
    for example in fenced_blocks():
        if example.info or example.not_checked:
            continue
        try:
            data = yaml.safe_load(example.body)
        except yaml.YAMLError:
            continue
        if kind_of(data) != "unknown":
            disguised.append(str(example))
    assert not disguised, f"tag these fences ```yaml: {disguised}"


@pytest.mark.parametrize("example", CHECKED, ids=str)
def test_yaml_example_is_valid_for_its_kind(
    example: Example, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, private_key_pem: str
) -> None:
    data = yaml.safe_load(example.body)
    kind = kind_of(data)
    assert kind != "unknown", (
        f"{example}: not a config, policy, policy test, waivers, access-as-code, "
        f"pre-commit or GitHub Actions example (top level: {sorted(data) if isinstance(data, dict) else type(data).__name__}); "
        "fix it, or mark an intentionally partial block with <!-- not-checked: reason -->"
    )
    CHECKS[kind](example, data, tmp_path, monkeypatch, private_key_pem)


# -- one check per kind, each through the loader the tool itself uses ------------------


def _config(example: Example, data: Any, tmp: Path, monkeypatch: Any, pem: str) -> None:
    from policyengine import connector as registry
    from policyengine.config import load_config
    from policyengine.lint import lint_paths

    path = tmp / "policyengine.yaml"
    path.write_text(example.body, encoding="utf-8")
    errors = [str(m) for m in lint_paths([path]) if m.severity == "error"]
    assert not errors, f"{example}: {errors}"
    config = load_config(path)
    for instance in config.connectors:
        options = dict(instance.options)
        for key, value in list(options.items()):
            # secrets named by the example are provided, so only the options are judged
            if key.endswith("_env"):
                monkeypatch.setenv(str(value), pem)
            elif key.endswith("_file") and key != "ca_file":
                secret = tmp / f"{key}.pem"
                secret.write_text(_google_key(pem) if key == "service_account_file" else pem)
                options[key] = str(secret)
        for folder in options.get("path") or []:
            Path(folder).mkdir(parents=True, exist_ok=True)
        registry.load(instance.type).from_options(options, instance=instance.instance)


def _google_key(pem: str) -> str:
    """A Google service-account key file (JSON around the PEM)."""
    import json

    return json.dumps(
        {
            "type": "service_account",
            "client_email": "docs@example.iam.gserviceaccount.com",
            "private_key": pem,
            "token_uri": "https://oauth2.googleapis.com/token",
        }
    )


def _policy(example: Example, data: Any, tmp: Path, monkeypatch: Any, pem: str) -> None:
    from policyengine.api import load_policy_set

    path = tmp / "policies" / "example.yaml"
    path.parent.mkdir()
    path.write_text(example.body, encoding="utf-8")
    assert [d.id for d in load_policy_set([path]).definitions] == [data["id"]]


def _policy_test(example: Example, data: Any, tmp: Path, monkeypatch: Any, pem: str) -> None:
    from policyengine.api import load_policy_set
    from policyengine.testing import run_tests

    path = tmp / "example.test.yaml"
    path.write_text(example.body, encoding="utf-8")
    run = run_tests([path], load_policy_set().definitions)
    assert not run.errors, f"{example}: {[str(e) for e in run.errors]}"
    assert run.results and all(r.passed for r in run.results), f"{example}: {run.results}"


def _waivers(example: Example, data: Any, tmp: Path, monkeypatch: Any, pem: str) -> None:
    from policyengine.findings.waivers import parse_waivers

    path = tmp / "waivers.yaml"
    path.write_text(example.body, encoding="utf-8")
    waivers, problems = parse_waivers(path, max_days=100_000)
    assert not problems, f"{example}: {problems}"
    assert len(waivers) == len(data["waivers"])


def _access(example: Example, data: Any, tmp: Path, monkeypatch: Any, pem: str) -> None:
    from policyengine import connector as registry

    folder = tmp / "access"
    folder.mkdir()
    (folder / "example.yaml").write_text(example.body, encoding="utf-8")
    result = registry.run("file", {"path": [str(folder)]}, instance="access", output=tmp / "s.json")
    assert result.complete, f"{example}: {result.errors}"


def _pre_commit(example: Example, data: Any, tmp: Path, monkeypatch: Any, pem: str) -> None:
    hooks = {h["id"] for h in yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text())}
    ours = [r for r in data["repos"] if "policyengine/policyengine" in r["repo"]]
    assert ours, f"{example}: no policyengine repository"
    for repo in ours:
        for hook in repo["hooks"]:
            assert hook["id"] in hooks, f"{example}: unknown hook {hook['id']!r}"


def _github_steps(example: Example, data: Any, tmp: Path, monkeypatch: Any, pem: str) -> None:
    from tests.e2e.test_ci_shellcheck import _EXPRESSION, _shellcheck

    for step in data:
        if "run" not in step:
            continue
        done = subprocess.run(
            [_shellcheck(), "--shell=bash", "--format=gcc", "-"],
            input=_EXPRESSION.sub("GITHUB_EXPRESSION", step["run"]),
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ},
        )
        assert done.returncode == 0, f"{example}: {done.stdout}"


CHECKS = {
    "config": _config,
    "policy": _policy,
    "policy-test": _policy_test,
    "waivers": _waivers,
    "access-as-code": _access,
    "pre-commit": _pre_commit,
    "github-steps": _github_steps,
}
