"""A plug-in is checked against the connector contract when it is loaded."""

from __future__ import annotations

import argparse
from collections.abc import Mapping

import pytest

from connectors.file import FileConnector
from connectors.ldap import LdapConnector
from connectors.okta import OktaConnector
from connectors.salesforce import SalesforceConnector
from policyengine.connector import SnapshotSink, check_contract, installed_names
from policyengine.errors import UsageError
from policyengine.snapshot.writer import SnapshotWriter


class Fits:
    name = "acme"
    summary = "Acme tenant"

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--url")

    @classmethod
    def from_options(cls, options: Mapping[str, object], *, instance: str) -> Fits:
        return cls()

    def collect(self, writer: SnapshotSink) -> None:
        writer.add({"kind": "account", "id": "1", "name": "a"})


def test_the_built_in_connectors_fit_the_contract():
    for cls in (FileConnector, LdapConnector, OktaConnector, SalesforceConnector):
        assert check_contract(cls.name, cls) is cls
    assert {"file", "ldap", "okta", "salesforce"} <= installed_names()


def test_a_fitting_third_party_class_is_accepted():
    assert check_contract("acme", Fits) is Fits


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": ""}, "'name' must be a non-empty string"),
        ({"name": "other"}, "registered as 'acme' but its name is 'other'"),
        ({"summary": None}, "'summary' must be a non-empty string"),
        ({"collect": None}, "missing method collect()"),
        ({"add_arguments": lambda self, parser: None}, "add_arguments() must be a classmethod"),
        ({"collect": lambda self: None}, "collect() must accept writer"),
        (
            {"from_options": classmethod(lambda cls, options: None)},
            "from_options() must accept instance",
        ),
    ],
)
def test_a_class_that_does_not_fit_is_one_error_naming_what(change, message):
    broken = type("Broken", (Fits,), change)
    with pytest.raises(UsageError, match=r"^connector 'acme' \(.*\): ") as caught:
        check_contract("acme", broken)
    assert message in str(caught.value)


def test_an_entry_point_that_is_not_a_class_is_refused():
    with pytest.raises(UsageError, match="must name a class, not function"):
        check_contract("acme", lambda: None)


def test_the_snapshot_writer_is_a_snapshot_sink(tmp_path):
    writer = SnapshotWriter(tmp_path / "s.jsonl", connector="acme", instance="acme")
    assert isinstance(writer, SnapshotSink)
    Fits().collect(writer)
    writer.discard()
