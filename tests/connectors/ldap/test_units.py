"""Pure functions of the LDAP connector: decoding, DN keys, nesting, type rules."""

from __future__ import annotations

import pytest

from connectors.ldap._decode import (
    encryption_types,
    filetime_to_iso,
    generalized_to_iso,
    guid_to_str,
    raw_attributes,
    sid_to_str,
    uac_flags,
)
from connectors.ldap._graph import GroupInfo, Membership, norm_dn
from connectors.ldap._types import DEFAULT_RULES, infer_type, parse_type_rule
from policyengine.errors import UsageError


def test_filetime_conversion_and_never_values():
    assert filetime_to_iso(b"133512096000000000") == "2024-01-31T21:20:00Z"
    assert filetime_to_iso(b"0") is None  # pwdLastSet 0 / accountExpires never
    assert filetime_to_iso(b"9223372036854775807") is None
    assert filetime_to_iso(b"junk") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"20250411093000.0Z", "2025-04-11T09:30:00Z"),
        (b"20250411093000Z", "2025-04-11T09:30:00Z"),
        (b"20250411093000+0200", "2025-04-11T07:30:00Z"),
        (b"000001010000Z", None),  # ppolicy "locked forever" is not a time
        (b"garbage", None),
    ],
)
def test_generalized_time(value, expected):
    assert generalized_to_iso(value) == expected


def test_sid_and_guid_rendering():
    sid = bytes.fromhex("010500000000000515000000a065cf7e784b9b5fe77c8770f4010000")
    assert sid_to_str(sid) == "S-1-5-21-2127521184-1604012920-1887927527-500"
    builtin = bytes.fromhex("01020000000000052000000020020000")
    assert sid_to_str(builtin) == "S-1-5-32-544"
    guid = bytes.fromhex("33221100554477668899aabbccddeeff")
    assert guid_to_str(guid) == "00112233-4455-6677-8899-aabbccddeeff"


def test_uac_and_encryption_type_names():
    assert uac_flags(514) == ["ACCOUNTDISABLE", "NORMAL_ACCOUNT"]
    assert uac_flags(0x200 | 0x40000 | 0x400000) == [
        "NORMAL_ACCOUNT",
        "SMARTCARD_REQUIRED",
        "DONT_REQ_PREAUTH",
    ]
    assert encryption_types(0x1C) == ["RC4_HMAC", "AES128", "AES256"]


def test_raw_attributes_drop_secrets_and_render_types():
    raw = raw_attributes(
        {
            "unicodePwd": [b"secret"],
            "userPassword": [b"{SSHA}xyz"],
            "pwdLastSet": [b"0"],
            "adminCount": [b"1"],
            "memberOf": [b"cn=a"],
            "thumbnailPhoto": [b"\xff\xd8\xff"],
            "description": [b"\xff\xfe"],  # not UTF-8: base64
        }
    )
    assert raw == {
        "pwdLastSet": None,
        "adminCount": 1,
        "memberOf": ["cn=a"],
        "thumbnailPhoto": "/9j/",
        "description": "//4=",
    }


def test_dn_keys_agree_across_spellings():
    a = norm_dn("CN=Smith\\, John,OU=People,DC=x")
    assert a == norm_dn("cn=smith\\2C john, ou=people, dc=x")
    assert norm_dn("uid=a, ou=b") == "uid=a,ou=b"
    assert norm_dn("CN=evil)(x\\=*,DC=x") == norm_dn("cn=evil)(x\\3d*,dc=x")


def _membership(edges: dict[str, list[str]]) -> Membership:
    m = Membership()
    for name, members in edges.items():
        m.add_group(name, GroupInfo(dn=name, id=f"id-{name}", name=name), members)
    m.finish_groups()
    return m


def test_nesting_with_a_cycle_terminates_and_is_reported():
    m = _membership({"a": ["b", "u1"], "b": ["c"], "c": ["a"], "d": ["u2"]})
    try:
        assert m.ancestors("c") == frozenset({"a", "b"})
        keys, ids = m.effective(["c"])
        assert keys == frozenset({"a", "b", "c"})
        assert ids == ["id-a", "id-b", "id-c"]
        assert len(m.cycles) == 1 and set(m.cycles[0]) == {"a", "b", "c"}
        assert m.direct_groups_of("u1") == ["a"]
    finally:
        m.close()


def test_account_members_come_from_the_spool():
    m = _membership({"g": ["u1", "u2", "x-not-collected"]})
    try:
        m.add_account("u1", "acc-1")
        m.add_account("u2", "acc-2")
        assert m.account_members("g") == ["acc-1", "acc-2"]
    finally:
        m.close()


def test_type_rules():
    rule = parse_type_rule("service:ou=OU=Service Accounts, DC=corp")
    assert rule.matches(name="x", dn="cn=x,ou=service accounts,dc=corp", has_spn=False, attrs={})
    attr_rule = parse_type_rule({"type": "shared", "attr": {"employeeType": "^shared$"}})
    assert attr_rule.matches(name="x", dn="", has_spn=False, attrs={"employeeType": [b"shared"]})
    kw = {"dn": "cn=x,dc=y", "attrs": {}}
    assert infer_type(DEFAULT_RULES, name="svc-backup", has_spn=False, **kw) == "service"
    assert infer_type(DEFAULT_RULES, name="jdoe", has_spn=True, **kw) == "service"
    assert infer_type(DEFAULT_RULES, name="breakglass", has_spn=False, **kw) == "break_glass"
    assert infer_type(DEFAULT_RULES, name="jdoe", has_spn=False, **kw) == "human"
    with pytest.raises(UsageError, match="longer than"):
        parse_type_rule("service:name=" + "a" * 600)


class _RangedServer:
    """Stands in for a DC that returns `member` in ranges of two values."""

    def __init__(self, members: list[bytes]) -> None:
        self.members = members
        self.response: list[dict] = []
        self.requests: list[str] = []

    def search(self, dn, flt, scope, attributes):
        (attr,) = attributes
        self.requests.append(attr)
        start = int(attr.split("=")[1].split("-")[0])
        chunk = self.members[start : start + 2]
        end = "*" if start + 2 >= len(self.members) else str(start + 1)
        key = f"member;range={start}-{end}"
        self.response = [{"type": "searchResEntry", "raw_attributes": {key: chunk}}]


def test_ad_ranged_member_retrieval_is_followed_to_the_end():
    from connectors.ldap._collect import _member_values

    members = [f"cn=u{i},dc=x".encode() for i in range(5)]
    server = _RangedServer(members)
    first = {"member;range=0-1": members[:2], "cn": [b"big"]}
    got = _member_values(server, "cn=big,dc=x", first, "member")
    assert got == [m.decode() for m in members]
    assert server.requests == ["member;range=2-*", "member;range=4-*"]


def _tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def _entry_message(message_id: int, dn: bytes, attrs: list[tuple[bytes, list[bytes]]]) -> bytes:
    attributes = b"".join(
        _tlv(0x30, _tlv(0x04, name) + _tlv(0x31, b"".join(_tlv(0x04, v) for v in vals)))
        for name, vals in attrs
    )
    entry = _tlv(0x64, _tlv(0x04, dn) + _tlv(0x30, attributes))
    return _tlv(0x30, _tlv(0x02, message_id.to_bytes(2, "big")) + entry)


def test_fast_entry_parser_agrees_with_ldap3():
    from ldap3.utils.asn1 import decode_message_fast

    from connectors.ldap._wire import parse_search_entry

    big = b"x" * 70_000  # three-octet length form
    message = _entry_message(
        300,
        b"uid=a,dc=x",
        [(b"memberof", [b"cn=g1", b"cn=g2"]), (b"jpegPhoto", [big]), (b"empty", [])],
    )
    parsed = parse_search_entry(message, {"memberof": "memberOf"})
    assert parsed == (
        300,
        b"uid=a,dc=x",
        {"memberOf": [b"cn=g1", b"cn=g2"], "jpegPhoto": [big], "empty": []},
    )
    theirs = decode_message_fast(message)
    assert theirs["messageID"] == 300 and theirs["protocolOp"] == 4
    assert [bytes(v[3]) for v in theirs["payload"][1][3][0][3][1][3]] == [b"cn=g1", b"cn=g2"]


def test_fast_entry_parser_steps_aside_for_other_messages():
    from connectors.ldap._wire import parse_search_entry

    done = _tlv(0x30, _tlv(0x02, b"\x05") + _tlv(0x65, b"\x0a\x01\x00\x04\x00\x04\x00"))
    assert parse_search_entry(done, {}) is None
    assert parse_search_entry(b"\x30\x80garbage", {}) is None  # indefinite length
    assert parse_search_entry(b"\x30\x05\x02", {}) is None  # truncated
