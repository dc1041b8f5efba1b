"""Evaluate snapshot files in bounded memory, on every core.

Records are never all in memory at once. A JSON Lines file is cut into byte
ranges that worker processes read, validate and check independently; only the
findings come back. When a policy follows a reference or looks at a person, a
first pass keeps a *projection* of each referenced resource (identity plus the
fields references reach, see :mod:`policyengine.engine.needs`), persons are
correlated from those, and the second pass evaluates against that index.
Workers are forked after the index is built, so they share it copy-on-write.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from array import array
from collections.abc import Callable, Container, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from policyengine.engine.evaluate import finding_parts
from policyengine.engine.index import reference_target
from policyengine.engine.needs import Needs, analyse
from policyengine.engine.packed import Entry, Folder, PackedFindings, TaskPack, pack
from policyengine.engine.projections import ProjectionIndex
from policyengine.errors import Location, SnapshotError
from policyengine.model.kinds import REFERENCES
from policyengine.policy.compiled import BoundPolicies
from policyengine.snapshot._duplicate_ids import duplicate_id_error
from policyengine.snapshot._format import is_gzip
from policyengine.snapshot.reader import SnapshotReader

#: byte range handed to one worker task, at most; smaller files are cut into
#: TASKS_PER_WORKER ranges per worker so the cores finish together and the parent
#: builds findings of early ranges while later ones are still read
CHUNK_BYTES = 16 << 20
MIN_CHUNK_BYTES = 1 << 20
TASKS_PER_WORKER = 6
#: below this much JSONL, forking workers costs more than it saves
PARALLEL_MIN_BYTES = 24 << 20


@dataclass(frozen=True, slots=True)
class Task:
    file: int  # index into the readers
    start: int  # byte range of a JSONL file; (0, -1) means "the whole file"
    end: int


@dataclass(slots=True)
class _State:
    readers: Sequence[SnapshotReader]
    bound: BoundPolicies
    needs: Needs
    index: ProjectionIndex
    folder: Folder
    #: ids of the correlated persons (the person policies' work is cut into slices of it)
    persons: list[str] = field(default_factory=list)


#: Task.file of a slice of the correlated persons (start/end index into them)
_PERSONS = -1
PERSONS_PER_TASK = 20_000
#: above this many persons their policies run in the parent: forked workers would
#: copy most of the index (measured at 950,000 persons: +400 MiB, for ~3.6 s)
PERSONS_IN_WORKERS_UP_TO = 250_000
#: a task packs its findings this many at a time (each sorted run is merged later)
PACK_EVERY = 8192

_STATE: _State | None = None  # set in the parent before forking; read by workers


def evaluate_files(
    readers: Sequence[SnapshotReader], bound: BoundPolicies, *, workers: int | None = None
) -> tuple[PackedFindings, dict[str, int]]:
    """Findings of ``bound`` over the snapshot files (sorted and folded); also records read per file."""
    global _STATE
    needs = analyse(bound)
    parallel = _worker_count(readers, workers)
    tasks = list(_tasks(readers, _chunk_bytes(readers, parallel)))
    index = ProjectionIndex(needs)
    _attach_not_provided(readers, bound, index)
    _STATE = _State(readers, bound, needs, index, Folder(bound.policies))
    counts: dict[str, int] = {}
    persons: list[str] = []
    timer = _PhaseTimer()
    # Records and findings are acyclic; with a million of them alive the cyclic
    # garbage collector's full passes cost more than the work (measured: 2x).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        if needs.index:
            shared: dict[bytes, Any] = {}  # one object per distinct shape and nested value
            referenced: set[tuple[str, str, str]] = set()
            for batches, refs in _map(_project_task, tasks, parallel):
                index.share_shapes(batches, shared)
                for kind, rows in batches.items():
                    index.add_rows(kind, rows)
                if len(referenced) < WARM_LIMIT:
                    referenced |= refs
            del shared
            timer.lap("projection_pass")
            if needs.persons:
                index.correlate()
                persons = index.person_ids()
                timer.lap("correlation")
            if len(index) > WARM_ABOVE:
                index.warm(referenced)
                timer.lap("warm")
            del referenced
        findings = PackedFindings(bound.policies)
        bound.reset_counts()
        seen: dict[int, set[int]] = {}
        for packs, matched, (file_no, n), keys in _map(_evaluate_task, tasks, parallel):
            ids = seen.setdefault(file_no, set())
            before = len(ids)
            ids.update(keys)
            if len(ids) != before + len(keys):
                reader = readers[file_no]
                error = duplicate_id_error(reader.path, jsonl=reader.jsonl, document=None)
                if error is not None:  # None: two ids with one hash, not a repeat
                    raise error
            for packed in packs:
                findings.add(packed)
            for i, m in enumerate(matched):
                bound.matched[i] += m
            counts[readers[file_no].file] = counts.get(readers[file_no].file, 0) + n
        timer.lap("evaluation_pass")
        if "person" in bound.checkers and persons:
            _STATE.persons = persons
            slices = [
                Task(_PERSONS, start, min(len(persons), start + PERSONS_PER_TASK))
                for start in range(0, len(persons), PERSONS_PER_TASK)
            ]
            # on every core; but a worker that reads persons copies the pages of the
            # rows it reads (reference counts): with many persons, the parent alone
            person_workers = parallel if len(persons) <= PERSONS_IN_WORKERS_UP_TO else 1
            for packed, matched in _map(_person_task, slices, person_workers):
                findings.add(packed)
                for i, m in enumerate(matched):
                    bound.matched[i] += m
        timer.lap("persons")
        _check_counts(readers, counts)
        timer.report(records=sum(counts.values()), workers=parallel, person_count=len(persons))
        return findings, counts
    finally:
        _STATE = None
        if gc_was_enabled:
            gc.enable()


def _attach_not_provided(
    readers: Sequence[SnapshotReader], bound: BoundPolicies, index: ProjectionIndex
) -> None:
    """Fields the snapshots declare not provided: the index carries them to the checkers."""
    from policyengine.model.provided import from_sources

    index.not_provided = from_sources(r.source for r in readers)
    if index.not_provided is not None:
        bound.use_not_provided(index.not_provided.names())


class _PhaseTimer:
    """Seconds per phase, logged at debug level (the benchmark reads them)."""

    def __init__(self) -> None:
        import time

        self._clock = time.perf_counter
        self._last = self._clock()
        self.phases: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = self._clock()
        self.phases[name] = round(now - self._last, 3)
        self.phases[f"{name}_rss_mib"] = _rss_mib()
        self._last = now

    def report(self, **extra: Any) -> None:
        from policyengine.log import get_logger

        get_logger("policyengine.engine").debug("evaluate.phases", **self.phases, **extra)


def _rss_mib() -> int:
    """This process's resident memory now (MiB; 0 where /proc is not there)."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE") >> 20


def _worker_count(readers: Sequence[SnapshotReader], workers: int | None) -> int:
    if workers is not None:
        return max(1, workers)
    splittable = sum(r.path.stat().st_size for r in readers if r.jsonl and not is_gzip(r.path))
    if splittable < PARALLEL_MIN_BYTES:
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


def _chunk_bytes(readers: Sequence[SnapshotReader], workers: int) -> int:
    if workers <= 1:
        return CHUNK_BYTES
    splittable = sum(r.path.stat().st_size for r in readers if r.jsonl and not is_gzip(r.path))
    share = splittable // (workers * TASKS_PER_WORKER)
    return min(CHUNK_BYTES, max(MIN_CHUNK_BYTES, share))


def _tasks(readers: Sequence[SnapshotReader], chunk: int = CHUNK_BYTES) -> Iterator[Task]:
    for i, reader in enumerate(readers):
        if not reader.jsonl or is_gzip(reader.path):
            yield Task(i, 0, -1)
            continue
        size = reader.path.stat().st_size
        with open(reader.path, "rb") as handle:
            handle.readline()
            start = handle.tell()  # after the header
        while start < size:
            end = min(size, start + chunk)
            yield Task(i, start, end)
            start = end


def _map(func: Any, tasks: list[Task], workers: int) -> Iterator[Any]:
    if workers <= 1 or len(tasks) <= 1:
        yield from map(func, tasks)
        return
    # fork: workers inherit the compiled policies and the index without pickling them
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        yield from pool.imap(func, tasks, chunksize=1)


def _records(
    task: Task,
    kinds: Container[str] | None = None,
    skipped: Callable[[dict[str, Any]], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Validated records of one task, with ``source`` and ``source_type`` set.

    ``kinds``: only records of these kinds; the others are parsed, not validated
    (the evaluation pass validates every record and names the first bad one), and
    handed to ``skipped`` as parsed.
    """
    assert _STATE is not None
    reader = _STATE.readers[task.file]
    if task.end == -1:
        yield from reader.records()
        return
    loads = orjson.loads
    nowhere = Location(reader.file)  # the line is only worked out when there is an error
    with open(reader.path, "rb") as handle:
        if task.start > 0:
            handle.seek(task.start - 1)
            # finish the line that started before our range (bounded like every line)
            if len(handle.readline(reader.limits.line + 1)) > reader.limits.line:
                raise reader.line_too_long(_line_at(reader, task.start - 1))
        pos = handle.tell()
        if pos >= task.end:
            return
        # one read for the range (and the rest of the line crossing its end), then
        # lines by a C-level split: readline per record costs more than the parse
        limit = reader.limits.line
        data = handle.read(task.end - pos)
        if not data.endswith(b"\n"):
            data += handle.readline(limit + 1)
        lines = data.split(b"\n")
        last = len(lines) - 1
        for number, raw in enumerate(lines):
            # what readline(limit + 1) returned: the line with its newline, if any
            length = len(raw) + (number < last)
            if length > limit:
                raise reader.line_too_long(_line_at(reader, pos))
            if raw.strip():
                try:
                    record = loads(raw)
                    if kinds is not None and type(record) is dict:
                        kind = record.get("kind")
                        if type(kind) is str and kind not in kinds:
                            if skipped is not None:
                                skipped(record)
                            pos += length
                            continue
                    yield reader.finish(record, nowhere, raw)
                except orjson.JSONDecodeError:
                    reader.parse(raw, _line_at(reader, pos))  # raises with the line number
                    raise
                except SnapshotError as exc:
                    field = exc.location.field if exc.location is not None else None
                    exc.location = replace(nowhere, line=_line_at(reader, pos), field=field)
                    raise
            pos += length


def _line_at(reader: SnapshotReader, offset: int) -> int:
    """Line number of the byte ``offset`` (only computed on the error path)."""
    lines = 1
    with open(reader.path, "rb") as handle:
        while offset > 0:  # in chunks: the offset may be gigabytes into the file
            chunk = handle.read(min(offset, 1 << 20))
            if not chunk:
                break
            lines += chunk.count(b"\n")
            offset -= len(chunk)
    return lines


def _project_task(task: Task) -> tuple[dict[str, list[list[Any]]], set[tuple[str, str, str]]]:
    """Rows (``policyengine.engine.projections``) of the referenced resources of one task,
    and what the other records reference (``ProjectionIndex.warm``)."""
    assert _STATE is not None
    builder = _STATE.index.builder()
    specs = _STATE.index.specs
    source = _STATE.readers[task.file].source.instance
    batches: dict[str, list[list[Any]]] = {}
    referenced: set[tuple[str, str, str]] = set()

    def note_references(record: dict[str, Any]) -> None:
        for field_name, target in _REFERENCE_FIELDS.get(record["kind"], ()):
            if target in specs and len(referenced) < WARM_LIMIT:
                referenced.update(_reference_keys(record.get(field_name), source, target))

    for record in _records(task, specs, note_references):
        kind = record["kind"]
        if kind in specs:
            row = builder.row(record)
            if row is not None:
                batches.setdefault(kind, []).append(row)
    return batches, referenced


#: at most this many referenced resources are warmed (about 400 bytes each)
WARM_LIMIT = 500_000
#: warm only an index of more rows than this: below, the pages workers copy are few
#: and warming costs more time than it saves memory (100k accounts: 0.6 s, 74 MiB)
WARM_ABOVE = 250_000
#: kind -> its reference fields and their target kinds
_REFERENCE_FIELDS: dict[str, list[tuple[str, str]]] = {}
for (_kind, _field), _target in REFERENCES.items():
    _REFERENCE_FIELDS.setdefault(_kind, []).append((_field, _target))


def _reference_keys(value: Any, source: str, target: str) -> Iterator[tuple[str, str, str]]:
    """(kind, source, id) of what a reference field names (unvalidated: anything else, none)."""
    for ref in value if type(value) is list else (value,):
        named = reference_target(ref, source)
        if named is not None:
            yield (target, *named)


def _evaluate_task(task: Task) -> tuple[list[TaskPack], list[int], tuple[int, int], array[int]]:
    assert _STATE is not None
    bound, index, folder = _STATE.bound, _STATE.index, _STATE.folder
    policies = bound.policies
    checkers: dict[tuple[str, str], Any] = {}
    persons = _STATE.needs.persons
    before = list(bound.matched)  # the checkers count into bound.matched; report our delta
    found: list[tuple[int, Entry]] = []
    packs: list[TaskPack] = []  # packed as they come: 50,000 credentials find 100,000
    keys: array[int] = array("q")  # identity hashes, for the duplicate check across ranges
    n = 0
    for record in _records(task):
        n += 1
        kind = record["kind"]
        keys.append(hash((kind, record["id"])))
        # per kind and connector: a snapshot's records all have one source_type
        checker = checkers.get((kind, record["source_type"]), False)
        if checker is False:
            checker = checkers[(kind, record["source_type"])] = bound.checker_for(
                kind, record["source_type"]
            )
        if checker is None:
            continue
        if persons and kind == "account":
            person = index.person_of(record)
            if person is not None:
                record["person"] = person
        fired = [(i, finding_parts(policies[i], record, index)) for i in checker(record, index)]
        if fired:
            found.extend(folder.entries(fired))
            if len(found) >= PACK_EVERY:
                packs.append(pack(found, policies))
                found = []
    delta = [after - b for after, b in zip(bound.matched, before, strict=True)]
    bound.matched[:] = before
    packs.append(pack(found, policies))
    return packs, delta, (task.file, n), keys


def _person_task(task: Task) -> tuple[TaskPack, list[int]]:
    assert _STATE is not None
    bound, index, folder = _STATE.bound, _STATE.index, _STATE.folder
    check, policies = bound.checkers["person"], bound.policies
    before = list(bound.matched)
    found: list[tuple[int, Entry]] = []
    for pid in _STATE.persons[task.start : task.end]:
        person = index.person(pid)
        assert person is not None
        fired = [(i, finding_parts(policies[i], person, index)) for i in check(person, index)]
        if fired:
            found.extend(folder.entries(fired))
    delta = [after - b for after, b in zip(bound.matched, before, strict=True)]
    bound.matched[:] = before
    return pack(found, policies), delta


def _check_counts(readers: Sequence[SnapshotReader], counts: dict[str, int]) -> None:
    # whole-file tasks were checked by the reader itself; ranged ones are summed here
    for reader in readers:
        if reader.jsonl and not is_gzip(reader.path):
            reader.check_count(counts.get(reader.file, 0))
