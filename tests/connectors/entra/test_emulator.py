"""The emulator serves only what Graph's CSDL defines, with the CSDL's types."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.connectors.entra.conftest import CLIENT_ID, CLIENT_SECRET, TENANT_ID, Entra
from tests.emulators.entra import COLLECTIONS, RELATIONS, SINGLETONS
from tests.emulators.kit import DATA, CsdlSpec

SPEC = CsdlSpec.load(
    DATA / "entra" / "msgraph-v1.0-entra-posture-subset.csdl.xml", forbid_unknown=True
)
_EDM = "{http://docs.oasis-open.org/odata/ns/edm}"


def _declared(kind: str) -> set[str]:
    """The properties the CSDL declares for a type and its bases (open types allow more on
    the wire; our emulator may not use that to drift)."""
    names: set[str] = set()
    for node in SPEC.types.lineage(kind):
        for tag in ("Property", "NavigationProperty"):
            names |= {p.get("Name", "") for p in node.findall(f"{_EDM}{tag}")}
    return names


def _check_declared(items: list[dict[str, Any]], kind: str) -> None:
    for item in items:
        odata = item.get("@odata.type", "").rsplit(".", 1)[-1]
        declared = _declared(odata if odata else kind)
        extra = {k for k in item if not k.startswith("@")} - declared
        assert not extra, f"{kind}: {sorted(extra)} not in the CSDL"


#: listing path -> the CSDL type of its items
ITEM_TYPES = {
    "/v1.0/users": "user",
    "/v1.0/reports/authenticationMethods/userRegistrationDetails": "userRegistrationDetails",
    "/v1.0/roleManagement/directory/roleDefinitions": "unifiedRoleDefinition",
    "/v1.0/roleManagement/directory/roleAssignmentScheduleInstances": (
        "unifiedRoleAssignmentScheduleInstance"
    ),
    "/v1.0/roleManagement/directory/roleEligibilityScheduleInstances": (
        "unifiedRoleEligibilityScheduleInstance"
    ),
    "/v1.0/groups": "group",
    "/v1.0/applications": "application",
    "/v1.0/servicePrincipals": "servicePrincipal",
    "/v1.0/oauth2PermissionGrants": "oAuth2PermissionGrant",
    "/v1.0/identity/conditionalAccess/policies": "conditionalAccessPolicy",
}
SINGLETON_TYPES = {
    "/v1.0/policies/authorizationPolicy": "authorizationPolicy",
    "/v1.0/policies/identitySecurityDefaultsEnforcementPolicy": (
        "identitySecurityDefaultsEnforcementPolicy"
    ),
    "/v1.0/policies/adminConsentRequestPolicy": "adminConsentRequestPolicy",
}
RELATION_TYPES = {
    "transitiveMembers": "directoryObject",
    "owners": "directoryObject",
    "appRoleAssignedTo": "appRoleAssignment",
}


def _token(entra: Entra) -> str:
    response = httpx.post(
        f"{entra.url}/{TENANT_ID}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "scope": "https://graph.microsoft.com/.default",
        },
        verify=entra.verify,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _all_pages(entra: Entra, token: str, path: str, top: int = 2) -> list[dict[str, Any]]:
    """Every page of a listing, each validated as a collection of its CSDL type."""
    url: str | None = f"{entra.url}{path}?$top={top}"
    bodies = []
    while url:
        response = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, verify=entra.verify)
        assert response.status_code == 200, response.text
        body = response.json()
        bodies.append(body)
        url = body.get("@odata.nextLink")
    return bodies


def test_the_spec_file_covers_every_served_type() -> None:
    names = SPEC.schema_names()
    for kind in [*ITEM_TYPES.values(), *SINGLETON_TYPES.values(), *RELATION_TYPES.values()]:
        assert kind in names
    assert set(ITEM_TYPES) == set(COLLECTIONS) and set(SINGLETON_TYPES) == set(SINGLETONS)


@pytest.mark.parametrize("path", sorted(ITEM_TYPES))
def test_every_listing_page_matches_the_csdl(entra: Entra, path: str) -> None:
    token = _token(entra)
    bodies = _all_pages(entra, token, path)
    for body in bodies:
        SPEC.validate_collection(body, ITEM_TYPES[path])
        _check_declared(body["value"], ITEM_TYPES[path])
    served = sum(len(b["value"]) for b in bodies)
    assert served > 0


def test_users_with_every_selected_property_match_the_csdl(entra: Entra) -> None:
    from connectors.entra._collect import USER_SELECT

    token = _token(entra)
    bodies = _all_pages(entra, token, f"/v1.0/users?$select={','.join(USER_SELECT)}&x=")
    for body in bodies:
        SPEC.validate_collection(body, "user")
        _check_declared(body["value"], "user")
        for user in body["value"]:
            assert set(user) <= {"id", *USER_SELECT}


@pytest.mark.parametrize("path", sorted(SINGLETON_TYPES))
def test_policies_match_the_csdl(entra: Entra, path: str) -> None:
    token = _token(entra)
    response = httpx.get(
        f"{entra.url}{path}", headers={"Authorization": f"Bearer {token}"}, verify=entra.verify
    )
    assert response.status_code == 200
    SPEC.validate(response.json(), SINGLETON_TYPES[path])
    _check_declared([response.json()], SINGLETON_TYPES[path])


@pytest.mark.parametrize("relation", sorted({r for _, r in RELATIONS}))
def test_relations_match_the_csdl(entra: Entra, relation: str) -> None:
    token = _token(entra)
    entity_set, _ = next(k for k in RELATIONS if k[1] == relation)
    key, _ = RELATIONS[(entity_set, relation)]
    for owner_id in getattr(entra.emulator.tenant, key):
        for body in _all_pages(entra, token, f"/v1.0/{entity_set}/{owner_id}/{relation}"):
            SPEC.validate_collection(body, RELATION_TYPES[relation])
            _check_declared(body["value"], RELATION_TYPES[relation])


def test_a_wrong_property_type_is_caught() -> None:
    """The check has teeth: a string where the CSDL says Boolean fails."""
    from tests.emulators.kit import SpecMismatch

    with pytest.raises(SpecMismatch):
        SPEC.validate({"id": "x", "accountEnabled": "true"}, "user")


def test_a_wrong_secret_gets_an_aadsts_body(entra: Entra) -> None:
    response = httpx.post(
        f"{entra.url}/{TENANT_ID}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": "wrong",
            "scope": "https://graph.microsoft.com/.default",
        },
        verify=entra.verify,
    )
    assert response.status_code == 401
    assert response.json()["error_codes"] == [7000215]
