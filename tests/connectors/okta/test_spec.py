"""Every body the Okta emulator serves matches Okta's own Management API OpenAPI description.

The spec is ``tests/data/okta/okta-management-subset.json`` (a cut of
``okta/okta-management-openapi-spec``, see its README). Two checks per body:

- JSON Schema validation of the operation's response (types, formats, enums,
  ``required``), with Okta's ``discriminator`` followed (an app is checked as an
  ``OpenIdConnectApplication`` or ``SamlApplication`` by its ``signOnMode``, a
  role by its ``type``): jsonschema alone ignores discriminators;
- no property the spec does not declare (Okta's schemas leave
  ``additionalProperties`` open, so a misspelt field would otherwise pass);
  maps and open profiles (``additionalProperties`` given) are exempt.

Bodies come from recording a full connector run (every option on) plus the error
answers, so a route the connector starts calling is checked without editing here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from policyengine import connector as registry
from tests.connectors.okta.conftest import SSWS_TOKEN
from tests.emulators.kit import DATA, EmulatorServer, OpenApiSpec, Request, Response, SpecMismatch
from tests.emulators.okta import OktaEmulator, OktaOrg

SPEC = DATA / "okta" / "okta-management-subset.json"
#: the GET operations a collection run makes (the cut also holds the remediation actions')
COLLECTED = {
    "/api/v1/users",
    "/api/v1/users/{id}",  # /users/me: the token's owner (source.collected_as)
    "/api/v1/users/{userId}/factors",
    "/api/v1/users/{userId}/roles",
    "/api/v1/users/{userId}/grants",
    "/api/v1/users/{userId}/clients",
    "/api/v1/users/{userId}/clients/{clientId}/tokens",
    "/api/v1/iam/assignees/users",
    "/api/v1/groups",
    "/api/v1/groups/{groupId}/roles",
    "/api/v1/groups/{groupId}/users",
    "/api/v1/api-tokens",
    "/api/v1/policies",
    "/api/v1/policies/{policyId}/rules",
    "/api/v1/apps",
    "/api/v1/apps/{appId}/grants",
    "/api/v1/apps/{appId}/credentials/secrets",
    "/api/v1/apps/{appId}/users",
    "/api/v1/logs",
}
AUTH = {"Authorization": f"SSWS {SSWS_TOKEN}"}


#: Defects in Okta's description, corrected before validating (each named in the README):
#: TimeDuration's pattern ``^P(?:$)...`` accepts only "P" (every real duration, such as an
#: API token's ``tokenWindow`` "P30D", fails); ``(?!$)`` is the evident intent.
ERRATA = {
    ("TimeDuration", "pattern"): (
        r"^P(?:$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?:\d)(\d+H)?(\d+M)?(\d+S)?)?$",
        r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$",
    ),
}


def _any_of_where_discriminated(node: Any) -> Any:
    """A discriminated ``oneOf`` as ``anyOf``: a role is valid as both StandardRole and
    CustomRole to jsonschema, so oneOf fails; ``check`` validates the mapped subtype."""
    if isinstance(node, list):
        return [_any_of_where_discriminated(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _any_of_where_discriminated(v) for k, v in node.items()}
    if "discriminator" in out and "oneOf" in out:
        out["anyOf"] = out.pop("oneOf")
    return out


def load_spec() -> OpenApiSpec:
    document = orjson.loads(SPEC.read_bytes())
    schemas = document["components"]["schemas"]
    for (schema, key), (vendor, corrected) in ERRATA.items():
        assert schemas[schema][key] == vendor, f"{schema}.{key} changed: drop the erratum"
        schemas[schema][key] = corrected
    return OpenApiSpec(_any_of_where_discriminated(document), name=SPEC.name)


@pytest.fixture(scope="module")
def spec() -> OpenApiSpec:
    return load_spec()


# ------------------------------------------------------------------ the checker
def _resolve(spec: OpenApiSpec, node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec.document
        for part in str(node["$ref"]).removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[1]


def _shape(
    spec: OpenApiSpec,
    schema: Any,
    body: dict[str, Any],
    problems: list[str],
    where: str,
    follow: bool = True,
) -> tuple[dict[str, Any], bool]:
    """(declared properties, open?) of an object, following allOf and discriminators.

    ``follow`` is False inside a subtype: its allOf repeats the base, whose
    discriminator would lead back to the subtype."""
    schema = _resolve(spec, schema)
    props: dict[str, Any] = dict(schema.get("properties", {}))
    extra = schema.get("additionalProperties")
    open_ = extra is not None and extra is not False
    for part in schema.get("allOf", ()):
        more, more_open = _shape(spec, part, body, problems, where, follow)
        props.update(more)
        open_ = open_ or more_open
    disc = schema.get("discriminator")
    if follow and disc and disc.get("mapping"):
        value = body.get(disc["propertyName"])
        ref = disc["mapping"].get(value)
        # a value the enum allows but the mapping lacks (factorType signed_nonce) has no
        # subtype: the base schema is all there is
        if ref is not None:
            # validate the subtype whole (jsonschema ignores discriminators)
            sub_problems = spec.errors(body, _ref_name(ref))
            problems.extend(f"{where} as {_ref_name(ref)}: {p}" for p in sub_problems)
            sub_props, sub_open = _shape(spec, {"$ref": ref}, body, [], where, follow=False)
            props.update(sub_props)
            open_ = open_ or sub_open
    for key in ("oneOf", "anyOf"):
        if key in schema and not disc:
            for option in schema[key]:
                more, more_open = _shape(spec, option, body, [], where)
                props.update(more)
                open_ = open_ or more_open
    return props, open_


def check(spec: OpenApiSpec, schema: Any, body: Any, where: str = "$") -> list[str]:
    """Undeclared properties and discriminated-subtype mismatches in ``body``."""
    schema = _resolve(spec, schema)
    if isinstance(body, list):
        items = schema.get("items")
        if items is None:
            return []
        return [p for i, x in enumerate(body) for p in check(spec, items, x, f"{where}[{i}]")]
    if not isinstance(body, dict):
        return []
    problems: list[str] = []
    props, open_ = _shape(spec, schema, body, problems, where)
    for name, value in body.items():
        if name in props:
            problems.extend(check(spec, props[name], value, f"{where}.{name}"))
        elif not open_ and name != "_links":  # HAL links: see README
            problems.append(f"{where}.{name}: not declared by the spec")
    return problems


def _template(spec: OpenApiSpec, path: str) -> str:
    for template in spec.document["paths"]:
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path):
            return str(template)
    raise AssertionError(f"{path}: no operation in {SPEC.name}")


def validate_served(spec: OpenApiSpec, path: str, status: int, body: Any) -> None:
    """Raise SpecMismatch unless ``body`` is what the spec says ``GET path`` answers."""
    template = _template(spec, path)
    if str(status) in spec.document["paths"][template]["get"]["responses"]:
        spec.validate_response(body, template, "get", status)
        schema: Any = spec.response_schema(template, "get", status)
    else:
        # Okta lists 401/400 on a few operations only; every error answer is an ``Error``
        assert status >= 400, f"GET {path}: {status} is not a response of {template}"
        spec.validate(body, "Error")
        schema = {"$ref": "#/components/schemas/Error"}
    problems = check(spec, schema, body)
    if problems:
        raise SpecMismatch(f"GET {path} {status}: " + "; ".join(problems[:20]))


# ------------------------------------------------------------------ recording
class Recorder:
    """Wraps the emulator and keeps every JSON answer it gives on /api/v1."""

    def __init__(self, emulator: OktaEmulator) -> None:
        self.emulator = emulator
        self.served: list[tuple[str, int, Any]] = []

    @property
    def base_url(self) -> str:
        return self.emulator.base_url

    @base_url.setter
    def base_url(self, value: str) -> None:
        self.emulator.base_url = value

    def __call__(self, request: Request) -> Response:
        response = self.emulator(request)
        if request.path.startswith("/api/v1/"):
            self.served.append((request.path, response.status, orjson.loads(response.body)))
        return response


def _org(kind: str) -> OktaOrg:
    if kind == "fixture":
        return OktaOrg.load()
    # what bench/okta_collect.py serves: the generator's bodies are checked too
    now = dt.datetime(2026, 11, 1, 6, tzinfo=dt.UTC)
    return OktaOrg.generate(40, admins=3, apps=8, log_events=60, now=now)


@pytest.fixture(scope="module", params=["fixture", "generated"])
def recorded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[tuple[str, int, Any]]]:
    recorder = Recorder(OktaEmulator(_org(request.param), ssws_tokens={SSWS_TOKEN}))
    with EmulatorServer(recorder) as server:
        mp = pytest.MonkeyPatch()
        mp.setenv("OKTA_SPEC_TOKEN", SSWS_TOKEN)
        try:
            options = {
                "org_url": server.base_url,
                "token_env": "OKTA_SPEC_TOKEN",
                "retry_backoff": 0.001,
                "user_grants": True,
                "refresh_tokens": True,
                "log_days": 90,
                "page_size": 3,
            }
            registry.run(
                "okta",
                options,
                instance="okta",
                output=tmp_path_factory.mktemp("okta-spec") / "s.json",
                collected_at="2026-11-01T06:00:00Z",
            )
            with httpx.Client(base_url=server.base_url, timeout=5) as http:
                for path, headers in [
                    ("/api/v1/users", {"Authorization": "SSWS wrong"}),  # 401
                    ("/api/v1/users/00unobody00000000000/factors", AUTH),  # 404
                    ("/api/v1/apps/0oanobody00000000000/grants", AUTH),  # 404
                    ("/api/v1/users?limit=x", AUTH),  # 400
                ]:
                    http.get(path, headers=headers)
        finally:
            mp.undo()
        yield recorder.served


def test_a_full_run_reads_every_operation_in_the_cut(
    spec: OpenApiSpec, recorded: list[tuple[str, int, Any]]
) -> None:
    called = {_template(spec, path) for path, _, _ in recorded}
    assert set(spec.document["paths"]) >= COLLECTED
    # a full run (every option on) reads each of them; every answer is checked below
    assert called == COLLECTED, sorted(called ^ COLLECTED)


def test_every_body_served_matches_the_spec(
    spec: OpenApiSpec, recorded: list[tuple[str, int, Any]]
) -> None:
    failures = []
    for path, status, body in recorded:
        try:
            validate_served(spec, path, status, body)
        except SpecMismatch as exc:
            failures.append(str(exc))
    assert len(recorded) > 40
    assert {s for _, s, _ in recorded} >= {200, 400, 401, 404}
    assert not failures, "\n".join(failures[:10])


# ------------------------------------------------------------------ the check can fail
def _served_app(recorded: list[tuple[str, int, Any]]) -> tuple[str, list[dict[str, Any]]]:
    path, _, body = next(r for r in recorded if r[0] == "/api/v1/apps" and r[1] == 200)
    return path, body


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda app: app.__setitem__("signonMode", app.pop("signOnMode")), "signOnMode"),
        (lambda app: app.__setitem__("created", 1704877200), "created"),
        (lambda app: app["credentials"]["oauthClient"].__setitem__("auth_method", "x"), "auth"),
        (lambda app: app.__setitem__("signOnMode", "OIDC"), "OIDC"),
        (lambda app: app["settings"]["oauthClient"].pop("grant_types"), "grant_types"),
    ],
    ids=["misspelt-field", "number-for-timestamp", "undeclared-nested", "bad-enum", "required"],
)
def test_a_drifted_body_is_refused(
    spec: OpenApiSpec, recorded: list[tuple[str, int, Any]], mutate: Any, expected: str
) -> None:
    path, body = _served_app(recorded)
    apps = orjson.loads(orjson.dumps(body))
    oidc = next(a for a in apps if a.get("signOnMode") == "OPENID_CONNECT")
    mutate(oidc)
    with pytest.raises(SpecMismatch, match=expected):
        validate_served(spec, path, 200, apps)


def test_the_spec_file_is_the_cut_of_okta_s_description() -> None:
    document = orjson.loads(Path(SPEC).read_bytes())
    assert document["info"]["title"] == "Okta Admin Management API"
    assert document["info"]["version"] == "2026.06.3"
