"""The kit's option readers: one rule and one message shape per kind of value."""

from __future__ import annotations

import argparse

import pytest

from policyengine.connector.options import Options, check_https_url
from policyengine.connector.transport import (
    Transport,
    TransportSpec,
    add_transport_arguments,
    parse_transport,
)
from policyengine.errors import UsageError


def o(**values: object) -> Options:
    return Options("acme", values)


@pytest.mark.parametrize(
    ("read", "message"),
    [
        (lambda: o(n=True).integer("n", 1, low=1, high=9), "'n' must be an integer from 1 to 9"),
        (lambda: o(n=10).integer("n", 1, low=1, high=9), "'n' must be an integer from 1 to 9"),
        (lambda: o(t=0).number("t", 1, low=0, high=60, positive=True), "greater than 0"),
        (lambda: o(t="soon").number("t", 1, low=0, high=60), "'t' must be a number"),
        (lambda: o(b="false").boolean("b", False), "'b' must be true or false"),
        (lambda: o(s=3).string("s"), "'s' must be a string, got int"),
        (lambda: o().string("s", required=True), "'s' is required"),
        (lambda: o(names=[1]).strings("names"), "'names' must be a list of strings"),
        (lambda: o(p="choice").choice("p", ("a", "b"), "a"), "'p' must be one of a, b"),
        (lambda: o(r="(a)\\1").regex("r"), "is not a valid regex"),
        (lambda: o(r="a" * 501).regex("r"), "longer than 500"),
    ],
)
def test_a_bad_value_is_one_usage_error_naming_connector_and_key(read, message):
    with pytest.raises(UsageError, match=r"^acme: option") as caught:
        read()
    assert message in str(caught.value)


def test_regexes_are_re2_and_linear_time():
    pattern = o(r="^.*-.*-.*-.*x$").regex("r")
    assert pattern is not None and not pattern.search("-" * 5000)


def test_unknown_keys_are_refused_with_a_hint():
    with pytest.raises(UsageError, match="unknown option 'pasword_env' \\(did you mean"):
        Options("acme", {"pasword_env": "X"}, known=frozenset({"password_env"}))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://acme.example", "plain http is refused for acme.example"),
        ("ftp://acme.example", "is not an https:// URL"),
        ("https://acme.example/?q=1", "must not have a query"),
        ("https://u:hunter2@acme.example", "must not contain a user name or password"),
        ("https://acme.example:99999", "Port out of range"),
    ],
)
def test_urls_are_https_without_credentials(url, message):
    with pytest.raises(UsageError, match=r"^acme: option 'url'") as caught:
        o(url=url).url("url")
    assert message in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_plain_http_only_to_loopback_and_root_only_when_asked():
    assert o(url="http://127.0.0.1:8080/").url("url") == "http://127.0.0.1:8080"
    assert o(url="http://[::1]/").url("url") == "http://[::1]"
    with pytest.raises(UsageError, match="give the org root only"):
        o(url="https://acme.example/api").url("url", root="org")
    assert check_https_url("https://a.example/x/", "w") == "https://a.example/x"


def test_a_secret_is_named_never_given():
    ref = o(key_env="ACME_KEY").secret("key_env", "key_file")
    assert ref is not None and (ref.env, ref.file) == ("ACME_KEY", None)
    assert o().secret("key_env", "key_file") is None


SPEC = TransportSpec(
    defaults=Transport(max_concurrency=4),
    max_concurrency_limit=10,
    concurrency_reason=" (the vendor's ceiling)",
)


def test_transport_flags_and_config_keys_are_the_same_names():
    parser = argparse.ArgumentParser()
    add_transport_arguments(parser, SPEC)
    args = vars(parser.parse_args(["--timeout", "5", "--max-attempts", "2", "--ca-file", "c"]))
    assert set(args) == {"timeout", "ca_file", "max_concurrency", "max_attempts", "retry_backoff"}
    got = parse_transport(Options("acme", args), SPEC)
    assert got == Transport(
        timeout=5.0, ca_file="c", max_concurrency=4, max_attempts=2, retry_backoff=0.5
    )
    assert got.verify == "c" and Transport().verify is True


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"max_concurrency": 11}, "must be at most 10 (the vendor's ceiling), got 11"),
        ({"max_concurrency": 0}, "'max_concurrency' must be an integer from 1 to 10"),
        ({"timeout": -1}, "'timeout' must be a number greater than 0"),
        ({"retry_backoff": 61}, "'retry_backoff' must be a number from 0 to 60"),
        ({"max_attempts": 21}, "'max_attempts' must be an integer from 1 to 20"),
    ],
)
def test_transport_limits(values, message):
    with pytest.raises(UsageError, match=r"^acme: option") as caught:
        parse_transport(Options("acme", values), SPEC)
    assert message in str(caught.value)


def test_only_the_keys_a_connector_declares_are_added():
    parser = argparse.ArgumentParser()
    add_transport_arguments(parser, TransportSpec(keys=frozenset({"timeout", "ca_file"})))
    assert set(vars(parser.parse_args([]))) == {"timeout", "ca_file"}


def test_ldap_starttls_false_as_a_string_is_refused_not_read_as_true():
    # was bool("false") == True: a YAML `starttls: "false"` turned StartTLS on
    from connectors.ldap._options import parse_options

    base = {"url": "ldap://127.0.0.1", "base_dn": "dc=x", "bind_dn": "cn=a", "password_env": "X"}
    with pytest.raises(UsageError, match="ldap: option 'starttls' must be true or false"):
        parse_options({**base, "starttls": "false"})


def test_an_http_client_takes_the_shared_transport_settings():
    from connectors.http import HttpClient

    settings = Transport(timeout=7.0, ca_file=None, max_attempts=3, retry_backoff=0.25)
    client = HttpClient.for_transport("https://acme.example/", settings, auth=None)
    try:
        assert (client.retry.max_attempts, client.retry.backoff_base) == (3, 0.25)
        assert client.base_url == "https://acme.example"
        once = HttpClient.for_transport("https://a.example", settings, auth=None, max_attempts=1)
        assert once.retry.max_attempts == 1
        once.close()
    finally:
        client.close()
