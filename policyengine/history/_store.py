"""The scan history: which findings each run saw, and when each one was fixed.

One SQLite file. Every write is one ``BEGIN IMMEDIATE`` transaction with a
busy timeout, so concurrent writers wait for each other and a crash leaves
the previous state intact.

Fail closed: a finding that is absent from a run is marked resolved only when
its source was collected *completely* in that run and its policy was
evaluated; otherwise it is carried forward as still open.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policyengine.findings.model import SEVERITIES, Finding, Result
from policyengine.history._errors import (
    HistoryError,
    HistoryLockedError,
    describe_sqlite_error,
    reported,
)
from policyengine.history._schema import migrate
from policyengine.history._target import HistoryTarget, PostgresHistory
from policyengine.history._transitions import (
    COUNT_FIELDS,
    coverage_of,
    seen_in,
    transitions,
)
from policyengine.history._validate import check_tables, json_column, refuse_foreign
from policyengine.model.timestamps import normalise_timestamp, parse_timestamp


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One recorded scan and its counts (optionally restricted to one policy)."""

    id: int
    started_at: str
    finished_at: str
    data_time: str
    complete: bool
    missing: tuple[str, ...]
    output_dir: str | None
    #: active (not waived) findings open after this run, including carried ones
    open: int
    new: int
    resolved: int
    still_open: int
    #: open findings not re-checked because their source was incomplete or absent
    carried: int
    waived: int
    by_severity: Mapping[str, int] = field(default_factory=dict)
    by_source: Mapping[str, int] = field(default_factory=dict)
    sources: tuple[Mapping[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "data_time": self.data_time,
            "complete": self.complete,
            "missing": list(self.missing),
            "output_dir": self.output_dir,
            "open": self.open,
            "new": self.new,
            "resolved": self.resolved,
            "still_open": self.still_open,
            "carried": self.carried,
            "waived": self.waived,
            "by_severity": dict(self.by_severity),
            "by_source": dict(self.by_source),
            "sources": [dict(s) for s in self.sources],
        }


@dataclass(frozen=True, slots=True)
class FindingRecord:
    """A finding's life across runs."""

    fingerprint: str
    policy_id: str
    severity: str
    title: str
    kind: str
    source: str
    resource_id: str
    resource_name: str
    first_seen: str
    opened_at: str
    last_seen: str
    resolved_at: str | None
    reopened: int
    waived: bool
    waiver_expires: str | None

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "policy_id": self.policy_id,
            "severity": self.severity,
            "title": self.title,
            "resource": {
                "kind": self.kind,
                "source": self.source,
                "id": self.resource_id,
                "name": self.resource_name,
            },
            "first_seen": self.first_seen,
            "opened_at": self.opened_at,
            "last_seen": self.last_seen,
            "resolved_at": self.resolved_at,
            "reopened": self.reopened,
            "waived": self.waived,
            "waiver_expires": self.waiver_expires,
        }


@dataclass(frozen=True, slots=True)
class RunChanges:
    """What :meth:`HistoryStore.record_run` found: the run and its transitions."""

    run: RunRecord
    new: tuple[str, ...]  # fingerprints first seen (or re-opened) in this run
    resolved: tuple[FindingRecord, ...]
    carried: tuple[FindingRecord, ...]


@dataclass(frozen=True, slots=True)
class RemediationTime:
    """Mean time to remediate for one severity."""

    severity: str
    resolved: int
    mean_hours: float | None
    median_hours: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "resolved": self.resolved,
            "mean_hours": self.mean_hours,
            "median_hours": self.median_hours,
        }


#: ``2026-11-01T06:00:00Z`` (or a date, ``2026-11-01``) as an aware datetime
parse_time = parse_timestamp


def normalise_since(text: str) -> str:
    """Turn a user's ``--since`` (date or timestamp) into a comparable UTC string."""
    try:
        return normalise_timestamp(text)
    except ValueError:
        raise HistoryError(
            f"--since {text!r} is not a date (2026-11-01) or timestamp (2026-11-01T06:00:00Z)"
        ) from None


class HistoryStore:
    """A history database. Open with :meth:`open`; use as a context manager.

    >>> import tempfile, pathlib
    >>> from policyengine.findings.model import Result
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "history.db"
    >>> with HistoryStore.open(path) as store:
    ...     changes = store.record_run(Result((), (), (), "2026-11-01T00:00:00Z"),
    ...                                started_at="2026-11-01T06:00:00Z")
    ...     [r.id for r in store.runs()]
    [1]
    """

    def __init__(
        self, db: sqlite3.Connection, path: Path | None, target: HistoryTarget | None = None
    ) -> None:
        #: sqlite3.Connection, or history._postgres.PostgresConnection (same SQL surface)
        self._db = db
        self.path = path
        #: the file or the PostgreSQL schema, for messages
        self.target: HistoryTarget = target if target is not None else Path(path or "")

    # -- opening ------------------------------------------------------------
    @classmethod
    def open(cls, path: HistoryTarget, *, busy_timeout: float = 30.0) -> HistoryStore:
        """Open (creating and migrating as needed) the history at ``path``.

        ``path`` is a SQLite file or a :class:`PostgresHistory` (a schema in PostgreSQL).
        """
        if isinstance(path, PostgresHistory):
            return cls._open_postgres(path)
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _create_private(path)
            # isolation_level=None: we issue BEGIN IMMEDIATE / COMMIT ourselves.
            db = sqlite3.connect(str(path), timeout=busy_timeout, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise HistoryError(f"cannot open history database: {exc}", path=path) from None
        store = cls(db, path)
        try:
            db.execute("PRAGMA foreign_keys = ON")
            # Fingerprints are random keys: a bigger page cache avoids thrashing on large runs.
            db.execute("PRAGMA cache_size = -65536")
            with store._write():
                refuse_foreign(db)
                migrate(db)
                check_tables(db)
        except ValueError as exc:
            db.close()
            raise HistoryError(str(exc), path=path) from None
        except HistoryError:
            db.close()
            raise
        except sqlite3.DatabaseError as exc:
            db.close()
            raise describe_sqlite_error(exc, path) from None
        return store

    @classmethod
    def _open_postgres(cls, target: PostgresHistory) -> HistoryStore:
        from typing import cast

        from policyengine.history import _postgres

        conn = _postgres.connect(target)
        # The adapter takes the same SQL as sqlite3; migrations are written once for both.
        db = cast(sqlite3.Connection, conn)
        store = cls(db, None, target)
        try:
            with store._write():
                refuse_foreign(db)
                migrate(db)
                check_tables(db)
        except ValueError as exc:
            conn.close()
            raise HistoryError(f"{target}: {exc}") from None
        except HistoryError:
            conn.close()
            raise
        except Exception as exc:
            conn.close()
            if type(exc).__module__.startswith("psycopg"):
                raise _postgres.describe_pg_error(exc, target) from None
            raise
        return store

    @contextmanager
    def scan_lock(self, timeout: float = 0.0) -> Iterator[None]:
        """PostgreSQL only: hold this history's advisory lock (a SQLite file uses ScanLock)."""
        lock = getattr(self._db, "scan_lock", None)
        if lock is None:
            raise TypeError("scan_lock is for PostgreSQL histories; use ScanLock for a file")
        with lock(timeout):
            yield

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    #: the columns of the ``actions`` table (migration 3) that callers may write and read
    ACTION_COLUMNS = (
        "at", "actor", "plan_hash", "entry_id", "policy_id", "fingerprint", "source", "action",
        "target_kind", "target_id", "target_name", "result", "detail", "before", "after",
    )  # fmt: skip

    def add_action(self, row: Mapping[str, Any]) -> None:
        """Record one remediation step (its own transaction: it survives an interrupted run)."""
        unknown = sorted(set(row) - set(self.ACTION_COLUMNS))
        if unknown:
            raise ValueError(f"actions has no column {', '.join(unknown)}")
        names = list(row)
        marks = ", ".join("?" for _ in names)
        with self._write() as db:
            db.execute(
                f"INSERT INTO actions ({', '.join(names)}) VALUES ({marks})",
                [row[n] for n in names],
            )

    def action_rows(
        self, *, plan_hash: str | None = None, limit: int | None = None
    ) -> list[tuple[Any, ...]]:
        """The recorded steps (all :attr:`ACTION_COLUMNS`), newest first; of one plan or all."""
        sql = f"SELECT {', '.join(self.ACTION_COLUMNS)} FROM actions"
        args: list[Any] = []
        if plan_hash is not None:
            sql += " WHERE plan_hash = ?"
            args.append(plan_hash)
        sql += " ORDER BY id DESC" + (f" LIMIT {int(limit)}" if limit else "")
        return [tuple(r) for r in self._db.execute(sql, args).fetchall()]

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: taken up front (IMMEDIATE), so writers queue, not deadlock."""
        if isinstance(self.target, PostgresHistory):  # row locks; the scan lock orders runs
            with self._db.transaction():  # type: ignore[attr-defined]
                yield self._db
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise HistoryLockedError(
                    f"history database stayed busy (another writer): {exc}", path=self.path
                ) from None
            raise
        try:
            yield self._db
        except BaseException:
            if self._db.in_transaction:  # SQLite already rolled back on some errors (full disk)
                self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @reported
    def check_writable(self) -> None:
        """Raise now, not after a scan's collection, if the file or its folder is read-only."""
        if isinstance(self.target, PostgresHistory):
            self._db.execute("BEGIN")
            try:  # a role without CREATE/INSERT on the schema fails here, not after collection
                self._db.execute("INSERT INTO schema_version SELECT version FROM schema_version")
            finally:
                self._db.execute("ROLLBACK")
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:  # a real write, rolled back (SQLite skips an UPDATE that changes nothing)
            self._db.execute("CREATE TABLE policyengine_write_check (x INTEGER)")
        finally:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")

    @reported
    def schema_version(self) -> int:
        return int(self._db.execute("SELECT version FROM schema_version").fetchone()[0])

    # -- recording ----------------------------------------------------------
    @reported
    def record_run(
        self,
        result: Result,
        *,
        started_at: str,
        finished_at: str | None = None,
        output_dir: str | None = None,
        evaluated_policies: Collection[str] | None = None,
    ) -> RunChanges:
        """Record one scan's (waived) result and return what changed since the last one.

        ``evaluated_policies`` are the policy ids that ran; a finding of a policy
        that did not run is never resolved. ``None`` means the ids in
        ``result.policies`` (or, when that is empty, every policy).
        """
        at = started_at
        missing = sorted({s.instance for s in result.sources if not s.complete})
        seen = seen_in(result)
        with self._write() as db:
            # Read the state before this run's row exists: an open, not carried row's
            # last seen is the latest run, so that must still be the previous one here.
            open_rows = {r.fingerprint: r for r in self._select("WHERE resolved_at IS NULL")}
            frozen = {
                row[0]
                for row in db.execute(
                    "SELECT fingerprint FROM findings WHERE resolved_at IS NULL AND carried = 1"
                )
            }
            previous_run = db.execute("SELECT MAX(id) FROM runs").fetchone()[0]
            known = dict(open_rows)
            unknown = [fp for fp in seen.findings if fp not in known]
            for i in range(0, len(unknown), 500):
                chunk = unknown[i : i + 500]
                marks = ",".join("?" * len(chunk))
                for r in self._select(f"WHERE fingerprint IN ({marks})", chunk):
                    known[r.fingerprint] = r
            change = transitions(seen, known, open_rows, coverage_of(result, evaluated_policies))
            run_id = int(
                db.execute(
                    "INSERT INTO runs (started_at, finished_at, data_time, complete, missing, "
                    "sources, output_dir, open, new, resolved, still_open, carried, waived) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0, 0) RETURNING id",
                    (
                        started_at,
                        finished_at or started_at,
                        result.now,
                        int(result.complete),
                        json.dumps(missing),
                        json.dumps([s.to_dict() for s in result.sources]),
                        output_dir,
                    ),
                ).fetchone()[0]
            )

            def refreshed(f: Finding) -> tuple[Any, ...]:
                expires = f.waiver.expires if f.waiver else None
                return (f.severity, f.title, f.resource.name, at, run_id, int(f.waived), expires)

            inserts = [
                (
                    f.fingerprint,
                    f.policy_id,
                    f.severity,
                    f.title,
                    f.resource.kind,
                    f.resource.source,
                    f.resource.id,
                    f.resource.name,
                    at,
                    at,
                    at,
                    run_id,
                    run_id,
                    int(f.waived),
                    f.waiver.expires if f.waiver else None,
                )
                for f in change.first_seen
            ]
            # Seen again: rewrite a row only when something in it changes (its last seen is
            # the latest run while it stays uncarried), so a run where 1% changed writes ~1%.
            updates = [
                (*refreshed(f), f.fingerprint)
                for f in change.still_open
                if f.fingerprint in frozen or _differs(f, open_rows[f.fingerprint])
            ]
            reopens = [(*refreshed(f), at, f.fingerprint) for f in change.reopened]
            resolves = [
                (at, run_id, row.last_seen, previous_run, row.fingerprint)
                for row in change.resolved
            ]
            resolved_now = {row.fingerprint for row in change.resolved}
            # Open, not seen, not resolved: freeze last seen at the previous run (once).
            freezes = [
                (row.last_seen, previous_run, fp)
                for fp, row in open_rows.items()
                if fp not in frozen
                and fp not in resolved_now
                and fp not in seen.findings
                and fp not in seen.folded
            ]
            events = [(run_id, fp, event) for fp, event in change.events]
            counts = change.counts
            # Batched: one statement per kind of change keeps 100k findings to seconds.
            _insert_many(
                db,
                "findings",
                (
                    "fingerprint, policy_id, severity, title, kind, source, resource_id, "
                    "resource_name, first_seen, opened_at, last_seen, first_run, last_run, "
                    "waived, waiver_expires"
                ),
                inserts,
            )
            refresh = (
                "UPDATE findings SET severity = ?, title = ?, resource_name = ?, "
                "last_seen = ?, last_run = ?, waived = ?, waiver_expires = ?, carried = 0"
            )
            # Still open: leave resolved_at alone so its index is not rewritten.
            db.executemany(refresh + " WHERE fingerprint = ?", updates)
            db.executemany(
                refresh + ", opened_at = ?, reopened = reopened + 1, "
                "resolved_at = NULL, resolved_run = NULL WHERE fingerprint = ?",
                reopens,
            )
            db.executemany(
                "UPDATE findings SET resolved_at = ?, resolved_run = ?, last_seen = ?, "
                "last_run = CASE WHEN carried = 1 THEN last_run ELSE ? END, carried = 0 "
                "WHERE fingerprint = ?",
                resolves,
            )
            db.executemany(
                "UPDATE findings SET last_seen = ?, last_run = ?, carried = 1 "
                "WHERE fingerprint = ?",
                freezes,
            )
            _insert_many(db, "events", "run_id, fingerprint, event", events)
            _insert_many(
                db,
                "run_counts",
                "run_id, policy_id, severity, source, open, new, resolved, still_open, "
                "carried, waived",
                [
                    (run_id, p, s, src, *(c[k] for k in COUNT_FIELDS))
                    for (p, s, src), c in sorted(counts.items())
                ],
            )
            totals = {k: sum(c[k] for c in counts.values()) for k in COUNT_FIELDS}
            db.execute(
                "UPDATE runs SET open = ?, new = ?, resolved = ?, still_open = ?, carried = ?, "
                "waived = ? WHERE id = ?",
                (*(totals[k] for k in COUNT_FIELDS), run_id),
            )
        run = self.runs(run_ids=[run_id])[0]
        return RunChanges(
            run=run,
            new=tuple(change.new),
            resolved=tuple(_replace_resolved(row, at) for row in change.resolved),
            carried=tuple(change.carried),
        )

    # -- reading ------------------------------------------------------------
    def _select(self, where: str, params: Any = ()) -> list[FindingRecord]:
        # An open row the latest run saw is not rewritten by it: its last seen is that run.
        latest = self._db.execute("SELECT started_at FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        rows = self._db.execute(
            "SELECT fingerprint, policy_id, severity, title, kind, source, resource_id, "
            "resource_name, first_seen, opened_at, "
            "CASE WHEN resolved_at IS NULL AND carried = 0 THEN ? ELSE last_seen END, "
            "resolved_at, reopened, waived, "
            f"waiver_expires FROM findings {where}",
            (latest[0] if latest else None, *params),
        ).fetchall()
        return [
            FindingRecord(*r[:13], waived=bool(r[13]), waiver_expires=r[14])  # type: ignore[misc]
            for r in rows
        ]

    @reported
    def runs(
        self,
        *,
        since: str | None = None,
        policy: str | None = None,
        limit: int | None = None,
        run_ids: Collection[int] | None = None,
    ) -> list[RunRecord]:
        """Recorded runs, oldest first; counts restricted to ``policy`` when given.

        ``limit`` keeps the most recent runs.
        """
        where: list[str] = ["1 = 1"]
        params: list[str | int] = []
        if since:
            where.append("started_at >= ?")
            params.append(normalise_since(since))
        if run_ids is not None:
            ids = list(run_ids)
            where.append(f"id IN ({','.join('?' * len(ids))})")
            params.extend(ids)
        sql = (
            "SELECT id, started_at, finished_at, data_time, complete, missing, output_dir, "
            f"sources FROM runs WHERE {' AND '.join(where)} ORDER BY id DESC"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        rows = self._db.execute(sql, params).fetchall()[::-1]
        if not rows:
            return []
        ids = [r[0] for r in rows]
        count_sql = (
            "SELECT run_id, severity, source, SUM(open), SUM(new), SUM(resolved), "
            "SUM(still_open), SUM(carried), SUM(waived) FROM run_counts "
            f"WHERE run_id IN ({','.join('?' * len(ids))})"
        )
        count_params: list[Any] = list(ids)
        if policy:
            count_sql += " AND policy_id = ?"
            count_params.append(policy)
        count_sql += " GROUP BY run_id, severity, source"
        per_run: dict[int, dict[str, Any]] = {}
        for run_id, severity, source, *values in self._db.execute(count_sql, count_params):
            agg = per_run.setdefault(
                run_id,
                {
                    **dict.fromkeys(COUNT_FIELDS, 0),
                    "by_severity": dict.fromkeys(SEVERITIES, 0),
                    "by_source": {},
                },
            )
            for key, value in zip(COUNT_FIELDS, values, strict=True):
                agg[key] += value
            agg["by_severity"][severity] = agg["by_severity"].get(severity, 0) + values[0]
            if values[0]:
                agg["by_source"][source] = agg["by_source"].get(source, 0) + values[0]
        out = []
        for run_id, started, finished, data_time, complete, missing, outdir, sources in rows:
            agg = per_run.get(run_id) or {
                **dict.fromkeys(COUNT_FIELDS, 0),
                "by_severity": dict.fromkeys(SEVERITIES, 0),
                "by_source": {},
            }
            out.append(
                RunRecord(
                    id=run_id,
                    started_at=started,
                    finished_at=finished,
                    data_time=data_time,
                    complete=bool(complete),
                    missing=tuple(json_column(missing, run_id=run_id, column="missing")),
                    output_dir=outdir,
                    open=agg["open"],
                    new=agg["new"],
                    resolved=agg["resolved"],
                    still_open=agg["still_open"],
                    carried=agg["carried"],
                    waived=agg["waived"],
                    by_severity=agg["by_severity"],
                    by_source=dict(sorted(agg["by_source"].items())),
                    sources=tuple(json_column(sources, run_id=run_id, column="sources")),
                )
            )
        return out

    @reported
    def findings(
        self, *, policy: str | None = None, open_only: bool = False
    ) -> list[FindingRecord]:
        """Every finding ever seen (or only the open ones), most severe first."""
        where, params = ["1 = 1"], []
        if policy:
            where.append("policy_id = ?")
            params.append(policy)
        if open_only:
            where.append("resolved_at IS NULL")
        records = self._select("WHERE " + " AND ".join(where), params)
        rank = {s: i for i, s in enumerate(SEVERITIES)}
        return sorted(
            records,
            key=lambda r: (rank.get(r.severity, 9), r.policy_id, r.source, r.resource_id),
        )

    @reported
    def remediation_times(
        self, *, policy: str | None = None, since: str | None = None
    ) -> list[RemediationTime]:
        """Mean (and median) time from opened to resolved, per severity.

        A finding that was reopened counts its latest open period.
        """
        where, params = ["resolved_at IS NOT NULL"], []
        if policy:
            where.append("policy_id = ?")
            params.append(policy)
        if since:
            where.append("resolved_at >= ?")
            params.append(normalise_since(since))
        hours: dict[str, list[float]] = {s: [] for s in SEVERITIES}
        for severity, opened, resolved in self._db.execute(
            f"SELECT severity, opened_at, resolved_at FROM findings WHERE {' AND '.join(where)}",
            params,
        ):
            delta = parse_time(resolved) - parse_time(opened)
            hours.setdefault(severity, []).append(delta.total_seconds() / 3600)
        out = []
        for severity, values in hours.items():
            values.sort()
            n = len(values)
            mean = round(sum(values) / n, 2) if n else None
            if n:
                mid = n // 2
                median = values[mid] if n % 2 else (values[mid - 1] + values[mid]) / 2
            out.append(
                RemediationTime(
                    severity=severity,
                    resolved=n,
                    mean_hours=mean,
                    median_hours=round(median, 2) if n else None,
                )
            )
        return out

    @reported
    def trend(self, limit: int = 30) -> tuple[dict[str, Any], ...]:
        """The last ``limit`` runs as plain dicts, for ``ReportOptions.history``."""
        return tuple(r.to_dict() for r in self.runs(limit=limit))


def _differs(seen: Finding, row: FindingRecord) -> bool:
    """Whether a still-open finding changed anything its row stores (besides last seen)."""
    expires = seen.waiver.expires if seen.waiver else None
    return (seen.severity, seen.title, seen.resource.name, seen.waived, expires) != (
        row.severity,
        row.title,
        row.resource_name,
        row.waived,
        row.waiver_expires,
    )


def _insert_many(
    db: sqlite3.Connection, table: str, columns: str, rows: list[tuple[Any, ...]]
) -> None:
    """Insert ``rows``: COPY on PostgreSQL, one prepared statement on SQLite."""
    if not rows:
        return
    copy_rows = getattr(db, "copy_rows", None)  # history._postgres.PostgresConnection
    if copy_rows is not None:
        copy_rows(table, [c.strip() for c in columns.split(",")], rows)
        return
    marks = ", ".join("?" * (columns.count(",") + 1))
    db.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


def _replace_resolved(row: FindingRecord, at: str) -> FindingRecord:
    from dataclasses import replace

    return replace(row, resolved_at=at)


def _create_private(path: Path) -> None:
    """Refuse a symlinked history; create a new one 0600 (SQLite's journals copy its mode)."""
    if path.is_symlink():
        raise HistoryError("is a symbolic link; refusing to follow it", path=path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    with suppress(FileExistsError):
        os.close(os.open(path, flags, 0o600))
