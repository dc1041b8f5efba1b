"""The emulator kit itself: faults, vendor rate-limit and expiry answers, log redaction,
paging helpers, TLS, fixtures, the window limiter and spec validation."""

from __future__ import annotations

import json
import re
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.emulators.kit import (
    DROP,
    REDACTED,
    RESET,
    TRUNCATE,
    CsdlSpec,
    DiscoverySpec,
    EmulatorServer,
    FixedWindowLimiter,
    OpenApiSpec,
    PageTokens,
    Request,
    Response,
    SpecMismatch,
    cursor_page,
    link_header,
    load_fixture,
    malformed_body,
    numbered_page,
    offset_page,
    parse_link_header,
    rate_limited,
    read_fixture,
    server_error,
    token_expired,
    url,
)


def echo(request: Request) -> Response:
    return Response.json({"path": request.path})


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(echo) as running:
        yield running


@pytest.fixture
def client(server: EmulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=5) as http:
        yield http


# ------------------------------------------------------------------ one-shot faults
def test_server_error_fires_once_then_the_app_answers(
    server: EmulatorServer, client: httpx.Client
) -> None:
    fault = server.add_fault(server_error(503, {"error": "busy"}), match="/x")
    first, second = client.get("/x"), client.get("/x")
    assert (first.status_code, first.json()) == (503, {"error": "busy"})
    assert (second.status_code, second.json()) == (200, {"path": "/x"})
    assert fault.hits == 1


def test_fault_matches_only_its_path(server: EmulatorServer, client: httpx.Client) -> None:
    server.add_fault(server_error(), match="/api/*")
    assert client.get("/other").status_code == 200
    assert client.get("/api/v1/users").status_code == 500


def test_dropped_connection(server: EmulatorServer, client: httpx.Client) -> None:
    server.add_fault(DROP)
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/x")
    assert client.get("/x").status_code == 200  # one-shot: the next request is served


def test_reset_connection(server: EmulatorServer, client: httpx.Client) -> None:
    server.add_fault(RESET)
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        client.get("/x")


def test_truncated_body(server: EmulatorServer, client: httpx.Client) -> None:
    server.add_fault(TRUNCATE)
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/x")


def test_malformed_body_is_a_200_that_does_not_parse(
    server: EmulatorServer, client: httpx.Client
) -> None:
    server.add_fault(malformed_body())
    response = client.get("/x")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        response.json()


# ------------------------------------------------------------------ vendor answers
def _reset_is_ahead(value: str) -> bool:
    return time.time() - 1 <= int(value) <= time.time() + 120


def test_okta_rate_limited() -> None:
    response = rate_limited.okta(limit=100, reset_in=30)
    assert response.status == 429
    assert json.loads(response.body)["errorCode"] == "E0000047"
    assert response.headers["X-Rate-Limit-Limit"] == "100"
    assert response.headers["X-Rate-Limit-Remaining"] == "0"
    assert _reset_is_ahead(response.headers["X-Rate-Limit-Reset"])


def test_salesforce_request_limit_exceeded() -> None:
    response = rate_limited.salesforce(used=15001, limit=15000)
    assert response.status == 403
    assert json.loads(response.body)[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    assert response.headers["Sforce-Limit-Info"] == "api-usage=15001/15000"


@pytest.mark.parametrize("status", [403, 429])
def test_github_primary_rate_limit(status: int) -> None:
    response = rate_limited.github(status, limit=5000, reset_in=60, resource="core")
    assert response.status == status
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert response.headers["x-ratelimit-limit"] == "5000"
    assert response.headers["x-ratelimit-resource"] == "core"
    assert _reset_is_ahead(response.headers["x-ratelimit-reset"])
    assert "rate limit exceeded" in json.loads(response.body)["message"]


def test_github_secondary_rate_limit_says_retry_after() -> None:
    response = rate_limited.github(403, retry_after=60)
    assert response.headers["Retry-After"] == "60"
    assert "x-ratelimit-remaining" not in response.headers
    assert "secondary rate limit" in json.loads(response.body)["message"]


@pytest.mark.parametrize("reason", ["rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"])
def test_google_403_usage_limits(reason: str) -> None:
    response = rate_limited.google(403, reason)
    error = json.loads(response.body)["error"]
    assert response.status == 403 and error["code"] == 403
    assert error["errors"][0] == {
        "message": error["message"],
        "domain": "usageLimits",
        "reason": reason,
    }


def test_google_429_resource_exhausted() -> None:
    response = rate_limited.google(429, retry_after=5)
    error = json.loads(response.body)["error"]
    assert (response.status, error["status"]) == (429, "RESOURCE_EXHAUSTED")
    assert response.headers["Retry-After"] == "5"


def test_graph_throttled() -> None:
    response = rate_limited.graph(retry_after=7)
    error = json.loads(response.body)["error"]
    assert (response.status, error["code"]) == (429, "TooManyRequests")
    assert response.headers["Retry-After"] == "7"
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}


@pytest.mark.parametrize(
    ("vendor", "code_of"),
    [
        ("okta", lambda b: b["errorCode"] == "E0000011"),
        ("salesforce", lambda b: b[0]["errorCode"] == "INVALID_SESSION_ID"),
        ("github", lambda b: b["message"] == "Bad credentials"),
        ("google", lambda b: b["error"]["status"] == "UNAUTHENTICATED"),
        ("graph", lambda b: b["error"]["code"] == "InvalidAuthenticationToken"),
    ],
)
def test_token_expired_is_the_vendors_401(vendor: str, code_of: Any) -> None:
    response = getattr(token_expired, vendor)()
    assert response.status == 401
    assert code_of(json.loads(response.body))


def test_vendor_fault_through_the_server(server: EmulatorServer, client: httpx.Client) -> None:
    server.add_fault(token_expired.graph(), match="/v1.0/users")
    assert client.get("/v1.0/users").status_code == 401
    assert client.get("/v1.0/users").status_code == 200


# ------------------------------------------------------------------ log redaction
SECRETS = ["eyJhbGciOi.secret-bearer", "sess=cookie-secret", "client-secret-value", "jwt.assert"]


def test_request_log_holds_no_auth_values(
    server: EmulatorServer, client: httpx.Client, tmp_path: Path
) -> None:
    client.post(
        "/oauth2/v1/token?access_token=client-secret-value&limit=5",
        headers={"Authorization": f"Bearer {SECRETS[0]}", "Cookie": SECRETS[1]},
        data={"grant_type": "client_credentials", "client_secret": SECRETS[2]},
    )
    client.post(
        "/login",
        headers={"Authorization": "SSWS client-secret-value"},
        json={"user": "alice", "password": SECRETS[2], "nested": {"client_assertion": SECRETS[3]}},
    )
    out = tmp_path / "log.jsonl"
    server.dump_log(out)
    shown = [repr(r) for r in server.requests]
    for text in [json.dumps(server.log()), out.read_text(), *shown]:
        leaked = [s for s in SECRETS if s in text]
        assert not leaked, text
    token, login = server.log()
    assert token["headers"]["authorization"] == f"Bearer {REDACTED}"
    assert token["headers"]["cookie"] == REDACTED
    assert token["target"] == "/oauth2/v1/token?access_token=[redacted]&limit=5"
    assert "grant_type=client_credentials" in token["body"]
    assert json.loads(login["body"]) == {
        "user": "alice",
        "password": REDACTED,
        "nested": {"client_assertion": REDACTED},
    }
    # the raw request is still there for tests that check what a client sent
    assert server.requests[0].header("authorization") == f"Bearer {SECRETS[0]}"
    assert len(out.read_text().splitlines()) == 2


def test_soap_body_is_not_logged(server: EmulatorServer, client: httpx.Client) -> None:
    envelope = b"<Envelope><SessionHeader><sessionId>00D!secret</sessionId></SessionHeader>"
    client.post("/services/Soap/m/62.0", content=envelope, headers={"Content-Type": "text/xml"})
    assert "00D!secret" not in json.dumps(server.log())


# ------------------------------------------------------------------ paging
ITEMS = [{"id": f"u{i}"} for i in range(7)]


def test_cursor_pages_walk_every_item_once() -> None:
    seen, after, pages = [], None, 0
    while True:
        page = cursor_page(ITEMS, after, 3)
        assert page is not None
        seen += page.items
        pages += 1
        if page.next is None:
            break
        after = page.next
    assert seen == ITEMS and pages == 3


def test_cursor_page_unknown_cursor_and_index() -> None:
    assert cursor_page(ITEMS, "nope", 3) is None
    index = {item["id"]: i for i, item in enumerate(ITEMS)}
    page = cursor_page(ITEMS, "u2", 3, index=index)
    assert page is not None and [i["id"] for i in page.items] == ["u3", "u4", "u5"]
    assert page.next == "u5"
    assert cursor_page(ITEMS, "u3", 3, index=index).next is None  # type: ignore[union-attr]


def test_offset_and_numbered_pages() -> None:
    assert offset_page(ITEMS, 0, 5).next == 5
    assert offset_page(ITEMS, 5, 5).items == ITEMS[5:] and offset_page(ITEMS, 5, 5).next is None
    first = numbered_page(ITEMS, 1, 3)
    assert (first.next, first.last) == (2, 3)
    last = numbered_page(ITEMS, 3, 3)
    assert (last.items, last.next) == (ITEMS[6:], None)
    assert numbered_page(ITEMS, 9, 3).items == []
    assert numbered_page([], 1, 3).last == 1


def test_page_tokens_are_opaque_and_remembered() -> None:
    tokens: PageTokens[tuple[str, int]] = PageTokens("01g")
    a, b = tokens.issue(("User", 2)), tokens.issue(("User", 4))
    assert a != b and a.startswith("01g")
    assert tokens.get(a) == ("User", 2) and tokens.get("01gforged") is None


def test_link_header_round_trip() -> None:
    links = {
        "next": url("https://h", "/users", {"after": "x,y", "limit": 2}),
        "last": url("https://h", "/users", {"page": 4}),
    }
    header = link_header(links)
    assert header.startswith('<https://h/users?after=x%2Cy&limit=2>; rel="next", ')
    assert parse_link_header(header) == links
    assert parse_link_header(None) == {}
    assert url("https://h", "/p") == "https://h/p"


# ------------------------------------------------------------------ server, fixtures, limits
def test_tls_dir_serves_https_with_its_own_ca(tmp_path: Path) -> None:
    with EmulatorServer(echo, tls_dir=tmp_path / "tls") as tls:
        assert tls.base_url.startswith("https://127.0.0.1:") and tls.ca_file is not None
        assert httpx.get(
            tls.base_url + "/t", verify=ssl.create_default_context(cafile=tls.ca_file)
        ).json() == {"path": "/t"}
        with pytest.raises(httpx.ConnectError):
            httpx.get(tls.base_url + "/t")  # not trusted without the CA


def test_start_tells_the_app_its_base_url() -> None:
    class App:
        base_url = ""

        def __call__(self, request: Request) -> Response:
            return Response.json({"self": self.base_url + request.path})

    app = App()
    with EmulatorServer(app) as running:
        assert app.base_url == running.base_url
        assert httpx.get(running.base_url + "/a").json() == {"self": running.base_url + "/a"}


def test_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback"):
        EmulatorServer(echo, host="0.0.0.0")


def test_fixtures_are_fresh_copies_and_errors_name_the_file(tmp_path: Path) -> None:
    first = load_fixture("okta")
    first["users"].clear()
    assert load_fixture("okta")["users"]
    with pytest.raises(FileNotFoundError, match=re.escape("nosuchvendor/org.json")):
        load_fixture("nosuchvendor")
    broken = tmp_path / "org.json"
    broken.write_text('{\n"users": [,]}')
    with pytest.raises(ValueError, match=rf"{broken}:2: emulator fixture is not JSON"):
        read_fixture(broken)


def test_fixed_window_limiter() -> None:
    limiter = FixedWindowLimiter({"users": 2}, default=5, window=3600)
    outcomes = [limiter.count("users") for _ in range(3)]
    assert [w.allowed for w in outcomes] == [True, True, False]
    assert [w.remaining for w in outcomes] == [1, 0, 0]
    assert limiter.rejected == 1
    assert limiter.count("groups").limit == 5
    assert outcomes[0].reset % 3600 == 0 and outcomes[0].reset > time.time()


# ------------------------------------------------------------------ spec validation
OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "mini", "version": "1"},
    "paths": {
        "/orgs/{org}/members": {
            "get": {
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/simple-user"},
                                }
                            }
                        },
                    },
                    "404": {"$ref": "#/components/responses/not_found"},
                }
            }
        }
    },
    "components": {
        "schemas": {
            "simple-user": {
                "type": "object",
                "required": ["login", "id", "site_admin"],
                "properties": {
                    "login": {"type": "string"},
                    "id": {"type": "integer"},
                    "site_admin": {"type": "boolean"},
                    "email": {"type": "string", "nullable": True},
                    "created_at": {"type": "string", "format": "date-time"},
                    "plan": {"nullable": True, "allOf": [{"$ref": "#/components/schemas/plan"}]},
                },
            },
            "plan": {"type": "object", "properties": {"name": {"type": "string"}}},
            "basic-error": {"type": "object", "properties": {"message": {"type": "string"}}},
        },
        "responses": {
            "not_found": {
                "description": "nf",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/basic-error"}}
                },
            }
        },
    },
}
USER = {"login": "octocat", "id": 1, "site_admin": False, "email": None, "plan": None}


def test_openapi_body_that_matches() -> None:
    spec = OpenApiSpec(OPENAPI)
    spec.validate({**USER, "created_at": "2026-01-02T03:04:05Z"}, "simple-user")
    spec.validate({**USER, "plan": {"name": "free"}}, "simple-user")
    spec.validate_response([USER], "/orgs/{org}/members")
    spec.validate_response({"message": "Not Found"}, "/orgs/{org}/members", status=404)


def test_openapi_body_that_does_not_match() -> None:
    spec = OpenApiSpec(OPENAPI)
    assert spec.errors({"login": "x", "id": "1", "site_admin": False}, "simple-user") == [
        "$.id: '1' is not of type 'integer'"
    ]
    assert spec.errors({**USER, "created_at": "2026-01-02"}, "simple-user") == [
        "$.created_at: '2026-01-02' is not a 'date-time'"
    ]
    assert spec.errors({**USER, "plan": {"name": 3}}, "simple-user")
    with pytest.raises(SpecMismatch, match=r"GET /orgs/\{org\}/members 200: \$\[1\]: 'site_admin'"):
        spec.validate_response([USER, {"login": "x", "id": 2}], "/orgs/{org}/members")
    with pytest.raises(KeyError, match="no schema 'nope'"):
        spec.validate({}, "nope")
    with pytest.raises(ValueError, match=re.escape("OpenAPI 3.0 expected")):
        OpenApiSpec({"swagger": "2.0"})


DISCOVERY: dict[str, Any] = {
    "kind": "discovery#restDescription",
    "name": "mini",
    "schemas": {
        "Users": {
            "id": "Users",
            "type": "object",
            "properties": {
                "users": {"type": "array", "items": {"$ref": "User"}},
                "nextPageToken": {"type": "string"},
            },
        },
        "User": {
            "id": "User",
            "type": "object",
            "properties": {
                "primaryEmail": {"type": "string"},
                "isAdmin": {"type": "boolean", "readOnly": True},
                "lastLoginTime": {"type": "string", "format": "date-time"},
                "creationTime": {"type": "string", "format": "int64"},
                "customSchemas": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "additionalProperties": {"type": "any"},
                    },
                },
            },
        },
    },
    "resources": {
        "users": {
            "methods": {"list": {"id": "directory.users.list", "response": {"$ref": "Users"}}}
        }
    },
}


def test_discovery_body_that_matches() -> None:
    spec = DiscoverySpec(DISCOVERY)
    user = {
        "primaryEmail": "a@example.com",
        "isAdmin": True,
        "lastLoginTime": "2026-11-01T08:00:00.000Z",
        "creationTime": "1700000000000",
        "customSchemas": {"hr": {"costCenter": 12, "tags": ["x"]}},
    }
    spec.validate(user, "User", forbid_unknown=True)
    spec.validate_response({"users": [user], "nextPageToken": "t"}, "users.list")
    spec.validate({"unlisted": 1}, "User")  # unknown fields pass unless forbidden


def test_discovery_body_that_does_not_match() -> None:
    spec = DiscoverySpec(DISCOVERY)
    assert spec.errors({"isAdmin": "yes", "creationTime": 17}, "User") == [
        "$.creationTime: 17 is not of type 'string'",
        "$.isAdmin: 'yes' is not of type 'boolean'",
    ]
    assert spec.errors({"creationTime": "17e3"}, "User") == [
        "$.creationTime: '17e3' does not match '^-?[0-9]+$'"
    ]
    with pytest.raises(SpecMismatch, match=r"users.list response \(Users\): \$\.users\[0\]"):
        spec.validate_response({"users": [{"isAdmin": 1}]}, "users.list")
    with pytest.raises(SpecMismatch, match="'isadmin' was unexpected"):
        spec.validate({"isadmin": True}, "User", forbid_unknown=True)
    with pytest.raises(KeyError, match=re.escape("no method users.delete")):
        spec.validate_response({}, "users.delete")


CSDL = """<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx xmlns="http://docs.oasis-open.org/odata/ns/edm"
           xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">
  <edmx:DataServices>
    <Schema Namespace="microsoft.graph" Alias="graph">
      <EnumType Name="attestationLevel">
        <Member Name="attested" Value="0" /><Member Name="notAttested" Value="1" />
      </EnumType>
      <EnumType Name="modes" IsFlags="true">
        <Member Name="password" Value="1" /><Member Name="fido2" Value="2" />
      </EnumType>
      <EntityType Name="entity" Abstract="true">
        <Key><PropertyRef Name="id" /></Key>
        <Property Name="id" Type="Edm.String" Nullable="false" />
      </EntityType>
      <ComplexType Name="signInActivity">
        <Property Name="lastSignInDateTime" Type="Edm.DateTimeOffset" />
      </ComplexType>
      <EntityType Name="user" BaseType="graph.entity" OpenType="false">
        <Property Name="accountEnabled" Type="Edm.Boolean" />
        <Property Name="businessPhones" Type="Collection(Edm.String)" Nullable="false" />
        <Property Name="signInActivity" Type="graph.signInActivity" />
        <Property Name="allowed" Type="graph.modes" />
        <NavigationProperty Name="methods" Type="Collection(graph.authenticationMethod)" />
      </EntityType>
      <EntityType Name="authenticationMethod" BaseType="graph.entity" Abstract="true" />
      <EntityType Name="fido2AuthenticationMethod" BaseType="graph.authenticationMethod">
        <Property Name="model" Type="Edm.String" />
        <Property Name="attestationLevel" Type="graph.attestationLevel" />
      </EntityType>
      <EntityContainer Name="GraphService">
        <EntitySet Name="users" EntityType="microsoft.graph.user" />
      </EntityContainer>
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>"""
FIDO = {"@odata.type": "#microsoft.graph.fido2AuthenticationMethod", "id": "m1", "model": "Key"}


def _csdl(forbid_unknown: bool = False) -> CsdlSpec:
    from xml.etree import ElementTree as ET

    return CsdlSpec(ET.fromstring(CSDL), forbid_unknown=forbid_unknown)


def test_csdl_body_that_matches() -> None:
    spec = _csdl(forbid_unknown=True)
    user = {
        "id": "u1",
        "accountEnabled": None,
        "businessPhones": [],
        "signInActivity": {"lastSignInDateTime": "2026-11-01T08:00:00Z"},
        "allowed": "password,fido2",
        "methods": [FIDO, {"id": "m2"}],
        "methods@odata.nextLink": "https://graph.example/next",
    }
    spec.validate(user, "user")
    spec.validate_collection({"value": [user], "@odata.nextLink": "https://g/x"}, "users")
    spec.validate_collection({"value": [FIDO]}, "authenticationMethod")


def test_csdl_body_that_does_not_match() -> None:
    spec = _csdl()
    assert spec.errors({"id": "u1", "accountEnabled": "yes"}, "user") == [
        "$.accountEnabled: 'yes' is not of type 'boolean', 'null'"
    ]
    assert spec.errors({"id": None}, "user") == ["$.id: None is not of type 'string'"]
    assert spec.errors({"signInActivity": {"lastSignInDateTime": "yesterday"}}, "user")
    assert spec.errors({"allowed": "password,sms"}, "user")
    # the derived type named in @odata.type is the one checked
    with pytest.raises(SpecMismatch, match="attestationLevel"):
        spec.validate({**FIDO, "attestationLevel": "great"}, "authenticationMethod")
    with pytest.raises(SpecMismatch, match=r"\$\.value\[0\]\.model"):
        spec.validate_collection({"value": [{**FIDO, "model": 5}]}, "authenticationMethod")
    strict = _csdl(forbid_unknown=True)
    assert strict.errors({"id": "m", "model": "x"}, "authenticationMethod")  # base type: no model
    assert not strict.errors(FIDO, "authenticationMethod")
