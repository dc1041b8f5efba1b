"""TLS: verification is on by default; --ca-file trusts a private CA."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.connectors.salesforce.conftest import by_id, jwt_options, run_collect
from tests.emulators._server import EmulatorServer
from tests.emulators._tls import loopback_tls
from tests.emulators.salesforce import SalesforceOrg, load_fixture


@pytest.fixture()
def https_org(key_pair: tuple[Path, bytes], tmp_path: Path) -> Any:
    context, ca_file = loopback_tls(tmp_path / "tls")
    org = SalesforceOrg(load_fixture(), public_key_pem=key_pair[1])
    server = EmulatorServer(org, ssl_context=context).start()
    org.base_url = server.base_url
    yield server, ca_file
    server.stop()


@pytest.mark.usefixtures("fast_retries")
def test_untrusted_certificate_is_refused(
    https_org: Any, key_pair: tuple[Path, bytes], tmp_path: Path
) -> None:
    server, _ = https_org
    assert server.base_url.startswith("https://")
    result, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert not result.complete
    assert "not trusted" in snap["source"]["errors"][0]
    assert snap["source"]["counts"] == {}


def test_private_ca_file_is_trusted(
    https_org: Any, key_pair: tuple[Path, bytes], tmp_path: Path
) -> None:
    server, ca_file = https_org
    result, snap = run_collect(
        jwt_options(server, key_pair[0], ca_file=str(ca_file)), tmp_path / "sf.json"
    )
    assert result.complete, result.errors
    assert snap["source"]["instance_url"].startswith("https://127.0.0.1:")
    assert "0055g00000AliceAAA" in by_id(snap, "accounts")
