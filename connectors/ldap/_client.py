"""Connection, bind and paged search on top of ldap3, with errors a user can act on.

Searches stream: :func:`paged_search` yields one entry at a time and holds
at most one page in memory. Entries come back as raw bytes
(``{attribute: [bytes, ...]}``); the profiles decode what they use.
Referrals and continuation references are never followed; they are counted
so that the caller can report them.
"""

from __future__ import annotations

import contextlib
import math
import ssl
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.ldap._options import LdapOptions
from connectors.ldap._wire import install_fast_entries
from policyengine.connector import is_loopback
from policyengine.errors import AuthenticationError, ConnectorError, UsageError
from policyengine.log import get_logger, redact_text

PAGED_RESULTS_OID = "1.2.840.113556.1.4.319"
_log = get_logger("connectors.ldap")

# LDAP result codes (RFC 4511 4.1.9) we treat specially.
_SUCCESS = 0
_SIZE_LIMIT = 4
_REFERRAL = 10
_INVALID_CREDENTIALS = 49


class SizeLimitError(ConnectorError):
    """The server stopped a search at its size limit: the data is incomplete."""


@dataclass(slots=True)
class SearchStats:
    """What the searches of one collection saw (for logs and the snapshot)."""

    entries: int = 0
    pages: int = 0
    referrals: list[str] = field(default_factory=list)


def _tls(options: LdapOptions) -> Any:
    from ldap3 import Tls

    # Verification is always on; --ca-file only changes which CA is trusted,
    # --tls-server-name only which name the certificate must carry.
    return Tls(
        validate=ssl.CERT_REQUIRED,
        ca_certs_file=options.ca_file,
        version=ssl.PROTOCOL_TLS_CLIENT,
        valid_names=[options.tls_server_name] if options.tls_server_name else None,
    )


def _describe(exc: BaseException) -> str:
    return redact_text(f"{type(exc).__name__}: {exc}")


def connect(options: LdapOptions, password: str, *, read_only: bool = True) -> Any:
    """Open, optionally StartTLS, and simple-bind. Returns an ldap3 Connection.

    Collection connections are ``read_only`` (ldap3 refuses any write on them);
    only a remediation session (:mod:`connectors.ldap._remediate`) opens a writable one.

    Raises AuthenticationError when the credentials are refused and
    ConnectorError when the server cannot be reached or its certificate is
    not trusted (verification is never switched off).
    """
    from ldap3 import NONE, SIMPLE, Connection, Server
    from ldap3.core import exceptions as lx

    if options.ca_file:
        try:
            with open(options.ca_file, "rb"):
                pass
        except OSError as exc:
            raise UsageError(
                f"ldap: option 'ca_file': cannot read {options.ca_file}: {exc.strerror}"
            ) from None
    if options.cleartext and not is_loopback(options.host):
        # allowed only with allow_cleartext; say so on every run, not once at set-up
        _log.warning(
            "ldap.cleartext_bind",
            url=options.url,
            detail="bind password and directory data cross the network unencrypted",
        )
    use_ssl = options.url.lower().startswith("ldaps://")
    server = Server(
        options.url,
        use_ssl=use_ssl,
        tls=_tls(options) if (use_ssl or options.starttls) else None,
        get_info=NONE,
        connect_timeout=options.timeout,
    )
    conn = Connection(
        server,
        user=options.bind_dn,
        password=password,
        authentication=SIMPLE,
        auto_bind=False,
        auto_referrals=False,
        raise_exceptions=False,
        read_only=read_only,
        receive_timeout=max(1, math.ceil(options.timeout)),  # ldap3 packs it as an int
        check_names=False,
        return_empty_attributes=False,
    )
    _install_raw_entries(conn)
    where = options.url
    try:
        conn.open()
        if options.starttls and not conn.start_tls():
            raise ConnectorError(
                f"ldap: StartTLS refused by {where}: {conn.result.get('description')} "
                f"{conn.result.get('message') or ''}".strip()
            )
        ok = conn.bind()
    except ConnectorError:
        raise
    except (lx.LDAPSocketOpenError, lx.LDAPStartTLSError, lx.LDAPSocketReceiveError) as exc:
        raise ConnectorError(_connect_message(where, exc, options)) from None
    except lx.LDAPException as exc:
        raise ConnectorError(f"ldap: cannot talk to {where}: {_describe(exc)}") from None
    if not ok:
        result = conn.result or {}
        code = result.get("result")
        detail = result.get("message") or result.get("description") or ""
        with contextlib.suppress(lx.LDAPException):
            conn.unbind()
        if code == _INVALID_CREDENTIALS:
            raise AuthenticationError(
                f"ldap: {where} refused the bind as {options.bind_dn!r}: invalid credentials "
                "(wrong DN or password, or the account is locked or disabled)"
            )
        raise AuthenticationError(
            f"ldap: {where} refused the bind as {options.bind_dn!r}: "
            f"{result.get('description')} {redact_text(str(detail))}".strip()
        )
    _log.info(
        "ldap.bound", url=where, bind_dn=options.bind_dn, tls=bool(use_ssl or options.starttls)
    )
    return conn


def _install_raw_entries(conn: Any) -> None:
    """Build search entries as raw bytes only, for this connection.

    ldap3 turns every value of every entry into text through per-value
    configuration look-ups and a case-insensitive dict, then we decode the
    raw bytes again ourselves: measured, that was over half of the time of a
    100k-entry collection. This replaces the entry step on this connection's
    strategy only (and, in :mod:`connectors.ldap._wire`, the entries' BER
    decoding); other responses go through ldap3 unchanged. Attribute names come back spelled as they were
    requested (see :func:`paged_search`), so look-ups need no case folding.
    """
    strategy = conn.strategy
    original = strategy.decode_response_fast
    canonical: dict[str, str] = {}
    conn._pe_canonical = canonical  # filled by paged_search / read_entry

    def decode_response_fast(ldap_message: dict[str, Any]) -> dict[str, Any]:
        if ldap_message["protocolOp"] != 4:  # not a searchResEntry
            return original(ldap_message)  # type: ignore[no-any-return]
        payload = ldap_message["payload"]
        attrs: dict[str, list[bytes]] = {}
        for attribute in payload[1][3]:
            pair = attribute[3]
            name = pair[0][3].decode("utf-8")
            attrs[canonical.get(name.lower(), name)] = [v[3] for v in pair[1][3]]
        return {
            "type": "searchResEntry",
            "dn": payload[0][3].decode("utf-8"),
            "raw_dn": payload[0][3],
            "raw_attributes": attrs,
        }

    strategy.decode_response_fast = decode_response_fast
    # and parse the entries' BER ourselves too (ldap3's generic decoder was the next cost)
    install_fast_entries(conn, canonical)


def _remember_names(conn: Any, attributes: Sequence[str]) -> None:
    canonical = getattr(conn, "_pe_canonical", None)
    if canonical is not None:
        for name in attributes:
            canonical.setdefault(name.lower(), name)


def _connect_message(where: str, exc: BaseException, options: LdapOptions) -> str:
    text = str(exc)
    low = text.lower()
    if "certificate" in low or "hostname" in low or "ssl" in low or "tls" in low:
        if "doesn't match" in low or "hostname" in low or "match" in low:
            hint = (
                "the certificate does not name this host; connect by a name it carries "
                "or give that name with --tls-server-name"
            )
        elif options.ca_file:
            hint = f"it is not signed by the CA in {options.ca_file}"
        else:
            hint = "pass the CA that signed it with --ca-file"
        return f"ldap: TLS certificate of {where} not accepted ({hint}): {_describe(exc)}"
    return f"ldap: cannot connect to {where}: {_describe(exc)}"


def read_entry(conn: Any, dn: str, attributes: Sequence[str]) -> dict[str, list[bytes]] | None:
    """One entry by DN (base scope), raw; None when it does not exist."""
    from ldap3 import BASE
    from ldap3.core import exceptions as lx

    _remember_names(conn, attributes)
    try:
        conn.search(dn, "(objectClass=*)", BASE, attributes=list(attributes))
    except lx.LDAPException as exc:
        raise ConnectorError(f"ldap: reading {dn!r} failed: {_describe(exc)}") from None
    for item in conn.response or ():
        if item.get("type") == "searchResEntry":
            return dict(item["raw_attributes"])
    return None


def paged_search(
    conn: Any,
    base: str,
    search_filter: str,
    attributes: Sequence[str],
    *,
    page_size: int,
    stats: SearchStats,
    what: str,
) -> Iterator[tuple[str, dict[str, list[bytes]]]]:
    """Yield ``(dn, raw attributes)`` for every entry, one page at a time.

    Uses the simple paged results control (RFC 2696). A server size limit
    that stops the search raises SizeLimitError after the entries already
    yielded; so does any other non-success result (ConnectorError).
    """
    from ldap3 import SUBTREE
    from ldap3.core import exceptions as lx

    cookie: bytes | None = None
    count = 0
    _remember_names(conn, attributes)
    while True:
        try:
            conn.search(
                base,
                search_filter,
                SUBTREE,
                attributes=list(attributes),
                paged_size=page_size,
                paged_cookie=cookie,
            )
        except lx.LDAPException as exc:
            raise ConnectorError(
                f"ldap: {what} search on {conn.server.host}:{conn.server.port} failed after "
                f"{count} entries: {_describe(exc)}"
            ) from None
        stats.pages += 1
        # Keep this page's response and result: the caller may run other
        # searches on the connection while we yield.
        response, result = conn.response or [], conn.result or {}
        for item in response:
            kind = item.get("type")
            if kind == "searchResEntry":
                count += 1
                stats.entries += 1
                yield item["dn"], item["raw_attributes"]
            elif kind == "searchResRef":
                stats.referrals.extend(item.get("uri") or ())
        code = result.get("result", _SUCCESS)
        if code == _SIZE_LIMIT:
            raise SizeLimitError(
                f"ldap: {what} search stopped by the server's size limit after {count} entries; "
                "allow the bind DN unlimited paged searches (slapd: limits dn.exact=<bind DN> "
                "size.prtotal=unlimited; AD: MaxPageSize / MaxResultSetSize)"
            )
        if code == _REFERRAL:
            stats.referrals.extend(result.get("referrals") or ())
            raise ConnectorError(
                f"ldap: {what} search base {base!r} is held by another server "
                f"(referral to {', '.join(result.get('referrals') or ()) or '?'}); "
                "referrals are not followed: point --url at that server"
            )
        if code != _SUCCESS:
            raise ConnectorError(
                f"ldap: {what} search failed after {count} entries: "
                f"{result.get('description')} {redact_text(str(result.get('message') or ''))}".strip()
            )
        controls = result.get("controls") or {}
        cookie = (controls.get(PAGED_RESULTS_OID) or {}).get("value", {}).get("cookie")
        if not cookie:
            return
