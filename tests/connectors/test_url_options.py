"""Connector URLs: no credentials inside a URL, never echoed; LDAP refuses cleartext to a remote host."""

from __future__ import annotations

import pytest
import structlog

from policyengine.cli.main import main
from policyengine.errors import UsageError
from policyengine.redact import redact_text

PASSWORD = "Pw-9f3c1e"
LDAP = {"base_dn": "dc=x", "bind_dn": "cn=a", "password_env": "X"}


@pytest.fixture(autouse=True)
def _reset_logging():
    yield
    structlog.reset_defaults()


def _okta(url: str) -> None:
    from connectors.okta._options import parse_options

    parse_options({"org_url": url, "token_env": "T"})


def _salesforce(url: str) -> None:
    from connectors.salesforce._options import parse_options

    parse_options({"login_url": url, "client_id": "c", "client_secret_env": "S"})


def _ldap(url: str) -> None:
    from connectors.ldap._options import parse_options

    parse_options({"url": url, **LDAP})


@pytest.mark.parametrize("parse", [_okta, _salesforce, _ldap])
@pytest.mark.parametrize(
    "template",
    [
        "{scheme}://u:{pw}@127.0.0.1:8080",
        "{scheme}://u:{pw}@127.0.0.1:8x",  # bad port: used to be echoed whole
        "{scheme}://u:p/{pw}@127.0.0.1",  # a '/' hides the userinfo from urlsplit
        "{scheme}://u@127.0.0.1",
    ],
)
def test_userinfo_in_a_url_is_refused_without_echoing_it(parse, template: str) -> None:
    scheme = "ldap" if parse is _ldap else "http"
    with pytest.raises(UsageError, match="must not contain a user name or password") as caught:
        parse(template.format(scheme=scheme, pw=PASSWORD))
    assert PASSWORD not in str(caught.value)


def test_cli_error_for_org_url_with_password_hides_it(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["collect", "okta", "--org-url", f"http://u:{PASSWORD}@host.example",
                 "--token-env", "T", "-o", "/tmp/never-written.jsonl"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert PASSWORD not in err and "[REDACTED]" in err


@pytest.mark.parametrize(
    "text",
    [
        f"GET https://admin:{PASSWORD}@api.example/x failed",
        f"ldap://cn=admin:{PASSWORD}@dc1:389 refused",
        f"'http://u:p/{PASSWORD}@h' bad port",
    ],
)
def test_redaction_removes_url_userinfo(text: str) -> None:
    out = redact_text(text)
    assert PASSWORD not in out and "[REDACTED]@" in out


def test_redaction_keeps_ordinary_urls() -> None:
    text = "see https://help.okta.com/en/x and ldaps://10.0.0.10:636"
    assert redact_text(text) == text


def test_ldap_cleartext_to_a_remote_host_is_refused() -> None:
    from connectors.ldap._options import parse_options

    with pytest.raises(UsageError, match=r"cleartext to dc1\.corp\.example"):
        parse_options({"url": "ldap://dc1.corp.example", **LDAP})


@pytest.mark.parametrize(
    "extra",
    [
        {"url": "ldaps://dc1.corp.example"},
        {"url": "ldap://dc1.corp.example", "starttls": True},
        {"url": "ldap://127.0.0.1:3389"},
        {"url": "ldap://[::1]"},
        {"url": "ldap://dc1.corp.example", "allow_cleartext": True},
    ],
)
def test_ldap_encrypted_loopback_or_opted_out_is_accepted(extra: dict) -> None:
    from connectors.ldap._options import parse_options

    opts = parse_options({**LDAP, **extra})
    assert opts.allow_cleartext is bool(extra.get("allow_cleartext"))


def test_ldap_cleartext_opt_out_warns_on_every_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LDAP_PW", "pw-unused")
    # 192.0.2.1 (TEST-NET-1) never answers: the run fails to connect, after the warning
    args = ["--log-format", "json", "collect", "ldap", "--url", "ldap://192.0.2.1:1",
            "--allow-cleartext", "--base-dn", "dc=x", "--bind-dn", "cn=a",
            "--password-env", "LDAP_PW", "--timeout", "0.5", "-o", str(tmp_path / "s.jsonl")]  # fmt: skip
    for _ in range(2):
        main(args)
        err = capsys.readouterr().err
        assert "ldap.cleartext_bind" in err
        assert "pw-unused" not in err
