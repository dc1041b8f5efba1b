"""policyengine.totp: seed metadata without the seed, and shared-seed detection."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pyotp
import pytest

from policyengine.errors import PolicyEngineError
from policyengine.totp import SeedError, annotate_shared_seeds, seed_metadata

SALT = b"test-salt-0123456789"
# 20 bytes = 160 bits; the distinctive text makes a leak easy to spot.
SECRET_BYTES = b"TOPSECRETSEEDBYTES!!"
SECRET = base64.b32encode(SECRET_BYTES).decode().rstrip("=")


def uri(secret: str = SECRET, kind: str = "totp", **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"secret": secret, **params}.items())
    return f"otpauth://{kind}/ACME:alice%40example.com?{query}"


def test_metadata_of_a_standard_totp_seed() -> None:
    meta = seed_metadata(uri(issuer="ACME"), salt=SALT)
    assert meta == {
        "type": "totp_seed",
        "otp_type": "totp",
        "strength": {"bits": 160, "algorithm": "SHA1", "digits": 6, "period": 30},
        "fingerprint": hmac.new(SALT, SECRET_BYTES, hashlib.sha256).hexdigest(),
        "issuer": "ACME",
        "label": "alice@example.com",
    }


def test_explicit_parameters_are_reported() -> None:
    meta = seed_metadata(uri(algorithm="SHA256", digits="8", period="60"), salt=SALT)
    assert meta["strength"] == {"bits": 160, "algorithm": "SHA256", "digits": 8, "period": 60}


def test_weak_seeds_are_reported_not_refused() -> None:
    # pyotp itself refuses these; the policies need to see them.
    short = base64.b32encode(b"0123456789").decode()  # 80 bits
    meta = seed_metadata(uri(short, digits="4"), salt=SALT)
    assert meta["strength"]["bits"] == 80
    assert meta["strength"]["digits"] == 4


def test_hotp_seed_has_no_period() -> None:
    meta = seed_metadata(uri(kind="hotp", counter="5"), salt=SALT)
    assert meta["otp_type"] == "hotp"
    assert meta["strength"]["period"] is None


def test_lower_case_and_unpadded_base32_decode_the_same() -> None:
    a = seed_metadata(uri(SECRET.lower()), salt=SALT)
    b = seed_metadata(uri(SECRET + "=" * (-len(SECRET) % 8)), salt=SALT)
    assert a["fingerprint"] == b["fingerprint"]


def test_fingerprint_depends_on_salt_and_secret() -> None:
    base = seed_metadata(uri(), salt=SALT)["fingerprint"]
    assert seed_metadata(uri(), salt=b"another-salt-0123456")["fingerprint"] != base
    other = base64.b32encode(b"ANOTHERSEEDBYTES!!!!").decode()
    assert seed_metadata(uri(other), salt=SALT)["fingerprint"] != base


@pytest.mark.parametrize(
    "text",
    [
        uri(),
        uri(algorithm="SHA512", digits="8", period="60"),
        uri(kind="hotp", counter="3", digits="7"),
        "otpauth://totp/Big%3ACorp:bob?secret=" + SECRET + "&issuer=Big%3ACorp",
    ],
)
def test_agrees_with_pyotp_where_pyotp_accepts_the_seed(text: str) -> None:
    reference = pyotp.parse_uri(text)
    meta = seed_metadata(text, salt=SALT)
    assert meta["strength"]["digits"] == reference.digits
    assert meta["strength"]["bits"] == len(reference.byte_secret()) * 8
    assert meta["strength"]["algorithm"] == reference.digest().name.upper().replace("-", "")
    if isinstance(reference, pyotp.TOTP):
        assert meta["strength"]["period"] == reference.interval
    assert meta["label"] == reference.name
    assert meta["issuer"] == reference.issuer


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("https://example.com/?secret=" + SECRET, "not an otpauth"),
        ("otpauth://sms/alice?secret=" + SECRET, "totp or hotp"),
        ("otpauth://totp/alice?digits=6", "no secret"),
        (uri(SECRET[:-3] + "!!1"), "not valid base32"),
        (uri(SECRET + "1"), "not valid base32"),
        (uri(algorithm="MD5"), "unsupported algorithm"),
        (uri(digits="six"), "digits parameter"),
        (uri(period="0"), "period"),
        (uri() + "&secret=" + SECRET, "given twice"),
        ("otpauth://totp/ACME:alice?secret=" + SECRET + "&issuer=Other", "issuer"),
    ],
)
def test_bad_uris_raise_without_the_secret(text: str, message: str) -> None:
    with pytest.raises(SeedError) as info:
        seed_metadata(text, salt=SALT)
    error = info.value
    assert isinstance(error, ValueError)
    assert isinstance(error, PolicyEngineError)
    assert message in str(error)
    assert SECRET not in repr(error) and all(SECRET not in str(a) for a in error.args)
    assert SECRET not in str(error)
    assert SECRET[:16] not in str(error) and SECRET.lower()[:16] not in str(error)
    # no chained exception (e.g. from base64) that a traceback would print
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__


def test_short_salt_is_refused() -> None:
    with pytest.raises(SeedError, match="salt"):
        seed_metadata(uri(), salt=b"short")


def test_secret_never_appears_in_the_output() -> None:
    meta = seed_metadata(uri(issuer="ACME", algorithm="SHA256"), salt=SALT)
    text = json.dumps(meta)
    for needle in (SECRET, SECRET.lower(), SECRET_BYTES.decode(), SECRET_BYTES.hex()):
        assert needle not in text
    assert "secret" not in {k.lower() for k in meta}


def cred(cid: str, owner: object, fp: str | None, **extra: object) -> dict[str, object]:
    record: dict[str, object] = {"kind": "credential", "id": cid, "type": "totp_seed"}
    if owner is not None:
        record["owner"] = owner
    if fp is not None:
        record["fingerprint"] = fp
    return {**record, "source": "idp", **extra}


def test_annotate_counts_other_owners_with_the_same_seed() -> None:
    creds = [
        cred("s1", "alice", "aa"),
        cred("s2", "bob", "aa"),
        cred("s3", "carol", "aa"),
        cred("s4", "dave", "bb"),
    ]
    assert annotate_shared_seeds(creds) == 3
    assert [c["shared_with_count"] for c in creds] == [2, 2, 2, 0]


def test_annotate_ignores_re_enrollment_by_the_same_owner() -> None:
    creds = [cred("s1", "alice", "aa"), cred("s2", "alice", "aa")]
    assert annotate_shared_seeds(creds) == 0
    assert [c["shared_with_count"] for c in creds] == [0, 0]


def test_annotate_keeps_sources_apart_and_ownerless_seeds_count_alone() -> None:
    creds = [
        cred("s1", "u1", "aa"),
        cred("s2", "u1", "aa", source="other-idp"),  # same id, another system: another owner
        cred("s3", None, "cc"),
        cred("s4", None, "cc"),
        cred("s5", {"source": "idp", "id": "u9"}, "dd"),
        cred("s6", "u9", "dd"),  # the same owner written as a reference object
    ]
    annotate_shared_seeds(creds)
    assert [c["shared_with_count"] for c in creds] == [1, 1, 1, 1, 0, 0]


def test_annotate_leaves_other_credentials_and_seeds_without_fingerprint() -> None:
    token = {"kind": "credential", "id": "t1", "type": "api_token", "fingerprint": "aa"}
    seed = cred("s1", "alice", None)
    creds = [token, seed, cred("s2", "bob", "aa")]
    annotate_shared_seeds(creds)
    assert "shared_with_count" not in token
    assert "shared_with_count" not in seed
    assert creds[2]["shared_with_count"] == 0


def test_metadata_feeds_annotate_end_to_end() -> None:
    shared = uri()
    creds = []
    for i, (owner, text) in enumerate(
        [("alice", shared), ("bob", shared), ("carol", uri(issuer="ACME"))]
    ):
        meta = seed_metadata(text, salt=SALT)
        creds.append({"kind": "credential", "id": f"s{i}", "owner": owner, **meta})
    annotate_shared_seeds(creds)
    # carol's URI has the same secret too: three owners, one seed.
    assert [c["shared_with_count"] for c in creds] == [2, 2, 2]


def test_helper_output_feeds_the_totp_policies() -> None:
    """seed_metadata + annotate_shared_seeds produce what PE-TOTP-001..005 evaluate."""
    from pathlib import Path

    from policyengine.api import evaluate_resources, load_policy_set

    short = base64.b32encode(b"0123456789").decode()  # 80 bits
    uris = {"alice": uri(), "bob": uri(), "carol": uri(short, digits="6")}
    resources: list[dict[str, object]] = [
        {"kind": "account", "id": owner, "source": "idp", "name": owner} for owner in uris
    ]
    seeds = []
    for owner, text in uris.items():
        meta = seed_metadata(text, salt=SALT)
        meta.pop("otp_type")
        seeds.append(
            {
                "kind": "credential",
                "id": f"seed-{owner}",
                "source": "idp",
                "name": f"{owner} totp",
                "owner": owner,
                **meta,
            }
        )
    annotate_shared_seeds(seeds)
    root = Path(__file__).resolve().parents[2] / "policies" / "totp"
    result = evaluate_resources(
        [*resources, *seeds], load_policy_set([root]), now="2026-11-01T00:00:00Z"
    )
    found = sorted((f.policy_id, f.resource.id) for f in result.findings)
    assert found == [
        ("PE-TOTP-001", "seed-carol"),
        ("PE-TOTP-004", "seed-alice"),
        ("PE-TOTP-004", "seed-bob"),
    ]
    assert SECRET not in repr(result)
