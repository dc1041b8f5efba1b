"""The Google emulator's write route (remediation) and the single-token read it needs.

A subclass of :class:`~tests.emulators.google.GoogleEmulator`, as the Directory API
discovery document (``tests/data/google/admin.directory_v1.json``) describes them:

- ``GET /admin/directory/v1/users/{userKey}/tokens/{clientId}`` (``tokens.get``) -> the
  ``Token``, 404 ``notFound`` when the user holds no grant for that client;
- ``DELETE`` on the same path (``tokens.delete``) -> 204 with no body, 404 likewise.

A second service account (``writer_email`` / ``writer_public_pem``) may mint tokens, so
the write credential is not the collector's. Writes are kept in ``writes``.
"""

from __future__ import annotations

import re
import threading
from typing import Any
from urllib.parse import unquote

from tests.emulators.google import DIRECTORY, GoogleEmulator, GoogleTenant, google_error
from tests.emulators.kit import Request, Response, token_expired

_TOKEN = re.compile(rf"^{DIRECTORY}/users/(?P<key>[^/]+)/tokens/(?P<client>[^/]+)$")


class GoogleWriteEmulator(GoogleEmulator):
    def __init__(
        self,
        tenant: GoogleTenant,
        *,
        writer_email: str = "",
        writer_public_pem: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(tenant, **kwargs)
        self.writers = {writer_email: writer_public_pem} if writer_email else {}
        self.writes: list[tuple[str, str]] = []
        self._key_lock = threading.Lock()

    def _token(self, request: Request) -> Response:
        """The token endpoint, for the collector's key or a writer's (picked by ``iss``)."""
        import jwt

        try:
            issuer = jwt.decode(
                request.form().get("assertion", ""), options={"verify_signature": False}
            ).get("iss")
        except jwt.PyJWTError:
            issuer = None
        if issuer not in self.writers:
            return super()._token(request)
        with self._key_lock:  # the base class reads one key pair from attributes
            saved = (self.client_email, self.public_key_pem)
            self.client_email, self.public_key_pem = issuer, self.writers[issuer]
            try:
                return super()._token(request)
            finally:
                self.client_email, self.public_key_pem = saved

    def _user_id(self, key: str) -> str | None:
        for user in self.tenant.users:
            if key in (user["id"], user["primaryEmail"]):
                return str(user["id"])
        return None

    def __call__(self, request: Request) -> Response:
        match = _TOKEN.match(request.path)
        if match is None or request.method not in ("GET", "DELETE"):
            return super().__call__(request)
        if not self._authorised(request):
            return token_expired.google()
        uid = self._user_id(unquote(match["key"]))
        if uid is None:
            return google_error(404, "notFound", "Resource Not Found: userKey")
        client = unquote(match["client"])
        tokens = self.tenant.tokens.get(uid, [])
        found = next((t for t in tokens if t.get("clientId") == client), None)
        if found is None:
            return google_error(404, "notFound", "Resource Not Found: clientId")
        if request.method == "GET":
            body = {"kind": "admin#directory#token", "etag": '"t"', "userKey": uid, **found}
            return Response.json(body)
        with self._lock:
            self.tenant.tokens[uid] = [t for t in tokens if t is not found]
            self.writes.append(("DELETE", request.path))
        return Response(204, b"", {})


__all__ = ["GoogleWriteEmulator"]
