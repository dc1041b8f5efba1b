"""Where a repeated resource id is, for the error message.

Readers detect a repeat cheaply, by identity hashes; only then is the file read
again here, with exact keys, to name both places (``line 4 ... first on line 2``).
This is the error path: it may cost a second pass over the file.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from policyengine.errors import Location, SnapshotError
from policyengine.model.kinds import LIST_KEYS
from policyengine.snapshot._format import open_binary

_KIND_OF_LIST = {v: k for k, v in LIST_KEYS.items()}
_HEADER_KEYS = ("snapshot_version", "source", "record_count")


def duplicate_id_error(
    path: Path, *, jsonl: bool, document: Mapping[str, Any] | None = None
) -> SnapshotError | None:
    """S005 naming the second occurrence and the first; None when no id repeats."""
    first: dict[tuple[str, str], str] = {}
    places = _jsonl_ids(path) if jsonl else _json_ids(path, document or {})
    for kind, rid, where, described in places:
        key = (kind, rid)
        if key in first:
            shown = repr(rid) if len(rid) <= 80 else repr(rid[:77] + "...")
            return SnapshotError(
                f"duplicate {kind} id {shown} in one snapshot (first at {first[key]})",
                where,
                "S005",
            )
        first[key] = described
    return None


def _jsonl_ids(path: Path) -> Iterator[tuple[str, str, Location, str]]:
    with open_binary(path, "r") as handle:
        handle.readline()  # the header
        for lineno, raw in enumerate(handle, start=2):
            try:
                record = orjson.loads(raw) if raw.strip() else None
            except orjson.JSONDecodeError:
                continue  # the reader reports bad JSON itself
            if isinstance(record, dict) and isinstance(record.get("id"), str):
                where = Location(str(path), lineno, field="id")
                yield str(record.get("kind")), record["id"], where, f"line {lineno}"


def _json_ids(path: Path, document: Mapping[str, Any]) -> Iterator[tuple[str, str, Location, str]]:
    for key, value in document.items():
        if key in _HEADER_KEYS or key not in _KIND_OF_LIST or not isinstance(value, list):
            continue
        for i, record in enumerate(value):
            if isinstance(record, dict) and isinstance(record.get("id"), str):
                kind = str(record.get("kind", _KIND_OF_LIST[key]))
                # field "id": the reader prefixes the list and index, as for its other errors
                where = Location(str(path), record=i, field="id")
                yield kind, record["id"], where, f"{key}[{i}]"
