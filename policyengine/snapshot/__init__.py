"""Snapshot files: the normalised resources one connector instance collected.

Two encodings of the same content, both optionally gzip (``.gz``):

* JSON: ``{"snapshot_version": 1, "source": {...}, "accounts": [...], ...}``
* JSON Lines (``.jsonl``): a header line ``{"snapshot_version": 1,
  "source": {...}}`` then one resource per line, each with its ``kind``.

Write with :class:`SnapshotWriter`, read with :func:`open_snapshot`.
"""

from policyengine.snapshot.reader import SnapshotReader, SourceInfo, open_snapshot
from policyengine.snapshot.writer import SnapshotWriter

SNAPSHOT_VERSION = 1

__all__ = ["SNAPSHOT_VERSION", "SnapshotReader", "SnapshotWriter", "SourceInfo", "open_snapshot"]
