"""GitHub credentials: a personal access token and/or a GitHub App installation.

A personal access token is long-lived: a 401 is final. A GitHub App signs an
RS256 JWT (``iss`` = app id, ``iat`` 60 s in the past for clock drift, ``exp``
9 minutes later: GitHub refuses more than 10) and trades it at
``POST /app/installations/{id}/access_tokens`` for an installation token that
lasts an hour (``expires_at``). :class:`InstallationAuth` renews it a few
minutes before it expires, and once more after a 401.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from connectors.github._options import GitHubOptions
from connectors.http import HttpClient, TokenAuth
from policyengine.errors import AuthenticationError, ConnectorError, UsageError
from policyengine.log import register_secret
from policyengine.model.timestamps import parse_timestamp, to_timestamp

#: renew an installation token this long before its ``expires_at``
RENEW_BEFORE = 300.0
JWT_LIFETIME = 540  # seconds after iat; GitHub's maximum is 600
JWT_BACKDATE = 60


def token_auth(options: GitHubOptions) -> TokenAuth:
    assert options.token is not None
    token = options.token.read("GitHub personal access token")
    header = f"Bearer {token}"
    register_secret(header)
    return TokenAuth(lambda: (header, None), refreshable=False)


def load_app_key(options: GitHubOptions) -> Any:
    """The App's RSA private key; UsageError (no key text) when it is not one."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    assert options.private_key is not None
    text = options.private_key.read("GitHub App private key")
    try:
        key = serialization.load_pem_private_key(text.encode("utf-8"), password=None)
    except (ValueError, TypeError):
        raise UsageError("github: the GitHub App private key is not a PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise UsageError("github: the GitHub App private key must be RSA (GitHub signs RS256)")
    return key


def app_jwt(app_id: str, key: Any, now: float | None = None) -> str:
    import jwt

    issued = int(now if now is not None else time.time()) - JWT_BACKDATE
    token = jwt.encode(
        {"iat": issued, "exp": issued + JWT_LIFETIME, "iss": app_id}, key, algorithm="RS256"
    )
    register_secret(token)
    return token


class InstallationAuth(TokenAuth):
    """An installation token, fetched on first use and renewed before it expires."""

    def __init__(
        self, options: GitHubOptions, client: HttpClient, *, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(self._mint, refreshable=True)
        self._options = options
        self._client = client
        self._key = load_app_key(options)
        self._clock = clock
        self._renew_at = 0.0
        self._renew_lock = threading.Lock()
        #: installation tokens obtained (1 plus the renewals)
        self.minted = 0

    def header(self) -> str:
        with self._renew_lock:
            if self.generation and self._clock() >= self._renew_at:
                self.refresh(self.generation)  # before GitHub refuses it mid-run
        return super().header()

    def _mint(self) -> tuple[str, str | None]:
        o = self._options
        assertion = app_jwt(str(o.app_id), self._key, self._clock())
        path = f"/app/installations/{o.installation_id}/access_tokens"
        try:
            _, body = self._client.fetch_json(
                "POST", path, headers={"Authorization": f"Bearer {assertion}"}
            )
        except ConnectorError as exc:
            if isinstance(exc, AuthenticationError):
                raise
            raise AuthenticationError(
                f"github: GitHub App {o.app_id} installation {o.installation_id}: "
                f"no installation token ({exc.message})"
            ) from None
        token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthenticationError("github: the installation token answer has no token")
        register_secret(token)
        expires = to_timestamp(body.get("expires_at"))
        now = self._clock()
        ends = parse_timestamp(expires).timestamp() if expires else now + 3600.0
        # RENEW_BEFORE the end, or a quarter of the lifetime for tokens shorter than that
        self._renew_at = ends - min(RENEW_BEFORE, max(0.0, ends - now) / 4)
        self.minted += 1
        return f"Bearer {token}", None
