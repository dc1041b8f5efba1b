"""Okta remediation actions against the emulator: scan -> plan -> apply changes the org
(through the write token only), a second apply does nothing, a new scan shows the
findings resolved, ``history --actions`` lists the steps, and every body the write
routes serve matches Okta's OpenAPI description."""

from __future__ import annotations

import glob
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from policyengine.cli.main import main
from policyengine.snapshot import open_snapshot
from tests.connectors.okta.test_spec import load_spec, validate_served
from tests.emulators.kit import EmulatorServer, OpenApiSpec, Request, Response
from tests.emulators.okta import OktaOrg
from tests.emulators.okta_writes import OktaWriteEmulator

READ_TOKEN = "00READ-collect-token-Hq4mT8vW2xZ6"
WRITE_TOKEN = "00WRITE-remediate-token-Kp3nR7sY1"
COLLECTOR = "00umallor00000000013"  # api.reporting@example.com: the read token's owner
WRITER = "00ualicex00000000000"  # alice@example.com: the write token's owner
DORMANT = "00ukatexx00000000011"  # kate, made a dormant super admin below
LEAVER = "00udavexx00000000003"  # dave, SUSPENDED: his API token is a finding (PE-CRED-005)
TOKEN = "00Tsiem0000000000001"
APP = "0oaprov0000000000001"  # HR Provisioning: okta.*.manage with a client secret
POLICIES = ["PE-PRIV-003", "PE-CRED-005", "PE-INT-014"]
SUPER_ADMIN = {
    "id": "rasuperadmin0kate",
    "label": "Super Administrator",
    "type": "SUPER_ADMIN",
    "status": "ACTIVE",
    "created": "2024-01-01T00:00:00.000Z",
    "lastUpdated": "2024-01-01T00:00:00.000Z",
    "assignmentType": "USER",
}


class Recorder:
    """Keeps (method, path, status, body) of every /api/v1 answer."""

    def __init__(self, emulator: OktaWriteEmulator) -> None:
        self.emulator = emulator
        self.served: list[tuple[str, str, int, bytes]] = []

    @property
    def base_url(self) -> str:
        return self.emulator.base_url

    @base_url.setter
    def base_url(self, value: str) -> None:
        self.emulator.base_url = value

    def __call__(self, request: Request) -> Response:
        response = self.emulator(request)
        if request.path.startswith("/api/v1/"):
            self.served.append((request.method, request.path, response.status, response.body))
        return response


def _org() -> OktaOrg:
    org = OktaOrg.load()
    for user in org.users:
        if user["id"] in (DORMANT, WRITER):
            user["lastLogin"] = "2025-01-05T08:00:00.000Z"  # > 90 days before the fixture's now
    org.user_roles[DORMANT] = [SUPER_ADMIN]
    token = next(t for t in org.api_tokens if t["id"] == TOKEN)
    token["userId"] = LEAVER
    return org


@dataclass
class Env:
    tmp: Path
    emulator: OktaWriteEmulator
    recorder: Recorder
    config: Path

    def run(self, *args: str) -> int:
        return main(list(args))

    def scan(self) -> Path:
        before = set(glob.glob(str(self.tmp / "runs" / "*" / "result.json")))
        assert self.run("scan", "--config", str(self.config), "--fail-on", "none") == 0
        (new,) = set(glob.glob(str(self.tmp / "runs" / "*" / "result.json"))) - before
        return Path(new)

    def plan(self, result: Path) -> tuple[Path, str]:
        out = self.tmp / "plan.json"
        policies = [a for p in POLICIES for a in ("--policy", p)]
        args = ["remediate", "plan", "--result", str(result), "--config", str(self.config)]
        assert self.run(*args, *policies, "-o", str(out)) == 0
        return out, hashlib.sha256(out.read_bytes()).hexdigest()

    def apply(self, plan: Path, digest: str) -> int:
        return self.run(
            "remediate", "apply", str(plan), "--config", str(self.config), "--approve", digest
        )

    def status(self, uid: str) -> str:
        return str(next(u for u in self.emulator.org.users if u["id"] == uid)["status"])


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    monkeypatch.setenv("OKTA_READ_TOKEN", READ_TOKEN)
    monkeypatch.setenv("OKTA_WRITE_TOKEN", WRITE_TOKEN)
    monkeypatch.setenv("POLICYENGINE_ACTOR", "soc@example.com")
    monkeypatch.chdir(tmp_path)
    emulator = OktaWriteEmulator(
        _org(),
        ssws_tokens={READ_TOKEN, WRITE_TOKEN},
        ssws_owners={READ_TOKEN: COLLECTOR, WRITE_TOKEN: WRITER},
        sessions={DORMANT: 2, WRITER: 1},
    )
    recorder = Recorder(emulator)
    with EmulatorServer(recorder) as server:
        config = tmp_path / "policyengine.yaml"
        config.write_text(
            f"""connectors:
  - instance: okta-prod
    type: okta
    org_url: {server.base_url}
    token_env: OKTA_READ_TOKEN
    retry_backoff: 0.01
    remediation:
      token_env: OKTA_WRITE_TOKEN
output_dir: {tmp_path / "runs"}
history: {tmp_path / "history.db"}
""",
            encoding="utf-8",
        )
        yield Env(tmp_path, emulator, recorder, config)


def _findings(result: Path) -> set[tuple[str, str]]:
    data = json.loads(result.read_text())
    return {(f["policy_id"], f["resource"]["id"]) for f in data["findings"]}


def test_plan_apply_changes_the_org_and_a_second_apply_does_nothing(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    first = env.scan()
    before = _findings(first)
    assert {("PE-PRIV-003", DORMANT), ("PE-CRED-005", TOKEN), ("PE-INT-014", APP)} <= before
    assert ("PE-PRIV-003", WRITER) in before  # the write token's owner is dormant too

    plan, digest = env.plan(first)
    entries = json.loads(plan.read_text())["entries"]
    by_action = {(e["action"], t["id"]) for e in entries for t in e["targets"]}
    assert {
        ("suspend_user", DORMANT),
        ("clear_sessions", DORMANT),
        ("revoke_api_token", TOKEN),
        ("revoke_app_grant", "oag1prov0000000000a1"),
        ("revoke_app_grant", "oag1prov0000000000a2"),
    } <= by_action
    assert READ_TOKEN not in plan.read_text() and WRITE_TOKEN not in plan.read_text()

    capsys.readouterr()
    # the write token's owner (alice) is in the plan but refused at apply: exit 4
    assert env.apply(plan, digest) == 4
    out = capsys.readouterr().out
    assert "failed" not in out
    assert env.status(DORMANT) == "SUSPENDED"
    assert env.emulator.sessions[DORMANT] == 0
    assert DORMANT not in env.emulator.org.refresh_tokens  # oauthTokens=true revoked them
    assert WRITER in env.emulator.org.refresh_tokens  # the write identity kept hers
    assert (f"/api/v1/users/{DORMANT}/sessions", "true") in env.emulator.session_revocations
    assert all(t["id"] != TOKEN for t in env.emulator.org.api_tokens)
    assert env.emulator.org.app_grants[APP] == []
    # the writing identity was not touched
    assert env.status(WRITER) == "ACTIVE" and env.emulator.sessions[WRITER] == 1
    assert ("POST", f"/api/v1/users/{WRITER}/lifecycle/suspend") not in env.emulator.writes
    assert {m for m, _ in env.emulator.writes} == {"POST", "DELETE"}
    assert f"/api/v1/users/{DORMANT}/sessions" in {p for _, p in env.emulator.writes}

    # idempotent: the same plan again does nothing and says so
    writes = list(env.emulator.writes)
    assert env.apply(plan, digest) == 4  # the refused step is refused again
    second = capsys.readouterr().out
    assert "5 done-before, 2 refused" in second and "applied" not in second
    assert env.emulator.writes == writes

    after = _findings(env.scan())
    assert ("PE-PRIV-003", DORMANT) not in after  # suspended: no longer an enabled admin
    assert ("PE-CRED-005", TOKEN) not in after  # revoked
    assert ("PE-INT-014", APP) not in after  # no okta.*.manage grant left
    assert ("PE-PRIV-003", WRITER) in after

    capsys.readouterr()
    assert env.run("history", "--config", str(env.config), "--actions", "--format", "json") == 0
    actions = json.loads(capsys.readouterr().out)["actions"]
    done = {(a["action"], a["target_id"], a["result"]) for a in actions}
    assert ("suspend_user", DORMANT, "applied") in done
    assert ("revoke_api_token", TOKEN, "applied") in done
    assert ("suspend_user", WRITER, "refused") in done
    suspend = next(a for a in actions if a["action"] == "suspend_user" and a["result"] == "applied")
    assert suspend["before"] == {"status": "ACTIVE"} and suspend["after"] == {"status": "SUSPENDED"}
    history = (env.tmp / "history.db").read_bytes()
    assert READ_TOKEN.encode() not in history and WRITE_TOKEN.encode() not in history


def test_the_collecting_token_s_owner_is_never_planned_nor_acted_on(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    # the read token belongs to kate, a dormant super admin: policyengine.yaml names only
    # token_env, so her identity comes from GET /api/v1/users/me at collect time
    env.emulator.ssws_owners[READ_TOKEN] = DORMANT
    result = env.scan()
    assert ("PE-PRIV-003", DORMANT) in _findings(result)
    source = open_snapshot(result.parent / "snapshots" / "okta-prod.jsonl.gz").source
    assert {DORMANT, "kate@example.com"} <= set(source.collected_as)

    plan, digest = env.plan(result)
    data = json.loads(plan.read_text())
    assert DORMANT not in {t["id"] for e in data["entries"] for t in e["targets"]}
    excluded = [t for e in data["entries"] for t in e["excluded"] if t["id"] == DORMANT]
    assert excluded and all("own identity" in t["reason"] for t in excluded)
    assert DORMANT in data["collected_as"]["okta-prod"]

    # a plan that lists her anyway (made by hand, or by an older version) is refused at apply
    for entry in data["entries"]:
        entry["targets"] += [t for t in entry.pop("excluded") if t["id"] == DORMANT]
        entry["excluded"] = []
    plan.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    digest = hashlib.sha256(plan.read_bytes()).hexdigest()
    capsys.readouterr()
    assert env.apply(plan, digest) == 4
    assert env.status(DORMANT) == "ACTIVE" and env.emulator.sessions[DORMANT] == 2
    assert not [w for w in env.emulator.writes if DORMANT in w[1]]
    capsys.readouterr()
    assert env.run("history", "--config", str(env.config), "--actions", "--format", "json") == 0
    actions = json.loads(capsys.readouterr().out)["actions"]
    assert {a["result"] for a in actions if a["target_id"] == DORMANT} == {"refused"}


def test_a_target_changed_since_the_plan_is_skipped(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    plan, digest = env.plan(env.scan())
    env.emulator.set_user_status(DORMANT, "DEPROVISIONED")  # an admin offboarded kate
    token = next(t for t in env.emulator.org.api_tokens if t["id"] == TOKEN)
    token["userId"] = COLLECTOR  # the token changed hands
    capsys.readouterr()
    assert env.apply(plan, digest) == 4
    assert not [w for w in env.emulator.writes if DORMANT in w[1] or TOKEN in w[1]]
    assert any(t["id"] == TOKEN for t in env.emulator.org.api_tokens)


def test_without_remediation_credentials_nothing_is_done(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    plan, digest = env.plan(env.scan())
    text = env.config.read_text().replace(
        "    remediation:\n      token_env: OKTA_WRITE_TOKEN\n", ""
    )
    env.config.write_text(text)
    capsys.readouterr()
    assert env.apply(plan, digest) == 2
    assert "remediation" in capsys.readouterr().err
    assert env.emulator.writes == []


def test_the_write_session_is_the_write_token_not_the_collection_token(env: Env) -> None:
    plan, digest = env.plan(env.scan())
    env.emulator.ssws_tokens.discard(READ_TOKEN)  # apply must not need the read token
    assert env.apply(plan, digest) == 4
    assert env.status(DORMANT) == "SUSPENDED"


def test_each_action_applied_twice_changes_nothing_the_second_time(env: Env) -> None:
    from connectors.okta._actions import RevokeApiToken, RevokeAppGrant, SuspendUser
    from connectors.okta._remediate import OktaSession
    from policyengine.remediate.contract import Target

    session = OktaSession.open(
        {"org_url": env.recorder.base_url, "token_env": "OKTA_WRITE_TOKEN"}, instance="okta-prod"
    )
    try:
        assert session.protected_identities() == {WRITER, "alice@example.com"}
        user = Target("account", DORMANT, "kate", {"status": "ACTIVE"}, DORMANT)
        token = Target("credential", TOKEN, "SIEM export", {}, LEAVER)
        grant = Target("integration", "oag1prov0000000000a1", "g", {"app_id": APP}, APP)
        for action, target in [
            (SuspendUser(), user),
            (RevokeApiToken(), token),
            (RevokeAppGrant(), grant),
        ]:
            first = action.apply(session, target, {})
            writes = len(env.emulator.writes)
            second = action.apply(session, target, {})
            assert first.changed and not second.changed, action.spec.name
            assert second.detail.startswith("already")
            assert len(env.emulator.writes) == writes  # nothing written the second time
        assert env.status(DORMANT) == "SUSPENDED"
    finally:
        session.close()


# ------------------------------------------------------------------ spec
@pytest.fixture(scope="module")
def spec() -> OpenApiSpec:
    return load_spec()


def _template(spec: OpenApiSpec, method: str, path: str) -> str:
    import re

    for template, item in spec.document["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in item:
            return str(template)
    raise AssertionError(f"{method} {path}: no operation in the Okta spec cut")


def validate_write(spec: OpenApiSpec, method: str, path: str, status: int, body: bytes) -> None:
    """A write answer: a status the operation lists, no body where the spec gives none,
    Okta's Error object on a failure."""
    template = _template(spec, method, path)
    responses = spec.document["paths"][template][method.lower()]["responses"]
    assert str(status) in responses or status == 401, f"{method} {path}: {status} not listed"
    if status >= 400:
        spec.validate(orjson.loads(body), "Error")
        return
    content = responses[str(status)].get("content") or {}
    assert not content, f"{method} {template}: the spec gives a body for {status}"
    assert body == b"", f"{method} {path}: a body where Okta sends none"


def test_every_write_route_answer_matches_okta_s_spec(env: Env, spec: OpenApiSpec) -> None:
    plan, digest = env.plan(env.scan())
    env.recorder.served.clear()
    env.apply(plan, digest)
    # and the error answers: suspending a suspended user, a gone token, a gone grant
    import httpx

    headers = {"Authorization": f"SSWS {WRITE_TOKEN}"}
    with httpx.Client(base_url=env.recorder.base_url, timeout=5) as http:
        http.post(f"/api/v1/users/{DORMANT}/lifecycle/suspend", headers=headers)
        http.delete(f"/api/v1/api-tokens/{TOKEN}", headers=headers)
        http.delete(f"/api/v1/apps/{APP}/grants/oag1prov0000000000a1", headers=headers)
        http.get("/api/v1/users/00unobody00000000000", headers=headers)
    served = [s for s in env.recorder.served if s[0] != "GET" or not s[1].endswith("/users")]
    methods = {m for m, *_ in served}
    assert methods == {"GET", "POST", "DELETE"}
    statuses = {s for _, _, s, _ in served}
    assert {200, 204, 400, 404} <= statuses
    for method, path, status, body in served:
        if method == "GET":
            validate_served(spec, path, status, orjson.loads(body))
        else:
            validate_write(spec, method, path, status, body)


def test_a_drifted_write_answer_is_refused(spec: OpenApiSpec) -> None:
    with pytest.raises(AssertionError, match="a body where Okta sends none"):
        validate_write(spec, "DELETE", f"/api/v1/api-tokens/{TOKEN}", 204, b"{}")
    with pytest.raises(AssertionError, match="not listed"):
        validate_write(spec, "DELETE", f"/api/v1/api-tokens/{TOKEN}", 200, b"")
    from tests.emulators.kit import SpecMismatch

    bad: Any = {"errorCode": 7}
    with pytest.raises(SpecMismatch):
        spec.validate(bad, "Error")
