"""OAuth 2.0 against ``/services/oauth2/token``: JWT bearer and client credentials.

JWT bearer: ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`` with an
RS256 assertion whose ``iss`` is the consumer key, ``sub`` the username,
``aud`` the login URL and ``exp`` at most three minutes away. Client
credentials: ``grant_type=client_credentials`` with the consumer key and
secret. The response's ``access_token`` and ``instance_url`` are what the
rest of the run uses; the token is registered for log redaction at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from connectors.http import HttpClient
from connectors.salesforce._options import SalesforceOptions
from policyengine.connector.options import check_https_url
from policyengine.errors import AuthenticationError, UsageError
from policyengine.log import get_logger, register_secret
from policyengine.secrets import read_secret

log = get_logger("policyengine.salesforce")

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
#: Salesforce accepts an assertion whose exp is at most 3 minutes away.
JWT_LIFETIME_SECONDS = 170


def build_assertion(
    options: SalesforceOptions, private_key: str, *, now: float | None = None
) -> str:
    """The signed JWT for the bearer flow (RS256)."""
    import jwt  # PyJWT, imported lazily: `policyengine lint` must start fast

    issued = int(now if now is not None else time.time())
    claims = {
        "iss": options.client_id,
        "sub": options.username,
        "aud": options.audience,
        "exp": issued + JWT_LIFETIME_SECONDS,
    }
    try:
        assertion = jwt.encode(claims, private_key, algorithm="RS256")
    except (ValueError, TypeError, jwt.PyJWTError) as exc:
        # The message of a key-parsing error never contains the key itself.
        where = options.private_key_file or f"${options.private_key_env}"
        raise UsageError(
            f"salesforce: the private key from {where} is not a usable RSA PEM key "
            f"({type(exc).__name__})"
        ) from None
    register_secret(assertion)
    return assertion


def token_form(options: SalesforceOptions) -> dict[str, str]:
    """The form body for the configured flow. Reads the secret now (and registers it)."""
    if options.flow == "client_credentials":
        secret = read_secret(
            env=options.client_secret_env, file=options.client_secret_file, what="client secret"
        )
        return {
            "grant_type": "client_credentials",
            "client_id": options.client_id,
            "client_secret": secret,
        }
    key = read_secret(
        env=options.private_key_env, file=options.private_key_file, what="private key"
    )
    for line in key.splitlines():  # a log line may hold one line of a PEM block
        if len(line) >= 16 and "-----" not in line:
            register_secret(line.strip())
    return {"grant_type": JWT_GRANT, "assertion": build_assertion(options, key)}


def make_fetch(
    options: SalesforceOptions,
    http: HttpClient,
    on_identity: Callable[[str], None] | None = None,
) -> Callable[[], tuple[str, str | None]]:
    """A ``TokenAuth`` fetch function: POST the grant, return ``("Bearer …", instance_url)``.

    ``on_identity`` is given the user id the token acts as (the last segment of the
    response's ``id`` URL): remediation never acts on its own identity.
    """
    # Fail on a missing key or secret before any network traffic.
    if options.flow == "client_credentials":
        read_secret(
            env=options.client_secret_env, file=options.client_secret_file, what="client secret"
        )
    else:
        read_secret(env=options.private_key_env, file=options.private_key_file, what="private key")

    def fetch() -> tuple[str, str | None]:
        form = token_form(options)  # a fresh assertion per call: each lives 3 minutes
        response = http.request(
            "POST",
            f"{options.login_url}/services/oauth2/token",
            data=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        body: Any = http.decode(response)
        token = body.get("access_token") if isinstance(body, dict) else None
        instance = body.get("instance_url") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthenticationError("the Salesforce token response has no access_token")
        register_secret(token)
        identity = body.get("id") if isinstance(body, dict) else None
        if on_identity is not None and isinstance(identity, str) and "/" in identity:
            on_identity(identity.rstrip("/").rsplit("/", 1)[-1])
        if not isinstance(instance, str) or not instance:
            raise AuthenticationError("the Salesforce token response has no instance_url")
        try:
            instance = check_https_url(instance, "salesforce: instance_url from the token response")
        except UsageError as exc:
            raise AuthenticationError(exc.message) from None
        log.info("salesforce.authenticated", flow=options.flow, instance_url=instance)
        return f"Bearer {token}", instance

    return fetch
