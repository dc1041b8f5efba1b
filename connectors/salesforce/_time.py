"""Salesforce timestamps to the model's ``YYYY-MM-DDTHH:MM:SSZ``.

>>> sf_time("2026-01-05T10:00:00.000+0000")
'2026-01-05T10:00:00Z'
>>> sf_time("2026-01-05T12:00:00.000+0200")
'2026-01-05T10:00:00Z'
>>> sf_time("2026-12-31")
'2026-12-31T00:00:00Z'
>>> sf_time(None) is None
True
"""

from __future__ import annotations

from typing import Any

from policyengine.model.timestamps import to_timestamp


def sf_time(value: Any) -> str | None:
    """Convert a Salesforce dateTime or date; None (missing) for anything unparseable."""
    if not isinstance(value, str) or not value:
        return None
    if len(value) == 28 and value.endswith(".000+0000") and value[10] == "T":
        return value[:19] + "Z"  # the common case, without a datetime round trip
    return to_timestamp(value)  # 3.11's fromisoformat accepts .000+0000
