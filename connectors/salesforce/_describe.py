"""Find the real ``PermissionSet`` field of a permission by its label (sObject Describe).

Salesforce added "Approve Uninstalled Connected Apps" and "Use Any API Client"
after the 2025 campaign; their API field names are not in the Object
Reference yet. The org's own describe says which field carries each label,
so the connector asks for that field and reports it under the word the
model uses (``ApproveUninstalledConnectedApps``, ``UseAnyApiClient``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from connectors.salesforce._http import Rest
from policyengine.errors import AuthenticationError, ConnectorError
from policyengine.log import get_logger

log = get_logger("policyengine.salesforce")

#: the model's permission word -> the label Salesforce shows in Setup
LABELLED_PERMISSIONS: dict[str, str] = {
    "ApproveUninstalledConnectedApps": "Approve Uninstalled Connected Apps",
    "UseAnyApiClient": "Use Any API Client",
}


@dataclass(frozen=True, slots=True)
class PermissionFields:
    """What the describe said: the field of each labelled permission, and the absent ones.

    ``known`` is False when the describe could not be read: the guessed
    field names are then queried as gated fields (an INVALID_FIELD drops them).
    """

    known: bool
    fields: dict[str, str] = field(default_factory=dict)  # word -> PermissionSet field

    def field_for(self, word: str) -> str | None:
        if not self.known:
            return f"Permissions{word}"
        return self.fields.get(word)


def read_permission_fields(rest: Rest) -> PermissionFields:
    """One ``GET .../sobjects/PermissionSet/describe``; labels compared ignoring case."""
    path = f"/services/data/v{rest.api_version}/sobjects/PermissionSet/describe"
    try:
        _, body = rest.http.fetch_json("GET", path)
    except AuthenticationError:
        raise
    except ConnectorError as exc:
        log.warning("salesforce.describe_unavailable", object="PermissionSet", error=str(exc))
        return PermissionFields(known=False)
    described = body.get("fields") if isinstance(body, dict) else None
    if not isinstance(described, list):
        log.warning("salesforce.describe_unexpected", object="PermissionSet")
        return PermissionFields(known=False)
    by_label = {
        str(f.get("label", "")).casefold(): str(f["name"])
        for f in described
        if isinstance(f, dict)
        and isinstance(f.get("name"), str)
        and str(f["name"]).startswith("Permissions")
    }
    found = {
        word: by_label[label.casefold()]
        for word, label in LABELLED_PERMISSIONS.items()
        if label.casefold() in by_label
    }
    log.info("salesforce.permission_fields", found=found)
    return PermissionFields(known=True, fields=found)
