"""The model's one timestamp form, ``YYYY-MM-DDTHH:MM:SSZ``, and its parser.

Every connector, the snapshot writer and policy durations format through
:func:`format_timestamp`, so all timestamps compare correctly as strings.

>>> format_timestamp(dt.datetime(987, 6, 5, 4, 3, 2))
'0987-06-05T04:03:02Z'
>>> normalise_timestamp("2026-01-05T12:00:00.000+0200")
'2026-01-05T10:00:00Z'
>>> normalise_timestamp("2026-12-31")
'2026-12-31T00:00:00Z'
>>> to_timestamp("not a time") is None
True
"""

from __future__ import annotations

import datetime as dt
from typing import Any


def format_timestamp(moment: dt.datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` in UTC (a naive time is taken as UTC; fractions dropped).

    The year is zero-padded (``strftime("%Y")`` is not, for years before 1000).
    """
    m = moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}Z"


def parse_timestamp(text: str) -> dt.datetime:
    """Parse an ISO 8601 timestamp (``Z`` or an offset; a date alone is midnight UTC)."""
    value = text.strip()
    if len(value) == 10:
        value += "T00:00:00Z"
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        moment = dt.datetime.fromisoformat(value)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"not an ISO 8601 time: {text!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError(f"time out of range: {text!r}") from None


def normalise_timestamp(text: str) -> str:
    """Any ISO 8601 form -> ``YYYY-MM-DDTHH:MM:SSZ`` (fractions dropped)."""
    return format_timestamp(parse_timestamp(text))


def to_timestamp(value: Any) -> str | None:
    """A vendor's ISO 8601 string in the model's form; ``None`` (missing) if it is not one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return normalise_timestamp(value)
    except ValueError:
        return None


def utc_now() -> str:
    """The current time in the model's form."""
    return format_timestamp(dt.datetime.now(dt.UTC))
