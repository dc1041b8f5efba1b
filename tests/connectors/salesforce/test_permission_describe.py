"""The 2025 connected-app permissions are read from the field the org's describe names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.connectors.salesforce.conftest import by_id, jwt_options, run_collect
from tests.emulators._server import Response
from tests.emulators.salesforce import load_fixture

pytestmark = pytest.mark.usefixtures("fast_retries")

DAN = "0055g00000ADanAAAA"
REAL_FIELD = "PermissionsAllowUninstalledConnApps"  # a name we could not have guessed


def _org_with_labelled_permission() -> dict[str, Any]:
    fixture = load_fixture()
    fixture["defaults"]["PermissionSet"][REAL_FIELD] = False
    fixture["labels"] = {REAL_FIELD: "Approve Uninstalled Connected Apps"}
    dan = next(u for u in fixture["objects"]["User"] if u["Id"] == DAN)
    profile = next(
        p for p in fixture["objects"]["PermissionSet"] if p.get("ProfileId") == dan["ProfileId"]
    )
    profile[REAL_FIELD] = True
    return fixture


def _permission_set_queries(server: Any) -> list[str]:
    queries = [r.param("q") or "" for r in server.requests if r.path.endswith("/query")]
    return [q for q in queries if q.rstrip().endswith("FROM PermissionSet")]


def test_permission_is_read_from_the_field_its_label_names(
    org_factory: Any, key_pair: Any, tmp_path: Path
) -> None:
    server, _ = org_factory(_org_with_labelled_permission())
    result, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert result.complete, result.errors
    (query,) = _permission_set_queries(server)
    assert REAL_FIELD in query and "PermissionsApproveUninstalledConnectedApps" not in query
    dan = by_id(snap, "accounts")[DAN]
    assert "ApproveUninstalledConnectedApps" in dan["permissions"]
    # "Use Any API Client" is not in this org's describe: missing, not false
    assert snap["source"]["unavailable_fields"]["PermissionSet"] == ["PermissionsUseAnyApiClient"]


def test_describe_failure_falls_back_to_the_guessed_gated_names(
    emulated: Any, key_pair: Any, tmp_path: Path
) -> None:
    server, _ = emulated
    server.add_fault(
        Response.json([{"message": "boom", "errorCode": "UNKNOWN_EXCEPTION"}], status=500),
        match=lambda r: r.path.endswith("/describe"),
        times=None,
    )
    result, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert result.complete, result.errors
    first = _permission_set_queries(server)[0]
    assert "PermissionsApproveUninstalledConnectedApps" in first  # asked, then dropped
    assert snap["source"]["unavailable_fields"]["PermissionSet"] == [
        "PermissionsApproveUninstalledConnectedApps",
        "PermissionsUseAnyApiClient",
    ]
