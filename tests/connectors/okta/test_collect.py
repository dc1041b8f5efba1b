"""The Okta connector against the emulator: what ends up in the snapshot."""

from __future__ import annotations

from pathlib import Path

from tests.connectors.okta.conftest import (
    CLIENT_ID,
    Okta,
    by_id,
    by_name,
    collect,
    oauth_options,
    ssws_options,
)


def test_ssws_collects_every_kind(okta: Okta, ssws_env: str, tmp_path: Path) -> None:
    result, snap = collect(ssws_options(okta, ssws_env), tmp_path / "okta.json")
    assert result.complete, result.errors
    assert snap["source"]["connector"] == "okta"
    assert result.counts == {
        "account": 15,
        "group": 2,
        "role": 5,
        "credential": 3 + 4,  # API tokens + the OIDC apps' client secrets
        "integration": 4 + 2,  # the OIDC apps, the SAML and WS-Fed apps (not the bookmark)
        "session_policy": 3,
    }
    auth = {r.header("authorization") for r in okta.server.requests}
    assert auth == {f"SSWS {okta.emulator.ssws_tokens.copy().pop()}"}
    # the token's owner (GET /api/v1/users/me): remediation never acts on it
    assert snap["source"]["collected_as"] == [
        "00umallor00000000013",
        "api.reporting@example.com",
    ]


def test_an_unknown_token_owner_leaves_collected_as_out(
    okta: Okta, ssws_env: str, tmp_path: Path
) -> None:
    okta.emulator.ssws_owners.clear()  # /users/me answers 404: the collection still completes
    result, snap = collect(ssws_options(okta, ssws_env), tmp_path / "okta.json")
    assert result.complete, result.errors
    assert "collected_as" not in snap["source"]


def test_accounts_are_mapped(okta: Okta, ssws_env: str, tmp_path: Path) -> None:
    _, snap = collect(ssws_options(okta, ssws_env), tmp_path / "okta.json")
    a = by_name(snap)
    alice = a["alice@example.com"]
    assert alice["id"] == "00ualicex00000000000"
    assert alice["email"] == "alice@example.com"
    assert alice["employee_id"] == "1001"
    assert alice["type"] == "human"
    assert alice["enabled"] is True and alice["status"] == "ACTIVE"
    assert alice["created_at"] == "2023-01-15T08:30:00Z"
    assert alice["last_login_at"] == "2026-10-20T09:15:30Z"  # .123Z fraction stripped
    assert alice["password_last_set_at"] == "2026-05-01T12:00:00Z"
    assert alice["roles"] == ["SUPER_ADMIN"]
    assert alice["privileged"] is True
    assert alice["privileged_via"] == ["role:SUPER_ADMIN"]
    assert alice["mfa"] == {
        "enrolled": True,
        "methods": ["push", "webauthn"],
        "phishing_resistant": True,
    }
    # raw keeps Okta's attributes but never the credentials block (only its provider)
    assert alice["raw"]["credentials"] == {"provider": {"type": "OKTA", "name": "OKTA"}}
    assert "_links" not in alice["raw"]
    assert [f["factorType"] for f in alice["raw"]["factors"]] == ["webauthn", "push"]
    assert "profile" not in alice["raw"]["factors"][0]


def test_admin_roles_through_groups(okta: Okta, ssws_env: str, tmp_path: Path) -> None:
    _, snap = collect(ssws_options(okta, ssws_env), tmp_path / "okta.json")
    a = by_name(snap)
    assert a["bob@example.com"]["roles"] == ["ORG_ADMIN"]
    assert a["bob@example.com"]["privileged_via"] == ["group:Okta Admins"]
    assert a["leo@example.com"]["privileged_via"] == ["group:Help Desk"]
    svc = a["svc-integration@example.com"]
    assert svc["roles"] == ["APP_ADMIN", "CUSTOM:Factor Reset Operators"]
    assert a["nina@example.com"]["privileged"] is False
    assert a["nina@example.com"]["roles"] == []
    groups = by_id(snap, "groups")
    admins = groups["00gOKTAADMINS0000001"]
    assert admins["name"] == "Okta Admins"
    assert admins["privileged"] is True
    assert admins["roles"] == ["ORG_ADMIN"]
    assert admins["members"] == ["00ubobxxx00000000001"]
    assert "00gENGINEERING00001" not in groups  # no admin role: not a privileged group


def test_user_status_mapping(okta: Okta, ssws_env: str, tmp_path: Path) -> None:
    _, snap = collect(ssws_options(okta, ssws_env), tmp_path / "okta.json")
    enabled = {a["status"]: a["enabled"] for a in snap["accounts"]}
    assert enabled == {
        "ACTIVE": True,
        "PASSWORD_EXPIRED": True,
        "LOCKED_OUT": True,
        "RECOVERY": True,
        "STAGED": False,
        "PROVISIONED": False,
        "SUSPENDED": False,
        "DEPROVISIONED": False,
    }
    assert by_name(snap)["gina@example.com"]["locked"] is True


def test_factor_mapping(okta: Okta, ssws_env: str, tmp_path: Path) -> None:
    _, snap = collect(ssws_options(okta, ssws_env), tmp_path / "okta.json")
    mfa = {name: a.get("mfa") for name, a in by_name(snap).items()}
    assert mfa["erin@example.com"] is None  # DEPROVISIONED: factors not read
    assert mfa["bob@example.com"]["methods"] == ["sms"]  # the security question is not MFA
    assert mfa["carol@example.com"] == {
        "enrolled": False,
        "methods": [],
        "phishing_resistant": False,
    }
    assert mfa["gina@example.com"]["methods"] == ["fido2"]  # webauthn is only PENDING
    assert mfa["henry@example.com"]["methods"] == ["email", "voice"]
    assert mfa["ivan@example.com"]["methods"] == ["totp"]  # token:hardware
    assert mfa["kate@example.com"]["methods"] == ["totp"]  # INACTIVE push ignored
    assert mfa["svc-integration@example.com"] == {
        "enrolled": True,
        "methods": ["platform"],
        "phishing_resistant": True,  # FastPass
    }


def test_missing_fields_stay_missing(okta: Okta, ssws_env: str, tmp_path: Path) -> None:
    _, snap = collect(ssws_options(okta, ssws_env), tmp_path / "okta.json")
    a = by_name(snap)
    judy = a["judy@example.com"]  # lastLogin and passwordChanged absent from the record
    assert "last_login_at" not in judy and "password_last_set_at" not in judy
    carol = a["carol@example.com"]  # no email in the profile, lastLogin null
    assert "email" not in carol and "last_login_at" not in carol
    assert "employee_id" not in carol
    legacy = by_id(snap, "credentials")["00Tlegacy00000000003"]
    assert "expires_at" not in legacy and "network" not in legacy["raw"]


def test_service_account_type_rules(okta: Okta, ssws_env: str, tmp_path: Path) -> None:
    _, snap = collect(ssws_options(okta, ssws_env), tmp_path / "a.json")
    types = {n: a["type"] for n, a in by_name(snap).items()}
    assert types["svc-integration@example.com"] == "service"
    assert types["api.reporting@example.com"] == "service"
    assert types["alice@example.com"] == "human"
    options = ssws_options(
        okta, ssws_env, type_rule=["break_glass:name=^alice@"], default_type_rules=False
    )
    _, snap = collect(options, tmp_path / "b.json")
    types = {n: a["type"] for n, a in by_name(snap).items()}
    assert types["alice@example.com"] == "break_glass"
    assert types["svc-integration@example.com"] == "human"


def test_api_tokens(okta: Okta, ssws_env: str, tmp_path: Path) -> None:
    _, snap = collect(ssws_options(okta, ssws_env), tmp_path / "okta.json")
    siem = by_id(snap, "credentials")["00Tsiem0000000000001"]
    assert siem["type"] == "api_token"
    assert siem["name"] == "SIEM export"
    assert siem["owner"] == "00ualicex00000000000"
    assert siem["created_at"] == "2025-11-09T20:38:10Z"
    assert siem["last_rotated_at"] == siem["created_at"]  # a token cannot be rotated in place
    assert siem["expires_at"] == "2026-11-20T20:38:10Z"
    assert "last_used_at" not in siem  # lastUpdated is not last use
    assert siem["raw"]["lastUpdated"] == "2026-10-21T20:38:10.000Z"
    assert siem["raw"]["network"]["connection"] == "ANYWHERE"
    assert siem["raw"]["tokenWindow"] == "P30D"


def test_session_policies(okta: Okta, ssws_env: str, tmp_path: Path) -> None:
    _, snap = collect(ssws_options(okta, ssws_env), tmp_path / "okta.json")
    rules = by_id(snap, "session_policies")
    admins = rules["0prADMINS12H0000001"]
    assert admins["name"] == "Administrators / Admins 12h"
    assert admins["applies_to"] == ["00gHELPDESK000000001", "00gOKTAADMINS0000001"]
    assert admins["max_lifetime_minutes"] == 720
    assert admins["idle_timeout_minutes"] == 15
    assert admins["mfa_required"] is True
    assert admins["persistent_cookie"] is False
    assert admins["priority"] == 1
    assert admins["raw"]["rule"]["actions"]["signon"]["factorPromptMode"] == "ALWAYS"
    default = rules["0prDEFAULT00000001"]
    assert default["applies_to"] == ["everyone"]
    assert "max_lifetime_minutes" not in default  # 0 = no limit in Okta
    assert default["raw"]["rule"]["actions"]["signon"]["session"]["maxSessionLifetimeMinutes"] == 0
    assert default["mfa_required"] is False
    office = rules["0prOFFICE000000001"]
    assert "idle_timeout_minutes" not in office  # absent from the record
    assert office["persistent_cookie"] is True


def test_users_pagination_follows_the_next_link(okta: Okta, ssws_env: str, tmp_path: Path) -> None:
    result, snap = collect(ssws_options(okta, ssws_env, page_size=3), tmp_path / "okta.json")
    assert result.complete
    requests = okta.server.requests_to("/api/v1/users")
    pages = [r for r in requests if r.param("search") is None]
    assert len(pages) == 5
    assert pages[0].target == "/api/v1/users?limit=3"
    # DEPROVISIONED users are only listed on request, by a search
    [search] = [r for r in requests if r.param("search") is not None]
    assert search.param("search") == 'status eq "DEPROVISIONED"'
    ids = sorted(a["id"] for a in snap["accounts"] if a["status"] != "DEPROVISIONED")
    # every later request is exactly the server's next link: the previous page's cursor
    assert [p.param("after") for p in pages[1:]] == [ids[2], ids[5], ids[8], ids[11]]
    assert all(p.param("limit") == "3" for p in pages)
    # written in the server's order, the deprovisioned listing last
    assert [a["id"] for a in snap["accounts"]] == [*ids, "00uerinxx00000000005"]


def test_oauth_service_app(okta: Okta, oauth_env: str, tmp_path: Path) -> None:
    result, snap = collect(oauth_options(okta, oauth_env), tmp_path / "okta.json")
    assert result.complete, result.errors
    token_request = okta.server.requests_to("/oauth2/v1/token")[0]
    form = token_request.form()
    assert form["grant_type"] == "client_credentials"
    assert form["client_assertion_type"].endswith("jwt-bearer")
    assert set(form["scope"].split()) == {
        "okta.users.read",
        "okta.groups.read",
        "okta.roles.read",
        "okta.policies.read",
        "okta.apiTokens.read",
        "okta.apps.read",
    }
    api = [r for r in okta.server.requests if r.path.startswith("/api/")]
    assert {r.header("authorization") for r in api} == {f"Bearer {okta.emulator.issued[0]}"}
    assert okta.emulator.token_requests == 1
    assert snap["source"]["collected_as"] == [CLIENT_ID]  # a service app: no user


def test_admin_assignees_are_listed_once_not_per_user(
    okta: Okta, ssws_env: str, tmp_path: Path
) -> None:
    collect(ssws_options(okta, ssws_env), tmp_path / "okta.json")
    role_calls = {r.path for r in okta.server.requests if r.path.endswith("/roles")}
    users_with_roles = {p for p in role_calls if p.startswith("/api/v1/users/")}
    assert users_with_roles == {
        "/api/v1/users/00ualicex00000000000/roles",
        "/api/v1/users/00udavexx00000000003/roles",
        "/api/v1/users/00usvcxxx00000000004/roles",
    }


def test_https_with_a_private_ca(rsa_public_pem: str, ssws_env: str, tmp_path: Path) -> None:
    from tests.connectors.okta.conftest import SSWS_TOKEN
    from tests.emulators._server import EmulatorServer
    from tests.emulators._tls import loopback_tls
    from tests.emulators.okta import OktaEmulator, OktaOrg

    context, ca_file = loopback_tls(tmp_path / "tls")
    emulator = OktaEmulator(OktaOrg.load(), ssws_tokens={SSWS_TOKEN})
    with EmulatorServer(emulator, ssl_context=context) as server:
        emulator.base_url = server.base_url
        options = {"org_url": server.base_url, "token_env": ssws_env, "ca_file": str(ca_file)}
        result, snap = collect(options, tmp_path / "okta.json")
        assert result.complete, result.errors
        assert len(snap["accounts"]) == 15
        # without the CA: refused, and the snapshot says why
        result, _ = collect({**options, "ca_file": None}, tmp_path / "no-ca.json")
        assert not result.complete
        [error] = result.errors  # one error, not one per part
        assert "unreachable, collection stopped: TLS certificate" in error
        assert "not trusted" in error and "ca_file" in error


def test_server_not_listening_is_one_error(ssws_env: str, tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    options = {"org_url": f"http://127.0.0.1:{port}", "token_env": ssws_env}
    result, _ = collect({**options, "retry_backoff": 0.001, "max_attempts": 2}, tmp_path / "x.json")
    assert not result.complete
    [error] = result.errors
    assert "unreachable, collection stopped: gave up after 2 attempts: connection failed" in error


def test_account_session_is_the_governing_rule(okta: Okta, ssws_env: str, tmp_path: Path) -> None:
    _, snap = collect(ssws_options(okta, ssws_env), tmp_path / "okta.json")
    a = by_name(snap)
    # bob (Okta Admins) and kate (Help Desk) fall under the Administrators policy
    for name in ("bob@example.com", "kate@example.com"):
        assert a[name]["session"] == {"max_lifetime_minutes": 720, "idle_timeout_minutes": 15}
        assert a[name]["raw"]["session_rules"] == ["0prADMINS12H0000001"]
    # alice is a super admin outside those groups: the default policy governs her; its
    # first rule depends on the network zone, so the default rule (no lifetime) may apply
    alice = a["alice@example.com"]
    assert alice["session"] == {}  # no limit for sure: both fields missing
    assert alice["raw"]["session_rules"] == ["0prOFFICE000000001", "0prDEFAULT00000001"]


def test_session_policy_on_a_non_admin_group_reads_its_members(
    rsa_public_pem: str, ssws_env: str, tmp_path: Path
) -> None:
    import copy

    from tests.connectors.okta.conftest import start
    from tests.emulators.okta import OktaOrg

    org = OktaOrg.load()
    policy = copy.deepcopy(org.policies[0])
    policy.update(id="00pENGINEERING00001", name="Engineering", priority=0)
    policy["conditions"]["people"]["groups"]["include"] = ["00gENGINEERING00001"]
    rule = copy.deepcopy(org.rules[org.policies[0]["id"]][0])
    rule.update(id="0prENG00000000001", name="Engineers 8h")
    rule["actions"]["signon"]["session"].update(
        maxSessionLifetimeMinutes=480, maxSessionIdleMinutes=30
    )
    rule["conditions"]["people"]["users"]["exclude"] = ["00uleoxxx00000000012"]
    org.policies.append(policy)
    org.rules[policy["id"]] = [rule]
    for okta in start(org, rsa_public_pem):
        result, snap = collect(ssws_options(okta, ssws_env), tmp_path / "okta.json")
        assert result.complete, result.errors
        assert okta.server.requests_to("/api/v1/groups/00gENGINEERING00001/users")
        a = by_name(snap)
        assert a["alice@example.com"]["session"] == {
            "max_lifetime_minutes": 480,
            "idle_timeout_minutes": 30,
        }
        # leo is excluded from the engineers' rule: no rule of that policy matches him,
        # so Okta goes on to the next policy (Administrators, through Help Desk)
        assert a["leo@example.com"]["raw"]["session_rules"] == ["0prADMINS12H0000001"]


def test_sessions_unknown_when_policies_are_unreadable(
    okta: Okta, ssws_env: str, tmp_path: Path
) -> None:
    from tests.emulators._server import Response

    okta.server.add_fault(Response.json({}, 503), match="/api/v1/policies", times=None)
    result, snap = collect(ssws_options(okta, ssws_env, max_attempts=2), tmp_path / "okta.json")
    assert not result.complete
    assert all("session" not in a for a in snap["accounts"])
