"""Faults and bad input against the real slapd, in-process and through the CLI."""

from __future__ import annotations

import orjson
import pytest

from policyengine.errors import AuthenticationError, UsageError
from tests.connectors.ldap import servers
from tests.connectors.ldap.conftest import DATA, cli, collect, needs_slapd, read_snapshot
from tests.connectors.ldap.proxy import CuttingProxy

pytestmark = needs_slapd


def _options(url: str, env: str, **extra):
    return {
        "url": url,
        "base_dn": servers.BASE_DN,
        "bind_dn": servers.ROOT_DN,
        "password_env": env,
        **extra,
    }


def _cli_args(url: str, out, *extra: str) -> list[str]:
    return [
        "collect",
        "ldap",
        "--url",
        url,
        "--base-dn",
        servers.BASE_DN,
        "--bind-dn",
        servers.ROOT_DN,
        "--password-env",
        "PE_TEST_LDAP_PW",
        "-o",
        str(out),
        *extra,
    ]


# -- credentials -------------------------------------------------------------------


def test_wrong_password_is_refused_with_a_clear_error_and_nothing_written(
    slapd, password_env, tmp_path
):
    out = tmp_path / "x.jsonl"
    with pytest.raises(AuthenticationError, match="invalid credentials") as info:
        collect(_options(slapd.url, password_env("not-the-password")), out)
    assert info.value.exit_code == 2
    assert "not-the-password" not in str(info.value)
    assert not out.exists()
    assert not list(tmp_path.iterdir())  # no spool left behind either


def test_cli_wrong_password_exits_2_and_never_prints_the_password(slapd, tmp_path):
    out = tmp_path / "x.jsonl"
    secret = "Wr0ng-Secret-Value-42"
    env = servers.env_with(PE_TEST_LDAP_PW=secret)
    proc = cli("--log-level=debug", "--log-format=json", *_cli_args(slapd.url, out), env=env)
    assert proc.returncode == 2, proc.stderr
    assert "invalid credentials" in proc.stderr
    assert secret not in proc.stderr + proc.stdout
    assert not out.exists()


def test_cli_success_logs_never_contain_the_password(slapd, tmp_path):
    out = tmp_path / "ok.jsonl"
    env = servers.env_with(PE_TEST_LDAP_PW=servers.ROOT_PW)
    proc = cli("--log-level=debug", "--log-format=json", *_cli_args(slapd.url, out), env=env)
    assert proc.returncode == 0, proc.stderr
    assert "ldap.bound" in proc.stderr  # the logs are there, and say who bound
    assert servers.ROOT_PW not in proc.stderr + proc.stdout
    assert servers.ROOT_PW.encode() not in out.read_bytes()
    for line in proc.stderr.splitlines():
        if line.startswith("{"):
            orjson.loads(line)  # JSON log lines


def test_password_file_is_read_and_missing_password_is_a_usage_error(slapd, tmp_path, monkeypatch):
    pw = tmp_path / "pw"
    pw.write_text(servers.ROOT_PW + "\n")
    out = tmp_path / "f.jsonl"
    opts = _options(slapd.url, "UNSET_VAR_FOR_TEST")
    del opts["password_env"]
    result = collect({**opts, "password_file": str(pw)}, out)
    assert result.complete
    monkeypatch.delenv("UNSET_VAR_FOR_TEST", raising=False)
    with pytest.raises(UsageError, match="UNSET_VAR_FOR_TEST"):
        collect(_options(slapd.url, "UNSET_VAR_FOR_TEST"), tmp_path / "g.jsonl")


# -- the server goes away ---------------------------------------------------------


def test_server_not_listening_writes_an_incomplete_snapshot(password_env, tmp_path):
    port = servers.free_port()  # nothing listens there
    out = tmp_path / "down.jsonl"
    result = collect(_options(f"ldap://127.0.0.1:{port}", password_env("x-pass"), timeout=3), out)
    assert result.complete is False
    header, records = read_snapshot(out)
    assert header["source"]["complete"] is False
    assert "cannot connect" in header["source"]["errors"][0]
    assert records == []


def test_cli_server_not_listening_exits_3(tmp_path):
    out = tmp_path / "down.jsonl"
    env = servers.env_with(PE_TEST_LDAP_PW="whatever-pass")
    url = f"ldap://127.0.0.1:{servers.free_port()}"
    proc = cli(*_cli_args(url, out, "--timeout", "3"), env=env)
    assert proc.returncode == 3, proc.stderr
    assert "INCOMPLETE" in proc.stderr
    assert read_snapshot(out)[0]["source"]["complete"] is False


def test_a_hung_server_times_out_into_an_incomplete_snapshot(password_env, tmp_path):
    import time

    from tests.connectors.ldap.proxy import SilentListener

    hung = SilentListener()
    try:
        out = tmp_path / "hung.jsonl"
        started = time.monotonic()
        result = collect(
            _options(f"ldap://127.0.0.1:{hung.port}", password_env("x-pass"), timeout=1), out
        )
        elapsed = time.monotonic() - started
    finally:
        hung.close()
    assert result.complete is False
    assert elapsed < 15
    assert read_snapshot(out)[0]["source"]["errors"]


@pytest.mark.parametrize("cut_after", [900, 2500])
def test_connection_dropped_mid_search_marks_snapshot_incomplete(
    slapd, password_env, tmp_path, cut_after
):
    proxy = CuttingProxy(("127.0.0.1", slapd.port), cut_after=cut_after)
    try:
        out = tmp_path / "cut.jsonl"
        result = collect(
            _options(f"ldap://127.0.0.1:{proxy.port}", password_env(servers.ROOT_PW), page_size=2),
            out,
        )
    finally:
        proxy.close()
    assert proxy.cut.is_set()
    assert result.complete is False
    header, _ = read_snapshot(out)
    assert header["source"]["complete"] is False
    assert "search" in header["source"]["errors"][0]


def test_cli_dropped_connection_exits_3(slapd, tmp_path):
    proxy = CuttingProxy(("127.0.0.1", slapd.port), cut_after=2500)
    try:
        out = tmp_path / "cut.jsonl"
        env = servers.env_with(PE_TEST_LDAP_PW=servers.ROOT_PW)
        url = f"ldap://127.0.0.1:{proxy.port}"
        proc = cli(*_cli_args(url, out, "--page-size", "2"), env=env)
    finally:
        proxy.close()
    assert proc.returncode == 3, proc.stderr
    header, _ = read_snapshot(out)
    assert header["source"]["complete"] is False
    assert header["source"]["errors"]


def test_slapd_killed_between_pages(password_env, tmp_path, monkeypatch):
    """A real server death: slapd is stopped while the collector is between pages."""
    import connectors.ldap._collect as collect_mod

    directory = servers.tempdir("pe-slapd-kill-")
    server = servers.Slapd(directory)
    real = collect_mod.paged_search

    def stop_after_five_entries(*args, **kwargs):
        for n, item in enumerate(real(*args, **kwargs), 1):
            if n == 5:
                server.stop()
            yield item

    monkeypatch.setattr(collect_mod, "paged_search", stop_after_five_entries)
    try:
        server.setup()
        server.start()
        server.add_ldif(DATA / "openldap.ldif")
        out = tmp_path / "killed.jsonl"
        result = collect(_options(server.url, password_env(servers.ROOT_PW), page_size=2), out)
    finally:
        server.stop()
        servers.rmtree(directory)
    assert result.complete is False
    header, records = read_snapshot(out)
    assert "failed after" in header["source"]["errors"][0]
    assert len(records) < 16


# -- TLS ------------------------------------------------------------------------


def test_ldaps_with_the_ca_file_works(slapd, password_env, tmp_path):
    out = tmp_path / "tls.jsonl"
    result = collect(
        _options(slapd.ldaps_url, password_env(servers.ROOT_PW), ca_file=str(slapd.ca)), out
    )
    assert result.complete, result.errors
    assert read_snapshot(out)[0]["source"]["counts"]["account"] >= 5


def test_ldaps_untrusted_certificate_is_refused(slapd, password_env, tmp_path):
    out = tmp_path / "tls.jsonl"
    result = collect(_options(slapd.ldaps_url, password_env(servers.ROOT_PW)), out)
    assert result.complete is False
    error = read_snapshot(out)[0]["source"]["errors"][0]
    assert "TLS certificate" in error and "--ca-file" in error
    assert read_snapshot(out)[1] == []


def test_ldaps_wrong_host_name_is_refused_even_with_the_ca(slapd, password_env, tmp_path):
    # The certificate names IP 127.0.0.1 only; "localhost" is not in it.
    url = f"ldaps://localhost:{slapd.tls_port}"
    out = tmp_path / "tls.jsonl"
    result = collect(_options(url, password_env(servers.ROOT_PW), ca_file=str(slapd.ca)), out)
    assert result.complete is False
    error = read_snapshot(out)[0]["source"]["errors"][0]
    assert "TLS certificate" in error
    assert read_snapshot(out)[1] == []


def test_starttls_verifies_the_certificate(slapd, password_env, tmp_path):
    env = password_env(servers.ROOT_PW)
    good = collect(
        _options(slapd.url, env, starttls=True, ca_file=str(slapd.ca)), tmp_path / "a.jsonl"
    )
    assert good.complete, good.errors
    bad = collect(_options(slapd.url, env, starttls=True), tmp_path / "b.jsonl")
    assert bad.complete is False
    assert "TLS" in bad.errors[0]


def test_bad_options_are_usage_errors():
    from connectors.ldap._options import parse_options

    base = {"url": "ldap://h", "base_dn": "dc=x", "bind_dn": "cn=a", "password_env": "X"}
    for bad, message in [
        ({"url": "http://h"}, "url"),
        ({"page_size": 0}, "page_size"),
        ({"profile": "novell"}, "profile"),
        ({"privileged_group": ["not a dn"]}, "privileged_group"),
        ({"url": "ldaps://h", "starttls": True}, "starttls"),
        ({"type_rule": ["robot:spn"]}, "type must be"),
        ({"type_rule": ["service:name=("]}, "does not compile with RE2"),
        ({"password_env": None}, "password"),
    ]:
        with pytest.raises(UsageError, match=message):
            parse_options({**base, **bad})


def test_cli_gzip_json_output(slapd, tmp_path):
    import gzip

    out = tmp_path / "corp.json.gz"
    env = servers.env_with(PE_TEST_LDAP_PW=servers.ROOT_PW)
    proc = cli(
        *_cli_args(
            slapd.url,
            out,
            "--privileged-group",
            "cn=admins,ou=groups,dc=example,dc=com",
            "--instance",
            "hq",
        ),
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    doc = orjson.loads(gzip.decompress(out.read_bytes()))
    assert doc["source"]["instance"] == "hq"
    admins = {a["name"] for a in doc["accounts"] if a["privileged"]}
    assert admins == {"alice", "bg-admin", "backup"}
    assert all(a["source"] == "hq" for a in doc["accounts"])
