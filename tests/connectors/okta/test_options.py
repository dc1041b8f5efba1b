"""Option validation: every bad option is a UsageError naming it, before any I/O."""

from __future__ import annotations

import pytest

from connectors.okta import OktaConnector
from connectors.okta._options import DEFAULT_SCOPES, parse_options
from policyengine.errors import UsageError

BASE = {"org_url": "https://acme.okta.com", "token_env": "OKTA_TOKEN"}


def test_defaults() -> None:
    o = parse_options(BASE)
    assert o.org_url == "https://acme.okta.com"
    assert o.page_size == 200 and o.transport.max_concurrency == 8 and o.transport.timeout == 30.0
    assert o.scopes == DEFAULT_SCOPES
    assert not o.oauth


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9", "https://acme.okta.com/"],
)
def test_accepted_org_urls(url: str) -> None:
    assert parse_options({**BASE, "org_url": url}).org_url == url.rstrip("/")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://acme.okta.com", "plain http is refused"),
        ("http://10.0.0.1", "plain http is refused"),
        ("ftp://acme.okta.com", "expected https://"),
        ("https://acme.okta.com/api/v1", "org root only"),
        ("https://user:pw@acme.okta.com", "must not contain a user name or password"),
        ("acme.okta.com", "expected https://"),
    ],
)
def test_refused_org_urls(url: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_options({**BASE, "org_url": url})


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"org_url": "https://a.okta.com"}, "no credentials"),
        ({**BASE, "client_id": "0oa1", "private_key_env": "K"}, "not both"),
        ({"org_url": "https://a.okta.com", "private_key_file": "k.pem"}, "'client_id' is required"),
        ({"org_url": "https://a.okta.com", "client_id": "0oa1"}, "private_key_env"),
        ({**BASE, "page_size": 500}, "'page_size' must be an integer from 1 to 200"),
        ({**BASE, "max_concurrency": 0}, "'max_concurrency'"),
        ({**BASE, "timeout": -1}, "'timeout'"),
        ({**BASE, "scopes": "okta.users.read bad/scope"}, "not a scope name"),
        ({**BASE, "type_rule": ["robot:name=^r"]}, "not one of"),
        ({**BASE, "type_rule": ["service:^svc"]}, "TYPE:name=REGEX"),
        ({**BASE, "type_rule": ["service:name=("]}, "type_rule"),
        ({**BASE, "page_sise": 50}, "unknown option 'page_sise'"),
    ],
)
def test_bad_options(options: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_options(options)


def test_scopes_from_yaml_list() -> None:
    o = parse_options({**BASE, "scopes": ["okta.users.read", "okta.roles.read"]})
    assert o.scopes == ("okta.users.read", "okta.roles.read")


def test_missing_secret_is_a_usage_error_naming_the_variable(monkeypatch) -> None:
    monkeypatch.delenv("OKTA_TOKEN", raising=False)
    with pytest.raises(UsageError, match="OKTA_TOKEN"):
        OktaConnector.from_options(BASE, instance="okta")


def test_unusable_private_key_is_a_usage_error_without_the_key(monkeypatch) -> None:
    monkeypatch.setenv("OKTA_KEY", "not-a-key-but-a-secret-value")
    options = {"org_url": "https://a.okta.com", "client_id": "0oa1", "private_key_env": "OKTA_KEY"}
    with pytest.raises(UsageError) as info:
        OktaConnector.from_options(options, instance="okta")
    assert "not-a-key" not in str(info.value)
    assert "PEM private key" in str(info.value)


def test_jwk_private_key_is_accepted(monkeypatch, rsa_private_pem: str) -> None:
    import json

    import jwt
    from cryptography.hazmat.primitives import serialization

    from connectors.okta._auth import load_private_key

    key = serialization.load_pem_private_key(rsa_private_pem.encode(), password=None)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key))
    jwk["kid"] = "key-2026"
    monkeypatch.setenv("OKTA_JWK", json.dumps(jwk))
    options = {"org_url": "https://a.okta.com", "client_id": "0oa1", "private_key_env": "OKTA_JWK"}
    _, algorithm, kid = load_private_key(parse_options(options))
    assert (algorithm, kid) == ("RS256", "key-2026")
