"""Stream resources into a snapshot file with bounded memory.

Records are spooled to a temporary JSON Lines file next to the target; the
header (which records whether collection was complete, its errors and the
record count) is only known at the end, so the final file is assembled on
close and moved into place atomically (``policyengine.fsutil``: 0600, never
through a symlink, written straight into a device or FIFO). A reader therefore
never sees a half-written snapshot under the final name, and a truncated file
is caught by the record count. When the disk fills up, nothing is left behind:
the spool is removed and a usage error says that nothing was written.

>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp()) / "corp.jsonl"
>>> with SnapshotWriter(out, connector="ldap", instance="corp") as w:
...     w.add({"kind": "account", "id": "u1", "name": "alice", "enabled": True})
False
>>> out.read_text().splitlines()[1]
'{"kind":"account","id":"u1","name":"alice","enabled":true,"source":"corp","source_type":"ldap"}'

Every record is checked against the model table (``policyengine.model.kinds``):
an unknown or mistyped field is a :class:`ModelViolation` when the writer is
strict (``strict=True``, ``collect --strict``, or ``POLICYENGINE_STRICT_MODEL=1``
as the test suite sets it), otherwise a warning naming connector, kind and field
(once per field), and the record is written as it is.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson

from policyengine.errors import UsageError
from policyengine.fsutil import open_for_write, refuse_symlink
from policyengine.model.kinds import KINDS, LIST_KEYS
from policyengine.model.timestamps import utc_now as utc_now_iso
from policyengine.snapshot._format import is_gzip, is_jsonl
from policyengine.snapshot.validate import check_record, unknown_field

#: environment switch for a strict writer everywhere (the test suite sets it)
STRICT_ENV = "POLICYENGINE_STRICT_MODEL"


class ModelViolation(ValueError):
    """A strict writer was given a record outside the model (a connector bug)."""


def strict_from_env() -> bool:
    return os.environ.get(STRICT_ENV, "").strip().lower() in {"1", "true", "yes"}


class SnapshotWriter:
    """Write one connector instance's resources to ``path``.

    The encoding follows the name: ``.jsonl`` (or ``.ndjson``) for JSON Lines,
    anything else for JSON; a trailing ``.gz`` compresses. Use as a context
    manager; leaving it with an exception records the error and writes the
    snapshot with ``complete: false`` (fail closed), then lets the exception
    propagate.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        connector: str,
        instance: str,
        collected_at: str | None = None,
        extra_source: Mapping[str, Any] | None = None,
        spool_dir: str | os.PathLike[str] | None = None,
        strict: bool | None = None,
    ) -> None:
        self.path = Path(path)
        #: refuse records outside the model (None: ``POLICYENGINE_STRICT_MODEL``)
        self.strict = strict_from_env() if strict is None else strict
        self._warned: set[tuple[str, str]] = set()
        self.connector = connector
        self.instance = instance
        self.collected_at = collected_at or utc_now_iso()
        self.extra_source = dict(extra_source or {})
        self.errors: list[str] = []
        self.complete = True
        self.counts: dict[str, int] = dict.fromkeys(KINDS, 0)
        # hashes, not the ids themselves: flat memory for million-record directories
        # (a 64-bit collision over 1M ids has a probability around 3e-8)
        self._ids: set[int] = set()
        #: (kind, id) hash -> how many earlier spool lines of it a replacement made stale
        self._superseded: dict[int, int] = {}
        refuse_symlink(self.path)  # fail before collecting, not after
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            folder = Path(spool_dir) if spool_dir is not None else _spool_folder(self.path)
            # mkstemp: O_EXCL and 0600, so a planted link cannot catch the spool
            fd, spool = tempfile.mkstemp(prefix=".spool-", suffix=".jsonl", dir=folder)
        except OSError as exc:
            raise UsageError(f"{self.path}: cannot write the snapshot: {exc.strerror}") from None
        self._spool_path = Path(spool)
        self._spool = os.fdopen(fd, "wb")
        self._closed = False

    # -- collecting -------------------------------------------------------
    def add(self, resource: Mapping[str, Any], *, replace: bool = False) -> bool:
        """Append one resource. It needs ``kind`` and ``id``; ``source`` and ``source_type`` are
        stamped (the instance and connector), timestamps normalised, fields checked.

        A second resource with the same kind and id is an error, unless
        ``replace``: then it supersedes the earlier one (a later listing saw a
        newer state) and only the last is written. Returns whether it replaced one.
        """
        kind = resource.get("kind")
        if kind not in LIST_KEYS:
            raise ValueError(f"resource kind {kind!r} is not one of {', '.join(KINDS)}")
        rid = resource.get("id")
        if not isinstance(rid, str) or not rid:
            raise ValueError(f"{kind} resource needs a non-empty string id, got {rid!r}")
        # kind first: the JSON encoder finds each kind's lines by that prefix.
        record = {"kind": kind, **resource}
        record.setdefault("source", self.instance)
        record["source_type"] = self.connector
        self._check(record)
        key = hash((kind, rid))
        replacing = key in self._ids
        if replacing and not replace:
            raise ValueError(f"duplicate {kind} id {rid!r} in one snapshot")
        self._ids.add(key)
        try:
            self._spool.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
        except OSError as exc:  # a full disk: a half-written spool line is worth nothing
            self.discard()
            raise self._not_written(exc.strerror) from None
        if replacing:
            self._superseded[key] = self._superseded.get(key, 0) + 1
        else:
            self.counts[kind] += 1
        return replacing

    def _check(self, record: dict[str, Any]) -> None:
        """Hold the record to the model: raise when strict, else warn once per field."""
        problem = check_record(record)
        if problem is None:
            name = unknown_field(record)
            if name is None:
                return
            problem = f"{name}: not a field of the model (docs/model.md)"
        field = problem.partition(":")[0]
        message = (
            f"connector {self.connector} (instance {self.instance}): "
            f"{record['kind']} {record['id']!r}: {problem}"
        )
        if self.strict:
            raise ModelViolation(message)
        if (record["kind"], field) not in self._warned:
            from policyengine.log import get_logger

            self._warned.add((record["kind"], field))
            get_logger("policyengine.snapshot").warning(
                "snapshot.model",
                connector=self.connector,
                instance=self.instance,
                kind=record["kind"],
                field=field,
                problem=problem,
            )

    def fail(self, error: str) -> None:
        """Record that data is missing; the snapshot will say ``complete: false``."""
        from policyengine.redact import redact_text

        self.complete = False
        self.errors.append(redact_text(error))

    # -- finishing --------------------------------------------------------
    def header(self) -> dict[str, Any]:
        return {
            "snapshot_version": 1,
            "source": {
                "connector": self.connector,
                "instance": self.instance,
                "collected_at": self.collected_at,
                "complete": self.complete,
                "errors": list(self.errors),
                "counts": {k: v for k, v in self.counts.items() if v},
                **self.extra_source,
            },
            "record_count": sum(self.counts.values()),
        }

    def close(self) -> Path:
        """Assemble the final file and move it into place. Returns its path."""
        if self._closed:
            return self.path
        self._closed = True
        try:
            self._spool.close()
            with open_for_write(self.path) as raw:
                if is_gzip(self.path):
                    # compresslevel 6: near-best ratio at a third of level 9's cost.
                    with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6) as out:
                        self._write_body(out)
                else:
                    self._write_body(raw)
        except UsageError as exc:
            raise self._not_written(str(exc).rpartition("cannot write: ")[2]) from None
        except OSError as exc:
            raise self._not_written(exc.strerror) from None
        finally:
            self._spool_path.unlink(missing_ok=True)
        return self.path

    def _not_written(self, reason: str | None) -> UsageError:
        return UsageError(
            f"{self.path}: cannot write the snapshot: {reason or 'I/O error'}; nothing was written"
        )

    def _write_body(self, out: Any) -> None:
        if is_jsonl(self.path):
            self._write_jsonl(out)
        else:
            self._write_json(out)

    def _write_jsonl(self, out: Any) -> None:
        out.write(orjson.dumps(self.header(), option=orjson.OPT_APPEND_NEWLINE))
        with open(self._spool_path, "rb") as spool:
            if self._superseded:
                for line in self._current_lines(spool):
                    out.write(line)
                return
            while chunk := spool.read(1 << 20):
                out.write(chunk)

    def _current_lines(self, spool: Any) -> Any:
        """Spool lines without those a later ``add(..., replace=True)`` superseded."""
        stale = dict(self._superseded)
        for line in spool:
            record = orjson.loads(line)
            key = hash((record["kind"], record["id"]))
            if stale.get(key):
                stale[key] -= 1
                continue
            yield line

    def _write_json(self, out: Any) -> None:
        # One pass over the spool per kind keeps memory bounded by one record.
        head = orjson.dumps(self.header())
        out.write(head[:-1])
        for kind in KINDS:
            if not self.counts[kind]:
                continue
            out.write(b',"' + LIST_KEYS[kind].encode() + b'":[')
            first = True
            needle = b'{"kind":"' + kind.encode() + b'"'
            with open(self._spool_path, "rb") as spool:
                for line in self._current_lines(spool) if self._superseded else spool:
                    if not line.startswith(needle):
                        continue
                    if not first:
                        out.write(b",")
                    out.write(line.rstrip(b"\n"))
                    first = False
            out.write(b"]")
        out.write(b"}\n")

    def discard(self) -> None:
        """Write nothing (for example when credentials were refused)."""
        if not self._closed:
            self._closed = True
            with contextlib.suppress(OSError):  # the spool is removed either way
                self._spool.close()
            self._spool_path.unlink(missing_ok=True)

    def __enter__(self) -> SnapshotWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        from policyengine.errors import PolicyEngineError

        if isinstance(exc, PolicyEngineError) and exc.exit_code == 2:
            self.discard()  # refused credentials or bad options: nothing to keep
            return
        if exc is not None:
            self.fail(f"{type(exc).__name__}: {exc}")
        self.close()


def _spool_folder(target: Path) -> Path:
    """Next to the target, unless that is a device or FIFO (``/dev`` is no place for a spool)."""
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        return target.parent
    return target.parent if stat.S_ISREG(mode) else Path(tempfile.gettempdir())
