"""Domain-wide delegation: a JWT bearer assertion (RFC 7523) signed with the key file's key.

google-auth signs the assertion; our HTTP client sends it to the key file's ``token_uri``
(same TLS, CA file and retry rules as every other call). The key file, the assertion and
the access token never reach a message or a log: the token is registered for redaction.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from connectors.http import HttpClient, TokenAuth
from policyengine.connector.options import check_https_url
from policyengine.errors import AuthenticationError, ConnectorError, UsageError
from policyengine.redact import register_secret

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_REQUIRED = ("client_email", "private_key", "token_uri")


def load_key_file(path: str) -> dict[str, str]:
    """The key file's fields, checked; errors name the file, never its content."""
    try:
        info: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(
            f"google: cannot read service account key file {path}: {exc.strerror}"
        ) from None
    except ValueError:
        raise UsageError(f"google: service account key file {path} is not JSON") from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise UsageError(f"google: {path} is not a service account key file (type)")
    missing = [k for k in _REQUIRED if not isinstance(info.get(k), str) or not info[k]]
    if missing:
        raise UsageError(f"google: service account key file {path} has no {missing[0]!r}")
    register_secret(info["private_key"])
    check_https_url(info["token_uri"], f"google: {path} token_uri")
    return {k: str(v) for k, v in info.items() if isinstance(v, str)}


def signed_assertion(info: Mapping[str, str], subject: str, scopes: tuple[str, ...]) -> str:
    from google.auth import crypt, jwt

    try:
        # google-auth's signing helpers carry no annotations
        signer = crypt.RSASigner.from_service_account_info(info)  # type: ignore[no-untyped-call]
    except ValueError:
        raise UsageError("google: the key file's private_key is not a usable RSA key") from None
    now = int(time.time())
    payload = {
        "iss": info["client_email"],
        "sub": subject,
        "aud": info["token_uri"],
        "scope": " ".join(scopes),
        "iat": now,
        "exp": now + 3600,
    }
    signed: bytes = jwt.encode(signer, payload)  # type: ignore[no-untyped-call]
    assertion = signed.decode("ascii")
    register_secret(assertion)
    return assertion


def delegated_auth(
    info: Mapping[str, str], subject: str, scopes: tuple[str, ...], client: HttpClient
) -> TokenAuth:
    """A TokenAuth that mints an access token for ``subject``, again after a 401."""
    token_uri = info["token_uri"]

    def fetch() -> tuple[str, str | None]:
        form = {"grant_type": JWT_BEARER, "assertion": signed_assertion(info, subject, scopes)}
        try:
            response = client.request("POST", token_uri, data=form)
        except ConnectorError as exc:  # AuthenticationError too: add what to check
            raise AuthenticationError(
                f"google: {token_uri} refused the service account {info['client_email']} "
                f"for {subject}: {exc.message} (is domain-wide delegation authorised for "
                "every scope in docs/connectors/google.md?)"
            ) from None
        body = client.decode(response)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthenticationError(f"google: {token_uri} answered without an access_token")
        register_secret(token)
        return f"Bearer {token}", None

    return TokenAuth(fetch)
