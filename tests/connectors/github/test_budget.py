"""Given a token and an App, calls either may make are spread over both hourly budgets
(GitHub counts them apart), so an org too large for one budget is still collected whole."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.connectors.github.conftest import (
    GitHub,
    app_options,
    by_name,
    collect,
    start,
    token_options,
)

REPOS = 40
BUDGET = 110  # per credential and window: one credential alone needs more than this


@pytest.fixture
def large_org(app_key: tuple[str, str]) -> Iterator[GitHub]:
    for github in start(app_key, rate_limit=BUDGET):
        for n in range(REPOS):
            github.emulator.org["repos"].append(
                {"id": 40000 + n, "name": f"svc-{n}", "private": True, "collaborators": [],
                 "deploy_keys": [{"id": 41000 + n, "title": "ci", "read_only": True,
                                  "created_at": "2026-01-01T00:00:00Z", "last_used": None,
                                  "added_by": "kim-dev"}],
                 "secrets": []}
            )  # fmt: skip
        yield github


def _callers(github: GitHub) -> Counter[str]:
    return Counter(
        "app" if "ghs_" in (r.header("authorization") or "") else "token"
        for r in github.server.requests
        if r.path.startswith(("/repos/", "/orgs/", "/graphql", "/apps/"))
    )


def test_one_credential_alone_runs_out(large_org: GitHub, token_env: str, tmp_path: Path) -> None:
    result, _ = collect(token_options(large_org, token_env, max_rate_wait=1), tmp_path / "g.json")
    assert not result.complete
    assert any("rate limit spent" in e for e in result.errors)


def test_token_and_app_share_the_work_and_finish(
    large_org: GitHub, token_env: str, key_file: str, tmp_path: Path
) -> None:
    options = token_options(large_org, token_env, max_rate_wait=1) | app_options(
        large_org, key_file, max_rate_wait=1
    )
    result, snap = collect(options, tmp_path / "g.json")
    assert result.complete, result.errors
    assert by_name(snap, "credentials")[f"svc-{REPOS - 1}: ci"]["type"] == "deploy_key"
    callers = _callers(large_org)
    total = sum(callers.values())
    assert total > BUDGET  # more than one budget's worth of calls ...
    assert max(callers.values()) < BUDGET  # ... and neither credential ran out
    assert min(callers.values()) > total // 3  # spread, not one credential doing it all
