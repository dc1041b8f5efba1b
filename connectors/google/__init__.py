"""Google Workspace connector: users, 2-Step Verification, admin roles, OAuth grants, ASPs."""

from connectors.google._connector import GoogleConnector

__all__ = ["GoogleConnector"]
