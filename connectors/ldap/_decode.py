"""Turn directory attribute values (bytes on the wire) into JSON-safe values.

Active Directory stores times as FILETIME integers and security identifiers
and GUIDs as binary; LDAP servers store times as GeneralizedTime. Everything
here is a pure function so that it can be tested without a server.

>>> filetime_to_iso(b"133512096000000000")
'2024-01-31T21:20:00Z'
>>> generalized_to_iso(b"20250411093000.0Z")
'2025-04-11T09:30:00Z'
>>> uac_flags(66048)
['NORMAL_ACCOUNT', 'DONT_EXPIRE_PASSWORD']
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from policyengine.model.timestamps import format_timestamp

_EPOCH_DIFF_S = 11_644_473_600  # seconds between 1601-01-01 and 1970-01-01
_NEVER = {0, 0x7FFFFFFFFFFFFFFF}
# YYYYmmddHH[MM[SS]][.fraction](Z|+hhmm|-hhmm)?
_GENTIME = re.compile(
    r"^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})?(\d{2})?(?:[.,]\d+)?(Z|[+-]\d{2}(?:\d{2})?)?$"
)

#: userAccountControl bits (MS ADS_USER_FLAG_ENUM, KB305144), in bit order.
UAC_FLAGS: tuple[tuple[int, str], ...] = (
    (0x1, "SCRIPT"),
    (0x2, "ACCOUNTDISABLE"),
    (0x8, "HOMEDIR_REQUIRED"),
    (0x10, "LOCKOUT"),
    (0x20, "PASSWD_NOTREQD"),
    (0x40, "PASSWD_CANT_CHANGE"),
    (0x80, "ENCRYPTED_TEXT_PWD_ALLOWED"),
    (0x100, "TEMP_DUPLICATE_ACCOUNT"),
    (0x200, "NORMAL_ACCOUNT"),
    (0x800, "INTERDOMAIN_TRUST_ACCOUNT"),
    (0x1000, "WORKSTATION_TRUST_ACCOUNT"),
    (0x2000, "SERVER_TRUST_ACCOUNT"),
    (0x10000, "DONT_EXPIRE_PASSWORD"),
    (0x20000, "MNS_LOGON_ACCOUNT"),
    (0x40000, "SMARTCARD_REQUIRED"),
    (0x80000, "TRUSTED_FOR_DELEGATION"),
    (0x100000, "NOT_DELEGATED"),
    (0x200000, "USE_DES_KEY_ONLY"),
    (0x400000, "DONT_REQ_PREAUTH"),
    (0x800000, "PASSWORD_EXPIRED"),
    (0x1000000, "TRUSTED_TO_AUTH_FOR_DELEGATION"),
    (0x4000000, "PARTIAL_SECRETS_ACCOUNT"),
)
UAC_BITS: dict[str, int] = {name: bit for bit, name in UAC_FLAGS}

#: msDS-SupportedEncryptionTypes bits (MS-KILE 2.2.7).
ENCRYPTION_TYPES: tuple[tuple[int, str], ...] = (
    (0x1, "DES_CBC_CRC"),
    (0x2, "DES_CBC_MD5"),
    (0x4, "RC4_HMAC"),
    (0x8, "AES128"),
    (0x10, "AES256"),
    (0x20, "AES256_SK"),
)


def filetime_to_iso(value: bytes | str | int | None) -> str | None:
    """A FILETIME (100 ns ticks since 1601) as ISO 8601 UTC; 0 and max mean never (None)."""
    if value is None:
        return None
    try:
        ticks = int(value)
    except ValueError:
        return None
    if ticks in _NEVER or ticks < 0:
        return None
    seconds = ticks // 10_000_000 - _EPOCH_DIFF_S
    try:
        return format_timestamp(dt.datetime.fromtimestamp(seconds, dt.UTC))
    except (OverflowError, OSError, ValueError):
        return None


def generalized_to_iso(value: bytes | str | None) -> str | None:
    """A GeneralizedTime (``YYYYmmddHHMMSS[.f][Z|+hhmm]``) as ISO 8601 UTC, or None.

    OpenLDAP's ``000001010000Z`` (ppolicy "locked forever") is not a time: None.
    """
    if value is None:
        return None
    raw = value.decode("ascii", "replace") if isinstance(value, bytes) else value
    if _is_plain_utc(raw):  # the common case: slice instead of parsing
        return f"{raw[:4]}-{raw[4:6]}-{raw[6:8]}T{raw[8:10]}:{raw[10:12]}:{raw[12:14]}Z"
    m = _GENTIME.match(raw.strip())
    if not m:
        return None
    year, month, day, hour, minute, second, zone = m.groups()
    try:
        naive = dt.datetime(
            int(year), int(month), int(day), int(hour), int(minute or 0), int(second or 0)
        )
    except ValueError:
        return None
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        naive -= sign * dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5] or 0))
    if naive.year < 1900:
        return None
    return format_timestamp(naive)  # naive: already shifted to UTC


def _is_plain_utc(raw: str) -> bool:
    """``YYYYmmddHHMMSSZ`` with plausible fields (servers send valid dates)."""
    return (
        len(raw) == 15
        and raw[14] == "Z"
        and raw[:14].isdigit()
        and raw[:4] != "0000"
        and "01" <= raw[4:6] <= "12"
        and "01" <= raw[6:8] <= "31"
        and raw[8:10] <= "23"
        and raw[10:12] <= "59"
        and raw[12:14] <= "60"
    )


def sid_to_str(value: bytes) -> str:
    """A binary SID (MS-DTYP 2.4.2.2) as ``S-1-5-21-...``."""
    revision = value[0]
    count = value[1]
    authority = int.from_bytes(value[2:8], "big")
    subs = [int.from_bytes(value[8 + 4 * i : 12 + 4 * i], "little") for i in range(count)]
    return "S-" + "-".join(str(x) for x in (revision, authority, *subs))


def guid_to_str(value: bytes) -> str:
    """A binary objectGUID (little-endian fields) in its canonical text form."""
    return str(uuid.UUID(bytes_le=bytes(value)))


def uac_flags(value: int) -> list[str]:
    """Names of the userAccountControl bits set in ``value``, in bit order."""
    return [name for bit, name in UAC_FLAGS if value & bit]


def encryption_types(value: int) -> list[str]:
    """Names of the msDS-SupportedEncryptionTypes bits set in ``value``."""
    return [name for bit, name in ENCRYPTION_TYPES if value & bit]


def text(value: bytes) -> str | None:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return None


def first_text(attrs: Mapping[str, list[bytes]], name: str | None) -> str | None:
    """The first value of ``name`` as text, or None when absent or not text."""
    if not name:
        return None
    values = attrs.get(name)
    if not values:
        return None
    return text(values[0])


def first_int(attrs: Mapping[str, list[bytes]], name: str) -> int | None:
    values = attrs.get(name)
    if not values:
        return None
    try:
        return int(values[0])
    except ValueError:
        return None


def all_text(attrs: Mapping[str, list[bytes]], name: str) -> list[str]:
    return [t for v in attrs.get(name) or () if (t := text(v)) is not None]


# -- raw attributes ------------------------------------------------------------

#: Password material is never copied into a snapshot, even if a server returns it.
SECRET_ATTRIBUTES = frozenset(
    a.lower()
    for a in (
        "userPassword",
        "unicodePwd",
        "dBCSPwd",
        "ntPwdHistory",
        "lmPwdHistory",
        "supplementalCredentials",
        "authPassword",
        "pwdHistory",
        "sambaNTPassword",
        "sambaLMPassword",
        "msDS-ManagedPassword",
        "msDS-KeyCredentialLink",
        "clearTextPassword",
        "initialAuthIncoming",
        "initialAuthOutgoing",
        "trustAuthIncoming",
        "trustAuthOutgoing",
        "currentValue",
        "priorValue",
    )
)

_KIND_FILETIME = "filetime"
_KIND_GENTIME = "gentime"
_KIND_INT = "int"
_KIND_SID = "sid"
_KIND_GUID = "guid"
_KIND_BINARY = "binary"

#: How to render known attributes in ``raw`` (lower-case names).
_ATTRIBUTE_KINDS: dict[str, str] = {
    **dict.fromkeys(
        (
            "pwdlastset",
            "lastlogontimestamp",
            "lastlogon",
            "accountexpires",
            "badpasswordtime",
            "lockouttime",
        ),
        _KIND_FILETIME,
    ),
    **dict.fromkeys(
        (
            "whencreated",
            "whenchanged",
            "createtimestamp",
            "modifytimestamp",
            "pwdchangedtime",
            "pwdaccountlockedtime",
            "pwdfailuretime",
            "pwdlastsuccess",
            "pwdgraceusetime",
            "authtimestamp",
        ),
        _KIND_GENTIME,
    ),
    **dict.fromkeys(
        (
            "useraccountcontrol",
            "msds-user-account-control-computed",
            "admincount",
            "primarygroupid",
            "msds-supportedencryptiontypes",
            "grouptype",
            "samaccounttype",
            "badpwdcount",
            "logoncount",
            "uidnumber",
            "gidnumber",
        ),
        _KIND_INT,
    ),
    "objectsid": _KIND_SID,
    "objectguid": _KIND_GUID,
    **dict.fromkeys(
        (
            "msds-allowedtoactonbehalfofotheridentity",
            "jpegphoto",
            "thumbnailphoto",
            "usercertificate",
            "usercertificate;binary",
            "mssfu30password",
            "logonhours",
            "ntsecuritydescriptor",
        ),
        _KIND_BINARY,
    ),
}

#: Attributes that are lists in ``raw`` even when an entry has one value.
MULTI_VALUED = frozenset(
    (
        "memberof",
        "member",
        "uniquemember",
        "serviceprincipalname",
        "msds-allowedtodelegateto",
        "objectclass",
        "mail",
        "pwdfailuretime",
        "proxyaddresses",
    )
)


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _render(kind: str | None, value: bytes) -> Any:
    if kind is None:
        decoded = text(value)
        return decoded if decoded is not None else _b64(value)
    if kind == _KIND_FILETIME:
        return filetime_to_iso(value)
    if kind == _KIND_GENTIME:
        iso = generalized_to_iso(value)
        return iso if iso is not None else text(value)
    if kind == _KIND_INT:
        try:
            return int(value)
        except ValueError:
            return text(value)
    if kind == _KIND_SID:
        try:
            return sid_to_str(value)
        except (IndexError, ValueError):
            return _b64(value)
    if kind == _KIND_GUID:
        try:
            return guid_to_str(value)
        except ValueError:
            return _b64(value)
    return _b64(value)


def raw_attributes(attrs: Mapping[str, list[bytes]], skip: Iterable[str] = ()) -> dict[str, Any]:
    """All attributes of an entry, JSON-safe, without password material.

    SIDs and GUIDs become text, times ISO 8601 (FILETIME 0/never becomes
    None), integers ints, other binary values base64. Known multi-valued
    attributes are always lists; others are a scalar when there is one value.
    """
    skipped = {s.lower() for s in skip}
    out: dict[str, Any] = {}
    for name, values in attrs.items():
        low = name.lower()
        if low in SECRET_ATTRIBUTES or low in skipped or not values:
            continue
        kind = _ATTRIBUTE_KINDS.get(low)
        rendered = [_render(kind, v) for v in values]
        out[name] = rendered if (len(rendered) > 1 or low in MULTI_VALUED) else rendered[0]
    return out
