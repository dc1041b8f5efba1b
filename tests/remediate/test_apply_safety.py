"""remediate apply's faults and refusals: drift, 429/500, edited plans, interruption,
--max-actions, protected identities, missing or wrong write credentials."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.emulators.kit import server_error
from tests.remediate.conftest import (
    AUTHORISER,
    LOOKALIKE,
    READ_CLIENT,
    Env,
    write_config,
)


def _plan(sf: Env, *policies: str) -> tuple[Path, str]:
    result = sf.scan()
    args = [a for p in policies or ("PE-INT-009",) for a in ("--policy", p)]
    return sf.plan(result, *args)


def test_without_approve_it_is_a_dry_run(sf: Env, capsys: pytest.CaptureFixture[str]) -> None:
    plan, digest = _plan(sf)
    capsys.readouterr()
    assert sf.apply(plan) == 0
    out = capsys.readouterr().out
    assert "dry run" in out and digest in out and "dry-run" in out
    assert sf.org.writes == [] and sf.lookalike_tokens()
    assert sf.run("history", "--config", str(sf.config), "--actions") == 0
    assert "no remediation actions recorded" in capsys.readouterr().out


def test_a_plan_edited_after_approval_is_refused(
    sf: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    plan, digest = _plan(sf)
    doc = json.loads(plan.read_text())
    doc["entries"][0]["targets"][0]["id"] = "someone-else"
    plan.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    assert sf.apply(plan, "--approve", digest) == 2
    assert "changed after approval" in capsys.readouterr().err
    assert sf.org.writes == []


def test_plan_bytes_are_deterministic_and_the_hash_is_sha256sum(sf: Env) -> None:
    result = sf.scan()
    first, digest1 = sf.plan(result, name="a.json")
    second, digest2 = sf.plan(result, name="b.json")
    assert first.read_bytes() == second.read_bytes() and digest1 == digest2
    assert str(sf.tmp) not in first.read_text()  # no machine paths in a plan


def test_drift_is_skipped_and_reported(sf: Env, capsys: pytest.CaptureFixture[str]) -> None:
    plan, digest = _plan(sf)
    # between plan and apply, someone froze the user and the app's token went away
    for login in sf.rows("UserLogin"):
        if login["UserId"] == AUTHORISER:
            login["IsFrozen"] = True
    sf.org.objects["OauthToken"] = [t for t in sf.rows("OauthToken") if t["AppName"] != LOOKALIKE]
    capsys.readouterr()
    assert sf.apply(plan, "--approve", digest) == 4
    out = capsys.readouterr().out
    assert "drift" in out and "target gone" in out and "target changed" in out
    assert ("PATCH", "UserLogin") not in {w[:2] for w in sf.org.writes}
    assert not [w for w in sf.org.writes if w[0] == "REVOKE"]


@pytest.mark.parametrize(
    "fault", [server_error(500), server_error(429, headers={"Retry-After": "0"})], ids=str
)
def test_a_failing_write_is_retried_then_failed_and_nothing_else_is_touched(
    sf: Env, capsys: pytest.CaptureFixture[str], fault: object
) -> None:
    plan, digest = _plan(sf)
    revoke = sf.server.add_fault(fault, match="/services/oauth2/revoke", times=None)
    capsys.readouterr()
    assert sf.apply(plan, "--approve", digest) == 5
    out = capsys.readouterr().out
    assert "failed" in out and "not-run" in out
    assert revoke.hits >= 2  # retried before giving up
    assert sf.org.writes == [] and not sf.frozen(AUTHORISER)


def test_keep_going_carries_on_after_a_failure(sf: Env, capsys: pytest.CaptureFixture[str]) -> None:
    plan, digest = _plan(sf)
    sf.server.add_fault(server_error(500), match="/services/oauth2/revoke", times=None)
    assert sf.apply(plan, "--approve", digest, "--keep-going") == 5
    assert sf.frozen(AUTHORISER)  # the later steps ran
    assert sf.lookalike_tokens()


def test_an_interrupted_apply_run_again_finishes_the_rest_and_repeats_nothing(
    sf: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    plan, digest = _plan(sf)
    # the freeze (the last step) fails: the run stops after revoking and ending sessions
    sf.server.add_fault(server_error(503), match=lambda r: r.method == "PATCH", times=None)
    assert sf.apply(plan, "--approve", digest) == 5
    done_first = list(sf.org.writes)
    assert {w[0] for w in done_first} == {"REVOKE", "DELETE"}
    sf.server.clear_faults()
    assert sf.apply(plan, "--approve", digest) == 0
    assert sf.org.writes[: len(done_first)] == done_first
    assert [w[0] for w in sf.org.writes[len(done_first) :]] == ["PATCH"]  # only the rest
    assert sf.frozen(AUTHORISER)


def test_more_steps_than_max_actions_is_refused_before_acting(
    sf: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    plan, digest = _plan(sf)
    assert sf.apply(plan, "--approve", digest, "--max-actions", "2") == 2
    assert "--max-actions" in capsys.readouterr().err
    assert sf.org.writes == []


def test_the_source_identity_is_never_acted_on(sf: Env, capsys: pytest.CaptureFixture[str]) -> None:
    # the write credential runs as dan (client credentials' execution user)
    sf.config = write_config(
        sf.tmp,
        sf.server.base_url,
        remediation="""    remediation:
      client_id: 3MVG9write.consumer.key
      client_secret_env: SF_WRITE_SECRET
      username: dan.helpdesk@kering.example
""",
    )
    plan, digest = _plan(sf)
    doc = json.loads(plan.read_text())
    excluded = [t for e in doc["entries"] for t in e["excluded"]]
    assert {t["id"] for t in excluded if t["kind"] == "account"} == {AUTHORISER}
    assert all("own identity" in t["reason"] for t in excluded)
    assert sf.apply(plan, "--approve", digest) == 0
    assert not sf.frozen(AUTHORISER)
    assert sf.lookalike_tokens()  # the token is dan's too: excluded as well
    assert sf.org.writes == []


def test_break_glass_accounts_are_never_acted_on(sf: Env) -> None:
    sf.config = write_config(
        sf.tmp, sf.server.base_url, extra="    type_rule: ['break_glass:name=^dan[.]']\n"
    )
    plan, digest = _plan(sf)
    doc = json.loads(plan.read_text())
    reasons = {t["reason"] for e in doc["entries"] for t in e["excluded"]}
    assert reasons == {"break-glass account"}
    assert all(t["account"] != AUTHORISER for e in doc["entries"] for t in e["targets"])
    # an edited plan cannot smuggle it back in without a new approval: the hash covers it
    assert sf.apply(plan, "--approve", digest) == 0
    assert not sf.frozen(AUTHORISER)


def test_the_collection_credential_cannot_act_and_is_never_used(
    sf: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    # a remediation mapping that points at the read-only client: the org refuses its writes
    sf.config = write_config(
        sf.tmp,
        sf.server.base_url,
        remediation=f"""    remediation:
      client_id: {READ_CLIENT}
      client_secret_env: SF_READ_SECRET
""",
    )
    plan, digest = _plan(sf)
    assert sf.apply(plan, "--approve", digest, "--keep-going") == 5
    assert "INSUFFICIENT_ACCESS" in capsys.readouterr().out
    assert not sf.frozen(AUTHORISER)


def test_no_remediation_mapping_is_a_config_error(
    sf: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    sf.config = write_config(sf.tmp, sf.server.base_url, remediation="")
    plan, digest = _plan(sf)
    capsys.readouterr()
    assert sf.apply(plan, "--approve", digest) == 2
    assert "no remediation: mapping" in capsys.readouterr().err
    assert sf.org.writes == []


def test_a_remediation_mapping_may_hold_credentials_only(
    sf: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    sf.config = write_config(
        sf.tmp,
        sf.server.base_url,
        remediation="""    remediation:
      client_id: x
      client_secret_env: SF_WRITE_SECRET
      login_url: https://evil.example
""",
    )
    plan, digest = _plan(sf)
    assert sf.apply(plan, "--approve", digest) == 2
    assert "may set only credential options" in capsys.readouterr().err
    assert sf.org.writes == []


def test_the_user_the_write_token_acts_as_is_refused_at_apply_time(
    sf: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    # the plan cannot know it (client credentials name no user); the token response's id can
    sf.org.write_user_id = AUTHORISER
    plan, digest = _plan(sf)
    assert any(t["account"] == AUTHORISER for e in json.loads(plan.read_text())["entries"]
               for t in e["targets"])  # fmt: skip
    capsys.readouterr()
    assert sf.apply(plan, "--approve", digest) == 4
    out = capsys.readouterr().out
    assert "refused" in out and "own identity" in out
    assert sf.org.writes == [] and not sf.frozen(AUTHORISER)
