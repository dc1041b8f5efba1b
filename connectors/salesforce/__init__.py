"""Salesforce connector: one org's users, permissions, MFA, connected apps and tokens.

Authenticates with the OAuth 2.0 JWT bearer or client-credentials flow,
reads SOQL objects over REST (``nextRecordsUrl`` paging) and session /
connected-app / profile settings over the Metadata API, and maps them to the
normalised model. See ``docs/connectors/salesforce.md``.
"""

from connectors.salesforce._connector import SalesforceConnector

__all__ = ["SalesforceConnector"]
