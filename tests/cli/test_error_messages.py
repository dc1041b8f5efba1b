"""Every user-caused failure is one line naming the file (and line), with the documented exit code.

Each case runs the real CLI in a subprocess, as a user would, and checks that
stderr holds exactly one ``policyengine: error:`` line (no "internal error", no
traceback, no "Exception ignored" from a failed flush at exit).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from policyengine.snapshot import SnapshotWriter
from tests.policies import MFA_POLICY

NOW = "2026-11-01T00:00:00Z"
NOBODY = 65534


def _run(
    args: Sequence[str],
    cwd: Path,
    *,
    stdout: Any = subprocess.PIPE,
    env: dict[str, str] | None = None,
    unprivileged: bool = False,
) -> subprocess.CompletedProcess[str]:
    prefix: list[str] = []
    if unprivileged and os.geteuid() == 0:  # root ignores permissions: drop to nobody
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: cannot test permissions")
        prefix = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    return subprocess.run(
        [*prefix, sys.executable, "-m", "policyengine", *args],
        cwd=cwd,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )


def _one_error_line(stderr: str, *needles: str) -> str:
    """The single error line; it names every needle."""
    assert "internal error" not in stderr and "Traceback" not in stderr, stderr
    assert "Exception ignored" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("policyengine: error:")]
    assert len(errors) == 1, stderr
    assert not any(line.startswith((" ", "\t")) for line in lines), stderr  # no continuation
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


@pytest.fixture
def work() -> Iterator[Path]:
    """A folder every user can enter (the read-only cases run as nobody when we are root)."""
    folder = Path(tempfile.mkdtemp(prefix="pe-errors-"))
    folder.chmod(0o777)
    (folder / "policies").mkdir()
    (folder / "policies" / "mfa.yaml").write_text(MFA_POLICY)
    _snapshot(folder / "corp.jsonl", [f"u{i}" for i in range(300)])
    for path in folder.rglob("*"):
        path.chmod(0o777 if path.is_dir() else 0o666)
    yield folder
    for path in folder.rglob("*"):
        if path.is_dir():
            path.chmod(0o755)
    shutil.rmtree(folder)


def _snapshot(path: Path, ids: Sequence[str]) -> Path:
    with SnapshotWriter(path, connector="okta", instance="corp", collected_at=NOW) as w:
        for rid in ids:
            w.add({"kind": "account", "id": rid, "name": rid, "enabled": True, "type": "human"})
    return path


def _scan(work: Path, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    return _run(["scan", "--policies", "policies", *args], work, **kw)


def _good_history(work: Path, name: str = "h.db") -> Path:
    proc = _scan(work, "-s", "corp.jsonl", "--history", name, "--output-dir", "runs")
    assert proc.returncode == 0, proc.stderr
    return work / name


def _runs_recorded(history: Path) -> int:
    if not history.exists():
        return 0
    with sqlite3.connect(history) as db:
        return int(db.execute("SELECT count(*) FROM runs").fetchone()[0])


# -- history.db that is damaged or not ours ---------------------------------


def _damage_findings_table(db: Path) -> None:
    """Overwrite the findings table's root page: the file opens, reading findings fails."""
    with sqlite3.connect(db) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'findings'").fetchone()
    with open(db, "r+b") as handle:
        handle.seek((root[0] - 1) * page_size)
        handle.write(b"\x0d" + b"\xff" * (page_size - 1))


def _drop_table(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TABLE run_counts")


def _bad_json(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET missing = '{not json'")


def _foreign(db: Path) -> None:
    db.unlink()
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER, total REAL)")


def _not_sqlite(db: Path) -> None:
    db.write_text("this is a text file\n" * 100)


HISTORY_CASES = {
    "damaged page": (_damage_findings_table, ["--findings", "all"], "malformed"),
    "missing table": (_drop_table, [], "run_counts"),
    "bad JSON in a row": (_bad_json, [], "run 1"),
    "foreign SQLite file": (_foreign, [], "not a policyengine history database"),
    "not SQLite at all": (_not_sqlite, [], "not a policyengine history database"),
}


@pytest.mark.parametrize("case", list(HISTORY_CASES))
def test_bad_history_db_is_one_line_naming_it_exit_2(work, case):
    damage, extra, needle = HISTORY_CASES[case]
    db = _good_history(work)
    damage(db)
    proc = _run(["history", "--history", "h.db", *extra], work)
    assert proc.returncode == 2, proc.stderr
    _one_error_line(proc.stderr, "h.db", needle)


def test_foreign_sqlite_file_is_left_untouched(work):
    db = work / "other.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER, total REAL)")
    proc = _scan(work, "-s", "corp.jsonl", "--history", "other.db", "--output-dir", "runs")
    assert proc.returncode == 2
    _one_error_line(proc.stderr, "other.db", "not a policyengine history database")
    with sqlite3.connect(db) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"invoices"}
    assert not (work / "runs").exists()  # refused before a run folder was made


@pytest.mark.parametrize("case", ["missing table", "bad JSON in a row", "damaged page"])
def test_scan_on_a_bad_history_fails_cleanly_and_leaves_no_finished_run(work, case):
    damage, _, needle = HISTORY_CASES[case]
    db = _good_history(work)
    before = sorted(p.name for p in (work / "runs").iterdir())
    damage(db)
    proc = _scan(work, "-s", "corp.jsonl", "--history", "h.db", "--output-dir", "runs")
    assert proc.returncode == 2, proc.stderr
    _one_error_line(proc.stderr, "h.db", needle)
    new = sorted(set(p.name for p in (work / "runs").iterdir()) - set(before))
    assert all(name.endswith(".failed") for name in new), new


# -- folders and streams we cannot write --------------------------------------


def _read_only(work: Path) -> Path:
    folder = work / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    return folder


READ_ONLY_CASES = {
    "evaluate --output": (["evaluate", "-s", "corp.jsonl", "--policies", "policies",
                           "--fail-on", "none", "--output", "ro/out.json"], "ro/out.json"),
    "scan --history": (["scan", "-s", "corp.jsonl", "--policies", "policies",
                        "--history", "ro/h.db", "--output-dir", "runs"], "ro/h.db"),
    "scan --output-dir": (["scan", "-s", "corp.jsonl", "--policies", "policies",
                           "--history", "h.db", "--output-dir", "ro/runs"], "ro/runs"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(READ_ONLY_CASES))
def test_read_only_folder_is_one_line_naming_the_path_exit_2(work, case):
    args, needle = READ_ONLY_CASES[case]
    _read_only(work)
    proc = _run(args, work, unprivileged=True)
    assert proc.returncode == 2, proc.stderr
    _one_error_line(proc.stderr, needle, "Permission denied")
    assert _runs_recorded(work / "h.db") == 0


@pytest.mark.parametrize("what", ["file", "folder"])
def test_read_only_history_is_refused_before_a_run_folder_is_made(work, what):
    (work / "hd").mkdir(mode=0o777)
    (work / "hd").chmod(0o777)
    args = ["-s", "corp.jsonl", "--history", "hd/h.db", "--output-dir", "runs"]
    assert _scan(work, *args, unprivileged=True).returncode == 0
    before = sorted((work / "runs").iterdir())
    (work / "hd" / "h.db").chmod(0o444) if what == "file" else (work / "hd").chmod(0o555)
    proc = _scan(work, *args, unprivileged=True)
    assert proc.returncode == 2, proc.stderr
    _one_error_line(proc.stderr, "hd/h.db", "cannot write the history database")
    assert sorted((work / "runs").iterdir()) == before
    assert _runs_recorded(work / "hd" / "h.db") == 1


@pytest.mark.parametrize("command", ["lint", "evaluate"])
def test_unreadable_policy_folder_is_an_error_not_zero_policies(work, command):
    (work / "policies" / "private").mkdir()
    (work / "policies" / "private").chmod(0o000)  # no one but root may list it
    args = ["lint", "policies"] if command == "lint" else [
        "evaluate", "-s", "corp.jsonl", "--policies", "policies"]  # fmt: skip
    proc = _run(args, work, unprivileged=True)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    _one_error_line(proc.stderr, "policies/private", "cannot read folder", "Permission denied")


STDOUT_CASES = {
    "evaluate": ["evaluate", "-s", "corp.jsonl", "--policies", "policies", "--fail-on", "none"],
    "scan": ["scan", "-s", "corp.jsonl", "--policies", "policies", "--history", "h.db"],
    "lint": ["lint", "policies"],
    "history": ["history", "--history", "h.db"],
}


@pytest.mark.parametrize("case", list(STDOUT_CASES))
def test_stdout_on_dev_full_is_one_line_exit_2(work, case):
    if case == "history":
        _good_history(work)
    with open("/dev/full", "w") as full:
        proc = _run(STDOUT_CASES[case], work, stdout=full)
    assert proc.returncode == 2, proc.stderr
    _one_error_line(proc.stderr, "standard output", "No space left on device")


# -- input files ---------------------------------------------------------------


@pytest.mark.parametrize("command", ["lint", "evaluate"])
def test_nul_byte_in_a_policy_names_file_and_line(work, command):
    bad = work / "policies" / "nul.yaml"
    bad.write_text("id: T-NUL-001\ntitle: bad\x00title\nseverity: high\n")
    args = ["lint", "policies/nul.yaml"] if command == "lint" else [
        "evaluate", "-s", "corp.jsonl", "--policies", "policies/nul.yaml"]  # fmt: skip
    proc = _run(args, work)
    assert proc.returncode == (1 if command == "lint" else 2), proc.stderr + proc.stdout
    text = proc.stdout + proc.stderr
    assert "policies/nul.yaml:2:11:" in text and "NUL" in text, text
    assert "<unicode string>" not in text and "position" not in text, text
    if command == "evaluate":
        _one_error_line(proc.stderr, "nul.yaml:2:11")


def _duplicate_snapshot(work: Path) -> Path:
    path = work / "dup.jsonl"
    _snapshot(path, ["u1", "u2", "u3"])  # the writer refuses duplicates: edit the file
    path.write_text(path.read_text().replace('"id":"u3","name":"u3"', '"id":"u1","name":"u3"'))
    return path


DUPLICATE_CASES = {
    "dup.jsonl": ["dup.jsonl:4:", "'u1'", "first at line 2"],
    "dup.jsonl.gz": ["dup.jsonl.gz:4:", "'u1'", "first at line 2"],
    "dup.json": ["dup.json: record 2:", "accounts[2].id", "'u1'", "first at accounts[0]"],
}


@pytest.mark.parametrize("name", list(DUPLICATE_CASES))
def test_duplicate_id_in_a_snapshot_names_file_line_and_id(work, name):
    jsonl = _duplicate_snapshot(work)
    if name.endswith(".gz"):
        (work / name).write_bytes(gzip.compress(jsonl.read_bytes()))
    elif name == "dup.json":
        header, *lines = jsonl.read_text().splitlines()
        doc = {**json.loads(header), "accounts": [json.loads(line) for line in lines]}
        (work / name).write_text(json.dumps(doc))
    proc = _run(["evaluate", "-s", name, "--policies", "policies"], work)
    assert proc.returncode == 2
    _one_error_line(proc.stderr, *DUPLICATE_CASES[name])


def test_scan_failing_after_its_folder_exists_marks_it_failed_and_names_it(work):
    _duplicate_snapshot(work)
    proc = _scan(work, "-s", "dup.jsonl", "--history", "h.db", "--output-dir", "runs")
    assert proc.returncode == 2
    (folder,) = (work / "runs").iterdir()
    assert folder.name.endswith(".failed")
    _one_error_line(proc.stderr, f"runs/{folder.name}/snapshots/dup.jsonl:4:", "'u1'")
    assert _runs_recorded(work / "h.db") == 0


# -- scan configuration ----------------------------------------------------------


def _config(work: Path, connector: str) -> Path:
    path = work / "policyengine.yaml"
    path.write_text(
        "history: h.db\noutput_dir: runs\nconnectors:\n" + textwrap.indent(connector, "  ")
    )
    return path


CONFIG_CASES = {
    "unknown connector option": (
        "- instance: okta\n  type: okta\n  org_url: https://example.okta.com\n"
        "  token_env: OKTA_TOKEN\n  pagesize: 10\n",
        ["policyengine.yaml:4", "unknown option 'pagesize'"],
    ),
    "invalid LDAP URL": (
        "- instance: corp\n  type: ldap\n  url: 'ldaps://[dc1.corp.example]'\n"
        "  base_dn: dc=corp,dc=example\n  password_env: LDAP_PW\n",
        ["policyengine.yaml:4", "option 'url'", "ldaps://[dc1.corp.example]"],
    ),
}


@pytest.mark.parametrize("case", list(CONFIG_CASES))
def test_scan_config_error_is_exit_2_and_records_no_run(work, case):
    connector, needles = CONFIG_CASES[case]
    _config(work, connector)
    proc = _scan(work, env={"OKTA_TOKEN": "t0ken", "LDAP_PW": "pw"})
    assert proc.returncode == 2, proc.stderr
    line = _one_error_line(proc.stderr, *needles)
    assert "LDAPInvalidServerError" not in line
    assert not (work / "runs").exists()
    assert _runs_recorded(work / "h.db") == 0


# -- SIGTERM -------------------------------------------------------------------------


def test_sigterm_during_collection_marks_the_run_folder_failed(work):
    # A server that accepts the connection and never answers: the scan blocks in collection.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        _config(
            work,
            f"- instance: okta\n  type: okta\n  org_url: http://127.0.0.1:{port}\n"
            "  token_env: OKTA_TOKEN\n",
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "policyengine", "scan", "--policies", "policies"],
            cwd=work,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "OKTA_TOKEN": "t0ken"},
        )
        try:
            deadline = time.monotonic() + 60
            while not (work / "runs").is_dir() or not any((work / "runs").iterdir()):
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the scan never created its run folder"
                time.sleep(0.05)
            time.sleep(0.3)  # let it reach the connector's blocking read
            proc.send_signal(signal.SIGTERM)
            _, stderr = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    (folder,) = (work / "runs").iterdir()
    assert folder.name.endswith(".failed")
    _one_error_line(stderr, "terminated", f"runs/{folder.name}")
    assert _runs_recorded(work / "h.db") == 0
    history = _run(["history", "--history", "h.db", "--format", "json"], work)
    assert json.loads(history.stdout)["runs"] == []
