"""Findings held packed until a report reads them, in their output order.

At a million accounts the whole library finds ~443,000 findings, and as
:class:`~policyengine.findings.model.Finding` objects they took 640 MiB of the
parent (1.4 KiB each: message, remediation, evidence, resource). Here each
worker sorts its findings per policy, folds superseded ones (the policies of
one resource are all evaluated in one task), and sends them as compressed
pickled blocks (zstd, ~60 bytes a finding). :class:`PackedFindings` is the result's
sequence of findings: iterating it merges the blocks in output order and
builds the findings a block at a time, so a streamed report holds a few
thousand at once. Random access materialises the tuple once (what the other
paths need, e.g. waivers and diffs).
"""

from __future__ import annotations

import heapq
import pickle
from collections.abc import Callable, Iterator, Sequence
from itertools import islice
from typing import overload

import zstandard

from policyengine.engine.evaluate import FindingParts, build_finding
from policyengine.findings.model import SEVERITIES, Finding, severity_rank
from policyengine.policy.compiled import CompiledPolicy

#: findings per compressed block: small enough that a merge over every task's
#: blocks holds few findings, big enough to compress well (measured: ~30x)
BLOCK = 1024
#: zstd level 1: measured over report items, 61 bytes a finding in 1.1 us (zlib level
#: 1: 110 bytes in 4.7 us)
_LEVEL = 1

#: a finding as a worker packs it: its parts, and the ones folded into it
Entry = tuple[FindingParts, tuple[tuple[int, FindingParts], ...]]
#: as read: also its item in the JSON report (``report.json``), encoded by the worker:
#: ``dumped[bounds[k]:bounds[k + 1] - 2]`` of its block (``b""``, ``[]``, 0 when not asked for)
Packed = tuple[FindingParts, tuple[tuple[int, FindingParts], ...], bytes, list[int], int]
#: what one task sends: per policy index, its findings per source and their blocks
TaskPack = dict[int, tuple[dict[str, int], list[bytes]]]


def _resource_order(entry: Entry | Packed) -> tuple[str, str, str]:
    parts = entry[0]
    return (parts[1], parts[0], parts[2])  # source, kind, id: Finding.sort_key after policy


class Folder:
    """Fold superseded findings of one resource, as :func:`policyengine.findings.fold.fold`."""

    def __init__(self, policies: Sequence[CompiledPolicy]) -> None:
        self._policies = policies
        self._supersedes = {
            p.definition.id: p.definition.supersedes for p in policies if p.definition.supersedes
        }
        involved = {pid for pid, narrower in self._supersedes.items() if narrower}
        involved.update(n for narrower in self._supersedes.values() for n in narrower)
        self._involved = frozenset(i for i, p in enumerate(policies) if p.definition.id in involved)
        self._index_of = {p.definition.id: i for i, p in enumerate(policies)}
        self._plans: dict[tuple[int, ...], tuple[tuple[int, tuple[int, ...]], ...]] = {}

    def entries(self, fired: list[tuple[int, FindingParts]]) -> Iterator[tuple[int, Entry]]:
        """The findings of one resource as packed entries, folded where a policy supersedes."""
        if len(fired) < 2 or sum(i in self._involved for i, _ in fired) < 2:
            for i, parts in fired:
                yield i, (parts, ())
            return
        parts_of = dict(fired)
        key = tuple(i for i, _ in fired)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._plan(fired)
        for i, folded in plan:
            yield i, (parts_of[i], tuple((j, parts_of[j]) for j in folded))

    def _plan(
        self, fired: list[tuple[int, FindingParts]]
    ) -> tuple[tuple[int, tuple[int, ...]], ...]:
        """Which of these policies' findings stay, and which each one folds.

        Fresh findings of one resource: the fold depends on the fired policies only
        (their ids and severities), so one plan serves every resource they fire on.
        """
        from policyengine.findings.fold import fold

        built = [build_finding(self._policies[i], parts) for i, parts in fired]
        return tuple(
            (
                self._index_of[finding.policy_id],
                tuple(self._index_of[g.policy_id] for g in finding.folded),
            )
            for finding in fold(built, self._supersedes)
        )


def pack(entries: list[tuple[int, Entry]], policies: Sequence[CompiledPolicy]) -> TaskPack:
    """One task's findings: per policy, sorted by resource, in compressed blocks.

    Each finding's item of the JSON report is encoded here, on the worker's core:
    a JSON report of packed findings is then a concatenation (``report.json``).
    A block is its entries and their items dumped in one orjson call, with where
    each item starts (read as views of it: one bytes object, not one an item).
    """
    from policyengine.report.json import dump_items, parts_encoder

    encode = parts_encoder(policies)
    compress = _compressor()
    by_policy: dict[int, list[Entry]] = {}
    for i, entry in entries:
        found = by_policy.get(i)
        if found is None:
            found = by_policy[i] = []
        found.append(entry)
    out: TaskPack = {}
    for i, found in by_policy.items():
        found.sort(key=_resource_order)
        blocks = []
        for start in range(0, len(found), BLOCK):
            block = found[start : start + BLOCK]
            dumped, bounds = dump_items([encode(i, parts, folded) for parts, folded in block])
            blocks.append(compress(pickle.dumps((block, dumped, bounds), protocol=5)))
        sources: dict[str, int] = {}
        for parts, _ in found:
            sources[parts[1]] = sources.get(parts[1], 0) + 1
        out[i] = (sources, blocks)
    return out


def _build(
    policies: Sequence[CompiledPolicy],
    i: int,
    parts: FindingParts,
    folded: tuple[tuple[int, FindingParts], ...],
) -> Finding:
    finding = build_finding(policies[i], parts)
    if folded:
        inner = tuple(build_finding(policies[j], p) for j, p in folded)
        finding = finding.with_changes(folded=inner, supersedes=tuple(g.policy_id for g in inner))
    return finding


class PackedFindings(Sequence[Finding]):
    """The findings of an evaluation in output order (``sort_findings``), packed.

    Each iteration builds new :class:`Finding` objects (equal ones): results with
    at most :attr:`KEEP_PACKED_ABOVE` findings are turned into a plain tuple.
    """

    #: below this many findings (70 MiB as objects) a result holds a tuple
    KEEP_PACKED_ABOVE = 50_000

    def __init__(self, policies: Sequence[CompiledPolicy]) -> None:
        self._policies = policies
        self._runs: dict[int, list[list[bytes]]] = {}
        self._count = 0
        self._by_policy: dict[int, int] = {}
        self._by_source: dict[str, int] = {}
        self._materialised: tuple[Finding, ...] | None = None

    def add(self, task: TaskPack) -> None:
        for i, (sources, blocks) in task.items():
            self._runs.setdefault(i, []).append(blocks)
            count = sum(sources.values())
            self._count += count
            self._by_policy[i] = self._by_policy.get(i, 0) + count
            for source, n in sources.items():
                self._by_source[source] = self._by_source.get(source, 0) + n

    def summary_counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """Findings per severity and per source, as ``Result.summary`` counts them.

        Every packed finding is fresh from evaluation: none is waived or has a change.
        """
        by_severity = dict.fromkeys(SEVERITIES, 0)
        for i, n in self._by_policy.items():
            severity = self._policies[i].severity
            by_severity[severity] = by_severity.get(severity, 0) + n
        return by_severity, dict(self._by_source)

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Finding]:
        if self._materialised is not None:
            return iter(self._materialised)
        return self._stream()

    def _stream(self) -> Iterator[Finding]:
        policies = self._policies
        for i, packed in self._merged(items=False):
            yield _build(policies, i, packed[0], packed[1])

    def encoded(self) -> Iterator[bytes]:
        """The findings' items of the JSON report in output order, joined by ``,\\n``.

        Consecutive items of one block are one slice of it, already joined (a
        policy's findings from one task are often consecutive in output order).
        """
        if self._materialised is not None:
            raise ValueError("materialised findings are read as findings")
        dumped, start, end = b"", 0, 0
        for _, (_, _, block, bounds, k) in self._merged(items=True):
            if block is dumped and bounds[k] == end + 2:
                end = bounds[k + 1] - 2  # the next item of this block: the slice grows
                continue
            if end:
                yield dumped[start:end]
            dumped, start, end = block, bounds[k], bounds[k + 1] - 2
        if end:
            yield dumped[start:end]

    def _merged(self, *, items: bool) -> Iterator[tuple[int, Packed]]:
        policies = self._policies
        order = sorted(
            self._runs,
            key=lambda i: (severity_rank(policies[i].severity), policies[i].definition.id),
        )
        for i in order:
            runs = self._runs[i]
            merged = (
                _entries(runs[0], items)
                if len(runs) == 1
                else heapq.merge(*(_entries(r, items) for r in runs), key=_resource_order)
            )
            for packed in merged:
                yield i, packed

    @property
    def is_materialised(self) -> bool:
        """Whether the findings are held as objects now (random access asked for them)."""
        return self._materialised is not None

    def materialise(self) -> tuple[Finding, ...]:
        if self._materialised is None:
            self._materialised = tuple(self._stream())
            self._runs.clear()
        return self._materialised

    @overload
    def __getitem__(self, index: int) -> Finding: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Finding]: ...

    def __getitem__(self, index: int | slice) -> Finding | Sequence[Finding]:
        if self._materialised is None and isinstance(index, slice):
            start, stop, step = index.indices(self._count)
            if step == 1:  # findings[:20] of a report: read as far as needed, not all
                return tuple(islice(self._stream(), start, max(start, stop)))
        return self.materialise()[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PackedFindings | tuple | list):
            return self.materialise() == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.materialise())

    def __repr__(self) -> str:
        return f"PackedFindings({self._count} findings)"


def _entries(blocks: list[bytes], items: bool) -> Iterator[Packed]:
    """A run's findings; with their JSON items' block only when asked for."""
    decompress = zstandard.ZstdDecompressor().decompress
    none: list[int] = []
    for block in blocks:
        found, dumped, bounds = pickle.loads(decompress(block))
        if not items:
            for parts, folded in found:
                yield parts, folded, b"", none, 0
            continue
        for k, (parts, folded) in enumerate(found):
            yield parts, folded, dumped, bounds, k


def _compressor() -> Callable[[bytes], bytes]:
    """zstd at ``_LEVEL``, each result in a bytes object of its own size.

    python-zstandard 0.25 returns a bytes object that keeps the whole
    compress-bound allocation (the input's size, and more): measured, 65 MiB held
    for 10 KiB of data. At a million accounts that was 210 MiB of the parent.
    """
    compress = zstandard.ZstdCompressor(level=_LEVEL).compress
    return lambda data: bytes(memoryview(compress(data)))
