"""TOTP/HOTP seed metadata without the seed: strength, salted fingerprint, reuse.

A connector that can see provisioning URIs (a self-hosted IdP, a seed
database, an ``otpauth://`` export) must never put the secret in a snapshot.
:func:`seed_metadata` turns one URI into the metadata the ``totp_seed``
credential policies need (PE-TOTP-*), and a keyed fingerprint that lets
:func:`annotate_shared_seeds` find one seed enrolled for two people without
storing anything that can generate codes::

    >>> meta = seed_metadata(
    ...     "otpauth://totp/ACME:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=ACME",
    ...     salt=b"0123456789abcdef",
    ... )
    >>> meta["strength"]
    {'bits': 160, 'algorithm': 'SHA1', 'digits': 6, 'period': 30}

The secret lives only in local variables of :func:`seed_metadata`; error
messages name the problem and never quote the URI or the secret. (Python
strings cannot be wiped from memory; callers should drop their own copy of
the URI as soon as they have the metadata.)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

from policyengine.errors import PolicyEngineError

__all__ = ["MIN_SALT_BYTES", "SeedError", "annotate_shared_seeds", "seed_metadata"]

#: A shorter salt makes the fingerprint a cheap lookup key for a seed dictionary.
MIN_SALT_BYTES = 16

_ALGORITHMS = frozenset({"SHA1", "SHA256", "SHA512"})
_SECURITY_PARAMETERS = frozenset(
    {"secret", "issuer", "algorithm", "encoder", "digits", "period", "counter"}
)


class SeedError(PolicyEngineError, ValueError):
    """A provisioning URI that cannot be read. The message never contains the secret."""


def seed_metadata(uri: str, *, salt: bytes) -> dict[str, Any]:
    """Metadata of the seed in an ``otpauth://totp/...`` or ``otpauth://hotp/...`` URI.

    Returns ``{"type": "totp_seed", "otp_type": "totp"|"hotp", "strength":
    {"bits", "algorithm", "digits", "period"}, "fingerprint", "issuer",
    "label"}``. ``bits`` is the length of the base32-decoded secret in bits;
    ``period`` is ``None`` for HOTP (counter-based) seeds; ``fingerprint`` is
    ``HMAC-SHA256(key=salt, msg=secret bytes)`` in hex, so the same seed under
    the same salt gives the same fingerprint and nothing else can be learnt
    from it. Missing parameters take the Key URI format defaults (SHA1, 6
    digits, 30 s), as authenticator apps do.

    The URI is read with the rules of ``pyotp.parse_uri`` (label split on a
    literal ``:`` before unquoting, no repeated security parameter, issuer
    in label and parameter must agree), but weak seeds are reported, not
    refused: pyotp >= 2.10 rejects secrets under 112 bits and 4- or 5-digit
    codes, which are exactly what policies PE-TOTP-001/002 must see.

    Raises :class:`SeedError` (a ``ValueError``) for anything malformed, with
    a message that never includes the secret.
    """
    if not isinstance(salt, bytes | bytearray) or len(salt) < MIN_SALT_BYTES:
        raise SeedError(f"the fingerprint salt must be at least {MIN_SALT_BYTES} bytes")
    if not isinstance(uri, str):
        raise SeedError("a provisioning URI must be a string")
    parts = _split(uri)
    otp_type = parts.netloc.lower()
    issuer, label = _label(parts.path)
    params = _parameters(parts.query)
    if params.get("issuer"):
        if issuer is not None and issuer != params["issuer"]:
            raise SeedError("the issuer in the label and the issuer parameter differ")
        issuer = params["issuer"]
    algorithm = (params.get("algorithm") or "SHA1").upper()
    if algorithm not in _ALGORITHMS:
        raise SeedError("unsupported algorithm (expected SHA1, SHA256 or SHA512)")
    digits = _whole(params, "digits", 6)
    period = _whole(params, "period", 30) if otp_type == "totp" else None
    if period == 0:
        raise SeedError("the period parameter must be positive")
    if otp_type == "hotp":
        _whole(params, "counter", 0)
    secret = _decode(params.get("secret") or "")
    try:
        return {
            "type": "totp_seed",
            "otp_type": otp_type,
            "strength": {
                "bits": len(secret) * 8,
                "algorithm": algorithm,
                "digits": digits,
                "period": period,
            },
            "fingerprint": hmac.new(bytes(salt), secret, hashlib.sha256).hexdigest(),
            "issuer": issuer,
            "label": label,
        }
    finally:
        del secret


def annotate_shared_seeds(credentials: Iterable[MutableMapping[str, Any]]) -> int:
    """Set ``shared_with_count`` on every ``totp_seed`` credential with a ``fingerprint``.

    ``shared_with_count`` is the number of OTHER owners holding a seed with
    the same fingerprint (0 when the seed is unique to its owner). Two
    credentials of one owner with the same seed (a re-enrollment) do not
    count. A credential without an owner counts as its own owner. Seeds
    without a fingerprint are left alone, so policy PE-TOTP-004 does not
    evaluate them. Fingerprints only compare when made with the same salt.
    Returns the number of credentials whose seed is shared.

    >>> creds = [
    ...     {"kind": "credential", "id": "s1", "type": "totp_seed", "owner": "alice", "fingerprint": "ab"},
    ...     {"kind": "credential", "id": "s2", "type": "totp_seed", "owner": "bob", "fingerprint": "ab"},
    ... ]
    >>> annotate_shared_seeds(creds), creds[0]["shared_with_count"]
    (2, 1)
    """
    seeds = [
        c
        for c in credentials
        if c.get("type") == "totp_seed" and isinstance(c.get("fingerprint"), str)
    ]
    owners: dict[str, set[tuple[str, str]]] = {}
    for cred in seeds:
        owners.setdefault(cred["fingerprint"], set()).add(_owner_key(cred))
    shared = 0
    for cred in seeds:
        others = len(owners[cred["fingerprint"]] - {_owner_key(cred)})
        cred["shared_with_count"] = others
        shared += others > 0
    return shared


# -- helpers -------------------------------------------------------------------------


def _split(uri: str) -> SplitResult:
    try:
        parts = urlsplit(uri)
    except ValueError:
        raise SeedError("not a URI") from None
    if parts.scheme.lower() != "otpauth":
        raise SeedError("not an otpauth:// provisioning URI")
    if parts.netloc.lower() not in ("totp", "hotp"):
        raise SeedError("the OTP type must be totp or hotp")
    return parts


def _label(path: str) -> tuple[str | None, str | None]:
    """``/Issuer:account`` -> (issuer, account); split before unquoting (an encoded ``%3A`` is data)."""
    text = path[1:] if path.startswith("/") else path
    if not text:
        return None, None
    if ":" in text:
        issuer, account = text.split(":", 1)
        return unquote(issuer) or None, unquote(account).lstrip() or None
    return None, unquote(text)


def _parameters(query: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key in _SECURITY_PARAMETERS and key in params:
            raise SeedError(f"the {key} parameter is given twice")
        params[key] = value
    if not params.get("secret"):
        raise SeedError("the URI has no secret parameter")
    return params


def _whole(params: dict[str, str], name: str, default: int) -> int:
    value = params.get(name)
    if not value:
        return default
    if not value.isascii() or not value.isdigit():
        raise SeedError(f"the {name} parameter must be a whole number, got {value[:12]!r}")
    return int(value)


def _decode(text: str) -> bytes:
    """Base32 (any case, padding optional, spaces ignored) -> bytes."""
    compact = text.replace(" ", "").rstrip("=")
    padded = compact + "=" * (-len(compact) % 8)
    try:
        secret = base64.b32decode(padded, casefold=True)
    except (binascii.Error, ValueError):
        raise SeedError("the secret parameter is not valid base32") from None
    if not secret:
        raise SeedError("the secret parameter is empty")
    return secret


def _owner_key(cred: Mapping[str, Any]) -> tuple[str, str]:
    owner = cred.get("owner")
    source = str(cred.get("source") or "")
    if isinstance(owner, str) and owner:
        return (source, owner)
    if isinstance(owner, Mapping) and owner.get("id"):
        return (str(owner.get("source") or source), str(owner["id"]))
    return (source, f"credential:{cred.get('id')}")
