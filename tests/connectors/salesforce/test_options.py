"""Option validation: flows, URLs (TLS unless loopback), versions, mapping knobs."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from connectors.salesforce import SalesforceConnector
from connectors.salesforce._options import is_loopback, parse_options
from policyengine.errors import UsageError

BASE = {"login_url": "https://login.salesforce.com", "client_id": "cid"}


def opts(**extra: Any) -> dict[str, Any]:
    return {**BASE, "client_secret_env": "SF_SECRET", **extra}


def test_defaults() -> None:
    o = parse_options(opts())
    assert o.flow == "client_credentials"
    assert o.api_version == "62.0"
    assert o.transport.max_concurrency == 4
    assert o.privileged_permissions[0] == "ModifyAllData"


def test_jwt_needs_a_username() -> None:
    with pytest.raises(UsageError, match="needs --username"):
        parse_options({**BASE, "private_key_file": "k.pem"})
    assert parse_options({**BASE, "private_key_env": "K", "username": "u@x"}).flow == "jwt"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"private_key_file": "k.pem", "username": "u"}, "not both"),
        ({"client_secret_env": None}, "no credentials"),
        ({"login_url": "http://login.example.com"}, "plain http"),
        ({"login_url": "ftp://x"}, "not an https"),
        ({"login_url": "https://x/?a=b"}, "query"),
        ({"api_version": "62"}, "api_version"),
        ({"timeout": "soon"}, "timeout"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"max_concurrency": 11}, "10 open query cursors"),
        ({"service_account_pattern": "(unclosed"}, "not a valid regex"),
        ({"privileged_permissions": [1]}, "list of strings"),
        ({"pasword_env": "X"}, "unknown option 'pasword_env'"),
    ],
)
def test_bad_options_name_the_option(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_options(opts(**extra))


def test_plain_http_only_for_loopback() -> None:
    assert (
        parse_options(opts(login_url="http://127.0.0.1:8080/")).login_url == "http://127.0.0.1:8080"
    )
    assert parse_options(opts(login_url="http://localhost:1")).login_url == "http://localhost:1"
    assert is_loopback("::1") and is_loopback("127.8.0.1") and not is_loopback("10.0.0.1")


def test_version_prefix_and_permission_prefix_are_tolerated() -> None:
    o = parse_options(
        opts(api_version="v61.0", privileged_permissions=["PermissionsModifyAllData", "ApiEnabled"])
    )
    assert o.api_version == "61.0"
    assert o.privileged_permissions == ("ModifyAllData", "ApiEnabled")


def test_command_line_dest_names_are_the_config_keys() -> None:
    parser = argparse.ArgumentParser()
    SalesforceConnector.add_arguments(parser)
    args = parser.parse_args(
        [
            "--login-url", "https://acme.my.salesforce.com",
            "--client-id", "cid",
            "--username", "u@acme",
            "--private-key-file", "k.pem",
            "--api-version", "60.0",
            "--timeout", "5",
            "--ca-file", "ca.pem",
            "--max-concurrency", "3",
            "--privileged-permission", "ModifyMetadata",
            "--integration-profile", "API Only",
            "--service-account-pattern", "^svc-",
            "--no-metadata",
        ]
    )  # fmt: skip
    connector = SalesforceConnector.from_options(vars(args), instance="prod")
    o = connector.options
    assert (o.login_url, o.username, o.private_key_file, o.api_version) == (
        "https://acme.my.salesforce.com", "u@acme", "k.pem", "60.0"
    )  # fmt: skip
    assert (o.transport.timeout, o.transport.ca_file, o.transport.max_concurrency, o.metadata) == (
        5.0,
        "ca.pem",
        3,
        False,
    )
    assert o.privileged_permissions == ("ModifyMetadata",)
    assert o.integration_profiles == ("API Only",)
    # --service-account-pattern is the first configured type rule (service:name=^svc-)
    first = o.type_rules.configured[0]
    assert (first.type, first.condition, first.value) == ("service", "name", "^svc-")


def test_missing_secret_is_a_usage_error_before_any_request(tmp_path: Any) -> None:
    connector = SalesforceConnector.from_options(
        opts(login_url="http://127.0.0.1:9", client_secret_env="SF_UNSET_VARIABLE_X"),
        instance="sf",
    )
    from policyengine.snapshot.writer import SnapshotWriter

    writer = SnapshotWriter(tmp_path / "x.json", connector="salesforce", instance="sf")
    with pytest.raises(UsageError, match="SF_UNSET_VARIABLE_X"):
        connector.collect(writer)
    writer.discard()


def test_jwt_audience_defaults_to_the_login_url() -> None:
    o = parse_options({**BASE, "private_key_env": "K", "username": "u"})
    assert o.audience == "https://login.salesforce.com"
    o = parse_options(
        {
            **BASE,
            "login_url": "https://acme.my.salesforce.com",
            "jwt_audience": "https://login.salesforce.com/",
            "private_key_env": "K",
            "username": "u",
        }
    )
    assert o.audience == "https://login.salesforce.com"


@pytest.mark.parametrize("days", [-1, 181, True, "30"])
def test_activity_days_is_bounded(days: Any) -> None:
    with pytest.raises(UsageError, match=r"activity_days.*from 0 to 180"):
        parse_options(opts(activity_days=days))


def test_activity_days_default_and_off() -> None:
    assert parse_options(opts()).activity_days == 30
    assert parse_options(opts(activity_days=0)).activity_days == 0
