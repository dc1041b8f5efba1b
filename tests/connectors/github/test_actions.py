"""GitHub remediation on the emulator: scan -> plan -> apply revokes a fine-grained
personal access token's access to the org with a second (write) GitHub App only; a
second apply does nothing; a new scan no longer lists the token; the write route's
answers match GitHub's REST description."""

from __future__ import annotations

import glob
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from policyengine.cli.main import main
from tests.connectors.github.conftest import APP_ID, INSTALLATION_ID, OWNER_TOKEN
from tests.emulators.github_writes import GitHubWriteEmulator
from tests.emulators.kit import DATA, EmulatorServer, OpenApiSpec

SPEC = OpenApiSpec.load(DATA / "github" / "github-posture-subset.json")
WRITE_APP_ID, WRITE_INSTALLATION = 3003, 60003
PAT = "fine_grained_pat:grant:40001"  # release-automation of svc-release-bot
PAT_PATH = "/orgs/acme-retail/personal-access-tokens/40001"


def _key_pair() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


class Env:
    def __init__(self, tmp: Path, emulator: GitHubWriteEmulator, url: str, config: Path) -> None:
        self.tmp, self.emulator, self.url, self.config = tmp, emulator, url, config

    def scan(self) -> Path:
        before = set(glob.glob(str(self.tmp / "runs" / "*" / "result.json")))
        assert main(["scan", "--config", str(self.config), "--fail-on", "none"]) == 0
        (new,) = set(glob.glob(str(self.tmp / "runs" / "*" / "result.json"))) - before
        return Path(new)

    def pat_ids(self) -> set[int]:
        return {int(g["id"]) for g in self.emulator.org["fine_grained_tokens"]}


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    read_private, read_public = _key_pair()
    write_private, write_public = _key_pair()
    emulator = GitHubWriteEmulator.load(
        tokens={OWNER_TOKEN: "dana-owner"},
        app_id=APP_ID,
        app_public_pem=read_public,
        installation_id=INSTALLATION_ID,
        write_app_id=WRITE_APP_ID,
        write_public_pem=write_public,
        write_installation_id=WRITE_INSTALLATION,
    )
    (tmp_path / "read.pem").write_text(read_private)
    (tmp_path / "write.pem").write_text(write_private)
    monkeypatch.setenv("GH_READ_TOKEN", OWNER_TOKEN)
    monkeypatch.chdir(tmp_path)
    with EmulatorServer(emulator) as server:
        config = tmp_path / "policyengine.yaml"
        config.write_text(
            f"""connectors:
  - instance: gh
    type: github
    org: acme-retail
    api_url: {server.base_url}
    token_env: GH_READ_TOKEN
    app_id: "{APP_ID}"
    private_key_file: {tmp_path / "read.pem"}
    installation_id: {INSTALLATION_ID}
    retry_backoff: 0.001
    remediation:
      app_id: "{WRITE_APP_ID}"
      private_key_file: {tmp_path / "write.pem"}
      installation_id: {WRITE_INSTALLATION}
output_dir: {tmp_path / "runs"}
history: {tmp_path / "history.db"}
""",
            encoding="utf-8",
        )
        yield Env(tmp_path, emulator, server.base_url, config)


def _findings_on(result: Path, resource_id: str) -> set[str]:
    findings = json.loads(result.read_text())["findings"]
    every = findings + [g for f in findings for g in f.get("folded") or ()]
    return {f["policy_id"] for f in every if f["resource"]["id"] == resource_id}


def test_plan_apply_revokes_a_fine_grained_token(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    first = env.scan()
    assert "PE-GH-006" in _findings_on(first, PAT)  # write access to all repositories
    plan = env.tmp / "plan.json"
    args = ["remediate", "plan", "--result", str(first), "--config", str(env.config)]
    assert main([*args, "--policy", "PE-GH-006", "-o", str(plan)]) == 0
    entries = json.loads(plan.read_text())["entries"]
    assert {(e["action"], t["id"]) for e in entries for t in e["targets"]} >= {
        ("revoke_fine_grained_pat", PAT)
    }
    digest = hashlib.sha256(plan.read_bytes()).hexdigest()
    apply = ["remediate", "apply", str(plan), "--config", str(env.config), "--approve", digest]
    capsys.readouterr()
    assert main(apply) == 0
    assert "applied" in capsys.readouterr().out
    assert 40001 not in env.pat_ids()
    assert env.emulator.writes[0] == ("POST", PAT_PATH)
    writes = list(env.emulator.writes)

    assert main(apply) == 0
    assert "all done before" in capsys.readouterr().out
    assert env.emulator.writes == writes

    assert _findings_on(env.scan(), PAT) == set()  # the token no longer has access


def _write_token(env: Env) -> str:
    from connectors.github._actions import GitHubSession

    session = GitHubSession.open(
        {
            "org": "acme-retail",
            "api_url": env.url,
            "app_id": str(WRITE_APP_ID),
            "private_key_file": str(env.tmp / "write.pem"),
            "installation_id": WRITE_INSTALLATION,
        },
        instance="gh",
    )
    try:
        header = session.auth.header()
    finally:
        session.close()
    return header.split(" ", 1)[1]


def _headers(token: str) -> dict[str, Any]:
    return {"Authorization": f"Bearer {token}", "X-GitHub-Api-Version": "2022-11-28"}


def test_the_write_route_answers_as_github_s_description_says(env: Env) -> None:
    operation = SPEC.document["paths"]["/orgs/{org}/personal-access-tokens/{pat_id}"]["post"]
    body_schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body_schema["properties"]["action"]["enum"] == ["revoke"]
    token = _write_token(env)
    with httpx.Client(base_url=env.url, timeout=5) as http:
        listed = http.get(
            "/orgs/acme-retail/personal-access-tokens",
            params={"owner[]": "svc-release-bot"},
            headers=_headers(token),
        )
        SPEC.validate_response(listed.json(), "/orgs/{org}/personal-access-tokens", "get", 200)
        assert [g["id"] for g in listed.json()] == [40001]
        bad = http.post(PAT_PATH, json={"action": "delete"}, headers=_headers(token))
        assert bad.status_code == 422 and "422" in operation["responses"]
        ok = http.post(PAT_PATH, json={"action": "revoke"}, headers=_headers(token))
        assert ok.status_code == 204 and ok.content == b""
        assert "content" not in SPEC._resolve(operation["responses"]["204"])  # no body
        gone = http.post(PAT_PATH, json={"action": "revoke"}, headers=_headers(token))
        assert gone.status_code == 404 and "404" in operation["responses"]
        SPEC.validate(gone.json(), "basic-error")
        # the collecting App (read permission) is refused
    read = httpx.post(
        env.url + "/orgs/acme-retail/personal-access-tokens/40002",
        json={"action": "revoke"},
        headers={"Authorization": f"Bearer {OWNER_TOKEN}"},
    )
    assert read.status_code == 403 and "403" in operation["responses"]


def test_revoking_twice_changes_nothing_the_second_time(env: Env) -> None:
    from connectors.github._actions import GitHubSession, RevokeFineGrainedPat
    from policyengine.remediate.contract import Target

    session = GitHubSession.open(
        {
            "org": "acme-retail",
            "api_url": env.url,
            "app_id": str(WRITE_APP_ID),
            "private_key_file": str(env.tmp / "write.pem"),
            "installation_id": WRITE_INSTALLATION,
        },
        instance="gh",
    )
    try:
        facts = {"pat_id": 40001, "token_id": 91001, "owner_login": "svc-release-bot"}
        target = Target("credential", PAT, "release-automation", facts, None)
        action = RevokeFineGrainedPat()
        assert action.preconditions_hold(action.read_target(session, target, {}), target)
        assert action.apply(session, target, {}).changed
        again = action.apply(session, target, {})
        assert not again.changed and again.detail == "already revoked"
        assert session.protected_identities() == {str(WRITE_APP_ID)}
    finally:
        session.close()
