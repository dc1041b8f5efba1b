"""The bundled GitHub demo snapshot is what the connector collects from the emulator.

This is how ``policyengine/demo/github.json`` is produced: the Maison Verlaine org is
``tests/data/github/demo-org.json``; after a mapping change regenerate the demo with
``POLICYENGINE_REGENERATE_DEMO=1 .venv/bin/python -m pytest -q tests/connectors/github/test_demo.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from policyengine.demo import demo_snapshot_paths
from tests.emulators.github import GitHubEmulator
from tests.emulators.kit import EmulatorServer, fixture_path, read_fixture

DEMO = next(p for p in demo_snapshot_paths() if p.name == "github.json")
COLLECTED_AT = "2026-11-01T06:00:00Z"
DEMO_TOKEN = "ghp_demoOwner000000000000000000000000001"
OWNER, APP_ID, INSTALLATION_ID = "cdubois-mv", 3002, 88002


def test_demo_snapshot_is_the_connectors_output(
    app_key: tuple[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from policyengine import connector as registry

    emulator = GitHubEmulator(
        read_fixture(fixture_path("github", "demo-org.json")),
        tokens={DEMO_TOKEN: OWNER},
        app_id=APP_ID,
        app_public_pem=app_key[1],
        installation_id=INSTALLATION_ID,
    )
    key_file = tmp_path / "app.pem"
    key_file.write_text(app_key[0], encoding="utf-8")
    monkeypatch.setenv("GH_DEMO", DEMO_TOKEN)
    out = tmp_path / "github.json"
    with EmulatorServer(emulator) as server:
        options = {
            "org": "maison-verlaine",
            "api_url": server.base_url,
            "token_env": "GH_DEMO",
            "app_id": str(APP_ID),
            "private_key_file": str(key_file),
            "installation_id": INSTALLATION_ID,
        }
        result = registry.run(
            "github", options, instance="github", output=out, collected_at=COLLECTED_AT, strict=True
        )
    assert result.complete, result.errors
    collected = json.loads(out.read_text())
    del collected["record_count"]  # the demo files carry only what the reader needs
    collected["source"]["api_url"] = "https://api.github.com"  # not the loopback port
    if os.environ.get("POLICYENGINE_REGENERATE_DEMO") == "1":  # after a mapping change
        DEMO.write_text(json.dumps(collected, indent=2) + "\n", encoding="utf-8")
    assert json.loads(DEMO.read_text()) == collected
    # the token's user (GET /user) and the App (id, slug, bot login): never remediated
    assert {OWNER, "posture-reader", "posture-reader[bot]", str(APP_ID)} <= set(
        collected["source"]["collected_as"]
    )
