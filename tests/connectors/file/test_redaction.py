"""Free text in access-as-code files (description, ticket, labels) is redacted in ``raw``."""

from __future__ import annotations

import json

SEED = "JBSWY3DPEHPK3PXP"
CLIENT_SECRET = "s3cr3t-Value-123"


def test_secrets_in_free_text_never_reach_raw(write, collect) -> None:
    write(
        "access/people.yaml",
        f"""
        accounts:
          - id: jmartin
            description: "enrol with otpauth://totp/Acme:jm?secret={SEED}&issuer=Acme"
            ticket: "SEC-1 client_secret={CLIENT_SECRET}"
            labels:
              team: crm
              client_secret: {CLIENT_SECRET}
              note: "Authorization: Bearer abcdefghijklmnop1234"
        """,
    )
    account = collect()[("account", "jmartin")]
    text = json.dumps(account)
    assert SEED not in text
    assert CLIENT_SECRET not in text
    assert "abcdefghijklmnop1234" not in text
    raw = account["raw"]
    assert raw["labels"]["team"] == "crm"  # ordinary free text is kept
    assert raw["ticket"].startswith("SEC-1 client_secret=[REDACTED]")
    assert raw["labels"]["client_secret"] == "[REDACTED]"
    assert raw["id"] == "jmartin"


def test_ordinary_raw_values_are_unchanged(write, collect) -> None:
    write(
        "access/people.yaml",
        """
        accounts:
          - id: svc-report
            type: service
            owner: jmartin
            description: "nightly export to https://reports.example/x (see SEC-12)"
            password_never_expires: true
          - id: jmartin
        """,
    )
    raw = collect()[("account", "svc-report")]["raw"]
    assert raw["description"] == "nightly export to https://reports.example/x (see SEC-12)"
    assert raw["password_never_expires"] is True
