"""A Salesforce org on 127.0.0.1 that speaks the documented wire formats.

- ``POST /services/oauth2/token``: JWT bearer (RS256 assertion checked with
  the configured public key: ``iss`` = client id, ``sub`` a known username,
  ``aud`` = this server's URL, ``exp`` at most 3 minutes ahead) and client
  credentials; errors as ``{"error": "invalid_grant", "error_description": ...}``.
- ``GET /services/data/vXX.X/query?q=SELECT ... FROM Obj``: SOQL parsed enough
  to pick the object and the fields (relationship paths like ``Profile.Name``
  included), ``INVALID_FIELD`` / ``INVALID_TYPE`` / ``MALFORMED_QUERY``
  errors, batches of ``batch_size`` with ``nextRecordsUrl``
  ``/services/data/vXX.X/query/01g...-2000`` until ``done``.
- ``GET /services/data/vXX.X/jobs/query``: Bulk API 2.0 "all query jobs" in pages of
  ``jobs_page_size`` (``done``, ``records``, ``nextRecordsUrl`` with a
  ``queryLocator``); ``GET .../jobs/query/<id>``: one job's info
  (``numberRecordsProcessed``). SOQL ``WHERE Field >= <datetime>`` filters the
  activity objects (LoginHistory, AuthSession).
- ``GET /services/async/XX.X/job/<id>``: Bulk API 1.0 job info for the jobs the 2.0
  list names ``jobType`` Classic, authenticated by ``X-SFDC-Session``; JSON when the
  request says ``Content-Type: application/json``, else the ``jobInfo`` XML; errors as
  400 ``{"exceptionCode": "InvalidSessionId" | "InvalidJob", "exceptionMessage": ...}``.
- ``GET /services/data/vXX.X/sobjects/<Obj>/describe``: the object's fields
  with labels (the fixture's ``labels``), unavailable fields left out.
- ``POST /services/Soap/m/XX.X``: Metadata API ``listMetadata`` and
  ``readMetadata`` with ``SessionHeader``; faults as SOAP 500s.
- Writes (remediation): ``POST /services/oauth2/revoke`` (form ``token=<DeleteToken>``;
  200 with an empty body, 400 ``{"error": "invalid_token"}`` for an unknown token),
  ``PATCH .../sobjects/UserLogin/<Id>`` (``IsFrozen``; 204), ``DELETE
  .../sobjects/AuthSession/<Id>`` and ``.../sobjects/PermissionSetAssignment/<Id>`` (204;
  404 ``[{"errorCode": "NOT_FOUND"}]`` for an unknown row). With ``write_client_id`` set,
  only tokens issued to that client may write (others get 403 ``INSUFFICIENT_ACCESS``),
  so a test proves the collection credential never acts. ``writes`` lists what changed.
- 401 ``INVALID_SESSION_ID`` for unknown or expired tokens, the
  ``Sforce-Limit-Info: api-usage=N/M`` header on every REST response, and
  403 ``REQUEST_LIMIT_EXCEEDED`` once the daily allowance is spent.

Records come from a fixture file (``tests/data/salesforce/org.json``);
faults (429, 5xx, dropped connections, malformed bodies) are injected with
the emulator kit (:mod:`tests.emulators.kit`).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

import jwt

from tests.emulators import kit
from tests.emulators.kit import (
    EmulatorServer,
    PageTokens,
    Request,
    Response,
    offset_page,
    rate_limited,
    token_expired,
)

DATA = kit.DATA / "salesforce"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
MD_NS = "http://soap.sforce.com/2006/04/metadata"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"

_SOQL = re.compile(
    r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<object>\w+)(?P<rest>\s+.*?)?\s*$",
    re.IGNORECASE | re.DOTALL,
)
#: the one filter the connector sends: ``WHERE UserId IN ('005...', ...)``
_WHERE_IN = re.compile(r"^\s*WHERE\s+(\w+)\s+IN\s*\(([^)]*)\)\s*$", re.IGNORECASE)
#: ``WHERE LoginTime >= 2026-11-03T00:00:00Z``: the activity window
_WHERE_SINCE = re.compile(r"^\s*WHERE\s+(\w+)\s*>=\s*(\d{4}-\d\d-\d\dT[\d:.]+Z)\s*$", re.I)
_DESCRIBE = re.compile(r"^/services/data/v(\d{2,3}\.0)/sobjects/(\w+)/describe$")
_ASYNC_JOB = re.compile(r"^/services/async/(\d{2,3}\.0)/job/(\w+)$")
_JOBS = re.compile(r"^/services/data/v(\d{2,3}\.0)/jobs/query(?:/(\w+))?$")
#: datetimes shifted so that the fixture's ``recent_anchor`` is one day ago
_RECENT = {
    "LoginHistory": ("LoginTime",),
    "AuthSession": ("CreatedDate", "LastModifiedDate"),
    "SetupAuditTrail": ("CreatedDate",),
}
_JOB_DATES = ("createdDate", "systemModstamp")
_SF_TIME = "%Y-%m-%dT%H:%M:%S.000+0000"
_JOB_INFO_ONLY = ("numberRecordsProcessed", "retries", "totalProcessingTime")
#: the fields a Bulk API 2.0 body has (a Classic job's 1.0 counters are only in its 1.0 info)
_V2_JOB_FIELDS = frozenset(
    {
        "id", "operation", "object", "createdById", "createdDate", "systemModstamp", "state",
        "concurrencyMode", "contentType", "apiVersion", "jobType", "lineEnding",
        "columnDelimiter", "numberRecordsProcessed", "retries", "totalProcessingTime",
    }
)  # fmt: skip
_ROW = re.compile(r"^/services/data/v(\d{2,3}\.0)/sobjects/(\w+)/(\w+)$")
#: the rows a write route may change, and how
_WRITABLE = {("PATCH", "UserLogin"): ("IsFrozen",), ("DELETE", "AuthSession"): ()}
_WRITABLE[("DELETE", "PermissionSetAssignment")] = ()
_VERSION = re.compile(r"^/services/data/v(\d{2,3}\.0)/(query|tooling/query)(?:/([\w-]+))?$")


def load_fixture(name: str = "org.json") -> dict[str, Any]:
    fixture: dict[str, Any] = kit.load_fixture("salesforce", name)
    return fixture


def _parse_sf(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, _SF_TIME).replace(tzinfo=dt.UTC)


def _shift(records: list[dict[str, Any]], fields: tuple[str, ...], delta: dt.timedelta) -> None:
    for record in records:
        for name in fields:
            if isinstance(record.get(name), str):
                record[name] = (_parse_sf(record[name]) + delta).strftime(_SF_TIME)


def _error(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    return Response.json([{"message": message, "errorCode": code}], status=status, headers=headers)


def _xml(value: Any, tag: str) -> str:
    """A dict/list/scalar as Metadata API XML elements named ``tag``."""
    if isinstance(value, list):
        return "".join(_xml(v, tag) for v in value)
    if isinstance(value, dict):
        inner = "".join(_xml(v, k) for k, v in value.items())
        return f"<{tag}>{inner}</{tag}>"
    if value is None:
        return f'<{tag} xsi:nil="true"/>'
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{tag}>{escape(str(value))}</{tag}>"


def _soap(body: str, status: int = 200) -> Response:
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}" xmlns="{MD_NS}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
    )
    return Response(status, text.encode("utf-8"), {"Content-Type": "text/xml;charset=UTF-8"})


def soap_fault(code: str, message: str) -> Response:
    """A SOAP 1.1 fault as Salesforce sends it: HTTP 500, unqualified faultcode."""
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}" xmlns:sf="{MD_NS}">'
        f"<soapenv:Body><soapenv:Fault><faultcode>sf:{code}</faultcode>"
        f"<faultstring>{escape(message)}</faultstring></soapenv:Fault></soapenv:Body>"
        "</soapenv:Envelope>"
    )
    return Response(500, text.encode("utf-8"), {"Content-Type": "text/xml;charset=UTF-8"})


class SalesforceOrg:
    """The emulated org: a callable app for :class:`EmulatorServer`.

    ``base_url`` must be set once the server has a port (``start_org`` does).
    """

    def __init__(
        self,
        fixture: Mapping[str, Any],
        *,
        client_id: str = "3MVG9test.consumer.key",
        client_secret: str | None = "s3cr3t-client-secret-value",
        public_key_pem: bytes | None = None,
        batch_size: int = 2000,
        jobs_page_size: int = 2,
        api_limit: int = 15000,
        api_used: int = 24,
        unavailable_fields: Mapping[str, list[str]] | None = None,
        min_version: float = 31.0,
        max_version: float = 66.0,
        require_filter: Mapping[str, str] | None = None,
        write_client_id: str | None = None,
        write_client_secret: str | None = None,
        write_user_id: str = "0055g00000AliceAAA",
    ) -> None:
        self.objects: dict[str, list[dict[str, Any]]] = {
            k: [dict(r) for r in v] for k, v in fixture["objects"].items()
        }
        # every token gets its own DeleteToken (the fixture writes one placeholder)
        for number, token in enumerate(self.objects.get("OauthToken", [])):
            if token.get("DeleteToken"):
                token["DeleteToken"] = f"{token['DeleteToken']}-{number}"
        self.bulk_jobs: list[dict[str, Any]] = [dict(j) for j in fixture.get("bulk_jobs", [])]
        if fixture.get("recent_anchor"):
            now = dt.datetime.now(dt.UTC).replace(microsecond=0)
            delta = now - dt.timedelta(days=1) - _parse_sf(fixture["recent_anchor"])
            for sobject, fields in _RECENT.items():
                _shift(self.objects.get(sobject, []), fields, delta)
            _shift(self.bulk_jobs, _JOB_DATES, delta)
        self.defaults: dict[str, dict[str, Any]] = fixture.get("defaults", {})
        self.metadata: dict[str, list[dict[str, Any]]] = fixture.get("metadata", {})
        #: field labels for sObject Describe (field name -> label; default the name)
        self.labels: dict[str, str] = fixture.get("labels", {})
        self.usernames = {u["Username"] for u in self.objects.get("User", []) if "Username" in u}
        self.client_id = client_id
        self.client_secret = client_secret
        self.public_key_pem = public_key_pem
        self.batch_size = batch_size
        self.jobs_page_size = jobs_page_size
        #: Bulk job list locators: cursor -> every job of the listing
        self._job_cursors: PageTokens[list[dict[str, Any]]] = PageTokens("01gJ5g0000", 4)
        self.api_limit = api_limit
        self.api_used = api_used
        self.unavailable = {
            k: set(v)
            for k, v in (unavailable_fields or fixture.get("unavailable_fields", {})).items()
        }
        self.min_version, self.max_version = min_version, max_version
        #: objects that refuse an unfiltered query (object -> the field to filter on)
        self.require_filter = dict(require_filter or {})
        self.base_url = ""
        self.tokens: set[str] = set()
        self.write_client_id, self.write_client_secret = write_client_id, write_client_secret
        self.write_tokens: set[str] = set()
        #: the user a write token acts as (the ``id`` URL of its token response)
        self.write_user_id = write_user_id
        #: ``(method, object or "OauthToken", row id or app name)`` of every change made
        self.writes: list[tuple[str, str, str]] = []
        self.tokens_issued = 0
        self.issued: list[str] = []  # every access token ever handed out (for leak checks)
        self.assertions: list[dict[str, Any]] = []
        #: query locators: cursor -> (sObject, every row of the query)
        self._cursors: PageTokens[tuple[str, list[dict[str, Any]]]] = PageTokens("01g5g00000", 4)
        self._lock = threading.Lock()

    # -- test controls ------------------------------------------------------
    def expire_sessions(self) -> None:
        """Every issued access token stops working (a mid-run expiry)."""
        with self._lock:
            self.tokens.clear()

    def cursor_object(self, path: str) -> str | None:
        """The sObject a ``.../query/01g...-N`` path pages through (for fault matchers)."""
        locator = path.rsplit("/", 1)[-1]
        entry = self._cursors.get(locator.rpartition("-")[0])
        return entry[0] if entry else None

    def page_of(self, path: str) -> tuple[str | None, int | None]:
        """``(sObject, 1-based page number)`` of a query request path."""
        if "/query/" not in path:
            return None, None
        offset = path.rpartition("-")[2]
        page = int(offset) // self.batch_size + 1 if offset.isdigit() else None
        return self.cursor_object(path), page

    # -- dispatch --------------------------------------------------------------
    def __call__(self, request: Request) -> Response:
        if request.path == "/services/oauth2/token" and request.method == "POST":
            return self._token(request)
        if request.path.startswith("/services/Soap/m/") and request.method == "POST":
            return self._soap(request)
        describe = _DESCRIBE.match(request.path)
        if describe and request.method == "GET":
            sobject = describe.group(2)
            return self._guarded(request, describe.group(1), lambda h: self._describe(sobject, h))
        classic = _ASYNC_JOB.match(request.path)
        if classic and request.method == "GET":
            return self._classic_job(request, classic.group(1), classic.group(2))
        jobs = _JOBS.match(request.path)
        if jobs and request.method == "GET":
            return self._guarded(request, jobs.group(1), lambda h: self._jobs(request, jobs, h))
        match = _VERSION.match(request.path)
        if match and request.method == "GET":
            return self._rest(request, match.group(1), match.group(3))
        if request.path == "/services/oauth2/revoke" and request.method == "POST":
            return self._revoke(request)
        row = _ROW.match(request.path)
        if row and request.method in ("PATCH", "DELETE"):
            return self._guarded(request, row.group(1), lambda h: self._write(request, row, h))
        return _error(404, "NOT_FOUND", "The requested resource does not exist")

    # -- OAuth -------------------------------------------------------------------
    def _token(self, request: Request) -> Response:
        form = request.form()
        grant = form.get("grant_type")
        if grant == "client_credentials":
            if self.write_client_id and form.get("client_id") == self.write_client_id:
                if form.get("client_secret") != self.write_client_secret:
                    return Response.json(
                        {
                            "error": "invalid_client",
                            "error_description": "invalid client credentials",
                        },
                        status=400,
                    )
                return self._issue(write=True)
            if form.get("client_id") != self.client_id or self.client_secret is None:
                return Response.json(
                    {
                        "error": "invalid_client_id",
                        "error_description": "client identifier invalid",
                    },
                    status=400,
                )
            if form.get("client_secret") != self.client_secret:
                return Response.json(
                    {"error": "invalid_client", "error_description": "invalid client credentials"},
                    status=400,
                )
            return self._issue()
        if grant == JWT_GRANT:
            return self._jwt(form.get("assertion") or "")
        return Response.json(
            {"error": "unsupported_grant_type", "error_description": "grant type not supported"},
            status=400,
        )

    def _jwt(self, assertion: str) -> Response:
        def invalid(description: str, error: str = "invalid_grant") -> Response:
            return Response.json({"error": error, "error_description": description}, status=400)

        if self.public_key_pem is None:
            return invalid("invalid assertion")
        try:
            claims = jwt.decode(
                assertion,
                self.public_key_pem,
                algorithms=["RS256"],
                audience=self.base_url,
                options={"require": ["iss", "sub", "aud", "exp"]},
            )
        except jwt.InvalidAudienceError:
            return invalid("audience is invalid")
        except jwt.ExpiredSignatureError:
            return invalid("expired authorization code")
        except jwt.PyJWTError:
            return invalid("invalid assertion")
        self.assertions.append(claims)
        if claims["iss"] != self.client_id:
            return invalid("client identifier invalid", "invalid_client_id")
        if claims["exp"] - time.time() > 180 + 5:
            return invalid("invalid assertion")  # Salesforce: exp within 3 minutes
        if claims["sub"] not in self.usernames:
            return invalid("user hasn't approved this consumer")
        return self._issue()

    def _issue(self, *, write: bool = False) -> Response:
        token = "00D5g000004AbCd!" + secrets.token_urlsafe(48)
        with self._lock:
            self.tokens.add(token)
            if write or not self.write_client_id:
                self.write_tokens.add(token)
            self.tokens_issued += 1
            self.issued.append(token)
        user = self.write_user_id if write else "0055g00000AliceAAA"
        return Response.json(
            {
                "access_token": token,
                "instance_url": self.base_url,
                "id": f"{self.base_url}/id/00D5g000004AbCdEAF/{user}",
                "token_type": "Bearer",
                "scope": "api",
                "issued_at": str(int(time.time() * 1000)),
                "signature": secrets.token_urlsafe(32),
            }
        )

    def _authorised(self, token: str | None) -> bool:
        with self._lock:
            return bool(token) and token in self.tokens

    # -- writes ------------------------------------------------------------------
    def _revoke(self, request: Request) -> Response:
        """OAuth 2.0 revocation: the DeleteToken (or a token) in a form body."""
        if "application/x-www-form-urlencoded" not in (request.header("content-type") or ""):
            return Response.json(
                {"error": "unsupported_token_type", "error_description": "form body expected"},
                status=400,
            )
        value = request.form().get("token") or ""
        with self._lock:
            rows = self.objects.get("OauthToken", [])
            kept = [t for t in rows if not value or t.get("DeleteToken") != value]
            gone = [t for t in rows if t not in kept]
            if not gone:
                return Response.json(
                    {"error": "invalid_token", "error_description": "invalid token"}, status=400
                )
            self.objects["OauthToken"] = kept
            self.writes += [("REVOKE", "OauthToken", str(t.get("AppName"))) for t in gone]
        return Response(200, b"", {})

    def _write(self, request: Request, row: re.Match[str], headers: dict[str, str]) -> Response:
        sobject, row_id = row.group(2), row.group(3)
        token = (request.header("authorization") or "").removeprefix("Bearer ")
        with self._lock:
            may_write = token in self.write_tokens
        if not may_write:
            return _error(
                403, "INSUFFICIENT_ACCESS", "insufficient access rights on object id", headers
            )
        writable = _WRITABLE.get((request.method, sobject))
        if writable is None:
            return _error(405, "METHOD_NOT_ALLOWED", f"{request.method} not allowed", headers)
        with self._lock:
            rows = self.objects.get(sobject, [])
            found = next((r for r in rows if r.get("Id") == row_id), None)
            if found is None:
                return _error(404, "NOT_FOUND", "The requested resource does not exist", headers)
            if request.method == "DELETE":
                rows.remove(found)
            else:
                body = request.json()
                if not isinstance(body, dict) or set(body) - set(writable):
                    bad = sorted(set(body) - set(writable)) if isinstance(body, dict) else body
                    return _error(400, "INVALID_FIELD_FOR_INSERT_UPDATE", f"{bad}", headers)
                found.update(body)
            self.writes.append((request.method, sobject, row_id))
        return Response(204, b"", headers)

    # -- REST query -----------------------------------------------------------
    def _limit_headers(self) -> dict[str, str]:
        with self._lock:
            self.api_used += 1
            used = self.api_used
        return {"Sforce-Limit-Info": f"api-usage={used}/{self.api_limit}"}

    def _guarded(
        self, request: Request, version: str, handle: Callable[[dict[str, str]], Response]
    ) -> Response:
        """Session, API version and daily allowance checks every REST call shares."""
        header = request.header("authorization") or ""
        if not self._authorised(header.removeprefix("Bearer ")):
            return token_expired.salesforce()
        if not self.min_version <= float(version) <= self.max_version:
            return _error(404, "NOT_FOUND", "The requested resource does not exist")
        headers = self._limit_headers()
        if self.api_used > self.api_limit:
            return rate_limited.salesforce(used=self.api_used, limit=self.api_limit)
        return handle(headers)

    def _rest(self, request: Request, version: str, locator: str | None) -> Response:
        def handle(headers: dict[str, str]) -> Response:
            if locator is not None:
                return self._more(version, locator, headers)
            soql = request.param("q")
            if not soql:
                return _error(400, "MALFORMED_QUERY", "q parameter is required", headers)
            return self._query(version, soql, headers)

        return self._guarded(request, version, handle)

    def _describe(self, sobject: str, headers: dict[str, str]) -> Response:
        """``sObject Describe``: the fields this org has, with their labels."""
        if sobject not in self.objects:
            return _error(404, "NOT_FOUND", "The requested resource does not exist", headers)
        fields = [
            {"name": name, "label": self.labels.get(name, name), "type": "boolean"}
            if name.startswith("Permissions")
            else {"name": name, "label": self.labels.get(name, name), "type": "string"}
            for name in sorted(self._known_fields(sobject))
        ]
        return Response.json({"name": sobject, "fields": fields}, headers=headers)

    # -- Bulk API 1.0 job info ------------------------------------------------------
    def _classic_job(self, request: Request, version: str, job_id: str) -> Response:
        """``GET /services/async/XX.X/job/<id>``: a Classic job's JobInfo, counters included."""

        def error(code: str, message: str) -> Response:
            return Response.json({"exceptionCode": code, "exceptionMessage": message}, status=400)

        if not self._authorised(request.header("x-sfdc-session") or ""):
            return error("InvalidSessionId", "Invalid session id")
        if not self.min_version <= float(version) <= self.max_version:
            return error("InvalidVersion", f"Invalid api version specified on URL: {version}")
        job = next(
            (j for j in self.bulk_jobs if j["id"] == job_id and j.get("jobType") == "Classic"),
            None,
        )
        if job is None:
            return error("InvalidJob", f"Unable to find object: {job_id}")
        info = {k: v for k, v in job.items() if k not in ("jobType", "lineEnding")}
        if "json" in (request.header("content-type") or ""):
            return Response.json(info)
        fields = "".join(_xml(v, k) for k, v in info.items())
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload">{fields}</jobInfo>'
        )
        return Response(200, body.encode(), {"Content-Type": "application/xml"})

    # -- Bulk API 2.0 query jobs -------------------------------------------------
    def _jobs(self, request: Request, match: re.Match[str], headers: dict[str, str]) -> Response:
        version, job_id = match.group(1), match.group(2)
        if float(version) < 47.0:
            return _error(404, "NOT_FOUND", "The requested resource does not exist", headers)
        if job_id is not None:
            job = next((j for j in self.bulk_jobs if j["id"] == job_id), None)
            if job is None:
                return _error(404, "NOT_FOUND", "The requested resource does not exist", headers)
            return Response.json(
                {k: v for k, v in job.items() if k in _V2_JOB_FIELDS}, headers=headers
            )
        jobs, offset = self.bulk_jobs, 0
        locator = request.param("queryLocator")
        if locator:
            cursor, _, start = locator.rpartition("-")
            listed = self._job_cursors.get(cursor)
            if listed is None or not start.isdigit():
                return _error(400, "INVALID_QUERY_LOCATOR", "invalid query locator", headers)
            jobs, offset = listed, int(start)
        # The list omits the per-job counters; the job's own info has them.
        summary = [
            {k: v for k, v in j.items() if k in _V2_JOB_FIELDS and k not in _JOB_INFO_ONLY}
            for j in jobs
        ]
        page = offset_page(summary, offset, self.jobs_page_size)
        body: dict[str, Any] = {"done": page.next is None, "records": page.items}
        if page.next is not None:
            cursor = self._job_cursors.issue(jobs)
            body["nextRecordsUrl"] = (
                f"/services/data/v{version}/jobs/query?queryLocator={cursor}-{page.next}"
            )
        else:
            body["nextRecordsUrl"] = None
        return Response.json(body, headers=headers)

    def _known_fields(self, sobject: str) -> set[str]:
        fields = set(self.defaults.get(sobject, {}))
        for record in self.objects.get(sobject, []):
            fields.update(record)
        return fields - self.unavailable.get(sobject, set())

    def _query(self, version: str, soql: str, headers: dict[str, str]) -> Response:
        match = _SOQL.match(soql)
        if not match:
            return _error(400, "MALFORMED_QUERY", f"unexpected token in: {soql[:80]}", headers)
        sobject = match.group("object")
        if sobject not in self.objects:
            return _error(
                400,
                "INVALID_TYPE",
                f"\n{soql[:60]}\n^\nERROR at Row:1:Column:1\nsObject type '{sobject}' is not supported.",
                headers,
            )
        fields = [f.strip() for f in match.group("fields").split(",") if f.strip()]
        known = self._known_fields(sobject)
        for field_path in fields:
            if field_path.split(".")[0] not in known:
                return _error(
                    400,
                    "INVALID_FIELD",
                    f"\n{soql[:60]}\n^\nERROR at Row:1:Column:8\nNo such column '{field_path}' on "
                    f"entity '{sobject}'. If you are attempting to use a custom field, be sure to "
                    "append the '__c' after the custom field name. Please reference your WSDL or "
                    "the describe call for the appropriate names.",
                    headers,
                )
        rest = (match.group("rest") or "").strip()
        where_field, wanted = None, None
        since_field, since = None, None
        if rest and (window := _WHERE_SINCE.match(rest)) and window.group(1) in known:
            since_field = window.group(1)
            since = dt.datetime.fromisoformat(window.group(2).replace("Z", "+00:00"))
        elif rest:
            where = _WHERE_IN.match(rest)
            if not where or where.group(1) not in known:
                return _error(400, "MALFORMED_QUERY", f"unexpected token: {rest[:40]}", headers)
            where_field = where.group(1)
            wanted = {v.strip().strip("'") for v in where.group(2).split(",") if v.strip()}
        required = self.require_filter.get(sobject)
        if required and where_field != required:
            return _error(
                400,
                "MALFORMED_QUERY",
                f"Implementation restriction: {sobject} requires a filter by {required}",
                headers,
            )
        defaults = self.defaults.get(sobject, {})
        rows = [
            self._project(sobject, version, {**defaults, **record}, fields)
            for record in self.objects[sobject]
            if (where_field is None or record.get(where_field) in (wanted or set()))
            and (
                since_field is None
                or (
                    isinstance(record.get(since_field), str)
                    and since is not None
                    and _parse_sf(record[since_field]) >= since
                )
            )
        ]
        return self._batch(version, sobject, rows, 0, headers)

    def _project(
        self, sobject: str, version: str, record: Mapping[str, Any], fields: list[str]
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "attributes": {
                "type": sobject,
                "url": f"/services/data/v{version}/sobjects/{sobject}/{record.get('Id', '')}",
            }
        }
        for field_path in fields:
            parts = field_path.split(".")
            source: Any = record
            target = out
            for depth, part in enumerate(parts):
                if not isinstance(source, Mapping) or part not in source:
                    break  # a field absent from the fixture stays absent (the fault)
                value = source[part]
                if depth == len(parts) - 1 or value is None:
                    target[part] = value
                    break
                target = target.setdefault(part, {"attributes": {"type": part}})
                source = value
        return out

    def _batch(
        self,
        version: str,
        sobject: str,
        rows: list[dict[str, Any]],
        offset: int,
        headers: dict[str, str],
    ) -> Response:
        page = offset_page(rows, offset, self.batch_size)
        body: dict[str, Any] = {"totalSize": len(rows), "done": page.next is None}
        if page.next is not None:
            cursor = self._cursors.issue((sobject, rows))
            body["nextRecordsUrl"] = f"/services/data/v{version}/query/{cursor}-{page.next}"
        body["records"] = page.items
        return Response.json(body, headers=headers)

    def _more(self, version: str, locator: str, headers: dict[str, str]) -> Response:
        cursor, _, offset = locator.rpartition("-")
        entry = self._cursors.get(cursor)
        if entry is None or not offset.isdigit():
            return _error(400, "INVALID_QUERY_LOCATOR", "invalid query locator", headers)
        sobject, rows = entry
        return self._batch(version, sobject, rows, int(offset), headers)

    # -- Metadata API (SOAP) -----------------------------------------------------
    def _soap(self, request: Request) -> Response:
        try:
            root = ET.fromstring(request.body)
        except ET.ParseError:
            return soap_fault("INVALID_XML", "could not parse the request")
        session = root.findtext(f".//{{{MD_NS}}}SessionHeader/{{{MD_NS}}}sessionId")
        if not self._authorised(session):
            return soap_fault(
                "INVALID_SESSION_ID",
                "Invalid Session ID found in SessionHeader: "
                "Illegal Session. Session not found, missing session hash",
            )
        body = root.find(f"{{{SOAP_NS}}}Body")
        call = next(iter(body)) if body is not None and len(body) else None
        if call is None:
            return soap_fault("INVALID_XML", "empty body")
        name = call.tag.split("}", 1)[-1]
        if name == "listMetadata":
            mtype = call.findtext(f"{{{MD_NS}}}queries/{{{MD_NS}}}type") or ""
            if mtype not in self.metadata:
                return soap_fault("INVALID_TYPE", f"Unknown type: {mtype}")
            results = "".join(
                f"<result><fullName>{escape(c['fullName'])}</fullName><type>{mtype}</type></result>"
                for c in self.metadata[mtype]
            )
            return _soap(f"<listMetadataResponse>{results}</listMetadataResponse>")
        if name == "readMetadata":
            mtype = call.findtext(f"{{{MD_NS}}}type") or ""
            names = [e.text or "" for e in call.findall(f"{{{MD_NS}}}fullNames")]
            if len(names) > 10:
                return soap_fault("INVALID_CROSS_REFERENCE_KEY", "too many full names (max 10)")
            if mtype not in self.metadata:
                return soap_fault("INVALID_TYPE", f"Unknown type: {mtype}")
            by_name = {c["fullName"]: c for c in self.metadata[mtype]}
            records = "".join(
                _xml(by_name[n], "records").replace("<records>", f'<records xsi:type="{mtype}">', 1)
                for n in names
                if n in by_name
            )
            return _soap(f"<readMetadataResponse><result>{records}</result></readMetadataResponse>")
        return soap_fault("INVALID_OPERATION", f"unsupported call {name}")


def start_org(
    fixture: Mapping[str, Any] | None = None, **kwargs: Any
) -> tuple[EmulatorServer, SalesforceOrg]:
    """Start an emulated org on a free loopback port; stop it with ``server.stop()``."""
    org = SalesforceOrg(fixture if fixture is not None else load_fixture(), **kwargs)
    server = EmulatorServer(org).start()  # start() tells org its base_url
    return server, org


def main() -> None:
    """Serve the attack-chain org on 127.0.0.1 for manual runs; Ctrl-C stops it.

    ``python -m tests.emulators.salesforce`` prints a ready-to-run
    ``policyengine collect salesforce`` command line (JWT bearer flow with a
    throwaway key pair, and the client-credentials secret).
    """
    import tempfile

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = Path(tempfile.mkdtemp(prefix="sf-emulator-")) / "key.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    server, org = start_org(public_key_pem=public)
    print(f"Salesforce emulator on {server.base_url} (Ctrl-C stops it)")
    print(
        f"  policyengine collect salesforce --login-url {server.base_url} "
        f"--client-id {org.client_id} --username alice.admin@kering.example "
        f"--private-key-file {key_file} -o salesforce.json"
    )
    print(f"  client credentials: --client-secret-env SF_SECRET with SF_SECRET={org.client_secret}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
