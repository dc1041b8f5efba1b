"""An emulated Salesforce org with a read client (collection) and a write client
(remediation), and a policyengine.yaml that names both."""

from __future__ import annotations

import glob
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from policyengine.cli.main import main
from tests.emulators.salesforce import SalesforceOrg, load_fixture, start_org

READ_CLIENT, READ_SECRET = "3MVG9read.consumer.key", "read-secret-value-1234"
WRITE_CLIENT, WRITE_SECRET = "3MVG9write.consumer.key", "write-secret-value-5678"
LOOKALIKE = "Data Loader IT Support"
AUTHORISER = "0055g00000ADanAAAA"  # dan.helpdesk, who authorised the look-alike


@dataclass
class Env:
    tmp: Path
    server: Any
    org: SalesforceOrg
    config: Path

    def run(self, *args: str) -> int:
        return main(list(args))

    def scan(self) -> Path:
        """A scan (collect + evaluate + history); returns the run's result.json."""
        before = set(glob.glob(str(self.tmp / "runs" / "*" / "result.json")))
        assert self.run("scan", "--config", str(self.config), "--fail-on", "none") == 0
        (new,) = set(glob.glob(str(self.tmp / "runs" / "*" / "result.json"))) - before
        return Path(new)

    def plan(self, result: Path, *extra: str, name: str = "plan.json") -> tuple[Path, str]:
        out = self.tmp / name
        args = ["remediate", "plan", "--result", str(result), "--config", str(self.config)]
        assert self.run(*args, "-o", str(out), *extra) == 0
        return out, hashlib.sha256(out.read_bytes()).hexdigest()

    def apply(self, plan: Path, *extra: str) -> int:
        return self.run("remediate", "apply", str(plan), "--config", str(self.config), *extra)

    def rows(self, sobject: str) -> list[dict[str, Any]]:
        return self.org.objects.get(sobject, [])

    def lookalike_tokens(self) -> list[dict[str, Any]]:
        return [t for t in self.rows("OauthToken") if t.get("AppName") == LOOKALIKE]

    def frozen(self, user_id: str) -> bool:
        return any(r["UserId"] == user_id and r["IsFrozen"] for r in self.rows("UserLogin"))


def write_config(
    tmp: Path, base_url: str, *, remediation: str | None = None, extra: str = ""
) -> Path:
    remediation = (
        remediation
        if remediation is not None
        else f"""    remediation:
      client_id: {WRITE_CLIENT}
      client_secret_env: SF_WRITE_SECRET
"""
    )
    config = tmp / "policyengine.yaml"
    config.write_text(
        f"""connectors:
  - instance: salesforce-prod
    type: salesforce
    login_url: {base_url}
    client_id: {READ_CLIENT}
    client_secret_env: SF_READ_SECRET
    max_attempts: 3
    retry_backoff: 0.01
{extra}{remediation}output_dir: {tmp / "runs"}
history: {tmp / "history.db"}
""",
        encoding="utf-8",
    )
    return config


@pytest.fixture()
def sf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    monkeypatch.setenv("SF_READ_SECRET", READ_SECRET)
    monkeypatch.setenv("SF_WRITE_SECRET", WRITE_SECRET)
    monkeypatch.setenv("POLICYENGINE_ACTOR", "alice@soc.example")
    monkeypatch.chdir(tmp_path)
    server, org = start_org(
        load_fixture(),
        client_id=READ_CLIENT,
        client_secret=READ_SECRET,
        write_client_id=WRITE_CLIENT,
        write_client_secret=WRITE_SECRET,
    )
    try:
        yield Env(tmp_path, server, org, write_config(tmp_path, server.base_url))
    finally:
        server.stop()


def findings(result: Path) -> list[dict[str, Any]]:
    return json.loads(result.read_text())["findings"]


MakeEnv = Callable[..., Env]
