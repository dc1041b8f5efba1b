"""``policyengine respond --source --app``: the containment plan in one command."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.remediate.conftest import AUTHORISER, LOOKALIKE, Env


def test_respond_contains_the_app_and_is_applied_like_any_plan(
    sf: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = sf.tmp / "contain.json"
    args = ["respond", "--config", str(sf.config), "--source", "salesforce-prod"]
    assert sf.run(*args, "--app", LOOKALIKE.upper(), "-o", str(plan), "--format", "markdown") == 0
    comment = capsys.readouterr().out
    digest = hashlib.sha256(plan.read_bytes()).hexdigest()
    assert f"apply contain.json --config policyengine.yaml --approve {digest}" in comment
    assert "By hand" in comment and "Block" in comment
    doc = json.loads(plan.read_text())
    # tokens first (a refresh token would open a new session), then sessions, then the users
    assert [e["action"] for e in doc["entries"]] == [
        "revoke_oauth_tokens",
        "end_sessions",
        "freeze_user",
    ]
    assert doc["origin"] == {"app": LOOKALIKE, "kind": "respond", "source": "salesforce-prod"}
    assert any("Connected Apps OAuth Usage" in step for step in doc["manual"])
    assert sf.org.writes == []  # respond only plans (it collected with the read client)

    assert sf.apply(plan, "--approve", digest) == 0
    assert sf.lookalike_tokens() == [] and sf.frozen(AUTHORISER)
    assert not [s for s in sf.rows("AuthSession") if s["UsersId"] == AUTHORISER]


def test_respond_names_similar_apps_when_the_name_is_wrong(
    sf: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["respond", "--config", str(sf.config), "--source", "salesforce-prod"]
    assert sf.run(*args, "--app", "Data Loader Pro", "-o", str(sf.tmp / "p.json")) == 2
    err = capsys.readouterr().err
    assert "no app named 'Data Loader Pro'" in err and LOOKALIKE in err
    assert not (sf.tmp / "p.json").exists()


def test_respond_refuses_an_unknown_source(sf: Env, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["respond", "--config", str(sf.config), "--source", "nope", "--app", "x"]
    assert sf.run(*args, "-o", str(sf.tmp / "p.json")) == 2
    assert "no source 'nope'" in capsys.readouterr().err
