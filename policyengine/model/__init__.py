"""The normalised resource model: the contract between connectors and policies.

Resources are plain mappings (parsed JSON) so that a million of them stay
cheap; this package says which kinds exist, which fields each kind has and
what type they are, and which fields are references to other resources.
See ``docs/model.md`` (generated from :data:`FIELDS`) for the full description.
"""

from policyengine.model.kinds import (
    ACCOUNT_TYPES,
    CREDENTIAL_TYPES,
    FIELD_TYPES,
    FIELDS,
    INTEGRATION_TYPES,
    KINDS,
    LIST_KEYS,
    MFA_METHODS,
    OBJECT_FIELDS,
    PHISHING_RESISTANT_METHODS,
    REFERENCES,
    TIMESTAMP_FIELDS,
    TIMESTAMP_FIELDS_BY_KIND,
    Field,
)
from policyengine.model.reserved import CORRELATION_INSTANCE
from policyengine.model.timestamps import format_timestamp, normalise_timestamp, parse_timestamp

__all__ = [
    "ACCOUNT_TYPES",
    "CORRELATION_INSTANCE",
    "CREDENTIAL_TYPES",
    "FIELDS",
    "FIELD_TYPES",
    "INTEGRATION_TYPES",
    "KINDS",
    "LIST_KEYS",
    "MFA_METHODS",
    "OBJECT_FIELDS",
    "PHISHING_RESISTANT_METHODS",
    "REFERENCES",
    "TIMESTAMP_FIELDS",
    "TIMESTAMP_FIELDS_BY_KIND",
    "Field",
    "format_timestamp",
    "normalise_timestamp",
    "parse_timestamp",
]
