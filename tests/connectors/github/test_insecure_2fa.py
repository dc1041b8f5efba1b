"""``filter=2fa_insecure`` (members whose 2FA uses an insecure method, SMS): collected for
owners, it lets PE-MFA-003 judge GitHub owners; other method policies still do not."""

from __future__ import annotations

import json
from pathlib import Path

from tests.connectors.github.conftest import GitHub, app_options, collect, token_options
from tests.emulators.github import SPEC

ORG_MEMBERS = "/orgs/{org}/members"
ORG_OUTSIDE = "/orgs/{org}/outside_collaborators"


def _filter_values(path: str) -> list[str]:
    spec = json.loads(Path(SPEC).read_text())
    params = spec["paths"][path]["get"]["parameters"]
    for p in params:
        p = spec["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
        if p["name"] == "filter":
            return list(p["schema"]["enum"])
    return []


def test_the_spec_has_the_filter_for_members_and_outside_collaborators() -> None:
    assert "2fa_insecure" in _filter_values(ORG_MEMBERS)
    assert "2fa_insecure" in _filter_values(ORG_OUTSIDE)


def _findings(snapshot: Path) -> set[tuple[str, str]]:
    from policyengine.api import evaluate_snapshots, load_policy_set

    result = evaluate_snapshots([snapshot], load_policy_set())
    return {(f.policy_id, f.resource.name) for f in result.findings}


def test_an_owner_with_sms_2fa_is_a_pe_mfa_003_finding(
    github: GitHub, token_env: str, key_file: str, tmp_path: Path
) -> None:
    sam = next(m for m in github.emulator.org["members"] if m["login"] == "sam-owner")
    sam["two_factor_insecure"] = True
    out = tmp_path / "github.json"
    result, snap = collect(token_options(github, token_env) | app_options(github, key_file), out)
    assert result.complete, result.errors
    accounts = {a["name"]: a for a in snap["accounts"]}
    assert accounts["sam-owner"]["mfa"] == {
        "enrolled": True,
        "methods": ["sms"],
        "methods_reported": False,
    }
    assert "methods" not in accounts["dana-owner"]["mfa"]  # 2FA on, nothing insecure
    hits = _findings(out)
    assert ("PE-MFA-003", "sam-owner") in hits
    assert ("PE-MFA-003", "dana-owner") not in hits
    # the list names a weak method, not all of them: phishing-resistance stays unjudged
    assert ("PE-MFA-002", "sam-owner") not in hits
    asked = [r for r in github.server.requests if r.param("filter") == "2fa_insecure"]
    assert {r.path for r in asked} == {
        "/orgs/acme-retail/members",
        "/orgs/acme-retail/outside_collaborators",
    }


def test_without_an_owner_token_the_filter_is_missing_data(
    github: GitHub, key_file: str, tmp_path: Path
) -> None:
    result, _ = collect(app_options(github, key_file), tmp_path / "github.json")
    assert any("2FA methods not collected" in e for e in result.errors)
