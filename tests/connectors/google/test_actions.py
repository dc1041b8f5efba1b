"""Google remediation on the emulator: scan -> plan -> apply revokes users' grants to an
unregistered client (PE-GWS-008) through the write service account only; the grant of
the collecting admin is excluded; a second apply does nothing; a new scan shows the
findings resolved; the write route's answers match the Directory discovery document."""

from __future__ import annotations

import copy
import glob
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from policyengine.cli.main import main
from tests.connectors.google.conftest import CLIENT_EMAIL, SUBJECT, write_key_file
from tests.emulators.google import GoogleTenant
from tests.emulators.google_writes import GoogleWriteEmulator
from tests.emulators.kit import DATA, DiscoverySpec, EmulatorServer

DIRECTORY = DiscoverySpec.load(DATA / "google" / "admin.directory_v1.json", forbid_unknown=True)
WRITER_EMAIL = "pe-remediate@northwind-posture.iam.gserviceaccount.com"
WRITER_SUBJECT = "bob.super@northwind-retail.example"
DOCSYNC = "555000111-docsync.apps.googleusercontent.com"
ADMINTOOL = "1234567890-admintool.apps.googleusercontent.com"
DAN, ERIN, ANA = "100000000000000000004", "100000000000000000005", "100000000000000000001"


def _tenant() -> GoogleTenant:
    """The fixture tenant with Docs Sync Helper and GAM unregistered (anonymous) clients."""
    tenant = copy.deepcopy(GoogleTenant.load())
    for tokens in tenant.tokens.values():
        for token in tokens:
            if token["clientId"] in (DOCSYNC, ADMINTOOL):
                token["anonymous"] = True
    return tenant


def _pem(key: rsa.RSAPrivateKey, private: bool) -> str:
    if private:
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


class Env:
    def __init__(self, tmp: Path, emulator: GoogleWriteEmulator, url: str, config: Path) -> None:
        self.tmp, self.emulator, self.url, self.config = tmp, emulator, url, config

    def scan(self) -> Path:
        before = set(glob.glob(str(self.tmp / "runs" / "*" / "result.json")))
        assert main(["scan", "--config", str(self.config), "--fail-on", "none"]) == 0
        (new,) = set(glob.glob(str(self.tmp / "runs" / "*" / "result.json"))) - before
        return Path(new)

    def grants(self, uid: str) -> set[str]:
        return {t["clientId"] for t in self.emulator.tenant.tokens.get(uid, [])}


@pytest.fixture
def env(
    tmp_path: Path, private_pem: str, public_pem: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Env]:
    writer_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    emulator = GoogleWriteEmulator(
        _tenant(),
        client_email=CLIENT_EMAIL,
        public_key_pem=public_pem,
        writer_email=WRITER_EMAIL,
        writer_public_pem=_pem(writer_key, private=False),
    )
    monkeypatch.chdir(tmp_path)
    with EmulatorServer(emulator) as server:
        read_key = write_key_file(tmp_path / "read.json", private_pem, server.base_url + "/token")
        write_key = tmp_path / "write.json"
        write_key_file(write_key, _pem(writer_key, private=True), server.base_url + "/token")
        data = json.loads(write_key.read_text())
        data["client_email"] = WRITER_EMAIL
        write_key.write_text(json.dumps(data))
        config = tmp_path / "policyengine.yaml"
        config.write_text(
            f"""connectors:
  - instance: gws
    type: google
    service_account_file: {read_key}
    subject: {SUBJECT}
    api_url: {server.base_url}
    retry_backoff: 0.001
    quota: 0
    remediation:
      service_account_file: {write_key}
      subject: {WRITER_SUBJECT}
output_dir: {tmp_path / "runs"}
history: {tmp_path / "history.db"}
""",
            encoding="utf-8",
        )
        yield Env(tmp_path, emulator, server.base_url, config)


def _gws008(result: Path) -> set[str]:
    findings = json.loads(result.read_text())["findings"]
    every = findings + [g for f in findings for g in f.get("folded") or ()]
    return {f["resource"]["id"] for f in every if f["policy_id"] == "PE-GWS-008"}


def test_plan_apply_revokes_grants_to_an_unregistered_client(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    first = env.scan()
    flagged = _gws008(first)
    assert {f"{DAN}:oauth:{DOCSYNC}", f"{ERIN}:oauth:{DOCSYNC}", f"{ANA}:oauth:{ADMINTOOL}"} <= (
        flagged
    )
    plan = env.tmp / "plan.json"
    args = ["remediate", "plan", "--result", str(first), "--config", str(env.config)]
    assert main([*args, "--policy", "PE-GWS-008", "-o", str(plan)]) == 0
    entries = json.loads(plan.read_text())["entries"]
    targets = {t["id"] for e in entries for t in e["targets"]}
    excluded = {t["id"]: t["reason"] for e in entries for t in e["excluded"]}
    assert targets == {f"{DAN}:oauth:{DOCSYNC}", f"{ERIN}:oauth:{DOCSYNC}"}
    # the collecting admin's own grant is never revoked
    assert excluded == {f"{ANA}:oauth:{ADMINTOOL}": f"the source's own identity ({SUBJECT})"}

    digest = hashlib.sha256(plan.read_bytes()).hexdigest()
    apply = ["remediate", "apply", str(plan), "--config", str(env.config), "--approve", digest]
    capsys.readouterr()
    assert main(apply) == 0
    assert "2 applied" in capsys.readouterr().out
    assert DOCSYNC not in env.grants(DAN) | env.grants(ERIN)
    assert ADMINTOOL in env.grants(ANA)
    assert len(env.emulator.writes) == 2

    assert main(apply) == 0
    assert "nothing to do (2 steps, all done before)" in capsys.readouterr().out
    assert len(env.emulator.writes) == 2

    after = _gws008(env.scan())
    assert f"{DAN}:oauth:{DOCSYNC}" not in after and f"{ERIN}:oauth:{DOCSYNC}" not in after
    assert f"{ANA}:oauth:{ADMINTOOL}" in after


def test_revoking_twice_changes_nothing_the_second_time(env: Env) -> None:
    from connectors.google._actions import GoogleSession, RevokeOAuthToken
    from policyengine.remediate.contract import Target

    config = env.config.read_text()
    write_key = config.split("remediation:\n      service_account_file: ")[1].split("\n")[0]
    session = GoogleSession.open(
        {"service_account_file": write_key, "subject": WRITER_SUBJECT, "api_url": env.url},
        instance="gws",
    )
    try:
        assert session.protected_identities() == {WRITER_SUBJECT, WRITER_EMAIL}
        target = Target("credential", "t", "Docs Sync", {"user": DAN, "client_id": DOCSYNC}, DAN)
        action = RevokeOAuthToken()
        assert action.preconditions_hold(action.read_target(session, target, {}), target)
        assert action.apply(session, target, {}).changed
        assert action.read_target(session, target, {}) is None  # gone: drift for a new plan
        again = action.apply(session, target, {})
        assert not again.changed and again.detail == "already revoked"
    finally:
        session.close()


def test_the_write_route_answers_as_the_discovery_document_says(env: Env) -> None:
    import jwt

    # a token for the writer, minted as the connector does
    from connectors.google._actions import SECURITY_SCOPE
    from connectors.google._auth import signed_assertion

    config = env.config.read_text()
    write_key = config.split("remediation:\n      service_account_file: ")[1].split("\n")[0]
    info = json.loads(Path(write_key).read_text())
    assertion = signed_assertion(info, WRITER_SUBJECT, (SECURITY_SCOPE,))
    assert jwt.decode(assertion, options={"verify_signature": False})["iss"] == WRITER_EMAIL
    with httpx.Client(base_url=env.url, timeout=5) as http:
        token = http.post(
            "/token",
            data={
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": assertion,
            },
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        path = f"/admin/directory/v1/users/{DAN}/tokens/{DOCSYNC}"
        got = http.get(path, headers=auth)
        DIRECTORY.validate_response(got.json(), "tokens.get")
        method = DIRECTORY.method("tokens.delete")
        assert method["httpMethod"] == "DELETE" and "response" not in method  # no body
        deleted = http.delete(path, headers=auth)
        assert deleted.status_code == 204 and deleted.content == b""
        gone = http.delete(path, headers=auth)
        assert gone.status_code == 404 and gone.json()["error"]["errors"][0]["reason"] == "notFound"
        assert http.get(path, headers=auth).status_code == 404
        # the emulator's path is the discovery document's
        assert method["path"] == "admin/directory/v1/users/{userKey}/tokens/{clientId}"
