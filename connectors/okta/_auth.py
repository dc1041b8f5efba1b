"""Okta credentials: an SSWS API token, or an OAuth 2.0 service app.

SSWS tokens are long-lived: a 401 means the token is wrong, revoked or
expired, and asking again would return the same token, so it is final.

The OAuth service app uses the client credentials grant with a
``private_key_jwt`` client assertion (RFC 7523) signed with PyJWT, as Okta's
"Implement OAuth for Okta with a service app" guide describes: ``iss`` and
``sub`` are the client id, ``aud`` is ``{org}/oauth2/v1/token``, a short
``exp`` and a unique ``jti``. Access tokens last an hour; a 401 mid-run
fetches a new one (once; see :class:`connectors.http.TokenAuth`).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from connectors.http import HttpClient, ServerUnreachable, TokenAuth
from connectors.okta._options import OktaOptions
from policyengine.errors import AuthenticationError, ConnectorError, UsageError
from policyengine.log import get_logger, register_secret
from policyengine.secrets import read_secret

log = get_logger("policyengine.okta")

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def ssws_auth(options: OktaOptions) -> TokenAuth:
    token = read_secret(env=options.token_env, file=options.token_file, what="Okta API token")
    header = f"SSWS {token}"
    register_secret(header)
    return TokenAuth(lambda: (header, None), refreshable=False)


def load_private_key(options: OktaOptions) -> tuple[Any, str, str | None]:
    """``(key, algorithm, kid)`` from a PEM or JWK private key; UsageError if unusable."""
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    text = read_secret(
        env=options.private_key_env, file=options.private_key_file, what="Okta private key"
    )
    kid = options.key_id
    if text.lstrip().startswith("{"):
        try:
            jwk = json.loads(text)
            key = jwt.PyJWK(jwk).key
        except (ValueError, jwt.PyJWTError):
            raise UsageError("okta: the private key is not a valid JWK") from None
        kid = kid or jwk.get("kid")
    else:
        try:
            key = serialization.load_pem_private_key(text.encode("utf-8"), password=None)
        except (ValueError, TypeError):
            raise UsageError(
                "okta: the private key is not an unencrypted PEM private key"
            ) from None
    if isinstance(key, rsa.RSAPrivateKey):
        algorithm = "RS256"
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        algorithm = "ES256"
    else:
        raise UsageError("okta: the private key must be RSA or EC (P-256)")
    return key, algorithm, kid


def oauth_auth(options: OktaOptions, token_client: HttpClient) -> TokenAuth:
    """A refreshable Bearer auth minting access tokens from the org authorization server.

    ``token_client`` should make one attempt per request: a retry here signs
    a new assertion, because Okta refuses a ``jti`` it has seen (replay).
    """
    key, algorithm, kid = load_private_key(options)
    token_url = f"{options.org_url}/oauth2/v1/token"
    client_id = options.client_id or ""

    def request_token() -> object:
        """One token request with a fresh assertion (a retried one would be a replay)."""
        import jwt

        now = int(time.time())
        claims = {
            "iss": client_id,
            "sub": client_id,
            "aud": token_url,
            "iat": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
        }
        assertion = jwt.encode(
            claims, key, algorithm=algorithm, headers={"kid": kid} if kid else None
        )
        register_secret(assertion)
        form = {
            "grant_type": "client_credentials",
            "scope": " ".join(options.scopes),
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
        }
        return token_client.get_json_post(token_url, form)

    def fetch() -> tuple[str, None]:
        attempt = 0
        while True:
            attempt += 1
            try:
                body: Any = request_token()
                break
            except AuthenticationError:
                raise
            except ServerUnreachable:
                raise
            except ConnectorError as exc:
                if "HTTP 400" in exc.message:
                    raise AuthenticationError(
                        f"okta: OAuth token request refused: {exc.message}"
                    ) from None
                if attempt >= options.transport.max_attempts:
                    raise
                delay = token_client.retry.backoff(attempt)
                log.warning("okta.token_retry", attempt=attempt, delay=round(delay, 3))
                time.sleep(delay)
        access = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(access, str) or not access:
            raise AuthenticationError("okta: the token endpoint returned no access_token")
        register_secret(access)
        granted = set(str(body.get("scope", "")).split())
        missing = [s for s in options.scopes if granted and s not in granted]
        if missing:
            log.warning("okta.scopes_not_granted", missing=missing)
        log.info("okta.access_token", expires_in=body.get("expires_in"), scopes=sorted(granted))
        return f"Bearer {access}", None

    return TokenAuth(fetch)


AuthFactory = Callable[[OktaOptions, HttpClient], TokenAuth]
