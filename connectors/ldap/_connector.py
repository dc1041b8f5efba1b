"""``LdapConnector``: the plug-in registered as ``ldap`` under ``policyengine.connectors``.

>>> LdapConnector.name
'ldap'
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from connectors.ldap._options import LdapOptions, add_arguments, parse_options
from policyengine.connector.contract import SnapshotSink
from policyengine.secrets import read_secret


class LdapConnector:
    """Accounts and groups from OpenLDAP or Active Directory, over LDAP(S)."""

    name: ClassVar[str] = "ldap"
    summary: ClassVar[str] = (
        "accounts and groups from OpenLDAP or Active Directory (paged LDAP search)"
    )

    def __init__(self, options: LdapOptions, *, instance: str) -> None:
        self.options = options
        self.instance = instance

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        add_arguments(parser)

    @classmethod
    def from_options(cls, options: Mapping[str, Any], *, instance: str) -> LdapConnector:
        return cls(parse_options(options), instance=instance)

    # -- remediation (policyengine.remediate.contract) -------------------------------
    credential_options: ClassVar[frozenset[str]] = frozenset(
        {"bind_dn", "password_env", "password_file"}
    )

    @classmethod
    def remediation_actions(cls) -> Sequence[Any]:
        from connectors.ldap._actions import ACTIONS

        return ACTIONS

    @classmethod
    def open_remediation(cls, options: Mapping[str, Any], *, instance: str) -> Any:
        from connectors.ldap._remediate import LdapSession

        return LdapSession.open(options, instance=instance)

    def collect(self, writer: SnapshotSink) -> None:
        """Bind, read groups and accounts, and write them to ``writer``.

        Raises AuthenticationError when the bind is refused (nothing written)
        and ConnectorError when the server cannot be reached or drops the
        connection (what was read is written with ``complete: false``).
        """
        from connectors.ldap._client import connect
        from connectors.ldap._collect import Collection

        opts = self.options
        password = read_secret(env=opts.password_env, file=opts.password_file, what="bind password")
        conn = connect(opts, password)
        try:
            Collection(conn, opts, writer).run()
        finally:
            # the connection may already be gone; nothing to report then
            with contextlib.suppress(Exception):
                conn.unbind()
