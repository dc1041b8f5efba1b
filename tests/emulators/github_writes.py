"""The GitHub emulator's write route (remediation): revoke a fine-grained token's access.

A subclass of :class:`~tests.emulators.github.GitHubEmulator`, as GitHub's REST
description (``tests/data/github/github-posture-subset.json``) gives them:

- ``POST /orgs/{org}/personal-access-tokens/{pat_id}`` (``orgs/update-pat-access``) with
  ``{"action": "revoke"}`` -> 204, no body; 404 for an unknown ``pat_id``; 422 for another
  body; 403 unless the caller is the *write* App (organisation permission "Personal
  access tokens: write");
- ``GET /orgs/{org}/personal-access-tokens`` honours the ``owner[]`` filter.

A second App (``write_app_id`` / ``write_public_pem`` / ``write_installation_id``) mints
installation tokens with that write permission; the collector's App keeps read. Writes
are kept in ``writes``.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

from tests.emulators.github import GitHubEmulator, _error
from tests.emulators.kit import Request, Response


@dataclass
class GitHubWriteEmulator(GitHubEmulator):
    write_app_id: int = 3003
    write_public_pem: str | None = None
    write_installation_id: int = 60003
    writes: list[tuple[str, str]] = field(default_factory=list)
    _swap: threading.Lock = field(default_factory=threading.Lock)

    def _mint(self, request: Request, installation_id: str) -> Response:
        if installation_id != str(self.write_installation_id):
            return super()._mint(request, installation_id)
        with self._swap:  # the base class reads one App's facts from attributes
            saved = (self.app_id, self.app_public_pem, self.installation_id)
            self.app_id, self.app_public_pem = self.write_app_id, self.write_public_pem
            self.installation_id = self.write_installation_id
            try:
                response = super()._mint(request, installation_id)
            finally:
                self.app_id, self.app_public_pem, self.installation_id = saved
        if response.status == 201:
            body = json.loads(response.body)
            body["permissions"] = {"organization_personal_access_tokens": "write"}
            response = Response.json(body, 201)
        return response

    def _route(self, request: Request, parts: list[str], caller: tuple[str, str]) -> Response:
        is_write = (
            request.method == "POST"
            and len(parts) == 4
            and parts[0] == "orgs"
            and parts[2] == "personal-access-tokens"
        )
        if not is_write:
            if request.method != "GET":
                return _error(404, "Not Found")
            return super()._route(request, parts, caller)
        if parts[1] != self.login:
            return _error(404, "Not Found")
        if caller != ("app", str(self.write_installation_id)):
            return _error(403, "Resource not accessible by integration")
        try:
            body = json.loads(request.body or b"null")
        except ValueError:
            body = None
        if body != {"action": "revoke"}:
            return _error(422, "Validation Failed")
        grants = self.org["fine_grained_tokens"]
        found = next((g for g in grants if str(g["id"]) == parts[3]), None)
        if found is None:
            return _error(404, "Not Found")
        with self._lock:
            grants.remove(found)
            self.writes.append(("POST", request.path))
        return Response(204, b"", {})

    def _pats(self, request: Request, caller: tuple[str, str]) -> Response:
        owners = set(request.query.get("owner[]") or ())
        grants = [
            self._grant(g, request=False)
            for g in self.org["fine_grained_tokens"]
            if not owners or g["owner"] in owners
        ]
        return self._page(request, grants)


__all__ = ["GitHubWriteEmulator"]
