"""Find a key written twice in a snapshot header.

orjson (like most parsers) keeps the last of two equal keys, so
``"complete": false, "complete": true`` would read as complete. The header is
re-read with the standard library's ``object_pairs_hook``, which sees every pair.
"""

from __future__ import annotations

import json
from typing import Any

#: the header's own keys: a JSON document is re-read only when one of them repeats
HEADER_KEYS = (
    b'"snapshot_version"',
    b'"source"',
    b'"record_count"',
    b'"connector"',
    b'"instance"',
    b'"collected_at"',
    b'"complete"',
    b'"errors"',
    b'"counts"',
)


class _Pairs(dict[str, Any]):
    """A JSON object that remembers which of its keys were written more than once."""

    duplicates: tuple[str, ...] = ()


def _keep_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = _Pairs()
    twice: list[str] = []
    for key, value in pairs:
        if key in out:
            twice.append(key)
        out[key] = value
    out.duplicates = tuple(twice)
    return out


def duplicated_header_key(raw: bytes, *, whole_document: bool = False) -> str | None:
    """The dotted name of the first header key given twice (``source.complete``), or None.

    ``raw`` is the JSONL header line or, with ``whole_document``, a whole JSON
    snapshot; that one is re-read only when a header key name occurs twice in it,
    so a large snapshot costs one byte search.
    """
    if whole_document and not any(raw.count(k) > 1 for k in HEADER_KEYS):
        return None
    try:
        data = json.loads(raw, object_pairs_hook=_keep_duplicates)
    except (ValueError, RecursionError):  # orjson read it: a stdlib limit, no verdict
        return None
    if not isinstance(data, _Pairs):
        return None
    if data.duplicates:
        return data.duplicates[0]
    source = data.get("source")
    if isinstance(source, _Pairs):
        for key, value in (("", source), *((k, v) for k, v in source.items())):
            if isinstance(value, _Pairs) and value.duplicates:
                name = f"source.{key}." if key else "source."
                return name + value.duplicates[0]
    return None
