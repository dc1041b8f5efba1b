"""Issue 16's done-when on the emulated org: plan -> apply revokes the look-alike app's
tokens and freezes the user who authorised it; a new scan shows those findings
resolved; ``history --actions`` shows what was done."""

from __future__ import annotations

import json

import pytest

from tests.remediate.conftest import AUTHORISER, LOOKALIKE, Env, findings


def _lookalike(result_findings: list[dict]) -> list[dict]:
    return [f for f in result_findings if LOOKALIKE in (f["resource"].get("name") or "")]


def test_plan_apply_contains_the_lookalike_and_a_new_scan_shows_it_resolved(
    sf: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    first = sf.scan()
    before = _lookalike(findings(first))
    assert {"PE-INT-009", "PE-INT-012"} <= {f["policy_id"] for f in before}
    token_findings = [f for f in before if f["resource"]["kind"] == "credential"]
    assert token_findings, "the look-alike's token has findings of its own"
    assert sf.lookalike_tokens() and not sf.frozen(AUTHORISER)

    plan, digest = sf.plan(first, "--policy", "PE-INT-009")
    entries = json.loads(plan.read_text())["entries"]
    assert [e["action"] for e in entries] == ["revoke_oauth_tokens", "end_sessions", "freeze_user"]
    assert {t["id"] for e in entries for t in e["targets"] if e["action"] == "freeze_user"} == {
        AUTHORISER
    }

    capsys.readouterr()
    assert sf.apply(plan, "--approve", digest) == 0
    out = capsys.readouterr().out
    assert "applied" in out and "failed" not in out
    # the org really changed, through the write client only
    assert sf.lookalike_tokens() == []
    assert sf.frozen(AUTHORISER)
    assert not [s for s in sf.rows("AuthSession") if s["UsersId"] == AUTHORISER]
    assert {w[0] for w in sf.org.writes} == {"REVOKE", "DELETE", "PATCH"}

    # idempotent: the same plan again does nothing and says so
    writes = list(sf.org.writes)
    assert sf.apply(plan, "--approve", digest) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert sf.org.writes == writes

    second = sf.scan()
    after = _lookalike(findings(second))
    resolved = {(f["policy_id"], f["resource"]["id"]) for f in before} - {
        (f["policy_id"], f["resource"]["id"]) for f in after
    }
    app_id = next(f["resource"]["id"] for f in before if f["policy_id"] == "PE-INT-009")
    assert ("PE-INT-012", app_id) in resolved  # its live OAuth session was ended
    assert {(f["policy_id"], f["resource"]["id"]) for f in token_findings} <= resolved
    snapshot_accounts = _accounts(second)
    assert "frozen" in snapshot_accounts[AUTHORISER].get("flags", [])

    capsys.readouterr()
    assert sf.run("history", "--config", str(sf.config), "--actions", "--format", "json") == 0
    actions = json.loads(capsys.readouterr().out)["actions"]
    done = {(a["action"], a["target_id"], a["result"]) for a in actions}
    assert ("freeze_user", AUTHORISER, "applied") in done
    assert any(a["action"] == "revoke_oauth_tokens" and a["result"] == "applied" for a in actions)
    assert {a["actor"] for a in actions} == {"alice@soc.example"}
    assert {a["plan_hash"] for a in actions} == {digest}
    freeze = next(a for a in actions if a["action"] == "freeze_user")
    assert freeze["before"]["frozen"] is False and freeze["after"] == {"frozen": True}
    # the DeleteToken is read at apply time and stored nowhere
    history_bytes = (sf.tmp / "history.db").read_bytes()
    assert b"DELETE-TOKEN" not in history_bytes and b"DELETE-TOKEN" not in plan.read_bytes()

    capsys.readouterr()
    assert sf.run("history", "--config", str(sf.config), "--actions") == 0
    text = capsys.readouterr().out
    assert "freeze_user" in text and "alice@soc.example" in text


def _accounts(result_path) -> dict[str, dict]:
    from policyengine.snapshot import open_snapshot

    result = json.loads(result_path.read_text())
    (source,) = result["sources"]
    return {r["id"]: r for r in open_snapshot(source["file"]).records() if r["kind"] == "account"}
