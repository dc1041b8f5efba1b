"""A minimal Metadata API (SOAP) client: ``listMetadata`` and ``readMetadata``.

Org session settings (``SecuritySettings``), API Access Control
(``ConnectedAppSettings``), connected-app OAuth policies (``ConnectedApp``:
scopes, IP relaxation, refresh-token policy) and profile login IP ranges
(``Profile.loginIpRanges``) are not SOQL-queryable; the documented way to
read them is ``readMetadata`` on ``/services/Soap/m/<version>``, which takes
the OAuth access token as ``SessionHeader.sessionId``.

Responses are parsed with ElementTree after refusing any DOCTYPE (no entity
expansion). An expired session comes back as a SOAP fault
``sf:INVALID_SESSION_ID`` with HTTP 500; it is re-authenticated once here,
because the shared client only knows the REST 401.
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

import httpx

from connectors.http import HttpClient
from policyengine.errors import ConnectorError
from policyengine.log import get_logger

log = get_logger("policyengine.salesforce")

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
MD_NS = "http://soap.sforce.com/2006/04/metadata"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
#: readMetadata takes at most 10 full names per call.
READ_BATCH = 10
#: Elements that are lists even when they occur once.
LIST_TAGS = frozenset(
    {"records", "scopes", "ipRanges", "loginIpRanges", "result", "permissions", "userPermissions"}
)


class SoapFault(ConnectorError):
    """A SOAP fault other than an expired session (INVALID_TYPE, INSUFFICIENT_ACCESS, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"Metadata API fault {code}: {message[:300]}")
        self.fault_code = code


class _SessionExpired(ConnectorError):
    pass


def _fault(response: httpx.Response) -> tuple[str, str] | None:
    if b"Fault" not in response.content[:4096] and b"faultcode" not in response.content:
        return None
    try:
        root = _parse(response.content)
    except ConnectorError:
        return None
    # faultcode/faultstring are unqualified in SOAP 1.1, but tolerate a default namespace.
    texts = {el.tag.rsplit("}", 1)[-1]: (el.text or "").strip() for el in root.iter()}
    if "faultcode" not in texts:
        return None
    return texts["faultcode"].split(":")[-1], texts.get("faultstring", "")


def soap_fatal(response: httpx.Response) -> str | None:
    """``fatal_error`` hook for SOAP calls: faults are not retried (except the session)."""
    fault = _fault(response)
    if fault is None:
        return None
    code, message = fault
    if code == "INVALID_SESSION_ID":
        raise _SessionExpired(message)
    if code in ("REQUEST_LIMIT_EXCEEDED",):
        from connectors.salesforce._http import ApiLimitExceeded

        raise ApiLimitExceeded(f"the org's API request limit is exhausted ({message[:200]})")
    raise SoapFault(code, message)


def _parse(content: bytes) -> ET.Element:
    if b"<!DOCTYPE" in content[:2048].upper() or b"<!ENTITY" in content.upper():
        raise ConnectorError("Metadata API response contains a DOCTYPE; refused")
    try:
        return ET.fromstring(content)
    except ET.ParseError as exc:
        raise ConnectorError(f"malformed XML from the Metadata API: {exc}") from None


def element_to_python(element: ET.Element) -> Any:
    """Children become a dict (LIST_TAGS and repeated tags become lists); text stays text.

    ``true``/``false`` become booleans; everything else stays a string
    (Metadata API numbers are rare here and their meaning is field-specific).
    """
    children = list(element)
    if not children:
        if element.get(f"{{{XSI_NS}}}nil") == "true":
            return None
        text = (element.text or "").strip()
        return {"true": True, "false": False}.get(text, text)
    out: dict[str, Any] = {}
    for child in children:
        tag = child.tag.split("}", 1)[-1]
        value = element_to_python(child)
        if tag in out:
            if not isinstance(out[tag], list):
                out[tag] = [out[tag]]
            out[tag].append(value)
        else:
            out[tag] = [value] if tag in LIST_TAGS else value
    return out


class MetadataClient:
    """``list_metadata(type)`` and ``read_metadata(type, names)`` over SOAP."""

    def __init__(self, http: HttpClient, api_version: str) -> None:
        self.http = http
        self.api_version = api_version

    @property
    def path(self) -> str:
        return f"/services/Soap/m/{self.api_version}"

    def _call(self, body_xml: str) -> ET.Element:
        assert self.http.auth is not None
        for attempt in (1, 2):
            generation = self.http.auth.generation
            session = self.http.auth.header().removeprefix("Bearer ")
            envelope = (
                f'<?xml version="1.0" encoding="UTF-8"?>'
                f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}" xmlns:met="{MD_NS}">'
                f"<soapenv:Header><met:SessionHeader><met:sessionId>{escape(session)}"
                f"</met:sessionId></met:SessionHeader></soapenv:Header>"
                f"<soapenv:Body>{body_xml}</soapenv:Body></soapenv:Envelope>"
            )
            try:
                response = self.http.request(
                    "POST",
                    self.path,
                    content=envelope.encode("utf-8"),
                    headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": '""'},
                )
            except _SessionExpired:
                if attempt == 2:
                    raise ConnectorError(
                        "the Metadata API rejected a freshly issued session (INVALID_SESSION_ID)"
                    ) from None
                log.info("salesforce.metadata_reauthenticate")
                self.http.auth.refresh(generation)
                continue
            return _parse(response.content)
        raise AssertionError("unreachable")

    def list_metadata(self, metadata_type: str) -> list[str]:
        """Full names of every component of ``metadata_type``."""
        root = self._call(
            f"<met:listMetadata><met:queries><met:type>{escape(metadata_type)}</met:type>"
            f"</met:queries><met:asOfVersion>{escape(self.api_version)}</met:asOfVersion>"
            f"</met:listMetadata>"
        )
        names = [
            (r.findtext(f"{{{MD_NS}}}fullName") or "") for r in root.iter(f"{{{MD_NS}}}result")
        ]
        return sorted(n for n in names if n)

    def read_metadata(self, metadata_type: str, names: list[str]) -> list[dict[str, Any]]:
        """The components named, as dicts (missing ones are skipped), 10 per call."""
        out: list[dict[str, Any]] = []
        for start in range(0, len(names), READ_BATCH):
            batch = names[start : start + READ_BATCH]
            members = "".join(f"<met:fullNames>{escape(n)}</met:fullNames>" for n in batch)
            root = self._call(
                f"<met:readMetadata><met:type>{escape(metadata_type)}</met:type>{members}"
                f"</met:readMetadata>"
            )
            for records in root.iter(f"{{{MD_NS}}}records"):
                record = element_to_python(records)
                if isinstance(record, dict) and record.get("fullName"):
                    out.append(record)
        return out
