"""Users' OAuth refresh tokens (--refresh-tokens) as credentials: metadata, paging, faults."""

from __future__ import annotations

import json
from pathlib import Path

from tests.connectors.okta.conftest import Okta, by_id, collect, ssws_options
from tests.emulators._server import Response

ALICE = "00ualicex00000000000"
KATE = "00ukatexx00000000011"
PORTAL = "0oaport0000000000003"


def _tokens(snap: dict) -> dict[str, dict]:
    return {c["id"]: c for c in snap.get("credentials", []) if c["type"] == "oauth_token"}


def test_refresh_tokens_are_not_read_unless_asked(
    okta: Okta, ssws_env: str, tmp_path: Path
) -> None:
    _, snap = collect(ssws_options(okta, ssws_env, user_grants=True), tmp_path / "o.json")
    assert _tokens(snap) == {}
    assert not [r for r in okta.server.requests if "/clients" in r.path]


def test_refresh_tokens_are_credentials_of_the_user_and_the_app(
    okta: Okta, ssws_env: str, tmp_path: Path
) -> None:
    out = tmp_path / "o.json"
    result, snap = collect(ssws_options(okta, ssws_env, refresh_tokens=True), out)
    assert result.complete, result.errors
    tokens = _tokens(snap)
    assert set(tokens) == {
        "okta_refresh_token:oar1alic0000000000a1",
        "okta_refresh_token:oar1alic0000000000a2",
        "okta_refresh_token:oar1kate0000000000k1",
    }
    fresh = tokens["okta_refresh_token:oar1alic0000000000a1"]
    assert fresh["owner"] == ALICE and fresh["integration"] == PORTAL
    assert fresh["enabled"] is True
    assert fresh["scopes"] == ["offline_access", "profile"]
    assert fresh["created_at"] == "2026-10-20T10:00:00Z"
    assert fresh["expires_at"] == "2027-01-18T10:00:00Z"
    assert fresh["name"] == f"Partner Portal refresh token of {ALICE}"
    assert "last_used_at" not in fresh  # Okta does not report it: missing, not never
    # a client that is not one of the org's apps: no dangling integration reference
    orphan = tokens["okta_refresh_token:oar1kate0000000000k1"]
    assert "integration" not in orphan and orphan["raw"]["clientId"] == "0oaunknownclient0009"
    # only ACTIVE users are asked (dave is suspended)
    asked = {r.path for r in okta.server.requests}
    assert "/api/v1/users/00udavexx00000000003/clients" not in asked
    assert f"/api/v1/users/{ALICE}/clients/{PORTAL}/tokens" in asked
    assert by_id(snap, "accounts")[ALICE]  # the owner reference resolves


def test_refresh_tokens_are_paged_at_200(okta: Okta, ssws_env: str, tmp_path: Path) -> None:
    okta.emulator.org.refresh_tokens[ALICE] += [
        {
            "id": f"oar9bulk{i:012d}",
            "status": "ACTIVE",
            "created": "2026-10-01T00:00:00.000Z",
            "expiresAt": "2026-12-30T00:00:00.000Z",
            "clientId": PORTAL,
            "userId": ALICE,
            "scopes": ["offline_access"],
        }
        for i in range(250)
    ]
    _, snap = collect(ssws_options(okta, ssws_env, refresh_tokens=True), tmp_path / "o.json")
    assert len(_tokens(snap)) == 253
    path = f"/api/v1/users/{ALICE}/clients/{PORTAL}/tokens"
    pages = [r for r in okta.server.requests if r.path == path]
    assert [(p.param("limit"), p.param("after")) for p in pages] == [
        ("200", None),
        ("200", "oar9bulk000000000197"),  # the cursor the Link header gave
    ]
    assert pages[1].param("after")


def test_one_user_s_failure_is_named_and_the_rest_is_written(
    okta: Okta, ssws_env: str, tmp_path: Path
) -> None:
    okta.server.add_fault(
        Response.json({"errorCode": "E0000009", "errorSummary": "Internal Server Error"}, 500),
        match=f"/api/v1/users/{KATE}/clients",
        times=None,
    )
    result, snap = collect(ssws_options(okta, ssws_env, refresh_tokens=True), tmp_path / "o.json")
    assert not result.complete
    assert any(f"refresh tokens of 1 users not collected (e.g. {KATE})" in e for e in result.errors)
    assert len(_tokens(snap)) == 2  # alice's
    assert len([c for c in snap["credentials"] if c["type"] == "client_secret"]) == 4


def test_a_rate_limited_token_listing_is_retried(okta: Okta, ssws_env: str, tmp_path: Path) -> None:
    from tests.emulators.kit import rate_limited

    okta.server.add_fault(
        rate_limited.okta(reset_in=0.2),
        match=f"/api/v1/users/{ALICE}/clients/{PORTAL}/tokens",
        times=1,
    )
    result, snap = collect(ssws_options(okta, ssws_env, refresh_tokens=True), tmp_path / "o.json")
    assert result.complete, result.errors
    assert len(_tokens(snap)) == 3


def test_library_flags_long_lived_refresh_tokens_and_recent_app_changes(
    okta: Okta, ssws_env: str, tmp_path: Path
) -> None:
    from policyengine import connector as registry
    from policyengine.cli.main import main

    okta.emulator.org.refresh_tokens[KATE][0]["expiresAt"] = "2027-11-01T00:00:00.000Z"
    out = tmp_path / "o.json"
    options = ssws_options(okta, ssws_env, refresh_tokens=True, log_days=30)
    registry.run("okta", options, instance="okta", output=out, collected_at="2026-11-01T06:00:00Z")
    report = tmp_path / "f.json"
    argv = ["evaluate", "-s", str(out), "--now", "2026-11-01T06:00:00Z", "--format", "json"]
    main([*argv, "--output", str(report)])
    findings = json.loads(report.read_text())["findings"]
    lifetime = {f["resource"]["id"] for f in findings if f["policy_id"] == "PE-CRED-015"}
    assert lifetime == {"okta_refresh_token:oar1kate0000000000k1"}
    changed = [f for f in findings if f["policy_id"] == "PE-INT-019"]
    assert [f["resource"]["id"] for f in changed] == ["0oaprov0000000000001"]
    assert ALICE in changed[0]["message"]
