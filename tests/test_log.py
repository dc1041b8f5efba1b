"""Secrets never leave through a log line or an error text."""

from __future__ import annotations

import io
import json

from policyengine import log


def test_registered_secrets_and_secret_shapes_are_redacted():
    log.register_secret("s3cr3t-bind-password")
    stream = io.StringIO()
    log.configure("json", "debug", stream=stream)
    logger = log.get_logger("test")
    logger.info(
        "bind",
        detail="bind as cn=admin with s3cr3t-bind-password failed",
        password="another-one",
        headers={"Authorization": "Bearer abcdefghijklmnop.qrs"},
        uri="otpauth://totp/x?secret=JBSWY3DPEHPK3PXP",
        key="-----BEGIN PRIVATE KEY-----\nMIIEv...\n-----END PRIVATE KEY-----",
    )
    line = stream.getvalue()
    event = json.loads(line)
    for secret in (
        "s3cr3t-bind-password",
        "another-one",
        "abcdefghijklmnop",
        "JBSWY3DPEHPK3PXP",
        "MIIEv",
    ):
        assert secret not in line
    assert event["password"] == log.REDACTED
    assert "[REDACTED]" in event["detail"]


def test_redact_text_handles_query_strings_and_bearer_tokens():
    text = log.redact_text(
        "GET /token?client_secret=abc123&x=1 Authorization: Bearer eyJhbGciOi.eyJzdWIiOi.sig"
    )
    assert "abc123" not in text and "eyJzdWIiOi" not in text


def test_exceptions_in_events_are_redacted():
    log.register_secret("hunter2hunter2")
    stream = io.StringIO()
    log.configure("json", "info", stream=stream)
    log.get_logger("test").error("failed", error=RuntimeError("login hunter2hunter2 refused"))
    assert "hunter2hunter2" not in stream.getvalue()
