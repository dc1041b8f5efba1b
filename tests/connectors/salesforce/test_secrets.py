"""No token, secret, assertion or private key in logs, errors or the snapshot."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from policyengine import log as pelog
from policyengine.errors import AuthenticationError
from tests.connectors.salesforce.conftest import CLIENT_ID, CLIENT_SECRET, jwt_options, run_collect
from tests.emulators._server import Response

pytestmark = pytest.mark.usefixtures("fast_retries")


@pytest.fixture()
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """structlog JSON at debug into a buffer, and stdlib logging (httpx) at debug."""
    buffer = io.StringIO()
    pelog.configure("json", "debug", stream=buffer)
    caplog.set_level(logging.DEBUG)
    yield buffer
    structlog.reset_defaults()


def secrets_of(org: Any, server: Any, key_path: Path) -> list[str]:
    pem_lines = [line for line in key_path.read_text().splitlines() if line and "-----" not in line]
    assertions = [
        r.form().get("assertion", "") for r in server.requests_to("/services/oauth2/token")
    ]
    found = [*org.issued, *pem_lines, *(a for a in assertions if a), CLIENT_SECRET]
    # the random part of each access token, in case a prefix is cut off
    found += [t.split("!", 1)[1] for t in org.issued]
    return found


def leaks(text: str, secrets: list[str]) -> list[str]:
    return [s[:12] + "..." for s in secrets if s and s in text]


def test_jwt_run_with_expiry_and_retries_leaks_nothing(
    emulated: Any,
    key_pair: tuple[Path, bytes],
    tmp_path: Path,
    debug_logs: io.StringIO,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server, org = emulated

    def expire(request: Any) -> None:
        org.expire_sessions()

    server.add_fault(expire, match=lambda r: org.page_of(r.path) == ("User", 2), times=1)
    server.add_fault(Response(500, b"oops"), match="/services/Soap/m/62.0", times=1)
    result, _ = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert result.complete and org.tokens_issued == 2
    secrets = secrets_of(org, server, key_pair[0])
    assert len(secrets) > 10
    logged = debug_logs.getvalue() + caplog.text
    assert "salesforce.authenticated" in logged  # the capture works
    assert "http.reauthenticate" in logged
    assert leaks(logged, secrets) == []
    assert leaks((tmp_path / "sf.json").read_text(), secrets) == []


def test_refused_client_secret_leaks_nothing(
    org_factory: Any,
    tmp_path: Path,
    debug_logs: io.StringIO,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, _org = org_factory()
    wrong = "wrong-secret-value-1234567890"
    monkeypatch.setenv("SF_SECRET", wrong)
    options = {
        "login_url": server.base_url,
        "client_id": CLIENT_ID,
        "client_secret_env": "SF_SECRET",
    }
    with pytest.raises(AuthenticationError) as info:
        run_collect(options, tmp_path / "sf.json")
    text = str(info.value) + debug_logs.getvalue() + caplog.text
    assert wrong not in text and CLIENT_SECRET not in text
    assert "invalid client credentials" in str(info.value)


def test_bad_private_key_error_does_not_echo_the_key(
    emulated: Any, tmp_path: Path, debug_logs: io.StringIO
) -> None:
    from policyengine.errors import UsageError

    server, _ = emulated
    key = tmp_path / "bad.pem"
    body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC-not-a-real-key"
    key.write_text(f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n")
    with pytest.raises(UsageError) as info:
        run_collect(jwt_options(server, key), tmp_path / "sf.json")
    assert body not in str(info.value) and body not in debug_logs.getvalue()
    assert "bad.pem" in str(info.value)
