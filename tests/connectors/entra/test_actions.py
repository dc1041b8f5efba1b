"""Entra ID remediation actions against the Graph emulator: scan -> plan -> apply changes
the tenant (through the write app only), a second apply does nothing, a new scan shows
the findings resolved, ``history --actions`` lists the steps, and every body the write
routes serve matches Graph's CSDL."""

from __future__ import annotations

import glob
import hashlib
import json
import ssl
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import pytest

from policyengine.cli.main import main
from tests.connectors.entra.conftest import TENANT_ID
from tests.connectors.entra.test_emulator import SPEC, _check_declared
from tests.emulators.entra import Client, EntraTenant
from tests.emulators.entra_writes import WRITE_ROLES, EntraWriteEmulator
from tests.emulators.kit import DATA, EmulatorServer, Request, Response, SpecMismatch

READ_ID = "9a8b7c6d-1111-2222-3333-444455556666"
READ_SECRET = "Zq9~read-collect-secret-Hq4mT8vW2"
#: the write app is registered in the tenant as "Payroll Sync" (its service principal)
WRITE_ID = "00000000-0000-0002-0000-00000000000b"
WRITE_SECRET = "Kp3~write-remediate-secret-R7sY1"
WRITE_SP = "00000000-0000-0006-0000-000000000002"
LOOKALIKE = "00000000-0000-0006-0000-000000000004"  # Micros0ft Docs Viewer, unverified
CAROL = "00000000-0000-0001-0000-000000000003"  # consented to the look-alike
FRANK = "00000000-0000-0001-0000-000000000007"  # a dormant admin (PE-PRIV-003)
GRANTS = {"grant-lookalike-all", "grant-lookalike-carol"}
WRITE_APP_GRANT = "grant-payroll-all"
POLICIES = ["PE-ENTRA-006", "PE-PRIV-003"]


class Recorder:
    """Keeps (method, path, status, body) of every /v1.0 answer."""

    def __init__(self, emulator: EntraWriteEmulator) -> None:
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
        if request.path.startswith("/v1.0/"):
            self.served.append((request.method, request.path, response.status, response.body))
        return response


def _tenant() -> EntraTenant:
    tenant = EntraTenant.load()
    # the write app itself holds an unverified tenant-wide grant: PE-ENTRA-006 flags it,
    # and remediation must never cut its own app off
    tenant.grants.append(
        {
            "id": WRITE_APP_GRANT,
            "clientId": WRITE_SP,
            "consentType": "AllPrincipals",
            "principalId": None,
            "resourceId": "00000000-0000-0006-0000-000000000001",
            "scope": "User.Read",
        }
    )
    return tenant


@dataclass
class Env:
    tmp: Path
    emulator: EntraWriteEmulator
    recorder: Recorder
    server: EmulatorServer
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

    def user(self, uid: str) -> dict[str, Any]:
        found = self.emulator.user(uid)
        assert found is not None
        return found

    def grant_ids(self) -> set[str]:
        return {g["id"] for g in self.emulator.tenant.grants}

    @property
    def verify(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.server.ca_file))

    def token(self, client_id: str = WRITE_ID, secret: str = WRITE_SECRET) -> str:
        response = httpx.post(
            f"{self.recorder.base_url}/{TENANT_ID}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
                "scope": "https://graph.microsoft.com/.default",
            },
            verify=self.verify,
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    monkeypatch.setenv("ENTRA_READ_SECRET", READ_SECRET)
    monkeypatch.setenv("ENTRA_WRITE_SECRET", WRITE_SECRET)
    monkeypatch.setenv("POLICYENGINE_ACTOR", "soc@example.com")
    monkeypatch.chdir(tmp_path)
    emulator = EntraWriteEmulator(
        _tenant(),
        {
            # collection: read permissions only (the emulator's default roles have no write)
            READ_ID: Client(secret=READ_SECRET),
            WRITE_ID: Client(secret=WRITE_SECRET, roles=WRITE_ROLES),
        },
    )
    recorder = Recorder(emulator)
    with (
        tempfile.TemporaryDirectory() as tls_dir,
        EmulatorServer(recorder, tls_dir=tls_dir) as server,
    ):
        config = tmp_path / "policyengine.yaml"
        config.write_text(
            f"""connectors:
  - instance: entra-prod
    type: entra
    tenant_id: {TENANT_ID}
    client_id: {READ_ID}
    client_secret_env: ENTRA_READ_SECRET
    authority_url: {server.base_url}
    graph_url: {server.base_url}
    ca_file: {server.ca_file}
    retry_backoff: 0.01
    remediation:
      client_id: {WRITE_ID}
      client_secret_env: ENTRA_WRITE_SECRET
output_dir: {tmp_path / "runs"}
history: {tmp_path / "history.db"}
""",
            encoding="utf-8",
        )
        yield Env(tmp_path, emulator, recorder, server, config)


def _findings(result: Path) -> set[tuple[str, str]]:
    data = json.loads(result.read_text())
    return {(f["policy_id"], f["resource"]["id"]) for f in data["findings"]}


def test_the_read_app_cannot_write() -> None:
    """The emulator's default roles (what collection holds) include no write permission."""
    from tests.emulators.entra import ALL_PERMISSIONS

    assert not ALL_PERMISSIONS & (WRITE_ROLES - {"User.Read.All"})


def test_plan_apply_changes_the_tenant_and_a_second_apply_does_nothing(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    first = env.scan()
    before = _findings(first)
    assert {("PE-ENTRA-006", LOOKALIKE), ("PE-PRIV-003", FRANK)} <= before
    assert ("PE-ENTRA-006", WRITE_SP) in before  # the write app's own grant is flagged too
    carol_valid_from = env.user(CAROL)["signInSessionsValidFromDateTime"]

    plan, digest = env.plan(first)
    entries = json.loads(plan.read_text())["entries"]
    by_action = {(e["action"], t["id"]) for e in entries for t in e["targets"]}
    assert {
        ("delete_oauth2_permission_grant", "grant-lookalike-all"),
        ("delete_oauth2_permission_grant", "grant-lookalike-carol"),
        ("revoke_sign_in_sessions", CAROL),
        ("disable_account", FRANK),
        ("revoke_sign_in_sessions", FRANK),
    } <= by_action
    # the write app's grant is excluded when planning (its client id is protected)
    assert ("delete_oauth2_permission_grant", WRITE_APP_GRANT) not in by_action
    text = plan.read_text()
    assert READ_SECRET not in text and WRITE_SECRET not in text

    capsys.readouterr()
    assert env.apply(plan, digest) == 0
    out = capsys.readouterr().out
    assert "5 applied" in out and "failed" not in out
    # the emulator's state changed
    assert not GRANTS & env.grant_ids()
    assert WRITE_APP_GRANT in env.grant_ids()
    assert env.user(CAROL)["signInSessionsValidFromDateTime"] > carol_valid_from
    assert env.user(FRANK)["accountEnabled"] is False
    assert env.user(CAROL)["accountEnabled"] is True
    assert sorted(env.emulator.writes) == sorted(
        [
            ("DELETE", "/v1.0/oauth2PermissionGrants/grant-lookalike-all"),
            ("DELETE", "/v1.0/oauth2PermissionGrants/grant-lookalike-carol"),
            ("POST", f"/v1.0/users/{CAROL}/revokeSignInSessions"),
            ("PATCH", f"/v1.0/users/{FRANK}"),
            ("POST", f"/v1.0/users/{FRANK}/revokeSignInSessions"),
        ]
    )

    # idempotent: the same plan again does nothing and says so
    writes = list(env.emulator.writes)
    assert env.apply(plan, digest) == 0
    second = capsys.readouterr().out
    assert "nothing to do" in second and "applied" not in second
    assert env.emulator.writes == writes

    after = _findings(env.scan())
    assert ("PE-ENTRA-006", LOOKALIKE) not in after  # no tenant-wide grant left
    assert ("PE-PRIV-003", FRANK) not in after  # disabled: no longer an enabled admin
    assert ("PE-ENTRA-006", WRITE_SP) in after

    capsys.readouterr()
    assert env.run("history", "--config", str(env.config), "--actions", "--format", "json") == 0
    actions = json.loads(capsys.readouterr().out)["actions"]
    done = {(a["action"], a["target_id"], a["result"]) for a in actions}
    assert ("delete_oauth2_permission_grant", "grant-lookalike-all", "applied") in done
    assert ("revoke_sign_in_sessions", CAROL, "applied") in done
    assert ("disable_account", FRANK, "applied") in done
    disable = next(a for a in actions if a["action"] == "disable_account")
    assert disable["before"] == {"enabled": True} and disable["after"] == {"enabled": False}
    history = (env.tmp / "history.db").read_bytes()
    assert READ_SECRET.encode() not in history and WRITE_SECRET.encode() not in history


def test_sessions_revoked_since_the_scan_are_not_revoked_again(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    plan, digest = env.plan(env.scan())
    # an administrator revoked Carol's sessions after the scan (Graph's only trace of it)
    env.user(CAROL)["signInSessionsValidFromDateTime"] = "2030-01-01T00:00:00Z"
    capsys.readouterr()
    assert env.apply(plan, digest) == 0
    assert "already revoked since the scan" in capsys.readouterr().out
    assert ("POST", f"/v1.0/users/{CAROL}/revokeSignInSessions") not in env.emulator.writes
    assert ("POST", f"/v1.0/users/{FRANK}/revokeSignInSessions") in env.emulator.writes


def test_a_target_changed_since_the_plan_is_skipped(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    plan, digest = env.plan(env.scan())
    grant = next(g for g in env.emulator.tenant.grants if g["id"] == "grant-lookalike-carol")
    grant["principalId"] = "00000000-0000-0001-0000-000000000002"  # now another user's grant
    env.emulator.tenant.users.remove(env.user(FRANK))  # Frank was deleted
    capsys.readouterr()
    assert env.apply(plan, digest) == 4
    assert "grant-lookalike-carol" in env.grant_ids()
    assert not [w for w in env.emulator.writes if FRANK in w[1] or "carol" in w[1]]
    assert "grant-lookalike-all" not in env.grant_ids()  # the rest was done


def test_without_remediation_credentials_nothing_is_done(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    plan, digest = env.plan(env.scan())
    text = env.config.read_text()
    start = text.index("    remediation:\n")
    end = text.index("output_dir:")
    env.config.write_text(text[:start] + text[end:])
    capsys.readouterr()
    assert env.apply(plan, digest) == 2
    assert "remediation" in capsys.readouterr().err
    assert env.emulator.writes == []


def test_the_tenant_cannot_be_moved_by_the_remediation_mapping(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    plan, digest = env.plan(env.scan())
    text = env.config.read_text().replace(
        "      client_secret_env: ENTRA_WRITE_SECRET\n",
        "      client_secret_env: ENTRA_WRITE_SECRET\n      tenant_id: contoso.example\n",
    )
    env.config.write_text(text)
    capsys.readouterr()
    assert env.apply(plan, digest) == 2
    assert "tenant_id" in capsys.readouterr().err
    assert env.emulator.writes == []


def test_the_write_session_is_the_write_app_not_the_collection_app(env: Env) -> None:
    plan, digest = env.plan(env.scan())
    env.emulator.clients[READ_ID].secret = "rotated"  # apply must not need the read app
    assert env.apply(plan, digest) == 0
    assert env.user(FRANK)["accountEnabled"] is False


def test_each_action_applied_twice_changes_nothing_the_second_time(env: Env) -> None:
    from connectors.entra._actions import (
        DeleteOAuth2PermissionGrant,
        DisableAccount,
        RevokeSignInSessions,
    )
    from connectors.entra._remediate import EntraSession
    from policyengine.remediate.contract import Action, Target

    url = env.recorder.base_url
    session = EntraSession.open(
        {
            "tenant_id": TENANT_ID,
            "client_id": WRITE_ID,
            "client_secret_env": "ENTRA_WRITE_SECRET",
            "authority_url": url,
            "graph_url": url,
            "ca_file": str(env.server.ca_file),
        },
        instance="entra-prod",
    )
    try:
        assert session.protected_identities() == {WRITE_ID}
        valid_from = env.user(FRANK)["signInSessionsValidFromDateTime"]
        revoke = Target("account", FRANK, "frank", {"sessions_valid_from": valid_from}, FRANK)
        disable = Target("account", FRANK, "frank", {"enabled": True}, FRANK)
        grant = Target("integration", "grant-lookalike-all", "g", {"client_id": LOOKALIKE}, "x")
        steps: list[tuple[Action, Target]] = [
            (RevokeSignInSessions(), revoke),
            (DisableAccount(), disable),
            (DeleteOAuth2PermissionGrant(), grant),
        ]
        for action, target in steps:
            first = action.apply(session, target, {})
            writes = len(env.emulator.writes)
            second = action.apply(session, target, {})
            assert first.changed and not second.changed, action.spec.name
            assert second.detail.startswith("already")
            assert len(env.emulator.writes) == writes  # nothing written the second time
        assert env.user(FRANK)["accountEnabled"] is False
    finally:
        session.close()


def test_a_missing_write_permission_fails_the_step(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    plan, digest = env.plan(env.scan())
    env.emulator.clients[WRITE_ID].roles = WRITE_ROLES - {"User.EnableDisableAccount.All"}
    capsys.readouterr()
    assert env.apply(plan, digest) == 5
    assert "403" in capsys.readouterr().out
    assert env.user(FRANK)["accountEnabled"] is True


# ------------------------------------------------------------------ CSDL
_EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
CSDL = DATA / "entra" / "msgraph-v1.0-entra-posture-subset.csdl.xml"


def _bound_action(name: str) -> ET.Element:
    root = ET.parse(CSDL).getroot()
    found = [a for a in root.iter(f"{_EDM}Action") if a.get("Name") == name]
    assert len(found) == 1, f"{name}: not declared in the CSDL subset"
    return found[0]


def test_the_csdl_declares_what_the_actions_use() -> None:
    action = _bound_action("revokeSignInSessions")
    assert action.get("IsBound") == "true"
    binding = action.find(f"{_EDM}Parameter")
    assert binding is not None and binding.get("Type") == "graph.user"
    returns = action.find(f"{_EDM}ReturnType")
    assert returns is not None and returns.get("Type") == "Edm.Boolean"
    user = {p.get("Name"): p.get("Type") for n in SPEC.types.lineage("user") for p in n}
    assert user["signInSessionsValidFromDateTime"] == "Edm.DateTimeOffset"
    assert user["accountEnabled"] == "Edm.Boolean"
    assert "oauth2PermissionGrants" in SPEC.types.entity_sets


def validate_action_answer(name: str, body: Any) -> None:
    """An unbound-result answer of a bound action: ``{"@odata.context", "value": T}``."""
    returns = _bound_action(name).find(f"{_EDM}ReturnType")
    assert returns is not None
    kind = {"Edm.Boolean": bool}[returns.get("Type", "")]
    if not isinstance(body, dict) or set(body) - {"@odata.context"} != {"value"}:
        raise SpecMismatch(f"{name}: the answer must be {{'value': ...}}, got {body!r}")
    nullable = returns.get("Nullable", "true") != "false"
    if not (isinstance(body["value"], kind) or (nullable and body["value"] is None)):
        raise SpecMismatch(f"{name}: value must be {returns.get('Type')}, got {body['value']!r}")


def validate_error(body: Any) -> None:
    """Graph's error JSON (learn.microsoft.com/graph/errors): error.code and .message."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("code"), str):
        raise SpecMismatch(f"not a Graph error body: {body!r}")
    if not isinstance(error.get("message"), str):
        raise SpecMismatch(f"not a Graph error body: {body!r}")


def _validate_served(method: str, path: str, status: int, body: bytes) -> None:
    if status >= 400:
        validate_error(json.loads(body))
    elif method in ("PATCH", "DELETE"):
        assert status == 204 and body == b"", f"{method} {path}: Graph sends 204 and no body"
    elif path.endswith("/revokeSignInSessions"):
        validate_action_answer("revokeSignInSessions", json.loads(body))
    elif path.startswith("/v1.0/users/"):
        data = json.loads(body)
        SPEC.validate(data, "user")
        _check_declared([data], "user")
    elif path.startswith("/v1.0/oauth2PermissionGrants/"):
        data = json.loads(body)
        SPEC.validate(data, "oAuth2PermissionGrant")
        _check_declared([data], "oAuth2PermissionGrant")


def test_every_write_route_answer_matches_the_csdl(env: Env) -> None:
    plan, digest = env.plan(env.scan())
    env.recorder.served.clear()
    env.apply(plan, digest)
    # and the error answers: a gone grant, an unknown user, a refused permission
    headers = {"Authorization": f"Bearer {env.token()}"}
    read = {"Authorization": f"Bearer {env.token(READ_ID, READ_SECRET)}"}
    with httpx.Client(base_url=env.recorder.base_url, timeout=5, verify=env.verify) as http:
        http.delete("/v1.0/oauth2PermissionGrants/grant-lookalike-all", headers=headers)
        http.get(f"/v1.0/users/{CAROL}", headers=headers)
        http.get("/v1.0/users/00000000-0000-0001-0000-0000000000ff", headers=headers)
        http.post(f"/v1.0/users/{CAROL}/revokeSignInSessions", headers=read)
        http.patch(f"/v1.0/users/{CAROL}", headers=headers, json={"displayName": "x"})
    served = [
        s
        for s in env.recorder.served
        if s[0] != "GET" or s[1].startswith(("/v1.0/users/", "/v1.0/oauth2PermissionGrants/"))
    ]
    assert {m for m, *_ in served} == {"GET", "POST", "PATCH", "DELETE"}
    assert {200, 204, 400, 403, 404} <= {s for _, _, s, _ in served}
    for method, path, status, body in served:
        _validate_served(method, path, status, body)


def test_a_drifted_write_answer_is_refused() -> None:
    with pytest.raises(SpecMismatch):
        validate_action_answer("revokeSignInSessions", {"value": "true"})
    with pytest.raises(SpecMismatch):
        validate_action_answer("revokeSignInSessions", {"revoked": True})
    with pytest.raises(AssertionError, match="no body"):
        _validate_served("DELETE", "/v1.0/oauth2PermissionGrants/x", 204, b"{}")
    with pytest.raises(SpecMismatch):
        validate_error({"error": "nope"})
    with pytest.raises(SpecMismatch):
        SPEC.validate({"id": "x", "consentType": 3}, "oAuth2PermissionGrant")


class _Lookup:
    def __init__(self, *records: dict[str, Any]) -> None:
        self.records = {(r["kind"], r["id"]): r for r in records}

    def get(self, kind: str, resource_id: str) -> dict[str, Any] | None:
        return self.records.get((kind, resource_id))

    def all(self, kind: str) -> list[dict[str, Any]]:
        return [r for (k, _), r in self.records.items() if k == kind]


def test_guests_get_no_session_revocation_and_grants_name_their_user() -> None:
    """Graph does not revoke an external user's sessions (they sign in at home)."""
    from connectors.entra._actions import DeleteOAuth2PermissionGrant, RevokeSignInSessions

    guest = {"kind": "account", "id": "g1", "name": "dave#EXT#", "flags": ["guest"], "raw": {}}
    member = {"kind": "account", "id": "m1", "name": "carol", "flags": [], "raw": {}}
    app = {
        "kind": "integration",
        "id": "sp1",
        "name": "Viewer",
        "authorized_users": ["g1", "m1"],
        "raw": {
            "appId": "app-1",
            "delegated_grants": [
                {"id": "gr1", "consent_type": "Principal", "principal": "m1", "scopes": ["b", "a"]},
                {"id": "gr2", "consent_type": "AllPrincipals", "principal": None, "scopes": []},
            ],
        },
    }
    lookup = _Lookup(guest, member, app)
    targets = RevokeSignInSessions().targets(app, lookup, {})
    assert [t.id for t in targets] == ["m1"]
    assert RevokeSignInSessions().targets(guest, lookup, {}) == []
    grants = DeleteOAuth2PermissionGrant().targets(app, lookup, {"consent_type": "AllPrincipals"})
    assert [(t.id, t.name, t.account) for t in grants] == [("gr2", "Viewer: all users", "app-1")]
    every = DeleteOAuth2PermissionGrant().targets(app, lookup, {})
    assert [(t.name, t.facts["scopes"]) for t in every] == [
        ("Viewer: carol", ["a", "b"]),
        ("Viewer: all users", []),
    ]
