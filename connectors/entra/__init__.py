"""Microsoft Entra ID through Microsoft Graph v1.0 (``policyengine collect entra``)."""

from connectors.entra._connector import EntraConnector

__all__ = ["EntraConnector"]
