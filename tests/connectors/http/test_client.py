"""HttpClient against a real loopback server: retries, rate limits, auth, errors."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
import structlog

from connectors.http import HttpClient, RateLimitHeaders, RetryPolicy, TokenAuth, link_pages
from policyengine.errors import AuthenticationError, ConnectorError, UsageError
from policyengine.log import register_secret
from tests.emulators._server import DROP, RESET, TRUNCATE, EmulatorServer, Request, Response

FAST = RetryPolicy(max_attempts=4, backoff_base=0.001, backoff_max=0.01, max_wait=5)


class Sleeps:
    """A sleep that records what it was asked to wait, and waits only a little."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self._lock:
            self.calls.append(seconds)
        time.sleep(min(seconds, 0.01))


def ok_app(request: Request) -> Response:
    return Response.json({"path": request.path, "auth": request.header("authorization")})


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(ok_app) as s:
        yield s


def client_for(server: EmulatorServer, **kwargs) -> HttpClient:
    kwargs.setdefault("retry", FAST)
    kwargs.setdefault("auth", None)
    return HttpClient(server.base_url, **kwargs)


def test_500_twice_then_success_is_retried(server: EmulatorServer) -> None:
    server.add_fault(Response.json({"errorCode": "E0000009"}, status=500), match="/x", times=2)
    with client_for(server) as client:
        assert client.get_json("/x") == {"path": "/x", "auth": None}
        assert client.request_count == 3
        assert client.retry_count == 2


def test_retries_are_bounded(server: EmulatorServer) -> None:
    server.add_fault(Response.json({"errorCode": "E0000009"}, status=503), match="/x", times=None)
    with client_for(server) as client, pytest.raises(ConnectorError, match="gave up after 4"):
        client.get_json("/x")
    assert server.request_count == 4


@pytest.mark.parametrize("action", [DROP, RESET, TRUNCATE])
def test_dropped_connections_are_retried(server: EmulatorServer, action) -> None:
    server.add_fault(action, match="/x", times=1)
    with client_for(server) as client:
        assert client.get_json("/x")["path"] == "/x"
    assert server.request_count == 2


def test_retry_after_is_honoured(server: EmulatorServer) -> None:
    sleeps = Sleeps()
    server.add_fault(Response.json({}, status=429, headers={"Retry-After": "3"}), match="/x")
    with client_for(server, sleep=sleeps) as client:
        client.get_json("/x")
    assert any(2.9 <= s <= 3.1 for s in sleeps.calls), sleeps.calls


def test_okta_rate_limit_reset_is_honoured_on_429(server: EmulatorServer) -> None:
    sleeps = Sleeps()
    reset = int(time.time()) + 4
    headers = {"X-Rate-Limit-Limit": "10", "X-Rate-Limit-Remaining": "0"}
    headers["X-Rate-Limit-Reset"] = str(reset)
    server.add_fault(Response.json({"errorCode": "E0000047"}, status=429, headers=headers))
    hook = RateLimitHeaders(reserve=1)
    with client_for(server, sleep=sleeps, on_response=hook) as client:
        client.get_json("/x")
    # the Date header has one-second resolution: the pause is 3-5 s, not the backoff's 0.01
    assert any(2.5 <= s <= 5.5 for s in sleeps.calls), sleeps.calls
    assert hook.pauses == 1


def test_low_remaining_budget_pauses_before_a_429(server: EmulatorServer) -> None:
    sleeps = Sleeps()
    reset = int(time.time()) + 4
    headers = {"X-Rate-Limit-Remaining": "2", "X-Rate-Limit-Reset": str(reset)}
    server.add_fault(Response.json([], headers=headers), match="/a")
    with client_for(server, sleep=sleeps, on_response=RateLimitHeaders(reserve=2)) as client:
        client.get_json("/a")
        assert sleeps.calls == []  # the pause applies to the next request
        client.get_json("/b")
    assert len(sleeps.calls) == 1 and 2.5 <= sleeps.calls[0] <= 5.5


def test_ample_budget_does_not_pause(server: EmulatorServer) -> None:
    sleeps = Sleeps()
    headers = {"X-Rate-Limit-Remaining": "50", "X-Rate-Limit-Reset": str(int(time.time()) + 60)}
    server.add_fault(Response.json([], headers=headers), times=None)
    with client_for(server, sleep=sleeps, on_response=RateLimitHeaders(reserve=4)) as client:
        for _ in range(3):
            client.get_json("/a")
    assert sleeps.calls == []


def test_refreshable_token_is_fetched_again_once_on_401(server: EmulatorServer) -> None:
    tokens = iter(["Bearer first-token-1", "Bearer second-token-2"])
    auth = TokenAuth(lambda: (next(tokens), None))
    server.add_fault(
        Response.json({"errorCode": "E0000011"}, status=401), match="/x", times=1, skip=1
    )
    with client_for(server, auth=auth) as client:
        assert client.get_json("/x")["auth"] == "Bearer first-token-1"
        assert client.get_json("/x")["auth"] == "Bearer second-token-2"
    assert auth.generation == 2


def test_second_401_in_a_row_is_final(server: EmulatorServer) -> None:
    auth = TokenAuth(lambda: ("Bearer abcdefgh12345", None))
    server.add_fault(Response.json({"errorCode": "E0000011"}, status=401), times=None)
    with client_for(server, auth=auth) as client, pytest.raises(AuthenticationError):
        client.get_json("/x")
    assert server.request_count == 2


def test_non_refreshable_token_401_is_final_at_once(server: EmulatorServer) -> None:
    auth = TokenAuth(lambda: ("SSWS abcdefgh12345", None), refreshable=False)
    body = {"errorCode": "E0000011", "errorSummary": "Invalid token provided"}
    server.add_fault(Response.json(body, status=401), times=None)
    expected = "E0000011 Invalid token provided"
    with (
        client_for(server, auth=auth) as client,
        pytest.raises(AuthenticationError, match=expected),
    ):
        client.get_json("/x")
    assert server.request_count == 1


def test_403_can_mean_missing_permission_not_bad_credentials(server: EmulatorServer) -> None:
    server.add_fault(Response.json({"errorCode": "E0000006"}, status=403), times=None)
    client = client_for(server, auth_failure=lambda r: r.status_code == 401)
    with client, pytest.raises(ConnectorError) as info:
        client.get_json("/x")
    assert not isinstance(info.value, AuthenticationError)
    assert "E0000006" in str(info.value)


def test_malformed_json_is_fetched_again_then_reported(server: EmulatorServer) -> None:
    server.add_fault(Response(200, b"{not json", {"Content-Type": "application/json"}), match="/x")
    with client_for(server) as client:
        assert client.get_json("/x")["path"] == "/x"
    server.add_fault(Response(200, b"<html>", {}), match="/y", times=None)
    with client_for(server) as client, pytest.raises(ConnectorError, match="malformed JSON"):
        client.get_json("/y")


def test_client_errors_are_not_retried(server: EmulatorServer) -> None:
    body = {"errorCode": "E0000007", "errorSummary": "Not found: Resource not found: x (User)"}
    server.add_fault(Response.json(body, status=404), times=None)
    with client_for(server) as client, pytest.raises(ConnectorError, match="HTTP 404 E0000007"):
        client.get_json("/x")
    assert server.request_count == 1


def test_secrets_never_reach_logs_or_errors(server: EmulatorServer) -> None:
    token = "00abcSECRETtokenVALUE1234567890"
    register_secret(token)

    def echo(request: Request) -> Response:  # a hostile server echoing the header back
        return Response.json({"errorSummary": f"bad {request.header('authorization')}"}, 500)

    server.app = echo
    auth = TokenAuth(lambda: (f"SSWS {token}", None), refreshable=False)
    client = client_for(server, auth=auth)
    with structlog.testing.capture_logs() as logs, client, pytest.raises(ConnectorError) as info:
        client.get_json(f"/x?token={token}")
    assert token not in str(info.value)
    assert token not in json.dumps(logs, default=str)
    assert logs, "retries are logged"


def test_link_pages_follow_next_and_stop_on_last(server: EmulatorServer) -> None:
    def pages(request: Request) -> Response:
        after = int(request.param("after", "0") or 0)
        headers = {}
        if after < 2:
            headers["Link"] = (
                f'<{server.base_url}/p?limit=2>; rel="self", '
                f'<{server.base_url}/p?after={after + 1}&limit=2>; rel="next"'
            )
        return Response.json([after], headers=headers)

    server.app = pages
    with client_for(server) as client:
        assert list(link_pages(client, "/p", params={"limit": 2})) == [[0], [1], [2]]
    assert server.requests[0].target == "/p?limit=2"
    assert server.requests[2].target == "/p?after=2&limit=2"


def test_link_pages_refuse_a_next_link_to_another_host(server: EmulatorServer) -> None:
    server.app = lambda r: Response.json(
        [], headers={"Link": '<https://elsewhere.example/p?after=1>; rel="next"'}
    )
    with client_for(server) as client, pytest.raises(ConnectorError, match="another server"):
        list(link_pages(client, "/p"))


def test_link_pages_reject_a_non_array_page(server: EmulatorServer) -> None:
    with client_for(server) as client, pytest.raises(ConnectorError, match="JSON array"):
        list(link_pages(client, "/p"))


def test_missing_ca_file_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="CA file"):
        HttpClient("https://127.0.0.1:1", auth=None, verify="/nonexistent/ca.pem")


def test_tls_is_verified_against_the_given_ca(tmp_path) -> None:
    from tests.emulators._tls import loopback_tls

    context, ca_file = loopback_tls(tmp_path)
    with EmulatorServer(ok_app, ssl_context=context) as tls_server:
        assert tls_server.base_url.startswith("https://127.0.0.1:")
        with HttpClient(tls_server.base_url, auth=None, retry=FAST, verify=str(ca_file)) as c:
            assert c.get_json("/x")["path"] == "/x"
        # the system store does not know the test CA: refused at once, not retried
        with HttpClient(tls_server.base_url, auth=None, retry=FAST) as client:
            with pytest.raises(ConnectorError, match=r"TLS certificate .* not trusted"):
                client.get_json("/x")
            assert client.request_count == 1


def test_nothing_listening_is_server_unreachable_after_the_retries() -> None:
    import socket

    from connectors.http import ServerUnreachable

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with HttpClient(f"http://127.0.0.1:{port}", auth=None, retry=FAST) as client:
        with pytest.raises(ServerUnreachable, match="gave up after 4 attempts"):
            client.get_json("/x")
        assert client.request_count == 4


def test_tls_verification_cannot_be_turned_off() -> None:
    with pytest.raises(ValueError, match="cannot be turned off"):
        HttpClient("https://127.0.0.1:1", auth=None, verify=False)


def test_a_404_is_none_or_false_only_where_asked_and_other_errors_still_raise(
    server: EmulatorServer,
) -> None:
    from connectors.http import HttpStatusError

    server.add_fault(Response.json({"error": "gone"}, status=404), match="/gone", times=None)
    server.add_fault(Response.json({"error": "no"}, status=400), match="/bad", times=None)
    with client_for(server) as client:
        assert client.get_json_or_none("/gone") is None
        assert client.send("DELETE", "/gone", missing_ok=True) is False
        assert client.send("DELETE", "/x") is True
        with pytest.raises(HttpStatusError) as gone:
            client.send("DELETE", "/gone")
        assert gone.value.status == 404
        with pytest.raises(HttpStatusError) as bad:
            client.get_json_or_none("/bad")
        assert bad.value.status == 400 and isinstance(bad.value, ConnectorError)
