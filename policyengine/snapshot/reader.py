"""Read snapshot files (JSON or JSON Lines, optionally gzip) with exact errors.

>>> reader = open_snapshot("policyengine/demo/corp-ad.json")  # doctest: +SKIP
>>> reader.source.complete, sum(1 for _ in reader.records())  # doctest: +SKIP
(True, 42)
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from policyengine.errors import Location, SnapshotError
from policyengine.model.kinds import KINDS, LIST_KEYS
from policyengine.model.reserved import CORRELATION_INSTANCE
from policyengine.snapshot._duplicate_ids import duplicate_id_error
from policyengine.snapshot._duplicates import duplicated_header_key
from policyengine.snapshot._format import is_gzip, is_jsonl, open_binary
from policyengine.snapshot.limits import DOCUMENT, LINE, SNAPSHOT, current_limits, describe
from policyengine.snapshot.validate import check_record, may_nest_too_deep

_KIND_OF_LIST = {v: k for k, v in LIST_KEYS.items()}
SUPPORTED_VERSIONS = (1,)


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """The snapshot header's ``source``."""

    connector: str
    instance: str
    collected_at: str
    complete: bool
    errors: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
    record_count: int | None = None
    file: str = ""
    #: fields the source declares it cannot provide (policyengine.model.provided)
    not_provided: dict[str, dict[str, str]] = field(default_factory=dict)
    #: who the connector collected as (ids, logins, emails, DNs): never remediated
    collected_as: tuple[str, ...] = ()


def _collected_as(value: Any) -> tuple[str, ...]:
    """``source.collected_as``: absent (older snapshots) or a list of non-empty strings."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError("must be a list of non-empty strings (ids, logins, emails, DNs)")
    return tuple(sorted(set(value)))


def _header(
    data: Any, file: str, line: int | None, raw: bytes, *, whole_document: bool = False
) -> SourceInfo:
    def fail(message: str, fld: str | None = None) -> SnapshotError:
        return SnapshotError(message, Location(file, line, field=fld), "S002")

    if not isinstance(data, dict):
        raise fail("the snapshot header must be a JSON object")
    twice = duplicated_header_key(raw, whole_document=whole_document)
    if twice is not None:
        raise fail("the header gives this key more than once (ambiguous: refused)", twice)
    version = data.get("snapshot_version")
    if version not in SUPPORTED_VERSIONS:
        raise fail(f"unsupported snapshot_version {version!r} (supported: 1)", "snapshot_version")
    source = data.get("source")
    if not isinstance(source, dict):
        raise fail("missing or invalid `source` object", "source")
    for key in ("connector", "instance", "collected_at"):
        if not isinstance(source.get(key), str) or not source.get(key):
            raise fail(f"`source.{key}` must be a non-empty string", f"source.{key}")
    if not isinstance(source.get("complete"), bool):
        raise fail("`source.complete` must be true or false", "source.complete")
    from policyengine.model.timestamps import normalise_timestamp

    try:
        collected_at = normalise_timestamp(source["collected_at"])
    except ValueError:
        raise fail(
            f"`source.collected_at` is not an ISO 8601 time: {source['collected_at']!r}"
        ) from None
    errors = source.get("errors")
    if errors is None:
        errors = []
    if not isinstance(errors, list):
        raise fail("`source.errors` must be a list of messages", "source.errors")
    counts = source.get("counts") or {}
    if not isinstance(counts, dict) or not all(type(v) is int for v in counts.values()):
        raise fail("`source.counts` must be an object of whole numbers", "source.counts")
    if source["instance"] == CORRELATION_INSTANCE:
        raise fail(
            f"the instance name {CORRELATION_INSTANCE!r} is reserved for person resources",
            "source.instance",
        )
    from policyengine.model.provided import HEADER_KEY, parse_declaration

    try:
        not_provided = parse_declaration(source.get(HEADER_KEY))
    except ValueError as exc:
        raise fail(f"`source.{HEADER_KEY}`: {exc}", f"source.{HEADER_KEY}") from None
    try:
        collected_as = _collected_as(source.get("collected_as"))
    except ValueError as exc:
        raise fail(f"`source.collected_as` {exc}", "source.collected_as") from None
    count = data.get("record_count")
    if count is not None and (type(count) is not int or count < 0):
        raise fail(
            f"`record_count` must be a non-negative integer, not {repr(count)[:40]}", "record_count"
        )
    return SourceInfo(
        connector=source["connector"],
        instance=source["instance"],
        collected_at=collected_at,
        # a connector that reported errors did not collect everything, whatever it claims
        complete=source["complete"] and not errors,
        errors=tuple(str(e) for e in errors),
        counts=dict(counts),
        record_count=count,
        file=file,
        not_provided=not_provided,
        collected_as=collected_as,
    )


class SnapshotReader:
    """One snapshot file. ``source`` is read at once; ``records()`` streams."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = str(path)
        self.jsonl = is_jsonl(path)
        self._document: dict[str, Any] | None = None
        self.limits = current_limits()
        if not path.is_file():
            raise SnapshotError("snapshot file not found", Location(self.file), "S001")
        self._refuse_oversized_file()
        if self.jsonl:
            with self._open() as handle:
                first = self._read_line(handle, 1)
            if first is None:
                raise SnapshotError(
                    "empty snapshot file (no header line)", Location(self.file, 1), "S002"
                )
            self.source = _header(self.parse(first, 1), self.file, 1, first)
        else:
            self._document, raw = self._load_json()
            self.source = _header(self._document, self.file, None, raw, whole_document=True)

    # -- raw access ---------------------------------------------------------
    def _open(self) -> IO[bytes]:
        self._bytes_read = 0  # decompressed bytes through this handle (bomb bound)
        try:
            return open_binary(self.path, "r")
        except OSError as exc:
            raise SnapshotError(
                f"cannot read: {exc.strerror}", Location(self.file), "S001"
            ) from None

    def _refuse_oversized_file(self) -> None:
        """An uncompressed file's size is known up front; a ``.gz`` is counted as it expands."""
        if is_gzip(self.path):
            return
        variable, allowed = (
            (SNAPSHOT[0], self.limits.snapshot)
            if self.jsonl
            else (DOCUMENT[0], self.limits.document)
        )
        if self.path.stat().st_size > allowed:
            raise self._too_large("the file is larger than", allowed, variable)

    def _too_large(
        self, what: str, allowed: int, variable: str, lineno: int | None = None
    ) -> SnapshotError:
        return SnapshotError(
            f"{what} {describe(allowed)}: refused (a genuine file needs a higher {variable})",
            Location(self.file, lineno),
            "S001",
        )

    def _expanded_too_far(self, allowed: int, variable: str) -> SnapshotError:
        what = "the data expands to more than" if is_gzip(self.path) else "the file is larger than"
        return self._too_large(what, allowed, variable)

    def line_too_long(self, lineno: int) -> SnapshotError:
        """For a line that ``readline(limits.line + 1)`` returned in full: it is too long."""
        return self._too_large("the line is longer than", self.limits.line, LINE[0], lineno)

    def _read_line(self, handle: IO[bytes], lineno: int) -> bytes | None:
        try:
            line = handle.readline(self.limits.line + 1)
        except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise SnapshotError(
                f"corrupt or truncated compressed file: {exc}", Location(self.file, lineno), "S001"
            ) from None
        if len(line) > self.limits.line:
            raise self.line_too_long(lineno)
        self._bytes_read += len(line)
        if self._bytes_read > self.limits.snapshot:
            raise self._expanded_too_far(self.limits.snapshot, SNAPSHOT[0])
        return line or None

    def parse(self, raw: bytes, lineno: int | None, record: int | None = None) -> Any:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            problem = str(exc).split(":")[0]
            if b"\n" not in raw[-1:] and lineno is not None:
                problem += " (the last line is incomplete: truncated file?)"
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as uexc:
                problem = f"not valid UTF-8 (byte {uexc.start} of the line)"
            raise SnapshotError(
                f"invalid JSON: {problem}", Location(self.file, lineno, record=record), "S001"
            ) from None

    def _load_json(self) -> tuple[dict[str, Any], bytes]:
        with self._open() as handle:
            try:
                raw = handle.read(self.limits.document + 1)  # never more than the bound
            except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
                raise SnapshotError(
                    f"corrupt or truncated compressed file: {exc}", Location(self.file), "S001"
                ) from None
        if len(raw) > self.limits.document:
            raise self._expanded_too_far(self.limits.document, DOCUMENT[0])
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            line = raw[: exc.pos].count(b"\n") + 1 if exc.pos is not None else None
            col: int | None = (
                exc.pos - raw.rfind(b"\n", 0, exc.pos) if exc.pos is not None else None
            )
            try:
                raw.decode("utf-8")
                problem = exc.msg
            except UnicodeDecodeError as uexc:
                problem = f"not valid UTF-8 (byte offset {uexc.start})"
                line = raw[: uexc.start].count(b"\n") + 1
                col = None
            raise SnapshotError(
                f"invalid JSON: {problem}", Location(self.file, line, col), "S001"
            ) from None
        if not isinstance(data, dict):
            raise SnapshotError(
                "a JSON snapshot must be an object", Location(self.file, 1, 1), "S002"
            )
        return data, raw

    # -- records ------------------------------------------------------------
    def records(self) -> Iterator[dict[str, Any]]:
        """Every resource, validated, with ``source`` and ``source_type`` set."""
        return self._jsonl_records() if self.jsonl else self._json_records()

    def finish(self, record: Any, where: Location, line: bytes | None = None) -> dict[str, Any]:
        """Validate one parsed record (from ``line``, if known) and stamp it with the source."""
        if not isinstance(record, dict):
            raise SnapshotError("a resource must be a JSON object", where, "S003")
        problem = check_record(record, may_nest=line is None or may_nest_too_deep(line))
        if problem is not None:
            fld, _, message = problem.partition(": ")
            raise SnapshotError(
                message,
                Location(where.file, where.line, record=where.record, field=fld),
                "S003",
            )
        record["source"] = self.source.instance
        record["source_type"] = self.source.connector
        return record

    def _unique(self, record: dict[str, Any], seen: set[int], where: Location) -> None:
        key = hash((record["kind"], record["id"]))
        if key in seen:
            error = duplicate_id_error(self.path, jsonl=self.jsonl, document=self._document)
            if error is not None:  # None: two ids with one hash, not a repeat
                raise error
        seen.add(key)

    def _jsonl_records(self) -> Iterator[dict[str, Any]]:
        count = 0
        seen: set[int] = set()
        with self._open() as handle:
            self._read_line(handle, 1)  # header, already read
            lineno = 1
            while True:
                lineno += 1
                raw = self._read_line(handle, lineno)
                if raw is None:
                    break
                if not raw.strip():
                    continue
                record = self.parse(raw, lineno)
                where = Location(self.file, lineno)
                finished = self.finish(record, where, raw)
                self._unique(finished, seen, where)
                yield finished
                count += 1
        self.check_count(count)

    def _json_records(self) -> Iterator[dict[str, Any]]:
        assert self._document is not None
        count = 0
        seen: set[int] = set()
        for key, value in self._document.items():
            if key in ("snapshot_version", "source", "record_count"):
                continue
            kind = _KIND_OF_LIST.get(key)
            if kind is None:
                raise SnapshotError(
                    f"unknown top-level key {key!r} (resource lists: {', '.join(LIST_KEYS.values())})",
                    Location(self.file, field=key),
                    "S002",
                )
            if not isinstance(value, list):
                raise SnapshotError(
                    f"`{key}` must be a list", Location(self.file, field=key), "S002"
                )
            for i, record in enumerate(value):
                if isinstance(record, dict):
                    record.setdefault("kind", kind)
                    if record["kind"] != kind:
                        raise SnapshotError(
                            f"record in `{key}` has kind {record['kind']!r}",
                            Location(self.file, record=i, field=f"{key}[{i}].kind"),
                            "S003",
                        )
                where = Location(self.file, record=i)
                try:
                    finished = self.finish(record, where)
                    self._unique(finished, seen, where)
                    yield finished
                except SnapshotError as exc:
                    if exc.location is not None and exc.location.field:
                        exc.location = Location(
                            self.file, record=i, field=f"{key}[{i}].{exc.location.field}"
                        )
                    raise
                count += 1
        self.check_count(count)

    def check_count(self, count: int) -> None:
        """Raise S004 when ``count`` records were read but the header promised another number."""
        expected = self.source.record_count
        if expected is not None and expected != count:
            raise SnapshotError(
                f"truncated snapshot: the header says {expected} records, the file has {count}",
                Location(self.file),
                "S004",
            )


def open_snapshot(path: str | Path) -> SnapshotReader:
    """Open a snapshot file and read its header."""
    return SnapshotReader(Path(path))


__all__ = ["KINDS", "SnapshotReader", "SourceInfo", "open_snapshot"]
