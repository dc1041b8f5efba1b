"""Value conversions: timestamps and durations as people write them in YAML.

>>> to_minutes("12h"), to_minutes(15), to_minutes("90s")
(720, 15, 1.5)
>>> to_timestamp("2026-11-01")
'2026-11-01T00:00:00Z'
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from policyengine.model.timestamps import format_timestamp, parse_timestamp

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def to_minutes(value: Any) -> int | float:
    """Minutes from an integer (already minutes) or a duration (``15m``, ``12h``, ``7d``).

    Durations in session policies are short, so a bare number means minutes,
    which is what the admin consoles show.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected minutes or a duration like 15m, 12h, 1d; got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"a duration cannot be negative, got {value}")
        return value
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            seconds = int(match.group(1)) * _SECONDS[match.group(2)]
            minutes = seconds / 60
            return int(minutes) if minutes.is_integer() else minutes
    raise ValueError(f"expected minutes or a duration like 15m, 12h, 1d; got {value!r}")


def to_timestamp(value: Any) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` from a YAML date, datetime or ISO 8601 string.

    A date alone is midnight UTC; a time without an offset is taken as UTC.
    """
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            moment = parse_timestamp(value)
        except ValueError:
            raise ValueError(
                f"expected an ISO 8601 date or time like 2026-11-01 or "
                f"2026-11-01T09:30:00Z; got {value!r}"
            ) from None
    else:
        raise ValueError(f"expected a date or time, got {value!r}")
    return format_timestamp(moment)


_PLAIN = frozenset({str, int, float, bool, type(None)})


def json_safe(value: Any) -> Any:
    """The value with dates turned into timestamps (for ``raw``)."""
    if type(value) in _PLAIN:  # the common case, checked first: this runs per value
        return value
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    if isinstance(value, dt.date):
        return to_timestamp(value)
    return value


def raw_copy(data: Any) -> Any:
    """The item as written, for ``raw``: dates as timestamps, secrets redacted.

    Free text (``description``, ``ticket``, ``labels``) sometimes carries a
    pasted ``otpauth://`` URI or ``client_secret=``; a snapshot must never keep it.
    """
    from policyengine.redact import redact_value

    return redact_value("raw", json_safe(data))
