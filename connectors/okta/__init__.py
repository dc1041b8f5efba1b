"""Okta connector: users, MFA factors, admin roles, API tokens and session policies.

Talks to the Okta Management API with an SSWS API token or an OAuth 2.0
service app (client credentials, ``private_key_jwt``). See
``docs/connectors/okta.md``.
"""

from connectors.okta._connector import OktaConnector

__all__ = ["OktaConnector"]
