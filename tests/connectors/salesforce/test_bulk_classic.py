"""Bulk API 1.0 (Classic) jobs: listed by the 2.0 job list, counted from the async job info."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.connectors.salesforce.conftest import by_id, jwt_options, run_collect
from tests.emulators.salesforce import load_fixture

pytestmark = pytest.mark.usefixtures("fast_retries")

ETL = "0055g00000AEtlAAAA"  # logs in through "MuleSoft ETL"
MULE = "0H45g000000MulEAAA"
CLASSIC = "7505g00000Bk901AAA"


def _with_classic_job(records: int = 90210) -> dict[str, Any]:
    fixture = load_fixture()
    (v2,) = [j for j in fixture["bulk_jobs"] if j["createdById"] == ETL]
    job = {k: v for k, v in v2.items() if k not in ("lineEnding", "columnDelimiter", "retries")}
    job.update(
        id=CLASSIC,
        jobType="Classic",
        object="Contact",
        numberRecordsProcessed=records,
        numberRecordsFailed=0,
        numberBatchesTotal=4,
        contentType="CSV",
    )
    fixture["bulk_jobs"].append(job)
    return fixture


def test_classic_job_records_come_from_the_async_job_info(
    org_factory: Any, key_pair: Any, tmp_path: Path
) -> None:
    server, _ = org_factory(_with_classic_job())
    result, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert result.complete, result.errors
    mule = by_id(snap, "integrations")[MULE]["activity"]
    assert mule["bulk_jobs"] == 2
    assert mule["records_exported"] == 1200 + 90210
    assert mule["objects_exported"] == ["Account", "Contact"]
    (info,) = server.requests_to(f"/services/async/62.0/job/{CLASSIC}")
    assert info.header("x-sfdc-session")  # Bulk API 1.0 authenticates by session header
    assert "json" in (info.header("content-type") or "")


def test_unreadable_classic_job_counts_the_job_not_its_records(
    org_factory: Any, key_pair: Any, tmp_path: Path
) -> None:
    from tests.emulators._server import Response

    server, _ = org_factory(_with_classic_job())
    gone = Response.json({"exceptionCode": "InvalidJob", "exceptionMessage": "Unable to find"}, 400)
    server.add_fault(gone, match=lambda r: r.path.startswith("/services/async/"), times=10)
    result, snap = run_collect(jwt_options(server, key_pair[0]), tmp_path / "sf.json")
    assert result.complete, result.errors
    mule = by_id(snap, "integrations")[MULE]["activity"]
    assert mule["bulk_jobs"] == 2 and mule["records_exported"] == 1200


def test_emulated_async_job_info_speaks_bulk_api_1(org_factory: Any) -> None:
    server, org = org_factory(_with_classic_job())
    token = json.loads(org._issue().body)["access_token"]
    url = f"{server.base_url}/services/async/62.0/job/{CLASSIC}"
    as_json = httpx.get(url, headers={"X-SFDC-Session": token, "Content-Type": "application/json"})
    assert as_json.json()["numberRecordsProcessed"] == 90210
    as_xml = httpx.get(url, headers={"X-SFDC-Session": token})
    assert as_xml.text.startswith("<?xml") and "<numberRecordsProcessed>90210<" in as_xml.text
    refused = httpx.get(url, headers={"X-SFDC-Session": "nope"})
    assert refused.status_code == 400 and refused.json()["exceptionCode"] == "InvalidSessionId"
    # a V2Query job is not a Bulk API 1.0 job
    v2 = httpx.get(url.replace(CLASSIC, "7505g00000Bk004AAA"), headers={"X-SFDC-Session": token})
    assert v2.json()["exceptionCode"] == "InvalidJob"
