"""Client-credentials tokens from the Microsoft identity platform (secret or certificate).

MSAL is not used: its authority must be ``https://`` (msal/authority.py refuses other
schemes), so it cannot run against a loopback test authority, and the shared HTTP layer
already gives retries, timeouts and the CA file. The wire format is the documented one
(v2-oauth2-client-creds-grant-flow, certificate-credentials): ``scope=GRAPH/.default``; a
certificate signs an RS256 assertion whose header names it by ``x5t#S256``.
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from typing import Any

from connectors.entra._options import EntraOptions
from connectors.http import HttpClient, ServerUnreachable, TokenAuth
from policyengine.errors import AuthenticationError, ConnectorError, UsageError
from policyengine.log import get_logger, register_secret

log = get_logger("policyengine.entra")

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def load_certificate(path: str) -> tuple[Any, str]:
    """(private key, x5t#S256 thumbprint) from a PEM holding the key and the certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise UsageError(
            f"entra: option 'certificate_file': cannot read {path}: {exc.strerror}"
        ) from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
        cert = x509.load_pem_x509_certificate(data)
    except (ValueError, TypeError):
        raise UsageError(
            f"entra: option 'certificate_file': {path} must hold an unencrypted PEM private key "
            "and its PEM certificate"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise UsageError(f"entra: option 'certificate_file': {path}: the key must be RSA")
    der = cert.public_bytes(serialization.Encoding.DER)
    return key, _b64url(hashlib.sha256(der).digest())


def _aadsts_summary(response: Any) -> str | None:
    """``AADSTS7000215`` and the first sentence of its description; never the request."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or "error" not in body:
        return None
    description = str(body.get("error_description", "")).split("\r\n")[0].split(". ")[0]
    return f"{body.get('error')}: {description}"[:300]


def token_auth(options: EntraOptions, token_client: HttpClient) -> TokenAuth:
    """A refreshable Bearer auth; a fresh assertion for every token request."""
    token_url = f"{options.authority_url}/{options.tenant_id}/oauth2/v2.0/token"
    scope = f"{options.graph_url}/.default"
    if options.graph_url.startswith("http://"):  # a loopback test Graph: the real resource id
        scope = "https://graph.microsoft.com/.default"
    secret = options.secret.read("Entra client secret") if options.secret else None
    certificate = load_certificate(options.certificate_file) if options.certificate_file else None

    def form() -> dict[str, str]:
        base = {
            "grant_type": "client_credentials",
            "client_id": options.client_id,
            "scope": scope,
        }
        if secret is not None:
            return {**base, "client_secret": secret}
        import jwt

        assert certificate is not None
        key, thumbprint = certificate
        now = int(time.time())
        claims = {
            "aud": token_url,
            "iss": options.client_id,
            "sub": options.client_id,
            "jti": str(uuid.uuid4()),
            "nbf": now,
            "iat": now,
            "exp": now + 600,
        }
        assertion = jwt.encode(claims, key, algorithm="RS256", headers={"x5t#S256": thumbprint})
        register_secret(assertion)
        return {**base, "client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion}

    def fetch() -> tuple[str, None]:
        try:
            body: Any = token_client.get_json_post(token_url, form())
        except (AuthenticationError, ServerUnreachable):
            raise
        except ConnectorError as exc:
            if "AADSTS" in exc.message or "invalid_" in exc.message:
                raise AuthenticationError(
                    f"entra: token request refused by {options.authority_url}: {exc.message}"
                ) from None
            raise
        access = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(access, str) or not access:
            raise AuthenticationError("entra: the token endpoint returned no access_token")
        register_secret(access)
        log.info("entra.access_token", expires_in=body.get("expires_in"))
        return f"Bearer {access}", None

    return TokenAuth(fetch)


def token_error(response: Any) -> str | None:
    """For the token client: an AADSTS body is final (a wrong secret stays wrong)."""
    if response.status_code in (400, 401):
        return _aadsts_summary(response)
    return None
