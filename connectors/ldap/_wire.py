"""A fast path for the one message that dominates a collection: SearchResultEntry.

ldap3 decodes every BER element into generic tuples and then, per value,
into text. For the connector's own connection, search entries are instead
parsed here straight into ``{attribute: [bytes, ...]}``; every other
message (bind, search done with its paging cookie, references, notices)
still goes through ldap3. Anything this parser does not expect makes it
step aside (return None) so that ldap3 handles the message as before.

RFC 4511 4.5.2::

    SearchResultEntry ::= [APPLICATION 4] SEQUENCE {
         objectName      LDAPDN,
         attributes      PartialAttributeList }
    PartialAttributeList ::= SEQUENCE OF SEQUENCE {
         type       AttributeDescription,
         vals       SET OF value AttributeValue }
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_SEQUENCE, _SET, _OCTETS, _INTEGER, _ENTRY = 0x30, 0x31, 0x04, 0x02, 0x64


def _length(buf: bytes, i: int) -> tuple[int, int]:
    """(length, index of the first content octet) of the element whose length is at i."""
    first = buf[i]
    if first < 0x80:
        return first, i + 1
    n = first & 0x7F
    if n == 0 or n > 4:  # indefinite form (not allowed in LDAP) or absurd: step aside
        raise ValueError("unsupported BER length")
    return int.from_bytes(buf[i + 1 : i + 1 + n], "big"), i + 1 + n


def parse_search_entry(
    buf: bytes, canonical: dict[str, str]
) -> tuple[int, bytes, dict[str, list[bytes]]] | None:
    """(message id, DN, attributes) of a SearchResultEntry message, else None.

    ``canonical`` maps lower-case attribute names to the spelling the caller
    asked for.
    """
    try:
        if buf[0] != _SEQUENCE:
            return None
        _, i = _length(buf, 1)
        if buf[i] != _INTEGER:
            return None
        n, i = _length(buf, i + 1)
        message_id = int.from_bytes(buf[i : i + n], "big", signed=True)
        i += n
        if buf[i] != _ENTRY:
            return None
        _, i = _length(buf, i + 1)
        if buf[i] != _OCTETS:
            return None
        n, i = _length(buf, i + 1)
        dn = buf[i : i + n]
        i += n
        if buf[i] != _SEQUENCE:
            return None
        n, i = _length(buf, i + 1)
        end = i + n
        attrs: dict[str, list[bytes]] = {}
        while i < end:
            if buf[i] != _SEQUENCE:
                return None
            n, i = _length(buf, i + 1)
            next_attr = i + n
            if buf[i] != _OCTETS:
                return None
            n, i = _length(buf, i + 1)
            name = buf[i : i + n].decode("utf-8")
            i += n
            if buf[i] != _SET:
                return None
            n, i = _length(buf, i + 1)
            vals_end = i + n
            values: list[bytes] = []
            while i < vals_end:
                if buf[i] != _OCTETS:
                    return None
                n, i = _length(buf, i + 1)
                values.append(buf[i : i + n])
                i += n
            attrs[canonical.get(name.lower(), name)] = values
            i = next_attr
        if i != end:
            return None
        return message_id, dn, attrs
    except (IndexError, ValueError, UnicodeDecodeError):
        return None


def install_fast_entries(conn: Any, canonical: dict[str, str]) -> None:
    """Route this connection's SearchResultEntry messages through :func:`parse_search_entry`.

    Replaces ``_get_response`` on this connection's (sync) strategy object
    only, keeping ldap3's checks for the other messages.
    """
    from ldap3.core.exceptions import LDAPSocketReceiveError
    from ldap3.strategy.base import RESPONSE_COMPLETE, SESSION_TERMINATED_BY_SERVER
    from ldap3.utils.asn1 import decode_message_fast

    strategy = conn.strategy
    if not getattr(strategy, "sync", False) or not hasattr(strategy, "_get_response"):
        return
    decode_response: Callable[[Any], dict[str, Any]] = strategy.decode_response_fast

    def _get_response(message_id: int, timeout: Any) -> Any:
        responses_out: list[Any] = []
        complete = False
        while not complete:
            received = strategy.receiving()
            if not received:
                return SESSION_TERMINATED_BY_SERVER
            for message in received:
                if not message:
                    continue
                if conn.usage:
                    conn._usage.update_received_message(len(message))
                parsed = parse_search_entry(message, canonical)
                if parsed is not None and parsed[0] == message_id:
                    responses_out.append(
                        {
                            "type": "searchResEntry",
                            "dn": parsed[1].decode("utf-8", "replace"),
                            "raw_dn": parsed[1],
                            "raw_attributes": parsed[2],
                        }
                    )
                    continue
                ldap_resp = decode_message_fast(message)
                response = decode_response(ldap_resp)
                got_id = int(ldap_resp["messageID"])
                if got_id == message_id:
                    responses_out.append(response)
                    if response["type"] not in (
                        "searchResEntry",
                        "searchResRef",
                        "intermediateResponse",
                    ):
                        complete = True
                elif got_id == 0:  # unsolicited notification (RFC 4511 4.4)
                    if response.get("responseName") == "1.3.6.1.4.1.1466.20036":
                        return SESSION_TERMINATED_BY_SERVER  # notice of disconnection
                    raise LDAPSocketReceiveError("unknown unsolicited notification from server")
                else:
                    raise LDAPSocketReceiveError("invalid messageId received")
        responses_out.append(RESPONSE_COMPLETE)
        return responses_out

    strategy._get_response = _get_response
