"""LDAP / Active Directory connector (``policyengine collect ldap``).

See docs/connectors/ldap.md for the options, the mapping to the normalised
model and the failure behaviour.
"""

from connectors.ldap._connector import LdapConnector

__all__ = ["LdapConnector"]
