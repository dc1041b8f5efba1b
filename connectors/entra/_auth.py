"""Client-credentials tokens from the Microsoft identity platform, through MSAL.

MSAL (``msal.ConfidentialClientApplication``) builds the request: a client secret, or a
certificate assertion it signs itself (PS256, header ``x5t#S256`` and ``x5c``). MSAL only
accepts an ``https://`` authority; it reads the tenant's OIDC discovery document
(``<authority>/<tenant>/v2.0/.well-known/openid-configuration``) for the token endpoint.
Instance discovery (a call to login.microsoftonline.com to vet the host) is off, so a
national-cloud or loopback test authority works; the CA file verifies MSAL's requests.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlsplit

from connectors.entra._options import EntraOptions
from connectors.http import ServerUnreachable, TokenAuth
from policyengine.errors import AuthenticationError, UsageError
from policyengine.log import get_logger, register_secret

log = get_logger("policyengine.entra")

GRAPH_RESOURCE = "https://graph.microsoft.com"
_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def load_certificate(path: str) -> tuple[str, str]:
    """(private key PEM, certificate PEM) from a PEM file holding both."""
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
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


def graph_scope(graph_url: str) -> str:
    """``<resource>/.default``; a loopback test Graph stands for the real resource id."""
    if urlsplit(graph_url).hostname in _LOOPBACK:
        return f"{GRAPH_RESOURCE}/.default"
    return f"{graph_url}/.default"


def _aadsts_summary(result: dict[str, Any]) -> str:
    """``invalid_client: AADSTS7000215: Invalid client secret provided``; never the request."""
    description = str(result.get("error_description", "")).split("\r\n")[0].split(". ")[0]
    return f"{result.get('error')}: {description}"[:300]


def _session(verify: bool | str, timeout: float) -> Any:
    """A requests session for MSAL whose CA file wins over ``REQUESTS_CA_BUNDLE``.

    requests lets that variable override ``Session.verify`` (and so MSAL's ``verify=``);
    a per-request ``verify`` is not overridden.
    """
    import requests

    class _Session(requests.Session):
        def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("verify", verify)
            kwargs.setdefault("timeout", timeout)
            return super().request(method, url, *args, **kwargs)

    return _Session()


class MsalTokens:
    """Fetches tokens with MSAL for :class:`TokenAuth`; a refresh skips MSAL's cache."""

    def __init__(self, options: EntraOptions) -> None:
        self.options = options
        #: token-endpoint calls made (a cached answer is not a call)
        self.request_count = 0
        self._app: Any = None
        self._fetched = 0
        self._lock = threading.Lock()

    def _credential(self) -> str | dict[str, str]:
        o = self.options
        if o.secret is not None:
            return o.secret.read("Entra client secret")
        assert o.certificate_file is not None
        key_pem, cert_pem = load_certificate(o.certificate_file)
        # public_certificate: MSAL derives the SHA-256 thumbprint (x5t#S256) and sends x5c
        return {"private_key": key_pem, "public_certificate": cert_pem}

    def _application(self) -> Any:
        import msal
        import requests

        o = self.options
        authority = f"{o.authority_url}/{o.tenant_id}"
        try:
            return msal.ConfidentialClientApplication(
                o.client_id,
                client_credential=self._credential(),
                authority=authority,
                instance_discovery=False,
                http_client=_session(o.transport.ca_file or True, o.transport.timeout),
            )
        except requests.RequestException as exc:
            raise ServerUnreachable(
                f"entra: cannot reach the authority {o.authority_url}: {type(exc).__name__}"
            ) from None
        except ValueError as exc:  # the OIDC discovery document was refused or malformed
            reason = str(exc).split(". ")[0].split(", Error:")[0][:200]
            raise AuthenticationError(
                f"entra: authority {o.authority_url} refused tenant '{o.tenant_id}': {reason}"
            ) from None

    def fetch(self) -> tuple[str, None]:
        import requests

        o = self.options
        with self._lock:
            if self._app is None:
                self._app = self._application()
                self.request_count += 1
            # the first call may use MSAL's cache; a later one follows a 401: force a new token
            fresh = self._fetched > 0
            self._fetched += 1
            if fresh:  # no network call: instance discovery is off, so no authority aliases
                self._app.remove_tokens_for_client()
            try:
                result = self._app.acquire_token_for_client([graph_scope(o.graph_url)])
            except requests.RequestException as exc:
                raise ServerUnreachable(
                    f"entra: cannot reach the authority {o.authority_url}: {type(exc).__name__}"
                ) from None
            self.request_count += 1
        if not isinstance(result, dict) or "error" in result:
            summary = _aadsts_summary(result if isinstance(result, dict) else {})
            raise AuthenticationError(
                f"entra: token request refused by {o.authority_url}: {summary}"
            )
        access = result.get("access_token")
        if not isinstance(access, str) or not access:
            raise AuthenticationError("entra: the token endpoint returned no access_token")
        register_secret(access)
        log.info("entra.access_token", expires_in=result.get("expires_in"))
        return f"Bearer {access}", None


def token_auth(tokens: MsalTokens) -> TokenAuth:
    """A refreshable Bearer auth over MSAL."""
    return TokenAuth(tokens.fetch)
