"""A user deactivated while the connector runs is listed twice (plain listing, then the
DEPROVISIONED search): the snapshot keeps one record, in the later state."""

from __future__ import annotations

from pathlib import Path

import pytest

from policyengine import connector as registry
from policyengine.snapshot import open_snapshot
from tests.connectors.okta.conftest import Okta, by_name, collect, ssws_options
from tests.emulators._server import Request

ALICE = "00ualicex00000000000"


def _deactivate_alice_before_the_search(okta: Okta) -> None:
    def is_search(request: Request) -> bool:
        return request.path == "/api/v1/users" and request.param("search") is not None

    def deactivate(_request: Request) -> None:
        okta.emulator.set_user_status(ALICE, "DEPROVISIONED")  # then the app answers

    okta.server.add_fault(deactivate, match=is_search)


@pytest.mark.parametrize("name", ["okta.json", "okta.jsonl.gz"])
def test_user_deactivated_mid_run_is_one_record_in_its_later_state(
    okta: Okta, ssws_env: str, tmp_path: Path, name: str
) -> None:
    _deactivate_alice_before_the_search(okta)
    out = tmp_path / name
    result = registry.run("okta", ssws_options(okta, ssws_env), instance="okta", output=out)
    assert result.complete, result.errors
    assert result.counts["account"] == 15
    records = list(open_snapshot(out).records())  # the reader refuses duplicate ids
    alice = [r for r in records if r["id"] == ALICE]
    assert len(alice) == 1
    assert alice[0]["status"] == "DEPROVISIONED" and alice[0]["enabled"] is False
    assert "mfa" not in alice[0]  # deactivated: factors not read, so not claimed either way
    # she still holds SUPER_ADMIN (Okta keeps role assignments of deactivated users),
    # listed once among the role's members
    roles = {r["name"]: r for r in records if r["kind"] == "role"}
    assert roles["SUPER_ADMIN"]["members"].count(ALICE) == 1


def test_without_the_change_alice_is_active(okta: Okta, ssws_env: str, tmp_path: Path) -> None:
    _, snap = collect(ssws_options(okta, ssws_env), tmp_path / "okta.json")
    assert by_name(snap)["alice@example.com"]["status"] == "ACTIVE"
