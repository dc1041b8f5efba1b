"""GitHub reports whether 2FA is on, never which method: method policies must not read
that as a weak method, and must still catch an owner whose 2FA is off."""

from __future__ import annotations

from pathlib import Path

from tests.connectors.github.conftest import GitHub, app_options, collect, token_options

METHOD_POLICIES = {"PE-MFA-002", "PE-MFA-003", "PE-MFA-004", "PE-MFA-007"}


def _findings(snapshot: Path) -> set[tuple[str, str]]:
    from policyengine.api import evaluate_snapshots, load_policy_set
    from policyengine.policy.loader import builtin_policy_dir

    result = evaluate_snapshots([snapshot], load_policy_set([builtin_policy_dir()]))
    return {(f.policy_id, f.resource.name) for f in result.findings}


def test_method_policies_skip_unreported_methods_but_catch_2fa_off(
    github: GitHub, token_env: str, key_file: str, tmp_path: Path
) -> None:
    # sam-owner is an owner whose 2FA is off; dana-owner an owner with 2FA on
    sam = next(m for m in github.emulator.org["members"] if m["login"] == "sam-owner")
    sam["two_factor"] = False
    out = tmp_path / "github.json"
    result, _ = collect(token_options(github, token_env) | app_options(github, key_file), out)
    assert result.complete, result.errors
    hits = _findings(out)
    method_hits = {(pid, name) for pid, name in hits if pid in METHOD_POLICIES}
    assert ("PE-MFA-002", "sam-owner") in method_hits
    assert not {name for _, name in method_hits} & {"dana-owner", "kim-dev", "jo-leaver"}
    # PE-MFA-001 on sam-owner is folded into PE-MFA-002 (supersedes); a member is its own
    assert ("PE-GH-001", "sam-owner") in hits and ("PE-MFA-001", "lee-dev") in hits


def test_owner_with_unknown_2fa_is_still_a_finding(
    github: GitHub, key_file: str, tmp_path: Path
) -> None:
    out = tmp_path / "github.json"
    collect(app_options(github, key_file), out)  # an App cannot read filter=2fa_disabled
    assert ("PE-MFA-002", "dana-owner") in _findings(out)
