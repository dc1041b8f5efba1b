"""`scan`, `history` and `history migrate` on a real PostgreSQL (tests/history/pg_server.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policyengine.cli.main import main
from policyengine.config import load_config
from policyengine.history import HistoryStore, PostgresHistory
from tests.policies import MFA_POLICY


def _url(history: PostgresHistory) -> str:
    return f"{history.url}?schema={history.schema}"


def _scan(tmp_path: Path, history: str, now: str, name: str = "runs") -> int:
    policy = tmp_path / "mfa.yaml"
    policy.write_text(MFA_POLICY)
    return main(
        ["scan", "--demo", "--policies", str(policy), "--history", history,
         "--output-dir", str(tmp_path / name), "--now", now]
    )  # fmt: skip


def _history_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    capsys.readouterr()
    assert main(["history", "--format", "json", "--findings", "all", *args]) == 0
    return json.loads(capsys.readouterr().out)


def _config(tmp_path: Path, history: PostgresHistory) -> Path:
    config = tmp_path / "policyengine.yaml"
    config.write_text(f"history: {_url(history)}\nhistory_password_file: {history.password_file}\n")
    return config


def test_scan_history_and_html_trend_read_from_postgresql(
    tmp_path: Path, pg_history: PostgresHistory, monkeypatch, capsys
) -> None:
    assert pg_history.password_file is not None
    monkeypatch.setenv("PGPASSWORD", pg_history.password_file.read_text().strip())
    for i, now in enumerate(("2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z")):
        assert _scan(tmp_path, _url(pg_history), now, name=f"runs{i}") in (0, 1)
    monkeypatch.delenv("PGPASSWORD")  # the config's password file is enough from here
    doc = _history_json(capsys, "--config", str(_config(tmp_path, pg_history)))
    assert [r["id"] for r in doc["runs"]] == [1, 2]
    assert doc["runs"][1]["still_open"] == doc["runs"][0]["new"] > 0
    assert pg_history.schema in doc["history"] and "pe-history" not in doc["history"]
    (html,) = (tmp_path / "runs1").rglob("*.html")
    assert "Open findings per scan over the last 2 runs" in html.read_text()


def test_url_with_a_password_is_refused_without_showing_it(tmp_path: Path, capsys) -> None:
    config = tmp_path / "policyengine.yaml"
    config.write_text("history: postgresql://scanner:hunter2@db.internal:5432/pe\n")
    with pytest.raises(Exception, match=r"must not contain a password") as err:
        load_config(config)
    assert "hunter2" not in str(err.value)
    code = main(["history", "--config", str(config)])
    assert code == 2 and "hunter2" not in capsys.readouterr().err


def test_config_reads_user_host_schema_and_password_file(tmp_path: Path) -> None:
    config = tmp_path / "policyengine.yaml"
    config.write_text(
        "history: postgresql://scanner@db.internal:5432/pe?schema=acme&sslmode=require\n"
        "history_password_file: secrets/pg\n"
    )
    target = load_config(config).history_path
    assert target == PostgresHistory(
        "postgresql://scanner@db.internal:5432/pe?sslmode=require",
        "acme",
        None,
        tmp_path / "secrets/pg",
    )


def test_wrong_password_is_one_line_exit_2(
    tmp_path: Path, pg_history: PostgresHistory, capsys
) -> None:
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-password\n")
    config = tmp_path / "policyengine.yaml"
    config.write_text(f"history: {_url(pg_history)}\nhistory_password_file: {wrong}\n")
    assert main(["history", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "cannot connect to the history database" in err and "not-the-password" not in err


def test_migrate_copies_a_sqlite_history_and_refuses_a_non_empty_target(
    tmp_path: Path, pg_history: PostgresHistory, capsys
) -> None:
    sqlite = tmp_path / "h.db"
    for i, now in enumerate(("2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z")):
        assert _scan(tmp_path, str(sqlite), now, name=f"runs{i}") in (0, 1)
    before = _history_json(capsys, "--history", str(sqlite))
    migrate = ["history", "migrate", "--history", str(sqlite), "--to", _url(pg_history),
               "--password-file", str(pg_history.password_file)]  # fmt: skip
    capsys.readouterr()
    assert main(migrate) == 0
    out = capsys.readouterr().out
    assert "runs 2" in out and f"findings {len(before['findings'])}" in out
    config = _config(tmp_path, pg_history)
    after = _history_json(capsys, "--config", str(config))
    for key in ("runs", "remediation", "findings"):
        assert after[key] == before[key], key
    # A second migrate would mix two histories: refused, nothing written.
    assert main(migrate) == 2
    assert "already holds 2 runs" in capsys.readouterr().err
    # New runs continue the copied numbering.
    with HistoryStore.open(load_config(config).history_path) as store:  # type: ignore[arg-type]
        from tests.history.conftest import make_result

        assert store.record_run(make_result([]), started_at="2026-11-03T00:00:00Z").run.id == 3


def test_a_tenant_role_owning_only_its_schema_scans_and_cannot_open_another(
    tmp_path: Path, pg_server, pg_history: PostgresHistory
) -> None:
    """The fleet setup of ci/kubernetes-fleet.yaml: one role per tenant, no CREATE on the db."""
    import uuid

    from policyengine.history import HistoryError
    from tests.history.conftest import make_result

    HistoryStore.open(pg_history).close()  # another tenant's history, owned by the admin
    role, schema = f"pe_{uuid.uuid4().hex[:8]}", f"tenant_{uuid.uuid4().hex[:8]}"
    pg_server.admin(f"CREATE ROLE {role} LOGIN PASSWORD 'tenant-pw-1'")
    pg_server.admin(f"CREATE SCHEMA {schema} AUTHORIZATION {role}")
    secret = tmp_path / "tenant-pw"
    secret.write_text("tenant-pw-1\n")
    url = f"postgresql://{role}@{pg_server.host}:{pg_server.port}/postgres"
    mine = PostgresHistory(url, schema, password_file=secret)
    with HistoryStore.open(mine) as store:
        store.check_writable()
        assert store.record_run(make_result([]), started_at="2026-11-01T06:00:00Z").run.id == 1
    other = PostgresHistory(url, pg_history.schema, password_file=secret)
    with pytest.raises(HistoryError, match="permission denied"):
        HistoryStore.open(other)


def test_a_second_scan_of_one_schema_fails_at_once_naming_the_holder(
    pg_history: PostgresHistory,
) -> None:
    import dataclasses

    from policyengine.history import HistoryLockedError, scan_history

    other = dataclasses.replace(pg_history, schema=pg_history.schema + "_other")
    with scan_history(pg_history) as first:
        holder = first._db.execute("SELECT pg_backend_pid()").fetchone()[0]
        with (
            pytest.raises(HistoryLockedError, match=rf"server pid {holder} .*--lock-timeout"),
            scan_history(pg_history, lock_timeout=0.3),
        ):
            pass
        with scan_history(other):  # another config is not held up
            pass
    with scan_history(pg_history):  # released with the first scan
        pass
