"""A Microsoft Graph v1.0 + Entra token endpoint emulator, built on the kit.

What it reproduces (learn.microsoft.com pages named in tests/data/entra/README.md):

- ``GET /{tenant}/v2.0/.well-known/openid-configuration``: the OIDC discovery document
  MSAL reads first (issuer, authorization and token endpoints); an unknown tenant is
  ``400 invalid_tenant`` (AADSTS90002).
- ``POST /{tenant}/oauth2/v2.0/token``: client credentials with ``client_secret`` or a
  ``client_assertion`` (RS256 JWT, ``aud`` = the token URL, ``iss`` = ``sub`` = client id,
  header ``x5t#S256`` or ``x5t`` naming the registered certificate); ``scope`` must be
  ``https://graph.microsoft.com/.default``. Failures are AADSTS bodies
  (``{"error", "error_description": "AADSTS7000215: ...", "error_codes": [...]}``).
- Graph: ``Authorization: Bearer``; each endpoint needs one application permission (the
  token's roles); a missing one is ``403 Authorization_RequestDenied``. ``$select`` is
  honoured (only the listed properties, plus ``id``), ``$top`` caps a page (999; 500 while
  ``signInActivity`` is selected), ``@odata.nextLink`` carries an opaque ``$skiptoken``.
- Error bodies ``{"error": {"code", "message", "innerError"}}``.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.emulators.kit import PageTokens, Request, Response, fixture_path, read_fixture

FIXTURE = fixture_path("entra", "tenant.json")
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
#: MSAL's tenant discovery path, after ``/{tenant}`` (msal/authority.py)
OIDC_DISCOVERY = "/v2.0/.well-known/openid-configuration"

#: path -> (entity list key in the tenant, application permission needed)
COLLECTIONS: dict[str, tuple[str, str]] = {
    "/v1.0/users": ("users", "User.Read.All"),
    "/v1.0/reports/authenticationMethods/userRegistrationDetails": (
        "registration",
        "AuditLog.Read.All",
    ),
    "/v1.0/roleManagement/directory/roleDefinitions": (
        "role_definitions",
        "RoleManagement.Read.Directory",
    ),
    "/v1.0/roleManagement/directory/roleAssignmentScheduleInstances": (
        "active_assignments",
        "RoleManagement.Read.Directory",
    ),
    "/v1.0/roleManagement/directory/roleEligibilityScheduleInstances": (
        "eligible_assignments",
        "RoleManagement.Read.Directory",
    ),
    "/v1.0/groups": ("groups", "GroupMember.Read.All"),
    "/v1.0/applications": ("applications", "Application.Read.All"),
    "/v1.0/servicePrincipals": ("service_principals", "Application.Read.All"),
    "/v1.0/oauth2PermissionGrants": ("grants", "DelegatedPermissionGrant.Read.All"),
    "/v1.0/identity/conditionalAccess/policies": ("ca_policies", "Policy.Read.All"),
}
SINGLETONS: dict[str, tuple[str, str]] = {
    "/v1.0/policies/authorizationPolicy": ("authorization_policy", "Policy.Read.All"),
    "/v1.0/policies/identitySecurityDefaultsEnforcementPolicy": (
        "security_defaults",
        "Policy.Read.All",
    ),
    "/v1.0/policies/adminConsentRequestPolicy": ("admin_consent_policy", "Policy.Read.All"),
}
#: /v1.0/<set>/{id}/<relation> -> (relation map key, permission)
RELATIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("groups", "transitiveMembers"): ("group_members", "GroupMember.Read.All"),
    ("applications", "owners"): ("app_owners", "Application.Read.All"),
    ("servicePrincipals", "appRoleAssignedTo"): ("app_role_assigned_to", "Application.Read.All"),
}
ALL_PERMISSIONS = frozenset(
    p for _, p in [*COLLECTIONS.values(), *SINGLETONS.values(), *RELATIONS.values()]
)
MAX_TOP = 999
MAX_TOP_SIGN_IN = 500


def graph_error(status: int, code: str, message: str) -> Response:
    body = {
        "error": {
            "code": code,
            "message": message,
            "innerError": {"date": "2026-12-01T00:00:00", "request-id": secrets.token_hex(8)},
        }
    }
    return Response.json(body, status)


def aadsts_error(status: int, error: str, code: int, description: str) -> Response:
    """The identity platform's token error (reference-error-codes)."""
    body = {
        "error": error,
        "error_description": f"AADSTS{code}: {description}",
        "error_codes": [code],
        "timestamp": "2026-12-01 00:00:00Z",
        "trace_id": secrets.token_hex(8),
        "correlation_id": secrets.token_hex(8),
    }
    return Response.json(body, status)


@dataclass(slots=True)
class EntraTenant:
    """The tenant's objects as Graph serves them (full objects; ``$select`` cuts them)."""

    tenant_id: str = "11111111-2222-3333-4444-555555555555"
    users: list[dict[str, Any]] = field(default_factory=list)
    registration: list[dict[str, Any]] = field(default_factory=list)
    role_definitions: list[dict[str, Any]] = field(default_factory=list)
    active_assignments: list[dict[str, Any]] = field(default_factory=list)
    eligible_assignments: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    group_members: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    applications: list[dict[str, Any]] = field(default_factory=list)
    app_owners: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    service_principals: list[dict[str, Any]] = field(default_factory=list)
    app_role_assigned_to: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    grants: list[dict[str, Any]] = field(default_factory=list)
    ca_policies: list[dict[str, Any]] = field(default_factory=list)
    authorization_policy: dict[str, Any] = field(default_factory=dict)
    security_defaults: dict[str, Any] = field(default_factory=dict)
    admin_consent_policy: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path = FIXTURE) -> EntraTenant:
        data = read_fixture(Path(path))
        return cls(**{k: v for k, v in data.items() if k in cls.__slots__})  # type: ignore[attr-defined]


@dataclass(slots=True)
class Client:
    """A registered app: a secret and/or a certificate (its DER thumbprints), and its roles."""

    secret: str | None = None
    certificate_der: bytes | None = None
    roles: frozenset[str] = ALL_PERMISSIONS


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class EntraEmulator:
    """Routes a :class:`Request` to the token endpoint or a Graph listing."""

    def __init__(
        self,
        tenant: EntraTenant,
        clients: dict[str, Client],
        *,
        token_lifetime: float = 3600,
    ) -> None:
        self.tenant = tenant
        self.clients = clients
        self.token_lifetime = token_lifetime
        self.base_url = ""
        self.tokens: dict[str, tuple[str, float]] = {}  # token -> (client id, expiry)
        self.token_requests = 0
        self._pages: PageTokens[tuple[str, int]] = PageTokens(prefix="X'")
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ routing
    def __call__(self, request: Request) -> Response:
        if request.method == "POST" and request.path.endswith("/oauth2/v2.0/token"):
            return self._token(request)
        if request.method == "GET" and request.path.endswith(OIDC_DISCOVERY):
            return self._openid_configuration(request)
        if request.method != "GET":
            return graph_error(405, "Request_BadRequest", "Method not allowed.")
        client_id = self._authorised(request)
        if isinstance(client_id, Response):
            return client_id
        roles = self.clients[client_id].roles
        path = request.path.rstrip("/")
        if path in SINGLETONS:
            key, permission = SINGLETONS[path]
            if permission not in roles:
                return _denied()
            body = dict(getattr(self.tenant, key))
            return Response.json({"@odata.context": f"{self.base_url}/v1.0/$metadata", **body})
        if path in COLLECTIONS:
            key, permission = COLLECTIONS[path]
            if permission not in roles:
                return _denied()
            return self._listing(request, path, self._items(key, request), roles)
        parts = path.split("/")
        if len(parts) == 5 and (parts[2], parts[4]) in RELATIONS:
            key, permission = RELATIONS[(parts[2], parts[4])]
            if permission not in roles:
                return _denied()
            items = getattr(self.tenant, key).get(parts[3])
            if items is None:
                return graph_error(404, "Request_ResourceNotFound", f"'{parts[3]}' not found.")
            return self._listing(request, path, items, roles)
        return graph_error(400, "BadRequest", f"Resource not found for the segment '{path}'.")

    def _items(self, key: str, request: Request) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = getattr(self.tenant, key)
        flt = request.param("$filter")
        if key == "groups" and flt == "isAssignableToRole eq true":
            return [g for g in items if g.get("isAssignableToRole")]
        return items

    def _authorised(self, request: Request) -> str | Response:
        header = request.header("Authorization") or ""
        if not header.startswith("Bearer "):
            return graph_error(401, "InvalidAuthenticationToken", "Access token is empty.")
        with self._lock:
            entry = self.tokens.get(header[7:])
        if entry is None or entry[1] < time.monotonic():
            return graph_error(
                401,
                "InvalidAuthenticationToken",
                "Lifetime validation failed, the token is expired.",
            )
        return entry[0]

    # ------------------------------------------------------------------ listings
    def _listing(
        self, request: Request, path: str, items: list[dict[str, Any]], roles: frozenset[str]
    ) -> Response:
        token = request.param("$skiptoken")
        offset = 0
        query_key = request.target.split("?")[0] + "|" + (request.param("$select") or "")
        if token is not None:
            state = self._pages.get(token)
            if state is None or state[0] != query_key:
                return graph_error(400, "Directory_ExpiredPageToken", "The page token is invalid.")
            offset = state[1]
        select = [s for s in (request.param("$select") or "").split(",") if s]
        if "signInActivity" in select and "AuditLog.Read.All" not in roles:
            return graph_error(
                403,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
            )
        cap = MAX_TOP_SIGN_IN if "signInActivity" in select else MAX_TOP
        top = min(int(request.param("$top") or 100), cap)
        page = [_select(item, select) for item in items[offset : offset + top]]
        if path == "/v1.0/applications" and (request.param("$expand") or "").startswith("owners"):
            for item in page:  # owners($select=id): directoryObjects with their type
                item["owners"] = self.tenant.app_owners.get(item["id"], [])
        body: dict[str, Any] = {
            "@odata.context": f"{self.base_url}/v1.0/$metadata#{path.split('/')[-1]}",
            "value": page,
        }
        if offset + top < len(items):
            next_token = self._pages.issue((query_key, offset + top))
            query = f"$top={top}" + (f"&$select={','.join(select)}" if select else "")
            for name in ("$filter", "$expand"):
                value = request.param(name)
                if value:
                    query += f"&{name}={value.replace(' ', '%20')}"
            body["@odata.nextLink"] = f"{self.base_url}{path}?{query}&$skiptoken={next_token}"
        return Response.json(body)

    # ------------------------------------------------------------------ token endpoint
    def _openid_configuration(self, request: Request) -> Response:
        """The tenant's OIDC discovery document: MSAL reads the token endpoint from it."""
        tenant = request.path[: -len(OIDC_DISCOVERY)].strip("/")
        if tenant != self.tenant.tenant_id:
            return aadsts_error(400, "invalid_tenant", 90002, f"Tenant '{tenant}' not found.")
        root = f"{self.base_url}/{tenant}"
        return Response.json(
            {
                "issuer": f"{root}/v2.0",
                "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
                "token_endpoint": f"{root}/oauth2/v2.0/token",
                "jwks_uri": f"{self.base_url}/{tenant}/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "code id_token", "token id_token"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
                "tenant_region_scope": "EU",
            }
        )

    def _token(self, request: Request) -> Response:
        self.token_requests += 1
        form = request.form()
        if form.get("grant_type") != "client_credentials":
            return aadsts_error(
                400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type."
            )
        if form.get("scope") != GRAPH_SCOPE:
            return aadsts_error(
                400, "invalid_scope", 1002012, "The provided value for scope is not valid."
            )
        tenant = request.path.split("/")[1]
        if tenant != self.tenant.tenant_id:
            return aadsts_error(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")
        client_id = form.get("client_id", "")
        client = self.clients.get(client_id)
        if client is None:
            return aadsts_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory.",
            )
        if "client_secret" in form:
            if client.secret is None or not secrets.compare_digest(
                form["client_secret"], client.secret
            ):
                return aadsts_error(
                    401, "invalid_client", 7000215, "Invalid client secret provided."
                )
        elif (
            form.get("client_assertion_type")
            == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        ):
            problem = self._check_assertion(
                client_id, client, form.get("client_assertion", ""), request
            )
            if problem:
                return aadsts_error(401, "invalid_client", 700027, problem)
        else:
            return aadsts_error(
                401,
                "invalid_client",
                7000218,
                "The request body must contain client_assertion or client_secret.",
            )
        access = secrets.token_urlsafe(32)
        with self._lock:
            self.tokens[access] = (client_id, time.monotonic() + self.token_lifetime)
        return Response.json(
            {
                "token_type": "Bearer",
                "expires_in": int(self.token_lifetime),
                "ext_expires_in": int(self.token_lifetime),
                "access_token": access,
            }
        )

    def _check_assertion(
        self, client_id: str, client: Client, assertion: str, request: Request
    ) -> str | None:
        import jwt
        from cryptography import x509

        if client.certificate_der is None:
            return "Client assertion contains an invalid signature (no certificate registered)."
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            return "Client assertion failed signature validation."
        expected = {
            "x5t#S256": _b64url(hashlib.sha256(client.certificate_der).digest()),
            "x5t": _b64url(
                hashlib.sha1(client.certificate_der).digest()
            ),  # the wire format (x5t is SHA-1)
        }
        # MSAL sends x5t#S256 base64url *with* '=' padding, and Entra accepts it: compare unpadded
        if not any(str(header.get(k, "")).rstrip("=") == v for k, v in expected.items()):
            return (
                "Client assertion contains an invalid signature. [Reason - The key was not found.]"
            )
        key = x509.load_der_x509_certificate(client.certificate_der).public_key()
        audience = f"{self.base_url}{request.path}"
        try:
            claims = jwt.decode(
                assertion,
                key,
                algorithms=["RS256", "PS256"],
                audience=audience,
                options={"require": ["exp", "iss", "sub", "aud", "jti"]},
            )
        except jwt.PyJWTError as exc:
            return f"Client assertion failed signature validation. [{type(exc).__name__}]"
        if claims.get("iss") != client_id or claims.get("sub") != client_id:
            return "The client assertion's iss and sub must be the client id."
        return None


def _denied() -> Response:
    return graph_error(
        403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
    )


def _select(item: dict[str, Any], select: list[str]) -> dict[str, Any]:
    if not select:
        return {k: v for k, v in item.items() if k != "signInActivity"}  # not in the default set
    kept = {k: copy.deepcopy(item[k]) for k in ["@odata.type", "id", *select] if k in item}
    return kept


MatchFn = Callable[[Request], bool]


def page_matcher(path: str, page: int) -> MatchFn:
    """Matches the n-th page (1-based) of a listing: page 1 has no ``$skiptoken``."""
    seen: list[str] = []

    def match(request: Request) -> bool:
        if request.path != path:
            return False
        token = request.param("$skiptoken")
        if token is None:
            return page == 1
        if token not in seen:
            seen.append(token)
        return seen.index(token) + 2 == page

    return match
