"""The normalised resource model: the contract between connectors and policies.

Resources are plain mappings (parsed JSON) so that a million of them stay
cheap; this package says which kinds exist, which fields each kind has and
what type they are, and which fields are references to other resources.
See ``docs/model.md`` for the full description.
"""

from policyengine.model.kinds import (
    ACCOUNT_TYPES,
    CREDENTIAL_TYPES,
    FIELD_TYPES,
    INTEGRATION_TYPES,
    KINDS,
    LIST_KEYS,
    MFA_METHODS,
    OBJECT_FIELDS,
    PHISHING_RESISTANT_METHODS,
    REFERENCES,
    TIMESTAMP_FIELDS,
)

__all__ = [
    "ACCOUNT_TYPES",
    "CREDENTIAL_TYPES",
    "FIELD_TYPES",
    "INTEGRATION_TYPES",
    "KINDS",
    "LIST_KEYS",
    "MFA_METHODS",
    "OBJECT_FIELDS",
    "PHISHING_RESISTANT_METHODS",
    "REFERENCES",
    "TIMESTAMP_FIELDS",
]
