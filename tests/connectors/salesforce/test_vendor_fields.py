"""Emulator bodies against Salesforce's documented fields (tests/data/salesforce/README.md).

Salesforce publishes no machine-readable description of AuthSession, LoginHistory,
SetupAuditTrail or the Bulk API job bodies; the subset checked here is transcribed from
its field reference and Bulk API guide pages, each named in the data file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.salesforce._activity import activity_queries
from tests.emulators.salesforce import load_fixture

REFERENCE = json.loads(
    (Path(__file__).parents[2] / "data" / "salesforce" / "field-reference-subset.json").read_text()
)
_SF_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
_ID = re.compile(r"^[0-9A-Za-z]{15}([0-9A-Za-z]{3})?$")


def problems(fields: dict[str, str], body: dict[str, Any], *, nillable: bool) -> list[str]:
    """Each key the reference does not declare, or whose value has another type."""
    out = []
    for key, value in body.items():
        if key == "attributes":
            continue
        want = fields.get(key)
        if want is None:
            out.append(f"{key}: not a documented field")
        elif value is None:
            if not nillable:
                out.append(f"{key}: null")
        elif want in ("id", "reference"):
            if not (isinstance(value, str) and _ID.match(value)):
                out.append(f"{key}: {value!r} is not a Salesforce id")
        elif want == "datetime":
            if not (isinstance(value, str) and _SF_DATETIME.match(value)):
                out.append(f"{key}: {value!r} is not a Salesforce datetime")
        elif want in ("string", "picklist"):
            if not isinstance(value, str):
                out.append(f"{key}: {value!r} is not a string")
        elif want == "boolean":
            if not isinstance(value, bool):
                out.append(f"{key}: {value!r} is not a boolean")
        elif want == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                out.append(f"{key}: {value!r} is not an integer")
        elif want == "number" and (isinstance(value, bool) or not isinstance(value, int | float)):
            out.append(f"{key}: {value!r} is not a number")
    return out


def _token(org: Any) -> str:
    return str(json.loads(org._issue().body)["access_token"])


@pytest.mark.parametrize("sobject", sorted(REFERENCE["objects"]))
def test_every_served_activity_record_is_documented(emulated: Any, sobject: str) -> None:
    server, org = emulated
    fields = sorted({k for r in load_fixture()["objects"][sobject] for k in r})
    headers = {"Authorization": f"Bearer {_token(org)}"}
    url = f"{server.base_url}/services/data/v62.0/query"
    page = httpx.get(
        url, params={"q": f"SELECT {', '.join(fields)} FROM {sobject}"}, headers=headers
    ).json()
    records = list(page["records"])
    while not page["done"]:
        page = httpx.get(server.base_url + page["nextRecordsUrl"], headers=headers).json()
        records += page["records"]
    assert records
    documented = REFERENCE["objects"][sobject]["fields"]
    for record in records:
        assert problems(documented, record, nillable=True) == [], record


def test_every_served_job_body_is_documented(org_factory: Any) -> None:
    from tests.connectors.salesforce.test_bulk_classic import CLASSIC, _with_classic_job

    server, org = org_factory(_with_classic_job())
    token = _token(org)
    bearer = {"Authorization": f"Bearer {token}"}
    v2 = REFERENCE["bodies"]["QueryJobInfo"]["fields"]
    listed: list[dict[str, Any]] = []
    path: str | None = "/services/data/v62.0/jobs/query"
    while path:
        page = httpx.get(server.base_url + path, headers=bearer).json()
        listed += page["records"]
        path = None if page["done"] else page["nextRecordsUrl"]
    for job in listed:
        assert problems(v2, job, nillable=False) == [], job
        if job["jobType"] == "V2Query":
            info = httpx.get(
                f"{server.base_url}/services/data/v62.0/jobs/query/{job['id']}", headers=bearer
            ).json()
            assert problems(v2, info, nillable=False) == [], info
    classic = httpx.get(
        f"{server.base_url}/services/async/62.0/job/{CLASSIC}",
        headers={"X-SFDC-Session": token, "Content-Type": "application/json"},
    ).json()
    assert problems(REFERENCE["bodies"]["JobInfo"]["fields"], classic, nillable=False) == []


def test_describe_lists_every_field_the_connector_queries(emulated: Any) -> None:
    server, org = emulated
    headers = {"Authorization": f"Bearer {_token(org)}"}
    for query in activity_queries("2026-01-01T00:00:00Z"):
        described = httpx.get(
            f"{server.base_url}/services/data/v62.0/sobjects/{query.sobject}/describe",
            headers=headers,
        ).json()
        names = {f["name"] for f in described["fields"]}
        assert set(query.fields) <= names, (query.sobject, set(query.fields) - names)
        assert set(query.fields) <= set(REFERENCE["objects"][query.sobject]["fields"])


def test_the_check_refuses_a_drifted_body() -> None:
    documented = REFERENCE["objects"]["AuthSession"]["fields"]
    good = {"Id": "0Ak5g0000000001AAA", "SessionType": "Oauth2", "NumSecondsValid": 7200}
    assert problems(documented, good, nillable=True) == []
    assert problems(documented, {**good, "SessionIp": "1.2.3.4"}, nillable=True) == [
        "SessionIp: not a documented field"
    ]
    assert problems(documented, {**good, "NumSecondsValid": "7200"}, nillable=True)
    assert problems(documented, {**good, "CreatedDate": "2026-11-26T01:10:00Z"}, nillable=True)
    assert problems(documented, {**good, "UsersId": "dan"}, nillable=True)
