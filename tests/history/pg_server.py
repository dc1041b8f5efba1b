"""A real PostgreSQL server for the tests and the benchmark, started from a temporary folder.

Debian's ``postgresql`` package (``postgresql-15`` holds ``initdb``, ``pg_ctl``
and ``postgres``) with no system service: ``initdb`` into a fresh folder, a
free loopback port, the unix socket in the same folder. ``initdb`` and
``postgres`` refuse to run as root, so as root the server runs as the
``postgres`` user (created by the package), or ``nobody``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: The test role's password: the tests pass it through POLICYENGINE_HISTORY_PASSWORD.
PASSWORD = "pe-history-Test-7Qx"
USER = "scanner"


def pg_bindir() -> Path | None:
    """The newest installed ``/usr/lib/postgresql/<major>/bin`` that has ``initdb``."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True, slots=True)
class PostgresServer:
    host: str
    port: int
    user: str
    password: str
    folder: Path

    def url(self, database: str = "postgres") -> str:
        """A URL without a password, as a policyengine.yaml would carry it."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    def admin(self, sql: str, database: str = "postgres") -> None:
        """Run ``sql`` as the test role (autocommit: CREATE DATABASE needs it)."""
        import psycopg

        with psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=database,
            autocommit=True,
        ) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def create_database(self, name: str) -> str:
        self.admin(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _runner() -> tuple[int, int] | None:
    """(uid, gid) to run the server as, or None to run as ourselves (not root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(name)
            return entry.pw_uid, entry.pw_gid
    raise RuntimeError("running as root and there is no postgres or nobody user for PostgreSQL")


@contextlib.contextmanager
def postgres_server(timeout: float = 60.0, *, durable: bool = False) -> Iterator[PostgresServer]:
    """Start a throwaway server; stop it and delete its folder afterwards.

    Tests run without fsync (nothing to keep); ``durable=True`` (the benchmark) keeps
    PostgreSQL's defaults, so its commits cost what they cost in production.

    Raises RuntimeError (with initdb's or the server's own words) when it cannot start.
    """
    bindir = pg_bindir()
    if bindir is None:
        raise RuntimeError(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): "
            "apt-get install postgresql"
        )
    folder = Path(tempfile.mkdtemp(prefix="pe-pg-", dir="/tmp"))
    runner = _runner()
    if runner:
        os.chown(folder, *runner)
    data = folder / "data"
    pwfile = folder / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if runner:
        os.chown(pwfile, *runner)
    user_kw = {"user": runner[0], "group": runner[1], "extra_groups": []} if runner else {}
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    port = _free_port()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            args, capture_output=True, text=True, env=env, cwd=folder, timeout=timeout, **user_kw
        )
        if proc.returncode:
            raise RuntimeError(
                f"{Path(args[0]).name} failed: {(proc.stderr or proc.stdout)[-1500:]}"
            )
        return proc

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", USER, "--pwfile", str(pwfile),
            "-A", "scram-sha-256", "-E", "UTF8", "--no-sync")  # fmt: skip
        options = f"-h 127.0.0.1 -p {port} -k {folder} -c max_connections=60"
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"),
            "-w", "-t", str(int(timeout)), "start")  # fmt: skip
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        log = folder / "log"
        tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"cannot start PostgreSQL: {exc} {tail}".strip()) from None
    try:
        yield PostgresServer("127.0.0.1", port, USER, PASSWORD, folder)
    finally:
        with contextlib.suppress(Exception):
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        for _ in range(50):  # the postmaster may linger a moment after pg_ctl returns
            if not (data / "postmaster.pid").exists():
                break
            time.sleep(0.1)
        shutil.rmtree(folder, ignore_errors=True)
